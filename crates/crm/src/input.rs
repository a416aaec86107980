//! Normalisation of legacy `fields` input for add/update (leads.md §3): which keys are accepted,
//! how each field kind converts (PHP-style), multifield add/change/delete elements, user fields.
//!
//! Pure: dictionary checks (stages, sources, currencies) need storage and happen in the engine.

use crate::dates;
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::filter::is_uf_name;
use crate::query::DbValue;
use crate::sanitize::sanitize_html;
use crate::wire;
use chrono_tz::Tz;
use serde_json::{Map, Value};

/// Whether the call creates or changes a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `import`: `params.IMPORT = Y`, which makes the creation/modification stamps settable.
    Add {
        import: bool,
    },
    Update,
}

/// Read-only fields that `params.IMPORT = Y` makes settable on add (leads.md §3.8).
pub const IMPORT_SETTABLE: [&str; 4] = [
    "DATE_CREATE",
    "DATE_MODIFY",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
];

/// Rich-text fields that are HTML-sanitised on input (leads.md §3.14).
pub const HTML_FIELDS: [&str; 1] = ["COMMENTS"];

/// One multifield element of an add/update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultifieldOp {
    Add {
        type_id: &'static str,
        value_type: String,
        value: String,
    },
    /// `value_type: None` keeps the stored type.
    Change {
        type_id: &'static str,
        id: i64,
        value_type: Option<String>,
        value: String,
    },
    Delete {
        type_id: &'static str,
        id: i64,
    },
}

/// `fields` after normalisation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    /// Values of column fields in table order. `Null` clears.
    pub values: Vec<(&'static FieldDef, DbValue)>,
    /// Multiple binding fields without a column (`CONTACT_IDS`): the positive ids given, in order.
    pub bindings: Vec<(&'static FieldDef, Vec<i64>)>,
    /// `UF_CRM_*` values as given.
    pub uf: Map<String, Value>,
    pub multifields: Vec<MultifieldOp>,
    /// `TRACE` of an add (sales-intelligence.md §3): add-only input, never a column and not in
    /// the field table; dropped on update like other immutable input.
    pub trace: Option<Value>,
}

impl Input {
    pub fn value(&self, name: &str) -> Option<&DbValue> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }

    pub fn binding(&self, name: &str) -> Option<&[i64]> {
        self.bindings
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// `VALUE_TYPE` dictionaries (leads.md §3.12); the first entry is the type's default.
pub fn value_types(type_id: &str) -> &'static [&'static str] {
    match type_id {
        "PHONE" => &["WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"],
        "EMAIL" => &["WORK", "HOME", "MAILING", "OTHER"],
        "WEB" => &[
            "WORK",
            "HOME",
            "FACEBOOK",
            "VK",
            "LIVEJOURNAL",
            "TWITTER",
            "OTHER",
        ],
        "IM" => &[
            "OTHER",
            "FACEBOOK",
            "TELEGRAM",
            "VK",
            "SKYPE",
            "VIBER",
            "INSTAGRAM",
            "BITRIX24",
            "OPENLINE",
            "IMOL",
            "ICQ",
            "MSN",
            "JABBER",
        ],
        _ => &["OTHER"],
    }
}

/// A client's `VALUE_TYPE`: upper-cased; unknown ones become `OTHER` so that SDKs which reject
/// unknown types (the PHP SDK throws) can still read the record. Empty → `None` (use the default).
pub fn normalize_value_type(type_id: &str, given: &str) -> Option<String> {
    let upper = given.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return None;
    }
    Some(if value_types(type_id).contains(&upper.as_str()) {
        upper
    } else {
        "OTHER".into()
    })
}

fn default_value_type(type_id: &str) -> String {
    value_types(type_id)
        .first()
        .copied()
        .unwrap_or("OTHER")
        .to_string()
}

