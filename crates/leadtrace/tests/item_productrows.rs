//! `crm.item.productrow.*` over HTTP, on both backends: the universal view of the same rows as
//! `crm.{lead,deal,quote}.productrows.*` — camelCase, typed, one row at a time, coded errors.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_update_delete,
    set_keeps_ids_and_replaces,
    list_filter_order_paging,
    errors_and_permissions,
);

async fn add_row(app: &TestApp, fields: Value) -> Value {
    let r = app
        .call("crm.item.productrow.add", json!({ "fields": fields }))
        .await;
    r.result()["productRow"].clone()
}

async fn add_get_update_delete(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({"TITLE": "d"})).await;
    let row = add_row(
        &app,
        json!({"ownerId": deal, "ownerType": "D", "productId": 9621, "productName": "iphone 14", "price": 80000,
               "quantity": 2, "discountTypeId": 2, "discountRate": 20, "taxRate": 20, "taxIncluded": "Y",
               "measureCode": 796, "sort": 10}),
    )
    .await;
    let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "ownerId",
            "ownerType",
            "productId",
            "productName",
            "price",
            "priceAccount",
            "priceExclusive",
            "priceNetto",
            "priceBrutto",
            "quantity",
            "discountTypeId",
            "discountRate",
            "discountSum",
            "taxRate",
            "taxIncluded",
            "taxName",
            "customized",
            "measureCode",
            "measureName",
            "sort",
            "xmlId",
            "type",
            "storeId"
        ]
    );
    let id = row["id"].as_i64().expect("a JSON number");
    assert_eq!(row["ownerId"], json!(deal));
    assert_eq!(row["ownerType"], "D");
    assert_eq!(row["priceNetto"], json!(83333.33));
    assert_eq!(row["priceBrutto"], json!(100000));
    assert_eq!(row["discountSum"], json!(16666.67));
    assert_eq!(row["measureName"], "pcs");
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "160000.00");
    // the legacy view shows the same row
    let legacy = app
        .call("crm.deal.productrows.get", json!({"id": deal}))
        .await;
    assert_eq!(legacy.result()[0]["ID"], json!(id.to_string()));
    assert_eq!(legacy.result()[0]["PRICE_NETTO"], json!(83333.33));

    let got = app.call("crm.item.productrow.get", json!({"id": id})).await;
    assert_eq!(got.result()["productRow"], row);

    // update: only what is given changes, the rest is recomputed
    let r = app
        .call(
            "crm.item.productrow.update",
            json!({"id": id, "fields": {"price": 40000, "quantity": 1, "priceNetto": 1, "ownerId": 999}}),
        )
        .await;
    let updated = r.result()["productRow"].clone();
    assert_eq!(updated["price"], json!(40000));
    assert_eq!(updated["discountRate"], json!(20));
    assert_eq!(updated["priceNetto"], json!(41666.67));
    assert_eq!(updated["ownerId"], json!(deal), "the owner cannot change");
    assert_eq!(updated["productName"], "iphone 14");
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "40000.00");
    let r = app
        .call(
            "crm.item.productrow.update",
            json!({"id": id, "fields": {}}),
        )
        .await;
    assert_eq!(r.result(), &Value::Null, "an empty update changes nothing");
    app.call(
        "crm.item.productrow.update",
        json!({"id": id, "fields": {"priceNetto": 5, "xmlId": "x"}}),
    )
    .await
    .assert_error(400, "INVALID_ARG_VALUE", "No fields to update");

    // a second row, then delete the first
    let second = add_row(
        &app,
        json!({"ownerId": deal, "ownerType": "d", "productName": "cable", "price": 10, "taxName": "VAT 0"}),
    )
    .await;
    assert_eq!(second["taxName"], "VAT 0");
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "40010.00");
    let r = app
        .call("crm.item.productrow.delete", json!({"id": id}))
        .await;
    assert_eq!(r.result(), &Value::Null);
    app.call("crm.item.productrow.delete", json!({"id": id}))
        .await
        .assert_error(400, "NOT_FOUND", "Item not found");
    app.call("crm.item.productrow.get", json!({"id": id}))
        .await
        .assert_error(400, "NOT_FOUND", "Item not found");
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "10.00");
}

