//! System and user methods over HTTP (spec/system-methods.md §1): `scope`, `methods`,
//! `method.get`, `server.time`, `profile`, `user.current`, `user.get`.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    scope_lists_granted_or_all,
    methods_by_scope,
    method_get_existence_and_availability,
    server_time_in_portal_zone,
    profile_of_the_caller,
    user_current_shape,
    user_get_filters_sorts_and_pages,
    user_get_needs_user_scope,
);

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

async fn scope_lists_granted_or_all(b: Backend) {
    let app = spawn_app(b).await;
    // The default webhook has crm and user; `basic` is never listed.
    let r = app.call("scope", json!({})).await;
    assert_eq!(strings(r.result()), ["crm", "user"]);
    let (_, hook) = app
        .user_with_rights("brief", None, &["user_brief", "basic"])
        .await;
    let r = app.call_at(&hook, "scope", json!({})).await;
    assert_eq!(strings(r.result()), ["user_brief"]);
    for full in [json!({"full": true}), json!({"FULL": "Y"})] {
        let r = app.call_at(&hook, "scope", full).await;
        assert_eq!(strings(r.result()), ["crm", "user"]);
    }
}

async fn methods_by_scope(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app.user_with_rights("useronly", None, &["user"]).await;
    let mine = strings(app.call_at(&hook, "methods", json!({})).await.result());
    for m in [
        "user.current",
        "user.get",
        "batch",
        "server.time",
        "profile",
    ] {
        assert!(mine.contains(&m.to_string()), "{m} in {mine:?}");
    }
    assert!(!mine.iter().any(|m| m.starts_with("crm.")), "{mine:?}");
    assert!(mine.iter().all(|m| *m == m.to_ascii_lowercase()));

    let crm = strings(
        app.call_at(&hook, "methods", json!({"scope": "crm"}))
            .await
            .result(),
    );
    for m in [
        "crm.lead.add",
        "crm.status.add",
        "crm.lead.details.configuration.forcecommonscopeforall",
        "crm.duplicate.findbycomm",
    ] {
        assert!(crm.contains(&m.to_string()), "{m} in {crm:?}");
    }
    // Our Sales Intelligence extensions are in scope `crm` under their own prefix.
    assert!(
        crm.iter()
            .all(|m| m.starts_with("crm.") || m.starts_with("leadtrace.tracking.")),
        "{crm:?}"
    );
    let brief = strings(
        app.call_at(&hook, "methods", json!({"SCOPE": "user_brief"}))
            .await
            .result(),
    );
    assert_eq!(brief, ["user.current", "user.get"]);
    let common = strings(
        app.call_at(&hook, "methods", json!({"scope": ""}))
            .await
            .result(),
    );
    assert!(common.contains(&"batch".to_string()) && common.contains(&"method.get".to_string()));
    assert!(!common
        .iter()
        .any(|m| m.starts_with("crm.") || m.starts_with("user.")));
    let full = strings(
        app.call_at(&hook, "methods", json!({"full": true}))
            .await
            .result(),
    );
    assert!(full.contains(&"crm.lead.list".to_string()) && full.contains(&"user.get".to_string()));
}

async fn method_get_existence_and_availability(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app.user_with_rights("nocrm", None, &["user"]).await;
    let cases = [
        ("user.get", true, true),
        ("USER.Current", true, true),
        ("crm.lead.add", true, false),
        ("crm.lead.nothing", false, false),
        ("", false, false),
    ];
    for (name, existing, available) in cases {
        let r = app
            .call_at(&hook, "method.get", json!({"name": name}))
            .await;
        assert_eq!(
            r.result(),
            &json!({"isExisting": existing, "isAvailable": available}),
            "{name}"
        );
    }
    let r = app.call_at(&hook, "method.get", json!({})).await;
    assert_eq!(
        r.result(),
        &json!({"isExisting": false, "isAvailable": false})
    );
}

