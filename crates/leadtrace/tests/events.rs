//! Events over HTTP (spec/events.md) with a local receiver: event.bind/unbind/get and their
//! errors, outgoing webhooks from the CLI, the exact POST, retries with backoff, a restart in the
//! middle, de-duplication ids and the offline queue. Every test runs on SQLite and PostgreSQL.

mod common;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bx_wire::Params;
use common::*;
use leadtrace::config::EventsConfig;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Backend, DeliveryRecord, HandlerFilter, NewUser, Token};

backend_tests!(
    bind_get_unbind_and_their_errors,
    application_event_is_posted_exactly,
    outgoing_webhook_from_the_cli,
    failing_handler_is_retried_until_it_recovers,
    exhausted_and_disabled_retries,
    undelivered_events_survive_a_restart,
    bindings_and_product_rows_update_their_owner,
    offline_queue,
    offline_queue_skips_the_connectors_own_changes,
);

/// How long a test waits for something that should happen (never a timing assertion).
const PATIENCE: Duration = Duration::from_secs(30);

/// What the receiver answers a request with.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// Answer 200, but only after this long (longer than the server's timeout: a failure).
    Slow(Duration),
}

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: String,
    form: Params,
    /// The status it was answered with.
    answered: u16,
}

impl Received {
    fn text(&self, key: &str) -> String {
        self.form
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {key} in {}", self.body))
            .to_string()
    }

