//! The engine end to end against an in-memory store: add → get → update → list → delete,
//! derived fields, multifield merging, paging, permissions and the status dictionary methods.

mod support;

use bx_wire::{ApiError, Output, Params};
use crm::{engine, status, userfield, Actor, Ctx, EntityKind, PortalSettings, Rights};
use serde_json::{json, Value};
use support::MemStore;

const PORTAL: i64 = 1;
/// 2024-05-23T18:18:25+02:00
const NOW: i64 = 1_716_481_105;
const LEAD: EntityKind = EntityKind::Lead;

fn admin(user_id: i64) -> Actor {
    Actor {
        portal_id: PORTAL,
        user_id,
        rights: Rights::admin(),
    }
}

fn with_rights(user_id: i64, spec: &str) -> Actor {
    Actor {
        portal_id: PORTAL,
        user_id,
        rights: Rights::parse(spec).expect("rights spec"),
    }
}

fn params(v: Value) -> Params {
    match v {
        Value::Object(m) => m,
        _ => Params::new(),
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
            store: MemStore::seeded(),
            settings: PortalSettings {
                time_zone: chrono_tz::Europe::Berlin,
                currency: "EUR".into(),
            },
            now: NOW,
        }
    }

    async fn call(&mut self, actor: &Actor, method: &str, p: Value) -> Result<Output, ApiError> {
        let ctx = Ctx {
            actor,
            settings: &self.settings,
            now: self.now,
        };
        let p = params(p);
        let s = &mut self.store;
        match method {
            "add" => engine::add(s, &ctx, LEAD, &p).await,
            "update" => engine::update(s, &ctx, LEAD, &p).await,
            "get" => engine::get(s, &ctx, LEAD, &p).await,
            "list" => engine::list(s, &ctx, LEAD, &p).await,
            "delete" => engine::delete(s, &ctx, LEAD, &p).await,
            "status.list" => status::list(s, &ctx, &p).await,
            "status.entity.items" => status::entity_items(s, &ctx, &p).await,
            "fields" => engine::fields(s, &ctx, LEAD).await,
            "userfield.add" => userfield::add(s, &ctx, LEAD, &p).await,
            "userfield.update" => userfield::update(s, &ctx, LEAD, &p).await,
            "userfield.get" => userfield::get(s, &ctx, LEAD, &p).await,
            "userfield.list" => userfield::list(s, &ctx, LEAD, &p).await,
            "userfield.delete" => userfield::delete(s, &ctx, LEAD, &p).await,
            other => panic!("unknown method {other}"),
        }
    }

    async fn ok(&mut self, method: &str, p: Value) -> Output {
        self.call(&admin(1), method, p)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    async fn add(&mut self, fields: Value) -> i64 {
        self.ok("add", json!({ "fields": fields }))
            .await
            .result
            .as_i64()
            .expect("add returns an integer")
    }

    async fn get(&mut self, id: i64) -> Value {
        self.ok("get", json!({ "id": id })).await.result
    }

    /// Adds a record of another family directly through the engine.
    async fn add_kind(&mut self, kind: EntityKind, fields: Value) -> i64 {
        let actor = admin(1);
        let ctx = Ctx {
            actor: &actor,
            settings: &self.settings,
            now: self.now,
        };
        engine::add(
            &mut self.store,
            &ctx,
            kind,
            &params(json!({ "fields": fields })),
        )
        .await
        .unwrap_or_else(|e| panic!("add {kind:?}: {e}"))
        .result
        .as_i64()
        .expect("add returns an integer")
    }

    /// Defines a lead user field; returns its id.
    async fn define(&mut self, fields: Value) -> i64 {
        self.ok("userfield.add", json!({ "fields": fields }))
            .await
            .result
            .as_i64()
            .expect("userfield.add returns an integer")
    }

    async fn err(&mut self, actor: &Actor, method: &str, p: Value) -> String {
        match self.call(actor, method, p).await {
            Ok(out) => panic!("{method} succeeded: {:?}", out.result),
            Err(e) => {
                assert_eq!(e.code(), "", "legacy errors have an empty code");
                assert_eq!(e.status(), 400);
                e.description().to_string()
            }
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn ids(out: &Output) -> Vec<i64> {
    out.result
        .as_array()
        .expect("list result is a JSON list")
        .iter()
        .map(|r| {
            r["ID"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("ID string")
        })
        .collect()
}

#[tokio::test]
async fn add_then_get_applies_defaults_and_has_the_documented_shape() {
    let mut w = World::new();
    let out = w
        .ok(
            "add",
            json!({"fields": {
                "TITLE": "Lead #1591", "NAME": "", "SOURCE_ID": "WEB", "TRACE": "{}", "UNKNOWN": 1,
                "PHONE": [{"VALUE": "+15454777777", "VALUE_TYPE": "OTHER"}],
                "IM": {"n0": {"VALUE": "imol|livechat|1|67|21", "VALUE_TYPE": "OPENLINE"}}
            }, "params": {"REGISTER_SONET_EVENT": "Y"}}),
        )
        .await;
    assert_eq!(out.result, json!(1));
    assert_eq!((out.total, out.next), (None, None));

    let lead = w.get(1).await;
    let mut expected: Vec<String> = EntityKind::Lead
        .legacy_output_order()
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.extend(["PHONE".to_string(), "IM".to_string()]);
    assert_eq!(keys(&lead), expected);
    let stamp = json!("2024-05-23T18:18:25+02:00");
    for (k, v) in [
        ("ID", json!("1")),
        ("TITLE", json!("Lead #1591")),
        ("NAME", json!("")),
        ("SECOND_NAME", json!(null)),
        ("SOURCE_ID", json!("WEB")),
        ("STATUS_ID", json!("NEW")),
        ("STATUS_SEMANTIC_ID", json!("P")),
        ("CURRENCY_ID", json!("EUR")),
        ("OPPORTUNITY", json!("0.00")),
        ("IS_MANUAL_OPPORTUNITY", json!("N")),
        ("OPENED", json!("Y")),
        ("HAS_PHONE", json!("Y")),
        ("HAS_EMAIL", json!("N")),
        ("HAS_IMOL", json!("Y")),
        ("IS_RETURN_CUSTOMER", json!("N")),
        ("COMPANY_ID", json!(null)),
        ("CONTACT_ID", json!(null)),
        ("ASSIGNED_BY_ID", json!("1")),
        ("CREATED_BY_ID", json!("1")),
        ("MODIFY_BY_ID", json!("1")),
        ("MOVED_BY_ID", json!("1")),
        ("LAST_ACTIVITY_BY", json!("1")),
        ("DATE_CREATE", stamp.clone()),
        ("DATE_MODIFY", stamp.clone()),
        ("MOVED_TIME", stamp.clone()),
        ("LAST_ACTIVITY_TIME", stamp.clone()),
        ("DATE_CLOSED", json!("")),
        ("BIRTHDATE", json!("")),
        (
            "PHONE",
            json!([{"ID": "1", "VALUE_TYPE": "OTHER", "VALUE": "+15454777777", "TYPE_ID": "PHONE"}]),
        ),
        (
            "IM",
            json!([{"ID": "2", "VALUE_TYPE": "OPENLINE", "VALUE": "imol|livechat|1|67|21", "TYPE_ID": "IM"}]),
        ),
    ] {
        assert_eq!(lead[k], v, "{k}");
    }
    assert!(lead.get("CONTACT_IDS").is_none());
    assert!(lead.get("EMAIL").is_none());
}

#[tokio::test]
async fn add_checks_dictionaries_and_canonicalises() {
    let mut w = World::new();
    let a = admin(1);
    for (field, value) in [
        ("STATUS_ID", "NOPE"),
        ("SOURCE_ID", "MAGIC"),
        ("HONORIFIC", "HNR_XX"),
        ("CURRENCY_ID", "XXX"),
    ] {
        let text = w
            .err(&a, "add", json!({"fields": {"TITLE": "x", field: value}}))
            .await;
        assert_eq!(text, format!("Invalid value for field {field}."));
    }
    assert_eq!(w.store.count_calls("insert_entity"), 0);

    let id = w.add(json!({"STATUS_ID": "converted", "CURRENCY_ID": "usd", "HONORIFIC": "HNR_EN_4", "OPPORTUNITY": "99.999"})).await;
    let lead = w.get(id).await;
    assert_eq!(lead["STATUS_ID"], json!("CONVERTED"));
    assert_eq!(lead["STATUS_SEMANTIC_ID"], json!("S"));
    assert_eq!(lead["DATE_CLOSED"], json!("2024-05-23T18:18:25+02:00"));
    assert_eq!(lead["CURRENCY_ID"], json!("USD"));
    assert_eq!(lead["HONORIFIC"], json!("HNR_EN_4"));
    assert_eq!(lead["OPPORTUNITY"], json!("100.00"));
}

#[tokio::test]
async fn add_with_import_sets_stamps_and_dates_parse_leniently() {
    let mut w = World::new();
    let out = w
        .ok(
            "add",
            json!({"FIELDS": {"DATE_CREATE": "2020-01-02 03:04:05", "CREATED_BY_ID": 9, "BIRTHDATE": "1990-07-01",
                               "DATE_MODIFY": "garbage"},
                   "PARAMS": {"IMPORT": "Y"}}),
        )
        .await;
    let lead = w.get(out.result.as_i64().unwrap()).await;
    assert_eq!(lead["DATE_CREATE"], json!("2020-01-02T03:04:05+01:00"));
    assert_eq!(lead["CREATED_BY_ID"], json!("9"));
    assert_eq!(lead["DATE_MODIFY"], json!("2024-05-23T18:18:25+02:00"));
    assert_eq!(lead["BIRTHDATE"], json!("1990-07-01T02:00:00+02:00"));

    // Without IMPORT the stamps are read-only.
    let id = w
        .add(json!({"DATE_CREATE": "2020-01-02 03:04:05", "CREATED_BY_ID": 9}))
        .await;
    let lead = w.get(id).await;
    assert_eq!(lead["DATE_CREATE"], json!("2024-05-23T18:18:25+02:00"));
    assert_eq!(lead["CREATED_BY_ID"], json!("1"));
}

#[tokio::test]
async fn parameter_errors() {
    let mut w = World::new();
    let a = admin(1);
    assert_eq!(
        w.err(&a, "add", json!({"fields": "TITLE"})).await,
        "Parameter 'fields' must be array."
    );
    assert_eq!(
        w.err(&a, "add", json!({"fields": {}, "params": "x"})).await,
        "Parameter 'params' must be array."
    );
    assert_eq!(
        w.err(&a, "list", json!({"order": "ID"})).await,
        "Parameter 'order' must be array."
    );
    assert_eq!(
        w.err(&a, "list", json!({"filter": 5})).await,
        "Parameter 'filter' must be array."
    );
    for p in [
        json!({}),
        json!({"id": 0}),
        json!({"id": "abc"}),
        json!({"Id": 1}),
        json!({"id": -4}),
        json!({"id": [1]}),
    ] {
        for m in ["get", "update", "delete"] {
            assert_eq!(
                w.err(&a, m, p.clone()).await,
                "ID is not defined or invalid.",
                "{m} {p}"
            );
        }
    }
    for m in ["get", "update", "delete"] {
        assert_eq!(
            w.err(&a, m, json!({"ID": "77", "fields": {}})).await,
            "Not found",
            "{m}"
        );
    }
    for m in ["add", "update"] {
        assert_eq!(
            w.err(&a, m, json!({"ID": "77"})).await,
            "Parameter 'fields' must be array.",
            "{m} without fields"
        );
    }
    let id = w.add(json!({"TITLE": "x"})).await;
    assert_eq!(
        w.err(&a, "update", json!({"id": id, "fields": "x"})).await,
        "Parameter 'fields' must be array."
    );
    // Absent or null fields are refused like non-array ones; an empty set is fine.
    assert_eq!(
        w.err(&a, "add", json!({"fields": null})).await,
        "Parameter 'fields' must be array."
    );
    assert_eq!(w.ok("add", json!({"fields": {}})).await.result, json!(2));
    assert_eq!(
        w.ok("update", json!({"id": id, "fields": []})).await.result,
        json!(true)
    );
}

#[tokio::test]
async fn update_moves_stages_and_stamps() {
    let mut w = World::new();
    let id = w.add(json!({"TITLE": "x"})).await;
    let editor = admin(7);

    w.now = NOW + 100;
    w.call(
        &editor,
        "update",
        json!({"id": id, "fields": {"STATUS_ID": "JUNK"}}),
    )
    .await
    .unwrap();
    let lead = w.get(id).await;
    let t100 = json!("2024-05-23T18:20:05+02:00");
    assert_eq!(lead["STATUS_SEMANTIC_ID"], json!("F"));
    assert_eq!(lead["DATE_CLOSED"], t100);
    assert_eq!(lead["MOVED_TIME"], t100);
    assert_eq!(lead["MOVED_BY_ID"], json!("7"));
    assert_eq!(lead["DATE_MODIFY"], t100);
    assert_eq!(lead["MODIFY_BY_ID"], json!("7"));
    assert_eq!(lead["CREATED_BY_ID"], json!("1"));

    // Same stage again: no move. Blank STATUS_ID and CURRENCY_ID keep their values.
    w.now = NOW + 200;
    w.ok(
        "update",
        json!({"id": id, "fields": {"STATUS_ID": "JUNK", "TITLE": "y"}}),
    )
    .await;
    w.ok("update", json!({"id": id, "fields": {"STATUS_ID": "", "CURRENCY_ID": null, "ID": 99, "DATE_CREATE": "2000-01-01"}})).await;
    let lead = w.get(id).await;
    assert_eq!(lead["ID"], json!("1"));
    assert_eq!(lead["TITLE"], json!("y"));
    assert_eq!(lead["STATUS_ID"], json!("JUNK"));
    assert_eq!(lead["CURRENCY_ID"], json!("EUR"));
    assert_eq!(lead["MOVED_TIME"], t100);
    assert_eq!(lead["DATE_CREATE"], json!("2024-05-23T18:18:25+02:00"));
    assert_eq!(lead["DATE_MODIFY"], json!("2024-05-23T18:21:45+02:00"));
    assert_eq!(lead["MODIFY_BY_ID"], json!("1"));

    // Back to work: reopened.
    w.ok(
        "update",
        json!({"id": id, "fields": {"STATUS_ID": "IN_PROCESS", "BIRTHDATE": "1990-07-01"}}),
    )
    .await;
    let lead = w.get(id).await;
    assert_eq!(lead["STATUS_SEMANTIC_ID"], json!("P"));
    assert_eq!(lead["DATE_CLOSED"], json!(""));
    assert_eq!(lead["BIRTHDATE"], json!("1990-07-01T02:00:00+02:00"));
    // "" clears a date; an unknown stage is refused and changes nothing.
    w.ok("update", json!({"id": id, "fields": {"BIRTHDATE": ""}}))
        .await;
    assert_eq!(w.get(id).await["BIRTHDATE"], json!(""));
    let e = w
        .err(
            &admin(1),
            "update",
            json!({"id": id, "fields": {"TITLE": "z", "STATUS_ID": "GONE"}}),
        )
        .await;
    assert_eq!(e, "Invalid value for field STATUS_ID.");
    assert_eq!(w.get(id).await["TITLE"], json!("y"));
}

#[tokio::test]
async fn update_merges_multifields_by_id() {
    let mut w = World::new();
    let a = w
        .add(json!({"PHONE": [{"VALUE": "+1", "VALUE_TYPE": "MOBILE"}, {"VALUE": "+2"}], "EMAIL": [{"VALUE": "a@x.org"}]}))
        .await;
    let b = w.add(json!({"PHONE": [{"VALUE": "+9"}]})).await;
    // Values: 1 (+1, a), 2 (+2, a), 3 (a@x.org, a), 4 (+9, b).
    assert_eq!(w.get(a).await["HAS_EMAIL"], json!("Y"));
    w.ok(
        "update",
        json!({"id": a, "fields": {
            "PHONE": [
                {"ID": 1, "VALUE": "+1-new"},
                {"ID": 2, "DELETE": "Y"},
                {"ID": 4, "VALUE": "stolen"},
                {"VALUE": "+3", "VALUE_TYPE": "weird"}
            ],
            "EMAIL": {"x": {"ID": "3", "VALUE": ""}, "y": {"ID": 1, "VALUE": "not-an-email-id"}}
        }}),
    )
    .await;
    let lead = w.get(a).await;
    assert_eq!(
        lead["PHONE"],
        json!([
            {"ID": "1", "VALUE_TYPE": "MOBILE", "VALUE": "+1-new", "TYPE_ID": "PHONE"},
            {"ID": "5", "VALUE_TYPE": "OTHER", "VALUE": "+3", "TYPE_ID": "PHONE"}
        ])
    );
    assert!(lead.get("EMAIL").is_none());
    assert_eq!(lead["HAS_EMAIL"], json!("N"));
    assert_eq!(lead["HAS_PHONE"], json!("Y"));
    assert_eq!(w.get(b).await["PHONE"][0]["VALUE"], json!("+9"));

    // Deleting the last phones clears HAS_PHONE; an update without multifields leaves them alone.
    w.ok(
        "update",
        json!({"id": a, "fields": {"PHONE": [{"ID": 1, "DELETE": "y"}, {"ID": 5, "VALUE": " "}]}}),
    )
    .await;
    let lead = w.get(a).await;
    assert!(lead.get("PHONE").is_none());
    assert_eq!(lead["HAS_PHONE"], json!("N"));
    let before = w.store.count_calls("multifields");
    w.ok("update", json!({"id": b, "fields": {"TITLE": "t"}}))
        .await;
    assert_eq!(w.store.count_calls("multifields"), before);
    assert_eq!(w.get(b).await["HAS_PHONE"], json!("Y"));
}

#[tokio::test]
async fn contact_ids_company_and_return_customer() {
    let mut w = World::new();
    let c1 = w.add_kind(EntityKind::Contact, json!({"NAME": "a"})).await;
    let c2 = w.add_kind(EntityKind::Contact, json!({"NAME": "b"})).await;
    // an id that is no contact is ignored
    let id = w
        .add(json!({"CONTACT_IDS": [c2, c1.to_string(), 999]}))
        .await;
    let lead = w.get(id).await;
    assert_eq!(
        (
            lead["CONTACT_ID"].clone(),
            lead["IS_RETURN_CUSTOMER"].clone()
        ),
        (json!(c2.to_string()), json!("Y"))
    );
    let bound: Vec<(i64, i64, bool)> = w.store.bindings[&(LEAD, 1, id, EntityKind::Contact)]
        .iter()
        .map(|b| (b.id, b.sort, b.primary))
        .collect();
    assert_eq!(bound, vec![(c2, 10, true), (c1, 20, false)]);
    w.ok("update", json!({"id": id, "fields": {"CONTACT_IDS": []}}))
        .await;
    let lead = w.get(id).await;
    assert_eq!(
        (
            lead["CONTACT_ID"].clone(),
            lead["IS_RETURN_CUSTOMER"].clone()
        ),
        (json!(null), json!("N"))
    );
    w.ok("update", json!({"id": id, "fields": {"COMPANY_ID": "3"}}))
        .await;
    assert_eq!(w.get(id).await["IS_RETURN_CUSTOMER"], json!("Y"));
    w.ok("update", json!({"id": id, "fields": {"COMPANY_ID": 0}}))
        .await;
    let lead = w.get(id).await;
    assert_eq!(
        (
            lead["COMPANY_ID"].clone(),
            lead["IS_RETURN_CUSTOMER"].clone()
        ),
        (json!(null), json!("N"))
    );
}

#[tokio::test]
async fn user_fields_are_stored_merged_and_selected() {
    let mut w = World::new();
    for (name, ty) in [("A", "string"), ("B", "integer"), ("FLAG", "boolean")] {
        w.define(json!({"FIELD_NAME": name, "USER_TYPE_ID": ty}))
            .await;
    }
    let id = w
        .add(json!({"UF_CRM_B": 5, "UF_CRM_FLAG": true, "UF_CRM_UNDEFINED": 1}))
        .await;
    assert!(!w.store.records[&(LEAD, PORTAL)][&id]
        .uf
        .contains_key("UF_CRM_UNDEFINED"));
    w.ok(
        "update",
        json!({"id": id, "fields": {"UF_CRM_A": "a", "UF_CRM_B": 6}}),
    )
    .await;
    let lead = w.get(id).await;
    let k = keys(&lead);
    assert_eq!(&k[k.len() - 3..], ["UF_CRM_A", "UF_CRM_B", "UF_CRM_FLAG"]);
    w.ok("update", json!({"id": id, "fields": {"UF_CRM_FLAG": "N"}}))
        .await;
    assert_eq!(w.get(id).await["UF_CRM_FLAG"], json!(false));
    w.ok("update", json!({"id": id, "fields": {"UF_CRM_FLAG": "Y"}}))
        .await;
    assert_eq!(
        (
            lead["UF_CRM_A"].clone(),
            lead["UF_CRM_B"].clone(),
            lead["UF_CRM_FLAG"].clone()
        ),
        (json!("a"), json!("6"), json!(true))
    );

    let out = w
        .ok(
            "list",
            json!({"select": ["ID", "UF_CRM_B"], "filter": {"UF_CRM_A": "A"}}),
        )
        .await;
    assert_eq!(out.result, json!([{"ID": "1", "UF_CRM_B": "6"}]));
    let out = w.ok("list", json!({})).await;
    assert!(out.result[0].get("UF_CRM_A").is_none());
    let out = w.ok("list", json!({"select": ["UF_*"]})).await;
    assert_eq!(
        keys(&out.result[0]),
        ["UF_CRM_A", "UF_CRM_B", "UF_CRM_FLAG"]
    );
}

#[tokio::test]
async fn list_pages_totals_and_next() {
    let mut w = World::new();
    for i in 0..120 {
        w.add(json!({"TITLE": format!("Lead {i}")})).await;
    }
    let page = |start: Value| json!({"start": start, "select": ["ID"]});

    let out = w.ok("list", page(json!(0))).await;
    assert_eq!(
        (ids(&out).len(), out.total, out.next),
        (50, Some(120), Some(50))
    );
    assert_eq!(ids(&out)[0], 1);
    assert_eq!(keys(&out.result[0]), ["ID"]);

    // 75 rounds down to the page boundary 50.
    let out = w.ok("list", page(json!("75"))).await;
    assert_eq!(ids(&out), (51..=100).collect::<Vec<_>>());
    assert_eq!((out.total, out.next), (Some(120), Some(100)));

    // The last page: its short length gives the total without a count query.
    let counts = w.store.count_calls("count_entities");
    let out = w.ok("list", page(json!(100))).await;
    assert_eq!(
        (ids(&out).len(), out.total, out.next),
        (20, Some(120), None)
    );
    assert_eq!(w.store.count_calls("count_entities"), counts);

    // Past the end: empty, real total, no next.
    let out = w.ok("list", page(json!(150))).await;
    assert_eq!(
        (out.result.clone(), out.total, out.next),
        (json!([]), Some(120), None)
    );

    // start=-1: first 50, total 0, no next, and no count query at all.
    let counts = w.store.count_calls("count_entities");
    let out = w.ok("list", page(json!(-1))).await;
    assert_eq!((ids(&out).len(), out.total, out.next), (50, Some(0), None));
    assert_eq!(w.store.count_calls("count_entities"), counts);

    // Other negatives and garbage are 0; START is not start.
    for p in [
        json!({"start": -7}),
        json!({"start": "abc"}),
        json!({"START": 50}),
    ] {
        let out = w.ok("list", p).await;
        assert_eq!((ids(&out)[0], out.next), (1, Some(50)));
    }

    // The bulk pattern: >ID with start=-1, ID ASC.
    let out = w
        .ok(
            "list",
            json!({"order": {"ID": "ASC"}, "filter": {">ID": 100}, "start": -1}),
        )
        .await;
    assert_eq!(ids(&out), (101..=120).collect::<Vec<_>>());

    // A filter that can match nothing does not touch storage.
    let lists = w.store.count_calls("list_entities");
    let out = w.ok("list", json!({"filter": {"@ID": []}})).await;
    assert_eq!(
        (out.result.clone(), out.total, out.next),
        (json!([]), Some(0), None)
    );
    assert_eq!(w.store.count_calls("list_entities"), lists);

    // Exactly 100 records: the second page is full but has no next.
    let out = w
        .ok("list", json!({"start": 50, "filter": {"<=ID": 100}}))
        .await;
    assert_eq!(
        (ids(&out).len(), out.total, out.next),
        (50, Some(100), None)
    );
}

#[tokio::test]
async fn list_filters_selects_and_orders() {
    let mut w = World::new();
    let a = w.add(json!({"TITLE": "Alpha Deal", "STATUS_ID": "JUNK", "OPPORTUNITY": 10, "PHONE": [{"VALUE": "555888"}]})).await;
    let b = w.add(json!({"TITLE": "beta", "STATUS_ID": "IN_PROCESS", "EMAIL": [{"VALUE": "b@example.com"}]})).await;
    let c = w
        .add(json!({"TITLE": "Gamma 50%", "STATUS_ID": "CONVERTED", "OPPORTUNITY": 500}))
        .await;
    let d = w.add(json!({"TITLE": "delta"})).await;

    let list = |filter: Value| json!({"filter": filter, "select": ["ID"]});
    let cases = [
        (json!({"STATUS_ID": "junk"}), vec![a]),
        (json!({"!STATUS_ID": ["JUNK", "NEW"]}), vec![b, c]),
        (json!({"%TITLE": "ALPHA"}), vec![a]),
        (json!({"%TITLE": "50%"}), vec![c]),
        (json!({"=%TITLE": "%a"}), vec![b, d]),
        (json!({">OPPORTUNITY": 5}), vec![a, c]),
        (json!({"OPPORTUNITY": 0}), vec![b, d]),
        (json!({"@ID": [a, d, 99]}), vec![a, d]),
        (json!({"PHONE": "555888"}), vec![a]),
        (json!({"EMAIL": "%@EXAMPLE.com"}), vec![b]),
        (json!({"PHONE": "555"}), vec![]),
        (json!({"STATUS_SEMANTIC_ID": "S"}), vec![c]),
        (json!({"HAS_PHONE": "Y"}), vec![a]),
        (json!({"TITEL": "nobody", "><ID": [1, 2]}), vec![a, b, c, d]),
        (
            json!({">=DATE_CREATE": "2024-05-23T16:18:25Z", "<DATE_CREATE": "NOW"}),
            vec![],
        ),
        (
            json!({">=DATE_CREATE": "2024-05-23 18:18:25"}),
            vec![a, b, c, d],
        ),
        (json!({"DATE_CLOSED": ""}), vec![b, d]),
        (json!({"+>OPPORTUNITY": 100}), vec![b, c, d]),
    ];
    for (filter, want) in cases {
        let out = w.ok("list", list(filter.clone())).await;
        assert_eq!(ids(&out), want, "{filter}");
        assert_eq!(out.total, Some(want.len() as i64), "{filter}");
    }

    // Stage order follows the dictionary's SORT, not the alphabet.
    let out = w
        .ok(
            "list",
            json!({"order": {"STATUS_ID": "desc"}, "select": ["ID", "STATUS_ID"]}),
        )
        .await;
    assert_eq!(ids(&out), vec![a, c, b, d]);
    let out = w
        .ok(
            "list",
            json!({"order": {"OPPORTUNITY": "DESC", "ID": "DESC"}, "select": ["ID"]}),
        )
        .await;
    assert_eq!(ids(&out), vec![c, a, d, b]);

    // Multifields only when named, with ID added, read in one call for the page.
    let before = w.store.count_calls("multifields");
    let out = w
        .ok("list", json!({"select": ["TITLE", "PHONE", "EMAIL"]}))
        .await;
    assert_eq!(w.store.count_calls("multifields"), before + 1);
    assert_eq!(
        out.result[0],
        json!({"ID": "1", "TITLE": "Alpha Deal", "PHONE": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "555888", "TYPE_ID": "PHONE"}]})
    );
    assert_eq!(keys(&out.result[1]), ["ID", "TITLE", "EMAIL"]);
    assert_eq!(keys(&out.result[3]), ["ID", "TITLE"]);

    // select * : every standard field, no multifields, no CONTACT_IDS.
    let out = w.ok("list", json!({"select": ["*"]})).await;
    let k = keys(&out.result[0]);
    assert_eq!(k.len(), 51);
    assert!(!k.contains(&"PHONE".to_string()) && !k.contains(&"CONTACT_IDS".to_string()));
    assert_eq!(out.result[0]["OPPORTUNITY"], json!("10.00"));
    assert_eq!(out.result[0]["COMPANY_ID"], json!(null));
    assert_eq!(out.result[1]["OPPORTUNITY"], json!("0.00"));
}

#[tokio::test]
async fn own_level_permissions() {
    let mut w = World::new();
    let mine_spec = "lead=read:own,add:own,update:own,delete:own";
    let user = with_rights(2, mine_spec);
    let theirs = w.add(json!({"TITLE": "admin's"})).await;
    let mine = w.add(json!({"TITLE": "user's", "ASSIGNED_BY_ID": 2})).await;

    assert_eq!(
        w.err(&user, "get", json!({"id": theirs})).await,
        "Access denied."
    );
    assert_eq!(
        w.err(
            &user,
            "update",
            json!({"id": theirs, "fields": {"TITLE": "x"}})
        )
        .await,
        "Access denied."
    );
    assert_eq!(
        w.err(&user, "delete", json!({"id": theirs})).await,
        "Access denied."
    );
    assert_eq!(w.err(&user, "get", json!({"id": 999})).await, "Not found");
    assert_eq!(
        w.err(&user, "delete", json!({"id": 999})).await,
        "Not found"
    );
    assert_eq!(w.get(theirs).await["TITLE"], json!("admin's"));

    assert_eq!(
        w.call(&user, "get", json!({"id": mine}))
            .await
            .unwrap()
            .result["TITLE"],
        json!("user's")
    );
    let out = w
        .call(&user, "list", json!({"select": ["ID"]}))
        .await
        .unwrap();
    assert_eq!((ids(&out), out.total), (vec![mine], Some(1)));

    // Adding: assigned to the caller by default; to someone else is refused.
    assert_eq!(
        w.err(&user, "add", json!({"fields": {"ASSIGNED_BY_ID": 1}}))
            .await,
        "Access denied."
    );
    let created = w
        .call(&user, "add", json!({"fields": {"TITLE": "new"}}))
        .await
        .unwrap()
        .result
        .as_i64()
        .unwrap();
    assert_eq!(w.get(created).await["ASSIGNED_BY_ID"], json!("2"));
    assert_eq!(
        w.call(&user, "add", json!({"fields": {"ASSIGNED_BY_ID": "2"}}))
            .await
            .unwrap()
            .result,
        json!(4)
    );

    // An own record may be handed over (and is then out of reach), or deleted.
    w.call(
        &user,
        "update",
        json!({"id": mine, "fields": {"ASSIGNED_BY_ID": 1}}),
    )
    .await
    .unwrap();
    assert_eq!(
        w.err(&user, "get", json!({"id": mine})).await,
        "Access denied."
    );
    assert_eq!(
        w.call(&user, "delete", json!({"id": created}))
            .await
            .unwrap()
            .result,
        json!(true)
    );

    // No rights at all.
    let nobody = with_rights(3, "lead=read:none");
    for (m, p) in [
        ("list", json!({})),
        ("get", json!({"id": theirs})),
        ("add", json!({"fields": {}})),
        ("update", json!({"id": theirs, "fields": {}})),
        ("delete", json!({"id": theirs})),
    ] {
        assert_eq!(w.err(&nobody, m, p).await, "Access denied.", "{m}");
    }
    // All-level readers see everything.
    let reader = with_rights(3, "lead=read:all");
    assert_eq!(
        w.call(&reader, "list", json!({})).await.unwrap().total,
        Some(3)
    );
}

#[tokio::test]
async fn delete_removes_the_record_and_its_values() {
    let mut w = World::new();
    let id = w.add(json!({"PHONE": [{"VALUE": "1"}]})).await;
    assert_eq!(w.ok("delete", json!({"id": id})).await.result, json!(true));
    assert_eq!(
        w.err(&admin(1), "get", json!({"id": id})).await,
        "Not found"
    );
    assert_eq!(
        w.err(&admin(1), "delete", json!({"id": id})).await,
        "Not found"
    );
    assert!(w.store.multifields.is_empty());
    assert!(w.store.record(LEAD, PORTAL, id).is_none());
}

#[tokio::test]
async fn writes_enqueue_their_events_and_failures_none() {
    let mut w = World::new();
    let id = w.add(json!({"TITLE": "a"})).await;
    w.ok("update", json!({"id": id, "fields": {"TITLE": "b"}}))
        .await;
    // An update that changes nothing still fires (F5).
    w.ok("update", json!({"id": id, "fields": {}})).await;
    w.ok("get", json!({"id": id})).await;
    w.ok("list", json!({})).await;
    w.ok("delete", json!({"id": id})).await;
    let names: Vec<&str> = w.store.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ONCRMLEADADD",
            "ONCRMLEADUPDATE",
            "ONCRMLEADUPDATE",
            "ONCRMLEADDELETE"
        ]
    );
    for e in &w.store.events {
        assert_eq!(e.data, json!({"FIELDS": {"ID": id.to_string()}}));
        assert_eq!((e.portal_id, e.user_id), (PORTAL, 1));
        assert_eq!(e.object, format!("CRM_LEAD_{id}"));
    }

    // Refused or failed writes record nothing.
    let before = w.store.events.len();
    w.err(
        &admin(1),
        "update",
        json!({"id": id, "fields": {"TITLE": "c"}}),
    )
    .await;
    w.err(&admin(1), "delete", json!({"id": id})).await;
    w.err(&admin(1), "add", json!({"fields": {"STATUS_ID": "NOPE"}}))
        .await;
    w.err(
        &with_rights(3, "lead=read:all"),
        "add",
        json!({"fields": {}}),
    )
    .await;
    assert_eq!(w.store.events.len(), before);
}

