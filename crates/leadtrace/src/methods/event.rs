//! Event methods (spec/events.md): `events` (the catalogue), `event.bind` / `event.unbind` /
//! `event.get` for applications, and the offline queue `event.offline.{get,list,clear,error}`.
//!
//! Application context: a call with an access token (`/rest/{method}` with `auth`, `access_token`
//! or a Bearer header). Webhook calls are refused with `WRONG_AUTH_TYPE`, as in Bitrix24.

use super::in_tx;
use crate::auth::{AuthKind, Caller};
use crate::registry::{Call, Registry, Scope};
use bx_wire::{names, php, ApiError, Output, Params};
use crm::{CmpOp, DbValue};
use serde_json::{json, Map, Value};
use store::events::{random_hex, ON_OFFLINE_EVENT};
use store::{
    EventHandler, HandlerFilter, HandlerKind, NewEventHandler, OfflineCol, OfflineEvent,
    OfflineQuery, OfflineTake,
};

/// `event.offline.get` answers at most this many rows per call whatever `limit` says.
const MAX_OFFLINE_LIMIT: i64 = 1000;
const DEFAULT_OFFLINE_LIMIT: i64 = 50;
/// `event.offline.list` pages, like every list method.
const PAGE: i64 = 50;

pub fn register(r: &mut Registry) {
    r.add("events", Scope::Basic, |call| {
        Box::pin(async move { Ok(events(&call)) })
    });
    r.add("event.bind", Scope::Basic, |call| Box::pin(bind(call)));
    r.add("event.unbind", Scope::Basic, |call| Box::pin(unbind(call)));
    r.add("event.get", Scope::Basic, |call| Box::pin(get(call)));
    r.add("event.offline.get", Scope::Basic, |call| {
        Box::pin(offline_get(call))
    });
    r.add("event.offline.list", Scope::Basic, |call| {
        Box::pin(offline_list(call))
    });
    r.add("event.offline.clear", Scope::Basic, |call| {
        Box::pin(offline_clear(call))
    });
    r.add("event.offline.error", Scope::Basic, |call| {
        Box::pin(offline_error(call))
    });
}

// ------------------------------------------------------------------ errors (transport.md §10.2)

fn wrong_auth_type() -> ApiError {
    ApiError::coded(
        "WRONG_AUTH_TYPE",
        "Access denied! Current authorization type is denied for this method",
        403,
    )
}

fn event_not_found() -> ApiError {
    ApiError::coded("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
}

fn access_denied(reason: &str) -> ApiError {
    let text = if reason.is_empty() {
        "Access denied!".to_string()
    } else {
        format!("Access denied! {reason}")
    };
    ApiError::coded("ACCESS_DENIED", text, 403)
}

fn argument(description: impl Into<String>, name: &str) -> ApiError {
    ApiError::Argument {
        description: description.into().into(),
        argument: name.to_string().into(),
    }
}

fn required(name: &str) -> ApiError {
    argument(format!("Argument '{name}' is null or empty"), name)
}

// ------------------------------------------------------------------ the catalogue

/// The scope an event needs, or `None` when the name is not an event we know.
fn event_scope(name: &str) -> Option<Scope> {
    if name == ON_OFFLINE_EVENT {
        return Some(Scope::Basic);
    }
    crm::event::crm_event_names()
        .iter()
        .any(|n| n == name)
        .then_some(Scope::Crm)
}

/// The stored spelling of an event name given in any case, if it is one we know.
pub fn known_event(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    event_scope(&upper).map(|_| upper)
}

fn catalogue() -> Vec<(String, Scope)> {
    let mut out = vec![(ON_OFFLINE_EVENT.to_string(), Scope::Basic)];
    out.extend(
        crm::event::crm_event_names()
            .into_iter()
            .map(|n| (n, Scope::Crm)),
    );
    out
}

/// `events`: the names for the caller's scopes, for one `scope`, or all (`full`).
fn events(call: &Call) -> Output {
    let scope = names::any_case(&call.params, "scope")
        .map(php::to_php_string)
        .filter(|s| !s.is_empty());
    let full = names::any_case(&call.params, "full")
        .map(php::truthy)
        .unwrap_or(false);
    let list: Vec<Value> = catalogue()
        .into_iter()
        .filter(|(_, s)| match &scope {
            Some(wanted) => s.name().eq_ignore_ascii_case(wanted),
            None => full || s.granted(&call.caller.scopes),
        })
        .map(|(n, _)| Value::String(n))
        .collect();
    Value::Array(list).into()
}

/// Handlers must be absolute http(s) URLs: the worker POSTs to them.
pub fn check_handler_url(url: &str) -> Result<(), ApiError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(argument(
            "Handler must be an absolute http:// or https:// URL",
            "handler",
        )),
    }
}