    fn auth(&self, key: &str) -> String {
        self.form["auth"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no auth[{key}] in {}", self.body))
            .to_string()
    }

    fn lead_id(&self) -> i64 {
        self.form["data"]["FIELDS"]["ID"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no data[FIELDS][ID] in {}", self.body))
    }

    fn event_id(&self) -> String {
        header(&self.headers, "x-leadtrace-event-id")
    }

    fn attempt(&self) -> String {
        header(&self.headers, "x-leadtrace-attempt")
    }

    /// The keys of the form in order, brackets included (`data[FIELDS][ID]`).
    fn keys(&self) -> Vec<String> {
        self.body
            .split('&')
            .map(|pair| {
                let key = pair.split('=').next().unwrap_or("");
                key.replace("%5B", "[").replace("%5D", "]")
            })
            .collect()
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_string()
}

#[derive(Default)]
struct Inbox {
    got: Vec<Received>,
    /// Answers for the next requests, in order; then 200, or `fallback`.
    plan: VecDeque<Answer>,
    fallback: Option<Answer>,
}

/// An HTTP server on port 0 that records every POST and answers as planned.
#[derive(Clone)]
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let answer = {
        let mut i = inbox.lock().unwrap();
        let answer = i
            .plan
            .pop_front()
            .or(i.fallback)
            .unwrap_or(Answer::Status(200));
        let answered = match answer {
            Answer::Status(s) => s,
            Answer::Slow(_) => 200,
        };
        i.got.push(Received {
            path: uri.path().to_string(),
            form: bx_wire::php::parse_str(&body).unwrap(),
            headers,
            body,
            answered,
        });
        answer
    };
    match answer {
        Answer::Status(s) => StatusCode::from_u16(s).unwrap(),
        Answer::Slow(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK
        }
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = axum::Router::new()
            .route("/{*path}", post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inbox }
    }

    fn at(&self, path: &str) -> String {
        format!("{}/{path}", self.url)
    }

    fn plan(&self, answers: &[Answer]) {
        self.inbox
            .lock()
            .unwrap()
            .plan
            .extend(answers.iter().copied());
    }

    fn fallback(&self, answer: Option<Answer>) {
        self.inbox.lock().unwrap().fallback = answer;
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().got.clone()
    }

    /// Waits until `pred` holds for what has been received.
    async fn wait_until(&self, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let got = self.got();
            if pred(&got) {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited for {what}; received {:#?}",
                got.iter().map(|r| (&r.path, &r.body)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        self.wait_until(&format!("{n} requests"), |g| g.len() >= n)
            .await
    }
}

/// Small delays so retries happen within a test.
fn fast_retries() -> EventsConfig {
    EventsConfig {
        retry_enabled: true,
        max_attempts: 5,
        initial_delay: Duration::from_millis(50),
        multiplier: 2.0,
        max_delay: Duration::from_millis(200),
        timeout: Duration::from_millis(500),
    }
}

impl TestApp {
    /// A call with an access token (application context) on `/rest/{method}`.
    async fn app_call(&self, token: &str, method: &str, mut params: Value) -> Reply {
        params["auth"] = json!(token);
        self.send(
            self.client
                .post(format!("{}/rest/{method}", self.base))
                .json(&params),
        )
        .await
    }

    fn database_url(&self) -> String {
        self.running.state.config().database_url.clone()
    }

    async fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.running
            .state
            .store()
            .read(|tx| Box::pin(async move { tx.deliveries(1, None).await }))
            .await
            .unwrap()
    }

    async fn wait_for_deliveries(
        &self,
        what: &str,
        pred: impl Fn(&[DeliveryRecord]) -> bool,
    ) -> Vec<DeliveryRecord> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let rows = self.deliveries().await;
            if pred(&rows) {
                return rows;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited for {what}; outbox: {rows:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ids of the handlers of the portal, by event name and URL.
    async fn handler_id(&self, event: &str, url: &str) -> i64 {
        let (event, url) = (event.to_string(), url.to_string());
        self.running
            .state
            .store()
            .read(move |tx| {
                Box::pin(async move {
                    let all = tx.event_handlers(1, &HandlerFilter::default()).await?;
                    Ok(all
                        .into_iter()
                        .find(|h| h.event_name == event && h.handler == url)
                        .map(|h| h.id))
                })
            })
            .await
            .unwrap()
            .expect("handler registered")
    }

    /// A user without administrator rights (may add and read leads) and an access token of theirs.
    async fn plain_user_token(&self, login: &str) -> (i64, String) {
        let login = login.to_string();
        let token = format!("tok{login}{}", leadtrace::bootstrap::random_code(8));
        let t = token.clone();
        let id = self
            .running
            .state
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    let rights = crm::Rights::parse("lead=read:all,add:all,update:all").unwrap();
                    let role = tx.add_role(1, &format!("role-{login}"), &rights).await?;
                    let id = tx
                        .add_user(
                            1,
                            &NewUser {
                                login: login.clone(),
                                name: login,
                                role_id: Some(role),
                                ..NewUser::default()
                            },
                        )
                        .await?;
                    tx.add_token(&Token {
                        token: t,
                        portal_id: 1,
                        user_id: id,
                        scopes: vec!["crm".into()],
                        expires_at: chrono::Utc::now().timestamp() + 3600,
                        app_id: None,
                    })
                    .await?;
                    Ok(id)
                })
            })
            .await
            .unwrap();
        (id, token)
    }
}

async fn bind_get_unbind_and_their_errors(b: Backend) {
    let app = spawn_app(b).await;
    let url = "https://handler.example/events";
    let wrong = (
        403,
        "WRONG_AUTH_TYPE",
        "Access denied! Current authorization type is denied for this method",
    );
    // Webhooks have no application context.
    for method in [
        "event.bind",
        "event.unbind",
        "event.get",
        "event.offline.get",
        "event.offline.list",
        "event.offline.clear",
        "event.offline.error",
    ] {
        app.call(method, json!({"event": "ONCRMLEADADD", "handler": url}))
            .await
            .assert_error(wrong.0, wrong.1, wrong.2);
    }

    let t = app.token(3600, &["crm", "user"]).await;
    let bind = |p: Value| app.app_call(&t, "event.bind", p);
    assert_eq!(
        bind(json!({"event": "onCrmLeadAdd", "handler": url}))
            .await
            .result(),
        &json!(true)
    );
    bind(json!({"event": "ONCRMLEADADD", "handler": url}))
        .await
        .assert_error(
            400,
            "ERROR_CORE",
            "Unable to set event handler: Handler already binded",
        );
    // Parameter names in any case; another auth_type is another handler.
    assert_eq!(
        bind(json!({"EVENT": "oncrmleadadd", "HANDLER": url, "AUTH_TYPE": 1}))
            .await
            .result(),
        &json!(true)
    );
    bind(json!({"event": "onCrmLeadExplode", "handler": url}))
        .await
        .assert_error(400, "ERROR_EVENT_NOT_FOUND", "Event not found");
    bind(json!({"event": "ONCRMLEADADD", "handler": url, "event_type": "sometimes"}))
        .await
        .assert_error(
            400,
            "ERROR_ARGUMENT",
            "Value must be one of {online|offline}",
        );
    let r = bind(json!({"event": "ONCRMLEADADD"})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "Argument 'handler' is null or empty");
    assert_eq!(r.body["argument"], json!("handler"));
    bind(json!({"event": "ONCRMLEADADD", "handler": "not a url"}))
        .await
        .assert_error(
            400,
            "ERROR_ARGUMENT",
            "Handler must be an absolute http:// or https:// URL",
        );
    // An event of a scope the application does not have does not exist for it.
    let user_only = app.token(3600, &["user"]).await;
    app.app_call(
        &user_only,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "handler": url}),
    )
    .await
    .assert_error(400, "ERROR_EVENT_NOT_FOUND", "Event not found");