#[tokio::test]
async fn userfield_methods_record_their_events() {
    let mut w = World::new();
    let out = w
        .ok(
            "userfield.add",
            json!({"fields": {"FIELD_NAME": "KIND", "USER_TYPE_ID": "enumeration", "LIST": [{"VALUE": "a"}]}}),
        )
        .await;
    let id = out.result.as_i64().unwrap();
    w.ok("userfield.update", json!({"id": id, "fields": {"SORT": 5}}))
        .await;
    w.ok(
        "userfield.update",
        json!({"id": id, "fields": {"LIST": [{"VALUE": "b"}]}}),
    )
    .await;
    w.ok("userfield.delete", json!({"id": id})).await;
    let names: Vec<&str> = w.store.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ONCRMLEADUSERFIELDADD",
            "ONCRMLEADUSERFIELDUPDATE",
            "ONCRMLEADUSERFIELDUPDATE",
            "ONCRMLEADUSERFIELDSETENUMVALUES",
            "ONCRMLEADUSERFIELDDELETE"
        ]
    );
    assert_eq!(
        w.store.events[0].data,
        json!({"FIELDS": {"ID": id.to_string(), "ENTITY_ID": "CRM_LEAD", "FIELD_NAME": "UF_CRM_KIND"}})
    );
}

