//! Storage: SQLite or PostgreSQL, chosen by the database URL, behind one transaction type `Tx`
//! (which implements `crm::Storage` and the administration queries); migrations; group commit.
//!
//! Every call runs in one transaction: [`Store::read`] on a read-only snapshot, [`Store::write`]
//! committed before it returns. PostgreSQL: a pool, one transaction per call. SQLite (WAL): a pool
//! of read-only connections for reads, and a single writer task that runs queued writes in groups
//! (one transaction, a savepoint per write; see `writer.rs`) because SQLite allows one writer at a
//! time and a commit (an fsync) per write would cap throughput.
//!
//! Closures given to `read`/`write` must not call the `Store` themselves: on SQLite a write inside
//! a write would wait for the writer that is running it.

mod admin;
mod channel_rules;
mod compile;
mod entity;
pub mod events;
#[cfg(test)]
mod events_tests;
mod expenses;
mod fold;
mod oauth;
mod report;
pub mod testing;
#[cfg(test)]
mod tests;
mod tracking;
mod tx;
mod userfield;
mod writer;

pub use admin::{NewUser, Portal, Role, Token, User, Webhook};
pub use events::{
    Delivery, DeliveryOutcome, DeliveryRecord, EventHandler, HandlerFilter, HandlerKind,
    NewEventHandler, OfflineCol, OfflineEvent, OfflineQuery, OfflineTake,
};
pub use oauth::{App, Grant, NewApp};
pub use report::BulkTrace;
pub use tx::Tx;

use bx_wire::ApiError;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': expected sqlite://PATH, sqlite:PATH, a file path, or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connections kept for PostgreSQL; each call holds one for its transaction.
const PG_MAX_CONNECTIONS: u32 = 16;
/// SQLite reader connections (reads run in parallel in WAL mode; the writer is separate).
const SQLITE_READERS: u32 = 8;
/// How long SQLite waits for a lock held by another process before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The storage of one server: cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    /// Signalled after every committed write: the event delivery worker waits on it, so events
    /// go out as soon as the change that caused them is committed.
    written: Arc<tokio::sync::Notify>,
}

enum Inner {
    Postgres {
        pool: PgPool,
    },
    Sqlite {
        readers: SqlitePool,
        writer: writer::Writer,
    },
}

/// `f`, run with the transaction's event connector set (the SQLite writer's transaction is reused
/// by every job, so it is set on each).
fn with_connector<T, F>(
    connector: Option<String>,
    f: F,
) -> impl for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    move |tx: &mut Tx| {
        tx.event_connector = connector;
        f(tx)
    }
}

