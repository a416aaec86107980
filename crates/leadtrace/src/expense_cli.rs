//! `leadtrace expenses import/list/delete`: expense packs from a CSV file and on the command line.
//! The CSV is read here; every row then goes through `crm::tracking::expenses` like the methods.
//!
//! CSV format: UTF-8 (a BOM is ignored), comma-separated, RFC 4180 quoting, a header row naming the
//! columns in any order (case-insensitive): `source` (a source id or code), `date_from`, `date_to`,
//! `amount`, `currency`, `impressions`, `clicks` (or `actions`), `comment`. `source`, `date_from`
//! and `amount` are required columns; an empty `date_to` is `date_from`, an empty `currency` the
//! base currency, empty counts 0. Blank lines are skipped. The whole file is one transaction: one
//! bad line and nothing is written.

use crm::tracking::expenses::{self, ImportSummary};
use crm::Rights;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use std::path::Path;
use store::Store;

/// CSV column → the `fields` key of `leadtrace.tracking.expense.add`.
const COLUMNS: [(&str, &str); 9] = [
    ("source", "SOURCE_ID"),
    ("date_from", "DATE_FROM"),
    ("date_to", "DATE_TO"),
    ("amount", "AMOUNT"),
    ("currency", "CURRENCY_ID"),
    ("impressions", "IMPRESSIONS"),
    ("clicks", "ACTIONS"),
    ("actions", "ACTIONS"),
    ("comment", "COMMENT"),
];
const REQUIRED: [&str; 3] = ["source", "date_from", "amount"];
/// Structural errors spelled out before giving up.
const MAX_ERRORS: usize = 50;