/// Whether a key of `fields` is accepted in this mode.
fn writable(def: &FieldDef, mode: Mode) -> bool {
    if def.read_only {
        return matches!(mode, Mode::Add { import: true }) && IMPORT_SETTABLE.contains(&def.name);
    }
    !(def.immutable && mode == Mode::Update)
}

/// The add-only `TRACE` input of the legacy `*.add` methods.
pub const TRACE: &str = "TRACE";

/// Normalises `fields` (a PHP array; anything else yields nothing). Unknown keys, read-only
/// fields and, on update, immutable ones are dropped silently; values that cannot be converted
/// drop their field (a date that does not parse is ignored, decision of leads.md §3.8).
/// `TRACE` is kept aside on add (`Input::trace`).
pub fn normalize(kind: EntityKind, fields: &Value, mode: Mode, tz: Tz, now: i64) -> Input {
    let mut input = Input::default();
    let table = kind.fields();
    for (key, value) in wire::php_entries(fields).unwrap_or_default() {
        if let Some(def) = table.iter().find(|f| f.name == key) {
            if !writable(def, mode) {
                continue;
            }
            if def.kind == FieldKind::CrmMultifield {
                input
                    .multifields
                    .extend(multifield_ops(def.name, value, mode));
            } else if def.column.is_none() {
                if def.multiple {
                    input.bindings.retain(|(f, _)| f.name != def.name);
                    input.bindings.push((def, binding_ids(value)));
                }
            } else if let Some(v) = convert(def, value, tz, now) {
                input.values.retain(|(f, _)| f.name != def.name);
                input.values.push((def, v));
            }
        } else if is_uf_name(&key) {
            input.uf.insert(key, value.clone());
        } else if key == TRACE && matches!(mode, Mode::Add { .. }) && !value.is_null() {
            input.trace = Some(value.clone());
        }
    }
    let position = |name: &str| {
        table
            .iter()
            .position(|f| f.name == name)
            .unwrap_or(usize::MAX)
    };
    input.values.sort_by_key(|(f, _)| position(f.name));
    input
}

