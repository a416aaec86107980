//! Administration: portals (tenants) with their seeded dictionaries, users, roles, webhooks and
//! OAuth tokens. Inherent methods of `Tx`, so they run inside `Store::read` / `Store::write`.

use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::status::StatusSeed;
use crm::{DbValue, Rights};
use sea_query::Value;

/// A portal: one Bitrix24 account, the tenant every other row belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portal {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    /// `classic` (leads enabled); Bitrix24's "simple" mode is not supported.
    pub crm_mode: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Stable 32-hex identifier of the portal (Bitrix24's `member_id`), set at start-up.
    pub member_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub portal_id: i64,
    pub login: String,
    pub name: String,
    pub last_name: String,
    pub email: String,
    pub active: bool,
    pub admin: bool,
    pub role_id: Option<i64>,
    /// `Rights::admin()` for administrators, else the role's rights; no role: no rights.
    pub rights: Rights,
    /// Unix seconds.
    pub date_register: i64,
    pub last_login: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub last_name: String,
    pub email: String,
    pub admin: bool,
    pub role_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: i64,
    pub portal_id: i64,
    pub name: String,
    pub rights: Rights,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub portal_id: i64,
    pub user_id: i64,
    pub code: String,
    pub scopes: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Token {
    pub token: String,
    pub portal_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The OAuth application the token was issued to (`None` for `leadtrace token create`).
    pub app_id: Option<i64>,
}

const PORTAL_COLUMNS: &str = "id, name, time_zone, currency, crm_mode, created_at, member_id";
const USER_SELECT: &str =
    "SELECT u.id, u.portal_id, u.login, u.name, u.last_name, u.email, u.active, u.admin, \
     u.role_id, r.rights, u.date_register, u.last_login \
     FROM app_user u LEFT JOIN role r ON r.portal_id = u.portal_id AND r.id = u.role_id";
const WEBHOOK_COLUMNS: &str = "id, portal_id, user_id, code, scopes, active";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn portal_from(r: &[DbValue]) -> Portal {
    Portal {
        id: val::int(&r[0]),
        name: val::text(&r[1]),
        time_zone: val::text(&r[2]),
        currency: val::text(&r[3]),
        crm_mode: val::text(&r[4]),
        created_at: val::int(&r[5]),
        member_id: val::text(&r[6]),
    }
}

/// Rights as stored (`Rights::to_spec` text). We write that text ourselves, so a parse failure
/// means a damaged row: logged, and the user gets no rights rather than guessed ones.
fn parse_rights(spec: &str) -> Rights {
    Rights::parse(spec).unwrap_or_else(|e| {
        tracing::error!(spec, error = %e, "stored role rights do not parse");
        Rights::default()
    })
}

fn user_from(r: &[DbValue]) -> User {
    let admin = val::flag(&r[7]);
    let rights = if admin {
        Rights::admin()
    } else {
        val::opt_text(&r[9])
            .map(|s| parse_rights(&s))
            .unwrap_or_default()
    };
    User {
        id: val::int(&r[0]),
        portal_id: val::int(&r[1]),
        login: val::text(&r[2]),
        name: val::text(&r[3]),
        last_name: val::text(&r[4]),
        email: val::text(&r[5]),
        active: val::flag(&r[6]),
        admin,
        role_id: val::opt_int(&r[8]),
        rights,
        date_register: val::int(&r[10]),
        last_login: val::opt_int(&r[11]),
    }
}

pub(crate) fn scopes_to_json(scopes: &[String]) -> String {
    serde_json::Value::from(scopes.to_vec()).to_string()
}

pub(crate) fn scopes_from(v: &DbValue) -> Vec<String> {
    serde_json::from_str(&val::text(v)).unwrap_or_else(|e| {
        tracing::error!(error = %e, "stored scopes are not a JSON list of strings");
        Vec::new()
    })
}

fn webhook_from(r: &[DbValue]) -> Webhook {
    Webhook {
        id: val::int(&r[0]),
        portal_id: val::int(&r[1]),
        user_id: val::int(&r[2]),
        code: val::text(&r[3]),
        scopes: scopes_from(&r[4]),
        active: val::flag(&r[5]),
    }
}

pub(crate) fn argument(description: String, argument: &'static str) -> ApiError {
    ApiError::Argument {
        description: description.into(),
        argument: argument.into(),
    }
}

pub(crate) fn opt_i64(v: Option<i64>) -> Value {
    Value::BigInt(v)
}

fn opt_str(v: Option<&str>) -> Value {
    Value::String(v.map(|s| Box::new(s.to_string())))
}

impl Tx {
    /// The portal with the lowest id: the one that exists from the first start.
    pub async fn default_portal(&mut self) -> Result<Option<Portal>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {PORTAL_COLUMNS} FROM portal ORDER BY id LIMIT 1"),
                vec![],
            )
            .await?;
        Ok(rows.first().map(|r| portal_from(r)))
    }

    /// Creates a portal with its status dictionaries (`SYSTEM = Y`), currencies (the base
    /// currency and EUR, or EUR and USD when the base is EUR) and Sales Intelligence sources.
    pub async fn create_portal(
        &mut self,
        name: &str,
        time_zone: &str,
        currency: &str,
        statuses: &[StatusSeed],
    ) -> Result<Portal, ApiError> {
        let created_at = now();
        let rows = self
            .fetch_sql(
                &format!(
                    "INSERT INTO portal (name, time_zone, currency, crm_mode, created_at) \
                     VALUES (?, ?, ?, 'classic', ?) RETURNING {PORTAL_COLUMNS}"
                ),
                vec![
                    name.into(),
                    time_zone.into(),
                    currency.into(),
                    created_at.into(),
                ],
            )
            .await?;
        let portal = portal_from(rows.first().ok_or(ApiError::Internal)?);
        for s in statuses {
            self.exec_sql(
                "INSERT INTO crm_status \
                 (portal_id, entity_id, status_id, name, name_init, sort, system, category_id, color, semantics) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    portal.id.into(),
                    s.entity_id.into(),
                    s.status_id.into(),
                    s.name.into(),
                    s.name.into(),
                    s.sort.into(),
                    true.into(),
                    opt_i64(None),
                    opt_str(s.color),
                    opt_str(s.semantics),
                ],
            )
            .await?;
        }
        let second = if currency == "EUR" { "USD" } else { "EUR" };
        for (code, sort, base) in [(currency, 100_i64, true), (second, 200, false)] {
            self.exec_sql(
                "INSERT INTO currency (portal_id, code, sort, base, date_update) VALUES (?, ?, ?, ?, ?)",
                vec![
                    portal.id.into(),
                    code.into(),
                    sort.into(),
                    base.into(),
                    created_at.into(),
                ],
            )
            .await?;
        }
        self.seed_sources(portal.id, created_at).await?;
        Ok(portal)
    }

    pub async fn portal(&mut self, id: i64) -> Result<Option<Portal>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {PORTAL_COLUMNS} FROM portal WHERE id = ?"),
                vec![id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| portal_from(r)))
    }

    /// Changes one setting: `time_zone`, `currency`, `crm_mode` or `name`. A new currency also
    /// becomes the base of the portal's currency list (added to it when missing).
    pub async fn set_portal_setting(
        &mut self,
        id: i64,
        key: &str,
        value: &str,
    ) -> Result<(), ApiError> {
        let column = match key {
            "time_zone" => "time_zone",
            "currency" => "currency",
            "crm_mode" => "crm_mode",
            "name" => "name",
            _ => return Err(argument(format!("Unknown portal setting '{key}'"), "key")),
        };
        let n = self
            .exec_sql(
                &format!("UPDATE portal SET {column} = ? WHERE id = ?"),
                vec![value.into(), id.into()],
            )
            .await?;
        if n == 0 {
            return Err(ApiError::not_found());
        }
        if column == "currency" {
            self.exec_sql(
                "UPDATE currency SET base = ? WHERE portal_id = ?",
                vec![false.into(), id.into()],
            )
            .await?;
            let n = self
                .exec_sql(
                    "UPDATE currency SET base = ? WHERE portal_id = ? AND code = ?",
                    vec![true.into(), id.into(), value.into()],
                )
                .await?;
            if n == 0 {
                self.exec_sql(
                    "INSERT INTO currency (portal_id, code, sort, base, date_update) VALUES (?, ?, ?, ?, ?)",
                    vec![
                        id.into(),
                        value.into(),
                        100_i64.into(),
                        true.into(),
                        now().into(),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Adds an active user; returns its id. Ids are global, so the first user ever created (the
    /// default portal's administrator) is user 1.
    pub async fn add_user(&mut self, portal_id: i64, u: &NewUser) -> Result<i64, ApiError> {
        // Checked before inserting: a constraint violation would poison the transaction.
        let taken = self
            .fetch_sql(
                "SELECT 1 FROM app_user WHERE portal_id = ? AND login = ?",
                vec![portal_id.into(), u.login.as_str().into()],
            )
            .await?;
        if !taken.is_empty() {
            return Err(argument(
                format!("A user with login '{}' already exists", u.login),
                "login",
            ));
        }
        if let Some(role_id) = u.role_id {
            let role = self
                .fetch_sql(
                    "SELECT 1 FROM role WHERE portal_id = ? AND id = ?",
                    vec![portal_id.into(), role_id.into()],
                )
                .await?;
            if role.is_empty() {
                return Err(argument(
                    format!("Role {role_id} does not exist"),
                    "role_id",
                ));
            }
        }
        let rows = self
            .fetch_sql(
                "INSERT INTO app_user (portal_id, login, name, last_name, email, active, admin, role_id, date_register) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    u.login.as_str().into(),
                    u.name.as_str().into(),
                    u.last_name.as_str().into(),
                    u.email.as_str().into(),
                    true.into(),
                    u.admin.into(),
                    opt_i64(u.role_id),
                    now().into(),
                ],
            )
            .await?;
        rows.first()
            .map(|r| val::int(&r[0]))
            .ok_or(ApiError::Internal)
    }

    pub async fn user(&mut self, portal_id: i64, id: i64) -> Result<Option<User>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("{USER_SELECT} WHERE u.portal_id = ? AND u.id = ?"),
                vec![portal_id.into(), id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| user_from(r)))
    }

    /// All users of the portal, by id.
    pub async fn users(&mut self, portal_id: i64) -> Result<Vec<User>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("{USER_SELECT} WHERE u.portal_id = ? ORDER BY u.id"),
                vec![portal_id.into()],
            )
            .await?;
        Ok(rows.iter().map(|r| user_from(r)).collect())
    }

    /// Adds a role; `rights` are stored as `Rights::to_spec` text (its `admin` flag is not: being
    /// an administrator is a property of the user).
    pub async fn add_role(
        &mut self,
        portal_id: i64,
        name: &str,
        rights: &Rights,
    ) -> Result<i64, ApiError> {
        if self.role_by_name(portal_id, name).await?.is_some() {
            return Err(argument(
                format!("A role named '{name}' already exists"),
                "name",
            ));
        }
        let rows = self
            .fetch_sql(
                "INSERT INTO role (portal_id, name, rights) VALUES (?, ?, ?) RETURNING id",
                vec![portal_id.into(), name.into(), rights.to_spec().into()],
            )
            .await?;
        rows.first()
            .map(|r| val::int(&r[0]))
            .ok_or(ApiError::Internal)
    }

    pub async fn role_by_name(
        &mut self,
        portal_id: i64,
        name: &str,
    ) -> Result<Option<Role>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT id, portal_id, name, rights FROM role WHERE portal_id = ? AND name = ?",
                vec![portal_id.into(), name.into()],
            )
            .await?;
        Ok(rows.first().map(|r| Role {
            id: val::int(&r[0]),
            portal_id: val::int(&r[1]),
            name: val::text(&r[2]),
            rights: parse_rights(&val::text(&r[3])),
        }))
    }

    /// Adds an active webhook of a user. Codes are unique across the server.
    pub async fn add_webhook(
        &mut self,
        portal_id: i64,
        user_id: i64,
        code: &str,
        scopes: &[String],
    ) -> Result<i64, ApiError> {
        let taken = self
            .fetch_sql("SELECT 1 FROM webhook WHERE code = ?", vec![code.into()])
            .await?;
        if !taken.is_empty() {
            return Err(argument(
                "A webhook with this code already exists".to_string(),
                "code",
            ));
        }
        let user = self
            .fetch_sql(
                "SELECT 1 FROM app_user WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), user_id.into()],
            )
            .await?;
        if user.is_empty() {
            return Err(argument(
                format!("User {user_id} does not exist"),
                "user_id",
            ));
        }
        let rows = self
            .fetch_sql(
                "INSERT INTO webhook (portal_id, user_id, code, scopes, active) VALUES (?, ?, ?, ?, ?) RETURNING id",
                vec![portal_id.into(), user_id.into(), code.into(), scopes_to_json(scopes).into(), true.into()],
            )
            .await?;
        rows.first()
            .map(|r| val::int(&r[0]))
            .ok_or(ApiError::Internal)
    }

    /// The webhook `/rest/{user_id}/{code}/` names, if that user owns that code.
    pub async fn webhook(&mut self, user_id: i64, code: &str) -> Result<Option<Webhook>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhook WHERE code = ? AND user_id = ?"),
                vec![code.into(), user_id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| webhook_from(r)))
    }

    /// All webhooks of the portal, by id.
    pub async fn webhooks(&mut self, portal_id: i64) -> Result<Vec<Webhook>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhook WHERE portal_id = ? ORDER BY id"),
                vec![portal_id.into()],
            )
            .await?;
        Ok(rows.iter().map(|r| webhook_from(r)).collect())
    }

    pub async fn add_token(&mut self, t: &Token) -> Result<(), ApiError> {
        self.exec_sql("INSERT INTO token (token, portal_id, user_id, scopes, expires_at, app_id) VALUES (?, ?, ?, ?, ?, ?)", vec![
            t.token.as_str().into(),
            t.portal_id.into(),
            t.user_id.into(),
            scopes_to_json(&t.scopes).into(),
            t.expires_at.into(),
            opt_i64(t.app_id),
        ])
        .await?;
        Ok(())
    }

    /// The token, expired or not (the caller compares `expires_at` with its clock).
    pub async fn token(&mut self, token: &str) -> Result<Option<Token>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT token, portal_id, user_id, scopes, expires_at, app_id FROM token WHERE token = ?",
                vec![token.into()],
            )
            .await?;
        Ok(rows.first().map(|r| Token {
            token: val::text(&r[0]),
            portal_id: val::int(&r[1]),
            user_id: val::int(&r[2]),
            scopes: scopes_from(&r[3]),
            expires_at: val::int(&r[4]),
            app_id: val::opt_int(&r[5]),
        }))
    }
}
