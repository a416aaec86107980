//! `crm.lead.*` and the dictionaries over HTTP, on both backends.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_shape_matches_the_docs,
    multifield_add_change_delete,
    validation_and_not_found,
    fields_description,
    list_paging_next_total,
    list_filters_select_order,
    delete_removes_multifields,
    cyrillic_filters_ignore_case,
    status_dictionaries,
);

/// Keys of `crm.lead.get` in the order of the docs' example (leads.md §7), then the multifields.
const GET_KEYS: [&str; 54] = [
    "ID",
    "TITLE",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "COMPANY_TITLE",
    "COMPANY_ID",
    "CONTACT_ID",
    "IS_RETURN_CUSTOMER",
    "BIRTHDATE",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "STATUS_ID",
    "STATUS_DESCRIPTION",
    "POST",
    "COMMENTS",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "DATE_CLOSED",
    "STATUS_SEMANTIC_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
    "PHONE",
    "EMAIL",
    "IM",
];

async fn add_get_shape_matches_the_docs(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add_lead(json!({
            "TITLE": "Lead #1591", "NAME": "", "STATUS_ID": "IN_PROCESS", "SOURCE_ID": "WEB", "OPPORTUNITY": 15000,
            "UTM_SOURCE": "google", "UTM_MEDIUM": "cpc", "UTM_CAMPAIGN": "spring", "UTM_CONTENT": "ad1", "UTM_TERM": "crm",
            "BIRTHDATE": "1990-05-17", "COMMENTS": "<b>hi</b><script>alert(1)</script>",
            "PHONE": [{"VALUE": "+15454777777", "VALUE_TYPE": "OTHER"}],
            "EMAIL": [{"VALUE": "a@example.com"}],
            "IM": [{"VALUE": "imol|livechat|1|67|21", "VALUE_TYPE": "OPENLINE"}],
            "DATE_CREATE": "2001-01-01T00:00:00+00:00", "HAS_PHONE": "N", "UNKNOWN_FIELD": "dropped"
        }))
        .await;
    let r = app.call("crm.lead.get", json!({"id": id})).await;
    let lead = r.result().as_object().unwrap();
    let keys: Vec<&str> = lead.keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, GET_KEYS);
    assert_eq!(lead["ID"], json!(id.to_string()));
    assert_eq!(lead["TITLE"], "Lead #1591");
    assert_eq!(lead["NAME"], "");
    assert_eq!(lead["SECOND_NAME"], Value::Null);
    assert_eq!(lead["COMPANY_ID"], Value::Null);
    assert_eq!(lead["STATUS_ID"], "IN_PROCESS");
    assert_eq!(lead["STATUS_SEMANTIC_ID"], "P");
    assert_eq!(lead["OPPORTUNITY"], "15000.00");
    assert_eq!(lead["CURRENCY_ID"], "USD");
    assert_eq!(lead["IS_MANUAL_OPPORTUNITY"], "N");
    assert_eq!(lead["OPENED"], "Y");
    assert_eq!(lead["HAS_PHONE"], "Y");
    assert_eq!(lead["HAS_EMAIL"], "Y");
    assert_eq!(lead["HAS_IMOL"], "Y");
    assert_eq!(lead["IS_RETURN_CUSTOMER"], "N");
    assert_eq!(lead["ASSIGNED_BY_ID"], "1");
    assert_eq!(lead["CREATED_BY_ID"], "1");
    assert_eq!(lead["DATE_CLOSED"], "");
    assert_eq!(lead["BIRTHDATE"], "1990-05-17T00:00:00+00:00");
    assert_eq!(lead["UTM_SOURCE"], "google");
    assert_eq!(lead["UTM_TERM"], "crm");
    assert!(!lead["COMMENTS"].as_str().unwrap().contains("script"));
    let created = lead["DATE_CREATE"].as_str().unwrap();
    assert!(!created.starts_with("2001"), "DATE_CREATE is read-only");
    assert!(created.ends_with("+00:00") && created.len() == 25);
    assert_eq!(lead["MOVED_TIME"], lead["DATE_CREATE"]);
    assert_eq!(
        lead["PHONE"],
        json!([{"ID": lead["PHONE"][0]["ID"], "VALUE_TYPE": "OTHER", "VALUE": "+15454777777", "TYPE_ID": "PHONE"}])
    );
    assert_eq!(lead["EMAIL"][0]["VALUE_TYPE"], "WORK");
    assert!(lead["PHONE"][0]["ID"].is_string());
}

