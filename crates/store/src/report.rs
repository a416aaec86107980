//! The Sales Intelligence report's queries (migration 0011): per-group sums computed by the
//! database for the default attribution, compact per-record rows with their touches for the touch
//! models, visits; and keeping each lead's and deal's copy of its effective trace's source and
//! channel group (`tracking_source_id`, `tracking_channel`) current. Also the bulk path the
//! benchmark seeds traces with.

use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::tracking::report::{GroupBy, GroupKey, RecordGroup, TouchRecord, TraceTouch};
use crm::EntityKind;
use sea_query::Value;
use std::collections::HashMap;

/// The table and success-semantics column of the record types the report counts.
fn report_table(kind: EntityKind) -> Option<(&'static str, &'static str)> {
    match kind {
        EntityKind::Lead => Some(("crm_lead", "status_semantic_id")),
        EntityKind::Deal => Some(("crm_deal", "stage_semantic_id")),
        _ => None,
    }
}

fn key_of(group_by: GroupBy, v: &crm::DbValue) -> GroupKey {
    match group_by {
        GroupBy::Source => GroupKey::Source(val::int(v)),
        GroupBy::Channel => GroupKey::Channel(val::text(v)),
    }
}

/// `SET …` of `refresh_tracking` for the row of `table` in the statement (correlated by name).
fn refresh_assignments(table: &str, et: i64) -> String {
    let own = format!(
        "b.portal_id = {table}.portal_id AND b.entity_type_id = {et} AND b.entity_id = {table}.id"
    );
    format!(
        "(tracking_source_id, tracking_channel, tracking_at) = (\
         SELECT t.source_id, t.channel_group, t.created_at FROM crm_trace_entity b \
         JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id \
         WHERE {own} ORDER BY b.seq DESC, b.trace_id DESC LIMIT 1), \
         tracking_touches = (SELECT COUNT(*) FROM crm_trace_entity b WHERE {own}) \
         + (SELECT COUNT(*) FROM si_trace_link l WHERE l.portal_id = {table}.portal_id \
         AND l.parent_trace_id IN (SELECT b.trace_id FROM crm_trace_entity b WHERE {own}))"
    )
}

/// Per-group sums of the records of `table` created in `[?, ?)` that satisfy `only`: the group
/// `key`, the currency, the responsible (when asked), count, Σ, won count, won Σ.
fn aggregate_sql(
    table: &str,
    semantic: &str,
    key: &str,
    by_responsible: bool,
    only: &str,
) -> String {
    let assigned = if by_responsible {
        ", assigned_by_id"
    } else {
        ""
    };
    format!(
        "SELECT k, currency_id{assigned}, COUNT(*), SUM(COALESCE(opportunity, 0)), \
         SUM(CASE WHEN {semantic} = 'S' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN {semantic} = 'S' THEN COALESCE(opportunity, 0) ELSE 0 END) \
         FROM (SELECT {key} AS k, currency_id, assigned_by_id, opportunity, {semantic} FROM {table} \
         WHERE portal_id = ? AND date_create >= ? AND date_create < ? AND {only}) s \
         GROUP BY k, currency_id{assigned}"
    )
}

fn groups_from(
    rows: &[Vec<crm::DbValue>],
    group_by: GroupBy,
    by_responsible: bool,
) -> Vec<RecordGroup> {
    let at = if by_responsible { 3 } else { 2 };
    rows.iter()
        .map(|r| RecordGroup {
            key: key_of(group_by, &r[0]),
            currency: val::opt_text(&r[1]),
            assigned_by_id: if by_responsible {
                val::opt_int(&r[2])
            } else {
                None
            },
            count: val::int(&r[at]),
            sum: val::opt_real(&r[at + 1]).unwrap_or(0.0),
            won: val::int(&r[at + 2]),
            won_sum: val::opt_real(&r[at + 3]).unwrap_or(0.0),
        })
        .collect()
}

/// A trace for the bulk path: only what the report reads.
#[derive(Debug, Clone)]
pub struct BulkTrace {
    pub created_at: i64,
    pub source_id: i64,
    pub channel_group: String,
}

/// Rows per multi-row INSERT (well under both backends' bound-parameter limits).
const BULK_ROWS: usize = 1000;

impl Tx {
    /// Copies the source, channel group and time of a lead's or deal's effective trace onto its
    /// row (NULL when it has none), with its number of touches. Other record types have no copy.
    pub(crate) async fn refresh_tracking(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
    ) -> Result<(), ApiError> {
        let Some((table, _)) = report_table(kind) else {
            return Ok(());
        };
        let et = kind.entity_type_id();
        self.exec_sql(
            &format!(
                "UPDATE {table} SET {} WHERE portal_id = ? AND id = ?",
                refresh_assignments(table, et)
            ),
            vec![portal_id.into(), entity_id.into()],
        )
        .await?;
        Ok(())
    }

