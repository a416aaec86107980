//! The Sales Intelligence report's queries (migrations 0011, 0012): per-group sums computed by the
//! database for the default attribution, compact per-record rows with their touches for the touch
//! models, visits; and keeping each lead's and deal's copy of its effective trace (source, channel
//! group, time, touches and, with two or more touches, all of them as text) current. Also the bulk
//! path the benchmark seeds traces with.
//!
//! Daily roll-ups (migration 0012): whole UTC days of a range whose records have not changed since
//! the refresher last summed them are read from `si_report_day` / `si_report_visit_day`; the partial
//! days at the ends of the range and the days marked dirty (`si_report_dirty`, appended by
//! triggers) are summed from the records themselves. [`Tx::refresh_report_days`] recomputes marked
//! days.

use crate::tx::{val, Tx};
use crate::Backend;
use bx_wire::ApiError;
use crm::tracking::attribution::{Model, DEFAULT_HALF_LIFE_SECS};
use crm::tracking::report::{
    touch_credits, GroupBy, GroupKey, RecordGroup, ReportQuery, TouchRecord, TraceTouch,
};
use crm::tracking::ChannelGroup;
use crm::EntityKind;
use sea_query::Value;
use std::collections::{BTreeMap, HashMap};

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

/// `SET …` of `refresh_tracking` for the row of `table` in the statement (correlated by name):
/// the effective trace's source, channel group and time; the number of distinct traces touching
/// the record (bindings and their previous visits) and, when two or more, those touches as
/// `trace_id,created_at,source_id,channel` joined by `;` (see [`parse_path`]).
fn refresh_assignments(table: &str, et: i64, backend: Backend) -> String {
    let own = format!(
        "b.portal_id = {table}.portal_id AND b.entity_type_id = {et} AND b.entity_id = {table}.id"
    );
    // CROSS JOIN fixes SQLite's join order to the record's bindings first (PostgreSQL plans it
    // freely): otherwise SQLite may start from the portal's every link or trace (docs/performance.md,
    // report finding 6).
    let concat = match backend {
        Backend::Sqlite => "group_concat",
        Backend::Postgres => "string_agg",
    };
    format!(
        "(tracking_source_id, tracking_channel, tracking_at) = (\
         SELECT t.source_id, t.channel_group, t.created_at FROM crm_trace_entity b \
         JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id \
         WHERE {own} ORDER BY b.seq DESC, b.trace_id DESC LIMIT 1), \
         (tracking_touches, tracking_path) = (\
         SELECT COUNT(*), CASE WHEN COUNT(*) > 1 THEN {concat}(x.id || ',' || x.created_at || ',' \
         || x.source_id || ',' || x.channel_group, ';') END FROM (\
         SELECT t.id, t.created_at, t.source_id, t.channel_group \
         FROM crm_trace_entity b CROSS JOIN si_trace t \
         WHERE {own} AND t.portal_id = b.portal_id AND t.id = b.trace_id \
         UNION \
         SELECT c.id, c.created_at, c.source_id, c.channel_group \
         FROM crm_trace_entity b CROSS JOIN si_trace_link l CROSS JOIN si_trace c \
         WHERE {own} AND l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id \
         AND c.portal_id = l.portal_id AND c.id = l.child_trace_id) x)"
    )
}

/// The touches of `tracking_path` (written by [`refresh_assignments`]).
fn parse_path(path: &str) -> Vec<TraceTouch> {
    path.split(';')
        .filter_map(|t| {
            let mut f = t.splitn(4, ',');
            Some(TraceTouch {
                trace_id: f.next()?.parse().ok()?,
                at: f.next()?.parse().ok()?,
                source_id: f.next()?.parse().ok()?,
                channel: f.next()?.to_string(),
            })
        })
        .collect()
}

