//! `leadtrace.tracking.report.get` over HTTP on SQLite and PostgreSQL: a small hand-computed data
//! set (leads and deals with traces under several sources, previous visits, won deals, two
//! currencies, records outside the range) under every attribution model, grouped by source and by
//! channel, split per responsible; the portal time zone; the report following binding, trace and
//! source changes made through the API; permissions and every parameter error.

mod common;
use common::*;
use crm::tracking::TraceData;
use crm::{DbValue, EntityKind, Storage};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use store::Backend;

backend_tests!(
    bitrix_by_source,
    bitrix_by_channel_and_responsible,
    touch_models,
    window_change,
    expenses,
    range_and_time_zone,
    follows_api_changes,
    permissions,
    parameter_errors,
);

const DAY: i64 = 86_400;
/// 2026-01-10 12:00 UTC.
const T0: i64 = 1_768_046_400;
const RANGE: (&str, &str) = ("2026-01-01", "2026-01-31");

fn trace(at: i64, source_id: i64, channel: &str) -> TraceData {
    TraceData {
        created_at: at,
        source_id,
        channel_group: channel.into(),
        ..TraceData::default()
    }
}

fn text(s: &str) -> DbValue {
    DbValue::Text(s.into())
}

struct Rec {
    kind: EntityKind,
    created: i64,
    currency: &'static str,
    amount: f64,
    won: bool,
    assigned: i64,
}

/// Inserts a lead or deal as the store keeps it (columns the report reads).
async fn insert(tx: &mut store::Tx, r: &Rec) -> Result<i64, bx_wire::ApiError> {
    let semantic = if r.won { "S" } else { "P" };
    let mut v: crm::Assignments = vec![
        ("title", text("report test")),
        ("date_create", DbValue::Int(r.created)),
        ("date_modify", DbValue::Int(r.created)),
        ("currency_id", text(r.currency)),
        ("opportunity", DbValue::Real(r.amount)),
        ("assigned_by_id", DbValue::Int(r.assigned)),
        ("created_by_id", DbValue::Int(1)),
    ];
    if r.kind == EntityKind::Lead {
        v.push(("status_id", text(if r.won { "CONVERTED" } else { "NEW" })));
        v.push(("status_semantic_id", text(semantic)));
    } else {
        v.push(("stage_id", text(if r.won { "WON" } else { "NEW" })));
        v.push(("stage_semantic_id", text(semantic)));
        v.push(("category_id", DbValue::Int(0)));
    }
    tx.insert_entity(r.kind, 1, v, None).await
}

