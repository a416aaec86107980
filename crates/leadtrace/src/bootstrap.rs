//! Start-up: open the store, make sure the default portal, its administrator (user 1) and an
//! inbound webhook exist, then serve HTTP or HTTPS and deliver events until asked to stop.

use crate::config::ServeConfig;
use crate::state::AppState;
use bx_wire::ApiError;
use rand::Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use store::{NewUser, Portal, Store, Webhook};

/// Scopes of the default webhook (spec/system-methods.md, decision on webhook default scopes).
pub const DEFAULT_SCOPES: [&str; 2] = ["crm", "user"];

/// A random webhook code in Bitrix24's style (16 lower-case letters and digits).
pub fn random_code(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Random letters (both cases) and digits, as in Bitrix24 client secrets.
pub fn random_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Random decimal digits.
pub fn random_digits(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Random lower-case hex digits (Bitrix24's `member_id` and `application_token` look like this).
pub fn random_hex(len: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdef";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Creates the default portal (with its dictionaries) and its administrator on first start.
pub async fn ensure_portal(store: &Store) -> Result<Portal, ApiError> {
    store
        .write(|tx| {
            Box::pin(async move {
                let mut portal = match tx.default_portal().await? {
                    Some(p) => p,
                    None => {
                        tx.create_portal("default", "UTC", "USD", &crm::status::seeds())
                            .await?
                    }
                };
                portal.member_id = tx.ensure_member_id(portal.id, &random_hex(32)).await?;
                if tx.user(portal.id, 1).await?.is_none() && tx.users(portal.id).await?.is_empty() {
                    let admin = NewUser {
                        login: "admin".into(),
                        name: "Admin".into(),
                        last_name: String::new(),
                        email: "admin@example.com".into(),
                        admin: true,
                        role_id: None,
                    };
                    tx.add_user(portal.id, &admin).await?;
                }
                Ok(portal)
            })
        })
        .await
}

/// The inbound webhook printed at start: the one with `code` (created if missing), else the
/// administrator's first webhook, else a new one with a random code.
pub async fn ensure_default_webhook(
    store: &Store,
    portal: &Portal,
    code: Option<String>,
) -> Result<Webhook, ApiError> {
    let portal_id = portal.id;
    store
        .write(move |tx| {
            Box::pin(async move {
                let admin_id = tx
                    .users(portal_id)
                    .await?
                    .iter()
                    .find(|u| u.admin)
                    .map(|u| u.id)
                    .unwrap_or(1);
                let scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect();
                if let Some(code) = code {
                    if let Some(h) = tx.webhook(admin_id, &code).await? {
                        return Ok(h);
                    }
                    tx.add_webhook(portal_id, admin_id, &code, &scopes).await?;
                    return tx.webhook(admin_id, &code).await?.ok_or(ApiError::Internal);
                }
                if let Some(h) = tx
                    .webhooks(portal_id)
                    .await?
                    .into_iter()
                    .find(|h| h.user_id == admin_id && h.active)
                {
                    return Ok(h);
                }
                let code = random_code(16);
                tx.add_webhook(portal_id, admin_id, &code, &scopes).await?;
                tx.webhook(admin_id, &code).await?.ok_or(ApiError::Internal)
            })
        })
        .await
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub webhook_url: String,
    pub ca_path: Option<PathBuf>,
    pub state: AppState,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    events: crate::delivery::Worker,
    report_days: tokio::task::JoinHandle<()>,
}

/// How often the Sales Intelligence report's daily roll-ups are brought up to date.
const REPORT_DAYS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps the report's daily roll-ups current, one bounded step (`Store::refresh_report_days_step`)
/// per tick so that writes go on between steps. Reports are exact without it; it keeps long
/// ranges fast.
fn start_report_days(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REPORT_DAYS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = store.refresh_report_days_step().await {
                tracing::warn!(error = %e, "refreshing the report's daily roll-ups failed");
            }
        }
    })
}

impl Running {
    /// Stops accepting connections, lets running requests finish, stops event delivery (what is
    /// not delivered yet stays queued for the next start), and waits.
    pub async fn shutdown(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        let _ = self.task.await;
        self.report_days.abort();
        self.events.stop().await;
        self.state.store().close().await;
    }

    /// Waits until the server stops (it stops on `shutdown` or a fatal error).
    pub async fn wait(self) -> std::io::Result<()> {
        let r = self.task.await.unwrap_or(Ok(()));
        self.report_days.abort();
        self.events.stop().await;
        self.state.store().close().await;
        r
    }

    pub fn handle(&self) -> axum_server::Handle {
        self.handle.clone()
    }
}

/// Opens storage, bootstraps the default portal and starts serving.
pub async fn start(config: ServeConfig) -> Result<Running, String> {
    if let Some(url) = &config.public_url {
        crate::delivery::Site::from_url(url)?;
    }
    let store = Store::open(&config.database_url)
        .await
        .map_err(|e| format!("cannot open {}: {e}", config.database_url))?;
    let portal = ensure_portal(&store)
        .await
        .map_err(|e| format!("cannot create the default portal: {e}"))?;
    let hook = ensure_default_webhook(&store, &portal, config.webhook_code.clone())
        .await
        .map_err(|e| format!("cannot create the default webhook: {e}"))?;
    let state = AppState::new(store, config.clone());
    let app = crate::rest::router(state.clone());

    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let handle = axum_server::Handle::new();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let (scheme, ca_path, task) = if config.tls {
        let files = crate::tls::load_or_create(&config)?;
        let rustls = axum_server::tls_rustls::RustlsConfig::from_pem(
            files.cert_pem.into_bytes(),
            files.key_pem.into_bytes(),
        )
        .await
        .map_err(|e| format!("TLS configuration: {e}"))?;
        let server = axum_server::from_tcp_rustls(listener, rustls).handle(handle.clone());
        ("https", files.ca_path, tokio::spawn(server.serve(service)))
    } else {
        let server = axum_server::from_tcp(listener).handle(handle.clone());
        ("http", None, tokio::spawn(server.serve(service)))
    };
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let base_url = format!("{scheme}://{host}:{}", addr.port());
    let webhook_url = format!("{base_url}/rest/{}/{}/", hook.user_id, hook.code);
    let site = crate::delivery::Site::from_url(config.public_url.as_deref().unwrap_or(&base_url))?;
    // Events queued before this start (a restart, or another instance's) go out from here on.
    let events =
        crate::delivery::Worker::start(state.store().clone(), config.events.clone(), site)?;
    let report_days = start_report_days(state.store().clone());
    Ok(Running {
        addr,
        base_url,
        webhook_url,
        ca_path,
        state,
        handle,
        task,
        events,
        report_days,
    })
}
