//! The event delivery worker: claims due outbox rows, POSTs each to its handler exactly as
//! Bitrix24 does (spec/events.md §3) and records the outcome, retrying with backoff when allowed.
//!
//! At least once: a row is marked delivered only after a 2xx answer, so a crash between the two
//! sends it again; every request carries the row's de-duplication id in `X-Leadtrace-Event-Id`
//! (the same on each attempt, like `ts` and `event_handler_id`). Nothing is lost across restarts:
//! the rows are in the database, a stopping worker hands its claims back, and a crashed one's
//! claims expire after a lease (on SQLite, where only one server delivers, they are freed at start).

use crate::config::EventsConfig;
use bx_wire::{ApiError, Params};
use md5::{Digest, Md5};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use store::{Delivery, DeliveryOutcome, HandlerKind, Store};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Deliveries in flight at once (each to a different handler: a handler gets one at a time).
const MAX_IN_FLIGHT: usize = 16;
/// How often the worker looks for due rows when nothing wakes it (other instances' writes, the
/// CLI, a lease that expired).
const POLL: Duration = Duration::from_secs(1);
/// After a claim came back empty although a row looked due (another instance holds it).
const BACKOFF_ON_RACE: Duration = Duration::from_millis(100);
/// Finished rows (and the tokens minted for them) are kept this long for inspection.
const KEEP_FINISHED: Duration = Duration::from_secs(7 * 24 * 3600);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The header carrying the de-duplication id.
pub const EVENT_ID_HEADER: &str = "X-Leadtrace-Event-Id";
/// The header carrying the attempt number (1 for the first).
pub const ATTEMPT_HEADER: &str = "X-Leadtrace-Attempt";

/// Where this server is reached, for the `auth` block (decision F6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// `host[:port]`.
    pub domain: String,
    /// `{scheme}://{domain}/rest/`.
    pub client_endpoint: String,
    /// `{scheme}://{domain}/rest/`: our own root, as the OAuth server answers it (the JS SDK derives its
    /// token URL from it; spec/events.md's `/oauth/rest/` would make it call `/oauth/oauth/token/`).
    pub server_endpoint: String,
}

impl Site {
    /// From the public URL (or the listening address), e.g. `https://crm.example.com`.
    pub fn from_url(url: &str) -> Result<Site, String> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| format!("bad public URL '{url}': {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("the public URL '{url}' has no host"))?;
        let domain = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let scheme = parsed.scheme();
        Ok(Site {
            client_endpoint: format!("{scheme}://{domain}/rest/"),
            server_endpoint: format!("{scheme}://{domain}/rest/"),
            domain,
        })
    }
}