async fn multifield_add_change_delete(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add_lead(json!({"TITLE": "mf", "PHONE": [{"VALUE": "111", "VALUE_TYPE": "WORK"}, {"VALUE": "222", "VALUE_TYPE": "MOBILE"}]}))
        .await;
    let lead = app
        .call("crm.lead.get", json!({"id": id}))
        .await
        .result()
        .clone();
    let p1 = lead["PHONE"][0]["ID"].clone();
    let p2 = lead["PHONE"][1]["ID"].clone();
    let r = app
        .call(
            "crm.lead.update",
            json!({"id": id, "fields": {
                "TITLE": "mf2",
                "PHONE": [{"ID": p1, "VALUE": "333", "VALUE_TYPE": "HOME"}, {"ID": p2, "DELETE": "Y"}, {"VALUE": "444", "VALUE_TYPE": "NOSUCHTYPE"}],
                "EMAIL": {"n0": {"VALUE": "x@example.com"}}
            }}),
        )
        .await;
    assert_eq!(r.result(), &json!(true));
    let lead = app
        .call("crm.lead.get", json!({"id": id}))
        .await
        .result()
        .clone();
    assert_eq!(lead["TITLE"], "mf2");
    let phones: Vec<(&str, &str)> = lead["PHONE"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["VALUE"].as_str().unwrap(),
                p["VALUE_TYPE"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(phones, vec![("333", "HOME"), ("444", "OTHER")]);
    assert_eq!(lead["PHONE"][0]["ID"], p1);
    assert_eq!(lead["EMAIL"][0]["VALUE"], "x@example.com");
    // an ID with an empty VALUE deletes; values not mentioned are kept
    let p3 = lead["PHONE"][1]["ID"].clone();
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"PHONE": [{"ID": p1, "VALUE": ""}]}}),
    )
    .await
    .result();
    let lead = app
        .call("crm.lead.get", json!({"id": id}))
        .await
        .result()
        .clone();
    assert_eq!(lead["PHONE"].as_array().unwrap().len(), 1);
    assert_eq!(lead["PHONE"][0]["ID"], p3);
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"PHONE": [{"ID": p3, "DELETE": "Y"}]}}),
    )
    .await
    .result();
    let lead = app
        .call("crm.lead.get", json!({"id": id}))
        .await
        .result()
        .clone();
    assert!(lead.get("PHONE").is_none(), "no key when no values");
    assert_eq!(lead["HAS_PHONE"], "N");
}

