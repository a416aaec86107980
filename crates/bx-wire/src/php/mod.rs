//! Everything PHP-shaped about the wire: `parse_str` decoding, `http_build_query` encoding and
//! PHP's scalar conversions, so values are read the way the PHP original reads them.

mod parse;
mod scalar;

pub use parse::{parse_pairs, parse_str, MAX_NESTING};
pub use scalar::{floatval, intval, intval_str, to_php_string, truthy};

pub(crate) use parse::parse_bytes;

use serde_json::Value;

use crate::Params;

/// PHP `http_build_query` with its defaults (RFC 1738: space → `+`, brackets percent-encoded,
/// nested keys `a%5Bb%5D`). As in PHP, `null` and empty arrays produce nothing, `true`/`false`
/// become `1`/`0` and floats print with 14 significant digits.
pub fn http_build_query(v: &Params) -> String {
    let mut parts = Vec::new();
    for (key, value) in v {
        encode_into(&mut parts, urlencode(key), value);
    }
    parts.join("&")
}

fn encode_into(parts: &mut Vec<String>, key: String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(b) => parts.push(format!("{key}={}", u8::from(*b))),
        Value::Number(_) | Value::String(_) => {
            parts.push(format!("{key}={}", urlencode(&to_php_string(value))))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                encode_into(parts, format!("{key}%5B{i}%5D"), item);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                encode_into(parts, format!("{key}%5B{}%5D", urlencode(k)), item);
            }
        }
    }
}

/// PHP `urlencode`: alphanumerics and `-_.` stay, space is `+`, every other byte is `%XX`.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    /// Expected text from php-cli 8.2 `http_build_query([...])`.
    #[test]
    fn matches_php_output() {
        let v = params(json!({
            "a": 0.1 + 0.2, "b": 1e20, "c": 2.0, "d": true, "e": false, "f": null, "g": [],
            "j": 1.5e-7, "l": {"x": {"y": "~ *é.-_"}}, "m": ["a", "b"], "a b.c": "1"
        }));
        assert_eq!(
            http_build_query(&v),
            "a=0.3&b=1.0E%2B20&c=2&d=1&e=0&j=1.5E-7&l%5Bx%5D%5By%5D=%7E+%2A%C3%A9.-_&m%5B0%5D=a&m%5B1%5D=b&a+b.c=1"
        );
    }

    #[test]
    fn round_trips_through_parse_str() {
        let v = params(
            json!({"fields": {"TITLE": "John & Martin", "PHONE": [{"VALUE": "+7 (900)", "VALUE_TYPE": "WORK"}]},
                              "filter": {">=DATE": "2024-01-01", "%NAME": "a=b"}}),
        );
        let back = parse_str(&http_build_query(&v)).unwrap();
        assert_eq!(
            Value::Object(back).to_string(),
            Value::Object(v).to_string()
        );
    }
}