/// The portal's `member_id`: 32 hex digits, stable for the life of the portal (derived from its
/// id and creation time, so no extra state is needed).
pub fn member_id(portal_id: i64, created_at: i64) -> String {
    let digest = Md5::digest(format!("leadtrace-portal:{portal_id}:{created_at}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The wait after failed attempt `attempt` (1-based): `initial × multiplier^(attempt-1)`, capped.
pub fn backoff(cfg: &EventsConfig, attempt: i64) -> Duration {
    let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let secs = cfg.initial_delay.as_secs_f64() * cfg.multiplier.max(1.0).powi(exp);
    let capped = secs.min(cfg.max_delay.as_secs_f64());
    Duration::try_from_secs_f64(capped).unwrap_or(cfg.max_delay)
}

/// The form body of a delivery, field for field as Bitrix24 sends it (events.md §3), encoded
/// as PHP's `http_build_query` does (brackets percent-encoded).
pub fn form_body(d: &Delivery, site: &Site, now: i64) -> String {
    let s = |v: &str| Value::String(v.to_string());
    let mut auth = Params::new();
    let member = member_id(d.portal_id, d.portal_created_at);
    match d.kind {
        // Outgoing webhooks: no tokens, only what identifies the portal.
        HandlerKind::Webhook => {
            auth.insert("domain".into(), s(&site.domain));
            auth.insert("client_endpoint".into(), s(&site.client_endpoint));
            auth.insert("server_endpoint".into(), s(&site.server_endpoint));
            auth.insert("member_id".into(), s(&member));
        }
        // Applications: the user's token. `expires` and `user_id` are not in the docs' example,
        // but Bitrix24 sends them and the official SDKs read them (b24pysdk requires `expires`
        // whenever `access_token` is present).
        HandlerKind::App => {
            if let Some((token, expires_at)) = &d.access_token {
                auth.insert("access_token".into(), s(token));
                auth.insert("expires".into(), s(&expires_at.to_string()));
                auth.insert(
                    "expires_in".into(),
                    s(&(expires_at - now).max(0).to_string()),
                );
            }
            auth.insert("scope".into(), s(&d.scopes.join(",")));
            auth.insert("domain".into(), s(&site.domain));
            auth.insert("server_endpoint".into(), s(&site.server_endpoint));
            // A local application.
            auth.insert("status".into(), s("L"));
            auth.insert("client_endpoint".into(), s(&site.client_endpoint));
            auth.insert("member_id".into(), s(&member));
            if let (Some(user), Some(_)) = (d.user_id, &d.access_token) {
                auth.insert("user_id".into(), s(&user.to_string()));
            }
        }
    }
    auth.insert("application_token".into(), s(&d.application_token));

    let mut form = Params::new();
    form.insert("event".into(), s(&d.event_name));
    form.insert("event_handler_id".into(), s(&d.handler_id.to_string()));
    // An empty `data` (ONOFFLINEEVENT) produces no field, as http_build_query drops empty arrays.
    form.insert("data".into(), d.data.clone());
    form.insert("ts".into(), s(&d.ts.to_string()));
    form.insert("auth".into(), Value::Object(auth));
    bx_wire::php::http_build_query(&form)
}

/// A running worker.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts delivering events from `store`.
    pub fn start(store: Store, config: EventsConfig, site: Site) -> Result<Worker, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect is not a delivery: Bitrix24's queue does not follow them either.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("leadtrace/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the event delivery client: {e}"))?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store, client, config, site, stopped));
        Ok(Worker { stop, task })
    }

    /// Stops claiming, abandons requests in flight and hands their rows back, then returns.
    /// Call before closing the store.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the event delivery worker failed");
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn run(
    store: Store,
    client: reqwest::Client,
    config: EventsConfig,
    site: Site,
    mut stopped: watch::Receiver<bool>,
) {
    let lease = i64::try_from((config.timeout * 2 + Duration::from_secs(30)).as_millis())
        .unwrap_or(i64::MAX / 4);
    if store.backend() == store::Backend::Sqlite {
        if let Err(e) = store
            .write(|tx| Box::pin(async move { tx.release_all_deliveries().await }))
            .await
        {
            tracing::warn!(error = %e, "cannot free the claims of an earlier run; they wait for their lease");
        }
    }
    let mut in_flight: JoinSet<(i64, i64)> = JoinSet::new();
    let mut held: HashSet<(i64, i64)> = HashSet::new();
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        while let Some(done) = in_flight.try_join_next() {
            if let Ok(key) = done {
                held.remove(&key);
            }
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(tokio::time::Instant::now());
            prune(&store).await;
        }

        let now = now_ms();
        let mut wait = POLL;
        let free = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
        if free > 0 {
            match store
                .read(|tx| Box::pin(async move { tx.next_delivery_due().await }))
                .await
            {
                Ok(Some(due)) if due <= now => {
                    let limit = i64::try_from(free).unwrap_or(1);
                    let claimed = store
                        .write(move |tx| {
                            Box::pin(
                                async move { tx.claim_deliveries(now, now + lease, limit).await },
                            )
                        })
                        .await;
                    match claimed {
                        Ok(batch) if !batch.is_empty() => {
                            for d in batch {
                                held.insert((d.portal_id, d.id));
                                in_flight.spawn(deliver(
                                    store.clone(),
                                    client.clone(),
                                    config.clone(),
                                    site.clone(),
                                    d,
                                ));
                            }
                            continue;
                        }
                        Ok(_) => wait = BACKOFF_ON_RACE,
                        Err(e) => tracing::error!(error = %e, "cannot claim event deliveries"),
                    }
                }
                Ok(Some(due)) => {
                    let ms = u64::try_from(due - now).unwrap_or(0);
                    wait = wait.min(Duration::from_millis(ms));
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot read the event outbox"),
            }
        }
        tokio::select! {
            _ = stopped.changed() => {}
            _ = store.committed_write() => {}
            _ = tokio::time::sleep(wait) => {}
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok(key) = done {
                    held.remove(&key);
                }
            }
        }
    }
    in_flight.abort_all();
    while let Some(done) = in_flight.join_next().await {
        if let Ok(key) = done {
            held.remove(&key);
        }
    }
    if !held.is_empty() {
        let ids: Vec<(i64, i64)> = held.into_iter().collect();
        if let Err(e) = store
            .write(move |tx| Box::pin(async move { tx.release_deliveries(&ids).await }))
            .await
        {
            tracing::warn!(error = %e, "cannot hand back claimed events; they are sent once their lease expires");
        }
    }
}

async fn prune(store: &Store) {
    let keep = i64::try_from(KEEP_FINISHED.as_millis()).unwrap_or(i64::MAX);
    let before = now_ms() - keep;
    if let Err(e) = store
        .write(move |tx| Box::pin(async move { tx.prune_deliveries(before).await }))
        .await
    {
        tracing::warn!(error = %e, "cannot prune finished event deliveries");
    }
}

/// One attempt: POST, then record the outcome. Returns the row's key.
async fn deliver(
    store: Store,
    client: reqwest::Client,
    config: EventsConfig,
    site: Site,
    d: Delivery,
) -> (i64, i64) {
    let key = (d.portal_id, d.id);
    let now = chrono::Utc::now().timestamp();
    let body = form_body(&d, &site, now);
    let sent = client
        .post(&d.handler_url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(EVENT_ID_HEADER, &d.uid)
        .header(ATTEMPT_HEADER, d.attempt.to_string())
        .body(body)
        .send()
        .await;
    let failure = |status: Option<u16>, error: String| {
        let attempts = i64::from(if config.retry_enabled {
            config.max_attempts.max(1)
        } else {
            1
        });
        if d.attempt < attempts {
            let wait =
                i64::try_from(backoff(&config, d.attempt).as_millis()).unwrap_or(i64::MAX / 4);
            DeliveryOutcome::Retry {
                next_attempt_at: now_ms().saturating_add(wait),
                status,
                error,
            }
        } else {
            DeliveryOutcome::Failed { status, error }
        }
    };
    let outcome = match sent {
        Ok(r) if r.status().is_success() => DeliveryOutcome::Delivered {
            status: r.status().as_u16(),
        },
        Ok(r) => failure(Some(r.status().as_u16()), format!("HTTP {}", r.status())),
        Err(e) => failure(None, describe(&e)),
    };
    match &outcome {
        DeliveryOutcome::Delivered { .. } => {}
        DeliveryOutcome::Retry { error, .. } => tracing::info!(
            event = %d.event_name, handler = %d.handler_url, attempt = d.attempt, %error,
            "event delivery failed; will retry"
        ),
        DeliveryOutcome::Failed { error, .. } => tracing::warn!(
            event = %d.event_name, handler = %d.handler_url, attempt = d.attempt, %error,
            "event delivery failed; giving up"
        ),
    }
    let (portal_id, id) = key;
    let recorded: Result<(), ApiError> = store
        .write(move |tx| Box::pin(async move { tx.finish_delivery(portal_id, id, &outcome).await }))
        .await;
    if let Err(e) = recorded {
        // The row stays claimed until its lease expires, then goes again (at least once).
        tracing::error!(error = %e, "cannot record an event delivery");
    }
    key
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delivery(kind: HandlerKind) -> Delivery {
        Delivery {
            id: 9,
            portal_id: 1,
            uid: "u".into(),
            event_name: "ONCRMLEADADD".into(),
            data: json!({"FIELDS": {"ID": "1000983"}}),
            attempt: 1,
            ts: 1742807175,
            handler_id: 707,
            handler_url: "http://h/".into(),
            kind,
            app_id: String::new(),
            scopes: vec!["crm".into()],
            application_token: "51856fefc120afa4b628cc82d3935cce".into(),
            portal_created_at: 1,
            user_id: Some(1),
            access_token: Some(("tok".into(), 1742810775)),
        }
    }

    fn site() -> Site {
        Site::from_url("https://some-domain.example:8443").unwrap()
    }

    #[test]
    fn site_from_url() {
        let s = site();
        assert_eq!(s.domain, "some-domain.example:8443");
        assert_eq!(s.client_endpoint, "https://some-domain.example:8443/rest/");
        assert_eq!(s.server_endpoint, "https://some-domain.example:8443/rest/");
        assert_eq!(Site::from_url("http://h/").unwrap().domain, "h");
    }

    #[test]
    fn webhook_body_is_bitrix_shaped() {
        let body = form_body(&delivery(HandlerKind::Webhook), &site(), 1742807175);
        let member = member_id(1, 1);
        assert_eq!(
            body,
            format!(
                "event=ONCRMLEADADD&event_handler_id=707&data%5BFIELDS%5D%5BID%5D=1000983&ts=1742807175\
                 &auth%5Bdomain%5D=some-domain.example%3A8443\
                 &auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome-domain.example%3A8443%2Frest%2F\
                 &auth%5Bserver_endpoint%5D=https%3A%2F%2Fsome-domain.example%3A8443%2Frest%2F\
                 &auth%5Bmember_id%5D={member}\
                 &auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce"
            )
        );
    }

    #[test]
    fn app_body_carries_the_token() {
        let body = form_body(&delivery(HandlerKind::App), &site(), 1742807175);
        let parsed = bx_wire::php::parse_str(&body).unwrap();
        let keys: Vec<&String> = parsed["auth"].as_object().unwrap().keys().collect();
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
                "application_token"
            ]
        );
        assert_eq!(parsed["auth"]["expires_in"], "3600");
        assert_eq!(parsed["auth"]["status"], "L");
        let mut system = delivery(HandlerKind::App);
        system.access_token = None;
        system.data = json!({});
        let parsed = bx_wire::php::parse_str(&form_body(&system, &site(), 0)).unwrap();
        assert!(parsed.get("data").is_none());
        assert!(parsed["auth"].get("access_token").is_none());
        assert!(parsed["auth"].get("user_id").is_none());
    }

    #[test]
    fn backoff_grows_and_caps() {
        let cfg = EventsConfig::default();
        assert_eq!(backoff(&cfg, 1), Duration::from_secs(1));
        assert_eq!(backoff(&cfg, 2), Duration::from_secs(2));
        assert_eq!(backoff(&cfg, 4), Duration::from_secs(8));
        assert_eq!(backoff(&cfg, 30), Duration::from_secs(300));
        assert_eq!(backoff(&cfg, i64::MAX), Duration::from_secs(300));
    }

    #[test]
    fn member_id_is_stable_hex() {
        let m = member_id(1, 1_700_000_000);
        assert_eq!(m.len(), 32);
        assert!(m.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(m, member_id(1, 1_700_000_000));
        assert_ne!(m, member_id(2, 1_700_000_000));
    }
}
