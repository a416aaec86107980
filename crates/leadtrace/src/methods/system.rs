//! System methods clients call at start-up (spec/system-methods.md §1): `server.time`, `scope`,
//! `methods`, `method.get`, `profile`, `user.current`.

use crate::registry::{Call, Registry, Scope};
use bx_wire::envelope::format_datetime;
use bx_wire::{names, php, ApiError, Output};
use serde_json::{json, Value};

/// Every scope this server knows (what `scope` with `full=true` lists).
const ALL_SCOPES: [&str; 2] = ["crm", "user"];

pub fn register(r: &mut Registry) {
    r.add("server.time", Scope::Basic, |call| {
        Box::pin(async move {
            let now = chrono::Utc::now().timestamp();
            Ok(Value::String(format_datetime(now, call.caller.offset())).into())
        })
    });
    r.add("scope", Scope::Basic, |call| {
        Box::pin(async move { Ok(scope(&call)) })
    });
    r.add("methods", Scope::Basic, |call| {
        Box::pin(async move { Ok(methods(&call)) })
    });
    r.add("method.get", Scope::Basic, |call| {
        Box::pin(async move { Ok(method_get(&call)) })
    });
    r.add("profile", Scope::Basic, |call| {
        Box::pin(async move { Ok(profile(&call)) })
    });
    r.add("user.current", Scope::User, |call| {
        Box::pin(async move { user_current(&call) })
    });
}

fn flag(call: &Call, name: &str) -> bool {
    names::any_case(&call.params, name)
        .map(php::truthy)
        .unwrap_or(false)
}

fn scope(call: &Call) -> Output {
    let list: Vec<Value> = if flag(call, "full") {
        ALL_SCOPES.iter().map(|s| json!(s)).collect()
    } else {
        // Bitrix24 lists only real scopes; `basic` is implied.
        call.caller
            .scopes
            .iter()
            .filter(|s| !s.eq_ignore_ascii_case("basic"))
            .map(|s| json!(s))
            .collect()
    };
    Value::Array(list).into()
}

fn methods(call: &Call) -> Output {
    let wanted = names::any_case(&call.params, "scope")
        .map(php::to_php_string)
        .filter(|s| !s.is_empty());
    let full = flag(call, "full");
    let names: Vec<Value> = call
        .state
        .registry()
        .iter()
        .filter(|m| match &wanted {
            Some(s) => m.scope.name().eq_ignore_ascii_case(s),
            None => full || m.scope.granted(&call.caller.scopes),
        })
        .map(|m| json!(m.name))
        .collect();
    Value::Array(names).into()
}

fn method_get(call: &Call) -> Output {
    let name = names::any_case(&call.params, "name")
        .map(php::to_php_string)
        .unwrap_or_default();
    let method = if name.is_empty() {
        None
    } else {
        call.state.registry().get(&name)
    };
    let existing = method.is_some();
    let available = method
        .map(|m| m.scope.granted(&call.caller.scopes))
        .unwrap_or(false);
    json!({"isExisting": existing, "isAvailable": available}).into()
}

fn profile(call: &Call) -> Output {
    let u = &call.caller.user;
    json!({
        "ID": u.id.to_string(),
        "ADMIN": u.admin,
        "NAME": u.name,
        "LAST_NAME": u.last_name,
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "",
    })
    .into()
}

fn user_current(call: &Call) -> Result<Output, ApiError> {
    let u = &call.caller.user;
    let offset = call.caller.offset();
    let last_login = u.last_login.unwrap_or(u.date_register);
    let local = |t: i64, fmt: &str| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.with_timezone(&offset).format(fmt).to_string())
            .unwrap_or_default()
    };
    Ok(json!({
        "ID": u.id.to_string(),
        "ACTIVE": u.active,
        "NAME": u.name,
        "LAST_NAME": u.last_name,
        "EMAIL": u.email,
        "LAST_LOGIN": format_datetime(last_login, offset),
        "DATE_REGISTER": format_datetime(u.date_register, offset),
        "IS_ONLINE": "Y",
        "TIMESTAMP_X": local(u.date_register, "%d.%m.%Y %H:%M:%S"),
        "LAST_ACTIVITY_DATE": local(last_login, "%Y-%m-%d %H:%M:%S"),
        "PERSONAL_GENDER": "",
        "PERSONAL_BIRTHDAY": "",
        "WORK_POSITION": "",
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": [1],
    })
    .into())
}
