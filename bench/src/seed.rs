//! Seeding: N leads with realistic column values, written through the real storage code
//! (`crm::Storage::insert_entity` / `insert_multifield` inside `Store::write`), a chunk of rows
//! per transaction. Every 10th lead has a PHONE value.

use crate::BoxError;
use crm::{Assignments, DbValue, EntityKind, Storage};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use store::{NewUser, Store};

/// Users leads are assigned to: the administrator (1) and 19 more.
pub const USERS: i64 = 20;
/// Leads are created over this many days before the run.
pub const SPAN_DAYS: i64 = 730;
/// Chunks written at once (their generation overlaps the previous chunk's write).
const IN_FLIGHT: usize = 2;

/// Lead stages with their semantics and share (percent) of the seeded leads.
const STAGES: [(&str, &str, u32); 5] = [
    ("NEW", "P", 30),
    ("IN_PROCESS", "P", 25),
    ("PROCESSED", "P", 15),
    ("CONVERTED", "S", 15),
    ("JUNK", "F", 15),
];
const SOURCES: [&str; 8] = [
    "CALL",
    "EMAIL",
    "WEB",
    "ADVERTISING",
    "PARTNER",
    "RECOMMENDATION",
    "TRADE_SHOW",
    "WEBFORM",
];
/// `UTM_SOURCE` values; `None` (no campaign) for the rest.
const UTM_SOURCES: [(Option<&str>, u32); 6] = [
    (Some("google"), 30),
    (Some("facebook"), 15),
    (Some("yandex"), 10),
    (Some("newsletter"), 10),
    (Some("linkedin"), 5),
    (None, 30),
];
const UTM_MEDIUMS: [&str; 4] = ["cpc", "email", "social", "organic"];
const CAMPAIGNS: [&str; 6] = [
    "spring_sale",
    "black_friday",
    "brand",
    "retargeting",
    "webinar_q3",
    "partners",
];
const FIRST_NAMES: [&str; 16] = [
    "Anna", "Boris", "Carla", "David", "Elena", "Frank", "Greta", "Hugo", "Irina", "James",
    "Katya", "Liam", "Maria", "Nikolai", "Olga", "Peter",
];
const LAST_NAMES: [&str; 16] = [
    "Smith", "Ivanova", "Müller", "Garcia", "Rossi", "Novak", "Kowalski", "Jensen", "Dubois",
    "Silva", "Petrov", "Nielsen", "Brown", "Fischer", "Lopez", "Sato",
];
const COMPANIES: [&str; 12] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
];
const PRODUCTS: [&str; 8] = [
    "CRM licence",
    "Website",
    "Consulting",
    "Support plan",
    "Hardware",
    "Training",
    "Integration",
    "Audit",
];
const CITIES: [(&str, &str, &str); 6] = [
    ("Berlin", "Germany", "DE"),
    ("Warsaw", "Poland", "PL"),
    ("Austin", "United States", "US"),
    ("Lisbon", "Portugal", "PT"),
    ("Almaty", "Kazakhstan", "KZ"),
    ("Milan", "Italy", "IT"),
];
const POSTS: [&str; 5] = ["CEO", "CTO", "Buyer", "Office manager", "Engineer"];

