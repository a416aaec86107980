//! `crm.contact.*` over HTTP, on both backends: shape, name fields, multifields (the same engine
//! code as leads), dictionaries, lists, errors.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_shape_and_defaults,
    multifields_merge_by_id,
    names_are_not_required,
    fields_description,
    list_filters_and_select,
    errors_and_delete,
);

/// The docs' `crm.contact.get` key order (b24restdocs `crm-contact-get.md`), then the rest of the
/// field table (`ADDRESS_COUNTRY_CODE`), then multifields.
const GET_KEYS: [&str; 46] = [
    "ID",
    "POST",
    "COMMENTS",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "PHOTO",
    "LEAD_ID",
    "TYPE_ID",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "COMPANY_ID",
    "BIRTHDATE",
    "EXPORT",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "DATE_CREATE",
    "DATE_MODIFY",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "LAST_ACTIVITY_TIME",
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
    "PHONE",
    "EMAIL",
    "IM",
];

async fn add_get_shape_and_defaults(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add(
            "contact",
            json!({"HONORIFIC": "HNR_EN_1", "NAME": "John", "SECOND_NAME": "Doe", "LAST_NAME": "Smith",
                   "TYPE_ID": "partner", "SOURCE_ID": "WEB", "POST": "Administrator", "BIRTHDATE": "2001-11-11",
                   "ORIGIN_VERSION": "v1", "ADDRESS_CITY": "Berlin", "UTM_SOURCE": "google",
                   "PHOTO": {"fileData": ["a.png", "aGk="]}, "LEAD_ID": 5, "HAS_PHONE": "N",
                   "PHONE": [{"VALUE": "+13333333555", "VALUE_TYPE": "WORK"}, {"VALUE": "+15599888666", "VALUE_TYPE": "HOME"}],
                   "EMAIL": [{"VALUE": "john@example.com", "VALUE_TYPE": "MAILING"}],
                   "IM": [{"VALUE": "imol|x", "VALUE_TYPE": "IMOL"}]}),
        )
        .await;
    let c = app.record("contact", id).await;
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, GET_KEYS);
    assert_eq!(c["NAME"], "John");
    assert_eq!(c["LAST_NAME"], "Smith");
    assert_eq!(c["HONORIFIC"], "HNR_EN_1");
    assert_eq!(c["TYPE_ID"], "PARTNER");
    assert_eq!(c["BIRTHDATE"], "2001-11-11T00:00:00+00:00");
    assert_eq!(c["EXPORT"], "Y");
    assert_eq!(c["OPENED"], "Y");
    assert_eq!(c["HAS_PHONE"], "Y");
    assert_eq!(c["HAS_EMAIL"], "Y");
    assert_eq!(c["HAS_IMOL"], "Y");
    assert_eq!(c["PHOTO"], Value::Null, "no file storage: ignored");
    assert_eq!(c["LEAD_ID"], Value::Null, "read-only");
    assert_eq!(c["COMPANY_ID"], Value::Null);
    assert_eq!(c["ORIGIN_VERSION"], "v1");
    assert_eq!(c["ASSIGNED_BY_ID"], "1");
    assert_eq!(c["LAST_ACTIVITY_BY"], "1");
    assert_eq!(c["LAST_ACTIVITY_TIME"], c["DATE_CREATE"]);
    assert_eq!(c["PHONE"].as_array().unwrap().len(), 2);
    assert_eq!(
        c["PHONE"][1],
        json!({"ID": c["PHONE"][1]["ID"], "VALUE_TYPE": "HOME", "VALUE": "+15599888666", "TYPE_ID": "PHONE"})
    );
    assert!(c.get("COMPANY_IDS").is_none(), "write-only");
    assert!(c.get("MOVED_TIME").is_none(), "contacts have no stage");
}

async fn multifields_merge_by_id(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add(
            "contact",
            json!({"NAME": "mf", "EMAIL": [{"VALUE": "a@example.com"}, {"VALUE": "b@example.com", "VALUE_TYPE": "HOME"}]}),
        )
        .await;
    let c = app.record("contact", id).await;
    let (e1, e2) = (c["EMAIL"][0]["ID"].clone(), c["EMAIL"][1]["ID"].clone());
    // the docs' tutorial: change one e-mail by its id, add a phone, others stay
    app.call(
        "crm.contact.update",
        json!({"id": id, "fields": {"EMAIL": [{"ID": e1, "VALUE": "new@example.com", "VALUE_TYPE": "WORK"}],
                                     "PHONE": {"n0": {"VALUE": "+100"}}}}),
    )
    .await
    .result();
    let c = app.record("contact", id).await;
    assert_eq!(c["EMAIL"][0]["ID"], e1);
    assert_eq!(c["EMAIL"][0]["VALUE"], "new@example.com");
    assert_eq!(c["EMAIL"][1]["VALUE"], "b@example.com");
    assert_eq!(c["PHONE"][0]["VALUE_TYPE"], "WORK");
    assert_eq!(c["HAS_PHONE"], "Y");
    // ids of another record are ignored; delete by DELETE=Y and by empty VALUE
    let other = app
        .add(
            "contact",
            json!({"EMAIL": [{"VALUE": "other@example.com"}]}),
        )
        .await;
    let foreign = app.record("contact", other).await["EMAIL"][0]["ID"].clone();
    app.call(
        "crm.contact.update",
        json!({"id": id, "fields": {"EMAIL": [{"ID": foreign, "DELETE": "Y"}, {"ID": e1, "DELETE": "Y"}, {"ID": e2, "VALUE": ""}],
                                     "PHONE": [{"ID": c["PHONE"][0]["ID"], "DELETE": "Y"}]}}),
    )
    .await
    .result();
    let c = app.record("contact", id).await;
    assert!(c.get("EMAIL").is_none() && c.get("PHONE").is_none());
    assert_eq!(
        (&c["HAS_EMAIL"], &c["HAS_PHONE"]),
        (&json!("N"), &json!("N"))
    );
    assert_eq!(
        app.record("contact", other).await["EMAIL"][0]["VALUE"],
        "other@example.com"
    );
}

