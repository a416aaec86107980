//! Managing expense packs (extension, E19): `leadtrace.tracking.expense.add/get/list/delete` and
//! `leadtrace expenses import/list`, which call these same functions with an administrator.
//!
//! Anyone with the `crm` scope may read packs (as sources); adding and deleting needs an
//! administrator. A pack and its daily rows are written in the call's one transaction.

use super::expense::{self, ExpenseFilter, ExpensePack, PackContext};
use super::sources::{done_if_found, record_id, require_admin};
use crate::engine::{page_window, PAGE_SIZE};
use crate::storage::Storage;
use crate::wire;
use crate::{dates, Ctx};
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// At most this many row errors are spelled out by an import; the rest are counted.
pub const MAX_IMPORT_ERRORS: usize = 50;

/// A pack as the methods show it.
pub fn pack_json(p: &ExpensePack, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), json!(p.id));
    m.insert("SOURCE_ID".into(), json!(p.source_id));
    m.insert("DATE_FROM".into(), json!(dates::date_text(p.date_from)));
    m.insert("DATE_TO".into(), json!(dates::date_text(p.date_to)));
    m.insert(
        "AMOUNT".into(),
        json!(expense::cents_to_units(p.amount_cents)),
    );
    m.insert("CURRENCY_ID".into(), json!(p.currency));
    m.insert("IMPRESSIONS".into(), json!(p.impressions));
    m.insert("ACTIONS".into(), json!(p.actions));
    m.insert("COMMENT".into(), json!(p.comment));
    m.insert(
        "DATE_CREATE".into(),
        json!(dates::format_datetime(p.created_at, ctx.settings.time_zone)),
    );
    m.insert("CREATED_BY_ID".into(), json!(p.created_by));
    Value::Object(m)
}

/// The portal's sources and currency codes, the base currency first.
async fn pack_context<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
) -> Result<(Vec<super::Source>, Vec<String>), ApiError> {
    let sources = s.sources(ctx.actor.portal_id).await?;
    let mut currencies = s.currencies(ctx.actor.portal_id).await?;
    if let Some(i) = currencies
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&ctx.settings.currency))
    {
        let base = currencies.remove(i);
        currencies.insert(0, base);
    }
    Ok((sources, currencies))
}

/// `leadtrace.tracking.expense.add` (`fields`): the new pack's id.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let fields = wire::legacy(params, "fields")
        .filter(|v| wire::is_php_array(v))
        .ok_or_else(|| ApiError::legacy(text::FIELDS_MUST_BE_ARRAY))?;
    let (sources, currencies) = pack_context(s, ctx).await?;
    let pack = expense::new_pack(
        fields,
        &PackContext {
            sources: &sources,
            currencies: &currencies,
            time_zone: ctx.settings.time_zone,
            now: ctx.now,
            user_id: ctx.actor.user_id,
        },
    )?;
    let id = s
        .insert_expense_pack(ctx.actor.portal_id, &pack, &pack.split())
        .await?;
    Ok(Output::from(Value::from(id)))
}

/// `leadtrace.tracking.expense.get` (`id`): the pack with its daily rows (`DAYS`).
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    let Some(pack) = s.expense_pack(ctx.actor.portal_id, id).await? else {
        return Err(ApiError::not_found());
    };
    let days = s.expense_days(ctx.actor.portal_id, id).await?;
    let mut out = pack_json(&pack, ctx);
    out["DAYS"] = Value::Array(
        days.iter()
            .map(|d| {
                json!({
                    "DATE": dates::date_text(d.day),
                    "AMOUNT": expense::cents_to_units(d.amount_cents),
                    "IMPRESSIONS": d.impressions,
                    "ACTIONS": d.actions,
                })
            })
            .collect(),
    );
    Ok(Output::from(out))
}

