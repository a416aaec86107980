//! Sales Intelligence expenses on SQLite and PostgreSQL: `leadtrace.tracking.expense.add/get/list/
//! delete` with their validation errors and permissions, the daily split as stored, the report's
//! `Storage::expense_totals` over partial ranges, a source delete taking its packs, and the
//! `leadtrace expenses import/list/delete` commands (a bad line writes nothing).

mod common;
use common::*;
use crm::tracking::ExpenseTotal;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    add_get_list_delete,
    validation_errors,
    permissions,
    totals_over_partial_ranges,
    deleting_a_source_deletes_its_packs,
    import_cli,
);

async fn add(app: &TestApp, fields: Value) -> i64 {
    let r = app
        .call(
            "leadtrace.tracking.expense.add",
            json!({ "fields": fields }),
        )
        .await;
    r.result()
        .as_i64()
        .unwrap_or_else(|| panic!("expense.add returned {}", r.body))
}

async fn totals(app: &TestApp, from: &'static str, to: &'static str) -> Vec<ExpenseTotal> {
    app.running
        .state
        .store()
        .read(move |tx| {
            Box::pin(async move { crm::Storage::expense_totals(tx, 1, from, to).await })
        })
        .await
        .unwrap()
}

fn ids(r: &Reply) -> Vec<i64> {
    r.result()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.body))
        .iter()
        .map(|p| p["ID"].as_i64().unwrap())
        .collect()
}