// ------------------------------------------------------------------ application context

/// The application a call is made for.
struct App {
    /// Today every token belongs to the one application of CLI-minted tokens (''); OAuth
    /// applications' tokens will carry their id, and handlers are kept per application id.
    app_id: String,
}

fn application(caller: &Caller) -> Result<App, ApiError> {
    match caller.kind {
        AuthKind::Webhook { .. } => Err(wrong_auth_type()),
        AuthKind::Token => Ok(App {
            app_id: String::new(),
        }),
    }
}

fn text_param(p: &Params, name: &str) -> Option<String> {
    names::any_case(p, name)
        .filter(|v| !v.is_array() && !v.is_object())
        .map(php::to_php_string)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `event_type`: `online` (default) or `offline`; true for offline.
fn offline_param(p: &Params) -> Result<bool, ApiError> {
    match text_param(p, "event_type") {
        None => Ok(false),
        Some(t) if t.eq_ignore_ascii_case("online") => Ok(false),
        Some(t) if t.eq_ignore_ascii_case("offline") => Ok(true),
        Some(_) => Err(argument(
            "Value must be one of {online|offline}",
            "event_type",
        )),
    }
}

/// `auth_type` as stored: administrators may name any user (0: the user who caused the event);
/// everyone else binds as themselves.
fn auth_type_param(p: &Params, caller: &Caller) -> Result<i64, ApiError> {
    let given = names::any_case(p, "auth_type")
        .map(php::intval)
        .unwrap_or(0)
        .max(0);
    if caller.user.admin {
        return Ok(given);
    }
    if given != 0 && given != caller.user.id {
        return Err(access_denied(
            "Event binding with AUTH_TYPE requires administrator access rights",
        ));
    }
    Ok(caller.user.id)
}

/// `options`: a JSON object or PHP array, or JSON text of one; anything else is `{}`.
fn options_param(p: &Params) -> Value {
    match names::any_case(p, "options") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({}),
        },
        _ => json!({}),
    }
}

fn offline_denied() -> ApiError {
    access_denied("Offline events binding requires administrator access rights")
}

/// The connector of the call (`auth_connector`, taken off the parameters by the REST layer).
fn connector() -> String {
    store::events::auth_connector().unwrap_or_default()
}

// ------------------------------------------------------------------ bind / unbind / get

async fn bind(call: Call) -> Result<Output, ApiError> {
    let app = application(&call.caller)?;
    let p = &call.params;
    let offline = offline_param(p)?;
    let name = text_param(p, "event").ok_or_else(|| required("event"))?;
    let name = known_event(&name).ok_or_else(event_not_found)?;
    // An event of a scope the application was not granted does not exist for it.
    if !event_scope(&name).is_some_and(|s| s.granted(&call.caller.scopes)) {
        return Err(event_not_found());
    }
    if offline && !call.caller.user.admin {
        return Err(offline_denied());
    }
    let auth_type = auth_type_param(p, &call.caller)?;
    let handler = if offline {
        String::new()
    } else {
        let h = text_param(p, "handler").ok_or_else(|| required("handler"))?;
        check_handler_url(&h)?;
        h
    };
    let auth_connector = if offline { connector() } else { String::new() };
    let portal_id = call.caller.portal.id;
    let user_id = call.caller.user.id;
    let scopes = call.caller.scopes.clone();
    let options = options_param(p);
    in_tx(call.state.store(), true, move |tx| {
        Box::pin(async move {
            let filter = HandlerFilter {
                kind: Some(HandlerKind::App),
                app_id: Some(app.app_id.clone()),
                event_name: Some(name.clone()),
                ..HandlerFilter::default()
            };
            let taken = tx
                .event_handlers(portal_id, &filter)
                .await?
                .iter()
                .any(|h| {
                    h.offline == offline
                        && if offline {
                            h.auth_connector == auth_connector
                        } else {
                            h.handler == handler && h.auth_type == auth_type
                        }
                });
            if taken {
                // F2: the text Bitrix24 answers with, not the docs' generic example.
                return Err(ApiError::core(
                    "Unable to set event handler: Handler already binded",
                ));
            }
            let application_token = tx.app_application_token(portal_id, &app.app_id).await?;
            tx.add_event_handler(&NewEventHandler {
                portal_id,
                kind: HandlerKind::App,
                app_id: app.app_id,
                event_name: name,
                handler,
                auth_type,
                offline,
                auth_connector,
                options,
                user_id,
                scopes,
                application_token,
            })
            .await?;
            Ok(Output::from(Value::Bool(true)))
        })
    })
    .await
}