    // A user who is not an administrator binds only as themselves, and never offline.
    let (uid, plain) = app.plain_user_token("manager").await;
    app.app_call(
        &plain,
        "event.bind",
        json!({"event": "ONCRMLEADUPDATE", "handler": url, "auth_type": 1}),
    )
    .await
    .assert_error(
        403,
        "ACCESS_DENIED",
        "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
    );
    app.app_call(
        &plain,
        "event.bind",
        json!({"event": "ONCRMLEADUPDATE", "event_type": "offline"}),
    )
    .await
    .assert_error(
        403,
        "ACCESS_DENIED",
        "Access denied! Offline events binding requires administrator access rights",
    );
    app.app_call(
        &plain,
        "event.bind",
        json!({"event": "ONCRMLEADUPDATE", "handler": url}),
    )
    .await
    .result();
    let mine = app.app_call(&plain, "event.get", json!({})).await;
    assert_eq!(
        mine.result(),
        &json!([{"event": "ONCRMLEADUPDATE", "handler": url, "auth_type": uid.to_string(), "offline": 0}])
    );
    let all = app.app_call(&t, "event.get", json!({})).await;
    assert_eq!(
        all.result(),
        &json!([
            {"event": "ONCRMLEADADD", "handler": url, "auth_type": "0", "offline": 0},
            {"event": "ONCRMLEADADD", "handler": url, "auth_type": "1", "offline": 0},
            {"event": "ONCRMLEADUPDATE", "handler": url, "auth_type": uid.to_string(), "offline": 0},
        ])
    );

    // Unbinding without auth_type removes only the handler registered without one.
    let unbind = |p: Value| app.app_call(&t, "event.unbind", p);
    assert_eq!(
        unbind(json!({"event": "onCrmLeadAdd", "handler": url}))
            .await
            .result(),
        &json!({"count": 1})
    );
    assert_eq!(
        unbind(json!({"event": "ONCRMLEADADD", "handler": url}))
            .await
            .result(),
        &json!({"count": 0})
    );
    assert_eq!(
        unbind(json!({"EVENT": "ONCRMLEADADD", "HANDLER": url, "AUTH_TYPE": "1"}))
            .await
            .result(),
        &json!({"count": 1})
    );
    assert_eq!(
        app.app_call(
            &plain,
            "event.unbind",
            json!({"event": "ONCRMLEADUPDATE", "handler": url})
        )
        .await
        .result(),
        &json!({"count": 1})
    );
    assert_eq!(
        app.app_call(&t, "event.get", json!({})).await.result(),
        &json!([])
    );

    // `events`: the catalogue, for webhooks and applications alike.
    let names = app.call("events", json!({})).await;
    let names = names.result().as_array().unwrap().clone();
    for n in [
        "ONOFFLINEEVENT",
        "ONCRMLEADADD",
        "ONCRMQUOTEUSERFIELDSETENUMVALUES",
    ] {
        assert!(names.contains(&json!(n)), "{n} in {names:?}");
    }
    let crm_only = app.call("events", json!({"SCOPE": "crm"})).await;
    assert!(!crm_only
        .result()
        .as_array()
        .unwrap()
        .contains(&json!("ONOFFLINEEVENT")));
}

