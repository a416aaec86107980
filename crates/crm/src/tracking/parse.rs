//! Reading a TRACE: the tracker's JSON (`b24Tracker.guest.getTrace()`, §4) and the older docs
//! form (`SOURCE_ID`, `SOURCE_DESC`, `PAGES`, §3 extension) into a `ParsedTrace`, with size caps.
//!
//! Only the documented keys are read; anything else is ignored. Every value is untrusted: the
//! text, the pages and every string have caps, and going past one is an error that names it.

use super::{Page, TraceChannel, Utm, CHANNELS};
use bx_wire::php::{intval, to_php_string, truthy};
use serde_json::{Map, Value};

/// Largest TRACE accepted, in bytes of JSON text (a tracker trace is 1–3 KiB).
pub const MAX_TRACE_BYTES: usize = 64 * 1024;
/// Pages per trace (the tracker keeps 5; the old form may list more).
pub const MAX_PAGES: usize = 50;
/// `channels[]` entries per trace.
pub const MAX_CHANNELS: usize = 20;
/// Earlier journeys kept from `previous.list` (the last ones, as Bitrix24 does).
pub const MAX_PREVIOUS: usize = 5;
/// Characters of a URL (`url`, `ref`, page URLs).
pub const MAX_URL_CHARS: usize = 2048;
/// Characters of every other string (UTM values, titles, ids, channel values, `SOURCE_DESC`).
pub const MAX_TEXT_CHARS: usize = 256;
/// Keys of `client` kept.
pub const MAX_CLIENT_IDS: usize = 10;

/// Why a TRACE was refused. The first two are Bitrix24's texts (`crm.tracking.trace.add`
/// errors 1 and 2); the rest are ours, for the caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceError {
    Required,
    Json,
    TooLarge,
    TooManyPages { path: String },
    TooManyChannels,
    TooLong { path: String, max: usize },
}

impl TraceError {
    pub fn description(&self) -> String {
        match self {
            TraceError::Required => "Parameter `TRACE` required.".into(),
            TraceError::Json => "Can not parse JSON in parameter `TRACE`.".into(),
            TraceError::TooLarge => {
                format!("Parameter `TRACE` is too large: at most {MAX_TRACE_BYTES} bytes.")
            }
            TraceError::TooManyPages { path } => {
                format!("Too many pages in `{path}` of parameter `TRACE`: at most {MAX_PAGES}.")
            }
            TraceError::TooManyChannels => format!(
                "Too many channels in `channels` of parameter `TRACE`: at most {MAX_CHANNELS}."
            ),
            TraceError::TooLong { path, max } => {
                format!("Value of `{path}` in parameter `TRACE` is longer than {max} characters.")
            }
        }
    }
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

/// A trace as read from JSON, before its source is resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedTrace {
    pub url: Option<String>,
    pub referrer: Option<String>,
    pub is_mobile: bool,
    /// `tags.ts`: when the tags were captured (Unix seconds).
    pub captured_at: Option<i64>,
    pub utm: Utm,
    pub gclid: Option<String>,
    /// The `client` object (analytics client ids), scalar values only.
    pub client_ids: Option<Map<String, Value>>,
    /// `pages.list` then the old form's `PAGES`; the referrer page is added when the trace is built.
    pub pages: Vec<Page>,
    pub guest_id: Option<String>,
    /// Known channel codes from `channels[]`.
    pub channels: Vec<TraceChannel>,
    /// `previous.list`: earlier journeys (at most `MAX_PREVIOUS`, each without its own previous).
    pub previous: Vec<ParsedTrace>,
    /// `SOURCE_ID` of the old form: a source id or code (extension).
    pub explicit_source: Option<String>,
    /// `SOURCE_DESC` of the old form (extension).
    pub source_description: Option<String>,
}

/// The TRACE parameter as given: a JSON text, or (extension) an already decoded object.
/// Returns the document and the text to keep for audit. `null`, `""` and blank text are
/// `Required`; JSON `null` and unparsable text are `Json`.
pub fn decode(param: Option<&Value>) -> Result<(Value, String), TraceError> {
    let text = match param {
        None | Some(Value::Null) => return Err(TraceError::Required),
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            let text = v.to_string();
            if text.len() > MAX_TRACE_BYTES {
                return Err(TraceError::TooLarge);
            }
            return Ok((v.clone(), text));
        }
        Some(v) => to_php_string(v),
    };
    if text.trim().is_empty() {
        return Err(TraceError::Required);
    }
    if text.len() > MAX_TRACE_BYTES {
        return Err(TraceError::TooLarge);
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Null) | Err(_) => Err(TraceError::Json),
        Ok(doc) => Ok((doc, text)),
    }
}

