//! The wire side of `batch` (spec/limits-and-batch.md §4): splitting a `method?query` command
//! and substituting `$result[...]`-style references to earlier commands' outputs.
//!
//! Running commands is the handler's job; this module only reads and rewrites text and trees.

use std::collections::HashMap;

use serde_json::Value;

use crate::php::to_php_string;
use crate::Params;

/// `method?query` → (method, query). The method is trimmed and lower-cased (method names are
/// case-insensitive) and loses a trailing `/` and a `.json` suffix, as URL method names do.
/// The query is returned verbatim for `php::parse_str`; it is empty when there is no `?`.
pub fn split_command(cmd: &str) -> (String, String) {
    let (method, query) = cmd.split_once('?').unwrap_or((cmd, ""));
    let mut method = method.trim().to_ascii_lowercase();
    if method.ends_with('/') {
        method.pop();
    }
    if let Some(stem) = method.strip_suffix(".json") {
        method.truncate(stem.len());
    }
    (method, query.to_owned())
}

/// What one earlier command produced, as references can see it. A failed command has only
/// `error`; a succeeded one has `result`, `time` and, for lists, `total`/`next`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CommandOutput {
    pub result: Option<Value>,
    pub next: Option<Value>,
    pub total: Option<Value>,
    pub time: Option<Value>,
    pub error: Option<Value>,
}

/// Replaces references in every string leaf value of `params` (keys are left alone):
/// `$result[key]path`, `$next[key]`, `$total[key]`, `$time[key]path`, `$error[key]path`.
///
/// * The kind word is case-insensitive; each `[...]` group is one path segment compared as text,
///   so `[0]` selects list element 0 or map key `"0"`, and `[01]` selects neither.
/// * Traversal stops at the first missing segment and uses what it reached.
/// * A value that is exactly one reference gets the raw JSON value (arrays stay arrays);
///   otherwise each reference is interpolated as PHP would (`Array`, `1`, empty, ...).
/// * An unknown command key or an absent part (no `next`) resolves to the empty string
///   (our decision: Bitrix leaves this undefined).
/// * A reference ends after its last `]` group (our decision: Bitrix reads to whitespace).
///
/// Substituted text is not scanned again, so a result containing `$result[...]` stays literal.
pub fn substitute(params: &mut Params, outputs: &HashMap<String, CommandOutput>) {
    for value in params.values_mut() {
        substitute_value(value, outputs);
    }
}

