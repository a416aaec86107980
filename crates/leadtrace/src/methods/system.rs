//! System methods clients call at start-up (spec/system-methods.md §1): `server.time`, `scope`,
//! `methods`, `method.get`, `profile`. (`user.current` is with the other user methods.)

use crate::registry::{Call, Registry, Scope};
use bx_wire::envelope::format_datetime;
use bx_wire::{names, php, Output};
use serde_json::{json, Value};

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
}

fn flag(call: &Call, name: &str) -> bool {
    names::any_case(&call.params, name)
        .map(php::truthy)
        .unwrap_or(false)
}

fn scope(call: &Call) -> Output {
    let list: Vec<Value> = if flag(call, "full") {
        // Every scope some method of this server needs (Bitrix24 lists only real scopes).
        let mut all: Vec<&str> = call
            .state
            .registry()
            .iter()
            .map(|m| m.scope)
            .filter(|s| *s != Scope::Basic)
            .map(Scope::name)
            .collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter().map(|s| json!(s)).collect()
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

/// `methods`: with `scope=X` the methods of that scope (`scope=` with no value: the common,
/// always-available ones), with `full=true` every method, else the ones the caller's scopes
/// allow plus the common ones.
fn methods(call: &Call) -> Output {
    let wanted =
        names::any_case(&call.params, "scope").map(|v| php::to_php_string(v).trim().to_string());
    let full = flag(call, "full");
    let names: Vec<Value> = call
        .state
        .registry()
        .iter()
        .filter(|m| match &wanted {
            Some(s) if s.is_empty() => m.scope == Scope::Basic,
            // `user_brief` and `user_basic` name the `user` methods too.
            Some(s) => m.scope != Scope::Basic && m.scope.granted(std::slice::from_ref(s)),
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