/// The data set (sources: 1 google, 2 fb, 3 instagram, 4 vk; EUR = 1.1 USD; user 2 exists):
///
/// | record | created | amount | won | user | traces (bound in this order; `>` = previous visit) |
/// |---|---|---|---|---|---|
/// | L1 | T0 | 100 USD | yes | 1 | X1 vk/organic_social T0−10d; X2 google/paid_search T0−1d > X2c fb/organic_social T0−3d |
/// | L2 | T0+1d | 200 EUR | no | 2 | Y0 instagram T0−40d (outside the 28-day window); Y1 google/paid_search T0−2d; Y 0/direct T0+1d |
/// | L3 | T0+2d | 50 USD | yes | 1 | none |
/// | L4 | 2026-02-05 | 999 USD | yes | 1 | W google (outside the range) |
/// | D1 | T0+3d | 1000 USD | yes | 1 | X2 (shared with L1, with X2c) |
/// | D2 | T0+4d | 500 EUR | no | 2 | Z instagram/organic_social T0+4d |
/// | D3 | T0+5d | 300 USD | yes | 2 | none |
async fn seed(app: &TestApp) {
    let (_, _) = app.user_with_rights("second", None, &["crm"]).await;
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                tx.set_currency_rate(1, "EUR", 1, 1.1, T0).await?;
                let lead = |created, currency, amount, won, assigned| Rec {
                    kind: EntityKind::Lead,
                    created,
                    currency,
                    amount,
                    won,
                    assigned,
                };
                let deal = |created, currency, amount, won, assigned| Rec {
                    kind: EntityKind::Deal,
                    created,
                    currency,
                    amount,
                    won,
                    assigned,
                };
                let x1 = tx
                    .insert_trace(1, &trace(T0 - 10 * DAY, 4, "organic_social"))
                    .await?;
                let x2c = tx
                    .insert_trace(1, &trace(T0 - 3 * DAY, 2, "organic_social"))
                    .await?;
                let x2 = tx
                    .insert_trace(1, &trace(T0 - DAY, 1, "paid_search"))
                    .await?;
                tx.link_trace_child(1, x2, x2c).await?;
                let y0 = tx
                    .insert_trace(1, &trace(T0 - 40 * DAY, 3, "organic_social"))
                    .await?;
                let y1 = tx
                    .insert_trace(1, &trace(T0 - 2 * DAY, 1, "paid_search"))
                    .await?;
                let y = tx.insert_trace(1, &trace(T0 + DAY, 0, "direct")).await?;
                let w = tx
                    .insert_trace(1, &trace(1_770_249_600, 1, "paid_search"))
                    .await?;
                let z = tx
                    .insert_trace(1, &trace(T0 + 4 * DAY, 3, "organic_social"))
                    .await?;

                let l1 = insert(tx, &lead(T0, "USD", 100.0, true, 1)).await?;
                let l2 = insert(tx, &lead(T0 + DAY, "EUR", 200.0, false, 2)).await?;
                insert(tx, &lead(T0 + 2 * DAY, "USD", 50.0, true, 1)).await?;
                let l4 = insert(tx, &lead(1_770_249_600, "USD", 999.0, true, 1)).await?;
                let d1 = insert(tx, &deal(T0 + 3 * DAY, "USD", 1000.0, true, 1)).await?;
                let d2 = insert(tx, &deal(T0 + 4 * DAY, "EUR", 500.0, false, 2)).await?;
                insert(tx, &deal(T0 + 5 * DAY, "USD", 300.0, true, 2)).await?;
                for (t, kind, id) in [
                    (x1, EntityKind::Lead, l1),
                    (x2, EntityKind::Lead, l1),
                    (y0, EntityKind::Lead, l2),
                    (y1, EntityKind::Lead, l2),
                    (y, EntityKind::Lead, l2),
                    (w, EntityKind::Lead, l4),
                    (x2, EntityKind::Deal, d1),
                    (z, EntityKind::Deal, d2),
                ] {
                    tx.bind_trace(1, t, kind, id, T0).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap()
}

/// The report, checked to be the same whether its days are read from the records (days written
/// since the last refresh of the daily roll-ups) or from the roll-ups (after a refresh).
async fn report(app: &TestApp, params: Value) -> Value {
    let before = app
        .call("leadtrace.tracking.report.get", params.clone())
        .await
        .result()
        .clone();
    app.running
        .state
        .store()
        .refresh_report_days()
        .await
        .unwrap();
    let after = app
        .call("leadtrace.tracking.report.get", params)
        .await
        .result()
        .clone();
    assert_eq!(before, after, "records and daily roll-ups disagree");
    after
}

fn ranged(extra: Value) -> Value {
    let mut p = json!({"from": RANGE.0, "to": RANGE.1});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn row<'a>(out: &'a Value, key: &str, value: Value) -> &'a Value {
    out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row {key}={value} in {out}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

async fn bitrix_by_source(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    let out = report(&app, ranged(json!({}))).await;
    assert_eq!(out["from"], RANGE.0);
    assert_eq!(out["to"], RANGE.1);
    assert_eq!(out["model"], "bitrix");
    assert_eq!(out["groupBy"], "source");
    assert_eq!(out["currency"], "USD");
    let ids: Vec<i64> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![0, 1, 2, 3, 4, 5, 6, 7],
        "source 0 and every seeded source"
    );
    // No expenses: cost per lead / per closed deal 0 where there are leads / closed deals, roi
    // null (a zero denominator).
    let no_expense = json!({"expenses": 0.0, "impressions": 0, "actions": 0, "roi": null});
    let with = |v: Value| {
        let mut v = v;
        for (k, x) in no_expense.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    assert_eq!(
        *row(&out, "source_id", json!(0)),
        with(
            json!({"source_id": 0, "source_code": "organic", "source_name": "Organic / other traffic",
            "visits": 1, "leads": 2, "leads_sum": 270.0, "converted_leads": 1,
            "deals": 1, "deals_sum": 300.0, "closed_deals": 1, "revenue": 300.0,
            "lead_to_deal": 0.5, "deal_to_won": 1.0, "cpl": 0.0, "cpa": 0.0})
        )
    );
    assert_eq!(
        *row(&out, "source_id", json!(1)),
        with(
            json!({"source_id": 1, "source_code": "google", "source_name": "Google Ads",
            "visits": 2, "leads": 1, "leads_sum": 100.0, "converted_leads": 1,
            "deals": 1, "deals_sum": 1000.0, "closed_deals": 1, "revenue": 1000.0,
            "lead_to_deal": 1.0, "deal_to_won": 1.0, "cpl": 0.0, "cpa": 0.0})
        )
    );
    let fb = row(&out, "source_id", json!(2));
    assert_eq!(
        (
            fb["visits"].clone(),
            fb["leads"].clone(),
            fb["lead_to_deal"].clone()
        ),
        (json!(1), json!(0), Value::Null)
    );
    let ig = row(&out, "source_id", json!(3));
    assert_eq!(ig["visits"], 1);
    assert_eq!(ig["deals"], 1);
    assert_eq!(ig["deals_sum"], json!(550.0));
    assert_eq!(ig["closed_deals"], 0);
    assert_eq!(ig["deal_to_won"], json!(0.0));
    let vk = row(&out, "source_id", json!(4));
    assert_eq!(vk["visits"], 0, "its only trace is older than the range");
    assert_eq!(
        out["total"],
        with(
            json!({"visits": 5, "leads": 3, "leads_sum": 370.0, "converted_leads": 2,
            "deals": 3, "deals_sum": 1850.0, "closed_deals": 2, "revenue": 1300.0,
            "lead_to_deal": 1.0, "deal_to_won": 0.6667, "cpl": 0.0, "cpa": 0.0})
        )
    );
    assert!(out["rows"][0].get("by_responsible").is_none());
}

async fn bitrix_by_channel_and_responsible(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    let out = report(
        &app,
        ranged(json!({"groupBy": "channel", "byResponsible": "Y"})),
    )
    .await;
    let codes: Vec<&str> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["direct", "paid_search", "organic_social", "unassigned"]
    );
    let paid = row(&out, "channel", json!("paid_search"));
    assert_eq!(paid["channel_name"], "Paid Search");
    assert_eq!(paid["visits"], 2);
    assert_eq!(
        (
            paid["leads"].clone(),
            paid["deals"].clone(),
            paid["revenue"].clone()
        ),
        (json!(1), json!(1), json!(1000.0))
    );
    for k in ["expenses", "impressions", "actions", "cpl", "cpa", "roi"] {
        assert_eq!(paid[k], Value::Null, "{k} is per source only");
    }
    assert_eq!(
        paid["by_responsible"],
        json!([{"assigned_by_id": 1, "leads": 1, "leads_sum": 100.0, "converted_leads": 1, "deals": 1,
                "deals_sum": 1000.0, "closed_deals": 1, "revenue": 1000.0, "lead_to_deal": 1.0, "deal_to_won": 1.0}])
    );
    let direct = row(&out, "channel", json!("direct"));
    assert_eq!(
        (
            direct["visits"].clone(),
            direct["leads"].clone(),
            direct["leads_sum"].clone()
        ),
        (json!(1), json!(1), json!(220.0))
    );
    let social = row(&out, "channel", json!("organic_social"));
    assert_eq!(
        (social["visits"].clone(), social["deals"].clone()),
        (json!(2), json!(1))
    );
    let none = row(&out, "channel", json!("unassigned"));
    assert_eq!(
        (
            none["visits"].clone(),
            none["leads"].clone(),
            none["deals"].clone(),
            none["revenue"].clone()
        ),
        (json!(0), json!(1), json!(1), json!(300.0))
    );
    let users: Vec<i64> = none["by_responsible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["assigned_by_id"].as_i64().unwrap())
        .collect();
    assert_eq!(users, vec![1, 2], "L3 is user 1's, D3 user 2's");
    // Per source with the split: source 0 has L2 and D3 (user 2) and L3 (user 1).
    let out = report(&app, ranged(json!({"byResponsible": "Y"}))).await;
    let zero = row(&out, "source_id", json!(0));
    assert_eq!(
        zero["by_responsible"],
        json!([
            {"assigned_by_id": 1, "leads": 1, "leads_sum": 50.0, "converted_leads": 1, "deals": 0,
             "deals_sum": 0.0, "closed_deals": 0, "revenue": 0.0, "lead_to_deal": 0.0, "deal_to_won": null},
            {"assigned_by_id": 2, "leads": 1, "leads_sum": 220.0, "converted_leads": 0, "deals": 1,
             "deals_sum": 300.0, "closed_deals": 1, "revenue": 300.0, "lead_to_deal": 1.0, "deal_to_won": 1.0}
        ])
    );
    assert_eq!(
        row(&out, "source_id", json!(5))["by_responsible"],
        json!([])
    );
    assert_eq!(out["total"]["by_responsible"][1]["deals"], 2);
}

/// `(source, weight)` of one record's credit.
type Split = Vec<(i64, f64)>;

/// Hand-computed credits: per model, per record, `(source, weight)` (the touches of each record
/// are in the table of `seed`; L3 and D3 have none and go to source 0 whatever the model).
fn credits(model: &str) -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let h = 7.0;
    let decay = |ages: &[f64]| -> Vec<f64> {
        let w: Vec<f64> = ages.iter().map(|a| 2f64.powf(-a / h)).collect();
        let s: f64 = w.iter().sum();
        w.iter().map(|x| x / s).collect()
    };
    let third = 1.0 / 3.0;
    let (l1, l2, d1): (Split, Split, Split) = match model {
        "first_touch" => (vec![(4, 1.0)], vec![(1, 1.0)], vec![(2, 1.0)]),
        "last_touch" => (vec![(1, 1.0)], vec![(0, 1.0)], vec![(1, 1.0)]),
        // L2's last touch is direct: the one before it wins.
        "last_non_direct" => (vec![(1, 1.0)], vec![(1, 1.0)], vec![(1, 1.0)]),
        "linear" => (
            vec![(4, third), (2, third), (1, third)],
            vec![(1, 0.5), (0, 0.5)],
            vec![(2, 0.5), (1, 0.5)],
        ),
        "position_based" => (
            vec![(4, 0.4), (2, 0.2), (1, 0.4)],
            vec![(1, 0.5), (0, 0.5)],
            vec![(2, 0.5), (1, 0.5)],
        ),
        "time_decay" => {
            let a = decay(&[10.0, 3.0, 1.0]);
            let b = decay(&[3.0, 0.0]);
            let c = decay(&[6.0, 4.0]);
            (
                vec![(4, a[0]), (2, a[1]), (1, a[2])],
                vec![(1, b[0]), (0, b[1])],
                vec![(2, c[0]), (1, c[1])],
            )
        }
        other => panic!("{other}"),
    };
    vec![
        ("l1", l1),
        ("l2", l2),
        ("l3", vec![(0, 1.0)]),
        ("d1", d1),
        ("d2", vec![(3, 1.0)]),
        ("d3", vec![(0, 1.0)]),
    ]
}

