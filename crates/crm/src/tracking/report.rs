//! The Sales Intelligence report (spec §12–13, E16, E18): `leadtrace.tracking.report.get`, per
//! source (or channel group) and date range, leads, deals, closed deals, revenue, expenses and the
//! derived ratios, under Bitrix24's attribution (the effective trace) or one of our touch models.
//!
//! Storage does the heavy lifting: per-group sums under the chosen model (`Storage::report_groups`
//! for `bitrix`, `Storage::report_touches` for the touch models), which the SQL store reads from
//! daily roll-ups for the days it has summed and computes from the records for the others; under
//! touch models, also the multi-touch records of those other days with their touches, weighed
//! here with `touch_credits` (the roll-ups use the same function). Everything else here is pure:
//! parameters, currency conversion, the fold, the metric formulas and their rounding.

use super::attribution::{self, Model, Touch};
use super::{ChannelGroup, Source, NO_SOURCE, NO_SOURCE_CODE, NO_SOURCE_NAME};
use crate::actor::{Action, Level};
use crate::currency::Currency;
use crate::dates;
use crate::entity::EntityKind;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::names;
use bx_wire::{ApiError, Output, Params};
use chrono::{DateTime, Days, NaiveDate};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The longest range a report may cover, in days (both ends included).
pub const MAX_RANGE_DAYS: i64 = 366;
/// The default range: this many days up to today.
pub const DEFAULT_RANGE_DAYS: u64 = 30;

/// What rows stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The Sales Intelligence source (`si_trace.source_id`, 0 = none).
    Source,
    /// The GA4-style channel group (`si_trace.channel_group`, extension §14).
    Channel,
}

impl GroupBy {
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Source => "source",
            GroupBy::Channel => "channel",
        }
    }

    /// Parses a code, case-insensitively (as `Model::parse`).
    pub fn parse(s: &str) -> Option<GroupBy> {
        [GroupBy::Source, GroupBy::Channel]
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(s.trim()))
    }
}

/// One row's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupKey {
    Source(i64),
    /// A channel group code (`paid_search`, …).
    Channel(String),
}

impl GroupKey {
    /// The key of a trace (or of no trace: source 0, channel `unassigned`).
    pub fn of(group_by: GroupBy, source_id: i64, channel: &str) -> GroupKey {
        match group_by {
            GroupBy::Source => GroupKey::Source(source_id),
            GroupBy::Channel => GroupKey::Channel(channel.to_string()),
        }
    }

    /// The key of a record without any trace (§13: all credit to source 0 / Unassigned).
    pub fn none(group_by: GroupBy) -> GroupKey {
        GroupKey::of(group_by, NO_SOURCE, ChannelGroup::Unassigned.code())
    }
}

/// What storage sums for a report: the records of one type created in `[from, to)` (Unix
/// seconds), grouped by `group_by` and, when `by_responsible`, per `ASSIGNED_BY_ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportQuery {
    pub portal_id: i64,
    pub kind: EntityKind,
    pub from: i64,
    pub to: i64,
    pub group_by: GroupBy,
    pub by_responsible: bool,
}

/// Per-group sums of one record type computed by the database (model `bitrix`): records created
/// in the range whose effective trace falls in `key`, per responsible (when asked) and currency.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordGroup {
    pub key: GroupKey,
    /// `ASSIGNED_BY_ID`; always `None` unless the report is split per responsible.
    pub assigned_by_id: Option<i64>,
    /// `CURRENCY_ID` of the records summed here.
    pub currency: Option<String>,
    /// Records, or their credit under a touch model (fractional).
    pub count: f64,
    /// Σ `OPPORTUNITY` (NULL counts as 0).
    pub sum: f64,
    /// Records in a success stage (`STATUS_SEMANTIC_ID` / `STAGE_SEMANTIC_ID` = `S`).
    pub won: f64,
    pub won_sum: f64,
}

/// A trace a record was touched by: bound to it, or a previous visit of a bound trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceTouch {
    pub trace_id: i64,
    /// `si_trace.created_at` (a previous visit: its captured `tags.ts`).
    pub at: i64,
    pub source_id: i64,
    pub channel: String,
}

/// A record created in the range with everything the touch models need.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchRecord {
    pub id: i64,
    /// `DATE_CREATE`, Unix seconds: the conversion time.
    pub created_at: i64,
    pub currency: Option<String>,
    pub amount: f64,
    pub won: bool,
    pub assigned_by_id: Option<i64>,
    /// Its touches, each trace once, in no particular order.
    pub touches: Vec<TraceTouch>,
}

/// The record types the report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Lead,
    Deal,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Lead, Family::Deal];

    pub fn kind(self) -> EntityKind {
        match self {
            Family::Lead => EntityKind::Lead,
            Family::Deal => EntityKind::Deal,
        }
    }
}

/// A validated request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub model: Model,
    pub group_by: GroupBy,
    pub by_responsible: bool,
}

fn invalid(text: impl Into<String>) -> ApiError {
    ApiError::invalid_arg_value(text.into())
}

/// A parameter as text; containers are wrong whatever the parameter.
fn text_param(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match names::any_case(params, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) if wire::is_php_array(v) => {
            Err(invalid(format!("Parameter `{name}` must be a string.")))
        }
        Some(v) => Ok(wire::strval(v)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())),
    }
}

fn day_param(params: &Params, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    let Some(s) = text_param(params, name)? else {
        return Ok(None);
    };
    let day = (s.len() == 10)
        .then(|| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            invalid(format!(
                "Parameter `{name}` must be a date in the form YYYY-MM-DD, got `{s}`."
            ))
        })?;
    Ok(Some(day))
}