async fn application_event_is_posted_exactly(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let t = app.token(3600, &["crm", "user"]).await;
    let (first, second) = (rx.at("first"), rx.at("second"));
    for event in ["ONCRMLEADADD", "ONCRMLEADUPDATE", "ONCRMLEADDELETE"] {
        app.app_call(&t, "event.bind", json!({"event": event, "handler": first}))
            .await
            .result();
    }
    app.app_call(
        &t,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "handler": second}),
    )
    .await
    .result();

    // The change comes from the webhook of user 1; auth_type 0 sends that user's token.
    let lead = app.add_lead(json!({"TITLE": "event me"})).await;
    let got = rx.wait_for(2).await;
    let at_first: Vec<&Received> = got.iter().filter(|r| r.path == "/first").collect();
    let r = at_first[0];
    assert_eq!(
        header(&r.headers, "content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        r.keys(),
        [
            "event",
            "event_handler_id",
            "data[FIELDS][ID]",
            "ts",
            "auth[access_token]",
            "auth[expires]",
            "auth[expires_in]",
            "auth[scope]",
            "auth[domain]",
            "auth[server_endpoint]",
            "auth[status]",
            "auth[client_endpoint]",
            "auth[member_id]",
            "auth[user_id]",
            "auth[application_token]",
        ]
    );
    // Brackets are percent-encoded, as PHP's http_build_query writes them.
    assert!(
        r.body.starts_with(&format!(
            "event=ONCRMLEADADD&event_handler_id={}&data%5BFIELDS%5D%5BID%5D={lead}&ts=",
            app.handler_id("ONCRMLEADADD", &first).await
        )),
        "{}",
        r.body
    );
    let port = app.running.addr.port();
    assert_eq!(r.auth("domain"), format!("127.0.0.1:{port}"));
    assert_eq!(r.auth("client_endpoint"), format!("{}/rest/", app.base));
    assert_eq!(r.auth("server_endpoint"), format!("{}/rest/", app.base));
    assert_eq!(r.auth("status"), "L");
    assert_eq!(r.auth("scope"), "crm,user");
    assert_eq!(r.auth("expires_in"), "3600");
    assert_eq!(r.auth("user_id"), "1");
    let ts: i64 = r.text("ts").parse().unwrap();
    let expires: i64 = r.auth("expires").parse().unwrap();
    assert!(expires > ts, "expires {expires} after ts {ts}");
    let member = r.auth("member_id");
    assert!(member.len() == 32 && member.chars().all(|c| c.is_ascii_hexdigit()));
    let app_token = r.auth("application_token");
    assert_eq!(app_token.len(), 32);
    assert_eq!(r.attempt(), "1");

    // The access token works for calls back, as the handler's token.
    let back = app
        .get(&format!(
            "{}/rest/crm.lead.get?id={lead}&auth={}",
            app.base,
            r.auth("access_token")
        ))
        .await;
    assert_eq!(back.result()["TITLE"], json!("event me"));

    // The second handler got the same event under its own handler id and event id.
    let other = got.iter().find(|r| r.path == "/second").unwrap();
    assert_eq!(
        other.text("event_handler_id"),
        app.handler_id("ONCRMLEADADD", &second).await.to_string()
    );
    assert_eq!(other.lead_id(), lead);
    assert_ne!(other.event_id(), r.event_id());

    // Update (also one that changes nothing) and delete follow, each with its own id. Every
    // `event.bind` is its own handler and order is kept per handler, so the two updates arrive in
    // order while the delete (another handler) may overtake the second one.
    app.call(
        "crm.lead.update",
        json!({"id": lead, "fields": {"TITLE": "x"}}),
    )
    .await
    .result();
    app.call("crm.lead.update", json!({"id": lead, "fields": {}}))
        .await
        .result();
    app.call("crm.lead.delete", json!({"id": lead}))
        .await
        .result();
    let got = rx
        .wait_until("4 events at /first", |g| {
            g.iter().filter(|r| r.path == "/first").count() >= 4
        })
        .await;
    let at_first: Vec<&Received> = got.iter().filter(|r| r.path == "/first").collect();
    let events: Vec<String> = at_first.iter().map(|r| r.text("event")).collect();
    let mut kinds = events.clone();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ONCRMLEADADD",
            "ONCRMLEADDELETE",
            "ONCRMLEADUPDATE",
            "ONCRMLEADUPDATE"
        ],
        "arrived: {events:?}"
    );
    assert_eq!(
        events[0], "ONCRMLEADADD",
        "the add happened before anything else was changed"
    );
    let update_ts: Vec<i64> = at_first
        .iter()
        .filter(|r| r.text("event") == "ONCRMLEADUPDATE")
        .map(|r| r.text("ts").parse().unwrap())
        .collect();
    assert!(
        update_ts[0] <= update_ts[1],
        "one handler's events keep their order: {update_ts:?}"
    );
    assert!(at_first.iter().all(|r| r.lead_id() == lead));
    assert!(at_first
        .iter()
        .all(|r| r.auth("application_token") == app_token));
    let mut ids: Vec<String> = at_first.iter().map(|r| r.event_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every event has its own de-duplication id");

    // A failed write sends nothing: its outbox rows are rolled back with it.
    let before = app.deliveries().await.len();
    app.call("crm.lead.add", json!({"fields": {"STATUS_ID": "NO_SUCH"}}))
        .await;
    assert_eq!(app.deliveries().await.len(), before);
}