    /// `refresh_tracking` for every lead and deal bound to one of these traces (their touches
    /// changed: a previous visit was linked to, or removed from, one of them).
    pub(crate) async fn refresh_tracking_of_traces(
        &mut self,
        portal_id: i64,
        trace_ids: &[i64],
    ) -> Result<(), ApiError> {
        for trace_id in trace_ids {
            for b in self.si_trace_bindings(portal_id, *trace_id).await? {
                self.refresh_tracking(portal_id, b.kind, b.entity_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// A deleted source: records whose effective trace had it now count for source 0, as the
    /// traces themselves do.
    pub(crate) async fn forget_tracking_source(
        &mut self,
        portal_id: i64,
        source_id: i64,
    ) -> Result<(), ApiError> {
        for table in ["crm_lead", "crm_deal"] {
            self.exec_sql(
                &format!(
                    "UPDATE {table} SET tracking_source_id = 0 \
                     WHERE portal_id = ? AND tracking_source_id = ?"
                ),
                vec![portal_id.into(), source_id.into()],
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn report_groups_sql(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        from: i64,
        to: i64,
        group_by: GroupBy,
        by_responsible: bool,
    ) -> Result<Vec<RecordGroup>, ApiError> {
        let Some((table, semantic)) = report_table(kind) else {
            return Ok(vec![]);
        };
        let key = match group_by {
            GroupBy::Source => "COALESCE(tracking_source_id, 0)",
            GroupBy::Channel => "COALESCE(tracking_channel, 'unassigned')",
        };
        let rows = self
            .fetch_sql(
                &aggregate_sql(table, semantic, key, by_responsible, "1 = 1"),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        Ok(groups_from(&rows, group_by, by_responsible))
    }

    /// Touch models (see `crm::Storage::report_touches`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn report_touches_sql(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        from: i64,
        to: i64,
        window_secs: i64,
        group_by: GroupBy,
        by_responsible: bool,
    ) -> Result<(Vec<RecordGroup>, Vec<TouchRecord>), ApiError> {
        let Some((table, semantic)) = report_table(kind) else {
            return Ok((vec![], vec![]));
        };
        // At most one touch: its group when it lies in the window, else none (every model gives
        // a lone touch all the credit).
        let inside = format!(
            "tracking_touches = 1 AND tracking_at >= date_create - {window_secs} AND tracking_at <= date_create"
        );
        let key = match group_by {
            GroupBy::Source => format!("CASE WHEN {inside} THEN COALESCE(tracking_source_id, 0) ELSE 0 END"),
            GroupBy::Channel => format!(
                "CASE WHEN {inside} THEN COALESCE(tracking_channel, 'unassigned') ELSE 'unassigned' END"
            ),
        };
        let single = self
            .fetch_sql(
                &aggregate_sql(
                    table,
                    semantic,
                    &key,
                    by_responsible,
                    "tracking_touches <= 1",
                ),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        let groups = groups_from(&single, group_by, by_responsible);
        let records = self
            .touch_records(portal_id, kind, table, semantic, from, to)
            .await?;
        Ok((groups, records))
    }

    /// The records with more than one touch, with their touches.
    async fn touch_records(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        table: &str,
        semantic: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<TouchRecord>, ApiError> {
        let et = kind.entity_type_id();
        // One row per (record, bound trace, previous visit of it); the join runs from the
        // records in the range outwards (every step an index lookup).
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT r.id, r.date_create, r.currency_id, r.opportunity, r.{semantic}, \
                     r.assigned_by_id, t.id, t.created_at, t.source_id, t.channel_group, \
                     c.id, c.created_at, c.source_id, c.channel_group \
                     FROM {table} r \
                     LEFT JOIN crm_trace_entity b ON b.portal_id = r.portal_id \
                     AND b.entity_type_id = {et} AND b.entity_id = r.id \
                     LEFT JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id \
                     LEFT JOIN si_trace_link l ON l.portal_id = t.portal_id AND l.parent_trace_id = t.id \
                     LEFT JOIN si_trace c ON c.portal_id = l.portal_id AND c.id = l.child_trace_id \
                     WHERE r.portal_id = ? AND r.date_create >= ? AND r.date_create < ? \
                     AND r.tracking_touches > 1"
                ),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        let mut out: Vec<TouchRecord> = Vec::new();
        let mut at: HashMap<i64, usize> = HashMap::new();
        for r in &rows {
            let id = val::int(&r[0]);
            let i = *at.entry(id).or_insert_with(|| {
                out.push(TouchRecord {
                    id,
                    created_at: val::int(&r[1]),
                    currency: val::opt_text(&r[2]),
                    amount: val::opt_real(&r[3]).unwrap_or(0.0),
                    won: val::opt_text(&r[4]).as_deref() == Some("S"),
                    assigned_by_id: val::opt_int(&r[5]),
                    touches: vec![],
                });
                out.len() - 1
            });
            for t in [&r[6..10], &r[10..14]] {
                if matches!(t[0], crm::DbValue::Null) {
                    continue;
                }
                let trace_id = val::int(&t[0]);
                let touches = &mut out[i].touches;
                if !touches.iter().any(|x| x.trace_id == trace_id) {
                    touches.push(TraceTouch {
                        trace_id,
                        at: val::int(&t[1]),
                        source_id: val::int(&t[2]),
                        channel: val::text(&t[3]),
                    });
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn report_visits_sql(
        &mut self,
        portal_id: i64,
        from: i64,
        to: i64,
        group_by: GroupBy,
    ) -> Result<Vec<(GroupKey, i64)>, ApiError> {
        let key = match group_by {
            GroupBy::Source => "source_id",
            GroupBy::Channel => "channel_group",
        };
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT {key}, COUNT(*) FROM si_trace \
                     WHERE portal_id = ? AND created_at >= ? AND created_at < ? GROUP BY {key}"
                ),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| (key_of(group_by, &r[0]), val::int(&r[1])))
            .collect())
    }

    /// Sets (adds) a currency's rate: `amount` in the base currency is the price of `amount_cnt`
    /// units (`crm.currency.list`'s `AMOUNT` / `AMOUNT_CNT`).
    pub async fn set_currency_rate(
        &mut self,
        portal_id: i64,
        code: &str,
        amount_cnt: i64,
        amount: f64,
        now: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "INSERT INTO currency (portal_id, code, sort, base, amount_cnt, amount, date_update) \
             VALUES (?, ?, 300, ?, ?, ?, ?) ON CONFLICT (portal_id, code) DO UPDATE SET \
             amount_cnt = excluded.amount_cnt, amount = excluded.amount, date_update = excluded.date_update",
            vec![
                portal_id.into(),
                code.into(),
                false.into(),
                amount_cnt.into(),
                amount.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Bulk path (benchmark seeding): saves traces without pages or channels, many rows per
    /// statement; returns their ids in order.
    pub async fn bulk_insert_traces(
        &mut self,
        portal_id: i64,
        traces: &[BulkTrace],
    ) -> Result<Vec<i64>, ApiError> {
        let mut ids = Vec::with_capacity(traces.len());
        for chunk in traces.chunks(BULK_ROWS) {
            let marks = vec!["(?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
            for t in chunk {
                args.push(portal_id.into());
                args.push(t.created_at.into());
                args.push(t.source_id.into());
                args.push(t.channel_group.as_str().into());
            }
            let rows = self
                .fetch_sql(
                    &format!(
                        "INSERT INTO si_trace (portal_id, created_at, source_id, channel_group) \
                         VALUES {marks} RETURNING id"
                    ),
                    args,
                )
                .await?;
            let mut got: Vec<i64> = rows.iter().map(|r| val::int(&r[0])).collect();
            // RETURNING gives no order guarantee; ids are handed out in VALUES order.
            got.sort_unstable();
            ids.extend(got);
        }
        Ok(ids)
    }

    /// Bulk path (benchmark seeding): binds traces to leads or deals `(trace_id, entity_id,
    /// bound_at)` in the given order (a later row of the same record becomes its effective
    /// trace), then refreshes the records' copies of their effective trace in one statement per
    /// chunk. Previous visits are linked with `(parent_id, child_id)`.
    pub async fn bulk_bind_traces(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        bindings: &[(i64, i64, i64)],
        links: &[(i64, i64)],
    ) -> Result<(), ApiError> {
        let et = kind.entity_type_id();
        for chunk in links.chunks(BULK_ROWS) {
            let marks = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
            for (parent, child) in chunk {
                args.extend([portal_id.into(), (*parent).into(), (*child).into()]);
            }
            self.exec_sql(
                &format!(
                    "INSERT INTO si_trace_link (portal_id, parent_trace_id, child_trace_id) \
                     VALUES {marks} ON CONFLICT DO NOTHING"
                ),
                args,
            )
            .await?;
            let parents: Vec<Value> = chunk.iter().map(|(p, _)| (*p).into()).collect();
            let list = vec!["?"; parents.len()].join(", ");
            let mut args: Vec<Value> = vec![portal_id.into()];
            args.extend(parents);
            self.exec_sql(
                &format!(
                    "UPDATE si_trace SET has_children = ? WHERE portal_id = ? AND id IN ({list})"
                ),
                std::iter::once(true.into()).chain(args).collect(),
            )
            .await?;
        }
        let mut seq: HashMap<i64, i64> = HashMap::new();
        for chunk in bindings.chunks(BULK_ROWS) {
            let marks = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for (trace_id, entity_id, bound_at) in chunk {
                let s = seq.entry(*entity_id).or_insert(0);
                *s += 1;
                args.extend([
                    portal_id.into(),
                    (*trace_id).into(),
                    et.into(),
                    (*entity_id).into(),
                    (*bound_at).into(),
                    (*s).into(),
                ]);
                lo = lo.min(*entity_id);
                hi = hi.max(*entity_id);
            }
            self.exec_sql(
                &format!(
                    "INSERT INTO crm_trace_entity (portal_id, trace_id, entity_type_id, entity_id, bound_at, seq) \
                     VALUES {marks}"
                ),
                args,
            )
            .await?;
            if let Some((table, _)) = report_table(kind) {
                self.exec_sql(
                    &format!(
                        "UPDATE {table} SET {} WHERE portal_id = ? AND id >= ? AND id <= ?",
                        refresh_assignments(table, et)
                    ),
                    vec![portal_id.into(), lo.into(), hi.into()],
                )
                .await?;
            }
        }
        Ok(())
    }
}
