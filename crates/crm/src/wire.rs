//! Wire-level helpers for the engine: parameter names and PHP conversions come from
//! `bx_wire::{names, php}`; the few value helpers `bx_wire` has no use for live here.

use bx_wire::names;
use bx_wire::Params;
use serde_json::Value;

use bx_wire::php::to_php_string;
pub use bx_wire::php::{floatval, intval};

/// An array parameter of a legacy method (`fields`, `order`, ...). A JSON `null` counts as absent,
/// as PHP's `isset` does in Bitrix24's resolver.
pub fn legacy<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    names::legacy(p, name).filter(|v| !v.is_null())
}

/// A scalar parameter of a legacy method (`entityId`, ...); `null` counts as absent.
pub fn scalar<'a>(p: &'a Params, name: &str) -> Option<&'a Value> {
    names::scalar(p, name).filter(|v| !v.is_null())
}

/// The legacy `id` after `intval`. Containers count as invalid rather than PHP's
/// `intval([..]) == 1`, which would silently address record 1.
pub fn id(p: &Params) -> i64 {
    match names::id(p) {
        Some(Value::Array(_) | Value::Object(_)) | None => 0,
        Some(v) => intval(v),
    }
}

/// The pagination offset (`-1` kept, other negatives 0).
pub fn start(p: &Params) -> i64 {
    names::start(p)
}

/// PHP `strval` for scalars; `None` for null and containers (where PHP would say `Array`).
pub fn strval(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        other => Some(to_php_string(other)),
    }
}

/// A Y/N flag as legacy input spells it: `Y`/`N`, `y`/`n`, `true`/`false`, `1`/`0` (strings,
/// JSON booleans or numbers). `None` for anything else.
pub fn yes_no(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "y" | "true" | "1" => Some(true),
            "n" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A flag of the legacy `params` object: true when upper-cased it equals `Y`.
pub fn param_flag(params: Option<&Value>, name: &str) -> bool {
    params
        .and_then(|p| php_get(p, name))
        .and_then(strval)
        .is_some_and(|s| s.eq_ignore_ascii_case("Y"))
}

/// `$array[$key]` on a PHP array that arrived as a JSON object or list.
pub fn php_get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

/// The entries of a PHP array (a JSON object, or a list with its indexes as keys); `None` when
/// the value is not an array at all.
pub fn php_entries(v: &Value) -> Option<Vec<(String, &Value)>> {
    match v {
        Value::Object(m) => Some(m.iter().map(|(k, v)| (k.clone(), v)).collect()),
        Value::Array(a) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
        ),
        _ => None,
    }
}

/// The values of a PHP array; `None` when the value is not an array.
pub fn php_values(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Object(m) => Some(m.values().collect()),
        Value::Array(a) => Some(a.iter().collect()),
        _ => None,
    }
}

pub fn is_php_array(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Array(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn floatval_and_strval() {
        assert_eq!(strval(&json!(12)), Some("12".into()));
        assert_eq!(strval(&json!(1.0)), Some("1".into()));
        assert_eq!(strval(&json!(1.5)), Some("1.5".into()));
        assert_eq!(strval(&json!(false)), Some(String::new()));
        assert_eq!(strval(&json!([1])), None);
    }

    #[test]
    fn yes_no_accepts_the_documented_spellings() {
        for v in [
            json!("Y"),
            json!("y"),
            json!("true"),
            json!("1"),
            json!(true),
            json!(1),
        ] {
            assert_eq!(yes_no(&v), Some(true), "{v}");
        }
        for v in [
            json!("N"),
            json!("n"),
            json!("false"),
            json!("0"),
            json!(false),
            json!(0),
        ] {
            assert_eq!(yes_no(&v), Some(false), "{v}");
        }
        assert_eq!(yes_no(&json!("maybe")), None);
    }

    #[test]
    fn null_parameters_count_as_absent() {
        let p = params(json!({"fields": null, "filter": {"a": 1}}));
        assert_eq!(legacy(&p, "fields"), None);
        assert_eq!(legacy(&p, "filter"), Some(&json!({"a": 1})));
    }

    #[test]
    fn id_is_intval_of_id_or_lowercase_id() {
        assert_eq!(id(&params(json!({"id": "15abc"}))), 15);
        assert_eq!(id(&params(json!({"ID": 7}))), 7);
        assert_eq!(id(&params(json!({"Id": 7}))), 0);
        assert_eq!(id(&params(json!({"id": [3]}))), 0);
    }

    #[test]
    fn params_flags() {
        let p = json!({"REGISTER_SONET_EVENT": "y", "IMPORT": "N"});
        assert!(param_flag(Some(&p), "REGISTER_SONET_EVENT"));
        assert!(!param_flag(Some(&p), "IMPORT"));
        assert!(!param_flag(None, "IMPORT"));
    }
}
