//! The `crm.item.list` filter (lists.md §3.2): prefix operators (`><`, `!@`, `==`, …), nested
//! groups joined with `logic: OR`, values typed by field; unknown fields and bad values are errors.

use super::names::{self, Name};
use crate::dates;
use crate::entity::EntityKind;
use crate::field::{ColumnType, FieldDef, FieldKind};
use crate::filter::escape_like;
use crate::query::{CmpOp, Col, Cond, DbValue};
use crate::userfield::{UserField, UserType};
use crate::wire;
use bx_wire::ApiError;
use chrono_tz::Tz;
use serde_json::Value;

/// The operator of a filter key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` or no prefix; an array value means IN.
    Eq,
    /// `!=` or `!`; an array value means NOT IN.
    Ne,
    /// `==`: strict equality (`null` → IS NULL, booleans).
    StrictEq,
    /// `!==`
    StrictNe,
    Gt,
    Ge,
    Lt,
    Le,
    /// `@`
    In,
    /// `!@`
    NotIn,
    /// `><` with `[from, to]`
    Between,
    /// `!><`
    NotBetween,
    /// `=%`, `%=`: LIKE with the caller's wildcards.
    Like,
    /// `!=%`, `!%=`
    NotLike,
    /// `%`, and `?`, `*`, `*=`, `*%` (logical query and full text: substring, decision C4).
    Substring,
    /// `!%`
    NotSubstring,
}

/// Prefixes, longest first so that `!><` is not read as `!` + `><FIELD`.
const PREFIXES: [(&str, Op); 24] = [
    ("!><", Op::NotBetween),
    ("!=%", Op::NotLike),
    ("!%=", Op::NotLike),
    ("!==", Op::StrictNe),
    ("!=", Op::Ne),
    ("!%", Op::NotSubstring),
    ("!@", Op::NotIn),
    ("><", Op::Between),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=%", Op::Like),
    ("%=", Op::Like),
    ("==", Op::StrictEq),
    ("*=", Op::Substring),
    ("*%", Op::Substring),
    ("=", Op::Eq),
    ("%", Op::Substring),
    ("?", Op::Substring),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("!", Op::Ne),
    ("@", Op::In),
    ("*", Op::Substring),
    ("", Op::Eq),
];

/// Splits a key into its operator and field name.
pub fn split_key(key: &str) -> (Op, &str) {
    for (prefix, op) in PREFIXES {
        if let Some(rest) = key.strip_prefix(prefix) {
            return (op, rest);
        }
    }
    (Op::Eq, key)
}

/// How a field's filter values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Int,
    Real,
    /// `flag`: a Y/N field, where JSON booleans mean `Y`/`N`; `like`: LIKE applies (not to
    /// dictionary ids, where it is plain equality as in legacy lists).
    Text {
        flag: bool,
        like: bool,
    },
    Date,
    DateTime,
    /// A boolean user field: `1`/`0` or JSON booleans (lists.md §3.2; `Y`/`N` is not taken).
    UfBool,
}

fn class_of(def: &FieldDef) -> Class {
    match def.kind {
        FieldKind::DateTime => Class::DateTime,
        FieldKind::Date => Class::Date,
        kind => match kind.column_type() {
            ColumnType::Int => Class::Int,
            ColumnType::Real => Class::Real,
            ColumnType::Text => Class::Text {
                flag: kind == FieldKind::Char,
                like: !matches!(kind, FieldKind::CrmStatus(_)),
            },
        },
    }
}

/// How a user field's values are typed, by its definition's type (as legacy lists do).
fn uf_class(ty: UserType) -> Class {
    match ty {
        UserType::Integer | UserType::Employee | UserType::Enumeration | UserType::File => {
            Class::Int
        }
        UserType::Boolean => Class::UfBool,
        UserType::Double => Class::Real,
        UserType::DateTime => Class::DateTime,
        UserType::Date => Class::Date,
        UserType::String
        | UserType::Url
        | UserType::Address
        | UserType::Money
        | UserType::Crm
        | UserType::CrmStatus => Class::Text {
            flag: false,
            like: true,
        },
    }
}

struct Cx<'a> {
    tz: Tz,
    now: i64,
    /// The entity type's user-field definitions; other `UF_CRM_*` names may not be filtered on.
    ufs: &'a [UserField],
}

/// The error of a key whose field may not be filtered on.
fn not_allowed(upper: &str) -> ApiError {
    ApiError::invalid_arg_value(format!(
        "Invalid filter: field '{upper}' is not allowed in filter"
    ))
}

