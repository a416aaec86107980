//! Sales Intelligence (spec/sales-intelligence.md): traces (customer journeys) parsed from the
//! website tracker's JSON, resolved to configurable sources, classified into GA4-style channel
//! groups and bound to CRM records; the attribution window; the methods that expose all of it.
//!
//! Pure logic lives in `parse` (the TRACE JSON, with size caps), `source` (matching and the
//! resolution order), `channel` (channel groups from an embedded data table) and `window` (the
//! attribution window rule). `service` runs them against `Storage` (trace add/delete, the hooks the
//! engine calls on add/update, the journey of a record), `sources` manages sources and
//! `channel_rules` the portal's channel override rules (migration 0010). `expense` validates
//! expense packs and splits them into days (§12.2); `expenses` manages them.
//!
//! For reports (migration 0008): a record's effective trace is its `crm_trace_entity` row with the
//! highest `seq` (a tie goes to the higher `trace_id`); `si_trace.source_id` (0 = none),
//! `channel_group` and `created_at` are that trace's source, channel group and time; previous visits
//! are `si_trace_link` children, dated by their captured `tags.ts`. The attribution window (also the
//! look-back of attribution models) is `Storage::tracking_settings`. Expenses (migration 0009): the
//! report reads `Storage::expense_totals` (daily rows summed per source and currency over a range).

pub mod attribution;
pub mod channel;
pub mod channel_rules;
pub mod expense;
pub mod expenses;
pub mod parse;
pub mod report;
pub mod service;
pub mod source;
pub mod sources;
pub mod window;

pub use channel::{ChannelGroup, ChannelRule, ChannelRules, RuleField};
pub use expense::{ExpenseDay, ExpenseFilter, ExpensePack, ExpenseTotal};
pub use parse::{ParsedTrace, TraceError};
pub use service::{RecordAdded, RecordUpdated, Tracking};
pub use source::{MatchKind, MatchValue, Source, SourceSet};

use serde_json::{Map, Value};

/// The record fields that carry UTM tags, in Bitrix24's order (also the `tags.list` keys upper-cased).
pub const UTM_FIELDS: [&str; 5] = [
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
];

/// The entity types a trace may be bound to, as `ENTITIES[][TYPE]` spells them (sorted: this is
/// also the order of the error text).
pub const ENTITY_TYPES: [&str; 5] = ["COMPANY", "CONTACT", "DEAL", "LEAD", "QUOTE"];

/// The source id of "no source" (Organic / other traffic); it is virtual, never stored as a row.
pub const NO_SOURCE: i64 = 0;
pub const NO_SOURCE_CODE: &str = "organic";
pub const NO_SOURCE_NAME: &str = "Organic / other traffic";

/// Channel codes a trace may carry (§7); other codes in `channels[]` are ignored.
pub const CHANNELS: [(&str, &str); 16] = [
    ("mail", "Mail"),
    ("call", "Call"),
    ("imol", "Open Channels"),
    ("site", "Site"),
    ("site24", "Bitrix24 Site"),
    ("shop24", "Bitrix24 Store"),
    ("crm-shop", "CRM store"),
    ("site-domain", "Site"),
    ("button", "Widget"),
    ("form", "CRM form"),
    ("callback", "Callback"),
    ("rest", "Application"),
    ("order", "Checkout"),
    ("sales-center", "Sales center"),
    ("fb-lead-ads", "Facebook Lead Ads"),
    ("vk-lead-ads", "VK Lead Ads"),
];

/// The caption of a channel code.
pub fn channel_name(code: &str) -> Option<&'static str> {
    CHANNELS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// UTM tags, each `None` when absent or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub content: Option<String>,
    pub term: Option<String>,
}

impl Utm {
    fn slot(&mut self, field: &str) -> Option<&mut Option<String>> {
        match field {
            "UTM_SOURCE" => Some(&mut self.source),
            "UTM_MEDIUM" => Some(&mut self.medium),
            "UTM_CAMPAIGN" => Some(&mut self.campaign),
            "UTM_CONTENT" => Some(&mut self.content),
            "UTM_TERM" => Some(&mut self.term),
            _ => None,
        }
    }

    /// The value of `UTM_SOURCE` ... `UTM_TERM`.
    pub fn get(&self, field: &str) -> Option<&str> {
        match field {
            "UTM_SOURCE" => self.source.as_deref(),
            "UTM_MEDIUM" => self.medium.as_deref(),
            "UTM_CAMPAIGN" => self.campaign.as_deref(),
            "UTM_CONTENT" => self.content.as_deref(),
            "UTM_TERM" => self.term.as_deref(),
            _ => None,
        }
    }

    /// Sets a tag; an empty (or blank) value clears it. Unknown names are ignored.
    pub fn set(&mut self, field: &str, value: Option<String>) {
        if let Some(slot) = self.slot(field) {
            *slot = value.filter(|v| !v.trim().is_empty());
        }
    }

