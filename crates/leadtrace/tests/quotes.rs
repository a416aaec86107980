//! `crm.quote.*` over HTTP, on both backends: STATUS_ID (QUOTE_STATUS, default DRAFT), required
//! and truncated TITLE, QUOTE_NUMBER, CLOSED following the stage, lists, errors.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_defaults_and_number,
    title_required_and_truncated,
    stage_dictionary_and_closed,
    fields_description,
    list_and_delete,
);

async fn add_get_defaults_and_number(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({"TITLE": "for the quote"})).await;
    let id = app
        .add(
            "quote",
            json!({"TITLE": "Offer", "OPPORTUNITY": 99.999, "DEAL_ID": deal, "LEAD_ID": 3, "QUOTE_NUMBER": "Q-9",
                   "CONTENT": "<p>terms</p>", "CLIENT_EMAIL": "c@example.com", "PERSON_TYPE_ID": "2",
                   "BEGINDATE": "2024-06-18", "ACTUAL_DATE": "2024-07-01", "CONTACT_IDS": [], "PHONE": [{"VALUE": "1"}]}),
        )
        .await;
    let q = app.record("quote", id).await;
    let keys: Vec<&str> = q.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    let table: Vec<String> = app
        .call("crm.quote.fields", json!({}))
        .await
        .result()
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "CONTACT_IDS")
        .cloned()
        .collect();
    assert_eq!(keys, table, "no docs example: field-table order");
    assert_eq!(
        q["QUOTE_NUMBER"],
        json!(id.to_string()),
        "read-only, the id"
    );
    assert_eq!(q["STATUS_ID"], "DRAFT");
    assert_eq!(q["CLOSED"], "N");
    assert_eq!(q["OPPORTUNITY"], "100.00");
    assert_eq!(q["CURRENCY_ID"], "USD");
    assert_eq!(q["DEAL_ID"], json!(deal.to_string()), "writable on quotes");
    assert_eq!(q["LEAD_ID"], "3");
    assert_eq!(q["PERSON_TYPE_ID"], "2");
    assert_eq!(q["CLIENT_EMAIL"], "c@example.com");
    assert_eq!(q["BEGINDATE"], "2024-06-18T00:00:00+00:00");
    assert_eq!(q["ACTUAL_DATE"], "2024-07-01T00:00:00+00:00");
    assert_eq!(q["CLOSEDATE"], "");
    assert_eq!(q["OPENED"], "Y");
    assert_eq!(q["ASSIGNED_BY_ID"], "1");
    assert!(
        q.get("CONTACT_IDS").is_none(),
        "not returned (entities.md §5)"
    );
    assert!(q.get("PHONE").is_none() && q.get("SOURCE_ID").is_none());
}

async fn title_required_and_truncated(b: Backend) {
    let app = spawn_app(b).await;
    app.call("crm.quote.add", json!({"fields": {"STATUS_ID": "SENT"}}))
        .await
        .assert_error(400, "", "Required field TITLE is not specified.");
    let long = "é".repeat(300);
    let id = app
        .add(
            "quote",
            json!({"TITLE": long, "CLIENT_TITLE": "c".repeat(256), "CLIENT_ADDR": "a".repeat(255), "TERMS": "t".repeat(300)}),
        )
        .await;
    let q = app.record("quote", id).await;
    assert_eq!(q["TITLE"], json!("é".repeat(255)), "cut by characters");
    assert_eq!(q["CLIENT_TITLE"], json!("c".repeat(255)));
    assert_eq!(q["CLIENT_ADDR"], json!("a".repeat(255)));
    assert_eq!(q["TERMS"].as_str().unwrap().len(), 300, "not a ≤ 255 field");
    app.call(
        "crm.quote.update",
        json!({"id": id, "fields": {"TITLE": null}}),
    )
    .await
    .assert_error(400, "", "Required field TITLE is not specified.");
}

