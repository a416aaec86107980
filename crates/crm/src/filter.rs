//! The legacy list filter of `crm.<entity>.list` (lists.md §2.3): the prefix grammar, value
//! conversion by field kind and the documented semantics, compiled into a typed `Cond`.
//!
//! Nothing here fails: unknown keys and unusable values are dropped and reported so the caller
//! can log one warning per request (decision (d)).

use crate::dates;
use crate::field::{FieldDef, FieldKind, MULTIFIELD_TYPES};
use crate::query::{CmpOp, Col, Cond, DbValue};
use crate::userfield::{UserField, UserType};
use crate::wire;
use chrono_tz::Tz;
use serde_json::Value;

/// The operator of a filter key, after the `!` and `+` modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    /// `@`
    In,
    /// `=%` / `%=`: LIKE with the caller's wildcards.
    Like,
    /// `%`: substring.
    Substring,
    /// `?`: Bitrix query language (decision C4: substring).
    Query,
    /// `*`, `*=`, `*%`: full-text (decision C4: substring).
    FullText,
}

/// A filter key split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterKey<'a> {
    pub negate: bool,
    /// `+`: "or empty".
    pub or_empty: bool,
    pub op: FilterOp,
    /// Whether any prefix at all was written (multifields honour only the plain key).
    pub prefixed: bool,
    pub field: &'a str,
}

/// Operators in the order they are tried (lists.md §2.3 step 3): the first match wins.
const OPERATORS: [(&str, FilterOp); 13] = [
    (">=", FilterOp::Ge),
    (">", FilterOp::Gt),
    ("<=", FilterOp::Le),
    ("<", FilterOp::Lt),
    ("@", FilterOp::In),
    ("=%", FilterOp::Like),
    ("%=", FilterOp::Like),
    ("%", FilterOp::Substring),
    ("?", FilterOp::Query),
    ("*=", FilterOp::FullText),
    ("*%", FilterOp::FullText),
    ("*", FilterOp::FullText),
    ("=", FilterOp::Eq),
];

/// Parses `!`, `+`, the operator and the field name, left to right. `><FIELD` comes out as `>`
/// on the field `<FIELD`, which is unknown — exactly why legacy lists drop it.
pub fn parse_key(key: &str) -> FilterKey<'_> {
    let mut rest = key;
    let negate = match rest.strip_prefix('!') {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    let or_empty = match rest.strip_prefix('+') {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    let mut op = FilterOp::Eq;
    let mut explicit_op = false;
    for (prefix, candidate) in OPERATORS {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
            op = candidate;
            explicit_op = true;
            break;
        }
    }
    FilterKey {
        negate,
        or_empty,
        op,
        prefixed: negate || or_empty || explicit_op,
        field: rest,
    }
}

/// The result of parsing one request's filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFilter {
    pub cond: Cond,
    /// Keys dropped because the field is unknown or does not take this form (logged as a warning).
    pub dropped: Vec<String>,
    /// Other things worth a warning: unparsable dates, `?`/`*` treated as substring.
    pub notes: Vec<String>,
}

/// How a field's values are converted and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Int,
    Real,
    /// `like`: whether LIKE operators apply (false for dictionary ids, which are forced to `=`);
    /// `flag`: a Y/N field, so JSON booleans become `Y`/`N`.
    Text {
        like: bool,
        flag: bool,
    },
    Date,
    DateTime,
    /// A boolean user field, stored as 1/0: `Y`/`N`, `1`/`0`, `true`/`false` compare as 1/0.
    Bool,
}

fn class_of(kind: FieldKind) -> Class {
    match kind {
        FieldKind::Integer
        | FieldKind::User
        | FieldKind::CrmCompany
        | FieldKind::CrmContact
        | FieldKind::CrmLead
        | FieldKind::CrmDeal
        | FieldKind::CrmQuote
        | FieldKind::CrmCategory
        | FieldKind::Location
        | FieldKind::File => Class::Int,
        FieldKind::Double => Class::Real,
        FieldKind::Date => Class::Date,
        FieldKind::DateTime => Class::DateTime,
        FieldKind::Char => Class::Text {
            like: true,
            flag: true,
        },
        FieldKind::CrmStatus(_) => Class::Text {
            like: false,
            flag: false,
        },
        FieldKind::String | FieldKind::CrmCurrency | FieldKind::CrmMultifield => Class::Text {
            like: true,
            flag: false,
        },
    }
}

