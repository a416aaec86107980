//! Roles over HTTP: a user who may only touch their own leads sees and changes only those.

mod common;
use common::*;
use serde_json::json;
use store::Backend;

backend_tests!(
    own_level_user_sees_only_own_leads,
    no_rights_means_access_denied
);

async fn own_level_user_sees_only_own_leads(b: Backend) {
    let app = spawn_app(b).await;
    let (uid, hook) = app
        .user_with_rights(
            "manager",
            Some("lead=read:own,add:all,update:own,delete:own"),
            &["crm"],
        )
        .await;
    let admin_leads: Vec<i64> = add_titled(&app, 3, "admin").await;
    let mine_a = app
        .call_at(
            &hook,
            "crm.lead.add",
            json!({"fields": {"TITLE": "mine a"}}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    let mine_b = app
        .add_lead(json!({"TITLE": "mine b", "ASSIGNED_BY_ID": uid}))
        .await;

    // list and total count only readable records
    let r = app
        .call_at(
            &hook,
            "crm.lead.list",
            json!({"select": ["ID", "ASSIGNED_BY_ID"]}),
        )
        .await;
    let ids: Vec<String> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![mine_a.to_string(), mine_b.to_string()]);
    assert_eq!(r.body["total"], json!(2));
    assert!(r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["ASSIGNED_BY_ID"] == json!(uid.to_string())));
    // the admin sees everything
    assert_eq!(
        app.call("crm.lead.list", json!({})).await.body["total"],
        json!(5)
    );

    // get / update / delete of someone else's lead are refused; own ones work
    let other = admin_leads[0];
    app.call_at(&hook, "crm.lead.get", json!({"id": other}))
        .await
        .assert_error(400, "", "Access denied.");
    app.call_at(
        &hook,
        "crm.lead.update",
        json!({"id": other, "fields": {"TITLE": "x"}}),
    )
    .await
    .assert_error(400, "", "Access denied.");
    app.call_at(&hook, "crm.lead.delete", json!({"id": other}))
        .await
        .assert_error(400, "", "Access denied.");
    assert_eq!(
        app.call("crm.lead.get", json!({"id": other}))
            .await
            .result()["TITLE"],
        "admin 0"
    );

    assert_eq!(
        app.call_at(&hook, "crm.lead.get", json!({"id": mine_a}))
            .await
            .result()["TITLE"],
        "mine a"
    );
    assert_eq!(
        app.call_at(
            &hook,
            "crm.lead.update",
            json!({"id": mine_a, "fields": {"TITLE": "renamed"}})
        )
        .await
        .result(),
        &json!(true)
    );
    assert_eq!(
        app.call_at(&hook, "crm.lead.delete", json!({"id": mine_b}))
            .await
            .result(),
        &json!(true)
    );
    assert_eq!(
        app.call_at(&hook, "crm.lead.list", json!({})).await.body["total"],
        json!(1)
    );
    // handing an own lead to someone else is allowed; afterwards it is out of reach
    app.call_at(
        &hook,
        "crm.lead.update",
        json!({"id": mine_a, "fields": {"ASSIGNED_BY_ID": 1}}),
    )
    .await
    .result();
    app.call_at(&hook, "crm.lead.get", json!({"id": mine_a}))
        .await
        .assert_error(400, "", "Access denied.");
    assert_eq!(
        app.call_at(&hook, "crm.lead.list", json!({})).await.body["total"],
        json!(0)
    );
}

async fn add_titled(app: &TestApp, n: usize, prefix: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            app.add_lead(json!({"TITLE": format!("{prefix} {i}")}))
                .await,
        );
    }
    ids
}

async fn no_rights_means_access_denied(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app
        .user_with_rights("nobody", Some("deal=read:all"), &["crm"])
        .await;
    let id = app.add_lead(json!({"TITLE": "secret"})).await;
    app.call_at(&hook, "crm.lead.list", json!({}))
        .await
        .assert_error(400, "", "Access denied.");
    app.call_at(&hook, "crm.lead.get", json!({"id": id}))
        .await
        .assert_error(400, "", "Access denied.");
    app.call_at(&hook, "crm.lead.add", json!({"fields": {"TITLE": "no"}}))
        .await
        .assert_error(400, "", "Access denied.");
    assert_eq!(
        app.call("crm.lead.list", json!({})).await.body["total"],
        json!(1),
        "nothing was written"
    );
    // in a batch the same checks apply per command
    let r = app.call_at(&hook, "batch", json!({"cmd": {"a": "crm.lead.add?fields[TITLE]=no", "b": format!("crm.lead.get?id={id}")}})).await;
    assert_eq!(
        r.result()["result_error"]["a"]["error_description"],
        "Access denied."
    );
    assert_eq!(
        r.result()["result_error"]["b"]["error_description"],
        "Access denied."
    );
}
