//! Status dictionaries over HTTP (spec/system-methods.md §2, decision D15): `crm.status.get`,
//! `add`, `update`, `delete` with every documented error text, and the read methods.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    get_an_entry,
    add_creates_non_system_entries,
    add_errors,
    update_changes_name_sort_color,
    update_errors,
    delete_rules,
    only_administrators_change_dictionaries,
    list_fields_and_entity_types,
);

/// The numeric id of an entry.
async fn entry_id(app: &TestApp, entity_id: &str, status_id: &str) -> i64 {
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": entity_id, "STATUS_ID": status_id}}),
        )
        .await;
    r.result()[0]["ID"]
        .as_str()
        .unwrap_or_else(|| panic!("{entity_id}:{status_id} in {}", r.body))
        .parse()
        .unwrap()
}

fn legacy(r: &Reply, text: &str) {
    r.assert_error(400, "", text);
}

async fn get_an_entry(b: Backend) {
    let app = spawn_app(b).await;
    let id = entry_id(&app, "DEAL_STAGE", "NEW").await;
    let r = app.call("crm.status.get", json!({"id": id})).await;
    assert_eq!(
        serde_json::to_string(r.result()).unwrap(),
        format!(
            r##"{{"ID":"{id}","ENTITY_ID":"DEAL_STAGE","STATUS_ID":"NEW","NAME":"New","NAME_INIT":"New","SORT":"10","SYSTEM":"Y","CATEGORY_ID":null,"COLOR":"#39A8EF","SEMANTICS":null,"EXTRA":{{"SEMANTICS":"process","COLOR":"#39A8EF"}}}}"##
        )
    );
    let source = entry_id(&app, "SOURCE", "WEB").await;
    let r = app.call("crm.status.get", json!({"ID": source})).await;
    assert_eq!(r.result()["NAME"], "Website");
    assert!(r.result().get("EXTRA").is_none());
    legacy(
        &app.call("crm.status.get", json!({"id": 999_999})).await,
        "Status is not found.",
    );
    legacy(
        &app.call("crm.status.get", json!({})).await,
        "Invalid identifier.",
    );
    legacy(
        &app.call("crm.status.get", json!({"id": "abc"})).await,
        "Invalid identifier.",
    );
}

async fn add_creates_non_system_entries(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "crm.status.add",
            json!({"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "FAIR", "NAME": "Trade fair 2025", "SORT": 5, "SYSTEM": "Y", "NAME_INIT": "x"}}),
        )
        .await;
    let id = r.result().as_i64().expect("integer id");
    let got = app.call("crm.status.get", json!({"id": id})).await;
    let e = got.result();
    assert_eq!(e["ENTITY_ID"], "SOURCE");
    assert_eq!(e["STATUS_ID"], "FAIR");
    assert_eq!(
        e["SYSTEM"], "N",
        "REST-created entries are never system ones"
    );
    assert_eq!(e["NAME_INIT"], "");
    assert_eq!(e["SORT"], "5");
    assert_eq!(e["SEMANTICS"], Value::Null);
    // Default SORT 10; the entity id is matched ignoring case; `FIELDS` spelling works.
    let r = app
        .call(
            "crm.status.add",
            json!({"FIELDS": {"ENTITY_ID": "source", "STATUS_ID": "PODCAST", "NAME": "Podcast"}}),
        )
        .await;
    let id = r.result().as_i64().unwrap();
    let e = app.call("crm.status.get", json!({"id": id})).await;
    assert_eq!(e.result()["SORT"], "10");
    assert_eq!(e.result()["ENTITY_ID"], "SOURCE");
    // The new value is usable on a lead at once.
    let lead = app
        .add_lead(json!({"TITLE": "from a podcast", "SOURCE_ID": "PODCAST"}))
        .await;
    let got = app.call("crm.lead.get", json!({"id": lead})).await;
    assert_eq!(got.result()["SOURCE_ID"], "PODCAST");

    // A failure stage of lead stages, after the success stage, with EXTRA semantics and colour.
    let r = app
        .call(
            "crm.status.add",
            json!({"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": "SPAM", "NAME": "Spam", "SORT": 60,
                              "EXTRA": {"SEMANTICS": "apology", "COLOR": "#AA0000"}}}),
        )
        .await;
    let e = app.call("crm.status.get", json!({"id": r.result()})).await;
    assert_eq!(e.result()["SEMANTICS"], "F");
    assert_eq!(e.result()["COLOR"], "#AA0000");
    assert_eq!(
        e.result()["EXTRA"],
        json!({"SEMANTICS": "apology", "COLOR": "#AA0000"})
    );
    // An in-progress stage before the success stage.
    let r = app
        .call(
            "crm.status.add",
            json!({"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": "CALLED", "NAME": "Called", "SORT": 35, "SEMANTICS": ""}}),
        )
        .await;
    assert!(r.result().as_i64().is_some());
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "STATUS"}, "order": {"SORT": "ASC"}}),
        )
        .await;
    let ids: Vec<&str> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["STATUS_ID"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "NEW",
            "IN_PROCESS",
            "PROCESSED",
            "CALLED",
            "CONVERTED",
            "JUNK",
            "SPAM"
        ]
    );
}

