//! `crm::Storage` for `Tx`: entity rows with their JSON user fields, multifields, status
//! dictionaries and currencies, on either backend through the same sea-query statements.

use crate::compile::{bind, coerce_assign, column_type, Compiler};
use crate::tx::{val, Tx};
use crate::Backend;
use bx_wire::ApiError;
use crm::tracking::{Binding, Source, Trace, TraceChannel, TraceData, TrackingSettings};
use crm::{
    Assignments, ColumnType, DbValue, EntityKind, ListQuery, Multifield, Row, Status, Storage,
};
use sea_query::{Alias, Expr, Order, Query, SimpleExpr, Value};
use serde_json::{Map, Value as Json};

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Bitrix24's `OWNER_TYPE` letter code of product rows.
pub(crate) fn product_owner_type(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Lead => "L",
        EntityKind::Deal => "D",
        EntityKind::Contact => "C",
        EntityKind::Company => "CO",
        EntityKind::Quote => "Q",
    }
}

/// Owner ids per statement: far below SQLite's and PostgreSQL's bound-parameter limits.
const IDS_PER_QUERY: usize = 500;

impl Tx {
    /// The `uf` value for INSERT/UPDATE: JSON text, cast to JSONB on PostgreSQL.
    fn uf_value(&self, uf: &Map<String, Json>) -> SimpleExpr {
        let text = Json::Object(uf.clone()).to_string();
        match self.backend() {
            Backend::Sqlite => Expr::val(text).into(),
            Backend::Postgres => Expr::val(text).cast_as(a("JSONB")),
        }
    }

    fn assignments(
        &self,
        kind: EntityKind,
        values: &Assignments,
    ) -> Result<Vec<(Alias, SimpleExpr)>, ApiError> {
        values
            .iter()
            .map(|(col, v)| {
                if *col == "id" {
                    // Ids come from the table's sequence; an explicit one would desynchronise it
                    // on PostgreSQL.
                    tracing::error!(entity = kind.code(), "attempt to assign the id column");
                    return Err(ApiError::Internal);
                }
                let ty = column_type(kind, col)?;
                let v = coerce_assign(col, v, ty)?;
                Ok((a(col), Expr::val(bind(&v, ty)).into()))
            })
            .collect()
    }

    async fn exists(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let mut sel = Query::select();
        sel.expr(Expr::cust("1"))
            .from(a(kind.table()))
            .and_where(Expr::col(a("portal_id")).eq(portal_id))
            .and_where(Expr::col(a("id")).eq(id));
        Ok(!self.fetch_stmt(&sel).await?.is_empty())
    }
}

fn parse_uf(v: &DbValue) -> Result<Map<String, Json>, ApiError> {
    match v {
        DbValue::Text(t) => match serde_json::from_str::<Json>(t) {
            Ok(Json::Object(m)) => Ok(m),
            other => {
                tracing::error!(value = %t, parsed = ?other.map(|_| ()), "uf column is not a JSON object");
                Err(ApiError::Internal)
            }
        },
        DbValue::Null => Ok(Map::new()),
        other => {
            tracing::error!(value = ?other, "uf column is not text");
            Err(ApiError::Internal)
        }
    }
}

/// A decoded value in the column's type (SQLite may hand back an integer for a REAL column).
fn typed(v: DbValue, ty: ColumnType) -> DbValue {
    match (ty, v) {
        (ColumnType::Real, DbValue::Int(i)) => DbValue::Real(i as f64),
        (_, v) => v,
    }
}