async fn add_get_list_delete(b: Backend) {
    let app = spawn_app(b).await;
    let id = add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-03", "AMOUNT": "100.00",
               "CURRENCY_ID": "EUR", "IMPRESSIONS": 10, "ACTIONS": "2", "COMMENT": "spring"}),
    )
    .await;
    let got = app
        .call("leadtrace.tracking.expense.get", json!({ "id": id }))
        .await;
    let p = got.result();
    assert_eq!(p["ID"], json!(id));
    assert_eq!(p["SOURCE_ID"], json!(1));
    assert_eq!(
        (&p["DATE_FROM"], &p["DATE_TO"]),
        (&json!("2026-01-01"), &json!("2026-01-03"))
    );
    assert_eq!(p["AMOUNT"], json!(100.0));
    assert_eq!(p["CURRENCY_ID"], json!("EUR"));
    assert_eq!((&p["IMPRESSIONS"], &p["ACTIONS"]), (&json!(10), &json!(2)));
    assert_eq!(p["COMMENT"], json!("spring"));
    assert_eq!(p["CREATED_BY_ID"], json!(1));
    assert!(p["DATE_CREATE"].as_str().unwrap().contains('T'));
    // The split of spec §12.2, as stored.
    assert_eq!(
        p["DAYS"],
        json!([
            {"DATE": "2026-01-01", "AMOUNT": 33.34, "IMPRESSIONS": 4, "ACTIONS": 2},
            {"DATE": "2026-01-02", "AMOUNT": 33.33, "IMPRESSIONS": 3, "ACTIONS": 0},
            {"DATE": "2026-01-03", "AMOUNT": 33.33, "IMPRESSIONS": 3, "ACTIONS": 0},
        ])
    );

    // Defaults: one day, the base currency (USD), no counts; a source by its code.
    let one = add(
        &app,
        json!({"SOURCE_ID": "fb", "DATE_FROM": "2026-02-10", "AMOUNT": 12.5}),
    )
    .await;
    let p = app
        .call("leadtrace.tracking.expense.get", json!({ "id": one }))
        .await
        .result()
        .clone();
    assert_eq!(
        (&p["SOURCE_ID"], &p["DATE_TO"], &p["CURRENCY_ID"]),
        (&json!(2), &json!("2026-02-10"), &json!("USD"))
    );
    assert_eq!(
        p["DAYS"],
        json!([{"DATE": "2026-02-10", "AMOUNT": 12.5, "IMPRESSIONS": 0, "ACTIONS": 0}])
    );
    // Form encoding works as everywhere else.
    let r = app
        .post_raw(
            &format!("{}leadtrace.tracking.expense.add", app.hook),
            Some("application/x-www-form-urlencoded"),
            "fields[SOURCE_ID]=google&fields[DATE_FROM]=2026-03-01&fields[DATE_TO]=2026-03-31&fields[AMOUNT]=0",
        )
        .await;
    let zero = r.result().as_i64().unwrap();

    // Lists: by id; filtered by source and by overlap with a range.
    let all = app.call("leadtrace.tracking.expense.list", json!({})).await;
    assert_eq!(ids(&all), [id, one, zero]);
    assert_eq!(all.body["total"], json!(3));
    let r = app
        .call(
            "leadtrace.tracking.expense.list",
            json!({"filter": {"SOURCE_ID": 1}}),
        )
        .await;
    assert_eq!(ids(&r), [id, zero]);
    for (from, to, want) in [
        ("2026-01-03", "2026-01-03", vec![id]),
        ("2026-01-04", "2026-02-09", vec![]),
        ("2026-01-04", "2026-02-10", vec![one]),
        ("2026-02-11", "", vec![zero]),
        ("", "2026-01-01", vec![id]),
    ] {
        let r = app
            .call(
                "leadtrace.tracking.expense.list",
                json!({"filter": {"DATE_FROM": from, "DATE_TO": to}}),
            )
            .await;
        assert_eq!(ids(&r), want, "{from}..{to}");
        assert_eq!(r.body["total"], json!(want.len()));
    }
    app.call(
        "leadtrace.tracking.expense.list",
        json!({"filter": {"DATE_FROM": "yesterday-ish"}}),
    )
    .await
    .assert_error(
        400,
        "ERROR_CORE",
        "Filter DATE_FROM must be a date (YYYY-MM-DD), not `yesterday-ish`.",
    );

    // Paging: 50 a page, `next` and `start` as the CRM lists.
    for i in 0..50 {
        add(
            &app,
            json!({"SOURCE_ID": 3, "DATE_FROM": "2025-06-01", "AMOUNT": i}),
        )
        .await;
    }
    let page1 = app.call("leadtrace.tracking.expense.list", json!({})).await;
    assert_eq!(ids(&page1).len(), 50);
    assert_eq!(page1.body["total"], json!(53));
    assert_eq!(page1.body["next"], json!(50));
    let page2 = app
        .call("leadtrace.tracking.expense.list", json!({"start": 50}))
        .await;
    assert_eq!(ids(&page2).len(), 3);
    assert!(page2.body.get("next").is_none(), "{}", page2.body);

    // Delete: the pack and its days.
    app.call("leadtrace.tracking.expense.delete", json!({ "id": id }))
        .await
        .result();
    app.call("leadtrace.tracking.expense.get", json!({ "id": id }))
        .await
        .assert_error(400, "", "Not found");
    app.call("leadtrace.tracking.expense.delete", json!({ "id": id }))
        .await
        .assert_error(400, "", "Not found");
    assert!(totals(&app, "2026-01-01", "2026-01-31").await.is_empty());
    app.call("leadtrace.tracking.expense.get", json!({}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
    app.call("leadtrace.tracking.expense.delete", json!({"id": "x"}))
        .await
        .assert_error(400, "", "ID is not defined or invalid.");
}

async fn validation_errors(b: Backend) {
    let app = spawn_app(b).await;
    let base = json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1});
    let with = |k: &str, v: Value| {
        let mut f = base.clone();
        if v.is_null() {
            f.as_object_mut().unwrap().remove(k);
        } else {
            f[k] = v;
        }
        f
    };
    for (fields, text) in [
        (
            with("SOURCE_ID", Value::Null),
            "Required field SOURCE_ID is not specified.".to_string(),
        ),
        (
            with("SOURCE_ID", json!(0)),
            "Source 0 (organic / other traffic) takes no expenses: choose a configured source."
                .into(),
        ),
        (
            with("SOURCE_ID", json!(99)),
            "Source `99` does not exist.".into(),
        ),
        (
            with("SOURCE_ID", json!("tiktok")),
            "Source `tiktok` does not exist.".into(),
        ),
        (
            with("DATE_FROM", Value::Null),
            "Required field DATE_FROM is not specified.".into(),
        ),
        (
            with("DATE_FROM", json!("2026-13-01")),
            "Field DATE_FROM must be a date (YYYY-MM-DD), not `2026-13-01`.".into(),
        ),
        (
            with("DATE_TO", json!("2025-12-31")),
            "DATE_FROM (2026-01-01) must not be later than DATE_TO (2025-12-31).".into(),
        ),
        (
            with("DATE_TO", json!("2027-01-01")),
            "An expense pack spans at most 365 days; 2026-01-01 to 2027-01-01 is 366.".into(),
        ),
        (
            with("AMOUNT", Value::Null),
            "Required field AMOUNT is not specified.".into(),
        ),
        (
            with("AMOUNT", json!("-0.01")),
            "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `-0.01`."
                .into(),
        ),
        (
            with("AMOUNT", json!("9.999")),
            "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `9.999`."
                .into(),
        ),
        (
            with("AMOUNT", json!("1,50")),
            "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `1,50`."
                .into(),
        ),
        (
            with("AMOUNT", json!("100000000001")),
            "Field AMOUNT is too large: at most 100000000000.".into(),
        ),
        (
            with("CURRENCY_ID", json!("XYZ")),
            "Field CURRENCY_ID: `XYZ` is not a currency of the portal (USD, EUR).".into(),
        ),
        (
            with("IMPRESSIONS", json!(-1)),
            "Field IMPRESSIONS must be a whole number of at least 0, not `-1`.".into(),
        ),
        (
            with("ACTIONS", json!(1.5)),
            "Field ACTIONS must be a whole number of at least 0, not `1.5`.".into(),
        ),
        (
            with("COMMENT", json!("c".repeat(1025))),
            "Field COMMENT is longer than 1024 characters.".into(),
        ),
    ] {
        app.call(
            "leadtrace.tracking.expense.add",
            json!({ "fields": fields }),
        )
        .await
        .assert_error(400, "ERROR_CORE", &text);
    }
    app.call("leadtrace.tracking.expense.add", json!({}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    app.call("leadtrace.tracking.expense.add", json!({"fields": "x"}))
        .await
        .assert_error(400, "", "Parameter 'fields' must be array.");
    // 365 days pass (a year across a leap day), and nothing was stored by the failures.
    let year = add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2027-06-01", "DATE_TO": "2028-05-30", "AMOUNT": "2000"}),
    )
    .await;
    let p = app
        .call("leadtrace.tracking.expense.get", json!({ "id": year }))
        .await
        .result()
        .clone();
    let days = p["DAYS"].as_array().unwrap();
    assert_eq!(days.len(), 365);
    assert_eq!(days[0]["AMOUNT"], json!(8.92));
    assert_eq!(days[1]["AMOUNT"], json!(5.47));
    assert_eq!(days[364]["DATE"], json!("2028-05-30"));
    let r = app.call("leadtrace.tracking.expense.list", json!({})).await;
    assert_eq!(ids(&r), [year]);
}

