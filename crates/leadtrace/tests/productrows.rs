//! `crm.{lead,deal,quote}.productrows.get/set` over HTTP, on both backends: row shape, derived
//! prices, replace semantics, OPPORTUNITY recomputation (D11), errors, permissions, deletes.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    set_get_shape_and_derived_prices,
    replace_and_opportunity,
    errors,
    permissions,
    deleting_the_owner_removes_rows,
);

/// Row keys of `productrows.get` in the docs' order.
const ROW_KEYS: [&str; 28] = [
    "ID",
    "OWNER_ID",
    "OWNER_TYPE",
    "PRODUCT_ID",
    "PRODUCT_NAME",
    "ORIGINAL_PRODUCT_NAME",
    "PRODUCT_DESCRIPTION",
    "PRICE",
    "PRICE_EXCLUSIVE",
    "PRICE_NETTO",
    "PRICE_BRUTTO",
    "PRICE_ACCOUNT",
    "QUANTITY",
    "DISCOUNT_TYPE_ID",
    "DISCOUNT_RATE",
    "DISCOUNT_SUM",
    "TAX_RATE",
    "TAX_INCLUDED",
    "CUSTOMIZED",
    "MEASURE_CODE",
    "MEASURE_NAME",
    "SORT",
    "XML_ID",
    "TYPE",
    "STORE_ID",
    "RESERVE_ID",
    "DATE_RESERVE_END",
    "RESERVE_QUANTITY",
];

async fn rows(app: &TestApp, owner: &str, id: i64) -> Vec<Value> {
    let r = app
        .call(&format!("crm.{owner}.productrows.get"), json!({ "id": id }))
        .await;
    r.result()
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .clone()
}

async fn set_get_shape_and_derived_prices(b: Backend) {
    let app = spawn_app(b).await;
    for (owner, letter) in [("lead", "L"), ("deal", "D"), ("quote", "Q")] {
        let id = app.add(owner, json!({"TITLE": owner})).await;
        assert_eq!(rows(&app, owner, id).await, Vec::<Value>::new());
        // the docs' set example, plus a free row without a name
        let r = app
            .call(
                &format!("crm.{owner}.productrows.set"),
                json!({"id": id, "rows": [
                    {"PRODUCT_ID": 456, "PRICE": 1000, "QUANTITY": 10, "DISCOUNT_TYPE_ID": 1, "DISCOUNT_SUM": 100, "TAX_RATE": 13,
                     "MEASURE_CODE": 796, "MEASURE_NAME": "pcs", "SORT": 10},
                    {"PRODUCT_NAME": "Product #2", "PRICE": 500, "QUANTITY": 5, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 10,
                     "TAX_RATE": 10, "TAX_INCLUDED": "Y", "MEASURE_CODE": 166, "MEASURE_NAME": "kg", "SORT": 20},
                    {"PRICE": "2.5", "SORT": 15, "XML_ID": "ext-1", "TYPE": 7, "PRODUCT_DESCRIPTION": "free"}
                ]}),
            )
            .await;
        assert_eq!(r.result(), &json!(true), "{owner}");
        let got = rows(&app, owner, id).await;
        assert_eq!(got.len(), 3);
        for row in &got {
            let keys: Vec<&str> = row
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            assert_eq!(keys, ROW_KEYS);
            assert_eq!(row["OWNER_ID"], json!(id.to_string()));
            assert_eq!(row["OWNER_TYPE"], letter);
            assert!(row["ID"].is_string());
        }
        let (a, free, c) = (&got[0], &got[1], &got[2]);
        // ordered by SORT
        assert_eq!(a["SORT"], 10);
        assert_eq!(free["SORT"], 15);
        assert_eq!(c["SORT"], 20);
        assert_eq!(a["PRODUCT_ID"], 456);
        assert_eq!(
            a["PRODUCT_NAME"],
            json!(format!("[{}]", a["ID"].as_str().unwrap()))
        );
        assert_eq!(
            [
                &a["PRICE"],
                &a["PRICE_EXCLUSIVE"],
                &a["PRICE_NETTO"],
                &a["PRICE_BRUTTO"]
            ],
            [&json!(1000), &json!(1000), &json!(1100), &json!(1243)]
        );
        assert_eq!(a["PRICE_ACCOUNT"], "1000.00000000");
        assert_eq!(
            (
                &a["DISCOUNT_TYPE_ID"],
                &a["DISCOUNT_RATE"],
                &a["DISCOUNT_SUM"]
            ),
            (&json!(1), &json!(9.09), &json!(100))
        );
        assert_eq!(
            (&a["TAX_RATE"], &a["TAX_INCLUDED"]),
            (&json!(13), &json!("N"))
        );
        assert_eq!(a["QUANTITY"], 10);
        // 500 after 10 % off, 10 % tax included
        assert_eq!(c["PRODUCT_NAME"], "Product #2");
        assert_eq!(c["ORIGINAL_PRODUCT_NAME"], "Product #2");
        assert_eq!(
            [
                &c["PRICE"],
                &c["PRICE_EXCLUSIVE"],
                &c["PRICE_NETTO"],
                &c["PRICE_BRUTTO"],
                &c["DISCOUNT_SUM"]
            ],
            [
                &json!(500),
                &json!(454.55),
                &json!(505.05),
                &json!(555.56),
                &json!(50.51)
            ]
        );
        assert_eq!(
            (&c["MEASURE_CODE"], &c["MEASURE_NAME"]),
            (&json!(166), &json!("kg"))
        );
        // defaults of a bare row
        assert_eq!(free["PRICE"], 2.5);
        assert_eq!(free["QUANTITY"], 1);
        assert_eq!(free["PRODUCT_ID"], 0);
        assert_eq!(free["DISCOUNT_TYPE_ID"], 2);
        assert_eq!(free["TAX_RATE"], Value::Null);
        assert_eq!(
            (&free["MEASURE_CODE"], &free["MEASURE_NAME"]),
            (&json!(796), &json!("pcs"))
        );
        assert_eq!(
            (&free["TYPE"], &free["XML_ID"]),
            (&json!(7), &json!("ext-1"))
        );
        assert_eq!(free["PRODUCT_DESCRIPTION"], "free");
        assert_eq!(free["STORE_ID"], Value::Null);
        // OPPORTUNITY = Σ PRICE × QUANTITY
        let record = app.record(owner, id).await;
        assert_eq!(record["OPPORTUNITY"], "12502.50", "{owner}");
    }
}

