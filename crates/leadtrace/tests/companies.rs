//! `crm.company.*` over HTTP, on both backends: shape, required TITLE (decision D14), company
//! dictionaries, multifields, lists, errors.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_shape_and_defaults,
    title_is_required,
    fields_description,
    list_and_delete,
);

/// The docs' `crm.company.get` key order (b24restdocs `crm-company-get.md`), then multifields.
const GET_KEYS: [&str; 53] = [
    "ID",
    "COMPANY_TYPE",
    "TITLE",
    "LOGO",
    "LEAD_ID",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "BANKING_DETAILS",
    "INDUSTRY",
    "REVENUE",
    "CURRENCY_ID",
    "EMPLOYEES",
    "COMMENTS",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "IS_MY_COMPANY",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "ADDRESS_LEGAL",
    "REG_ADDRESS",
    "REG_ADDRESS_2",
    "REG_ADDRESS_CITY",
    "REG_ADDRESS_POSTAL_CODE",
    "REG_ADDRESS_REGION",
    "REG_ADDRESS_PROVINCE",
    "REG_ADDRESS_COUNTRY",
    "REG_ADDRESS_COUNTRY_CODE",
    "REG_ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
    "LAST_COMMUNICATION_TIME",
    "PHONE",
    "WEB",
];

async fn add_get_shape_and_defaults(b: Backend) {
    let app = spawn_app(b).await;
    let id = app
        .add(
            "company",
            json!({"TITLE": "GAZPROM", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "IT", "EMPLOYEES": "EMPLOYEES_1",
                   "REVENUE": 12.5, "CURRENCY_ID": "EUR", "BANKING_DETAILS": "7736050003", "REG_ADDRESS_CITY": "Moscow",
                   "ADDRESS_LEGAL": "Legal st.", "LOGO": 5, "LAST_COMMUNICATION_TIME": "2024-01-01",
                   "PHONE": [{"VALUE": "+7 495"}], "WEB": [{"VALUE": "example.com"}]}),
        )
        .await;
    let c = app.record("company", id).await;
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, GET_KEYS);
    assert_eq!(c["TITLE"], "GAZPROM");
    assert_eq!(c["COMPANY_TYPE"], "CUSTOMER");
    assert_eq!(c["INDUSTRY"], "IT");
    assert_eq!(c["EMPLOYEES"], "EMPLOYEES_1");
    assert_eq!(c["REVENUE"], "12.50");
    assert_eq!(c["CURRENCY_ID"], "EUR");
    assert_eq!(c["REG_ADDRESS_CITY"], "Moscow");
    assert_eq!(c["IS_MY_COMPANY"], "N");
    assert_eq!(c["OPENED"], "Y");
    assert_eq!(c["HAS_PHONE"], "Y");
    assert_eq!(c["HAS_EMAIL"], "N");
    assert_eq!(c["LOGO"], Value::Null, "no file storage: ignored");
    assert_eq!(c["LAST_COMMUNICATION_TIME"], Value::Null, "read-only");
    assert_eq!(c["WEB"][0]["VALUE_TYPE"], "WORK");
    assert!(
        c.get("CONTACT_ID").is_none(),
        "the multiple binding is write-only"
    );
    // the company dictionaries of entities.md §4
    for (entity, ids) in [
        (
            "COMPANY_TYPE",
            vec!["CUSTOMER", "SUPPLIER", "COMPETITOR", "PARTNER", "OTHER"],
        ),
        (
            "EMPLOYEES",
            vec!["EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3", "EMPLOYEES_4"],
        ),
    ] {
        let r = app
            .call(
                "crm.status.list",
                json!({"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}),
            )
            .await;
        let got: Vec<&str> = r
            .result()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["STATUS_ID"].as_str().unwrap())
            .collect();
        assert_eq!(got, ids, "{entity}");
    }
    app.call(
        "crm.company.add",
        json!({"fields": {"TITLE": "x", "INDUSTRY": "ASTROLOGY"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field INDUSTRY.");
}

async fn title_is_required(b: Backend) {
    let app = spawn_app(b).await;
    for fields in [
        json!({}),
        json!({"TITLE": ""}),
        json!({"TITLE": "  "}),
        json!({"TITLE": null}),
    ] {
        app.call("crm.company.add", json!({ "fields": fields }))
            .await
            .assert_error(400, "", "Required field TITLE is not specified.");
    }
    assert_eq!(
        app.call("crm.company.list", json!({})).await.body["total"],
        json!(0)
    );
    let id = app.add("company", json!({"TITLE": "Acme"})).await;
    app.call(
        "crm.company.update",
        json!({"id": id, "fields": {"TITLE": "", "COMMENTS": "not saved"}}),
    )
    .await
    .assert_error(400, "", "Required field TITLE is not specified.");
    // an update that leaves TITLE alone needs none
    app.call(
        "crm.company.update",
        json!({"id": id, "fields": {"COMMENTS": "saved"}}),
    )
    .await
    .result();
    let c = app.record("company", id).await;
    assert_eq!(
        (&c["TITLE"], &c["COMMENTS"]),
        (&json!("Acme"), &json!("saved"))
    );
}

async fn fields_description(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("crm.company.fields", json!({})).await;
    let f = r.result().as_object().unwrap();
    assert_eq!(f.len(), 57);
    assert_eq!(
        f["TITLE"],
        json!({"type": "string", "isRequired": true, "isReadOnly": false, "isImmutable": false,
               "isMultiple": false, "isDynamic": false, "title": "Company Name"})
    );
    assert_eq!(f["CONTACT_ID"]["isMultiple"], true);
    assert_eq!(f["CONTACT_ID"]["type"], "crm_contact");
    assert_eq!(f["COMPANY_TYPE"]["statusType"], "COMPANY_TYPE");
    assert_eq!(f["INDUSTRY"]["statusType"], "INDUSTRY");
    assert_eq!(f["EMPLOYEES"]["statusType"], "EMPLOYEES");
    assert_eq!(f["LAST_COMMUNICATION_TIME"]["isReadOnly"], true);
    assert!(f.get("PARENT_ID_156").is_none());
}

async fn list_and_delete(b: Backend) {
    let app = spawn_app(b).await;
    let a = app
        .add(
            "company",
            json!({"TITLE": "Beta", "IS_MY_COMPANY": "Y", "REVENUE": 5}),
        )
        .await;
    let z = app
        .add(
            "company",
            json!({"TITLE": "alpha", "EMAIL": [{"VALUE": "x@alpha.example"}], "REVENUE": 50}),
        )
        .await;
    let q = |params: Value| app.call("crm.company.list", params);
    let r = q(json!({"order": {"TITLE": "ASC"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![a, z], "bytewise text order");
    let r = q(json!({"filter": {"IS_MY_COMPANY": "Y"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![a]);
    let r = q(json!({"filter": {"TITLE": "ALPHA"}, "select": ["ID"]})).await;
    assert_eq!(TestApp::ids(&r), vec![z]);
    let r = q(json!({"filter": {">REVENUE": 10}, "select": ["ID", "EMAIL"]})).await;
    assert_eq!(TestApp::ids(&r), vec![z]);
    assert_eq!(r.result()[0]["EMAIL"][0]["VALUE"], "x@alpha.example");
    assert_eq!(
        app.call("crm.company.delete", json!({"id": z}))
            .await
            .result(),
        &json!(true)
    );
    app.call("crm.company.get", json!({"id": z}))
        .await
        .assert_error(400, "", "Not found");
    let r = q(json!({"filter": {"EMAIL": "x@alpha.example"}})).await;
    assert_eq!(r.result(), &json!([]));
    app.call("crm.company.delete", json!({"id": "x"}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
}
