//! `crm.lead.userfield.*` and user-field values in `crm.lead.*` over HTTP, on both backends:
//! definitions, every value type through add/get/list/filter, and every documented error.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    definition_round_trip,
    definition_errors,
    userfield_permissions,
    every_type_round_trips,
    every_type_filters,
    enumeration_options,
    value_validation_and_defaults,
    files_keep_metadata,
    fields_describe_user_fields,
    deleting_a_field_deletes_its_values,
);

/// Defines a lead user field; returns its id.
async fn define(app: &TestApp, fields: Value) -> i64 {
    let r = app
        .call("crm.lead.userfield.add", json!({ "fields": fields }))
        .await;
    r.result()
        .as_i64()
        .unwrap_or_else(|| panic!("userfield.add returned {}", r.body))
}

async fn get_lead(app: &TestApp, id: i64) -> Value {
    app.call("crm.lead.get", json!({ "id": id }))
        .await
        .result()
        .clone()
}

/// IDs of `crm.lead.list` with this filter, in ID order.
async fn filtered(app: &TestApp, filter: Value) -> Vec<i64> {
    let r = app
        .call(
            "crm.lead.list",
            json!({"filter": filter, "select": ["ID"], "order": {"ID": "ASC"}}),
        )
        .await;
    r.result()
        .as_array()
        .unwrap_or_else(|| panic!("list returned {}", r.body))
        .iter()
        .map(|l| l["ID"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn option_ids(definition: &Value) -> Vec<i64> {
    definition["LIST"]
        .as_array()
        .expect("LIST")
        .iter()
        .map(|o| o["ID"].as_str().unwrap().parse().unwrap())
        .collect()
}

async fn definition_round_trip(b: Backend) {
    let app = spawn_app(b).await;
    let id = define(
        &app,
        json!({"FIELD_NAME": "manager_note", "USER_TYPE_ID": "string", "LABEL": "Note",
               "EDIT_FORM_LABEL": {"en": "Manager note", "de": "Notiz"}, "XML_ID": "NOTE",
               "MULTIPLE": "N", "MANDATORY": "Y", "SHOW_FILTER": "E", "SORT": 200,
               "SETTINGS": {"DEFAULT_VALUE": "none", "ROWS": 3}}),
    )
    .await;
    let got = app
        .call("crm.lead.userfield.get", json!({ "id": id }))
        .await;
    assert_eq!(
        got.result(),
        &json!({"ID": id.to_string(), "ENTITY_ID": "CRM_LEAD", "FIELD_NAME": "UF_CRM_MANAGER_NOTE",
                "USER_TYPE_ID": "string", "XML_ID": "NOTE", "SORT": "200", "MULTIPLE": "N",
                "MANDATORY": "Y", "SHOW_FILTER": "E", "SHOW_IN_LIST": "Y", "EDIT_IN_LIST": "Y",
                "IS_SEARCHABLE": "N",
                "SETTINGS": {"SIZE": 20, "ROWS": 3, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0,
                             "DEFAULT_VALUE": "none"},
                "EDIT_FORM_LABEL": {"en": "Manager note"}, "LIST_COLUMN_LABEL": {"en": "Note"},
                "LIST_FILTER_LABEL": {"en": "Note"}, "ERROR_MESSAGE": {"en": "Note"},
                "HELP_MESSAGE": {"en": "Note"}})
    );
    // Without `fields` the parameters themselves are the definition.
    let second = app
        .call(
            "crm.lead.userfield.add",
            json!({"FIELD_NAME": "UF_SECOND", "USER_TYPE_ID": "Integer"}),
        )
        .await;
    let second = second.result().as_i64().unwrap();
    assert!(second > id);

    // List: SORT then ID by default (100 before 200); labels as maps, or strings with LANG.
    let list = app.call("crm.lead.userfield.list", json!({})).await;
    assert_eq!(list.body["total"], json!(2));
    let names: Vec<&str> = list
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["FIELD_NAME"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["UF_CRM_SECOND", "UF_CRM_MANAGER_NOTE"]);
    let list = app
        .call(
            "crm.lead.userfield.list",
            json!({"filter": {"MANDATORY": "Y", "LANG": "en"}, "order": {"ID": "DESC"}}),
        )
        .await;
    let items = list.result().as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["EDIT_FORM_LABEL"], json!("Manager note"));
    let list = app
        .call(
            "crm.lead.userfield.list",
            json!({"filter": {"USER_TYPE_ID": "integer", "LANG": "en"}}),
        )
        .await;
    assert_eq!(list.result()[0]["FIELD_NAME"], json!("UF_CRM_SECOND"));
    assert_eq!(list.result()[0]["HELP_MESSAGE"], json!(null), "empty label");
    let list = app
        .call(
            "crm.lead.userfield.list",
            json!({"order": {"FIELD_NAME": "DESC"}, "filter": {">ID": 0}}),
        )
        .await;
    assert_eq!(list.result()[0]["FIELD_NAME"], json!("UF_CRM_SECOND"));

    // Update: what may change changes; FIELD_NAME, USER_TYPE_ID and MULTIPLE stay.
    let r = app
        .call(
            "crm.lead.userfield.update",
            json!({"id": id, "fields": {"FIELD_NAME": "OTHER", "USER_TYPE_ID": "integer", "MULTIPLE": "Y",
                   "SORT": 5, "MANDATORY": "N", "SETTINGS": {"ROWS": 5},
                   "LIST_COLUMN_LABEL": {"de": "Spalte"}, "EDIT_FORM_LABEL": "Edited"}}),
        )
        .await;
    assert_eq!(r.result(), &json!(true));
    let got = app
        .call("crm.lead.userfield.get", json!({ "id": id }))
        .await;
    let got = got.result();
    assert_eq!(
        (
            &got["FIELD_NAME"],
            &got["USER_TYPE_ID"],
            &got["MULTIPLE"],
            &got["SORT"],
            &got["MANDATORY"]
        ),
        (
            &json!("UF_CRM_MANAGER_NOTE"),
            &json!("string"),
            &json!("N"),
            &json!("5"),
            &json!("N")
        )
    );
    assert_eq!(got["SETTINGS"]["ROWS"], json!(5));
    assert_eq!(
        got["SETTINGS"]["DEFAULT_VALUE"],
        json!("none"),
        "settings merge"
    );
    assert_eq!(
        got["LIST_COLUMN_LABEL"],
        json!({"en": ""}),
        "languages not given become ''"
    );
    assert_eq!(got["EDIT_FORM_LABEL"], json!({"en": "Edited"}));
    assert_eq!(got["HELP_MESSAGE"], json!({"en": "Note"}), "untouched");

    let r = app
        .call("crm.lead.userfield.delete", json!({ "id": id }))
        .await;
    assert_eq!(r.result(), &json!(true));
    app.call("crm.lead.userfield.get", json!({ "id": id }))
        .await
        .assert_error(
            400,
            "ERROR_NOT_FOUND",
            &format!("The entity with ID '{id}' is not found"),
        );
    let list = app.call("crm.lead.userfield.list", json!({})).await;
    assert_eq!(list.body["total"], json!(1));
}

async fn definition_errors(b: Backend) {
    let app = spawn_app(b).await;
    let add = |fields: Value| app.call("crm.lead.userfield.add", json!({ "fields": fields }));
    add(json!({"USER_TYPE_ID": "string"})).await.assert_error(
        400,
        "",
        "The 'FIELD_NAME' field is not found.",
    );
    add(json!({"FIELD_NAME": " ", "USER_TYPE_ID": "string"}))
        .await
        .assert_error(400, "", "The 'FIELD_NAME' field is not found.");
    add(json!({"FIELD_NAME": "X"})).await.assert_error(
        400,
        "",
        "The 'USER_TYPE_ID' field is not found.",
    );
    add(json!({"FIELD_NAME": "A".repeat(44), "USER_TYPE_ID": "string"}))
        .await
        .assert_error(
            400,
            "ERROR_CORE",
            "Field name is too long (more than 50 characters).",
        );
    add(json!({"FIELD_NAME": "MY-FIELD", "USER_TYPE_ID": "string"}))
        .await
        .assert_error(
            400,
            "ERROR_CORE",
            "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _.",
        );
    for unsupported in [
        "iblock_element",
        "iblock_section",
        "resourcebooking",
        "nope",
    ] {
        add(json!({"FIELD_NAME": "X", "USER_TYPE_ID": unsupported}))
            .await
            .assert_error(400, "ERROR_CORE", "Invalid custom type specified.");
    }
    add(json!({"FIELD_NAME": "L", "USER_TYPE_ID": "enumeration",
               "LIST": [{"VALUE": "a", "XML_ID": "dup"}, {"VALUE": "b", "XML_ID": "dup"}]}))
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "List item with XML_ID=dup already exists.",
    );
    // Nothing of the failed adds was stored.
    let list = app.call("crm.lead.userfield.list", json!({})).await;
    assert_eq!(list.result(), &json!([]));

    let id = define(&app, json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"})).await;
    add(json!({"FIELD_NAME": "UF_CRM_X", "USER_TYPE_ID": "integer"}))
        .await
        .assert_error(
            400,
            "ERROR_CORE",
            "Field UF_CRM_X already exists for object CRM_LEAD.",
        );

    for method in ["get", "update", "delete"] {
        let name = format!("crm.lead.userfield.{method}");
        for bad in [json!({}), json!({"id": 0}), json!({"id": "abc"})] {
            app.call(&name, bad)
                .await
                .assert_error(400, "", "ID is not defined or invalid.");
        }
        app.call(&name, json!({"id": id + 1000, "fields": {}}))
            .await
            .assert_error(
                400,
                "ERROR_NOT_FOUND",
                &format!("The entity with ID '{}' is not found", id + 1000),
            );
    }
    app.call("crm.lead.userfield.update", json!({"id": id}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("crm.lead.userfield.list", json!({"order": "SORT"}))
        .await
        .assert_error(400, "", "Parameter 'order' must be array.");
    app.call("crm.lead.userfield.list", json!({"filter": "x"}))
        .await
        .assert_error(400, "", "Parameter 'filter' must be array.");
}

async fn userfield_permissions(b: Backend) {
    let app = spawn_app(b).await;
    let id = define(&app, json!({"FIELD_NAME": "X", "USER_TYPE_ID": "string"})).await;
    let (_, reader) = app
        .user_with_rights(
            "reader",
            Some("lead=read:all,add:all,update:all,delete:all"),
            &["crm"],
        )
        .await;
    let (_, nobody) = app
        .user_with_rights("nobody", Some("deal=read:all"), &["crm"])
        .await;
    for (method, params) in [
        (
            "add",
            json!({"fields": {"FIELD_NAME": "Y", "USER_TYPE_ID": "string"}}),
        ),
        ("update", json!({"id": id, "fields": {"SORT": 1}})),
        ("delete", json!({ "id": id })),
    ] {
        app.call_at(&reader, &format!("crm.lead.userfield.{method}"), params)
            .await
            .assert_error(403, "", "Access denied.");
    }
    let got = app
        .call_at(&reader, "crm.lead.userfield.get", json!({ "id": id }))
        .await;
    assert_eq!(got.result()["FIELD_NAME"], json!("UF_CRM_X"));
    let list = app
        .call_at(&reader, "crm.lead.userfield.list", json!({}))
        .await;
    assert_eq!(list.body["total"], json!(1));
    for (method, params) in [("get", json!({ "id": id })), ("list", json!({}))] {
        app.call_at(&nobody, &format!("crm.lead.userfield.{method}"), params)
            .await
            .assert_error(403, "", "Access denied.");
    }
    // A user with lead rights may write values of existing fields.
    let r = app
        .call_at(
            &reader,
            "crm.lead.add",
            json!({"fields": {"UF_CRM_X": "v"}}),
        )
        .await;
    let lead = r.result().as_i64().unwrap();
    assert_eq!(get_lead(&app, lead).await["UF_CRM_X"], json!("v"));
}

/// Defines one field of every supported type (some multiple); returns the enumeration options.
async fn define_every_type(app: &TestApp) -> (i64, i64) {
    for (name, ty, extra) in [
        ("STR", "string", json!({})),
        ("INT", "integer", json!({})),
        ("DBL", "double", json!({"SETTINGS": {"PRECISION": 3}})),
        ("BOOL", "boolean", json!({})),
        ("DT", "datetime", json!({})),
        ("DAY", "date", json!({})),
        ("MONEY", "money", json!({})),
        ("URL", "url", json!({})),
        ("ADDR", "address", json!({})),
        (
            "CRM",
            "crm",
            json!({"SETTINGS": {"LEAD": "Y", "DEAL": "Y"}}),
        ),
        ("CRM_ONE", "crm", json!({})),
        ("EMP", "employee", json!({})),
        (
            "SRC",
            "crm_status",
            json!({"SETTINGS": {"ENTITY_TYPE": "SOURCE"}}),
        ),
        (
            "TAGS",
            "enumeration",
            json!({"MULTIPLE": "Y", "LIST": [{"VALUE": "hot"}, {"VALUE": "cold"}]}),
        ),
        ("NUMS", "integer", json!({"MULTIPLE": "Y"})),
        ("STRS", "string", json!({"MULTIPLE": "Y"})),
    ] {
        let mut fields = json!({"FIELD_NAME": name, "USER_TYPE_ID": ty});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        define(app, fields).await;
    }
    let list = app
        .call(
            "crm.lead.userfield.list",
            json!({"filter": {"FIELD_NAME": "UF_CRM_TAGS"}}),
        )
        .await;
    let ids = option_ids(&list.result()[0]);
    (ids[0], ids[1])
}

async fn every_type_round_trips(b: Backend) {
    let app = spawn_app(b).await;
    let (hot, cold) = define_every_type(&app).await;
    let values = json!({
        "TITLE": "typed",
        "UF_CRM_STR": "Hello", "UF_CRM_INT": "42", "UF_CRM_DBL": 2.34567, "UF_CRM_BOOL": "Y",
        "UF_CRM_DT": "2024-05-23T18:18:25+02:00", "UF_CRM_DAY": "2025-04-29",
        "UF_CRM_MONEY": "300|eur", "UF_CRM_URL": " https://example.com ",
        "UF_CRM_ADDR": "Main St 1|Berlin", "UF_CRM_CRM": "d_7", "UF_CRM_CRM_ONE": "L_4",
        "UF_CRM_EMP": 1, "UF_CRM_SRC": "web", "UF_CRM_TAGS": [hot, cold], "UF_CRM_NUMS": [3, "4"],
        "UF_CRM_STRS": "single", "UF_CRM_UNDEFINED": "dropped"
    });
    let id = app.add_lead(values).await;
    let expected = json!({
        "UF_CRM_STR": "Hello", "UF_CRM_INT": "42", "UF_CRM_DBL": "2.346", "UF_CRM_BOOL": true,
        "UF_CRM_DT": "2024-05-23T16:18:25+00:00", "UF_CRM_DAY": "2025-04-29T00:00:00+00:00",
        "UF_CRM_MONEY": "300|EUR", "UF_CRM_URL": "https://example.com",
        "UF_CRM_ADDR": "Main St 1|Berlin", "UF_CRM_CRM": "D_7", "UF_CRM_CRM_ONE": "4",
        "UF_CRM_EMP": "1", "UF_CRM_SRC": "WEB", "UF_CRM_TAGS": [hot.to_string(), cold.to_string()],
        "UF_CRM_NUMS": ["3", "4"], "UF_CRM_STRS": ["single"]
    });
    let lead = get_lead(&app, id).await;
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&lead[k], v, "get {k}");
    }
    assert!(lead.get("UF_CRM_UNDEFINED").is_none());
    // User fields follow the standard fields and come before multifields, in definition order.
    let keys: Vec<&String> = lead.as_object().unwrap().keys().collect();
    let first_uf = keys.iter().position(|k| k.starts_with("UF_")).unwrap();
    assert_eq!(keys[first_uf - 1], "LAST_ACTIVITY_TIME");
    assert_eq!(keys[first_uf], "UF_CRM_STR");

    // list: UF_* selects them all (with the same formats); `*` alone none; by name only those.
    let list = app
        .call(
            "crm.lead.list",
            json!({"select": ["UF_*"], "filter": {"ID": id}}),
        )
        .await;
    let row = &list.result()[0];
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&row[k], v, "list {k}");
    }
    let list = app
        .call(
            "crm.lead.list",
            json!({"select": ["*"], "filter": {"ID": id}}),
        )
        .await;
    assert!(list.result()[0].get("UF_CRM_STR").is_none());
    let list = app
        .call(
            "crm.lead.list",
            json!({"select": ["ID", "UF_CRM_BOOL", "UF_CRM_NOPE"], "filter": {"ID": id}}),
        )
        .await;
    assert_eq!(
        list.result(),
        &json!([{"ID": id.to_string(), "UF_CRM_BOOL": true}])
    );

    // A lead without values: null, [] for multiple fields (booleans default to false on add).
    let empty = app.add_lead(json!({"TITLE": "empty"})).await;
    let lead = get_lead(&app, empty).await;
    assert_eq!(lead["UF_CRM_STR"], json!(null));
    assert_eq!(lead["UF_CRM_TAGS"], json!([]));
    assert_eq!(lead["UF_CRM_BOOL"], json!(false));

    // Update: given fields change, others stay; "" clears; a multiple value is replaced.
    let r = app
        .call(
            "crm.lead.update",
            json!({"id": id, "fields": {"UF_CRM_STR": "", "UF_CRM_BOOL": "N", "UF_CRM_TAGS": [cold],
                   "UF_CRM_INT": 7, "UF_CRM_DT": "not a date"}}),
        )
        .await;
    assert_eq!(r.result(), &json!(true));
    let lead = get_lead(&app, id).await;
    assert_eq!(lead["UF_CRM_STR"], json!(null));
    assert_eq!(lead["UF_CRM_BOOL"], json!(false));
    assert_eq!(lead["UF_CRM_TAGS"], json!([cold.to_string()]));
    assert_eq!(lead["UF_CRM_INT"], json!("7"));
    assert_eq!(
        lead["UF_CRM_DT"],
        json!("2024-05-23T16:18:25+00:00"),
        "unparsable date ignored"
    );
    assert_eq!(lead["UF_CRM_MONEY"], json!("300|EUR"), "untouched");
}