async fn names_are_not_required(b: Backend) {
    let app = spawn_app(b).await;
    // decision D4: a fresh portal requires no name
    let id = app.add("contact", json!({})).await;
    let c = app.record("contact", id).await;
    assert_eq!((&c["NAME"], &c["LAST_NAME"]), (&Value::Null, &Value::Null));
    app.call(
        "crm.contact.update",
        json!({"id": id, "fields": {"NAME": "", "LAST_NAME": "Late"}}),
    )
    .await
    .result();
    let c = app.record("contact", id).await;
    assert_eq!((&c["NAME"], &c["LAST_NAME"]), (&json!(""), &json!("Late")));
    app.call(
        "crm.contact.update",
        json!({"id": id, "fields": {"TYPE_ID": "UNKNOWN_TYPE"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field TYPE_ID.");
    app.call(
        "crm.contact.add",
        json!({"fields": {"HONORIFIC": "HNR_XX_9"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field HONORIFIC.");
}

async fn fields_description(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.contact.fields", json!({})).await;
    let f = r.result().as_object().unwrap();
    assert_eq!(f.len(), 49);
    for name in ["NAME", "SECOND_NAME", "LAST_NAME"] {
        assert_eq!(f[name]["isRequired"], false, "{name} (decision D4)");
    }
    assert_eq!(f["TYPE_ID"]["statusType"], "CONTACT_TYPE");
    assert_eq!(f["HONORIFIC"]["statusType"], "HONORIFIC");
    assert_eq!(f["PHOTO"]["type"], "file");
    assert_eq!(f["COMPANY_ID"]["isDeprecated"], true);
    assert_eq!(f["COMPANY_IDS"]["isMultiple"], true);
    assert_eq!(
        f["EMAIL"],
        json!({"type": "crm_multifield", "isRequired": false, "isReadOnly": false, "isImmutable": false,
               "isMultiple": true, "isDynamic": false, "title": "E-mail"})
    );
    assert_eq!(f.keys().next_back().map(String::as_str), Some("LINK"));
}

async fn list_filters_and_select(b: Backend) {
    let app = spawn_app(b).await;
    let ann = app
        .add(
            "contact",
            json!({"NAME": "Ann", "LAST_NAME": "Zed", "PHONE": [{"VALUE": "+49 555 888"}]}),
        )
        .await;
    let bob = app
        .add(
            "contact",
            json!({"NAME": "Bob", "LAST_NAME": "Abel", "EMAIL": [{"VALUE": "Bob@Example.com"}], "TYPE_ID": "CLIENT"}),
        )
        .await;
    let q = |params: Value| app.call("crm.contact.list", params);
    let r = q(json!({"filter": {"PHONE": "+49 555 888"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![ann]);
    let r = q(json!({"filter": {"EMAIL": "bob@example.com"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![bob]);
    let r = q(json!({"filter": {"HAS_EMAIL": "Y"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![bob]);
    let r = q(json!({"filter": {"TYPE_ID": "client"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![bob]);
    let r = q(json!({"order": {"LAST_NAME": "ASC"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![bob, ann]);
    // multifields only when selected, with ID
    let r = q(json!({"filter": {"ID": ann}, "select": ["NAME", "PHONE", "EMAIL"]})).await;
    let item = r.result()[0].as_object().unwrap();
    assert_eq!(item.keys().collect::<Vec<_>>(), vec!["ID", "NAME", "PHONE"]);
    let r = q(json!({"filter": {"ID": ann}})).await;
    let item = r.result()[0].as_object().unwrap();
    assert_eq!(item.len(), 43);
    assert!(item.get("PHONE").is_none());
}

async fn errors_and_delete(b: Backend) {
    let app = spawn_app(b).await;
    app.call("crm.contact.add", json!({"fields": []}))
        .await
        .result();
    app.call("crm.contact.add", json!({"fields": 1}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("crm.contact.get", json!({"id": -3}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("crm.contact.get", json!({"id": 99999}))
        .await
        .assert_error(400, "", "Not found");
    let id = app
        .add(
            "contact",
            json!({"NAME": "gone", "PHONE": [{"VALUE": "1"}]}),
        )
        .await;
    assert_eq!(
        app.call("crm.contact.delete", json!({"id": id}))
            .await
            .result(),
        &json!(true)
    );
    app.call("crm.contact.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Not found");
    let left = app
        .running
        .state
        .store()
        .read(move |tx| {
            Box::pin(async move {
                crm::Storage::multifields(tx, crm::EntityKind::Contact, 1, &[id]).await
            })
        })
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "multifields of a deleted contact: {left:?}"
    );
}
