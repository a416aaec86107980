//! CRM domain: entity types as field tables, input validation and normalisation, the legacy
//! filter/order/select grammar into a typed query model, legacy output formatting, permissions.
//! No SQL and no HTTP: storage is reached through the `Storage` trait.

pub mod actor;
pub mod dates;
pub mod engine;
pub mod entity;
pub mod eval;
pub mod field;
pub mod filter;
pub mod hooks;
pub mod input;
pub mod output;
pub mod query;
pub mod sanitize;
pub mod select;
pub mod status;
pub mod storage;
pub mod tracking;
mod wire;

pub use actor::{Action, Actor, Level, Rights};
pub use entity::EntityKind;
pub use field::{ColumnType, FieldDef, FieldKind};
pub use query::{CmpOp, Col, Cond, DbValue, ListQuery, Multifield, Order, OrderKey, Row, Status};
pub use storage::{Assignments, Storage};

/// Per-portal settings the engine formats and defaults with.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalSettings {
    /// Datetimes without an offset are read in this zone; output carries its offset.
    pub time_zone: chrono_tz::Tz,
    /// The base currency (`crm.currency.base.get`), e.g. `USD`: the default `CURRENCY_ID`.
    pub currency: String,
}

/// Everything a call needs besides storage and its parameters.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub settings: &'a PortalSettings,
    /// The request time, Unix seconds: one clock reading per call, so all stamps agree.
    pub now: i64,
}
