//! `crm.deal.*` over HTTP, on both backends: shape and defaults, the stage dictionary and what
//! follows from it (semantics, CLOSED, IS_NEW, CLOSEDATE), pipeline rules, lists, errors, roles.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_shape_and_defaults,
    docs_add_example_with_upper_case_keys,
    stage_moves_close_and_reopen,
    pipeline_and_dictionary_rules,
    fields_description,
    list_filter_order_paging,
    errors_and_delete,
    own_level_role,
    user_fields_on_deals,
);

/// Keys of `crm.deal.get` in the order of the docs' example (b24restdocs `crm-deal-get.md`).
const GET_KEYS: [&str; 44] = [
    "ID",
    "TITLE",
    "TYPE_ID",
    "STAGE_ID",
    "PROBABILITY",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "TAX_VALUE",
    "LEAD_ID",
    "COMPANY_ID",
    "CONTACT_ID",
    "QUOTE_ID",
    "BEGINDATE",
    "CLOSEDATE",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "CLOSED",
    "COMMENTS",
    "ADDITIONAL_INFO",
    "LOCATION_ID",
    "CATEGORY_ID",
    "STAGE_SEMANTIC_ID",
    "IS_NEW",
    "IS_RECURRING",
    "IS_RETURN_CUSTOMER",
    "IS_REPEATED_APPROACH",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "LAST_ACTIVITY_TIME",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
];

/// `YYYY-MM-DD` of today plus `days` in UTC (the test portal's zone) as a legacy date value.
fn utc_date(days: i64) -> String {
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    format!("{}T00:00:00+00:00", d.format("%Y-%m-%d"))
}

