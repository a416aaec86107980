//! Sources (§6): what a source is, the seeded ones (§6.2), and resolving a trace to a source —
//! explicit `SOURCE_ID` → first `utm_source` match → referrer host → channel values → 0.
//!
//! Matching (Bitrix24's rule): active sources in id order, each list item either a plain value or
//! a regular expression; the first hit wins. Plain `utm_source` values compare exactly (case
//! matters); a referrer domain matches its host and every subdomain; phones compare by digits;
//! e-mails ignoring case. Regular expressions use Rust `regex` syntax, unanchored.

use super::{TraceChannel, NO_SOURCE};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Which list of a source a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    UtmSource,
    RefDomain,
    Phone,
    Email,
}

impl MatchKind {
    pub const ALL: [MatchKind; 4] = [
        MatchKind::UtmSource,
        MatchKind::RefDomain,
        MatchKind::Phone,
        MatchKind::Email,
    ];

    /// The storage and API name (`UTM_SOURCE`, `REF_DOMAIN`, `PHONE`, `EMAIL`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::UtmSource => "UTM_SOURCE",
            MatchKind::RefDomain => "REF_DOMAIN",
            MatchKind::Phone => "PHONE",
            MatchKind::Email => "EMAIL",
        }
    }

    pub fn parse(s: &str) -> Option<MatchKind> {
        MatchKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One item of a source's list: a plain value or a regular expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchValue {
    pub value: String,
    pub is_regexp: bool,
}

impl MatchValue {
    pub fn plain(v: &str) -> MatchValue {
        MatchValue {
            value: v.to_string(),
            is_regexp: false,
        }
    }

    pub fn regexp(v: &str) -> MatchValue {
        MatchValue {
            value: v.to_string(),
            is_regexp: true,
        }
    }
}

/// A configured source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub id: i64,
    /// `google`, `fb`, …; empty for user-defined sources.
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
    pub color: Option<String>,
    pub description: String,
    pub utm_source: Vec<MatchValue>,
    pub ref_domain: Vec<MatchValue>,
    pub phone: Vec<MatchValue>,
    pub email: Vec<MatchValue>,
}

impl Source {
    pub fn values(&self, kind: MatchKind) -> &[MatchValue] {
        match kind {
            MatchKind::UtmSource => &self.utm_source,
            MatchKind::RefDomain => &self.ref_domain,
            MatchKind::Phone => &self.phone,
            MatchKind::Email => &self.email,
        }
    }

    pub fn values_mut(&mut self, kind: MatchKind) -> &mut Vec<MatchValue> {
        match kind {
            MatchKind::UtmSource => &mut self.utm_source,
            MatchKind::RefDomain => &mut self.ref_domain,
            MatchKind::Phone => &mut self.phone,
            MatchKind::Email => &mut self.email,
        }
    }
}

/// A seeded source (§6.2 / decision (h)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSeed {
    pub code: &'static str,
    pub name: &'static str,
    pub utm_source: &'static [&'static str],
    pub ref_domain: &'static [&'static str],
}

/// The sources of a new portal, in id order (a fresh database gives them ids 1–7).
pub const SEEDS: [SourceSeed; 7] = [
    SourceSeed {
        code: "google",
        name: "Google Ads",
        utm_source: &["google"],
        ref_domain: &[],
    },
    SourceSeed {
        code: "fb",
        name: "Facebook",
        utm_source: &["facebook", "fb"],
        ref_domain: &["facebook.com"],
    },
    SourceSeed {
        code: "instagram",
        name: "Instagram",
        utm_source: &["instagram", "ig"],
        ref_domain: &["instagram.com"],
    },
    SourceSeed {
        code: "vk",
        name: "VK",
        utm_source: &["vk"],
        ref_domain: &["vk.com"],
    },
    SourceSeed {
        code: "vkads",
        name: "VK Ads",
        utm_source: &["vkads"],
        ref_domain: &[],
    },
    SourceSeed {
        code: "yandex",
        name: "Yandex.Direct",
        utm_source: &["yandex"],
        ref_domain: &[],
    },
    SourceSeed {
        code: "sender-mail",
        name: "Email Marketing",
        utm_source: &["email", "newsletter"],
        ref_domain: &[],
    },
];

impl SourceSeed {
    pub fn to_source(self, created_at: i64) -> Source {
        Source {
            id: 0,
            code: self.code.into(),
            name: self.name.into(),
            active: true,
            created_at,
            color: None,
            description: String::new(),
            utm_source: self
                .utm_source
                .iter()
                .map(|v| MatchValue::plain(v))
                .collect(),
            ref_domain: self
                .ref_domain
                .iter()
                .map(|v| MatchValue::plain(v))
                .collect(),
            phone: vec![],
            email: vec![],
        }
    }
}