async fn set_keeps_ids_and_replaces(b: Backend) {
    let app = spawn_app(b).await;
    let quote = app.add("quote", json!({"TITLE": "q"})).await;
    let a = add_row(
        &app,
        json!({"ownerId": quote, "ownerType": "Q", "productName": "a", "price": 1}),
    )
    .await;
    let bb = add_row(
        &app,
        json!({"ownerId": quote, "ownerType": "Q", "productName": "b", "price": 2}),
    )
    .await;
    let other_deal = app.add("deal", json!({})).await;
    let foreign = add_row(
        &app,
        json!({"ownerId": other_deal, "ownerType": "D", "productName": "f", "price": 3}),
    )
    .await;
    let r = app
        .call(
            "crm.item.productrow.set",
            json!({"ownerType": "Q", "ownerId": quote, "productRows": [
                {"id": a["id"], "productName": "a2", "price": 5, "sort": 20},
                {"id": foreign["id"], "productName": "new one", "price": 7, "sort": 10}
            ]}),
        )
        .await;
    let rows = r.result()["productRows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["productName"], "new one");
    assert_ne!(
        rows[0]["id"], foreign["id"],
        "an id of another owner makes a new row"
    );
    assert_eq!(rows[1]["id"], a["id"], "an own id keeps its row");
    assert_eq!(rows[1]["productName"], "a2");
    app.call("crm.item.productrow.get", json!({"id": bb["id"]}))
        .await
        .assert_error(400, "NOT_FOUND", "Item not found");
    assert_eq!(app.record("quote", quote).await["OPPORTUNITY"], "12.00");
    // the foreign row is untouched
    let f = app
        .call("crm.item.productrow.get", json!({"id": foreign["id"]}))
        .await;
    assert_eq!(f.result()["productRow"]["productName"], "f");
    // an invalid row changes nothing
    app.call(
        "crm.item.productrow.set",
        json!({"ownerType": "Q", "ownerId": quote, "productRows": [{"productName": "x"}, {"discountTypeId": 1}]}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined.<br>",
    );
    let r = app
        .call(
            "crm.item.productrow.list",
            json!({"filter": {"=ownerType": "Q", "=ownerId": quote}}),
        )
        .await;
    assert_eq!(r.result()["productRows"].as_array().unwrap().len(), 2);
    // an empty set deletes every row
    let r = app
        .call(
            "crm.item.productrow.set",
            json!({"ownerType": "Q", "ownerId": quote, "productRows": []}),
        )
        .await;
    assert_eq!(r.result(), &json!({"productRows": []}));
}

async fn list_filter_order_paging(b: Backend) {
    let app = spawn_app(b).await;
    let lead = app.add_lead(json!({"TITLE": "many"})).await;
    let rows: Vec<Value> = (0..60)
        .map(|i| json!({"PRODUCT_NAME": format!("r{i:02}"), "PRICE": i, "SORT": 60 - i, "PRODUCT_ID": i % 3}))
        .collect();
    app.call(
        "crm.lead.productrows.set",
        json!({"id": lead, "rows": rows}),
    )
    .await
    .result();
    let list = |params: Value| app.call("crm.item.productrow.list", params);
    let owner = json!({"=ownerType": "L", "=ownerId": lead});
    let r = list(json!({ "filter": owner })).await;
    let page = r.result()["productRows"].as_array().unwrap();
    assert_eq!(page.len(), 50);
    assert_eq!(page[0]["productName"], "r59", "sort ascending by default");
    assert_eq!(
        (r.body["total"].clone(), r.body["next"].clone()),
        (json!(60), json!(50))
    );
    let r = list(json!({"filter": owner, "start": 50})).await;
    assert_eq!(r.result()["productRows"].as_array().unwrap().len(), 10);
    assert!(r.body.get("next").is_none());
    let r = list(json!({"filter": owner, "start": -1})).await;
    assert!(r.body.get("total").is_none());
    let r = list(json!({"filter": owner, "order": {"id": "desc"}})).await;
    let first = &r.result()["productRows"][0];
    assert_eq!(first["productName"], "r59");
    let ids: Vec<i64> = r.result()["productRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let (lo, hi) = (ids[49], ids[48]);
    let mut f = owner.clone();
    f[">id"] = json!(ids[2]);
    assert_eq!(
        list(json!({ "filter": f })).await.result()["productRows"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mut f = owner.clone();
    f["@id"] = json!([lo, hi, 999999]);
    f["price"] = json!(12345);
    assert_eq!(
        list(json!({ "filter": f })).await.result()["productRows"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "unindexed fields are ignored"
    );
    let mut f = owner.clone();
    f["productId"] = json!(1);
    assert_eq!(list(json!({ "filter": f })).await.body["total"], json!(20));
    let mut f = owner.clone();
    f["!=productId"] = json!(1);
    assert_eq!(list(json!({ "filter": f })).await.body["total"], json!(40));
    let mut f = owner.clone();
    f[">=id"] = json!([1]);
    list(json!({ "filter": f })).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid filter: field 'id' has invalid value",
    );
}

async fn errors_and_permissions(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({})).await;
    let contact = app.add("contact", json!({})).await;
    app.call("crm.item.productrow.add", json!({}))
        .await
        .assert_error(400, "100", "Could not find value for parameter {fields}");
    app.call(
        "crm.item.productrow.add",
        json!({"fields": {"ownerType": "D", "price": 1}}),
    )
    .await
    .assert_error(400, "100", "Could not find value for parameter {ownerId}");
    app.call(
        "crm.item.productrow.add",
        json!({"fields": {"ownerType": "C", "ownerId": contact}}),
    )
    .await
    .assert_error(
        400,
        "ENTITY_TYPE_NOT_SUPPORTED",
        "Product rows are not supported for this entity type",
    );
    app.call(
        "crm.item.productrow.add",
        json!({"fields": {"ownerType": "D", "ownerId": 987654}}),
    )
    .await
    .assert_error(400, "OWNER_NOT_FOUND", "Owner was not found");
    app.call("crm.item.productrow.get", json!({}))
        .await
        .assert_error(400, "100", "Could not find value for parameter {id}");
    app.call(
        "crm.item.productrow.set",
        json!({"ownerType": "D", "ownerId": deal}),
    )
    .await
    .assert_error(
        400,
        "100",
        "Could not find value for parameter {productRows}",
    );
    app.call(
        "crm.item.productrow.list",
        json!({"filter": {"=ownerId": deal}}),
    )
    .await
    .assert_error(
        400,
        "REQUIRED_ARG_MISSING",
        "The filter must contain =ownerType and =ownerId",
    );
    app.call(
        "crm.item.productrow.list",
        json!({"filter": {"=ownerType": "D", "=ownerId": 987654}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    let fields = app.call("crm.item.productrow.fields", json!({})).await;
    let f = fields.result()["fields"].as_object().unwrap();
    assert_eq!(f.len(), 22);
    assert_eq!(f["ownerType"]["isImmutable"], true);
    assert_eq!(f["priceNetto"]["isReadOnly"], true);

    let row = add_row(
        &app,
        json!({"ownerType": "D", "ownerId": deal, "productName": "x", "price": 3}),
    )
    .await;
    let (_, hook) = app
        .user_with_rights("viewer", Some("deal=read:all"), &["crm"])
        .await;
    let r = app
        .call_at(&hook, "crm.item.productrow.get", json!({"id": row["id"]}))
        .await;
    assert_eq!(r.result()["productRow"]["price"], json!(3));
    let r = app
        .call_at(
            &hook,
            "crm.item.productrow.list",
            json!({"filter": {"=ownerType": "D", "=ownerId": deal}}),
        )
        .await;
    assert_eq!(r.body["total"], json!(1));
    app.call_at(
        &hook,
        "crm.item.productrow.add",
        json!({"fields": {"ownerType": "D", "ownerId": deal, "price": 1}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    app.call_at(
        &hook,
        "crm.item.productrow.delete",
        json!({"id": row["id"]}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    app.call_at(
        &hook,
        "crm.item.productrow.update",
        json!({"id": row["id"], "fields": {"price": 9}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied");
    // leads are absent in simple CRM mode, their rows too
    let lead = app.add_lead(json!({})).await;
    let lead_row = add_row(&app, json!({"ownerType": "L", "ownerId": lead, "price": 1})).await;
    app.running
        .state
        .store()
        .write(|tx| Box::pin(async move { tx.set_portal_setting(1, "crm_mode", "simple").await }))
        .await
        .unwrap();
    app.call("crm.item.productrow.get", json!({"id": lead_row["id"]}))
        .await
        .assert_error(400, "NOT_FOUND", "Item not found");
    app.call(
        "crm.item.productrow.add",
        json!({"fields": {"ownerType": "L", "ownerId": lead}}),
    )
    .await
    .assert_error(400, "OWNER_NOT_FOUND", "Owner was not found");
}
