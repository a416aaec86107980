//! Card layouts over HTTP (leads.md §1 rows 20–23, decision D2):
//! `crm.<entity>.details.configuration.get/set/reset/forceCommonScopeForAll`.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    default_layout_when_nothing_is_stored,
    personal_and_common_layouts,
    set_validation_texts,
    reset_and_force_common_scope,
    lead_customer_type_in_both_spellings,
    access_rules,
    registered_for_every_entity_with_a_card,
);

const GET: &str = "crm.lead.details.configuration.get";
const SET: &str = "crm.lead.details.configuration.set";
const RESET: &str = "crm.lead.details.configuration.reset";
const FORCE: &str = "crm.lead.details.configuration.forceCommonScopeForAll";

fn layout(title: &str) -> Value {
    json!([
        {"name": "main", "title": title, "type": "section",
         "elements": [{"name": "TITLE"}, {"name": "PHONE", "optionFlags": 1}]},
        {"name": "additional", "title": "Additional", "type": "section",
         "elements": [{"name": "COMMENTS", "optionFlags": "0", "options": {"x": "y"}}]}
    ])
}

/// `layout(title)` as stored and answered.
fn stored(title: &str) -> Value {
    json!([
        {"name": "main", "title": title, "type": "section",
         "elements": [{"name": "TITLE", "optionFlags": "0"}, {"name": "PHONE", "optionFlags": "1"}]},
        {"name": "additional", "title": "Additional", "type": "section",
         "elements": [{"name": "COMMENTS", "optionFlags": "0", "options": {"x": "y"}}]}
    ])
}

fn main_title(r: &Reply) -> String {
    r.result()[0]["title"].as_str().unwrap().to_string()
}

async fn default_layout_when_nothing_is_stored(b: Backend) {
    let app = spawn_app(b).await;
    for params in [
        json!({}),
        json!({"scope": "C"}),
        json!({"scope": "P", "userId": 1}),
    ] {
        let r = app.call(GET, params.clone()).await;
        let sections = r.result().as_array().unwrap();
        let names: Vec<&str> = sections
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["main", "additional", "products"], "{params}");
        assert_eq!(sections[0]["title"], "About the Lead");
        assert_eq!(sections[0]["type"], "section");
        assert_eq!(
            sections[0]["elements"][0],
            json!({"name": "TITLE", "optionFlags": "0"})
        );
        let main: Vec<&str> = sections[0]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert!(main.contains(&"TRACKING_SOURCE_ID"), "{main:?}");
    }
}

async fn personal_and_common_layouts(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(
        app.call(SET, json!({"scope": "C", "data": layout("Common")}))
            .await
            .result(),
        &json!(true)
    );
    // Without a personal layout a user sees the common one.
    assert_eq!(app.call(GET, json!({})).await.result(), &stored("Common"));
    app.call(SET, json!({"data": layout("Mine")}))
        .await
        .result();
    assert_eq!(
        app.call(GET, json!({"scope": "P"})).await.result(),
        &stored("Mine")
    );
    assert_eq!(
        main_title(&app.call(GET, json!({"scope": "C"})).await),
        "Common"
    );
    // Setting again replaces the layout.
    app.call(
        SET,
        json!({"scope": "P", "userId": 1, "data": layout("Mine 2")}),
    )
    .await
    .result();
    assert_eq!(main_title(&app.call(GET, json!({})).await), "Mine 2");
    // Another user's layout is theirs alone.
    let (uid, hook) = app
        .user_with_rights("other", Some("lead=read:all"), &["crm"])
        .await;
    assert_eq!(
        main_title(&app.call_at(&hook, GET, json!({})).await),
        "Common"
    );
    app.call_at(&hook, SET, json!({"data": layout("Other's")}))
        .await
        .result();
    assert_eq!(
        main_title(&app.call_at(&hook, GET, json!({})).await),
        "Other's"
    );
    assert_eq!(
        main_title(&app.call(GET, json!({"userId": uid})).await),
        "Other's",
        "an administrator reads another user's layout"
    );
    assert_eq!(main_title(&app.call(GET, json!({})).await), "Mine 2");
    // Form encoding (`data[0][name]=…`) arrives as an indexed map and is accepted.
    let form = "scope=C&data[0][name]=main&data[0][title]=Form&data[0][type]=section\
                &data[0][elements][0][name]=TITLE&data[0][elements][0][optionFlags]=1";
    let r = app
        .post_raw(
            &format!("{}{SET}", app.hook),
            Some("application/x-www-form-urlencoded"),
            form,
        )
        .await;
    assert_eq!(r.result(), &json!(true));
    assert_eq!(
        app.call(GET, json!({"scope": "C"})).await.result(),
        &json!([{"name": "main", "title": "Form", "type": "section", "elements": [{"name": "TITLE", "optionFlags": "1"}]}])
    );
}