#[tokio::test]
async fn status_dictionary_methods() {
    let mut w = World::new();
    let out = w
        .ok("status.list", json!({"filter": {"ENTITY_ID": "STATUS"}}))
        .await;
    assert_eq!(out.total, Some(5));
    assert_eq!(out.next, None);
    assert_eq!(
        out.result[0],
        json!({"ID": "1", "ENTITY_ID": "STATUS", "STATUS_ID": "NEW", "NAME": "Unprocessed", "NAME_INIT": "Unprocessed",
               "SORT": "10", "SYSTEM": "Y", "CATEGORY_ID": null, "COLOR": "#39A8EF", "SEMANTICS": null,
               "EXTRA": {"SEMANTICS": "process", "COLOR": "#39A8EF"}})
    );
    let out = w.ok("status.list", json!({"order": {"SORT": "DESC"}, "filter": {"ENTITY_ID": "DEAL_STAGE", "SEMANTICS": "F"}})).await;
    let names: Vec<&str> = out
        .result
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["STATUS_ID"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["APOLOGY", "LOSE"]);
    assert_eq!(out.result[0]["EXTRA"]["SEMANTICS"], json!("apology"));
    let all = w.ok("status.list", json!({})).await;
    assert_eq!(all.total, Some(crm::status::seeds().len() as i64));
    let out = w
        .ok("status.list", json!({"filter": {"%NAME": "call"}}))
        .await;
    assert_eq!(out.total, Some(2)); // "Call", "Callback"
    assert_eq!(
        w.err(&admin(1), "status.list", json!({"order": "SORT"}))
            .await,
        "Parameter 'order' must be array."
    );

    let out = w
        .ok("status.entity.items", json!({"entityId": "SOURCE"}))
        .await;
    assert_eq!(out.result.as_array().unwrap().len(), 12);
    assert_eq!(
        out.result[0],
        json!({"NAME": "Call", "SORT": 10, "STATUS_ID": "CALL"})
    );
    let out = w
        .ok("status.entity.items", json!({"ENTITYID": "nope"}))
        .await;
    assert_eq!(out.result, json!([]));
    assert_eq!(
        w.err(&admin(1), "status.entity.items", json!({})).await,
        "The parameter entityId is not defined or invalid."
    );
}

