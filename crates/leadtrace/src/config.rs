//! Server settings, from the command line or the environment (clap reads both). Defaults give a
//! working server on a fresh machine: SQLite file in the working directory, plain HTTP on 8080.

use std::net::SocketAddr;
use std::path::PathBuf;

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
        }
    }
}
