//! PHP `parse_str` rebuilt (spec/transport.md §4): how a query string, a form body, a multipart
//! field list or a batch command's query becomes one parameter tree, quirks included.
//!
//! Behaviour is observed with php-cli (tests/fixtures/gen_parse_str.php), never read from Bitrix.
//! The work happens on a model of PHP arrays (ordered, int or string keys, a next-append index)
//! because list-versus-object and `[]` append both depend on integer keys that JSON cannot hold.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::{ApiError, Params};

/// PHP's `max_input_nesting_level`. PHP silently drops a deeper variable; we refuse the request
/// instead, so a client never has half its parameters applied.
pub const MAX_NESTING: usize = 64;

/// A PHP array key. Canonical decimal strings are stored as integers by PHP itself, which is what
/// makes `a[0]=x&a[1]=y` a list and `a[01]=x` a map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    fn new(s: &str) -> Key {
        if is_canonical_int(s) {
            // Out-of-range digits stay a string key, as in PHP.
            if let Ok(n) = s.parse::<i64>() {
                return Key::Int(n);
            }
        }
        Key::Str(s.to_owned())
    }

    fn into_string(self) -> String {
        match self {
            Key::Int(n) => n.to_string(),
            Key::Str(s) => s,
        }
    }
}

/// PHP's numeric-key rule: optional `-`, no leading zeros, `-0` excluded.
fn is_canonical_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if digits == "0" {
        return digits.len() == s.len();
    }
    !digits.starts_with('0')
}

enum Zval {
    Str(String),
    Arr(PhpArray),
}

#[derive(Default)]
struct PhpArray {
    entries: IndexMap<Key, Zval>,
    /// PHP's `nNextFreeElement`: highest integer key ever inserted + 1; `None` until the first
    /// integer key, when an append uses 0. Observed in PHP 8.2: negative keys count too
    /// (`a[-5]=x&a[]=y` appends at -4).
    next_free: Option<i64>,
}

impl PhpArray {
    /// Inserts or replaces in place: PHP keeps the original position of a replaced key.
    fn set(&mut self, key: Key, value: Zval) {
        if let Key::Int(h) = key {
            if self.next_free.is_none_or(|n| h >= n) {
                self.next_free = Some(h.saturating_add(1));
            }
        }
        self.entries.insert(key, value);
    }

    /// `$a[] = v`. Fails (PHP warns and drops the value) once `i64::MAX` has been used.
    fn push(&mut self, value: Zval) -> Option<Key> {
        let key = Key::Int(self.next_free.unwrap_or(0));
        if self.entries.contains_key(&key) {
            return None;
        }
        self.set(key.clone(), value);
        Some(key)
    }

    /// The array stored under `key` (`None` = append a new one). A scalar already there is
    /// replaced by an empty array, as PHP does for `a=1&a[b]=2`.
    fn child(&mut self, key: Option<Key>) -> Option<&mut PhpArray> {
        let key = match key {
            None => self.push(Zval::Arr(PhpArray::default()))?,
            Some(key) => {
                if !matches!(self.entries.get(&key), Some(Zval::Arr(_))) {
                    self.set(key.clone(), Zval::Arr(PhpArray::default()));
                }
                key
            }
        };
        match self.entries.get_mut(&key) {
            Some(Zval::Arr(a)) => Some(a),
            _ => None,
        }
    }

    /// PHP's `json_encode` choice: keys exactly 0..n-1 in insertion order make a list.
    fn into_json(self) -> Value {
        let is_list = self
            .entries
            .keys()
            .enumerate()
            .all(|(i, k)| *k == Key::Int(i as i64));
        if is_list {
            Value::Array(self.entries.into_values().map(Zval::into_json).collect())
        } else {
            Value::Object(self.into_map())
        }
    }

    fn into_map(self) -> Map<String, Value> {
        self.entries
            .into_iter()
            .map(|(k, v)| (k.into_string(), v.into_json()))
            .collect()
    }
}

impl Zval {
    fn into_json(self) -> Value {
        match self {
            Zval::Str(s) => Value::String(s),
            Zval::Arr(a) => a.into_json(),
        }
    }
}

/// PHP `parse_str` (spec/transport.md §4 rules 1–12), with two refusals PHP does not make:
/// nesting deeper than 64 levels and keys or values that do not decode to UTF-8.
pub fn parse_str(input: &str) -> Result<Params, ApiError> {
    parse_bytes(input.as_bytes())
}

/// `parse_str` over raw bytes, for form bodies that may carry undecoded non-UTF-8 bytes.
pub(crate) fn parse_bytes(input: &[u8]) -> Result<Params, ApiError> {
    let mut top = PhpArray::default();
    // PHP's tokenizer skips empty tokens, hence `&&` and a trailing `&` are harmless.
    for pair in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = truncate_at_nul(url_decode(name));
        let name = String::from_utf8(name).map_err(|_| ApiError::not_utf8())?;
        let value = String::from_utf8(url_decode(value)).map_err(|_| ApiError::not_utf8())?;
        register(&mut top, &name, value)?;
    }
    Ok(top.into_map())
}

