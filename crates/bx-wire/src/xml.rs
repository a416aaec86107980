//! The `.xml` output format (spec/transport.md §7.3): the same response tree as JSON, written
//! as `<response>…</response>` with our mapping where Bitrix's docs are silent.
//!
//! Mapping: object keys become element names; list elements become `<item>`; `true`/`false` are
//! the words; `null` is an empty element; text is escaped. A key that is not a valid XML name
//! (a numeric batch key such as `"2"`, a filter key such as `">ID"`, an empty key) becomes
//! `<item key="…">` rather than a mangled name, so the original key survives and two keys can
//! never collide. Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE/U+FFFF)
//! are replaced by U+FFFD, because a reader rejects the whole document otherwise.

use serde_json::Value;

/// The whole response document for a JSON response body (success or error).
pub fn render(v: &Value) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?><response>"#);
    write_content(&mut out, v);
    out.push_str("</response>");
    out
}

fn write_content(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape_into(out, s),
        Value::Array(items) => {
            for item in items {
                out.push_str("<item>");
                write_content(out, item);
                out.push_str("</item>");
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if is_xml_name(key) {
                    out.push('<');
                    out.push_str(key);
                    out.push('>');
                    write_content(out, item);
                    out.push_str("</");
                    out.push_str(key);
                    out.push('>');
                } else {
                    out.push_str(r#"<item key=""#);
                    escape_into(out, key);
                    out.push_str(r#"">"#);
                    write_content(out, item);
                    out.push_str("</item>");
                }
            }
        }
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// XML 1.0 (5th edition) `Name`, without `:` so no key is read as a namespace prefix.
fn is_xml_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(is_name_start) && chars.all(|c| is_name_start(c) || is_name_rest(c))
}

fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_rest(c: char) -> bool {
    matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

    #[test]
    fn success_document() {
        let v = json!({"result": {"ID": "5", "TITLE": "A & B <c>", "OPENED": true, "CLOSED": false,
                                   "COMMENTS": null, "PHONE": [{"VALUE": "1"}, {"VALUE": "2"}], "N": 1.5},
                       "total": 1, "time": {"start": 1718292234.5}});
        assert_eq!(
            render(&v),
            format!(
                "{HEAD}<response><result><ID>5</ID><TITLE>A &amp; B &lt;c&gt;</TITLE><OPENED>true</OPENED>\
                 <CLOSED>false</CLOSED><COMMENTS></COMMENTS><PHONE><item><VALUE>1</VALUE></item>\
                 <item><VALUE>2</VALUE></item></PHONE><N>1.5</N></result><total>1</total>\
                 <time><start>1718292234.5</start></time></response>"
            )
        );
    }

    #[test]
    fn error_document() {
        let v = json!({"error": "", "error_description": "Not found"});
        assert_eq!(render(&v), format!("{HEAD}<response><error></error><error_description>Not found</error_description></response>"));
    }

    #[test]
    fn keys_that_are_not_names() {
        let v = json!({"result": {"0": "a", "2": "c", ">ID": "x", "": "e", "a b": 1, "ns:x": 2, "UF_CRM_1": 3, "Имя": 4}});
        assert_eq!(
            render(&v),
            format!(
                "{HEAD}<response><result><item key=\"0\">a</item><item key=\"2\">c</item>\
                 <item key=\"&gt;ID\">x</item><item key=\"\">e</item><item key=\"a b\">1</item>\
                 <item key=\"ns:x\">2</item><UF_CRM_1>3</UF_CRM_1><Имя>4</Имя></result></response>"
            )
        );
    }

    #[test]
    fn text_is_escaped_and_made_legal() {
        let v = json!({"s": "quote\" apos' \u{1}\u{FFFF}\ttab"});
        assert_eq!(
            render(&v),
            format!(
                "{HEAD}<response><s>quote&quot; apos&apos; \u{FFFD}\u{FFFD}\ttab</s></response>"
            )
        );
        assert_eq!(render(&json!([])), format!("{HEAD}<response></response>"));
        assert_eq!(
            render(&json!([[1]])),
            format!("{HEAD}<response><item><item>1</item></item></response>")
        );
    }

    #[test]
    fn name_rules() {
        for ok in ["a", "_a", "a-b.c_1", "ID", "é"] {
            assert!(is_xml_name(ok), "{ok}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a:b", "a>b", "×"] {
            assert!(!is_xml_name(bad), "{bad}");
        }
    }
}