/// Positive ids of a multiple binding, in order, without repeats. A scalar counts as one id;
/// `null`/`""`/`[]` clear the binding.
fn binding_ids(value: &Value) -> Vec<i64> {
    let items = wire::php_values(value).unwrap_or_else(|| vec![value]);
    let mut ids = Vec::new();
    for item in items {
        if wire::is_php_array(item) {
            continue;
        }
        let id = wire::intval(item);
        if id > 0 && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Converts one value by field kind; `None` drops the field.
pub fn convert(def: &FieldDef, value: &Value, tz: Tz, now: i64) -> Option<DbValue> {
    if wire::is_php_array(value) {
        return None;
    }
    match def.kind {
        FieldKind::String => match wire::strval(value) {
            None => Some(DbValue::Null),
            Some(s) if HTML_FIELDS.contains(&def.name) => Some(DbValue::Text(sanitize_html(&s))),
            Some(s) => Some(DbValue::Text(s)),
        },
        // No file storage yet: a photo or logo sent in any form is ignored, never a fake file id.
        FieldKind::File => None,
        FieldKind::Integer | FieldKind::CrmCategory | FieldKind::Location => {
            if is_blank(value) {
                Some(DbValue::Null)
            } else {
                Some(DbValue::Int(wire::intval(value)))
            }
        }
        // A reference to nothing is stored as NULL, whether sent as 0, "0", "" or null.
        FieldKind::User
        | FieldKind::CrmCompany
        | FieldKind::CrmContact
        | FieldKind::CrmLead
        | FieldKind::CrmDeal
        | FieldKind::CrmQuote => match wire::intval(value) {
            id if id > 0 => Some(DbValue::Int(id)),
            _ => Some(DbValue::Null),
        },
        FieldKind::Double => {
            if value.is_null() {
                return Some(DbValue::Null);
            }
            let f = wire::floatval(value);
            f.is_finite().then(|| DbValue::Real(round2(f)))
        }
        FieldKind::Char => {
            if value.is_null() {
                return Some(DbValue::Null);
            }
            wire::yes_no(value).map(|b| DbValue::Text(if b { "Y" } else { "N" }.into()))
        }
        FieldKind::Date => {
            if is_blank(value) {
                return Some(DbValue::Null);
            }
            let s = wire::strval(value)?;
            dates::parse_date(&s, tz, now).map(|d| DbValue::Text(dates::date_text(d)))
        }
        FieldKind::DateTime => {
            if is_blank(value) {
                return Some(DbValue::Null);
            }
            let s = wire::strval(value)?;
            dates::parse_datetime(&s, tz, now).map(DbValue::Int)
        }
        FieldKind::CrmStatus(_) | FieldKind::CrmCurrency => {
            if is_blank(value) {
                return Some(DbValue::Null);
            }
            wire::strval(value).map(|s| DbValue::Text(s.trim().to_string()))
        }
        FieldKind::CrmMultifield => None,
    }
}

/// Money and other doubles are kept to cents (storage convention).
pub fn round2(f: f64) -> f64 {
    let r = (f * 100.0).round() / 100.0;
    if r.is_finite() {
        r
    } else {
        f
    }
}

/// The elements of one multifield (a list, or a map with arbitrary keys such as `n0`).
fn multifield_ops(type_id: &'static str, value: &Value, mode: Mode) -> Vec<MultifieldOp> {
    let mut ops = Vec::new();
    for element in wire::php_values(value).unwrap_or_default() {
        if !wire::is_php_array(element) {
            continue;
        }
        let id = wire::php_get(element, "ID").map(wire::intval).unwrap_or(0);
        let text = wire::php_get(element, "VALUE")
            .and_then(wire::strval)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let value_type = wire::php_get(element, "VALUE_TYPE")
            .and_then(wire::strval)
            .and_then(|t| normalize_value_type(type_id, &t));
        let delete = wire::php_get(element, "DELETE")
            .and_then(wire::strval)
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("Y"));
        if id > 0 {
            // A new record owns no values yet, so an id cannot name one of its own.
            if matches!(mode, Mode::Add { .. }) {
                continue;
            }
            if delete || text.is_empty() {
                ops.push(MultifieldOp::Delete { type_id, id });
            } else {
                ops.push(MultifieldOp::Change {
                    type_id,
                    id,
                    value_type,
                    value: text,
                });
            }
        } else if !delete && !text.is_empty() {
            ops.push(MultifieldOp::Add {
                type_id,
                value_type: value_type.unwrap_or_else(|| default_value_type(type_id)),
                value: text,
            });
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TZ: Tz = chrono_tz::Europe::Berlin;
    const NOW: i64 = 1_716_481_105;
    const ADD: Mode = Mode::Add { import: false };

    fn norm(v: Value, mode: Mode) -> Input {
        normalize(EntityKind::Lead, &v, mode, TZ, NOW)
    }

    fn values(i: &Input) -> Vec<(&'static str, DbValue)> {
        i.values.iter().map(|(f, v)| (f.name, v.clone())).collect()
    }

    fn text(s: &str) -> DbValue {
        DbValue::Text(s.into())
    }

    #[test]
    fn unknown_read_only_and_miscased_keys_are_dropped() {
        let i = norm(
            json!({"TITLE": "t", "title": "x", "NOPE": 1, "ID": 9, "DATE_CREATE": "2020-01-01", "HAS_PHONE": "Y",
                   "STATUS_SEMANTIC_ID": "S", "TRACE": "{}", "CREATED_BY_ID": 5}),
            ADD,
        );
        assert_eq!(values(&i), vec![("TITLE", text("t"))]);
        assert_eq!(i.trace, Some(json!("{}")));
    }

    #[test]
    fn trace_is_add_only_and_exactly_spelled() {
        assert_eq!(norm(json!({"TRACE": 15}), ADD).trace, Some(json!(15)));
        assert_eq!(norm(json!({"TRACE": null}), ADD).trace, None);
        assert_eq!(norm(json!({"trace": "{}"}), ADD).trace, None);
        assert_eq!(norm(json!({"TRACE": "{}"}), Mode::Update).trace, None);
    }

    #[test]
    fn import_makes_stamps_settable_on_add_only() {
        let f = json!({"DATE_CREATE": "2020-01-01T00:00:00+00:00", "CREATED_BY_ID": "5", "MOVED_TIME": "2020-01-01"});
        let i = norm(f.clone(), Mode::Add { import: true });
        assert_eq!(
            values(&i),
            vec![
                ("CREATED_BY_ID", DbValue::Int(5)),
                ("DATE_CREATE", DbValue::Int(1_577_836_800))
            ]
        );
        assert!(norm(f, Mode::Update).values.is_empty());
    }

    #[test]
    fn values_come_out_in_table_order() {
        let i = norm(json!({"OPENED": "y", "TITLE": "a", "NAME": "b"}), ADD);
        assert_eq!(
            values(&i),
            vec![
                ("TITLE", text("a")),
                ("NAME", text("b")),
                ("OPENED", text("Y"))
            ]
        );
    }

    #[test]
    fn conversions_by_kind() {
        let i = norm(
            json!({
                "TITLE": 15, "NAME": null, "ADDRESS_LOC_ADDR_ID": "12abc", "ASSIGNED_BY_ID": "7", "COMPANY_ID": "0",
                "CONTACT_ID": "", "OPPORTUNITY": "1500.456", "IS_MANUAL_OPPORTUNITY": "true", "OPENED": 0,
                "BIRTHDATE": "1990-07-01T00:00:00+03:00", "STATUS_ID": " NEW ", "SOURCE_ID": 1, "CURRENCY_ID": "eur",
                "POST": ["x"], "COMMENTS": "<b onclick=\"x()\">hi</b><script>1</script>"
            }),
            ADD,
        );
        assert_eq!(
            values(&i),
            vec![
                ("TITLE", text("15")),
                ("NAME", DbValue::Null),
                ("BIRTHDATE", text("1990-07-01")),
                ("SOURCE_ID", text("1")),
                ("STATUS_ID", text("NEW")),
                ("ADDRESS_LOC_ADDR_ID", DbValue::Int(12)),
                ("CURRENCY_ID", text("eur")),
                ("OPPORTUNITY", DbValue::Real(1500.46)),
                ("IS_MANUAL_OPPORTUNITY", text("Y")),
                ("OPENED", text("N")),
                ("COMMENTS", text("<b>hi</b>")),
                ("ASSIGNED_BY_ID", DbValue::Int(7)),
                ("COMPANY_ID", DbValue::Null),
                ("CONTACT_ID", DbValue::Null),
            ]
        );
    }

    #[test]
    fn unparsable_values_are_ignored_and_blank_dates_clear() {
        let i = norm(
            json!({"BIRTHDATE": "someday", "OPENED": "maybe", "DATE_CREATE": "x"}),
            Mode::Add { import: true },
        );
        assert!(i.values.is_empty());
        let i = norm(json!({"BIRTHDATE": ""}), Mode::Update);
        assert_eq!(values(&i), vec![("BIRTHDATE", DbValue::Null)]);
        let i = norm(json!({"STATUS_ID": ""}), Mode::Update);
        assert_eq!(values(&i), vec![("STATUS_ID", DbValue::Null)]);
    }

    #[test]
    fn datetimes_read_in_the_portal_zone() {
        let i = norm(
            json!({"DATE_MODIFY": "2024-05-23 18:18:25"}),
            Mode::Add { import: true },
        );
        assert_eq!(values(&i), vec![("DATE_MODIFY", DbValue::Int(NOW))]);
        let i = norm(
            json!({"DATE_MODIFY": "2024-05-23T16:18:25Z"}),
            Mode::Add { import: true },
        );
        assert_eq!(values(&i), vec![("DATE_MODIFY", DbValue::Int(NOW))]);
    }

    #[test]
    fn contact_ids_binding() {
        let i = norm(json!({"CONTACT_IDS": [5, "7", 0, "x", 5, [1]]}), ADD);
        assert_eq!(i.binding("CONTACT_IDS"), Some(&[5, 7][..]));
        let i = norm(json!({"CONTACT_IDS": "9"}), ADD);
        assert_eq!(i.binding("CONTACT_IDS"), Some(&[9][..]));
        let i = norm(json!({"CONTACT_IDS": []}), Mode::Update);
        assert_eq!(i.binding("CONTACT_IDS"), Some(&[][..]));
    }

    #[test]
    fn user_fields_pass_through() {
        let i = norm(
            json!({"UF_CRM_NOTE": "x", "UF_CRM_LIST": [1, 2], "UF_OTHER": 1, "uf_crm_x": 1}),
            ADD,
        );
        assert_eq!(
            Value::Object(i.uf),
            json!({"UF_CRM_NOTE": "x", "UF_CRM_LIST": [1, 2]})
        );
    }

    #[test]
    fn multifield_elements_on_add() {
        let i = norm(
            json!({
                "PHONE": [{"VALUE": " +1555 ", "VALUE_TYPE": "mobile"}, {"VALUE": "+1666"}, {"VALUE": ""}, {"ID": 4, "VALUE": "x"}, "junk"],
                "EMAIL": {"n0": {"VALUE": "a@b.c", "VALUE_TYPE": "PRIVATE"}},
                "WEB": [{"VALUE": "x.org"}],
                "IM": [{"VALUE": "tg", "VALUE_TYPE": "TELEGRAM"}, {"VALUE": "q"}],
                "LINK": [{"VALUE": "l", "VALUE_TYPE": "USER"}]
            }),
            ADD,
        );
        let add = |type_id, value_type: &str, value: &str| MultifieldOp::Add {
            type_id,
            value_type: value_type.into(),
            value: value.into(),
        };
        assert_eq!(
            i.multifields,
            vec![
                add("PHONE", "MOBILE", "+1555"),
                add("PHONE", "WORK", "+1666"),
                add("EMAIL", "OTHER", "a@b.c"),
                add("WEB", "WORK", "x.org"),
                add("IM", "TELEGRAM", "tg"),
                add("IM", "OTHER", "q"),
                add("LINK", "OTHER", "l"),
            ]
        );
    }

    #[test]
    fn multifield_elements_on_update() {
        let i = norm(
            json!({"PHONE": [
                {"ID": "11", "VALUE": "+2", "VALUE_TYPE": "HOME"},
                {"ID": 12, "DELETE": "Y", "VALUE": "kept?"},
                {"ID": 13, "VALUE": ""},
                {"ID": 14, "VALUE": "+3"},
                {"VALUE": "+4", "DELETE": "Y"},
                {"VALUE": "+5"}
            ]}),
            Mode::Update,
        );
        assert_eq!(
            i.multifields,
            vec![
                MultifieldOp::Change {
                    type_id: "PHONE",
                    id: 11,
                    value_type: Some("HOME".into()),
                    value: "+2".into()
                },
                MultifieldOp::Delete {
                    type_id: "PHONE",
                    id: 12
                },
                MultifieldOp::Delete {
                    type_id: "PHONE",
                    id: 13
                },
                MultifieldOp::Change {
                    type_id: "PHONE",
                    id: 14,
                    value_type: None,
                    value: "+3".into()
                },
                MultifieldOp::Add {
                    type_id: "PHONE",
                    value_type: "WORK".into(),
                    value: "+5".into()
                },
            ]
        );
    }

    #[test]
    fn non_array_fields_yield_nothing() {
        assert_eq!(norm(json!("TITLE"), ADD), Input::default());
        assert_eq!(norm(json!(["x"]), ADD), Input::default());
    }
}