async fn validation_and_not_found(b: Backend) {
    let app = spawn_app(b).await;
    app.call("crm.lead.add", json!({"fields": "nope"}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("crm.lead.add", json!({"fields": {"STATUS_ID": "BOGUS"}}))
        .await
        .assert_error(400, "", "Invalid value for field STATUS_ID.");
    app.call(
        "crm.lead.add",
        json!({"fields": {"TITLE": "x"}, "params": "x"}),
    )
    .await
    .assert_error(400, "", "Parameter 'params' must be array.");
    for id in [json!(0), json!("abc"), Value::Null] {
        app.call("crm.lead.get", json!({"id": id}))
            .await
            .assert_error(400, "", "ID is not defined or invalid.");
    }
    app.call("crm.lead.get", json!({"Id": 1}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("crm.lead.get", json!({"id": 987654}))
        .await
        .assert_error(400, "", "Not found");
    app.call(
        "crm.lead.update",
        json!({"id": 987654, "fields": {"TITLE": "x"}}),
    )
    .await
    .assert_error(400, "", "Not found");
    app.call("crm.lead.delete", json!({"id": 987654}))
        .await
        .assert_error(400, "", "Not found");
    app.call("crm.lead.list", json!({"filter": "x"}))
        .await
        .assert_error(400, "", "Parameter 'filter' must be array.");
    app.call("crm.lead.list", json!({"order": "x"}))
        .await
        .assert_error(400, "", "Parameter 'order' must be array.");
    // nothing was written by the failed calls
    assert_eq!(
        app.call("crm.lead.list", json!({})).await.body["total"],
        json!(0)
    );
    // FIELDS / arFields spellings
    let r = app
        .call("crm.lead.add", json!({"FIELDS": {"TITLE": "upper"}}))
        .await;
    let id = r.result().as_i64().unwrap();
    app.call(
        "crm.lead.update",
        json!({"ID": id, "arFields": {"TITLE": "hungarian"}}),
    )
    .await
    .result();
    assert_eq!(
        app.call("crm.lead.get", json!({"ID": id})).await.result()["TITLE"],
        "hungarian"
    );
    // moving to the success stage closes the lead and creates nothing else
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"STATUS_ID": "CONVERTED"}}),
    )
    .await
    .result();
    let lead = app
        .call("crm.lead.get", json!({"id": id}))
        .await
        .result()
        .clone();
    assert_eq!(lead["STATUS_SEMANTIC_ID"], "S");
    assert_ne!(lead["DATE_CLOSED"], "");
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"STATUS_ID": "NEW"}}),
    )
    .await
    .result();
    assert_eq!(
        app.call("crm.lead.get", json!({"id": id})).await.result()["DATE_CLOSED"],
        ""
    );
}

async fn fields_description(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.lead.fields", json!({})).await;
    let f = r.result();
    assert_eq!(
        f["COMPANY_ID"],
        json!({"type": "crm_company", "isRequired": false, "isReadOnly": false, "isImmutable": false, "isMultiple": false,
               "isDynamic": false, "settings": {"parentEntityTypeId": 4}, "title": "Company"})
    );
    assert_eq!(f["STATUS_ID"]["statusType"], "STATUS");
    assert_eq!(f["CONTACT_ID"]["isDeprecated"], true);
    assert_eq!(f["PHONE"]["isMultiple"], true);
    assert_eq!(f["ID"]["isReadOnly"], true);
    assert!(f.get("TRACE").is_none());
    assert_eq!(f.as_object().unwrap().len(), 57);
}

async fn list_paging_next_total(b: Backend) {
    let app = spawn_app(b).await;
    let cmds: Vec<String> = (0..120)
        .map(|i| format!("crm.lead.add?fields[TITLE]=p{i:03}"))
        .collect();
    for chunk in cmds.chunks(50) {
        app.call("batch", json!({"cmd": chunk})).await.result();
    }
    let page = |start: Value| {
        app.call(
            "crm.lead.list",
            json!({"start": start, "select": ["ID", "TITLE"]}),
        )
    };
    let r = page(json!(0)).await;
    assert_eq!(r.result().as_array().unwrap().len(), 50);
    assert_eq!(
        (r.body["total"].clone(), r.body["next"].clone()),
        (json!(120), json!(50))
    );
    let r = page(json!(75)).await;
    let items = r.result().as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["TITLE"], "p050");
    assert_eq!(r.body["next"], json!(100));
    let r = page(json!("100")).await;
    assert_eq!(r.result().as_array().unwrap().len(), 20);
    assert!(r.body.get("next").is_none());
    assert_eq!(r.body["total"], json!(120));
    let r = page(json!(500)).await;
    assert_eq!(r.result(), &json!([]));
    assert_eq!(r.body["total"], json!(120));
    let r = page(json!(-1)).await;
    assert_eq!(r.result().as_array().unwrap().len(), 50);
    assert_eq!(r.body["total"], json!(0));
    assert!(r.body.get("next").is_none());
    // `START` is not `start`
    let r = app.call("crm.lead.list", json!({"START": 100})).await;
    assert_eq!(r.result()[0]["TITLE"], "p000");
    // >ID paging with start=-1, as the SDKs page
    let mut last = 0i64;
    let mut seen = 0;
    loop {
        let r = app.call("crm.lead.list", json!({"order": {"ID": "ASC"}, "filter": {">ID": last}, "select": ["ID"], "start": -1})).await;
        let items = r.result().as_array().unwrap().clone();
        seen += items.len();
        if items.len() < 50 {
            break;
        }
        last = items[49]["ID"].as_str().unwrap().parse().unwrap();
    }
    assert_eq!(seen, 120);
}

