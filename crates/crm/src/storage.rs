//! The storage interface the CRM engine runs against, inside one transaction per call.
//! The `store` crate implements it for SQLite and PostgreSQL; tests may implement it in memory.

use crate::card::CardKey;
use crate::currency::Currency;
use crate::entity::EntityKind;
use crate::event::Event;
use crate::product_row::ProductRow;
use crate::query::{Binding, DbValue, ListQuery, Multifield, Row, Status};
use crate::tracking::attribution::Model;
use crate::tracking::report::{GroupBy, GroupKey, RecordGroup, ReportQuery, TouchRecord};
use crate::tracking::{
    Binding as TraceBinding, ChannelRule, ExpenseDay, ExpenseFilter, ExpensePack, ExpenseTotal,
    Source, Trace, TraceChannel, TraceData, TrackingSettings,
};
use crate::userfield::UserField;
use bx_wire::ApiError;
use serde_json::{Map, Value};
use std::future::Future;

/// Column assignments for an insert or update: `(column, value)`.
pub type Assignments = Vec<(&'static str, DbValue)>;

/// Operations of one transaction. Errors from the database are logged by the implementation
/// and surface as `ApiError::Internal`; the transaction is then rolled back as a whole.
pub trait Storage: Send {
    /// Inserts a record; returns its new id.
    fn insert_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        values: Assignments,
        uf: Option<Map<String, Value>>,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Updates the given columns (and replaces the user-field JSON when `uf` is `Some`).
    /// Returns false when no such record exists.
    fn update_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
        values: Assignments,
        uf: Option<Map<String, Value>>,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a record and everything that hangs on it (multifields, contact bindings,
    /// product rows, trace bindings). Returns false when no such record exists.
    fn delete_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    fn list_entities(
        &mut self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<Row>, ApiError>> + Send;

    /// Counts the records matching `query.filter` (order, offset and limit ignored).
    fn count_entities(
        &mut self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Multifield values of these owners, ordered by id.
    fn multifields(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> impl Future<Output = Result<Vec<Multifield>, ApiError>> + Send;

    fn insert_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        type_id: &str,
        value_type: &str,
        value: &str,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Changes one value of this owner; false when the id is not one of the owner's values.
    fn update_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
        value_type: &str,
        value: &str,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes one value of this owner; false when the id is not one of the owner's values.
    fn delete_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Status dictionary entries, all or of one `ENTITY_ID`, ordered by SORT then id.
    fn statuses(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Status>, ApiError>> + Send;

    /// Currency codes of the portal (`crm.currency.list`), base currency first.
    fn currencies(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;

    /// The bindings of one record (`owner`) to records of kind `bound` (contacts of a deal,
    /// companies of a contact), ordered by sort, then bound id.
    fn bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
    ) -> impl Future<Output = Result<Vec<Binding>, ApiError>> + Send;

    /// Replaces the bindings of one record to records of kind `bound`.
    fn set_bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
        bindings: &[Binding],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The records of kind `owner` bound to record `bound_id` of kind `bound`, ascending.
    fn bound_owners(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        bound: EntityKind,
        bound_id: i64,
    ) -> impl Future<Output = Result<Vec<i64>, ApiError>> + Send;

    /// Product rows of these owners (leads, deals, quotes), ordered by sort, then id.
    fn product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> impl Future<Output = Result<Vec<ProductRow>, ApiError>> + Send;

    /// One product row by its id, whatever its owner.
    fn product_row(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<Option<ProductRow>, ApiError>> + Send;

    /// Stores a new row (`row.id` is ignored); returns its id.
    fn insert_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Overwrites the stored row `row.id` (its owner included); false when there is none.
    fn update_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    fn delete_product_row(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// One status dictionary entry by its numeric id.
    fn status(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<Option<Status>, ApiError>> + Send;

    /// Inserts a dictionary entry (its `id` is ignored); returns the new id.
    fn insert_status(
        &mut self,
        portal_id: i64,
        status: &Status,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Writes the changeable columns of an entry (`NAME`, `SORT`, `COLOR`) by `status.id`.
    /// Returns false when no such entry exists.
    fn update_status(
        &mut self,
        portal_id: i64,
        status: &Status,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes an entry; false when no such entry exists.
    fn delete_status(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes every product row of one owner.
    fn delete_product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The portal's currencies with their rates (`crm.currency.list`), by SORT then code.
    fn currency_list(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<Vec<Currency>, ApiError>> + Send;

    /// Ids of `kind` records that have a `type_id` multifield (PHONE, EMAIL, ...) whose
    /// comparison key (`duplicate::comm_key`) is one of `keys`: distinct, ascending, at most
    /// `limit` when given.
    fn find_by_comm(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        type_id: &str,
        keys: &[String],
        limit: Option<i64>,
    ) -> impl Future<Output = Result<Vec<i64>, ApiError>> + Send;

    /// A stored card layout (`crm.*.details.configuration.*`): the sections as saved.
    fn card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> impl Future<Output = Result<Option<Value>, ApiError>> + Send;

    /// Stores (replaces) a card layout.
    fn save_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
        sections: &Value,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Removes one stored card layout; false when none was stored.
    fn delete_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Removes every user's personal layout of one card (`forceCommonScopeForAll`); returns
    /// how many were removed. `key.user_id` is ignored.
    fn delete_personal_card_configs(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> impl Future<Output = Result<u64, ApiError>> + Send;

    /// User-field definitions of a portal, all or of one `ENTITY_ID` (`CRM_LEAD`, ...), ordered by
    /// `SORT` then id, each with its enumeration options ordered by `SORT` then id.
    fn user_fields(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<UserField>, ApiError>> + Send;

    /// Stores a new definition with its options (their ids are assigned here); returns its id.
    fn insert_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Replaces a stored definition's attributes (`FIELD_NAME`, `USER_TYPE_ID`, `ENTITY_ID` and
    /// `MULTIPLE` stay as stored) and options: an option with an id changes that option, one with
    /// id 0 is added, stored options not listed are deleted. False when no such definition exists.
    fn update_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a definition and its options. False when no such definition exists.
    fn delete_user_field(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Removes a user field's value from every record of the entity type.
    fn remove_user_field_values(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        field_name: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Records a file given for a `file` user field (its metadata only); returns its id.
    fn insert_file(
        &mut self,
        portal_id: i64,
        name: &str,
        size: i64,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Records an event in this transaction (the outbox): an entry for every handler bound to it
    /// and a row in every offline queue subscribed to it. Nothing is sent before the commit, and
    /// a rolled-back change sends nothing (spec/events.md §3).
    fn enqueue_event(&mut self, event: &Event)
        -> impl Future<Output = Result<(), ApiError>> + Send;

    // Sales Intelligence (`crate::tracking`).

    /// The portal's Sales Intelligence settings; the defaults when they were never changed.
    fn tracking_settings(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<TrackingSettings, ApiError>> + Send;

    /// Every source of the portal, active or not, with its match lists, ordered by id.
    fn sources(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<Vec<Source>, ApiError>> + Send;

    /// Adds a source with its lists (`source.id` is ignored); returns the new id.
    fn insert_source(
        &mut self,
        portal_id: i64,
        source: &Source,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Replaces the fields and lists of source `source.id` (`created_at` is kept). False when
    /// there is no such source.
    fn update_source(
        &mut self,
        portal_id: i64,
        source: &Source,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a source and its lists, and its expense packs with their days; traces that had it
    /// fall back to no source (0). False when there is no such source.
    fn delete_source(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// The portal's channel override rules, active or not, with their value lists, in evaluation
    /// order (`sort`, then id).
    fn channel_rules(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<Vec<ChannelRule>, ApiError>> + Send;

    /// `sources` and `channel_rules` together: what every trace is built with. An implementation
    /// may read both at once.
    fn tracking_lists(
        &mut self,
        portal_id: i64,
    ) -> impl Future<Output = Result<(Vec<Source>, Vec<ChannelRule>), ApiError>> + Send {
        async move {
            let sources = self.sources(portal_id).await?;
            let rules = self.channel_rules(portal_id).await?;
            Ok((sources, rules))
        }
    }

    /// Adds a channel rule with its lists (`rule.id` is ignored); returns the new id.
    fn insert_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Replaces the fields and lists of rule `rule.id` (`created_at` is kept). False when there is
    /// no such rule.
    fn update_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a channel rule and its lists (traces keep their group). False when there is no
    /// such rule.
    fn delete_channel_rule(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Saves a trace with its pages and channels; returns its id.
    fn insert_trace(
        &mut self,
        portal_id: i64,
        trace: &TraceData,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Links a trace to the trace of one of its previous visits.
    fn link_trace_child(
        &mut self,
        portal_id: i64,
        parent_id: i64,
        child_id: i64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Appends a channel to a trace unless the trace already has that exact `{code, value}`.
    fn add_trace_channel(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        channel: &TraceChannel,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// These traces (those that exist), with pages, channels and child ids, ordered by id.
    fn traces(
        &mut self,
        portal_id: i64,
        ids: &[i64],
    ) -> impl Future<Output = Result<Vec<Trace>, ApiError>> + Send;

    /// Binds a trace to a record, making it the record's effective trace (a binding that exists
    /// is renewed).
    fn bind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The bindings of a trace.
    fn trace_bindings(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> impl Future<Output = Result<Vec<TraceBinding>, ApiError>> + Send;

    /// The bindings of a record, the effective one first (highest `seq`), at most `limit`.
    fn entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<TraceBinding>, ApiError>> + Send;

    /// Removes one binding; false when there was none.
    fn unbind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a trace with its pages, channels, bindings and links to other traces (the traces
    /// of its previous visits remain). False when there was no such trace.
    fn delete_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    // The Sales Intelligence report (`crate::tracking::report`). Records of `q.kind` count by
    // `DATE_CREATE` in `[q.from, q.to)` (Unix seconds); only leads and deals are counted (other
    // kinds: empty).

    /// Default attribution: per group of the record's effective trace (no trace: source 0 /
    /// channel `unassigned`), per `CURRENCY_ID` and, when `by_responsible`, per `ASSIGNED_BY_ID`:
    /// the count, Σ `OPPORTUNITY`, and both for records in a success stage (semantics `S`).
    fn report_groups(
        &mut self,
        q: &ReportQuery,
    ) -> impl Future<Output = Result<Vec<RecordGroup>, ApiError>> + Send;

    /// Touch models (§13) under `model`: per-group credit sums (as by `report_groups`, counts
    /// fractional), and the records the caller must weigh itself, each with its touches (each
    /// trace once). Storage may sum records under `model` itself (daily roll-ups) and must at
    /// least sum records with at most one touch: such a record is credited to its touch's group
    /// when the touch lies in `[DATE_CREATE − window_secs, DATE_CREATE]` and to source 0 /
    /// `unassigned` otherwise (every model gives a lone touch all the credit).
    fn report_touches(
        &mut self,
        q: &ReportQuery,
        model: Model,
        window_secs: i64,
    ) -> impl Future<Output = Result<(Vec<RecordGroup>, Vec<TouchRecord>), ApiError>> + Send;

    /// Visits: traces created in the range (previous visits included), per source or channel
    /// group.
    fn report_visits(
        &mut self,
        portal_id: i64,
        from: i64,
        to: i64,
        group_by: GroupBy,
    ) -> impl Future<Output = Result<Vec<(GroupKey, i64)>, ApiError>> + Send;

    // Expenses (`crate::tracking::expense`).

    /// Stores a pack (`pack.id` is ignored) with its daily rows (`pack.split()`); returns its id.
    fn insert_expense_pack(
        &mut self,
        portal_id: i64,
        pack: &ExpensePack,
        days: &[ExpenseDay],
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// One pack.
    fn expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<Option<ExpensePack>, ApiError>> + Send;

    /// The daily rows of one pack, by day.
    fn expense_days(
        &mut self,
        portal_id: i64,
        pack_id: i64,
    ) -> impl Future<Output = Result<Vec<ExpenseDay>, ApiError>> + Send;

    /// Packs matching `filter` (`ExpenseFilter::matches`), by id, from `offset`, at most `limit`.
    fn expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
        offset: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ExpensePack>, ApiError>> + Send;

    /// How many packs match `filter`.
    fn count_expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
    ) -> impl Future<Output = Result<i64, ApiError>> + Send;

    /// Deletes a pack and its daily rows; false when there was no such pack.
    fn delete_expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Σ of the daily rows with `from_day <= day <= to_day` (`YYYY-MM-DD`) per source and currency,
    /// ordered by source id, then currency; only pairs with at least one such row. A pack that
    /// straddles an end counts only its days inside. The report converts with `crm.currency` rates.
    fn expense_totals(
        &mut self,
        portal_id: i64,
        from_day: &str,
        to_day: &str,
    ) -> impl Future<Output = Result<Vec<ExpenseTotal>, ApiError>> + Send;
}
