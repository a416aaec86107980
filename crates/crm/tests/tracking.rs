//! Sales Intelligence against the in-memory store: the trace every legacy add makes (TRACE JSON,
//! numeric TRACE, invalid TRACE, UTM only), deals binding their clients, the attribution window
//! (generic: it works for any family with a table), `crm.tracking.trace.add/delete` permissions,
//! and `Tracking::Off` for `crm.item.*`.

mod support;

use bx_wire::{ApiError, Output, Params};
use crm::engine;
use crm::tracking::{self, service, Utm};
use crm::{Actor, Ctx, EntityKind, PortalSettings, Rights};
use serde_json::{json, Value};
use support::MemStore;

const PORTAL: i64 = 1;
const NOW: i64 = 1_716_481_105;
const DAY: i64 = 86_400;
const LEAD: EntityKind = EntityKind::Lead;

fn params(v: Value) -> Params {
    match v {
        Value::Object(m) => m,
        _ => Params::new(),
    }
}

fn admin() -> Actor {
    Actor {
        portal_id: PORTAL,
        user_id: 1,
        rights: Rights::admin(),
    }
}

fn user(id: i64, spec: &str) -> Actor {
    Actor {
        portal_id: PORTAL,
        user_id: id,
        rights: Rights::parse(spec).unwrap(),
    }
}

struct World {
    store: MemStore,
    settings: PortalSettings,
    now: i64,
}

impl World {
    fn new() -> World {
        World {
            store: MemStore::seeded().with_sources(PORTAL),
            settings: PortalSettings {
                time_zone: chrono_tz::UTC,
                currency: "USD".into(),
            },
            now: NOW,
        }
    }

    async fn run(&mut self, actor: &Actor, method: &str, p: Value) -> Result<Output, ApiError> {
        let ctx = Ctx {
            actor,
            settings: &self.settings,
            now: self.now,
        };
        let p = params(p);
        let s = &mut self.store;
        match method {
            "lead.add" => engine::add(s, &ctx, LEAD, &p).await,
            "item.add" => crm::item::add(s, &ctx, &p).await,
            "lead.update" => engine::update(s, &ctx, LEAD, &p).await,
            "item.update" => crm::item::update(s, &ctx, &p).await,
            "lead.delete" => engine::delete(s, &ctx, LEAD, &p).await,
            "trace.add" => service::trace_add(s, &ctx, &p).await,
            "trace.delete" => service::trace_delete(s, &ctx, &p).await,
            "entity.get" => service::entity_get(s, &ctx, &p).await,
            other => panic!("unknown method {other}"),
        }
    }

    async fn ok(&mut self, method: &str, p: Value) -> Value {
        self.run(&admin(), method, p)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
            .result
    }

    async fn add_lead(&mut self, fields: Value) -> i64 {
        self.ok("lead.add", json!({ "fields": fields }))
            .await
            .as_i64()
            .unwrap()
    }

    fn lead_traces(&self, id: i64) -> Vec<&tracking::Trace> {
        self.store.traces_of(PORTAL, LEAD, id)
    }

    /// A trace bound to a record of any family (made here when missing), `age_days` old, with
    /// this source.
    fn client_trace(&mut self, kind: EntityKind, id: i64, source_id: i64, age_days: i64) {
        self.store
            .records
            .entry((kind, PORTAL))
            .or_default()
            .entry(id)
            .or_default();
        let trace_id = self.store.traces.len() as i64 + 1000;
        let mut data = tracking::TraceData {
            created_at: NOW - age_days * DAY,
            source_id,
            channel_group: "paid_social".into(),
            ..Default::default()
        };
        data.utm.set("UTM_SOURCE", Some("fb".into()));
        data.utm.set("UTM_MEDIUM", Some("cpc".into()));
        self.store.traces.insert(
            (PORTAL, trace_id),
            tracking::Trace {
                id: trace_id,
                data,
                children: vec![],
            },
        );
        let seq = self.store.trace_bindings.len() as i64 + 1;
        self.store.trace_bindings.push((
            PORTAL,
            tracking::Binding {
                trace_id,
                kind,
                entity_id: id,
                bound_at: NOW - age_days * DAY,
                seq,
            },
        ));
    }
}

fn channels(t: &tracking::Trace) -> Vec<(String, Option<String>)> {
    t.data
        .channels
        .iter()
        .map(|c| (c.code.clone(), c.value.clone()))
        .collect()
}