fn weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (v, w) in table {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

fn text(s: impl Into<String>) -> DbValue {
    DbValue::Text(s.into())
}

/// The PHONE value of the lead seeded `seq`-th (1-based), when it has one.
pub fn phone_of(seq: u64) -> Option<String> {
    (seq % 10 == 0).then(|| format!("+1555{seq:07}"))
}

/// The title of the lead seeded `seq`-th: `<product> for <company> #<seq>`.
fn title(rng: &mut StdRng, seq: u64) -> String {
    let product = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
    format!("{product} for {company} #{seq}")
}

/// The column values of the `seq`-th lead (of `n`) created around `created`.
pub fn lead(rng: &mut StdRng, seq: u64, created: i64, now: i64) -> Assignments {
    let (status, semantic) = {
        let table: Vec<((&str, &str), u32)> =
            STAGES.iter().map(|(s, m, w)| ((*s, *m), *w)).collect();
        weighted(rng, &table)
    };
    let user = rng.gen_range(1..=USERS);
    let modified = (created + rng.gen_range(0..30 * 86_400)).min(now);
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
    let (city, country, country_code) = CITIES[rng.gen_range(0..CITIES.len())];
    let utm = weighted(rng, &UTM_SOURCES);
    let opportunity = (rng.gen_range(0..10_000_000) as f64) / 100.0;
    let has_phone = phone_of(seq).is_some();
    let closed = semantic != "P";
    let mut v: Assignments = vec![
        ("title", text(title(rng, seq))),
        ("name", text(first)),
        ("last_name", text(last)),
        ("company_title", text(format!("{company} Ltd"))),
        (
            "honorific",
            text(format!("HNR_EN_{}", rng.gen_range(1..=4))),
        ),
        ("source_id", text(SOURCES[rng.gen_range(0..SOURCES.len())])),
        ("status_id", text(status)),
        ("status_semantic_id", text(semantic)),
        ("post", text(POSTS[rng.gen_range(0..POSTS.len())])),
        ("address_city", text(city)),
        ("address_country", text(country)),
        ("address_country_code", text(country_code)),
        ("currency_id", text("USD")),
        ("opportunity", DbValue::Real(opportunity)),
        ("is_manual_opportunity", text("N")),
        ("opened", text("Y")),
        ("has_phone", text(if has_phone { "Y" } else { "N" })),
        ("has_email", text("N")),
        ("has_imol", text("N")),
        ("assigned_by_id", DbValue::Int(user)),
        ("created_by_id", DbValue::Int(user)),
        ("modify_by_id", DbValue::Int(user)),
        ("moved_by_id", DbValue::Int(user)),
        ("date_create", DbValue::Int(created)),
        ("date_modify", DbValue::Int(modified)),
        ("moved_time", DbValue::Int(modified)),
        ("is_return_customer", text("N")),
        (
            "date_closed",
            if closed {
                DbValue::Int(modified)
            } else {
                DbValue::Null
            },
        ),
        ("last_activity_time", DbValue::Int(modified)),
        ("last_activity_by", DbValue::Int(user)),
    ];
    if rng.gen_ratio(1, 5) {
        let y = rng.gen_range(1960..2004);
        let m = rng.gen_range(1..=12);
        let d = rng.gen_range(1..=28);
        v.push(("birthdate", text(format!("{y:04}-{m:02}-{d:02}"))));
    }
    if rng.gen_ratio(1, 4) {
        v.push(("comments", text("Asked for a call back next week.")));
    }
    if let Some(u) = utm {
        v.push(("utm_source", text(u)));
        v.push((
            "utm_medium",
            text(UTM_MEDIUMS[rng.gen_range(0..UTM_MEDIUMS.len())]),
        ));
        v.push((
            "utm_campaign",
            text(CAMPAIGNS[rng.gen_range(0..CAMPAIGNS.len())]),
        ));
    }
    v
}

/// What seeding produced.
pub struct Seeded {
    pub leads: u64,
    /// Smallest and largest lead id written (ids are consecutive on a fresh table).
    pub min_id: i64,
    pub max_id: i64,
    pub elapsed: Duration,
    /// Unix seconds of the oldest possible `DATE_CREATE`.
    pub first_created: i64,
}

impl Seeded {
    pub fn rate(&self) -> f64 {
        self.leads as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Adds users 2..=USERS so every `ASSIGNED_BY_ID` names a real user.
pub async fn users(store: &Store, portal_id: i64) -> Result<(), BoxError> {
    store
        .write(move |tx| {
            Box::pin(async move {
                let existing = tx.users(portal_id).await?.len() as i64;
                for i in existing + 1..=USERS {
                    let u = NewUser {
                        login: format!("user{i}"),
                        name: FIRST_NAMES[(i as usize) % FIRST_NAMES.len()].into(),
                        last_name: LAST_NAMES[(i as usize) % LAST_NAMES.len()].into(),
                        email: format!("user{i}@example.com"),
                        admin: false,
                        role_id: None,
                    };
                    tx.add_user(portal_id, &u).await?;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| format!("cannot add users: {e}"))?;
    Ok(())
}

/// Inserts `n` leads in transactions of `chunk` rows; prints progress to stderr.
pub async fn leads(
    store: &Store,
    portal_id: i64,
    n: u64,
    chunk: u64,
    seed: u64,
) -> Result<Seeded, BoxError> {
    let now = chrono::Utc::now().timestamp();
    let first_created = now - SPAN_DAYS * 86_400;
    let started = Instant::now();
    let chunks = n.div_ceil(chunk.max(1));
    let mut stream = futures::stream::iter(0..chunks)
        .map(|c| {
            let store = store.clone();
            async move {
                let from = c * chunk + 1;
                let to = ((c + 1) * chunk).min(n);
                // Each chunk has its own generator so chunks may be built in any order.
                let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(c));
                let span = (SPAN_DAYS * 86_400) as f64;
                let rows: Vec<(Assignments, Option<String>)> = (from..=to)
                    .map(|seq| {
                        // Creation time grows with the id (as it does in a live CRM), with jitter.
                        let base = first_created + (span * (seq as f64 / n as f64)) as i64;
                        let created = (base + rng.gen_range(-3_600..3_600)).min(now);
                        (lead(&mut rng, seq, created, now), phone_of(seq))
                    })
                    .collect();
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            let mut ids = (i64::MAX, i64::MIN);
                            for (values, phone) in rows {
                                let id = tx
                                    .insert_entity(EntityKind::Lead, portal_id, values, None)
                                    .await?;
                                ids = (ids.0.min(id), ids.1.max(id));
                                if let Some(p) = phone {
                                    tx.insert_multifield(
                                        EntityKind::Lead,
                                        portal_id,
                                        id,
                                        "PHONE",
                                        "WORK",
                                        &p,
                                    )
                                    .await?;
                                }
                            }
                            Ok((to - from + 1, ids))
                        })
                    })
                    .await
            }
        })
        .buffered(IN_FLIGHT);
    let mut done = 0u64;
    let mut ids = (i64::MAX, i64::MIN);
    let mut last_report = Instant::now();
    while let Some(r) = stream.next().await {
        let (rows, (lo, hi)) = r.map_err(|e| format!("seeding failed: {e}"))?;
        done += rows;
        ids = (ids.0.min(lo), ids.1.max(hi));
        if last_report.elapsed() >= Duration::from_secs(10) || done == n {
            last_report = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  seeded {done}/{n} leads in {secs:.0} s ({:.0} rows/s)",
                done as f64 / secs.max(1e-9)
            );
        }
    }
    Ok(Seeded {
        leads: done,
        min_id: ids.0,
        max_id: ids.1,
        elapsed: started.elapsed(),
        first_created,
    })
}
