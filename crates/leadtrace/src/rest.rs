//! The HTTP face of the REST API: `/rest/[{user}/{code}/]{method}[.json|.xml][/]`, GET or POST in
//! any encoding, answered with Bitrix24's envelopes. Order: method lookup, body, auth, scope,
//! rate limit, operating limit, run.

use crate::auth::{self, Credentials};
use crate::registry::{self, Method};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bx_wire::envelope;
use bx_wire::{ApiError, Params};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Output format chosen by the method-name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// A parsed `/rest/...` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestPath {
    pub webhook: Option<(String, String)>,
    pub method: String,
    pub format: Format,
}

/// Splits the part of the path after `/rest/`. `None` for shapes that can never name a method
/// (including REST 3.0's `/rest/api/...`, which we do not serve).
pub fn parse_path(rest: &str) -> Option<RestPath> {
    let trimmed = rest.trim_matches('/');
    let parts: Vec<&str> = trimmed.split('/').collect();
    let (webhook, raw) = match parts.as_slice() {
        [m] => (None, *m),
        [user, code, m] => (Some((user.to_string(), code.to_string())), *m),
        _ => return None,
    };
    if raw.is_empty() || parts.first() == Some(&"api") {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    let (method, format) = if let Some(m) = lower.strip_suffix(".json") {
        (m.to_string(), Format::Json)
    } else if let Some(m) = lower.strip_suffix(".xml") {
        (m.to_string(), Format::Xml)
    } else {
        (lower, Format::Json)
    };
    Some(RestPath {
        webhook,
        method,
        format,
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/rest/{*path}", any(rest_call))
        .route("/rest", any(rest_call))
        .merge(crate::oauth::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::tracker::routes())
        .with_state(state)
        .layer(axum::middleware::map_response(cors_headers))
}

async fn cors_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("origin, content-type, accept"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn rest_call(State(state): State<AppState>, request: Request) -> Response {
    if request.method() == HttpMethod::OPTIONS {
        return StatusCode::OK.into_response();
    }
    let path = request
        .uri()
        .path()
        .strip_prefix("/rest")
        .unwrap_or("")
        .to_string();
    let Some(rest_path) = parse_path(&path) else {
        return error_response(&ApiError::MethodNotFound, Format::Json);
    };
    let format = rest_path.format;
    // Bitrix24 looks the method up before it checks credentials.
    let Some(method) = state.registry().get(&rest_path.method) else {
        return error_response(&ApiError::MethodNotFound, format);
    };
    match handle(&state, method, rest_path, request).await {
        Ok((output, time)) => success_response(&output, time, format),
        Err(e) => error_response(&e, format),
    }
}

async fn handle(
    state: &AppState,
    method: &Method,
    path: RestPath,
    request: Request,
) -> Result<(bx_wire::Output, Value), ApiError> {
    let is_https = request.uri().scheme_str() == Some("https") || state.config().tls;
    let ip = client_ip(&request);
    let (mut params, bearer) = read_params(state, request).await?;
    // Reserved, so stripped below; the call runs with it (offline events skip the changes of
    // their own connector, spec/events.md §4).
    let connector = match params.get("auth_connector") {
        Some(Value::String(c)) if !c.is_empty() => Some(c.clone()),
        _ => None,
    };
    let creds = auth::take_credentials(path.webhook, bearer.as_deref(), &mut params);
    if state.config().require_https && !is_https && matches!(creds, Credentials::Webhook { .. }) {
        return Err(ApiError::HttpsRequired);
    }
    let caller = Arc::new(auth::authenticate(state, creds).await?);
    if !method.scope.granted(&caller.scopes) {
        return Err(ApiError::InsufficientScope {
            oauth: caller.is_oauth(),
        });
    }
    // One HTTP request, one count: a batch is counted here once, whatever it contains.
    state.limits().admit(&caller, ip).await?;
    let (outcome, time) = store::events::with_auth_connector(
        connector,
        registry::invoke(state, &caller, method, params),
    )
    .await;
    let output = outcome?;
    Ok((output, time.to_value(caller.offset())))
}

/// The peer address of the connection (absent when the router is served without connect info).
pub fn client_ip(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Builds the parameter set from the query string and the body (spec/transport.md §3.1).
async fn read_params(
    state: &AppState,
    request: Request,
) -> Result<(Params, Option<String>), ApiError> {
    let limit = state.config().max_body_bytes;
    let is_post = request.method() == HttpMethod::POST;
    let headers = request.headers().clone();
    let query = request.uri().query().map(str::to_string);
    let bearer = bearer_token(&headers);
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::coded(
                "INVALID_REQUEST",
                format!("Request body is larger than {limit} bytes"),
                413,
            )
        })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_multipart = content_type
        .as_deref()
        .map(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"))
        .unwrap_or(false);
    let params = if is_post && is_multipart {
        let query_params = match &query {
            Some(q) => bx_wire::php::parse_str(q)?,
            None => Params::new(),
        };
        let pairs = multipart_pairs(content_type.as_deref().unwrap_or(""), body).await?;
        bx_wire::request::merge(query_params, bx_wire::php::parse_pairs(pairs)?)
    } else {
        bx_wire::request::build_params(query.as_deref(), is_post, content_type.as_deref(), &body)?
    };
    Ok((params, bearer))
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

/// The text fields of a multipart body; file parts are not parameters.
async fn multipart_pairs(
    content_type: &str,
    body: Bytes,
) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |_| ApiError::BadRequest("Malformed multipart/form-data body".into());
    let boundary = multer::parse_boundary(content_type).map_err(bad)?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.file_name().is_some() {
            continue;
        }
        let name = field.name().unwrap_or("").to_string();
        let value = field.bytes().await.map_err(bad)?;
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| ApiError::BadRequest("Request is not valid UTF-8".into()))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn success_response(output: &bx_wire::Output, time: Value, format: Format) -> Response {
    let body = envelope::success(output, time);
    render(StatusCode::OK, &body, format)
}

pub fn error_response(e: &ApiError, format: Format) -> Response {
    // Rate-limit refusals are routine under load; logging each would flood the log.
    if e.status() >= 500 && *e != ApiError::QueryLimitExceeded {
        tracing::warn!(code = e.code(), "{}", e.description());
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    render(status, &e.body(), format)
}

fn render(status: StatusCode, body: &Value, format: Format) -> Response {
    let (content_type, text) = match format {
        Format::Json => ("application/json; charset=utf-8", body.to_string()),
        Format::Xml => ("text/xml; charset=utf-8", bx_wire::xml::render(body)),
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(text))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("/1/abc/crm.lead.Add.json").unwrap();
        assert_eq!(p.webhook, Some(("1".into(), "abc".into())));
        assert_eq!(p.method, "crm.lead.add");
        assert_eq!(p.format, Format::Json);
        let p = parse_path("/1/abc/crm.lead.add/").unwrap();
        assert_eq!(p.method, "crm.lead.add");
        let p = parse_path("/batch.xml").unwrap();
        assert_eq!(
            (p.webhook, p.method.as_str(), p.format),
            (None, "batch", Format::Xml)
        );
        assert!(parse_path("/api/1/abc/crm.lead.add").is_none());
        assert!(parse_path("/a/b").is_none());
        assert!(parse_path("/").is_none());
    }
}