async fn list_filters_select_order(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.add_lead(json!({"TITLE": "Alpha Co", "NAME": "Ann", "OPPORTUNITY": 100, "STATUS_ID": "JUNK", "PHONE": [{"VALUE": "555888"}]})).await;
    let bb = app.add_lead(json!({"TITLE": "Beta 100%", "NAME": "bob", "OPPORTUNITY": 250.5, "STATUS_ID": "NEW", "EMAIL": [{"VALUE": "Bob@Example.com"}]})).await;
    let c = app
        .add_lead(json!({"TITLE": "gamma_x", "OPPORTUNITY": 0, "STATUS_ID": "IN_PROCESS"}))
        .await;
    let ids = |r: &Reply| -> Vec<i64> {
        r.result()
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["ID"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let q = |filter: Value| app.call("crm.lead.list", json!({"filter": filter, "select": ["ID"]}));
    assert_eq!(
        ids(&q(json!({"NAME": "BOB"})).await),
        vec![bb],
        "case-insensitive equality"
    );
    assert_eq!(
        ids(&q(json!({"!NAME": "Ann"})).await),
        vec![bb, c],
        "not equal includes NULL"
    );
    assert_eq!(ids(&q(json!({">OPPORTUNITY": 100})).await), vec![bb]);
    assert_eq!(
        ids(&q(json!({">=OPPORTUNITY": "100", "<=OPPORTUNITY": 250.5})).await),
        vec![a, bb]
    );
    assert_eq!(ids(&q(json!({"OPPORTUNITY": 0})).await), vec![c]);
    assert_eq!(
        ids(&q(json!({"%TITLE": "100%"})).await),
        vec![bb],
        "% is escaped in substring search"
    );
    assert_eq!(
        ids(&q(json!({"%TITLE": "a_"})).await),
        vec![c],
        "_ is escaped"
    );
    assert_eq!(ids(&q(json!({"=%TITLE": "al%"})).await), vec![a]);
    assert_eq!(ids(&q(json!({"!%TITLE": "co"})).await), vec![bb, c]);
    assert_eq!(
        ids(&q(json!({"@STATUS_ID": ["NEW", "JUNK"]})).await),
        vec![a, bb]
    );
    assert_eq!(
        ids(&q(json!({"!@STATUS_ID": ["NEW", "JUNK"]})).await),
        vec![c]
    );
    assert_eq!(ids(&q(json!({"@ID": []})).await), Vec::<i64>::new());
    assert_eq!(ids(&q(json!({"ID": [a, c]})).await), vec![a, c]);
    assert_eq!(ids(&q(json!({"PHONE": "555888"})).await), vec![a]);
    assert_eq!(ids(&q(json!({"EMAIL": "bob@example.com"})).await), vec![bb]);
    assert_eq!(
        ids(&q(json!({"NO_SUCH": 1, "><OPPORTUNITY": [1, 2], "LOGIC": "OR"})).await),
        vec![a, bb, c],
        "unknown keys dropped"
    );
    assert_eq!(
        ids(
            &q(json!({">DATE_CREATE": "2000-01-01T00:00:00+00:00", "<DATE_CREATE": "NOW+1"})).await
        )
        .len(),
        3
    );
    // order: STATUS_ID by the dictionary's SORT (NEW 10, IN_PROCESS 20, JUNK 50)
    let r = app
        .call(
            "crm.lead.list",
            json!({"order": {"STATUS_ID": "asc"}, "select": ["ID"]}),
        )
        .await;
    assert_eq!(ids(&r), vec![bb, c, a]);
    let r = app
        .call(
            "crm.lead.list",
            json!({"order": {"OPPORTUNITY": "DESC"}, "select": ["ID"]}),
        )
        .await;
    assert_eq!(ids(&r), vec![bb, a, c]);
    // select: explicit names, multifields add ID, `*` has no multifields
    let r = app
        .call(
            "crm.lead.list",
            json!({"filter": {"ID": a}, "select": ["TITLE", "PHONE"]}),
        )
        .await;
    let item = r.result()[0].as_object().unwrap();
    assert_eq!(
        item.keys().collect::<Vec<_>>(),
        vec!["ID", "TITLE", "PHONE"]
    );
    assert_eq!(item["PHONE"][0]["VALUE"], "555888");
    let r = app
        .call(
            "crm.lead.list",
            json!({"filter": {"ID": a}, "select": ["*", "UF_*"]}),
        )
        .await;
    let item = r.result()[0].as_object().unwrap();
    assert!(item.get("PHONE").is_none());
    assert_eq!(item.len(), 51);
}

async fn delete_removes_multifields(b: Backend) {
    let app = spawn_app(b).await;
    let id = app.add_lead(json!({"TITLE": "gone", "PHONE": [{"VALUE": "777"}], "EMAIL": [{"VALUE": "g@example.com"}]})).await;
    assert_eq!(
        app.call("crm.lead.delete", json!({"id": id}))
            .await
            .result(),
        &json!(true)
    );
    app.call("crm.lead.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
    let left = app
        .running
        .state
        .store()
        .read(move |tx| {
            Box::pin(
                async move { crm::Storage::multifields(tx, crm::EntityKind::Lead, 1, &[id]).await },
            )
        })
        .await
        .unwrap();
    assert!(left.is_empty(), "multifields of a deleted lead: {left:?}");
}

async fn status_dictionaries(b: Backend) {
    let app = spawn_app(b).await;
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
    assert_eq!(ids, ["NEW", "IN_PROCESS", "PROCESSED", "CONVERTED", "JUNK"]);
    assert_eq!(r.body["total"], json!(5));
    let first = &r.result()[0];
    assert_eq!(first["SORT"], "10");
    assert_eq!(first["SYSTEM"], "Y");
    assert!(first["ID"].is_string());
    let r = app
        .call(
            "crm.status.list",
            json!({"filter": {"ENTITY_ID": "SOURCE"}}),
        )
        .await;
    assert_eq!(r.body["total"], json!(12));
    let r = app.call("crm.status.entity.types", json!({})).await;
    assert_eq!(r.result()[0]["ID"], "STATUS");
    assert_eq!(
        r.result()[0]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"],
        "CONVERTED"
    );
    let r = app
        .call("crm.status.entity.items", json!({"entityId": "STATUS"}))
        .await;
    assert_eq!(
        r.result()[0],
        json!({"NAME": "Unprocessed", "SORT": 10, "STATUS_ID": "NEW"})
    );
}

async fn cyrillic_filters_ignore_case(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add_lead(
            json!({"TITLE": "Иванов Пётр", "NAME": "Ёлка", "EMAIL": [{"VALUE": "Пётр@Пример.рф"}]}),
        )
        .await;
    app.add_lead(json!({"TITLE": "Петров"})).await;
    for filter in [
        json!({"%TITLE": "иванов"}),
        json!({"%TITLE": "ИВАНОВ ПЁТР"}),
        json!({"TITLE": "иванов пётр"}),
        json!({"NAME": "ёлка"}),
        json!({"EMAIL": "пётр@пример.рф"}),
    ] {
        let r = app
            .call("crm.lead.list", json!({"filter": filter, "select": ["ID"]}))
            .await;
        assert_eq!(r.result(), &json!([{"ID": id.to_string()}]), "{filter}");
    }
}