/// A new attribution window re-credits every record under the touch models, whether its day is
/// read from the records or from the daily roll-ups (which the change marks dirty).
async fn window_change(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    let params = ranged(json!({"model": "linear", "groupBy": "source"}));
    let before = report(&app, params.clone()).await;
    // Y0 (instagram, T0 − 40 days) enters the window of L2 (created T0 + 1 day).
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                let settings = crm::tracking::TrackingSettings {
                    attribution_window_days: 60,
                    ..crm::tracking::TrackingSettings::default()
                };
                tx.set_tracking_settings(1, &settings).await
            })
        })
        .await
        .unwrap();
    let after = report(&app, params).await;
    let instagram = |out: &Value| num(&row(out, "source_id", json!(3))["leads"]);
    assert_eq!(instagram(&before), 0.0);
    assert!((instagram(&after) - 1.0 / 3.0).abs() < 1e-3, "{after}");
}

async fn touch_models(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    // (is lead, amount in USD, won) of each record.
    let facts: BTreeMap<&str, (bool, f64, bool)> = [
        ("l1", (true, 100.0, true)),
        ("l2", (true, 220.0, false)),
        ("l3", (true, 50.0, true)),
        ("d1", (false, 1000.0, true)),
        ("d2", (false, 550.0, false)),
        ("d3", (false, 300.0, true)),
    ]
    .into_iter()
    .collect();
    for model in [
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "position_based",
        "time_decay",
    ] {
        // source → [leads, leads_sum, converted, deals, deals_sum, closed, revenue]
        let mut want: BTreeMap<i64, [f64; 7]> = (0..=7).map(|s| (s, [0.0; 7])).collect();
        for (rec, split) in credits(model) {
            let (is_lead, amount, won) = facts[rec];
            for (source, w) in split {
                let m = want.get_mut(&source).unwrap();
                let won_w = if won { w } else { 0.0 };
                if is_lead {
                    m[0] += w;
                    m[1] += w * amount;
                    m[2] += won_w;
                } else {
                    m[3] += w;
                    m[4] += w * amount;
                    m[5] += won_w;
                    m[6] += won_w * amount;
                }
            }
        }
        let out = report(&app, ranged(json!({"model": model}))).await;
        assert_eq!(out["model"], model);
        let keys = [
            "leads",
            "leads_sum",
            "converted_leads",
            "deals",
            "deals_sum",
            "closed_deals",
            "revenue",
        ];
        for (source, m) in &want {
            let r = row(&out, "source_id", json!(source));
            for (i, k) in keys.iter().enumerate() {
                let places = if k.ends_with("sum") || *k == "revenue" {
                    2
                } else {
                    4
                };
                let f = 10f64.powi(places);
                assert_eq!(
                    num(&r[*k]),
                    (m[i] * f).round() / f,
                    "{model}: source {source} {k}"
                );
            }
        }
        // Every record is credited exactly once in total.
        assert_eq!(num(&out["total"]["leads"]), 3.0, "{model}");
        assert_eq!(num(&out["total"]["deals"]), 3.0, "{model}");
        assert_eq!(num(&out["total"]["revenue"]), 1300.0, "{model}");
        assert_eq!(out["total"]["visits"], 5, "{model}");
    }
    // A touch model by channel: L1 linear gives a third to each of its touches' groups.
    let out = report(
        &app,
        ranged(json!({"model": "linear", "groupBy": "channel"})),
    )
    .await;
    let social = row(&out, "channel", json!("organic_social"));
    // L1: 2/3 (X1, X2c); D1: 1/2 (X2c); D2: 1 (Z).
    assert_eq!(num(&social["leads"]), 0.6667);
    assert_eq!(num(&social["deals"]), 1.5);
    assert_eq!(num(&social["leads_sum"]), 66.67);
    let direct = row(&out, "channel", json!("direct"));
    assert_eq!(num(&direct["leads"]), 0.5);
    assert_eq!(num(&direct["leads_sum"]), 110.0);

    // A lead whose lone trace is older than the window: its source under `bitrix`, source 0
    // under every touch model.
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                let old = tx
                    .insert_trace(1, &trace(T0 - 30 * DAY, 4, "organic_social"))
                    .await?;
                let id = insert(
                    tx,
                    &Rec {
                        kind: EntityKind::Lead,
                        created: T0 + 6 * DAY,
                        currency: "USD",
                        amount: 10.0,
                        won: false,
                        assigned: 1,
                    },
                )
                .await?;
                tx.bind_trace(1, old, EntityKind::Lead, id, T0).await
            })
        })
        .await
        .unwrap();
    let out = report(&app, ranged(json!({}))).await;
    assert_eq!(row(&out, "source_id", json!(4))["leads"], 1);
    for model in ["first_touch", "linear", "time_decay"] {
        let out = report(&app, ranged(json!({"model": model}))).await;
        assert_eq!(
            num(&row(&out, "source_id", json!(4))["leads"]),
            want_vk(model),
            "{model}"
        );
        assert_eq!(
            num(&row(&out, "source_id", json!(0))["leads_sum"]),
            round2(zero_leads_sum(model) + 10.0),
            "{model}"
        );
    }

    // Previous visits sent by the tracker through the API are touches too.
    let lead = app
        .add_lead(json!({"TITLE": "tracked", "OPPORTUNITY": 90, "CURRENCY_ID": "USD",
            "TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"google\"}},\"previous\":{\"list\":[{\"ref\":\"https://vk.com/\",\"tags\":{\"ts\":TS}}]}}"
                .replace("TS", &(chrono::Utc::now().timestamp() - 3 * DAY).to_string())}))
        .await;
    let out = report(&app, json!({"model": "linear"})).await;
    assert_eq!(
        num(&row(&out, "source_id", json!(1))["leads"]),
        0.5,
        "lead {lead}"
    );
    assert_eq!(num(&row(&out, "source_id", json!(4))["leads_sum"]), 45.0);
    let out = report(&app, json!({"model": "first_touch"})).await;
    assert_eq!(num(&row(&out, "source_id", json!(4))["leads"]), 1.0);
    let out = report(&app, json!({})).await;
    assert_eq!(row(&out, "source_id", json!(1))["leads"], 1);
}