/// Per-group sums of the records of `table` created in `[?, ?)` that satisfy `only`: the group
/// `key`, the currency, the responsible (0 unless asked), count, Σ, won count, won Σ.
fn aggregate_sql(
    table: &str,
    semantic: &str,
    key: &str,
    by_responsible: bool,
    only: &str,
) -> String {
    let assigned = if by_responsible {
        "COALESCE(assigned_by_id, 0)"
    } else {
        "0"
    };
    format!(
        "SELECT k, currency_id, a, COUNT(*), SUM(COALESCE(opportunity, 0)), \
         SUM(CASE WHEN {semantic} = 'S' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN {semantic} = 'S' THEN COALESCE(opportunity, 0) ELSE 0 END) \
         FROM (SELECT {key} AS k, COALESCE(currency_id, '') AS currency_id, {assigned} AS a, \
         opportunity, {semantic} FROM {table} \
         WHERE portal_id = ? AND date_create >= ? AND date_create < ? AND {only}) s \
         GROUP BY k, currency_id, a"
    )
}

/// The same sums from the roll-ups: `key` of rows of one split, model and period, days `[?, ?)`.
fn rollup_sql(key: &str) -> String {
    format!(
        "SELECT {key}, currency_id, assigned_by_id, SUM(n), SUM(amount), SUM(won), \
         SUM(won_amount) FROM si_report_day WHERE portal_id = ? AND entity_type_id = ? \
         AND split = ? AND model = ? AND period = ? AND day >= ? AND day < ? \
         GROUP BY {key}, currency_id, assigned_by_id"
    )
}

/// Rows of [`aggregate_sql`] / [`rollup_sql`] added into `into` (currency `''` = none,
/// responsible 0 = none).
fn add_groups(
    into: &mut BTreeMap<(GroupKey, Option<String>, Option<i64>), RecordGroup>,
    rows: &[Vec<crm::DbValue>],
    group_by: GroupBy,
    by_responsible: bool,
) {
    for r in rows {
        let key = key_of(group_by, &r[0]);
        let currency = val::opt_text(&r[1]).filter(|c| !c.is_empty());
        let assigned = val::opt_int(&r[2]).filter(|a| by_responsible && *a != 0);
        let g = into
            .entry((key.clone(), currency.clone(), assigned))
            .or_insert_with(|| RecordGroup {
                key,
                currency,
                assigned_by_id: assigned,
                count: 0.0,
                sum: 0.0,
                won: 0.0,
                won_sum: 0.0,
            });
        g.count += val::opt_real(&r[3]).unwrap_or(0.0);
        g.sum += val::opt_real(&r[4]).unwrap_or(0.0);
        g.won += val::opt_real(&r[5]).unwrap_or(0.0);
        g.won_sum += val::opt_real(&r[6]).unwrap_or(0.0);
    }
}

/// The roll-ups' `model` column: the position in `Model::ALL` (0 = `bitrix`).
fn model_index(model: Model) -> i64 {
    Model::ALL.iter().position(|m| *m == model).unwrap_or(0) as i64
}

/// Every `model` column value, as an SQL list (`0, 1, …`).
fn model_list() -> String {
    (0..Model::ALL.len())
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Days per `period` 1 roll-up row (its `day` is a multiple of this).
const BLOCK: i64 = 32;

/// Roll-up day ranges as `(period, first, end)` pieces: whole blocks of [`BLOCK`] days from
/// period 1 rows, the days around them from period 0 rows.
fn pieces(days: &[(i64, i64)]) -> Vec<(i64, i64, i64)> {
    let mut out = Vec::new();
    for &(a, b) in days {
        let (fb, lb) = (
            (a + BLOCK - 1).div_euclid(BLOCK) * BLOCK,
            b.div_euclid(BLOCK) * BLOCK,
        );
        if fb < lb {
            out.extend(
                [(0, a, fb), (1, fb, lb), (0, lb, b)]
                    .into_iter()
                    .filter(|p| p.1 < p.2),
            );
        } else {
            out.push((0, a, b));
        }
    }
    out
}

/// One day in seconds; roll-up days are `unix seconds / DAY`.
const DAY: i64 = 86_400;
/// More separate stretches of records to read than this and a report reads the whole range from
/// the records (just after many days were written, before the refresher has caught up).
const MAX_RAW_STRETCHES: usize = 16;
/// Days one refresher transaction recomputes (it holds SQLite's only writer meanwhile).
const REFRESH_DAYS: usize = 16;
/// Roll-up rows per multi-row INSERT.
const INSERT_ROWS: usize = 500;

/// How a report reads `[from, to)`: day ranges `[a, b)` from the roll-ups, second ranges from the
/// records.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    rollup_days: Vec<(i64, i64)>,
    raw: Vec<(i64, i64)>,
}