#[tokio::test]
async fn every_rest_add_makes_a_trace_with_channel_rest() {
    let mut w = World::new();
    let id = w.add_lead(json!({"TITLE": "plain"})).await;
    let traces = w.lead_traces(id);
    assert_eq!(traces.len(), 1);
    let t = traces[0];
    assert_eq!(t.data.source_id, 0);
    assert_eq!(t.data.channel_group, "direct");
    assert_eq!(channels(t), vec![("rest".into(), None)]);
    assert_eq!(t.data.created_at, NOW);
}

#[tokio::test]
async fn utm_fields_make_the_trace_and_its_source() {
    let mut w = World::new();
    let id = w
        .add_lead(json!({"TITLE": "utm", "UTM_SOURCE": "facebook", "UTM_MEDIUM": "cpc", "UTM_CAMPAIGN": "spring"}))
        .await;
    let t = w.lead_traces(id)[0].clone();
    assert_eq!(t.data.source_id, 2);
    assert_eq!(t.data.utm.campaign.as_deref(), Some("spring"));
    assert_eq!(t.data.channel_group, "paid_social");
}

#[tokio::test]
async fn trace_json_on_add_with_record_utm_winning() {
    let mut w = World::new();
    let trace = json!({
        "url": "https://shop.example/?utm_source=google", "ref": "https://www.google.com/",
        "tags": {"ts": NOW - 60, "list": {"utm_source": "google", "utm_medium": "cpc", "utm_term": "boots"}},
        "pages": {"list": [["https://shop.example/", NOW - 60, "Shop"]]},
        "gid": "g-1",
        "previous": {"list": [{"url": "https://shop.example/x", "ref": "https://vk.com/", "tags": {"ts": NOW - 10 * DAY}}]}
    })
    .to_string();
    let id = w
        .add_lead(json!({"TITLE": "t", "UTM_SOURCE": "instagram", "TRACE": trace}))
        .await;
    let t = w.lead_traces(id)[0].clone();
    assert_eq!(t.data.source_id, 3, "the record's UTM_SOURCE wins");
    assert_eq!(t.data.utm.source.as_deref(), Some("instagram"));
    assert_eq!(t.data.utm.term.as_deref(), Some("boots"));
    assert_eq!(t.data.guest_id.as_deref(), Some("g-1"));
    assert_eq!(t.data.raw_json.as_deref(), Some(trace.as_str()));
    assert_eq!(
        channels(&t),
        vec![
            ("site".into(), Some("shop.example".into())),
            ("rest".into(), None)
        ]
    );
    assert_eq!(t.data.pages.len(), 2);
    assert!(t.data.pages[0].is_referrer);
    assert_eq!(t.children.len(), 1);
    let child = &w.store.traces[&(PORTAL, t.children[0])];
    assert_eq!(child.data.source_id, 4);
    assert_eq!(child.data.created_at, NOW - 10 * DAY);
    // The record's own UTM fields are never filled from TRACE.
    let lead = w.store.record(LEAD, PORTAL, id).unwrap();
    assert_eq!(
        lead.cols
            .get("utm_term")
            .cloned()
            .unwrap_or(crm::DbValue::Null),
        crm::DbValue::Null
    );
}

#[tokio::test]
async fn invalid_trace_on_add_is_ignored() {
    let mut w = World::new();
    for bad in [
        json!("{not json"),
        json!("null"),
        json!({"tags": {"list": {"utm_source": "x".repeat(300)}}}),
    ] {
        let id = w
            .add_lead(json!({"TITLE": "bad trace", "UTM_SOURCE": "google", "TRACE": bad}))
            .await;
        let t = w.lead_traces(id)[0].clone();
        assert_eq!(t.data.source_id, 1, "built from the UTM fields only");
        assert_eq!(t.data.raw_json, None);
    }
}