/// How a user field's values are converted and compared, by its type.
fn uf_class(ty: UserType) -> Class {
    match ty {
        UserType::Integer | UserType::Employee | UserType::Enumeration | UserType::File => {
            Class::Int
        }
        UserType::Boolean => Class::Bool,
        UserType::Double => Class::Real,
        UserType::DateTime => Class::DateTime,
        UserType::Date => Class::Date,
        UserType::String
        | UserType::Url
        | UserType::Address
        | UserType::Money
        | UserType::Crm
        | UserType::CrmStatus => Class::Text {
            like: true,
            flag: false,
        },
    }
}

/// Whether a name is a user field (`UF_CRM_...`).
pub fn is_uf_name(name: &str) -> bool {
    name.len() > "UF_CRM_".len()
        && name.starts_with("UF_CRM_")
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

struct Cx {
    tz: Tz,
    now: i64,
}

/// Escapes LIKE metacharacters so a `%FIELD` value matches literally.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn is_scalar(v: &Value) -> bool {
    !wire::is_php_array(v)
}

/// One value converted for comparison; `None` when it cannot be (logged by the caller).
fn convert(class: Class, v: &Value, cx: &Cx) -> Option<DbValue> {
    if !is_scalar(v) {
        return None;
    }
    match class {
        Class::Int => Some(DbValue::Int(wire::intval(v))),
        Class::Real => Some(DbValue::Real(wire::floatval(v))),
        Class::Text { flag, .. } => match v {
            Value::Bool(b) if flag => Some(DbValue::Text(if *b { "Y" } else { "N" }.into())),
            _ => Some(DbValue::Text(wire::strval(v).unwrap_or_default())),
        },
        Class::Date => {
            let s = wire::strval(v)?;
            dates::parse_date(&s, cx.tz, cx.now).map(|d| DbValue::Text(dates::date_text(d)))
        }
        Class::DateTime => {
            let s = wire::strval(v)?;
            dates::parse_datetime(&s, cx.tz, cx.now).map(DbValue::Int)
        }
        Class::Bool => wire::yes_no(v).map(|b| DbValue::Int(i64::from(b))),
    }
}

fn ci(class: Class) -> bool {
    matches!(class, Class::Text { .. })
}

/// Whether a value is the class's "empty": 0 for numbers, `""` for text, `""` for dates.
fn is_empty(class: Class, v: &Value) -> bool {
    match class {
        Class::Int => wire::intval(v) == 0,
        Class::Real => wire::floatval(v) == 0.0,
        Class::Text { .. } => wire::strval(v).unwrap_or_default().is_empty(),
        Class::Bool => wire::yes_no(v) == Some(false),
        Class::Date | Class::DateTime => wire::strval(v).unwrap_or_default().trim().is_empty(),
    }
}

/// "Empty" as a condition: `IS NULL OR = 0` / `IS NULL OR = ''` / `IS NULL` (dates).
fn empty_cond(col: &Col, class: Class) -> Cond {
    let zero = match class {
        Class::Int | Class::Bool => Some(DbValue::Int(0)),
        Class::Real => Some(DbValue::Real(0.0)),
        Class::Text { .. } => Some(DbValue::Text(String::new())),
        Class::Date | Class::DateTime => None,
    };
    match zero {
        Some(value) => Cond::Or(vec![
            Cond::IsNull(col.clone()),
            Cond::Cmp {
                col: col.clone(),
                op: CmpOp::Eq,
                value,
                ci: ci(class),
            },
        ]),
        None => Cond::IsNull(col.clone()),
    }
}

/// `IS NULL OR NOT (c)`: how a negated condition treats records without a value. A condition on
/// a multiple user field holds when some element satisfies it and is never unknown, so its
/// negation is plainly `NOT (c)`: no element satisfies it.
fn null_or_not(col: &Col, c: Cond) -> Cond {
    if col.is_multiple() {
        return Cond::Not(Box::new(c));
    }
    Cond::Or(vec![Cond::IsNull(col.clone()), Cond::Not(Box::new(c))])
}

fn any(mut conds: Vec<Cond>) -> Cond {
    match conds.len() {
        0 => Cond::False,
        1 => conds.pop().unwrap_or(Cond::False),
        _ => Cond::Or(conds),
    }
}

/// The operator actually applied, after decision C4 and the forced-equality rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eff {
    Eq,
    In,
    Cmp(CmpOp),
    Like,
    Substring,
}

enum Eq1 {
    Empty(Cond),
    Value(DbValue),
}

