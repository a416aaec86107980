//! The command line: `serve`, and the administration commands (`webhook`, `user`, `role`,
//! `token`, `portal`, `source`) that work on the same database while the server runs or not.

use crate::bootstrap;
use crate::config::ServeConfig;
use clap::{Args, Parser, Subcommand};
use crm::Rights;
use std::path::PathBuf;
use std::process::ExitCode;
use store::{NewUser, Store, Token};

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
    /// Portal settings.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// Sales Intelligence sources (what traces resolve to).
    #[command(subcommand)]
    Source(SourceCommand),
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
    /// Delete a source; its traces fall back to source 0 (other traffic).
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
            };
            let running = bootstrap::start(config).await?;
            println!("leadtrace listening on {}", running.base_url);
            if let Some(ca) = &running.ca_path {
                println!(
                    "CA certificate (trust it with REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS): {}",
                    ca.display()
                );
            }
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
        Command::Portal(PortalCommand::Set {
            time_zone,
            currency,
            attribution_window_days,
            attribution_window,
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
    }
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
