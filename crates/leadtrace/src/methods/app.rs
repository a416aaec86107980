//! `app.info` (spec/system-methods.md §1): the application a token was issued to, or the scopes
//! and licence of a webhook; any other caller has no application context.

use crate::auth::AuthKind;
use crate::oauth::APP_STATUS;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use serde_json::{json, Value};

/// The licence this server reports (spec: default `en_project`).
pub const LICENSE: &str = "en_project";
const LICENSE_TYPE: &str = "project";
const LICENSE_FAMILY: &str = "project";

pub fn register(r: &mut Registry) {
    r.add("app.info", Scope::Basic, |call| {
        Box::pin(async move { app_info(&call) })
    });
}

fn app_info(call: &Call) -> Result<Output, ApiError> {
    let caller = &call.caller;
    if let Some(app) = &caller.app {
        return Ok(json!({
            "ID": app.id,
            "CODE": app.client_id,
            "VERSION": app.version,
            "STATUS": APP_STATUS,
            "INSTALLED": true,
            "PAYMENT_EXPIRED": "N",
            "DAYS": null,
            "LANGUAGE_ID": "en",
            "LICENSE": LICENSE,
            "LICENSE_TYPE": LICENSE_TYPE,
            "LICENSE_FAMILY": LICENSE_FAMILY,
        })
        .into());
    }
    if let AuthKind::Webhook { .. } = caller.kind {
        let scopes: Vec<Value> = caller
            .scopes
            .iter()
            .filter(|s| !s.eq_ignore_ascii_case("basic"))
            .map(|s| json!(s))
            .collect();
        return Ok(json!({"SCOPE": scopes, "LICENSE": LICENSE}).into());
    }
    Err(ApiError::coded(
        "ACCESS_DENIED",
        "Access denied! Application context required",
        403,
    ))
}
