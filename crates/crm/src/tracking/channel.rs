//! GA4-style channel groups (§14, our extension): a pure function from a trace's UTM tags,
//! referrer host and click ids to one of 19 groups, rules top-down, first match wins, all
//! comparisons case-insensitive.
//!
//! The rules are the spec's table; the lists they consult (search engines, social networks, video
//! and shopping sites, medium sets, patterns) are the data table `data/channel_lists.json`, built
//! into the binary (search/social hosts from Matomo's public-domain lists; see the generator).
//!
//! A portal's own override rules (`ChannelRule`, `leadtrace.tracking.channel.rule.*`) come first:
//! `classify_with_rules` evaluates the active ones top-down (by `SORT`, then id) and falls back to
//! the default table when none matches. A trace's group is computed once, when it is saved, so a
//! rule change affects traces created after it.

use super::source::{cached_regex, domain_matches, MatchValue, REGEX_SIZE_LIMIT};
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::OnceLock;

/// A channel group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelGroup {
    Direct,
    CrossNetwork,
    PaidShopping,
    PaidSearch,
    PaidSocial,
    PaidVideo,
    Display,
    PaidOther,
    OrganicShopping,
    OrganicSocial,
    OrganicVideo,
    OrganicSearch,
    Email,
    Affiliates,
    Referral,
    Audio,
    Sms,
    MobilePush,
    Unassigned,
}

impl ChannelGroup {
    pub const ALL: [ChannelGroup; 19] = [
        ChannelGroup::Direct,
        ChannelGroup::CrossNetwork,
        ChannelGroup::PaidShopping,
        ChannelGroup::PaidSearch,
        ChannelGroup::PaidSocial,
        ChannelGroup::PaidVideo,
        ChannelGroup::Display,
        ChannelGroup::PaidOther,
        ChannelGroup::OrganicShopping,
        ChannelGroup::OrganicSocial,
        ChannelGroup::OrganicVideo,
        ChannelGroup::OrganicSearch,
        ChannelGroup::Email,
        ChannelGroup::Affiliates,
        ChannelGroup::Referral,
        ChannelGroup::Audio,
        ChannelGroup::Sms,
        ChannelGroup::MobilePush,
        ChannelGroup::Unassigned,
    ];

    /// The stored code (`paid_search`).
    pub fn code(self) -> &'static str {
        match self {
            ChannelGroup::Direct => "direct",
            ChannelGroup::CrossNetwork => "cross_network",
            ChannelGroup::PaidShopping => "paid_shopping",
            ChannelGroup::PaidSearch => "paid_search",
            ChannelGroup::PaidSocial => "paid_social",
            ChannelGroup::PaidVideo => "paid_video",
            ChannelGroup::Display => "display",
            ChannelGroup::PaidOther => "paid_other",
            ChannelGroup::OrganicShopping => "organic_shopping",
            ChannelGroup::OrganicSocial => "organic_social",
            ChannelGroup::OrganicVideo => "organic_video",
            ChannelGroup::OrganicSearch => "organic_search",
            ChannelGroup::Email => "email",
            ChannelGroup::Affiliates => "affiliates",
            ChannelGroup::Referral => "referral",
            ChannelGroup::Audio => "audio",
            ChannelGroup::Sms => "sms",
            ChannelGroup::MobilePush => "mobile_push",
            ChannelGroup::Unassigned => "unassigned",
        }
    }

    /// The caption (`Paid Search`).
    pub fn name(self) -> &'static str {
        match self {
            ChannelGroup::Direct => "Direct",
            ChannelGroup::CrossNetwork => "Cross-network",
            ChannelGroup::PaidShopping => "Paid Shopping",
            ChannelGroup::PaidSearch => "Paid Search",
            ChannelGroup::PaidSocial => "Paid Social",
            ChannelGroup::PaidVideo => "Paid Video",
            ChannelGroup::Display => "Display",
            ChannelGroup::PaidOther => "Paid Other",
            ChannelGroup::OrganicShopping => "Organic Shopping",
            ChannelGroup::OrganicSocial => "Organic Social",
            ChannelGroup::OrganicVideo => "Organic Video",
            ChannelGroup::OrganicSearch => "Organic Search",
            ChannelGroup::Email => "Email",
            ChannelGroup::Affiliates => "Affiliates",
            ChannelGroup::Referral => "Referral",
            ChannelGroup::Audio => "Audio",
            ChannelGroup::Sms => "SMS",
            ChannelGroup::MobilePush => "Mobile Push",
            ChannelGroup::Unassigned => "Unassigned",
        }
    }

    pub fn from_code(code: &str) -> Option<ChannelGroup> {
        ChannelGroup::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// What the classifier looks at. Values are compared lower-cased; empty counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelInput {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub referrer_host: Option<String>,
    pub gclid: bool,
    pub fbclid: bool,
    pub yclid: bool,
    /// `gad_source` of the landing URL (`1` = a Google Ads click).
    pub gad_source: Option<String>,
}