fn invalid_value(upper: &str) -> ApiError {
    ApiError::invalid_arg_value(format!("Invalid filter: field '{upper}' has invalid value"))
}

/// Parses `filter` (already known to be a PHP array) into a condition; `ufs` are the entity
/// type's user-field definitions.
pub fn parse_filter(
    kind: EntityKind,
    ufs: &[UserField],
    filter: &Value,
    tz: Tz,
    now: i64,
) -> Result<Cond, ApiError> {
    group(kind, filter, &Cx { tz, now, ufs })
}

/// Whether a key names a nested group: a number (`"0"`, `"1"`, …).
fn is_group_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

fn group(kind: EntityKind, filter: &Value, cx: &Cx<'_>) -> Result<Cond, ApiError> {
    let mut or = false;
    let mut conds = Vec::new();
    for (key, value) in wire::php_entries(filter).unwrap_or_default() {
        if key.eq_ignore_ascii_case("logic") {
            // `OR` in any case; anything else keeps the default AND.
            or = value
                .as_str()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("OR"));
            continue;
        }
        if is_group_key(&key) {
            if wire::is_php_array(value) {
                conds.push(group(kind, value, cx)?);
                continue;
            }
            // `filter[]=`: how b24pysdk and PHP's http_build_query write an empty filter.
            if value.is_null() || value.as_str() == Some("") {
                continue;
            }
        }
        conds.push(condition(kind, &key, value, cx)?);
    }
    Ok(if or {
        // An empty OR group restricts nothing.
        match conds.len() {
            0 => Cond::True,
            1 => conds.pop().unwrap_or(Cond::True),
            _ if conds.contains(&Cond::True) => Cond::True,
            _ => Cond::Or(conds.into_iter().filter(|c| *c != Cond::False).collect()),
        }
    } else {
        Cond::all(conds)
    })
}

/// One `key: value` condition.
fn condition(kind: EntityKind, key: &str, value: &Value, cx: &Cx<'_>) -> Result<Cond, ApiError> {
    let (op, field) = split_key(key);
    let name = names::resolve(kind, field);
    let upper = name.upper();
    let (col, class) = match &name {
        Name::Field(def) => match def.column {
            Some(column) => (Col::Column(column), class_of(def)),
            None => return Err(not_allowed(&upper)),
        },
        Name::Uf(uf) => match cx.ufs.iter().find(|u| u.field_name == *uf) {
            Some(def) => (def.col(), uf_class(def.user_type)),
            None => return Err(not_allowed(&upper)),
        },
        Name::Fm | Name::Disabled(_) | Name::Unknown(_) => return Err(not_allowed(&upper)),
    };
    build(col, class, op, value, cx).ok_or_else(|| invalid_value(&upper))
}

/// A value typed for the class; `None` when it does not fit (the caller's "invalid value").
/// `null` is handled by the operators and never reaches here.
fn typed(class: Class, v: &Value, cx: &Cx<'_>) -> Option<DbValue> {
    if wire::is_php_array(v) || v.is_null() {
        return None;
    }
    match class {
        Class::Int => match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(DbValue::Int),
            Value::String(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().map(DbValue::Int).or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && f.fract() == 0.0)
                        .map(|f| DbValue::Int(f as i64))
                })
            }
            _ => None,
        },
        Class::Real => match v {
            Value::Number(n) => n.as_f64().map(DbValue::Real),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(DbValue::Real),
            _ => None,
        },
        Class::Text { flag, .. } => match v {
            Value::Bool(b) if flag => Some(DbValue::Text(if *b { "Y" } else { "N" }.into())),
            Value::Bool(_) => None,
            other => wire::strval(other).map(DbValue::Text),
        },
        Class::Date => {
            let s = wire::strval(v)?;
            dates::parse_date(&s, cx.tz, cx.now).map(|d| DbValue::Text(dates::date_text(d)))
        }
        Class::DateTime => {
            let s = wire::strval(v)?;
            dates::parse_datetime(&s, cx.tz, cx.now).map(DbValue::Int)
        }
        Class::UfBool => match v {
            Value::Bool(b) => Some(DbValue::Int(i64::from(*b))),
            other => typed(Class::Int, other, cx),
        },
    }
}

fn ci(class: Class) -> bool {
    matches!(class, Class::Text { .. })
}

