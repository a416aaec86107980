//! The built-in OAuth server over HTTP (spec/open-questions.md A11, transport.md §8): authorize →
//! code → token → call → expiry → `expired_token` → refresh → call; token-endpoint errors; and
//! `app.info` in application, webhook and plain-token context. The server's clock is a manual one.

mod common;
use common::*;
use leadtrace::limits::ManualClock;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use store::{Backend, NewApp};

backend_tests!(
    authorization_code_flow_and_refresh,
    token_endpoint_errors,
    authorize_form_and_errors,
    app_info_contexts,
    app_tokens_share_the_app_budget,
);

const T0: f64 = 1_800_000_000.0;

struct OAuthApp {
    client_id: String,
    client_secret: String,
    id: i64,
}

async fn spawn_clocked(b: Backend) -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::new(T0);
    let c = clock.clone();
    let app = spawn_with(b, move |config| config.clock = c).await;
    (app, clock)
}

async fn register(app: &TestApp, name: &str, scopes: &[&str], redirect_uri: &str) -> OAuthApp {
    let new = NewApp {
        name: name.into(),
        client_id: format!("local.{name}.00000001"),
        client_secret: format!("secret-of-{name}"),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        redirect_uri: redirect_uri.into(),
        application_token: "0".repeat(32),
    };
    let n = new.clone();
    let id = app
        .running
        .state
        .store()
        .write(move |tx| Box::pin(async move { tx.add_app(1, &n).await }))
        .await
        .unwrap();
    OAuthApp {
        client_id: new.client_id,
        client_secret: new.client_secret,
        id,
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect()
}

fn decode(v: &str) -> String {
    let bytes = v.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Authorizes as user 1 with the default webhook; returns the redirect's query.
async fn authorize(app: &TestApp, client: &OAuthApp, state: &str) -> HashMap<String, String> {
    let url = format!(
        "{}/oauth/authorize/?client_id={}&state={state}&aplogin=1&ap={CODE}",
        app.base, client.client_id
    );
    let r = no_redirects().get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    query_of(&location)
}

async fn token_get(app: &TestApp, query: &str) -> Reply {
    app.get(&format!("{}/oauth/token/?{query}", app.base)).await
}

async fn token_post(app: &TestApp, form: &str) -> Reply {
    app.post_raw(
        &format!("{}/oauth/token/", app.base),
        Some("application/x-www-form-urlencoded"),
        form.to_string(),
    )
    .await
}

async fn exchange_code(app: &TestApp, client: &OAuthApp, code: &str) -> Reply {
    token_get(
        app,
        &format!(
            "grant_type=authorization_code&client_id={}&client_secret={}&code={code}",
            client.client_id, client.client_secret
        ),
    )
    .await
}

async fn refresh(app: &TestApp, client: &OAuthApp, refresh_token: &str) -> Reply {
    token_post(
        app,
        &format!(
            "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={refresh_token}",
            client.client_id, client.client_secret
        ),
    )
    .await
}

async fn call_with_token(app: &TestApp, token: &str, method: &str, params: Value) -> Reply {
    let mut params = params;
    params["auth"] = json!(token);
    app.call_at(&format!("{}/rest/", app.base), method, params)
        .await
}

fn host(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// The A11 answer: these keys in this order, these values.
fn check_token_answer(app: &TestApp, r: &Reply, now: i64, scope: &str) {
    assert_eq!(r.status, 200, "{}", r.body);
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires",
            "expires_in",
            "scope",
            "domain",
            "server_endpoint",
            "status",
            "client_endpoint",
            "member_id",
            "user_id",
            "refresh_token"
        ]
    );
    let b = &r.body;
    assert_eq!(b["expires"], json!(now + 3600));
    assert_eq!(b["expires_in"], json!(3600));
    assert_eq!(b["scope"], json!(scope));
    assert_eq!(b["domain"], json!(host(app)));
    assert_eq!(b["server_endpoint"], json!(format!("{}/rest/", app.base)));
    assert_eq!(b["client_endpoint"], json!(format!("{}/rest/", app.base)));
    assert_eq!(b["status"], json!("L"));
    assert_eq!(b["user_id"], json!(1));
    let member_id = b["member_id"].as_str().unwrap();
    assert!(
        member_id.len() == 32 && member_id.chars().all(|c| c.is_ascii_hexdigit()),
        "member_id {member_id}"
    );
    for k in ["access_token", "refresh_token"] {
        assert!(b[k].as_str().is_some_and(|t| t.len() >= 32), "{k}: {b}");
    }
}

async fn authorization_code_flow_and_refresh(b: Backend) {
    let (app, clock) = spawn_clocked(b).await;
    let client = register(
        &app,
        "reports",
        &["crm", "user"],
        "https://app.example.com/cb?x=1",
    )
    .await;

    let q = authorize(&app, &client, "st 1").await;
    assert_eq!(q["x"], "1", "the redirect URI's own query is kept");
    assert_eq!(q["state"], "st 1");
    assert_eq!(q["domain"], host(&app));
    assert_eq!(q["server_domain"], host(&app));
    assert_eq!(q["scope"], "crm,user");
    let code = q["code"].clone();

    let r = exchange_code(&app, &client, &code).await;
    check_token_answer(&app, &r, T0 as i64, "crm,user");
    assert_eq!(r.body["member_id"].as_str(), Some(q["member_id"].as_str()));
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let refresh_token = r.body["refresh_token"].as_str().unwrap().to_string();
    // A code is used once.
    exchange_code(&app, &client, &code).await.assert_error(
        400,
        "invalid_grant",
        "Invalid authorization code",
    );

    // The token works on /rest/{method}, in every place a token may be.
    let id = call_with_token(
        &app,
        &access,
        "crm.lead.add",
        json!({"fields": {"TITLE": "via app"}}),
    )
    .await
    .result()
    .as_i64()
    .unwrap();
    let r = app
        .send(
            app.client
                .post(format!("{}/rest/crm.lead.get.json", app.base))
                .bearer_auth(&access)
                .json(&json!({ "id": id })),
        )
        .await;
    assert_eq!(r.result()["TITLE"], json!("via app"));
    assert_eq!(r.result()["CREATED_BY_ID"], json!("1"));

    // An hour later the token has expired: the answer clients refresh on.
    clock.advance(3600.0);
    let expired = call_with_token(&app, &access, "crm.lead.get", json!({ "id": id })).await;
    expired.assert_error(
        401,
        "expired_token",
        "The access token provided has expired",
    );

    let r = refresh(&app, &client, &refresh_token).await;
    check_token_answer(&app, &r, T0 as i64 + 3600, "crm,user");
    let access2 = r.body["access_token"].as_str().unwrap().to_string();
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(access2, access);
    assert_ne!(refresh2, refresh_token);
    let r = call_with_token(&app, &access2, "crm.lead.get", json!({ "id": id })).await;
    assert_eq!(r.result()["ID"], json!(id.to_string()));
    // The old refresh token is used up; the old access token stays expired.
    refresh(&app, &client, &refresh_token).await.assert_error(
        400,
        "invalid_grant",
        "Invalid refresh token",
    );
    call_with_token(&app, &access, "server.time", json!({}))
        .await
        .assert_error(
            401,
            "expired_token",
            "The access token provided has expired",
        );
    // The refreshed pair refreshes again (GET form, as b24pysdk sends it).
    let r = token_get(
        &app,
        &format!(
            "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={refresh2}",
            client.client_id, client.client_secret
        ),
    )
    .await;
    check_token_answer(&app, &r, T0 as i64 + 3600, "crm,user");
}

async fn token_endpoint_errors(b: Backend) {
    let (app, clock) = spawn_clocked(b).await;
    let client = register(&app, "one", &["crm"], "https://one.example.com/").await;
    let other = register(&app, "two", &["crm"], "https://two.example.com/").await;

    token_get(&app, "client_id=x&client_secret=y&code=z")
        .await
        .assert_error(400, "invalid_request", "Parameter 'grant_type' is required");
    token_get(&app, "grant_type=password&client_id=x&client_secret=y")
        .await
        .assert_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported",
        );
    token_get(
        &app,
        &format!(
            "grant_type=authorization_code&client_id={}&client_secret={}",
            client.client_id, client.client_secret
        ),
    )
    .await
    .assert_error(400, "invalid_request", "Parameter 'code' is required");

    let code = authorize(&app, &client, "s").await["code"].clone();
    let wrong_secret = OAuthApp {
        client_id: client.client_id.clone(),
        client_secret: "nope".into(),
        id: client.id,
    };
    exchange_code(&app, &wrong_secret, &code)
        .await
        .assert_error(401, "invalid_client", "Invalid client credentials");
    let unknown = OAuthApp {
        client_id: "local.nobody.1".into(),
        client_secret: "x".into(),
        id: 0,
    };
    exchange_code(&app, &unknown, &code).await.assert_error(
        401,
        "invalid_client",
        "Invalid client credentials",
    );
    // A code is bound to its application.
    exchange_code(&app, &other, &code).await.assert_error(
        400,
        "invalid_grant",
        "Invalid authorization code",
    );
    exchange_code(&app, &client, "made-up").await.assert_error(
        400,
        "invalid_grant",
        "Invalid authorization code",
    );

    // Codes live 30 seconds.
    let code = authorize(&app, &client, "s").await["code"].clone();
    clock.advance(30.0);
    exchange_code(&app, &client, &code).await.assert_error(
        400,
        "invalid_grant",
        "The authorization code has expired",
    );

    // Refresh tokens live 180 days, and belong to their application.
    let code = authorize(&app, &client, "s").await["code"].clone();
    let r = exchange_code(&app, &client, &code).await;
    let refresh_token = r.body["refresh_token"].as_str().unwrap().to_string();
    refresh(&app, &other, &refresh_token).await.assert_error(
        400,
        "invalid_grant",
        "Invalid refresh token",
    );
    let code = authorize(&app, &client, "s").await["code"].clone();
    let r = exchange_code(&app, &client, &code).await;
    let refresh_token = r.body["refresh_token"].as_str().unwrap().to_string();
    clock.advance(180.0 * 86400.0);
    refresh(&app, &client, &refresh_token).await.assert_error(
        400,
        "expired_token",
        "The refresh token provided has expired",
    );
}