/// PHP's "empty" values count as missing (§4.3): `""`, `"0"`, `0`, `false`, `null`, `[]`, `{}`.
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| truthy(v))
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = match cur {
            Value::Object(m) => m.get(*key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    present(Some(cur))
}

/// The elements of a JSON list, or of an object used as one (`{"0": …, "1": …}` from forms).
fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => m.values().collect(),
        _ => vec![],
    }
}

/// A scalar as text, capped; `None` for missing/empty values and for containers.
fn text(v: Option<&Value>, path: &str, max: usize) -> Result<Option<String>, TraceError> {
    let Some(v) = present(v) else {
        return Ok(None);
    };
    if matches!(v, Value::Array(_) | Value::Object(_)) {
        return Ok(None);
    }
    let s = to_php_string(v).trim().to_string();
    if s.chars().count() > max {
        return Err(TraceError::TooLong {
            path: path.to_string(),
            max,
        });
    }
    Ok((!s.is_empty()).then_some(s))
}

/// Reads a trace document. A document that is not an object is an empty trace (decision of §2.1).
pub fn parse(doc: &Value) -> Result<ParsedTrace, TraceError> {
    parse_at(doc, "", true)
}

fn parse_at(doc: &Value, prefix: &str, with_previous: bool) -> Result<ParsedTrace, TraceError> {
    let mut t = ParsedTrace::default();
    let Value::Object(obj) = doc else {
        return Ok(t);
    };
    let path = |p: &str| format!("{prefix}{p}");

    t.url = text(obj.get("url"), &path("url"), MAX_URL_CHARS)?;
    t.referrer = text(obj.get("ref"), &path("ref"), MAX_URL_CHARS)?;
    t.is_mobile = at(doc, &["device", "isMobile"]).is_some();
    t.guest_id = text(obj.get("gid"), &path("gid"), MAX_TEXT_CHARS)?;

    if let Some(ts) = at(doc, &["tags", "ts"]) {
        t.captured_at = Some(intval(ts)).filter(|ts| *ts > 0);
    }
    t.gclid = text(
        at(doc, &["tags", "gclid"]),
        &path("tags.gclid"),
        MAX_TEXT_CHARS,
    )?;
    if let Some(Value::Object(list)) = at(doc, &["tags", "list"]) {
        for (key, value) in list {
            let field = key.to_ascii_uppercase();
            if !super::UTM_FIELDS.contains(&field.as_str()) {
                continue;
            }
            let v = text(
                Some(value),
                &path(&format!("tags.list.{key}")),
                MAX_TEXT_CHARS,
            )?;
            t.utm.set(&field, v);
        }
    }

    if let Some(Value::Object(client)) = at(doc, &["client"]) {
        let mut ids = Map::new();
        for (key, value) in client.iter().take(MAX_CLIENT_IDS) {
            if key.chars().count() > MAX_TEXT_CHARS {
                continue;
            }
            if let Some(v) = text(Some(value), &path(&format!("client.{key}")), MAX_TEXT_CHARS)? {
                ids.insert(key.clone(), Value::String(v));
            }
        }
        t.client_ids = (!ids.is_empty()).then_some(ids);
    }

    if let Some(list) = at(doc, &["pages", "list"]) {
        let entries = elements(list);
        if entries.len() > MAX_PAGES {
            return Err(TraceError::TooManyPages {
                path: path("pages.list"),
            });
        }
        for (i, entry) in entries.into_iter().enumerate() {
            let p = |j: usize| path(&format!("pages.list[{i}][{j}]"));
            let Some(url) = text(at(entry, &["0"]), &p(0), MAX_URL_CHARS)? else {
                continue;
            };
            t.pages.push(Page {
                url,
                visited_at: at(entry, &["1"]).map(intval).filter(|ts| *ts > 0),
                title: text(at(entry, &["2"]), &p(2), MAX_TEXT_CHARS)?.unwrap_or_default(),
                is_referrer: false,
            });
        }
    }

    if let Some(list) = present(obj.get("channels")) {
        let entries = elements(list);
        if entries.len() > MAX_CHANNELS {
            return Err(TraceError::TooManyChannels);
        }
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(code) = text(
                at(entry, &["code"]),
                &path(&format!("channels[{i}].code")),
                MAX_TEXT_CHARS,
            )?
            else {
                continue;
            };
            if !CHANNELS.iter().any(|(c, _)| *c == code) {
                continue;
            }
            let value = text(
                at(entry, &["value"]),
                &path(&format!("channels[{i}].value")),
                MAX_TEXT_CHARS,
            )?;
            let channel = TraceChannel { code, value };
            if !t.channels.contains(&channel) {
                t.channels.push(channel);
            }
        }
    }

    // The older documented form (extension, §3).
    t.explicit_source = text(obj.get("SOURCE_ID"), &path("SOURCE_ID"), MAX_TEXT_CHARS)?;
    t.source_description = text(obj.get("SOURCE_DESC"), &path("SOURCE_DESC"), MAX_TEXT_CHARS)?;
    if let Some(list) = present(obj.get("PAGES")) {
        let entries = elements(list);
        if t.pages.len() + entries.len() > MAX_PAGES {
            return Err(TraceError::TooManyPages {
                path: path("PAGES"),
            });
        }
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(url) = text(
                at(entry, &["URL"]),
                &path(&format!("PAGES[{i}].URL")),
                MAX_URL_CHARS,
            )?
            else {
                continue;
            };
            let date = text(
                at(entry, &["DATE"]),
                &path(&format!("PAGES[{i}].DATE")),
                MAX_TEXT_CHARS,
            )?;
            t.pages.push(Page {
                url,
                visited_at: date.as_deref().and_then(parse_iso8601),
                title: String::new(),
                is_referrer: false,
            });
        }
    }

    if with_previous {
        if let Some(list) = at(doc, &["previous", "list"]) {
            let entries = elements(list);
            let skip = entries.len().saturating_sub(MAX_PREVIOUS);
            for (i, entry) in entries.into_iter().enumerate().skip(skip) {
                let child = parse_at(entry, &path(&format!("previous.list[{i}].")), false)?;
                t.previous.push(child);
            }
        }
    }
    Ok(t)
}