/// Builds the condition of one known column, or `None` when nothing usable is left.
fn column_cond(
    col: Col,
    class: Class,
    key: &FilterKey<'_>,
    value: &Value,
    cx: &Cx,
    notes: &mut Vec<String>,
    raw_key: &str,
) -> Option<Cond> {
    let op = match key.op {
        FilterOp::Eq => Eff::Eq,
        FilterOp::In => Eff::In,
        FilterOp::Gt => Eff::Cmp(CmpOp::Gt),
        FilterOp::Ge => Eff::Cmp(CmpOp::Ge),
        FilterOp::Lt => Eff::Cmp(CmpOp::Lt),
        FilterOp::Le => Eff::Cmp(CmpOp::Le),
        FilterOp::Like => Eff::Like,
        FilterOp::Substring => Eff::Substring,
        FilterOp::Query | FilterOp::FullText => {
            notes.push(format!("{raw_key}: treated as substring search"));
            Eff::Substring
        }
    };
    // LIKE makes no sense on numbers and dates, and Bitrix forbids it on dictionary ids.
    let op = match (op, class) {
        (Eff::Substring | Eff::Like, Class::Text { like: true, .. }) => op,
        (Eff::Substring | Eff::Like, _) => Eff::Eq,
        (other, _) => other,
    };
    let is_array = wire::is_php_array(value);
    let values: Vec<&Value> = wire::php_values(value).unwrap_or_else(|| vec![value]);
    let mut unusable = |v: &Value| notes.push(format!("{raw_key}: unusable value {v}"));

    let cond = match op {
        Eff::Eq => {
            let mut parts = Vec::new();
            for v in &values {
                if !is_scalar(v) {
                    continue;
                }
                if is_empty(class, v) {
                    parts.push(Eq1::Empty(empty_cond(&col, class)));
                } else if let Some(dv) = convert(class, v, cx) {
                    parts.push(Eq1::Value(dv));
                } else {
                    unusable(v);
                }
            }
            if parts.is_empty() && !is_array {
                return None;
            }
            if key.negate && col.is_multiple() {
                // No element equals any of the values.
                let positive: Vec<Cond> = parts
                    .into_iter()
                    .map(|p| match p {
                        Eq1::Empty(c) => c,
                        Eq1::Value(value) => Cond::Cmp {
                            col: col.clone(),
                            op: CmpOp::Eq,
                            value,
                            ci: ci(class),
                        },
                    })
                    .collect();
                if positive.is_empty() {
                    Cond::True
                } else {
                    Cond::Not(Box::new(any(positive)))
                }
            } else if key.negate {
                // An array negated is the AND of the not-equals; nothing usable excludes nothing.
                let conds = parts
                    .into_iter()
                    .map(|p| match p {
                        Eq1::Empty(c) => Cond::Not(Box::new(c)),
                        Eq1::Value(value) => Cond::Or(vec![
                            Cond::IsNull(col.clone()),
                            Cond::Cmp {
                                col: col.clone(),
                                op: CmpOp::Ne,
                                value,
                                ci: ci(class),
                            },
                        ]),
                    })
                    .collect();
                Cond::all(conds)
            } else {
                // An array is the OR of the equalities (IN); an empty one matches nothing, as `@` does.
                any(parts
                    .into_iter()
                    .map(|p| match p {
                        Eq1::Empty(c) => c,
                        Eq1::Value(value) => Cond::Cmp {
                            col: col.clone(),
                            op: CmpOp::Eq,
                            value,
                            ci: ci(class),
                        },
                    })
                    .collect())
            }
        }
        Eff::In => {
            let mut list = Vec::new();
            for v in &values {
                match convert(class, v, cx) {
                    Some(dv) => list.push(dv),
                    None => unusable(v),
                }
            }
            let positive = if list.is_empty() {
                Cond::False
            } else {
                Cond::In {
                    col: col.clone(),
                    values: list,
                    ci: ci(class),
                }
            };
            if key.negate {
                if positive == Cond::False {
                    Cond::True
                } else {
                    null_or_not(&col, positive)
                }
            } else {
                positive
            }
        }
        Eff::Cmp(cmp) => {
            let mut parts = Vec::new();
            for v in &values {
                match convert(class, v, cx) {
                    Some(value) => parts.push(Cond::Cmp {
                        col: col.clone(),
                        op: cmp,
                        value,
                        ci: ci(class),
                    }),
                    None => unusable(v),
                }
            }
            // Nothing comparable left: the condition is dropped (our rule, lists.md §2.3).
            if parts.is_empty() {
                return None;
            }
            let c = any(parts);
            if key.negate {
                null_or_not(&col, c)
            } else {
                c
            }
        }
        Eff::Substring | Eff::Like => {
            let mut parts = Vec::new();
            for v in &values {
                let Some(s) = is_scalar(v).then(|| wire::strval(v)).flatten() else {
                    unusable(v);
                    continue;
                };
                // An empty substring would match everything; it does not restrict.
                if op == Eff::Substring && s.is_empty() {
                    continue;
                }
                let pattern = if op == Eff::Substring {
                    format!("%{}%", escape_like(&s))
                } else {
                    s
                };
                parts.push(Cond::Like {
                    col: col.clone(),
                    pattern,
                    ci: true,
                });
            }
            if parts.is_empty() {
                return None;
            }
            if key.negate {
                Cond::all(parts.into_iter().map(|p| null_or_not(&col, p)).collect())
            } else {
                any(parts)
            }
        }
    };
    Some(if key.or_empty {
        Cond::Or(vec![cond, empty_cond(&col, class)])
    } else {
        cond
    })
}

