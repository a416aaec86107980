//! CRM helper methods over HTTP (spec/system-methods.md §3–4): `crm.enum.*`,
//! `crm.multifield.fields`, `crm.currency.*`, `crm.category.list`, `crm.settings.mode.get`,
//! `crm.duplicate.findbycomm`.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    enumerations,
    multifield_fields,
    currencies,
    categories,
    settings_mode_follows_the_portal,
    duplicates_by_phone_and_email,
    duplicate_errors,
    duplicates_respect_read_rights,
);

async fn enumerations(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.enum.ownertype", json!({})).await;
    let owners = r.result().as_array().unwrap();
    assert_eq!(owners.len(), 10);
    assert_eq!(
        owners[3],
        json!({"ID": 4, "NAME": "Company", "SYMBOL_CODE": "COMPANY", "SYMBOL_CODE_SHORT": "CO"})
    );
    let r = app.call("crm.enum.settings.mode", json!({})).await;
    assert_eq!(
        serde_json::to_string(r.result()).unwrap(),
        r#"[{"ID":1,"NAME":"Classic CRM","SYMBOL_CODE":null,"SYMBOL_CODE_SHORT":null},{"ID":2,"NAME":"Simple CRM","SYMBOL_CODE":null,"SYMBOL_CODE_SHORT":null}]"#
    );
    let r = app.call("crm.enum.addresstype", json!({})).await;
    let ids: Vec<i64> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ID"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [11, 1, 6, 4, 8, 9]);
    let r = app.call("crm.enum.fields", json!({})).await;
    assert_eq!(
        r.result()["ID"],
        json!({"type": "int", "isRequired": false, "isReadOnly": true, "isImmutable": false,
               "isMultiple": false, "isDynamic": false, "title": "ID"})
    );
    assert_eq!(r.result()["SYMBOL_CODE"]["title"], "Symbol code");
    let r = app.call("crm.enum.activitytype", json!({})).await;
    assert_eq!(
        r.result()[2],
        json!({"ID": 2, "NAME": "Call", "SYMBOL_CODE": null, "SYMBOL_CODE_SHORT": null})
    );
    for name in [
        "crm.enum.activitydirection",
        "crm.enum.activitypriority",
        "crm.enum.activitystatus",
        "crm.enum.activitynotifytype",
        "crm.enum.contenttype",
    ] {
        let r = app.call(name, json!({})).await;
        assert_eq!(r.result()[0]["ID"], json!(0), "{name}");
    }
}

async fn multifield_fields(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.multifield.fields", json!({})).await;
    let keys: Vec<&str> = r
        .result()
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["ID", "TYPE_ID", "VALUE", "VALUE_TYPE"]);
    assert_eq!(r.result()["TYPE_ID"]["title"], "Field Type");
    assert_eq!(r.result()["VALUE_TYPE"]["isReadOnly"], json!(false));
}

async fn currencies(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.currency.list", json!({})).await;
    assert_eq!(r.body["total"], json!(2));
    let usd = &r.result()[0];
    let keys: Vec<&str> = usd
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "CURRENCY",
            "AMOUNT_CNT",
            "AMOUNT",
            "SORT",
            "BASE",
            "FULL_NAME",
            "LID",
            "FORMAT_STRING",
            "DEC_POINT",
            "THOUSANDS_SEP",
            "DECIMALS",
            "DATE_UPDATE"
        ]
    );
    assert_eq!(
        (
            usd["CURRENCY"].clone(),
            usd["BASE"].clone(),
            usd["AMOUNT"].clone(),
            usd["SORT"].clone()
        ),
        (json!("USD"), json!("Y"), json!("1.0000"), json!("100"))
    );
    assert_eq!(r.result()[1]["CURRENCY"], "EUR");
    assert_eq!(r.result()[1]["BASE"], "N");
    assert!(usd["DATE_UPDATE"].as_str().unwrap().ends_with("+00:00"));
    let r = app
        .call("crm.currency.list", json!({"order": {"SORT": "DESC"}}))
        .await;
    assert_eq!(r.result()[0]["CURRENCY"], "EUR");
    app.call("crm.currency.list", json!({"order": "SORT"}))
        .await
        .assert_error(400, "", "Parameter 'order' must be array.");
    let r = app.call("crm.currency.base.get", json!({})).await;
    assert_eq!(r.result(), &json!("USD"));
    // A new base currency (admin setting) shows in both.
    app.running
        .state
        .store()
        .write(|tx| Box::pin(async move { tx.set_portal_setting(1, "currency", "EUR").await }))
        .await
        .unwrap();
    assert_eq!(
        app.call("crm.currency.base.get", json!({})).await.result(),
        &json!("EUR")
    );
    let r = app.call("crm.currency.list", json!({})).await;
    let base: Vec<&Value> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["BASE"] == "Y")
        .collect();
    assert_eq!(base.len(), 1);
    assert_eq!(base[0]["CURRENCY"], "EUR");
}

