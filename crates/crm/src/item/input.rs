//! `fields` of `crm.item.add`/`update` (spec/entities.md §6.3) rewritten into the legacy shape
//! the engine normalises: UPPER names, item value rules (empty → null, booleans), `fm` elements
//! as `PHONE`/`EMAIL`/… lists. Unknown and disabled keys are ignored; there is no `TRACE`.

use super::names::{self, Name};
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::wire;
use bx_wire::ApiError;
use serde_json::{Map, Value};

/// PHP's `gettype` word for a scalar, as the multiple-field error names it.
fn php_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "double",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "array",
    }
}

/// The item API's "empty value": `""`, `null`, `0`, `"0"`, `[]` (sets the field to null).
fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "0",
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Bool(_) => false,
    }
}

/// `true`, `"true"`, `"Y"`, `"y"` are yes; anything else is no.
fn yes(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.as_str(), "Y" | "y" | "true"),
        _ => false,
    }
}

/// One value in the legacy spelling of its field.
fn field_value(def: &FieldDef, value: &Value) -> Result<Value, ApiError> {
    if def.multiple {
        // A binding list (`contactIds`): a list, or an empty value that clears it.
        return if wire::is_php_array(value) {
            Ok(value.clone())
        } else if is_empty_value(value) {
            Ok(Value::Array(vec![]))
        } else {
            Err(ApiError::expected_iterable(php_type(value)))
        };
    }
    Ok(match def.kind {
        FieldKind::Char => Value::String(if yes(value) { "Y" } else { "N" }.into()),
        // A number's 0 is a value, not "empty" (an amount of 0 must be storable).
        FieldKind::Integer | FieldKind::Double => match value {
            Value::String(s) if s.trim().is_empty() => Value::Null,
            other => other.clone(),
        },
        _ if is_empty_value(value) => Value::Null,
        _ => value.clone(),
    })
}

/// The `fm` elements as legacy multifield elements by type. On add every element is new; on
/// update an element keyed by a positive number changes (or, with an empty value, deletes) the
/// value with that id, other keys (`n0`, …) add. Elements without a known `typeId` are skipped.
fn multifields(kind: EntityKind, fm: &Value, adding: bool) -> Vec<(&'static str, Value)> {
    // Ids come only from the keys of an object: the indexes of a JSON list are not ids.
    let keyed = matches!(fm, Value::Object(_));
    let mut out = Vec::new();
    for (key, element) in wire::php_entries(fm).unwrap_or_default() {
        if !wire::is_php_array(element) {
            continue;
        }
        let get =
            |a: &str, b: &str| wire::php_get(element, a).or_else(|| wire::php_get(element, b));
        let Some(type_id) = get("typeId", "TYPE_ID")
            .and_then(wire::strval)
            .map(|t| t.trim().to_ascii_uppercase())
            .and_then(|t| {
                kind.field(&t)
                    .filter(|f| f.kind == FieldKind::CrmMultifield)
                    .map(|f| f.name)
            })
        else {
            continue;
        };
        let mut legacy = Map::new();
        if !adding && keyed {
            if let Ok(id) = key.trim().parse::<i64>() {
                if id > 0 {
                    legacy.insert("ID".into(), Value::from(id));
                }
            }
        }
        if let Some(v) = get("value", "VALUE") {
            legacy.insert("VALUE".into(), v.clone());
        }
        if let Some(v) = get("valueType", "VALUE_TYPE") {
            legacy.insert("VALUE_TYPE".into(), v.clone());
        }
        out.push((type_id, Value::Object(legacy)));
    }
    out
}

