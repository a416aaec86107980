//! `--suite report`: the Sales Intelligence report (`leadtrace.tracking.report.get`) on a large CRM.
//!
//! Seeds N leads (the lead suite's realistic columns, written by `crm::Storage::insert_entity`),
//! each but every 10th with a trace written through the store's bulk path
//! (`Tx::bulk_insert_traces` / `bulk_bind_traces`, which also keep the records' copy of their
//! effective trace current), one trace in 9 with a previous visit; then M deals (`insert_entity`),
//! each sharing the trace of a lead created shortly before it, as converted leads do. Then times
//! the report over HTTP for a 30-day and a one-year range under `bitrix` and touch models.

use crate::client::ms;
use crate::seed::{self, USERS};
use crate::{Bench, BoxError};
use crm::{Assignments, DbValue, EntityKind, Storage};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use store::{BulkTrace, Store};

/// Chunks written at once.
const IN_FLIGHT: usize = 2;

/// Trace sources (seeded ids, 0 = none) with their channel group and share (percent).
const TRACE_SOURCES: [(i64, &str, u32); 8] = [
    (0, "direct", 25),
    (0, "organic_search", 10),
    (1, "paid_search", 30),
    (2, "paid_social", 12),
    (3, "organic_social", 6),
    (4, "organic_social", 5),
    (6, "paid_search", 7),
    (7, "email", 5),
];

fn pick(rng: &mut StdRng) -> (i64, &'static str) {
    let total: u32 = TRACE_SOURCES.iter().map(|t| t.2).sum();
    let mut x = rng.gen_range(0..total);
    for (s, c, w) in TRACE_SOURCES {
        if x < w {
            return (s, c);
        }
        x -= w;
    }
    (0, "direct")
}

/// A lead's trace and, for one in 9, the trace of a previous visit.
type Journey = (BulkTrace, Option<BulkTrace>);

/// What seeding produced.
pub struct Seeded {
    pub leads: u64,
    pub deals: u64,
    pub traces: u64,
    pub leads_elapsed: Duration,
    pub deals_elapsed: Duration,
    /// Days still dirty when seeding ended (recomputed), and the time `Store::refresh_report_days`
    /// took to bring the daily roll-ups up to date (the server's own refresher ran during seeding).
    pub rollup_marks: usize,
    pub rollup_elapsed: Duration,
}

/// N leads with traces; returns, per lead (by seq − 1), its creation time and trace id (0: none).
async fn leads(
    store: &Store,
    portal_id: i64,
    n: u64,
    chunk: u64,
    seed: u64,
) -> Result<(Vec<(i64, i64)>, u64), BoxError> {
    let now = chrono::Utc::now().timestamp();
    let first_created = now - seed::SPAN_DAYS * 86_400;
    let started = Instant::now();
    let chunks = n.div_ceil(chunk.max(1));
    let mut stream = futures::stream::iter(0..chunks)
        .map(|c| {
            let store = store.clone();
            async move {
                let from = c * chunk + 1;
                let to = ((c + 1) * chunk).min(n);
                let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(7_000_003).wrapping_add(c));
                let span = (seed::SPAN_DAYS * 86_400) as f64;
                let rows: Vec<(i64, Assignments, Option<Journey>)> = (from..=to)
                    .map(|seq| {
                        let base = first_created + (span * (seq as f64 / n as f64)) as i64;
                        let created = (base + rng.gen_range(-3_600..3_600)).min(now);
                        let values = seed::lead(&mut rng, seq, created, now);
                        let trace = (seq % 10 != 0).then(|| {
                            let (source_id, channel) = pick(&mut rng);
                            let main = BulkTrace {
                                created_at: created,
                                source_id,
                                channel_group: channel.into(),
                            };
                            let child = (seq % 9 == 0).then(|| {
                                let (source_id, channel) = pick(&mut rng);
                                BulkTrace {
                                    created_at: created - rng.gen_range(3_600..20 * 86_400),
                                    source_id,
                                    channel_group: channel.into(),
                                }
                            });
                            (main, child)
                        });
                        (created, values, trace)
                    })
                    .collect();
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            let mut out = Vec::with_capacity(rows.len());
                            let mut mains = Vec::new();
                            let mut children = Vec::new();
                            let mut owners = Vec::new();
                            for (created, values, trace) in rows {
                                let id = tx
                                    .insert_entity(EntityKind::Lead, portal_id, values, None)
                                    .await?;
                                out.push((created, 0));
                                if let Some((main, child)) = trace {
                                    owners.push((out.len() - 1, id, created, child.is_some()));
                                    mains.push(main);
                                    children.extend(child);
                                }
                            }
                            let main_ids = tx.bulk_insert_traces(portal_id, &mains).await?;
                            let child_ids = tx.bulk_insert_traces(portal_id, &children).await?;
                            let mut bindings = Vec::with_capacity(owners.len());
                            let mut links = Vec::with_capacity(child_ids.len());
                            let mut next_child = child_ids.iter();
                            for ((i, id, created, has_child), trace_id) in
                                owners.into_iter().zip(main_ids)
                            {
                                out[i].1 = trace_id;
                                bindings.push((trace_id, id, created));
                                if has_child {
                                    if let Some(c) = next_child.next() {
                                        links.push((trace_id, *c));
                                    }
                                }
                            }
                            tx.bulk_bind_traces(portal_id, EntityKind::Lead, &bindings, &links)
                                .await?;
                            Ok((out, (mains.len() + children.len()) as u64))
                        })
                    })
                    .await
            }
        })
        .buffered(IN_FLIGHT);
    let mut all = Vec::with_capacity(n as usize);
    let mut traces = 0;
    let mut last = Instant::now();
    while let Some(r) = stream.next().await {
        let (rows, t) = r.map_err(|e| format!("seeding leads failed: {e}"))?;
        all.extend(rows);
        traces += t;
        if last.elapsed() >= Duration::from_secs(10) || all.len() as u64 == n {
            last = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  seeded {}/{n} leads, {traces} traces in {secs:.0} s ({:.0} leads/s)",
                all.len(),
                all.len() as f64 / secs.max(1e-9)
            );
        }
    }
    Ok((all, traces))
}