async fn set_validation_texts(b: Backend) {
    let app = spawn_app(b).await;
    let set = |data: Value| app.call(SET, json!({ "data": data }));
    let legacy = |r: Reply, text: &str| r.assert_error(400, "", text);
    legacy(
        app.call(SET, json!({})).await,
        "Parameter 'data' must be array.",
    );
    legacy(set(json!("main")).await, "Parameter 'data' must be array.");
    legacy(
        set(json!({"main": {}})).await,
        "The data must be indexed array.",
    );
    legacy(set(json!([])).await, "There are no data to write.");
    legacy(
        set(json!([{"name": "main", "title": "Main", "type": "column"}])).await,
        "Section at index 0 has type column. The expected type is 'section'.",
    );
    legacy(
        set(json!([{"name": "main", "title": "Main"}])).await,
        "Section at index 0 has type . The expected type is 'section'.",
    );
    legacy(
        set(json!([{"name": "a", "title": "A", "type": "section"}, {"title": "B", "type": "section"}])).await,
        "Section at index 1 does not have name.",
    );
    legacy(
        set(json!([{"name": "main", "type": "section"}])).await,
        "Section at index 0 does not have title.",
    );
    legacy(
        set(json!([
            {"name": "main", "title": "Main", "type": "section", "elements": [{"name": "TITLE"}]},
            {"name": "more", "title": "More", "type": "section", "elements": [{"name": ""}]}
        ]))
        .await,
        "Element at index 0 in section at index 1 does not have name.",
    );
    // Nothing was stored by any of these.
    assert_eq!(
        main_title(&app.call(GET, json!({})).await),
        "About the Lead"
    );
}

async fn reset_and_force_common_scope(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app
        .user_with_rights("worker", Some("lead=read:all"), &["crm"])
        .await;
    app.call(SET, json!({"scope": "C", "data": layout("Common")}))
        .await
        .result();
    app.call(SET, json!({"data": layout("Admin's")}))
        .await
        .result();
    app.call_at(&hook, SET, json!({"data": layout("Worker's")}))
        .await
        .result();

    // Reset of the personal layout: back to the common one.
    assert_eq!(
        app.call_at(&hook, RESET, json!({})).await.result(),
        &json!(true)
    );
    assert_eq!(
        main_title(&app.call_at(&hook, GET, json!({})).await),
        "Common"
    );
    // Resetting what is not there is fine.
    assert_eq!(
        app.call_at(&hook, RESET, json!({"scope": "P"}))
            .await
            .result(),
        &json!(true)
    );

    // Forcing the common layout removes every personal one.
    app.call_at(&hook, SET, json!({"data": layout("Worker's")}))
        .await
        .result();
    assert_eq!(app.call(FORCE, json!({})).await.result(), &json!(true));
    assert_eq!(
        main_title(&app.call_at(&hook, GET, json!({})).await),
        "Common"
    );
    assert_eq!(main_title(&app.call(GET, json!({})).await), "Common");

    // Reset of the common layout: back to the default.
    assert_eq!(
        app.call(RESET, json!({"scope": "C"})).await.result(),
        &json!(true)
    );
    assert_eq!(
        main_title(&app.call_at(&hook, GET, json!({})).await),
        "About the Lead"
    );
}