async fn add_errors(b: Backend) {
    let app = spawn_app(b).await;
    let add = |fields: Value| app.call("crm.status.add", json!({ "fields": fields }));
    legacy(
        &app.call("crm.status.add", json!({})).await,
        "Parameter 'fields' must be array.",
    );
    legacy(
        &app.call("crm.status.add", json!({"fields": "x"})).await,
        "Parameter 'fields' must be array.",
    );
    legacy(
        &add(json!({"STATUS_ID": "X", "NAME": "X"})).await,
        "The field ENTITY_ID is required.",
    );
    legacy(
        &add(json!({"ENTITY_ID": "SOURCE", "NAME": "X"})).await,
        "The field STATUS_ID is required.",
    );
    legacy(
        &add(json!({"NAME": "X"})).await,
        "The field ENTITY_ID is required.<br>The field STATUS_ID is required.",
    );
    legacy(
        &add(json!({"ENTITY_ID": "NO_SUCH_LIST", "STATUS_ID": "X", "NAME": "X"})).await,
        "Specified entity type is not supported.",
    );
    legacy(
        &add(json!({"ENTITY_ID": "SOURCE", "STATUS_ID": "X"})).await,
        "The field Title is required.",
    );
    legacy(
        &add(json!({"ENTITY_ID": "SOURCE", "STATUS_ID": "X", "NAME": "  "})).await,
        "The field Title is required.",
    );
    add(json!({"ENTITY_ID": "SOURCE", "STATUS_ID": "WEB", "NAME": "Again"}))
        .await
        .assert_error(400, "ERROR_CORE", "The specified status ID already exists.");
    add(json!({"ENTITY_ID": "SOURCE", "STATUS_ID": "web", "NAME": "Again"}))
        .await
        .assert_error(400, "ERROR_CORE", "The specified status ID already exists.");
    legacy(
        &add(json!({"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "LATE", "NAME": "Late", "SORT": 65})).await,
        "Cannot create more stages after the final stage because the final successful stage already exists. Try using sort order values less than that of the final stage.",
    );
    // Stage ids: Latin letters, digits, `-`, `_`; at most 21 characters for lead stages.
    legacy(
        &add(json!({"ENTITY_ID": "STATUS", "STATUS_ID": "NOT VALID", "NAME": "X", "SORT": 1}))
            .await,
        "Error on creating status.",
    );
    legacy(
        &add(json!({"ENTITY_ID": "STATUS", "STATUS_ID": "A".repeat(22), "NAME": "X", "SORT": 1}))
            .await,
        "Error on creating status.",
    );
    // One success stage per dictionary.
    legacy(
        &add(
            json!({"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON2", "NAME": "X", "SEMANTICS": "S"}),
        )
        .await,
        "Error on creating status.",
    );
    // Nothing was written by any of these.
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "SOURCE"}}),
        )
        .await;
    assert_eq!(r.body["total"], json!(12));
}

