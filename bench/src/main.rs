//! leadtrace-bench: starts the real server in-process on a fresh database, seeds N leads through
//! the storage code, then measures REST calls over HTTP as the SDKs make them and prints a
//! Markdown table (latency p50/p95/max per case, add throughput, seeding rate, peak memory).
//!
//! It measures and reports; it never judges a figure. See docs/performance.md.

mod client;
mod db;
mod report;
mod seed;

use clap::Parser;
use client::{ms, Client, Stats};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Benchmark of leadtrace on a large lead table.
#[derive(Parser, Debug)]
#[command(name = "leadtrace-bench", version)]
struct Args {
    /// `postgres://...` creates a fresh database `lt_bench_<random>` on that server; a SQLite
    /// path or `sqlite://PATH` must not exist yet. Default: a fresh SQLite file in target/bench/.
    #[arg(long)]
    database_url: Option<String>,
    /// Leads to seed.
    #[arg(long, default_value_t = 1_000_000)]
    leads: u64,
    /// Measured repetitions per case (after two warm-up calls).
    #[arg(long, default_value_t = 30)]
    reps: usize,
    /// Also write the report (Markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rows per seeding transaction.
    #[arg(long, default_value_t = 5_000)]
    chunk: u64,
    /// Seconds of the concurrent `crm.lead.add` run.
    #[arg(long, default_value_t = 5.0)]
    add_secs: f64,
    /// Concurrent clients of the `crm.lead.add` run.
    #[arg(long, default_value_t = 16)]
    add_clients: usize,
    /// A case stops repeating after this many seconds (having run at least 3 times).
    #[arg(long, default_value_t = 120.0)]
    case_budget: f64,
    /// Seed of the random data and of the random picks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the database afterwards (to EXPLAIN queries on it); by default it is removed.
    #[arg(long)]
    keep: bool,
    /// Skip `VACUUM ANALYZE` after seeding on PostgreSQL (measures a database whose planner has
    /// no statistics yet: right after a bulk load, or with autovacuum off).
    #[arg(long)]
    no_analyze: bool,
    /// What to measure: `leads` (lists, filters, adds on a large lead table) or `report` (the
    /// Sales Intelligence report on leads, deals and traces).
    #[arg(long, default_value = "leads", value_parser = ["leads", "report"])]
    suite: String,
    /// `--suite report`: deals to seed.
    #[arg(long, default_value_t = 300_000)]
    deals: u64,
}

/// One measured case, as a table row.
struct Measured {
    name: String,
    request: String,
    stats: Stats,
    result: String,
}

/// Summary of a list answer: rows on the page, and `total` when the answer counted.
fn list_summary(v: &Value) -> String {
    let rows = v["result"].as_array().map_or(0, |a| a.len());
    let mut s = format!("{rows} {}", if rows == 1 { "row" } else { "rows" });
    if let Some(total) = v.get("total").and_then(Value::as_i64) {
        if total > 0 || v.get("next").is_some() {
            let _ = write!(s, ", total {total}");
        }
    }
    s
}

fn batch_summary(v: &Value) -> String {
    let results = v["result"]["result"].as_object();
    let commands = results.map_or(0, |m| m.len());
    // Distinct ids show that the `$result[...]` references chained the pages.
    let ids: Vec<&str> = results
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|r| r["ID"].as_str())
        .collect();
    let distinct = ids.iter().collect::<std::collections::HashSet<_>>().len();
    let errors = match &v["result"]["result_error"] {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    format!(
        "{commands} commands, {} rows ({distinct} distinct), {errors} errors",
        ids.len()
    )
}

/// Peak and current resident set size of this process (server and client), from /proc.
fn memory() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The 1-minute load average (other work on the machine skews the figures).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| {
        format!("{:.0} MiB", b as f64 / (1024.0 * 1024.0))
    })
}

struct Bench {
    client: Client,
    rng: StdRng,
    reps: usize,
    budget: Duration,
    rows: Vec<Measured>,
}

