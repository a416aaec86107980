//! The built-in OAuth server (spec/open-questions.md A11): `/oauth/authorize/` lets a portal user
//! consent to an application and redirects with a one-use `code`; `/oauth/token/` exchanges that
//! code, or a refresh token, for an access token in the shape of Bitrix24's OAuth server.
//!
//! Our users have no passwords: at `/oauth/authorize/` a user proves who they are with one of
//! their inbound webhooks (`aplogin` = user id, `ap` = webhook code, the names Bitrix24 uses for
//! webhook credentials in parameters), in the query for scripts or through a small login form.

use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bx_wire::{ApiError, Params};
use serde_json::{json, Value};
use store::{App, Grant, Token};

/// Largest body accepted by the OAuth endpoints (they take a handful of short fields).
const MAX_BODY: usize = 64 * 1024;
/// Application access tokens are kept this long after expiring, so their callers hear
/// `expired_token` (and refresh) rather than `NO_AUTH_FOUND`.
const KEEP_EXPIRED_TOKENS: i64 = 7 * 86400;
/// Status of every application on our server: a local application (Bitrix24's `L`).
pub const APP_STATUS: &str = "L";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize/", any(authorize))
        .route("/oauth/authorize", any(authorize))
        .route("/oauth/token/", any(token))
        .route("/oauth/token", any(token))
}

// ---------------------------------------------------------------------------------- helpers

/// Query plus (for POST) a form or JSON body, decoded like REST parameters.
async fn read_params(request: Request) -> Result<(Params, HeaderMap), ApiError> {
    let is_post = request.method() == HttpMethod::POST;
    let headers = request.headers().clone();
    let query = request.uri().query().map(str::to_string);
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| invalid_request("Request body is too large"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = bx_wire::request::build_params(query.as_deref(), is_post, content_type, &body)?;
    Ok((params, headers))
}

/// A non-empty text parameter (exact, lower-case name, as OAuth parameters are).
fn text(params: &Params, name: &str) -> Option<String> {
    match params.get(name) {
        Some(v @ (Value::String(_) | Value::Number(_))) => {
            Some(bx_wire::php::to_php_string(v)).filter(|s| !s.is_empty())
        }
        _ => None,
    }
}

fn oauth_error(code: &'static str, description: impl Into<String>, status: u16) -> ApiError {
    ApiError::coded(code, description.into(), status)
}

fn invalid_request(description: impl Into<String>) -> ApiError {
    oauth_error("invalid_request", description, 400)
}

fn require(params: &Params, name: &str) -> Result<String, ApiError> {
    text(params, name).ok_or_else(|| invalid_request(format!("Parameter '{name}' is required")))
}

/// How clients reach this server: `--public-url`, else the request's `Host` with our scheme.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config().public_url {
        return url.trim_end_matches('/').to_string();
    }
    let scheme = if state.config().tls { "https" } else { "http" };
    // Only a plain host[:port] is echoed back; anything else could smuggle text into redirects.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.config().listen.to_string());
    format!("{scheme}://{host}")
}

/// The host part (with port) of a base URL: what Bitrix24 calls the `domain`.
pub fn domain_of(base: &str) -> &str {
    base.split_once("://").map(|(_, rest)| rest).unwrap_or(base)
}

/// The portal's REST address, which is also where our OAuth server answers: the JS SDK derives
/// the token URL from `server_endpoint` minus `/rest/`, so both must name this server's root.
pub fn rest_endpoint(base: &str) -> String {
    format!("{base}/rest/")
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.status(), &e.body())
}

fn random(len: usize) -> String {
    crate::bootstrap::random_code(len)
}

// ---------------------------------------------------------------------------------- /oauth/token/

