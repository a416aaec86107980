//! `GET /tracker.js` (spec/sales-intelligence.md §4.2): the website tracker is served publicly as
//! JavaScript with the public API of `window.b24Tracker.guest`, the portal's attribution window
//! baked in as its lifespan, and caching headers that revalidate. The browser behaviour itself
//! is tested end to end by e2e/tests/*.mjs.

mod common;
use common::*;
use store::Backend;

backend_tests!(
    served_as_javascript_with_the_api,
    lifespan_follows_the_attribution_window
);

async fn get(app: &TestApp, etag: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}/tracker.js", app.base));
    if let Some(tag) = etag {
        req = req.header("If-None-Match", tag);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

async fn served_as_javascript_with_the_api(b: Backend) {
    let app = spawn_app(b).await;
    let r = get(&app, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "application/javascript; charset=utf-8"
    );
    assert_eq!(header(&r, "cache-control"), "public, max-age=300");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    let etag = header(&r, "etag");
    let body = r.text().await.unwrap();
    assert!(body.contains("window.b24Tracker.guest = {"), "{body}");
    for api in [
        "init: init",
        "getTrace: getTrace",
        "remindTrace: remindTrace",
        "getPages: getPages",
        "getTags: getTags",
        "getUtmSource: getUtmSource",
        "isUtmSourceDetected: isUtmSourceDetected",
        "getGidCookie: getGidCookie",
        "setGid: setGid",
        "link: link",
        "register: register",
        "storeTrace: storeTrace",
        "registerOrder: registerOrder",
        "window.b24order",
        "'b24_crm_guest_utm'",
        "'b24_crm_guest_id'",
    ] {
        assert!(body.contains(api), "tracker.js lacks {api}");
    }
    // The default portal's window (28 days) is the lifespan; nothing is left unreplaced.
    assert!(body.contains("var PORTAL_LIFESPAN_DAYS = +'28' || 28;"));
    assert!(!body.contains("{{"), "an unreplaced placeholder");
    assert_eq!(body, leadtrace::tracker::script(28));

    // Revalidation: the same ETag answers 304 without a body; HEAD answers the headers.
    let r = get(&app, Some(&etag)).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag);
    assert!(r.text().await.unwrap().is_empty());
    let r = get(&app, Some("\"other\"")).await;
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .head(format!("{}/tracker.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "application/javascript; charset=utf-8"
    );

    // It is not a REST method: no credentials needed, and only GET/HEAD.
    let r = app
        .client
        .post(format!("{}/tracker.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

async fn lifespan_follows_the_attribution_window(b: Backend) {
    let app = spawn_app(b).await;
    let r = get(&app, None).await;
    let etag = header(&r, "etag");
    app.running
        .state
        .store()
        .write(|tx| {
            Box::pin(async move {
                tx.set_tracking_settings(
                    1,
                    &crm::tracking::TrackingSettings {
                        use_attribution_window: true,
                        attribution_window_days: 14,
                    },
                )
                .await
            })
        })
        .await
        .unwrap();
    // The old ETag no longer matches: the new script comes back.
    let r = get(&app, Some(&etag)).await;
    assert_eq!(r.status(), 200);
    assert_ne!(header(&r, "etag"), etag);
    let body = r.text().await.unwrap();
    assert!(body.contains("var PORTAL_LIFESPAN_DAYS = +'14' || 28;"));
}