/// The `utm_source` prefix of 1C integrations, which get a source of their own (§3 step 1).
pub const ONE_C_PREFIX: &str = "1c-b24-standalone-";
pub const ONE_C_CODE: &str = "1c";

/// Regular expressions of sources are compiled with this size limit (the admin's input is not
/// trusted to be small either).
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a source's regular expression, or says why it cannot be.
pub fn compile_regexp(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// Patterns compiled so far, by case-insensitivity and pattern text: every trace builds a
/// `SourceSet` and a `ChannelRules`, and compiling the same stored expressions again each time
/// would be most of its cost. A pattern's compilation depends on nothing else, so the cache is
/// right whatever the stored data does; it is cleared when it reaches `REGEX_CACHE_MAX` entries.
type RegexCache = HashMap<(bool, String), Result<Regex, String>>;
const REGEX_CACHE_MAX: usize = 512;

/// `compile` through the process-wide cache (`Regex` clones share the compiled program).
pub(crate) fn cached_regex(
    pattern: &str,
    case_insensitive: bool,
    compile: fn(&str) -> Result<Regex, String>,
) -> Result<Regex, String> {
    static CACHE: OnceLock<Mutex<RegexCache>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (case_insensitive, pattern.to_string());
    if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return hit.clone();
    }
    let compiled = compile(pattern);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= REGEX_CACHE_MAX {
        map.clear();
    }
    map.insert(key, compiled.clone());
    compiled
}

enum Matcher {
    Plain(String),
    Regex(Regex),
}

struct Compiled {
    id: i64,
    code: String,
    lists: Vec<(MatchKind, Vec<Matcher>)>,
}

/// What a trace offers to match against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints<'a> {
    /// `SOURCE_ID` of the old trace form: an id or a code.
    pub explicit: Option<&'a str>,
    pub utm_source: Option<&'a str>,
    pub referrer_host: Option<&'a str>,
    pub channels: &'a [TraceChannel],
}

/// The active sources of a portal, compiled once per call for matching.
pub struct SourceSet {
    sources: Vec<Compiled>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A referrer host against a configured domain: the domain itself (a leading `www.` ignored) or
/// any subdomain of it.
pub(crate) fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.strip_prefix("www.").unwrap_or(&domain);
    !domain.is_empty()
        && (host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.')))
}

impl SourceSet {
    /// Active sources in id order; a stored regular expression that no longer compiles is skipped
    /// (with a warning) rather than failing every trace.
    pub fn new(sources: &[Source]) -> SourceSet {
        let mut active: Vec<&Source> = sources.iter().filter(|s| s.active).collect();
        active.sort_by_key(|s| s.id);
        let sources = active
            .into_iter()
            .map(|s| Compiled {
                id: s.id,
                code: s.code.clone(),
                lists: MatchKind::ALL
                    .into_iter()
                    .map(|kind| {
                        let matchers = s
                            .values(kind)
                            .iter()
                            .filter_map(|v| {
                                if !v.is_regexp {
                                    return Some(Matcher::Plain(v.value.clone()));
                                }
                                match cached_regex(&v.value, false, compile_regexp) {
                                    Ok(re) => Some(Matcher::Regex(re)),
                                    Err(e) => {
                                        tracing::warn!(source = s.id, pattern = %v.value, error = %e,
                                            "source regular expression does not compile; skipped");
                                        None
                                    }
                                }
                            })
                            .collect();
                        (kind, matchers)
                    })
                    .collect(),
            })
            .collect();
        SourceSet { sources }
    }

    /// The first source with a list item of `kind` that matches `value`.
    pub fn find(&self, kind: MatchKind, value: &str) -> Option<i64> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let host = value.to_ascii_lowercase();
        let phone = digits(value);
        self.sources
            .iter()
            .find(|s| {
                s.lists
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .flat_map(|(_, ms)| ms)
                    .any(|m| match (m, kind) {
                        (Matcher::Regex(re), MatchKind::RefDomain) => re.is_match(&host),
                        (Matcher::Regex(re), _) => re.is_match(value),
                        (Matcher::Plain(p), MatchKind::UtmSource) => p == value,
                        (Matcher::Plain(p), MatchKind::RefDomain) => domain_matches(&host, p),
                        (Matcher::Plain(p), MatchKind::Phone) => {
                            !phone.is_empty() && digits(p) == phone
                        }
                        (Matcher::Plain(p), MatchKind::Email) => {
                            p.trim().eq_ignore_ascii_case(value)
                        }
                    })
            })
            .map(|s| s.id)
    }