async fn unbind(call: Call) -> Result<Output, ApiError> {
    let app = application(&call.caller)?;
    let p = &call.params;
    let offline = offline_param(p)?;
    let given = text_param(p, "event").ok_or_else(|| required("event"))?;
    let Some(name) = known_event(&given) else {
        return Ok(json!({"count": 0}).into());
    };
    if offline && !call.caller.user.admin {
        return Err(offline_denied());
    }
    let auth_type = auth_type_param(p, &call.caller)?;
    let handler = if offline {
        String::new()
    } else {
        text_param(p, "handler").ok_or_else(|| required("handler"))?
    };
    let auth_connector = if offline { connector() } else { String::new() };
    let portal_id = call.caller.portal.id;
    let user = (!call.caller.user.admin).then_some(call.caller.user.id);
    in_tx(call.state.store(), true, move |tx| {
        Box::pin(async move {
            let filter = HandlerFilter {
                kind: Some(HandlerKind::App),
                app_id: Some(app.app_id),
                event_name: Some(name),
                user_id: user,
            };
            let ids: Vec<i64> = tx
                .event_handlers(portal_id, &filter)
                .await?
                .into_iter()
                .filter(|h| {
                    h.offline == offline
                        && if offline {
                            h.auth_connector == auth_connector
                        } else {
                            h.handler == handler && h.auth_type == auth_type
                        }
                })
                .map(|h| h.id)
                .collect();
            let count = tx.remove_event_handlers(portal_id, &ids).await?;
            Ok(json!({ "count": count }).into())
        })
    })
    .await
}

fn handler_json(h: &EventHandler) -> Value {
    json!({
        "event": h.event_name,
        "handler": h.handler,
        "auth_type": h.auth_type.to_string(),
        "offline": i64::from(h.offline),
    })
}

async fn get(call: Call) -> Result<Output, ApiError> {
    let app = application(&call.caller)?;
    let portal_id = call.caller.portal.id;
    // Non-administrators see only the handlers they registered.
    let user = (!call.caller.user.admin).then_some(call.caller.user.id);
    in_tx(call.state.store(), false, move |tx| {
        Box::pin(async move {
            let filter = HandlerFilter {
                kind: Some(HandlerKind::App),
                app_id: Some(app.app_id),
                user_id: user,
                ..HandlerFilter::default()
            };
            let list: Vec<Value> = tx
                .event_handlers(portal_id, &filter)
                .await?
                .iter()
                .map(handler_json)
                .collect();
            Ok(Value::Array(list).into())
        })
    })
    .await
}

// ------------------------------------------------------------------ offline events

/// Offline methods: an application, and an administrator (events.md §4).
fn offline_app(caller: &Caller) -> Result<App, ApiError> {
    let app = application(caller)?;
    if !caller.user.admin {
        return Err(access_denied(""));
    }
    Ok(app)
}

/// `>=ID`, `!EVENT_NAME`, `=MESSAGE_ID`, plain `ID`, ...: operator and column.
fn filter_key(key: &str) -> Option<(CmpOp, OfflineCol)> {
    const OPS: [(&str, CmpOp); 7] = [
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        ("!=", CmpOp::Ne),
        ("=", CmpOp::Eq),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
        ("!", CmpOp::Ne),
    ];
    let (op, rest) = OPS
        .iter()
        .find_map(|(prefix, op)| key.strip_prefix(prefix).map(|r| (*op, r)))
        .unwrap_or((CmpOp::Eq, key));
    OfflineCol::parse(rest.trim()).map(|c| (op, c))
}

