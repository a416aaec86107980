//! Contact and company bindings over HTTP, on both backends: `crm.{lead,deal,quote}.contact.*`,
//! `crm.company.contact.*` and `crm.contact.company.*` (one relation, two sides), their errors,
//! permissions, and the owner's `CONTACT_ID` / `COMPANY_ID` kept in step.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    contact_bindings_of_leads_deals_quotes,
    errors,
    company_contact_is_one_relation,
    binding_fields_on_add_and_update,
    permissions,
);

/// `items.get` as (id, SORT, IS_PRIMARY), checking the item shape on the way.
async fn items(app: &TestApp, method: &str, id: i64, key: &str) -> Vec<(i64, i64, String)> {
    let r = app.call(method, json!({ "id": id })).await;
    r.result()
        .as_array()
        .unwrap_or_else(|| panic!("{method}: {}", r.body))
        .iter()
        .map(|item| {
            let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
            assert_eq!(keys, [key, "SORT", "ROLE_ID", "IS_PRIMARY"]);
            assert_eq!(item["ROLE_ID"], json!(0));
            (
                item[key].as_i64().expect("a JSON number"),
                item["SORT"].as_i64().expect("a JSON number"),
                item["IS_PRIMARY"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn y(id: i64, sort: i64, primary: bool) -> (i64, i64, String) {
    (id, sort, if primary { "Y" } else { "N" }.to_string())
}

async fn contact_bindings_of_leads_deals_quotes(b: Backend) {
    let app = spawn_app(b).await;
    let c1 = app.add("contact", json!({"NAME": "one"})).await;
    let c2 = app.add("contact", json!({"NAME": "two"})).await;
    let c3 = app.add("contact", json!({"NAME": "three"})).await;
    for owner in ["lead", "deal", "quote"] {
        let id = app.add(owner, json!({"TITLE": owner})).await;
        let m = |op: &str| format!("crm.{owner}.contact.{op}");
        let get_items = m("items.get");
        macro_rules! items_of {
            () => {
                items(&app, &get_items, id, "CONTACT_ID")
            };
        }
        macro_rules! primary {
            () => {
                app.record(owner, id).await["CONTACT_ID"].clone()
            };
        }
        assert_eq!(items_of!().await, vec![], "{owner}");

        let ok = app
            .call(&m("add"), json!({"id": id, "fields": {"CONTACT_ID": c1}}))
            .await;
        assert_eq!(ok.result(), &json!(true));
        assert_eq!(
            items_of!().await,
            vec![y(c1, 10, true)],
            "first one is primary"
        );
        assert_eq!(primary!(), json!(c1.to_string()));
        if owner == "lead" {
            assert_eq!(app.record("lead", id).await["IS_RETURN_CUSTOMER"], "Y");
        }

        app.call(
            &m("add"),
            json!({"id": id, "fields": {"CONTACT_ID": c2, "SORT": 5, "IS_PRIMARY": "Y"}}),
        )
        .await
        .result();
        assert_eq!(items_of!().await, vec![y(c2, 5, true), y(c1, 10, false)]);
        assert_eq!(primary!(), json!(c2.to_string()));
        // adding a bound contact again changes its SORT; IS_PRIMARY N cannot leave none
        app.call(
            &m("add"),
            json!({"id": id, "fields": {"CONTACT_ID": c2, "SORT": 30, "IS_PRIMARY": "N"}}),
        )
        .await
        .result();
        assert_eq!(items_of!().await, vec![y(c1, 10, false), y(c2, 30, true)]);

        app.call(
            &m("delete"),
            json!({"id": id, "fields": {"CONTACT_ID": c2}}),
        )
        .await
        .result();
        assert_eq!(
            items_of!().await,
            vec![y(c1, 10, true)],
            "next one becomes primary"
        );
        assert_eq!(primary!(), json!(c1.to_string()));
        // deleting a contact that is not bound is no error
        assert_eq!(
            app.call(
                &m("delete"),
                json!({"id": id, "fields": {"CONTACT_ID": c3}})
            )
            .await
            .result(),
            &json!(true)
        );

        app.call(
            &m("items.set"),
            json!({"id": id, "items": [{"CONTACT_ID": c3, "SORT": 20}, {"CONTACT_ID": c1, "SORT": 10, "IS_PRIMARY": "Y"}, {"CONTACT_ID": c2}]}),
        )
        .await
        .result();
        assert_eq!(
            items_of!().await,
            vec![y(c1, 10, true), y(c2, 10, false), y(c3, 20, false)]
        );
        // without a primary in the set, the first item is
        app.call(
            &m("items.set"),
            json!({"id": id, "items": {"0": {"CONTACT_ID": c3, "SORT": 50}, "1": {"CONTACT_ID": c2, "SORT": 40}}}),
        )
        .await
        .result();
        assert_eq!(items_of!().await, vec![y(c2, 40, false), y(c3, 50, true)]);
        assert_eq!(primary!(), json!(c3.to_string()));

        let record = app.record(owner, id).await;
        assert!(record.get("CONTACT_IDS").is_none(), "write-only (D5)");
        assert_ne!(record["DATE_MODIFY"], "");

        app.call(&m("items.delete"), json!({"id": id}))
            .await
            .result();
        assert_eq!(items_of!().await, vec![]);
        assert_eq!(primary!(), Value::Null);
        if owner == "lead" {
            assert_eq!(app.record("lead", id).await["IS_RETURN_CUSTOMER"], "N");
        }
        // an empty set is allowed too
        app.call(&m("items.set"), json!({"id": id, "items": []}))
            .await
            .result();

        let f = app.call(&m("fields"), json!({})).await;
        assert_eq!(
            f.result(),
            &json!({
                "SORT": {"type": "integer", "isRequired": false, "isReadOnly": false, "isImmutable": false, "isMultiple": false, "isDynamic": false, "title": "Sorting"},
                "IS_PRIMARY": {"type": "char", "isRequired": false, "isReadOnly": false, "isImmutable": false, "isMultiple": false, "isDynamic": false, "title": "Primary"},
                "CONTACT_ID": {"type": "integer", "isRequired": true, "isReadOnly": false, "isImmutable": false, "isMultiple": false, "isDynamic": false, "title": "Contact"},
                "ROLE_ID": {"type": "integer", "isRequired": false, "isReadOnly": true, "isImmutable": false, "isMultiple": false, "isDynamic": false, "title": "Role"}
            })
        );
    }
}

async fn errors(b: Backend) {
    let app = spawn_app(b).await;
    let deal = app.add("deal", json!({"TITLE": "d"})).await;
    let c = app.add("contact", json!({"NAME": "c"})).await;
    app.call(
        "crm.deal.contact.add",
        json!({"id": deal, "fields": {"CONTACT_ID": c}}),
    )
    .await
    .result();
    macro_rules! call {
        ($m:expr, $p:expr $(,)?) => {
            app.call($m, $p)
        };
    }
    call!("crm.deal.contact.add", json!({"fields": {"CONTACT_ID": c}}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    call!("crm.deal.contact.items.get", json!({"id": 0}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    call!("crm.deal.contact.items.get", json!({"id": 777777}))
        .await
        .assert_error(400, "NOT_FOUND", "Not found.");
    call!(
        "crm.deal.contact.add",
        json!({"id": 777777, "fields": {"CONTACT_ID": c}}),
    )
    .await
    .assert_error(400, "NOT_FOUND", "Not found.");
    call!(
        "crm.deal.contact.add",
        json!({"id": deal, "fields": {"CONTACT_ID": 777777}}),
    )
    .await
    .assert_error(400, "NOT_FOUND", "Not found.");
    call!("crm.deal.contact.add", json!({"id": deal}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    call!(
        "crm.deal.contact.add",
        json!({"id": deal, "fields": {"SORT": 10}}),
    )
    .await
    .assert_error(400, "", "The parameter 'fields' must contain CONTACT_ID.");
    call!(
        "crm.deal.contact.delete",
        json!({"id": deal, "fields": {"CONTACT_ID": "x"}}),
    )
    .await
    .assert_error(400, "", "The parameter 'fields' must contain CONTACT_ID.");
    call!(
        "crm.deal.contact.delete",
        json!({"id": deal, "fields": {"CONTACT_ID": 777777}}),
    )
    .await
    .assert_error(400, "NOT_FOUND", "Not found.");
    call!(
        "crm.deal.contact.items.set",
        json!({"id": deal, "items": "x"})
    )
    .await
    .assert_error(400, "", "Parameter 'items' must be array.");
    call!("crm.deal.contact.items.set", json!({"id": deal}))
        .await
        .assert_error(400, "", "Parameter 'items' must be array.");
    call!(
        "crm.deal.contact.items.set",
        json!({"id": deal, "items": [{"SORT": 1}]}),
    )
    .await
    .assert_error(400, "", "The parameter 'items' must contain CONTACT_ID.");
    call!(
        "crm.deal.contact.items.set",
        json!({"id": deal, "items": [{"CONTACT_ID": 777777}]}),
    )
    .await
    .assert_error(400, "NOT_FOUND", "Not found.");
    call!("crm.deal.contact.items.delete", json!({"id": 777777}))
        .await
        .assert_error(400, "NOT_FOUND", "Not found.");
    call!(
        "crm.contact.company.add",
        json!({"id": c, "fields": {"CONTACT_ID": 1}}),
    )
    .await
    .assert_error(400, "", "The parameter 'fields' must contain COMPANY_ID.");
    // none of the failed calls changed the binding
    assert_eq!(
        items(&app, "crm.deal.contact.items.get", deal, "CONTACT_ID").await,
        vec![y(c, 10, true)]
    );
    // no such sub-family for deals' companies
    call!("crm.deal.company.items.get", json!({"id": deal}))
        .await
        .assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
}

async fn company_contact_is_one_relation(b: Backend) {
    let app = spawn_app(b).await;
    let co1 = app.add("company", json!({"TITLE": "one"})).await;
    let co2 = app.add("company", json!({"TITLE": "two"})).await;
    let c1 = app.add("contact", json!({"NAME": "c1"})).await;
    let c2 = app.add("contact", json!({"NAME": "c2"})).await;
    let contacts_of = |co| items(&app, "crm.company.contact.items.get", co, "CONTACT_ID");
    let companies_of = |c| items(&app, "crm.contact.company.items.get", c, "COMPANY_ID");

    app.call(
        "crm.company.contact.add",
        json!({"id": co1, "fields": {"CONTACT_ID": c1, "SORT": 30}}),
    )
    .await
    .result();
    assert_eq!(contacts_of(co1).await, vec![y(c1, 30, true)]);
    assert_eq!(
        companies_of(c1).await,
        vec![y(co1, 10, true)],
        "the other side, own SORT"
    );
    assert_eq!(
        app.record("contact", c1).await["COMPANY_ID"],
        json!(co1.to_string())
    );

    // the contact's side: a second company, made primary there only
    app.call(
        "crm.contact.company.add",
        json!({"id": c1, "fields": {"COMPANY_ID": co2, "IS_PRIMARY": "Y", "SORT": 20}}),
    )
    .await
    .result();
    assert_eq!(
        companies_of(c1).await,
        vec![y(co1, 10, false), y(co2, 20, true)]
    );
    assert_eq!(
        app.record("contact", c1).await["COMPANY_ID"],
        json!(co2.to_string())
    );
    assert_eq!(contacts_of(co2).await, vec![y(c1, 10, true)]);
    assert_eq!(
        contacts_of(co1).await,
        vec![y(c1, 30, true)],
        "primary is per side"
    );

    app.call(
        "crm.contact.company.items.set",
        json!({"id": c2, "items": [{"COMPANY_ID": co1}, {"COMPANY_ID": co2}]}),
    )
    .await
    .result();
    assert_eq!(
        contacts_of(co1).await,
        vec![y(c2, 10, false), y(c1, 30, true)]
    );
    assert_eq!(
        app.record("contact", c2).await["COMPANY_ID"],
        json!(co1.to_string())
    );

    // removing from the company's side removes the contact's side too
    app.call(
        "crm.company.contact.delete",
        json!({"id": co2, "fields": {"CONTACT_ID": c1}}),
    )
    .await
    .result();
    assert_eq!(companies_of(c1).await, vec![y(co1, 10, true)]);
    assert_eq!(
        app.record("contact", c1).await["COMPANY_ID"],
        json!(co1.to_string())
    );
    app.call("crm.company.contact.items.delete", json!({"id": co1}))
        .await
        .result();
    assert_eq!(companies_of(c1).await, vec![]);
    assert_eq!(companies_of(c2).await, vec![y(co2, 10, true)]);
    assert_eq!(app.record("contact", c1).await["COMPANY_ID"], Value::Null);
    assert_eq!(
        app.record("contact", c2).await["COMPANY_ID"],
        json!(co2.to_string())
    );

    let f = app.call("crm.contact.company.fields", json!({})).await;
    assert_eq!(f.result()["COMPANY_ID"]["title"], "Company");
    assert_eq!(f.result()["COMPANY_ID"]["isRequired"], true);
    let f = app.call("crm.company.contact.fields", json!({})).await;
    assert_eq!(f.result()["CONTACT_ID"]["isRequired"], true);
}

async fn binding_fields_on_add_and_update(b: Backend) {
    let app = spawn_app(b).await;
    let c1 = app.add("contact", json!({"NAME": "c1"})).await;
    let c2 = app.add("contact", json!({"NAME": "c2"})).await;
    let c3 = app.add("contact", json!({"NAME": "c3"})).await;
    let deal = app
        .add("deal", json!({"CONTACT_IDS": [c2, c1, 424242]}))
        .await;
    let of_deal = || items(&app, "crm.deal.contact.items.get", deal, "CONTACT_ID");
    assert_eq!(of_deal().await, vec![y(c2, 10, true), y(c1, 20, false)]);
    assert_eq!(
        app.record("deal", deal).await["CONTACT_ID"],
        json!(c2.to_string())
    );
    // the single field makes its contact primary and keeps the others
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"CONTACT_ID": c3}}),
    )
    .await
    .result();
    assert_eq!(
        of_deal().await,
        vec![y(c2, 10, false), y(c3, 10, true), y(c1, 20, false)]
    );
    assert_eq!(
        app.record("deal", deal).await["CONTACT_ID"],
        json!(c3.to_string())
    );
    // an unknown single id changes nothing; a blank one clears
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"CONTACT_ID": 424242}}),
    )
    .await
    .result();
    assert_eq!(
        app.record("deal", deal).await["CONTACT_ID"],
        json!(c3.to_string())
    );
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"CONTACT_ID": ""}}),
    )
    .await
    .result();
    assert_eq!(of_deal().await, vec![]);
    // CONTACT_IDS wins over CONTACT_ID in the same call
    app.call(
        "crm.deal.update",
        json!({"id": deal, "fields": {"CONTACT_ID": c1, "CONTACT_IDS": [c3]}}),
    )
    .await
    .result();
    assert_eq!(of_deal().await, vec![y(c3, 10, true)]);
    // the company's multiple CONTACT_ID and the contact's COMPANY_IDS
    let co = app
        .add("company", json!({"TITLE": "co", "CONTACT_ID": [c1, c2]}))
        .await;
    assert_eq!(
        items(&app, "crm.company.contact.items.get", co, "CONTACT_ID").await,
        vec![y(c1, 10, true), y(c2, 20, false)]
    );
    assert_eq!(
        app.record("contact", c2).await["COMPANY_ID"],
        json!(co.to_string())
    );
    let co2 = app.add("company", json!({"TITLE": "co2"})).await;
    app.call(
        "crm.contact.update",
        json!({"id": c2, "fields": {"COMPANY_IDS": [co2]}}),
    )
    .await
    .result();
    assert_eq!(
        items(&app, "crm.company.contact.items.get", co, "CONTACT_ID").await,
        vec![y(c1, 10, true)]
    );
    assert_eq!(
        app.record("contact", c2).await["COMPANY_ID"],
        json!(co2.to_string())
    );
    let c = app.record("company", co).await;
    assert!(c.get("CONTACT_ID").is_none(), "write-only on companies");
}