fn substitute_value(value: &mut Value, outputs: &HashMap<String, CommandOutput>) {
    match value {
        Value::String(s) => {
            if let Some(new) = substitute_str(s, outputs) {
                *value = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute_value(v, outputs)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute_value(v, outputs)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Result,
    Next,
    Total,
    Time,
    Error,
}

const KINDS: [(&str, Kind); 5] = [
    ("result", Kind::Result),
    ("next", Kind::Next),
    ("total", Kind::Total),
    ("time", Kind::Time),
    ("error", Kind::Error),
];

struct Reference<'a> {
    kind: Kind,
    key: &'a str,
    path: Vec<&'a str>,
    /// Byte offset just past the last `]`.
    end: usize,
}

/// The new value of `s`, or `None` when it holds no reference.
fn substitute_str(s: &str, outputs: &HashMap<String, CommandOutput>) -> Option<Value> {
    let mut out = String::new();
    let mut copied = 0;
    let mut found = false;
    let mut search = 0;
    let last_close = s.rfind(']');
    while let Some(off) = s[search..].find('$') {
        let at = search + off;
        let Some(r) = parse_reference(s, at, last_close) else {
            search = at + 1;
            continue;
        };
        let value = resolve(&r, outputs);
        if at == 0 && r.end == s.len() {
            return Some(
                value
                    .cloned()
                    .unwrap_or_else(|| Value::String(String::new())),
            );
        }
        found = true;
        out.push_str(&s[copied..at]);
        if let Some(v) = value {
            out.push_str(&to_php_string(v));
        }
        copied = r.end;
        search = r.end;
    }
    if !found {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(Value::String(out))
}

/// A reference starting at the `$` at byte `at`: kind word, then one or more `[...]` groups.
/// `last_close` (the last `]` in `s`) spares a hopeless scan for `]` at every `$`, which would
/// make a long `$result[$result[…` value quadratic.
fn parse_reference(s: &str, at: usize, last_close: Option<usize>) -> Option<Reference<'_>> {
    let bytes = s.as_bytes();
    let after = at + 1;
    let (word, kind) = KINDS.iter().find(|(word, _)| {
        bytes
            .get(after..after + word.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
    })?;
    // Every index below sits next to an ASCII `$`, `[` or `]`, so slicing stays on char boundaries.
    let mut pos = after + word.len();
    let mut groups = Vec::new();
    while bytes.get(pos) == Some(&b'[') && last_close.is_some_and(|c| c > pos) {
        let Some(close) = s[pos + 1..].find(']') else {
            break;
        };
        groups.push(&s[pos + 1..pos + 1 + close]);
        pos += close + 2;
    }
    let (key, path) = groups.split_first()?;
    Some(Reference {
        kind: *kind,
        key,
        path: path.to_vec(),
        end: pos,
    })
}

fn resolve<'v>(
    r: &Reference<'_>,
    outputs: &'v HashMap<String, CommandOutput>,
) -> Option<&'v Value> {
    let out = outputs.get(r.key)?;
    let mut cur = match r.kind {
        Kind::Result => out.result.as_ref(),
        Kind::Next => out.next.as_ref(),
        Kind::Total => out.total.as_ref(),
        Kind::Time => out.time.as_ref(),
        Kind::Error => out.error.as_ref(),
    }?;
    for segment in &r.path {
        let next = match cur {
            Value::Object(map) => map.get(*segment),
            Value::Array(items) => segment
                .parse::<usize>()
                .ok()
                .filter(|i| i.to_string() == *segment)
                .and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => break,
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::php::parse_str;
    use serde_json::json;

    #[test]
    fn split_commands() {
        let cases = [
            (
                "crm.lead.list?filter[>ID]=10&start=-1",
                "crm.lead.list",
                "filter[>ID]=10&start=-1",
            ),
            ("  CRM.Lead.Get ?id=1", "crm.lead.get", "id=1"),
            (
                "crm.lead.add.json?fields[TITLE]=x",
                "crm.lead.add",
                "fields[TITLE]=x",
            ),
            ("crm.lead.add.JSON/?a=1", "crm.lead.add", "a=1"),
            ("crm.lead.fields", "crm.lead.fields", ""),
            ("crm.lead.fields?", "crm.lead.fields", ""),
            ("user.current/", "user.current", ""),
            ("a?b=?c", "a", "b=?c"),
            ("", "", ""),
            ("crm.lead.list.xml", "crm.lead.list.xml", ""),
        ];
        for (cmd, method, query) in cases {
            assert_eq!(
                split_command(cmd),
                (method.to_string(), query.to_string()),
                "{cmd}"
            );
        }
    }

    /// Earlier outputs used by the tests: a legacy list page, a `crm.item.list` page, a user,
    /// a failed command and a time object.
    fn outputs() -> HashMap<String, CommandOutput> {
        let page: Vec<Value> = (1..=50)
            .map(|i| json!({"ID": (i * 10).to_string(), "TITLE": format!("L{i}")}))
            .collect();
        let items: Vec<Value> = (1..=50).map(|i| json!({"id": i * 10})).collect();
        let mut m = HashMap::new();
        m.insert(
            "req_0".into(),
            CommandOutput {
                result: Some(Value::Array(page)),
                total: Some(json!(0)),
                ..Default::default()
            },
        );
        m.insert(
            "cmd_0".into(),
            CommandOutput {
                result: Some(json!({ "items": items })),
                total: Some(json!(120)),
                next: Some(json!(50)),
                time: Some(json!({"start": 1718292234.554781, "duration": 0.25, "operating": 0})),
                ..Default::default()
            },
        );
        m.insert(
            "a".into(),
            CommandOutput {
                result: Some(json!({"ID": "5", "UF_DEPARTMENT": [1, 7], "ACTIVE": true, "BLOCKED": false,
                                    "NOTE": null, "0": "zero", "SCORE": 1.5, "REF": "$result[a][ID]"})),
                ..Default::default()
            },
        );
        m.insert(
            "bad".into(),
            CommandOutput {
                error: Some(json!({"error": "", "error_description": "Not found"})),
                ..Default::default()
            },
        );
        m.insert(
            "list".into(),
            CommandOutput {
                result: Some(json!(["x", "y"])),
                ..Default::default()
            },
        );
        m
    }

    /// Substitutes into a one-value parameter set and returns the value.
    fn sub(value: Value) -> Value {
        let mut p = Params::new();
        p.insert("v".into(), value);
        substitute(&mut p, &outputs());
        p.remove("v").unwrap_or(Value::Null)
    }

    #[test]
    fn php_sdk_and_b24pysdk_chains() {
        assert_eq!(sub(json!("$result[req_0][49][ID]")), json!("500"));
        assert_eq!(sub(json!("$result[cmd_0][items][49][id]")), json!(500));
        let mut p =
            parse_str("order[ID]=ASC&filter[>ID]=$result[req_0][49][ID]&start=-1&select[0]=ID")
                .unwrap();
        substitute(&mut p, &outputs());
        let want = json!({"order": {"ID": "ASC"}, "filter": {">ID": "500"}, "start": "-1", "select": ["ID"]});
        assert_eq!(Value::Object(p).to_string(), want.to_string());
    }

    #[test]
    fn whole_value_keeps_the_raw_json() {
        assert_eq!(sub(json!("$result[a][UF_DEPARTMENT]")), json!([1, 7]));
        assert_eq!(sub(json!("$result[list]")), json!(["x", "y"]));
        assert_eq!(sub(json!("$result[a][ACTIVE]")), json!(true));
        assert_eq!(sub(json!("$result[a][NOTE]")), json!(null));
        assert_eq!(sub(json!("$total[cmd_0]")), json!(120));
        assert_eq!(sub(json!("$next[cmd_0]")), json!(50));
        assert_eq!(sub(json!("$time[cmd_0][duration]")), json!(0.25));
        assert_eq!(
            sub(json!("$error[bad][error_description]")),
            json!("Not found")
        );
        assert_eq!(sub(json!("$error[bad][error]")), json!(""));
    }

    #[test]
    fn interpolation_inside_text() {
        assert_eq!(sub(json!("id_$result[a][ID]_x")), json!("id_5_x"));
        assert_eq!(sub(json!("$result[a][ID]$result[a][ID]")), json!("55"));
        assert_eq!(
            sub(json!("$result[a][ID],$total[cmd_0],$next[cmd_0]")),
            json!("5,120,50")
        );
        assert_eq!(sub(json!("[$result[a][UF_DEPARTMENT]]")), json!("[Array]"));
        assert_eq!(
            sub(json!(
                "t=$result[a][ACTIVE]f=$result[a][BLOCKED]n=$result[a][NOTE]"
            )),
            json!("t=1f=n=")
        );
        assert_eq!(sub(json!("s=$result[a][SCORE]")), json!("s=1.5"));
        assert_eq!(
            sub(json!("at $time[cmd_0][start]")),
            json!("at 1718292234.5548")
        );
        assert_eq!(sub(json!("€$result[a][ID]€")), json!("€5€"));
    }

    #[test]
    fn kind_word_is_case_insensitive() {
        assert_eq!(sub(json!("$Result[a][ID]")), json!("5"));
        assert_eq!(sub(json!("$RESULT[a][ID]")), json!("5"));
        assert_eq!(sub(json!("$TOTAL[cmd_0]")), json!(120));
        assert_eq!(
            sub(json!("$Error[bad][error_description]")),
            json!("Not found")
        );
    }

    #[test]
    fn segments_compare_as_text() {
        assert_eq!(sub(json!("$result[a][0]")), json!("zero"));
        assert_eq!(sub(json!("$result[list][0]")), json!("x"));
        assert_eq!(sub(json!("$result[list][1]")), json!("y"));
        // `01` is not list index 1: traversal stops at the list itself.
        assert_eq!(sub(json!("$result[list][01]")), json!(["x", "y"]));
        assert_eq!(sub(json!("$result[list][-1]")), json!(["x", "y"]));
        // Keys are case-sensitive.
        assert_eq!(sub(json!("$result[a][id]")), sub(json!("$result[a]")));
    }

    #[test]
    fn traversal_stops_at_the_first_missing_segment() {
        assert_eq!(
            sub(json!("$result[req_0][50][ID]"))
                .as_array()
                .map(Vec::len),
            Some(50)
        );
        assert_eq!(sub(json!("x$result[req_0][50][ID]")), json!("xArray"));
        assert_eq!(sub(json!("$result[a][ID][deeper]")), json!("5"));
        assert_eq!(
            sub(json!("$result[a][MISSING][ID]")).get("ID"),
            Some(&json!("5"))
        );
    }

    #[test]
    fn missing_entries_are_empty() {
        assert_eq!(sub(json!("$result[nope][ID]")), json!(""));
        assert_eq!(sub(json!("x$result[nope][ID]y")), json!("xy"));
        assert_eq!(sub(json!("$next[req_0]")), json!(""));
        assert_eq!(sub(json!("$result[bad]")), json!(""));
        assert_eq!(sub(json!("$error[a]")), json!(""));
        assert_eq!(sub(json!("$time[a][start]")), json!(""));
    }

    #[test]
    fn what_is_not_a_reference() {
        for literal in [
            "$",
            "$$",
            "price $5",
            "$result",
            "$results[a]",
            "$result a",
            "$result[a",
            "$foo[a]",
            "$[a]",
            "no refs",
        ] {
            assert_eq!(sub(json!(literal)), json!(literal), "{literal}");
        }
        // The reference ends after its last `]`; what follows is literal.
        assert_eq!(sub(json!("$result[a][ID]abc")), json!("5abc"));
        assert_eq!(sub(json!("$result[a][ID] [x]")), json!("5 [x]"));
        assert_eq!(sub(json!("$result[a][ID][")), json!("5["));
        assert_eq!(sub(json!("$$result[a][ID]")), json!("$5"));
    }

    #[test]
    fn unclosed_references_stay_linear() {
        let s = "$result[".repeat(50_000);
        assert_eq!(sub(json!(s.clone())), json!(s));
        // One reference whose key is everything up to the first `]`: unknown, so empty.
        let s = format!("{}a][ID]", "$result[".repeat(50_000));
        assert_eq!(sub(json!(s)), json!(""));
    }

    #[test]
    fn substituted_text_is_not_rescanned() {
        assert_eq!(sub(json!("$result[a][REF]")), json!("$result[a][ID]"));
        assert_eq!(sub(json!("=$result[a][REF]")), json!("=$result[a][ID]"));
    }

    #[test]
    fn only_string_leaf_values_change() {
        let mut p = Params::new();
        p.insert("$result[a][ID]".into(), json!("$result[a][ID]"));
        p.insert("n".into(), json!(5));
        p.insert(
            "deep".into(),
            json!({"x": [{"y": "$result[a][ID]"}], "$result[a][ID]": true}),
        );
        substitute(&mut p, &outputs());
        let want = json!({"$result[a][ID]": "5", "n": 5, "deep": {"x": [{"y": "5"}], "$result[a][ID]": true}});
        assert_eq!(Value::Object(p).to_string(), want.to_string());
    }
}