async fn categories(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call("crm.category.list", json!({"entityTypeId": 2}))
        .await;
    assert_eq!(
        r.result(),
        &json!({"categories": [{"id": 0, "name": "General", "sort": 300, "entityTypeId": 2, "isDefault": "Y"}]})
    );
    assert_eq!(r.body["total"], json!(1));
    app.call("crm.category.list", json!({})).await.assert_error(
        400,
        "100",
        "Could not find value for parameter {entityTypeId}",
    );
    app.call("crm.category.list", json!({"entityTypeId": 1}))
        .await
        .assert_error(
            400,
            "ENTITY_TYPE_NOT_SUPPORTED",
            "Entity type `LEAD` is not supported",
        );
    app.call("crm.category.list", json!({"entityTypeId": 177}))
        .await
        .assert_error(400, "NOT_FOUND", "Smart process not found");
}

async fn settings_mode_follows_the_portal(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(
        app.call("crm.settings.mode.get", json!({})).await.result(),
        &json!(1)
    );
    app.running
        .state
        .store()
        .write(|tx| Box::pin(async move { tx.set_portal_setting(1, "crm_mode", "simple").await }))
        .await
        .unwrap();
    assert_eq!(
        app.call("crm.settings.mode.get", json!({})).await.result(),
        &json!(2)
    );
}

async fn duplicates_by_phone_and_email(b: Backend) {
    let app = spawn_app(b).await;
    let a = app
        .add_lead(
            json!({"TITLE": "a", "PHONE": [{"VALUE": "+1 (555) 010-0100", "VALUE_TYPE": "WORK"}],
                         "EMAIL": [{"VALUE": "Ann@Example.com", "VALUE_TYPE": "WORK"}]}),
        )
        .await;
    let b2 = app
        .add_lead(json!({"TITLE": "b", "PHONE": [{"VALUE": "15550100100 ext. 12", "VALUE_TYPE": "MOBILE"}]}))
        .await;
    let c = app
        .add_lead(
            json!({"TITLE": "c", "EMAIL": [{"VALUE": "carl@example.com", "VALUE_TYPE": "HOME"}]}),
        )
        .await;
    let find = |params: Value| app.call("crm.duplicate.findbycomm", params);

    let r = find(json!({"type": "PHONE", "values": ["1-555-010-0100"]})).await;
    assert_eq!(r.result(), &json!({"LEAD": [a, b2]}));
    let r = find(json!({"entity_type": "LEAD", "type": "EMAIL", "values": ["ANN@example.com", "carl@EXAMPLE.com"]})).await;
    assert_eq!(r.result(), &json!({"LEAD": [a, c]}));
    // Nothing found: `[]`, not `{}`.
    let r = find(json!({"type": "EMAIL", "values": ["nobody@example.com"]})).await;
    assert_eq!(r.result(), &json!([]));
    let r = find(json!({"type": "PHONE", "values": ["555"]})).await;
    assert_eq!(r.result(), &json!([]));
    // Contacts and companies are searched too (none here), and may be asked for alone.
    let r =
        find(json!({"entity_type": "contact", "type": "phone", "values": ["15550100100"]})).await;
    assert_eq!(r.result(), &json!([]));

    // A changed value is found under its new key, the old one no longer.
    let mf_id = app.call("crm.lead.get", json!({"id": c})).await.result()["EMAIL"][0]["ID"].clone();
    app.call(
        "crm.lead.update",
        json!({"id": c, "fields": {"EMAIL": [{"ID": mf_id, "VALUE": "Carl@New.example"}]}}),
    )
    .await
    .result();
    let r =
        find(json!({"type": "EMAIL", "values": ["carl@new.example", "carl@example.com"]})).await;
    assert_eq!(r.result(), &json!({"LEAD": [c]}));
    // A deleted lead is gone from the search.
    app.call("crm.lead.delete", json!({"id": a})).await.result();
    let r = find(json!({"type": "PHONE", "values": ["15550100100"]})).await;
    assert_eq!(r.result(), &json!({"LEAD": [b2]}));

    // At most 20 per type.
    for i in 0..21 {
        app.add_lead(
            json!({"TITLE": format!("dup {i}"), "EMAIL": [{"VALUE": "same@example.com"}]}),
        )
        .await;
    }
    let r = find(json!({"type": "EMAIL", "values": ["same@example.com"]})).await;
    assert_eq!(r.result()["LEAD"].as_array().unwrap().len(), 20);
}