async fn permissions(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights(
            "binder",
            Some("deal=read:own,update:own;contact=read:all;lead=read:all"),
            &["crm"],
        )
        .await;
    let mine = app
        .add("deal", json!({"TITLE": "mine", "ASSIGNED_BY_ID": uid}))
        .await;
    let theirs = app.add("deal", json!({"TITLE": "theirs"})).await;
    let c = app.add("contact", json!({"NAME": "c"})).await;
    let lead = app.add_lead(json!({"TITLE": "read only"})).await;
    macro_rules! at {
        ($m:expr, $p:expr $(,)?) => {
            app.call_at(&hook, $m, $p)
        };
    }
    at!(
        "crm.deal.contact.add",
        json!({"id": mine, "fields": {"CONTACT_ID": c}}),
    )
    .await
    .result();
    assert_eq!(
        at!("crm.deal.contact.items.get", json!({"id": mine}))
            .await
            .result()[0]["CONTACT_ID"],
        json!(c)
    );
    at!("crm.deal.contact.items.get", json!({"id": theirs}))
        .await
        .assert_error(400, "ACCESS_DENIED", "Access denied.");
    at!(
        "crm.deal.contact.add",
        json!({"id": theirs, "fields": {"CONTACT_ID": c}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied.");
    at!("crm.deal.contact.items.delete", json!({"id": theirs}))
        .await
        .assert_error(400, "ACCESS_DENIED", "Access denied.");
    // reading a lead is enough to list its contacts, not to change them
    assert_eq!(
        at!("crm.lead.contact.items.get", json!({"id": lead}))
            .await
            .result(),
        &json!([])
    );
    at!(
        "crm.lead.contact.add",
        json!({"id": lead, "fields": {"CONTACT_ID": c}}),
    )
    .await
    .assert_error(400, "ACCESS_DENIED", "Access denied.");
    at!("crm.quote.contact.items.get", json!({"id": 1}))
        .await
        .assert_error(400, "ACCESS_DENIED", "Access denied.");
    assert!(
        app.call("crm.deal.contact.items.get", json!({"id": theirs}))
            .await
            .result()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was bound by the refused calls"
    );
}
