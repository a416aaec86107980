//! `Tx`: one database transaction on either backend, and the few primitives (execute, fetch) that
//! every query of this crate goes through, so SQL errors are logged and mapped in one place.

use crate::Backend;
use bx_wire::ApiError;
use crm::DbValue;
use futures::future::BoxFuture;
use futures::FutureExt;
use sea_query::{PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder, Values};
use sea_query_binder::SqlxValues;
use sqlx::{Column, Postgres, Row, Sqlite, SqliteConnection, TypeInfo, ValueRef};
use std::borrow::Cow;

/// One transaction. Handed to the closures of [`crate::Store::read`] and [`crate::Store::write`];
/// implements [`crm::Storage`] and the administration queries.
///
/// After any database error the transaction is *poisoned*: further calls fail at once with
/// `ApiError::Internal` and the enclosing read/write rolls back even if the closure returns `Ok`.
/// PostgreSQL aborts a transaction after an error while SQLite carries on; poisoning makes both
/// behave the same, and keeps a swallowed error from committing half of a change.
pub struct Tx {
    conn: Conn,
    poisoned: bool,
    /// The `auth_connector` of the call this transaction runs for: offline event queues bound
    /// with the same connector do not record its changes (spec/events.md §4).
    pub(crate) event_connector: Option<String>,
}

enum Conn {
    Postgres(sqlx::Transaction<'static, Postgres>),
    /// A reader from the read-only pool.
    SqliteRead(sqlx::Transaction<'static, Sqlite>),
    /// The writer task's connection; the writer issues BEGIN / SAVEPOINT / COMMIT itself.
    SqliteWrite(SqliteConnection),
}

/// Logs a database error and turns it into the one error clients see.
pub(crate) fn db_error(e: sqlx::Error, sql: &str) -> ApiError {
    tracing::error!(error = %e, sql, "database error");
    ApiError::Internal
}

impl Tx {
    pub(crate) fn postgres(tx: sqlx::Transaction<'static, Postgres>) -> Tx {
        Tx {
            conn: Conn::Postgres(tx),
            poisoned: false,
            event_connector: None,
        }
    }

    pub(crate) fn sqlite_read(tx: sqlx::Transaction<'static, Sqlite>) -> Tx {
        Tx {
            conn: Conn::SqliteRead(tx),
            poisoned: false,
            event_connector: None,
        }
    }

    pub(crate) fn sqlite_writer(conn: SqliteConnection) -> Tx {
        Tx {
            conn: Conn::SqliteWrite(conn),
            poisoned: false,
            event_connector: None,
        }
    }

    /// The backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Postgres(_) => Backend::Postgres,
            Conn::SqliteRead(_) | Conn::SqliteWrite(_) => Backend::Sqlite,
        }
    }

    pub(crate) fn poisoned(&self) -> bool {
        self.poisoned
    }

    pub(crate) fn clear_poison(&mut self) {
        self.poisoned = false;
    }

    /// Commits (PostgreSQL and SQLite reader transactions).
    pub(crate) async fn commit(self) -> Result<(), ApiError> {
        match self.conn {
            Conn::Postgres(tx) => tx.commit().await.map_err(|e| db_error(e, "COMMIT")),
            Conn::SqliteRead(tx) => tx.commit().await.map_err(|e| db_error(e, "COMMIT")),
            Conn::SqliteWrite(_) => unreachable!("the writer commits its own groups"),
        }
    }

    /// Rolls back (PostgreSQL and SQLite reader transactions).
    pub(crate) async fn rollback(self) {
        let res = match self.conn {
            Conn::Postgres(tx) => tx.rollback().await,
            Conn::SqliteRead(tx) => tx.rollback().await,
            Conn::SqliteWrite(_) => unreachable!("the writer rolls back its own groups"),
        };
        if let Err(e) = res {
            db_error(e, "ROLLBACK");
        }
    }

    /// The writer's connection back, for closing.
    pub(crate) fn into_writer_conn(self) -> SqliteConnection {
        match self.conn {
            Conn::SqliteWrite(c) => c,
            _ => unreachable!("not the writer"),
        }
    }

