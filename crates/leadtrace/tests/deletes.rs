//! Deleting a lead, deal, contact, company or quote over HTTP, on both backends: what hangs on
//! it goes, bindings that point at a deleted contact or company go, and the records they leave
//! keep consistent primary fields (`CONTACT_ID`, `COMPANY_ID`).

mod common;
use common::*;
use crm::{Binding, EntityKind};
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    deleting_a_contact_reelects_primaries,
    deleting_a_company_clears_references,
    deleting_an_owner_removes_its_bindings,
);

/// The stored bindings of one record (read straight from storage).
async fn bindings(app: &TestApp, owner: EntityKind, id: i64, bound: EntityKind) -> Vec<Binding> {
    app.running
        .state
        .store()
        .read(move |tx| {
            Box::pin(async move { crm::Storage::bindings(tx, owner, 1, id, bound).await })
        })
        .await
        .unwrap()
}

fn ids(list: &[Binding]) -> Vec<(i64, bool)> {
    list.iter().map(|b| (b.id, b.primary)).collect()
}

async fn deleting_a_contact_reelects_primaries(b: Backend) {
    let app = spawn_app(b).await;
    let c1 = app.add("contact", json!({"NAME": "one"})).await;
    let c2 = app.add("contact", json!({"NAME": "two"})).await;
    let deal = app.add("deal", json!({"CONTACT_IDS": [c1, c2]})).await;
    let lead = app.add_lead(json!({"CONTACT_ID": c1})).await;
    let quote = app
        .add("quote", json!({"TITLE": "q", "CONTACT_IDS": [c2, c1]}))
        .await;
    assert_eq!(
        app.record("deal", deal).await["CONTACT_ID"],
        json!(c1.to_string())
    );
    assert_eq!(app.record("lead", lead).await["IS_RETURN_CUSTOMER"], "Y");
    assert_eq!(
        ids(&bindings(&app, EntityKind::Quote, quote, EntityKind::Contact).await),
        vec![(c2, true), (c1, false)]
    );

    app.call("crm.contact.delete", json!({"id": c1}))
        .await
        .result();
    // the deal's next contact becomes primary; the lead has none left
    assert_eq!(
        app.record("deal", deal).await["CONTACT_ID"],
        json!(c2.to_string())
    );
    assert_eq!(
        ids(&bindings(&app, EntityKind::Deal, deal, EntityKind::Contact).await),
        vec![(c2, true)]
    );
    let l = app.record("lead", lead).await;
    assert_eq!(
        (&l["CONTACT_ID"], &l["IS_RETURN_CUSTOMER"]),
        (&Value::Null, &json!("N"))
    );
    assert!(bindings(&app, EntityKind::Lead, lead, EntityKind::Contact)
        .await
        .is_empty());
    assert_eq!(
        ids(&bindings(&app, EntityKind::Quote, quote, EntityKind::Contact).await),
        vec![(c2, true)]
    );
    assert_eq!(
        app.record("quote", quote).await["CONTACT_ID"],
        json!(c2.to_string())
    );

    app.call("crm.contact.delete", json!({"id": c2}))
        .await
        .result();
    assert_eq!(app.record("deal", deal).await["CONTACT_ID"], Value::Null);
    assert!(bindings(&app, EntityKind::Deal, deal, EntityKind::Contact)
        .await
        .is_empty());
}

async fn deleting_a_company_clears_references(b: Backend) {
    let app = spawn_app(b).await;
    let co1 = app.add("company", json!({"TITLE": "one"})).await;
    let co2 = app.add("company", json!({"TITLE": "two"})).await;
    let contact = app
        .add("contact", json!({"NAME": "c", "COMPANY_IDS": [co1, co2]}))
        .await;
    let lead = app.add_lead(json!({"COMPANY_ID": co1})).await;
    let deal = app.add("deal", json!({"COMPANY_ID": co1})).await;
    let quote = app
        .add(
            "quote",
            json!({"TITLE": "q", "COMPANY_ID": co1, "MYCOMPANY_ID": co1}),
        )
        .await;
    assert_eq!(
        app.record("contact", contact).await["COMPANY_ID"],
        json!(co1.to_string())
    );
    // the company sees the contact too (one relation, two sides)
    assert_eq!(
        ids(&bindings(&app, EntityKind::Company, co2, EntityKind::Contact).await),
        vec![(contact, true)]
    );

    app.call("crm.company.delete", json!({"id": co1}))
        .await
        .result();
    assert_eq!(
        app.record("contact", contact).await["COMPANY_ID"],
        json!(co2.to_string())
    );
    assert_eq!(
        ids(&bindings(&app, EntityKind::Contact, contact, EntityKind::Company).await),
        vec![(co2, true)]
    );
    let l = app.record("lead", lead).await;
    assert_eq!(
        (&l["COMPANY_ID"], &l["IS_RETURN_CUSTOMER"]),
        (&Value::Null, &json!("N"))
    );
    assert_eq!(app.record("deal", deal).await["COMPANY_ID"], Value::Null);
    let q = app.record("quote", quote).await;
    assert_eq!(
        (&q["COMPANY_ID"], &q["MYCOMPANY_ID"]),
        (&Value::Null, &Value::Null)
    );

    app.call("crm.company.delete", json!({"id": co2}))
        .await
        .result();
    assert_eq!(
        app.record("contact", contact).await["COMPANY_ID"],
        Value::Null
    );
    assert!(
        bindings(&app, EntityKind::Contact, contact, EntityKind::Company)
            .await
            .is_empty()
    );
}

async fn deleting_an_owner_removes_its_bindings(b: Backend) {
    let app = spawn_app(b).await;
    let c = app.add("contact", json!({"NAME": "stays"})).await;
    let co = app
        .add("company", json!({"TITLE": "goes", "CONTACT_ID": [c]}))
        .await;
    assert_eq!(
        app.record("contact", c).await["COMPANY_ID"],
        json!(co.to_string())
    );
    let deal = app.add("deal", json!({"CONTACT_ID": c})).await;
    assert_eq!(
        ids(&bindings(&app, EntityKind::Deal, deal, EntityKind::Contact).await),
        vec![(c, true)]
    );
    app.call("crm.deal.delete", json!({"id": deal}))
        .await
        .result();
    assert!(bindings(&app, EntityKind::Deal, deal, EntityKind::Contact)
        .await
        .is_empty());
    // deleting the company takes its side and the contact's side of the pair
    app.call("crm.company.delete", json!({"id": co}))
        .await
        .result();
    assert!(bindings(&app, EntityKind::Company, co, EntityKind::Contact)
        .await
        .is_empty());
    assert!(bindings(&app, EntityKind::Contact, c, EntityKind::Company)
        .await
        .is_empty());
    let contact = app.record("contact", c).await;
    assert_eq!(contact["COMPANY_ID"], Value::Null);
    assert_eq!(contact["NAME"], "stays");
    // deleting the contact leaves no binding anywhere
    let deal = app.add("deal", json!({"CONTACT_IDS": [c]})).await;
    let co = app
        .add("company", json!({"TITLE": "again", "CONTACT_ID": [c]}))
        .await;
    app.call("crm.contact.delete", json!({"id": c}))
        .await
        .result();
    assert!(bindings(&app, EntityKind::Deal, deal, EntityKind::Contact)
        .await
        .is_empty());
    assert!(bindings(&app, EntityKind::Company, co, EntityKind::Contact)
        .await
        .is_empty());
    assert!(bindings(&app, EntityKind::Contact, c, EntityKind::Company)
        .await
        .is_empty());
}