#[tokio::test]
async fn numeric_trace_binds_the_existing_trace() {
    let mut w = World::new();
    let trace_id = w
        .ok(
            "trace.add",
            json!({"TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"vk\"}}}"}),
        )
        .await
        .as_i64()
        .unwrap();
    let traces_before = w.store.traces.len();
    let a = w
        .add_lead(json!({"TITLE": "a", "TRACE": trace_id.to_string()}))
        .await;
    let b = w.add_lead(json!({"TITLE": "b", "TRACE": trace_id})).await;
    assert_eq!(w.store.traces.len(), traces_before, "no new trace");
    for id in [a, b] {
        let t = w.lead_traces(id)[0];
        assert_eq!(t.id, trace_id);
        assert_eq!(t.data.source_id, 4);
    }
    let t = &w.store.traces[&(PORTAL, trace_id)];
    assert_eq!(channels(t), vec![("rest".into(), None)], "rest added once");
    // An unknown number is as if TRACE were absent.
    let c = w.add_lead(json!({"TITLE": "c", "TRACE": "999999"})).await;
    assert_ne!(w.lead_traces(c)[0].id, trace_id);
    assert_eq!(w.lead_traces(c)[0].data.source_id, 0);
}

#[tokio::test]
async fn item_path_makes_no_trace() {
    let mut w = World::new();
    let item = w
        .ok(
            "item.add",
            json!({"entityTypeId": 1, "fields": {"title": "item", "utmSource": "google", "TRACE": "{}"}}),
        )
        .await;
    let id = item["item"]["id"].as_i64().unwrap();
    assert_eq!(item["item"]["utmSource"], json!("google"));
    assert!(w.lead_traces(id).is_empty());
    assert!(w.store.traces.is_empty());
    w.ok(
        "item.update",
        json!({"entityTypeId": 1, "id": id, "fields": {"utmSource": "fb"}}),
    )
    .await;
    assert!(w.store.traces.is_empty());
}

#[tokio::test]
async fn update_makes_a_trace_only_for_another_source() {
    let mut w = World::new();
    let id = w
        .add_lead(json!({"TITLE": "u", "UTM_SOURCE": "google"}))
        .await;
    // TRACE is never read on update.
    w.ok(
        "lead.update",
        json!({"id": id, "fields": {"TRACE": "{\"SOURCE_ID\":\"vk\"}", "TITLE": "x"}}),
    )
    .await;
    assert_eq!(w.lead_traces(id).len(), 1);
    // Same source: nothing.
    w.ok(
        "lead.update",
        json!({"id": id, "fields": {"UTM_MEDIUM": "cpc"}}),
    )
    .await;
    assert_eq!(w.lead_traces(id).len(), 1);
    // Another source: a new effective trace.
    w.ok(
        "lead.update",
        json!({"id": id, "fields": {"UTM_SOURCE": "fb"}}),
    )
    .await;
    let traces = w.lead_traces(id);
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0].data.source_id, 2);
    assert_eq!(traces[0].data.utm.medium.as_deref(), Some("cpc"));
    assert_eq!(channels(traces[0]), vec![("rest".into(), None)]);
}

#[tokio::test]
async fn attribution_window_for_a_client_with_a_recent_source() {
    let mut w = World::new();
    w.client_trace(EntityKind::Contact, 50, 2, 3);
    let id = w
        .add_lead(json!({"TITLE": "returning", "CONTACT_ID": 50}))
        .await;
    let t = w.lead_traces(id)[0].clone();
    assert_eq!(t.data.source_id, 2, "inherited from the contact");
    assert_eq!(t.data.utm.source.as_deref(), Some("fb"));
    assert_eq!(t.data.channel_group, "paid_social");
    assert_eq!(channels(&t), vec![("rest".into(), None)]);

    // Companies count too, and the most recent trace wins.
    w.client_trace(EntityKind::Company, 60, 4, 1);
    let id = w
        .add_lead(json!({"TITLE": "both", "CONTACT_IDS": [50], "COMPANY_ID": 60}))
        .await;
    assert_eq!(w.lead_traces(id)[0].data.source_id, 4);

    // Outside the window, with its own source, or with the option off: no inheritance.
    w.client_trace(EntityKind::Contact, 70, 2, 29);
    let id = w.add_lead(json!({"TITLE": "old", "CONTACT_ID": 70})).await;
    assert_eq!(w.lead_traces(id)[0].data.source_id, 0);
    let id = w
        .add_lead(json!({"TITLE": "own", "CONTACT_ID": 50, "UTM_SOURCE": "unknown-source"}))
        .await;
    assert_eq!(
        w.lead_traces(id)[0].data.source_id,
        0,
        "a UTM_SOURCE of its own blocks the window"
    );
    let id = w
        .add_lead(
            json!({"TITLE": "trace", "CONTACT_ID": 50, "TRACE": "{\"SOURCE_ID\":\"google\"}"}),
        )
        .await;
    assert_eq!(
        w.lead_traces(id)[0].data.source_id,
        1,
        "an explicit TRACE wins (E12)"
    );
    w.store.tracking_settings.insert(
        PORTAL,
        tracking::TrackingSettings {
            use_attribution_window: false,
            attribution_window_days: 28,
        },
    );
    let id = w.add_lead(json!({"TITLE": "off", "CONTACT_ID": 50})).await;
    assert_eq!(w.lead_traces(id)[0].data.source_id, 0);
    w.store.tracking_settings.insert(
        PORTAL,
        tracking::TrackingSettings {
            use_attribution_window: true,
            attribution_window_days: 2,
        },
    );
    let id = w
        .add_lead(json!({"TITLE": "short", "CONTACT_ID": 50}))
        .await;
    assert_eq!(
        w.lead_traces(id)[0].data.source_id,
        0,
        "3 days is outside a 2-day window"
    );
}