async fn replace_and_opportunity(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({"OPPORTUNITY": 77})).await;
    let set = |rows: Value| {
        app.call(
            "crm.deal.productrows.set",
            json!({"id": deal, "rows": rows}),
        )
    };
    set(json!([{"PRICE": 10, "QUANTITY": 2}])).await.result();
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "20.00");
    let first = rows(&app, "deal", deal).await[0]["ID"].clone();
    // a set replaces every row (new ids)
    set(json!({"a": {"PRICE": 1.1, "QUANTITY": 3}, "b": {"PRICE": 0.5}}))
        .await
        .result();
    let now = rows(&app, "deal", deal).await;
    assert_eq!(now.len(), 2);
    assert!(now.iter().all(|r| r["ID"] != first));
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "3.80");
    // an empty set deletes the rows and keeps the amount
    set(json!([])).await.result();
    assert_eq!(rows(&app, "deal", deal).await, Vec::<Value>::new());
    assert_eq!(app.record("deal", deal).await["OPPORTUNITY"], "3.80");
    // a manual amount is never recomputed
    let manual = app
        .add(
            "lead",
            json!({"OPPORTUNITY": 500, "IS_MANUAL_OPPORTUNITY": "Y"}),
        )
        .await;
    app.call(
        "crm.lead.productrows.set",
        json!({"id": manual, "rows": [{"PRICE": 1}]}),
    )
    .await
    .result();
    let lead = app.record("lead", manual).await;
    assert_eq!(lead["OPPORTUNITY"], "500.00");
    assert_eq!(rows(&app, "lead", manual).await.len(), 1);
    // quotes have no manual flag: always recomputed
    let quote = app
        .add("quote", json!({"TITLE": "q", "OPPORTUNITY": 9}))
        .await;
    app.call(
        "crm.quote.productrows.set",
        json!({"id": quote, "rows": [{"PRICE": 4, "QUANTITY": 0.5}]}),
    )
    .await
    .result();
    assert_eq!(app.record("quote", quote).await["OPPORTUNITY"], "2.00");
    // rows of one owner are not another's, even where a lead and a quote share an id
    assert_eq!(rows(&app, "deal", deal).await, Vec::<Value>::new());
    let quote_rows = rows(&app, "quote", quote).await;
    assert_eq!(quote_rows.len(), 1);
    assert_eq!(quote_rows[0]["OWNER_TYPE"], "Q");
}