/// `grant_type=authorization_code` (`code`) or `grant_type=refresh_token` (`refresh_token`), with
/// `client_id` and `client_secret`; GET query or POST form. Errors: `{"error", "error_description"}`.
async fn token(State(state): State<AppState>, request: Request) -> Response {
    if request.method() == HttpMethod::OPTIONS {
        return StatusCode::OK.into_response();
    }
    let (params, headers) = match read_params(request).await {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let base = public_base(&state, &headers);
    match exchange(&state, &params, &base).await {
        Ok(answer) => json_response(200, &answer),
        Err(e) => error_response(&e),
    }
}

enum Exchange {
    Code(String),
    Refresh(String),
}

async fn exchange(state: &AppState, params: &Params, base: &str) -> Result<Value, ApiError> {
    let grant_type = require(params, "grant_type")?;
    let exchange = match grant_type.as_str() {
        "authorization_code" => Exchange::Code(require(params, "code")?),
        "refresh_token" => Exchange::Refresh(require(params, "refresh_token")?),
        _ => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "The authorization grant type is not supported",
                400,
            ))
        }
    };
    let client_id = require(params, "client_id")?;
    let client_secret = require(params, "client_secret")?;
    let now = state.clock().now_secs();
    let ttl = state.config().oauth.clone();
    let access_token = random(32);
    let refresh_token = random(32);
    let (access, refresh) = (access_token.clone(), refresh_token.clone());
    let (grant, member_id) = state
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let app = tx
                    .app_by_client_id(&client_id)
                    .await?
                    .filter(|a| a.active && secrets_match(&a.client_secret, &client_secret))
                    .ok_or_else(|| {
                        oauth_error("invalid_client", "Invalid client credentials", 401)
                    })?;
                let (grant, what) = match exchange {
                    Exchange::Code(code) => (tx.take_auth_code(&code).await?, "authorization code"),
                    Exchange::Refresh(token) => {
                        (tx.take_refresh_token(&token).await?, "refresh token")
                    }
                };
                let grant = grant
                    .filter(|g| g.app_id == app.id)
                    .ok_or_else(|| oauth_error("invalid_grant", format!("Invalid {what}"), 400))?;
                if grant.expires_at <= now {
                    return Err(match what {
                        "refresh token" => oauth_error(
                            "expired_token",
                            "The refresh token provided has expired",
                            400,
                        ),
                        _ => {
                            oauth_error("invalid_grant", "The authorization code has expired", 400)
                        }
                    });
                }
                let user = tx.user(grant.portal_id, grant.user_id).await?;
                if !user.is_some_and(|u| u.active) {
                    return Err(oauth_error("invalid_grant", "The user is not active", 400));
                }
                tx.purge_expired_oauth(now, KEEP_EXPIRED_TOKENS).await?;
                tx.add_token(&Token {
                    token: access,
                    portal_id: grant.portal_id,
                    user_id: grant.user_id,
                    scopes: grant.scopes.clone(),
                    expires_at: now + ttl.access_token_ttl,
                    app_id: Some(app.id),
                })
                .await?;
                tx.add_refresh_token(
                    &refresh,
                    &Grant {
                        expires_at: now + ttl.refresh_token_ttl,
                        ..grant.clone()
                    },
                )
                .await?;
                let member_id = tx
                    .portal(grant.portal_id)
                    .await?
                    .map(|p| p.member_id)
                    .unwrap_or_default();
                Ok((grant, member_id))
            })
        })
        .await?;
    let endpoint = rest_endpoint(base);
    // Key order and types as Bitrix24's OAuth server answers (A11); `scope` lists the granted
    // scopes where Bitrix24 writes "app".
    Ok(json!({
        "access_token": access_token,
        "expires": now + ttl.access_token_ttl,
        "expires_in": ttl.access_token_ttl,
        "scope": grant.scopes.join(","),
        "domain": domain_of(base),
        "server_endpoint": endpoint,
        "status": APP_STATUS,
        "client_endpoint": endpoint,
        "member_id": member_id,
        "user_id": grant.user_id,
        "refresh_token": refresh_token,
    }))
}

