//! `GET /tracker.js`: the website tracker (`window.b24Tracker.guest`, spec/sales-intelligence.md
//! §4.1–4.2) that a site embeds with one `<script>` tag. The script is the hand-written
//! `assets/tracker.js`; the server bakes in the default portal's attribution window as the
//! tracker's lifespan (a `data-lifespan` attribute on the tag overrides it in the browser).
//!
//! Public, no credentials (a browser on the customer's site loads it). Cached for 5 minutes and
//! revalidated by `ETag`, so a changed attribution window reaches browsers soon.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use crm::tracking::TrackingSettings;
use md5::{Digest, Md5};

/// The script as written; `{{LIFESPAN_DAYS}}` is replaced when served.
pub const SCRIPT: &str = include_str!("../assets/tracker.js");
const LIFESPAN_MARK: &str = "{{LIFESPAN_DAYS}}";
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn routes() -> Router<AppState> {
    Router::new().route("/tracker.js", get(serve))
}

/// The script with `days` as its built-in lifespan.
pub fn script(days: i64) -> String {
    let days = days.clamp(1, TrackingSettings::MAX_WINDOW_DAYS);
    SCRIPT.replace(LIFESPAN_MARK, &days.to_string())
}

/// The attribution window of the default portal (the one every webhook of this server belongs
/// to); the default of 28 days if it cannot be read.
async fn lifespan_days(state: &AppState) -> i64 {
    let read = state
        .store()
        .read(|tx| {
            Box::pin(async move {
                match tx.default_portal().await? {
                    Some(p) => Ok(Some(
                        crm::Storage::tracking_settings(tx, p.id)
                            .await?
                            .attribution_window_days,
                    )),
                    None => Ok(None),
                }
            })
        })
        .await;
    match read {
        Ok(Some(days)) => days,
        Ok(None) => TrackingSettings::DEFAULT_WINDOW_DAYS,
        Err(e) => {
            tracing::warn!(
                "tracker.js: cannot read the attribution window: {}",
                e.description()
            );
            TrackingSettings::DEFAULT_WINDOW_DAYS
        }
    }
}

async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let body = script(lifespan_days(&state).await);
    let digest = Md5::digest(body.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/javascript; charset=utf-8"),
            )],
            body,
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifespan_is_baked_in_and_clamped() {
        assert!(SCRIPT.contains("+'{{LIFESPAN_DAYS}}' || 28"));
        assert!(script(14).contains("var PORTAL_LIFESPAN_DAYS = +'14' || 28;"));
        assert!(script(0).contains("+'1' || 28"));
        assert!(script(10_000).contains("+'365' || 28"));
        assert!(!script(28).contains(LIFESPAN_MARK));
    }
}
