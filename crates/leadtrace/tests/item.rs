//! `crm.item.*` over HTTP on both backends: camelCase names and typed values, `{"item"}` /
//! `{"items"}` shapes, the item filter grammar, select/`fm`, order and parameter errors,
//! permissions, and the SDKs' chained paging through `batch`.

mod common;
use common::*;
use crm::EntityKind;
use serde_json::{json, Map, Value};
use sqlx::Connection;
use store::Backend;

backend_tests!(
    add_returns_the_typed_item,
    get_and_original_uf_names,
    update_merges_and_returns_the_item,
    delete_answers_an_empty_array,
    fields_describe_camel_case_names,
    parameter_errors,
    entity_types,
    form_encoded_and_query_string_calls,
    filter_prefixes,
    filter_groups_with_logic_or,
    filter_and_order_errors,
    select_and_fm,
    paging_total_next,
    permissions_hide_unreadable_items,
    batch_chained_paging_on_items,
    deals_contacts_and_companies_as_items,
    user_fields_by_definition,
);

async fn add_item(app: &TestApp, fields: Value) -> Value {
    let r = app
        .call("crm.item.add", json!({"entityTypeId": 1, "fields": fields}))
        .await;
    let res = r.result().as_object().unwrap();
    // A single key, so fast_bitrix24 unwraps it (sdk-expectations.md §2).
    assert_eq!(res.keys().collect::<Vec<_>>(), vec!["item"]);
    res["item"].clone()
}

async fn add_id(app: &TestApp, fields: Value) -> i64 {
    add_item(app, fields).await["id"].as_i64().unwrap()
}

/// `crm.item.list` for leads: (ids, total, next).
async fn list(app: &TestApp, params: Value) -> (Vec<i64>, Value, Value) {
    let mut p = params.as_object().cloned().unwrap_or_default();
    p.insert("entityTypeId".into(), json!(1));
    let r = app.call("crm.item.list", Value::Object(p)).await;
    let res = r.result().as_object().unwrap().clone();
    assert_eq!(res.keys().collect::<Vec<_>>(), vec!["items"]);
    let ids = res["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().expect("typed id"))
        .collect();
    (
        ids,
        r.body.get("total").cloned().unwrap_or(Value::Null),
        r.body.get("next").cloned().unwrap_or(Value::Null),
    )
}

async fn filtered(app: &TestApp, filter: Value) -> Vec<i64> {
    list(app, json!({"filter": filter, "select": ["id"]}))
        .await
        .0
}

/// Rows bound to traces, read straight from the database.
async fn trace_bindings(url: &str, b: Backend) -> i64 {
    let sql = "SELECT COUNT(*) FROM crm_trace_entity";
    match b {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// Defines a lead user field (only defined user fields are stored).
async fn define_uf(app: &TestApp, name: &str, user_type: &str) {
    let r = app
        .call(
            "crm.lead.userfield.add",
            json!({"fields": {"FIELD_NAME": name, "USER_TYPE_ID": user_type}}),
        )
        .await;
    assert!(r.result().as_i64().is_some(), "{}", r.body);
}

async fn add_returns_the_typed_item(b: Backend) {
    let mut url = String::new();
    let app = spawn_with(b, |c| url = c.database_url.clone()).await;
    define_uf(&app, "NOTE", "string").await;
    let trace = json!({"url": "https://example.com/?utm_source=trace", "ref": "https://google.com/", "device": {"isMobile": false},
                       "tags": {"ts": 1, "list": {"utm_source": "trace", "utm_medium": "cpc"}}, "client": {"gaId": "1"}, "pages": {"list": []}, "gid": null});
    let item = add_item(
        &app,
        json!({
            "title": "Item #1", "name": "Ann", "stageId": "IN_PROCESS", "sourceId": "WEB", "opportunity": 15000,
            "utmSource": "google", "utmMedium": "cpc", "utmCampaign": "spring", "utmContent": "ad1", "utmTerm": "crm",
            "birthdate": "1990-05-17", "opened": "N", "isManualOpportunity": true, "companyId": "",
            "fm": [{"typeId": "PHONE", "valueType": "MOBILE", "value": "+15550001"}, {"typeId": "EMAIL", "valueType": "WORK", "value": "a@example.com"}],
            "ufCrm_NOTE": "vip", "trace": trace.to_string(), "TRACE": trace.to_string(),
            "id": 999, "createdTime": "2001-01-01T00:00:00+00:00", "hasPhone": "N", "isConvert": "Y", "nonsense": 1
        }),
    )
    .await;
    let id = item["id"].as_i64().expect("id is a number");
    assert_ne!(id, 999);
    assert_eq!(item["title"], "Item #1");
    assert_eq!(item["name"], "Ann");
    assert_eq!(item["secondName"], Value::Null);
    assert_eq!(item["stageId"], "IN_PROCESS");
    assert_eq!(item["stageSemanticId"], "P");
    assert_eq!(item["sourceId"], "WEB");
    assert_eq!(item["opportunity"], json!(15000));
    assert_eq!(item["currencyId"], "USD");
    assert_eq!(item["isManualOpportunity"], "Y");
    assert_eq!(item["opened"], "N");
    assert_eq!(item["companyId"], Value::Null);
    assert_eq!(item["contactIds"], json!([]));
    assert_eq!(item["assignedById"], json!(1));
    assert_eq!(item["createdBy"], json!(1));
    assert_eq!(item["updatedBy"], json!(1));
    assert_eq!(item["movedBy"], json!(1));
    assert_eq!(item["hasPhone"], "Y");
    assert_eq!(item["hasEmail"], "Y");
    assert_eq!(item["hasImol"], "N");
    assert_eq!(item["isReturnCustomer"], "N");
    assert_eq!(item["dateClosed"], Value::Null);
    assert_eq!(item["birthdate"], "1990-05-17T00:00:00+00:00");
    let created = item["createdTime"].as_str().unwrap();
    assert!(!created.starts_with("2001") && created.ends_with("+00:00"));
    assert_eq!(item["updatedTime"], item["createdTime"]);
    assert_eq!(item["entityTypeId"], json!(1));
    for (k, v) in [
        ("utmSource", "google"),
        ("utmMedium", "cpc"),
        ("utmCampaign", "spring"),
        ("utmContent", "ad1"),
        ("utmTerm", "crm"),
    ] {
        assert_eq!(item[k], v, "{k}");
    }
    // Disabled fields are null; pseudo fields come from fm.
    for k in ["isConvert", "address", "dateCreateShort", "shortName"] {
        assert_eq!(item[k], Value::Null, "{k}");
    }
    assert_eq!(item["phone"], "+15550001");
    assert_eq!(item["phoneMobile"], "+15550001");
    assert_eq!(item["phoneWork"], Value::Null);
    assert_eq!(item["emailWork"], "a@example.com");
    let fm = item["fm"].as_array().unwrap();
    assert_eq!(fm.len(), 2);
    assert_eq!(
        fm[0],
        json!({"id": fm[0]["id"], "valueType": "MOBILE", "value": "+15550001", "typeId": "PHONE"})
    );
    assert!(fm[0]["id"].is_i64());
    assert_eq!(item["ufCrm_NOTE"], "vip");
    // No legacy names, no TRACE.
    for k in [
        "ID",
        "TITLE",
        "STATUS_ID",
        "PHONE",
        "UF_CRM_NOTE",
        "TRACE",
        "trace",
    ] {
        assert!(item.get(k).is_none(), "{k}");
    }
    // The same record through the legacy view: the UTM values given, nothing from the trace.
    let lead = app.call("crm.lead.get", json!({"id": id})).await;
    let lead = lead.result();
    assert_eq!(lead["UTM_SOURCE"], "google");
    assert_eq!(lead["UTM_MEDIUM"], "cpc");
    assert_eq!(lead["STATUS_ID"], "IN_PROCESS");
    assert_eq!(lead["OPPORTUNITY"], "15000.00");
    assert!(lead.get("TRACE").is_none());
    assert_eq!(
        trace_bindings(&url, b).await,
        0,
        "crm.item.add makes no trace"
    );

    // An empty `fields` creates an item with the defaults.
    let item = add_item(&app, json!({})).await;
    assert_eq!(item["stageId"], "NEW");
    assert_eq!(item["opened"], "Y");
    assert_eq!(item["opportunity"], json!(0));
    assert_eq!(item["fm"], json!([]));
    assert_eq!(item["phone"], Value::Null);
}

async fn get_and_original_uf_names(b: Backend) {
    let app = spawn_app(b).await;
    define_uf(&app, "COLOR", "string").await;
    define_uf(&app, "SIZE", "integer").await;
    let added = add_item(
        &app,
        json!({"title": "g", "UF_CRM_COLOR": "red", "ufCrm_SIZE": 42, "fm": [{"typeId": "WEB", "value": "x.org"}]}),
    )
    .await;
    let id = added["id"].clone();
    let r = app
        .call("crm.item.get", json!({"entityTypeId": 1, "id": id}))
        .await;
    let res = r.result().as_object().unwrap();
    assert_eq!(res.keys().collect::<Vec<_>>(), vec!["item"]);
    assert_eq!(res["item"], added, "get answers what add answered");
    assert_eq!(res["item"]["ufCrm_COLOR"], "red");
    assert_eq!(res["item"]["ufCrm_SIZE"], json!(42));
    let r = app
        .call(
            "crm.item.get",
            json!({"entityTypeId": 1, "id": id, "useOriginalUfNames": "Y"}),
        )
        .await;
    let item = &r.result()["item"];
    assert_eq!(item["UF_CRM_COLOR"], "red");
    assert!(item.get("ufCrm_COLOR").is_none());
    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 1, "useOriginalUfNames": "Y", "select": ["id", "UF_CRM_SIZE"]}),
        )
        .await;
    assert_eq!(r.result()["items"][0], json!({"id": id, "UF_CRM_SIZE": 42}));
    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 1, "select": ["ufCrm_SIZE"], "filter": {"ufCrm_SIZE": 42}}),
        )
        .await;
    assert_eq!(r.result()["items"], json!([{"id": id, "ufCrm_SIZE": 42}]));
    app.call("crm.item.get", json!({"entityTypeId": 1, "id": 987654}))
        .await
        .assert_error(400, "NOT_FOUND", "Element not found");
    app.call("crm.item.get", json!({"entityTypeId": 1, "id": 0}))
        .await
        .assert_error(400, "NOT_FOUND", "Element not found");
}