#[tokio::test]
async fn fields_description_is_the_table_then_user_fields() {
    let mut w = World::new();
    let f = w.ok("fields", json!({})).await.result;
    assert_eq!(keys(&f).len(), EntityKind::Lead.fields().len());
    assert_eq!(f["STATUS_ID"]["statusType"], json!("STATUS"));
    w.define(json!({"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string", "LABEL": "Note"}))
        .await;
    let f = w.ok("fields", json!({})).await.result;
    let k = keys(&f);
    assert_eq!(k.last().map(String::as_str), Some("UF_CRM_NOTE"));
    assert_eq!(f["UF_CRM_NOTE"]["isDynamic"], json!(true));
    assert_eq!(f["UF_CRM_NOTE"]["listLabel"], json!("Note"));
}

/// Handlers run these on a multi-threaded runtime, so the futures must be `Send`.
#[test]
fn engine_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let mut store = MemStore::seeded();
    let actor = admin(1);
    let settings = PortalSettings {
        time_zone: chrono_tz::UTC,
        currency: "USD".into(),
    };
    let ctx = Ctx {
        actor: &actor,
        settings: &settings,
        now: NOW,
    };
    let p = Params::new();
    assert_send(&engine::add(&mut store, &ctx, LEAD, &p));
    assert_send(&engine::update(&mut store, &ctx, LEAD, &p));
    assert_send(&engine::get(&mut store, &ctx, LEAD, &p));
    assert_send(&engine::list(&mut store, &ctx, LEAD, &p));
    assert_send(&engine::delete(&mut store, &ctx, LEAD, &p));
    assert_send(&status::list(&mut store, &ctx, &p));
    assert_send(&status::entity_items(&mut store, &ctx, &p));
}