async fn outgoing_webhook_from_the_cli(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let url = rx.at("hook");
    let cli = |args: Vec<String>| {
        let db = app.database_url();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadtrace"))
                .env("DATABASE_URL", db)
                .args(&args)
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let printed = cli(args(&[
        "event",
        "add",
        "--event",
        "onCrmLeadAdd",
        "--handler",
        &url,
    ]))
    .await;
    let (id, token) = printed.split_once('\t').expect("ID<TAB>token");
    let id: i64 = id.parse().unwrap();
    assert_eq!(token.len(), 32);
    // The webhook's other events share its token.
    let printed = cli(args(&[
        "event",
        "add",
        "--event",
        "ONCRMLEADUPDATE",
        "--handler",
        &url,
    ]))
    .await;
    let (update_id, same_token) = printed.split_once('\t').unwrap();
    assert_eq!(same_token, token);
    let listed = cli(args(&["event", "list"])).await;
    assert!(
        listed.contains(&format!("{id}\twebhook\tONCRMLEADADD\t{url}")),
        "{listed}"
    );

    let lead = app.add_lead(json!({"TITLE": "hooked"})).await;
    let got = rx.wait_for(1).await;
    let r = &got[0];
    let ts = r.text("ts");
    let created_at = app
        .running
        .state
        .store()
        .read(|tx| Box::pin(async move { tx.portal(1).await }))
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let member = leadtrace::delivery::member_id(1, created_at);
    let port = app.running.addr.port();
    // Exactly Bitrix24's outgoing-webhook request: no tokens, the portal and the webhook's token.
    assert_eq!(
        r.body,
        format!(
            "event=ONCRMLEADADD&event_handler_id={id}&data%5BFIELDS%5D%5BID%5D={lead}&ts={ts}\
             &auth%5Bdomain%5D=127.0.0.1%3A{port}\
             &auth%5Bclient_endpoint%5D=http%3A%2F%2F127.0.0.1%3A{port}%2Frest%2F\
             &auth%5Bserver_endpoint%5D=http%3A%2F%2F127.0.0.1%3A{port}%2Frest%2F\
             &auth%5Bmember_id%5D={member}&auth%5Bapplication_token%5D={token}"
        )
    );

    // Removed: later changes queue nothing for it; the webhook's other event still goes out.
    cli(args(&["event", "remove", &id.to_string()])).await;
    let second = app.add_lead(json!({"TITLE": "unhooked"})).await;
    app.call(
        "crm.lead.update",
        json!({"id": second, "fields": {"TITLE": "u"}}),
    )
    .await
    .result();
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].text("event"), "ONCRMLEADUPDATE");
    assert_eq!(got[1].text("event_handler_id"), update_id);
    assert_eq!(got[1].lead_id(), second);
    let rows = app.deliveries().await;
    assert_eq!(
        rows.iter()
            .map(|d| d.event_name.as_str())
            .collect::<Vec<_>>(),
        ["ONCRMLEADADD", "ONCRMLEADUPDATE"],
        "{rows:#?}"
    );
    let log = cli(args(&["event", "log"])).await;
    assert!(log.contains("delivered"), "{log}");
}

async fn failing_handler_is_retried_until_it_recovers(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_with(b, |c| c.events = fast_retries()).await;
    let t = app.token(3600, &["crm"]).await;
    let url = rx.at("flaky");
    app.app_call(
        &t,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "handler": url}),
    )
    .await
    .result();
    // A 500, then no answer within the timeout, then success.
    rx.plan(&[Answer::Status(500), Answer::Slow(Duration::from_secs(3))]);
    let lead = app.add_lead(json!({"TITLE": "retry me"})).await;
    let got = rx
        .wait_until("a successful attempt", |g| {
            g.iter()
                .any(|r| r.answered == 200 && matches!(r.attempt().as_str(), "3"))
        })
        .await;
    assert_eq!(got.len(), 3);
    assert_eq!(
        got.iter().map(Received::attempt).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    // Every attempt is the same request (same ts, handler id, data and token; only
    // `expires_in` counts down), with the same event id.
    let without_countdown = |r: &Received| {
        let mut form = r.form.clone();
        form["auth"].as_object_mut().unwrap().remove("expires_in");
        form
    };
    assert!(
        got.iter()
            .all(|r| without_countdown(r) == without_countdown(&got[0])),
        "{got:#?}"
    );
    assert!(got.iter().all(|r| r.event_id() == got[0].event_id()));
    assert_eq!(got[0].lead_id(), lead);
    let rows = app
        .wait_for_deliveries("the delivery recorded", |d| {
            d.first().is_some_and(|d| d.state == "delivered")
        })
        .await;
    assert_eq!((rows[0].attempts, rows[0].last_status), (3, Some(200)));

    // While a handler fails, its later events wait: they arrive after, in order.
    rx.plan(&[Answer::Status(503), Answer::Status(503)]);
    let a = app.add_lead(json!({"TITLE": "a"})).await;
    let bb = app.add_lead(json!({"TITLE": "b"})).await;
    let got = rx.wait_for(7).await;
    let order: Vec<(i64, u16)> = got[3..].iter().map(|r| (r.lead_id(), r.answered)).collect();
    assert_eq!(order, [(a, 503), (a, 503), (a, 200), (bb, 200)]);
}

