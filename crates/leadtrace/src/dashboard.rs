//! `GET /dashboard`: the Sales Intelligence dashboard, a hand-written page (HTML, CSS, JS built
//! into the binary from `assets/`) that runs in the browser and calls
//! `leadtrace.tracking.report.get` through the ordinary REST API with the visitor's own
//! credentials (an inbound webhook URL, or a base URL and an OAuth access token). The server
//! holds no session for it: the page keeps the credentials in the tab's `sessionStorage`.
//!
//! No external assets: everything the page needs is served here, under a strict
//! Content-Security-Policy (scripts and styles from this server only; the page may call any
//! REST endpoint the visitor names).

use crate::state::AppState;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("../assets/dashboard.html");
const JS: &str = include_str!("../assets/dashboard.js");
const CSS: &str = include_str!("../assets/dashboard.css");

/// Scripts, styles and images from this server only; requests to any http(s) endpoint (the
/// webhook URL may name another server); no framing.
const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/", get(page))
        .route("/dashboard/{file}", get(asset))
}

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn page() -> Response {
    respond("text/html; charset=utf-8", HTML)
}

async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "dashboard.js" => respond("text/javascript; charset=utf-8", JS),
        "dashboard.css" => respond("text/css; charset=utf-8", CSS),
        _ => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_only_its_own_assets() {
        assert!(HTML.contains(r#"src="/dashboard/dashboard.js""#));
        assert!(HTML.contains(r#"href="/dashboard/dashboard.css""#));
        for text in [HTML, JS, CSS] {
            // (The SVG namespace is a name, not an address.)
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(!text.contains("http://") && !text.contains("https://"));
            assert!(!text.contains("//cdn"));
        }
        // CSP forbids inline script and style: the page has neither.
        assert!(!HTML.contains("<script>") && !HTML.contains("<style"));
        assert!(!HTML.contains(" style=\"") && !HTML.contains(" onclick="));
    }
}