async fn permissions(b: Backend) {
    let app = spawn_app(b).await;
    let id = add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 5}),
    )
    .await;
    let (_, hook) = app
        .user_with_rights("plain", Some("lead=read:all"), &["crm"])
        .await;
    // Anyone with `crm` reads packs; only administrators change them.
    app.call_at(&hook, "leadtrace.tracking.expense.get", json!({ "id": id }))
        .await
        .result();
    assert_eq!(
        ids(&app
            .call_at(&hook, "leadtrace.tracking.expense.list", json!({}))
            .await),
        [id]
    );
    for (method, params) in [
        (
            "leadtrace.tracking.expense.add",
            json!({"fields": {"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 5}}),
        ),
        ("leadtrace.tracking.expense.delete", json!({ "id": id })),
    ] {
        app.call_at(&hook, method, params)
            .await
            .assert_error(400, "", "Access denied.");
    }
    assert_eq!(
        ids(&app.call("leadtrace.tracking.expense.list", json!({})).await),
        [id]
    );
    // Without the crm scope, not at all.
    let (_, nocrm) = app.user_with_rights("other", None, &["user"]).await;
    let r = app
        .call_at(&nocrm, "leadtrace.tracking.expense.list", json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{}",
        r.body
    );
}

async fn totals_over_partial_ranges(b: Backend) {
    let app = spawn_app(b).await;
    // Google: 100.00 EUR over Jan 1–3 (33.34, 33.33, 33.33), 10 impressions (4, 3, 3), 5 clicks (3, 1, 1).
    add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-03", "AMOUNT": 100,
               "CURRENCY_ID": "EUR", "IMPRESSIONS": 10, "ACTIONS": 5}),
    )
    .await;
    // Google in USD, Dec 31 – Jan 1: 0.03 → 0.02, 0.01.
    add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2025-12-31", "DATE_TO": "2026-01-01", "AMOUNT": "0.03"}),
    )
    .await;
    // Facebook: 31.00 USD over January, 1.00 a day.
    add(
        &app,
        json!({"SOURCE_ID": 2, "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-31", "AMOUNT": 31,
               "IMPRESSIONS": 62}),
    )
    .await;
    let t = totals(&app, "2026-01-01", "2026-01-31").await;
    assert_eq!(
        t,
        vec![
            ExpenseTotal::new(1, "EUR".into(), 10_000, 10, 5),
            ExpenseTotal::new(1, "USD".into(), 1, 0, 0),
            ExpenseTotal::new(2, "USD".into(), 3_100, 62, 0),
        ]
    );
    assert_eq!(t[0].amount, 100.0);
    assert_eq!(t[1].amount, 0.01);
    // A pack straddling an edge counts only its days inside.
    assert_eq!(
        totals(&app, "2026-01-02", "2026-01-02").await,
        vec![
            ExpenseTotal::new(1, "EUR".into(), 3_333, 3, 1),
            ExpenseTotal::new(2, "USD".into(), 100, 2, 0),
        ]
    );
    assert_eq!(
        totals(&app, "2025-12-01", "2026-01-01").await,
        vec![
            ExpenseTotal::new(1, "EUR".into(), 3_334, 4, 3),
            ExpenseTotal::new(1, "USD".into(), 3, 0, 0),
            ExpenseTotal::new(2, "USD".into(), 100, 2, 0),
        ]
    );
    assert_eq!(
        totals(&app, "2026-01-03", "2026-02-28").await,
        vec![
            ExpenseTotal::new(1, "EUR".into(), 3_333, 3, 1),
            ExpenseTotal::new(2, "USD".into(), 2_900, 58, 0),
        ]
    );
    assert!(totals(&app, "2026-02-01", "2026-12-31").await.is_empty());
    assert!(totals(&app, "2026-01-02", "2026-01-01").await.is_empty());
}