/// Click-id parameters read from a landing URL (an allow-list: nothing else is looked at).
pub const CLICK_IDS: [&str; 4] = ["gclid", "fbclid", "yclid", "gad_source"];

impl ChannelInput {
    /// Sets the click ids found in the query of `landing_url`.
    pub fn with_landing_url(mut self, landing_url: Option<&str>) -> ChannelInput {
        let Some(url) = landing_url.and_then(|u| url::Url::parse(u).ok()) else {
            return self;
        };
        for (key, value) in url.query_pairs() {
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "gclid" => self.gclid = true,
                "fbclid" => self.fbclid = true,
                "yclid" => self.yclid = true,
                "gad_source" => self.gad_source = Some(value.chars().take(16).collect()),
                _ => {}
            }
        }
        self
    }
}

/// A list of the data table: names (what `utm_source` says) and host patterns (`{}` stands for
/// one label, or a country TLD such as `co.uk` in the last position).
struct List {
    names: HashSet<String>,
    hosts: Vec<Vec<String>>,
}

impl List {
    fn from_json(v: &Value) -> List {
        let strings = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        };
        List {
            names: strings("names").into_iter().collect(),
            hosts: strings("hosts")
                .into_iter()
                .map(|h| h.split('.').map(str::to_string).collect())
                .collect(),
        }
    }

    /// A source (a `utm_source` or a referrer host) is in the list by name, or as a host under
    /// one of the list's hosts.
    fn contains(&self, source: &str) -> bool {
        if self.names.contains(source) {
            return true;
        }
        if !source.contains('.') {
            return false;
        }
        let labels: Vec<&str> = source.split('.').collect();
        (0..labels.len()).any(|start| {
            self.hosts
                .iter()
                .any(|pattern| labels_match(&labels[start..], pattern))
        })
    }
}

/// Whether `labels` (a host suffix) is exactly `pattern`, where `{}` matches one label, or one
/// or two labels at the end (`google.{}` covers `google.de` and `google.co.uk`).
fn labels_match(labels: &[&str], pattern: &[String]) -> bool {
    match pattern.split_first() {
        None => labels.is_empty(),
        Some((first, rest)) if first == "{}" && rest.is_empty() => {
            labels.len() == 1 || (labels.len() == 2 && labels[1].len() <= 3)
        }
        Some((first, rest)) => match labels.split_first() {
            Some((label, more)) if first == "{}" || first == label => labels_match(more, rest),
            _ => false,
        },
    }
}

struct Table {
    search: List,
    social: List,
    video: List,
    shopping: List,
    display_mediums: HashSet<String>,
    social_mediums: HashSet<String>,
    email_values: HashSet<String>,
    referral_mediums: HashSet<String>,
    none_mediums: HashSet<String>,
    paid_medium: Regex,
    shopping_campaign: Regex,
    video_medium: Regex,
}

