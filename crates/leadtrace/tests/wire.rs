//! The REST wire over real HTTP: URL forms, encodings, envelopes, credentials, errors, limits.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    url_forms_and_method_case,
    envelope_has_eight_time_keys,
    unknown_method_before_auth,
    credential_errors,
    tokens_in_every_place,
    insufficient_scope,
    every_body_encoding,
    body_overrides_query_at_top_level,
    invalid_json_is_an_empty_parameter_set,
    oversized_deep_and_invalid_utf8_bodies,
    cors_and_options,
    xml_output,
);

async fn url_forms_and_method_case(b: Backend) {
    let app = spawn_app(b).await;
    let base = app.hook.trim_end_matches('/').to_string();
    for url in [
        format!("{base}/server.time"),
        format!("{base}/server.time.json"),
        format!("{base}/server.time/"),
        format!("{base}/SERVER.Time.json"),
        format!("{base}/server.time?bx24_request_id=abc&bx24_sdk_ver=1&bx24_sdk_type=x"),
    ] {
        let r = app.get(&url).await;
        assert!(
            r.result().as_str().unwrap().ends_with("+00:00"),
            "{url}: {}",
            r.body
        );
    }
    let r = app
        .call("crm.lead.Add.json", json!({"fields": {"TITLE": "case"}}))
        .await;
    assert!(r.result().as_i64().unwrap() > 0);
}

async fn envelope_has_eight_time_keys(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("server.time", json!({})).await;
    r.result();
    let time = r.body["time"].as_object().unwrap();
    let keys: Vec<&str> = time.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "date_finish",
            "operating_reset_at",
            "operating"
        ]
    );
    assert!(time["start"].as_f64().unwrap() <= time["finish"].as_f64().unwrap());
    assert!(time["operating_reset_at"].is_i64());
    // The method's accumulated operating time (limits-and-batch.md §2): this call's own time.
    assert!(time["operating"].as_f64().is_some_and(|o| o >= 0.0));
    let date = time["date_start"].as_str().unwrap();
    assert_eq!(date.len(), 25, "{date}");
    assert!(date.ends_with("+00:00"));
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");

    // Without accounting, 0 is written as PHP's json_encode writes 0.0.
    let app = spawn_with(b, |c| c.limits.operating.accounting = false).await;
    let r = app.call("server.time", json!({})).await;
    assert_eq!(r.body["time"]["operating"], json!(0), "{}", r.body);
}

async fn unknown_method_before_auth(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .get(&format!("{}/rest/1/wrongcode/no.such.method", app.base))
        .await;
    r.assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    let r = app.get(&format!("{}/rest/no.such.method", app.base)).await;
    r.assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    let r = app
        .get(&format!("{}/rest/api/1/{CODE}/crm.lead.list", app.base))
        .await;
    r.assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    // Methods that are not implemented are not faked (recurring deals are out of scope).
    let r = app.call("crm.deal.recurring.list", json!({})).await;
    r.assert_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
}