async fn authorize_form_and_errors(b: Backend) {
    let (app, _clock) = spawn_clocked(b).await;
    let client = register(&app, "forms", &["crm"], "https://forms.example.com/cb").await;
    let http = no_redirects();
    let url = format!("{}/oauth/authorize/", app.base);

    // Without credentials: a login form that keeps the OAuth parameters.
    let r = http
        .get(format!("{url}?client_id={}&state=abc", client.client_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("name=\"aplogin\"") && page.contains("name=\"ap\""),
        "{page}"
    );
    assert!(page.contains("name=\"state\" value=\"abc\""), "{page}");
    // Wrong credentials: the form again, with 401.
    for creds in [
        "aplogin=1&ap=wrong",
        "aplogin=x&ap=wrong",
        "aplogin=99&ap=testcode1234",
    ] {
        let r = http
            .get(format!("{url}?client_id={}&{creds}", client.client_id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{creds}");
    }
    // The form posts back: credentials in a form body work like query parameters.
    let r = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={}&state=abc&aplogin=1&ap={CODE}",
            client.client_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://forms.example.com/cb?code="),
        "{location}"
    );

    let r = app.get(&format!("{url}?client_id=local.unknown.1")).await;
    r.assert_error(
        400,
        "invalid_client",
        "The application is not installed on this portal",
    );
    let r = app.get(&url).await;
    r.assert_error(400, "invalid_request", "Parameter 'client_id' is required");
    let r = app
        .get(&format!(
            "{url}?client_id={}&redirect_uri=https://evil.example.com/&aplogin=1&ap={CODE}",
            client.client_id
        ))
        .await;
    r.assert_error(
        400,
        "invalid_request",
        "redirect_uri does not match the application's redirect URI",
    );

    // An application without a redirect URI: the code is shown to the user.
    let manual = register(&app, "manual", &["crm"], "").await;
    let r = http
        .get(format!(
            "{url}?client_id={}&aplogin=1&ap={CODE}",
            manual.client_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    let code = page
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap()
        .to_string();
    let r = exchange_code(&app, &manual, &code).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn app_info_contexts(b: Backend) {
    let (app, _clock) = spawn_clocked(b).await;
    let client = register(&app, "info", &["user"], "https://info.example.com/").await;
    let code = authorize(&app, &client, "s").await["code"].clone();
    let access = exchange_code(&app, &client, &code).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let r = call_with_token(&app, &access, "app.info", json!({})).await;
    assert_eq!(
        r.result(),
        &json!({
            "ID": client.id,
            "CODE": client.client_id,
            "VERSION": 1,
            "STATUS": "L",
            "INSTALLED": true,
            "PAYMENT_EXPIRED": "N",
            "DAYS": null,
            "LANGUAGE_ID": "en",
            "LICENSE": "en_project",
            "LICENSE_TYPE": "project",
            "LICENSE_FAMILY": "project"
        })
    );
    // The application's scopes apply to its tokens.
    call_with_token(&app, &access, "crm.lead.list", json!({}))
        .await
        .assert_error(
            403,
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
        );
    call_with_token(&app, &access, "user.current", json!({}))
        .await
        .result();

    // Webhook context.
    let r = app.call("app.info", json!({})).await;
    assert_eq!(
        r.result(),
        &json!({"SCOPE": ["crm", "user"], "LICENSE": "en_project"})
    );
    // A token that belongs to no application: no application context.
    // (`token` counts its lifetime from the real time; the server's clock is set ahead.)
    let plain = app.token(20 * 365 * 86400, &["crm"]).await;
    call_with_token(&app, &plain, "app.info", json!({}))
        .await
        .assert_error(
            403,
            "ACCESS_DENIED",
            "Access denied! Application context required",
        );
    // Inside a batch, the same answers.
    let mut params = json!({"cmd": ["app.info"]});
    params["auth"] = json!(access);
    let r = app
        .call_at(&format!("{}/rest/", app.base), "batch", params)
        .await;
    assert_eq!(r.result()["result"][0]["ID"], json!(client.id));
}

async fn app_tokens_share_the_app_budget(b: Backend) {
    let clock = ManualClock::new(T0);
    let c = clock.clone();
    let app = spawn_with(b, move |config| {
        config.clock = c;
        config.limits.operating.synthetic_cost =
            leadtrace::limits::SyntheticCost::parse("10").unwrap();
    })
    .await;
    let client = register(&app, "budget", &["crm"], "https://budget.example.com/").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let code = authorize(&app, &client, "s").await["code"].clone();
        let r = exchange_code(&app, &client, &code).await;
        tokens.push(r.body["access_token"].as_str().unwrap().to_string());
    }
    let mut figures = Vec::new();
    for t in &tokens {
        let r = call_with_token(&app, t, "crm.lead.fields", json!({})).await;
        figures.push(r.body["time"]["operating"].as_f64().unwrap());
    }
    // Both tokens of one application are billed to the application (spec §2).
    assert!(figures[0] >= 10.0 && figures[0] < 15.0, "{figures:?}");
    assert!(figures[1] >= 20.0 && figures[1] < 25.0, "{figures:?}");
    // The webhook has its own budget.
    let r = app.call("crm.lead.fields", json!({})).await;
    let op = r.body["time"]["operating"].as_f64().unwrap();
    assert!((10.0..15.0).contains(&op), "{op}");
}