/// The list filter: `SOURCE_ID` (a source id), `DATE_FROM` and `DATE_TO` (packs overlapping them).
fn list_filter(params: &Params, ctx: &Ctx<'_>) -> Result<ExpenseFilter, ApiError> {
    let mut f = ExpenseFilter::default();
    let Some(filter) = wire::legacy(params, "filter") else {
        return Ok(f);
    };
    if !wire::is_php_array(filter) {
        return Err(ApiError::legacy(text::FILTER_MUST_BE_ARRAY));
    }
    let value = |name: &str| -> Option<String> {
        wire::php_get(filter, name)
            .and_then(wire::strval)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    if let Some(v) = value("SOURCE_ID") {
        f.source_id = Some(expense::parse_count(&v).ok_or_else(|| {
            ApiError::core(format!("Filter SOURCE_ID must be a source id, not `{v}`."))
        })?);
    }
    for (name, slot) in [("DATE_FROM", &mut f.from), ("DATE_TO", &mut f.to)] {
        if let Some(v) = value(name) {
            *slot = Some(
                expense::parse_day(&v, ctx.settings.time_zone, ctx.now).ok_or_else(|| {
                    ApiError::core(format!(
                        "Filter {name} must be a date (YYYY-MM-DD), not `{v}`."
                    ))
                })?,
            );
        }
    }
    Ok(f)
}

/// `leadtrace.tracking.expense.list` (`filter`, `start`): packs by id, 50 per page.
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let filter = list_filter(params, ctx)?;
    let (offset, count) = page_window(wire::start(params));
    let packs = s
        .expense_packs(ctx.actor.portal_id, &filter, offset, PAGE_SIZE)
        .await?;
    let total = if count {
        s.count_expense_packs(ctx.actor.portal_id, &filter).await?
    } else {
        0
    };
    let next = (count && offset.saturating_add(PAGE_SIZE) < total).then(|| offset + PAGE_SIZE);
    let items: Vec<Value> = packs.iter().map(|p| pack_json(p, ctx)).collect();
    Ok(Output::list(Value::Array(items), total, next))
}

/// `leadtrace.tracking.expense.delete` (`id`): `true`; the pack's daily rows go with it.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let id = record_id(params)?;
    done_if_found(s.delete_expense_pack(ctx.actor.portal_id, id).await?)
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub packs: usize,
    pub days: usize,
    /// Cents per currency code.
    pub amounts: BTreeMap<String, i64>,
    pub impressions: i64,
    pub actions: i64,
}

/// Adds many packs (each `(line, fields)` as for `add`) all or nothing: every row is checked first,
/// and any error fails the whole import with one line per bad row (`line N: text`), before
/// anything is written. With `write` false only the checks run (a dry run). `tick` is called once
/// per row checked and once per pack written.
pub async fn import<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rows: &[(u64, Value)],
    write: bool,
    tick: &(dyn Fn() + Send + Sync),
) -> Result<ImportSummary, ApiError> {
    require_admin(ctx)?;
    let (sources, currencies) = pack_context(s, ctx).await?;
    let pc = PackContext {
        sources: &sources,
        currencies: &currencies,
        time_zone: ctx.settings.time_zone,
        now: ctx.now,
        user_id: ctx.actor.user_id,
    };
    let mut packs = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for (line, fields) in rows {
        match expense::new_pack(fields, &pc) {
            Ok(p) => packs.push(p),
            Err(e) => errors.push(format!("line {line}: {}", e.description())),
        }
        tick();
    }
    if !errors.is_empty() {
        let n = errors.len();
        let mut text = errors
            .into_iter()
            .take(MAX_IMPORT_ERRORS)
            .collect::<Vec<_>>()
            .join("\n");
        if n > MAX_IMPORT_ERRORS {
            text.push_str(&format!("\n… and {} more bad lines", n - MAX_IMPORT_ERRORS));
        }
        return Err(ApiError::core(format!(
            "{n} bad line(s), nothing imported:\n{text}"
        )));
    }
    let mut summary = ImportSummary::default();
    for p in &packs {
        let days = p.split();
        if write {
            s.insert_expense_pack(ctx.actor.portal_id, p, &days).await?;
            tick();
        }
        summary.packs += 1;
        summary.days += days.len();
        *summary.amounts.entry(p.currency.clone()).or_default() += p.amount_cents;
        summary.impressions += p.impressions;
        summary.actions += p.actions;
    }
    Ok(summary)
}
