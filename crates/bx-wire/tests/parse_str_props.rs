//! Property tests for the request decoders: they never panic on any input, and
//! `parse_str(http_build_query(tree)) == tree` for trees PHP's encoding can express.

use std::collections::HashMap;

use bx_wire::batch::{substitute, CommandOutput};
use bx_wire::php::{http_build_query, parse_str};
use bx_wire::{request, Params};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Strings heavy in the characters the parser treats specially.
fn tricky() -> impl Strategy<Value = String> {
    "[ab0-9\\[\\]&=%+. \\x00é_-]{0,80}"
}

/// PHP turns these into integer keys, which would change a map into a list.
fn is_canonical_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && digits.len() == s.len() || !digits.starts_with('0'))
}

/// Keys inside brackets: anything but `]` (ends the group) and NUL (ends the name); a lone
/// space would read as `[ ]`, an append.
fn nested_key() -> impl Strategy<Value = String> {
    "[^\\]\\x00]{1,6}".prop_filter("not an integer key or `[ ]`", |k| {
        k != " " && !is_canonical_int(k)
    })
}

/// Top-level names: no `[`, `]`, space or dot (PHP mangles those), no NUL.
fn top_key() -> impl Strategy<Value = String> {
    "[^\\[\\]\\x00 .]{1,6}"
}

/// Non-empty containers only: PHP's encoder writes nothing for an empty array.
fn tree() -> impl Strategy<Value = Value> {
    any::<String>()
        .prop_map(Value::String)
        .prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                prop::collection::vec((nested_key(), inner), 1..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
}

fn params() -> impl Strategy<Value = Params> {
    prop::collection::vec((top_key(), tree()), 0..5)
        .prop_map(|entries| entries.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_str_never_panics(s in any::<String>()) {
        let _ = parse_str(&s);
    }

    #[test]
    fn parse_str_never_panics_on_tricky_text(s in tricky()) {
        let _ = parse_str(&s);
    }

    #[test]
    fn build_params_never_panics(
        query in proptest::option::of(tricky()),
        is_post in any::<bool>(),
        content_type in proptest::option::of(prop_oneof![
            Just("application/json".to_owned()),
            Just("application/x-www-form-urlencoded".to_owned()),
            "[a-z/;= -]{0,30}",
        ]),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = request::build_params(query.as_deref(), is_post, content_type.as_deref(), &body);
        let _ = request::from_json(&body);
    }

    #[test]
    fn substitute_never_panics(s in "[$\\[\\]a-zA-Z0-9_é ]{0,60}") {
        let mut outputs = HashMap::new();
        outputs.insert("a".to_owned(), CommandOutput { result: Some(json!({"ID": "5", "L": [1, 2]})), ..Default::default() });
        let mut p = Params::new();
        p.insert("v".into(), Value::String(s));
        substitute(&mut p, &outputs);
    }

    #[test]
    fn http_build_query_round_trips(tree in params()) {
        let encoded = http_build_query(&tree);
        let decoded = parse_str(&encoded).expect("an encoded tree parses");
        // Text comparison: order is part of the contract and `Map`'s `==` ignores it.
        prop_assert_eq!(Value::Object(decoded).to_string(), Value::Object(tree).to_string(), "encoded: {}", encoded);
    }
}