async fn server_time_in_portal_zone(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("server.time", json!({})).await;
    let t = r.result().as_str().unwrap();
    let parsed = chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%:z").unwrap();
    assert!(t.ends_with("+00:00"), "{t}");
    assert!((parsed.timestamp() - chrono::Utc::now().timestamp()).abs() < 60);
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move { tx.set_portal_setting(1, "time_zone", "Asia/Kolkata").await })
        })
        .await
        .unwrap();
    let r = app.call("server.time", json!({})).await;
    assert!(r.result().as_str().unwrap().ends_with("+05:30"));
}

async fn profile_of_the_caller(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("profile", json!({})).await;
    assert_eq!(
        serde_json::to_string(r.result()).unwrap(),
        r#"{"ID":"1","ADMIN":true,"NAME":"Admin","LAST_NAME":"","PERSONAL_GENDER":"","TIME_ZONE":""}"#
    );
    // No scope needed; a non-administrator is `ADMIN: false`.
    let (id, hook) = app
        .user_with_rights("plain", Some("lead=read:all"), &[])
        .await;
    let r = app.call_at(&hook, "profile", json!({})).await;
    assert_eq!(r.result()["ID"], json!(id.to_string()));
    assert_eq!(r.result()["ADMIN"], json!(false));
    assert_eq!(r.result()["NAME"], json!("plain"));
}

async fn user_current_shape(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("user.current", json!({})).await;
    let u = r.result().as_object().unwrap();
    let keys: Vec<&str> = u.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "ID",
            "ACTIVE",
            "NAME",
            "LAST_NAME",
            "EMAIL",
            "LAST_LOGIN",
            "DATE_REGISTER",
            "IS_ONLINE",
            "TIMESTAMP_X",
            "LAST_ACTIVITY_DATE",
            "PERSONAL_GENDER",
            "PERSONAL_BIRTHDAY",
            "WORK_POSITION",
            "UF_EMPLOYMENT_DATE",
            "UF_DEPARTMENT"
        ]
    );
    assert_eq!(u["ID"], "1");
    assert_eq!(u["ACTIVE"], json!(true));
    assert_eq!(u["EMAIL"], "admin@example.com");
    assert_eq!(u["IS_ONLINE"], "Y");
    assert_eq!(u["UF_DEPARTMENT"], json!([1]));
    // The mixed date formats of system-methods.md §1.1.
    let iso = |s: &Value| {
        chrono::DateTime::parse_from_str(s.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%:z").is_ok()
    };
    assert!(iso(&u["LAST_LOGIN"]) && iso(&u["DATE_REGISTER"]));
    assert!(u["DATE_REGISTER"]
        .as_str()
        .unwrap()
        .ends_with("T00:00:00+00:00"));
    assert!(chrono::NaiveDateTime::parse_from_str(
        u["TIMESTAMP_X"].as_str().unwrap(),
        "%d.%m.%Y %H:%M:%S"
    )
    .is_ok());
    assert!(chrono::NaiveDateTime::parse_from_str(
        u["LAST_ACTIVITY_DATE"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S"
    )
    .is_ok());
    // `user_basic` is enough.
    let (id, hook) = app
        .user_with_rights("basicuser", None, &["user_basic"])
        .await;
    let r = app.call_at(&hook, "user.current", json!({})).await;
    assert_eq!(r.result()["ID"], json!(id.to_string()));
}

fn ids(r: &Reply) -> Vec<String> {
    r.result()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["ID"].as_str().unwrap().to_string())
        .collect()
}