async fn exhausted_and_disabled_retries(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_with(b, |c| {
        c.events = EventsConfig {
            max_attempts: 3,
            ..fast_retries()
        }
    })
    .await;
    let t = app.token(3600, &["crm"]).await;
    let url = rx.at("down");
    app.app_call(
        &t,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "handler": url}),
    )
    .await
    .result();
    rx.plan(&[Answer::Status(500); 3]);
    let lost = app.add_lead(json!({"TITLE": "lost"})).await;
    let rows = app
        .wait_for_deliveries("the delivery to fail", |d| {
            d.first().is_some_and(|d| d.state == "failed")
        })
        .await;
    assert_eq!(rows[0].attempts, 3);
    assert_eq!(rows[0].last_status, Some(500));
    assert_eq!(rx.got().len(), 3);
    // The handler is not blocked by the event it gave up on.
    let next = app.add_lead(json!({"TITLE": "next"})).await;
    let got = rx.wait_for(4).await;
    assert_eq!(got[3].lead_id(), next);
    assert!(got[..3].iter().all(|r| r.lead_id() == lost));

    // Bitrix24's behaviour: one attempt, then the event is dropped (and recorded as failed).
    let rx = Receiver::start().await;
    let once = spawn_with(b, |c| {
        c.events = EventsConfig {
            retry_enabled: false,
            ..fast_retries()
        }
    })
    .await;
    let t = once.token(3600, &["crm"]).await;
    once.app_call(
        &t,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "handler": rx.at("x")}),
    )
    .await
    .result();
    rx.plan(&[Answer::Status(500)]);
    once.add_lead(json!({"TITLE": "once"})).await;
    let rows = once
        .wait_for_deliveries("the single attempt to fail", |d| {
            d.first().is_some_and(|d| d.state == "failed")
        })
        .await;
    assert_eq!(rows[0].attempts, 1);
    assert_eq!(rx.got().len(), 1);
}

async fn undelivered_events_survive_a_restart(b: Backend) {
    let rx = Receiver::start().await;
    rx.fallback(Some(Answer::Status(503)));
    let patient = EventsConfig {
        max_attempts: 1000,
        ..fast_retries()
    };
    let first = spawn_with(b, |c| c.events = patient.clone()).await;
    let t = first.token(3600, &["crm"]).await;
    let url = rx.at("later");
    first
        .app_call(
            &t,
            "event.bind",
            json!({"event": "ONCRMLEADADD", "handler": url}),
        )
        .await
        .result();
    let leads = [
        first.add_lead(json!({"TITLE": "one"})).await,
        first.add_lead(json!({"TITLE": "two"})).await,
        first.add_lead(json!({"TITLE": "three"})).await,
    ];
    rx.wait_for(2).await;
    let failed_id = rx.got()[0].event_id();

    // Stop with everything undelivered; the receiver recovers; a new server on the same database.
    let db = first.database_url();
    let TestApp { running, .. } = first;
    running.shutdown().await;
    let pending: Vec<DeliveryRecord> = {
        let store = store::Store::open(&db).await.unwrap();
        let rows = store
            .read(|tx| Box::pin(async move { tx.deliveries(1, None).await }))
            .await
            .unwrap();
        store.close().await;
        rows
    };
    assert_eq!(pending.len(), 3);
    assert!(pending.iter().all(|d| d.state == "pending"), "{pending:#?}");
    assert!(pending[0].attempts >= 1);
    rx.fallback(None);
    let tried_before = rx.got().len();

    let second = spawn_on(db, |c| c.events = patient.clone()).await;
    let got = rx
        .wait_until("the three events delivered", |g| {
            g.iter().filter(|r| r.answered == 200).count() >= 3
        })
        .await;
    let delivered: Vec<&Received> = got.iter().filter(|r| r.answered == 200).collect();
    assert_eq!(
        delivered.iter().map(|r| r.lead_id()).collect::<Vec<_>>(),
        leads
    );
    // The same de-duplication id as before the restart, and a later attempt number.
    assert_eq!(delivered[0].event_id(), failed_id);
    assert!(got[tried_before..].iter().all(|r| r.answered == 200));
    second
        .wait_for_deliveries("all recorded as delivered", |d| {
            d.len() == 3 && d.iter().all(|d| d.state == "delivered")
        })
        .await;
}

