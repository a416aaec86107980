//! The storage interface the CRM engine runs against, inside one transaction per call.
//! The `store` crate implements it for SQLite and PostgreSQL; tests may implement it in memory.

use crate::entity::EntityKind;
use crate::product_row::ProductRow;
use crate::query::{Binding, DbValue, ListQuery, Multifield, Row, Status};
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

    /// Deletes every product row of one owner.
    fn delete_product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}
