//! Sales Intelligence expenses for `Tx` (migration 0009): packs and their materialised daily rows,
//! and the per-source, per-currency sums of days the report reads. `crm::Storage` (entity.rs)
//! delegates here; the split itself is `crm::tracking::expense`.

use crate::tx::{val, Tx};
use bx_wire::ApiError;
use chrono::NaiveDate;
use crm::tracking::{ExpenseDay, ExpenseFilter, ExpensePack, ExpenseTotal};
use crm::DbValue;
use sea_query::Value;

/// Daily rows per INSERT statement (8 values each: far below both backends' parameter limits).
const DAYS_PER_INSERT: usize = 100;

const PACK_COLUMNS: &str =
    "id, source_id, date_from, date_to, impressions, actions, amount_cents, \
     currency, comment, created_at, created_by";

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn date_of(v: &DbValue) -> NaiveDate {
    let text = val::text(v);
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").unwrap_or_else(|_| {
        tracing::error!(text, "stored expense date is not YYYY-MM-DD");
        NaiveDate::default()
    })
}

fn pack_from(r: &[DbValue]) -> ExpensePack {
    ExpensePack {
        id: val::int(&r[0]),
        source_id: val::int(&r[1]),
        date_from: date_of(&r[2]),
        date_to: date_of(&r[3]),
        impressions: val::int(&r[4]),
        actions: val::int(&r[5]),
        amount_cents: val::int(&r[6]),
        currency: val::text(&r[7]),
        comment: val::text(&r[8]),
        created_at: val::int(&r[9]),
        created_by: val::int(&r[10]),
    }
}

/// `WHERE …` of a list filter and its arguments.
fn filter_sql(portal_id: i64, f: &ExpenseFilter) -> (String, Vec<Value>) {
    let mut sql = String::from("portal_id = ?");
    let mut args: Vec<Value> = vec![portal_id.into()];
    if let Some(s) = f.source_id {
        sql.push_str(" AND source_id = ?");
        args.push(s.into());
    }
    if let Some(from) = f.from {
        sql.push_str(" AND date_to >= ?");
        args.push(day_text(from).into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND date_from <= ?");
        args.push(day_text(to).into());
    }
    (sql, args)
}

impl Tx {
    pub(crate) async fn si_insert_expense_pack(
        &mut self,
        portal_id: i64,
        p: &ExpensePack,
        days: &[ExpenseDay],
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO si_expense_pack (portal_id, source_id, date_from, date_to, impressions, \
                 actions, amount_cents, currency, comment, created_at, created_by) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    p.source_id.into(),
                    day_text(p.date_from).into(),
                    day_text(p.date_to).into(),
                    p.impressions.into(),
                    p.actions.into(),
                    p.amount_cents.into(),
                    p.currency.as_str().into(),
                    p.comment.as_str().into(),
                    p.created_at.into(),
                    p.created_by.into(),
                ],
            )
            .await?;
        let id = rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .ok_or(ApiError::Internal)?;
        for chunk in days.chunks(DAYS_PER_INSERT) {
            let marks = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 8);
            for d in chunk {
                args.extend([
                    portal_id.into(),
                    id.into(),
                    day_text(d.day).into(),
                    p.source_id.into(),
                    p.currency.as_str().into(),
                    d.impressions.into(),
                    d.actions.into(),
                    d.amount_cents.into(),
                ]);
            }
            self.exec_sql(
                &format!(
                    "INSERT INTO si_expense_day (portal_id, pack_id, day, source_id, currency, \
                     impressions, actions, amount_cents) VALUES {marks}"
                ),
                args,
            )
            .await?;
        }
        Ok(id)
    }

    pub(crate) async fn si_expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<Option<ExpensePack>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT {PACK_COLUMNS} FROM si_expense_pack WHERE portal_id = ? AND id = ?"
                ),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| pack_from(r)))
    }

    pub(crate) async fn si_expense_days(
        &mut self,
        portal_id: i64,
        pack_id: i64,
    ) -> Result<Vec<ExpenseDay>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT day, amount_cents, impressions, actions FROM si_expense_day \
                 WHERE portal_id = ? AND pack_id = ? ORDER BY day",
                vec![portal_id.into(), pack_id.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ExpenseDay {
                day: date_of(&r[0]),
                amount_cents: val::int(&r[1]),
                impressions: val::int(&r[2]),
                actions: val::int(&r[3]),
            })
            .collect())
    }

    pub(crate) async fn si_expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ExpensePack>, ApiError> {
        let (cond, mut args) = filter_sql(portal_id, filter);
        args.push(limit.max(0).into());
        args.push(offset.max(0).into());
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT {PACK_COLUMNS} FROM si_expense_pack WHERE {cond} ORDER BY id LIMIT ? OFFSET ?"
                ),
                args,
            )
            .await?;
        Ok(rows.iter().map(|r| pack_from(r)).collect())
    }

    pub(crate) async fn si_count_expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
    ) -> Result<i64, ApiError> {
        let (cond, args) = filter_sql(portal_id, filter);
        let rows = self
            .fetch_sql(
                &format!("SELECT COUNT(*) FROM si_expense_pack WHERE {cond}"),
                args,
            )
            .await?;
        Ok(rows.first().and_then(|r| r.first()).map_or(0, val::int))
    }

    pub(crate) async fn si_delete_expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM si_expense_pack WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        self.exec_sql(
            "DELETE FROM si_expense_day WHERE portal_id = ? AND pack_id = ?",
            vec![portal_id.into(), id.into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// Removes every pack of a source with its days (the source is being deleted).
    pub(crate) async fn si_delete_source_expenses(
        &mut self,
        portal_id: i64,
        source_id: i64,
    ) -> Result<(), ApiError> {
        for sql in [
            "DELETE FROM si_expense_day WHERE portal_id = ? AND source_id = ?",
            "DELETE FROM si_expense_pack WHERE portal_id = ? AND source_id = ?",
        ] {
            self.exec_sql(sql, vec![portal_id.into(), source_id.into()])
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn si_expense_totals(
        &mut self,
        portal_id: i64,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<ExpenseTotal>, ApiError> {
        // PostgreSQL's SUM of BIGINT is NUMERIC: cast back (sums stay far below 2^63, see
        // expense::MAX_AMOUNT_CENTS).
        let rows = self
            .fetch_sql(
                "SELECT source_id, currency, CAST(SUM(amount_cents) AS BIGINT), \
                 CAST(SUM(impressions) AS BIGINT), CAST(SUM(actions) AS BIGINT) \
                 FROM si_expense_day WHERE portal_id = ? AND day >= ? AND day <= ? \
                 GROUP BY source_id, currency ORDER BY source_id, currency",
                vec![portal_id.into(), from_day.into(), to_day.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                ExpenseTotal::new(
                    val::int(&r[0]),
                    val::text(&r[1]),
                    val::int(&r[2]),
                    val::int(&r[3]),
                    val::int(&r[4]),
                )
            })
            .collect())
    }
}