async fn offline_queue(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let t = app.token(3600, &["crm"]).await;
    let call = |m: &'static str, p: Value| app.app_call(&t, m, p);
    for event in ["ONCRMLEADADD", "onCrmLeadUpdate"] {
        call(
            "event.bind",
            json!({"event": event, "event_type": "offline"}),
        )
        .await
        .result();
    }
    call(
        "event.bind",
        json!({"event": "ONCRMLEADADD", "event_type": "OFFLINE"}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Unable to set event handler: Handler already binded",
    );
    // The application hears that its queue has news.
    call(
        "event.bind",
        json!({"event": "onOfflineEvent", "handler": rx.at("news"), "options": {"minTimeout": 0}}),
    )
    .await
    .result();
    let handlers = call("event.get", json!({})).await;
    assert_eq!(
        handlers.result()[0],
        json!({"event": "ONCRMLEADADD", "handler": "", "auth_type": "0", "offline": 1})
    );

    // One row per record: the latest change wins.
    let a = app.add_lead(json!({"TITLE": "a"})).await;
    for title in ["a1", "a2"] {
        app.call(
            "crm.lead.update",
            json!({"id": a, "fields": {"TITLE": title}}),
        )
        .await
        .result();
    }
    let bb = app.add_lead(json!({"TITLE": "b"})).await;
    let list = call("event.offline.list", json!({})).await;
    assert_eq!(list.body["total"], json!(2));
    let rows = list.result().as_array().unwrap().clone();
    assert_eq!(
        rows[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "ID",
            "TIMESTAMP_X",
            "EVENT_NAME",
            "EVENT_DATA",
            "EVENT_ADDITIONAL",
            "MESSAGE_ID",
            "PROCESS_ID",
            "ERROR"
        ]
    );
    assert_eq!(rows[0]["EVENT_NAME"], json!("ONCRMLEADUPDATE"));
    assert_eq!(
        rows[0]["EVENT_DATA"],
        json!({"FIELDS": {"ID": a.to_string()}})
    );
    assert_eq!(rows[0]["EVENT_ADDITIONAL"], json!({"user_id": 1}));
    assert_eq!(rows[0]["MESSAGE_ID"], json!(format!("CRM_LEAD_{a}")));
    assert_eq!(
        (&rows[0]["PROCESS_ID"], &rows[0]["ERROR"]),
        (&json!(""), &json!("0"))
    );
    assert!(rows[0]["TIMESTAMP_X"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(rows[1]["EVENT_NAME"], json!("ONCRMLEADADD"));
    let only_adds = call(
        "event.offline.list",
        json!({"filter": {"=EVENT_NAME": "onCrmLeadAdd"}, "order": {"ID": "DESC"}}),
    )
    .await;
    assert_eq!(
        only_adds.result()[0]["MESSAGE_ID"],
        json!(format!("CRM_LEAD_{bb}"))
    );
    assert_eq!(only_adds.body["total"], json!(1));
    call("event.offline.list", json!({"filter": {"TITLE": "x"}}))
        .await
        .assert_error(400, "ERROR_ARGUMENT", "Unknown filter field 'TITLE'");

    // clear=0: the rows are held by a process until cleared.
    let got = call("event.offline.get", json!({"CLEAR": 0, "limit": 1})).await;
    let p1 = got.result()["process_id"].as_str().unwrap().to_string();
    assert_eq!(p1.len(), 32);
    let taken = got.result()["events"].as_array().unwrap().clone();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0]["MESSAGE_ID"], json!(format!("CRM_LEAD_{a}")));
    assert!(taken[0].get("PROCESS_ID").is_none());
    let got = call("event.offline.get", json!({"clear": 0})).await;
    let p2 = got.result()["process_id"].as_str().unwrap().to_string();
    assert_ne!(p1, p2);
    assert_eq!(
        got.result()["events"][0]["MESSAGE_ID"],
        json!(format!("CRM_LEAD_{bb}"))
    );
    assert_eq!(
        call("event.offline.get", json!({"clear": 0}))
            .await
            .result()["events"],
        json!([])
    );
    // A change of a held record is a new row.
    app.call(
        "crm.lead.update",
        json!({"id": a, "fields": {"TITLE": "a3"}}),
    )
    .await
    .result();
    let list = call("event.offline.list", json!({"filter": {"PROCESS_ID": p1}})).await;
    assert_eq!(list.body["total"], json!(1));
    assert_eq!(
        call("event.offline.list", json!({})).await.body["total"],
        json!(3)
    );

    // error: marked, released, and only handed out again with error=1.
    call(
        "event.offline.error",
        json!({"process_id": p2, "message_id": [format!("CRM_LEAD_{bb}")]}),
    )
    .await
    .result();
    let got = call("event.offline.get", json!({})).await;
    assert_eq!(got.result()["process_id"], Value::Null);
    let events = got.result()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0]["EVENT_DATA"],
        json!({"FIELDS": {"ID": a.to_string()}})
    );
    let got = call("event.offline.get", json!({"error": 1})).await;
    assert_eq!(
        got.result()["events"][0]["MESSAGE_ID"],
        json!(format!("CRM_LEAD_{bb}"))
    );

    // clear: the process's rows go.
    call("event.offline.clear", json!({})).await.assert_error(
        400,
        "ERROR_ARGUMENT",
        "Argument 'process_id' is null or empty",
    );
    call("event.offline.clear", json!({"process_id": p1, "id": [0]}))
        .await
        .result();
    assert_eq!(
        call("event.offline.list", json!({})).await.body["total"],
        json!(1)
    );
    call("event.offline.clear", json!({"process_id": p1}))
        .await
        .result();
    assert_eq!(
        call("event.offline.list", json!({})).await.body["total"],
        json!(0)
    );

    // Administrators only.
    let (_, plain) = app.plain_user_token("clerk").await;
    app.app_call(&plain, "event.offline.list", json!({}))
        .await
        .assert_error(403, "ACCESS_DENIED", "Access denied!");

    // ONOFFLINEEVENT: no data, the application's auth block.
    let news = rx.wait_for(1).await;
    assert_eq!(news[0].text("event"), "ONOFFLINEEVENT");
    assert!(news[0].form.get("data").is_none(), "{}", news[0].body);
    assert_eq!(news[0].auth("status"), "L");
}