async fn deleting_a_source_deletes_its_packs(b: Backend) {
    let app = spawn_app(b).await;
    let source = app
        .call(
            "leadtrace.tracking.source.add",
            json!({"fields": {"NAME": "Partners", "CODE": "partners"}}),
        )
        .await
        .result()
        .as_i64()
        .unwrap();
    let gone = add(
        &app,
        json!({"SOURCE_ID": "partners", "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-10", "AMOUNT": 10}),
    )
    .await;
    let kept = add(
        &app,
        json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 10}),
    )
    .await;
    // An inactive source still takes expenses (past spend stays true).
    app.call(
        "leadtrace.tracking.source.update",
        json!({"id": source, "fields": {"ACTIVE": "N"}}),
    )
    .await
    .result();
    add(
        &app,
        json!({"SOURCE_ID": source, "DATE_FROM": "2026-01-05", "AMOUNT": 1}),
    )
    .await;
    assert_eq!(totals(&app, "2026-01-01", "2026-01-31").await.len(), 2);
    app.call("leadtrace.tracking.source.delete", json!({ "id": source }))
        .await
        .result();
    assert_eq!(
        ids(&app.call("leadtrace.tracking.expense.list", json!({})).await),
        [kept]
    );
    app.call("leadtrace.tracking.expense.get", json!({ "id": gone }))
        .await
        .assert_error(400, "", "Not found");
    assert_eq!(
        totals(&app, "2026-01-01", "2026-01-31").await,
        vec![ExpenseTotal::new(1, "USD".into(), 1_000, 0, 0)]
    );
}