async fn stage_dictionary_and_closed(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "QUOTE_STATUS"}, "order": {"SORT": "ASC"}}),
        )
        .await;
    let got: Vec<(&str, &str, &str, Value)> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["STATUS_ID"].as_str().unwrap(),
                s["NAME"].as_str().unwrap(),
                s["SORT"].as_str().unwrap(),
                s["SEMANTICS"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("DRAFT", "New", "10", Value::Null),
            ("SENT", "Sent to client", "20", Value::Null),
            ("RECEIVED", "Received", "30", Value::Null),
            ("APPROVED", "Approved", "40", json!("S")),
            ("DECLAINED", "Declined", "50", json!("F")),
        ]
    );
    let id = app
        .add("quote", json!({"TITLE": "t", "STATUS_ID": "sent"}))
        .await;
    assert_eq!(app.record("quote", id).await["STATUS_ID"], "SENT");
    let update = |fields: Value| app.call("crm.quote.update", json!({"id": id, "fields": fields}));
    update(json!({"STATUS_ID": "APPROVED"})).await.result();
    assert_eq!(app.record("quote", id).await["CLOSED"], "Y");
    update(json!({"STATUS_ID": "DECLAINED"})).await.result();
    assert_eq!(app.record("quote", id).await["CLOSED"], "Y");
    update(json!({"STATUS_ID": "RECEIVED"})).await.result();
    assert_eq!(app.record("quote", id).await["CLOSED"], "N");
    update(json!({"STATUS_ID": "DECLINED"})).await.assert_error(
        400,
        "",
        "Invalid value for field STATUS_ID.",
    );
    // the quote number cannot be changed
    update(json!({"QUOTE_NUMBER": "X-1"})).await.result();
    assert_eq!(
        app.record("quote", id).await["QUOTE_NUMBER"],
        json!(id.to_string())
    );
}

async fn fields_description(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.quote.fields", json!({})).await;
    let f = r.result().as_object().unwrap();
    assert_eq!(f.len(), 43);
    assert_eq!(f["TITLE"]["isRequired"], true);
    assert_eq!(f["TITLE"]["title"], "Subject");
    assert_eq!(f["STATUS_ID"]["statusType"], "QUOTE_STATUS");
    assert_eq!(f["QUOTE_NUMBER"]["isReadOnly"], true);
    assert_eq!(f["DEAL_ID"]["type"], "crm_deal");
    assert_eq!(f["DEAL_ID"]["isReadOnly"], false);
    assert_eq!(f["MYCOMPANY_ID"]["type"], "crm_company");
    assert_eq!(f["CONTACT_IDS"]["isMultiple"], true);
    assert!(f.get("IS_MANUAL_OPPORTUNITY").is_none());
}

async fn list_and_delete(b: Backend) {
    let app = spawn_app(b).await;
    let a = app
        .add("quote", json!({"TITLE": "a", "STATUS_ID": "APPROVED"}))
        .await;
    let d = app.add("quote", json!({"TITLE": "d"})).await;
    let s = app
        .add("quote", json!({"TITLE": "s", "STATUS_ID": "SENT"}))
        .await;
    let r = app
        .call(
            "crm.quote.list",
            json!({"order": {"STATUS_ID": "DESC"}, "select": ["ID", "STATUS_ID"]}),
        )
        .await;
    assert_eq!(TestApp::ids(&r), vec![a, s, d]);
    let r = app
        .call(
            "crm.quote.list",
            json!({"filter": {"CLOSED": "N"}, "select": ["ID"]}),
        )
        .await;
    assert_eq!(TestApp::ids(&r), vec![d, s]);
    assert_eq!(r.body["total"], json!(2));
    assert_eq!(
        app.call("crm.quote.delete", json!({"id": d}))
            .await
            .result(),
        &json!(true)
    );
    app.call("crm.quote.get", json!({"id": d}))
        .await
        .assert_error(400, "", "Not found");
    app.call(
        "crm.quote.update",
        json!({"id": d, "fields": {"TITLE": "x"}}),
    )
    .await
    .assert_error(400, "", "Not found");
}