/// A deal made by `crm.deal.add` inherits its company's source through the window and binds its
/// first contact and its company to its trace.
#[tokio::test]
async fn deals_bind_their_clients_and_use_the_window() {
    let mut w = World::new();
    w.client_trace(EntityKind::Company, 8, 6, 5);
    w.store
        .records
        .entry((EntityKind::Contact, PORTAL))
        .or_default()
        .insert(5, Default::default());
    let actor = admin();
    let ctx = Ctx {
        actor: &actor,
        settings: &w.settings,
        now: NOW,
    };
    let p = params(json!({"fields": {"TITLE": "d", "CONTACT_IDS": [5, 6], "COMPANY_ID": 8}}));
    let deal_id = engine::add(&mut w.store, &ctx, EntityKind::Deal, &p)
        .await
        .unwrap()
        .result
        .as_i64()
        .unwrap();
    let deal = w.store.traces_of(PORTAL, EntityKind::Deal, deal_id)[0].clone();
    assert_eq!(deal.data.source_id, 6);
    let contact = w.store.traces_of(PORTAL, EntityKind::Contact, 5)[0].clone();
    assert_eq!(
        contact.id, deal.id,
        "the deal's contact is bound to its trace"
    );
    assert!(w.store.traces_of(PORTAL, EntityKind::Contact, 6).is_empty());
    let company = w.store.traces_of(PORTAL, EntityKind::Company, 8)[0].clone();
    assert_eq!(
        company.id, deal.id,
        "the company is bound as a company (E10)"
    );

    // Contacts do not use the window, and bind nothing else.
    let added = service::RecordAdded {
        kind: EntityKind::Contact,
        id: 90,
        utm: Utm::default(),
        contact_ids: vec![],
        company_id: Some(8),
        trace: None,
    };
    service::record_added(&mut w.store, &ctx, &added)
        .await
        .unwrap();
    assert_eq!(
        w.store.traces_of(PORTAL, EntityKind::Contact, 90)[0]
            .data
            .source_id,
        0
    );
}

#[tokio::test]
async fn one_c_utm_source_gets_a_source() {
    let mut w = World::new();
    let id = w
        .add_lead(json!({"TITLE": "1c", "UTM_SOURCE": "1c-b24-standalone-abc", "UTM_CAMPAIGN": "Shop 1C"}))
        .await;
    let t = w.lead_traces(id)[0].clone();
    let (_, source) = w
        .store
        .sources
        .iter()
        .find(|(_, s)| s.code == "1c")
        .cloned()
        .unwrap();
    assert_eq!(t.data.source_id, source.id);
    assert_eq!(source.name, "Shop 1C");
    // A second standalone value joins the same source.
    let id = w
        .add_lead(json!({"TITLE": "1c", "UTM_SOURCE": "1c-b24-standalone-xyz"}))
        .await;
    assert_eq!(w.lead_traces(id)[0].data.source_id, source.id);
    assert_eq!(
        w.store
            .sources
            .iter()
            .filter(|(_, s)| s.code == "1c")
            .count(),
        1
    );
}