async fn import_cli(b: Backend) {
    let dir = std::env::temp_dir().join(format!(
        "leadtrace-exp-{}",
        leadtrace::bootstrap::random_code(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = store::testing::fresh_url(b).await;
    let run = |args: Vec<String>| {
        let (dir, db) = (dir.clone(), db.clone());
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadtrace"))
                .current_dir(&dir)
                .env("DATABASE_URL", &db)
                .args(&args)
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // A bad line (and another): nothing is written, every bad line is named by its line in the
    // file (blank lines count).
    let bad = file(
        "bad.csv",
        "source,date_from,date_to,amount,currency,impressions,clicks,comment\n\
         google,2026-01-01,2026-01-03,100.00,EUR,10,5,spring\n\
         \n\
         fb,2026-01-05,2026-01-01,10,,,,\n\
         google,2026-01-01,,12.345,,,,\n\
         vk,2026-01-01,,1,,,,\n",
    );
    let (ok, _, err) = run(s(&["expenses", "import", &bad])).await;
    assert!(!ok);
    assert!(err.contains("2 bad line(s), nothing imported:"), "{err}");
    assert!(
        err.contains("line 4: DATE_FROM (2026-01-05) must not be later than DATE_TO (2026-01-01)."),
        "{err}"
    );
    assert!(
        err.contains(
            "line 5: Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `12.345`."
        ),
        "{err}"
    );
    let (ok, out, err) = run(s(&["expenses", "list"])).await;
    assert!(ok, "{err}");
    assert_eq!(out, "", "nothing written");
    // A structural error (a short line) also writes nothing.
    let short = file(
        "short.csv",
        "source,date_from,amount\ngoogle,2026-01-01,1\ngoogle,2026-01-02\n",
    );
    let (ok, _, err) = run(s(&["expenses", "import", &short])).await;
    assert!(!ok);
    assert!(
        err.contains("line 3: 2 values where the header has 3 columns"),
        "{err}"
    );
    assert_eq!(run(s(&["expenses", "list"])).await.1, "");

    // A good file: a dry run first, then the import.
    let good = file(
        "good.csv",
        "\u{feff}source,date_from,date_to,amount,currency,impressions,clicks,comment\n\
         google,2026-01-01,2026-01-03,100.00,EUR,10,5,\"spring, \"\"A\"\"\"\n\
         2,2026-01-05,,10,,,,\n\
         \n\
         Instagram,2026-02-01,2026-02-28,28.5,usd,280,,\n",
    );
    let (ok, out, err) = run(s(&["expenses", "import", &good, "--dry-run"])).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Checked 3 expense pack(s) (32 days): EUR 100.00, USD 38.50; 290 impressions, 5 clicks"
    );
    assert_eq!(run(s(&["expenses", "list"])).await.1, "");
    let (ok, out, err) = run(s(&["expenses", "import", &good])).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Imported 3 expense pack(s) (32 days): EUR 100.00, USD 38.50; 290 impressions, 5 clicks"
    );
    let (ok, out, err) = run(s(&["expenses", "list"])).await;
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "1\t1\t2026-01-01\t2026-01-03\t100.00\tEUR\t10\t5\tspring, \"A\"",
            "2\t2\t2026-01-05\t2026-01-05\t10.00\tUSD\t0\t0\t",
            // (the output is trimmed: the empty comment's tab goes with it)
            "3\t3\t2026-02-01\t2026-02-28\t28.50\tUSD\t280\t0",
        ]
    );
    let (_, out, _) = run(s(&["expenses", "list", "--source", "google"])).await;
    assert_eq!(out.lines().count(), 1);
    let (_, out, _) = run(s(&[
        "expenses",
        "list",
        "--from",
        "2026-01-04",
        "--to",
        "2026-01-31",
    ]))
    .await;
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with("2\t"), "{out}");
    let (ok, _, err) = run(s(&["expenses", "list", "--source", "tiktok"])).await;
    assert!(
        !ok && err.contains("Source `tiktok` does not exist."),
        "{err}"
    );
    let (ok, _, err) = run(s(&["expenses", "delete", "2"])).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(s(&["expenses", "delete", "2"])).await;
    assert!(!ok && err.contains("Not found"), "{err}");
    assert_eq!(run(s(&["expenses", "list"])).await.1.lines().count(), 2);
    let (ok, _, err) = run(s(&["expenses", "import", "/nonexistent/x.csv"])).await;
    assert!(
        !ok && err.contains("cannot read /nonexistent/x.csv"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