    /// Runs a statement without parameters on the writer connection (transaction control).
    /// Does not poison: the writer decides what a failure means.
    pub(crate) fn writer_control(
        &mut self,
        sql: &'static str,
    ) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        async move {
            match &mut self.conn {
                Conn::SqliteWrite(c) => sqlx::Executor::execute(&mut *c, sql).await.map(|_| ()),
                _ => unreachable!("not the writer"),
            }
        }
        .boxed()
    }

    /// Renders a sea-query statement for this backend.
    pub(crate) fn build<S: QueryStatementWriter>(&self, stmt: &S) -> (String, Values) {
        match self.backend() {
            Backend::Postgres => stmt.build(PostgresQueryBuilder),
            Backend::Sqlite => stmt.build(SqliteQueryBuilder),
        }
    }

    /// Hand-written SQL uses `?` placeholders; PostgreSQL wants `$1, $2, ...`. Our SQL text has no
    /// `?` inside literals, so a plain replacement is exact.
    pub(crate) fn placeholders<'s>(&self, sql: &'s str) -> Cow<'s, str> {
        match self.backend() {
            Backend::Sqlite => Cow::Borrowed(sql),
            Backend::Postgres => {
                let mut out = String::with_capacity(sql.len() + 8);
                let mut n = 0;
                for ch in sql.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(ch);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    fn check(&self) -> Result<(), ApiError> {
        if self.poisoned {
            return Err(ApiError::Internal);
        }
        Ok(())
    }

    fn fail(&mut self, e: sqlx::Error, sql: &str) -> ApiError {
        self.poisoned = true;
        db_error(e, sql)
    }

    /// Executes a statement; returns the number of rows affected.
    ///
    /// Boxed (as is `fetch`): sqlx's executor futures are generic over lifetimes, and without a
    /// concrete `Send` future here the compiler cannot prove the callers' futures `Send`.
    pub(crate) fn exec<'a>(
        &'a mut self,
        sql: &'a str,
        values: Values,
    ) -> BoxFuture<'a, Result<u64, ApiError>> {
        async move { self.exec_inner(sql, values).await }.boxed()
    }

    async fn exec_inner(&mut self, sql: &str, values: Values) -> Result<u64, ApiError> {
        self.check()?;
        let args = SqlxValues(values);
        let res = match &mut self.conn {
            Conn::Postgres(tx) => sqlx::query_with(sql, args)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            Conn::SqliteRead(tx) => sqlx::query_with(sql, args)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            Conn::SqliteWrite(c) => sqlx::query_with(sql, args)
                .execute(c)
                .await
                .map(|r| r.rows_affected()),
        };
        res.map_err(|e| self.fail(e, sql))
    }

    /// Runs a query; each row comes back as values decoded by their runtime type.
    pub(crate) fn fetch<'a>(
        &'a mut self,
        sql: &'a str,
        values: Values,
    ) -> BoxFuture<'a, Result<Vec<Vec<DbValue>>, ApiError>> {
        async move { self.fetch_inner(sql, values).await }.boxed()
    }

    async fn fetch_inner(
        &mut self,
        sql: &str,
        values: Values,
    ) -> Result<Vec<Vec<DbValue>>, ApiError> {
        self.check()?;
        let res = match &mut self.conn {
            Conn::Postgres(tx) => match sqlx::query_with(sql, SqlxValues(values))
                .fetch_all(&mut **tx)
                .await
            {
                Ok(rows) => rows.iter().map(decode_pg).collect(),
                Err(e) => Err(e),
            },
            Conn::SqliteRead(tx) => match sqlx::query_with(sql, SqlxValues(values))
                .fetch_all(&mut **tx)
                .await
            {
                Ok(rows) => rows.iter().map(decode_sqlite).collect(),
                Err(e) => Err(e),
            },
            Conn::SqliteWrite(c) => {
                match sqlx::query_with(sql, SqlxValues(values)).fetch_all(c).await {
                    Ok(rows) => rows.iter().map(decode_sqlite).collect(),
                    Err(e) => Err(e),
                }
            }
        };
        res.map_err(|e| self.fail(e, sql))
    }

    /// `fetch` for hand-written SQL with `?` placeholders.
    pub(crate) async fn fetch_sql(
        &mut self,
        sql: &str,
        values: Vec<sea_query::Value>,
    ) -> Result<Vec<Vec<DbValue>>, ApiError> {
        let sql = self.placeholders(sql).into_owned();
        self.fetch(&sql, Values(values)).await
    }

    /// `exec` for hand-written SQL with `?` placeholders.
    pub(crate) async fn exec_sql(
        &mut self,
        sql: &str,
        values: Vec<sea_query::Value>,
    ) -> Result<u64, ApiError> {
        let sql = self.placeholders(sql).into_owned();
        self.exec(&sql, Values(values)).await
    }

    /// Builds and runs a sea-query statement that returns rows.
    pub(crate) async fn fetch_stmt<S: QueryStatementWriter>(
        &mut self,
        stmt: &S,
    ) -> Result<Vec<Vec<DbValue>>, ApiError> {
        let (sql, values) = self.build(stmt);
        self.fetch(&sql, values).await
    }

    /// Builds and runs a sea-query statement; returns the number of rows affected.
    pub(crate) async fn exec_stmt<S: QueryStatementWriter>(
        &mut self,
        stmt: &S,
    ) -> Result<u64, ApiError> {
        let (sql, values) = self.build(stmt);
        self.exec(&sql, values).await
    }
}