/// `""` for a field that is not text means "no value", like `null`.
fn means_null(class: Class, v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty() && !matches!(class, Class::Text { .. }),
        _ => false,
    }
}

fn not(c: Cond) -> Cond {
    match c {
        Cond::True => Cond::False,
        Cond::False => Cond::True,
        c => Cond::Not(Box::new(c)),
    }
}

/// The elements of a list value, or the value itself; `None` for a nested structure.
fn scalars(v: &Value) -> Option<Vec<&Value>> {
    let values = wire::php_values(v).unwrap_or_else(|| vec![v]);
    (!values.iter().any(|x| wire::is_php_array(x))).then_some(values)
}

/// IN over the typed, non-null elements; an empty list matches nothing.
fn in_list(col: &Col, class: Class, v: &Value, cx: &Cx<'_>) -> Option<Cond> {
    let mut values = Vec::new();
    for x in scalars(v)? {
        if means_null(class, x) {
            continue;
        }
        values.push(typed(class, x, cx)?);
    }
    Some(if values.is_empty() {
        Cond::False
    } else {
        Cond::In {
            col: col.clone(),
            values,
            ci: ci(class),
        }
    })
}

fn cmp(col: &Col, class: Class, op: CmpOp, value: DbValue) -> Cond {
    Cond::Cmp {
        col: col.clone(),
        op,
        value,
        ci: ci(class),
    }
}

/// Equality of one scalar: `null` (and `""` for non-text) is IS NULL.
fn equal(col: &Col, class: Class, v: &Value, cx: &Cx<'_>) -> Option<Cond> {
    if means_null(class, v) {
        return Some(Cond::IsNull(col.clone()));
    }
    Some(cmp(col, class, CmpOp::Eq, typed(class, v, cx)?))
}

