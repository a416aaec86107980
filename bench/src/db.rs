//! The database a run uses: a fresh SQLite file (the default) or a fresh PostgreSQL database
//! `lt_bench_<random>` on the server named by `--database-url`, removed afterwards unless kept.

use crate::BoxError;
use rand::Rng;
use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};

/// Where the run's data lives.
pub enum Target {
    Sqlite { path: PathBuf },
    Postgres { server_url: String, name: String },
}

impl Target {
    /// The `database_url` given to the server.
    pub fn url(&self) -> String {
        match self {
            Target::Sqlite { path } => format!("sqlite://{}", path.display()),
            Target::Postgres { server_url, name } => with_database(server_url, name),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "SQLite",
            Target::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Bytes the data takes on disk: the SQLite file with its WAL, or `pg_database_size`.
    pub async fn size_bytes(&self) -> Option<u64> {
        match self {
            Target::Sqlite { path } => {
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    let p = format!("{}{suffix}", path.display());
                    total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                }
                Some(total)
            }
            Target::Postgres { server_url, name } => {
                let mut conn = PgConnection::connect(server_url).await.ok()?;
                let size: Option<i64> = sqlx::query_scalar("SELECT pg_database_size($1)")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await
                    .ok();
                let _ = conn.close().await;
                size.and_then(|s| u64::try_from(s).ok())
            }
        }
    }

    /// Brings planner statistics to what a production database has after a bulk load:
    /// `VACUUM ANALYZE` on PostgreSQL (what autovacuum does; the server itself never runs it).
    /// Nothing on SQLite: nothing runs ANALYZE there in production either. Returns whether
    /// anything was done.
    pub async fn refresh_statistics(&self) -> Result<bool, BoxError> {
        match self {
            Target::Sqlite { .. } => Ok(false),
            Target::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await?;
                conn.execute("VACUUM ANALYZE").await?;
                let _ = conn.close().await;
                Ok(true)
            }
        }
    }

    /// Deletes the data (after the server has closed the store).
    pub async fn remove(&self) {
        match self {
            Target::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Target::Postgres { server_url, name } => {
                if let Ok(mut conn) = PgConnection::connect(server_url).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = conn.close().await;
                }
            }
        }
    }
}

fn random_suffix() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// The workspace's `target/bench` directory (or `$CARGO_TARGET_DIR/bench`).
fn bench_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("bench"),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("bench"),
    }
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

/// Prepares a fresh, empty database for `url` (see the module header).
pub async fn prepare(url: Option<&str>) -> Result<Target, BoxError> {
    match url {
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            let name = format!("lt_bench_{}", random_suffix());
            let mut conn = PgConnection::connect(u)
                .await
                .map_err(|e| format!("cannot connect to {u}: {e}"))?;
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .map_err(|e| format!("cannot create database {name}: {e}"))?;
            let _ = conn.close().await;
            Ok(Target::Postgres {
                server_url: u.to_string(),
                name,
            })
        }
        Some(u) => {
            let path = PathBuf::from(
                u.strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                    .unwrap_or(u),
            );
            if path.exists() {
                return Err(format!(
                    "{} exists: the benchmark seeds a fresh database; remove it or name another file",
                    path.display()
                )
                .into());
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Ok(Target::Sqlite { path })
        }
        None => {
            let dir = bench_dir();
            std::fs::create_dir_all(&dir)?;
            let dir = dir.canonicalize()?;
            Ok(Target::Sqlite {
                path: dir.join(format!("leadtrace-bench-{}.db", random_suffix())),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "lt_bench_x"),
            "postgres://postgres@127.0.0.1:5432/lt_bench_x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "lt_bench_x"),
            "postgres://u:p@h/lt_bench_x?sslmode=disable"
        );
    }
}