/// The same key rules for fields that arrive already decoded (multipart parts): no `+` or `%`
/// decoding, because multipart carries names and values verbatim.
pub fn parse_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Result<Params, ApiError> {
    let mut top = PhpArray::default();
    for (name, value) in pairs {
        let name = match name.find('\0') {
            Some(i) => &name[..i],
            None => &name[..],
        };
        register(&mut top, name, value)?;
    }
    Ok(top.into_map())
}

/// PHP `urldecode`: `+` is a space, `%XX` with two hex digits is a byte, anything else (`%zz`,
/// a lone `%`) stays literal. One pass, so `%2B` yields `+`, not a space.
fn url_decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%' {
            let hi = raw.get(i + 1).and_then(|c| hex(*c));
            let lo = raw.get(i + 2).and_then(|c| hex(*c));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            out.push(b);
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// PHP hands the decoded name to its registrar as a C string, so a `%00` ends the name.
fn truncate_at_nul(mut name: Vec<u8>) -> Vec<u8> {
    if let Some(i) = name.iter().position(|&b| b == 0) {
        name.truncate(i);
    }
    name
}

/// Splits a decoded name into base name and bracket path and stores the value there, following
/// PHP's `php_register_variable_ex` as observed (rules 3–9, 11).
fn register(top: &mut PhpArray, name: &str, value: String) -> Result<(), ApiError> {
    let name = name.trim_start_matches(' ');
    let (base, rest) = match name.find('[') {
        Some(i) => (&name[..i], Some(&name[i..])),
        None => (name, None),
    };
    let mut base: String = base
        .chars()
        .map(|c| if c == ' ' || c == '.' { '_' } else { c })
        .collect();
    if base.is_empty() {
        return Ok(());
    }
    // `None` is an append (`[]`).
    let mut path: Vec<Option<&str>> = Vec::new();
    if let Some(rest) = rest {
        let bytes = rest.as_bytes();
        // All positions below sit next to ASCII brackets or spaces, so slicing stays on char
        // boundaries, and `open` always indexes a `[` so `open + 1 <= len`.
        let mut open = 0;
        loop {
            if path.len() == MAX_NESTING {
                return Err(ApiError::nesting_too_deep());
            }
            let start = open + 1;
            // PHP skips one space before testing for `]`, so `a[ ]` appends while `a[ x]` keeps
            // the space in the key.
            let probe = if bytes.get(start) == Some(&b' ') {
                start + 1
            } else {
                start
            };
            let close = if bytes.get(probe) == Some(&b']') {
                path.push(None);
                probe
            } else if let Some(off) = rest[probe..].find(']') {
                path.push(Some(&rest[start..probe + off]));
                probe + off
            } else {
                // An unclosed first bracket is part of the name (`a[b.c` → `a_b_c`); an unclosed
                // later one ends the path at the groups already read.
                if path.is_empty() {
                    base.push('_');
                    base.extend(rest[start..].chars().map(|c| {
                        if matches!(c, ' ' | '.' | '[') {
                            '_'
                        } else {
                            c
                        }
                    }));
                }
                break;
            };
            // Text after `]` that does not open another group is ignored (`a[b]c=1`).
            if bytes.get(close + 1) == Some(&b'[') {
                open = close + 1;
            } else {
                break;
            }
        }
    }

    let mut cur = top;
    let mut key = Some(Key::new(&base));
    for segment in path {
        match cur.child(key) {
            Some(child) => cur = child,
            // Append after i64::MAX: PHP drops the whole variable.
            None => return Ok(()),
        }
        key = segment.map(Key::new);
    }
    match key {
        Some(key) => cur.set(key, Zval::Str(value)),
        None => {
            let _ = cur.push(Zval::Str(value));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(input: &str) -> Value {
        Value::Object(parse_str(input).expect("parses"))
    }

    /// Order matters on the wire, and `Map`'s `PartialEq` ignores it, so compare the text.
    fn same(input: &str, expected: Value) {
        assert_eq!(
            p(input).to_string(),
            expected.to_string(),
            "input {input:?}"
        );
    }

    #[test]
    fn spec_table_examples() {
        same("a&b=1", json!({"a": "", "b": "1"}));
        same("t=John+Smith%26Co", json!({"t": "John Smith&Co"}));
        same("a[b][c]=v", json!({"a": {"b": {"c": "v"}}}));
        same("a[]=x&a[]=y", json!({"a": ["x", "y"]}));
        same("a=1&a=2", json!({"a": "2"}));
        same("a.b=1", json!({"a_b": "1"}));
        same("f[a.b]=1", json!({"f": {"a.b": "1"}}));
        same("a[b]c=1", json!({"a": {"b": "1"}}));
        same("=x", json!({}));
        same("a[0]=x&a[2]=y", json!({"a": {"0": "x", "2": "y"}}));
        same("filter%5B%3EID%5D=5", json!({"filter": {">ID": "5"}}));
    }

    #[test]
    fn integer_keys_and_append() {
        same(
            "a[]=1&a[]=2&a[5]=3&a[]=4",
            json!({"a": {"0": "1", "1": "2", "5": "3", "6": "4"}}),
        );
        same("a[1]=y&a[0]=z", json!({"a": {"1": "y", "0": "z"}}));
        same("a[01]=x&a[1]=y", json!({"a": {"01": "x", "1": "y"}}));
        same("a[-0]=x", json!({"a": {"-0": "x"}}));
        same("a[-5]=x&a[]=y", json!({"a": {"-5": "x", "-4": "y"}}));
        same(
            "a[9223372036854775807]=x&a[]=y",
            json!({"a": {"9223372036854775807": "x"}}),
        );
        same(
            "a[9223372036854775808]=x&a[]=y",
            json!({"a": {"9223372036854775808": "x", "0": "y"}}),
        );
        same(
            "a[9223372036854775807]=x&a[][b]=y",
            json!({"a": {"9223372036854775807": "x"}}),
        );
        same("a[0]=x&a[1]=y&a[0]=z", json!({"a": ["z", "y"]}));
    }

    #[test]
    fn name_mangling() {
        same(" a=1", json!({"a": "1"}));
        same("a b=1", json!({"a_b": "1"}));
        same("a[=1", json!({"a_": "1"}));
        same("a[b.c=1", json!({"a_b_c": "1"}));
        same("a b.c[d e.f[g=1", json!({"a_b_c_d_e_f_g": "1"}));
        same("a[b][c=1", json!({"a": {"b": "1"}}));
        same("a[][c=1", json!({"a": ["1"]}));
        same("a[ ]=1", json!({"a": ["1"]}));
        same("a[ x]=1", json!({"a": {" x": "1"}}));
        same("a[[b]]=1", json!({"a": {"[b": "1"}}));
        same("a]=1", json!({"a]": "1"}));
        same("[a]=1&%20=2", json!({}));
        same("a%00b=1&c=x%00y", json!({"a": "1", "c": "x\u{0}y"}));
    }

    #[test]
    fn scalar_then_array_and_back() {
        same("a=1&a[b]=2&c=3", json!({"a": {"b": "2"}, "c": "3"}));
        same("a[b]=2&c=3&a=1", json!({"a": "1", "c": "3"}));
    }

    #[test]
    fn percent_decoding() {
        same("a=%zz%4%", json!({"a": "%zz%4%"}));
        same("a%2Bb=c%2Bd+e", json!({"a+b": "c+d e"}));
        same("a=%e2%82%AC", json!({"a": "€"}));
    }

    #[test]
    fn nesting_limit_is_an_error() {
        let ok = format!("a{}=1", "[x]".repeat(64));
        assert!(parse_str(&ok).is_ok());
        let deep = format!("a{}=1", "[x]".repeat(65));
        assert_eq!(parse_str(&deep), Err(ApiError::nesting_too_deep()));
        // PHP counts the level before it looks for the `]`.
        let unclosed = format!("a{}[y=1", "[x]".repeat(64));
        assert_eq!(parse_str(&unclosed), Err(ApiError::nesting_too_deep()));
        let appends = format!("a{}=1", "[]".repeat(65));
        assert_eq!(parse_str(&appends), Err(ApiError::nesting_too_deep()));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(parse_str("a=%FF"), Err(ApiError::not_utf8()));
        assert_eq!(parse_str("%C3=1"), Err(ApiError::not_utf8()));
        assert_eq!(parse_bytes(b"a=\xff"), Err(ApiError::not_utf8()));
        // A NUL ends the name before it is checked, as PHP reads it as a C string.
        same("a%00%FF=1", json!({"a": "1"}));
    }

    #[test]
    fn pairs_are_not_decoded() {
        let pairs = vec![
            ("fields[TITLE]".to_string(), "a+b%20c".to_string()),
            ("fields[PHONE][0][VALUE]".to_string(), "1".to_string()),
            ("a.b".to_string(), "x".to_string()),
            ("%5B".to_string(), "y".to_string()),
        ];
        let got = Value::Object(parse_pairs(pairs).unwrap());
        let want = json!({"fields": {"TITLE": "a+b%20c", "PHONE": [{"VALUE": "1"}]}, "a_b": "x", "%5B": "y"});
        assert_eq!(got.to_string(), want.to_string());
        let deep = vec![(format!("a{}", "[]".repeat(65)), String::new())];
        assert_eq!(parse_pairs(deep), Err(ApiError::nesting_too_deep()));
    }

    #[test]
    fn canonical_int_rule() {
        for s in [
            "0",
            "7",
            "17",
            "-5",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert!(matches!(Key::new(s), Key::Int(_)), "{s}");
        }
        for s in [
            "",
            "-",
            "01",
            "-0",
            "+1",
            " 1",
            "1.0",
            "0x1",
            "9223372036854775808",
            "-9223372036854775809",
        ] {
            assert!(matches!(Key::new(s), Key::Str(_)), "{s}");
        }
    }
}
