//! The command line: `serve`, and the administration commands (`webhook`, `user`, `role`,
//! `token`, `app`, `portal`, `event`, `source`, `expenses`) that work on the same database while
//! the server runs or not.

use crate::bootstrap;
use crate::config::{EventsConfig, OAuthConfig, ServeConfig};
use crate::expense_cli;
use crate::limits::{LimitsConfig, OperatingConfig, RateKey, RateLimit, SyntheticCost};
use clap::{Args, Parser, Subcommand};
use crm::Rights;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use store::{HandlerFilter, HandlerKind, NewApp, NewEventHandler, NewUser, Store, Token};

#[derive(Parser, Debug)]
#[command(
    name = "leadtrace",
    version,
    about = "Self-hosted CRM server speaking the Bitrix24 REST API"
)]
pub struct Cli {
    /// Database: `sqlite://FILE` or `postgres://...`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://leadtrace.db"
    )]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage inbound webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage roles (per-entity access rights).
    #[command(subcommand)]
    Role(RoleCommand),
    /// Mint OAuth-style access tokens for `/rest/{method}` calls.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Register OAuth applications (authorization-code flow at /oauth/authorize/ and /oauth/token/).
    #[command(subcommand)]
    App(AppCommand),
    /// Portal settings.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// Sales Intelligence sources (what traces resolve to).
    #[command(subcommand)]
    Source(SourceCommand),
    /// Sales Intelligence expenses: ad spend per source, split evenly over its days.
    #[command(subcommand)]
    Expenses(ExpensesCommand),
    /// Outgoing webhooks: event handlers configured for the portal (spec/events.md §1.1).
    #[command(subcommand)]
    Event(EventCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[arg(long, env = "LEADTRACE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Fixes the default webhook's code (random when absent).
    #[arg(long, env = "LEADTRACE_WEBHOOK_CODE")]
    pub webhook_code: Option<String>,
    /// Serve HTTPS with a certificate from a local CA generated on first use.
    #[arg(long, env = "LEADTRACE_TLS")]
    pub tls: bool,
    /// Where the local CA and its key are kept.
    #[arg(long, env = "LEADTRACE_TLS_DIR", default_value = ".leadtrace/tls")]
    pub tls_dir: PathBuf,
    /// A real certificate (PEM) instead of the local CA; needs --tls-key.
    #[arg(long, env = "LEADTRACE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, env = "LEADTRACE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "LEADTRACE_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Refuse webhook calls over plain HTTP, as Bitrix24 does.
    #[arg(long, env = "LEADTRACE_REQUIRE_HTTPS")]
    pub require_https: bool,
    /// Request-rate limit (leaky bucket, 503 QUERY_LIMIT_EXCEEDED): `off`, `standard` (50, draining
    /// 2 per second), `enterprise` (250 and 5) or `BURST/RATE`.
    #[arg(long, env = "LEADTRACE_RATE_LIMIT", default_value = "off", value_parser = RateSetting::parse)]
    pub rate_limit: RateSetting,
    /// What one bucket counts: `portal`, `portal+ip` or `portal+credential`.
    #[arg(long, env = "LEADTRACE_RATE_LIMIT_KEY", default_value = "portal+ip", value_parser = RateKey::parse)]
    pub rate_limit_key: RateKey,
    /// Operating-time limit per method and caller, in seconds per 10 minutes.
    #[arg(long, env = "LEADTRACE_OPERATING_LIMIT", default_value = "480", value_parser = seconds)]
    pub operating_limit: f64,
    /// Answer 429 OPERATION_TIME_LIMIT past the operating limit: `on` or `off` (default: on when
    /// a rate limit is set, off otherwise).
    #[arg(long, env = "LEADTRACE_OPERATING_BLOCK", value_parser = on_off)]
    pub operating_block: Option<bool>,
    /// Count operating time at all (`off`: `time.operating` is always 0).
    #[arg(long, env = "LEADTRACE_OPERATING_ACCOUNTING", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub operating_accounting: bool,
    /// Calls shorter than this many seconds are not billed (the cloud was measured at about 0.1).
    #[arg(long, env = "LEADTRACE_OPERATING_MIN_BILLABLE", default_value = "0", value_parser = seconds)]
    pub operating_min_billable: f64,
    /// Extra seconds billed per call, to test client throttling: `SECONDS` or
    /// `METHOD=SECONDS,...,*=SECONDS`.
    #[arg(long, env = "LEADTRACE_OPERATING_COST", default_value = "", value_parser = SyntheticCost::parse)]
    pub operating_cost: SyntheticCost,
    /// Lifetime of OAuth access tokens: `3600`, `90s`, `30m`, `1h`, `2d`.
    #[arg(long, env = "LEADTRACE_ACCESS_TOKEN_TTL", default_value = "1h", value_parser = parse_ttl)]
    pub access_token_ttl: i64,
    /// Lifetime of OAuth refresh tokens.
    #[arg(long, env = "LEADTRACE_REFRESH_TOKEN_TTL", default_value = "180d", value_parser = parse_ttl)]
    pub refresh_token_ttl: i64,
    /// The address clients reach this server at, e.g. `https://crm.example.com` (OAuth answers and
    /// the `domain` and endpoints sent with events). Default: the request's Host / the listening address.
    #[arg(long, env = "LEADTRACE_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub events: EventsArgs,
}

/// `--rate-limit`'s value (clap reserves a bare `Option` for "flag may be absent").
#[derive(Debug, Clone, Copy)]
pub struct RateSetting(pub Option<RateLimit>);

impl RateSetting {
    fn parse(s: &str) -> Result<RateSetting, String> {
        RateLimit::parse(s).map(RateSetting)
    }
}

/// A non-negative number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("expected a number of seconds (0 or more), got '{s}'"))
}

fn on_off(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(format!("expected on or off, got '{s}'")),
    }
}