async fn every_type_filters(b: Backend) {
    let app = spawn_app(b).await;
    let (hot, cold) = define_every_type(&app).await;
    let a = app
        .add_lead(json!({"UF_CRM_STR": "Alpha", "UF_CRM_INT": 9, "UF_CRM_DBL": 1.5, "UF_CRM_BOOL": true,
                         "UF_CRM_DT": "2024-01-01T10:00:00+00:00", "UF_CRM_DAY": "2024-01-01",
                         "UF_CRM_MONEY": "10|USD", "UF_CRM_URL": "https://a.org", "UF_CRM_ADDR": "Street A",
                         "UF_CRM_CRM": "L_1", "UF_CRM_CRM_ONE": 5, "UF_CRM_EMP": 1, "UF_CRM_SRC": "CALL",
                         "UF_CRM_TAGS": [hot], "UF_CRM_NUMS": [1, 2], "UF_CRM_STRS": ["x", "Y"]}))
        .await;
    let b2 = app
        .add_lead(json!({"UF_CRM_STR": "beta", "UF_CRM_INT": 10, "UF_CRM_DBL": 10.25, "UF_CRM_BOOL": "N",
                         "UF_CRM_DT": "2024-06-01T10:00:00+00:00", "UF_CRM_DAY": "2024-06-01",
                         "UF_CRM_MONEY": "20|EUR", "UF_CRM_URL": "https://b.org", "UF_CRM_ADDR": "Street B",
                         "UF_CRM_CRM": "D_1", "UF_CRM_CRM_ONE": 6, "UF_CRM_EMP": 2, "UF_CRM_SRC": "WEB",
                         "UF_CRM_TAGS": [hot, cold], "UF_CRM_NUMS": [3], "UF_CRM_STRS": ["z"]}))
        .await;
    let c = app
        .add_lead(json!({"UF_CRM_INT": 100, "UF_CRM_DBL": -3}))
        .await;
    let cases: Vec<(Value, Vec<i64>)> = vec![
        (json!({"UF_CRM_STR": "alpha"}), vec![a]),
        (json!({"%UF_CRM_STR": "ET"}), vec![b2]),
        (json!({"UF_CRM_STR": ""}), vec![c]),
        (json!({">UF_CRM_INT": 9}), vec![b2, c]),
        (json!({"<=UF_CRM_INT": "10"}), vec![a, b2]),
        (json!({"@UF_CRM_INT": [9, 100]}), vec![a, c]),
        (json!({"!UF_CRM_INT": 10}), vec![a, c]),
        (json!({">UF_CRM_DBL": 1.5}), vec![b2]),
        (json!({"<UF_CRM_DBL": 0}), vec![c]),
        (json!({"UF_CRM_BOOL": "Y"}), vec![a]),
        (json!({"UF_CRM_BOOL": 1}), vec![a]),
        (json!({"UF_CRM_BOOL": "N"}), vec![b2, c]),
        (json!({">=UF_CRM_DT": "2024-03-01"}), vec![b2]),
        (json!({"<UF_CRM_DT": "2024-03-01T00:00:00+00:00"}), vec![a]),
        (json!({"UF_CRM_DT": ""}), vec![c]),
        (json!({">UF_CRM_DAY": "2024-01-01"}), vec![b2]),
        (json!({"UF_CRM_DAY": "2024-01-01T05:00:00+03:00"}), vec![a]),
        (json!({"UF_CRM_MONEY": "20|EUR"}), vec![b2]),
        (json!({"%UF_CRM_MONEY": "USD"}), vec![a]),
        (json!({"%UF_CRM_URL": "b.org"}), vec![b2]),
        (json!({"UF_CRM_ADDR": "street a"}), vec![a]),
        (json!({"UF_CRM_CRM": "D_1"}), vec![b2]),
        (json!({"UF_CRM_CRM_ONE": 5}), vec![a]),
        (json!({"UF_CRM_EMP": 2}), vec![b2]),
        (json!({"UF_CRM_SRC": "CALL"}), vec![a]),
        (json!({"UF_CRM_TAGS": hot}), vec![a, b2]),
        (json!({"UF_CRM_TAGS": cold}), vec![b2]),
        (json!({"@UF_CRM_TAGS": [cold, 999_999]}), vec![b2]),
        (json!({"!UF_CRM_TAGS": cold}), vec![a, c]),
        (json!({"UF_CRM_TAGS": ""}), vec![c]),
        (json!({">UF_CRM_NUMS": 2}), vec![b2]),
        (json!({"UF_CRM_STRS": "y"}), vec![a]),
        (json!({"%UF_CRM_STRS": "z"}), vec![b2]),
        // Undefined user fields are unknown keys: dropped.
        (json!({"UF_CRM_NOPE": 1}), vec![a, b2, c]),
    ];
    for (filter, want) in cases {
        assert_eq!(filtered(&app, filter.clone()).await, want, "{filter}");
    }
    // Ordering by a numeric user field is numeric.
    let r = app
        .call(
            "crm.lead.list",
            json!({"order": {"UF_CRM_INT": "DESC"}, "select": ["ID"]}),
        )
        .await;
    let order: Vec<&str> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ID"].as_str().unwrap())
        .collect();
    assert_eq!(order, [c.to_string(), b2.to_string(), a.to_string()]);
}