async fn update_changes_name_sort_color(b: Backend) {
    let app = spawn_app(b).await;
    let id = entry_id(&app, "STATUS", "IN_PROCESS").await;
    let r = app
        .call(
            "crm.status.update",
            json!({"id": id, "fields": {"NAME": "Working", "SORT": 25, "COLOR": "#123456",
                                       "STATUS_ID": "OTHER", "ENTITY_ID": "SOURCE", "SEMANTICS": "F", "SYSTEM": "N"}}),
        )
        .await;
    assert_eq!(r.result(), &json!(true));
    let e = app.call("crm.status.get", json!({"id": id})).await;
    let e = e.result();
    assert_eq!(e["NAME"], "Working");
    assert_eq!(e["NAME_INIT"], "In process", "the default name stays");
    assert_eq!(e["SORT"], "25");
    assert_eq!(e["COLOR"], "#123456");
    assert_eq!(
        (e["STATUS_ID"].clone(), e["ENTITY_ID"].clone()),
        (json!("IN_PROCESS"), json!("STATUS"))
    );
    assert_eq!(
        (e["SEMANTICS"].clone(), e["SYSTEM"].clone()),
        (Value::Null, json!("Y"))
    );
    // EXTRA.COLOR works too; only what is given changes.
    app.call(
        "crm.status.update",
        json!({"ID": id, "fields": {"EXTRA": {"COLOR": "#654321"}}}),
    )
    .await
    .result();
    let e = app.call("crm.status.get", json!({"id": id})).await;
    assert_eq!(e.result()["COLOR"], "#654321");
    assert_eq!(e.result()["NAME"], "Working");
}

async fn update_errors(b: Backend) {
    let app = spawn_app(b).await;
    let id = entry_id(&app, "SOURCE", "CALL").await;
    legacy(
        &app.call("crm.status.update", json!({"fields": {"NAME": "x"}}))
            .await,
        "Invalid identifier.",
    );
    legacy(
        &app.call(
            "crm.status.update",
            json!({"id": 0, "fields": {"NAME": "x"}}),
        )
        .await,
        "Invalid identifier.",
    );
    legacy(
        &app.call("crm.status.update", json!({"id": id})).await,
        "Invalid parameters.",
    );
    legacy(
        &app.call("crm.status.update", json!({"id": id, "fields": "NAME"}))
            .await,
        "Invalid parameters.",
    );
    legacy(
        &app.call(
            "crm.status.update",
            json!({"id": 999_999, "fields": {"NAME": "x"}}),
        )
        .await,
        "Status is not found.",
    );
    legacy(
        &app.call(
            "crm.status.update",
            json!({"id": id, "fields": {"NAME": ""}}),
        )
        .await,
        "The field Title is required.",
    );
    let e = app.call("crm.status.get", json!({"id": id})).await;
    assert_eq!(e.result()["NAME"], "Call");
}