fn filter_value(col: OfflineCol, v: &Value, caller: &Caller) -> Result<DbValue, ApiError> {
    if v.is_array() || v.is_object() || v.is_null() {
        return Err(argument("Filter values must be scalars", "filter"));
    }
    Ok(match col {
        OfflineCol::Id => DbValue::Int(php::intval(v)),
        OfflineCol::Error => DbValue::Int(i64::from(php::truthy(v))),
        OfflineCol::TimestampX => {
            let text = php::to_php_string(v);
            let now = chrono::Utc::now().timestamp();
            let tz = caller.settings().time_zone;
            DbValue::Int(
                crm::dates::parse_datetime(&text, tz, now)
                    .ok_or_else(|| argument(format!("Invalid date '{text}'"), "filter"))?,
            )
        }
        OfflineCol::EventName => DbValue::Text(php::to_php_string(v).to_ascii_uppercase()),
        OfflineCol::MessageId | OfflineCol::ProcessId => DbValue::Text(php::to_php_string(v)),
    })
}

/// The queue of this call: the application's, for the call's `auth_connector`.
fn queue(call: &Call, app: &App) -> OfflineQuery {
    OfflineQuery {
        portal_id: call.caller.portal.id,
        app_id: app.app_id.clone(),
        auth_connector: connector(),
        filter: Vec::new(),
        order: Vec::new(),
        offset: 0,
        limit: None,
    }
}

/// The queue of this call, with `filter` and `order` (default `default_order`) applied.
fn offline_query(
    call: &Call,
    app: &App,
    default_order: (OfflineCol, bool),
) -> Result<OfflineQuery, ApiError> {
    let p = &call.params;
    let mut filter = Vec::new();
    if let Some(f) = names::any_case(p, "filter") {
        let Value::Object(map) = f else {
            return Err(argument("The filter is not an array.", "filter"));
        };
        for (key, v) in map {
            let (op, col) = filter_key(key)
                .ok_or_else(|| argument(format!("Unknown filter field '{key}'"), "filter"))?;
            filter.push((col, op, filter_value(col, v, &call.caller)?));
        }
    }
    let mut order = Vec::new();
    if let Some(Value::Object(map)) = names::any_case(p, "order") {
        for (key, dir) in map {
            let col = OfflineCol::parse(key)
                .ok_or_else(|| argument(format!("Unknown order field '{key}'"), "order"))?;
            let desc = php::to_php_string(dir).eq_ignore_ascii_case("desc");
            order.push((col, desc));
        }
    }
    if order.is_empty() {
        order.push(default_order);
    }
    Ok(OfflineQuery {
        filter,
        order,
        ..queue(call, app)
    })
}

fn offline_json(e: &OfflineEvent, caller: &Caller, with_process: bool) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), json!(e.id.to_string()));
    m.insert(
        "TIMESTAMP_X".into(),
        json!(crm::dates::format_datetime(
            e.timestamp_x,
            caller.settings().time_zone
        )),
    );
    m.insert("EVENT_NAME".into(), json!(e.event_name));
    // F4: the same `data` as the online notification (the docs' example shows `false`).
    m.insert("EVENT_DATA".into(), e.event_data.clone());
    m.insert("EVENT_ADDITIONAL".into(), e.event_additional.clone());
    m.insert("MESSAGE_ID".into(), json!(e.message_id));
    if with_process {
        m.insert("PROCESS_ID".into(), json!(e.process_id));
        m.insert("ERROR".into(), json!(if e.error { "1" } else { "0" }));
    }
    Value::Object(m)
}

async fn offline_get(call: Call) -> Result<Output, ApiError> {
    let app = offline_app(&call.caller)?;
    let mut query = offline_query(&call, &app, (OfflineCol::TimestampX, false))?;
    let p = &call.params;
    let limit = names::any_case(p, "limit")
        .map(php::intval)
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_OFFLINE_LIMIT)
        .min(MAX_OFFLINE_LIMIT);
    query.limit = Some(limit);
    let clear = names::any_case(p, "clear").map(php::truthy).unwrap_or(true);
    let with_errors = names::any_case(p, "error")
        .map(php::truthy)
        .unwrap_or(false);
    let process_id = text_param(p, "process_id");
    // `clear=0` needs the `rest_offline_extended` feature, which this server has: the rows are
    // held by a process until `event.offline.clear`.
    let hold = (!clear).then(|| process_id.clone().unwrap_or_else(random_hex));
    let take = OfflineTake {
        query,
        process_id,
        with_errors,
    };
    let caller = call.caller.clone();
    in_tx(call.state.store(), true, move |tx| {
        Box::pin(async move {
            let rows = tx.take_offline_events(&take, hold.as_deref()).await?;
            let events: Vec<Value> = rows
                .iter()
                .map(|e| offline_json(e, &caller, false))
                .collect();
            Ok(json!({"process_id": hold, "events": events}).into())
        })
    })
    .await
}

