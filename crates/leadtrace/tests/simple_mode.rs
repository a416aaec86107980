//! Simple CRM mode over HTTP, on both backends: `leadtrace portal set --crm-mode simple`, a lead
//! added through REST becomes a deal at once (with contact and company) and is then absent from
//! every lead method; classic mode never converts through REST.

mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Command;
use store::Backend;

backend_tests!(
    cli_sets_the_mode,
    added_lead_becomes_a_deal,
    leads_are_absent,
    classic_mode_does_not_convert,
);

async fn set_mode(app: &TestApp, mode: &'static str) {
    app.running
        .state
        .store()
        .write(move |tx| Box::pin(async move { tx.set_portal_setting(1, "crm_mode", mode).await }))
        .await
        .unwrap();
}

async fn deals_of_lead(app: &TestApp, lead: i64) -> Vec<Value> {
    let r = app
        .call("crm.deal.list", json!({"filter": {"LEAD_ID": lead}}))
        .await;
    r.result().as_array().unwrap().clone()
}

fn total(r: &Reply) -> Value {
    r.body["total"].clone()
}

async fn cli_sets_the_mode(b: Backend) {
    let url = store::testing::fresh_url(b).await;
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_leadtrace"))
            .env("DATABASE_URL", &url)
            .env_remove("LEADTRACE_WEBHOOK_CODE")
            .args(args)
            .output()
            .unwrap()
    };
    let out = cli(&["portal", "set", "--crm-mode", "weird"]);
    assert!(!out.status.success(), "only simple|classic");
    let out = cli(&["portal", "set", "--crm-mode", "simple"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = spawn_with(b, |c| c.database_url = url.clone()).await;
    let id = app.add_lead(json!({"TITLE": "from the site"})).await;
    app.call("crm.lead.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
    assert_eq!(deals_of_lead(&app, id).await.len(), 1);
    let out = cli(&["portal", "set", "--crm-mode", "classic"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.record("lead", id).await["STATUS_ID"], "CONVERTED");
}

async fn added_lead_becomes_a_deal(b: Backend) {
    let app = spawn_app(b).await;
    set_mode(&app, "simple").await;
    let lead = app
        .add_lead(json!({
            "TITLE": "From website: Klaus Weber — Acme", "NAME": "Klaus", "LAST_NAME": "Weber",
            "COMPANY_TITLE": "Acme", "OPPORTUNITY": 1500, "CURRENCY_ID": "EUR", "SOURCE_ID": "WEB",
            "UTM_SOURCE": "google", "STATUS_ID": "JUNK",
            "PHONE": [{"VALUE": "+49 30 123", "VALUE_TYPE": "WORK"}], "EMAIL": [{"VALUE": "k@acme.example", "VALUE_TYPE": "HOME"}]
        }))
        .await;
    let deals = deals_of_lead(&app, lead).await;
    assert_eq!(
        deals.len(),
        1,
        "the docs' tutorial finds the deal by LEAD_ID"
    );
    let deal = &deals[0];
    assert_eq!(deal["TITLE"], "From website: Klaus Weber — Acme");
    assert_eq!(deal["OPPORTUNITY"], "1500.00");
    assert_eq!(deal["CURRENCY_ID"], "EUR");
    assert_eq!(deal["SOURCE_ID"], "WEB");
    assert_eq!(deal["UTM_SOURCE"], "google");
    assert_eq!(deal["STAGE_ID"], "NEW");
    assert_eq!(deal["LEAD_ID"], json!(lead.to_string()));
    let contact_id: i64 = deal["CONTACT_ID"].as_str().unwrap().parse().unwrap();
    let company_id: i64 = deal["COMPANY_ID"].as_str().unwrap().parse().unwrap();

    let contact = app.record("contact", contact_id).await;
    assert_eq!(
        (&contact["NAME"], &contact["LAST_NAME"]),
        (&json!("Klaus"), &json!("Weber"))
    );
    assert_eq!(contact["LEAD_ID"], json!(lead.to_string()));
    assert_eq!(contact["COMPANY_ID"], json!(company_id.to_string()));
    assert_eq!(contact["PHONE"][0]["VALUE"], "+49 30 123");
    assert_eq!(contact["EMAIL"][0]["VALUE_TYPE"], "HOME");
    assert_eq!(contact["HAS_EMAIL"], "Y");
    let company = app.record("company", company_id).await;
    assert_eq!(company["TITLE"], "Acme");
    assert_eq!(company["LEAD_ID"], json!(lead.to_string()));
    let r = app
        .call("crm.deal.contact.items.get", json!({"id": deal["ID"]}))
        .await;
    assert_eq!(r.result()[0]["CONTACT_ID"], json!(contact_id));

    // a lead without a person or company gives a deal only; an existing contact is reused
    let bare = app
        .add_lead(json!({"TITLE": "bare", "OPPORTUNITY": 5}))
        .await;
    let deals = deals_of_lead(&app, bare).await;
    assert_eq!(deals.len(), 1);
    assert_eq!(
        (&deals[0]["CONTACT_ID"], &deals[0]["COMPANY_ID"]),
        (&Value::Null, &Value::Null)
    );
    let repeat = app
        .add_lead(json!({"TITLE": "again", "NAME": "Klaus", "CONTACT_ID": contact_id}))
        .await;
    let deals = deals_of_lead(&app, repeat).await;
    assert_eq!(deals[0]["CONTACT_ID"], json!(contact_id.to_string()));
    assert_eq!(
        app.call("crm.contact.list", json!({})).await.body["total"],
        json!(1),
        "no second contact"
    );

    // the same parameter errors as classic mode, and nothing is created by a failed add
    app.call("crm.lead.add", json!({"fields": "x"}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call(
        "crm.lead.add",
        json!({"fields": {"NAME": "Eve", "SOURCE_ID": "NOPE"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field SOURCE_ID.");
    assert_eq!(
        app.call("crm.deal.list", json!({})).await.body["total"],
        json!(3)
    );

    // back in classic mode the lead is there, converted and linked
    set_mode(&app, "classic").await;
    let l = app.record("lead", lead).await;
    assert_eq!(
        (&l["STATUS_ID"], &l["STATUS_SEMANTIC_ID"]),
        (&json!("CONVERTED"), &json!("S"))
    );
    assert_ne!(l["DATE_CLOSED"], "");
    assert_eq!(l["CONTACT_ID"], json!(contact_id.to_string()));
    assert_eq!(l["COMPANY_ID"], json!(company_id.to_string()));
}

async fn leads_are_absent(b: Backend) {
    let app = spawn_app(b).await;
    let classic = app.add_lead(json!({"TITLE": "made in classic mode"})).await;
    app.call(
        "crm.lead.productrows.set",
        json!({"id": classic, "rows": [{"PRICE": 1}]}),
    )
    .await
    .result();
    set_mode(&app, "simple").await;
    let simple = app.add_lead(json!({"TITLE": "made in simple mode"})).await;
    for id in [classic, simple] {
        app.call("crm.lead.get", json!({"id": id}))
            .await
            .assert_error(400, "", "Not found");
        app.call(
            "crm.lead.update",
            json!({"id": id, "fields": {"TITLE": "x"}}),
        )
        .await
        .assert_error(400, "", "Not found");
        app.call("crm.lead.delete", json!({"id": id}))
            .await
            .assert_error(400, "", "Not found");
        app.call("crm.lead.productrows.get", json!({"id": id}))
            .await
            .assert_error(400, "", "Not found.");
        app.call("crm.lead.productrows.set", json!({"id": id, "rows": []}))
            .await
            .assert_error(400, "", "Not found.");
        app.call("crm.lead.contact.items.get", json!({"id": id}))
            .await
            .assert_error(400, "NOT_FOUND", "Not found.");
    }
    app.call("crm.lead.get", json!({"id": 0}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("crm.lead.update", json!({"id": classic}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("crm.lead.productrows.get", json!({}))
        .await
        .assert_error(400, "", "The parameter id is invalid or not defined.");
    let r = app.call("crm.lead.list", json!({"filter": {}})).await;
    assert_eq!(r.result(), &json!([]));
    assert_eq!(total(&r), json!(0));
    app.call("crm.lead.list", json!({"order": "x"}))
        .await
        .assert_error(400, "", "Parameter 'order' must be array.");
    // the description of lead fields stays available
    assert!(app
        .call("crm.lead.fields", json!({}))
        .await
        .result()
        .get("TITLE")
        .is_some());
    // nothing was changed or deleted meanwhile
    set_mode(&app, "classic").await;
    let l = app.record("lead", classic).await;
    assert_eq!(
        (&l["TITLE"], &l["STATUS_ID"]),
        (&json!("made in classic mode"), &json!("NEW"))
    );
    let r = app
        .call("crm.lead.productrows.get", json!({"id": classic}))
        .await;
    assert_eq!(r.result().as_array().unwrap().len(), 1);
}

async fn classic_mode_does_not_convert(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add_lead(json!({"TITLE": "qualified", "NAME": "Ann", "COMPANY_TITLE": "Ann Ltd"}))
        .await;
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"STATUS_ID": "CONVERTED"}}),
    )
    .await
    .result();
    let lead = app.record("lead", id).await;
    assert_eq!(lead["STATUS_SEMANTIC_ID"], "S");
    assert_eq!(
        (&lead["CONTACT_ID"], &lead["COMPANY_ID"]),
        (&Value::Null, &Value::Null)
    );
    // "Conversion is not available in REST": nothing else was created
    for family in ["deal", "contact", "company", "quote"] {
        let r = app.call(&format!("crm.{family}.list"), json!({})).await;
        assert_eq!(total(&r), json!(0), "{family}");
    }
}