/// Compares secrets without stopping at the first difference.
fn secrets_match(stored: &str, given: &str) -> bool {
    stored.len() == given.len()
        && stored
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

// ---------------------------------------------------------------------------------- /oauth/authorize/

/// `client_id`, `state`, optional `redirect_uri` (must be the registered one), and the user's
/// webhook as `aplogin` + `ap`. Success: 302 to the application's redirect URI with `code`,
/// `state`, `domain`, `member_id`, `scope` and `server_domain`.
async fn authorize(State(state): State<AppState>, request: Request) -> Response {
    let (params, headers) = match read_params(request).await {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let base = public_base(&state, &headers);
    match consent(&state, &params, &base).await {
        Ok(Consent::Redirect(location)) => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, location)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Ok(Consent::ShowCode(code)) => html(
            StatusCode::OK,
            &format!(
                "<p>Authorization code (valid {} seconds): <code>{}</code></p>",
                state.config().oauth.code_ttl,
                escape(&code)
            ),
        ),
        Ok(Consent::Login { app, failed }) => login_form(&params, &app, failed),
        Err(e) => error_response(&e),
    }
}

enum Consent {
    Redirect(String),
    /// The application has no redirect URI: the user copies the code (as on Bitrix24).
    ShowCode(String),
    /// No credentials yet, or wrong ones.
    Login {
        app: App,
        failed: bool,
    },
}

async fn consent(state: &AppState, params: &Params, base: &str) -> Result<Consent, ApiError> {
    let client_id = require(params, "client_id")?;
    let app = state
        .store()
        .read(move |tx| Box::pin(async move { tx.app_by_client_id(&client_id).await }))
        .await?
        .filter(|a| a.active)
        .ok_or_else(|| {
            oauth_error(
                "invalid_client",
                "The application is not installed on this portal",
                400,
            )
        })?;
    if let Some(uri) = text(params, "redirect_uri") {
        if uri != app.redirect_uri {
            return Err(invalid_request(
                "redirect_uri does not match the application's redirect URI",
            ));
        }
    }
    let (Some(login), Some(code)) = (text(params, "aplogin"), text(params, "ap")) else {
        return Ok(Consent::Login { app, failed: false });
    };
    let Ok(user_id) = login.parse::<i64>() else {
        return Ok(Consent::Login { app, failed: true });
    };
    let auth_code = random(32);
    let now = state.clock().now_secs();
    let expires_at = now + state.config().oauth.code_ttl;
    let a = app.clone();
    let c = auth_code.clone();
    let member_id = state
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let hook = tx.webhook(user_id, &code).await?;
                let hook = hook.filter(|h| h.active && h.portal_id == a.portal_id);
                let user = match hook {
                    Some(_) => tx.user(a.portal_id, user_id).await?,
                    None => None,
                };
                if !user.is_some_and(|u| u.active) {
                    return Ok(None);
                }
                tx.add_auth_code(
                    &c,
                    &Grant {
                        portal_id: a.portal_id,
                        app_id: a.id,
                        user_id,
                        scopes: a.scopes.clone(),
                        expires_at,
                    },
                )
                .await?;
                let portal = tx.portal(a.portal_id).await?;
                Ok(Some(portal.map(|p| p.member_id).unwrap_or_default()))
            })
        })
        .await?;
    let Some(member_id) = member_id else {
        return Ok(Consent::Login { app, failed: true });
    };
    if app.redirect_uri.is_empty() {
        return Ok(Consent::ShowCode(auth_code));
    }
    let domain = domain_of(base);
    let mut query = Params::new();
    query.insert("code".into(), json!(auth_code));
    query.insert(
        "state".into(),
        json!(text(params, "state").unwrap_or_default()),
    );
    query.insert("domain".into(), json!(domain));
    query.insert("member_id".into(), json!(member_id));
    query.insert("scope".into(), json!(app.scopes.join(",")));
    query.insert("server_domain".into(), json!(domain));
    let separator = if app.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(Consent::Redirect(format!(
        "{}{separator}{}",
        app.redirect_uri,
        bx_wire::php::http_build_query(&query)
    )))
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>leadtrace: authorize an application</title></head><body>{body}</body></html>"
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(page))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Asks for the user's id and one of their webhook codes, keeping the request's OAuth parameters.
fn login_form(params: &Params, app: &App, failed: bool) -> Response {
    let hidden: String = ["client_id", "state", "redirect_uri"]
        .iter()
        .filter_map(|name| text(params, name).map(|v| (name, v)))
        .map(|(name, v)| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(&v)
            )
        })
        .collect();
    let notice = if failed {
        "<p><strong>Wrong user id or webhook code.</strong></p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>Authorize {name}</h1>\
         <p>The application asks for access to: {scopes}. Sign in with your user id and the code of one \
         of your inbound webhooks (the last part of <code>/rest/USER_ID/CODE/</code>).</p>{notice}\
         <form method=\"post\">{hidden}\
         <label>User id <input name=\"aplogin\" inputmode=\"numeric\"></label> \
         <label>Webhook code <input name=\"ap\" type=\"password\"></label> \
         <button type=\"submit\">Allow</button></form>",
        name = escape(&app.name),
        scopes = escape(&app.scopes.join(", ")),
    );
    let status = if failed {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    html(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "ab"));
        assert_eq!(domain_of("https://127.0.0.1:8443"), "127.0.0.1:8443");
        assert_eq!(
            rest_endpoint("https://crm.example.com"),
            "https://crm.example.com/rest/"
        );
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
