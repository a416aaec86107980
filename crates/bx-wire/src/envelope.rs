//! The success envelope (`result`, `total`, `next`, `time`) and the PHP-array JSON shapes and
//! date format it is written in (spec/transport.md §7).

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::Output;

/// The `time` object of a response or of one batch command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Time {
    /// Unix seconds (with microseconds) when processing started.
    pub start: f64,
    pub finish: f64,
    /// Seconds spent inside the method itself.
    pub processing: f64,
    /// Accumulated operating seconds of this method for this caller in the 10-minute window.
    pub operating: f64,
    /// Unix seconds when the oldest operating basket expires.
    pub operating_reset_at: i64,
}

impl Time {
    /// All eight keys, always, in Bitrix's order: the PHP SDK reads the first six
    /// unconditionally and the JS SDK throttles on the `operating*` pair.
    pub fn to_value(&self, offset: FixedOffset) -> Value {
        let mut m = Map::new();
        m.insert("start".into(), php_float(self.start));
        m.insert("finish".into(), php_float(self.finish));
        m.insert("duration".into(), php_float(self.finish - self.start));
        m.insert("processing".into(), php_float(self.processing));
        m.insert(
            "date_start".into(),
            Value::String(format_datetime(self.start.floor() as i64, offset)),
        );
        m.insert(
            "date_finish".into(),
            Value::String(format_datetime(self.finish.floor() as i64, offset)),
        );
        m.insert(
            "operating_reset_at".into(),
            Value::from(self.operating_reset_at),
        );
        m.insert("operating".into(), php_float(self.operating));
        Value::Object(m)
    }
}

/// A float as PHP's `json_encode` writes it: an integral value prints without a fraction
/// (`"operating": 0`, as on the wire), anything else as the float it is.
fn php_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

/// Now as Unix seconds with microsecond precision, like PHP's `microtime(true)`.
pub fn unix_now() -> f64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since.as_micros() as f64 / 1e6
}

/// `{"result", "total"?, "next"?, "time"}` in that order. Never an `error` key: several clients
/// treat its mere presence as failure, even on HTTP 200.
pub fn success(out: &Output, time: Value) -> Value {
    let mut m = Map::new();
    m.insert("result".into(), out.result.clone());
    if let Some(total) = out.total {
        m.insert("total".into(), Value::from(total));
    }
    if let Some(next) = out.next {
        m.insert("next".into(), Value::from(next));
    }
    m.insert("time".into(), time);
    Value::Object(m)
}

/// A PHP array as PHP's `json_encode` shapes it (spec/transport.md §7.1): empty → `[]`, keys
/// exactly `"0"`..`"n-1"` in order → a list, anything else (including integer keys with gaps)
/// → an object. A repeated key keeps its first position and its last value, as in PHP.
pub fn php_array(entries: Vec<(String, Value)>) -> Value {
    let is_list = entries
        .iter()
        .enumerate()
        .all(|(i, (k, _))| *k == i.to_string());
    if is_list {
        Value::Array(entries.into_iter().map(|(_, v)| v).collect())
    } else {
        Value::Object(entries.into_iter().collect())
    }
}