async fn user_get_filters_sorts_and_pages(b: Backend) {
    let app = spawn_app(b).await;
    let (ivan, _) = app.user_with_rights("Ivan", None, &["user"]).await;
    let (ivy, _) = app.user_with_rights("Ivy", None, &["user"]).await;
    let (zoe, _) = app.user_with_rights("Zoe", None, &["user"]).await;
    let (ivan, ivy, zoe) = (ivan.to_string(), ivy.to_string(), zoe.to_string());

    let r = app.call("user.get", json!({})).await;
    assert_eq!(ids(&r), ["1", ivan.as_str(), ivy.as_str(), zoe.as_str()]);
    assert_eq!(r.body["total"], json!(4));
    assert!(r.body.get("next").is_none());
    let first = &r.result()[0];
    assert_eq!(first["NAME"], "Admin");
    assert_eq!(first["USER_TYPE"], "employee");
    assert_eq!(first["IS_ONLINE"], "Y", "the caller is online");
    assert_eq!(r.result()[1]["IS_ONLINE"], "N");

    // The ID as a top-level parameter (the docs' and many scripts' form) and in FILTER/filter.
    assert_eq!(
        ids(&app.call("user.get", json!({"ID": ivy})).await),
        [ivy.as_str()]
    );
    assert_eq!(
        ids(&app.call("user.get", json!({"FILTER": {"ID": zoe}})).await),
        [zoe.as_str()]
    );
    assert_eq!(
        ids(&app
            .call("user.get", json!({"filter": {"@ID": [ivan, zoe]}}))
            .await),
        [ivan.as_str(), zoe.as_str()]
    );
    assert_eq!(
        ids(&app
            .call("user.get", json!({"filter": {"NAME": "Iv%"}}))
            .await),
        [ivan.as_str(), ivy.as_str()]
    );
    assert_eq!(
        ids(&app
            .call("user.get", json!({"filter": {"%EMAIL": "ZOE@"}}))
            .await),
        [zoe.as_str()]
    );
    assert_eq!(
        ids(&app
            .call("user.get", json!({"filter": {"NAME_SEARCH": "vy"}}))
            .await),
        [ivy.as_str()]
    );
    let none = app.call("user.get", json!({"ID": 999})).await;
    assert_eq!(none.result(), &json!([]));
    assert_eq!(none.body["total"], json!(0));

    // Sorting: `sort` + `order`, or an `order` object as fast_bitrix24's get_all sends it.
    assert_eq!(
        ids(&app
            .call("user.get", json!({"sort": "NAME", "order": "DESC"}))
            .await),
        [zoe.as_str(), ivy.as_str(), ivan.as_str(), "1"]
    );
    assert_eq!(
        ids(&app
            .call("user.get", json!({"SORT": "ID", "ORDER": "desc"}))
            .await),
        [zoe.as_str(), ivy.as_str(), ivan.as_str(), "1"]
    );
    assert_eq!(
        ids(&app
            .call(
                "user.get",
                json!({"order": {"ID": "ASC"}, "filter": {">ID": 1}})
            )
            .await),
        [ivan.as_str(), ivy.as_str(), zoe.as_str()]
    );
    let r = app
        .call("user.get", json!({"ID": 1, "select": ["ID", "EMAIL"]}))
        .await;
    assert_eq!(
        r.result(),
        &json!([{"ID": "1", "EMAIL": "admin@example.com"}])
    );

    // Pages of 50 with `next`.
    for i in 0..50 {
        app.user_with_rights(&format!("bulk{i:02}"), None, &[])
            .await;
    }
    let r = app.call("user.get", json!({})).await;
    assert_eq!(r.result().as_array().unwrap().len(), 50);
    assert_eq!(
        (r.body["total"].clone(), r.body["next"].clone()),
        (json!(54), json!(50))
    );
    let r = app.call("user.get", json!({"start": 50})).await;
    assert_eq!(r.result().as_array().unwrap().len(), 4);
    assert!(r.body.get("next").is_none());
}

async fn user_get_needs_user_scope(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app.user_with_rights("crmonly", None, &["crm"]).await;
    let r = app.call_at(&hook, "user.get", json!({})).await;
    r.assert_error(
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
    );
    let (_, hook) = app.user_with_rights("brief2", None, &["user_brief"]).await;
    assert_eq!(
        app.call_at(&hook, "user.get", json!({"ID": 1}))
            .await
            .result()[0]["ID"],
        "1"
    );
}