/// LIKE conditions of a value or list (OR of the elements). `substring` escapes and wraps.
fn like(col: &Col, v: &Value, substring: bool) -> Option<Cond> {
    let mut parts = Vec::new();
    for x in scalars(v)? {
        let s = wire::strval(x)?;
        if substring && s.is_empty() {
            // An empty substring is in every value: no restriction.
            return Some(Cond::True);
        }
        let pattern = if substring {
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
    Some(match parts.len() {
        0 => Cond::False,
        1 => parts.pop().unwrap_or(Cond::False),
        _ => Cond::Or(parts),
    })
}

fn build(col: Col, class: Class, op: Op, value: &Value, cx: &Cx<'_>) -> Option<Cond> {
    let is_list = wire::is_php_array(value);
    // LIKE makes no sense on numbers and dates, and Bitrix forbids it on dictionary ids.
    let like_applies = matches!(class, Class::Text { like: true, .. });
    let op = match op {
        Op::Like | Op::Substring if !like_applies => Op::Eq,
        Op::NotLike | Op::NotSubstring if !like_applies => Op::Ne,
        other => other,
    };
    Some(match op {
        Op::Eq | Op::StrictEq if is_list => in_list(&col, class, value, cx)?,
        Op::Ne | Op::StrictNe if is_list => not(in_list(&col, class, value, cx)?),
        Op::Eq | Op::StrictEq => equal(&col, class, value, cx)?,
        Op::Ne | Op::StrictNe => {
            if means_null(class, value) {
                not(Cond::IsNull(col.clone()))
            } else {
                cmp(&col, class, CmpOp::Ne, typed(class, value, cx)?)
            }
        }
        Op::In => in_list(&col, class, value, cx)?,
        Op::NotIn => not(in_list(&col, class, value, cx)?),
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            let op = match op {
                Op::Gt => CmpOp::Gt,
                Op::Ge => CmpOp::Ge,
                Op::Lt => CmpOp::Lt,
                _ => CmpOp::Le,
            };
            cmp(&col, class, op, typed(class, value, cx)?)
        }
        Op::Between | Op::NotBetween => {
            let bounds = wire::php_values(value)?;
            let [from, to] = bounds.as_slice() else {
                return None;
            };
            let range = Cond::And(vec![
                cmp(&col, class, CmpOp::Ge, typed(class, from, cx)?),
                cmp(&col, class, CmpOp::Le, typed(class, to, cx)?),
            ]);
            if op == Op::Between {
                range
            } else {
                not(range)
            }
        }
        Op::Like => like(&col, value, false)?,
        Op::NotLike => not(like(&col, value, false)?),
        Op::Substring => like(&col, value, true)?,
        Op::NotSubstring => not(like(&col, value, true)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_716_481_105;

    fn ufs() -> Vec<UserField> {
        [
            ("UF_CRM_FLAG", UserType::Boolean, false),
            ("UF_CRM_COLOR", UserType::String, false),
            ("UF_CRM_N", UserType::Integer, false),
            ("UF_CRM_TAGS", UserType::Enumeration, true),
        ]
        .into_iter()
        .map(|(name, ty, multiple)| {
            let mut uf = UserField::new("CRM_LEAD", name, ty);
            uf.multiple = multiple;
            uf
        })
        .collect()
    }

    fn parse(v: Value) -> Result<Cond, ApiError> {
        parse_filter(EntityKind::Lead, &ufs(), &v, chrono_tz::Europe::Berlin, NOW)
    }

    fn cond(v: Value) -> Cond {
        parse(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    fn c(name: &'static str) -> Col {
        Col::Column(name)
    }

    fn cm(col: &'static str, op: CmpOp, value: DbValue, ci: bool) -> Cond {
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

    fn error_text(v: Value) -> String {
        let e = parse(v.clone()).expect_err(&v.to_string());
        assert_eq!((e.status(), e.code()), (400, "INVALID_ARG_VALUE"));
        e.description().to_string()
    }

    #[test]
    fn prefixes_longest_first() {
        let cases = [
            ("!><id", Op::NotBetween, "id"),
            ("!=%title", Op::NotLike, "title"),
            ("!%=title", Op::NotLike, "title"),
            ("!==name", Op::StrictNe, "name"),
            ("!=id", Op::Ne, "id"),
            ("!%title", Op::NotSubstring, "title"),
            ("!@id", Op::NotIn, "id"),
            ("><id", Op::Between, "id"),
            (">=id", Op::Ge, "id"),
            ("<=id", Op::Le, "id"),
            ("=%title", Op::Like, "title"),
            ("%=title", Op::Like, "title"),
            ("==name", Op::StrictEq, "name"),
            ("=id", Op::Eq, "id"),
            ("%title", Op::Substring, "title"),
            ("?title", Op::Substring, "title"),
            (">id", Op::Gt, "id"),
            ("<id", Op::Lt, "id"),
            ("!id", Op::Ne, "id"),
            ("@id", Op::In, "id"),
            ("*title", Op::Substring, "title"),
            ("*=title", Op::Substring, "title"),
            ("*%title", Op::Substring, "title"),
            ("id", Op::Eq, "id"),
        ];
        for (key, op, field) in cases {
            assert_eq!(split_key(key), (op, field), "{key}");
        }
    }

    #[test]
    fn names_in_every_spelling() {
        let want = cm("status_id", CmpOp::Eq, text("NEW"), true);
        for key in ["stageId", "STAGE_ID", "STATUS_ID", "=stageId"] {
            assert_eq!(cond(json!({ key: "NEW" })), want, "{key}");
        }
        assert_eq!(cond(json!({">ID": 5})), cm("id", CmpOp::Gt, int(5), false));
        assert_eq!(
            cond(json!({">id": "5"})),
            cm("id", CmpOp::Gt, int(5), false)
        );
    }

    #[test]
    fn equality_in_and_null() {
        assert_eq!(
            cond(json!({"@assignedById": [1, "6"]})),
            Cond::In {
                col: c("assigned_by_id"),
                values: vec![int(1), int(6)],
                ci: false
            }
        );
        // A list without a prefix is IN; with `!` NOT IN.
        assert_eq!(
            cond(json!({"sourceId": ["WEB", "CALL"]})),
            Cond::In {
                col: c("source_id"),
                values: vec![text("WEB"), text("CALL")],
                ci: true
            }
        );
        assert_eq!(
            cond(json!({"!@id": [1, 2]})),
            Cond::Not(Box::new(Cond::In {
                col: c("id"),
                values: vec![int(1), int(2)],
                ci: false
            }))
        );
        assert_eq!(cond(json!({"@id": []})), Cond::False);
        assert_eq!(cond(json!({"!@id": []})), Cond::True);
        assert_eq!(
            cond(json!({"==companyId": null})),
            Cond::IsNull(c("company_id"))
        );
        assert_eq!(
            cond(json!({"companyId": null})),
            Cond::IsNull(c("company_id"))
        );
        assert_eq!(
            cond(json!({"!==companyId": null})),
            Cond::Not(Box::new(Cond::IsNull(c("company_id"))))
        );
        assert_eq!(
            cond(json!({"==opened": true})),
            cm("opened", CmpOp::Eq, text("Y"), true)
        );
        assert_eq!(
            cond(json!({"opened": false})),
            cm("opened", CmpOp::Eq, text("N"), true)
        );
        assert_eq!(
            cond(json!({"!=name": ""})),
            cm("name", CmpOp::Ne, text(""), true)
        );
        assert_eq!(
            cond(json!({"!stageId": "NEW"})),
            cm("status_id", CmpOp::Ne, text("NEW"), true)
        );
        assert_eq!(
            cond(json!({"opportunity": "150.5"})),
            cm("opportunity", CmpOp::Eq, DbValue::Real(150.5), false)
        );
    }

    #[test]
    fn ranges_and_dates() {
        let range = |from, to| {
            Cond::And(vec![
                cm("opportunity", CmpOp::Ge, DbValue::Real(from), false),
                cm("opportunity", CmpOp::Le, DbValue::Real(to), false),
            ])
        };
        assert_eq!(
            cond(json!({"><opportunity": [5000, "20000"]})),
            range(5000.0, 20000.0)
        );
        assert_eq!(
            cond(json!({"!><opportunity": [1, 2]})),
            Cond::Not(Box::new(range(1.0, 2.0)))
        );
        assert_eq!(
            cond(json!({">=createdTime": "2024-05-23T18:18:25+02:00"})),
            cm("date_create", CmpOp::Ge, int(NOW), false)
        );
        assert_eq!(
            cond(json!({"<birthdate": "1990-01-02"})),
            cm("birthdate", CmpOp::Lt, text("1990-01-02"), false)
        );
    }

    #[test]
    fn like_forms() {
        let lk = |p: &str| Cond::Like {
            col: c("title"),
            pattern: p.into(),
            ci: true,
        };
        assert_eq!(cond(json!({"%title": "50%"})), lk("%50\\%%"));
        assert_eq!(cond(json!({"=%title": "mol%"})), lk("mol%"));
        assert_eq!(cond(json!({"%=title": "%mol"})), lk("%mol"));
        assert_eq!(
            cond(json!({"!%title": "x"})),
            Cond::Not(Box::new(lk("%x%")))
        );
        assert_eq!(
            cond(json!({"!=%title": "x%"})),
            Cond::Not(Box::new(lk("x%")))
        );
        assert_eq!(
            cond(json!({"!%=title": "%x"})),
            Cond::Not(Box::new(lk("%x")))
        );
        assert_eq!(cond(json!({"%title": ""})), Cond::True);
        for key in ["?title", "*title", "*=title", "*%title"] {
            assert_eq!(cond(json!({ key: "ab" })), lk("%ab%"), "{key}");
        }
        // Dictionary ids and numbers compare for equality.
        assert_eq!(
            cond(json!({"%stageId": "NEW"})),
            cm("status_id", CmpOp::Eq, text("NEW"), true)
        );
        assert_eq!(
            cond(json!({"%id": "5"})),
            cm("id", CmpOp::Eq, int(5), false)
        );
    }

    #[test]
    fn nested_groups_and_logic() {
        let f = json!({
            "0": {"logic": "OR", "0": {"!=name": ""}, "1": {"!=lastName": ""}},
            "@stageId": ["NEW"],
            ">=opportunity": 5000
        });
        assert_eq!(
            cond(f),
            Cond::And(vec![
                Cond::Or(vec![
                    cm("name", CmpOp::Ne, text(""), true),
                    cm("last_name", CmpOp::Ne, text(""), true)
                ]),
                Cond::In {
                    col: c("status_id"),
                    values: vec![text("NEW")],
                    ci: true
                },
                cm("opportunity", CmpOp::Ge, DbValue::Real(5000.0), false),
            ])
        );
        // `LOGIC` in any case, groups nested deeper, two conditions in one OR branch.
        let f = json!({"LOGIC": "or", "0": {"id": 1}, "1": {"logic": "AND", "0": {">id": 5, "<id": 9}}});
        assert_eq!(
            cond(f),
            Cond::Or(vec![
                cm("id", CmpOp::Eq, int(1), false),
                Cond::And(vec![
                    cm("id", CmpOp::Gt, int(5), false),
                    cm("id", CmpOp::Lt, int(9), false)
                ])
            ])
        );
        assert_eq!(cond(json!({"logic": "OR"})), Cond::True);
        assert_eq!(cond(json!({})), Cond::True);
        assert_eq!(cond(json!([])), Cond::True);
        assert_eq!(cond(json!([""])), Cond::True);
    }

    #[test]
    fn user_fields() {
        let flag = Col::uf("UF_CRM_FLAG", ColumnType::Int);
        let ucmp = |col: &Col, op, value, ci| Cond::Cmp {
            col: col.clone(),
            op,
            value,
            ci,
        };
        assert_eq!(
            cond(json!({"ufCrm_FLAG": 1, "UF_CRM_COLOR": "red"})),
            Cond::And(vec![
                ucmp(&flag, CmpOp::Eq, int(1), false),
                ucmp(
                    &Col::uf("UF_CRM_COLOR", ColumnType::Text),
                    CmpOp::Eq,
                    text("red"),
                    true
                )
            ])
        );
        // Booleans are 1/0 or JSON booleans; Y/N is not a value of a boolean user field.
        assert_eq!(
            cond(json!({"ufCrm_FLAG": false})),
            ucmp(&flag, CmpOp::Eq, int(0), false)
        );
        assert_eq!(
            cond(json!({"ufCrm_FLAG": "0"})),
            ucmp(&flag, CmpOp::Eq, int(0), false)
        );
        assert_eq!(
            error_text(json!({"ufCrm_FLAG": "Y"})),
            "Invalid filter: field 'UF_CRM_FLAG' has invalid value"
        );
        // Numbers compare as numbers, strings given for them included.
        assert_eq!(
            cond(json!({">ufCrm_N": "10"})),
            ucmp(
                &Col::uf("UF_CRM_N", ColumnType::Int),
                CmpOp::Gt,
                int(10),
                false
            )
        );
        assert_eq!(
            error_text(json!({"ufCrm_N": "ten"})),
            "Invalid filter: field 'UF_CRM_N' has invalid value"
        );
        // LIKE does not apply to numbers: `%` is equality there.
        assert_eq!(
            cond(json!({"%ufCrm_N": 3})),
            ucmp(
                &Col::uf("UF_CRM_N", ColumnType::Int),
                CmpOp::Eq,
                int(3),
                false
            )
        );
        assert_eq!(
            cond(json!({"ufCrm_TAGS": 4})),
            ucmp(
                &Col::uf_multiple("UF_CRM_TAGS", ColumnType::Int),
                CmpOp::Eq,
                int(4),
                false
            )
        );
        // Only defined user fields may be filtered on.
        assert_eq!(
            error_text(json!({"ufCrm_NOPE": 1})),
            "Invalid filter: field 'UF_CRM_NOPE' is not allowed in filter"
        );
        assert_eq!(
            error_text(json!({"UF_CRM_NOPE": 1})),
            "Invalid filter: field 'UF_CRM_NOPE' is not allowed in filter"
        );
    }

    #[test]
    fn errors_name_the_upper_field() {
        assert_eq!(
            error_text(json!({"titel": "x"})),
            "Invalid filter: field 'TITEL' is not allowed in filter"
        );
        for (key, upper) in [
            ("fm", "FM"),
            ("PHONE", "PHONE"),
            ("contactIds", "CONTACT_IDS"),
            ("address", "ADDRESS"),
            ("><nope", "NOPE"),
            ("0", "0"),
        ] {
            assert_eq!(
                error_text(json!({ key: [1, 2] })),
                format!("Invalid filter: field '{upper}' is not allowed in filter"),
                "{key}"
            );
        }
        // Nested groups report too.
        assert_eq!(
            error_text(json!({"0": {"logic": "OR", "0": {"bogus": 1}}})),
            "Invalid filter: field 'BOGUS' is not allowed in filter"
        );
        for (f, upper) in [
            (json!({"><opportunity": 5}), "OPPORTUNITY"),
            (json!({"><opportunity": [1, 2, 3]}), "OPPORTUNITY"),
            (json!({"><id": [1, "x"]}), "ID"),
            (json!({">id": "abc"}), "ID"),
            (json!({">createdTime": "not a date"}), "CREATED_TIME"),
            (json!({"stageId": {"a": {"b": 1}}}), "STAGE_ID"),
            (json!({">id": null}), "ID"),
            (json!({"id": true}), "ID"),
        ] {
            assert_eq!(
                error_text(f.clone()),
                format!("Invalid filter: field '{upper}' has invalid value"),
                "{f}"
            );
        }
    }
}