async fn credential_errors(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.get(&format!("{}/rest/crm.lead.list", app.base)).await;
    r.assert_error(401, "NO_AUTH_FOUND", "Wrong authorization data");
    let r = app
        .get(&format!("{}/rest/1/wrongcode/crm.lead.list", app.base))
        .await;
    r.assert_error(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    let r = app
        .get(&format!("{}/rest/2/{CODE}/crm.lead.list", app.base))
        .await;
    r.assert_error(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    let r = app
        .get(&format!("{}/rest/admin/{CODE}/crm.lead.list", app.base))
        .await;
    r.assert_error(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    let r = app
        .get(&format!("{}/rest/crm.lead.list?auth=unknown", app.base))
        .await;
    r.assert_error(401, "NO_AUTH_FOUND", "Wrong authorization data");
    let expired = app.token(-10, &["crm"]).await;
    let r = app
        .get(&format!("{}/rest/crm.lead.list?auth={expired}", app.base))
        .await;
    r.assert_error(
        401,
        "expired_token",
        "The access token provided has expired",
    );
}

async fn tokens_in_every_place(b: Backend) {
    let app = spawn_app(b).await;
    let t = app.token(3600, &["crm"]).await;
    let url = format!("{}/rest/crm.lead.list.json", app.base);
    let r = app
        .send(app.client.post(&url).bearer_auth(&t).json(&json!({})))
        .await;
    assert!(r.result().is_array());
    let r = app
        .send(app.client.post(&url).json(&json!({"auth": t})))
        .await;
    assert!(r.result().is_array());
    let r = app.get(&format!("{url}?access_token={t}")).await;
    assert!(r.result().is_array());
    // The token parameter is not passed to the method: a lead added with `auth` in its
    // parameters is created normally.
    let r = app
        .send(
            app.client
                .post(format!("{}/rest/crm.lead.add", app.base))
                .json(&json!({"auth": t, "fields": {"TITLE": "via token"}})),
        )
        .await;
    assert!(r.result().as_i64().unwrap() > 0);
}

async fn insufficient_scope(b: Backend) {
    let app = spawn_app(b).await;
    let (_, hook) = app.user_with_rights("scoped", None, &["user"]).await;
    let r = app.call_at(&hook, "crm.lead.list", json!({})).await;
    r.assert_error(
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
    );
    // basic methods are always allowed
    app.call_at(&hook, "server.time", json!({})).await.result();
    let t = app.token(3600, &["user"]).await;
    let r = app
        .get(&format!("{}/rest/crm.lead.list?auth={t}", app.base))
        .await;
    r.assert_error(
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the access token",
    );
}

async fn every_body_encoding(b: Backend) {
    let app = spawn_app(b).await;
    let add = format!("{}crm.lead.add", app.hook);
    // GET query string
    let r = app.get(&format!("{add}?fields[TITLE]=John%26Martin&fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK")).await;
    let id1 = r.result().as_i64().unwrap();
    // form, with percent-encoded brackets as PHP's http_build_query writes them
    let r = app
        .post_raw(
            &add,
            Some("application/x-www-form-urlencoded"),
            "fields%5BTITLE%5D=Form+lead&fields%5BNAME%5D=A",
        )
        .await;
    let id2 = r.result().as_i64().unwrap();
    // multipart
    let form = reqwest::multipart::Form::new()
        .text("fields[TITLE]", "Multipart lead")
        .text("fields[EMAIL][0][VALUE]", "m@example.com");
    let r = app.send(app.client.post(&add).multipart(form)).await;
    let id3 = r.result().as_i64().unwrap();
    // raw body without a content type is parsed like a query string
    let r = app.post_raw(&add, None, "fields[TITLE]=Raw+lead").await;
    let id4 = r.result().as_i64().unwrap();
    // JSON
    let id5 = app.add_lead(json!({"TITLE": "Json lead"})).await;

    let title = |v: &Value| v["TITLE"].as_str().unwrap().to_string();
    let get = |id: i64| app.call("crm.lead.get", json!({"id": id}));
    let l1 = get(id1).await;
    assert_eq!(title(l1.result()), "John&Martin");
    assert_eq!(l1.result()["PHONE"][0]["VALUE"], "112233");
    assert_eq!(title(get(id2).await.result()), "Form lead");
    let l3 = get(id3).await;
    assert_eq!(title(l3.result()), "Multipart lead");
    assert_eq!(l3.result()["EMAIL"][0]["VALUE"], "m@example.com");
    assert_eq!(title(get(id4).await.result()), "Raw lead");
    assert_eq!(title(get(id5).await.result()), "Json lead");
    // `id` as a string from a GET query
    let r = app.get(&format!("{}crm.lead.get?ID={id1}", app.hook)).await;
    assert_eq!(r.result()["ID"], json!(id1.to_string()));
}

async fn body_overrides_query_at_top_level(b: Backend) {
    let app = spawn_app(b).await;
    let url = format!(
        "{}crm.lead.add?fields[TITLE]=from+query&params[REGISTER_SONET_EVENT]=Y",
        app.hook
    );
    let r = app
        .send(
            app.client
                .post(&url)
                .json(&json!({"fields": {"NAME": "from body"}})),
        )
        .await;
    let id = r.result().as_i64().unwrap();
    let lead = app.call("crm.lead.get", json!({"id": id})).await;
    assert_eq!(lead.result()["NAME"], "from body");
    assert_eq!(
        lead.result()["TITLE"],
        Value::Null,
        "the body's `fields` replaces the query's whole `fields`"
    );
}

async fn invalid_json_is_an_empty_parameter_set(b: Backend) {
    let app = spawn_app(b).await;
    let add = format!("{}crm.lead.add", app.hook);
    let r = app
        .post_raw(&add, Some("application/json"), "{not json")
        .await;
    r.assert_error(400, "", "Parameter 'fields' must be array.");
    let r = app
        .post_raw(&add, Some("application/json; charset=utf-8"), "[1,2]")
        .await;
    r.assert_error(400, "", "Parameter 'fields' must be array.");
}

async fn oversized_deep_and_invalid_utf8_bodies(b: Backend) {
    let app = spawn_with(b, |c| c.max_body_bytes = 1024).await;
    let add = format!("{}crm.lead.add", app.hook);
    let big = format!("{{\"fields\":{{\"TITLE\":\"{}\"}}}}", "x".repeat(2000));
    let r = app.post_raw(&add, Some("application/json"), big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.body["error"], "INVALID_REQUEST");
    let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
    let r = app
        .post_raw(
            &add,
            Some("application/json"),
            format!("{{\"fields\":{deep}}}"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "INVALID_REQUEST");
    let deep_form = format!("fields{}=1", "[a]".repeat(70));
    let r = app
        .post_raw(&add, Some("application/x-www-form-urlencoded"), deep_form)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .post_raw(
            &add,
            Some("application/x-www-form-urlencoded"),
            "fields[TITLE]=%FF%FE",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "INVALID_REQUEST");
    // the server is still healthy
    app.call("server.time", json!({})).await.result();
}

async fn cors_and_options(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("server.time", json!({})).await;
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(
        r.headers["access-control-allow-headers"],
        "origin, content-type, accept"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    let r = app
        .send(app.client.request(
            reqwest::Method::OPTIONS,
            format!("{}crm.lead.add", app.hook),
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let r = app.get(&format!("{}/rest/1/x/no.such", app.base)).await;
    assert_eq!(r.headers["access-control-allow-origin"], "*");
}

async fn xml_output(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.get(&format!("{}server.time.xml", app.hook)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/xml; charset=utf-8");
    let text = r.body.as_str().unwrap();
    assert!(text.contains("<response><result>"), "{text}");
    assert!(text.contains("<time>"), "{text}");
    let r = app
        .get(&format!("{}/rest/1/bad/server.time.xml", app.base))
        .await;
    assert_eq!(r.status, 401);
    assert!(r
        .body
        .as_str()
        .unwrap()
        .contains("<error>INVALID_CREDENTIALS</error>"));
}