async fn enumeration_options(b: Backend) {
    let app = spawn_app(b).await;
    let id = define(
        &app,
        json!({"FIELD_NAME": "STAGE", "USER_TYPE_ID": "enumeration",
               "LIST": [{"VALUE": "Second", "SORT": 20, "XML_ID": "S"}, {"VALUE": "First", "SORT": 10, "DEF": "Y"},
                        {"VALUE": ""}]}),
    )
    .await;
    let got = app
        .call("crm.lead.userfield.get", json!({ "id": id }))
        .await;
    let def = got.result().clone();
    let list = def["LIST"].as_array().unwrap();
    assert_eq!(list.len(), 2, "an empty VALUE is ignored");
    assert_eq!(list[0]["VALUE"], json!("First"));
    assert_eq!(list[0]["SORT"], json!("10"));
    assert_eq!(list[0]["DEF"], json!("Y"));
    assert_eq!(
        list[0]["XML_ID"].as_str().unwrap().len(),
        32,
        "generated code"
    );
    assert_eq!(list[1]["XML_ID"], json!("S"));
    let ids = option_ids(&def);
    let (first, second) = (ids[0], ids[1]);

    // The default option applies on add; values are option ids.
    let lead = app.add_lead(json!({"TITLE": "x"})).await;
    assert_eq!(
        get_lead(&app, lead).await["UF_CRM_STAGE"],
        json!(first.to_string())
    );
    let r = app
        .call(
            "crm.lead.update",
            json!({"id": lead, "fields": {"UF_CRM_STAGE": second}}),
        )
        .await;
    r.result();
    assert_eq!(
        get_lead(&app, lead).await["UF_CRM_STAGE"],
        json!(second.to_string())
    );
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"UF_CRM_STAGE": "Second"}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field UF_CRM_STAGE.");

    // LIST on update: change by ID, delete with DEL, add without ID; others kept.
    let r = app
        .call(
            "crm.lead.userfield.update",
            json!({"id": id, "fields": {"LIST": [{"ID": first, "DEL": "Y"}, {"ID": second, "VALUE": "Later"},
                                                  {"VALUE": "Third", "SORT": 30}]}}),
        )
        .await;
    r.result();
    let got = app
        .call("crm.lead.userfield.get", json!({ "id": id }))
        .await;
    let values: Vec<&str> = got.result()["LIST"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["VALUE"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["Later", "Third"]);
    assert_eq!(option_ids(got.result())[0], second);
    app.call(
        "crm.lead.userfield.update",
        json!({"id": id, "fields": {"LIST": [{"VALUE": "Dup", "XML_ID": "S"}]}}),
    )
    .await
    .assert_error(400, "ERROR_CORE", "List item with XML_ID=S already exists.");
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"UF_CRM_STAGE": first}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field UF_CRM_STAGE.");
}