    /// An active source named explicitly: by id (a number) or by code (exact, then ignoring case).
    pub fn explicit(&self, given: &str) -> Option<i64> {
        let given = given.trim();
        if let Ok(id) = given.parse::<i64>() {
            return self.sources.iter().find(|s| s.id == id).map(|s| s.id);
        }
        if given.is_empty() {
            return None;
        }
        self.sources
            .iter()
            .find(|s| s.code == given)
            .or_else(|| {
                self.sources
                    .iter()
                    .find(|s| s.code.eq_ignore_ascii_case(given))
            })
            .map(|s| s.id)
    }

    /// The resolution order of §6: explicit → utm_source → referrer host → channel values → 0.
    pub fn resolve(&self, hints: &Hints<'_>) -> i64 {
        if let Some(id) = hints.explicit.and_then(|e| self.explicit(e)) {
            return id;
        }
        if let Some(id) = hints
            .utm_source
            .and_then(|v| self.find(MatchKind::UtmSource, v))
        {
            return id;
        }
        if let Some(id) = hints
            .referrer_host
            .and_then(|h| self.find(MatchKind::RefDomain, h))
        {
            return id;
        }
        // Call tracking carries the number called, a mailbox the address written to.
        for channel in hints.channels {
            let kind = match channel.code.as_str() {
                "call" | "callback" => MatchKind::Phone,
                "mail" => MatchKind::Email,
                _ => continue,
            };
            if let Some(id) = channel.value.as_deref().and_then(|v| self.find(kind, v)) {
                return id;
            }
        }
        NO_SOURCE
    }

    pub fn code_of(&self, id: i64) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Vec<Source> {
        SEEDS
            .iter()
            .zip(1..)
            .map(|(s, id)| Source {
                id,
                ..s.to_source(0)
            })
            .collect()
    }

    fn hints<'a>(utm: Option<&'a str>, host: Option<&'a str>) -> Hints<'a> {
        Hints {
            utm_source: utm,
            referrer_host: host,
            ..Hints::default()
        }
    }

    #[test]
    fn seeds_follow_the_spec() {
        let codes: Vec<_> = SEEDS.iter().map(|s| s.code).collect();
        assert_eq!(
            codes,
            [
                "google",
                "fb",
                "instagram",
                "vk",
                "vkads",
                "yandex",
                "sender-mail"
            ]
        );
        let set = SourceSet::new(&seeded());
        for (utm, id) in [
            ("google", 1),
            ("facebook", 2),
            ("fb", 2),
            ("instagram", 3),
            ("ig", 3),
            ("vk", 4),
            ("vkads", 5),
            ("yandex", 6),
            ("email", 7),
            ("newsletter", 7),
        ] {
            assert_eq!(set.resolve(&hints(Some(utm), None)), id, "{utm}");
        }
    }

    #[test]
    fn utm_source_is_exact_and_case_sensitive() {
        let set = SourceSet::new(&seeded());
        assert_eq!(set.resolve(&hints(Some("Google"), None)), NO_SOURCE);
        assert_eq!(set.resolve(&hints(Some("googleads"), None)), NO_SOURCE);
        assert_eq!(set.resolve(&hints(Some(" google "), None)), 1);
    }

    #[test]
    fn referrer_domains_match_subdomains_only() {
        let set = SourceSet::new(&seeded());
        for host in [
            "facebook.com",
            "www.facebook.com",
            "m.facebook.com",
            "l.facebook.com",
        ] {
            assert_eq!(set.resolve(&hints(None, Some(host))), 2, "{host}");
        }
        assert_eq!(set.resolve(&hints(None, Some("notfacebook.com"))), 0);
        assert_eq!(set.resolve(&hints(None, Some("facebook.com.evil.org"))), 0);
        assert_eq!(set.resolve(&hints(None, Some("vk.com"))), 4);
        assert_eq!(set.resolve(&hints(None, Some("www.google.com"))), 0);
        // A configured `www.` domain also matches the bare host.
        let mut s = seeded();
        s[0].ref_domain = vec![MatchValue::plain("www.google.com")];
        let set = SourceSet::new(&s);
        assert_eq!(set.resolve(&hints(None, Some("google.com"))), 1);
        assert_eq!(set.resolve(&hints(None, Some("www.google.com"))), 1);
    }