async fn update_merges_and_returns_the_item(b: Backend) {
    let app = spawn_app(b).await;
    let item = add_item(
        &app,
        json!({"title": "u", "name": "Bob", "opportunity": 100, "fm": [
            {"typeId": "PHONE", "valueType": "WORK", "value": "111"},
            {"typeId": "PHONE", "valueType": "MOBILE", "value": "222"}
        ]}),
    )
    .await;
    let id = item["id"].as_i64().unwrap();
    let p1 = item["fm"][0]["id"].as_i64().unwrap();
    let p2 = item["fm"][1]["id"].as_i64().unwrap();
    let mut fm = Map::new();
    fm.insert(
        p1.to_string(),
        json!({"typeId": "PHONE", "valueType": "HOME", "value": "333"}),
    );
    fm.insert(p2.to_string(), json!({"typeId": "PHONE", "value": ""}));
    fm.insert(
        "n0".into(),
        json!({"typeId": "EMAIL", "value": "c@example.com"}),
    );
    fm.insert("n1".into(), json!({"value": "no type: skipped"}));
    let c1 = app.add("contact", json!({"NAME": "c1"})).await;
    let c2 = app.add("contact", json!({"NAME": "c2"})).await;
    let r = app
        .call(
            "crm.item.update",
            json!({"entityTypeId": 1, "id": id, "fields": {
                "title": "u2", "STAGE_ID": "CONVERTED", "name": "", "opportunity": 0,
                "contactIds": [c1, c2, 987654], "fm": fm
            }}),
        )
        .await;
    let res = r.result().as_object().unwrap();
    assert_eq!(res.keys().collect::<Vec<_>>(), vec!["item"]);
    let item = &res["item"];
    assert_eq!(item["id"], json!(id));
    assert_eq!(item["title"], "u2");
    assert_eq!(item["name"], Value::Null, "an empty value clears");
    assert_eq!(item["opportunity"], json!(0));
    assert_eq!(item["stageId"], "CONVERTED");
    assert_eq!(item["stageSemanticId"], "S");
    assert!(item["dateClosed"].is_string());
    assert_eq!(item["movedBy"], json!(1));
    assert_eq!(item["contactId"], json!(c1), "the first binding is primary");
    assert_eq!(
        item["contactIds"],
        json!([c1, c2]),
        "ids of missing contacts are ignored"
    );
    assert_eq!(item["isReturnCustomer"], "Y");
    let fm: Vec<(i64, &str, &str, &str)> = item["fm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["typeId"].as_str().unwrap(),
                m["valueType"].as_str().unwrap(),
                m["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(fm.len(), 2, "{fm:?}");
    assert_eq!(fm[0], (p1, "PHONE", "HOME", "333"));
    assert_eq!((fm[1].1, fm[1].3), ("EMAIL", "c@example.com"));
    assert_eq!(item["hasEmail"], "Y");

    // Errors leave the record unchanged.
    app.call(
        "crm.item.update",
        json!({"entityTypeId": 1, "id": id, "fields": {"title": "x", "stageId": "BOGUS"}}),
    )
    .await
    .assert_error(
        400,
        "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "Invalid value for field \"Stage\"",
    );
    app.call(
        "crm.item.update",
        json!({"entityTypeId": 1, "id": id, "fields": {"title": "x", "contactIds": 7}}),
    )
    .await
    .assert_error(
        400,
        "100",
        "Expected iterable value for multiple field, but got integer instead",
    );
    app.call(
        "crm.item.add",
        json!({"entityTypeId": 1, "fields": {"currencyId": "XXX"}}),
    )
    .await
    .assert_error(
        400,
        "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "Invalid value for field \"Currency\"",
    );
    let r = app
        .call("crm.item.get", json!({"entityTypeId": 1, "id": id}))
        .await;
    assert_eq!(r.result()["item"]["title"], "u2");
    app.call(
        "crm.item.update",
        json!({"entityTypeId": 1, "id": 987654, "fields": {"title": "x"}}),
    )
    .await
    .assert_error(400, "NOT_FOUND", "Element not found");
    // Only the two items of this test exist: the failed add wrote nothing.
    assert_eq!(list(&app, json!({})).await.1, json!(1));
}

async fn delete_answers_an_empty_array(b: Backend) {
    let app = spawn_app(b).await;
    let id = add_id(
        &app,
        json!({"title": "d", "fm": [{"typeId": "PHONE", "value": "1"}]}),
    )
    .await;
    let r = app
        .call("crm.item.delete", json!({"entityTypeId": 1, "id": id}))
        .await;
    assert_eq!(r.result(), &json!([]));
    app.call("crm.item.get", json!({"entityTypeId": 1, "id": id}))
        .await
        .assert_error(400, "NOT_FOUND", "Element not found");
    app.call("crm.item.delete", json!({"entityTypeId": 1, "id": id}))
        .await
        .assert_error(400, "NOT_FOUND", "Element not found");
    app.call("crm.lead.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
}

async fn fields_describe_camel_case_names(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call("crm.item.fields", json!({"entityTypeId": 1}))
        .await;
    let res = r.result().as_object().unwrap();
    assert_eq!(res.keys().collect::<Vec<_>>(), vec!["fields"]);
    let f = res["fields"].as_object().unwrap();
    assert_eq!(
        f["stageId"],
        json!({"type": "crm_status", "isRequired": false, "isReadOnly": false, "isImmutable": false, "isMultiple": false,
               "isDynamic": false, "statusType": "STATUS", "title": "Stage", "upperName": "STAGE_ID"})
    );
    assert_eq!(f["id"]["isReadOnly"], json!(true));
    assert_eq!(f["utmSource"]["upperName"], "UTM_SOURCE");
    assert_eq!(f["updatedBy"]["upperName"], "UPDATED_BY");
    assert_eq!(f["opened"]["type"], "boolean");
    assert_eq!(f["contactIds"]["isMultiple"], json!(true));
    assert_eq!(f["fm"]["type"], "crm_multifield");
    for k in ["STATUS_ID", "PHONE", "TRACE", "address", "phone"] {
        assert!(f.get(k).is_none(), "{k}");
    }
    // Every described name is accepted back by a select.
    let names: Vec<&String> = f.keys().filter(|k| *k != "fm").collect();
    add_id(&app, json!({"title": "f"})).await;
    let r = app
        .call("crm.item.list", json!({"entityTypeId": 1, "select": names}))
        .await;
    let item = r.result()["items"][0].as_object().unwrap();
    let got: Vec<&String> = item.keys().collect();
    assert_eq!(got, names);
}

async fn parameter_errors(b: Backend) {
    let app = spawn_app(b).await;
    let id = add_id(&app, json!({"title": "p"})).await;
    for method in [
        "crm.item.add",
        "crm.item.update",
        "crm.item.get",
        "crm.item.list",
        "crm.item.delete",
        "crm.item.fields",
    ] {
        app.call(method, json!({"fields": {}, "id": id}))
            .await
            .assert_error(
                400,
                "100",
                "Could not find value for parameter {entityTypeId}",
            );
        // Names are exact: no legacy spellings.
        app.call(method, json!({"ENTITYTYPEID": 1, "entitytypeid": 1}))
            .await
            .assert_error(
                400,
                "100",
                "Could not find value for parameter {entityTypeId}",
            );
        app.call(method, json!({"entityTypeId": "lead"}))
            .await
            .assert_error(
                400,
                "100",
                "Invalid value lead to match with parameter {entityTypeId}. Should be value of type int.",
            );
    }
    for method in ["crm.item.update", "crm.item.get", "crm.item.delete"] {
        app.call(method, json!({"entityTypeId": 1, "ID": id, "fields": {}}))
            .await
            .assert_error(400, "100", "Could not find value for parameter {id}");
        app.call(method, json!({"entityTypeId": 1, "id": "7x", "fields": {}}))
            .await
            .assert_error(
                400,
                "100",
                "Invalid value 7x to match with parameter {id}. Should be value of type int.",
            );
    }
    for method in ["crm.item.add", "crm.item.update"] {
        app.call(method, json!({"entityTypeId": 1, "id": id}))
            .await
            .assert_error(400, "100", "Could not find value for parameter {fields}");
        app.call(
            method,
            json!({"entityTypeId": 1, "id": id, "FIELDS": {"title": "x"}}),
        )
        .await
        .assert_error(400, "100", "Could not find value for parameter {fields}");
        app.call(
            method,
            json!({"entityTypeId": 1, "id": id, "fields": "title"}),
        )
        .await
        .assert_error(
            400,
            "100",
            "Invalid value title to match with parameter {fields}. Should be value of type array.",
        );
    }
    app.call("crm.item.list", json!({"entityTypeId": 1, "filter": "x"}))
        .await
        .assert_error(
            400,
            "100",
            "Invalid value x to match with parameter {filter}. Should be value of type array.",
        );
    // Numbers as strings are converted (form-encoded clients can only send strings).
    let r = app
        .call(
            "crm.item.get",
            json!({"entityTypeId": "1", "id": id.to_string()}),
        )
        .await;
    assert_eq!(r.result()["item"]["id"], json!(id));
    // An unparsable JSON body is an empty parameter set.
    let r = app
        .post_raw(
            &format!("{}crm.item.list", app.hook),
            Some("application/json"),
            "{not json",
        )
        .await;
    r.assert_error(
        400,
        "100",
        "Could not find value for parameter {entityTypeId}",
    );
}

async fn entity_types(b: Backend) {
    let app = spawn_app(b).await;
    for id in [0, 6, 8, 31, 128, 1220, -1] {
        app.call("crm.item.list", json!({"entityTypeId": id}))
            .await
            .assert_error(400, "NOT_FOUND", "Smart process not found");
    }
    for method in ["crm.item.list", "crm.item.fields", "crm.item.get"] {
        app.call(method, json!({"entityTypeId": 5, "id": 1}))
            .await
            .assert_error(
                400,
                "ENTITY_TYPE_NOT_SUPPORTED",
                "Entity type INVOICE is not supported",
            );
    }
    // Deals, contacts, companies and quotes are served once their field table exists.
    for kind in [
        EntityKind::Deal,
        EntityKind::Contact,
        EntityKind::Company,
        EntityKind::Quote,
    ] {
        let r = app
            .call(
                "crm.item.list",
                json!({"entityTypeId": kind.entity_type_id()}),
            )
            .await;
        if kind.fields().is_empty() {
            r.assert_error(400, "NOT_FOUND", "Smart process not found");
        } else {
            assert_eq!(r.result(), &json!({"items": []}), "{kind:?}");
            assert_eq!(r.body["total"], json!(0));
        }
    }
}

async fn form_encoded_and_query_string_calls(b: Backend) {
    let app = spawn_app(b).await;
    // CRest style: everything a string.
    let r = app
        .post_raw(
            &format!("{}crm.item.add", app.hook),
            Some("application/x-www-form-urlencoded"),
            "entityTypeId=1&fields[title]=Form&fields[opportunity]=12.5&fields[opened]=Y&fields[assignedById]=1&fields[fm][0][typeId]=PHONE&fields[fm][0][value]=555",
        )
        .await;
    let item = &r.result()["item"];
    assert_eq!(item["title"], "Form");
    assert_eq!(item["opportunity"], json!(12.5));
    assert_eq!(item["assignedById"], json!(1));
    assert_eq!(item["fm"][0]["value"], "555");
    assert_eq!(item["fm"][0]["valueType"], "WORK");
    let id = item["id"].as_i64().unwrap();
    let r = app
        .get(&format!(
            "{}crm.item.list.json?entityTypeId=1&filter[%3E%3Dopportunity]=12&select[]=id&select[]=opportunity",
            app.hook
        ))
        .await;
    assert_eq!(
        r.result(),
        &json!({"items": [{"id": id, "opportunity": 12.5}]})
    );
    assert_eq!(r.body["total"], json!(1));
    let r = app
        .get(&format!("{}crm.item.get?entityTypeId=1&id={id}", app.hook))
        .await;
    assert_eq!(r.result()["item"]["title"], "Form");
    // b24pysdk writes empty lists and maps as `key[]=`: nothing given.
    let r = app
        .get(&format!(
            "{}crm.item.list?entityTypeId=1&select[]=&filter[]=&order[]=",
            app.hook
        ))
        .await;
    assert_eq!(r.result()["items"][0]["fm"][0]["value"], "555");
}

/// Eight leads with distinct values for the filter tests; returns their ids in order.
async fn seed(app: &TestApp) -> Vec<i64> {
    let rows = [
        json!({"title": "Alpha deal", "name": "Ann", "lastName": "Smith", "stageId": "NEW", "sourceId": "WEB", "opportunity": 1000, "companyId": 3, "isManualOpportunity": "Y"}),
        json!({"title": "Beta", "name": "Bob", "stageId": "IN_PROCESS", "sourceId": "CALL", "opportunity": 5000, "isManualOpportunity": "Y"}),
        json!({"title": "gamma 50%", "lastName": "Doe", "stageId": "IN_PROCESS", "sourceId": "ADVERTISING", "opportunity": 12000}),
        json!({"title": "Delta", "stageId": "PROCESSED", "sourceId": "WEB", "opportunity": 20000, "birthdate": "1990-01-15"}),
        json!({"title": "Epsilon", "name": "Eve", "stageId": "CONVERTED", "opportunity": 25000, "companyId": 7}),
        json!({"title": "zeta", "stageId": "JUNK", "sourceId": "OTHER", "opportunity": 0, "birthdate": "2000-06-30"}),
        json!({"title": "Eta deal", "name": "Ed", "lastName": "Smith", "stageId": "NEW", "sourceId": "ADVERTISING", "opportunity": 19000, "isManualOpportunity": "Y"}),
        json!({"title": "Theta", "name": "", "lastName": "", "stageId": "NEW", "opportunity": 19600}),
    ];
    let mut ids = Vec::new();
    for fields in rows {
        ids.push(add_id(app, fields).await);
    }
    ids
}

async fn filter_prefixes(b: Backend) {
    let app = spawn_app(b).await;
    let ids = seed(&app).await;
    let at = |is: &[usize]| is.iter().map(|i| ids[*i]).collect::<Vec<i64>>();
    let cases = [
        // equality, camelCase or UPPER, case-insensitive text
        (json!({"stageId": "NEW"}), at(&[0, 6, 7])),
        (json!({"STAGE_ID": "new"}), at(&[0, 6, 7])),
        (json!({"STATUS_ID": "NEW"}), at(&[0, 6, 7])),
        (json!({"=title": "beta"}), at(&[1])),
        (json!({"sourceId": ["WEB", "CALL"]}), at(&[0, 1, 3])),
        (json!({"!=stageId": "NEW"}), at(&[1, 2, 3, 4, 5])),
        (json!({"!stageId": "NEW"}), at(&[1, 2, 3, 4, 5])),
        (json!({"!stageId": ["NEW", "JUNK"]}), at(&[1, 2, 3, 4])),
        // null: `==` / `!==` and `=`/`!=` with null
        (json!({"==companyId": null}), at(&[1, 2, 3, 5, 6, 7])),
        (json!({"!==companyId": null}), at(&[0, 4])),
        (json!({"companyId": null}), at(&[1, 2, 3, 5, 6, 7])),
        (json!({"==sourceId": null}), at(&[4, 7])),
        (json!({"==isManualOpportunity": true}), at(&[0, 1, 6])),
        (json!({"isManualOpportunity": "N"}), at(&[2, 3, 4, 5, 7])),
        // comparisons and ranges
        (json!({">opportunity": 19000}), at(&[3, 4, 7])),
        (json!({">=opportunity": 19000}), at(&[3, 4, 6, 7])),
        (json!({"<opportunity": 5000}), at(&[0, 5])),
        (json!({"<=opportunity": "5000"}), at(&[0, 1, 5])),
        (json!({"><opportunity": [5000, 19600]}), at(&[1, 2, 6, 7])),
        (json!({"!><opportunity": [5000, 19600]}), at(&[0, 3, 4, 5])),
        (json!({">id": ids[5]}), at(&[6, 7])),
        (
            json!({"><birthdate": ["1990-01-01", "1999-12-31"]}),
            at(&[3]),
        ),
        // IN / NOT IN
        (json!({"@id": [ids[1], ids[3], 987654]}), at(&[1, 3])),
        (json!({"!@id": [ids[1], ids[3]]}), at(&[0, 2, 4, 5, 6, 7])),
        (json!({"@stageId": ["CONVERTED", "junk"]}), at(&[4, 5])),
        (json!({"@id": []}), vec![]),
        // LIKE forms
        (json!({"%title": "deal"}), at(&[0, 6])),
        (json!({"%title": "50%"}), at(&[2])),
        (json!({"=%title": "%eta"}), at(&[1, 5, 7])),
        (json!({"%=title": "e%"}), at(&[4, 6])),
        (json!({"!%title": "deal"}), at(&[1, 2, 3, 4, 5, 7])),
        (json!({"!=%title": "%eta"}), at(&[0, 2, 3, 4, 6])),
        (json!({"!%=title": "%a"}), at(&[0, 2, 4, 6])),
        (json!({"?title": "lph"}), at(&[0])),
        (json!({"*title": "lph"}), at(&[0])),
        // not empty text (the docs' example)
        (json!({"!=name": ""}), at(&[0, 1, 4, 6])),
        (json!({"!=lastName": ""}), at(&[0, 2, 6])),
    ];
    for (filter, want) in cases {
        assert_eq!(filtered(&app, filter.clone()).await, want, "{filter}");
    }
}

async fn filter_groups_with_logic_or(b: Backend) {
    let app = spawn_app(b).await;
    let ids = seed(&app).await;
    let at = |is: &[usize]| is.iter().map(|i| ids[*i]).collect::<Vec<i64>>();
    // The docs' example (crm-item-list.md), with its order.
    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 1,
                   "select": ["id", "title", "lastName", "name", "stageId", "sourceId", "assignedById", "opportunity", "isManualOpportunity"],
                   "filter": {"0": {"logic": "OR", "0": {"!=name": ""}, "1": {"!=lastName": ""}},
                              "@stageId": ["NEW", "IN_PROCESS"], "@sourceId": ["WEB", "ADVERTISING", "CALL"], "@assignedById": [1, 6],
                              ">=opportunity": 5000, "<=opportunity": 20000, "isManualOpportunity": "Y"},
                   "order": {"lastName": "ASC", "name": "ASC"}}),
        )
        .await;
    let items = r.result()["items"].as_array().unwrap();
    assert_eq!(r.body["total"], json!(2));
    // lastName NULL sorts first ascending.
    assert_eq!(
        items[0],
        json!({"id": ids[1], "title": "Beta", "name": "Bob", "lastName": null, "sourceId": "CALL", "stageId": "IN_PROCESS",
               "opportunity": 5000, "isManualOpportunity": "Y", "assignedById": 1})
    );
    assert_eq!(items[1]["id"], json!(ids[6]));
    assert_eq!(items[1]["opportunity"], json!(19000));
    let cases = [
        (
            json!({"logic": "OR", "stageId": "JUNK", "%title": "alpha"}),
            at(&[0, 5]),
        ),
        (
            json!({"LOGIC": "or", "0": {"stageId": "JUNK"}, "1": {"stageId": "CONVERTED", ">opportunity": 1}}),
            at(&[4, 5]),
        ),
        // Nested deeper: (NEW and (WEB or lastName Smith)) or JUNK
        (
            json!({"0": {"logic": "OR",
                         "0": {"stageId": "NEW", "1": {"logic": "OR", "sourceId": "WEB", "lastName": "Smith"}},
                         "1": {"stageId": "JUNK"}}}),
            at(&[0, 5, 6]),
        ),
        (
            json!({"logic": "AND", "stageId": "NEW", "sourceId": "WEB"}),
            at(&[0]),
        ),
        (json!({"0": {"logic": "OR"}}), ids.clone()),
        // Date ranges in OR groups (docs' deal example, on birthdates).
        (
            json!({"0": {"logic": "OR",
                         "0": {">=birthdate": "1990-01-15T00:00:00+00:00", "<birthdate": "1990-01-16T00:00:00+00:00"},
                         "1": {">=birthdate": "2000-06-01", "<birthdate": "2000-07-01"}}}),
            at(&[3, 5]),
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(filtered(&app, filter.clone()).await, want, "{filter}");
    }
}

async fn filter_and_order_errors(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    let bad = |params: Value| {
        let mut p = params.as_object().cloned().unwrap();
        p.insert("entityTypeId".into(), json!(1));
        Value::Object(p)
    };
    for (params, text) in [
        (json!({"filter": {"titel": "x"}}), "Invalid filter: field 'TITEL' is not allowed in filter"),
        (json!({"filter": {"fm": "x"}}), "Invalid filter: field 'FM' is not allowed in filter"),
        (json!({"filter": {"PHONE": "1"}}), "Invalid filter: field 'PHONE' is not allowed in filter"),
        (json!({"filter": {"0": {"logic": "OR", "0": {"><nope": [1, 2]}}}}), "Invalid filter: field 'NOPE' is not allowed in filter"),
        (json!({"filter": {"><opportunity": 5}}), "Invalid filter: field 'OPPORTUNITY' has invalid value"),
        (json!({"filter": {">id": "abc"}}), "Invalid filter: field 'ID' has invalid value"),
        (json!({"filter": {">createdTime": "someday"}}), "Invalid filter: field 'CREATED_TIME' has invalid value"),
        (json!({"order": {"nope": "ASC"}}), "Invalid order: field 'NOPE' is not allowed in order"),
        (json!({"order": {"fm": "ASC"}}), "Invalid order: field 'FM' is not allowed in order"),
        (
            json!({"order": {"title": "sideways"}}),
            "Invalid order: allowed sort directions are ASC, DESC. But got 'sideways' for field 'TITLE'",
        ),
    ] {
        app.call("crm.item.list", bad(params.clone()))
            .await
            .assert_error(400, "INVALID_ARG_VALUE", text);
    }
    // Directions in any case; UPPER names as the SDKs send them.
    let (ids, _, _) = list(&app, json!({"order": {"ID": "desc"}, "select": ["id"]})).await;
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    let (ids, _, _) = list(
        &app,
        json!({"order": {"opportunity": "DESC", "id": "asc"}, "filter": {"!@opportunity": [0]}}),
    )
    .await;
    assert_eq!(ids.len(), 7);
}

async fn select_and_fm(b: Backend) {
    let app = spawn_app(b).await;
    define_uf(&app, "X", "string").await;
    let id = add_id(
        &app,
        json!({"title": "s", "name": "N", "fm": [{"typeId": "EMAIL", "value": "s@example.com"}], "ufCrm_X": "x"}),
    )
    .await;
    // Named fields only, in table order, id always; `fm` cannot be named.
    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 1, "select": ["name", "fm", "email", "STATUS_ID", "title"]}),
        )
        .await;
    assert_eq!(
        serde_json::to_string(&r.result()["items"][0]).unwrap(),
        format!(r#"{{"id":{id},"title":"s","name":"N","stageId":"NEW"}}"#)
    );
    // `*` or no select: everything, with fm, user fields and entityTypeId.
    for select in [json!(["*"]), json!([]), Value::Null] {
        let r = app
            .call(
                "crm.item.list",
                json!({"entityTypeId": 1, "select": select}),
            )
            .await;
        let item = &r.result()["items"][0];
        assert_eq!(item["fm"][0]["value"], "s@example.com", "{select}");
        assert_eq!(item["email"], "s@example.com");
        assert_eq!(item["ufCrm_X"], "x");
        assert_eq!(item["entityTypeId"], json!(1));
        let get = app
            .call("crm.item.get", json!({"entityTypeId": 1, "id": id}))
            .await;
        assert_eq!(item, &get.result()["item"]);
    }
    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 1, "select": ["ufCrm_X", "UF_CRM_Y"]}),
        )
        .await;
    assert_eq!(r.result()["items"][0], json!({"id": id, "ufCrm_X": "x"}));
}