/// Source 4's leads under a model in the data set (L1's first touch is vk; a third under linear).
fn want_vk(model: &str) -> f64 {
    let v: f64 = credits(model)
        .iter()
        .filter(|(r, _)| r.starts_with('l'))
        .flat_map(|(_, split)| split.iter().filter(|(s, _)| *s == 4).map(|(_, w)| *w))
        .sum();
    (v * 1e4).round() / 1e4
}

/// Σ leads_sum credited to source 0 in the data set under a model.
fn zero_leads_sum(model: &str) -> f64 {
    let amounts = [("l1", 100.0), ("l2", 220.0), ("l3", 50.0)];
    credits(model)
        .iter()
        .filter_map(|(r, split)| {
            let amount = amounts.iter().find(|(n, _)| n == r)?.1;
            Some(
                split
                    .iter()
                    .filter(|(s, _)| *s == 0)
                    .map(|(_, w)| w * amount)
                    .sum::<f64>(),
            )
        })
        .sum()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn expenses(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    for fields in [
        // 25 EUR a day Jan 30 .. Feb 2: two days (50 EUR = 55 USD) fall in January.
        json!({"SOURCE_ID": "google", "DATE_FROM": "2026-01-30", "DATE_TO": "2026-02-02",
               "AMOUNT": 100, "CURRENCY_ID": "EUR", "IMPRESSIONS": 1000, "ACTIONS": 40}),
        json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-15", "AMOUNT": 10}),
        json!({"SOURCE_ID": "fb", "DATE_FROM": "2026-01-05", "AMOUNT": 30, "ACTIONS": 3}),
        // Outside the range.
        json!({"SOURCE_ID": "vk", "DATE_FROM": "2025-12-31", "AMOUNT": 1000}),
    ] {
        app.call(
            "leadtrace.tracking.expense.add",
            json!({ "fields": fields }),
        )
        .await
        .result();
    }
    let out = report(&app, ranged(json!({}))).await;
    let google = row(&out, "source_id", json!(1));
    assert_eq!(google["expenses"], json!(65.0));
    assert_eq!(google["impressions"], 500);
    assert_eq!(google["actions"], 20);
    // One lead, one closed deal with 1000 revenue.
    assert_eq!(google["cpl"], json!(65.0));
    assert_eq!(google["cpa"], json!(65.0));
    assert_eq!(google["roi"], json!(14.3846));
    let fb = row(&out, "source_id", json!(2));
    assert_eq!(
        (fb["expenses"].clone(), fb["actions"].clone()),
        (json!(30.0), json!(3))
    );
    assert_eq!(
        (fb["cpl"].clone(), fb["cpa"].clone(), fb["roi"].clone()),
        (Value::Null, Value::Null, json!(-1.0))
    );
    assert_eq!(row(&out, "source_id", json!(4))["expenses"], json!(0.0));
    let total = &out["total"];
    assert_eq!(total["expenses"], json!(95.0));
    assert_eq!(
        (total["impressions"].clone(), total["actions"].clone()),
        (json!(500), json!(23))
    );
    assert_eq!(total["cpl"], json!(31.6667));
    assert_eq!(total["cpa"], json!(47.5));
    assert_eq!(total["roi"], json!(12.6842));
    // By channel the rows have no expenses; the total has them all.
    let out = report(
        &app,
        ranged(json!({"groupBy": "channel", "model": "first_touch"})),
    )
    .await;
    assert!(out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["expenses"].is_null() && r["roi"].is_null()));
    assert_eq!(out["total"]["expenses"], json!(95.0));
    // February: the other two days of the EUR pack.
    let feb = report(&app, json!({"from": "2026-02-01", "to": "2026-02-28"})).await;
    assert_eq!(row(&feb, "source_id", json!(1))["expenses"], json!(55.0));
}