/// An ISO 8601 / RFC 3339 time as Unix seconds (a date alone is midnight UTC).
fn parse_iso8601(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(t.timestamp());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc().timestamp());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> ParsedTrace {
        parse(&v).unwrap()
    }

    /// The live trace quoted in §4.1 (two of its pages elided there, one here).
    const LIVE: &str = r#"{"url":"https://bk-invent.ru/","ref":"https://www.yandex.ru/clck/jsredir?from=yandex.ru;suggest;browser&text=","device":{"isMobile":false},"tags":{"ts":1579501926,"list":{},"gclid":null},"client":{"gaId":"209629315.1579004207","yaId":"1564470991512487271"},"pages":{"list":[["https://bk-invent.ru/individualnoe-proektirovanie-domov-i-zdanij?sas",1579002149,"Индивидуальное проектирование домов и зд"],["https://bk-invent.ru/",1579598267,"ГРУППА КОМПАНИЙ «БК ИНВЕНТ»"]]},"gid":null,"previous":{"list":[]}}"#;

    #[test]
    fn the_live_tracker_trace() {
        let (doc, text) = decode(Some(&json!(LIVE))).unwrap();
        assert_eq!(text, LIVE);
        let t = parse(&doc).unwrap();
        assert_eq!(t.url.as_deref(), Some("https://bk-invent.ru/"));
        assert!(t
            .referrer
            .as_deref()
            .unwrap()
            .starts_with("https://www.yandex.ru/clck"));
        assert!(!t.is_mobile);
        assert_eq!(t.captured_at, Some(1579501926));
        assert!(t.utm.is_empty());
        assert_eq!(t.gclid, None);
        assert_eq!(t.guest_id, None);
        assert_eq!(
            Value::Object(t.client_ids.clone().unwrap()),
            json!({"gaId": "209629315.1579004207", "yaId": "1564470991512487271"})
        );
        assert_eq!(t.pages.len(), 2);
        assert_eq!(t.pages[0].visited_at, Some(1579002149));
        assert_eq!(t.pages[1].title, "ГРУППА КОМПАНИЙ «БК ИНВЕНТ»");
        assert!(t.previous.is_empty());
    }

    #[test]
    fn the_full_tracker_format() {
        let t = parsed(json!({
            "url": "https://site.example/page?utm_source=google",
            "ref": "https://www.google.com/",
            "device": {"isMobile": true},
            "tags": {"ts": "1579501926", "list": {"utm_source": "google", "utm_medium": "cpc", "UTM_CAMPAIGN": "spring",
                     "utm_content": "", "utm_term": 5, "utm_other": "x", "gclid": "ignored here"}, "gclid": "EAIaIQ"},
            "client": {"gaId": "1.2", "nested": {"x": 1}, "yaId": 77},
            "pages": {"list": [["https://site.example/a", 1579002149, "A"], ["", 1, "no url"], ["https://site.example/b"]]},
            "gid": 42,
            "previous": {"list": [
                {"url": "https://site.example/old", "tags": {"ts": 1500000000, "list": {"utm_source": "fb"}},
                 "previous": {"list": [{"url": "https://deeper.example/"}]}}
            ]},
            "channels": [{"code": "order", "value": "ORDER-123"}, {"code": "nope", "value": "x"}, {"code": "rest"}],
            "order": {"id": "ORDER-123", "sum": 1500.0},
            "unknown": {"whatever": true}
        }));
        assert!(t.is_mobile);
        assert_eq!(t.captured_at, Some(1579501926));
        assert_eq!(t.utm.source.as_deref(), Some("google"));
        assert_eq!(t.utm.medium.as_deref(), Some("cpc"));
        assert_eq!(t.utm.campaign.as_deref(), Some("spring"));
        assert_eq!(t.utm.content, None);
        assert_eq!(t.utm.term.as_deref(), Some("5"));
        assert_eq!(t.gclid.as_deref(), Some("EAIaIQ"));
        assert_eq!(
            Value::Object(t.client_ids.clone().unwrap()),
            json!({"gaId": "1.2", "yaId": "77"})
        );
        assert_eq!(
            t.pages,
            vec![
                Page {
                    url: "https://site.example/a".into(),
                    visited_at: Some(1579002149),
                    title: "A".into(),
                    is_referrer: false
                },
                Page {
                    url: "https://site.example/b".into(),
                    visited_at: None,
                    title: String::new(),
                    is_referrer: false
                },
            ]
        );
        assert_eq!(t.guest_id.as_deref(), Some("42"));
        assert_eq!(
            t.channels,
            vec![
                TraceChannel::new("order", Some("ORDER-123")),
                TraceChannel::new("rest", None)
            ]
        );
        assert_eq!(t.previous.len(), 1);
        let old = &t.previous[0];
        assert_eq!(old.utm.source.as_deref(), Some("fb"));
        assert_eq!(old.captured_at, Some(1500000000));
        // A previous journey's own `previous` is not read.
        assert!(old.previous.is_empty());
    }

    #[test]
    fn only_the_last_five_previous_journeys() {
        let list: Vec<Value> = (0..8)
            .map(|i| json!({"url": format!("https://s.example/{i}")}))
            .collect();
        let t = parsed(json!({"previous": {"list": list}}));
        let urls: Vec<_> = t.previous.iter().map(|p| p.url.clone().unwrap()).collect();
        assert_eq!(
            urls,
            (3..8)
                .map(|i| format!("https://s.example/{i}"))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_old_documented_form() {
        let t = parsed(json!({
            "SOURCE_ID": "6", "SOURCE_DESC": "Direct sale",
            "PAGES": [{"URL": "https://example.com/", "DATE": "2024-04-03T10:26:32+03:00"},
                      {"URL": "https://example.com/b", "DATE": "yesterday"}, {"DATE": "2024-04-03"}]
        }));
        assert_eq!(t.explicit_source.as_deref(), Some("6"));
        assert_eq!(t.source_description.as_deref(), Some("Direct sale"));
        assert_eq!(t.pages.len(), 2);
        assert_eq!(t.pages[0].visited_at, Some(1712129192));
        assert_eq!(t.pages[1].visited_at, None);
        // Both forms mixed: tracker pages first.
        let t = parsed(json!({"pages": {"list": [["https://a.example/", 1, "A"]]},
                              "PAGES": [{"URL": "https://b.example/"}], "SOURCE_ID": "google"}));
        let urls: Vec<_> = t.pages.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/", "https://b.example/"]);
        assert_eq!(t.explicit_source.as_deref(), Some("google"));
    }

    #[test]
    fn falsy_values_are_missing_and_non_objects_are_empty() {
        let t = parsed(
            json!({"url": "", "ref": 0, "gid": false, "device": {"isMobile": "0"},
                              "tags": {"list": [], "ts": 0}, "pages": {"list": null}, "channels": []}),
        );
        assert_eq!(t, ParsedTrace::default());
        for doc in [json!([]), json!(123), json!("x"), json!(true)] {
            assert_eq!(parsed(doc), ParsedTrace::default());
        }
    }

    #[test]
    fn decoding_the_parameter() {
        assert_eq!(decode(None), Err(TraceError::Required));
        assert_eq!(decode(Some(&json!(null))), Err(TraceError::Required));
        assert_eq!(decode(Some(&json!(""))), Err(TraceError::Required));
        assert_eq!(decode(Some(&json!("  \n"))), Err(TraceError::Required));
        assert_eq!(decode(Some(&json!(false))), Err(TraceError::Required));
        assert_eq!(decode(Some(&json!("{bad"))), Err(TraceError::Json));
        assert_eq!(decode(Some(&json!("null"))), Err(TraceError::Json));
        assert_eq!(decode(Some(&json!("[]"))).unwrap().0, json!([]));
        assert_eq!(decode(Some(&json!(123))).unwrap().0, json!(123));
        // Extension: an already decoded object.
        let (doc, text) = decode(Some(&json!({"tags": {"list": {"utm_source": "x"}}}))).unwrap();
        assert_eq!(doc, json!({"tags": {"list": {"utm_source": "x"}}}));
        assert_eq!(text, r#"{"tags":{"list":{"utm_source":"x"}}}"#);
        let huge = format!("{{\"url\": \"{}\"}}", "a".repeat(MAX_TRACE_BYTES));
        assert_eq!(decode(Some(&json!(huge))), Err(TraceError::TooLarge));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(decode(Some(&json!(deep))), Err(TraceError::Json));
    }

    #[test]
    fn caps_are_errors_that_name_the_value() {
        let long_url = format!("https://x.example/{}", "a".repeat(MAX_URL_CHARS));
        let e = parse(
            &json!({"pages": {"list": [["https://ok.example/", 1, "t"], [long_url, 1, "t"]]}}),
        )
        .unwrap_err();
        assert_eq!(
            e.description(),
            "Value of `pages.list[1][0]` in parameter `TRACE` is longer than 2048 characters."
        );
        let e = parse(&json!({"tags": {"list": {"utm_source": "s".repeat(257)}}})).unwrap_err();
        assert_eq!(
            e.description(),
            "Value of `tags.list.utm_source` in parameter `TRACE` is longer than 256 characters."
        );
        // Characters, not bytes: 256 Cyrillic letters are fine.
        assert!(parse(&json!({"tags": {"list": {"utm_campaign": "ж".repeat(256)}}})).is_ok());
        let pages: Vec<Value> = (0..=MAX_PAGES)
            .map(|i| json!([format!("https://p/{i}"), 1, ""]))
            .collect();
        assert_eq!(
            parse(&json!({"pages": {"list": pages}}))
                .unwrap_err()
                .description(),
            "Too many pages in `pages.list` of parameter `TRACE`: at most 50."
        );
        let e = parse(&json!({"previous": {"list": [{"ref": "r".repeat(3000)}]}})).unwrap_err();
        assert_eq!(
            e,
            TraceError::TooLong {
                path: "previous.list[0].ref".into(),
                max: MAX_URL_CHARS
            }
        );
        let channels: Vec<Value> = (0..=MAX_CHANNELS)
            .map(|_| json!({"code": "rest"}))
            .collect();
        assert_eq!(
            parse(&json!({"channels": channels})).unwrap_err(),
            TraceError::TooManyChannels
        );
        assert_eq!(
            TraceError::TooLarge.description(),
            "Parameter `TRACE` is too large: at most 65536 bytes."
        );
    }

    #[test]
    fn form_encoded_lists_arrive_as_objects() {
        let t = parsed(
            json!({"pages": {"list": {"0": {"0": "https://a.example/", "1": "5", "2": "A"}}},
                              "channels": {"0": {"code": "form", "value": "7"}}}),
        );
        assert_eq!(t.pages[0].url, "https://a.example/");
        assert_eq!(t.pages[0].visited_at, Some(5));
        assert_eq!(t.channels, vec![TraceChannel::new("form", Some("7"))]);
    }
}