    #[test]
    fn regular_expressions() {
        let mut s = seeded();
        s.push(Source {
            id: 8,
            name: "Partners".into(),
            active: true,
            utm_source: vec![MatchValue::regexp("^partner-[0-9]+$")],
            ref_domain: vec![MatchValue::regexp(r"(^|\.)partner\.(com|net)$")],
            ..Source::default()
        });
        s.push(Source {
            id: 9,
            name: "Unanchored".into(),
            active: true,
            utm_source: vec![MatchValue::regexp("(?i)promo")],
            ..Source::default()
        });
        let set = SourceSet::new(&s);
        assert_eq!(set.resolve(&hints(Some("partner-17"), None)), 8);
        assert_eq!(set.resolve(&hints(Some("partner-x"), None)), 0);
        assert_eq!(set.resolve(&hints(Some("SpringPROMO2025"), None)), 9);
        assert_eq!(set.resolve(&hints(None, Some("shop.partner.net"))), 8);
        assert_eq!(set.resolve(&hints(None, Some("partner.org"))), 0);
        // A broken pattern (stored before validation existed) is skipped.
        s[7].utm_source = vec![MatchValue::regexp("(")];
        assert_eq!(
            SourceSet::new(&s).resolve(&hints(Some("partner-1"), None)),
            0
        );
        assert!(compile_regexp("(").is_err());
        assert!(compile_regexp(&"a{1000}{1000}".repeat(4)).is_err());
    }

    #[test]
    fn regex_cache() {
        let ci = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|e| e.to_string())
        };
        for _ in 0..2 {
            let plain = cached_regex("^Ab+$", false, compile_regexp).unwrap();
            assert!(plain.is_match("Abb") && !plain.is_match("abb"));
            // The same pattern compiled the other way is a different entry.
            let folded = cached_regex("^Ab+$", true, ci).unwrap();
            assert!(folded.is_match("abb"));
            assert_eq!(
                cached_regex("(", false, compile_regexp).unwrap_err(),
                compile_regexp("(").unwrap_err()
            );
        }
        // Past the bound the cache starts over and still answers.
        for i in 0..REGEX_CACHE_MAX + 3 {
            let re = cached_regex(&format!("^x{i}$"), false, compile_regexp).unwrap();
            assert!(re.is_match(&format!("x{i}")));
        }
    }

    #[test]
    fn resolution_order() {
        let set = SourceSet::new(&seeded());
        let explicit = Hints {
            explicit: Some("instagram"),
            utm_source: Some("google"),
            referrer_host: Some("facebook.com"),
            ..Hints::default()
        };
        assert_eq!(set.resolve(&explicit), 3);
        assert_eq!(
            set.resolve(&Hints {
                explicit: Some("5"),
                ..explicit.clone()
            }),
            5
        );
        // An unknown explicit source is ignored.
        assert_eq!(
            set.resolve(&Hints {
                explicit: Some("99"),
                ..explicit.clone()
            }),
            1
        );
        assert_eq!(
            set.resolve(&Hints {
                explicit: Some("VK"),
                ..explicit.clone()
            }),
            4
        );
        assert_eq!(set.resolve(&hints(Some("google"), Some("facebook.com"))), 1);
        assert_eq!(
            set.resolve(&hints(Some("unknown"), Some("facebook.com"))),
            2
        );
        assert_eq!(set.resolve(&hints(Some("unknown"), Some("example.com"))), 0);
        assert_eq!(set.resolve(&Hints::default()), 0);
    }

    #[test]
    fn channel_values_and_inactive_sources() {
        let mut s = seeded();
        s[2].phone = vec![MatchValue::plain("+1 (555) 010-20")];
        s[3].email = vec![MatchValue::plain("Sales@Example.com")];
        let set = SourceSet::new(&s);
        let call = [TraceChannel::new("call", Some("1555 01020"))];
        let mail = [
            TraceChannel::new("site", Some("x.example")),
            TraceChannel::new("mail", Some("sales@example.com")),
        ];
        assert_eq!(
            set.resolve(&Hints {
                channels: &call,
                ..Hints::default()
            }),
            3
        );
        assert_eq!(
            set.resolve(&Hints {
                channels: &mail,
                ..Hints::default()
            }),
            4
        );
        s[0].active = false;
        let set = SourceSet::new(&s);
        assert_eq!(set.resolve(&hints(Some("google"), None)), 0);
        assert_eq!(set.explicit("google"), None);
        assert_eq!(set.explicit("1"), None);
        assert_eq!(set.code_of(2), Some("fb"));
    }
}