async fn lead_customer_type_in_both_spellings(b: Backend) {
    let app = spawn_app(b).await;
    // Repeat leads (2) have their own card; both spellings of the key name it (decision D2).
    app.call(
        SET,
        json!({"extras": {"leadCustomerType": 2}, "data": layout("Repeat")}),
    )
    .await
    .result();
    assert_eq!(
        main_title(
            &app.call(GET, json!({"extras": {"lead.customer.type": 2}}))
                .await
        ),
        "Repeat"
    );
    assert_eq!(
        main_title(
            &app.call(GET, json!({"extras": {"leadCustomerType": "2"}}))
                .await
        ),
        "Repeat"
    );
    // Simple leads (1, the default) are untouched.
    assert_eq!(
        main_title(&app.call(GET, json!({})).await),
        "About the Lead"
    );
    assert_eq!(
        main_title(
            &app.call(GET, json!({"extras": {"lead.customer.type": 1}}))
                .await
        ),
        "About the Lead"
    );
    // The repeat-lead default shows the client instead of the person's name.
    app.call(RESET, json!({"extras": {"lead.customer.type": 2}}))
        .await
        .result();
    let r = app
        .call(GET, json!({"extras": {"leadCustomerType": 2}}))
        .await;
    let main: Vec<&str> = r.result()[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        main.contains(&"CLIENT") && !main.contains(&"NAME"),
        "{main:?}"
    );
    // forceCommonScopeForAll takes the same extras.
    app.call(
        SET,
        json!({"extras": {"leadCustomerType": 2}, "data": layout("Mine")}),
    )
    .await
    .result();
    app.call(FORCE, json!({"extras": {"leadCustomerType": 2}}))
        .await
        .result();
    assert_eq!(
        main_title(
            &app.call(GET, json!({"extras": {"leadCustomerType": 2}}))
                .await
        ),
        "About the Lead"
    );
}

async fn access_rules(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app
        .user_with_rights("nonadmin", Some("lead=read:all"), &["crm"])
        .await;
    let denied = [
        (SET, json!({"scope": "C", "data": layout("x")})),
        (SET, json!({"userId": 1, "data": layout("x")})),
        (RESET, json!({"scope": "C"})),
        (RESET, json!({"userId": 1})),
        (GET, json!({"userId": 1})),
        (FORCE, json!({})),
    ];
    for (method, params) in denied {
        app.call_at(&hook, method, params.clone())
            .await
            .assert_error(400, "", "Access denied.");
    }
    // The common layout and one's own are open to everyone.
    app.call_at(&hook, GET, json!({"scope": "C"}))
        .await
        .result();
    app.call_at(&hook, GET, json!({})).await.result();
    app.call_at(&hook, SET, json!({"data": layout("x")}))
        .await
        .result();
    app.call_at(&hook, RESET, json!({})).await.result();
    // The methods need the crm scope.
    let (_, hook) = app.user_with_rights("useronly", None, &["user"]).await;
    app.call_at(&hook, GET, json!({})).await.assert_error(
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
    );
}

async fn registered_for_every_entity_with_a_card(b: Backend) {
    let app = spawn_app(b).await;
    for kind in crm::EntityKind::ALL {
        let name = format!("crm.{}.details.configuration.get", kind.method_name());
        let r = app.call(&name, json!({})).await;
        if crm::card::has_card(kind) {
            assert!(r.result().is_array(), "{name}");
        } else {
            r.assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
        }
    }
    // Quotes never have card layouts, with or without a field table.
    assert!(!crm::card::has_card(crm::EntityKind::Quote));
}