#[tokio::test]
async fn user_field_values_are_validated_and_filtered_by_type() {
    let mut w = World::new();
    w.define(json!({"FIELD_NAME": "N", "USER_TYPE_ID": "integer"}))
        .await;
    w.define(
        json!({"FIELD_NAME": "TAGS", "USER_TYPE_ID": "enumeration", "MULTIPLE": "Y",
                    "LIST": [{"VALUE": "hot"}, {"VALUE": "cold"}]}),
    )
    .await;
    let list = w
        .ok(
            "userfield.list",
            json!({"filter": {"FIELD_NAME": "UF_CRM_TAGS"}}),
        )
        .await;
    let options: Vec<i64> = list.result[0]["LIST"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["ID"].as_str().unwrap().parse().unwrap())
        .collect();
    let (hot, cold) = (options[0], options[1]);
    let a = w.add(json!({"UF_CRM_N": 9, "UF_CRM_TAGS": [hot]})).await;
    let b = w
        .add(json!({"UF_CRM_N": "10", "UF_CRM_TAGS": [hot, cold]}))
        .await;
    let c = w.add(json!({"UF_CRM_N": 100})).await;
    assert_eq!(
        w.err(&admin(1), "add", json!({"fields": {"UF_CRM_N": "many"}}))
            .await,
        "Invalid value for field UF_CRM_N."
    );
    assert_eq!(
        w.err(&admin(1), "add", json!({"fields": {"UF_CRM_TAGS": [9999]}}))
            .await,
        "Invalid value for field UF_CRM_TAGS."
    );
    // Numeric, not text, order: 9 < 10 < 100.
    let out = w.ok("list", json!({"filter": {">UF_CRM_N": 9}})).await;
    assert_eq!(ids(&out), [b, c]);
    let out = w
        .ok(
            "list",
            json!({"order": {"UF_CRM_N": "DESC"}, "select": ["ID"]}),
        )
        .await;
    assert_eq!(ids(&out), [c, b, a]);
    let out = w.ok("list", json!({"filter": {"UF_CRM_TAGS": cold}})).await;
    assert_eq!(ids(&out), [b]);
    let out = w
        .ok("list", json!({"filter": {"!UF_CRM_TAGS": cold}}))
        .await;
    assert_eq!(ids(&out), [a, c]);
    let out = w
        .ok("list", json!({"filter": {"UF_CRM_TAGS": false}}))
        .await;
    assert_eq!(ids(&out), [c], "empty multiple field");
}

