//! Fresh, empty databases for tests (this crate's and the server's): a new SQLite file, or a new
//! PostgreSQL database `lt_<unix seconds>_<unique>` on the test server.
//!
//! Tests should [`discard`] their database when done. Databases (and files) left behind by
//! failed or killed runs are removed by the next `fresh_url` once they are a day old; the
//! creation time is in the name because PostgreSQL does not record one.

use crate::Backend;
use sqlx::{Connection, Executor, PgConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The PostgreSQL server tests create databases on; `LEADTRACE_TEST_PG_URL` overrides it.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Leftovers older than this are dropped.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

static COUNTER: AtomicU64 = AtomicU64::new(0);
static PG_SWEPT: AtomicBool = AtomicBool::new(false);
static FILES_SWEPT: AtomicBool = AtomicBool::new(false);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Unique within the machine: time, process and a per-process counter.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{}_{}",
        now_secs(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

fn is_stale(name: &str, prefix: &str) -> bool {
    let secs = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('_').next())
        .and_then(|s| s.parse::<u64>().ok());
    matches!(secs, Some(s) if now_secs().saturating_sub(s) > STALE_AFTER.as_secs())
}

fn sqlite_dir() -> PathBuf {
    std::env::temp_dir().join("leadtrace-test")
}

/// The test PostgreSQL server's URL.
pub fn pg_base_url() -> String {
    std::env::var("LEADTRACE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// `url` with its database name replaced (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let after_scheme = main.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match main[after_scheme..].find('/') {
        Some(i) => &main[..after_scheme + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A URL of a new, empty database of `backend` (not yet migrated: `Store::open` does that).
/// Panics when the database cannot be created: this is for tests.
pub async fn fresh_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = sqlite_dir();
            std::fs::create_dir_all(&dir).expect("create the test database directory");
            if !FILES_SWEPT.swap(true, Ordering::Relaxed) {
                sweep_files(&dir);
            }
            format!(
                "sqlite://{}",
                dir.join(format!("lt_{}.db", unique())).display()
            )
        }
        Backend::Postgres => {
            let base = pg_base_url();
            let mut conn = PgConnection::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {base}: {e}"));
            if !PG_SWEPT.swap(true, Ordering::Relaxed) {
                sweep_databases(&mut conn).await;
            }
            let name = format!("lt_{}", unique());
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let _ = conn.close().await;
            with_database(&base, &name)
        }
    }
}

/// Removes a database made by [`fresh_url`] (after the store using it is closed). Errors are
/// ignored: a leftover is swept a day later.
pub async fn discard(url: &str) {
    match crate::sqlite_path(url) {
        Some(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        None => {
            let Some(name) = url.split('?').next().and_then(|u| u.rsplit('/').next()) else {
                return;
            };
            if !name.starts_with("lt_")
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return;
            }
            if let Ok(mut conn) = PgConnection::connect(&pg_base_url()).await {
                let _ = conn
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

async fn sweep_databases(conn: &mut PgConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'lt\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    for name in names.iter().filter(|n| is_stale(n, "lt_")) {
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

fn sweep_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if is_stale(&name, "lt_") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "lt_1"),
            "postgres://postgres@127.0.0.1:5432/lt_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "lt_1"),
            "postgres://u:p@h/lt_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "lt_1"),
            "postgres://h:5432/lt_1"
        );
    }

    #[test]
    fn staleness_comes_from_the_name() {
        assert!(is_stale("lt_1000_1_2_3", "lt_"));
        assert!(!is_stale(&format!("lt_{}_1_2_3", now_secs()), "lt_"));
        assert!(!is_stale("lt_schemacheck", "lt_"));
    }
}
