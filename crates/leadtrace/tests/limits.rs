//! Request-rate and operating-time limits over HTTP (spec/limits-and-batch.md §1–2): 503 and 429
//! answers, `time.operating`, a batch counted once, commands billed per method. The server's clock
//! is a manual one, so buckets drain and baskets expire only when a test moves it.

mod common;
use common::*;
use leadtrace::limits::{ManualClock, RateKey, RateLimit, SyntheticCost};
use serde_json::{json, Value};
use std::sync::Arc;
use store::Backend;

backend_tests!(
    rate_limit_refuses_with_503_and_drains,
    batch_counts_once,
    refused_requests_do_not_run,
    buckets_are_per_portal_and_ip,
    operating_time_is_reported,
    operating_limit_blocks_the_next_call,
    operating_limit_inside_batch,
    operating_reported_but_not_blocking_by_default,
);

const T0: f64 = 1_800_000_000.0;

async fn spawn_limited(
    b: Backend,
    rate: Option<RateLimit>,
    cost: &str,
    block: bool,
) -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::new(T0);
    let c = clock.clone();
    let cost = SyntheticCost::parse(cost).unwrap();
    let app = spawn_with(b, move |config| {
        config.clock = c;
        config.limits.rate_limit = rate;
        config.limits.operating.block = block;
        config.limits.operating.synthetic_cost = cost;
    })
    .await;
    (app, clock)
}

fn rate(burst: f64, drain: f64) -> Option<RateLimit> {
    Some(RateLimit {
        burst,
        drain_per_second: drain,
    })
}

fn assert_limited(r: &Reply) {
    r.assert_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
}

async fn rate_limit_refuses_with_503_and_drains(b: Backend) {
    let (app, clock) = spawn_limited(b, Some(RateLimit::STANDARD), "", false).await;
    for i in 0..50 {
        let r = app.call("server.time", json!({})).await;
        assert_eq!(r.status, 200, "call {i} of the burst: {}", r.body);
    }
    assert_limited(&app.call("server.time", json!({})).await);
    // Any method, any encoding: the bucket counts HTTP requests.
    assert_limited(&app.get(&format!("{}crm.lead.list", app.hook)).await);
    // Two per second drain: after half a second exactly one more request fits.
    clock.advance(0.5);
    app.call("server.time", json!({})).await.result();
    assert_limited(&app.call("server.time", json!({})).await);
    clock.advance(5.0);
    for _ in 0..10 {
        app.call("server.time", json!({})).await.result();
    }
    assert_limited(&app.call("server.time", json!({})).await);
}

async fn batch_counts_once(b: Backend) {
    let (app, _clock) = spawn_limited(b, rate(2.0, 1.0), "", false).await;
    let cmd: Vec<String> = (0..50).map(|_| "server.time".to_string()).collect();
    let r = app.call("batch", json!({ "cmd": cmd })).await;
    let res = r.result();
    assert_eq!(res["result"].as_array().unwrap().len(), 50);
    assert_eq!(res["result_error"], json!([]));
    // The 50 commands counted as one request: one more fits, then the bucket is full.
    app.call("server.time", json!({})).await.result();
    assert_limited(&app.call("batch", json!({"cmd": ["server.time"]})).await);
}

async fn refused_requests_do_not_run(b: Backend) {
    let (app, clock) = spawn_limited(b, rate(1.0, 1.0), "", false).await;
    app.add_lead(json!({"TITLE": "first"})).await;
    let r = app
        .call("crm.lead.add", json!({"fields": {"TITLE": "refused"}}))
        .await;
    assert_limited(&r);
    clock.advance(1.0);
    let r = app
        .call("crm.lead.list", json!({"select": ["ID", "TITLE"]}))
        .await;
    assert_eq!(r.body["total"], json!(1), "the refused add wrote nothing");
    assert_eq!(r.result()[0]["TITLE"], json!("first"));
}