/// The data table shipped with the binary.
const DATA: &str = include_str!("data/channel_lists.json");

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The file is part of the source tree and covered by tests: a broken one is a build bug.
        let v: Value = serde_json::from_str(DATA).expect("channel_lists.json is valid JSON");
        let set = |key: &str| -> HashSet<String> {
            v["mediums"][key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        };
        let pattern = |key: &str| {
            Regex::new(v["patterns"][key].as_str().unwrap_or("$^"))
                .expect("channel_lists.json patterns compile")
        };
        Table {
            search: List::from_json(&v["search"]),
            social: List::from_json(&v["social"]),
            video: List::from_json(&v["video"]),
            shopping: List::from_json(&v["shopping"]),
            display_mediums: set("display"),
            social_mediums: set("social"),
            email_values: set("email"),
            referral_mediums: set("referral"),
            none_mediums: set("none"),
            paid_medium: pattern("paid_medium"),
            shopping_campaign: pattern("shopping_campaign"),
            video_medium: pattern("video_medium"),
        }
    })
}

fn norm(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_lowercase()
}

/// The channel group of a touch (§14), first matching rule wins.
pub fn classify(input: &ChannelInput) -> ChannelGroup {
    let t = table();
    let utm_source = norm(&input.utm_source);
    let medium = norm(&input.utm_medium);
    let campaign = norm(&input.utm_campaign);
    let referrer = norm(&input.referrer_host);
    let gad_source = norm(&input.gad_source);
    let source = if utm_source.is_empty() {
        referrer.as_str()
    } else {
        utm_source.as_str()
    };
    let click_id = input.gclid || input.fbclid || input.yclid || !gad_source.is_empty();
    let paid = t.paid_medium.is_match(&medium);
    let shopping_campaign = t.shopping_campaign.is_match(&campaign);
    let in_search = t.search.contains(source);
    let in_social = t.social.contains(source);
    let in_video = t.video.contains(source);
    let in_shopping = t.shopping.contains(source);

    use ChannelGroup as G;
    let no_source = utm_source.is_empty() || utm_source == "(direct)";
    if no_source && t.none_mediums.contains(&medium) && referrer.is_empty() && !click_id {
        return G::Direct;
    }
    if campaign.contains("cross-network") {
        return G::CrossNetwork;
    }
    if (in_shopping || shopping_campaign) && paid {
        return G::PaidShopping;
    }
    if (in_search && paid) || input.gclid || gad_source == "1" {
        return G::PaidSearch;
    }
    if (in_social || input.fbclid) && paid {
        return G::PaidSocial;
    }
    if in_video && paid {
        return G::PaidVideo;
    }
    if t.display_mediums.contains(&medium) {
        return G::Display;
    }
    if paid {
        return G::PaidOther;
    }
    if in_shopping || shopping_campaign {
        return G::OrganicShopping;
    }
    if in_social || t.social_mediums.contains(&medium) || input.fbclid {
        return G::OrganicSocial;
    }
    if in_video || t.video_medium.is_match(&medium) {
        return G::OrganicVideo;
    }
    if in_search || medium == "organic" {
        return G::OrganicSearch;
    }
    if t.email_values.contains(source) || t.email_values.contains(&medium) {
        return G::Email;
    }
    if medium == "affiliate" {
        return G::Affiliates;
    }
    if t.referral_mediums.contains(&medium) || !referrer.is_empty() {
        return G::Referral;
    }
    if medium == "audio" {
        return G::Audio;
    }
    if source == "sms" || medium == "sms" {
        return G::Sms;
    }
    if medium.ends_with("push")
        || medium.contains("mobile")
        || medium.contains("notification")
        || source == "firebase"
    {
        return G::MobilePush;
    }
    G::Unassigned
}

/// What a condition of an override rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleField {
    UtmSource,
    UtmMedium,
    UtmCampaign,
    /// The referrer's host.
    RefDomain,
}

impl RuleField {
    pub const ALL: [RuleField; 4] = [
        RuleField::UtmSource,
        RuleField::UtmMedium,
        RuleField::UtmCampaign,
        RuleField::RefDomain,
    ];

