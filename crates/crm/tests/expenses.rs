//! Expense packs against the in-memory store: `expenses::add` stores the pack with its exact daily
//! split, `expenses::import` is all or nothing (a bad row means no write at all, every bad row is
//! named) and a dry run writes nothing; the in-memory `expense_totals` agrees with the split.

mod support;

use bx_wire::Params;
use crm::tracking::{expenses, ExpenseTotal};
use crm::{Actor, Ctx, PortalSettings, Rights};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use support::MemStore;

const PORTAL: i64 = 1;

fn params(v: Value) -> Params {
    match v {
        Value::Object(m) => m,
        _ => Params::new(),
    }
}

fn actor(admin: bool) -> Actor {
    Actor {
        portal_id: PORTAL,
        user_id: 5,
        rights: if admin {
            Rights::admin()
        } else {
            Rights::parse("lead=read:all").unwrap()
        },
    }
}

fn settings() -> PortalSettings {
    PortalSettings {
        time_zone: chrono_tz::UTC,
        currency: "USD".into(),
    }
}

#[tokio::test]
async fn add_stores_the_split() {
    let mut store = MemStore::seeded().with_sources(PORTAL);
    let (a, s) = (actor(true), settings());
    let ctx = Ctx {
        actor: &a,
        settings: &s,
        now: 1_700_000_000,
    };
    let out = expenses::add(
        &mut store,
        &ctx,
        &params(
            json!({"fields": {"SOURCE_ID": "google", "DATE_FROM": "2026-01-01",
                                  "DATE_TO": "2026-01-03", "AMOUNT": "100.00", "IMPRESSIONS": 10}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(out.result, json!(1));
    let (portal, pack, days) = &store.expense_packs[0];
    assert_eq!((*portal, pack.source_id, pack.created_by), (PORTAL, 1, 5));
    assert_eq!(&pack.split(), days);
    assert_eq!(
        days.iter().map(|d| d.amount_cents).collect::<Vec<_>>(),
        [3334, 3333, 3333]
    );
    let totals = crm::Storage::expense_totals(&mut store, PORTAL, "2026-01-02", "2026-01-31")
        .await
        .unwrap();
    assert_eq!(totals, vec![ExpenseTotal::new(1, "USD".into(), 6666, 6, 0)]);
    // Not an administrator: refused before anything is read.
    let (plain, calls) = (actor(false), store.calls.len());
    let ctx = Ctx {
        actor: &plain,
        ..ctx
    };
    let e = expenses::add(
        &mut store,
        &ctx,
        &params(json!({"fields": {"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1}})),
    )
    .await
    .unwrap_err();
    assert_eq!(e.description(), "Access denied.");
    assert_eq!(store.calls.len(), calls);
}

#[tokio::test]
async fn import_is_all_or_nothing() {
    let mut store = MemStore::seeded().with_sources(PORTAL);
    let (a, s) = (actor(true), settings());
    let ctx = Ctx {
        actor: &a,
        settings: &s,
        now: 1_700_000_000,
    };
    let ticks = AtomicU64::new(0);
    let tick = || {
        ticks.fetch_add(1, Ordering::Relaxed);
    };
    let good = json!({"SOURCE_ID": "fb", "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-02", "AMOUNT": "1"});
    let rows = vec![
        (2, good.clone()),
        (
            3,
            json!({"SOURCE_ID": "fb", "DATE_FROM": "2026-01-01", "AMOUNT": "x"}),
        ),
        (4, good.clone()),
        (
            7,
            json!({"SOURCE_ID": 0, "DATE_FROM": "2026-01-01", "AMOUNT": "1"}),
        ),
    ];
    let e = expenses::import(&mut store, &ctx, &rows, true, &tick)
        .await
        .unwrap_err();
    assert_eq!(
        e.description(),
        "2 bad line(s), nothing imported:\n\
         line 3: Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `x`.\n\
         line 7: Source 0 (organic / other traffic) takes no expenses: choose a configured source."
    );
    assert!(!store.calls.contains(&"insert_expense_pack"));
    assert!(store.expense_packs.is_empty());
    assert_eq!(ticks.load(Ordering::Relaxed), 4, "every row checked");

    let rows = vec![(2, good.clone()), (3, good.clone())];
    let dry = expenses::import(&mut store, &ctx, &rows, false, &tick)
        .await
        .unwrap();
    assert_eq!((dry.packs, dry.days), (2, 4));
    assert!(store.expense_packs.is_empty(), "a dry run writes nothing");
    let done = expenses::import(&mut store, &ctx, &rows, true, &tick)
        .await
        .unwrap();
    assert_eq!(done, dry);
    assert_eq!(done.amounts.get("USD"), Some(&200));
    assert_eq!(store.expense_packs.len(), 2);
    assert_eq!(ticks.load(Ordering::Relaxed), 4 + 2 + 2 + 2);
    // More bad rows than are spelled out: the rest are counted.
    let bad: Vec<(u64, Value)> = (1..=60)
        .map(|i| {
            (
                i,
                json!({"SOURCE_ID": 99, "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
            )
        })
        .collect();
    let e = expenses::import(&mut store, &ctx, &bad, true, &tick)
        .await
        .unwrap_err();
    assert!(e.description().starts_with("60 bad line(s)"));
    assert_eq!(e.description().matches("does not exist").count(), 50);
    assert!(e.description().ends_with("… and 10 more bad lines"));
}