/// Deal stages (id, semantics, share).
const DEAL_STAGES: [(&str, &str, u32); 5] = [
    ("NEW", "P", 25),
    ("PREPARATION", "P", 20),
    ("EXECUTING", "P", 20),
    ("WON", "S", 20),
    ("LOSE", "F", 15),
];

fn deal(rng: &mut StdRng, seq: u64, created: i64) -> Assignments {
    let total: u32 = DEAL_STAGES.iter().map(|s| s.2).sum();
    let mut x = rng.gen_range(0..total);
    let mut stage = DEAL_STAGES[0];
    for s in DEAL_STAGES {
        if x < s.2 {
            stage = s;
            break;
        }
        x -= s.2;
    }
    let user = rng.gen_range(1..=USERS);
    let text = |s: &str| DbValue::Text(s.into());
    vec![
        ("title", text(&format!("Deal #{seq}"))),
        ("type_id", text("SALE")),
        ("category_id", DbValue::Int(0)),
        ("stage_id", text(stage.0)),
        ("stage_semantic_id", text(stage.1)),
        ("closed", text(if stage.1 == "P" { "N" } else { "Y" })),
        ("is_new", text(if stage.0 == "NEW" { "Y" } else { "N" })),
        (
            "currency_id",
            text(if rng.gen_ratio(1, 5) { "EUR" } else { "USD" }),
        ),
        (
            "opportunity",
            DbValue::Real(rng.gen_range(10_000..5_000_000) as f64 / 100.0),
        ),
        ("is_manual_opportunity", text("N")),
        ("opened", text("Y")),
        ("assigned_by_id", DbValue::Int(user)),
        ("created_by_id", DbValue::Int(user)),
        ("modify_by_id", DbValue::Int(user)),
        ("date_create", DbValue::Int(created)),
        ("date_modify", DbValue::Int(created)),
    ]
}

/// M deals, deal j sharing the trace of lead ⌊j·N/M⌋ and created up to two weeks after it.
async fn deals(
    store: &Store,
    portal_id: i64,
    leads: &[(i64, i64)],
    m: u64,
    chunk: u64,
    seed: u64,
) -> Result<(), BoxError> {
    let now = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let chunks = m.div_ceil(chunk.max(1));
    let n = leads.len() as u64;
    let mut stream = futures::stream::iter(0..chunks)
        .map(|c| {
            let store = store.clone();
            let from = c * chunk;
            let to = ((c + 1) * chunk).min(m);
            let rows: Vec<(Assignments, i64, i64)> = {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(9_000_011).wrapping_add(c));
                (from..to)
                    .map(|j| {
                        let (lead_created, trace) = leads[(j * n / m.max(1)) as usize];
                        let created = (lead_created + rng.gen_range(0..14 * 86_400)).min(now);
                        (deal(&mut rng, j + 1, created), trace, created)
                    })
                    .collect()
            };
            async move {
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            let mut bindings = Vec::new();
                            for (values, trace, created) in rows {
                                let id = tx
                                    .insert_entity(EntityKind::Deal, portal_id, values, None)
                                    .await?;
                                if trace != 0 {
                                    bindings.push((trace, id, created));
                                }
                            }
                            tx.bulk_bind_traces(portal_id, EntityKind::Deal, &bindings, &[])
                                .await?;
                            Ok(to - from)
                        })
                    })
                    .await
            }
        })
        .buffered(IN_FLIGHT);
    let mut done = 0;
    let mut last = Instant::now();
    while let Some(r) = stream.next().await {
        done += r.map_err(|e| format!("seeding deals failed: {e}"))?;
        if last.elapsed() >= Duration::from_secs(10) || done == m {
            last = Instant::now();
            eprintln!(
                "  seeded {done}/{m} deals in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

pub async fn seed(
    store: &Store,
    portal_id: i64,
    n: u64,
    m: u64,
    chunk: u64,
    seed: u64,
) -> Result<Seeded, BoxError> {
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.set_currency_rate(portal_id, "EUR", 1, 1.08, chrono::Utc::now().timestamp())
                    .await
            })
        })
        .await
        .map_err(|e| format!("cannot set the EUR rate: {e}"))?;
    let started = Instant::now();
    let (leads, traces) = leads(store, portal_id, n, chunk, seed).await?;
    let leads_elapsed = started.elapsed();
    let started = Instant::now();
    deals(store, portal_id, &leads, m, chunk, seed).await?;
    Ok(Seeded {
        leads: n,
        deals: m,
        traces,
        leads_elapsed,
        deals_elapsed: started.elapsed(),
        rollup_marks: 0,
        rollup_elapsed: Duration::ZERO,
    })
}