    /// The storage and API name (`UTM_SOURCE`, `UTM_MEDIUM`, `UTM_CAMPAIGN`, `REF_DOMAIN`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleField::UtmSource => "UTM_SOURCE",
            RuleField::UtmMedium => "UTM_MEDIUM",
            RuleField::UtmCampaign => "UTM_CAMPAIGN",
            RuleField::RefDomain => "REF_DOMAIN",
        }
    }

    pub fn parse(s: &str) -> Option<RuleField> {
        RuleField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    fn value(self, input: &ChannelInput) -> Option<&str> {
        let v = match self {
            RuleField::UtmSource => &input.utm_source,
            RuleField::UtmMedium => &input.utm_medium,
            RuleField::UtmCampaign => &input.utm_campaign,
            RuleField::RefDomain => &input.referrer_host,
        };
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

/// A portal's channel override rule (§14 "user-defined override rules", our extension): when
/// every field that has values matches one of them, the trace gets `group`.
///
/// Values are plain (compared ignoring case; a `REF_DOMAIN` value also matches its subdomains, as
/// a source's referrer domain does) or regular expressions (Rust `regex` syntax, unanchored,
/// ignoring case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRule {
    pub id: i64,
    /// Rules run by `sort`, then id (ascending).
    pub sort: i64,
    pub active: bool,
    pub name: String,
    pub group: ChannelGroup,
    pub created_at: i64,
    pub utm_source: Vec<MatchValue>,
    pub utm_medium: Vec<MatchValue>,
    pub utm_campaign: Vec<MatchValue>,
    pub ref_domain: Vec<MatchValue>,
}

impl Default for ChannelRule {
    fn default() -> Self {
        ChannelRule {
            id: 0,
            sort: ChannelRule::DEFAULT_SORT,
            active: true,
            name: String::new(),
            group: ChannelGroup::Unassigned,
            created_at: 0,
            utm_source: vec![],
            utm_medium: vec![],
            utm_campaign: vec![],
            ref_domain: vec![],
        }
    }
}

impl ChannelRule {
    pub const DEFAULT_SORT: i64 = 100;

    pub fn values(&self, field: RuleField) -> &[MatchValue] {
        match field {
            RuleField::UtmSource => &self.utm_source,
            RuleField::UtmMedium => &self.utm_medium,
            RuleField::UtmCampaign => &self.utm_campaign,
            RuleField::RefDomain => &self.ref_domain,
        }
    }

    pub fn values_mut(&mut self, field: RuleField) -> &mut Vec<MatchValue> {
        match field {
            RuleField::UtmSource => &mut self.utm_source,
            RuleField::UtmMedium => &mut self.utm_medium,
            RuleField::UtmCampaign => &mut self.utm_campaign,
            RuleField::RefDomain => &mut self.ref_domain,
        }
    }

    /// Whether the rule has any condition at all (one without never matches).
    pub fn has_conditions(&self) -> bool {
        RuleField::ALL
            .into_iter()
            .any(|f| !self.values(f).is_empty())
    }
}

/// Compiles a rule's regular expression (ignoring case, size-limited like a source's), or says
/// why it cannot be.
pub fn compile_rule_regexp(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

enum RuleMatcher {
    /// Lower-cased.
    Plain(String),
    Regex(Regex),
}

struct CompiledRule {
    id: i64,
    group: ChannelGroup,
    conditions: Vec<(RuleField, Vec<RuleMatcher>)>,
}

impl CompiledRule {
    fn matches(&self, input: &ChannelInput) -> bool {
        self.conditions.iter().all(|(field, matchers)| {
            let Some(value) = field.value(input) else {
                return false;
            };
            let lower = value.to_lowercase();
            matchers.iter().any(|m| match (m, field) {
                (RuleMatcher::Regex(re), _) => re.is_match(value),
                (RuleMatcher::Plain(p), RuleField::RefDomain) => domain_matches(&lower, p),
                (RuleMatcher::Plain(p), _) => *p == lower,
            })
        })
    }
}

/// A portal's active override rules, compiled once per call, in evaluation order.
#[derive(Default)]
pub struct ChannelRules {
    rules: Vec<CompiledRule>,
}

impl ChannelRules {
    /// Active rules with at least one condition, by `sort` then id. A rule with a stored regular
    /// expression that no longer compiles is skipped as a whole (with a warning): dropping just
    /// that item could make the rule match more than its author meant.
    pub fn new(rules: &[ChannelRule]) -> ChannelRules {
        let mut active: Vec<&ChannelRule> = rules
            .iter()
            .filter(|r| r.active && r.has_conditions())
            .collect();
        active.sort_by_key(|r| (r.sort, r.id));
        let rules = active
            .into_iter()
            .filter_map(|r| {
                let mut conditions = Vec::new();
                for field in RuleField::ALL {
                    let values = r.values(field);
                    if values.is_empty() {
                        continue;
                    }
                    let mut matchers = Vec::with_capacity(values.len());
                    for v in values {
                        if !v.is_regexp {
                            matchers.push(RuleMatcher::Plain(v.value.trim().to_lowercase()));
                            continue;
                        }
                        match cached_regex(&v.value, true, compile_rule_regexp) {
                            Ok(re) => matchers.push(RuleMatcher::Regex(re)),
                            Err(e) => {
                                tracing::warn!(rule = r.id, pattern = %v.value, error = %e,
                                    "channel rule regular expression does not compile; rule skipped");
                                return None;
                            }
                        }
                    }
                    conditions.push((field, matchers));
                }
                Some(CompiledRule {
                    id: r.id,
                    group: r.group,
                    conditions,
                })
            })
            .collect();
        ChannelRules { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule that matches: its id and group.
    pub fn first_match(&self, input: &ChannelInput) -> Option<(i64, ChannelGroup)> {
        self.rules
            .iter()
            .find(|r| r.matches(input))
            .map(|r| (r.id, r.group))
    }
}

/// The channel group of a touch with the portal's override rules: the first matching rule wins,
/// else the default table (`classify`).
pub fn classify_with_rules(rules: &ChannelRules, input: &ChannelInput) -> ChannelGroup {
    rules
        .first_match(input)
        .map_or_else(|| classify(input), |(_, group)| group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(source: &str, medium: &str, campaign: &str, referrer: &str) -> ChannelInput {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ChannelInput {
            utm_source: opt(source),
            utm_medium: opt(medium),
            utm_campaign: opt(campaign),
            referrer_host: opt(referrer),
            ..ChannelInput::default()
        }
    }

    #[test]
    fn the_data_table_loads() {
        let t = table();
        assert!(t.search.contains("google"));
        assert!(t.search.contains("www.google.co.uk"));
        assert!(t.search.contains("yandex.ru"));
        assert!(t.social.contains("facebook"));
        assert!(t.social.contains("l.facebook.com"));
        assert!(!t.search.contains("www.facebook.com"));
        assert!(t.video.contains("www.youtube.com"));
        assert!(!t.social.contains("youtube.com"));
        assert!(t.shopping.contains("www.amazon.de"));
        assert!(!t.search.contains("example.com"));
        assert!(!t.search.contains("notgoogle.com"));
        for g in ChannelGroup::ALL {
            assert_eq!(ChannelGroup::from_code(g.code()), Some(g));
        }
    }

    #[test]
    fn host_patterns() {
        let p = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        let m = |host: &str, pat: &str| {
            let labels: Vec<&str> = host.split('.').collect();
            labels_match(&labels, &p(pat))
        };
        assert!(m("google.de", "google.{}"));
        assert!(m("google.co.uk", "google.{}"));
        assert!(!m("google.evil.example", "google.{}"));
        assert!(m("de.search.example", "{}.search.example"));
        assert!(!m("search.example", "{}.search.example"));
        assert!(m("bing.com", "bing.com"));
    }

    #[test]
    fn a_table_of_examples() {
        use ChannelGroup as G;
        let cases: &[(ChannelInput, ChannelGroup)] = &[
            (input("", "", "", ""), G::Direct),
            (input("(direct)", "(none)", "", ""), G::Direct),
            (input("", "(not set)", "", ""), G::Direct),
            (
                input("google", "cpc", "x_cross-network_y", ""),
                G::CrossNetwork,
            ),
            (input("amazon", "cpc", "", ""), G::PaidShopping),
            (
                input("newsletter", "paid", "summer-shop", ""),
                G::PaidShopping,
            ),
            (input("google", "cpc", "", ""), G::PaidSearch),
            (input("Google", "CPC", "", ""), G::PaidSearch),
            (input("yandex", "ppc", "", ""), G::PaidSearch),
            (input("bing", "paidsearch", "", ""), G::PaidSearch),
            (input("facebook", "cpc", "", ""), G::PaidSocial),
            (input("fb", "paid_social", "", ""), G::PaidSocial),
            (input("vk", "cpm", "", ""), G::PaidSocial),
            (
                input("", "retargeting", "", "l.instagram.com"),
                G::PaidSocial,
            ),
            (input("youtube", "cpv", "", ""), G::PaidVideo),
            (input("partner", "banner", "", ""), G::Display),
            (input("partner", "display", "", ""), G::Display),
            (input("partner", "cpa", "", ""), G::PaidOther),
            // `cpm` is a display medium, and Display comes before Paid Other.
            (input("partner", "cpm", "", ""), G::Display),
            (input("ebay", "", "", ""), G::OrganicShopping),
            (input("", "", "", "www.etsy.com"), G::OrganicShopping),
            (input("", "", "", "www.facebook.com"), G::OrganicSocial),
            (input("", "", "", "t.co"), G::OrganicSocial),
            (input("blog", "social", "", ""), G::OrganicSocial),
            (input("", "", "", "m.youtube.com"), G::OrganicVideo),
            (input("cdn", "video-ad", "", ""), G::OrganicVideo),
            (input("", "", "", "www.google.com"), G::OrganicSearch),
            (input("", "", "", "yandex.ru"), G::OrganicSearch),
            (input("", "", "", "duckduckgo.com"), G::OrganicSearch),
            (input("partner", "organic", "", ""), G::OrganicSearch),
            (input("newsletter", "email", "", ""), G::Email),
            (input("e-mail", "", "", ""), G::Email),
            (input("partner", "affiliate", "", ""), G::Affiliates),
            (input("partner", "referral", "", ""), G::Referral),
            (input("", "", "", "blog.example.org"), G::Referral),
            (input("podcast", "audio", "", ""), G::Audio),
            (input("sms", "", "", ""), G::Sms),
            (input("partner", "sms", "", ""), G::Sms),
            (input("app", "web-push", "", ""), G::MobilePush),
            (input("firebase", "", "", ""), G::MobilePush),
            (input("partner", "notification", "", ""), G::MobilePush),
            (input("partner", "", "", ""), G::Unassigned),
            (input("partner", "weird", "", ""), G::Unassigned),
        ];
        for (i, expected) in cases {
            assert_eq!(classify(i), *expected, "{i:?}");
        }
    }

    #[test]
    fn click_ids() {
        let with = |url: &str| ChannelInput::default().with_landing_url(Some(url));
        assert_eq!(
            classify(&with("https://s.example/?gclid=abc")),
            ChannelGroup::PaidSearch
        );
        assert_eq!(
            classify(&with("https://s.example/?gad_source=1")),
            ChannelGroup::PaidSearch
        );
        // A click id is not direct traffic, even when nothing else says where it came from.
        assert_eq!(
            classify(&with("https://s.example/?gad_source=2")),
            ChannelGroup::Unassigned
        );
        assert_eq!(
            classify(&with("https://s.example/?fbclid=x")),
            ChannelGroup::OrganicSocial
        );
        let mut paid = with("https://s.example/?fbclid=x");
        paid.utm_medium = Some("cpc".into());
        paid.utm_source = Some("partner".into());
        assert_eq!(classify(&paid), ChannelGroup::PaidSocial);
        assert_eq!(
            classify(&with("https://s.example/?yclid=5")),
            ChannelGroup::Unassigned
        );
        assert_eq!(classify(&with("not a url")), ChannelGroup::Direct);
        assert_eq!(
            classify(&with("https://s.example/?gclid=")),
            ChannelGroup::Direct
        );
    }

    fn rule(id: i64, sort: i64, group: ChannelGroup) -> ChannelRule {
        ChannelRule {
            id,
            sort,
            group,
            ..ChannelRule::default()
        }
    }

    #[test]
    fn rules_come_before_the_defaults() {
        use ChannelGroup as G;
        let mut partner = rule(1, 100, G::Affiliates);
        partner.utm_source = vec![
            MatchValue::plain("Partner"),
            MatchValue::regexp("^aff-\\d+$"),
        ];
        let mut paid_partner = rule(2, 50, G::PaidOther);
        paid_partner.utm_source = vec![MatchValue::plain("partner")];
        paid_partner.utm_medium = vec![MatchValue::plain("cpc")];
        let mut google_brand = rule(3, 100, G::OrganicSearch);
        google_brand.utm_source = vec![MatchValue::plain("google")];
        google_brand.utm_campaign = vec![MatchValue::regexp("brand")];
        let mut blog = rule(4, 100, G::Email);
        blog.ref_domain = vec![MatchValue::plain("www.blog.example")];
        let rules = ChannelRules::new(&[partner.clone(), paid_partner, google_brand, blog.clone()]);
        let cases: &[(ChannelInput, ChannelGroup, Option<i64>)] = &[
            // Plain values ignore case and surrounding blanks.
            (input(" PARTNER ", "", "", ""), G::Affiliates, Some(1)),
            (input("aff-17", "", "", ""), G::Affiliates, Some(1)),
            (input("AFF-17", "", "", ""), G::Affiliates, Some(1)),
            (input("aff-x", "", "", ""), G::Unassigned, None),
            // The lower SORT runs first; all fields of a rule must match.
            (input("partner", "CPC", "", ""), G::PaidOther, Some(2)),
            (input("partner", "cpm", "", ""), G::Affiliates, Some(1)),
            // An unanchored regular expression, ignoring case.
            (
                input("google", "cpc", "Spring-BRAND-2026", ""),
                G::OrganicSearch,
                Some(3),
            ),
            // A field the input lacks does not match.
            (input("google", "cpc", "", ""), G::PaidSearch, None),
            // A referrer domain (its `www.` ignored) matches the host and its subdomains only.
            (input("", "", "", "blog.example"), G::Email, Some(4)),
            (input("", "", "", "news.blog.example"), G::Email, Some(4)),
            (input("", "", "", "notblog.example"), G::Referral, None),
            (input("", "", "", ""), G::Direct, None),
        ];
        for (i, expected, id) in cases {
            assert_eq!(classify_with_rules(&rules, i), *expected, "{i:?}");
            assert_eq!(rules.first_match(i).map(|(id, _)| id), *id, "{i:?}");
        }
        // Without rules it is the default table.
        let none = ChannelRules::new(&[]);
        assert!(none.is_empty());
        assert_eq!(
            classify_with_rules(&none, &input("partner", "cpc", "", "")),
            G::PaidOther
        );
        // Equal SORT: the lower id first.
        let mut a = rule(9, 10, G::Sms);
        a.utm_source = vec![MatchValue::plain("x")];
        let mut b = rule(8, 10, G::Audio);
        b.utm_source = vec![MatchValue::regexp("^x$")];
        let ordered = ChannelRules::new(&[a, b]);
        assert_eq!(
            ordered.first_match(&input("x", "", "", "")),
            Some((8, G::Audio))
        );
    }

    #[test]
    fn inactive_empty_and_broken_rules_never_match() {
        use ChannelGroup as G;
        let mut off = rule(1, 1, G::Sms);
        off.utm_source = vec![MatchValue::plain("a")];
        off.active = false;
        let empty = rule(2, 1, G::Audio);
        assert!(!empty.has_conditions());
        let mut broken = rule(3, 1, G::Email);
        broken.utm_source = vec![MatchValue::plain("a"), MatchValue::regexp("(")];
        let mut ok = rule(4, 2, G::Display);
        ok.utm_source = vec![MatchValue::plain("a")];
        let rules = ChannelRules::new(&[off, empty, broken, ok]);
        assert_eq!(
            rules.first_match(&input("a", "", "", "")),
            Some((4, G::Display))
        );
        assert_eq!(
            classify_with_rules(&rules, &input("", "", "", "")),
            G::Direct
        );
        assert!(compile_rule_regexp("(").is_err());
        assert!(compile_rule_regexp("ABC").unwrap().is_match("xabcx"));
        for f in RuleField::ALL {
            assert_eq!(RuleField::parse(f.as_str()), Some(f));
        }
    }
}