async fn errors(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({})).await;
    app.call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"PRICE": 5}]}),
    )
    .await
    .result();
    let call = |method: &'static str, params: Value| app.call(method, params);
    call("crm.deal.productrows.get", json!({}))
        .await
        .assert_error(400, "", "The parameter id is invalid or not defined.");
    call("crm.deal.productrows.set", json!({"id": "x", "rows": []}))
        .await
        .assert_error(400, "", "The parameter id is invalid or not defined.");
    call("crm.deal.productrows.set", json!({"id": deal}))
        .await
        .assert_error(400, "", "The parameter rows must be array.");
    call("crm.deal.productrows.set", json!({"id": deal, "rows": "x"}))
        .await
        .assert_error(400, "", "The parameter rows must be array.");
    call("crm.deal.productrows.get", json!({"id": 987654}))
        .await
        .assert_error(400, "", "Not found.");
    call(
        "crm.deal.productrows.set",
        json!({"id": 987654, "rows": []}),
    )
    .await
    .assert_error(400, "", "Not found.");
    call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"PRICE": 1}, {"PRICE": 100, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 100}]}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>",
    );
    call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"DISCOUNT_TYPE_ID": 2}]}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined.<br>",
    );
    call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"DISCOUNT_TYPE_ID": 1}]}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined.<br>",
    );
    // nothing was replaced by the failed calls
    let kept = rows(&app, "deal", deal).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["PRICE"], 5);
    // contacts and companies have no product rows
    call("crm.contact.productrows.get", json!({"id": 1}))
        .await
        .assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
}

async fn permissions(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app
        .user_with_rights("reader", Some("deal=read:all"), &["crm"])
        .await;
    let deal = app.add("deal", json!({})).await;
    app.call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"PRICE": 3}]}),
    )
    .await
    .result();
    let r = app
        .call_at(&hook, "crm.deal.productrows.get", json!({"id": deal}))
        .await;
    assert_eq!(r.result().as_array().unwrap().len(), 1);
    app.call_at(
        &hook,
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": []}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    app.call_at(&hook, "crm.lead.productrows.get", json!({"id": deal}))
        .await
        .assert_error(400, "", "Access denied.");
    assert_eq!(rows(&app, "deal", deal).await.len(), 1);
}

async fn deleting_the_owner_removes_rows(b: Backend) {
    let app = spawn_app(b).await;
    for owner in ["lead", "deal", "quote"] {
        let doomed = app.add(owner, json!({"TITLE": "doomed"})).await;
        let kept = app.add(owner, json!({"TITLE": "kept"})).await;
        for id in [doomed, kept] {
            app.call(
                &format!("crm.{owner}.productrows.set"),
                json!({"id": id, "rows": [{"PRICE": 1}, {"PRICE": 2}]}),
            )
            .await
            .result();
        }
        let row_ids: Vec<i64> = rows(&app, owner, doomed)
            .await
            .iter()
            .map(|r| r["ID"].as_str().unwrap().parse().unwrap())
            .collect();
        app.call(&format!("crm.{owner}.delete"), json!({"id": doomed}))
            .await
            .result();
        for row_id in row_ids {
            let left = app
                .running
                .state
                .store()
                .read(move |tx| {
                    Box::pin(async move { crm::Storage::product_row(tx, 1, row_id).await })
                })
                .await
                .unwrap();
            assert!(left.is_none(), "{owner} row {row_id} left behind");
        }
        assert_eq!(rows(&app, owner, kept).await.len(), 2, "{owner}");
    }
}