#[tokio::test]
async fn trace_add_checks_entities_in_order_and_creates_nothing_on_failure() {
    let mut w = World::new();
    let mine = w
        .add_lead(json!({"TITLE": "mine", "ASSIGNED_BY_ID": 5}))
        .await;
    let theirs = w
        .add_lead(json!({"TITLE": "theirs", "ASSIGNED_BY_ID": 6}))
        .await;
    let traces = w.store.traces.len();
    let bob = user(5, "lead=read:own,update:own");
    let trace = "{\"tags\":{\"list\":{\"utm_source\":\"google-maps\"}}}";
    let cases = [
        (json!({}), "Parameter `TRACE` required."),
        (json!({"TRACE": "  "}), "Parameter `TRACE` required."),
        (
            json!({"TRACE": "{"}),
            "Can not parse JSON in parameter `TRACE`.",
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "lead", "ID": mine}]}),
            "Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE",
        ),
        (
            json!({"TRACE": trace, "ENTITIES": ["LEAD"]}),
            "Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE",
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": "x"}]}),
            "Wrong ID in parameter `ENTITIES`.",
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": mine}, {"TYPE": "LEAD", "ID": theirs}]}),
            &*format!("You have no access to entity `LEAD` with ID `{theirs}`."),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": 424242}]}),
            "You have no access to entity `LEAD` with ID `424242`.",
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "DEAL", "ID": 3}]}),
            "You have no access to entity `DEAL` with ID `3`.",
        ),
        // The first failure wins: a bad ID before a bad TYPE.
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": 0}, {"TYPE": "X", "ID": 1}]}),
            "Wrong ID in parameter `ENTITIES`.",
        ),
    ];
    for (p, text) in cases {
        let e = w.run(&bob, "trace.add", p.clone()).await.unwrap_err();
        assert_eq!(
            (e.code(), e.description(), e.status()),
            ("ERROR_CORE", text, 400),
            "{p}"
        );
    }
    assert_eq!(w.store.traces.len(), traces, "nothing created");

    let id = w
        .run(
            &bob,
            "trace.add",
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": mine.to_string()}]}),
        )
        .await
        .unwrap()
        .result
        .as_i64()
        .unwrap();
    assert_eq!(w.lead_traces(mine)[0].id, id, "now the effective trace");
    assert_eq!(
        w.store.traces[&(PORTAL, id)].data.source_id,
        0,
        "google-maps is not `google`"
    );
    // Without ENTITIES (or with a non-array one) the trace is unbound.
    for p in [
        json!({"TRACE": trace}),
        json!({"TRACE": trace, "ENTITIES": "LEAD"}),
    ] {
        let id = w
            .run(&bob, "trace.add", p)
            .await
            .unwrap()
            .result
            .as_i64()
            .unwrap();
        assert!(w.store.trace_bindings.iter().all(|(_, b)| b.trace_id != id));
    }
}

