//! Sales Intelligence over HTTP on SQLite and PostgreSQL: `TRACE` and UTM fields on
//! `crm.lead.add`, `crm.tracking.trace.add/delete` with every documented error, the journey of a
//! record (`leadtrace.tracking.entity.get`), sources (`leadtrace.tracking.source.*` and the
//! `leadtrace source` commands), the attribution window, `TRACE` on deals, contacts, companies and
//! quotes (deals binding their clients), no trace from `crm.item.*`, simple-mode conversions,
//! channel groups and override rules (`leadtrace.tracking.channel.*`), the `/dashboard` page.

mod common;
use common::*;
use crm::EntityKind;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    trace_on_lead_add,
    utm_only_add_and_update,
    trace_add_and_its_errors,
    trace_add_form_encoded,
    trace_delete_permissions,
    entity_get_output,
    source_methods,
    attribution_window,
    source_cli,
    trace_on_every_family,
    trace_add_binds_every_family,
    deals_bind_their_clients,
    window_for_deals_and_companies,
    item_methods_make_no_trace,
    simple_mode_shares_the_lead_trace,
    channel_rule_methods,
    channel_rules_classify_new_traces,
    dashboard_is_served,
);

const TRACKER: &str = r#"{"url":"https://shop.example/landing?utm_source=google&gclid=EAI","ref":"https://www.google.com/","device":{"isMobile":true},"tags":{"ts":1579501926,"list":{"utm_source":"google","utm_medium":"cpc","utm_campaign":"spring"},"gclid":"EAI"},"client":{"gaId":"209629315.1579004207"},"pages":{"list":[["https://shop.example/landing",1579501926,"Landing"],["https://shop.example/buy",1579502000,"Buy"]]},"gid":"guest-7","previous":{"list":[{"url":"https://shop.example/","ref":"https://www.facebook.com/","tags":{"ts":1579000000,"list":{}}}]}}"#;

async fn journey(app: &TestApp, kind: &str, id: i64) -> Value {
    app.call(
        "leadtrace.tracking.entity.get",
        json!({"TYPE": kind, "ID": id}),
    )
    .await
    .result()
    .clone()
}

fn trace_ids(journey: &Value) -> Vec<i64> {
    journey["TRACES"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ID"].as_i64().unwrap())
        .collect()
}

/// How many traces portal 1 holds (ids are small in a test database).
async fn trace_count(app: &TestApp) -> usize {
    app.running
        .state
        .store()
        .read(|tx| {
            Box::pin(async move {
                let ids: Vec<i64> = (1..2000).collect();
                Ok(crm::Storage::traces(tx, 1, &ids).await?.len())
            })
        })
        .await
        .unwrap()
}

async fn add_trace(app: &TestApp, params: Value) -> i64 {
    let r = app.call("crm.tracking.trace.add", params).await;
    r.result()
        .as_i64()
        .unwrap_or_else(|| panic!("trace.add returned {}", r.body))
}

async fn trace_on_lead_add(b: Backend) {
    let app = spawn_app(b).await;
    // The tracker's JSON string.
    let lead = app
        .add_lead(json!({"TITLE": "from the site", "TRACE": TRACKER}))
        .await;
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(
        j["SOURCE"],
        json!({"ID": 1, "CODE": "google", "NAME": "Google Ads"})
    );
    let t = &j["TRACES"][0];
    assert_eq!(t["CHANNEL_GROUP"]["CODE"], json!("paid_search"));
    assert_eq!(t["UTM"]["UTM_CAMPAIGN"], json!("spring"));
    assert_eq!(t["GUEST_ID"], json!("guest-7"));
    assert_eq!(t["IS_MOBILE"], json!("Y"));
    assert_eq!(t["GCLID"], json!("EAI"));
    assert_eq!(t["CLIENT"], json!({"gaId": "209629315.1579004207"}));
    assert_eq!(
        t["CHANNELS"],
        json!([{"CODE": "site", "NAME": "Site", "VALUE": "shop.example"},
               {"CODE": "rest", "NAME": "Application", "VALUE": null}])
    );
    let pages: Vec<&str> = t["PAGES"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["URL"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            "https://www.google.com/",
            "https://shop.example/landing",
            "https://shop.example/buy"
        ]
    );
    assert_eq!(t["PREVIOUS"][0]["SOURCE"]["CODE"], json!("fb"));
    assert_eq!(
        t["PREVIOUS"][0]["DATE_CREATE"],
        json!("2020-01-14T11:06:40+00:00")
    );

    // The record itself: TRACE is not a field, its UTM fields are not filled from TRACE.
    let got = app.call("crm.lead.get", json!({"id": lead})).await;
    assert!(got.result().get("TRACE").is_none());
    assert_eq!(got.result()["UTM_SOURCE"], json!(null));
    let fields = app.call("crm.lead.fields", json!({})).await;
    assert!(fields.result().get("TRACE").is_none());

    // A numeric TRACE binds a trace made by crm.tracking.trace.add (string or number).
    let trace = add_trace(
        &app,
        json!({"TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"vk\"}}}"}),
    )
    .await;
    let a = app
        .add_lead(json!({"TITLE": "a", "TRACE": trace.to_string()}))
        .await;
    let b2 = app.add_lead(json!({"TITLE": "b", "TRACE": trace})).await;
    for id in [a, b2] {
        let j = journey(&app, "LEAD", id).await;
        assert_eq!(trace_ids(&j), vec![trace]);
        assert_eq!(j["SOURCE"]["CODE"], json!("vk"));
    }
    // Invalid JSON does not fail the add (E4): the lead gets a trace without it.
    let before = trace_count(&app).await;
    let c = app
        .add_lead(json!({"TITLE": "c", "TRACE": "{oops", "UTM_SOURCE": "instagram"}))
        .await;
    assert_eq!(trace_count(&app).await, before + 1);
    assert_eq!(
        journey(&app, "LEAD", c).await["SOURCE"]["CODE"],
        json!("instagram")
    );
    // TRACE on update is dropped.
    app.call(
        "crm.lead.update",
        json!({"id": c, "fields": {"TRACE": TRACKER, "TITLE": "c2"}}),
    )
    .await
    .result();
    assert_eq!(trace_ids(&journey(&app, "LEAD", c).await).len(), 1);
    // The old docs form (extension): SOURCE_ID chooses the source.
    let d = app
        .add_lead(json!({"TITLE": "d", "TRACE": "{\"SOURCE_ID\":\"6\",\"SOURCE_DESC\":\"Direct sale\",\"PAGES\":[{\"URL\":\"https://example.com/\",\"DATE\":\"2024-04-03T10:26:32+03:00\"}]}"}))
        .await;
    let j = journey(&app, "LEAD", d).await;
    assert_eq!(j["SOURCE"]["CODE"], json!("yandex"));
    assert_eq!(j["TRACES"][0]["SOURCE_DESCRIPTION"], json!("Direct sale"));
    assert_eq!(
        j["TRACES"][0]["PAGES"][0]["DATE"],
        json!("2024-04-03T07:26:32+00:00")
    );
}

async fn utm_only_add_and_update(b: Backend) {
    let app = spawn_app(b).await;
    let lead = app
        .add_lead(json!({"TITLE": "utm", "UTM_SOURCE": "newsletter", "UTM_MEDIUM": "email"}))
        .await;
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(j["SOURCE"]["CODE"], json!("sender-mail"));
    assert_eq!(j["TRACES"][0]["CHANNEL_GROUP"]["CODE"], json!("email"));
    assert_eq!(j["TRACES"][0]["UTM"]["UTM_SOURCE"], json!("newsletter"));
    // Without anything: a trace all the same, source 0.
    let plain = app.add_lead(json!({"TITLE": "plain"})).await;
    let j = journey(&app, "LEAD", plain).await;
    assert_eq!(
        j["SOURCE"],
        json!({"ID": 0, "CODE": "organic", "NAME": "Organic / other traffic"})
    );
    assert_eq!(j["TRACES"][0]["CHANNEL_GROUP"]["CODE"], json!("direct"));
    // Changing UTMs to another source makes a new effective trace; to the same one, nothing.
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"UTM_CAMPAIGN": "x"}}),
    )
    .await
    .result();
    assert_eq!(trace_ids(&journey(&app, "LEAD", lead).await).len(), 1);
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"UTM_SOURCE": "fb"}}),
    )
    .await
    .result();
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(trace_ids(&j).len(), 2);
    assert_eq!(j["SOURCE"]["CODE"], json!("fb"));
}