fn decode_pg(row: &sqlx::postgres::PgRow) -> Result<Vec<DbValue>, sqlx::Error> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            out.push(DbValue::Null);
            continue;
        }
        let ty = raw.type_info().name().to_string();
        let v = match ty.as_str() {
            "INT8" => DbValue::Int(row.try_get_unchecked::<i64, _>(i)?),
            "INT4" => DbValue::Int(row.try_get_unchecked::<i32, _>(i)?.into()),
            "INT2" => DbValue::Int(row.try_get_unchecked::<i16, _>(i)?.into()),
            "BOOL" => DbValue::Int(row.try_get_unchecked::<bool, _>(i)?.into()),
            "FLOAT8" => DbValue::Real(row.try_get_unchecked::<f64, _>(i)?),
            "FLOAT4" => DbValue::Real(row.try_get_unchecked::<f32, _>(i)?.into()),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
                DbValue::Text(row.try_get_unchecked::<String, _>(i)?)
            }
            other => {
                return Err(sqlx::Error::ColumnDecode {
                    index: row.columns()[i].name().to_string(),
                    source: format!("unsupported column type {other} (select it as ::text)").into(),
                })
            }
        };
        out.push(v);
    }
    Ok(out)
}

fn decode_sqlite(row: &sqlx::sqlite::SqliteRow) -> Result<Vec<DbValue>, sqlx::Error> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            out.push(DbValue::Null);
            continue;
        }
        let ty = raw.type_info().name().to_string();
        let v = match ty.as_str() {
            "INTEGER" | "BOOLEAN" => DbValue::Int(row.try_get_unchecked::<i64, _>(i)?),
            "REAL" => DbValue::Real(row.try_get_unchecked::<f64, _>(i)?),
            "TEXT" => DbValue::Text(row.try_get_unchecked::<String, _>(i)?),
            other => {
                return Err(sqlx::Error::ColumnDecode {
                    index: row.columns()[i].name().to_string(),
                    source: format!("unsupported value type {other}").into(),
                })
            }
        };
        out.push(v);
    }
    Ok(out)
}

/// Typed readers for decoded rows (the schema guarantees the types; NULL reads as empty).
pub(crate) mod val {
    use crm::DbValue;

    pub fn int(v: &DbValue) -> i64 {
        opt_int(v).unwrap_or(0)
    }

    pub fn opt_int(v: &DbValue) -> Option<i64> {
        match v {
            DbValue::Int(i) => Some(*i),
            DbValue::Real(f) => Some(*f as i64),
            DbValue::Text(t) => t.parse().ok(),
            DbValue::Null => None,
        }
    }

    pub fn opt_real(v: &DbValue) -> Option<f64> {
        match v {
            DbValue::Real(f) => Some(*f),
            DbValue::Int(i) => Some(*i as f64),
            DbValue::Text(t) => t.parse().ok(),
            DbValue::Null => None,
        }
    }

    pub fn flag(v: &DbValue) -> bool {
        int(v) != 0
    }

    pub fn text(v: &DbValue) -> String {
        opt_text(v).unwrap_or_default()
    }

    pub fn opt_text(v: &DbValue) -> Option<String> {
        match v {
            DbValue::Text(t) => Some(t.clone()),
            DbValue::Int(i) => Some(i.to_string()),
            DbValue::Real(f) => Some(f.to_string()),
            DbValue::Null => None,
        }
    }
}
