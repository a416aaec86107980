//! The real binary: zero-configuration start, the administration commands, and HTTPS with the
//! local CA. Each storage-touching test runs on SQLite and on PostgreSQL.

mod common;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use store::Backend;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

backend_tests!(
    admin_commands_then_serve,
    tls_with_local_ca,
    app_create_then_oauth_under_limits
);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leadtrace-cli-{name}-{}",
        leadtrace::bootstrap::random_code(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn leadtrace(dir: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadtrace"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("LEADTRACE_WEBHOOK_CODE")
        .kill_on_drop(true);
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

async fn run(dir: &Path, db: &str, args: &[&str]) -> String {
    let out = leadtrace(dir, Some(db)).args(args).output().await.unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Starts `serve` and waits for the printed lines; returns the child and what it printed.
async fn serve(mut cmd: Command) -> (Child, Vec<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let wait = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.starts_with("Inbound webhook: ");
            seen.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .expect("server prints its webhook");
    (child, seen)
}

fn printed(lines: &[String], prefix: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' in {lines:?}"))
        .trim()
        .to_string()
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    client
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn zero_configuration_start() {
    // No options but a free port: SQLite file in the working directory, default portal, webhook.
    let dir = temp_dir("zero");
    let mut cmd = leadtrace(&dir, None);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let (mut child, lines) = serve(cmd).await;
    let hook = printed(&lines, "Inbound webhook: ");
    assert!(
        hook.starts_with("http://127.0.0.1:") && hook.contains("/rest/1/") && hook.ends_with('/'),
        "{hook}"
    );
    let client = reqwest::Client::new();
    let base = hook.split("/rest/").next().unwrap();
    let dashboard = printed(&lines, "Dashboard: ");
    assert_eq!(dashboard, format!("{base}/dashboard"));
    let page = client.get(&dashboard).send().await.unwrap();
    assert_eq!(page.status(), 200, "{dashboard}");
    assert_eq!(
        printed(&lines, "Website tracker: "),
        format!("<script src=\"{base}/tracker.js\"></script>")
    );
    let r = post(
        &client,
        format!("{hook}crm.lead.add"),
        json!({"fields": {"TITLE": "zero"}}),
    )
    .await;
    assert_eq!(r["result"], json!(1));
    assert!(dir.join("leadtrace.db").exists());
    child.kill().await.unwrap();
    // A restart keeps the data and prints the same webhook.
    let mut cmd = leadtrace(&dir, None);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let (mut child, lines) = serve(cmd).await;
    let again = printed(&lines, "Inbound webhook: ");
    assert_eq!(again.split("/rest/").nth(1), hook.split("/rest/").nth(1));
    let r = post(&client, format!("{again}crm.lead.get"), json!({"id": 1})).await;
    assert_eq!(r["result"]["TITLE"], "zero");
    child.kill().await.unwrap();
}

async fn admin_commands_then_serve(b: Backend) {
    let dir = temp_dir("admin");
    let db = store::testing::fresh_url(b).await;
    run(
        &dir,
        &db,
        &[
            "role",
            "add",
            "manager",
            "--rights",
            "lead=read:own,add:all,update:own,delete:none",
        ],
    )
    .await;
    let uid = run(
        &dir,
        &db,
        &[
            "user",
            "add",
            "--name",
            "Ann",
            "--email",
            "ann@example.com",
            "--role",
            "manager",
        ],
    )
    .await;
    assert_eq!(uid, "2");
    let hook = run(
        &dir,
        &db,
        &[
            "webhook", "create", "--user", &uid, "--scope", "crm", "--code", "anncode",
        ],
    )
    .await;
    assert_eq!(hook, "http://127.0.0.1:8080/rest/2/anncode/");
    let token = run(
        &dir,
        &db,
        &[
            "token", "create", "--user", "1", "--scope", "crm", "--ttl", "1h",
        ],
    )
    .await;
    assert_eq!(token.len(), 32);
    let users = run(&dir, &db, &["user", "list"]).await;
    assert!(
        users.contains("ann@example.com") && users.contains("lead=read:own"),
        "{users}"
    );
    run(
        &dir,
        &db,
        &["portal", "set", "--time-zone", "Europe/Berlin"],
    )
    .await;
    let out = leadtrace(&dir, Some(&db))
        .args(["role", "add", "bad", "--rights", "lead=read:maybe"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());

    let mut cmd = leadtrace(&dir, Some(&db));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--webhook-code",
        "fixedcode",
    ]);
    let (mut child, lines) = serve(cmd).await;
    let admin_hook = printed(&lines, "Inbound webhook: ");
    assert!(admin_hook.ends_with("/rest/1/fixedcode/"), "{admin_hook}");
    let base = admin_hook.split("/rest/").next().unwrap().to_string();
    let client = reqwest::Client::new();
    let r = post(
        &client,
        format!("{base}/rest/2/anncode/crm.lead.add"),
        json!({"fields": {"TITLE": "Ann's"}}),
    )
    .await;
    assert_eq!(r["result"], json!(1), "{r}");
    let r = post(
        &client,
        format!("{admin_hook}crm.lead.add"),
        json!({"fields": {"TITLE": "Admin's"}}),
    )
    .await;
    assert_eq!(r["result"], json!(2), "{r}");
    let r = post(
        &client,
        format!("{base}/rest/2/anncode/crm.lead.list"),
        json!({}),
    )
    .await;
    assert_eq!(r["total"], json!(1), "the manager sees only her lead: {r}");
    let r = post(
        &client,
        format!("{base}/rest/crm.lead.list"),
        json!({"auth": token}),
    )
    .await;
    assert_eq!(r["total"], json!(2), "{r}");
    let r = post(&client, format!("{admin_hook}server.time"), json!({})).await;
    let now = r["result"].as_str().unwrap();
    assert!(
        now.ends_with("+01:00") || now.ends_with("+02:00"),
        "Berlin time: {now}"
    );
    child.kill().await.unwrap();
}

async fn tls_with_local_ca(b: Backend) {
    let dir = temp_dir("tls");
    let db = store::testing::fresh_url(b).await;
    let start = || {
        let mut cmd = leadtrace(&dir, Some(&db));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--tls-dir",
            "tls",
            "--webhook-code",
            "tlscode",
        ]);
        cmd
    };
    let (mut child, lines) = serve(start()).await;
    let hook = printed(&lines, "Inbound webhook: ");
    assert!(hook.starts_with("https://127.0.0.1:"), "{hook}");
    let ca_path = printed(
        &lines,
        "CA certificate (trust it with REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS): ",
    );
    let ca_pem = std::fs::read(dir.join(&ca_path))
        .or_else(|_| std::fs::read(&ca_path))
        .unwrap();
    let client = |pem: &[u8]| {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
            .tls_built_in_root_certs(false)
            .build()
            .unwrap()
    };
    let r = post(&client(&ca_pem), format!("{hook}server.time"), json!({})).await;
    assert!(r["result"].is_string(), "{r}");
    // A client that does not trust the CA is refused.
    assert!(reqwest::Client::new()
        .post(format!("{hook}server.time"))
        .send()
        .await
        .is_err());
    child.kill().await.unwrap();
    // After a restart the same CA file still verifies the new server certificate.
    let (mut child, lines) = serve(start()).await;
    let hook = printed(&lines, "Inbound webhook: ");
    let r = post(
        &client(&ca_pem),
        format!("{hook}crm.lead.add"),
        json!({"fields": {"TITLE": "over tls"}}),
    )
    .await;
    assert!(r["result"].is_i64(), "{r}");
    child.kill().await.unwrap();
}

/// `app create`, then `serve` with limits and a short token lifetime: the flags reach the server.
async fn app_create_then_oauth_under_limits(b: Backend) {
    let dir = temp_dir("oauth");
    let db = store::testing::fresh_url(b).await;
    let out = run(
        &dir,
        &db,
        &[
            "app",
            "create",
            "--name",
            "Reports",
            "--scope",
            "crm,user",
            "--redirect-uri",
            "https://app.example.com/cb",
        ],
    )
    .await;
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    let client_id = printed(&lines, "client_id: ");
    let client_secret = printed(&lines, "client_secret: ");
    assert!(client_id.starts_with("local."), "{client_id}");
    assert_eq!(client_secret.len(), 50);
    assert_eq!(
        printed(&lines, "authorize: "),
        format!("http://127.0.0.1:8080/oauth/authorize/?client_id={client_id}")
    );
    let listed = run(&dir, &db, &["app", "list"]).await;
    assert!(
        listed.contains(&client_id) && listed.contains("crm,user"),
        "{listed}"
    );

    let mut cmd = leadtrace(&dir, Some(&db));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--webhook-code",
        "fixedcode",
        "--rate-limit",
        "3/0.001",
        "--access-token-ttl",
        "90s",
    ]);
    let (mut child, lines) = serve(cmd).await;
    assert!(
        printed(&lines, "Limits: ").starts_with("rate 3 burst, draining 0.001/s per portal+ip"),
        "{lines:?}"
    );
    let admin_hook = printed(&lines, "Inbound webhook: ");
    let base = admin_hook.split("/rest/").next().unwrap().to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!(
            "{base}/oauth/authorize/?client_id={client_id}&state=s&aplogin=1&ap=fixedcode"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let code = location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap()
        .to_string();
    let token: Value = http
        .post(format!("{base}/oauth/token/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&client_id={client_id}&client_secret={client_secret}&code={code}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["expires_in"], json!(90), "{token}");
    let access = token["access_token"].as_str().unwrap();
    // Three calls fit in the bucket, the fourth is refused (it drains one per 1000 s).
    for _ in 0..3 {
        let r = post(
            &http,
            format!("{base}/rest/app.info"),
            json!({"auth": access}),
        )
        .await;
        assert_eq!(r["result"]["CODE"], json!(client_id), "{r}");
    }
    let r = http
        .post(format!("{base}/rest/app.info"))
        .json(&json!({"auth": access}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    child.kill().await.unwrap();
}
