//! `crm::Storage` for `Tx`: entity rows with their JSON user fields, multifields (and their
//! duplicate-search keys), status dictionaries, currencies and card layouts, on either backend.

use crate::compile::{bind, coerce_assign, column_type, Compiler};
use crate::tx::{val, Tx};
use crate::Backend;
use bx_wire::ApiError;
use crm::card::CardKey;
use crm::currency::Currency;
use crm::duplicate;
use crm::event::Event;
use crm::product_row::{self, ProductRow};
use crm::tracking::attribution::Model;
use crm::tracking::report::{GroupBy, GroupKey, RecordGroup, ReportQuery, TouchRecord};
use crm::tracking::{
    Binding as TraceBinding, ChannelRule, ExpenseDay, ExpenseFilter, ExpensePack, ExpenseTotal,
    Source, Trace, TraceChannel, TraceData, TrackingSettings,
};
use crm::{
    Assignments, Binding, ColumnType, DbValue, EntityKind, ListQuery, Multifield, Row, Status,
    Storage, UserField,
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

/// The product-row columns written from a `ProductRow`, in `product_row_values` order.
const PRODUCT_ROW_COLUMNS: &str = "owner_type, owner_id, sort, product_id, product_name, \
     original_product_name, product_description, price, price_exclusive, price_netto, price_brutto, \
     price_account, quantity, discount_type_id, discount_rate, discount_sum, tax_rate, tax_included, \
     tax_name, customized, measure_code, measure_name, xml_id, product_type, store_id, reserve_id, \
     date_reserve_end, reserve_quantity";

fn product_row_values(row: &ProductRow) -> Result<Vec<Value>, ApiError> {
    let Some(owner_type) = product_row::owner_type(row.owner_kind) else {
        tracing::error!(
            owner = row.owner_kind.code(),
            "no product rows for this kind"
        );
        return Err(ApiError::Internal);
    };
    let yn = |b: bool| if b { "Y" } else { "N" };
    Ok(vec![
        owner_type.into(),
        row.owner_id.into(),
        row.sort.into(),
        row.product_id.into(),
        row.product_name.clone().into(),
        row.original_product_name.clone().into(),
        row.product_description.clone().into(),
        row.price.into(),
        row.price_exclusive.into(),
        row.price_netto.into(),
        row.price_brutto.into(),
        row.price_account.into(),
        row.quantity.into(),
        row.discount_type_id.into(),
        row.discount_rate.into(),
        row.discount_sum.into(),
        row.tax_rate.into(),
        yn(row.tax_included).into(),
        row.tax_name.clone().into(),
        yn(row.customized).into(),
        row.measure_code.into(),
        row.measure_name.clone().into(),
        row.xml_id.clone().into(),
        row.product_type.into(),
        row.store_id.into(),
        row.reserve_id.into(),
        row.date_reserve_end.clone().into(),
        row.reserve_quantity.into(),
    ])
}

/// A row read with `SELECT id, {PRODUCT_ROW_COLUMNS}`.
fn product_row_from(r: &[DbValue]) -> Option<ProductRow> {
    let f = |i: usize| val::opt_real(&r[i]);
    Some(ProductRow {
        id: val::int(&r[0]),
        owner_kind: product_row::owner_kind(&val::text(&r[1]))?,
        owner_id: val::int(&r[2]),
        sort: val::int(&r[3]),
        product_id: val::int(&r[4]),
        product_name: val::text(&r[5]),
        original_product_name: val::opt_text(&r[6]),
        product_description: val::opt_text(&r[7]),
        price: f(8).unwrap_or(0.0),
        price_exclusive: f(9).unwrap_or(0.0),
        price_netto: f(10).unwrap_or(0.0),
        price_brutto: f(11).unwrap_or(0.0),
        price_account: f(12).unwrap_or(0.0),
        quantity: f(13).unwrap_or(0.0),
        discount_type_id: val::int(&r[14]),
        discount_rate: f(15).unwrap_or(0.0),
        discount_sum: f(16).unwrap_or(0.0),
        tax_rate: f(17),
        tax_included: val::text(&r[18]) == "Y",
        tax_name: val::opt_text(&r[19]),
        customized: val::text(&r[20]) == "Y",
        measure_code: val::int(&r[21]),
        measure_name: val::text(&r[22]),
        xml_id: val::opt_text(&r[23]),
        product_type: val::int(&r[24]),
        store_id: val::opt_int(&r[25]),
        reserve_id: val::opt_int(&r[26]),
        date_reserve_end: val::opt_text(&r[27]),
        reserve_quantity: f(28),
    })
}

/// Where the bindings of records of one kind to records of another kind are kept.
struct BindingTable {
    table: &'static str,
    owner_col: &'static str,
    bound_col: &'static str,
    /// `entity_type_id` of the owner, for the table shared by every owner kind.
    owner_type: Option<i64>,
}

impl BindingTable {
    fn of(owner: EntityKind, bound: EntityKind) -> Result<BindingTable, ApiError> {
        match (owner, bound) {
            (_, EntityKind::Contact) if owner != EntityKind::Contact => Ok(BindingTable {
                table: "crm_entity_contact",
                owner_col: "owner_id",
                bound_col: "contact_id",
                owner_type: Some(owner.entity_type_id()),
            }),
            (EntityKind::Contact, EntityKind::Company) => Ok(BindingTable {
                table: "crm_contact_company",
                owner_col: "contact_id",
                bound_col: "company_id",
                owner_type: None,
            }),
            _ => {
                tracing::error!(
                    owner = owner.code(),
                    bound = bound.code(),
                    "no such binding"
                );
                Err(ApiError::Internal)
            }
        }
    }

    /// `WHERE portal_id = ? [AND entity_type_id = ?]` and its values.
    fn scope(&self, portal_id: i64) -> (String, Vec<Value>) {
        match self.owner_type {
            Some(t) => (
                "portal_id = ? AND entity_type_id = ?".into(),
                vec![portal_id.into(), t.into()],
            ),
            None => ("portal_id = ?".into(), vec![portal_id.into()]),
        }
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
        // Bindings that point at a deleted contact or company, and a contact's own companies. The
        // crm layer detaches these first (re-electing primaries); this is the last line.
        let pointing_at: &[(&str, &str)] = match kind {
            EntityKind::Contact => &[
                ("crm_entity_contact", "contact_id"),
                ("crm_contact_company", "contact_id"),
            ],
            EntityKind::Company => &[("crm_contact_company", "company_id")],
            _ => &[],
        };
        for (table, column) in pointing_at {
            self.exec_sql(
                &format!("DELETE FROM {table} WHERE portal_id = ? AND {column} = ?"),
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
                "INSERT INTO crm_multifield (portal_id, entity_type_id, owner_id, type_id, value_type, value, value_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    kind.entity_type_id().into(),
                    owner_id.into(),
                    type_id.into(),
                    value_type.into(),
                    value.into(),
                    duplicate::comm_key(type_id, value).into(),
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
                // The key depends on the stored type, which the caller does not pass: both
                // candidates go along and the row picks its own.
                "UPDATE crm_multifield SET value_type = ?, value = ?, \
                 value_key = CASE WHEN type_id = 'PHONE' THEN ? ELSE ? END \
                 WHERE portal_id = ? AND entity_type_id = ? AND owner_id = ? AND id = ?",
                vec![
                    value_type.into(),
                    value.into(),
                    duplicate::comm_key("PHONE", value).into(),
                    duplicate::comm_key("", value).into(),
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
        let mut sql = format!("SELECT {STATUS_COLUMNS} FROM crm_status WHERE portal_id = ?");
        let mut args: Vec<Value> = vec![portal_id.into()];
        if let Some(e) = entity_id {
            sql.push_str(" AND entity_id = ?");
            args.push(e.into());
        }
        sql.push_str(" ORDER BY sort, id");
        let rows = self.fetch_sql(&sql, args).await?;
        Ok(rows.iter().map(|r| status_from(r)).collect())
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

    async fn channel_rules(&mut self, portal_id: i64) -> Result<Vec<ChannelRule>, ApiError> {
        self.si_channel_rules(portal_id).await
    }

    async fn tracking_lists(
        &mut self,
        portal_id: i64,
    ) -> Result<(Vec<Source>, Vec<ChannelRule>), ApiError> {
        self.si_tracking_lists(portal_id).await
    }

    async fn insert_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<i64, ApiError> {
        self.si_insert_channel_rule(portal_id, rule).await
    }

    async fn update_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<bool, ApiError> {
        self.si_update_channel_rule(portal_id, rule).await
    }

    async fn delete_channel_rule(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.si_delete_channel_rule(portal_id, id).await
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
    ) -> Result<Vec<TraceBinding>, ApiError> {
        self.si_trace_bindings(portal_id, trace_id).await
    }

    async fn entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> Result<Vec<TraceBinding>, ApiError> {
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

    async fn report_groups(&mut self, q: &ReportQuery) -> Result<Vec<RecordGroup>, ApiError> {
        self.report_groups_sql(q).await
    }

    async fn report_touches(
        &mut self,
        q: &ReportQuery,
        model: Model,
        window_secs: i64,
    ) -> Result<(Vec<RecordGroup>, Vec<TouchRecord>), ApiError> {
        self.report_touches_sql(q, model, window_secs).await
    }

    async fn report_visits(
        &mut self,
        portal_id: i64,
        from: i64,
        to: i64,
        group_by: GroupBy,
    ) -> Result<Vec<(GroupKey, i64)>, ApiError> {
        self.report_visits_sql(portal_id, from, to, group_by).await
    }

    // Expenses: see expenses.rs.

    async fn insert_expense_pack(
        &mut self,
        portal_id: i64,
        pack: &ExpensePack,
        days: &[ExpenseDay],
    ) -> Result<i64, ApiError> {
        self.si_insert_expense_pack(portal_id, pack, days).await
    }

    async fn expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<Option<ExpensePack>, ApiError> {
        self.si_expense_pack(portal_id, id).await
    }

    async fn expense_days(
        &mut self,
        portal_id: i64,
        pack_id: i64,
    ) -> Result<Vec<ExpenseDay>, ApiError> {
        self.si_expense_days(portal_id, pack_id).await
    }

    async fn expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ExpensePack>, ApiError> {
        self.si_expense_packs(portal_id, filter, offset, limit)
            .await
    }

    async fn count_expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
    ) -> Result<i64, ApiError> {
        self.si_count_expense_packs(portal_id, filter).await
    }

    async fn delete_expense_pack(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.si_delete_expense_pack(portal_id, id).await
    }

    async fn expense_totals(
        &mut self,
        portal_id: i64,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<ExpenseTotal>, ApiError> {
        self.si_expense_totals(portal_id, from_day, to_day).await
    }

    async fn status(&mut self, portal_id: i64, id: i64) -> Result<Option<Status>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {STATUS_COLUMNS} FROM crm_status WHERE portal_id = ? AND id = ?"),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| status_from(r)))
    }

    async fn insert_status(&mut self, portal_id: i64, st: &Status) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO crm_status \
                 (portal_id, entity_id, status_id, name, name_init, sort, system, category_id, color, semantics) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    st.entity_id.as_str().into(),
                    st.status_id.as_str().into(),
                    st.name.as_str().into(),
                    st.name_init.as_str().into(),
                    st.sort.into(),
                    st.system.into(),
                    Value::BigInt(st.category_id),
                    Value::String(st.color.clone().map(Box::new)),
                    Value::String(st.semantics.clone().map(Box::new)),
                ],
            )
            .await?;
        rows.first()
            .and_then(|r| r.first())
            .map(val::int)
            .ok_or(ApiError::Internal)
    }

    async fn update_status(&mut self, portal_id: i64, st: &Status) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "UPDATE crm_status SET name = ?, sort = ?, color = ? WHERE portal_id = ? AND id = ?",
                vec![
                    st.name.as_str().into(),
                    st.sort.into(),
                    Value::String(st.color.clone().map(Box::new)),
                    portal_id.into(),
                    st.id.into(),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_status(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM crm_status WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn currency_list(&mut self, portal_id: i64) -> Result<Vec<Currency>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT code, sort, base, amount_cnt, amount, date_update FROM currency \
                 WHERE portal_id = ? ORDER BY sort, code",
                vec![portal_id.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Currency {
                code: val::text(&r[0]),
                sort: val::int(&r[1]),
                base: val::flag(&r[2]),
                amount_cnt: val::int(&r[3]),
                amount: match &r[4] {
                    DbValue::Real(f) => *f,
                    other => val::int(other) as f64,
                },
                date_update: val::int(&r[5]),
            })
            .collect())
    }

    async fn find_by_comm(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        type_id: &str,
        keys: &[String],
        limit: Option<i64>,
    ) -> Result<Vec<i64>, ApiError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let mut sel = Query::select();
        sel.distinct()
            .column(a("owner_id"))
            .from(a("crm_multifield"))
            .and_where(Expr::col(a("portal_id")).eq(portal_id))
            .and_where(Expr::col(a("entity_type_id")).eq(kind.entity_type_id()))
            .and_where(Expr::col(a("type_id")).eq(type_id))
            .and_where(Expr::col(a("value_key")).is_in(keys.iter().cloned()))
            .order_by(a("owner_id"), Order::Asc);
        if let Some(limit) = limit {
            sel.limit(limit.max(0) as u64);
        }
        let rows = self.fetch_stmt(&sel).await?;
        Ok(rows.iter().map(|r| val::int(&r[0])).collect())
    }

    async fn card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<Option<Json>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT data FROM crm_card_config \
                 WHERE portal_id = ? AND entity_type_id = ? AND variant = ? AND user_id = ?",
                card_key_values(portal_id, key),
            )
            .await?;
        let Some(text) = rows.first().map(|r| val::text(&r[0])) else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            tracing::error!(error = %e, "stored card layout is not JSON");
            ApiError::Internal
        })
    }

    async fn save_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
        sections: &Json,
    ) -> Result<(), ApiError> {
        let mut values = card_key_values(portal_id, key);
        values.push(sections.to_string().into());
        self.exec_sql(
            "INSERT INTO crm_card_config (portal_id, entity_type_id, variant, user_id, data) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (portal_id, entity_type_id, variant, user_id) DO UPDATE SET data = excluded.data",
            values,
        )
        .await?;
        Ok(())
    }

    async fn delete_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM crm_card_config \
                 WHERE portal_id = ? AND entity_type_id = ? AND variant = ? AND user_id = ?",
                card_key_values(portal_id, key),
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_personal_card_configs(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<u64, ApiError> {
        self.exec_sql(
            "DELETE FROM crm_card_config \
             WHERE portal_id = ? AND entity_type_id = ? AND variant = ? AND user_id <> 0",
            vec![
                portal_id.into(),
                key.kind.entity_type_id().into(),
                key.variant.as_str().into(),
            ],
        )
        .await
    }

    async fn user_fields(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> Result<Vec<UserField>, ApiError> {
        self.uf_list(portal_id, entity_id).await
    }

    async fn insert_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> Result<i64, ApiError> {
        self.uf_insert(portal_id, field).await
    }

    async fn update_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> Result<bool, ApiError> {
        self.uf_update(portal_id, field).await
    }

    async fn delete_user_field(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.uf_delete(portal_id, id).await
    }

    async fn remove_user_field_values(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        field_name: &str,
    ) -> Result<(), ApiError> {
        self.uf_remove_values(kind, portal_id, field_name).await
    }

    async fn insert_file(
        &mut self,
        portal_id: i64,
        name: &str,
        size: i64,
    ) -> Result<i64, ApiError> {
        self.file_insert(portal_id, name, size).await
    }

    async fn enqueue_event(&mut self, event: &Event) -> Result<(), ApiError> {
        self.enqueue(event).await
    }

    async fn bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
    ) -> Result<Vec<Binding>, ApiError> {
        let t = BindingTable::of(owner, bound)?;
        let (scope, mut args) = t.scope(portal_id);
        args.push(owner_id.into());
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT {bound}, sort, is_primary FROM {table} WHERE {scope} AND {owner} = ? \
                     ORDER BY sort, {bound}",
                    bound = t.bound_col,
                    table = t.table,
                    owner = t.owner_col,
                ),
                args,
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Binding {
                id: val::int(&r[0]),
                sort: val::int(&r[1]),
                primary: val::flag(&r[2]),
            })
            .collect())
    }

    async fn set_bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
        bindings: &[Binding],
    ) -> Result<(), ApiError> {
        let t = BindingTable::of(owner, bound)?;
        let (scope, mut args) = t.scope(portal_id);
        args.push(owner_id.into());
        self.exec_sql(
            &format!(
                "DELETE FROM {table} WHERE {scope} AND {owner} = ?",
                table = t.table,
                owner = t.owner_col
            ),
            args,
        )
        .await?;
        for b in bindings {
            let (cols, mut args): (&str, Vec<Value>) = match t.owner_type {
                Some(et) => (
                    "portal_id, entity_type_id",
                    vec![portal_id.into(), et.into()],
                ),
                None => ("portal_id", vec![portal_id.into()]),
            };
            let marks = vec!["?"; args.len() + 4].join(", ");
            args.extend([
                owner_id.into(),
                b.id.into(),
                b.sort.into(),
                b.primary.into(),
            ]);
            self.exec_sql(
                &format!(
                    "INSERT INTO {table} ({cols}, {owner}, {bound}, sort, is_primary) VALUES ({marks})",
                    table = t.table,
                    owner = t.owner_col,
                    bound = t.bound_col,
                ),
                args,
            )
            .await?;
        }
        Ok(())
    }

    async fn bound_owners(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        bound: EntityKind,
        bound_id: i64,
    ) -> Result<Vec<i64>, ApiError> {
        let t = BindingTable::of(owner, bound)?;
        let (scope, mut args) = t.scope(portal_id);
        args.push(bound_id.into());
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT {owner} FROM {table} WHERE {scope} AND {bound} = ? ORDER BY {owner}",
                    owner = t.owner_col,
                    table = t.table,
                    bound = t.bound_col,
                ),
                args,
            )
            .await?;
        Ok(rows.iter().map(|r| val::int(&r[0])).collect())
    }

    async fn product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> Result<Vec<ProductRow>, ApiError> {
        let Some(owner_type) = product_row::owner_type(owner) else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for chunk in owner_ids.chunks(IDS_PER_QUERY) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut args: Vec<Value> = vec![portal_id.into(), owner_type.into()];
            args.extend(chunk.iter().map(|i| Value::from(*i)));
            let rows = self
                .fetch_sql(
                    &format!(
                        "SELECT id, {PRODUCT_ROW_COLUMNS} FROM crm_product_row \
                         WHERE portal_id = ? AND owner_type = ? AND owner_id IN ({marks}) \
                         ORDER BY owner_id, sort, id"
                    ),
                    args,
                )
                .await?;
            out.extend(rows.iter().filter_map(|r| product_row_from(r)));
        }
        Ok(out)
    }

    async fn product_row(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<Option<ProductRow>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT id, {PRODUCT_ROW_COLUMNS} FROM crm_product_row WHERE portal_id = ? AND id = ?"
                ),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(rows.first().and_then(|r| product_row_from(r)))
    }

    async fn insert_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> Result<i64, ApiError> {
        let mut args: Vec<Value> = vec![portal_id.into()];
        args.extend(product_row_values(row)?);
        let marks = vec!["?"; args.len()].join(", ");
        let rows = self
            .fetch_sql(
                &format!(
                    "INSERT INTO crm_product_row (portal_id, {PRODUCT_ROW_COLUMNS}) VALUES ({marks}) RETURNING id"
                ),
                args,
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .unwrap_or_default())
    }

    async fn update_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> Result<bool, ApiError> {
        let sets = PRODUCT_ROW_COLUMNS
            .split(',')
            .map(|c| format!("{} = ?", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut args = product_row_values(row)?;
        args.extend([Value::from(portal_id), Value::from(row.id)]);
        let n = self
            .exec_sql(
                &format!("UPDATE crm_product_row SET {sets} WHERE portal_id = ? AND id = ?"),
                args,
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_product_row(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM crm_product_row WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "DELETE FROM crm_product_row WHERE portal_id = ? AND owner_type = ? AND owner_id = ?",
            vec![
                portal_id.into(),
                product_owner_type(owner).into(),
                owner_id.into(),
            ],
        )
        .await?;
        Ok(())
    }
}

const STATUS_COLUMNS: &str =
    "id, entity_id, status_id, name, name_init, sort, system, category_id, color, semantics";

fn status_from(r: &[DbValue]) -> Status {
    Status {
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
    }
}

/// `portal_id, entity_type_id, variant, user_id` of a card layout; the common layout is user 0.
fn card_key_values(portal_id: i64, key: &CardKey) -> Vec<Value> {
    vec![
        portal_id.into(),
        key.kind.entity_type_id().into(),
        key.variant.as_str().into(),
        key.user_id.unwrap_or(0).into(),
    ]
}