async fn add_get_shape_and_defaults(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add(
            "deal",
            json!({"TITLE": "Deal one", "OPPORTUNITY": "1500.5", "PROBABILITY": "40",
                   "UTM_SOURCE": "google", "ADDITIONAL_INFO": "info", "LEAD_ID": 77, "QUOTE_ID": 5,
                   "IS_NEW": "N", "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "PHONE": [{"VALUE": "1"}]}),
        )
        .await;
    let deal = app.record("deal", id).await;
    let keys: Vec<&str> = deal
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, GET_KEYS, "no multifields on deals");
    assert_eq!(deal["ID"], json!(id.to_string()));
    assert_eq!(deal["TITLE"], "Deal one");
    assert_eq!(deal["TYPE_ID"], "SALE", "first deal type");
    assert_eq!(deal["CATEGORY_ID"], "0");
    assert_eq!(deal["STAGE_ID"], "NEW");
    assert_eq!(deal["STAGE_SEMANTIC_ID"], "P");
    assert_eq!(deal["IS_NEW"], "Y");
    assert_eq!(deal["CLOSED"], "N", "CLOSED follows the stage");
    assert_eq!(deal["OPPORTUNITY"], "1500.50");
    assert_eq!(deal["PROBABILITY"], "40");
    assert_eq!(deal["CURRENCY_ID"], "USD");
    assert_eq!(deal["IS_MANUAL_OPPORTUNITY"], "N");
    assert_eq!(deal["TAX_VALUE"], Value::Null);
    assert_eq!(deal["IS_RECURRING"], "N");
    assert_eq!(deal["IS_RETURN_CUSTOMER"], "N");
    assert_eq!(deal["IS_REPEATED_APPROACH"], "N");
    assert_eq!(deal["LEAD_ID"], Value::Null, "read-only");
    assert_eq!(deal["QUOTE_ID"], Value::Null, "read-only");
    assert_eq!(deal["COMPANY_ID"], Value::Null);
    assert_eq!(deal["CONTACT_ID"], Value::Null);
    assert_eq!(deal["BEGINDATE"], json!(utc_date(0)));
    assert_eq!(deal["CLOSEDATE"], json!(utc_date(7)));
    assert_eq!(deal["OPENED"], "Y");
    assert_eq!(deal["ASSIGNED_BY_ID"], "1");
    assert_eq!(deal["MOVED_BY_ID"], "1");
    assert_eq!(deal["MOVED_TIME"], deal["DATE_CREATE"]);
    assert_eq!(deal["UTM_SOURCE"], "google");
    assert_eq!(deal["ADDITIONAL_INFO"], "info");
    assert!(deal.get("CONTACT_IDS").is_none(), "write-only (D5)");
}

async fn docs_add_example_with_upper_case_keys(b: Backend) {
    let app = spawn_app(b).await;
    // Only defined user fields are kept.
    app.call(
        "crm.deal.userfield.add",
        json!({"fields": {"FIELD_NAME": "UF_CRM_1721244482250", "USER_TYPE_ID": "string"}}),
    )
    .await
    .result();
    let r = app
        .call(
            "crm.deal.add",
            json!({"FIELDS": {"TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "CATEGORY_ID": 0, "STAGE_ID": "PREPARATION",
                "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "Y", "IS_REPEATED_APPROACH": "Y", "PROBABILITY": 99,
                "CURRENCY_ID": "EUR", "OPPORTUNITY": 1000000, "IS_MANUAL_OPPORTUNITY": "Y", "TAX_VALUE": 0.10,
                "COMPANY_ID": 9, "BEGINDATE": "2024-08-30", "CLOSEDATE": "2024-09-09", "OPENED": "Y", "CLOSED": "N",
                "COMMENTS": "Example comment", "SOURCE_ID": "CALLBACK", "SOURCE_DESCRIPTION": "Additional source information",
                "ADDITIONAL_INFO": "Additional information", "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC",
                "PARENT_ID_1220": 22, "UF_CRM_1721244482250": "Hello World!"},
              "PARAMS": {"REGISTER_SONET_EVENT": "N"}}),
        )
        .await;
    let id = r.result().as_i64().expect("bare integer id");
    let deal = app.record("deal", id).await;
    assert_eq!(deal["TYPE_ID"], "COMPLEX");
    assert_eq!(deal["STAGE_ID"], "PREPARATION");
    assert_eq!(deal["IS_NEW"], "N", "not in the first stage");
    assert_eq!(deal["IS_RETURN_CUSTOMER"], "Y", "writable on deals");
    assert_eq!(deal["IS_REPEATED_APPROACH"], "Y");
    assert_eq!(deal["PROBABILITY"], "99");
    assert_eq!(deal["CURRENCY_ID"], "EUR");
    assert_eq!(deal["OPPORTUNITY"], "1000000.00");
    assert_eq!(deal["IS_MANUAL_OPPORTUNITY"], "Y");
    assert_eq!(deal["TAX_VALUE"], "0.10");
    assert_eq!(deal["COMPANY_ID"], "9");
    assert_eq!(deal["BEGINDATE"], "2024-08-30T00:00:00+00:00");
    assert_eq!(deal["CLOSEDATE"], "2024-09-09T00:00:00+00:00");
    assert_eq!(deal["SOURCE_ID"], "CALLBACK");
    assert_eq!(deal["UF_CRM_1721244482250"], "Hello World!");
    assert!(deal.get("PARENT_ID_1220").is_none(), "no smart processes");
}

async fn stage_moves_close_and_reopen(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add(
            "deal",
            json!({"TITLE": "moving", "CLOSEDATE": "2030-01-01"}),
        )
        .await;
    let update = |fields: Value| app.call("crm.deal.update", json!({"id": id, "fields": fields}));
    assert_eq!(
        update(json!({"STAGE_ID": "EXECUTING"})).await.result(),
        &json!(true)
    );
    let deal = app.record("deal", id).await;
    assert_eq!(
        (&deal["STAGE_SEMANTIC_ID"], &deal["IS_NEW"], &deal["CLOSED"]),
        (&json!("P"), &json!("N"), &json!("N"))
    );
    assert_eq!(deal["CLOSEDATE"], "2030-01-01T00:00:00+00:00");

    // entering the success stage closes the deal and dates it today
    update(json!({"STAGE_ID": "WON"})).await.result();
    let deal = app.record("deal", id).await;
    assert_eq!(deal["STAGE_SEMANTIC_ID"], "S");
    assert_eq!(deal["CLOSED"], "Y");
    assert_eq!(deal["CLOSEDATE"], json!(utc_date(0)));
    // a failure stage sorted after the success stage
    update(json!({"STAGE_ID": "apology"})).await.result();
    let deal = app.record("deal", id).await;
    assert_eq!(deal["STAGE_ID"], "APOLOGY", "canonical spelling");
    assert_eq!(deal["STAGE_SEMANTIC_ID"], "F");
    assert_eq!(deal["CLOSED"], "Y");
    // a closing date given with the move wins
    update(json!({"STAGE_ID": "LOSE", "CLOSEDATE": "2031-02-03"}))
        .await
        .result();
    assert_eq!(
        app.record("deal", id).await["CLOSEDATE"],
        "2031-02-03T00:00:00+00:00"
    );
    // CLOSED cannot contradict the stage
    update(json!({"CLOSED": "N"})).await.result();
    assert_eq!(app.record("deal", id).await["CLOSED"], "Y");
    // back to the first stage reopens; the closing date stays
    update(json!({"STAGE_ID": "NEW"})).await.result();
    let deal = app.record("deal", id).await;
    assert_eq!(
        (&deal["STAGE_SEMANTIC_ID"], &deal["IS_NEW"], &deal["CLOSED"]),
        (&json!("P"), &json!("Y"), &json!("N"))
    );
    assert_eq!(deal["CLOSEDATE"], "2031-02-03T00:00:00+00:00");
    update(json!({"CLOSED": "Y"})).await.result();
    assert_eq!(app.record("deal", id).await["CLOSED"], "N");

    // a deal added straight into a final stage is closed from the start
    let won = app.add("deal", json!({"STAGE_ID": "WON"})).await;
    let deal = app.record("deal", won).await;
    assert_eq!(
        (&deal["STAGE_SEMANTIC_ID"], &deal["IS_NEW"], &deal["CLOSED"]),
        (&json!("S"), &json!("N"), &json!("Y"))
    );
    assert_eq!(deal["CLOSEDATE"], json!(utc_date(0)));
}

async fn pipeline_and_dictionary_rules(b: Backend) {
    let app = spawn_app(b).await;
    app.call("crm.deal.add", json!({"fields": {"CATEGORY_ID": 3}}))
        .await
        .assert_error(400, "", "Invalid value for field CATEGORY_ID.");
    app.call("crm.deal.add", json!({"fields": {"STAGE_ID": "NOPE"}}))
        .await
        .assert_error(400, "", "Invalid value for field STAGE_ID.");
    app.call("crm.deal.add", json!({"fields": {"TYPE_ID": "NOPE"}}))
        .await
        .assert_error(400, "", "Invalid value for field TYPE_ID.");
    app.call("crm.deal.add", json!({"fields": {"CURRENCY_ID": "XXX"}}))
        .await
        .assert_error(400, "", "Invalid value for field CURRENCY_ID.");
    assert_eq!(
        app.call("crm.deal.list", json!({})).await.body["total"],
        json!(0),
        "nothing written by the failed adds"
    );
    // `null` for the pipeline is the default pipeline
    let id = app
        .add("deal", json!({"CATEGORY_ID": null, "TYPE_ID": "goods"}))
        .await;
    let deal = app.record("deal", id).await;
    assert_eq!(deal["CATEGORY_ID"], "0");
    assert_eq!(deal["TYPE_ID"], "GOODS");
    // CATEGORY_ID is immutable; a stage of another pipeline is ignored on update
    app.call(
        "crm.deal.update",
        json!({"id": id, "fields": {"CATEGORY_ID": 5, "STAGE_ID": "C5:NEW", "TITLE": "kept going"}}),
    )
    .await
    .result();
    let deal = app.record("deal", id).await;
    assert_eq!(deal["CATEGORY_ID"], "0");
    assert_eq!(deal["STAGE_ID"], "NEW");
    assert_eq!(deal["TITLE"], "kept going");
    // a blank stage keeps the stored one; an unknown one is refused and changes nothing
    app.call(
        "crm.deal.update",
        json!({"id": id, "fields": {"STAGE_ID": ""}}),
    )
    .await
    .result();
    app.call(
        "crm.deal.update",
        json!({"id": id, "fields": {"STAGE_ID": "WRONG", "TITLE": "not saved"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field STAGE_ID.");
    let deal = app.record("deal", id).await;
    assert_eq!(deal["STAGE_ID"], "NEW");
    assert_eq!(deal["TITLE"], "kept going");
    // the writable flags of deals
    app.call(
        "crm.deal.update",
        json!({"id": id, "fields": {"IS_RETURN_CUSTOMER": "Y", "IS_REPEATED_APPROACH": true, "IS_RECURRING": "y"}}),
    )
    .await
    .result();
    let deal = app.record("deal", id).await;
    assert_eq!(
        (
            &deal["IS_RETURN_CUSTOMER"],
            &deal["IS_REPEATED_APPROACH"],
            &deal["IS_RECURRING"]
        ),
        (&json!("Y"), &json!("Y"), &json!("Y"))
    );
    // the stage dictionary as crm.status.list shows it
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "DEAL_STAGE"}, "order": {"SORT": "ASC"}}),
        )
        .await;
    let stages: Vec<(String, String, Value)> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["STATUS_ID"].as_str().unwrap().to_string(),
                s["SORT"].as_str().unwrap().to_string(),
                s["SEMANTICS"].clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, Value)> = [
        ("NEW", "10", Value::Null),
        ("PREPARATION", "20", Value::Null),
        ("PREPAYMENT_INVOICE", "30", Value::Null),
        ("EXECUTING", "40", Value::Null),
        ("FINAL_INVOICE", "50", Value::Null),
        ("WON", "60", json!("S")),
        ("LOSE", "70", json!("F")),
        ("APOLOGY", "80", json!("F")),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
    .collect();
    assert_eq!(stages, want);
}

async fn fields_description(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.deal.fields", json!({})).await;
    let f = r.result().as_object().unwrap();
    assert_eq!(f.len(), 45);
    assert_eq!(f.keys().next().map(String::as_str), Some("ID"));
    assert_eq!(
        f["CATEGORY_ID"],
        json!({"type": "crm_category", "isRequired": false, "isReadOnly": false, "isImmutable": true,
               "isMultiple": false, "isDynamic": false, "title": "Sales Funnel"})
    );
    assert_eq!(f["STAGE_ID"]["statusType"], "DEAL_STAGE");
    assert_eq!(f["TYPE_ID"]["statusType"], "DEAL_TYPE");
    assert_eq!(f["IS_NEW"]["isReadOnly"], true);
    assert_eq!(f["IS_RETURN_CUSTOMER"]["isReadOnly"], false);
    assert_eq!(f["CONTACT_IDS"]["isMultiple"], true);
    assert_eq!(f["CONTACT_ID"]["isDeprecated"], true);
    assert_eq!(f["QUOTE_ID"]["settings"], json!({"parentEntityTypeId": 7}));
    assert_eq!(f["LEAD_ID"]["settings"], json!({"parentEntityTypeId": 1}));
    assert_eq!(f["OPPORTUNITY"]["type"], "double");
    assert!(f.get("PHONE").is_none());
}

async fn list_filter_order_paging(b: Backend) {
    let app = spawn_app(b).await;
    let won = app
        .add(
            "deal",
            json!({"TITLE": "won", "STAGE_ID": "WON", "OPPORTUNITY": 10}),
        )
        .await;
    let new = app
        .add("deal", json!({"TITLE": "new", "OPPORTUNITY": 30}))
        .await;
    let prep = app
        .add(
            "deal",
            json!({"TITLE": "prep", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 20}),
        )
        .await;
    let lose = app
        .add(
            "deal",
            json!({"TITLE": "lose", "STAGE_ID": "LOSE", "OPPORTUNITY": 40}),
        )
        .await;
    let list = |params: Value| app.call("crm.deal.list", params);
    // order by stage follows the dictionary's SORT, not the text
    let r = list(json!({"order": {"STAGE_ID": "ASC"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![new, prep, won, lose]);
    let r = list(json!({"order": {"STAGE_ID": "DESC"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![lose, won, prep, new]);
    let r = list(json!({"filter": {"CLOSED": "Y"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![won, lose]);
    let r =
        list(json!({"filter": {"STAGE_SEMANTIC_ID": "P", ">OPPORTUNITY": 25}, "select": ["ID"]}))
            .await;
    assert_eq!(TestApp::ids(&r), vec![new]);
    let r = list(json!({"filter": {"@STAGE_ID": ["won", "NEW"]}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![won, new]);
    let r = list(json!({"filter": {"%TITLE": "o"}, "order": {"OPPORTUNITY": "DESC"}, "select": ["ID", "TITLE"]})).await;
    assert_eq!(TestApp::ids(&r), vec![lose, won]);
    assert_eq!(
        r.result()[0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["ID", "TITLE"]
    );
    // default select: every readable field, no write-only CONTACT_IDS
    let r = list(json!({"filter": {"ID": won}})).await;
    assert_eq!(r.result()[0].as_object().unwrap().len(), 44);
    assert_eq!(r.body["total"], json!(1));
    // paging: 50 per page with total and next
    let cmds: Vec<String> = (0..60)
        .map(|i| format!("crm.deal.add?fields[TITLE]=bulk{i:02}"))
        .collect();
    for chunk in cmds.chunks(50) {
        app.call("batch", json!({"cmd": chunk})).await.result();
    }
    let r = list(json!({"select": ["ID"]})).await;
    assert_eq!(r.result().as_array().unwrap().len(), 50);
    assert_eq!(
        (r.body["total"].clone(), r.body["next"].clone()),
        (json!(64), json!(50))
    );
    let r = list(json!({"select": ["ID"], "start": 50})).await;
    assert_eq!(r.result().as_array().unwrap().len(), 14);
    assert!(r.body.get("next").is_none());
}

async fn errors_and_delete(b: Backend) {
    let app = spawn_app(b).await;
    app.call("crm.deal.add", json!({"fields": "x"}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("crm.deal.add", json!({})).await.assert_error(
        400,
        "",
        "Parameter 'fields' must be array.",
    );
    app.call("crm.deal.get", json!({"id": "zero"}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("crm.deal.get", json!({"id": 4242}))
        .await
        .assert_error(400, "", "Not found");
    app.call(
        "crm.deal.update",
        json!({"id": 4242, "fields": {"TITLE": "x"}}),
    )
    .await
    .assert_error(400, "", "Not found");
    app.call("crm.deal.update", json!({"fields": {"TITLE": "x"}}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("crm.deal.delete", json!({"id": 4242}))
        .await
        .assert_error(400, "", "Not found");
    app.call("crm.deal.list", json!({"filter": 5}))
        .await
        .assert_error(400, "", "Parameter 'filter' must be array.");
    app.call("crm.deal.list", json!({"order": "ID"}))
        .await
        .assert_error(400, "", "Parameter 'order' must be array.");
    let id = app.add("deal", json!({"TITLE": "short-lived"})).await;
    assert_eq!(
        app.call("crm.deal.delete", json!({"id": id}))
            .await
            .result(),
        &json!(true)
    );
    app.call("crm.deal.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
    app.call("crm.deal.delete", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
    // a lead id is not a deal id: the families are separate tables
    let lead = app.add_lead(json!({"TITLE": "a lead"})).await;
    app.call("crm.deal.get", json!({"id": lead}))
        .await
        .assert_error(400, "", "Not found");
}

async fn own_level_role(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights(
            "dealer",
            Some("deal=read:own,add:own,update:own,delete:none;lead=read:all"),
            &["crm"],
        )
        .await;
    let others = app.add("deal", json!({"TITLE": "admin's"})).await;
    let r = app
        .call_at(&hook, "crm.deal.add", json!({"fields": {"TITLE": "mine"}}))
        .await;
    let mine = r.result().as_i64().unwrap();
    assert_eq!(
        app.record("deal", mine).await["ASSIGNED_BY_ID"],
        json!(uid.to_string())
    );
    app.call_at(
        &hook,
        "crm.deal.add",
        json!({"fields": {"TITLE": "for admin", "ASSIGNED_BY_ID": 1}}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    let r = app.call_at(&hook, "crm.deal.list", json!({})).await;
    assert_eq!(TestApp::ids(&r), vec![mine]);
    assert_eq!(r.body["total"], json!(1));
    app.call_at(&hook, "crm.deal.get", json!({"id": others}))
        .await
        .assert_error(400, "", "Access denied.");
    app.call_at(
        &hook,
        "crm.deal.update",
        json!({"id": others, "fields": {"TITLE": "x"}}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    app.call_at(&hook, "crm.deal.delete", json!({"id": mine}))
        .await
        .assert_error(400, "", "Access denied.");
    app.call_at(
        &hook,
        "crm.deal.update",
        json!({"id": mine, "fields": {"STAGE_ID": "WON"}}),
    )
    .await
    .result();
    assert_eq!(
        app.call_at(&hook, "crm.deal.get", json!({"id": mine}))
            .await
            .result()["STAGE_SEMANTIC_ID"],
        "S"
    );
    // rights on deals say nothing about contacts
    app.call_at(&hook, "crm.contact.list", json!({}))
        .await
        .assert_error(400, "", "Access denied.");
}

async fn user_fields_on_deals(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "crm.deal.userfield.add",
            json!({"fields": {"FIELD_NAME": "BUDGET", "USER_TYPE_ID": "double", "LABEL": "Budget"}}),
        )
        .await;
    let uf_id = r.result().as_i64().expect("userfield id");
    let got = app
        .call("crm.deal.userfield.get", json!({"id": uf_id}))
        .await;
    assert_eq!(got.result()["FIELD_NAME"], "UF_CRM_BUDGET");
    assert_eq!(got.result()["ENTITY_ID"], "CRM_DEAL");
    // A deal field is not a lead field.
    app.call("crm.lead.userfield.get", json!({"id": uf_id}))
        .await
        .assert_error(403, "", "Access denied.");

    let small = app
        .add(
            "deal",
            json!({"TITLE": "small", "UF_CRM_BUDGET": "10.5", "UF_CRM_NOPE": "x"}),
        )
        .await;
    let big = app
        .add("deal", json!({"TITLE": "big", "UF_CRM_BUDGET": 2500}))
        .await;
    let deal = app.record("deal", small).await;
    assert_eq!(deal["UF_CRM_BUDGET"], "10.5");
    assert!(
        deal.get("UF_CRM_NOPE").is_none(),
        "undefined user fields are dropped"
    );
    app.call(
        "crm.deal.update",
        json!({"id": small, "fields": {"UF_CRM_BUDGET": "abc"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field UF_CRM_BUDGET.");

    let r = app
        .call(
            "crm.deal.list",
            json!({"filter": {">UF_CRM_BUDGET": 100}, "select": ["ID", "UF_CRM_BUDGET"]}),
        )
        .await;
    assert_eq!(
        r.result(),
        &json!([{"ID": big.to_string(), "UF_CRM_BUDGET": "2500"}])
    );
    let fields = app.call("crm.deal.fields", json!({})).await;
    assert_eq!(fields.result()["UF_CRM_BUDGET"]["isDynamic"], json!(true));
    assert_eq!(fields.result()["UF_CRM_BUDGET"]["type"], "double");

    // The item view of the same deal sees the same value.
    let item = app
        .call("crm.item.get", json!({"entityTypeId": 2, "id": big}))
        .await;
    assert_eq!(item.result()["item"]["ufCrm_BUDGET"].as_f64(), Some(2500.0));
}
