//! HTML clean-up of rich-text fields such as `COMMENTS` (leads.md §3.14): `<script>`/`<style>`
//! elements and `on*` event-handler attributes are removed, everything else is kept as given.

use regex::{Captures, Regex};
use std::sync::LazyLock;

static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<script\b[^>]*>.*?</script\s*>").expect("static regex"));
static STYLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<style\b[^>]*>.*?</style\s*>").expect("static regex"));
/// An element left open runs to the end of the text, as a browser would read it.
static UNCLOSED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<(?:script|style)\b.*").expect("static regex"));
static STRAY_CLOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</(?:script|style)\s*>").expect("static regex"));
/// An opening tag with its attribute text.
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<([a-zA-Z][a-zA-Z0-9:-]*)(\s[^>]*?)?(/?)>").expect("static regex")
});
/// One attribute: name, optionally `=` and a quoted or bare value.
static ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)\s+([^\s=/>"']+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?"#)
        .expect("static regex")
});

/// Removes scripts, styles and event-handler attributes.
pub fn sanitize_html(input: &str) -> String {
    // Cheap exit: plain text, the common case, is untouched.
    if !input.contains('<') {
        return input.to_string();
    }
    let s = SCRIPT.replace_all(input, "");
    let s = STYLE.replace_all(&s, "");
    let s = UNCLOSED.replace_all(&s, "");
    let s = STRAY_CLOSE.replace_all(&s, "");
    TAG.replace_all(&s, |c: &Captures<'_>| {
        let name = &c[1];
        let attrs = c.get(2).map_or("", |m| m.as_str());
        let kept: String = ATTR
            .find_iter(attrs)
            .filter(|m| {
                let text = m.as_str().trim_start();
                let attr_name: String = text
                    .chars()
                    .take_while(|ch| !matches!(ch, '=' | ' ' | '\t' | '\n' | '\r'))
                    .collect();
                !attr_name.to_ascii_lowercase().starts_with("on")
            })
            .map(|m| m.as_str())
            .collect();
        // Keep the whitespace before `/>` or `>` as written.
        let trailing = &attrs[attrs.trim_end().len()..];
        format!("<{name}{kept}{trailing}{}>", &c[3])
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_scripts_styles_and_handlers() {
        assert_eq!(sanitize_html("plain & simple"), "plain & simple");
        assert_eq!(sanitize_html("a<script>alert(1)</script>b"), "ab");
        assert_eq!(
            sanitize_html("a<SCRIPT type=\"x\">\nalert(1)\n</SCRIPT >b"),
            "ab"
        );
        assert_eq!(sanitize_html("a<style>p{}</style>b"), "ab");
        assert_eq!(sanitize_html("a<script>never closed"), "a");
        assert_eq!(sanitize_html("a</script>b"), "ab");
        assert_eq!(
            sanitize_html(
                r#"<p class="x" onclick="evil()" ONMOUSEOVER='e()' onload=x title="a onclick=b">hi</p>"#
            ),
            r#"<p class="x" title="a onclick=b">hi</p>"#
        );
        assert_eq!(
            sanitize_html("<br/><b>bold</b> 1 < 2"),
            "<br/><b>bold</b> 1 < 2"
        );
        assert_eq!(
            sanitize_html("<img src=x onerror=alert(1) />"),
            "<img src=x />"
        );
    }
}
