//! Server settings, from the command line or the environment (clap reads both). Defaults give a
//! working server on a fresh machine: SQLite file in the working directory, plain HTTP on 8080.

use crate::limits::{Clock, LimitsConfig, SystemClock};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    /// Fixes the default webhook's code so scripts know the URL in advance.
    pub webhook_code: Option<String>,
    pub tls: bool,
    pub tls_dir: PathBuf,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Answer webhook calls over plain HTTP with `INVALID_REQUEST` / `Https required`.
    pub require_https: bool,
    /// Request-rate and operating-time limits (spec/limits-and-batch.md §1–2).
    pub limits: LimitsConfig,
    pub oauth: OAuthConfig,
    /// Delivery of events to handlers.
    pub events: EventsConfig,
    /// The address clients reach the server at (`https://crm.example.com`), used in OAuth answers
    /// (`client_endpoint`, `server_endpoint`, `domain`) and in the `auth` of events. Absent: the request's
    /// `Host` (OAuth) or the listening address (events).
    pub public_url: Option<String>,
    /// Where the server reads the time (tests move a manual clock).
    pub clock: Arc<dyn Clock>,
}

/// The built-in OAuth server's lifetimes, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// Access tokens: one hour, as Bitrix24.
    pub access_token_ttl: i64,
    /// Refresh tokens: 180 days, as Bitrix24 (docs `settings/oauth/auto-renewal.md`).
    pub refresh_token_ttl: i64,
    /// Authorization codes: 30 seconds, as Bitrix24 (docs `settings/oauth/index.md`).
    pub code_ttl: i64,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            access_token_ttl: 3600,
            refresh_token_ttl: 180 * 86400,
            code_ttl: 30,
        }
    }
}

/// Event delivery (spec/events.md §3, decision F1: retries are our extension).
#[derive(Debug, Clone, PartialEq)]
pub struct EventsConfig {
    /// Retry failed deliveries. Off is Bitrix24's behaviour: one attempt.
    pub retry_enabled: bool,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; each later wait is `multiplier` times longer.
    pub initial_delay: Duration,
    pub multiplier: f64,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// A handler that has not answered within this time has failed.
    pub timeout: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            retry_enabled: true,
            max_attempts: 5,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:8080".parse().expect("static address"),
            database_url: "sqlite://leadtrace.db".into(),
            webhook_code: None,
            tls: false,
            tls_dir: PathBuf::from(".leadtrace/tls"),
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 32 * 1024 * 1024,
            require_https: false,
            limits: LimitsConfig::default(),
            oauth: OAuthConfig::default(),
            events: EventsConfig::default(),
            public_url: None,
            clock: Arc::new(SystemClock),
        }
    }
}