/// Today in the portal time zone.
pub fn today(tz: Tz, now: i64) -> NaiveDate {
    DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// Reads `from`, `to`, `model`, `groupBy`, `byResponsible` (names in any case). Without `from`
/// and `to` the range is the last 30 days up to today (portal time zone).
pub fn parse_request(params: &Params, tz: Tz, now: i64) -> Result<Request, ApiError> {
    let from = day_param(params, "from")?;
    let to = day_param(params, "to")?;
    let back = |d: NaiveDate| d.checked_sub_days(Days::new(DEFAULT_RANGE_DAYS - 1));
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, today(tz, now).max(f)),
        (None, Some(t)) => (back(t).unwrap_or(t), t),
        (None, None) => {
            let t = today(tz, now);
            (back(t).unwrap_or(t), t)
        }
    };
    if from > to {
        return Err(invalid(format!(
            "Parameter `from` ({from}) is after `to` ({to})."
        )));
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(invalid(format!(
            "The range from {from} to {to} is longer than {MAX_RANGE_DAYS} days."
        )));
    }
    let model = match text_param(params, "model")? {
        None => Model::Bitrix,
        Some(m) => Model::parse(&m).ok_or_else(|| {
            let allowed: Vec<&str> = Model::ALL.iter().map(|m| m.code()).collect();
            invalid(format!(
                "Unknown model `{m}`. Allowed: {}.",
                allowed.join(", ")
            ))
        })?,
    };
    let group_by = match text_param(params, "groupBy")? {
        None => GroupBy::Source,
        Some(g) => GroupBy::parse(&g)
            .ok_or_else(|| invalid(format!("Unknown groupBy `{g}`. Allowed: source, channel.")))?,
    };
    let by_responsible = match names::any_case(params, "byResponsible") {
        None | Some(Value::Null) => false,
        Some(v) => match v {
            Value::String(s) if s.trim().is_empty() => false,
            _ => wire::yes_no(v)
                .ok_or_else(|| invalid("Parameter `byResponsible` must be Y or N."))?,
        },
    };
    Ok(Request {
        from,
        to,
        model,
        group_by,
        by_responsible,
    })
}

/// The range as Unix seconds `[start, end)`: midnight of `from` to midnight after `to`, in the
/// portal time zone (the zone `DATE_CREATE` is shown in).
pub fn bounds(req: &Request, tz: Tz) -> (i64, i64) {
    let midnight = |d: NaiveDate| {
        dates::local_to_unix(d.and_time(chrono::NaiveTime::MIN), tz)
            .unwrap_or_else(|| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
    };
    let after = req.to.checked_add_days(Days::new(1)).unwrap_or(req.to);
    (midnight(req.from), midnight(after))
}

/// Amounts in any of the portal's currencies to its base currency (`AMOUNT / AMOUNT_CNT`).
#[derive(Debug, Clone)]
pub struct Rates {
    pub base: String,
    rates: HashMap<String, f64>,
}

impl Rates {
    /// `base` is the portal's base currency; a currency flagged as base in the list wins.
    pub fn new(base: &str, currencies: &[Currency]) -> Rates {
        let base = currencies
            .iter()
            .find(|c| c.base)
            .map_or_else(|| base.to_string(), |c| c.code.clone());
        let rates = currencies
            .iter()
            .filter(|c| c.amount_cnt > 0 && c.amount.is_finite() && c.amount > 0.0)
            .map(|c| (c.code.clone(), c.amount / c.amount_cnt as f64))
            .collect();
        Rates { base, rates }
    }

    /// The amount in the base currency. The base currency, an empty currency and a currency the
    /// portal does not list count at face value (there is no rate to apply).
    pub fn to_base(&self, amount: f64, currency: Option<&str>) -> f64 {
        match currency {
            Some(c) if c != self.base => amount * self.rates.get(c).copied().unwrap_or(1.0),
            _ => amount,
        }
    }
}

/// The record metrics of a row (fractional under touch models).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    pub leads: f64,
    pub leads_sum: f64,
    pub converted_leads: f64,
    pub deals: f64,
    pub deals_sum: f64,
    pub closed_deals: f64,
    pub revenue: f64,
}

impl Metrics {
    fn add(&mut self, o: &Metrics) {
        self.leads += o.leads;
        self.leads_sum += o.leads_sum;
        self.converted_leads += o.converted_leads;
        self.deals += o.deals;
        self.deals_sum += o.deals_sum;
        self.closed_deals += o.closed_deals;
        self.revenue += o.revenue;
    }

    /// `credit` of records of one family, `amount` their Σ in base currency, `won` of them in a
    /// success stage with `won_amount`.
    fn credit(family: Family, credit: f64, amount: f64, won: f64, won_amount: f64) -> Metrics {
        match family {
            Family::Lead => Metrics {
                leads: credit,
                leads_sum: amount,
                converted_leads: won,
                ..Metrics::default()
            },
            Family::Deal => Metrics {
                deals: credit,
                deals_sum: amount,
                closed_deals: won,
                revenue: won_amount,
                ..Metrics::default()
            },
        }
    }
}

/// Expenses of a source in the range, in base currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub amount: f64,
    pub impressions: i64,
    pub actions: i64,
}

/// One row while folding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub visits: i64,
    pub metrics: Metrics,
    pub by_responsible: BTreeMap<Option<i64>, Metrics>,
}

/// The report while it is being folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub cells: BTreeMap<GroupKey, Cell>,
    /// Per source id (expenses are entered per source).
    pub spend: BTreeMap<i64, Spend>,
}

impl Tally {
    fn cell(&mut self, key: GroupKey) -> &mut Cell {
        self.cells.entry(key).or_default()
    }

    fn credit(&mut self, key: GroupKey, assigned: Option<i64>, by_responsible: bool, m: Metrics) {
        let cell = self.cell(key);
        cell.metrics.add(&m);
        if by_responsible {
            cell.by_responsible.entry(assigned).or_default().add(&m);
        }
    }

    /// Traces created in the range, per group.
    pub fn add_visits(&mut self, visits: &[(GroupKey, i64)]) {
        for (key, n) in visits {
            self.cell(key.clone()).visits += n;
        }
    }