/// ISO 8601 with a numeric offset and seconds precision (PHP `Y-m-d\TH:i:sP`):
/// `2024-06-13T18:23:54+02:00`, and `+00:00` for UTC, never `Z` (b24pysdk parses it with
/// `datetime.fromisoformat`, which older Pythons refuse with `Z`).
pub fn format_datetime(unix: i64, offset: FixedOffset) -> String {
    // Out-of-range timestamps cannot come from a clock; the epoch keeps this total.
    let utc = DateTime::from_timestamp(unix, 0).unwrap_or_default();
    utc.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).expect("valid offset")
    }

    #[test]
    fn dates_carry_a_numeric_offset() {
        let plus2 = FixedOffset::east_opt(2 * 3600).expect("valid offset");
        assert_eq!(
            format_datetime(1718295834, plus2),
            "2024-06-13T18:23:54+02:00"
        );
        assert_eq!(
            format_datetime(1718295834, utc()),
            "2024-06-13T16:23:54+00:00"
        );
        let minus = FixedOffset::west_opt(3 * 3600 + 1800).expect("valid offset");
        assert_eq!(format_datetime(0, minus), "1969-12-31T20:30:00-03:30");
        assert_eq!(
            format_datetime(i64::MAX, utc()),
            "1970-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn time_has_eight_keys_in_order() {
        let t = Time {
            start: 1718292234.554781,
            finish: 1718292234.657739,
            processing: 0.05,
            operating: 0.0,
            operating_reset_at: 1718292834,
        };
        let v = t.to_value(FixedOffset::east_opt(7200).expect("valid offset"));
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "start",
                "finish",
                "duration",
                "processing",
                "date_start",
                "date_finish",
                "operating_reset_at",
                "operating"
            ]
        );
        assert_eq!(v["start"], json!(1718292234.554781));
        assert_eq!(v["finish"], json!(1718292234.657739));
        assert!((v["duration"].as_f64().unwrap() - 0.102958).abs() < 1e-6);
        assert_eq!(v["processing"], json!(0.05));
        assert_eq!(v["date_start"], "2024-06-13T17:23:54+02:00");
        assert_eq!(v["date_finish"], "2024-06-13T17:23:54+02:00");
        assert_eq!(v["operating_reset_at"], json!(1718292834));
        assert!(v["operating_reset_at"].is_i64());
        assert!(
            v["operating"].is_i64(),
            "integral floats print like PHP: 0, not 0.0"
        );
        assert!(v.to_string().ends_with(r#""operating":0}"#));
    }

    #[test]
    fn now_is_plausible_and_microsecond_precise() {
        let now = unix_now();
        assert!(now > 1.7e9);
        assert_eq!((now * 1e6).round() / 1e6, now);
    }

    #[test]
    fn success_envelope_layout() {
        let time = json!({"start": 1});
        let list = success(
            &Output::list(json!([{"ID": "1"}]), 654, Some(50)),
            time.clone(),
        );
        assert_eq!(
            list.to_string(),
            r#"{"result":[{"ID":"1"}],"total":654,"next":50,"time":{"start":1}}"#
        );
        let last = success(&Output::list(json!([]), 3, None), time.clone());
        assert_eq!(
            last.to_string(),
            r#"{"result":[],"total":3,"time":{"start":1}}"#
        );
        let single = success(&Output::from(json!(true)), time);
        assert_eq!(single.to_string(), r#"{"result":true,"time":{"start":1}}"#);
        assert!(single.get("error").is_none());
    }

    #[test]
    fn php_array_shapes() {
        assert_eq!(php_array(vec![]), json!([]));
        let list = php_array(vec![("0".into(), json!("a")), ("1".into(), json!("b"))]);
        assert_eq!(list, json!(["a", "b"]));
        let gap = php_array(vec![("0".into(), json!("a")), ("2".into(), json!("c"))]);
        assert_eq!(gap.to_string(), r#"{"0":"a","2":"c"}"#);
        let swapped = php_array(vec![("1".into(), json!("b")), ("0".into(), json!("a"))]);
        assert_eq!(swapped.to_string(), r#"{"1":"b","0":"a"}"#);
        let named = php_array(vec![("cmd_0".into(), json!(1))]);
        assert_eq!(named.to_string(), r#"{"cmd_0":1}"#);
        assert_eq!(
            php_array(vec![("00".into(), json!(1))]).to_string(),
            r#"{"00":1}"#
        );
        let dup = php_array(vec![
            ("a".into(), json!(1)),
            ("b".into(), json!(2)),
            ("a".into(), json!(3)),
        ]);
        assert_eq!(dup.to_string(), r#"{"a":3,"b":2}"#);
    }
}
