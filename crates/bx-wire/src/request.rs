//! The parameter set of one call built from query string and body (spec/transport.md §3.1):
//! which body formats count, how JSON is read, and the top-level-only merge.

use serde_json::Value;

use crate::php::{self, MAX_NESTING};
use crate::{ApiError, Params};

/// Query parameters, then for POST the body: form → `parse_str`, JSON → [`from_json`], any other
/// or missing type → `parse_str` of the raw text. Multipart is the HTTP layer's job: it extracts
/// the text parts, runs [`php::parse_pairs`] and [`merge`]s the result the same way.
pub fn build_params(
    query: Option<&str>,
    is_post: bool,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Params, ApiError> {
    let query_params = match query {
        Some(q) => php::parse_str(q)?,
        None => Params::new(),
    };
    if !is_post {
        return Ok(query_params);
    }
    let mime = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let body_params = match mime.as_deref() {
        Some("application/json") => from_json(body)?,
        Some("application/x-www-form-urlencoded") => php::parse_bytes(body)?,
        // Bitrix reads an untyped body as a query string; binary that is not text cannot be
        // parameters, so it is ignored rather than refused.
        _ => match std::str::from_utf8(body) {
            Ok(text) => php::parse_str(text)?,
            Err(_) => Params::new(),
        },
    };
    Ok(merge(query_params, body_params))
}

/// A JSON body. Bitrix treats invalid JSON as no parameters (the method then complains about
/// what is missing), and so do we for a top level that is not an object. Too deep or not UTF-8
/// is refused, with the same errors `parse_str` gives.
pub fn from_json(body: &[u8]) -> Result<Params, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::not_utf8())?;
    // Checked on the text, before parsing, because serde_json gives up at depth 128 with an
    // ordinary syntax error, which would otherwise turn a refusal into "no parameters".
    if nesting_exceeds(text.as_bytes(), MAX_NESTING + 1) {
        return Err(ApiError::nesting_too_deep());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Ok(Params::new()),
    }
}

/// Body over query, top-level keys only: a body key replaces the whole query value (no deep
/// merge), keeping the query key's position.
pub fn merge(mut query: Params, body: Params) -> Params {
    for (key, value) in body {
        query.insert(key, value);
    }
    query
}

/// Whether brackets outside strings nest deeper than `limit`. The top-level object is one level,
/// so `limit` = 65 allows the 64 levels `a[1]…[64]=v` allows in a query string.
fn nesting_exceeds(json: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(p: Params) -> String {
        Value::Object(p).to_string()
    }

    #[test]
    fn get_uses_the_query_only() {
        let p = build_params(
            Some("fields[TITLE]=My%20company&start=50"),
            false,
            Some("application/json"),
            b"{\"x\":1}",
        );
        assert_eq!(
            text(p.unwrap()),
            json!({"fields": {"TITLE": "My company"}, "start": "50"}).to_string()
        );
        assert_eq!(
            build_params(None, false, None, b"a=1").unwrap(),
            Params::new()
        );
    }

    #[test]
    fn json_body_over_query_at_top_level() {
        let p = build_params(
            Some("bx24_request_id=abc&fields[TITLE]=q&fields[NAME]=n"),
            true,
            Some("Application/JSON; charset=UTF-8"),
            br#"{"fields":{"TITLE":"x","PHONE":[{"VALUE":"1"}]},"id":5,"flag":true,"none":null}"#,
        )
        .unwrap();
        let want = json!({"bx24_request_id": "abc", "fields": {"TITLE": "x", "PHONE": [{"VALUE": "1"}]},
                          "id": 5, "flag": true, "none": null});
        assert_eq!(text(p), want.to_string());
    }

    #[test]
    fn form_and_raw_bodies() {
        let form = build_params(
            Some("a=1&b=2"),
            true,
            Some("application/x-www-form-urlencoded"),
            b"b=3&c[]=4",
        );
        assert_eq!(
            text(form.unwrap()),
            json!({"a": "1", "b": "3", "c": ["4"]}).to_string()
        );
        let raw = build_params(None, true, None, b"fields%5BTITLE%5D=x");
        assert_eq!(
            text(raw.unwrap()),
            json!({"fields": {"TITLE": "x"}}).to_string()
        );
        let plain = build_params(None, true, Some("text/plain"), b"a=1");
        assert_eq!(text(plain.unwrap()), json!({"a": "1"}).to_string());
        assert_eq!(build_params(Some("a=1"), true, None, b"").unwrap().len(), 1);
        // Binary bodies of unknown type are not parameters.
        let binary = build_params(
            Some("a=1"),
            true,
            Some("application/octet-stream"),
            b"\xff\xfe=1",
        );
        assert_eq!(text(binary.unwrap()), json!({"a": "1"}).to_string());
    }

    #[test]
    fn form_body_errors() {
        let bad = build_params(
            None,
            true,
            Some("application/x-www-form-urlencoded"),
            b"a=\xff",
        );
        assert_eq!(bad, Err(ApiError::not_utf8()));
        let bad = build_params(Some("a=%FF"), false, None, b"");
        assert_eq!(bad, Err(ApiError::not_utf8()));
        let deep = format!("a{}=1", "[]".repeat(65));
        assert_eq!(
            build_params(None, true, None, deep.as_bytes()),
            Err(ApiError::nesting_too_deep())
        );
    }

    #[test]
    fn json_quirks() {
        assert_eq!(from_json(b"").unwrap(), Params::new());
        assert_eq!(from_json(b"{not json").unwrap(), Params::new());
        assert_eq!(from_json(b"[1,2]").unwrap(), Params::new());
        assert_eq!(from_json(b"\"str\"").unwrap(), Params::new());
        assert_eq!(from_json(b"\xef\xbb\xbf{}").unwrap(), Params::new());
        assert_eq!(from_json(b"{\"a\":\"\xff\"}"), Err(ApiError::not_utf8()));
        // Last duplicate wins, at the first one's position (as PHP's json_decode).
        assert_eq!(
            text(from_json(br#"{"a":1,"b":2,"a":3}"#).unwrap()),
            r#"{"a":3,"b":2}"#
        );
    }

    #[test]
    fn json_nesting_limit() {
        let nested =
            |levels: usize| format!("{{\"a\":{}1{}}}", "[".repeat(levels), "]".repeat(levels));
        assert!(from_json(nested(64).as_bytes()).unwrap().contains_key("a"));
        assert_eq!(
            from_json(nested(65).as_bytes()),
            Err(ApiError::nesting_too_deep())
        );
        // Deeper than serde_json's own limit is still our error, not "invalid JSON".
        assert_eq!(
            from_json(nested(500).as_bytes()),
            Err(ApiError::nesting_too_deep())
        );
        // Brackets inside strings do not count.
        let in_string = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(from_json(in_string.as_bytes()).unwrap().contains_key("a"));
    }

    #[test]
    fn merge_replaces_whole_top_level_values() {
        let q = php::parse_str("fields[A]=1&fields[B]=2&x=1").unwrap();
        let b = php::parse_str("fields[C]=3&y=2").unwrap();
        assert_eq!(
            text(merge(q, b)),
            json!({"fields": {"C": "3"}, "x": "1", "y": "2"}).to_string()
        );
    }
}