async fn buckets_are_per_portal_and_ip(b: Backend) {
    let (app, clock) = spawn_limited(b, rate(2.0, 1.0), "", false).await;
    let (_, other_hook) = app.user_with_rights("second", None, &["crm"]).await;
    app.call("server.time", json!({})).await.result();
    // Another webhook from the same address shares the bucket (the docs' rule).
    app.call_at(&other_hook, "server.time", json!({}))
        .await
        .result();
    assert_limited(&app.call_at(&other_hook, "server.time", json!({})).await);
    // A client from another address has its own bucket.
    let from_other_ip = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let url = format!("{}server.time", app.hook);
    for _ in 0..2 {
        let r = app.send(from_other_ip.post(&url).json(&json!({}))).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_limited(&app.send(from_other_ip.post(&url).json(&json!({}))).await);
    clock.advance(1.0);
    app.call("server.time", json!({})).await.result();

    // Keyed by credential instead: each webhook has its own bucket.
    let clock = ManualClock::new(T0);
    let c = clock.clone();
    let app = spawn_with(b, move |config| {
        config.clock = c;
        config.limits.rate_limit = rate(1.0, 1.0);
        config.limits.rate_key = RateKey::PortalCredential;
    })
    .await;
    let (_, other_hook) = app.user_with_rights("second", None, &["crm"]).await;
    app.call("server.time", json!({})).await.result();
    assert_limited(&app.call("server.time", json!({})).await);
    app.call_at(&other_hook, "server.time", json!({}))
        .await
        .result();
}

fn operating(time: &Value) -> f64 {
    time["operating"]
        .as_f64()
        .unwrap_or_else(|| panic!("time.operating is not a number: {time}"))
}

/// Billed seconds are the synthetic cost plus the (small, real) execution time.
fn assert_about(actual: f64, expected: f64, what: &str) {
    assert!(
        actual >= expected && actual < expected + 5.0,
        "{what}: expected {expected} plus the execution time, got {actual}"
    );
}

async fn operating_time_is_reported(b: Backend) {
    let (app, clock) = spawn_limited(b, None, "crm.lead.list=20,*=1", false).await;
    let r = app.call("crm.lead.list", json!({})).await;
    r.result();
    assert_about(operating(&r.body["time"]), 20.0, "first list");
    assert_eq!(r.body["time"]["operating_reset_at"], json!(T0 as i64 + 600));
    clock.advance(61.0);
    let r = app.call("crm.lead.list", json!({})).await;
    assert_about(operating(&r.body["time"]), 40.0, "second list");
    // The oldest basket decides when the figures drop.
    assert_eq!(r.body["time"]["operating_reset_at"], json!(T0 as i64 + 600));
    // Per method: another method starts from its own zero.
    let r = app.call("crm.lead.fields", json!({})).await;
    assert_about(operating(&r.body["time"]), 1.0, "another method");
    assert_eq!(
        r.body["time"]["operating_reset_at"],
        json!(T0 as i64 + 61 + 600)
    );
    // Per caller: another webhook starts from zero too.
    let (_, other_hook) = app.user_with_rights("second", None, &["crm"]).await;
    let r = app.call_at(&other_hook, "crm.lead.list", json!({})).await;
    assert_about(operating(&r.body["time"]), 20.0, "another webhook");
    // The first basket expires ten minutes after its first call.
    clock.set(T0 + 600.0);
    let r = app.call("crm.lead.list", json!({})).await;
    assert_about(
        operating(&r.body["time"]),
        40.0,
        "after the first basket expired",
    );
    assert_eq!(
        r.body["time"]["operating_reset_at"],
        json!(T0 as i64 + 61 + 600)
    );
}

async fn operating_limit_blocks_the_next_call(b: Backend) {
    let (app, clock) = spawn_limited(b, None, "crm.lead.list=200", true).await;
    // 200, 400: under 480. The third call crosses the limit and still runs.
    for expected in [200.0, 400.0, 600.0] {
        let r = app.call("crm.lead.list", json!({})).await;
        r.result();
        assert_about(operating(&r.body["time"]), expected, "list");
    }
    let r = app.call("crm.lead.list", json!({})).await;
    r.assert_error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
    // Other methods and other webhooks are unaffected.
    app.call("crm.lead.fields", json!({})).await.result();
    let (_, other_hook) = app.user_with_rights("second", None, &["crm"]).await;
    app.call_at(&other_hook, "crm.lead.list", json!({}))
        .await
        .result();
    // Blocked calls are not billed: ten minutes after the first call everything has expired.
    clock.advance(599.0);
    app.call("crm.lead.list", json!({})).await.assert_error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
    clock.advance(1.0);
    let r = app.call("crm.lead.list", json!({})).await;
    r.result();
    assert_about(operating(&r.body["time"]), 200.0, "after the window");
}

async fn operating_limit_inside_batch(b: Backend) {
    let (app, _clock) = spawn_limited(b, None, "crm.lead.list=300,*=1", true).await;
    // Commands are billed to their own methods; the outer batch never is.
    let r = app
        .call(
            "batch",
            json!({"cmd": {"a": "crm.lead.list", "b": "crm.lead.list", "c": "crm.lead.list", "f": "crm.lead.fields"}}),
        )
        .await;
    let res = r.result();
    assert_about(operating(&res["result_time"]["a"]), 300.0, "a");
    assert_about(operating(&res["result_time"]["b"]), 600.0, "b");
    assert_eq!(
        res["result_error"]["c"],
        json!({"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."})
    );
    assert!(res["result_time"].get("c").is_none());
    assert_about(operating(&res["result_time"]["f"]), 1.0, "f");
    assert_eq!(
        r.body["time"]["operating"],
        json!(0),
        "the outer batch is not billed"
    );
    // The batch itself is never blocked, and the direct call is blocked like the command.
    let r = app
        .call("batch", json!({"cmd": ["crm.lead.fields"], "halt": 1}))
        .await;
    assert_eq!(r.result()["result_error"], json!([]));
    app.call("crm.lead.list", json!({})).await.assert_error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
}

async fn operating_reported_but_not_blocking_by_default(b: Backend) {
    let clock = ManualClock::new(T0);
    let c = clock.clone();
    let app = spawn_with(b, move |config| {
        config.clock = c;
        config.limits.operating.synthetic_cost = SyntheticCost::parse("1000").unwrap();
    })
    .await;
    for expected in [1000.0, 2000.0, 3000.0] {
        let r = app.call("crm.lead.list", json!({})).await;
        r.result();
        assert_about(operating(&r.body["time"]), expected, "unblocked list");
    }
    // No rate limit by default either.
    for _ in 0..60 {
        app.call("server.time", json!({})).await.result();
    }
}