#[tokio::test]
async fn trace_delete_removes_what_the_caller_may_change() {
    let mut w = World::new();
    let mine = w
        .add_lead(json!({"TITLE": "mine", "ASSIGNED_BY_ID": 5}))
        .await;
    let theirs = w
        .add_lead(json!({"TITLE": "theirs", "ASSIGNED_BY_ID": 6}))
        .await;
    let bob = user(5, "lead=read:all,update:own");
    let trace = "{\"SOURCE_ID\":\"fb\"}";
    let shared = w
        .ok("trace.add", json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": mine}, {"TYPE": "LEAD", "ID": theirs}]}))
        .await
        .as_i64()
        .unwrap();
    for p in [
        json!({}),
        json!({"id": ""}),
        json!({"id": 0}),
        json!({"ID": shared}),
    ] {
        let e = w.run(&bob, "trace.delete", p).await.unwrap_err();
        assert_eq!(
            (e.code(), e.description()),
            ("ERROR_CORE", "Parameter `id` required.")
        );
    }
    let out = w
        .run(&bob, "trace.delete", json!({"id": shared}))
        .await
        .unwrap();
    assert_eq!(out.result, Value::Null);
    assert!(
        w.store.traces.contains_key(&(PORTAL, shared)),
        "not all bindings were Bob's"
    );
    assert_ne!(
        w.lead_traces(mine)[0].id,
        shared,
        "falls back to the earlier trace"
    );
    assert_eq!(w.lead_traces(theirs)[0].id, shared);
    // The owner of the rest removes the trace itself.
    w.ok("trace.delete", json!({"id": shared})).await;
    assert!(!w.store.traces.contains_key(&(PORTAL, shared)));
    assert!(w
        .store
        .trace_bindings
        .iter()
        .all(|(_, b)| b.trace_id != shared));
    // Unknown ids succeed silently.
    assert_eq!(
        w.ok("trace.delete", json!({"id": "987654"})).await,
        Value::Null
    );
}

#[tokio::test]
async fn deleting_a_record_removes_its_bindings() {
    let mut w = World::new();
    let id = w.add_lead(json!({"TITLE": "gone"})).await;
    assert_eq!(w.lead_traces(id).len(), 1);
    w.ok("lead.delete", json!({"id": id})).await;
    assert!(w
        .store
        .trace_bindings
        .iter()
        .all(|(_, b)| b.entity_id != id));
}

#[tokio::test]
async fn entity_get_shows_the_journey_newest_first() {
    let mut w = World::new();
    let id = w
        .add_lead(json!({"TITLE": "j", "UTM_SOURCE": "google", "UTM_MEDIUM": "cpc",
                         "TRACE": {"url": "https://s.example/", "pages": {"list": [["https://s.example/", NOW - 5, "Home"]]},
                                   "previous": {"list": [{"url": "https://s.example/old", "tags": {"ts": NOW - DAY}}]}}}))
        .await;
    w.now += 10;
    w.ok("trace.add", json!({"TRACE": "{\"ref\":\"https://m.facebook.com/\"}", "ENTITIES": [{"TYPE": "LEAD", "ID": id}]}))
        .await;
    let out = w.ok("entity.get", json!({"TYPE": "LEAD", "ID": id})).await;
    assert_eq!(out["ENTITY_TYPE"], json!("LEAD"));
    assert_eq!(out["ENTITY_ID"], json!(id));
    assert_eq!(
        out["SOURCE"],
        json!({"ID": 2, "CODE": "fb", "NAME": "Facebook"})
    );
    let traces = out["TRACES"].as_array().unwrap();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0]["SOURCE"]["CODE"], json!("fb"));
    assert_eq!(
        traces[0]["CHANNEL_GROUP"],
        json!({"CODE": "organic_social", "NAME": "Organic Social"})
    );
    assert_eq!(traces[0]["PAGES"][0]["IS_REFERRER"], json!("Y"));
    assert_eq!(traces[0]["PAGES"][0]["TITLE"], json!("m.facebook.com"));
    let first = &traces[1];
    assert_eq!(
        first["SOURCE"],
        json!({"ID": 1, "CODE": "google", "NAME": "Google Ads"})
    );
    assert_eq!(first["UTM"]["UTM_MEDIUM"], json!("cpc"));
    assert_eq!(first["CHANNEL_GROUP"]["CODE"], json!("paid_search"));
    assert_eq!(
        first["CHANNELS"],
        json!([{"CODE": "site", "NAME": "Site", "VALUE": "s.example"}, {"CODE": "rest", "NAME": "Application", "VALUE": null}])
    );
    assert_eq!(
        first["PAGES"],
        json!([{"URL": "https://s.example/", "DATE": "2024-05-23T16:18:20+00:00", "TITLE": "Home", "IS_REFERRER": "N"}])
    );
    assert_eq!(first["DATE_CREATE"], json!("2024-05-23T16:18:25+00:00"));
    assert_eq!(first["PREVIOUS"].as_array().unwrap().len(), 1);
    assert_eq!(first["PREVIOUS"][0]["URL"], json!("https://s.example/old"));
    assert_eq!(
        first["PREVIOUS"][0]["DATE_CREATE"],
        json!("2024-05-22T16:18:25+00:00")
    );
    assert_eq!(first["IS_MOBILE"], json!("N"));

    // entityTypeId works too; reading needs the right to read the record.
    let same = w
        .ok("entity.get", json!({"entityTypeId": 1, "id": id}))
        .await;
    assert_eq!(same, out);
    let e = w
        .run(
            &user(9, "lead=read:own"),
            "entity.get",
            json!({"TYPE": "LEAD", "ID": id}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.description(), "Access denied.");
    let e = w
        .run(&admin(), "entity.get", json!({"TYPE": "LEAD", "ID": 999}))
        .await
        .unwrap_err();
    assert_eq!(e.description(), "Not found");
    let e = w
        .run(&admin(), "entity.get", json!({"TYPE": "BOGUS", "ID": 1}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ERROR_CORE");
    let e = w
        .run(&admin(), "entity.get", json!({"TYPE": "LEAD"}))
        .await
        .unwrap_err();
    assert_eq!(e.description(), "ID is not defined or invalid.");
}