/// Rewrites item `fields` (a PHP array) into legacy `fields` for `input::normalize`.
pub fn to_legacy_fields(kind: EntityKind, fields: &Value, adding: bool) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for (key, value) in wire::php_entries(fields).unwrap_or_default() {
        match names::resolve(kind, &key) {
            Name::Field(def) => {
                out.insert(def.name.to_string(), field_value(def, value)?);
            }
            Name::Uf(name) => {
                out.insert(name, value.clone());
            }
            Name::Fm => {
                for (type_id, element) in multifields(kind, value, adding) {
                    if let Value::Array(list) =
                        out.entry(type_id).or_insert_with(|| Value::Array(vec![]))
                    {
                        list.push(element);
                    }
                }
            }
            // "An incorrect field in `fields` will be ignored" — `trace` among them.
            Name::Disabled(_) | Name::Unknown(_) => {}
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn legacy(v: Value, adding: bool) -> Value {
        to_legacy_fields(EntityKind::Lead, &v, adding).expect("converts")
    }

    #[test]
    fn names_values_and_ignored_keys() {
        let got = legacy(
            json!({
                "title": "T", "STATUS_ID": "NEW", "stageId": "IN_PROCESS", "utmSource": "google",
                "opened": "y", "isManualOpportunity": 1, "hasPhone": true,
                "name": "", "companyId": 0, "assignedById": "0", "opportunity": 0, "post": [],
                "trace": "{}", "TRACE": "{}", "isConvert": "Y", "address": "x", "nope": 1,
                "ufCrm_NOTE": "n", "UF_CRM_OTHER": 0
            }),
            true,
        );
        assert_eq!(
            got,
            json!({
                "TITLE": "T", "STATUS_ID": "IN_PROCESS", "UTM_SOURCE": "google",
                "OPENED": "Y", "IS_MANUAL_OPPORTUNITY": "N", "HAS_PHONE": "Y",
                "NAME": null, "COMPANY_ID": null, "ASSIGNED_BY_ID": null, "OPPORTUNITY": 0, "POST": null,
                "UF_CRM_NOTE": "n", "UF_CRM_OTHER": 0
            })
        );
    }

    #[test]
    fn multiple_fields_need_a_list() {
        assert_eq!(
            legacy(json!({"contactIds": [3, 4]}), true),
            json!({"CONTACT_IDS": [3, 4]})
        );
        assert_eq!(
            legacy(json!({"contactIds": ""}), true),
            json!({"CONTACT_IDS": []})
        );
        for (v, ty) in [
            (json!(5), "integer"),
            (json!("5"), "string"),
            (json!(true), "boolean"),
            (json!(1.5), "double"),
        ] {
            let e =
                to_legacy_fields(EntityKind::Lead, &json!({"contactIds": v}), true).unwrap_err();
            assert_eq!(
                (e.code(), e.description().to_string()),
                (
                    "100",
                    format!("Expected iterable value for multiple field, but got {ty} instead")
                )
            );
        }
    }

    #[test]
    fn multifields_on_add_and_update() {
        let fm = json!([
            {"typeId": "PHONE", "valueType": "WORK", "value": "+1"},
            {"typeId": "email", "value": "a@b.c"},
            {"valueType": "WORK", "value": "no type"},
            {"typeId": "NOPE", "value": "x"},
            "junk"
        ]);
        assert_eq!(
            legacy(json!({"fm": fm}), true),
            json!({"PHONE": [{"VALUE": "+1", "VALUE_TYPE": "WORK"}], "EMAIL": [{"VALUE": "a@b.c"}]})
        );
        // A list on update only adds.
        assert_eq!(
            legacy(json!({"fm": fm}), false),
            legacy(json!({"fm": fm}), true)
        );
        let fm = json!({
            "n0": {"typeId": "PHONE", "value": "+2"},
            "15": {"typeId": "PHONE", "valueType": "HOME", "value": "+3"},
            "16": {"typeId": "EMAIL", "value": ""},
            "17": {"value": "skipped"}
        });
        assert_eq!(
            legacy(json!({"fm": fm}), false),
            json!({
                "PHONE": [{"VALUE": "+2"}, {"ID": 15, "VALUE": "+3", "VALUE_TYPE": "HOME"}],
                "EMAIL": [{"ID": 16, "VALUE": ""}]
            })
        );
        // On add, ids mean nothing.
        assert_eq!(
            legacy(
                json!({"fm": {"15": {"TYPE_ID": "PHONE", "VALUE": "+3"}}}),
                true
            ),
            json!({"PHONE": [{"VALUE": "+3"}]})
        );
    }
}