async fn value_validation_and_defaults(b: Backend) {
    let app = spawn_app(b).await;
    for (name, ty, extra) in [
        ("INT", "integer", json!({"SETTINGS": {"DEFAULT_VALUE": 5}})),
        (
            "S",
            "string",
            json!({"SETTINGS": {"DEFAULT_VALUE": "hello"}}),
        ),
        ("FLAG", "boolean", json!({"SETTINGS": {"DEFAULT_VALUE": 1}})),
        (
            "WHEN",
            "datetime",
            json!({"SETTINGS": {"DEFAULT_VALUE": {"TYPE": "NOW"}}}),
        ),
        (
            "LOCKED",
            "string",
            json!({"EDIT_IN_LIST": "N", "SETTINGS": {"DEFAULT_VALUE": "fixed"}}),
        ),
        ("MONEY", "money", json!({})),
        (
            "CRM",
            "crm",
            json!({"SETTINGS": {"CONTACT": "Y", "COMPANY": "Y"}}),
        ),
        ("EMP", "employee", json!({})),
        (
            "SRC",
            "crm_status",
            json!({"SETTINGS": {"ENTITY_TYPE": "SOURCE"}}),
        ),
        ("DBL", "double", json!({})),
    ] {
        let mut fields = json!({"FIELD_NAME": name, "USER_TYPE_ID": ty});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        define(&app, fields).await;
    }
    let id = app
        .add_lead(json!({"TITLE": "d", "UF_CRM_LOCKED": "mine"}))
        .await;
    let lead = get_lead(&app, id).await;
    assert_eq!(lead["UF_CRM_INT"], json!("5"));
    assert_eq!(lead["UF_CRM_S"], json!("hello"));
    assert_eq!(lead["UF_CRM_FLAG"], json!(true));
    assert!(lead["UF_CRM_WHEN"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(
        lead["UF_CRM_LOCKED"],
        json!("fixed"),
        "EDIT_IN_LIST=N: read-only, default kept"
    );
    assert_eq!(lead["UF_CRM_MONEY"], json!(null));

    for (field, bad) in [
        ("UF_CRM_INT", json!("12abc")),
        ("UF_CRM_INT", json!([1])),
        ("UF_CRM_FLAG", json!("maybe")),
        ("UF_CRM_MONEY", json!("300|XYZ")),
        ("UF_CRM_MONEY", json!("lots")),
        ("UF_CRM_CRM", json!("L_4")),
        ("UF_CRM_CRM", json!("12")),
        ("UF_CRM_EMP", json!("bob")),
        ("UF_CRM_SRC", json!("NOPE")),
        ("UF_CRM_DBL", json!("1,5")),
    ] {
        let mut fields = json!({"TITLE": "bad"});
        fields[field] = bad.clone();
        app.call("crm.lead.add", json!({ "fields": fields }))
            .await
            .assert_error(400, "", &format!("Invalid value for field {field}."));
        app.call("crm.lead.update", json!({"id": id, "fields": fields}))
            .await
            .assert_error(400, "", &format!("Invalid value for field {field}."));
    }
    // Nothing of the refused calls was written.
    let list = app.call("crm.lead.list", json!({})).await;
    assert_eq!(list.body["total"], json!(1));
    assert_eq!(get_lead(&app, id).await["TITLE"], json!("d"));

    let r = app
        .call(
            "crm.lead.update",
            json!({"id": id, "fields": {"UF_CRM_MONEY": "12.5", "UF_CRM_CRM": "co_3", "UF_CRM_LOCKED": "x"}}),
        )
        .await;
    r.result();
    let lead = get_lead(&app, id).await;
    assert_eq!(lead["UF_CRM_MONEY"], json!("12.5|USD"), "base currency");
    assert_eq!(lead["UF_CRM_CRM"], json!("CO_3"));
    assert_eq!(lead["UF_CRM_LOCKED"], json!("fixed"));
}

async fn files_keep_metadata(b: Backend) {
    let app = spawn_app(b).await;
    define(&app, json!({"FIELD_NAME": "DOC", "USER_TYPE_ID": "file"})).await;
    define(
        &app,
        json!({"FIELD_NAME": "DOCS", "USER_TYPE_ID": "file", "MULTIPLE": "Y"}),
    )
    .await;
    let id = app
        .add_lead(json!({"UF_CRM_DOC": {"fileData": ["a.txt", "aGVsbG8="]},
                         "UF_CRM_DOCS": [{"fileData": ["b.txt", "AAEC"]}, {"fileData": ["c.txt", "AA=="]}]}))
        .await;
    let lead = get_lead(&app, id).await;
    let doc = &lead["UF_CRM_DOC"];
    let file_id = doc["id"].as_i64().expect("file id");
    let url = format!(
        "/bitrix/components/bitrix/crm.lead.show/show_file.php?ownerId={id}&fieldName=UF_CRM_DOC&dynamic=Y&fileId={file_id}"
    );
    assert_eq!(
        doc,
        &json!({"id": file_id, "showUrl": url, "downloadUrl": url})
    );
    let docs: Vec<i64> = lead["UF_CRM_DOCS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| *d != file_id));

    // Keep one file by id, drop the other, add a new one; another record's file id is ignored.
    let r = app
        .call(
            "crm.lead.update",
            json!({"id": id, "fields": {"UF_CRM_DOCS": [{"id": docs[0]}, {"id": docs[1], "remove": "Y"},
                                                        {"fileData": ["d.txt", "AA=="]}, {"id": 999_999}]}}),
        )
        .await;
    r.result();
    let lead = get_lead(&app, id).await;
    let now: Vec<i64> = lead["UF_CRM_DOCS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(now.len(), 2);
    assert_eq!(now[0], docs[0]);
    assert!(now[1] > docs[1]);
    assert_eq!(filtered(&app, json!({"UF_CRM_DOCS": docs[0]})).await, [id]);
    let r = app
        .call(
            "crm.lead.update",
            json!({"id": id, "fields": {"UF_CRM_DOC": {"id": file_id, "remove": "Y"}}}),
        )
        .await;
    r.result();
    assert_eq!(get_lead(&app, id).await["UF_CRM_DOC"], json!(null));
    app.call(
        "crm.lead.update",
        json!({"id": id, "fields": {"UF_CRM_DOC": {"fileData": ["x", "not base64!"]}}}),
    )
    .await
    .assert_error(400, "", "Invalid value for field UF_CRM_DOC.");
}

async fn fields_describe_user_fields(b: Backend) {
    let app = spawn_app(b).await;
    define(
        &app,
        json!({"FIELD_NAME": "KIND", "USER_TYPE_ID": "enumeration", "MULTIPLE": "Y", "MANDATORY": "Y",
               "LIST_COLUMN_LABEL": "Kind (list)", "EDIT_FORM_LABEL": "Kind", "LIST_FILTER_LABEL": "Kind?",
               "LIST": [{"VALUE": "a"}]}),
    )
    .await;
    define(
        &app,
        json!({"FIELD_NAME": "RO", "USER_TYPE_ID": "date", "EDIT_IN_LIST": "N"}),
    )
    .await;
    let r = app.call("crm.lead.fields", json!({})).await;
    let f = r.result();
    let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    assert_eq!(
        &keys[keys.len() - 3..],
        ["LINK", "UF_CRM_KIND", "UF_CRM_RO"]
    );
    let kind = &f["UF_CRM_KIND"];
    let option = kind["items"][0]["ID"].as_str().unwrap().to_string();
    assert_eq!(
        kind,
        &json!({"type": "enumeration", "isRequired": true, "isReadOnly": false, "isImmutable": false,
                "isMultiple": true, "isDynamic": true, "title": "UF_CRM_KIND", "listLabel": "Kind (list)",
                "formLabel": "Kind", "filterLabel": "Kind?",
                "settings": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"},
                "items": [{"ID": option, "VALUE": "a"}]})
    );
    assert_eq!(f["UF_CRM_RO"]["type"], json!("date"));
    assert_eq!(f["UF_CRM_RO"]["isReadOnly"], json!(true));
    assert_eq!(
        f["UF_CRM_RO"]["settings"],
        json!({"DEFAULT_VALUE": {"VALUE": "", "TYPE": "NONE"}})
    );
}

async fn deleting_a_field_deletes_its_values(b: Backend) {
    let app = spawn_app(b).await;
    let uf = define(
        &app,
        json!({"FIELD_NAME": "GONE", "USER_TYPE_ID": "string"}),
    )
    .await;
    define(
        &app,
        json!({"FIELD_NAME": "KEPT", "USER_TYPE_ID": "string"}),
    )
    .await;
    let id = app
        .add_lead(json!({"UF_CRM_GONE": "x", "UF_CRM_KEPT": "y"}))
        .await;
    let r = app
        .call("crm.lead.userfield.delete", json!({ "id": uf }))
        .await;
    assert_eq!(r.result(), &json!(true));
    let lead = get_lead(&app, id).await;
    assert!(lead.get("UF_CRM_GONE").is_none());
    assert_eq!(lead["UF_CRM_KEPT"], json!("y"));
    assert_eq!(
        filtered(&app, json!({"UF_CRM_GONE": "x"})).await,
        [id],
        "unknown key"
    );
    // Defined again, the field starts empty.
    define(
        &app,
        json!({"FIELD_NAME": "GONE", "USER_TYPE_ID": "string"}),
    )
    .await;
    assert_eq!(get_lead(&app, id).await["UF_CRM_GONE"], json!(null));
    assert_eq!(
        filtered(&app, json!({"UF_CRM_GONE": "x"})).await,
        Vec::<i64>::new()
    );
    app.call("crm.lead.userfield.delete", json!({ "id": uf }))
        .await
        .assert_error(
            400,
            "ERROR_NOT_FOUND",
            &format!("The entity with ID '{uf}' is not found"),
        );
}