async fn paging_total_next(b: Backend) {
    let app = spawn_app(b).await;
    let cmds: Vec<String> = (0..120)
        .map(|i| format!("crm.item.add?entityTypeId=1&fields[title]=p{i}"))
        .collect();
    for chunk in cmds.chunks(50) {
        let r = app.call("batch", json!({"cmd": chunk})).await;
        assert_eq!(r.result()["result_error"], json!([]));
    }
    let (page, total, next) = list(&app, json!({"select": ["id"]})).await;
    assert_eq!((page.len(), total, next), (50, json!(120), json!(50)));
    let (page2, _, next) = list(&app, json!({"start": 75, "select": ["id"]})).await;
    assert_eq!((page2.len(), next), (50, json!(100)));
    assert!(page2[0] > page[49]);
    let (page3, total, next) = list(&app, json!({"start": "100"})).await;
    assert_eq!((page3.len(), total, next), (20, json!(120), Value::Null));
    let (past, total, next) = list(&app, json!({"start": 500})).await;
    assert_eq!((past.len(), total, next), (0, json!(120), Value::Null));
    let (fast, total, next) = list(&app, json!({"start": -1})).await;
    assert_eq!((fast.len(), total, next), (50, json!(0), Value::Null));
    assert_eq!(fast, page);
    let (filtered, total, next) =
        list(&app, json!({"filter": {"%title": "p1"}, "select": ["id"]})).await;
    // p1, p10–p19, p100–p119
    assert_eq!((filtered.len(), total, next), (31, json!(31), Value::Null));
}

