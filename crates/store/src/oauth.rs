//! OAuth records: applications registered on a portal, the one-use authorization codes and
//! refresh tokens issued for them, and the portal's `member_id`. Inherent methods of `Tx`.

use crate::admin::{argument, scopes_from, scopes_to_json};
use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::DbValue;

/// An OAuth application ("local application" in Bitrix24's words) installed on a portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: i64,
    pub portal_id: i64,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    /// Sent with events as `auth[application_token]`.
    pub application_token: String,
    pub version: i64,
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewApp {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub application_token: String,
}

/// What an authorization code or a refresh token stands for: a user's consent to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub portal_id: i64,
    pub app_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

const APP_COLUMNS: &str = "id, portal_id, name, client_id, client_secret, scopes, redirect_uri, \
     application_token, version, active, created_at";

fn app_from(r: &[DbValue]) -> App {
    App {
        id: val::int(&r[0]),
        portal_id: val::int(&r[1]),
        name: val::text(&r[2]),
        client_id: val::text(&r[3]),
        client_secret: val::text(&r[4]),
        scopes: scopes_from(&r[5]),
        redirect_uri: val::text(&r[6]),
        application_token: val::text(&r[7]),
        version: val::int(&r[8]),
        active: val::flag(&r[9]),
        created_at: val::int(&r[10]),
    }
}

fn grant_from(r: &[DbValue]) -> Grant {
    Grant {
        portal_id: val::int(&r[0]),
        app_id: val::int(&r[1]),
        user_id: val::int(&r[2]),
        scopes: scopes_from(&r[3]),
        expires_at: val::int(&r[4]),
    }
}

/// Where a grant is kept: authorization codes or refresh tokens (same columns).
#[derive(Debug, Clone, Copy)]
enum GrantTable {
    Code,
    Refresh,
}

impl GrantTable {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            GrantTable::Code => ("app_auth_code", "code"),
            GrantTable::Refresh => ("refresh_token", "token"),
        }
    }
}

impl Tx {
    /// Gives the portal its `member_id` if it has none yet; returns the one it has.
    pub async fn ensure_member_id(
        &mut self,
        portal_id: i64,
        fresh: &str,
    ) -> Result<String, ApiError> {
        self.exec_sql(
            "UPDATE portal SET member_id = ? WHERE id = ? AND member_id = ''",
            vec![fresh.into(), portal_id.into()],
        )
        .await?;
        let rows = self
            .fetch_sql(
                "SELECT member_id FROM portal WHERE id = ?",
                vec![portal_id.into()],
            )
            .await?;
        rows.first()
            .map(|r| val::text(&r[0]))
            .ok_or_else(ApiError::not_found)
    }

    /// Registers an active application on the portal; returns its id. Client ids are unique
    /// across the server.
    pub async fn add_app(&mut self, portal_id: i64, app: &NewApp) -> Result<i64, ApiError> {
        if self.app_by_client_id(&app.client_id).await?.is_some() {
            return Err(argument(
                "An application with this client_id already exists".to_string(),
                "client_id",
            ));
        }
        let rows = self
            .fetch_sql(
                "INSERT INTO app (portal_id, name, client_id, client_secret, scopes, redirect_uri, \
                 application_token, version, active, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    app.name.as_str().into(),
                    app.client_id.as_str().into(),
                    app.client_secret.as_str().into(),
                    scopes_to_json(&app.scopes).into(),
                    app.redirect_uri.as_str().into(),
                    app.application_token.as_str().into(),
                    1_i64.into(),
                    true.into(),
                    chrono::Utc::now().timestamp().into(),
                ],
            )
            .await?;
        rows.first()
            .map(|r| val::int(&r[0]))
            .ok_or(ApiError::Internal)
    }

    pub async fn app(&mut self, id: i64) -> Result<Option<App>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {APP_COLUMNS} FROM app WHERE id = ?"),
                vec![id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| app_from(r)))
    }

    pub async fn app_by_client_id(&mut self, client_id: &str) -> Result<Option<App>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {APP_COLUMNS} FROM app WHERE client_id = ?"),
                vec![client_id.into()],
            )
            .await?;
        Ok(rows.first().map(|r| app_from(r)))
    }

    /// All applications of the portal, by id.
    pub async fn apps(&mut self, portal_id: i64) -> Result<Vec<App>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("SELECT {APP_COLUMNS} FROM app WHERE portal_id = ? ORDER BY id"),
                vec![portal_id.into()],
            )
            .await?;
        Ok(rows.iter().map(|r| app_from(r)).collect())
    }

    async fn add_grant(&mut self, table: GrantTable, key: &str, g: &Grant) -> Result<(), ApiError> {
        let (table, column) = table.sql();
        self.exec_sql(
            &format!(
                "INSERT INTO {table} ({column}, portal_id, app_id, user_id, scopes, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?)"
            ),
            vec![
                key.into(),
                g.portal_id.into(),
                g.app_id.into(),
                g.user_id.into(),
                scopes_to_json(&g.scopes).into(),
                g.expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Removes and returns a grant in one statement, so two concurrent requests presenting the
    /// same code or refresh token cannot both use it.
    async fn take_grant(
        &mut self,
        table: GrantTable,
        key: &str,
    ) -> Result<Option<Grant>, ApiError> {
        let (table, column) = table.sql();
        let rows = self
            .fetch_sql(
                &format!(
                    "DELETE FROM {table} WHERE {column} = ? \
                     RETURNING portal_id, app_id, user_id, scopes, expires_at"
                ),
                vec![key.into()],
            )
            .await?;
        Ok(rows.first().map(|r| grant_from(r)))
    }

    pub async fn add_auth_code(&mut self, code: &str, g: &Grant) -> Result<(), ApiError> {
        self.add_grant(GrantTable::Code, code, g).await
    }

    /// The authorization code's grant, expired or not; the code is used up either way.
    pub async fn take_auth_code(&mut self, code: &str) -> Result<Option<Grant>, ApiError> {
        self.take_grant(GrantTable::Code, code).await
    }

    pub async fn add_refresh_token(&mut self, token: &str, g: &Grant) -> Result<(), ApiError> {
        self.add_grant(GrantTable::Refresh, token, g).await
    }

    /// The refresh token's grant, expired or not; the token is used up either way (a refresh
    /// returns a new one, as Bitrix24's OAuth server does).
    pub async fn take_refresh_token(&mut self, token: &str) -> Result<Option<Grant>, ApiError> {
        self.take_grant(GrantTable::Refresh, token).await
    }

    /// Forgets what can no longer be used: expired codes and refresh tokens, and application
    /// access tokens that expired more than `keep_expired` seconds ago (an expired token is kept
    /// a while so that its caller hears `expired_token`, not `NO_AUTH_FOUND`).
    pub async fn purge_expired_oauth(
        &mut self,
        now: i64,
        keep_expired: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "DELETE FROM app_auth_code WHERE expires_at < ?",
            vec![now.into()],
        )
        .await?;
        self.exec_sql(
            "DELETE FROM refresh_token WHERE expires_at < ?",
            vec![now.into()],
        )
        .await?;
        self.exec_sql(
            "DELETE FROM token WHERE app_id IS NOT NULL AND expires_at < ?",
            vec![(now - keep_expired).into()],
        )
        .await?;
        Ok(())
    }
}