async fn offline_queue_skips_the_connectors_own_changes(b: Backend) {
    let app = spawn_app(b).await;
    let t = app.token(3600, &["crm"]).await;
    let url = format!("{}/rest/", app.base);
    let with_connector = |method: &str, mut p: Value| {
        p["auth"] = json!(t);
        p["auth_connector"] = json!("sync1");
        app.send(app.client.post(format!("{url}{method}")).json(&p))
    };
    with_connector(
        "event.bind",
        json!({"event": "ONCRMLEADADD", "event_type": "offline"}),
    )
    .await
    .result();
    app.app_call(
        &t,
        "event.bind",
        json!({"event": "ONCRMLEADADD", "event_type": "offline"}),
    )
    .await
    .result();
    // The synchronising application's own change: only the other queue records it.
    let own = with_connector("crm.lead.add", json!({"fields": {"TITLE": "own"}}))
        .await
        .result()
        .as_i64()
        .unwrap();
    let foreign = app.add_lead(json!({"TITLE": "foreign"})).await;
    let sync1 = with_connector("event.offline.list", json!({})).await;
    let ids: Vec<Value> = sync1
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EVENT_DATA"]["FIELDS"]["ID"].clone())
        .collect();
    assert_eq!(ids, [json!(foreign.to_string())]);
    let plain = app.app_call(&t, "event.offline.list", json!({})).await;
    assert_eq!(plain.body["total"], json!(2));
    assert!(own < foreign);
}

/// A change of a record's bindings or product rows fires the record's `…Update` (F5).
async fn bindings_and_product_rows_update_their_owner(b: Backend) {
    let app = spawn_app(b).await;
    let t = app.token(3600, &["crm"]).await;
    let call = |m: &'static str, p: Value| app.app_call(&t, m, p);
    call(
        "event.bind",
        json!({"event": "ONCRMDEALUPDATE", "event_type": "offline"}),
    )
    .await
    .result();
    let deal = app.add("deal", json!({"TITLE": "d"})).await;
    let contact = app.add("contact", json!({"NAME": "c"})).await;
    let queued = || async {
        let got = call("event.offline.get", json!({"clear": 1})).await;
        got.result()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["EVENT_NAME"].as_str().unwrap(),
                    e["MESSAGE_ID"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(queued().await.is_empty(), "adds are not updates");
    let expected = vec![format!("ONCRMDEALUPDATE CRM_DEAL_{deal}")];

    app.call(
        "crm.deal.contact.add",
        json!({"id": deal, "fields": {"CONTACT_ID": contact}}),
    )
    .await
    .result();
    assert_eq!(queued().await, expected);
    app.call(
        "crm.deal.productrows.set",
        json!({"id": deal, "rows": [{"PRODUCT_NAME": "p", "PRICE": 10, "QUANTITY": 2}]}),
    )
    .await
    .result();
    assert_eq!(queued().await, expected);
    let r = app
        .call(
            "crm.item.productrow.add",
            json!({"fields": {"ownerType": "D", "ownerId": deal, "productName": "q", "price": 1}}),
        )
        .await;
    r.result();
    assert_eq!(queued().await, expected);
}