    /// `(field, value)` in `UTM_FIELDS` order.
    pub fn entries(&self) -> [(&'static str, Option<&str>); 5] {
        UTM_FIELDS.map(|f| (f, self.get(f)))
    }

    pub fn is_empty(&self) -> bool {
        self.entries().iter().all(|(_, v)| v.is_none())
    }

    /// Tags of `over` replace these where `over` has a value (the record's fields win, §3).
    pub fn overlay(&mut self, over: &Utm) {
        for (field, value) in over.entries() {
            if let Some(v) = value {
                self.set(field, Some(v.to_string()));
            }
        }
    }

    /// Tags of `under` fill only the ones missing here.
    pub fn fill_from(&mut self, under: &Utm) {
        for (field, value) in under.entries() {
            if self.get(field).is_none() {
                self.set(field, value.map(str::to_string));
            }
        }
    }

    /// `{"UTM_SOURCE": …, …}` with `null` for missing tags.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (field, value) in self.entries() {
            m.insert(field.into(), value.map_or(Value::Null, Value::from));
        }
        Value::Object(m)
    }
}

/// A page of a journey (oldest first); the referrer, when there is one, comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub url: String,
    /// Unix seconds; `None` when the tracker did not say.
    pub visited_at: Option<i64>,
    pub title: String,
    pub is_referrer: bool,
}

/// A `{code, value}` channel of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceChannel {
    pub code: String,
    pub value: Option<String>,
}

impl TraceChannel {
    pub fn new(code: &str, value: Option<&str>) -> TraceChannel {
        TraceChannel {
            code: code.to_string(),
            value: value.map(str::to_string),
        }
    }
}

/// Everything stored about one trace (spec §10 `si_trace` and its pages and channels).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceData {
    /// Unix seconds: when the trace was made (a previous visit: when its tags were captured).
    pub created_at: i64,
    /// The resolved source; `NO_SOURCE` (0) for none.
    pub source_id: i64,
    /// The old docs form's `SOURCE_DESC` (extension).
    pub source_description: Option<String>,
    pub guest_id: Option<String>,
    pub is_mobile: bool,
    pub landing_url: Option<String>,
    pub referrer_url: Option<String>,
    pub utm: Utm,
    pub gclid: Option<String>,
    /// The tracker's `client` object (analytics client ids) as JSON text.
    pub client_ids: Option<String>,
    pub has_children: bool,
    /// The `ChannelGroup` code (extension, §14).
    pub channel_group: String,
    /// The TRACE text as received (top-level traces only), for audit.
    pub raw_json: Option<String>,
    pub pages: Vec<Page>,
    pub channels: Vec<TraceChannel>,
}

/// A stored trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub id: i64,
    pub data: TraceData,
    /// Ids of the traces of its previous visits.
    pub children: Vec<i64>,
}

/// A trace ↔ record link. A record's effective trace is its binding with the highest `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub trace_id: i64,
    pub kind: crate::EntityKind,
    pub entity_id: i64,
    pub bound_at: i64,
    pub seq: i64,
}

/// Per-portal Sales Intelligence settings (§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingSettings {
    /// "Use attribution window for leads and deals".
    pub use_attribution_window: bool,
    pub attribution_window_days: i64,
}

impl TrackingSettings {
    pub const DEFAULT_WINDOW_DAYS: i64 = 28;
    /// The longest window we accept (a year; the tracker's own lifespan setting is in days too).
    pub const MAX_WINDOW_DAYS: i64 = 365;
}

impl Default for TrackingSettings {
    fn default() -> Self {
        TrackingSettings {
            use_attribution_window: true,
            attribution_window_days: Self::DEFAULT_WINDOW_DAYS,
        }
    }
}

/// The host of a URL, lower-cased, without a trailing dot; `None` when it has none.
pub fn host_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim())
        .or_else(|_| url::Url::parse(&format!("http://{}", url.trim())))
        .ok()?;
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_overlay_and_fill() {
        let mut a = Utm::default();
        a.set("UTM_SOURCE", Some("google".into()));
        a.set("UTM_MEDIUM", Some("cpc".into()));
        let mut b = Utm::default();
        b.set("UTM_SOURCE", Some("fb".into()));
        b.set("UTM_TERM", Some(" ".into()));
        b.set("UTM_CAMPAIGN", Some("spring".into()));
        let mut over = a.clone();
        over.overlay(&b);
        assert_eq!(over.source.as_deref(), Some("fb"));
        assert_eq!(over.medium.as_deref(), Some("cpc"));
        assert_eq!(over.campaign.as_deref(), Some("spring"));
        assert_eq!(over.term, None);
        let mut fill = a.clone();
        fill.fill_from(&b);
        assert_eq!(fill.source.as_deref(), Some("google"));
        assert_eq!(fill.campaign.as_deref(), Some("spring"));
        assert!(Utm::default().is_empty());
        assert_eq!(
            a.to_json(),
            serde_json::json!({"UTM_SOURCE": "google", "UTM_MEDIUM": "cpc", "UTM_CAMPAIGN": null,
                               "UTM_CONTENT": null, "UTM_TERM": null})
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://WWW.Example.com./a?b").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(host_of("example.org/x").as_deref(), Some("example.org"));
        assert_eq!(host_of("mailto:a@b.c"), None);
        assert_eq!(host_of(""), None);
    }
}
