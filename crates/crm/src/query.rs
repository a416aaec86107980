//! The typed query model: what a list/get asks of storage. Filters, order and select are parsed
//! into these types (field names checked against the field table), and the store compiles them
//! to SQL with bound values — no text from a request ever becomes SQL text.

use crate::entity::EntityKind;
use crate::field::ColumnType;

/// A value as it is stored in a typed column (and as it is bound into SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum DbValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl DbValue {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            DbValue::Int(v) => Some(*v),
            DbValue::Real(v) => Some(*v as i64),
            DbValue::Text(t) => t.parse().ok(),
            DbValue::Null => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            DbValue::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, DbValue::Null)
    }
}

/// What a condition or an order key is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Col {
    /// A typed column of the entity table (a name from the field table's `column`).
    Column(&'static str),
    /// A user field kept in the entity's JSON `uf` column.
    Uf(UfCol),
}

/// A user field as a filter/order operand: its `UF_CRM_*` name, the type its values are compared
/// as (from its definition: numbers numerically, dates and text as text), and whether it holds a
/// list (then a condition holds when any element satisfies it; "empty" means no element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UfCol {
    pub name: String,
    pub ty: ColumnType,
    pub multiple: bool,
}

impl Col {
    /// A single-valued user field compared as `ty`.
    pub fn uf(name: impl Into<String>, ty: ColumnType) -> Col {
        Col::Uf(UfCol {
            name: name.into(),
            ty,
            multiple: false,
        })
    }

    /// A multiple user field whose elements compare as `ty`.
    pub fn uf_multiple(name: impl Into<String>, ty: ColumnType) -> Col {
        Col::Uf(UfCol {
            name: name.into(),
            ty,
            multiple: true,
        })
    }

    /// Whether conditions on this operand are about a list of values.
    pub fn is_multiple(&self) -> bool {
        matches!(self, Col::Uf(u) if u.multiple)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A filter condition. `ci` asks for a case-insensitive comparison of text (spec decision C5).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    True,
    False,
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        col: Col,
        op: CmpOp,
        value: DbValue,
        ci: bool,
    },
    In {
        col: Col,
        values: Vec<DbValue>,
        ci: bool,
    },
    /// SQL LIKE with `pattern` as given (`%` and `_` are wildcards; `\` escapes).
    Like {
        col: Col,
        pattern: String,
        ci: bool,
    },
    IsNull(Col),
    /// The entity has a multifield value of `type_id` (PHONE, EMAIL, ...) matching `pattern`
    /// with LIKE, case-insensitively.
    Multifield {
        type_id: String,
        pattern: String,
    },
}

impl Cond {
    /// AND of conditions, flattening trivial cases.
    pub fn all(mut conds: Vec<Cond>) -> Cond {
        conds.retain(|c| *c != Cond::True);
        if conds.contains(&Cond::False) {
            return Cond::False;
        }
        match conds.len() {
            0 => Cond::True,
            1 => conds.pop().unwrap(),
            _ => Cond::And(conds),
        }
    }
}

/// An order key.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    Col(Col),
    /// Order by the `SORT` of the status dictionary entry whose `STATUS_ID` is in `column`
    /// (dictionary `entity_id`, e.g. `STATUS` for lead stages).
    StatusSort {
        column: &'static str,
        entity_id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub key: OrderKey,
    pub desc: bool,
}

/// A list/get query over one entity table of one portal.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub kind: EntityKind,
    pub portal_id: i64,
    pub filter: Cond,
    /// Applied in order; the store appends `id ASC` as the final tie-breaker when `id` is absent.
    pub order: Vec<Order>,
    /// Columns to read, in this order (`id` is always read first by the store).
    pub columns: Vec<&'static str>,
    /// Read the JSON user-field column too.
    pub with_uf: bool,
    pub offset: i64,
    /// `None`: no limit.
    pub limit: Option<i64>,
}

/// One row read from an entity table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    /// Values of `ListQuery::columns`, same order.
    pub values: Vec<DbValue>,
    /// User-field values (when `with_uf`).
    pub uf: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One multifield value.
#[derive(Debug, Clone, PartialEq)]
pub struct Multifield {
    pub id: i64,
    pub owner_id: i64,
    pub type_id: String,
    pub value_type: String,
    pub value: String,
}

/// A status dictionary entry (`crm.status.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub id: i64,
    pub entity_id: String,
    pub status_id: String,
    pub name: String,
    pub name_init: String,
    pub sort: i64,
    pub system: bool,
    pub category_id: Option<i64>,
    pub color: Option<String>,
    /// `None` in progress, `S` success, `F` failure.
    pub semantics: Option<String>,
}

/// One binding of a record to a contact or a company (`crm.*.contact.*`, `crm.contact.company.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The bound contact's or company's id.
    pub id: i64,
    pub sort: i64,
    pub primary: bool,
}
