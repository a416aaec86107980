//! Server settings, from the command line or the environment (clap reads both). Defaults give a
//! working server on a fresh machine: SQLite file in the working directory, plain HTTP on 8080.

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// The address clients reach this server at (`https://crm.example.com`): the `domain` and
    /// endpoints sent with events. Default: the address the server listens on.
    pub public_url: Option<String>,
    /// Delivery of events to handlers.
    pub events: EventsConfig,
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
            public_url: None,
            events: EventsConfig::default(),
        }
    }
}