async fn trace_add_and_its_errors(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights("seller", Some("lead=read:all,add:all,update:own"), &["crm"])
        .await;
    let mine = app
        .add_lead(json!({"TITLE": "mine", "ASSIGNED_BY_ID": uid}))
        .await;
    let theirs = app.add_lead(json!({"TITLE": "theirs"})).await;
    let trace = "{\"tags\":{\"list\":{\"utm_source\":\"google\"}}}";
    let before = trace_count(&app).await;
    let journey_before = trace_ids(&journey(&app, "LEAD", mine).await);
    let types =
        "Wrong TYPE in parameter `ENTITIES`. Allowed types: COMPANY,CONTACT,DEAL,LEAD,QUOTE";
    let cases = [
        (json!({}), "Parameter `TRACE` required.".to_string()),
        (json!({"TRACE": ""}), "Parameter `TRACE` required.".into()),
        (
            json!({"TRACE": "   "}),
            "Parameter `TRACE` required.".into(),
        ),
        (
            json!({"trace": trace}),
            "Parameter `TRACE` required.".into(),
        ),
        (
            json!({"TRACE": "{not json"}),
            "Can not parse JSON in parameter `TRACE`.".into(),
        ),
        (
            json!({"TRACE": "null"}),
            "Can not parse JSON in parameter `TRACE`.".into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "Lead", "ID": mine}]}),
            types.into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"ID": mine}]}),
            types.into(),
        ),
        (json!({"TRACE": trace, "ENTITIES": [5]}), types.into()),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD"}]}),
            "Wrong ID in parameter `ENTITIES`.".into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": -1}]}),
            "Wrong ID in parameter `ENTITIES`.".into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": "abc"}]}),
            "Wrong ID in parameter `ENTITIES`.".into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": mine}, {"TYPE": "LEAD", "ID": theirs}]}),
            format!("You have no access to entity `LEAD` with ID `{theirs}`."),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": 1000739}]}),
            "You have no access to entity `LEAD` with ID `1000739`.".into(),
        ),
        (
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "CONTACT", "ID": 17}]}),
            "You have no access to entity `CONTACT` with ID `17`.".into(),
        ),
        (
            json!({"TRACE": format!("{{\"url\":\"https://x.example/{}\"}}", "a".repeat(3000))}),
            "Value of `url` in parameter `TRACE` is longer than 2048 characters.".into(),
        ),
        (
            json!({"TRACE": format!("{{\"gid\":\"{}\"}}", "a".repeat(70_000))}),
            "Parameter `TRACE` is too large: at most 65536 bytes.".into(),
        ),
    ];
    for (params, text) in cases {
        app.call_at(&hook, "crm.tracking.trace.add", params.clone())
            .await
            .assert_error(400, "ERROR_CORE", &text);
    }
    assert_eq!(trace_count(&app).await, before, "nothing created");
    assert_eq!(
        trace_ids(&journey(&app, "LEAD", mine).await),
        journey_before
    );

    // Without ENTITIES: an unbound trace. With them: bound, and the record's effective trace.
    let free = app
        .call_at(&hook, "crm.tracking.trace.add", json!({"TRACE": trace}))
        .await;
    assert!(free.result().as_i64().unwrap() > 0);
    assert_eq!(
        free.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["result", "time"]
    );
    let bound = app
        .call_at(
            &hook,
            "crm.tracking.trace.add",
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "LEAD", "ID": mine.to_string()}]}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    assert_eq!(trace_ids(&journey(&app, "LEAD", mine).await)[0], bound);
    // Extension: an already decoded TRACE object; a non-object JSON is an empty trace.
    let t = add_trace(&app, json!({"TRACE": {"tags": {"list": {"utm_source": "ig"}}}, "ENTITIES": [{"TYPE": "LEAD", "ID": theirs}]})).await;
    assert_eq!(
        journey(&app, "LEAD", theirs).await["SOURCE"]["CODE"],
        json!("instagram")
    );
    assert_eq!(trace_ids(&journey(&app, "LEAD", theirs).await)[0], t);
    add_trace(&app, json!({"TRACE": "[]"})).await;
    add_trace(&app, json!({"TRACE": 123})).await;
    // A user without crm scope cannot call it at all.
    let (_, no_crm) = app.user_with_rights("nocrm", None, &["user"]).await;
    let r = app
        .call_at(&no_crm, "crm.tracking.trace.add", json!({"TRACE": trace}))
        .await;
    assert_eq!(r.status, 403);
}