    /// Model `bitrix`: the database's per-group sums.
    pub fn add_groups(
        &mut self,
        family: Family,
        groups: &[RecordGroup],
        rates: &Rates,
        by_responsible: bool,
    ) {
        for g in groups {
            let currency = g.currency.as_deref();
            let m = Metrics::credit(
                family,
                g.count,
                rates.to_base(g.sum, currency),
                g.won,
                rates.to_base(g.won_sum, currency),
            );
            self.credit(g.key.clone(), g.assigned_by_id, by_responsible, m);
        }
    }

    /// A touch model: each record's credit split over its touches (§13).
    #[allow(clippy::too_many_arguments)]
    pub fn add_records(
        &mut self,
        family: Family,
        records: &[TouchRecord],
        model: Model,
        group_by: GroupBy,
        window_secs: i64,
        half_life_secs: f64,
        rates: &Rates,
        by_responsible: bool,
    ) {
        for r in records {
            let amount = rates.to_base(r.amount, r.currency.as_deref());
            let assigned = r.assigned_by_id.filter(|_| by_responsible);
            for (key, credit) in credits(r, model, group_by, window_secs, half_life_secs) {
                let won = if r.won { credit } else { 0.0 };
                let m = Metrics::credit(family, credit, credit * amount, won, won * amount);
                self.credit(key, assigned, by_responsible, m);
            }
        }
    }

    /// Expense totals `(source_id, currency, amount, impressions, actions)`.
    pub fn add_spend<'a>(
        &mut self,
        totals: impl IntoIterator<Item = (i64, &'a str, f64, i64, i64)>,
        rates: &Rates,
    ) {
        for (source_id, currency, amount, impressions, actions) in totals {
            let s = self.spend.entry(source_id).or_default();
            s.amount += rates.to_base(amount, Some(currency).filter(|c| !c.is_empty()));
            s.impressions += impressions;
            s.actions += actions;
        }
    }
}

/// The credit of one record per touch: `(source_id, channel group, weight)` of its touches in the
/// window, weighted by the model; no touch at all gives everything to source 0 / Unassigned.
pub fn touch_credits(
    r: &TouchRecord,
    model: Model,
    window_secs: i64,
    half_life_secs: f64,
) -> Vec<(i64, ChannelGroup, f64)> {
    let mut traces: Vec<&TraceTouch> = r.touches.iter().collect();
    // Each trace once; a stable order for equal times (the older trace first).
    traces.sort_by_key(|t| (t.at, t.trace_id));
    traces.dedup_by_key(|t| t.trace_id);
    let touches: Vec<Touch> = traces
        .iter()
        .map(|t| Touch {
            at: t.at,
            source_id: t.source_id,
            channel: ChannelGroup::from_code(&t.channel).unwrap_or(ChannelGroup::Unassigned),
        })
        .collect();
    let kept = attribution::touches_in_window(r.created_at, touches, window_secs);
    let weights = attribution::weights(model, r.created_at, &kept, half_life_secs);
    if kept.is_empty() || weights.len() != kept.len() {
        return vec![(NO_SOURCE, ChannelGroup::Unassigned, 1.0)];
    }
    kept.iter()
        .zip(weights)
        .filter(|(_, w)| *w != 0.0)
        .map(|(t, w)| (t.source_id, t.channel, w))
        .collect()
}

/// [`touch_credits`] per group.
pub fn credits(
    r: &TouchRecord,
    model: Model,
    group_by: GroupBy,
    window_secs: i64,
    half_life_secs: f64,
) -> Vec<(GroupKey, f64)> {
    touch_credits(r, model, window_secs, half_life_secs)
        .into_iter()
        .map(|(source_id, channel, w)| (GroupKey::of(group_by, source_id, channel.code()), w))
        .collect()
}

/// `x` rounded half away from zero to `places` decimals (never `-0`).
pub fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    let r = (x * f).round() / f;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

pub fn money(x: f64) -> Value {
    json!(round_to(x, 2))
}

/// `num / den` to 4 decimals; `null` when `den` is 0 (or either side is unknown).
pub fn ratio(num: Option<f64>, den: Option<f64>) -> Value {
    match (num, den) {
        (Some(n), Some(d)) if d != 0.0 => json!(round_to(n / d, 4)),
        _ => Value::Null,
    }
}