/// The rows of a CSV file as `(line number, fields)`, or every structural problem by line.
pub fn read_csv(data: &[u8]) -> Result<Vec<(u64, Value)>, String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    // The reader's own line count skips blank lines; count them from the byte offset instead.
    let newlines: Vec<u64> = data
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i as u64)
        .collect();
    // A record's position is where the reader started on it, before the blank lines it skipped.
    let line_of = |byte: u64| {
        let skipped = data.get(byte as usize..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count()
        });
        newlines.partition_point(|n| *n < byte + skipped as u64) as u64 + 1
    };
    let mut records = reader.records();
    let header = match records.next() {
        None => return Err("the file is empty: expected a header row".into()),
        Some(Err(e)) => return Err(csv_error(&e)),
        Some(Ok(h)) => h,
    };
    let head = header.position().map_or(1, |p| line_of(p.byte()));
    let mut keys: Vec<&'static str> = Vec::new();
    for name in header.iter() {
        let name = name.trim().to_ascii_lowercase();
        let Some((_, key)) = COLUMNS.iter().find(|(c, _)| *c == name) else {
            return Err(format!(
                "line {head}: unknown column `{name}` (columns: source, date_from, date_to, amount, \
                 currency, impressions, clicks, comment)"
            ));
        };
        if keys.contains(key) {
            return Err(format!("line {head}: column `{name}` appears twice"));
        }
        keys.push(key);
    }
    for required in REQUIRED {
        let key = COLUMNS
            .iter()
            .find(|(c, _)| *c == required)
            .map(|(_, k)| *k);
        if !keys.iter().any(|k| Some(*k) == key) {
            return Err(format!("line {head}: the column `{required}` is missing"));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(match e.position() {
                    Some(p) => format!("line {}: {e}", line_of(p.byte())),
                    None => e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        if record.len() != keys.len() {
            errors.push(format!(
                "line {line}: {} values where the header has {} columns",
                record.len(),
                keys.len()
            ));
            continue;
        }
        let mut fields = Map::new();
        for (key, value) in keys.iter().zip(record.iter()) {
            fields.insert((*key).to_string(), json!(value));
        }
        rows.push((line, Value::Object(fields)));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        let n = errors.len();
        let mut text = errors
            .into_iter()
            .take(MAX_ERRORS)
            .collect::<Vec<_>>()
            .join("\n");
        if n > MAX_ERRORS {
            text.push_str(&format!("\n… and {} more bad lines", n - MAX_ERRORS));
        }
        Err(format!("{n} bad line(s), nothing imported:\n{text}"))
    }
}

fn csv_error(e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("line {}: {e}", p.line()),
        None => e.to_string(),
    }
}

/// The administrator's context the commands run with.
fn admin(portal: &store::Portal) -> (crm::Actor, crm::PortalSettings) {
    (
        crm::Actor {
            portal_id: portal.id,
            user_id: 0,
            rights: Rights::admin(),
        },
        crm::PortalSettings {
            time_zone: portal.time_zone.parse().unwrap_or(chrono_tz::UTC),
            currency: portal.currency.clone(),
        },
    )
}

/// `leadtrace expenses import FILE`: all rows or none, with a progress bar on a terminal.
pub async fn import(
    store: &Store,
    portal: store::Portal,
    file: &Path,
    dry_run: bool,
) -> Result<String, String> {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = read_csv(&data)?;
    let steps = rows.len() as u64 * if dry_run { 1 } else { 2 };
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    bar.set_message("checking");
    let tick = bar.clone();
    let result = crate::methods::in_tx(store, !dry_run, move |tx| {
        Box::pin(async move {
            let (actor, settings) = admin(&portal);
            let ctx = crm::Ctx {
                actor: &actor,
                settings: &settings,
                now: chrono::Utc::now().timestamp(),
            };
            let checked = rows.len() as u64;
            let step = move || {
                tick.inc(1);
                if tick.position() == checked && !dry_run {
                    tick.set_message("writing");
                }
            };
            expenses::import(tx, &ctx, &rows, !dry_run, &step).await
        })
    })
    .await;
    bar.finish_and_clear();
    let summary = result.map_err(|e| e.description().to_string())?;
    Ok(summary_text(&summary, dry_run))
}

fn summary_text(s: &ImportSummary, dry_run: bool) -> String {
    let amounts = if s.amounts.is_empty() {
        "no amounts".to_string()
    } else {
        s.amounts
            .iter()
            .map(|(c, cents)| format!("{c} {}", crm::tracking::expense::cents_text(*cents)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{} {} expense pack(s) ({} days): {amounts}; {} impressions, {} clicks",
        if dry_run { "Checked" } else { "Imported" },
        s.packs,
        s.days,
        s.impressions,
        s.actions
    )
}

/// Runs a read or change of `crm::tracking::expenses` as the portal's administrator.
pub async fn call(
    store: &Store,
    portal: store::Portal,
    op: &'static str,
    params: Value,
) -> Result<(Value, Option<i64>), String> {
    let params = params.as_object().cloned().unwrap_or_default();
    let result = crate::methods::in_tx(store, op != "list", move |tx| {
        Box::pin(async move {
            let (actor, settings) = admin(&portal);
            let ctx = crm::Ctx {
                actor: &actor,
                settings: &settings,
                now: chrono::Utc::now().timestamp(),
            };
            let out = match op {
                "list" => expenses::list(tx, &ctx, &params).await,
                _ => expenses::delete(tx, &ctx, &params).await,
            }?;
            Ok((out.result, out.next))
        })
    })
    .await;
    result.map_err(|e| e.description().to_string())
}

/// `leadtrace expenses list`: every matching pack, one tab-separated line each.
pub async fn list(
    store: &Store,
    portal: store::Portal,
    filter: Value,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    let mut start = 0;
    loop {
        let (page, next) = call(
            store,
            portal.clone(),
            "list",
            json!({"filter": filter, "start": start}),
        )
        .await?;
        for p in page.as_array().into_iter().flatten() {
            lines.push(pack_line(p));
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    Ok(lines)
}

/// `ID SOURCE_ID DATE_FROM DATE_TO AMOUNT CURRENCY IMPRESSIONS CLICKS COMMENT`.
fn pack_line(p: &Value) -> String {
    let amount = p["AMOUNT"].as_f64().unwrap_or_default();
    format!(
        "{}\t{}\t{}\t{}\t{amount:.2}\t{}\t{}\t{}\t{}",
        p["ID"],
        p["SOURCE_ID"],
        p["DATE_FROM"].as_str().unwrap_or_default(),
        p["DATE_TO"].as_str().unwrap_or_default(),
        p["CURRENCY_ID"].as_str().unwrap_or_default(),
        p["IMPRESSIONS"],
        p["ACTIONS"],
        p["COMMENT"].as_str().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_by_header() {
        let csv = "\u{feff}Source,date_from,amount,Clicks,comment\n\
                   google,2026-01-01,100.00,5,\"spring, \"\"A\"\"\"\n\
                   \n\
                   2,2026-02-01,1,,\n\
                   fb,2026-02-01,1,,\"two\n\
                   lines\"\n\
                   \n\
                   \n\
                   3,2026-02-01,1,,\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            [2, 4, 5, 9],
            "line numbers count blank lines and lines inside quotes"
        );
        assert_eq!(rows[2].1["COMMENT"], json!("two\nlines"));
        assert_eq!(
            rows[0].1,
            json!({"SOURCE_ID": "google", "DATE_FROM": "2026-01-01", "AMOUNT": "100.00",
                   "ACTIONS": "5", "COMMENT": "spring, \"A\""})
        );
        assert_eq!(rows[1].0, 4);
        assert_eq!(rows[1].1["ACTIONS"], json!(""));
    }

    #[test]
    fn structural_errors() {
        assert_eq!(
            read_csv(b"").unwrap_err(),
            "the file is empty: expected a header row"
        );
        assert!(read_csv(b"source,date_from,amount,cost\n")
            .unwrap_err()
            .starts_with("line 1: unknown column `cost`"));
        assert_eq!(
            read_csv(b"source,date_from,clicks,actions,amount\n").unwrap_err(),
            "line 1: column `actions` appears twice"
        );
        assert_eq!(
            read_csv(b"source,amount\n").unwrap_err(),
            "line 1: the column `date_from` is missing"
        );
        let e = read_csv(b"source,date_from,amount\n1,2026-01-01,1\n1,2026-01-02\n1,2,3,4\n")
            .unwrap_err();
        assert_eq!(
            e,
            "2 bad line(s), nothing imported:\n\
             line 3: 2 values where the header has 3 columns\n\
             line 4: 4 values where the header has 3 columns"
        );
        assert!(read_csv(b"source,date_from,amount\n").unwrap().is_empty());
    }
}