/// Parses a legacy filter against a field table. `filter` must already be known to be a PHP array
/// (the caller answers `Parameter 'filter' must be array.` otherwise); anything else is empty.
/// `ufs`: the entity's user-field definitions; other `UF_CRM_*` keys are unknown.
pub fn parse_legacy_filter(
    fields: &'static [FieldDef],
    ufs: &[UserField],
    filter: &Value,
    tz: Tz,
    now: i64,
) -> ParsedFilter {
    let cx = Cx { tz, now };
    let mut conds = Vec::new();
    let mut dropped = Vec::new();
    let mut notes = Vec::new();
    for (raw_key, value) in wire::php_entries(filter).unwrap_or_default() {
        let key = parse_key(&raw_key);
        if let Some(def) = fields.iter().find(|f| f.name == key.field) {
            if def.kind == FieldKind::CrmMultifield {
                match multifield_cond(def.name, &key, value) {
                    MfFilter::Cond(c) => conds.push(c),
                    MfFilter::Ignore => {}
                    MfFilter::Drop => dropped.push(raw_key),
                }
                continue;
            }
            let Some(column) = def.column else {
                dropped.push(raw_key);
                continue;
            };
            if let Some(c) = column_cond(
                Col::Column(column),
                class_of(def.kind),
                &key,
                value,
                &cx,
                &mut notes,
                &raw_key,
            ) {
                conds.push(c);
            }
        } else if let Some(uf) = ufs.iter().find(|u| u.field_name == key.field) {
            let class = uf_class(uf.user_type);
            if let Some(c) = column_cond(uf.col(), class, &key, value, &cx, &mut notes, &raw_key) {
                conds.push(c);
            }
        } else {
            dropped.push(raw_key);
        }
    }
    ParsedFilter {
        cond: Cond::all(conds),
        dropped,
        notes,
    }
}

enum MfFilter {
    Cond(Cond),
    /// A known filter with nothing to filter on (empty value).
    Ignore,
    /// A form multifields do not take.
    Drop,
}