async fn offline_list(call: Call) -> Result<Output, ApiError> {
    let app = offline_app(&call.caller)?;
    let mut query = offline_query(&call, &app, (OfflineCol::Id, false))?;
    let start = names::start(&call.params).max(0);
    query.offset = start / PAGE * PAGE;
    query.limit = Some(PAGE);
    let caller = call.caller.clone();
    in_tx(call.state.store(), false, move |tx| {
        Box::pin(async move {
            let rows = tx.offline_events(&query).await?;
            let total = tx.count_offline_events(&query).await?;
            let next = (query.offset + (rows.len() as i64) < total).then_some(query.offset + PAGE);
            let items: Vec<Value> = rows
                .iter()
                .map(|e| offline_json(e, &caller, true))
                .collect();
            Ok(Output::list(Value::Array(items), total, next))
        })
    })
    .await
}

/// `id[]` / `message_id[]`: a list (or a single value) of values.
fn list_param(p: &Params, name: &str) -> Option<Vec<Value>> {
    match names::any_case(p, name)? {
        Value::Array(items) => Some(items.clone()),
        Value::Object(m) => Some(m.values().cloned().collect()),
        Value::Null => None,
        v => Some(vec![v.clone()]),
    }
}

async fn offline_clear(call: Call) -> Result<Output, ApiError> {
    let app = offline_app(&call.caller)?;
    let query = queue(&call, &app);
    let p = &call.params;
    let process_id = text_param(p, "process_id").ok_or_else(|| required("process_id"))?;
    let ids: Option<Vec<i64>> = list_param(p, "id").map(|v| v.iter().map(php::intval).collect());
    // `message_id` is ignored when `id` is given.
    let message_ids: Option<Vec<String>> = list_param(p, "message_id")
        .filter(|_| ids.is_none())
        .map(|v| v.iter().map(php::to_php_string).collect());
    in_tx(call.state.store(), true, move |tx| {
        Box::pin(async move {
            tx.clear_offline_events(&query, &process_id, ids.as_deref(), message_ids.as_deref())
                .await?;
            Ok(Value::Bool(true).into())
        })
    })
    .await
}

async fn offline_error(call: Call) -> Result<Output, ApiError> {
    let app = offline_app(&call.caller)?;
    let query = queue(&call, &app);
    let p = &call.params;
    let process_id = text_param(p, "process_id").ok_or_else(|| required("process_id"))?;
    let message_ids: Option<Vec<String>> =
        list_param(p, "message_id").map(|v| v.iter().map(php::to_php_string).collect());
    in_tx(call.state.store(), true, move |tx| {
        Box::pin(async move {
            tx.fail_offline_events(&query, &process_id, message_ids.as_deref())
                .await?;
            Ok(Value::Bool(true).into())
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keys() {
        assert_eq!(filter_key(">=ID"), Some((CmpOp::Ge, OfflineCol::Id)));
        assert_eq!(
            filter_key("=MESSAGE_ID"),
            Some((CmpOp::Eq, OfflineCol::MessageId))
        );
        assert_eq!(
            filter_key("!event_name"),
            Some((CmpOp::Ne, OfflineCol::EventName))
        );
        assert_eq!(
            filter_key("TIMESTAMP_X"),
            Some((CmpOp::Eq, OfflineCol::TimestampX))
        );
        assert_eq!(filter_key("<ERROR"), Some((CmpOp::Lt, OfflineCol::Error)));
        assert_eq!(filter_key("%ID"), None);
        assert_eq!(filter_key("TITLE"), None);
    }

    #[test]
    fn event_names() {
        assert_eq!(known_event("onCrmLeadAdd").as_deref(), Some("ONCRMLEADADD"));
        assert_eq!(
            known_event("onOfflineEvent").as_deref(),
            Some("ONOFFLINEEVENT")
        );
        assert_eq!(known_event("onCrmSomethingElse"), None);
        assert!(check_handler_url("https://example.com/h").is_ok());
        assert!(check_handler_url("ftp://example.com/h").is_err());
        assert!(check_handler_url("/relative").is_err());
    }
}