async fn permissions_hide_unreadable_items(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, own) = app
        .user_with_rights(
            "own",
            Some("lead=read:own,add:all,update:own,delete:own"),
            &["crm"],
        )
        .await;
    let others = add_id(&app, json!({"title": "admin's"})).await;
    add_id(&app, json!({"title": "admin's 2"})).await;
    let r = app
        .call_at(
            &own,
            "crm.item.add",
            json!({"entityTypeId": 1, "fields": {"title": "mine"}}),
        )
        .await;
    let mine = r.result()["item"]["id"].as_i64().unwrap();
    assert_eq!(r.result()["item"]["assignedById"], json!(uid));

    let r = app
        .call_at(&own, "crm.item.list", json!({"entityTypeId": 1}))
        .await;
    let ids: Vec<i64> = r.result()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine]);
    assert_eq!(
        r.body["total"],
        json!(1),
        "total counts only readable items"
    );
    assert_eq!(list(&app, json!({})).await.1, json!(3));

    // Someone else's item is invisible.
    for (method, params) in [
        ("crm.item.get", json!({"entityTypeId": 1, "id": others})),
        (
            "crm.item.update",
            json!({"entityTypeId": 1, "id": others, "fields": {"title": "x"}}),
        ),
        ("crm.item.delete", json!({"entityTypeId": 1, "id": others})),
    ] {
        app.call_at(&own, method, params)
            .await
            .assert_error(400, "NOT_FOUND", "Element not found");
    }
    let r = app
        .call_at(
            &own,
            "crm.item.update",
            json!({"entityTypeId": 1, "id": mine, "fields": {"title": "mine 2"}}),
        )
        .await;
    assert_eq!(r.result()["item"]["title"], "mine 2");
    // Creating a record for someone else is refused with `own` add.
    let (_, own_add) = app
        .user_with_rights("ownadd", Some("lead=read:all,add:own,update:own"), &["crm"])
        .await;
    app.call_at(
        &own_add,
        "crm.item.add",
        json!({"entityTypeId": 1, "fields": {"title": "x", "assignedById": 1}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    // Readable but not changeable: access denied.
    app.call_at(
        &own_add,
        "crm.item.update",
        json!({"entityTypeId": 1, "id": others, "fields": {"title": "x"}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    app.call_at(
        &own_add,
        "crm.item.delete",
        json!({"entityTypeId": 1, "id": others}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");

    let (_, none) = app.user_with_rights("none", Some(""), &["crm"]).await;
    for method in ["crm.item.list", "crm.item.get", "crm.item.fields"] {
        app.call_at(&none, method, json!({"entityTypeId": 1, "id": others}))
            .await
            .assert_error(
                400,
                "ACCESS_DENIED",
                "You do not have permission to view this item",
            );
    }
    app.call_at(
        &none,
        "crm.item.add",
        json!({"entityTypeId": 1, "fields": {"title": "x"}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    // A user who may add but not read still gets the new item back.
    let (_, writer) = app
        .user_with_rights("writer", Some("lead=add:all"), &["crm"])
        .await;
    let r = app
        .call_at(
            &writer,
            "crm.item.add",
            json!({"entityTypeId": 1, "fields": {"title": "blind"}}),
        )
        .await;
    assert_eq!(r.result()["item"]["title"], "blind");
    // Scope: a webhook without `crm`.
    let (_, no_crm) = app.user_with_rights("nocrm", None, &["user"]).await;
    let r = app
        .call_at(&no_crm, "crm.item.list", json!({"entityTypeId": 1}))
        .await;
    assert_eq!(
        (r.status, r.body["error"].clone()),
        (403, json!("insufficient_scope"))
    );
}

async fn batch_chained_paging_on_items(b: Backend) {
    let app = spawn_app(b).await;
    let cmds: Vec<String> = (0..120)
        .map(|i| format!("crm.item.add?entityTypeId=1&fields[title]=chain{i}"))
        .collect();
    for chunk in cmds.chunks(50) {
        let r = app.call("batch", json!({"cmd": chunk, "halt": true})).await;
        assert_eq!(r.result()["result_error"], json!([]));
    }
    // PHP SDK: `$result[cmd_{i-1}][items][49][id]` with camelCase keys; b24pysdk call_list_fast:
    // `order[ID]`/`filter[>ID]` UPPER with the wrapped reference.
    for (prefix, order, gt) in [
        ("cmd_", "order[id]=ASC", "filter[>id]"),
        ("req_", "order[ID]=ASC", "filter[>ID]"),
    ] {
        let mut cmd = Map::new();
        cmd.insert(
            format!("{prefix}0"),
            json!(format!(
                "crm.item.list?entityTypeId=1&{order}&{gt}=0&start=-1&select[0]=id&select[1]=title"
            )),
        );
        for i in 1..3 {
            cmd.insert(
                format!("{prefix}{i}"),
                json!(format!(
                    "crm.item.list?entityTypeId=1&{order}&{gt}=$result[{prefix}{}][items][49][id]&start=-1&select[0]=id",
                    i - 1
                )),
            );
        }
        let r = app.call("batch", json!({"cmd": cmd, "halt": true})).await;
        let res = r.result();
        assert_eq!(res["result_error"], json!([]), "{prefix}");
        let mut ids = Vec::new();
        for i in 0..3 {
            let key = format!("{prefix}{i}");
            let items = res["result"][&key]["items"].as_array().unwrap();
            ids.extend(items.iter().map(|x| x["id"].as_i64().unwrap()));
            assert_eq!(res["result_total"][&key], json!(0));
            assert!(res["result_next"].get(&key).is_none());
        }
        assert_eq!(
            res["result"][format!("{prefix}0")]["items"][0]["title"],
            "chain0"
        );
        assert_eq!(ids.len(), 120, "{prefix}");
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique, ids, "ascending and without repeats");
    }
    // b24pysdk call_list: start = next, … through batch, results unwrapped by their first key.
    let r = app
        .call(
            "batch",
            json!({"cmd": {"a": "crm.item.list?entityTypeId=1&start=50", "b": "crm.item.list?entityTypeId=1&start=100"}, "halt": true}),
        )
        .await;
    let res = r.result();
    assert_eq!(res["result"]["a"]["items"].as_array().unwrap().len(), 50);
    assert_eq!(res["result"]["b"]["items"].as_array().unwrap().len(), 20);
    assert_eq!(res["result_total"], json!({"a": 120, "b": 120}));
    assert_eq!(res["result_next"], json!({"a": 100}));
    // Errors of item methods inside a batch keep their code.
    let r = app
        .call(
            "batch",
            json!({"cmd": {"x": "crm.item.get?entityTypeId=1&id=987654", "y": "crm.item.delete?entityTypeId=1"}}),
        )
        .await;
    assert_eq!(
        r.result()["result_error"],
        json!({"x": {"error": "NOT_FOUND", "error_description": "Element not found"},
               "y": {"error": "100", "error_description": "Could not find value for parameter {id}"}})
    );
}

/// Deals, contacts and companies through `crm.item.*`: the same engine as their legacy methods
/// (defaults, bindings, required fields, deletes), in the item dialect.
async fn deals_contacts_and_companies_as_items(b: Backend) {
    let app = spawn_app(b).await;
    let item = |r: Reply| r.result()["item"].clone();
    let contact = item(
        app.call(
            "crm.item.add",
            json!({"entityTypeId": 3, "fields": {"name": "Ann", "lastName": "Lee"}}),
        )
        .await,
    );
    let c = contact["id"].as_i64().expect("typed id");
    assert_eq!(contact["name"], "Ann");
    let deal = item(
        app.call(
            "crm.item.add",
            json!({"entityTypeId": 2, "fields": {"title": "Big one", "opportunity": 100, "contactIds": [c]}}),
        )
        .await,
    );
    let d = deal["id"].as_i64().expect("typed id");
    assert_eq!(deal["stageId"], "NEW", "first stage by default");
    assert_eq!(deal["contactId"], json!(c), "primary binding");
    assert_eq!(deal["contactIds"], json!([c]));
    let legacy = app.record("deal", d).await;
    assert_eq!(legacy["CONTACT_ID"], c.to_string());
    assert_eq!(
        legacy["TYPE_ID"], "SALE",
        "deal defaults apply to items too"
    );
    let bound = app
        .call("crm.deal.contact.items.get", json!({"id": d}))
        .await;
    assert_eq!(bound.result()[0]["CONTACT_ID"], json!(c));

    let r = app
        .call(
            "crm.item.list",
            json!({"entityTypeId": 2, "filter": {"stageId": "NEW"}, "select": ["id", "title"]}),
        )
        .await;
    assert_eq!(r.result()["items"], json!([{"id": d, "title": "Big one"}]));
    let updated = item(
        app.call(
            "crm.item.update",
            json!({"entityTypeId": 2, "id": d, "fields": {"stageId": "WON"}}),
        )
        .await,
    );
    assert_eq!(updated["stageId"], "WON");
    assert_eq!(updated["closed"], "Y");

    // Item-dialect errors from the shared rules.
    app.call(
        "crm.item.add",
        json!({"entityTypeId": 4, "fields": {"title": " "}}),
    )
    .await
    .assert_error(
        400,
        "CRM_FIELD_ERROR_REQUIRED",
        "Field \"Company Name\" is required",
    );
    app.call(
        "crm.item.add",
        json!({"entityTypeId": 2, "fields": {"title": "x", "categoryId": 3}}),
    )
    .await
    .assert_error(
        400,
        "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "Invalid value for field \"Sales Funnel\"",
    );

    // Deleting the contact through the item view detaches it from the deal.
    let r = app
        .call("crm.item.delete", json!({"entityTypeId": 3, "id": c}))
        .await;
    assert_eq!(r.result(), &json!([]));
    let after = item(
        app.call("crm.item.get", json!({"entityTypeId": 2, "id": d}))
            .await,
    );
    assert_eq!(after["contactId"], Value::Null);
    assert_eq!(after["contactIds"], json!([]));
}

/// User fields are filtered, sorted and described by their definitions: numbers compare as
/// numbers, booleans take 1/0, undefined names are errors, `crm.item.fields` lists them.
async fn user_fields_by_definition(b: Backend) {
    let app = spawn_app(b).await;
    define_uf(&app, "N", "integer").await;
    define_uf(&app, "FLAG", "boolean").await;
    let a = add_id(&app, json!({"title": "a", "ufCrm_N": 5, "ufCrm_FLAG": 1})).await;
    let bb = add_id(&app, json!({"title": "b", "ufCrm_N": 20, "ufCrm_FLAG": 0})).await;
    let c = add_id(
        &app,
        json!({"title": "c", "ufCrm_N": 12, "ufCrm_FLAG": true}),
    )
    .await;
    // As text, "5" > "10" and "5" sorts last; as numbers it does neither.
    assert_eq!(filtered(&app, json!({">ufCrm_N": 10})).await, vec![bb, c]);
    assert_eq!(
        filtered(&app, json!({">UF_CRM_N": "10"})).await,
        vec![bb, c]
    );
    assert_eq!(
        filtered(&app, json!({"><ufCrm_N": [5, 12]})).await,
        vec![a, c]
    );
    assert_eq!(filtered(&app, json!({"ufCrm_FLAG": 1})).await, vec![a, c]);
    assert_eq!(
        filtered(&app, json!({"ufCrm_FLAG": true})).await,
        vec![a, c]
    );
    assert_eq!(filtered(&app, json!({"ufCrm_FLAG": 0})).await, vec![bb]);
    let (ids, _, _) = list(
        &app,
        json!({"order": {"ufCrm_N": "DESC"}, "select": ["id"]}),
    )
    .await;
    assert_eq!(ids, vec![bb, c, a]);
    let (ids, _, _) = list(
        &app,
        json!({"order": {"UF_CRM_N": "asc"}, "select": ["id"]}),
    )
    .await;
    assert_eq!(ids, vec![a, c, bb]);
    for (params, text) in [
        (
            json!({"filter": {"ufCrm_NOPE": 1}}),
            "Invalid filter: field 'UF_CRM_NOPE' is not allowed in filter",
        ),
        (
            json!({"filter": {">UF_CRM_NOPE": 1}}),
            "Invalid filter: field 'UF_CRM_NOPE' is not allowed in filter",
        ),
        (
            json!({"filter": {"ufCrm_FLAG": "Y"}}),
            "Invalid filter: field 'UF_CRM_FLAG' has invalid value",
        ),
        (
            json!({"filter": {">ufCrm_N": "many"}}),
            "Invalid filter: field 'UF_CRM_N' has invalid value",
        ),
        (
            json!({"order": {"ufCrm_NOPE": "ASC"}}),
            "Invalid order: field 'UF_CRM_NOPE' is not allowed in order",
        ),
    ] {
        let mut p = params.as_object().cloned().unwrap();
        p.insert("entityTypeId".into(), json!(1));
        app.call("crm.item.list", Value::Object(p))
            .await
            .assert_error(400, "INVALID_ARG_VALUE", text);
    }

    // A deal user field is no lead field.
    let r = app
        .call(
            "crm.deal.userfield.add",
            json!({"fields": {"FIELD_NAME": "DEAL_ONLY", "USER_TYPE_ID": "string"}}),
        )
        .await;
    assert!(r.result().as_i64().is_some(), "{}", r.body);
    app.call(
        "crm.item.list",
        json!({"entityTypeId": 1, "filter": {"ufCrm_DEAL_ONLY": "x"}}),
    )
    .await
    .assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid filter: field 'UF_CRM_DEAL_ONLY' is not allowed in filter",
    );

    let r = app
        .call("crm.item.fields", json!({"entityTypeId": 1}))
        .await;
    let f = r.result()["fields"].as_object().unwrap().clone();
    let described = |name: &str| {
        let d = &f[name];
        (
            d["type"].clone(),
            d["isMultiple"].clone(),
            d["isRequired"].clone(),
            d["isDynamic"].clone(),
            d["title"].clone(),
            d["upperName"].clone(),
        )
    };
    assert_eq!(
        described("ufCrm_N"),
        (
            json!("integer"),
            json!(false),
            json!(false),
            json!(true),
            json!("UF_CRM_N"),
            json!("UF_CRM_N")
        )
    );
    assert_eq!(described("ufCrm_FLAG").0, json!("boolean"));
    assert!(f.get("ufCrm_DEAL_ONLY").is_none() && f.get("UF_CRM_N").is_none());
    let r = app
        .call(
            "crm.item.fields",
            json!({"entityTypeId": 1, "useOriginalUfNames": "Y"}),
        )
        .await;
    let f = r.result()["fields"].as_object().unwrap();
    assert!(f.contains_key("UF_CRM_N") && f.contains_key("UF_CRM_FLAG"));
    assert!(!f.contains_key("ufCrm_N"));
    let r = app
        .call("crm.item.fields", json!({"entityTypeId": 2}))
        .await;
    let f = r.result()["fields"].as_object().unwrap();
    assert_eq!(f["ufCrm_DEAL_ONLY"]["type"], "string");
    assert!(!f.contains_key("ufCrm_N"));
}
