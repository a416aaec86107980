//! CRM domain: entity types as field tables, input validation and normalisation, the legacy
//! filter/order/select grammar into a typed query model, legacy output formatting, permissions.
//! No SQL and no HTTP: storage is reached through the `Storage` trait.

pub mod actor;
pub mod entity;
pub mod field;
pub mod query;
pub mod storage;

pub use actor::{Action, Actor, Level, Rights};
pub use entity::EntityKind;
pub use field::{ColumnType, FieldDef, FieldKind};
pub use query::{CmpOp, Col, Cond, DbValue, ListQuery, Multifield, Order, OrderKey, Row, Status};
pub use storage::{Assignments, Storage};