/// The derived metrics (E16): `cpl = expenses / leads`, `cpa = expenses / closed_deals`,
/// `roi = (revenue − expenses) / expenses`, `lead_to_deal = deals / leads`,
/// `deal_to_won = closed_deals / deals`; each `null` on a zero denominator, and the expense
/// ratios `null` when expenses are unknown (`None`: rows per channel group).
pub fn derived(m: &Metrics, expenses: Option<f64>) -> [(&'static str, Value); 5] {
    [
        ("cpl", ratio(expenses, Some(m.leads))),
        ("cpa", ratio(expenses, Some(m.closed_deals))),
        ("roi", ratio(expenses.map(|e| m.revenue - e), expenses)),
        ("lead_to_deal", ratio(Some(m.deals), Some(m.leads))),
        ("deal_to_won", ratio(Some(m.closed_deals), Some(m.deals))),
    ]
}

/// A count: an integer under `bitrix`, 4 decimals under touch models (fractional credit).
fn count(x: f64, fractional: bool) -> Value {
    if fractional {
        json!(round_to(x, 4))
    } else {
        json!(x.round() as i64)
    }
}

fn record_metrics(out: &mut Map<String, Value>, m: &Metrics, fractional: bool) {
    out.insert("leads".into(), count(m.leads, fractional));
    out.insert("leads_sum".into(), money(m.leads_sum));
    out.insert(
        "converted_leads".into(),
        count(m.converted_leads, fractional),
    );
    out.insert("deals".into(), count(m.deals, fractional));
    out.insert("deals_sum".into(), money(m.deals_sum));
    out.insert("closed_deals".into(), count(m.closed_deals, fractional));
    out.insert("revenue".into(), money(m.revenue));
}

fn metrics_json(
    out: &mut Map<String, Value>,
    visits: i64,
    m: &Metrics,
    spend: Option<&Spend>,
    fractional: bool,
) {
    out.insert("visits".into(), json!(visits));
    record_metrics(out, m, fractional);
    match spend {
        Some(s) => {
            out.insert("expenses".into(), money(s.amount));
            out.insert("impressions".into(), json!(s.impressions));
            out.insert("actions".into(), json!(s.actions));
        }
        None => {
            for k in ["expenses", "impressions", "actions"] {
                out.insert(k.into(), Value::Null);
            }
        }
    }
    for (k, v) in derived(m, spend.map(|s| s.amount)) {
        out.insert(k.into(), v);
    }
}

fn responsible_json(split: &BTreeMap<Option<i64>, Metrics>, fractional: bool) -> Value {
    Value::Array(
        split
            .iter()
            .map(|(user, m)| {
                let mut o = Map::new();
                o.insert("assigned_by_id".into(), json!(user));
                record_metrics(&mut o, m, fractional);
                o.insert("lead_to_deal".into(), ratio(Some(m.deals), Some(m.leads)));
                o.insert(
                    "deal_to_won".into(),
                    ratio(Some(m.closed_deals), Some(m.deals)),
                );
                Value::Object(o)
            })
            .collect(),
    )
}

fn has_data(c: &Cell) -> bool {
    c.visits != 0 || c.metrics != Metrics::default()
}

/// The position of a channel code in the GA4 order (unknown codes after, by code).
fn channel_rank(code: &str) -> (usize, String) {
    let i = ChannelGroup::ALL
        .iter()
        .position(|g| g.code() == code)
        .unwrap_or(ChannelGroup::ALL.len());
    (i, code.to_string())
}

/// The result object (CONTRACTS.md): rows (source 0 and every source of the portal by id, or every
/// channel group with data in GA4 order) and the total.
pub fn render(req: &Request, currency: &str, sources: &[Source], mut tally: Tally) -> Value {
    let fractional = req.model != Model::Bitrix;
    let mut rows = Vec::new();
    let mut total = Cell::default();
    let mut push = |cell: &Cell, row: Map<String, Value>| {
        total.visits += cell.visits;
        total.metrics.add(&cell.metrics);
        for (u, m) in &cell.by_responsible {
            total.by_responsible.entry(*u).or_default().add(m);
        }
        rows.push(Value::Object(row));
    };
    match req.group_by {
        GroupBy::Source => {
            tally.cell(GroupKey::Source(NO_SOURCE));
            for s in sources {
                tally.cell(GroupKey::Source(s.id));
            }
            // Expenses of a source no longer listed still make a row.
            let spent: Vec<i64> = tally.spend.keys().copied().collect();
            for id in spent {
                tally.cell(GroupKey::Source(id));
            }
            for (key, cell) in &tally.cells {
                let GroupKey::Source(id) = key else { continue };
                let mut row = Map::new();
                row.insert("source_id".into(), json!(id));
                let (code, name) = if *id == NO_SOURCE {
                    (json!(NO_SOURCE_CODE), json!(NO_SOURCE_NAME))
                } else {
                    match sources.iter().find(|s| s.id == *id) {
                        Some(s) => (json!(s.code), json!(s.name)),
                        None => (Value::Null, Value::Null),
                    }
                };
                row.insert("source_code".into(), code);
                row.insert("source_name".into(), name);
                let spend = tally.spend.get(id).copied().unwrap_or_default();
                metrics_json(
                    &mut row,
                    cell.visits,
                    &cell.metrics,
                    Some(&spend),
                    fractional,
                );
                if req.by_responsible {
                    row.insert(
                        "by_responsible".into(),
                        responsible_json(&cell.by_responsible, fractional),
                    );
                }
                push(cell, row);
            }
        }
        GroupBy::Channel => {
            let mut keyed: Vec<(&GroupKey, &Cell)> = tally
                .cells
                .iter()
                .filter(|(k, c)| matches!(k, GroupKey::Channel(_)) && has_data(c))
                .collect();
            keyed.sort_by_key(|(k, _)| match k {
                GroupKey::Channel(code) => channel_rank(code),
                GroupKey::Source(_) => (usize::MAX, String::new()),
            });
            for (key, cell) in keyed {
                let GroupKey::Channel(code) = key else {
                    continue;
                };
                let mut row = Map::new();
                row.insert("channel".into(), json!(code));
                row.insert(
                    "channel_name".into(),
                    json!(ChannelGroup::from_code(code).map(|g| g.name())),
                );
                metrics_json(&mut row, cell.visits, &cell.metrics, None, fractional);
                if req.by_responsible {
                    row.insert(
                        "by_responsible".into(),
                        responsible_json(&cell.by_responsible, fractional),
                    );
                }
                push(cell, row);
            }
        }
    }
    // The total carries all expenses, whatever the rows are.
    let mut all = Spend::default();
    for s in tally.spend.values() {
        all.amount += s.amount;
        all.impressions += s.impressions;
        all.actions += s.actions;
    }
    let mut t = Map::new();
    metrics_json(&mut t, total.visits, &total.metrics, Some(&all), fractional);
    if req.by_responsible {
        t.insert(
            "by_responsible".into(),
            responsible_json(&total.by_responsible, fractional),
        );
    }
    json!({
        "from": dates::date_text(req.from),
        "to": dates::date_text(req.to),
        "model": req.model.code(),
        "groupBy": req.group_by.code(),
        "currency": currency,
        "rows": rows,
        "total": t,
    })
}

/// Who may see the report: administrators, and users who may read every lead and every deal
/// (the report sums over all of them).
pub fn may_read(ctx: &Ctx<'_>) -> bool {
    let a = ctx.actor;
    a.rights.admin
        || (a.level(EntityKind::Lead, Action::Read) == Level::All
            && a.level(EntityKind::Deal, Action::Read) == Level::All)
}

/// `leadtrace.tracking.report.get` (extension, E16/E18).
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    if !may_read(ctx) {
        return Err(ApiError::access_denied());
    }
    let tz = ctx.settings.time_zone;
    let req = parse_request(params, tz, ctx.now)?;
    let (start, end) = bounds(&req, tz);
    let portal = ctx.actor.portal_id;

    let settings = s.tracking_settings(portal).await?;
    let sources = s.sources(portal).await?;
    let rates = Rates::new(&ctx.settings.currency, &s.currency_list(portal).await?);
    let mut tally = Tally::default();
    let visits = s.report_visits(portal, start, end, req.group_by).await?;
    tally.add_visits(&visits);
    for family in Family::ALL {
        let q = ReportQuery {
            portal_id: portal,
            kind: family.kind(),
            from: start,
            to: end,
            group_by: req.group_by,
            by_responsible: req.by_responsible,
        };
        if req.model == Model::Bitrix {
            let groups = s.report_groups(&q).await?;
            tally.add_groups(family, &groups, &rates, req.by_responsible);
        } else {
            let window = settings.attribution_window_days * 86_400;
            let (groups, records) = s.report_touches(&q, req.model, window).await?;
            tally.add_groups(family, &groups, &rates, req.by_responsible);
            tally.add_records(
                family,
                &records,
                req.model,
                req.group_by,
                window,
                attribution::DEFAULT_HALF_LIFE_SECS,
                &rates,
                req.by_responsible,
            );
        }
    }
    let totals = s
        .expense_totals(
            portal,
            &dates::date_text(req.from),
            &dates::date_text(req.to),
        )
        .await?;
    tally.add_spend(
        totals.iter().map(|e| {
            (
                e.source_id,
                e.currency.as_str(),
                e.amount,
                e.impressions,
                e.actions,
            )
        }),
        &rates,
    );
    Ok(Output::from(render(&req, &rates.base, &sources, tally)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{Actor, Rights};
    use crate::PortalSettings;

    const DAY: i64 = 86_400;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 2026-03-15 12:00 UTC.
    const NOW: i64 = 1_773_576_000;

    fn parse(v: Value) -> Result<Request, ApiError> {
        parse_request(&params(v), chrono_tz::UTC, NOW)
    }

    fn rejected(v: Value) -> String {
        let e = parse(v).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARG_VALUE");
        assert_eq!(e.status(), 400);
        e.description().to_string()
    }

    #[test]
    fn request_defaults_and_values() {
        let r = parse(json!({})).unwrap();
        assert_eq!((r.from, r.to), (day("2026-02-14"), day("2026-03-15")));
        assert_eq!((r.to - r.from).num_days() + 1, 30);
        assert_eq!(r.model, Model::Bitrix);
        assert_eq!(r.group_by, GroupBy::Source);
        assert!(!r.by_responsible);
        // Today is the portal's today: 2026-03-15 12:00 UTC is already the 16th in Tokyo.
        let tokyo =
            parse_request(&params(json!({})), chrono_tz::Asia::Tokyo, NOW + 10 * 3600).unwrap();
        assert_eq!(tokyo.to, day("2026-03-16"));

        let r = parse(
            json!({"from": "2026-01-01", "to": "2026-01-31", "model": "linear",
                             "groupBy": "channel", "byResponsible": "Y"}),
        )
        .unwrap();
        assert_eq!((r.from, r.to), (day("2026-01-01"), day("2026-01-31")));
        assert_eq!(r.model, Model::Linear);
        assert_eq!(r.group_by, GroupBy::Channel);
        assert!(r.by_responsible);
        // Names in any case; one bound alone.
        let r = parse(json!({"FROM": "2026-03-01", "byresponsible": "N"})).unwrap();
        assert_eq!((r.from, r.to), (day("2026-03-01"), day("2026-03-15")));
        assert!(!r.by_responsible);
        let r = parse(json!({"to": "2026-01-31"})).unwrap();
        assert_eq!(r.from, day("2026-01-02"));
        // A from in the future: to follows it (one day).
        let r = parse(json!({"from": "2026-04-01"})).unwrap();
        assert_eq!((r.from, r.to), (day("2026-04-01"), day("2026-04-01")));
        // 366 days is the longest range.
        assert!(parse(json!({"from": "2024-01-01", "to": "2024-12-31"})).is_ok());
        for m in Model::ALL {
            assert_eq!(parse(json!({"model": m.code()})).unwrap().model, m);
        }
        // Empty values are absent.
        let r = parse(json!({"model": "", "groupBy": " ", "byResponsible": ""})).unwrap();
        assert_eq!(
            (r.model, r.group_by, r.by_responsible),
            (Model::Bitrix, GroupBy::Source, false)
        );
    }

    #[test]
    fn request_errors() {
        assert_eq!(
            rejected(json!({"from": "2026-1-01"})),
            "Parameter `from` must be a date in the form YYYY-MM-DD, got `2026-1-01`."
        );
        rejected(json!({"to": "2026-02-30"}));
        rejected(json!({"from": "01.02.2026"}));
        rejected(json!({"from": "2026-01-01T00:00:00"}));
        assert_eq!(
            rejected(json!({"from": ["2026-01-01"]})),
            "Parameter `from` must be a string."
        );
        assert_eq!(
            rejected(json!({"from": "2026-02-01", "to": "2026-01-31"})),
            "Parameter `from` (2026-02-01) is after `to` (2026-01-31)."
        );
        assert_eq!(
            rejected(json!({"from": "2024-01-01", "to": "2025-01-01"})),
            "The range from 2024-01-01 to 2025-01-01 is longer than 366 days."
        );
        assert_eq!(
            rejected(json!({"model": "u_shaped"})),
            "Unknown model `u_shaped`. Allowed: bitrix, first_touch, last_touch, last_non_direct, \
             linear, position_based, time_decay."
        );
        // Codes ignore case.
        assert_eq!(
            parse(json!({"model": "Linear", "groupBy": "Channel"}))
                .unwrap()
                .model,
            Model::Linear
        );
        assert_eq!(
            rejected(json!({"groupBy": "campaign"})),
            "Unknown groupBy `campaign`. Allowed: source, channel."
        );
        assert_eq!(
            rejected(json!({"byResponsible": "maybe"})),
            "Parameter `byResponsible` must be Y or N."
        );
    }

    #[test]
    fn bounds_follow_the_portal_zone() {
        let req = Request {
            from: day("2026-01-01"),
            to: day("2026-01-31"),
            model: Model::Bitrix,
            group_by: GroupBy::Source,
            by_responsible: false,
        };
        // 2026-01-01 00:00 UTC = 1767225600.
        assert_eq!(
            bounds(&req, chrono_tz::UTC),
            (1_767_225_600, 1_767_225_600 + 31 * DAY)
        );
        assert_eq!(
            bounds(&req, chrono_tz::Europe::Berlin),
            (1_767_225_600 - 3600, 1_767_225_600 + 31 * DAY - 3600)
        );
        // Across the spring change the range is an hour shorter.
        let dst = Request {
            from: day("2026-03-29"),
            to: day("2026-03-29"),
            ..req
        };
        let (a, b) = bounds(&dst, chrono_tz::Europe::Berlin);
        assert_eq!(b - a, 23 * 3600);
    }

    fn currency(code: &str, base: bool, amount_cnt: i64, amount: f64) -> Currency {
        Currency {
            code: code.into(),
            sort: 100,
            base,
            amount_cnt,
            amount,
            date_update: 0,
        }
    }

    fn rates() -> Rates {
        Rates::new(
            "USD",
            &[
                currency("USD", true, 1, 1.0),
                currency("EUR", false, 1, 1.1),
                currency("JPY", false, 100, 0.7),
                currency("BAD", false, 0, 5.0),
            ],
        )
    }

    #[test]
    fn currency_conversion() {
        let r = rates();
        assert_eq!(r.base, "USD");
        assert_eq!(r.to_base(100.0, Some("USD")), 100.0);
        assert!((r.to_base(100.0, Some("EUR")) - 110.0).abs() < 1e-9);
        assert!((r.to_base(1000.0, Some("JPY")) - 7.0).abs() < 1e-9);
        // No usable rate, no currency, an unknown currency: face value.
        assert_eq!(r.to_base(10.0, Some("BAD")), 10.0);
        assert_eq!(r.to_base(10.0, None), 10.0);
        assert_eq!(r.to_base(10.0, Some("XYZ")), 10.0);
        // The list's base currency wins over the setting.
        assert_eq!(
            Rates::new("EUR", &[currency("USD", true, 1, 1.0)]).base,
            "USD"
        );
        assert_eq!(Rates::new("EUR", &[]).base, "EUR");
    }

    #[test]
    fn rounding_and_formulas() {
        assert_eq!(round_to(33.333_333, 2), 33.33);
        assert_eq!(round_to(2.0 / 3.0, 4), 0.6667);
        assert_eq!(round_to(0.125, 2), 0.13, "half away from zero");
        assert_eq!(round_to(-0.125, 2), -0.13);
        assert!(round_to(-0.000_01, 2).is_sign_positive(), "never -0");
        assert_eq!(money(1.005e3), json!(1005.0));
        assert_eq!(ratio(Some(1.0), Some(3.0)), json!(0.3333));
        assert_eq!(ratio(Some(1.0), Some(0.0)), Value::Null);
        assert_eq!(ratio(None, Some(3.0)), Value::Null);
        assert_eq!(ratio(Some(0.0), Some(2.0)), json!(0.0));

        let m = Metrics {
            leads: 3.0,
            deals: 2.0,
            closed_deals: 1.0,
            revenue: 250.0,
            ..Metrics::default()
        };
        let d: BTreeMap<&str, Value> = derived(&m, Some(100.0)).into_iter().collect();
        assert_eq!(d["cpl"], json!(33.3333));
        assert_eq!(d["cpa"], json!(100.0));
        assert_eq!(d["roi"], json!(1.5));
        assert_eq!(d["lead_to_deal"], json!(0.6667));
        assert_eq!(d["deal_to_won"], json!(0.5));
        // Zero denominators.
        let d: BTreeMap<&str, Value> = derived(&Metrics::default(), Some(0.0))
            .into_iter()
            .collect();
        for k in ["cpl", "cpa", "roi", "lead_to_deal", "deal_to_won"] {
            assert_eq!(d[k], Value::Null, "{k}");
        }
        // Spend without any record: cost ratios null, roi -1 (all lost).
        let d: BTreeMap<&str, Value> = derived(&Metrics::default(), Some(50.0))
            .into_iter()
            .collect();
        assert_eq!(d["cpl"], Value::Null);
        assert_eq!(d["roi"], json!(-1.0));
        // Unknown expenses (channel rows): every expense ratio null, the others computed.
        let d: BTreeMap<&str, Value> = derived(&m, None).into_iter().collect();
        assert_eq!(
            (d["cpl"].clone(), d["cpa"].clone(), d["roi"].clone()),
            (Value::Null, Value::Null, Value::Null)
        );
        assert_eq!(d["deal_to_won"], json!(0.5));
    }

    fn touch(id: i64, at: i64, source_id: i64, channel: &str) -> TraceTouch {
        TraceTouch {
            trace_id: id,
            at,
            source_id,
            channel: channel.into(),
        }
    }

    fn record(created_at: i64, touches: Vec<TraceTouch>) -> TouchRecord {
        TouchRecord {
            id: 1,
            created_at,
            currency: None,
            amount: 100.0,
            won: false,
            assigned_by_id: Some(1),
            touches,
        }
    }

    const C: i64 = 100 * DAY;
    const WINDOW: i64 = 28 * DAY;
    const H: f64 = 7.0 * DAY as f64;

    fn by_source(r: &TouchRecord, model: Model) -> Vec<(i64, f64)> {
        credits(r, model, GroupBy::Source, WINDOW, H)
            .into_iter()
            .map(|(k, w)| match k {
                GroupKey::Source(id) => (id, round_to(w, 6)),
                GroupKey::Channel(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn no_touch_goes_to_source_zero() {
        let r = record(C, vec![]);
        for m in Model::ALL {
            assert_eq!(by_source(&r, m), vec![(0, 1.0)], "{m:?}");
            assert_eq!(
                credits(&r, m, GroupBy::Channel, WINDOW, H),
                vec![(GroupKey::Channel("unassigned".into()), 1.0)]
            );
        }
        // Touches outside the window count as none.
        let r = record(
            C,
            vec![
                touch(1, C - WINDOW - 1, 3, "direct"),
                touch(2, C + 1, 4, "direct"),
            ],
        );
        assert_eq!(by_source(&r, Model::Linear), vec![(0, 1.0)]);
        // The window's edges are inside.
        let r = record(
            C,
            vec![touch(1, C - WINDOW, 3, "direct"), touch(2, C, 4, "direct")],
        );
        assert_eq!(by_source(&r, Model::Linear), vec![(3, 0.5), (4, 0.5)]);
    }

    #[test]
    fn touch_models_on_three_touches() {
        // Oldest first: fb (organic social), google (paid search), direct.
        let r = record(
            C,
            vec![
                touch(30, C, 0, "direct"),
                touch(10, C - 14 * DAY, 2, "organic_social"),
                touch(20, C - 7 * DAY, 1, "paid_search"),
            ],
        );
        assert_eq!(by_source(&r, Model::FirstTouch), vec![(2, 1.0)]);
        assert_eq!(by_source(&r, Model::LastTouch), vec![(0, 1.0)]);
        assert_eq!(by_source(&r, Model::LastNonDirect), vec![(1, 1.0)]);
        let third = round_to(1.0 / 3.0, 6);
        assert_eq!(
            by_source(&r, Model::Linear),
            vec![(2, third), (1, third), (0, third)]
        );
        assert_eq!(
            by_source(&r, Model::PositionBased),
            vec![(2, 0.4), (1, 0.2), (0, 0.4)]
        );
        // Weights 1/4, 1/2, 1 → 1/7, 2/7, 4/7.
        assert_eq!(
            by_source(&r, Model::TimeDecay),
            vec![
                (2, round_to(1.0 / 7.0, 6)),
                (1, round_to(2.0 / 7.0, 6)),
                (0, round_to(4.0 / 7.0, 6))
            ]
        );
    }

    #[test]
    fn touches_are_deduplicated_ordered_and_capped() {
        // The same trace bound and listed as a previous visit counts once.
        let r = record(
            C,
            vec![
                touch(5, C - DAY, 1, "paid_search"),
                touch(5, C - DAY, 1, "paid_search"),
            ],
        );
        assert_eq!(by_source(&r, Model::Linear), vec![(1, 1.0)]);
        // Equal times: the older trace id first.
        let r = record(
            C,
            vec![touch(9, C, 4, "referral"), touch(8, C, 3, "referral")],
        );
        assert_eq!(by_source(&r, Model::FirstTouch), vec![(3, 1.0)]);
        assert_eq!(by_source(&r, Model::LastTouch), vec![(4, 1.0)]);
        assert_eq!(
            by_source(&r, Model::PositionBased),
            vec![(3, 0.5), (4, 0.5)]
        );
        // Twelve touches: the last ten count.
        let many: Vec<TraceTouch> = (1..=12)
            .map(|i| touch(i, C - (13 - i) * DAY, i, "referral"))
            .collect();
        let got = by_source(&record(C, many), Model::Linear);
        assert_eq!(got.len(), 10);
        assert_eq!(got.first(), Some(&(3, 0.1)));
        assert_eq!(got.last(), Some(&(12, 0.1)));
        // Last non-direct with only direct touches: the last one.
        let r = record(
            C,
            vec![touch(1, C - DAY, 6, "direct"), touch(2, C, 7, "direct")],
        );
        assert_eq!(by_source(&r, Model::LastNonDirect), vec![(7, 1.0)]);
        // Channel grouping: one key per touch's group, credits summed by the tally.
        let r = record(
            C,
            vec![
                touch(1, C - DAY, 1, "paid_search"),
                touch(2, C, 2, "paid_search"),
            ],
        );
        let mut t = Tally::default();
        t.add_records(
            Family::Lead,
            &[r],
            Model::Linear,
            GroupBy::Channel,
            WINDOW,
            H,
            &rates(),
            false,
        );
        assert_eq!(
            t.cells[&GroupKey::Channel("paid_search".into())]
                .metrics
                .leads,
            1.0
        );
    }

    fn group(
        key: GroupKey,
        user: Option<i64>,
        currency: &str,
        count: i64,
        sum: f64,
        won: i64,
        won_sum: f64,
    ) -> RecordGroup {
        RecordGroup {
            key,
            assigned_by_id: user,
            currency: Some(currency.into()),
            count: count as f64,
            sum,
            won: won as f64,
            won_sum,
        }
    }

    fn source(id: i64, code: &str, name: &str) -> Source {
        Source {
            id,
            code: code.into(),
            name: name.into(),
            ..Source::default()
        }
    }

    fn request(model: Model, group_by: GroupBy, by_responsible: bool) -> Request {
        Request {
            from: day("2026-01-01"),
            to: day("2026-01-31"),
            model,
            group_by,
            by_responsible,
        }
    }

    #[test]
    fn bitrix_fold_and_render() {
        let r = rates();
        let mut t = Tally::default();
        t.add_visits(&[(GroupKey::Source(1), 12), (GroupKey::Source(0), 4)]);
        t.add_groups(
            Family::Lead,
            &[
                group(GroupKey::Source(1), Some(1), "USD", 2, 200.0, 1, 50.0),
                group(GroupKey::Source(1), Some(2), "EUR", 1, 100.0, 0, 0.0),
                group(GroupKey::Source(9), Some(2), "USD", 1, 5.0, 0, 0.0),
            ],
            &r,
            true,
        );
        t.add_groups(
            Family::Deal,
            &[
                group(GroupKey::Source(1), Some(1), "USD", 1, 250.0, 1, 250.0),
                group(GroupKey::Source(1), Some(2), "JPY", 1, 10000.0, 0, 0.0),
            ],
            &r,
            true,
        );
        t.add_spend(
            [
                (1, "EUR", 100.0, 1000, 40),
                (1, "USD", 10.0, 0, 0),
                (5, "USD", 3.0, 1, 1),
            ],
            &r,
        );
        let sources = [
            source(1, "google", "Google Ads"),
            source(2, "fb", "Facebook"),
        ];
        let out = render(
            &request(Model::Bitrix, GroupBy::Source, true),
            "USD",
            &sources,
            t,
        );
        assert_eq!(out["from"], "2026-01-01");
        assert_eq!(out["model"], "bitrix");
        assert_eq!(out["groupBy"], "source");
        assert_eq!(out["currency"], "USD");
        let rows = out["rows"].as_array().unwrap();
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r["source_id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ids,
            vec![0, 1, 2, 5, 9],
            "source 0, every source, then ids with data"
        );
        assert_eq!(rows[0]["source_code"], "organic");
        assert_eq!(rows[0]["source_name"], "Organic / other traffic");
        assert_eq!(rows[0]["visits"], 4);
        assert_eq!(rows[0]["expenses"], json!(0.0));
        assert_eq!(rows[0]["cpl"], Value::Null);
        assert_eq!(rows[3]["source_code"], Value::Null);
        let g = &rows[1];
        assert_eq!(
            *g,
            json!({
                "source_id": 1, "source_code": "google", "source_name": "Google Ads",
                "visits": 12, "leads": 3, "leads_sum": 310.0, "converted_leads": 1,
                "deals": 2, "deals_sum": 320.0, "closed_deals": 1, "revenue": 250.0,
                "expenses": 120.0, "impressions": 1000, "actions": 40,
                "cpl": 40.0, "cpa": 120.0, "roi": round_to((250.0 - 120.0) / 120.0, 4),
                "lead_to_deal": 0.6667, "deal_to_won": 0.5,
                "by_responsible": [
                    {"assigned_by_id": 1, "leads": 2, "leads_sum": 200.0, "converted_leads": 1,
                     "deals": 1, "deals_sum": 250.0, "closed_deals": 1, "revenue": 250.0,
                     "lead_to_deal": 0.5, "deal_to_won": 1.0},
                    {"assigned_by_id": 2, "leads": 1, "leads_sum": 110.0, "converted_leads": 0,
                     "deals": 1, "deals_sum": 70.0, "closed_deals": 0, "revenue": 0.0,
                     "lead_to_deal": 1.0, "deal_to_won": 0.0}
                ]
            })
        );
        let total = &out["total"];
        assert_eq!(total["visits"], 16);
        assert_eq!(total["leads"], 4);
        assert_eq!(total["leads_sum"], json!(315.0));
        assert_eq!(total["expenses"], json!(123.0));
        assert_eq!(total["impressions"], 1001);
        assert_eq!(total["by_responsible"][1]["leads"], 2);
    }

    #[test]
    fn channel_rows_and_fractional_counts() {
        let r = rates();
        let mut t = Tally::default();
        t.add_visits(&[
            (GroupKey::Channel("referral".into()), 2),
            (GroupKey::Channel("direct".into()), 1),
            (GroupKey::Channel("odd_code".into()), 1),
        ]);
        let rec = TouchRecord {
            id: 7,
            created_at: C,
            currency: Some("EUR".into()),
            amount: 100.0,
            won: true,
            assigned_by_id: Some(3),
            touches: vec![
                touch(1, C - 2 * DAY, 1, "paid_search"),
                touch(2, C - DAY, 2, "organic_social"),
                touch(3, C, 0, "direct"),
            ],
        };
        t.add_records(
            Family::Deal,
            &[rec],
            Model::Linear,
            GroupBy::Channel,
            WINDOW,
            H,
            &r,
            true,
        );
        t.add_spend([(1, "USD", 30.0, 0, 0)], &r);
        let out = render(
            &request(Model::Linear, GroupBy::Channel, true),
            "USD",
            &[],
            t,
        );
        let rows = out["rows"].as_array().unwrap();
        let codes: Vec<&str> = rows
            .iter()
            .map(|r| r["channel"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec![
                "direct",
                "paid_search",
                "organic_social",
                "referral",
                "odd_code"
            ]
        );
        assert_eq!(rows[0]["channel_name"], "Direct");
        assert_eq!(rows[4]["channel_name"], Value::Null);
        let paid = &rows[1];
        assert_eq!(paid["deals"], json!(0.3333));
        assert_eq!(paid["closed_deals"], json!(0.3333));
        assert_eq!(paid["revenue"], json!(36.67));
        assert_eq!(paid["visits"], 0);
        for k in ["expenses", "impressions", "actions", "cpl", "cpa", "roi"] {
            assert_eq!(paid[k], Value::Null, "{k}");
        }
        assert_eq!(paid["by_responsible"][0]["assigned_by_id"], 3);
        assert_eq!(paid["by_responsible"][0]["deals"], json!(0.3333));
        let total = &out["total"];
        assert_eq!(total["deals"], json!(1.0));
        assert_eq!(total["revenue"], json!(110.0));
        assert_eq!(total["visits"], 4);
        assert_eq!(total["expenses"], json!(30.0));
        assert_eq!(total["roi"], json!(round_to(80.0 / 30.0, 4)));
    }

    #[test]
    fn permissions() {
        let settings = PortalSettings {
            time_zone: chrono_tz::UTC,
            currency: "USD".into(),
        };
        let ctx_of = |rights: Rights| {
            let actor = Actor {
                portal_id: 1,
                user_id: 2,
                rights,
            };
            let ctx = Ctx {
                actor: &actor,
                settings: &settings,
                now: NOW,
            };
            may_read(&ctx)
        };
        assert!(ctx_of(Rights::admin()));
        assert!(ctx_of(
            Rights::parse("lead=read:all;deal=read:all").unwrap()
        ));
        assert!(!ctx_of(
            Rights::parse("lead=read:all;deal=read:own").unwrap()
        ));
        assert!(!ctx_of(Rights::parse("lead=read:all").unwrap()));
        assert!(!ctx_of(Rights::default()));
    }
}