impl Bench {
    /// Two warm-up calls, then up to `reps` measured calls of what `make` builds.
    async fn case(
        &mut self,
        name: &str,
        request: &str,
        mut make: impl FnMut(&mut StdRng) -> (&'static str, Value),
        summary: fn(&Value) -> String,
    ) -> Result<(), BoxError> {
        eprintln!("  {name}");
        for _ in 0..2 {
            let (method, params) = make(&mut self.rng);
            self.client
                .call(method, &params)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
        }
        let started = Instant::now();
        let mut samples = Vec::with_capacity(self.reps);
        let mut last = Value::Null;
        for i in 0..self.reps {
            if i >= 3 && started.elapsed() > self.budget {
                break;
            }
            let (method, params) = make(&mut self.rng);
            let (t, v) = self
                .client
                .call(method, &params)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            samples.push(t);
            last = v;
        }
        self.rows.push(Measured {
            name: name.into(),
            request: request.into(),
            stats: Stats::new(samples),
            result: summary(&last),
        });
        Ok(())
    }
}

fn date_text(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// The read cases of the table, in order.
async fn read_cases(b: &mut Bench, s: &seed::Seeded) -> Result<(), BoxError> {
    let (lo, hi) = (s.min_id, s.max_id);
    let n = s.leads;
    let page_lo = lo;
    let page_hi = (hi - 50).max(lo);

    b.case(
        "crm.lead.get",
        "`id` random",
        |r| ("crm.lead.get", json!({"id": r.gen_range(lo..=hi)})),
        |v| format!("ID {}", v["result"]["ID"].as_str().unwrap_or("?")),
    )
    .await?;
    b.case(
        "list `>ID` page (SDK paging)",
        "`filter {>ID: random}`, `order {ID: ASC}`, `select [ID, TITLE]`, `start=-1`",
        |r| {
            (
                "crm.lead.list",
                json!({
                    "filter": {">ID": r.gen_range(page_lo..=page_hi)},
                    "order": {"ID": "ASC"},
                    "select": ["ID", "TITLE"],
                    "start": -1
                }),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "list first page, no count",
        "no filter, default select, `start=-1`",
        |_| ("crm.lead.list", json!({"start": -1})),
        list_summary,
    )
    .await?;
    b.case(
        "list first page with `total`",
        "no filter, default select, `start=0` (COUNT(*) of the table)",
        |_| ("crm.lead.list", json!({"start": 0})),
        list_summary,
    )
    .await?;
    let deep = (500_000u64).min(n / 2) / 50 * 50;
    b.case(
        &format!("list deep page `start={deep}`"),
        &format!("no filter, `select [ID, TITLE]`, `start={deep}` (OFFSET + COUNT(*))"),
        move |_| {
            (
                "crm.lead.list",
                json!({"select": ["ID", "TITLE"], "start": deep}),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `STATUS_ID`",
        "`filter {STATUS_ID: JUNK}`, `start=-1`",
        |_| {
            (
                "crm.lead.list",
                json!({"filter": {"STATUS_ID": "JUNK"}, "select": ["ID", "TITLE", "STATUS_ID"], "start": -1}),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `ASSIGNED_BY_ID` with `total`",
        "`filter {ASSIGNED_BY_ID: 7}`, `start=0`",
        |_| {
            (
                "crm.lead.list",
                json!({"filter": {"ASSIGNED_BY_ID": 7}, "select": ["ID", "TITLE"], "start": 0}),
            )
        },
        list_summary,
    )
    .await?;
    let first = s.first_created;
    let span = seed::SPAN_DAYS * 86_400;
    b.case(
        "filter `DATE_CREATE` week with `total`",
        "`filter {>=DATE_CREATE: d, <DATE_CREATE: d+7 days}`, `start=0`",
        move |r| {
            let from = first + r.gen_range(0..span - 7 * 86_400);
            (
                "crm.lead.list",
                json!({
                    "filter": {">=DATE_CREATE": date_text(from), "<DATE_CREATE": date_text(from + 7 * 86_400)},
                    "select": ["ID", "TITLE", "DATE_CREATE"],
                    "start": 0
                }),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `UTM_SOURCE`",
        "`filter {UTM_SOURCE: google}`, `start=-1`",
        |_| {
            (
                "crm.lead.list",
                json!({"filter": {"UTM_SOURCE": "google"}, "select": ["ID", "TITLE", "UTM_SOURCE"], "start": -1}),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `PHONE`",
        "`filter {PHONE: <an existing number>}`, `select [ID, TITLE, PHONE]`",
        move |r| {
            let seq = r.gen_range(1..=(n / 10).max(1)) * 10;
            (
                "crm.lead.list",
                json!({
                    "filter": {"PHONE": seed::phone_of(seq).unwrap_or_default()},
                    "select": ["ID", "TITLE", "PHONE"]
                }),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "order `STATUS_ID`",
        "`order {STATUS_ID: ASC}`, `select [ID, TITLE, STATUS_ID]`, `start=-1`",
        |_| {
            (
                "crm.lead.list",
                json!({"order": {"STATUS_ID": "ASC"}, "select": ["ID", "TITLE", "STATUS_ID"], "start": -1}),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `%TITLE`, frequent word",
        "`filter {%TITLE: Audit}`, `start=-1` (stops after 50 matches)",
        |_| {
            (
                "crm.lead.list",
                json!({"filter": {"%TITLE": "Audit"}, "select": ["ID", "TITLE"], "start": -1}),
            )
        },
        list_summary,
    )
    .await?;
    b.case(
        "filter `%TITLE`, rare text",
        "`filter {%TITLE: #<random lead number>}`, `start=-1` (full scan)",
        move |r| {
            let seq = r.gen_range(n / 2..=n.max(1));
            (
                "crm.lead.list",
                json!({"filter": {"%TITLE": format!("#{seq}")}, "select": ["ID", "TITLE"], "start": -1}),
            )
        },
        list_summary,
    )
    .await?;
    let batch_hi = (hi - 50 * 50).max(lo);
    b.case(
        "batch of 50 chained `>ID` lists",
        "`batch`, `cmd[req_i]` = `crm.lead.list` with `filter[>ID]=$result[req_{i-1}][49][ID]`",
        move |r| {
            let mut cmd = Map::new();
            let start_id = r.gen_range(lo..=batch_hi);
            for i in 0..50 {
                let after = if i == 0 {
                    start_id.to_string()
                } else {
                    format!("$result[req_{}][49][ID]", i - 1)
                };
                cmd.insert(
                    format!("req_{i}"),
                    Value::String(format!(
                        "crm.lead.list?filter[>ID]={after}&order[ID]=ASC&select[]=ID&select[]=TITLE&start=-1"
                    )),
                );
            }
            ("batch", json!({"halt": 0, "cmd": cmd}))
        },
        batch_summary,
    )
    .await?;
    Ok(())
}

/// `crm.lead.add` from `clients` concurrent clients for `secs`: (calls, errors, elapsed, latencies).
async fn add_throughput(
    client: &Client,
    clients: usize,
    secs: f64,
) -> Result<(usize, usize, Duration, Stats), BoxError> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0usize;
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let params = json!({
                    "fields": {
                        "TITLE": format!("Bench add {c}-{i}"),
                        "NAME": "Bench",
                        "LAST_NAME": format!("Client {c}"),
                        "STATUS_ID": "NEW",
                        "SOURCE_ID": "WEB",
                        "ASSIGNED_BY_ID": (c % 20) + 1,
                        "OPPORTUNITY": 1250.5,
                        "CURRENCY_ID": "USD",
                        "UTM_SOURCE": "google",
                        "PHONE": [{"VALUE": format!("+1666{c:03}{i:06}"), "VALUE_TYPE": "WORK"}]
                    },
                    "params": {"REGISTER_SONET_EVENT": "N"}
                });
                match client.call("crm.lead.add", &params).await {
                    Ok((t, _)) => samples.push(t),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("  crm.lead.add failed: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (samples, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (s, e) = t.await?;
        all.extend(s);
        errors += e;
    }
    let elapsed = started.elapsed();
    Ok((all.len(), errors, elapsed, Stats::new(all)))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("?".into(), |kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0));
    format!("{cores} cores ({cpu}), {mem} RAM")
}

async fn run(args: Args) -> Result<(), BoxError> {
    let target = db::prepare(args.database_url.as_deref()).await?;
    let url = target.url();
    eprintln!("database: {url}");
    let result = bench(&args, &target, &url).await;
    if args.keep {
        eprintln!("database kept: {url}");
    } else {
        target.remove().await;
    }
    result
}

async fn bench(args: &Args, target: &db::Target, url: &str) -> Result<(), BoxError> {
    let running = leadtrace::bootstrap::start(leadtrace::ServeConfig {
        listen: "127.0.0.1:0".parse()?,
        database_url: url.to_string(),
        webhook_code: Some("bench".into()),
        ..Default::default()
    })
    .await?;
    eprintln!(
        "server: {} (webhook {})",
        running.base_url, running.webhook_url
    );
    let store = running.state.store().clone();
    let portal_id = store
        .read(|tx| Box::pin(async move { tx.default_portal().await }))
        .await
        .map_err(|e| format!("cannot read the portal: {e}"))?
        .ok_or("no default portal")?
        .id;
    seed::users(&store, portal_id).await?;
    if args.suite == "report" {
        return bench_report(args, target, running, portal_id).await;
    }

    eprintln!(
        "seeding {} leads ({} per transaction)",
        args.leads, args.chunk
    );
    let seeded = seed::leads(&store, portal_id, args.leads, args.chunk, args.seed).await?;
    let (hwm_seeded, _) = memory();
    let size_seeded = target.size_bytes().await;
    eprintln!(
        "seeded in {:.1} s ({:.0} rows/s); peak RSS {}",
        seeded.elapsed.as_secs_f64(),
        seeded.rate(),
        mib(hwm_seeded)
    );

    let stats_note = if args.no_analyze {
        "none (`--no-analyze`: the planner has no statistics)".to_string()
    } else {
        let started = Instant::now();
        if target.refresh_statistics().await? {
            format!(
                "`VACUUM ANALYZE` after seeding ({:.1} s), as autovacuum would do",
                started.elapsed().as_secs_f64()
            )
        } else {
            "none (SQLite: the server does not run ANALYZE)".to_string()
        }
    };
    eprintln!("planner statistics: {stats_note}");

    let client = Client::new(&running.webhook_url)?;
    let load_start = load_average();
    let mut b = Bench {
        client: client.clone(),
        rng: StdRng::seed_from_u64(args.seed),
        reps: args.reps.max(1),
        budget: Duration::from_secs_f64(args.case_budget),
        rows: Vec::new(),
    };
    eprintln!("measuring ({} repetitions per case)", b.reps);
    read_cases(&mut b, &seeded).await?;

    eprintln!(
        "  crm.lead.add, {} clients for {} s",
        args.add_clients, args.add_secs
    );
    let (calls, errors, elapsed, add_stats) =
        add_throughput(&client, args.add_clients.max(1), args.add_secs).await?;
    let (hwm_end, rss_end) = memory();
    let load_end = load_average();
    let size_end = target.size_bytes().await;
    running.shutdown().await;

    let report = report(
        args,
        target,
        &seeded,
        &format!("{stats_note}. Load average (1 min) when measuring started / ended: {load_start} / {load_end}"),
        &b.rows,
        (calls, errors, elapsed, &add_stats),
        (hwm_seeded, hwm_end, rss_end),
        (size_seeded, size_end),
    );
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }
    Ok(())
}

/// `--suite report` (see report.rs).
async fn bench_report(
    args: &Args,
    target: &db::Target,
    running: leadtrace::bootstrap::Running,
    portal_id: i64,
) -> Result<(), BoxError> {
    let store = running.state.store().clone();
    eprintln!(
        "seeding {} leads with traces and {} deals ({} per transaction)",
        args.leads, args.deals, args.chunk
    );
    let mut seeded = report::seed(
        &store, portal_id, args.leads, args.deals, args.chunk, args.seed,
    )
    .await?;
    let started = Instant::now();
    seeded.rollup_marks = store.refresh_report_days().await?;
    seeded.rollup_elapsed = started.elapsed();
    eprintln!(
        "daily roll-ups up to date: {} days recomputed in {:.1} s",
        seeded.rollup_marks,
        seeded.rollup_elapsed.as_secs_f64()
    );
    let stats_note = if args.no_analyze {
        "none (`--no-analyze`)".to_string()
    } else {
        let started = Instant::now();
        if target.refresh_statistics().await? {
            format!(
                "`VACUUM ANALYZE` after seeding ({:.1} s)",
                started.elapsed().as_secs_f64()
            )
        } else {
            "none (SQLite: the server does not run ANALYZE)".to_string()
        }
    };
    let load_start = load_average();
    let mut b = Bench {
        client: Client::new(&running.webhook_url)?,
        rng: StdRng::seed_from_u64(args.seed),
        reps: args.reps.max(1),
        budget: Duration::from_secs_f64(args.case_budget),
        rows: Vec::new(),
    };
    eprintln!("measuring ({} repetitions per case)", b.reps);
    report::cases(&mut b).await?;
    let (hwm, _) = memory();
    let size = target.size_bytes().await;
    let load_end = load_average();
    running.shutdown().await;
    let out = report::markdown(
        target.backend_name(),
        &machine(),
        b.reps,
        &format!("{stats_note}. Load average (1 min) when measuring started / ended: {load_start} / {load_end}"),
        &seeded,
        &b.rows,
        (size, hwm),
    );
    print!("{out}");
    if let Some(path) = &args.out {
        std::fs::write(path, &out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    target: &db::Target,
    seeded: &seed::Seeded,
    conditions: &str,
    rows: &[Measured],
    (calls, errors, elapsed, add): (usize, usize, Duration, &Stats),
    (hwm_seeded, hwm_end, rss_end): (Option<u64>, Option<u64>, Option<u64>),
    (size_seeded, size_end): (Option<u64>, Option<u64>),
) -> String {
    let mut r = String::new();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(
        r,
        "### {} — {} leads — {date}\n",
        target.backend_name(),
        seeded.leads
    );
    let _ = writeln!(
        r,
        "Machine: {}. leadtrace {} (release build: {}). {} measured calls per case after 2 warm-up calls; \
         latencies are client-side (request sent → whole answer received) over HTTP/1.1 on loopback.\n",
        machine(),
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "no" } else { "yes" },
        args.reps
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
    let _ = writeln!(
        r,
        "| `crm.lead.add` throughput | {} concurrent clients for {:.0} s, one PHONE each | {calls} | {} | {} | {} | **{:.0} requests/s**, {errors} errors |",
        args.add_clients,
        elapsed.as_secs_f64(),
        ms(add.pct(0.5)),
        ms(add.pct(0.95)),
        ms(add.max()),
        calls as f64 / elapsed.as_secs_f64().max(1e-9),
    );
    let _ = writeln!(r);
    let _ = writeln!(r, "| Seeding and memory | |");
    let _ = writeln!(r, "|---|---|");
    let _ = writeln!(
        r,
        "| Seeding ({} leads, {} per transaction, PHONE on every 10th) | {:.1} s, **{:.0} rows/s** |",
        seeded.leads,
        args.chunk,
        seeded.elapsed.as_secs_f64(),
        seeded.rate()
    );
    let _ = writeln!(
        r,
        "| Database size after seeding / at the end | {} / {} |",
        mib(size_seeded),
        mib(size_end)
    );
    let _ = writeln!(
        r,
        "| Peak RSS of the process (VmHWM) after seeding / at the end | {} / {} |",
        mib(hwm_seeded),
        mib(hwm_end)
    );
    let _ = writeln!(r, "| RSS at the end (VmRSS) | {} |", mib(rss_end));
    let _ = writeln!(r);
    r
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADTRACE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("leadtrace-bench: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leadtrace-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