async fn trace_add_form_encoded(b: Backend) {
    let app = spawn_app(b).await;
    let lead = app.add_lead(json!({"TITLE": "form"})).await;
    let body = format!(
        "ENTITIES%5B0%5D%5BTYPE%5D=LEAD&ENTITIES%5B0%5D%5BID%5D={lead}&TRACE={}",
        percent(r#"{"tags":{"list":{"utm_source":"fb"}}}"#)
    );
    let r = app
        .post_raw(
            &format!("{}crm.tracking.trace.add", app.hook),
            Some("application/x-www-form-urlencoded"),
            body,
        )
        .await;
    let id = r.result().as_i64().unwrap();
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(trace_ids(&j)[0], id);
    assert_eq!(j["SOURCE"]["CODE"], json!("fb"));
    // TRACE inside form-encoded fields of crm.lead.add.
    let body = format!(
        "fields%5BTITLE%5D=F&fields%5BTRACE%5D={}",
        percent(r#"{"ref":"https://vk.com/wall"}"#)
    );
    let r = app
        .post_raw(
            &format!("{}crm.lead.add", app.hook),
            Some("application/x-www-form-urlencoded"),
            body,
        )
        .await;
    let lead = r.result().as_i64().unwrap();
    assert_eq!(
        journey(&app, "LEAD", lead).await["SOURCE"]["CODE"],
        json!("vk")
    );
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn trace_delete_permissions(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights("owner", Some("lead=read:all,add:all,update:own"), &["crm"])
        .await;
    let mine = app
        .add_lead(json!({"TITLE": "mine", "ASSIGNED_BY_ID": uid}))
        .await;
    let theirs = app.add_lead(json!({"TITLE": "theirs"})).await;
    let own_trace = trace_ids(&journey(&app, "LEAD", mine).await)[0];
    let shared = add_trace(
        &app,
        json!({"TRACE": "{\"SOURCE_ID\":\"fb\"}", "ENTITIES": [{"TYPE": "LEAD", "ID": mine}, {"TYPE": "LEAD", "ID": theirs}]}),
    )
    .await;
    for params in [
        json!({}),
        json!({"id": ""}),
        json!({"id": 0}),
        json!({"id": "abc"}),
        json!({"ID": shared}),
    ] {
        app.call_at(&hook, "crm.tracking.trace.delete", params)
            .await
            .assert_error(400, "ERROR_CORE", "Parameter `id` required.");
    }
    // The user may change only their lead: that binding goes, the trace stays.
    let r = app
        .call_at(&hook, "crm.tracking.trace.delete", json!({"id": shared}))
        .await;
    assert_eq!(r.result(), &Value::Null);
    assert_eq!(
        trace_ids(&journey(&app, "LEAD", mine).await),
        vec![own_trace]
    );
    assert_eq!(
        journey(&app, "LEAD", mine).await["SOURCE"]["CODE"],
        json!("organic")
    );
    assert_eq!(trace_ids(&journey(&app, "LEAD", theirs).await)[0], shared);
    // The administrator may change the rest: the trace goes.
    let before = trace_count(&app).await;
    assert_eq!(
        app.call(
            "crm.tracking.trace.delete",
            json!({"id": shared.to_string()})
        )
        .await
        .result(),
        &Value::Null
    );
    assert_eq!(trace_count(&app).await, before - 1);
    assert!(!trace_ids(&journey(&app, "LEAD", theirs).await).contains(&shared));
    // Unknown ids: no existence check.
    assert_eq!(
        app.call("crm.tracking.trace.delete", json!({"id": 99999}))
            .await
            .result(),
        &Value::Null
    );
    // Deleting a lead removes its bindings.
    let gone = app.add_lead(json!({"TITLE": "gone"})).await;
    let t = add_trace(
        &app,
        json!({"TRACE": "{}", "ENTITIES": [{"TYPE": "LEAD", "ID": gone}]}),
    )
    .await;
    app.call("crm.lead.delete", json!({"id": gone}))
        .await
        .result();
    let left = app
        .running
        .state
        .store()
        .read(move |tx| Box::pin(async move { crm::Storage::trace_bindings(tx, 1, t).await }))
        .await
        .unwrap();
    assert!(left.is_empty());
}

async fn entity_get_output(b: Backend) {
    let app = spawn_app(b).await;
    let lead = app
        .add_lead(json!({"TITLE": "j", "UTM_SOURCE": "google", "UTM_MEDIUM": "cpc"}))
        .await;
    let later = add_trace(&app, json!({"TRACE": "{\"ref\":\"https://l.instagram.com/\"}", "ENTITIES": [{"TYPE": "LEAD", "ID": lead}]})).await;
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(
        j.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "ENTITY_TYPE",
            "ENTITY_TYPE_ID",
            "ENTITY_ID",
            "SOURCE",
            "TRACES"
        ]
    );
    assert_eq!(
        (
            j["ENTITY_TYPE"].clone(),
            j["ENTITY_TYPE_ID"].clone(),
            j["ENTITY_ID"].clone()
        ),
        (json!("LEAD"), json!(1), json!(lead))
    );
    assert_eq!(j["SOURCE"]["CODE"], json!("instagram"));
    let traces = j["TRACES"].as_array().unwrap();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0]["ID"], json!(later), "newest first");
    assert_eq!(
        traces[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "ID",
            "DATE_CREATE",
            "DATE_BOUND",
            "SOURCE",
            "SOURCE_DESCRIPTION",
            "CHANNEL_GROUP",
            "CHANNELS",
            "UTM",
            "URL",
            "REFERRER",
            "GCLID",
            "GUEST_ID",
            "IS_MOBILE",
            "CLIENT",
            "PAGES",
            "PREVIOUS"
        ]
    );
    assert_eq!(
        traces[0]["CHANNEL_GROUP"],
        json!({"CODE": "organic_social", "NAME": "Organic Social"})
    );
    assert_eq!(traces[1]["SOURCE"]["CODE"], json!("google"));
    assert_eq!(
        traces[1]["UTM"],
        json!({"UTM_SOURCE": "google", "UTM_MEDIUM": "cpc", "UTM_CAMPAIGN": null, "UTM_CONTENT": null, "UTM_TERM": null})
    );
    // entityTypeId spelling, and the errors.
    let same = app
        .call(
            "leadtrace.tracking.entity.get",
            json!({"entityTypeId": 1, "id": lead}),
        )
        .await;
    assert_eq!(same.result(), &j);
    app.call(
        "leadtrace.tracking.entity.get",
        json!({"TYPE": "LEAD", "ID": 9999}),
    )
    .await
    .assert_error(400, "", "Not found");
    app.call("leadtrace.tracking.entity.get", json!({"TYPE": "LEAD"}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    let (_, hook) = app
        .user_with_rights("blind", Some("lead=add:all"), &["crm"])
        .await;
    app.call_at(
        &hook,
        "leadtrace.tracking.entity.get",
        json!({"TYPE": "LEAD", "ID": lead}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    // The extension methods are listed.
    let methods = app.call("methods", json!({"full": true})).await;
    for m in [
        "crm.tracking.trace.add",
        "crm.tracking.trace.delete",
        "leadtrace.tracking.entity.get",
        "leadtrace.tracking.source.list",
    ] {
        assert!(
            methods.result().as_array().unwrap().contains(&json!(m)),
            "{m}"
        );
    }
}

async fn source_methods(b: Backend) {
    let app = spawn_app(b).await;
    let list = app.call("leadtrace.tracking.source.list", json!({})).await;
    let codes: Vec<&str> = list
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["CODE"].as_str().unwrap())
        .collect();
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
    assert_eq!(list.body["total"], json!(7));
    let fb = &list.result()[1];
    assert_eq!(fb["ID"], json!(2));
    assert_eq!(fb["UTM_SOURCE"], json!(["facebook", "fb"]));
    assert_eq!(fb["REF_DOMAIN"], json!(["facebook.com"]));
    assert_eq!(fb["ACTIVE"], json!("Y"));

    let id = app
        .call(
            "leadtrace.tracking.source.add",
            json!({"fields": {"NAME": "Partners", "CODE": "partners", "UTM_SOURCE": ["partner", {"REGEXP": "^aff-[0-9]+$"}], "REF_DOMAIN": ["partner.example"]}}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    assert_eq!(id, 8);
    let lead = app
        .add_lead(json!({"TITLE": "aff", "UTM_SOURCE": "aff-17"}))
        .await;
    assert_eq!(
        journey(&app, "LEAD", lead).await["SOURCE"]["CODE"],
        json!("partners")
    );
    let lead = app
        .add_lead(json!({"TITLE": "ref", "TRACE": "{\"ref\":\"https://www.partner.example/x\"}"}))
        .await;
    assert_eq!(journey(&app, "LEAD", lead).await["SOURCE"]["ID"], json!(id));

    app.call(
        "leadtrace.tracking.source.update",
        json!({"id": id, "fields": {"ACTIVE": "N", "NAME": "Partners (old)"}}),
    )
    .await
    .result();
    let lead2 = app
        .add_lead(json!({"TITLE": "aff", "UTM_SOURCE": "aff-18"}))
        .await;
    assert_eq!(
        journey(&app, "LEAD", lead2).await["SOURCE"]["ID"],
        json!(0),
        "inactive sources do not match"
    );
    let listed = app.call("leadtrace.tracking.source.list", json!({})).await;
    let p = &listed.result()[7];
    assert_eq!(
        (p["NAME"].clone(), p["ACTIVE"].clone()),
        (json!("Partners (old)"), json!("N"))
    );
    assert_eq!(
        p["UTM_SOURCE"],
        json!(["partner", {"REGEXP": "^aff-[0-9]+$"}])
    );

    // Validation and not-found.
    for (fields, text) in [
        (
            json!({"CODE": "x"}),
            "Required field NAME is not specified.",
        ),
        (
            json!({"NAME": "Dup", "CODE": "google"}),
            "A source with CODE `google` already exists.",
        ),
        (json!({"NAME": "Bad", "UTM_SOURCE": [{"REGEXP": "("}]}), ""),
    ] {
        let r = app
            .call("leadtrace.tracking.source.add", json!({"fields": fields}))
            .await;
        assert_eq!(
            (r.status, r.body["error"].clone()),
            (400, json!("ERROR_CORE")),
            "{}",
            r.body
        );
        if !text.is_empty() {
            assert_eq!(r.body["error_description"], json!(text));
        }
    }
    app.call("leadtrace.tracking.source.add", json!({}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call(
        "leadtrace.tracking.source.update",
        json!({"id": 999, "fields": {"NAME": "x"}}),
    )
    .await
    .assert_error(400, "", "Not found");
    app.call("leadtrace.tracking.source.delete", json!({"id": 0}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");

    // Only administrators change sources; anyone with crm may list them.
    let (_, hook) = app
        .user_with_rights("plain", Some("lead=read:all"), &["crm"])
        .await;
    assert_eq!(
        app.call_at(&hook, "leadtrace.tracking.source.list", json!({}))
            .await
            .result()
            .as_array()
            .unwrap()
            .len(),
        8
    );
    for (method, params) in [
        (
            "leadtrace.tracking.source.add",
            json!({"fields": {"NAME": "x"}}),
        ),
        (
            "leadtrace.tracking.source.update",
            json!({"id": id, "fields": {"NAME": "x"}}),
        ),
        ("leadtrace.tracking.source.delete", json!({"id": id})),
    ] {
        app.call_at(&hook, method, params)
            .await
            .assert_error(400, "", "Access denied.");
    }

    // Deleting sends the source's traces to source 0.
    app.call("leadtrace.tracking.source.delete", json!({"id": id}))
        .await
        .result();
    assert_eq!(journey(&app, "LEAD", lead).await["SOURCE"]["ID"], json!(0));
    app.call("leadtrace.tracking.source.delete", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
}

/// Binds a trace straight in storage (with the time of now), as `crm.tracking.trace.add` would.
async fn bind(app: &TestApp, trace_id: i64, kind: EntityKind, id: i64) {
    app.running
        .state
        .store()
        .write(move |tx| {
            Box::pin(async move {
                crm::Storage::bind_trace(tx, 1, trace_id, kind, id, chrono::Utc::now().timestamp())
                    .await
            })
        })
        .await
        .unwrap();
}

async fn attribution_window(b: Backend) {
    let app = spawn_app(b).await;
    let fb = add_trace(
        &app,
        json!({"TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"fb\",\"utm_medium\":\"cpc\"}}}"}),
    )
    .await;
    let contact = app.add("contact", json!({"NAME": "Returning"})).await;
    bind(&app, fb, EntityKind::Contact, contact).await;
    let lead = app
        .add_lead(json!({"TITLE": "returning", "CONTACT_ID": contact}))
        .await;
    let j = journey(&app, "LEAD", lead).await;
    assert_eq!(j["SOURCE"]["CODE"], json!("fb"));
    assert_eq!(j["TRACES"][0]["UTM"]["UTM_MEDIUM"], json!("cpc"));
    assert_ne!(
        j["TRACES"][0]["ID"],
        json!(fb),
        "a new trace with the inherited source"
    );
    // Its own UTM_SOURCE blocks the window.
    let lead = app
        .add_lead(json!({"TITLE": "own", "CONTACT_ID": contact, "UTM_SOURCE": "something"}))
        .await;
    assert_eq!(journey(&app, "LEAD", lead).await["SOURCE"]["ID"], json!(0));
    // Switched off.
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                tx.set_tracking_settings(
                    1,
                    &crm::tracking::TrackingSettings {
                        use_attribution_window: false,
                        attribution_window_days: 28,
                    },
                )
                .await
            })
        })
        .await
        .unwrap();
    let lead = app
        .add_lead(json!({"TITLE": "off", "CONTACT_ID": contact}))
        .await;
    assert_eq!(journey(&app, "LEAD", lead).await["SOURCE"]["ID"], json!(0));
}

async fn source_cli(b: Backend) {
    let dir = std::env::temp_dir().join(format!(
        "leadtrace-src-{}",
        leadtrace::bootstrap::random_code(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = store::testing::fresh_url(b).await;
    let run = |args: Vec<&'static str>| {
        let (dir, db) = (dir.clone(), db.clone());
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadtrace"))
                .current_dir(&dir)
                .env("DATABASE_URL", &db)
                .args(&args)
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let (ok, out, err) = run(vec!["source", "list"]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[1], "2\tfb\tFacebook\tY\tfacebook,fb\tfacebook.com");
    let (ok, id, err) = run(vec![
        "source",
        "add",
        "--name",
        "Partners",
        "--code",
        "partners",
        "--utm-source",
        "partner",
        "--utm-source-regex",
        "^aff-",
        "--ref-domain",
        "partner.example",
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(id, "8");
    let (ok, _, err) = run(vec![
        "source",
        "update",
        "8",
        "--active",
        "N",
        "--utm-source",
        "p2",
    ])
    .await;
    assert!(ok, "{err}");
    let (_, out, _) = run(vec!["source", "list"]).await;
    assert_eq!(
        out.lines().last().unwrap(),
        "8\tpartners\tPartners\tN\tp2\tpartner.example"
    );
    let (ok, _, err) = run(vec!["source", "add", "--name", "Dup", "--code", "partners"]).await;
    assert!(!ok);
    assert!(
        err.contains("A source with CODE `partners` already exists."),
        "{err}"
    );
    let (ok, _, err) = run(vec![
        "source",
        "add",
        "--name",
        "Bad",
        "--utm-source-regex",
        "(",
    ])
    .await;
    assert!(!ok && err.contains("invalid regular expression"), "{err}");
    let (ok, _, err) = run(vec!["source", "delete", "8"]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(vec!["source", "delete", "8"]).await;
    assert!(!ok && err.contains("Not found"), "{err}");
    assert_eq!(run(vec!["source", "list"]).await.1.lines().count(), 7);
    // The attribution window settings.
    let (ok, _, err) = run(vec![
        "portal",
        "set",
        "--attribution-window-days",
        "7",
        "--attribution-window",
        "off",
    ])
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(vec!["portal", "set", "--attribution-window-days", "0"]).await;
    assert!(!ok && err.contains("1 to 365"), "{err}");
    let (ok, _, _) = run(vec!["portal", "set", "--attribution-window", "maybe"]).await;
    assert!(!ok);
    let store = store::Store::open(&db).await.unwrap();
    let s = store
        .read(|tx| Box::pin(async move { crm::Storage::tracking_settings(tx, 1).await }))
        .await
        .unwrap();
    assert_eq!(
        (s.use_attribution_window, s.attribution_window_days),
        (false, 7)
    );
    store.close().await;
    store::testing::discard(&db).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fields that make a record of each legacy family valid.
fn minimal(entity: &str) -> Value {
    match entity {
        "contact" => json!({"NAME": "Ann"}),
        _ => json!({"TITLE": format!("a {entity}")}),
    }
}

/// `fields` of one family plus these.
fn with(entity: &str, extra: Value) -> Value {
    let mut f = minimal(entity);
    f.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    f
}

fn codes(journey: &Value) -> Vec<String> {
    journey["TRACES"][0]["CHANNELS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["CODE"].as_str().unwrap().to_string())
        .collect()
}

async fn trace_on_every_family(b: Backend) {
    let app = spawn_app(b).await;
    for (entity, code) in [
        ("deal", "DEAL"),
        ("contact", "CONTACT"),
        ("company", "COMPANY"),
        ("quote", "QUOTE"),
    ] {
        // The tracker's JSON.
        let id = app
            .add(entity, with(entity, json!({"TRACE": TRACKER})))
            .await;
        let j = journey(&app, code, id).await;
        assert_eq!(j["ENTITY_TYPE"], json!(code));
        assert_eq!(j["SOURCE"]["CODE"], json!("google"), "{entity}");
        let t = &j["TRACES"][0];
        assert_eq!(t["CHANNEL_GROUP"]["CODE"], json!("paid_search"), "{entity}");
        assert_eq!(t["UTM"]["UTM_CAMPAIGN"], json!("spring"), "{entity}");
        // The referrer page and the two pages of the visit.
        assert_eq!(t["PAGES"].as_array().unwrap().len(), 3, "{entity}");
        assert!(codes(&j).contains(&"rest".to_string()), "{entity}");
        // The old docs form with an explicit source.
        let id = app
            .add(
                entity,
                with(entity, json!({"TRACE": "{\"SOURCE_ID\":\"vk\"}"})),
            )
            .await;
        assert_eq!(
            journey(&app, code, id).await["SOURCE"]["CODE"],
            json!("vk"),
            "{entity}"
        );
        // Nothing at all: a trace with no source, channel `rest`.
        let id = app.add(entity, minimal(entity)).await;
        let j = journey(&app, code, id).await;
        assert_eq!(j["SOURCE"]["ID"], json!(0), "{entity}");
        assert_eq!(codes(&j), vec!["rest"], "{entity}");
        // An invalid TRACE does not fail the add.
        let id = app
            .add(entity, with(entity, json!({"TRACE": "{not json"})))
            .await;
        assert_eq!(trace_ids(&journey(&app, code, id).await).len(), 1);
    }
    // The UTM fields of every family resolve to a source too.
    for entity in ["deal", "contact", "company", "quote"] {
        let id = app
            .add(
                entity,
                with(entity, json!({"UTM_SOURCE": "fb", "UTM_MEDIUM": "cpc"})),
            )
            .await;
        let j = journey(&app, &entity.to_ascii_uppercase(), id).await;
        assert_eq!(j["SOURCE"]["CODE"], json!("fb"), "{entity}");
        assert_eq!(
            j["TRACES"][0]["UTM"]["UTM_MEDIUM"],
            json!("cpc"),
            "{entity}"
        );
    }
    // A deal's UTM change to another source makes a new effective trace.
    let deal = app
        .add("deal", with("deal", json!({"UTM_SOURCE": "google"})))
        .await;
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"UTM_SOURCE": "vk"}}),
    )
    .await
    .result();
    let j = journey(&app, "DEAL", deal).await;
    assert_eq!(trace_ids(&j).len(), 2);
    assert_eq!(j["SOURCE"]["CODE"], json!("vk"));
}

async fn trace_add_binds_every_family(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights(
            "seller",
            Some("deal=read:all,add:all,update:own;contact=read:all,update:all;company=read:all;quote=read:all,update:all"),
            &["crm"],
        )
        .await;
    let mine = app
        .add("deal", with("deal", json!({"ASSIGNED_BY_ID": uid})))
        .await;
    let theirs = app.add("deal", minimal("deal")).await;
    let contact = app.add("contact", minimal("contact")).await;
    let company = app.add("company", minimal("company")).await;
    let quote = app.add("quote", minimal("quote")).await;
    let trace = "{\"tags\":{\"list\":{\"utm_source\":\"instagram\"}}}";
    let t = app
        .call_at(
            &hook,
            "crm.tracking.trace.add",
            json!({"TRACE": trace, "ENTITIES": [
                {"TYPE": "DEAL", "ID": mine}, {"TYPE": "CONTACT", "ID": contact}, {"TYPE": "QUOTE", "ID": quote}
            ]}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    for (code, id) in [("DEAL", mine), ("CONTACT", contact), ("QUOTE", quote)] {
        let j = journey(&app, code, id).await;
        assert_eq!(trace_ids(&j)[0], t, "{code}");
        assert_eq!(j["SOURCE"]["CODE"], json!("instagram"), "{code}");
    }
    // Binding needs the right to update each record; nothing is made when one is refused.
    let before = trace_count(&app).await;
    for (code, id) in [("DEAL", theirs), ("COMPANY", company), ("DEAL", 99999)] {
        app.call_at(
            &hook,
            "crm.tracking.trace.add",
            json!({"TRACE": trace, "ENTITIES": [{"TYPE": "DEAL", "ID": mine}, {"TYPE": code, "ID": id}]}),
        )
        .await
        .assert_error(
            400,
            "ERROR_CORE",
            &format!("You have no access to entity `{code}` with ID `{id}`."),
        );
    }
    assert_eq!(trace_count(&app).await, before);
    // The administrator may bind anything; the same record twice is bound once.
    let t = add_trace(
        &app,
        json!({"TRACE": trace, "ENTITIES": [{"TYPE": "COMPANY", "ID": company}, {"TYPE": "COMPANY", "ID": company.to_string()}]}),
    )
    .await;
    let j = journey(&app, "COMPANY", company).await;
    assert_eq!(trace_ids(&j)[0], t);
    assert_eq!(trace_ids(&j).iter().filter(|x| **x == t).count(), 1);
    // Deleting the trace as the seller: the company binding is not theirs to change, so it stays.
    app.call_at(&hook, "crm.tracking.trace.delete", json!({"id": t}))
        .await
        .result();
    assert_eq!(trace_ids(&journey(&app, "COMPANY", company).await)[0], t);
    // Reading the journey needs the right to read the record.
    let (_, reader) = app
        .user_with_rights("noquotes", Some("deal=read:all"), &["crm"])
        .await;
    app.call_at(
        &reader,
        "leadtrace.tracking.entity.get",
        json!({"TYPE": "QUOTE", "ID": quote}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    // Deleting a deal removes its bindings.
    app.call("crm.deal.delete", json!({"id": mine}))
        .await
        .result();
    app.call(
        "leadtrace.tracking.entity.get",
        json!({"TYPE": "DEAL", "ID": mine}),
    )
    .await
    .assert_error(400, "", "Not found");
}

async fn deals_bind_their_clients(b: Backend) {
    let app = spawn_app(b).await;
    let first = app.add("contact", minimal("contact")).await;
    let second = app.add("contact", minimal("contact")).await;
    let company = app.add("company", minimal("company")).await;
    let deal = app
        .add(
            "deal",
            with(
                "deal",
                json!({"CONTACT_IDS": [first, second], "COMPANY_ID": company, "TRACE": "{\"SOURCE_ID\":\"yandex\"}"}),
            ),
        )
        .await;
    let t = trace_ids(&journey(&app, "DEAL", deal).await)[0];
    // The deal's first contact and its company now have the deal's trace as their effective one.
    for (code, id) in [("CONTACT", first), ("COMPANY", company)] {
        let j = journey(&app, code, id).await;
        assert_eq!(trace_ids(&j)[0], t, "{code}");
        assert_eq!(j["SOURCE"]["CODE"], json!("yandex"), "{code}");
    }
    // Only the first contact.
    assert!(!trace_ids(&journey(&app, "CONTACT", second).await).contains(&t));
    // `CONTACT_ID` alone binds that contact.
    let deal = app
        .add("deal", with("deal", json!({"CONTACT_ID": second})))
        .await;
    let t = trace_ids(&journey(&app, "DEAL", deal).await)[0];
    assert_eq!(trace_ids(&journey(&app, "CONTACT", second).await)[0], t);
    // Leads, contacts, companies and quotes bind only themselves.
    let lead = app
        .add_lead(json!({"TITLE": "l", "CONTACT_ID": first, "TRACE": "{\"SOURCE_ID\":\"vk\"}"}))
        .await;
    let t = trace_ids(&journey(&app, "LEAD", lead).await)[0];
    assert!(!trace_ids(&journey(&app, "CONTACT", first).await).contains(&t));
    let quote = app
        .add(
            "quote",
            with("quote", json!({"CONTACT_ID": first, "COMPANY_ID": company})),
        )
        .await;
    let t = trace_ids(&journey(&app, "QUOTE", quote).await)[0];
    assert!(!trace_ids(&journey(&app, "CONTACT", first).await).contains(&t));
    assert!(!trace_ids(&journey(&app, "COMPANY", company).await).contains(&t));
}

async fn window_for_deals_and_companies(b: Backend) {
    let app = spawn_app(b).await;
    // A company that came with a source.
    let company = app
        .add(
            "company",
            with("company", json!({"TRACE": "{\"SOURCE_ID\":\"google\"}"})),
        )
        .await;
    // A deal made without a source for the company inherits the company's.
    let deal = app
        .add("deal", with("deal", json!({"COMPANY_ID": company})))
        .await;
    let j = journey(&app, "DEAL", deal).await;
    assert_eq!(j["SOURCE"]["CODE"], json!("google"));
    assert_eq!(codes(&j), vec!["rest"]);
    // A lead for the company too.
    let lead = app
        .add_lead(json!({"TITLE": "for the company", "COMPANY_ID": company}))
        .await;
    assert_eq!(
        journey(&app, "LEAD", lead).await["SOURCE"]["CODE"],
        json!("google")
    );
    // Later, a contact comes with a source of its own.
    let contact = app
        .add("contact", with("contact", json!({"TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"fb\",\"utm_medium\":\"cpc\"}}}"})))
        .await;
    // A deal for the contact and the company inherits the contact's source and tags: its trace is
    // the more recent of the two clients' effective traces.
    let deal = app
        .add(
            "deal",
            with(
                "deal",
                json!({"CONTACT_ID": contact, "COMPANY_ID": company}),
            ),
        )
        .await;
    let j = journey(&app, "DEAL", deal).await;
    assert_eq!(j["SOURCE"]["CODE"], json!("fb"));
    assert_eq!(j["TRACES"][0]["UTM"]["UTM_MEDIUM"], json!("cpc"));
    // A source of its own blocks the window.
    let deal = app
        .add(
            "deal",
            with(
                "deal",
                json!({"CONTACT_ID": contact, "TRACE": "{\"SOURCE_ID\":\"vk\"}"}),
            ),
        )
        .await;
    assert_eq!(
        journey(&app, "DEAL", deal).await["SOURCE"]["CODE"],
        json!("vk")
    );
    // Contacts, companies and quotes do not use the window.
    let quote = app
        .add(
            "quote",
            with(
                "quote",
                json!({"CONTACT_ID": contact, "COMPANY_ID": company}),
            ),
        )
        .await;
    assert_eq!(
        journey(&app, "QUOTE", quote).await["SOURCE"]["ID"],
        json!(0)
    );
    let other = app
        .add("contact", with("contact", json!({"COMPANY_ID": company})))
        .await;
    assert_eq!(
        journey(&app, "CONTACT", other).await["SOURCE"]["ID"],
        json!(0)
    );
}

async fn item_methods_make_no_trace(b: Backend) {
    let app = spawn_app(b).await;
    let before = trace_count(&app).await;
    let contact = app
        .call(
            "crm.item.add",
            json!({"entityTypeId": 3, "fields": {"name": "Item", "TRACE": TRACKER}}),
        )
        .await;
    let contact = contact.result()["item"]["id"].as_i64().unwrap();
    let deal = app
        .call(
            "crm.item.add",
            json!({"entityTypeId": 2, "fields": {"title": "Item", "utmSource": "google", "contactIds": [contact], "TRACE": TRACKER}}),
        )
        .await;
    let deal = deal.result()["item"]["id"].as_i64().unwrap();
    app.call(
        "crm.item.update",
        json!({"entityTypeId": 2, "id": deal, "fields": {"utmSource": "vk"}}),
    )
    .await
    .result();
    assert_eq!(trace_count(&app).await, before, "crm.item.* makes no trace");
    assert!(trace_ids(&journey(&app, "DEAL", deal).await).is_empty());
    assert!(trace_ids(&journey(&app, "CONTACT", contact).await).is_empty());
    // The same deal changed through the legacy method does get one.
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"UTM_SOURCE": "google"}}),
    )
    .await
    .result();
    assert_eq!(trace_ids(&journey(&app, "DEAL", deal).await).len(), 1);
}

async fn simple_mode_shares_the_lead_trace(b: Backend) {
    let app = spawn_app(b).await;
    app.running
        .state
        .store()
        .write(|tx| Box::pin(async move { tx.set_portal_setting(1, "crm_mode", "simple").await }))
        .await
        .unwrap();
    let before = trace_count(&app).await;
    let lead = app
        .add_lead(
            json!({"TITLE": "simple", "NAME": "Ann", "COMPANY_TITLE": "Acme", "TRACE": TRACKER}),
        )
        .await;
    assert_eq!(
        trace_count(&app).await,
        before + 2,
        "the trace and its previous visit"
    );
    let deals = app
        .call(
            "crm.deal.list",
            json!({"filter": {"LEAD_ID": lead}, "select": ["ID", "CONTACT_ID", "COMPANY_ID"]}),
        )
        .await;
    let deal = &deals.result()[0];
    let id = |v: &Value| {
        v.as_str()
            .map_or_else(|| v.as_i64().unwrap(), |s| s.parse().unwrap())
    };
    let t = trace_ids(&journey(&app, "DEAL", id(&deal["ID"])).await);
    assert_eq!(t.len(), 1);
    for (code, v) in [
        ("CONTACT", &deal["CONTACT_ID"]),
        ("COMPANY", &deal["COMPANY_ID"]),
    ] {
        let j = journey(&app, code, id(v)).await;
        assert_eq!(trace_ids(&j), t, "{code}");
        assert_eq!(j["SOURCE"]["CODE"], json!("google"), "{code}");
    }
}

/// The channel group code of a record's effective trace.
async fn group_of(app: &TestApp, kind: &str, id: i64) -> Value {
    journey(app, kind, id).await["TRACES"][0]["CHANNEL_GROUP"]["CODE"].clone()
}

async fn channel_rule_methods(b: Backend) {
    let app = spawn_app(b).await;
    let groups = app.call("leadtrace.tracking.channel.list", json!({})).await;
    assert_eq!(groups.body["total"], json!(19));
    assert_eq!(
        groups.result()[0],
        json!({"CODE": "direct", "NAME": "Direct"})
    );
    assert_eq!(
        groups.result()[3],
        json!({"CODE": "paid_search", "NAME": "Paid Search"})
    );
    let empty = app
        .call("leadtrace.tracking.channel.rule.list", json!({}))
        .await;
    assert_eq!(
        (empty.result().clone(), empty.body["total"].clone()),
        (json!([]), json!(0))
    );

    let partners = app
        .call(
            "leadtrace.tracking.channel.rule.add",
            json!({"fields": {"NAME": "Partners", "CHANNEL_GROUP": "affiliates",
                              "UTM_SOURCE": ["partner", {"REGEXP": "^aff-[0-9]+$"}]}}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    // Form encoding works as for every method; SORT 10 puts this rule first.
    let blog = app
        .post_raw(
            &format!("{}leadtrace.tracking.channel.rule.add", app.hook),
            Some("application/x-www-form-urlencoded"),
            "fields[CHANNEL_GROUP]=Email&fields[SORT]=10&fields[REF_DOMAIN][0]=blog.example\
             &fields[UTM_MEDIUM][0][REGEXP]=^news",
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    assert!(blog > partners);
    let listed = app
        .call("leadtrace.tracking.channel.rule.list", json!({}))
        .await;
    assert_eq!(listed.body["total"], json!(2));
    let rules = listed.result().as_array().unwrap();
    assert_eq!(rules[0]["ID"], json!(blog), "by SORT, then id");
    assert_eq!(
        rules[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "ID",
            "SORT",
            "ACTIVE",
            "NAME",
            "CHANNEL_GROUP",
            "DATE_CREATE",
            "UTM_SOURCE",
            "UTM_MEDIUM",
            "UTM_CAMPAIGN",
            "REF_DOMAIN"
        ]
    );
    assert_eq!(
        (
            rules[0]["SORT"].clone(),
            rules[0]["CHANNEL_GROUP"].clone(),
            rules[0]["REF_DOMAIN"].clone(),
            rules[0]["UTM_MEDIUM"].clone()
        ),
        (
            json!(10),
            json!("email"),
            json!(["blog.example"]),
            json!([{"REGEXP": "^news"}])
        )
    );
    assert_eq!(
        (
            rules[1]["NAME"].clone(),
            rules[1]["SORT"].clone(),
            rules[1]["ACTIVE"].clone(),
            rules[1]["UTM_SOURCE"].clone(),
            rules[1]["UTM_CAMPAIGN"].clone()
        ),
        (
            json!("Partners"),
            json!(100),
            json!("Y"),
            json!(["partner", {"REGEXP": "^aff-[0-9]+$"}]),
            json!([])
        )
    );

    // Update: given lists replace, others stay; SORT moves the rule.
    app.call(
        "leadtrace.tracking.channel.rule.update",
        json!({"id": partners, "fields": {"SORT": 5, "UTM_CAMPAIGN": ["spring"], "ACTIVE": "N"}}),
    )
    .await
    .result();
    let rules = app
        .call("leadtrace.tracking.channel.rule.list", json!({}))
        .await
        .result()
        .clone();
    assert_eq!(rules[0]["ID"], json!(partners));
    assert_eq!(
        (
            rules[0]["ACTIVE"].clone(),
            rules[0]["UTM_SOURCE"].clone(),
            rules[0]["UTM_CAMPAIGN"].clone()
        ),
        (
            json!("N"),
            json!(["partner", {"REGEXP": "^aff-[0-9]+$"}]),
            json!(["spring"])
        )
    );

    // Validation, not-found and the id errors (as the source methods).
    for (fields, text) in [
        (
            json!({"UTM_SOURCE": ["x"]}),
            "Required field CHANNEL_GROUP is not specified.",
        ),
        (
            json!({"CHANNEL_GROUP": "paid", "UTM_SOURCE": ["x"]}),
            "Field CHANNEL_GROUP: unknown channel group `paid` (see leadtrace.tracking.channel.list).",
        ),
        (
            json!({"CHANNEL_GROUP": "sms"}),
            "A rule needs at least one condition: UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN or REF_DOMAIN.",
        ),
        (
            json!({"CHANNEL_GROUP": "sms", "UTM_SOURCE": ["x"], "SORT": "first"}),
            "Field SORT must be an integer.",
        ),
        (
            json!({"CHANNEL_GROUP": "sms", "UTM_SOURCE": [{"REGEXP": "("}]}),
            "",
        ),
    ] {
        let r = app
            .call("leadtrace.tracking.channel.rule.add", json!({"fields": fields}))
            .await;
        assert_eq!(
            (r.status, r.body["error"].clone()),
            (400, json!("ERROR_CORE")),
            "{}",
            r.body
        );
        if !text.is_empty() {
            assert_eq!(r.body["error_description"], json!(text));
        }
    }
    app.call("leadtrace.tracking.channel.rule.add", json!({}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call(
        "leadtrace.tracking.channel.rule.update",
        json!({"id": blog, "fields": {"REF_DOMAIN": [], "UTM_MEDIUM": []}}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "A rule needs at least one condition: UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN or REF_DOMAIN.",
    );
    app.call(
        "leadtrace.tracking.channel.rule.update",
        json!({"id": 999, "fields": {"NAME": "x"}}),
    )
    .await
    .assert_error(400, "", "Not found");
    app.call("leadtrace.tracking.channel.rule.delete", json!({"id": 0}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");

    // Only administrators change rules; anyone with crm may read them and the groups.
    let (_, hook) = app
        .user_with_rights("plain", Some("lead=read:all"), &["crm"])
        .await;
    for method in [
        "leadtrace.tracking.channel.rule.list",
        "leadtrace.tracking.channel.list",
    ] {
        assert!(!app
            .call_at(&hook, method, json!({}))
            .await
            .result()
            .as_array()
            .unwrap()
            .is_empty());
    }
    for (method, params) in [
        (
            "leadtrace.tracking.channel.rule.add",
            json!({"fields": {"CHANNEL_GROUP": "sms", "UTM_SOURCE": "sms"}}),
        ),
        (
            "leadtrace.tracking.channel.rule.update",
            json!({"id": blog, "fields": {"NAME": "x"}}),
        ),
        (
            "leadtrace.tracking.channel.rule.delete",
            json!({"id": blog}),
        ),
    ] {
        app.call_at(&hook, method, params)
            .await
            .assert_error(400, "", "Access denied.");
    }

    app.call(
        "leadtrace.tracking.channel.rule.delete",
        json!({"id": blog}),
    )
    .await
    .result();
    app.call(
        "leadtrace.tracking.channel.rule.delete",
        json!({"id": blog}),
    )
    .await
    .assert_error(400, "", "Not found");
    let left = app
        .call("leadtrace.tracking.channel.rule.list", json!({}))
        .await;
    assert_eq!(left.body["total"], json!(1));
    let methods = app.call("methods", json!({"full": true})).await;
    for m in [
        "leadtrace.tracking.channel.list",
        "leadtrace.tracking.channel.rule.list",
        "leadtrace.tracking.channel.rule.add",
        "leadtrace.tracking.channel.rule.update",
        "leadtrace.tracking.channel.rule.delete",
    ] {
        assert!(
            methods.result().as_array().unwrap().contains(&json!(m)),
            "{m}"
        );
    }
}

async fn channel_rules_classify_new_traces(b: Backend) {
    let app = spawn_app(b).await;
    let before = app
        .add_lead(json!({"TITLE": "before", "UTM_SOURCE": "partner", "UTM_MEDIUM": "cpc"}))
        .await;
    assert_eq!(group_of(&app, "LEAD", before).await, json!("paid_other"));

    let add = |fields: Value| {
        let app = &app;
        async move {
            app.call(
                "leadtrace.tracking.channel.rule.add",
                json!({ "fields": fields }),
            )
            .await
            .result()
            .as_i64()
            .unwrap()
        }
    };
    let partners =
        add(json!({"CHANNEL_GROUP": "affiliates", "UTM_SOURCE": ["Partner", {"REGEXP": "^aff-"}]}))
            .await;
    // A more specific rule placed before it.
    add(json!({"CHANNEL_GROUP": "paid_social", "SORT": 1, "UTM_SOURCE": ["partner"], "UTM_CAMPAIGN": [{"REGEXP": "social"}]})).await;
    add(json!({"CHANNEL_GROUP": "email", "REF_DOMAIN": ["blog.example"]})).await;
    add(json!({"CHANNEL_GROUP": "organic_video", "UTM_SOURCE": ["facebook"]})).await;

    // Rules apply to traces created after the change; earlier ones keep their group.
    assert_eq!(group_of(&app, "LEAD", before).await, json!("paid_other"));
    let lead = app
        .add_lead(json!({"TITLE": "p", "UTM_SOURCE": "partner", "UTM_MEDIUM": "cpc"}))
        .await;
    assert_eq!(group_of(&app, "LEAD", lead).await, json!("affiliates"));
    let lead = app
        .add_lead(json!({"TITLE": "p", "UTM_SOURCE": "PARTNER", "UTM_CAMPAIGN": "Social-Spring"}))
        .await;
    assert_eq!(group_of(&app, "LEAD", lead).await, json!("paid_social"));
    let deal = app
        .add("deal", json!({"TITLE": "d", "UTM_SOURCE": "aff-3"}))
        .await;
    assert_eq!(group_of(&app, "DEAL", deal).await, json!("affiliates"));
    // The source is not touched by rules.
    assert_eq!(journey(&app, "DEAL", deal).await["SOURCE"]["ID"], json!(0));

    // crm.tracking.trace.add: the trace and its previous visits.
    let trace = add_trace(
        &app,
        json!({"TRACE": "{\"ref\":\"https://news.blog.example/post\",\"previous\":{\"list\":[{\"ref\":\"https://www.google.com/\",\"tags\":{\"ts\":1579000000}},{\"ref\":\"https://blog.example/\",\"tags\":{\"ts\":1579000001}}]}}",
               "ENTITIES": [{"TYPE": "LEAD", "ID": before}]}),
    )
    .await;
    let j = journey(&app, "LEAD", before).await;
    assert_eq!(j["TRACES"][0]["ID"], json!(trace));
    assert_eq!(j["TRACES"][0]["CHANNEL_GROUP"]["CODE"], json!("email"));
    let previous: Vec<Value> = j["TRACES"][0]["PREVIOUS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["CHANNEL_GROUP"]["CODE"].clone())
        .collect();
    assert_eq!(previous, [json!("organic_search"), json!("email")]);

    // An update that changes the source makes a trace classified with the rules too.
    let lead = app
        .add_lead(json!({"TITLE": "u", "UTM_SOURCE": "google", "UTM_MEDIUM": "cpc"}))
        .await;
    assert_eq!(group_of(&app, "LEAD", lead).await, json!("paid_search"));
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"UTM_SOURCE": "facebook"}}),
    )
    .await
    .result();
    assert_eq!(group_of(&app, "LEAD", lead).await, json!("organic_video"));

    // An inactive rule no longer applies.
    app.call(
        "leadtrace.tracking.channel.rule.update",
        json!({"id": partners, "fields": {"ACTIVE": "N"}}),
    )
    .await
    .result();
    let lead = app
        .add_lead(json!({"TITLE": "p", "UTM_SOURCE": "aff-9"}))
        .await;
    assert_eq!(group_of(&app, "LEAD", lead).await, json!("unassigned"));
}

async fn dashboard_is_served(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .client
        .get(format!("{}/dashboard", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("id=\"report-table\""));
    // Script and styles are served by the binary itself: no external assets.
    assert!(!html.contains("http://") && !html.contains("https://"));
    for (path, ty, needle) in [
        (
            "/dashboard/dashboard.js",
            "text/javascript; charset=utf-8",
            "leadtrace.tracking.report.get",
        ),
        (
            "/dashboard/dashboard.css",
            "text/css; charset=utf-8",
            "table",
        ),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["content-type"].to_str().unwrap(), ty);
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    let r = app
        .client
        .get(format!("{}/dashboard/missing.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
