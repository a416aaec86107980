//! The storage interface the CRM engine runs against, inside one transaction per call.
//! The `store` crate implements it for SQLite and PostgreSQL; tests may implement it in memory.

use crate::entity::EntityKind;
use crate::query::{DbValue, ListQuery, Multifield, Row, Status};
use crate::tracking::{Binding, Source, Trace, TraceChannel, TraceData, TrackingSettings};
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

    /// Deletes a source and its lists; traces that had it fall back to no source (0). False when
    /// there is no such source.
    fn delete_source(
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
    ) -> impl Future<Output = Result<Vec<Binding>, ApiError>> + Send;

    /// The bindings of a record, the effective one first (highest `seq`), at most `limit`.
    fn entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Binding>, ApiError>> + Send;

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
}