/// The file path of a SQLite URL, or `None` when the URL is PostgreSQL's.
fn sqlite_path(url: &str) -> Option<&str> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(path)
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the database named by `url`:
    /// `sqlite://PATH`, `sqlite:PATH`, a bare `PATH`, or `postgres://...` / `postgresql://...`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let inner = match sqlite_path(url) {
            None => Self::open_postgres(url).await?,
            Some(path) => Self::open_sqlite(url, path).await?,
        };
        Ok(Store {
            inner: Arc::new(inner),
            written: Arc::new(tokio::sync::Notify::new()),
        })
    }

    async fn open_postgres(url: &str) -> Result<Inner, StoreError> {
        // Every statement is prepared and cached, so after five runs PostgreSQL may switch to a
        // generic plan that cannot see a LIKE pattern or a range and walks the primary key
        // (docs/performance.md, finding 3); custom plans keep using the value's statistics. JIT
        // compilation costs more than these short queries take.
        let opts = PgConnectOptions::from_str(url)?
            .options([("plan_cache_mode", "force_custom_plan"), ("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(PG_MAX_CONNECTIONS)
            .connect_with(opts)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        analyze_unanalysed(&pool).await?;
        Ok(Inner::Postgres { pool })
    }

    async fn open_sqlite(url: &str, path: &str) -> Result<Inner, StoreError> {
        // Query parameters are not ours to interpret, an in-memory database cannot be shared
        // between the writer and the readers, and another scheme is a typo, not a file name.
        let other_scheme = url.contains("://") && !url.starts_with("sqlite://");
        if other_scheme
            || path.is_empty()
            || path.contains('?')
            || path.contains(":memory:")
            || path.starts_with("file:")
        {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
            // PostgreSQL's LIKE is case-sensitive; SQLite's must be too for equal results.
            .pragma("case_sensitive_like", "ON");
        let writer_opts = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let mut conn = writer_opts.connect().await?;
        fold::register(&mut conn).await?;
        SQLITE_MIGRATIONS.run(&mut conn).await?;
        // Readers open after the writer has switched the file to WAL (a read-only connection
        // cannot), so they read committed snapshots while the writer works.
        let readers = SqlitePoolOptions::new()
            .max_connections(SQLITE_READERS)
            .after_connect(|conn, _| Box::pin(async move { fold::register(conn).await }))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Inner::Sqlite {
            readers,
            writer: writer::Writer::start(conn),
        })
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Postgres { .. } => Backend::Postgres,
            Inner::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Runs `f` in a read-only transaction (one consistent snapshot on both backends).
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
        T: Send + 'static,
    {
        let tx = match &*self.inner {
            Inner::Postgres { pool } => pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map(Tx::postgres)
                .map_err(|e| tx::db_error(e, "BEGIN READ ONLY"))?,
            Inner::Sqlite { readers, .. } => readers
                .begin()
                .await
                .map(Tx::sqlite_read)
                .map_err(|e| tx::db_error(e, "BEGIN"))?,
        };
        Self::run(tx, f).await
    }

    /// Runs `f` in a transaction that is committed before this returns. An `Err` from `f` (or a
    /// database error inside it, or a panic on SQLite) rolls back everything `f` did.
    ///
    /// On SQLite `f` runs on the writer task, between the other writes of its group: keep it to
    /// database work (no network calls, no sleeping), since every other write waits for it. It
    /// completes even if the caller stops waiting.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
        T: Send + 'static,
    {
        // The writer task runs the job, so the caller's connector travels with it.
        let f = with_connector(events::auth_connector(), f);
        let result = match &*self.inner {
            Inner::Postgres { pool } => {
                let tx = pool
                    .begin()
                    .await
                    .map(Tx::postgres)
                    .map_err(|e| tx::db_error(e, "BEGIN"))?;
                Self::run(tx, f).await
            }
            Inner::Sqlite { writer, .. } => writer.submit(f).await,
        };
        if result.is_ok() {
            self.written.notify_one();
        }
        result
    }

    /// Completes after a write has been committed since the last time it completed (a write
    /// before anyone waits is remembered once). For the event delivery worker.
    pub async fn committed_write(&self) {
        self.written.notified().await
    }

    /// One transaction of a pool: commit on success, roll back on error (or a swallowed error).
    async fn run<T, F>(mut tx: Tx, f: F) -> Result<T, ApiError>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>>,
    {
        let result = f(&mut tx).await;
        match result {
            Ok(v) if !tx.poisoned() => {
                tx.commit().await?;
                Ok(v)
            }
            Ok(_) => {
                tx.rollback().await;
                Err(ApiError::Internal)
            }
            Err(e) => {
                tx.rollback().await;
                Err(e)
            }
        }
    }

    /// One step of keeping the report's daily roll-ups current: recomputes a bounded number of
    /// days marked dirty (see `Tx::refresh_report_days`) in one transaction. Returns the days
    /// recomputed and the days still dirty, `None` when another process (or task) is refreshing
    /// (PostgreSQL). Reports are exact without it (dirty days are read
    /// from the records); it keeps long ranges fast. The server runs it every few seconds.
    pub async fn refresh_report_days_step(&self) -> Result<Option<(usize, usize)>, ApiError> {
        let pending = self
            .read(|tx| Box::pin(async move { tx.report_days_pending().await }))
            .await?;
        if !pending {
            return Ok(Some((0, 0)));
        }
        match &*self.inner {
            // REPEATABLE READ: see `Tx::refresh_report_days`.
            Inner::Postgres { pool } => {
                let tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    .await
                    .map(Tx::postgres)
                    .map_err(|e| tx::db_error(e, "BEGIN REPEATABLE READ"))?;
                Self::run(tx, |tx| {
                    Box::pin(async move { tx.refresh_report_days().await })
                })
                .await
            }
            Inner::Sqlite { writer, .. } => {
                writer
                    .submit(|tx| Box::pin(async move { tx.refresh_report_days().await }))
                    .await
            }
        }
    }

    /// Steps of `refresh_report_days_step` until no day is dirty (waiting while another
    /// refresher holds the lock, on PostgreSQL); returns the days this call recomputed. For tests,
    /// the benchmark and tools; the server steps on a timer instead, so that writes go on
    /// meanwhile.
    pub async fn refresh_report_days(&self) -> Result<usize, ApiError> {
        let mut total = 0;
        loop {
            match self.refresh_report_days_step().await? {
                None => tokio::time::sleep(Duration::from_millis(50)).await,
                Some((done, 0)) => return Ok(total + done),
                Some((done, _)) => total += done,
            }
        }
    }

    /// Finishes queued writes and closes every connection. Later calls fail with `Internal`.
    pub async fn close(&self) {
        match &*self.inner {
            Inner::Postgres { pool } => pool.close().await,
            Inner::Sqlite { readers, writer } => {
                writer.close().await;
                readers.close().await;
            }
        }
    }

    /// Write transactions run by the SQLite writer so far (`None` on PostgreSQL).
    #[cfg(test)]
    pub(crate) fn writer_groups(&self) -> Option<u64> {
        match &*self.inner {
            Inner::Postgres { .. } => None,
            Inner::Sqlite { writer, .. } => {
                Some(writer.groups.load(std::sync::atomic::Ordering::Relaxed))
            }
        }
    }
}

/// `ANALYZE` the tables PostgreSQL has never analysed (`pg_class.reltuples < 0`): without
/// statistics the planner takes a large table for a small one and reads every matching row
/// through an index (docs/performance.md, finding 4). Autovacuum keeps them fresh afterwards; a
/// server started on a bulk-loaded database without it gets them here.
async fn analyze_unanalysed(pool: &PgPool) -> Result<(), StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(c.relname) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples < 0 \
         ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await?;
    if !tables.is_empty() {
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .execute(pool)
            .await?;
    }
    Ok(())
}