async fn range_and_time_zone(b: Backend) {
    let app = spawn_app(b).await;
    seed(&app).await;
    // Only L1 (T0) and L2 (T0 + 1 day) fall on 2026-01-10 .. 2026-01-11.
    let out = report(&app, json!({"from": "2026-01-10", "to": "2026-01-11"})).await;
    assert_eq!(out["total"]["leads"], 2);
    assert_eq!(out["total"]["deals"], 0);
    assert_eq!(
        out["total"]["visits"], 1,
        "only Y was created on those days"
    );
    // February holds L4 only, and its trace.
    let out = report(&app, json!({"from": "2026-02-01", "to": "2026-02-28"})).await;
    assert_eq!(out["total"]["leads"], 1);
    assert_eq!(row(&out, "source_id", json!(1))["leads_sum"], json!(999.0));

    // Days are the portal's: two leads around midnight of Jan 31 / Feb 1 in Berlin (UTC+1).
    let app = spawn_app(b).await;
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                tx.set_portal_setting(1, "time_zone", "Europe/Berlin")
                    .await?;
                // 2026-01-31 23:30 Berlin = 22:30 UTC; 2026-02-01 00:30 Berlin = 23:30 UTC Jan 31.
                for created in [1_769_898_600, 1_769_902_200] {
                    insert(
                        tx,
                        &Rec {
                            kind: EntityKind::Lead,
                            created,
                            currency: "USD",
                            amount: 1.0,
                            won: false,
                            assigned: 1,
                        },
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    let jan = report(&app, json!({"from": "2026-01-31", "to": "2026-01-31"})).await;
    assert_eq!(jan["total"]["leads"], 1);
    let feb = report(&app, json!({"from": "2026-02-01", "to": "2026-02-01"})).await;
    assert_eq!(feb["total"]["leads"], 1);
}

async fn follows_api_changes(b: Backend) {
    let app = spawn_app(b).await;
    let today = json!({});
    // A lead with a google UTM tag: its REST trace makes it google's.
    let lead = app
        .add_lead(
            json!({"TITLE": "x", "UTM_SOURCE": "google", "OPPORTUNITY": 40, "CURRENCY_ID": "USD"}),
        )
        .await;
    let out = report(&app, today.clone()).await;
    let google = row(&out, "source_id", json!(1));
    assert_eq!(
        (
            google["leads"].clone(),
            google["leads_sum"].clone(),
            google["visits"].clone()
        ),
        (json!(1), json!(40.0), json!(1))
    );
    // A later trace from Facebook bound to it becomes the effective one.
    let fb = app
        .call(
            "crm.tracking.trace.add",
            json!({"TRACE": "{\"tags\":{\"list\":{\"utm_source\":\"facebook\"}}}",
                   "ENTITIES": [{"TYPE": "LEAD", "ID": lead}]}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    let out = report(&app, today.clone()).await;
    assert_eq!(row(&out, "source_id", json!(1))["leads"], 0);
    assert_eq!(row(&out, "source_id", json!(2))["leads"], 1);
    assert_eq!(out["total"]["visits"], 2);
    // Deleting that trace falls back to the previous binding.
    app.call("crm.tracking.trace.delete", json!({"id": fb}))
        .await
        .result();
    let out = report(&app, today.clone()).await;
    assert_eq!(row(&out, "source_id", json!(1))["leads"], 1);
    assert_eq!(row(&out, "source_id", json!(2))["leads"], 0);
    // Deleting the source moves the record to source 0.
    app.call("leadtrace.tracking.source.delete", json!({"id": 1}))
        .await
        .result();
    let out = report(&app, today.clone()).await;
    assert_eq!(row(&out, "source_id", json!(0))["leads"], 1);
    assert!(out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source_id"] != 1));
    // A won deal made through the API counts as closed with its revenue; a deleted lead is gone.
    let deal = app
        .add(
            "deal",
            json!({"TITLE": "d", "STAGE_ID": "WON", "OPPORTUNITY": 70, "UTM_SOURCE": "vk"}),
        )
        .await;
    app.call("crm.lead.delete", json!({"id": lead}))
        .await
        .result();
    let out = report(&app, today).await;
    let vk = row(&out, "source_id", json!(4));
    assert_eq!(
        (
            vk["deals"].clone(),
            vk["closed_deals"].clone(),
            vk["revenue"].clone()
        ),
        (json!(1), json!(1), json!(70.0))
    );
    assert_eq!(out["total"]["leads"], 0);
    let _ = deal;
}

async fn permissions(b: Backend) {
    let app = spawn_app(b).await;
    let (_, both) = app
        .user_with_rights("reader", Some("lead=read:all;deal=read:all"), &["crm"])
        .await;
    let (_, own) = app
        .user_with_rights("own", Some("lead=read:all;deal=read:own"), &["crm"])
        .await;
    app.call_at(&both, "leadtrace.tracking.report.get", json!({}))
        .await
        .result();
    app.call_at(&own, "leadtrace.tracking.report.get", json!({}))
        .await
        .assert_error(400, "", "Access denied.");
}

async fn parameter_errors(b: Backend) {
    let app = spawn_app(b).await;
    for (params, text) in [
        (
            json!({"from": "2026-13-01"}),
            "Parameter `from` must be a date in the form YYYY-MM-DD, got `2026-13-01`.",
        ),
        (
            json!({"to": "yesterday"}),
            "Parameter `to` must be a date in the form YYYY-MM-DD, got `yesterday`.",
        ),
        (json!({"from": {"a": 1}}), "Parameter `from` must be a string."),
        (
            json!({"from": "2026-02-01", "to": "2026-01-01"}),
            "Parameter `from` (2026-02-01) is after `to` (2026-01-01).",
        ),
        (
            json!({"from": "2024-12-31", "to": "2026-01-01"}),
            "The range from 2024-12-31 to 2026-01-01 is longer than 366 days.",
        ),
        (
            json!({"model": "w_shaped"}),
            "Unknown model `w_shaped`. Allowed: bitrix, first_touch, last_touch, last_non_direct, linear, position_based, time_decay.",
        ),
        (
            json!({"groupBy": "medium"}),
            "Unknown groupBy `medium`. Allowed: source, channel.",
        ),
        (
            json!({"byResponsible": "yes please"}),
            "Parameter `byResponsible` must be Y or N.",
        ),
    ] {
        app.call("leadtrace.tracking.report.get", params)
            .await
            .assert_error(400, "INVALID_ARG_VALUE", text);
    }
    // Form-encoded parameters work as JSON ones do.
    let r = app
        .post_raw(
            &format!("{}leadtrace.tracking.report.get", app.hook),
            Some("application/x-www-form-urlencoded"),
            "from=2026-01-01&to=2026-01-31&groupBy=channel".to_string(),
        )
        .await;
    assert_eq!(r.result()["groupBy"], "channel");
}