/// The plan for `[from, to)` given its dirty days (sorted, inside the whole days of the range).
fn plan(from: i64, to: i64, dirty: &[i64]) -> Plan {
    let (d1, d2) = ((from + DAY - 1).div_euclid(DAY), to.div_euclid(DAY));
    if from < 0 || d1 >= d2 {
        return Plan {
            rollup_days: vec![],
            raw: vec![(from, to)],
        };
    }
    let mut raw: Vec<(i64, i64)> = Vec::new();
    let mut push = |a: i64, b: i64| {
        if a >= b {
            return;
        }
        match raw.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => raw.push((a, b)),
        }
    };
    push(from, d1 * DAY);
    for d in dirty.iter().filter(|d| (d1..d2).contains(d)) {
        push(d * DAY, (d + 1) * DAY);
    }
    push(d2 * DAY, to);
    if raw.len() > MAX_RAW_STRETCHES {
        return Plan {
            rollup_days: vec![],
            raw: vec![(from, to)],
        };
    }
    // The whole days between the stretches read from the records.
    let mut rollup_days = Vec::new();
    let mut at = d1;
    for (a, b) in &raw {
        let (da, db) = (a.div_euclid(DAY), (b + DAY - 1).div_euclid(DAY));
        if da > at && at < d2 {
            rollup_days.push((at, da.min(d2)));
        }
        at = at.max(db);
    }
    if at < d2 {
        rollup_days.push((at, d2));
    }
    Plan { rollup_days, raw }
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
    /// row (NULL when it has none), with its touches. Other record types have no copy.
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
                refresh_assignments(table, et, self.backend())
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

    /// A deleted source (its traces now have source 0): records whose effective trace had it
    /// count for source 0 too, and the touches of multi-touch records that mention it are
    /// rewritten.
    pub(crate) async fn forget_tracking_source(
        &mut self,
        portal_id: i64,
        source_id: i64,
    ) -> Result<(), ApiError> {
        for (table, et) in [("crm_lead", 1), ("crm_deal", 2)] {
            self.exec_sql(
                &format!(
                    "UPDATE {table} SET tracking_source_id = 0 \
                     WHERE portal_id = ? AND tracking_source_id = ?"
                ),
                vec![portal_id.into(), source_id.into()],
            )
            .await?;
            // `,<id>,` matches the source field (and, harmlessly, nothing else a real path has).
            self.exec_sql(
                &format!(
                    "UPDATE {table} SET {} WHERE portal_id = ? AND tracking_touches > 1 \
                     AND tracking_path LIKE ?",
                    refresh_assignments(table, et, self.backend())
                ),
                vec![portal_id.into(), format!("%,{source_id},%").into()],
            )
            .await?;
        }
        Ok(())
    }

    /// How to read `[from, to)` of entity type `et` (0 = visits): see [`plan`].
    async fn report_plan(
        &mut self,
        portal_id: i64,
        et: i64,
        from: i64,
        to: i64,
    ) -> Result<Plan, ApiError> {
        let (d1, d2) = ((from + DAY - 1).div_euclid(DAY), to.div_euclid(DAY));
        let dirty = if from >= 0 && d1 < d2 {
            self.fetch_sql(
                "SELECT DISTINCT day FROM si_report_dirty \
                 WHERE portal_id = ? AND entity_type_id = ? AND day >= ? AND day < ? ORDER BY day",
                vec![portal_id.into(), et.into(), d1.into(), d2.into()],
            )
            .await?
            .iter()
            .map(|r| val::int(&r[0]))
            .collect()
        } else {
            vec![]
        };
        Ok(plan(from, to, &dirty))
    }

    /// Per-group sums of the records `q` selects, credited under `model`: whole clean days from
    /// the roll-ups, the other stretches of the range from the records, where `key` groups a
    /// record and `only` selects it. Returns the sums and the stretches read from the records.
    async fn record_groups(
        &mut self,
        q: &ReportQuery,
        model: Model,
        (key, only): (&str, &str),
    ) -> Result<(Vec<RecordGroup>, Vec<(i64, i64)>), ApiError> {
        let &ReportQuery {
            portal_id,
            kind,
            from,
            to,
            group_by,
            by_responsible,
        } = q;
        let Some((table, semantic)) = report_table(kind) else {
            return Ok((vec![], vec![]));
        };
        let et = kind.entity_type_id();
        let plan = self.report_plan(portal_id, et, from, to).await?;
        let mut groups = BTreeMap::new();
        let rollup = rollup_sql(match group_by {
            GroupBy::Source => "source_id",
            GroupBy::Channel => "channel",
        });
        for (period, a, b) in pieces(&plan.rollup_days) {
            let rows = self
                .fetch_sql(
                    &rollup,
                    vec![
                        portal_id.into(),
                        et.into(),
                        i64::from(by_responsible).into(),
                        model_index(model).into(),
                        period.into(),
                        a.into(),
                        b.into(),
                    ],
                )
                .await?;
            add_groups(&mut groups, &rows, group_by, by_responsible);
        }
        let sql = aggregate_sql(table, semantic, key, by_responsible, only);
        for (a, b) in &plan.raw {
            let rows = self
                .fetch_sql(&sql, vec![portal_id.into(), (*a).into(), (*b).into()])
                .await?;
            add_groups(&mut groups, &rows, group_by, by_responsible);
        }
        Ok((groups.into_values().collect(), plan.raw))
    }

    pub(crate) async fn report_groups_sql(
        &mut self,
        q: &ReportQuery,
    ) -> Result<Vec<RecordGroup>, ApiError> {
        let key = match q.group_by {
            GroupBy::Source => "COALESCE(tracking_source_id, 0)",
            GroupBy::Channel => "COALESCE(tracking_channel, 'unassigned')",
        };
        let (groups, _) = self.record_groups(q, Model::Bitrix, (key, "1 = 1")).await?;
        Ok(groups)
    }

    /// Touch models (see `crm::Storage::report_touches`): clean days from the roll-ups (every
    /// record credited under `model` by the refresher, with the window the portal has, which is
    /// `window_secs`: a change of it marks every day), the other stretches from the records.
    pub(crate) async fn report_touches_sql(
        &mut self,
        q: &ReportQuery,
        model: Model,
        window_secs: i64,
    ) -> Result<(Vec<RecordGroup>, Vec<TouchRecord>), ApiError> {
        let Some((table, semantic)) = report_table(q.kind) else {
            return Ok((vec![], vec![]));
        };
        // At most one touch: its group when it lies in the window, else none (every model gives
        // a lone touch all the credit).
        let inside = format!(
            "tracking_touches = 1 AND tracking_at >= date_create - {window_secs} AND tracking_at <= date_create"
        );
        let key = match q.group_by {
            GroupBy::Source => format!("CASE WHEN {inside} THEN COALESCE(tracking_source_id, 0) ELSE 0 END"),
            GroupBy::Channel => format!(
                "CASE WHEN {inside} THEN COALESCE(tracking_channel, 'unassigned') ELSE 'unassigned' END"
            ),
        };
        let (groups, raw) = self
            .record_groups(q, model, (&key, "tracking_touches <= 1"))
            .await?;
        let mut records = Vec::new();
        for (a, b) in raw {
            records.extend(
                self.touch_records(q.portal_id, table, semantic, a, b)
                    .await?,
            );
        }
        Ok((groups, records))
    }

    /// The records with more than one touch, with their touches (`tracking_path`, read from the
    /// partial index `crm_*_touches`).
    async fn touch_records(
        &mut self,
        portal_id: i64,
        table: &str,
        semantic: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<TouchRecord>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT id, date_create, currency_id, opportunity, {semantic}, assigned_by_id, \
                     tracking_path FROM {table} \
                     WHERE portal_id = ? AND date_create >= ? AND date_create < ? \
                     AND tracking_touches > 1"
                ),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| TouchRecord {
                id: val::int(&r[0]),
                created_at: val::int(&r[1]),
                currency: val::opt_text(&r[2]),
                amount: val::opt_real(&r[3]).unwrap_or(0.0),
                won: val::opt_text(&r[4]).as_deref() == Some("S"),
                assigned_by_id: val::opt_int(&r[5]),
                touches: parse_path(&val::text(&r[6])),
            })
            .collect())
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
        let plan = self.report_plan(portal_id, 0, from, to).await?;
        let mut visits: BTreeMap<GroupKey, i64> = BTreeMap::new();
        let parts = plan
            .rollup_days
            .iter()
            .map(|d| (d, "si_report_visit_day", "SUM(n)", "day"))
            .chain(
                plan.raw
                    .iter()
                    .map(|r| (r, "si_trace", "COUNT(*)", "created_at")),
            );
        for ((a, b), table, count, at) in parts {
            let rows = self
                .fetch_sql(
                    &format!(
                        "SELECT {key}, CAST({count} AS BIGINT) FROM {table} \
                         WHERE portal_id = ? AND {at} >= ? AND {at} < ? GROUP BY {key}"
                    ),
                    vec![portal_id.into(), (*a).into(), (*b).into()],
                )
                .await?;
            for r in &rows {
                *visits.entry(key_of(group_by, &r[0])).or_default() += val::int(&r[1]);
            }
        }
        Ok(visits.into_iter().collect())
    }

    /// Whether any day is marked dirty.
    pub(crate) async fn report_days_pending(&mut self) -> Result<bool, ApiError> {
        Ok(!self
            .fetch_sql("SELECT 1 FROM si_report_dirty LIMIT 1", vec![])
            .await?
            .is_empty())
    }

    /// One step of the refresher: recomputes from the records the roll-ups of up to
    /// [`REFRESH_DAYS`] marked days (those marked longest ago first), then the 32-day blocks that
    /// hold them, and deletes the marks it saw of them; the marks of every other day are
    /// collapsed to the newest one (the day stays dirty). Marks appended meanwhile by other
    /// transactions are not seen and stay. Returns the number of days recomputed and of days
    /// still dirty; `None` when another refresher holds the lock (PostgreSQL).
    ///
    /// PostgreSQL: must run in a REPEATABLE READ transaction (every statement sees the snapshot
    /// the marks were read in, so a mark committed later is never deleted), one refresher at a
    /// time across processes (an advisory lock; a second one does nothing).
    pub(crate) async fn refresh_report_days(&mut self) -> Result<Option<(usize, usize)>, ApiError> {
        if self.backend() == Backend::Postgres {
            let got = self
                .fetch_sql(
                    "SELECT pg_try_advisory_xact_lock(7150000000000000012)",
                    vec![],
                )
                .await?;
            if !got.first().is_some_and(|r| val::flag(&r[0])) {
                return Ok(None);
            }
        }
        let mut days: Vec<[i64; 6]> = self
            .fetch_sql(
                "SELECT portal_id, entity_type_id, day, MIN(id), MAX(id), COUNT(*) \
                 FROM si_report_dirty GROUP BY portal_id, entity_type_id, day",
                vec![],
            )
            .await?
            .iter()
            .map(|r| std::array::from_fn(|i| val::int(&r[i])))
            .collect();
        days.sort_by_key(|d| d[3]);
        let recompute = days.len().min(REFRESH_DAYS);
        let mut blocks = std::collections::BTreeSet::new();
        for (i, [portal_id, et, day, _, max_id, count]) in days.iter().copied().enumerate() {
            let op = if i < recompute {
                self.recompute_day(portal_id, et, day).await?;
                if et != 0 {
                    blocks.insert((portal_id, et, day.div_euclid(BLOCK) * BLOCK));
                }
                "<="
            } else if count > 1 {
                "<"
            } else {
                continue;
            };
            self.exec_sql(
                &format!(
                    "DELETE FROM si_report_dirty WHERE portal_id = ? AND entity_type_id = ? \
                     AND day = ? AND id {op} ?"
                ),
                vec![portal_id.into(), et.into(), day.into(), max_id.into()],
            )
            .await?;
        }
        for (portal_id, et, first) in blocks {
            self.recompute_block(portal_id, et, first).await?;
        }
        Ok(Some((recompute, days.len() - recompute)))
    }

    /// Marks every day of the portal's leads and deals dirty (their credits under the touch
    /// models depend on the attribution window, which is changing).
    pub(crate) async fn mark_every_report_day(&mut self, portal_id: i64) -> Result<(), ApiError> {
        for (table, et) in [("crm_lead", 1), ("crm_deal", 2)] {
            self.exec_sql(
                &format!(
                    "INSERT INTO si_report_dirty (portal_id, entity_type_id, day) \
                     SELECT DISTINCT portal_id, {et}, date_create / 86400 FROM {table} \
                     WHERE portal_id = ? AND date_create >= 0"
                ),
                vec![portal_id.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Rebuilds one day's roll-up rows of entity type `et` (0 = visits) from the records: per
    /// split, model, source, channel group, currency and responsible, the credit, Σ, won credit
    /// and won Σ, every record credited under `bitrix` and under each touch model (weighed by
    /// `crm::tracking::report::touch_credits` with the portal's window, as a report does).
    async fn recompute_day(&mut self, portal_id: i64, et: i64, day: i64) -> Result<(), ApiError> {
        let (from, to) = (day * DAY, (day + 1) * DAY);
        if et == 0 {
            self.exec_sql(
                "DELETE FROM si_report_visit_day WHERE portal_id = ? AND day = ?",
                vec![portal_id.into(), day.into()],
            )
            .await?;
            self.exec_sql(
                "INSERT INTO si_report_visit_day (portal_id, day, source_id, channel_group, n) \
                 SELECT portal_id, ?, source_id, channel_group, COUNT(*) FROM si_trace \
                 WHERE portal_id = ? AND created_at >= ? AND created_at < ? \
                 GROUP BY portal_id, source_id, channel_group",
                vec![day.into(), portal_id.into(), from.into(), to.into()],
            )
            .await?;
            return Ok(());
        }
        let Some((table, semantic)) = EntityKind::from_entity_type_id(et).and_then(report_table)
        else {
            return Ok(());
        };
        let window = self.si_settings(portal_id).await?.attribution_window_days * DAY;
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT id, date_create, tracking_source_id, tracking_channel, tracking_at, \
                     tracking_touches, tracking_path, currency_id, opportunity, {semantic}, \
                     assigned_by_id FROM {table} \
                     WHERE portal_id = ? AND date_create >= ? AND date_create < ?"
                ),
                vec![portal_id.into(), from.into(), to.into()],
            )
            .await?;
        type Key = (i64, i64, i64, String, String, i64);
        let mut sums: BTreeMap<Key, [f64; 4]> = BTreeMap::new();
        let unassigned = ChannelGroup::Unassigned.code();
        for r in &rows {
            let source = val::opt_int(&r[2]).unwrap_or(0);
            let channel = val::opt_text(&r[3]).unwrap_or_else(|| unassigned.to_string());
            let touches = match val::int(&r[5]) {
                0 => vec![],
                1 => val::opt_int(&r[4])
                    .map(|at| TraceTouch {
                        trace_id: 0,
                        at,
                        source_id: source,
                        channel: channel.clone(),
                    })
                    .into_iter()
                    .collect(),
                _ => parse_path(&val::text(&r[6])),
            };
            let record = TouchRecord {
                id: val::int(&r[0]),
                created_at: val::int(&r[1]),
                currency: val::opt_text(&r[7]),
                amount: val::opt_real(&r[8]).unwrap_or(0.0),
                won: val::opt_text(&r[9]).as_deref() == Some("S"),
                assigned_by_id: val::opt_int(&r[10]),
                touches,
            };
            let currency = record.currency.clone().unwrap_or_default();
            let mut credits = vec![(0, source, channel.clone(), 1.0)];
            for (m, model) in Model::ALL.iter().enumerate().skip(1) {
                for (s, c, w) in touch_credits(&record, *model, window, DEFAULT_HALF_LIFE_SECS) {
                    credits.push((m as i64, s, c.code().to_string(), w));
                }
            }
            let won = if record.won { 1.0 } else { 0.0 };
            for (model, s, c, w) in credits {
                for (split, assigned) in [(0, 0), (1, record.assigned_by_id.unwrap_or(0))] {
                    let sum = sums
                        .entry((split, model, s, c.clone(), currency.clone(), assigned))
                        .or_default();
                    sum[0] += w;
                    sum[1] += w * record.amount;
                    sum[2] += w * won;
                    sum[3] += w * won * record.amount;
                }
            }
        }
        let models = model_list();
        self.exec_sql(
            &format!(
                "DELETE FROM si_report_day WHERE portal_id = ? AND entity_type_id = ? \
                 AND split IN (0, 1) AND model IN ({models}) AND period = 0 AND day = ?"
            ),
            vec![portal_id.into(), et.into(), day.into()],
        )
        .await?;
        let sums: Vec<(Key, [f64; 4])> = sums.into_iter().collect();
        for chunk in sums.chunks(INSERT_ROWS) {
            let marks = vec!["(?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 13);
            for ((split, model, s, c, currency, assigned), v) in chunk {
                args.extend([
                    portal_id.into(),
                    et.into(),
                    (*split).into(),
                    (*model).into(),
                    day.into(),
                    (*s).into(),
                    c.as_str().into(),
                    currency.as_str().into(),
                    (*assigned).into(),
                    v[0].into(),
                    v[1].into(),
                    v[2].into(),
                    v[3].into(),
                ]);
            }
            self.exec_sql(
                &format!(
                    "INSERT INTO si_report_day (portal_id, entity_type_id, split, model, period, \
                     day, source_id, channel, currency_id, assigned_by_id, n, amount, won, \
                     won_amount) VALUES {marks}"
                ),
                args,
            )
            .await?;
        }
        Ok(())
    }

    /// Rebuilds the period-1 rows of the [`BLOCK`] days from `first` from their day rows.
    async fn recompute_block(
        &mut self,
        portal_id: i64,
        et: i64,
        first: i64,
    ) -> Result<(), ApiError> {
        let models = model_list();
        self.exec_sql(
            &format!(
                "DELETE FROM si_report_day WHERE portal_id = ? AND entity_type_id = ? \
                 AND split IN (0, 1) AND model IN ({models}) AND period = 1 AND day = ?"
            ),
            vec![portal_id.into(), et.into(), first.into()],
        )
        .await?;
        self.exec_sql(
            &format!(
                "INSERT INTO si_report_day (portal_id, entity_type_id, split, model, period, day, \
                 source_id, channel, currency_id, assigned_by_id, n, amount, won, won_amount) \
                 SELECT portal_id, entity_type_id, split, model, 1, ?, source_id, channel, \
                 currency_id, assigned_by_id, SUM(n), SUM(amount), SUM(won), SUM(won_amount) \
                 FROM si_report_day WHERE portal_id = ? AND entity_type_id = ? \
                 AND split IN (0, 1) AND model IN ({models}) AND period = 0 AND day >= ? AND day < ? \
                 GROUP BY portal_id, entity_type_id, split, model, source_id, channel, \
                 currency_id, assigned_by_id"
            ),
            vec![
                first.into(),
                portal_id.into(),
                et.into(),
                first.into(),
                (first + BLOCK).into(),
            ],
        )
        .await?;
        Ok(())
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
                        refresh_assignments(table, et, self.backend())
                    ),
                    vec![portal_id.into(), lo.into(), hi.into()],
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_read_whole_clean_days_from_the_rollups() {
        let d = |n: i64| n * DAY;
        // Midnight to midnight, nothing dirty: every day from the roll-ups.
        assert_eq!(
            plan(d(10), d(20), &[]),
            Plan {
                rollup_days: vec![(10, 20)],
                raw: vec![]
            }
        );
        // A zone 3 hours east: partial days at both ends from the records.
        assert_eq!(
            plan(d(10) - 3 * 3600, d(20) - 3 * 3600, &[]),
            Plan {
                rollup_days: vec![(10, 19)],
                raw: vec![(d(10) - 3 * 3600, d(10)), (d(19), d(20) - 3 * 3600)]
            }
        );
        // Dirty days split the roll-up days; a dirty day next to an end joins its stretch.
        assert_eq!(
            plan(d(10) + 5, d(20), &[11, 14, 15, 19]),
            Plan {
                rollup_days: vec![(12, 14), (16, 19)],
                raw: vec![(d(10) + 5, d(12)), (d(14), d(16)), (d(19), d(20))]
            }
        );
        // Less than one whole day, or before 1970: the records only.
        assert_eq!(
            plan(d(10) + 1, d(11) + 1, &[]),
            Plan {
                rollup_days: vec![],
                raw: vec![(d(10) + 1, d(11) + 1)]
            }
        );
        assert_eq!(plan(-5, d(3), &[]).raw, vec![(-5, d(3))]);
        // Too many scattered dirty days: the whole range from the records.
        let scattered: Vec<i64> = (0..20).map(|i| 100 + 2 * i).collect();
        assert_eq!(
            plan(d(100), d(200), &scattered),
            Plan {
                rollup_days: vec![],
                raw: vec![(d(100), d(200))]
            }
        );
    }

    #[test]
    fn whole_blocks_come_from_block_rows() {
        // Days 10..100: days 10..32 and 96..100 from day rows, 32..96 from two blocks.
        assert_eq!(
            pieces(&[(10, 100)]),
            vec![(0, 10, 32), (1, 32, 96), (0, 96, 100)]
        );
        // Aligned ends need no day rows; a stretch inside one block has no block.
        assert_eq!(
            pieces(&[(32, 64), (70, 80)]),
            vec![(1, 32, 64), (0, 70, 80)]
        );
        assert!(pieces(&[]).is_empty());
    }

    #[test]
    fn paths_read_back() {
        assert_eq!(
            parse_path("7,100,1,paid_search;9,50,0,direct"),
            vec![
                TraceTouch {
                    trace_id: 7,
                    at: 100,
                    source_id: 1,
                    channel: "paid_search".into()
                },
                TraceTouch {
                    trace_id: 9,
                    at: 50,
                    source_id: 0,
                    channel: "direct".into()
                },
            ]
        );
        assert!(parse_path("").is_empty());
    }
}