impl Storage for Tx {
    async fn insert_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        values: Assignments,
        uf: Option<Map<String, Json>>,
    ) -> Result<i64, ApiError> {
        let mut pairs = vec![(a("portal_id"), SimpleExpr::from(Expr::val(portal_id)))];
        pairs.extend(self.assignments(kind, &values)?);
        if let Some(uf) = &uf {
            pairs.push((a("uf"), self.uf_value(uf)));
        }
        let (cols, vals): (Vec<Alias>, Vec<SimpleExpr>) = pairs.into_iter().unzip();
        let mut ins = Query::insert();
        ins.into_table(a(kind.table())).columns(cols);
        ins.values(vals).map_err(|e| {
            tracing::error!(error = %e, "insert statement");
            ApiError::Internal
        })?;
        ins.returning_col(a("id"));
        let rows = self.fetch_stmt(&ins).await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default())
    }

    async fn update_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
        values: Assignments,
        uf: Option<Map<String, Json>>,
    ) -> Result<bool, ApiError> {
        let mut pairs = self.assignments(kind, &values)?;
        if let Some(uf) = &uf {
            pairs.push((a("uf"), self.uf_value(uf)));
        }
        if pairs.is_empty() {
            return self.exists(kind, portal_id, id).await;
        }
        let mut upd = Query::update();
        upd.table(a(kind.table()))
            .values(pairs)
            .and_where(Expr::col(a("portal_id")).eq(portal_id))
            .and_where(Expr::col(a("id")).eq(id));
        Ok(self.exec_stmt(&upd).await? > 0)
    }

    async fn delete_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                &format!(
                    "DELETE FROM {} WHERE portal_id = ? AND id = ?",
                    kind.table()
                ),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        // Everything that hangs on the record goes in the same transaction: no orphan can be
        // seen by a later reader, and ids are never reused, so none could be adopted either.
        let et = kind.entity_type_id();
        self.exec_sql("DELETE FROM crm_multifield WHERE portal_id = ? AND entity_type_id = ? AND owner_id = ?", vec![
            portal_id.into(),
            et.into(),
            id.into(),
        ])
        .await?;
        self.exec_sql("DELETE FROM crm_entity_contact WHERE portal_id = ? AND entity_type_id = ? AND owner_id = ?", vec![
            portal_id.into(),
            et.into(),
            id.into(),
        ])
        .await?;
        if kind == EntityKind::Contact {
            self.exec_sql(
                "DELETE FROM crm_entity_contact WHERE portal_id = ? AND contact_id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        }
        self.exec_sql(
            "DELETE FROM crm_product_row WHERE portal_id = ? AND owner_type = ? AND owner_id = ?",
            vec![portal_id.into(), product_owner_type(kind).into(), id.into()],
        )
        .await?;
        self.exec_sql("DELETE FROM crm_trace_entity WHERE portal_id = ? AND entity_type_id = ? AND entity_id = ?", vec![
            portal_id.into(),
            et.into(),
            id.into(),
        ])
        .await?;
        Ok(true)
    }

    async fn list_entities(&mut self, query: &ListQuery) -> Result<Vec<Row>, ApiError> {
        let (sel, types) = Compiler::new(self.backend(), query).select()?;
        let rows = self.fetch_stmt(&sel).await?;
        let n = query.columns.len();
        rows.into_iter()
            .map(|r| {
                let mut it = r.into_iter();
                let id = it.next().map(|v| val::int(&v)).unwrap_or_default();
                let values: Vec<DbValue> = it
                    .by_ref()
                    .take(n)
                    .zip(&types[1..])
                    .map(|(v, ty)| typed(v, *ty))
                    .collect();
                let uf = if query.with_uf {
                    Some(parse_uf(&it.next().unwrap_or(DbValue::Null))?)
                } else {
                    None
                };
                Ok(Row { id, values, uf })
            })
            .collect()
    }

    async fn count_entities(&mut self, query: &ListQuery) -> Result<i64, ApiError> {
        let sel = Compiler::new(self.backend(), query).count()?;
        let rows = self.fetch_stmt(&sel).await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default())
    }

    async fn multifields(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> Result<Vec<Multifield>, ApiError> {
        let mut out = Vec::new();
        for chunk in owner_ids.chunks(IDS_PER_QUERY) {
            let mut sel = Query::select();
            sel.columns([
                a("id"),
                a("owner_id"),
                a("type_id"),
                a("value_type"),
                a("value"),
            ])
            .from(a("crm_multifield"))
            .and_where(Expr::col(a("portal_id")).eq(portal_id))
            .and_where(Expr::col(a("entity_type_id")).eq(kind.entity_type_id()))
            .and_where(Expr::col(a("owner_id")).is_in(chunk.iter().copied()))
            .order_by(a("id"), Order::Asc);
            for r in self.fetch_stmt(&sel).await? {
                out.push(Multifield {
                    id: val::int(&r[0]),
                    owner_id: val::int(&r[1]),
                    type_id: val::text(&r[2]),
                    value_type: val::text(&r[3]),
                    value: val::text(&r[4]),
                });
            }
        }
        if owner_ids.len() > IDS_PER_QUERY {
            out.sort_by_key(|m| m.id);
        }
        Ok(out)
    }

    async fn insert_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        type_id: &str,
        value_type: &str,
        value: &str,
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO crm_multifield (portal_id, entity_type_id, owner_id, type_id, value_type, value) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    kind.entity_type_id().into(),
                    owner_id.into(),
                    type_id.into(),
                    value_type.into(),
                    value.into(),
                ],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default())
    }

    async fn update_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
        value_type: &str,
        value: &str,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "UPDATE crm_multifield SET value_type = ?, value = ? \
                 WHERE portal_id = ? AND entity_type_id = ? AND owner_id = ? AND id = ?",
                vec![
                    value_type.into(),
                    value.into(),
                    portal_id.into(),
                    kind.entity_type_id().into(),
                    owner_id.into(),
                    id.into(),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM crm_multifield WHERE portal_id = ? AND entity_type_id = ? AND owner_id = ? AND id = ?",
                vec![portal_id.into(), kind.entity_type_id().into(), owner_id.into(), id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn statuses(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> Result<Vec<Status>, ApiError> {
        let mut sql = String::from(
            "SELECT id, entity_id, status_id, name, name_init, sort, system, category_id, color, semantics \
             FROM crm_status WHERE portal_id = ?",
        );
        let mut args: Vec<Value> = vec![portal_id.into()];
        if let Some(e) = entity_id {
            sql.push_str(" AND entity_id = ?");
            args.push(e.into());
        }
        sql.push_str(" ORDER BY sort, id");
        let rows = self.fetch_sql(&sql, args).await?;
        Ok(rows
            .iter()
            .map(|r| Status {
                id: val::int(&r[0]),
                entity_id: val::text(&r[1]),
                status_id: val::text(&r[2]),
                name: val::text(&r[3]),
                name_init: val::text(&r[4]),
                sort: val::int(&r[5]),
                system: val::flag(&r[6]),
                category_id: val::opt_int(&r[7]),
                color: val::opt_text(&r[8]),
                semantics: val::opt_text(&r[9]),
            })
            .collect())
    }

    async fn currencies(&mut self, portal_id: i64) -> Result<Vec<String>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT code FROM currency WHERE portal_id = ? ORDER BY base DESC, sort, code",
                vec![portal_id.into()],
            )
            .await?;
        Ok(rows.iter().map(|r| val::text(&r[0])).collect())
    }

    // Sales Intelligence: see tracking.rs.

    async fn tracking_settings(&mut self, portal_id: i64) -> Result<TrackingSettings, ApiError> {
        self.si_settings(portal_id).await
    }

    async fn sources(&mut self, portal_id: i64) -> Result<Vec<Source>, ApiError> {
        self.si_sources(portal_id).await
    }

    async fn insert_source(&mut self, portal_id: i64, source: &Source) -> Result<i64, ApiError> {
        self.si_insert_source(portal_id, source).await
    }

    async fn update_source(&mut self, portal_id: i64, source: &Source) -> Result<bool, ApiError> {
        self.si_update_source(portal_id, source).await
    }

    async fn delete_source(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.si_delete_source(portal_id, id).await
    }

    async fn insert_trace(&mut self, portal_id: i64, trace: &TraceData) -> Result<i64, ApiError> {
        self.si_insert_trace(portal_id, trace).await
    }

    async fn link_trace_child(
        &mut self,
        portal_id: i64,
        parent_id: i64,
        child_id: i64,
    ) -> Result<(), ApiError> {
        self.si_link_child(portal_id, parent_id, child_id).await
    }

    async fn add_trace_channel(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        channel: &TraceChannel,
    ) -> Result<(), ApiError> {
        self.si_add_channel(portal_id, trace_id, channel).await
    }

    async fn traces(&mut self, portal_id: i64, ids: &[i64]) -> Result<Vec<Trace>, ApiError> {
        self.si_traces(portal_id, ids).await
    }

    async fn bind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
        now: i64,
    ) -> Result<(), ApiError> {
        self.si_bind(portal_id, trace_id, kind, entity_id, now)
            .await
    }

    async fn trace_bindings(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> Result<Vec<Binding>, ApiError> {
        self.si_trace_bindings(portal_id, trace_id).await
    }

    async fn entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> Result<Vec<Binding>, ApiError> {
        self.si_entity_bindings(portal_id, kind, entity_id, limit)
            .await
    }

    async fn unbind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
    ) -> Result<bool, ApiError> {
        self.si_unbind(portal_id, trace_id, kind, entity_id).await
    }

    async fn delete_trace(&mut self, portal_id: i64, trace_id: i64) -> Result<bool, ApiError> {
        self.si_delete_trace(portal_id, trace_id).await
    }
}