async fn duplicate_errors(b: Backend) {
    let app = spawn_app(b).await;
    let find = |params: Value| app.call("crm.duplicate.findbycomm", params);
    find(json!({"values": ["1"]})).await.assert_error(
        400,
        "Communication type is not defined",
        "Parameter 'type' is required.",
    );
    let text = "Communication type 'FAX' is not supported in current context";
    find(json!({"type": "FAX", "values": ["1"]}))
        .await
        .assert_error(400, text, text);
    let text = "Communication values is not defined";
    find(json!({"type": "PHONE"}))
        .await
        .assert_error(400, text, text);
    find(json!({"type": "PHONE", "values": []}))
        .await
        .assert_error(400, text, text);
    let values: Vec<String> = (0..21).map(|i| format!("555{i:04}")).collect();
    let text = "Too many communication values. The maximum is 20.";
    find(json!({"type": "PHONE", "values": values}))
        .await
        .assert_error(400, text, text);
    let text = "Entity type 'DEAL' is not supported in current context";
    find(json!({"type": "PHONE", "values": ["1"], "entity_type": "DEAL"}))
        .await
        .assert_error(400, text, text);
    // A single value as a plain string is accepted.
    let r = find(json!({"type": "EMAIL", "values": "x@example.com"})).await;
    assert_eq!(r.result(), &json!([]));
}

async fn duplicates_respect_read_rights(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, own) = app
        .user_with_rights("owner", Some("lead=read:own,add:all"), &["crm"])
        .await;
    let (_, none) = app
        .user_with_rights("blind", Some("deal=read:all"), &["crm"])
        .await;
    let phone = json!([{"VALUE": "+49 30 1234567"}]);
    let theirs = app
        .add_lead(json!({"TITLE": "admin's", "PHONE": phone}))
        .await;
    let mine = app
        .add_lead(json!({"TITLE": "mine", "PHONE": phone, "ASSIGNED_BY_ID": uid}))
        .await;
    let params = json!({"type": "PHONE", "values": ["4930 1234567"]});
    let r = app.call("crm.duplicate.findbycomm", params.clone()).await;
    assert_eq!(r.result(), &json!({"LEAD": [theirs, mine]}));
    let r = app
        .call_at(&own, "crm.duplicate.findbycomm", params.clone())
        .await;
    assert_eq!(r.result(), &json!({"LEAD": [mine]}));
    app.call_at(&none, "crm.duplicate.findbycomm", params)
        .await
        .assert_error(403, "ACCESS_DENIED", "Access denied");
}