async fn delete_rules(b: Backend) {
    let app = spawn_app(b).await;
    // A system entry needs FORCED=Y.
    let web = entry_id(&app, "SOURCE", "WEB").await;
    legacy(
        &app.call("crm.status.delete", json!({"id": web})).await,
        "CRM System Status can be deleted only if parameter FORCED is specified and equal to \"Y\".",
    );
    legacy(
        &app.call("crm.status.delete", json!({"id": web, "params": {"FORCED": "N"}})).await,
        "CRM System Status can be deleted only if parameter FORCED is specified and equal to \"Y\".",
    );
    // An entry a lead uses cannot go, forced or not.
    let lead = app
        .add_lead(json!({"TITLE": "web lead", "SOURCE_ID": "WEB"}))
        .await;
    legacy(
        &app.call(
            "crm.status.delete",
            json!({"id": web, "params": {"FORCED": "Y"}}),
        )
        .await,
        "There are active items in this status.",
    );
    // Lead stages are checked on the stage field.
    let new = entry_id(&app, "STATUS", "NEW").await;
    legacy(
        &app.call(
            "crm.status.delete",
            json!({"id": new, "params": {"FORCED": "y"}}),
        )
        .await,
        "There are active items in this status.",
    );
    app.call("crm.lead.delete", json!({"id": lead}))
        .await
        .result();
    assert_eq!(
        app.call(
            "crm.status.delete",
            json!({"id": web, "params": {"FORCED": "Y"}})
        )
        .await
        .result(),
        &json!(true)
    );
    legacy(
        &app.call("crm.status.get", json!({"id": web})).await,
        "Status is not found.",
    );
    legacy(
        &app.call("crm.status.delete", json!({"id": web})).await,
        "Status is not found.",
    );
    // A REST-created entry goes without FORCED.
    let id = app
        .call(
            "crm.status.add",
            json!({"fields": {"ENTITY_ID": "HONORIFIC", "STATUS_ID": "PROF", "NAME": "Prof."}}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    assert_eq!(
        app.call("crm.status.delete", json!({"id": id}))
            .await
            .result(),
        &json!(true)
    );
    legacy(
        &app.call("crm.status.delete", json!({})).await,
        "Invalid identifier.",
    );
}

async fn only_administrators_change_dictionaries(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app
        .user_with_rights(
            "manager",
            Some("lead=read:all,add:all,update:all,delete:all"),
            &["crm"],
        )
        .await;
    let id = entry_id(&app, "SOURCE", "CALL").await;
    let denied = [
        (
            "crm.status.add",
            json!({"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "X", "NAME": "X"}}),
        ),
        (
            "crm.status.update",
            json!({"id": id, "fields": {"NAME": "X"}}),
        ),
        (
            "crm.status.delete",
            json!({"id": id, "params": {"FORCED": "Y"}}),
        ),
    ];
    for (method, params) in denied {
        legacy(&app.call_at(&hook, method, params).await, "Access denied.");
    }
    // Reading is for everyone with the crm scope.
    let r = app
        .call_at(&hook, "crm.status.get", json!({"id": id}))
        .await;
    assert_eq!(r.result()["STATUS_ID"], "CALL");
    let r = app
        .call_at(
            &hook,
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "HONORIFIC"}}),
        )
        .await;
    assert_eq!(r.body["total"], json!(4));
}

async fn list_fields_and_entity_types(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "DEAL_STAGE", "SEMANTICS": "F"}, "order": {"SORT": "DESC"}}),
        )
        .await;
    let ids: Vec<&str> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["STATUS_ID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["APOLOGY", "LOSE"]);
    assert_eq!(r.body["total"], json!(2));
    legacy(
        &app.call("crm.status.list", json!({"filter": "x"})).await,
        "Parameter 'filter' must be array.",
    );
    let r = app.call("crm.status.fields", json!({})).await;
    assert_eq!(r.result()["STATUS_ID"]["isImmutable"], json!(true));
    assert_eq!(r.result()["SYSTEM"]["isReadOnly"], json!(true));
    let r = app.call("crm.status.entity.types", json!({})).await;
    let types: Vec<&str> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ID"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"QUOTE_STATUS") && types.contains(&"CALL_LIST"));
    let r = app
        .call("crm.status.entity.items", json!({"entityId": "HONORIFIC"}))
        .await;
    assert_eq!(
        r.result()[0],
        json!({"NAME": "Mr.", "SORT": 10, "STATUS_ID": "HNR_EN_1"})
    );
}
