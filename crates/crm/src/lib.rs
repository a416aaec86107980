//! CRM domain: entity types as field tables, input validation and normalisation, the legacy and
//! `crm.item` filter/order/select grammars into a typed query model, legacy and typed output,
//! permissions.
//! No SQL and no HTTP: storage is reached through the `Storage` trait.

pub mod actor;
pub mod binding;
pub mod card;
pub mod category;
pub mod currency;
pub mod dates;
pub mod duplicate;
pub mod engine;
pub mod entity;
pub mod enums;
pub mod eval;
pub mod event;
pub mod field;
pub mod filter;
pub mod hooks;
pub mod input;
pub mod item;
pub mod item_product_row;
pub mod output;
pub mod product_row;
pub mod query;
pub mod sanitize;
pub mod select;
pub mod simple_mode;
pub mod status;
pub mod storage;
pub mod tracking;
pub mod user;
pub mod userfield;
mod wire;

pub use actor::{Action, Actor, Level, Rights};
pub use entity::EntityKind;
pub use field::{ColumnType, FieldDef, FieldKind};
pub use query::{
    Binding, CmpOp, Col, Cond, DbValue, ListQuery, Multifield, Order, OrderKey, Row, Status, UfCol,
};
pub use storage::{Assignments, Storage};
pub use userfield::{EnumItem, UserField, UserType};

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