#[tokio::test]
async fn userfield_methods_need_admin_for_changes_and_read_for_reading() {
    let mut w = World::new();
    let id = w
        .define(json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"}))
        .await;
    let reader = with_rights(2, "lead=read:all");
    let nobody = with_rights(3, "");
    for (actor, method, p) in [
        (
            &reader,
            "userfield.add",
            json!({"fields": {"FIELD_NAME": "Y", "USER_TYPE_ID": "string"}}),
        ),
        (
            &reader,
            "userfield.update",
            json!({"id": id, "fields": {"SORT": 5}}),
        ),
        (&reader, "userfield.delete", json!({"id": id})),
        (&nobody, "userfield.get", json!({"id": id})),
        (&nobody, "userfield.list", json!({})),
    ] {
        let e = w.call(actor, method, p).await.unwrap_err();
        assert_eq!(
            (e.status(), e.code(), e.description()),
            (403, "", "Access denied."),
            "{method}"
        );
    }
    let got = w
        .call(&reader, "userfield.get", json!({"id": id}))
        .await
        .unwrap();
    assert_eq!(got.result["FIELD_NAME"], json!("UF_CRM_X"));
}

#[tokio::test]
async fn deleting_a_user_field_deletes_its_values() {
    let mut w = World::new();
    let uf = w
        .define(json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"}))
        .await;
    let id = w.add(json!({"UF_CRM_X": "v"})).await;
    w.ok("userfield.delete", json!({"id": uf})).await;
    assert!(w.get(id).await.get("UF_CRM_X").is_none());
    w.define(json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"}))
        .await;
    assert_eq!(w.get(id).await["UF_CRM_X"], json!(null));
}

#[tokio::test]
async fn a_field_of_another_entity_type_is_out_of_reach() {
    let mut w = World::new();
    let id = w
        .define(json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"}))
        .await;
    let ctx = Ctx {
        actor: &admin(1),
        settings: &w.settings,
        now: NOW,
    };
    let p = params(json!({"id": id, "fields": {"SORT": 1}}));
    let s = &mut w.store;
    for result in [
        userfield::get(s, &ctx, EntityKind::Deal, &p).await,
        userfield::update(s, &ctx, EntityKind::Deal, &p).await,
        userfield::delete(s, &ctx, EntityKind::Deal, &p).await,
    ] {
        let e = result.unwrap_err();
        assert_eq!((e.status(), e.description()), (403, "Access denied."));
    }
    // Listed per entity type; the same name may exist for another type.
    let out = userfield::list(s, &ctx, EntityKind::Deal, &params(json!({})))
        .await
        .unwrap();
    assert_eq!(out.result, json!([]));
    let add = params(json!({"fields": {"FIELD_NAME": "X", "USER_TYPE_ID": "integer"}}));
    let deal_field = userfield::add(s, &ctx, EntityKind::Deal, &add)
        .await
        .unwrap();
    let got = userfield::get(
        s,
        &ctx,
        EntityKind::Deal,
        &params(json!({"id": deal_field.result})),
    )
    .await
    .unwrap();
    assert_eq!(got.result["ENTITY_ID"], json!("CRM_DEAL"));
    assert_eq!(got.result["USER_TYPE_ID"], json!("integer"));
}