impl ServeArgs {
    fn limits(&self) -> LimitsConfig {
        LimitsConfig {
            rate_limit: self.rate_limit.0,
            rate_key: self.rate_limit_key,
            operating: OperatingConfig {
                accounting: self.operating_accounting,
                limit_seconds: self.operating_limit,
                // Bitrix-like limits when asked for them; a plain local endpoint never answers 429.
                block: self.operating_block.unwrap_or(self.rate_limit.0.is_some()),
                min_billable_seconds: self.operating_min_billable,
                synthetic_cost: self.operating_cost.clone(),
            },
        }
    }
}

/// Event delivery (spec/events.md §3). Bitrix24 sends an event once and never retries; retrying
/// is our extension, on by default (`--events-retry-enabled false` for Bitrix24's behaviour).
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Retry deliveries that failed (connection error, timeout, non-2xx answer).
    #[arg(long, env = "LEADTRACE_EVENTS_RETRY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub events_retry_enabled: bool,
    /// Attempts in all, the first included.
    #[arg(long, env = "LEADTRACE_EVENTS_RETRY_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub events_retry_max_attempts: u32,
    /// Wait before the first retry, in seconds (fractions allowed).
    #[arg(long, env = "LEADTRACE_EVENTS_RETRY_INITIAL_DELAY_SECONDS", default_value_t = 1.0, value_parser = seconds)]
    pub events_retry_initial_delay_seconds: f64,
    /// Each later wait is this many times the previous one.
    #[arg(long, env = "LEADTRACE_EVENTS_RETRY_MULTIPLIER", default_value_t = 2.0, value_parser = multiplier)]
    pub events_retry_multiplier: f64,
    /// The longest wait between attempts, in seconds.
    #[arg(long, env = "LEADTRACE_EVENTS_RETRY_MAX_DELAY_SECONDS", default_value_t = 300.0, value_parser = seconds)]
    pub events_retry_max_delay_seconds: f64,
    /// A handler that has not answered within this many seconds has failed.
    #[arg(long, env = "LEADTRACE_EVENTS_TIMEOUT_SECONDS", default_value_t = 10.0, value_parser = seconds)]
    pub events_timeout_seconds: f64,
}

fn multiplier(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (1.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a multiplier between 1 and 1000")),
    }
}