/// Multifield filters (lists.md §2.3): plain key only, first element of an array, trimmed, LIKE as
/// given against any stored value of that type. `LINK` is not filterable.
fn multifield_cond(type_id: &str, key: &FilterKey<'_>, value: &Value) -> MfFilter {
    if key.prefixed || !MULTIFIELD_TYPES[..4].contains(&type_id) {
        return MfFilter::Drop;
    }
    let first = match wire::php_values(value) {
        Some(vs) => vs.into_iter().next(),
        None => Some(value),
    };
    let pattern = first
        .and_then(wire::strval)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if pattern.is_empty() {
        return MfFilter::Ignore;
    }
    MfFilter::Cond(Cond::Multifield {
        type_id: type_id.to_string(),
        pattern,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::LEAD_FIELDS;
    use crate::field::ColumnType;
    use serde_json::json;

    const NOW: i64 = 1_716_481_105;

    /// User fields of the test entity: one per comparison class, and a multiple one.
    fn ufs() -> Vec<UserField> {
        let mut out: Vec<UserField> = [
            ("UF_CRM_COLOR", UserType::String),
            ("UF_CRM_N", UserType::Integer),
            ("UF_CRM_D", UserType::Double),
            ("UF_CRM_B", UserType::Boolean),
            ("UF_CRM_DT", UserType::DateTime),
            ("UF_CRM_DAY", UserType::Date),
            ("UF_CRM_TAGS", UserType::Enumeration),
        ]
        .into_iter()
        .map(|(n, t)| UserField::new("CRM_LEAD", n, t))
        .collect();
        out[6].multiple = true;
        out
    }

    fn parse(v: Value) -> ParsedFilter {
        parse_legacy_filter(LEAD_FIELDS, &ufs(), &v, chrono_tz::Europe::Berlin, NOW)
    }

    fn cond(v: Value) -> Cond {
        let p = parse(v);
        assert!(p.dropped.is_empty(), "dropped {:?}", p.dropped);
        p.cond
    }

    fn c(name: &'static str) -> Col {
        Col::Column(name)
    }

    fn cmp(col: &'static str, op: CmpOp, value: DbValue, ci: bool) -> Cond {
        Cond::Cmp {
            col: c(col),
            op,
            value,
            ci,
        }
    }

    fn int(i: i64) -> DbValue {
        DbValue::Int(i)
    }

    fn text(s: &str) -> DbValue {
        DbValue::Text(s.into())
    }

    #[test]
    fn key_grammar() {
        let k = |s| parse_key(s);
        assert_eq!(
            k("ID"),
            FilterKey {
                negate: false,
                or_empty: false,
                op: FilterOp::Eq,
                prefixed: false,
                field: "ID"
            }
        );
        assert_eq!(k("=ID").op, FilterOp::Eq);
        assert!(k("=ID").prefixed);
        assert_eq!(k(">=ID").op, FilterOp::Ge);
        assert_eq!(k(">ID").op, FilterOp::Gt);
        assert_eq!(k("<=ID").op, FilterOp::Le);
        assert_eq!(k("<ID").op, FilterOp::Lt);
        assert_eq!(k("@ID").op, FilterOp::In);
        assert_eq!(k("=%TITLE").op, FilterOp::Like);
        assert_eq!(k("%=TITLE").op, FilterOp::Like);
        assert_eq!(k("%TITLE").op, FilterOp::Substring);
        assert_eq!(k("?TITLE").op, FilterOp::Query);
        assert_eq!(k("*=TITLE").op, FilterOp::FullText);
        assert_eq!(k("*%TITLE").op, FilterOp::FullText);
        assert_eq!(k("*TITLE").op, FilterOp::FullText);
        let neg = k("!@ID");
        assert!(neg.negate && neg.op == FilterOp::In && neg.field == "ID");
        let neg = k("!=%TITLE");
        assert!(neg.negate && neg.op == FilterOp::Like && neg.field == "TITLE");
        let neg = k("!%=TITLE");
        assert!(neg.negate && neg.op == FilterOp::Like && neg.field == "TITLE");
        let neg = k("!%TITLE");
        assert!(neg.negate && neg.op == FilterOp::Substring);
        let neg = k("!=ID");
        assert!(neg.negate && neg.op == FilterOp::Eq && neg.field == "ID");
        let plus = k("!+>ID");
        assert!(plus.negate && plus.or_empty && plus.op == FilterOp::Gt && plus.field == "ID");
        assert_eq!(k("><ID").field, "<ID");
        assert_eq!(k("!><ID").field, "<ID");
        assert_eq!(k("==ID").field, "=ID");
    }

    #[test]
    fn equality_on_numbers_with_intval_and_zero() {
        assert_eq!(
            cond(json!({"ID": "12abc"})),
            cmp("id", CmpOp::Eq, int(12), false)
        );
        assert_eq!(
            cond(json!({"=ASSIGNED_BY_ID": 3})),
            cmp("assigned_by_id", CmpOp::Eq, int(3), false)
        );
        assert_eq!(
            cond(json!({"COMPANY_ID": 0})),
            Cond::Or(vec![
                Cond::IsNull(c("company_id")),
                cmp("company_id", CmpOp::Eq, int(0), false)
            ])
        );
        assert_eq!(
            cond(json!({"OPPORTUNITY": "0"})),
            Cond::Or(vec![
                Cond::IsNull(c("opportunity")),
                cmp("opportunity", CmpOp::Eq, DbValue::Real(0.0), false)
            ])
        );
        assert_eq!(
            cond(json!({"OPPORTUNITY": "150.5"})),
            cmp("opportunity", CmpOp::Eq, DbValue::Real(150.5), false)
        );
    }

    #[test]
    fn equality_on_strings_is_case_insensitive_and_empty_means_empty() {
        assert_eq!(
            cond(json!({"TITLE": "Foo"})),
            cmp("title", CmpOp::Eq, text("Foo"), true)
        );
        assert_eq!(
            cond(json!({"NAME": ""})),
            Cond::Or(vec![
                Cond::IsNull(c("name")),
                cmp("name", CmpOp::Eq, text(""), true)
            ])
        );
        assert_eq!(
            cond(json!({"OPENED": true})),
            cmp("opened", CmpOp::Eq, text("Y"), true)
        );
    }

    #[test]
    fn arrays_are_ored_and_negated_arrays_anded() {
        assert_eq!(
            cond(json!({"STATUS_ID": ["NEW", "JUNK"]})),
            Cond::Or(vec![
                cmp("status_id", CmpOp::Eq, text("NEW"), true),
                cmp("status_id", CmpOp::Eq, text("JUNK"), true)
            ])
        );
        let ne = |v: &str| {
            Cond::Or(vec![
                Cond::IsNull(c("status_id")),
                cmp("status_id", CmpOp::Ne, text(v), true),
            ])
        };
        assert_eq!(
            cond(json!({"!STATUS_ID": ["NEW", "JUNK"]})),
            Cond::And(vec![ne("NEW"), ne("JUNK")])
        );
        assert_eq!(cond(json!({"!=STATUS_ID": "NEW"})), ne("NEW"));
        assert_eq!(cond(json!({"STATUS_ID": []})), Cond::False);
        assert_eq!(cond(json!({"!STATUS_ID": []})), Cond::True);
        assert_eq!(
            cond(json!({"!NAME": ""})),
            Cond::Not(Box::new(Cond::Or(vec![
                Cond::IsNull(c("name")),
                cmp("name", CmpOp::Eq, text(""), true)
            ])))
        );
    }

    #[test]
    fn comparisons() {
        assert_eq!(
            cond(json!({">ID": 100})),
            cmp("id", CmpOp::Gt, int(100), false)
        );
        assert_eq!(
            cond(json!({">=ID": "7"})),
            cmp("id", CmpOp::Ge, int(7), false)
        );
        assert_eq!(
            cond(json!({"<OPPORTUNITY": 10})),
            cmp("opportunity", CmpOp::Lt, DbValue::Real(10.0), false)
        );
        assert_eq!(
            cond(json!({"<=TITLE": "m"})),
            cmp("title", CmpOp::Le, text("m"), true)
        );
        assert_eq!(
            cond(json!({">ID": [5, {"x": 1}, 9]})),
            Cond::Or(vec![
                cmp("id", CmpOp::Gt, int(5), false),
                cmp("id", CmpOp::Gt, int(9), false)
            ])
        );
        assert_eq!(
            cond(json!({"!>ID": 5})),
            Cond::Or(vec![
                Cond::IsNull(c("id")),
                Cond::Not(Box::new(cmp("id", CmpOp::Gt, int(5), false)))
            ])
        );
        // No comparable element left: dropped.
        assert_eq!(cond(json!({">ID": [[1]]})), Cond::True);
    }

    #[test]
    fn datetimes_and_dates_are_lenient() {
        assert_eq!(
            cond(json!({">=DATE_CREATE": "2024-05-23T18:18:25+02:00"})),
            cmp("date_create", CmpOp::Ge, int(NOW), false)
        );
        // No offset: the portal zone (Berlin, +02:00 in May).
        assert_eq!(
            cond(json!({"<DATE_MODIFY": "2024-05-23 18:18:25"})),
            cmp("date_modify", CmpOp::Lt, int(NOW), false)
        );
        assert_eq!(
            cond(json!({"<DATE_MODIFY": "NOW"})),
            cmp("date_modify", CmpOp::Lt, int(NOW), false)
        );
        assert_eq!(
            cond(json!({"DATE_CLOSED": ""})),
            Cond::IsNull(c("date_closed"))
        );
        assert_eq!(
            cond(json!({"!DATE_CLOSED": ""})),
            Cond::Not(Box::new(Cond::IsNull(c("date_closed"))))
        );
        assert_eq!(
            cond(json!({">BIRTHDATE": "1990-01-02T00:00:00+03:00"})),
            cmp("birthdate", CmpOp::Gt, text("1990-01-02"), false)
        );
        let p = parse(json!({">DATE_CREATE": "yesterday-ish"}));
        assert_eq!(p.cond, Cond::True);
        assert_eq!(p.notes.len(), 1);
    }

    #[test]
    fn in_lists() {
        assert_eq!(
            cond(json!({"@ID": [1, "2", "x"]})),
            Cond::In {
                col: c("id"),
                values: vec![int(1), int(2), int(0)],
                ci: false
            }
        );
        assert_eq!(
            cond(json!({"@ID": 5})),
            Cond::In {
                col: c("id"),
                values: vec![int(5)],
                ci: false
            }
        );
        assert_eq!(cond(json!({"@ID": []})), Cond::False);
        assert_eq!(cond(json!({"!@ID": []})), Cond::True);
        assert_eq!(
            cond(json!({"!@STATUS_ID": ["NEW"]})),
            Cond::Or(vec![
                Cond::IsNull(c("status_id")),
                Cond::Not(Box::new(Cond::In {
                    col: c("status_id"),
                    values: vec![text("NEW")],
                    ci: true
                }))
            ])
        );
    }

    #[test]
    fn like_forms() {
        assert_eq!(
            cond(json!({"%TITLE": "50%_off\\"})),
            Cond::Like {
                col: c("title"),
                pattern: "%50\\%\\_off\\\\%".into(),
                ci: true
            }
        );
        assert_eq!(
            cond(json!({"=%TITLE": "mol%"})),
            Cond::Like {
                col: c("title"),
                pattern: "mol%".into(),
                ci: true
            }
        );
        assert_eq!(
            cond(json!({"%=TITLE": "%mol"})),
            Cond::Like {
                col: c("title"),
                pattern: "%mol".into(),
                ci: true
            }
        );
        let not_like = |p: &str| {
            Cond::Or(vec![
                Cond::IsNull(c("title")),
                Cond::Not(Box::new(Cond::Like {
                    col: c("title"),
                    pattern: p.into(),
                    ci: true,
                })),
            ])
        };
        assert_eq!(cond(json!({"!%TITLE": "x"})), not_like("%x%"));
        assert_eq!(cond(json!({"!=%TITLE": "x%"})), not_like("x%"));
        assert_eq!(cond(json!({"!%=TITLE": "%x"})), not_like("%x"));
        assert_eq!(cond(json!({"%TITLE": ""})), Cond::True);
        // Substring on numbers, dictionary ids and bindings is plain equality.
        assert_eq!(
            cond(json!({"%ID": "5"})),
            cmp("id", CmpOp::Eq, int(5), false)
        );
        assert_eq!(
            cond(json!({"%STATUS_ID": "NEW"})),
            cmp("status_id", CmpOp::Eq, text("NEW"), true)
        );
        assert_eq!(
            cond(json!({"=%SOURCE_ID": "WE%"})),
            cmp("source_id", CmpOp::Eq, text("WE%"), true)
        );
        assert_eq!(
            cond(json!({"%COMPANY_ID": "3"})),
            cmp("company_id", CmpOp::Eq, int(3), false)
        );
    }

    #[test]
    fn query_and_fulltext_become_substring_with_a_note() {
        for key in ["?TITLE", "*TITLE", "*=TITLE", "*%TITLE"] {
            let p = parse(json!({ key: "ab" }));
            assert_eq!(
                p.cond,
                Cond::Like {
                    col: c("title"),
                    pattern: "%ab%".into(),
                    ci: true
                },
                "{key}"
            );
            assert_eq!(p.notes.len(), 1);
        }
    }

    #[test]
    fn or_empty_variant() {
        assert_eq!(
            cond(json!({"+>OPPORTUNITY": 5})),
            Cond::Or(vec![
                cmp("opportunity", CmpOp::Gt, DbValue::Real(5.0), false),
                Cond::Or(vec![
                    Cond::IsNull(c("opportunity")),
                    cmp("opportunity", CmpOp::Eq, DbValue::Real(0.0), false)
                ])
            ])
        );
        assert_eq!(
            cond(json!({"+DATE_CLOSED": "2024-01-01"})),
            Cond::Or(vec![
                cmp("date_closed", CmpOp::Eq, int(1_704_063_600), false),
                Cond::IsNull(c("date_closed"))
            ])
        );
    }

    #[test]
    fn multifields_take_the_plain_key_only() {
        assert_eq!(
            cond(json!({"PHONE": " 555888 "})),
            Cond::Multifield {
                type_id: "PHONE".into(),
                pattern: "555888".into()
            }
        );
        assert_eq!(
            cond(json!({"EMAIL": ["%@example.com", "x"]})),
            Cond::Multifield {
                type_id: "EMAIL".into(),
                pattern: "%@example.com".into()
            }
        );
        assert_eq!(cond(json!({"WEB": ""})), Cond::True);
        let p = parse(json!({"%PHONE": "5", "!EMAIL": "a", "=IM": "x", "LINK": "y"}));
        assert_eq!(p.cond, Cond::True);
        assert_eq!(p.dropped, vec!["%PHONE", "!EMAIL", "=IM", "LINK"]);
    }

    #[test]
    fn unknown_keys_are_dropped_and_reported() {
        let p = parse(
            json!({"TITEL": "x", "><ID": [1, 5], "LOGIC": "OR", "0": {"ID": 1}, "title": "x", "CONTACT_IDS": [1], "ID": 3}),
        );
        assert_eq!(p.cond, cmp("id", CmpOp::Eq, int(3), false));
        assert_eq!(
            p.dropped,
            vec!["TITEL", "><ID", "LOGIC", "0", "title", "CONTACT_IDS"]
        );
    }

    #[test]
    fn user_fields_and_conjunction() {
        assert_eq!(
            cond(json!({"UF_CRM_COLOR": "red", ">ID": 3})),
            Cond::And(vec![
                Cond::Cmp {
                    col: Col::uf("UF_CRM_COLOR", ColumnType::Text),
                    op: CmpOp::Eq,
                    value: text("red"),
                    ci: true
                },
                cmp("id", CmpOp::Gt, int(3), false)
            ])
        );
        let p = parse_legacy_filter(
            LEAD_FIELDS,
            &[],
            &json!({"UF_CRM_COLOR": "red"}),
            chrono_tz::UTC,
            NOW,
        );
        assert_eq!(p.dropped, vec!["UF_CRM_COLOR"]);
        // Only defined user fields filter.
        assert_eq!(
            parse(json!({"UF_CRM_NOPE": 1})).dropped,
            vec!["UF_CRM_NOPE"]
        );
        // A list-shaped filter has only numeric keys, all unknown.
        assert_eq!(parse(json!(["a"])).dropped, vec!["0"]);
    }

    #[test]
    fn user_fields_compare_by_their_type() {
        let n = Col::uf("UF_CRM_N", ColumnType::Int);
        let ucmp = |col: &Col, op, value| Cond::Cmp {
            col: col.clone(),
            op,
            value,
            ci: false,
        };
        assert_eq!(
            cond(json!({">UF_CRM_N": "10"})),
            ucmp(&n, CmpOp::Gt, int(10))
        );
        assert_eq!(
            cond(json!({"<=UF_CRM_D": "2.5"})),
            ucmp(
                &Col::uf("UF_CRM_D", ColumnType::Real),
                CmpOp::Le,
                DbValue::Real(2.5)
            )
        );
        let b = Col::uf("UF_CRM_B", ColumnType::Int);
        for yes in [json!("Y"), json!(true), json!("1")] {
            assert_eq!(
                cond(json!({ "UF_CRM_B": yes })),
                ucmp(&b, CmpOp::Eq, int(1))
            );
        }
        assert_eq!(
            cond(json!({"UF_CRM_B": "N"})),
            Cond::Or(vec![Cond::IsNull(b.clone()), ucmp(&b, CmpOp::Eq, int(0))])
        );
        assert_eq!(
            cond(json!({">=UF_CRM_DT": "2024-05-23T18:18:25+02:00"})),
            ucmp(&Col::uf("UF_CRM_DT", ColumnType::Int), CmpOp::Ge, int(NOW))
        );
        assert_eq!(
            cond(json!({"<UF_CRM_DAY": "2024-02-01"})),
            ucmp(
                &Col::uf("UF_CRM_DAY", ColumnType::Text),
                CmpOp::Lt,
                text("2024-02-01")
            )
        );
        // Substring on a number is equality, as for system fields.
        assert_eq!(cond(json!({"%UF_CRM_N": "5"})), ucmp(&n, CmpOp::Eq, int(5)));
    }

    #[test]
    fn multiple_user_fields_match_any_element_and_negate_plainly() {
        let tags = Col::uf_multiple("UF_CRM_TAGS", ColumnType::Int);
        let eq = |v| Cond::Cmp {
            col: tags.clone(),
            op: CmpOp::Eq,
            value: int(v),
            ci: false,
        };
        assert_eq!(cond(json!({"UF_CRM_TAGS": 5})), eq(5));
        assert_eq!(
            cond(json!({"!UF_CRM_TAGS": [5, 6]})),
            Cond::Not(Box::new(Cond::Or(vec![eq(5), eq(6)])))
        );
        assert_eq!(
            cond(json!({"!@UF_CRM_TAGS": [5]})),
            Cond::Not(Box::new(Cond::In {
                col: tags.clone(),
                values: vec![int(5)],
                ci: false
            }))
        );
        assert_eq!(
            cond(json!({"UF_CRM_TAGS": ""})),
            Cond::Or(vec![Cond::IsNull(tags.clone()), eq(0)])
        );
    }
}