fn summary(v: &Value) -> String {
    let t = &v["result"]["total"];
    let rows = v["result"]["rows"].as_array().map_or(0, Vec::len);
    format!(
        "{rows} rows; total: {} visits, {} leads, {} deals, {} won, revenue {}",
        t["visits"], t["leads"], t["deals"], t["closed_deals"], t["revenue"]
    )
}

/// The report cases: 30 days and a year (ending today), several models and groupings.
pub async fn cases(b: &mut Bench) -> Result<(), BoxError> {
    let today = chrono::Utc::now().date_naive();
    let day = |back: u64| {
        today
            .checked_sub_days(chrono::Days::new(back))
            .unwrap_or(today)
            .format("%Y-%m-%d")
            .to_string()
    };
    let month = (day(29), day(0));
    let year = (day(364), day(0));
    for (label, (from, to)) in [("30 days", month.clone()), ("1 year", year.clone())] {
        for (model, group_by, split) in [
            ("bitrix", "source", "N"),
            ("bitrix", "channel", "N"),
            ("bitrix", "source", "Y"),
            ("linear", "source", "N"),
            ("time_decay", "channel", "N"),
        ] {
            let params = json!({"from": from, "to": to, "model": model, "groupBy": group_by,
                                "byResponsible": split});
            let name = format!(
                "report {label}, `{model}` by {group_by}{}",
                if split == "Y" { ", byResponsible" } else { "" }
            );
            let request = format!(
                "`from={from}`, `to={to}`, `model={model}`, `groupBy={group_by}`, `byResponsible={split}`"
            );
            b.case(
                &name,
                &request,
                move |_| ("leadtrace.tracking.report.get", params.clone()),
                summary,
            )
            .await?;
        }
    }
    Ok(())
}

/// The Markdown of a report run.
pub fn markdown(
    backend: &str,
    machine: &str,
    reps: usize,
    conditions: &str,
    s: &Seeded,
    rows: &[crate::Measured],
    (size, hwm): (Option<u64>, Option<u64>),
) -> String {
    let mut r = String::new();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(
        r,
        "### Report — {backend} — {} leads, {} deals, {} traces — {date}\n",
        s.leads, s.deals, s.traces
    );
    let _ = writeln!(
        r,
        "Machine: {machine}. leadtrace {} (release build: {}). Up to {reps} measured calls per case after 2 warm-up \
         calls; latencies are client-side over HTTP/1.1 on loopback.\n",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "no" } else { "yes" },
    );
    let _ = writeln!(r, "Planner statistics: {conditions}.\n");
    let _ = writeln!(
        r,
        "| Case | Request | Calls | p50 ms | p95 ms | max ms | Last answer |"
    );
    let _ = writeln!(r, "|---|---|--:|--:|--:|--:|---|");
    for m in rows {
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} | {} | {} |",
            m.name,
            m.request,
            m.stats.samples.len(),
            ms(m.stats.pct(0.5)),
            ms(m.stats.pct(0.95)),
            ms(m.stats.max()),
            m.result
        );
    }
    let _ = writeln!(r);
    let _ = writeln!(r, "| Seeding and memory | |");
    let _ = writeln!(r, "|---|---|");
    let _ = writeln!(
        r,
        "| {} leads (`insert_entity`) with {} traces (bulk path) | {:.1} s |",
        s.leads,
        s.traces,
        s.leads_elapsed.as_secs_f64()
    );
    let _ = writeln!(
        r,
        "| {} deals (`insert_entity`, bound in bulk) | {:.1} s |",
        s.deals,
        s.deals_elapsed.as_secs_f64()
    );
    let _ = writeln!(
        r,
        "| Daily roll-ups brought up to date after seeding (`Store::refresh_report_days`: {} days recomputed) | {:.1} s |",
        s.rollup_marks,
        s.rollup_elapsed.as_secs_f64()
    );
    let mib =
        |b: Option<u64>| b.map_or("n/a".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0));
    let _ = writeln!(r, "| Database size | {} |", mib(size));
    let _ = writeln!(r, "| Peak RSS of the process (VmHWM) | {} |", mib(hwm));
    let _ = writeln!(r);
    r
}