impl EventsArgs {
    pub fn config(&self) -> EventsConfig {
        EventsConfig {
            retry_enabled: self.events_retry_enabled,
            max_attempts: self.events_retry_max_attempts,
            initial_delay: Duration::from_secs_f64(self.events_retry_initial_delay_seconds),
            multiplier: self.events_retry_multiplier,
            max_delay: Duration::from_secs_f64(self.events_retry_max_delay_seconds),
            timeout: Duration::from_secs_f64(self.events_timeout_seconds),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Create an inbound webhook and print its URL.
    Create {
        #[arg(long)]
        user: i64,
        /// Comma-separated scopes, e.g. `crm,user`.
        #[arg(long, default_value = "crm,user")]
        scope: String,
        /// The code (random when absent).
        #[arg(long)]
        code: Option<String>,
        /// Base URL used when printing (the server's address).
        #[arg(
            long,
            env = "LEADTRACE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        base_url: String,
    },
    /// List webhooks.
    List,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; prints its ID.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        #[arg(long, default_value = "")]
        email: String,
        /// Login (defaults to the e-mail, or name + id).
        #[arg(long)]
        login: Option<String>,
        /// `admin`, or the name of a role made with `leadtrace role add`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// List users.
    List,
}

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Add a role, e.g. `--rights "lead=read:own,add:all,update:own,delete:none"`.
    Add {
        name: String,
        #[arg(long)]
        rights: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an access token; prints it.
    Create {
        #[arg(long)]
        user: i64,
        #[arg(long, default_value = "crm,user")]
        scope: String,
        /// Lifetime: `3600`, `90s`, `30m`, `1h`, `2d`.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum EventCommand {
    /// Send an event to a URL (an outgoing webhook); prints the handler's ID and its application
    /// token (sent as `auth[application_token]`, for the handler to check).
    Add {
        /// Event name in any case, e.g. `onCrmLeadAdd`.
        #[arg(long)]
        event: String,
        /// The handler URL (http or https).
        #[arg(long)]
        handler: String,
        /// The user the webhook belongs to.
        #[arg(long, default_value_t = 1)]
        user: i64,
        /// The application token (by default the one of the webhook's other events with the same
        /// URL and user, or a new random one).
        #[arg(long)]
        token: Option<String>,
    },
    /// List outgoing webhooks and the handlers applications bound.
    List,
    /// Remove a handler by ID; its undelivered events are dropped.
    Remove { id: i64 },
    /// Show recent deliveries (state, attempts, last error).
    Log {
        /// Only this handler's.
        #[arg(long)]
        handler: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Register an application on the default portal; prints its client id and secret.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, e.g. `crm,user`.
        #[arg(long, default_value = "crm")]
        scope: String,
        /// Where /oauth/authorize/ sends the user back with `code` (empty: the code is shown).
        #[arg(long, default_value = "")]
        redirect_uri: String,
        /// Base URL used when printing the authorization URL (the server's address).
        #[arg(
            long,
            env = "LEADTRACE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        base_url: String,
    },
    /// List applications.
    List,
}

#[derive(Subcommand, Debug)]
pub enum PortalCommand {
    /// Change a setting of the default portal.
    Set {
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        /// Sales Intelligence attribution window in days (1–365; default 28).
        #[arg(long)]
        attribution_window_days: Option<i64>,
        /// Use the attribution window for leads and deals: `on` or `off` (default on).
        #[arg(long)]
        attribution_window: Option<String>,
        /// `simple`: no leads — a lead added through REST becomes a deal at once and the lead
        /// methods no longer find leads; `classic` (the default): leads and deals.
        #[arg(long, value_parser = ["simple", "classic"])]
        crm_mode: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SourceCommand {
    /// List the sources: id, code, name, active, utm_source values, referrer domains
    /// (`/pattern/` is a regular expression).
    List,
    /// Add a source; prints its ID.
    Add {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Change a source. A list option given replaces that whole list (`--utm-source ''` empties it).
    Update {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Delete a source; its traces fall back to source 0 (other traffic), its expense packs are
    /// deleted (deactivate it instead to keep them).
    Delete { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum ExpensesCommand {
    /// Import expense packs from a CSV file: all rows or none (one transaction).
    ///
    /// A header row names the columns, in any order: source (id or code), date_from, date_to,
    /// amount, currency, impressions, clicks, comment. source, date_from and amount are required;
    /// an empty date_to is date_from, an empty currency the base currency, empty counts 0. Dates
    /// YYYY-MM-DD, amounts like 1234.56 (at most 2 decimals), at most 365 days per row. Every bad
    /// line is reported with its number and nothing is written.
    Import {
        file: PathBuf,
        /// Check every row, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List expense packs: id, source id, date_from, date_to, amount, currency, impressions,
    /// clicks, comment.
    List {
        /// Only this source (an id or a code).
        #[arg(long)]
        source: Option<String>,
        /// Only packs with days on or after this date.
        #[arg(long)]
        from: Option<String>,
        /// Only packs with days on or before this date.
        #[arg(long)]
        to: Option<String>,
    },
    /// Delete an expense pack with its days.
    Delete { id: i64 },
}

#[derive(Args, Debug, Default)]
pub struct SourceFields {
    /// A code such as `partners` (unique; empty for none).
    #[arg(long)]
    code: Option<String>,
    /// `Y` or `N`.
    #[arg(long)]
    active: Option<String>,
    #[arg(long)]
    color: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// A utm_source value, compared exactly (repeatable).
    #[arg(long = "utm-source")]
    utm_source: Vec<String>,
    /// A regular expression for utm_source values (repeatable).
    #[arg(long = "utm-source-regex")]
    utm_source_regex: Vec<String>,
    /// A referrer domain; it also matches its subdomains (repeatable).
    #[arg(long = "ref-domain")]
    ref_domain: Vec<String>,
    /// A regular expression for referrer hosts (repeatable).
    #[arg(long = "ref-domain-regex")]
    ref_domain_regex: Vec<String>,
    /// A phone number of call tracking (repeatable).
    #[arg(long)]
    phone: Vec<String>,
    /// A mailbox address (repeatable).
    #[arg(long)]
    email: Vec<String>,
}

impl SourceFields {
    /// The `fields` of `leadtrace.tracking.source.add/update`.
    fn to_json(&self, name: Option<String>) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let mut m = Map::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::from(v.clone()));
            }
        };
        put("NAME", &name);
        put("CODE", &self.code);
        put("ACTIVE", &self.active);
        put("COLOR", &self.color);
        put("DESCRIPTION", &self.description);
        for (key, plain, regex) in [
            ("UTM_SOURCE", &self.utm_source, &self.utm_source_regex),
            ("REF_DOMAIN", &self.ref_domain, &self.ref_domain_regex),
            ("PHONE", &self.phone, &Vec::new()),
            ("EMAIL", &self.email, &Vec::new()),
        ] {
            if plain.is_empty() && regex.is_empty() {
                continue;
            }
            let items: Vec<Value> = plain
                .iter()
                .map(|v| json!(v))
                .chain(regex.iter().map(|r| json!({ "REGEXP": r })))
                .collect();
            m.insert(key.into(), Value::Array(items));
        }
        Value::Object(m)
    }
}

/// Runs a source method of `crm::tracking::sources` as the portal's administrator.
async fn source_call(
    store: &Store,
    portal: store::Portal,
    op: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let params = params.as_object().cloned().unwrap_or_default();
    store
        .write(move |tx| {
            Box::pin(async move {
                let actor = crm::Actor {
                    portal_id: portal.id,
                    user_id: 0,
                    rights: Rights::admin(),
                };
                let settings = crm::PortalSettings {
                    time_zone: portal.time_zone.parse().unwrap_or(chrono_tz::UTC),
                    currency: portal.currency.clone(),
                };
                let ctx = crm::Ctx {
                    actor: &actor,
                    settings: &settings,
                    now: chrono::Utc::now().timestamp(),
                };
                use crm::tracking::sources;
                let out = match op {
                    "list" => sources::list(tx, &ctx).await,
                    "add" => sources::add(tx, &ctx, &params).await,
                    "update" => sources::update(tx, &ctx, &params).await,
                    _ => sources::delete(tx, &ctx, &params).await,
                }?;
                Ok(out.result)
            })
        })
        .await
        .map_err(|e| e.description().to_string())
}

/// One line of `leadtrace source list`.
fn source_line(s: &serde_json::Value) -> String {
    let list = |key: &str| -> String {
        s[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| match v.get("REGEXP") {
                        Some(r) => format!("/{}/", r.as_str().unwrap_or_default()),
                        None => v.as_str().unwrap_or_default().to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        s["ID"],
        s["CODE"].as_str().unwrap_or_default(),
        s["NAME"].as_str().unwrap_or_default(),
        s["ACTIVE"].as_str().unwrap_or_default(),
        list("UTM_SOURCE"),
        list("REF_DOMAIN")
    )
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("leadtrace: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leadtrace: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADTRACE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses a lifetime such as `1h` into seconds.
pub fn parse_ttl(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: i64 = num.parse().map_err(|_| format!("bad duration '{s}'"))?;
    let mult = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("bad duration unit in '{s}' (use s, m, h or d)")),
    };
    Ok(n * mult)
}

fn scopes(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_ascii_lowercase())
        .filter(|x| !x.is_empty())
        .collect()
}

async fn open(url: &str) -> Result<(Store, store::Portal), String> {
    let store = Store::open(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))?;
    let portal = bootstrap::ensure_portal(&store)
        .await
        .map_err(|e| e.to_string())?;
    Ok((store, portal))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(a) => {
            let limits = a.limits();
            let config = ServeConfig {
                listen: a.listen,
                database_url: cli.database_url,
                webhook_code: a.webhook_code,
                tls: a.tls || a.tls_cert.is_some(),
                tls_dir: a.tls_dir,
                tls_cert: a.tls_cert,
                tls_key: a.tls_key,
                max_body_bytes: a.max_body_bytes,
                require_https: a.require_https,
                limits,
                oauth: OAuthConfig {
                    access_token_ttl: a.access_token_ttl,
                    refresh_token_ttl: a.refresh_token_ttl,
                    ..OAuthConfig::default()
                },
                events: a.events.config(),
                public_url: a.public_url,
                ..ServeConfig::default()
            };
            let limits = config.limits.to_string();
            let running = bootstrap::start(config).await?;
            println!("leadtrace listening on {}", running.base_url);
            println!("Limits: {limits}");
            if let Some(ca) = &running.ca_path {
                println!(
                    "CA certificate (trust it with REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS): {}",
                    ca.display()
                );
            }
            let base = running.base_url.trim_end_matches('/');
            println!("Dashboard: {base}/dashboard");
            println!("Website tracker: <script src=\"{base}/tracker.js\"></script>");
            println!("Inbound webhook: {}", running.webhook_url);
            let handle = running.handle();
            tokio::spawn(async move {
                shutdown_signal().await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            running.wait().await.map_err(|e| e.to_string())
        }
        Command::Webhook(WebhookCommand::Create {
            user,
            scope,
            code,
            base_url,
        }) => {
            let (store, portal) = open(&cli.database_url).await?;
            let code = code.unwrap_or_else(|| bootstrap::random_code(16));
            let scopes = scopes(&scope);
            let c = code.clone();
            store
                .write(move |tx| {
                    Box::pin(async move {
                        if tx.user(portal.id, user).await?.is_none() {
                            return Err(bx_wire::ApiError::legacy(format!(
                                "no user with ID {user}"
                            )));
                        }
                        tx.add_webhook(portal.id, user, &c, &scopes).await
                    })
                })
                .await
                .map_err(|e| e.description().to_string())?;
            println!("{}/rest/{user}/{code}/", base_url.trim_end_matches('/'));
            Ok(())
        }
        Command::Webhook(WebhookCommand::List) => {
            let (store, portal) = open(&cli.database_url).await?;
            let hooks = store
                .read(move |tx| Box::pin(async move { tx.webhooks(portal.id).await }))
                .await
                .map_err(|e| e.to_string())?;
            for h in hooks {
                println!(
                    "{}\tuser {}\t{}\t{}",
                    h.id,
                    h.user_id,
                    h.code,
                    h.scopes.join(",")
                );
            }
            Ok(())
        }
        Command::User(UserCommand::Add {
            name,
            last_name,
            email,
            login,
            role,
        }) => {
            let (store, portal) = open(&cli.database_url).await?;
            let id = store
                .write(move |tx| {
                    Box::pin(async move {
                        let (admin, role_id) = if role.eq_ignore_ascii_case("admin") {
                            (true, None)
                        } else {
                            let r = tx.role_by_name(portal.id, &role).await?;
                            let r = r.ok_or_else(|| {
                                bx_wire::ApiError::legacy(format!("no role named '{role}'"))
                            })?;
                            (false, Some(r.id))
                        };
                        let login = login.unwrap_or_else(|| {
                            if email.is_empty() {
                                name.to_lowercase()
                            } else {
                                email.clone()
                            }
                        });
                        tx.add_user(
                            portal.id,
                            &NewUser {
                                login,
                                name,
                                last_name,
                                email,
                                admin,
                                role_id,
                            },
                        )
                        .await
                    })
                })
                .await
                .map_err(|e| e.description().to_string())?;
            println!("{id}");
            Ok(())
        }
        Command::User(UserCommand::List) => {
            let (store, portal) = open(&cli.database_url).await?;
            let users = store
                .read(move |tx| Box::pin(async move { tx.users(portal.id).await }))
                .await
                .map_err(|e| e.to_string())?;
            for u in users {
                let role = if u.admin {
                    "admin".to_string()
                } else {
                    u.rights.to_spec()
                };
                println!(
                    "{}\t{}\t{} {}\t{}",
                    u.id, u.login, u.name, u.last_name, role
                );
            }
            Ok(())
        }
        Command::Role(RoleCommand::Add { name, rights }) => {
            let rights = Rights::parse(&rights)?;
            let (store, portal) = open(&cli.database_url).await?;
            let id = store
                .write(move |tx| {
                    Box::pin(async move { tx.add_role(portal.id, &name, &rights).await })
                })
                .await
                .map_err(|e| e.description().to_string())?;
            println!("{id}");
            Ok(())
        }
        Command::Token(TokenCommand::Create { user, scope, ttl }) => {
            let ttl = parse_ttl(&ttl)?;
            let (store, portal) = open(&cli.database_url).await?;
            let token = Token {
                token: bootstrap::random_code(32),
                portal_id: portal.id,
                user_id: user,
                scopes: scopes(&scope),
                expires_at: chrono::Utc::now().timestamp() + ttl,
                app_id: None,
            };
            let printed = token.token.clone();
            store
                .write(move |tx| {
                    Box::pin(async move {
                        if tx.user(token.portal_id, token.user_id).await?.is_none() {
                            return Err(bx_wire::ApiError::legacy(format!(
                                "no user with ID {}",
                                token.user_id
                            )));
                        }
                        tx.add_token(&token).await
                    })
                })
                .await
                .map_err(|e| e.description().to_string())?;
            println!("{printed}");
            Ok(())
        }
        Command::Event(command) => event_command(&cli.database_url, command).await,
        Command::App(AppCommand::Create {
            name,
            scope,
            redirect_uri,
            base_url,
        }) => {
            let (store, portal) = open(&cli.database_url).await?;
            let app = NewApp {
                name,
                client_id: format!(
                    "local.{}.{}",
                    bootstrap::random_hex(14),
                    bootstrap::random_digits(8)
                ),
                client_secret: bootstrap::random_alnum(50),
                scopes: scopes(&scope),
                redirect_uri,
                application_token: bootstrap::random_hex(32),
            };
            let a = app.clone();
            store
                .write(move |tx| Box::pin(async move { tx.add_app(portal.id, &a).await }))
                .await
                .map_err(|e| e.description().to_string())?;
            println!("client_id: {}", app.client_id);
            println!("client_secret: {}", app.client_secret);
            println!("application_token: {}", app.application_token);
            println!(
                "authorize: {}/oauth/authorize/?client_id={}",
                base_url.trim_end_matches('/'),
                app.client_id
            );
            Ok(())
        }
        Command::App(AppCommand::List) => {
            let (store, portal) = open(&cli.database_url).await?;
            let apps = store
                .read(move |tx| Box::pin(async move { tx.apps(portal.id).await }))
                .await
                .map_err(|e| e.to_string())?;
            for a in apps {
                println!(
                    "{}\t{}\t{}\t{}\t{}{}",
                    a.id,
                    a.client_id,
                    a.name,
                    a.scopes.join(","),
                    a.redirect_uri,
                    if a.active { "" } else { "\tinactive" }
                );
            }
            Ok(())
        }
        Command::Portal(PortalCommand::Set {
            time_zone,
            currency,
            attribution_window_days,
            attribution_window,
            crm_mode,
        }) => {
            if let Some(tz) = &time_zone {
                tz.parse::<chrono_tz::Tz>()
                    .map_err(|_| format!("unknown time zone '{tz}'"))?;
            }
            if let Some(days) = attribution_window_days {
                if !(1..=crm::tracking::TrackingSettings::MAX_WINDOW_DAYS).contains(&days) {
                    return Err(format!(
                        "the attribution window is 1 to {} days",
                        crm::tracking::TrackingSettings::MAX_WINDOW_DAYS
                    ));
                }
            }
            let use_window = match attribution_window.as_deref().map(str::to_ascii_lowercase) {
                None => None,
                Some(v) if matches!(v.as_str(), "on" | "y" | "yes" | "true") => Some(true),
                Some(v) if matches!(v.as_str(), "off" | "n" | "no" | "false") => Some(false),
                Some(v) => return Err(format!("--attribution-window is on or off, not '{v}'")),
            };
            let (store, portal) = open(&cli.database_url).await?;
            store
                .write(move |tx| {
                    Box::pin(async move {
                        if let Some(tz) = time_zone {
                            tx.set_portal_setting(portal.id, "time_zone", &tz).await?;
                        }
                        if let Some(c) = currency {
                            tx.set_portal_setting(portal.id, "currency", &c.to_ascii_uppercase())
                                .await?;
                        }
                        if attribution_window_days.is_some() || use_window.is_some() {
                            let mut s = crm::Storage::tracking_settings(tx, portal.id).await?;
                            if let Some(days) = attribution_window_days {
                                s.attribution_window_days = days;
                            }
                            if let Some(on) = use_window {
                                s.use_attribution_window = on;
                            }
                            tx.set_tracking_settings(portal.id, &s).await?;
                        }
                        if let Some(mode) = crm_mode {
                            tx.set_portal_setting(portal.id, "crm_mode", &mode).await?;
                        }
                        Ok(())
                    })
                })
                .await
                .map_err(|e| e.description().to_string())
        }
        Command::Source(cmd) => {
            let (store, portal) = open(&cli.database_url).await?;
            match cmd {
                SourceCommand::List => {
                    let list = source_call(&store, portal, "list", serde_json::json!({})).await?;
                    for s in list.as_array().into_iter().flatten() {
                        println!("{}", source_line(s));
                    }
                }
                SourceCommand::Add { name, fields } => {
                    let params = serde_json::json!({ "fields": fields.to_json(Some(name)) });
                    println!("{}", source_call(&store, portal, "add", params).await?);
                }
                SourceCommand::Update { id, name, fields } => {
                    let params = serde_json::json!({ "id": id, "fields": fields.to_json(name) });
                    source_call(&store, portal, "update", params).await?;
                }
                SourceCommand::Delete { id } => {
                    source_call(&store, portal, "delete", serde_json::json!({ "id": id })).await?;
                }
            }
            Ok(())
        }
        Command::Expenses(cmd) => {
            let (store, portal) = open(&cli.database_url).await?;
            match cmd {
                ExpensesCommand::Import { file, dry_run } => {
                    println!(
                        "{}",
                        expense_cli::import(&store, portal, &file, dry_run).await?
                    );
                }
                ExpensesCommand::List { source, from, to } => {
                    let source_id = match source {
                        None => None,
                        Some(s) => {
                            let all =
                                source_call(&store, portal.clone(), "list", serde_json::json!({}))
                                    .await?;
                            let found = all.as_array().into_iter().flatten().find(|x| {
                                x["ID"].as_i64().map(|id| id.to_string()).as_deref()
                                    == Some(s.trim())
                                    || x["CODE"]
                                        .as_str()
                                        .is_some_and(|c| c.eq_ignore_ascii_case(s.trim()))
                            });
                            Some(
                                found.ok_or_else(|| format!("Source `{s}` does not exist."))?["ID"]
                                    .clone(),
                            )
                        }
                    };
                    let filter = serde_json::json!({
                        "SOURCE_ID": source_id, "DATE_FROM": from, "DATE_TO": to,
                    });
                    for line in expense_cli::list(&store, portal, filter).await? {
                        println!("{line}");
                    }
                }
                ExpensesCommand::Delete { id } => {
                    expense_cli::call(&store, portal, "delete", serde_json::json!({ "id": id }))
                        .await?;
                }
            }
            Ok(())
        }
    }
}

async fn event_command(database_url: &str, command: EventCommand) -> Result<(), String> {
    let (store, portal) = open(database_url).await?;
    match command {
        EventCommand::Add {
            event,
            handler,
            user,
            token,
        } => {
            let event = crate::methods::event::known_event(&event)
                .ok_or_else(|| format!("unknown event '{event}' (see the `events` method)"))?;
            crate::methods::event::check_handler_url(&handler)
                .map_err(|e| e.description().to_string())?;
            let (id, token) = store
                .write(move |tx| {
                    Box::pin(async move {
                        if tx.user(portal.id, user).await?.is_none() {
                            return Err(bx_wire::ApiError::legacy(format!(
                                "no user with ID {user}"
                            )));
                        }
                        let filter = HandlerFilter {
                            kind: Some(HandlerKind::Webhook),
                            user_id: Some(user),
                            ..HandlerFilter::default()
                        };
                        let existing = tx.event_handlers(portal.id, &filter).await?;
                        if existing
                            .iter()
                            .any(|h| h.event_name == event && h.handler == handler)
                        {
                            return Err(bx_wire::ApiError::legacy(format!(
                                "{event} is already sent to {handler}"
                            )));
                        }
                        // One outgoing webhook (a URL) has one token for all its events.
                        let token = token
                            .or_else(|| {
                                existing
                                    .iter()
                                    .find(|h| h.handler == handler)
                                    .map(|h| h.application_token.clone())
                            })
                            .unwrap_or_else(store::events::random_hex);
                        let id = tx
                            .add_event_handler(&NewEventHandler {
                                portal_id: portal.id,
                                kind: HandlerKind::Webhook,
                                app_id: String::new(),
                                event_name: event,
                                handler,
                                auth_type: 0,
                                offline: false,
                                auth_connector: String::new(),
                                options: serde_json::json!({}),
                                user_id: user,
                                scopes: Vec::new(),
                                application_token: token.clone(),
                            })
                            .await?;
                        Ok((id, token))
                    })
                })
                .await
                .map_err(|e| e.description().to_string())?;
            println!("{id}\t{token}");
        }
        EventCommand::List => {
            let handlers = store
                .read(move |tx| {
                    Box::pin(async move {
                        tx.event_handlers(portal.id, &HandlerFilter::default())
                            .await
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            for h in handlers {
                let kind = match h.kind {
                    HandlerKind::Webhook => "webhook",
                    HandlerKind::App if h.offline => "app-offline",
                    HandlerKind::App => "app",
                };
                println!(
                    "{}\t{}\t{}\t{}\tuser {}\t{}",
                    h.id, kind, h.event_name, h.handler, h.user_id, h.application_token
                );
            }
        }
        EventCommand::Remove { id } => {
            let removed = store
                .write(move |tx| {
                    Box::pin(async move { tx.remove_event_handlers(portal.id, &[id]).await })
                })
                .await
                .map_err(|e| e.to_string())?;
            if removed == 0 {
                return Err(format!("no event handler with ID {id}"));
            }
        }
        EventCommand::Log { handler } => {
            let rows = store
                .read(move |tx| Box::pin(async move { tx.deliveries(portal.id, handler).await }))
                .await
                .map_err(|e| e.to_string())?;
            for d in rows {
                println!(
                    "{}\thandler {}\t{}\t{}\t{}\tattempts {}\t{}",
                    d.id,
                    d.handler_id,
                    d.event_name,
                    d.data,
                    d.state,
                    d.attempts,
                    d.last_error.unwrap_or_default()
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl() {
        assert_eq!(parse_ttl("1h"), Ok(3600));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert!(parse_ttl("1y").is_err());
    }
}
