//! Events: handlers (bound by applications or configured as outgoing webhooks), the outbox that
//! `crm::Storage::enqueue_event` writes in the transaction of a change and the delivery worker
//! claims from, and the offline event queues (spec/events.md).
//!
//! Delivery order: per handler, only the oldest pending row can be claimed (a failing handler
//! holds back its later events until it succeeds or runs out of attempts); handlers are independent.
//! A claim is a lease (`locked_until`), so a worker that dies mid-delivery only delays the row.

use crate::tx::{val, Tx};
use crate::{Backend, Token};
use bx_wire::ApiError;
use crm::event::Event;
use crm::{CmpOp, DbValue};
use sea_query::Value;
use serde_json::Value as Json;

/// Outbox states.
const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// The online event an application may bind to hear that its offline queue has new rows.
pub const ON_OFFLINE_EVENT: &str = "ONOFFLINEEVENT";

/// Lifetime of the access tokens sent with application events (events.md §3).
pub const EVENT_TOKEN_TTL: i64 = 3600;
/// A token minted for an earlier attempt is sent again while it has this much life left.
const TOKEN_REUSE_MIN_LEFT: i64 = 3000;

tokio::task_local! {
    /// The `auth_connector` of the REST call running on this task.
    static AUTH_CONNECTOR: String;
}

/// Runs `f` (a REST call) with the call's `auth_connector`: writes made inside it carry the
/// connector, and the offline queue bound with that connector does not record them ("do not
/// notify me about changes I made myself", spec/events.md §4).
pub async fn with_auth_connector<F: std::future::Future>(
    connector: Option<String>,
    f: F,
) -> F::Output {
    match connector {
        Some(c) if !c.is_empty() => AUTH_CONNECTOR.scope(c, f).await,
        _ => f.await,
    }
}

/// The `auth_connector` of the REST call running on this task, if it sent one.
pub fn auth_connector() -> Option<String> {
    AUTH_CONNECTOR.try_with(Clone::clone).ok()
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A random 32-hex-digit identifier (application tokens, de-duplication ids, process ids).
pub fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Who registered a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    /// An application, with `event.bind`.
    App,
    /// The portal's configuration: an outgoing webhook.
    Webhook,
}

impl HandlerKind {
    fn as_str(self) -> &'static str {
        match self {
            HandlerKind::App => "app",
            HandlerKind::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> HandlerKind {
        if s == "webhook" {
            HandlerKind::Webhook
        } else {
            HandlerKind::App
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventHandler {
    pub id: i64,
    pub portal_id: i64,
    pub kind: HandlerKind,
    pub app_id: String,
    pub event_name: String,
    pub handler: String,
    pub auth_type: i64,
    pub offline: bool,
    pub auth_connector: String,
    pub options: Json,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub application_token: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A handler to register.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEventHandler {
    pub portal_id: i64,
    pub kind: HandlerKind,
    pub app_id: String,
    pub event_name: String,
    pub handler: String,
    pub auth_type: i64,
    pub offline: bool,
    pub auth_connector: String,
    pub options: Json,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub application_token: String,
}

/// Which handlers to read: all of a portal, or narrowed down.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandlerFilter {
    pub kind: Option<HandlerKind>,
    pub app_id: Option<String>,
    pub user_id: Option<i64>,
    pub event_name: Option<String>,
}

const HANDLER_COLUMNS: &str =
    "id, portal_id, kind, app_id, event_name, handler, auth_type, offline, \
     auth_connector, options, user_id, scopes, application_token, created_at";

fn json_list(v: &DbValue) -> Vec<String> {
    serde_json::from_str(&val::text(v)).unwrap_or_default()
}

fn json_value(v: &DbValue) -> Json {
    serde_json::from_str(&val::text(v)).unwrap_or(Json::Null)
}

fn handler_from(r: &[DbValue]) -> EventHandler {
    EventHandler {
        id: val::int(&r[0]),
        portal_id: val::int(&r[1]),
        kind: HandlerKind::parse(&val::text(&r[2])),
        app_id: val::text(&r[3]),
        event_name: val::text(&r[4]),
        handler: val::text(&r[5]),
        auth_type: val::int(&r[6]),
        offline: val::flag(&r[7]),
        auth_connector: val::text(&r[8]),
        options: json_value(&r[9]),
        user_id: val::int(&r[10]),
        scopes: json_list(&r[11]),
        application_token: val::text(&r[12]),
        created_at: val::int(&r[13]),
    }
}

/// One claimed delivery: everything the worker needs to build and send the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub portal_id: i64,
    pub uid: String,
    pub event_name: String,
    pub data: Json,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// Unix seconds of the first attempt (sent as `ts` on every attempt).
    pub ts: i64,
    pub handler_id: i64,
    pub handler_url: String,
    pub kind: HandlerKind,
    pub app_id: String,
    pub scopes: Vec<String>,
    pub application_token: String,
    /// The portal's creation time, Unix seconds (its `member_id` derives from it).
    pub portal_created_at: i64,
    /// The user whose token is sent (application events), when there is one.
    pub user_id: Option<i64>,
    /// `(access token, expires at in Unix seconds)` for application events with a user.
    pub access_token: Option<(String, i64)>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Delivered {
        status: u16,
    },
    /// Try again at `next_attempt_at` (Unix ms).
    Retry {
        next_attempt_at: i64,
        status: Option<u16>,
        error: String,
    },
    /// No attempts left (or retries are off).
    Failed {
        status: Option<u16>,
        error: String,
    },
}

/// A delivery as stored, for inspection (CLI, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub handler_id: i64,
    pub uid: String,
    pub event_name: String,
    pub data: Json,
    pub state: String,
    pub attempts: i64,
    pub ts: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// Columns of the offline queue that `event.offline.*` filter and sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineCol {
    Id,
    TimestampX,
    EventName,
    MessageId,
    ProcessId,
    Error,
}

impl OfflineCol {
    pub fn parse(name: &str) -> Option<OfflineCol> {
        Some(match name.to_ascii_uppercase().as_str() {
            "ID" => OfflineCol::Id,
            "TIMESTAMP_X" => OfflineCol::TimestampX,
            "EVENT_NAME" => OfflineCol::EventName,
            "MESSAGE_ID" => OfflineCol::MessageId,
            "PROCESS_ID" => OfflineCol::ProcessId,
            "ERROR" => OfflineCol::Error,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            OfflineCol::Id => "id",
            OfflineCol::TimestampX => "timestamp_x",
            OfflineCol::EventName => "event_name",
            OfflineCol::MessageId => "message_id",
            OfflineCol::ProcessId => "process_id",
            OfflineCol::Error => "error",
        }
    }
}

/// Which offline rows to read: one queue, filtered, ordered, paged.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineQuery {
    pub portal_id: i64,
    pub app_id: String,
    pub auth_connector: String,
    /// `(column, operator, value)`, all must hold. `Error` compares with 0/1.
    pub filter: Vec<(OfflineCol, CmpOp, DbValue)>,
    /// `(column, descending)`; `ID` is always the last tie-breaker.
    pub order: Vec<(OfflineCol, bool)>,
    pub offset: i64,
    pub limit: Option<i64>,
}

/// A row of an offline queue.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineEvent {
    pub id: i64,
    /// Unix seconds.
    pub timestamp_x: i64,
    pub event_name: String,
    pub event_data: Json,
    pub event_additional: Json,
    pub message_id: String,
    pub process_id: String,
    pub error: bool,
}

const OFFLINE_COLUMNS: &str =
    "id, timestamp_x, event_name, event_data, event_additional, message_id, process_id, error";

fn offline_from(r: &[DbValue]) -> OfflineEvent {
    OfflineEvent {
        id: val::int(&r[0]),
        timestamp_x: val::int(&r[1]),
        event_name: val::text(&r[2]),
        event_data: json_value(&r[3]),
        event_additional: json_value(&r[4]),
        message_id: val::text(&r[5]),
        process_id: val::text(&r[6]),
        error: val::flag(&r[7]),
    }
}

/// Which rows of a queue `event.offline.get` may take.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineTake {
    pub query: OfflineQuery,
    /// Rows already held by this process are taken again, with free ones.
    pub process_id: Option<String>,
    /// Also rows marked as failed by `event.offline.error`.
    pub with_errors: bool,
}

fn op_sql(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn db_to_value(v: &DbValue) -> Value {
    match v {
        DbValue::Null => Value::String(None),
        DbValue::Int(i) => (*i).into(),
        DbValue::Real(f) => (*f).into(),
        DbValue::Text(t) => t.as_str().into(),
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Tx {
    /// The application token of an application on a portal, created on first use.
    pub async fn app_application_token(
        &mut self,
        portal_id: i64,
        app_id: &str,
    ) -> Result<String, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT application_token FROM event_app WHERE portal_id = ? AND app_id = ?",
                vec![portal_id.into(), app_id.into()],
            )
            .await?;
        if let Some(r) = rows.first() {
            return Ok(val::text(&r[0]));
        }
        let token = random_hex();
        self.exec_sql(
            "INSERT INTO event_app (portal_id, app_id, application_token) VALUES (?, ?, ?)",
            vec![portal_id.into(), app_id.into(), token.as_str().into()],
        )
        .await?;
        Ok(token)
    }

    /// Registers a handler; returns its id (`event_handler_id`). Duplicates are the caller's
    /// business (it knows which fields make one).
    pub async fn add_event_handler(&mut self, h: &NewEventHandler) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO event_handler (portal_id, kind, app_id, event_name, handler, auth_type, \
                 offline, auth_connector, options, user_id, scopes, application_token, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    h.portal_id.into(),
                    h.kind.as_str().into(),
                    h.app_id.as_str().into(),
                    h.event_name.as_str().into(),
                    h.handler.as_str().into(),
                    h.auth_type.into(),
                    h.offline.into(),
                    h.auth_connector.as_str().into(),
                    h.options.to_string().into(),
                    h.user_id.into(),
                    Json::from(h.scopes.clone()).to_string().into(),
                    h.application_token.as_str().into(),
                    now_ms().into(),
                ],
            )
            .await?;
        rows.first()
            .map(|r| val::int(&r[0]))
            .ok_or(ApiError::Internal)
    }

    /// Handlers of a portal, by id.
    pub async fn event_handlers(
        &mut self,
        portal_id: i64,
        f: &HandlerFilter,
    ) -> Result<Vec<EventHandler>, ApiError> {
        let mut sql = format!("SELECT {HANDLER_COLUMNS} FROM event_handler WHERE portal_id = ?");
        let mut values: Vec<Value> = vec![portal_id.into()];
        if let Some(kind) = f.kind {
            sql.push_str(" AND kind = ?");
            values.push(kind.as_str().into());
        }
        if let Some(app) = &f.app_id {
            sql.push_str(" AND app_id = ?");
            values.push(app.as_str().into());
        }
        if let Some(user) = f.user_id {
            sql.push_str(" AND user_id = ?");
            values.push(user.into());
        }
        if let Some(name) = &f.event_name {
            sql.push_str(" AND event_name = ?");
            values.push(name.as_str().into());
        }
        sql.push_str(" ORDER BY id");
        let rows = self.fetch_sql(&sql, values).await?;
        Ok(rows.iter().map(|r| handler_from(r)).collect())
    }

    /// Removes handlers and their undelivered events; returns how many handlers went.
    pub async fn remove_event_handlers(
        &mut self,
        portal_id: i64,
        ids: &[i64],
    ) -> Result<u64, ApiError> {
        let mut removed = 0;
        for id in ids {
            self.exec_sql(
                "DELETE FROM event_outbox WHERE portal_id = ? AND handler_id = ? AND state = ?",
                vec![portal_id.into(), (*id).into(), PENDING.into()],
            )
            .await?;
            removed += self
                .exec_sql(
                    "DELETE FROM event_handler WHERE portal_id = ? AND id = ?",
                    vec![portal_id.into(), (*id).into()],
                )
                .await?;
        }
        Ok(removed)
    }

    /// `Storage::enqueue_event`: outbox rows for online handlers, queue rows for offline ones.
    pub(crate) async fn enqueue(&mut self, e: &Event) -> Result<(), ApiError> {
        let filter = HandlerFilter {
            event_name: Some(e.name.clone()),
            ..HandlerFilter::default()
        };
        let handlers = self.event_handlers(e.portal_id, &filter).await?;
        if handlers.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut queues: Vec<(String, String)> = Vec::new();
        for h in &handlers {
            if h.offline {
                let queue = (h.app_id.clone(), h.auth_connector.clone());
                if !queues.contains(&queue) {
                    queues.push(queue);
                }
                continue;
            }
            // Outgoing webhooks send no tokens; applications get the bound user's or the actor's.
            let user = match h.kind {
                HandlerKind::Webhook => 0,
                HandlerKind::App if h.auth_type > 0 => h.auth_type,
                HandlerKind::App => e.user_id,
            };
            self.insert_delivery(e.portal_id, h.id, &e.name, &e.data, user, now)
                .await?;
        }
        for (app_id, connector) in queues {
            if !connector.is_empty() && self.event_connector.as_deref() == Some(connector.as_str())
            {
                continue;
            }
            self.record_offline(e, &app_id, &connector).await?;
            self.notify_offline(e.portal_id, &app_id, e.user_id, now)
                .await?;
        }
        Ok(())
    }

    async fn insert_delivery(
        &mut self,
        portal_id: i64,
        handler_id: i64,
        event_name: &str,
        data: &Json,
        user_id: i64,
        due: i64,
    ) -> Result<(), ApiError> {
        self.exec_sql(
            "INSERT INTO event_outbox (portal_id, handler_id, uid, event_name, data, user_id, state, \
             attempts, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            vec![
                portal_id.into(),
                handler_id.into(),
                random_hex().into(),
                event_name.into(),
                data.to_string().into(),
                user_id.into(),
                PENDING.into(),
                now_ms().into(),
                due.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// One row per object and queue: a later change of the same object replaces the free row
    /// (the latest event name, data and time win, and an error mark is lifted); a row held by a
    /// process stays as it was read, and the change gets a new row.
    async fn record_offline(
        &mut self,
        e: &Event,
        app_id: &str,
        connector: &str,
    ) -> Result<(), ApiError> {
        let additional = serde_json::json!({"user_id": e.user_id}).to_string();
        let data = e.data.to_string();
        let updated = self
            .exec_sql(
                "UPDATE event_offline SET event_name = ?, event_data = ?, event_additional = ?, \
                 timestamp_x = ?, error = ? WHERE portal_id = ? AND app_id = ? \
                 AND auth_connector = ? AND message_id = ? AND process_id = ''",
                vec![
                    e.name.as_str().into(),
                    data.as_str().into(),
                    additional.as_str().into(),
                    now_s().into(),
                    false.into(),
                    e.portal_id.into(),
                    app_id.into(),
                    connector.into(),
                    e.object.as_str().into(),
                ],
            )
            .await?;
        if updated == 0 {
            self.exec_sql(
                "INSERT INTO event_offline (portal_id, app_id, auth_connector, message_id, event_name, \
                 event_data, event_additional, timestamp_x, process_id, error) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
                vec![
                    e.portal_id.into(),
                    app_id.into(),
                    connector.into(),
                    e.object.as_str().into(),
                    e.name.as_str().into(),
                    data.into(),
                    additional.into(),
                    now_s().into(),
                    false.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// `ONOFFLINEEVENT` to the application's online handlers of it, at most one per
    /// `options.minTimeout` seconds (default 1): a change inside the window is announced by one
    /// notification due at the window's end, not dropped.
    async fn notify_offline(
        &mut self,
        portal_id: i64,
        app_id: &str,
        user_id: i64,
        now: i64,
    ) -> Result<(), ApiError> {
        let filter = HandlerFilter {
            kind: Some(HandlerKind::App),
            app_id: Some(app_id.to_string()),
            event_name: Some(ON_OFFLINE_EVENT.to_string()),
            ..HandlerFilter::default()
        };
        for h in self.event_handlers(portal_id, &filter).await? {
            if h.offline {
                continue;
            }
            let waiting = self
                .fetch_sql(
                    "SELECT 1 FROM event_outbox WHERE portal_id = ? AND handler_id = ? AND state = ? \
                     AND attempts = 0",
                    vec![portal_id.into(), h.id.into(), PENDING.into()],
                )
                .await?;
            if !waiting.is_empty() {
                continue;
            }
            let min_timeout = h
                .options
                .get("minTimeout")
                .map(bx_wire::php::intval)
                .unwrap_or(1)
                .max(0);
            let last = self
                .fetch_sql(
                    "SELECT last_notified_at FROM event_handler WHERE portal_id = ? AND id = ?",
                    vec![portal_id.into(), h.id.into()],
                )
                .await?;
            let last = last.first().map(|r| val::int(&r[0])).unwrap_or(0);
            let due = now.max(last.saturating_add(min_timeout.saturating_mul(1000)));
            self.exec_sql(
                "UPDATE event_handler SET last_notified_at = ? WHERE portal_id = ? AND id = ?",
                vec![due.into(), portal_id.into(), h.id.into()],
            )
            .await?;
            let user = if h.auth_type > 0 {
                h.auth_type
            } else {
                user_id
            };
            self.insert_delivery(
                portal_id,
                h.id,
                ON_OFFLINE_EVENT,
                &Json::Object(Default::default()),
                user,
                due,
            )
            .await?;
        }
        Ok(())
    }

    /// When the next delivery becomes claimable (Unix ms), if any is pending.
    pub async fn next_delivery_due(&mut self) -> Result<Option<i64>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT MIN(CASE WHEN o.locked_until IS NOT NULL AND o.locked_until > o.next_attempt_at \
                 THEN o.locked_until ELSE o.next_attempt_at END) FROM event_outbox o \
                 WHERE o.state = ? AND NOT EXISTS (SELECT 1 FROM event_outbox p \
                 WHERE p.portal_id = o.portal_id AND p.handler_id = o.handler_id AND p.state = ? AND p.id < o.id)",
                vec![PENDING.into(), PENDING.into()],
            )
            .await?;
        Ok(rows.first().and_then(|r| val::opt_int(&r[0])))
    }

    /// Claims up to `limit` due deliveries (the oldest pending one of each handler) until
    /// `lease_until` (Unix ms). Application events get an access token of their user, minted here.
    pub async fn claim_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, ApiError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claimed = self
            .fetch_sql(
                &format!(
                    "UPDATE event_outbox SET locked_until = ?, ts = COALESCE(ts, ?) WHERE id IN (\
                     SELECT o.id FROM event_outbox o WHERE o.state = ? AND o.next_attempt_at <= ? \
                     AND (o.locked_until IS NULL OR o.locked_until <= ?) AND NOT EXISTS (\
                     SELECT 1 FROM event_outbox p WHERE p.portal_id = o.portal_id \
                     AND p.handler_id = o.handler_id AND p.state = ? AND p.id < o.id) \
                     ORDER BY o.id LIMIT ?{lock}) RETURNING id"
                ),
                vec![
                    lease_until.into(),
                    (now / 1000).into(),
                    PENDING.into(),
                    now.into(),
                    now.into(),
                    PENDING.into(),
                    limit.into(),
                ],
            )
            .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Value> = claimed.iter().map(|r| val::int(&r[0]).into()).collect();
        let rows = self
            .fetch_sql(
                &format!(
                    "SELECT o.id, o.portal_id, o.uid, o.event_name, o.data, o.user_id, o.attempts, o.ts, \
                     o.access_token, h.id, h.kind, h.app_id, h.handler, h.scopes, h.application_token, \
                     p.created_at FROM event_outbox o JOIN portal p ON p.id = o.portal_id \
                     LEFT JOIN event_handler h ON h.portal_id = o.portal_id AND h.id = o.handler_id \
                     WHERE o.id IN ({}) ORDER BY o.id",
                    placeholders(ids.len())
                ),
                ids,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, portal_id) = (val::int(&r[0]), val::int(&r[1]));
            if r[9].is_null() {
                // The handler went away after the event was queued.
                self.finish_delivery(
                    portal_id,
                    id,
                    &DeliveryOutcome::Failed {
                        status: None,
                        error: "handler removed".into(),
                    },
                )
                .await?;
                continue;
            }
            let kind = HandlerKind::parse(&val::text(&r[10]));
            let scopes = json_list(&r[13]);
            let user = val::int(&r[5]);
            let (user_id, access_token) = if kind == HandlerKind::App && user > 0 {
                let previous = val::opt_text(&r[8]);
                match self
                    .event_token(portal_id, id, user, &scopes, previous)
                    .await?
                {
                    Some(t) => (Some(user), Some(t)),
                    None => (None, None),
                }
            } else {
                (None, None)
            };
            out.push(Delivery {
                id,
                portal_id,
                uid: val::text(&r[2]),
                event_name: val::text(&r[3]),
                data: json_value(&r[4]),
                attempt: val::int(&r[6]) + 1,
                ts: val::opt_int(&r[7]).unwrap_or(now / 1000),
                handler_id: val::int(&r[9]),
                handler_url: val::text(&r[12]),
                kind,
                app_id: val::text(&r[11]),
                scopes,
                application_token: val::text(&r[14]),
                portal_created_at: val::int(&r[15]),
                user_id,
                access_token,
            });
        }
        Ok(out)
    }

    /// The access token sent with an application event: the one of the previous attempt while it
    /// has most of its life left, else a fresh one of the user with the handler's scopes. `None`
    /// when the user no longer exists or is inactive (the event then goes without tokens).
    async fn event_token(
        &mut self,
        portal_id: i64,
        outbox_id: i64,
        user_id: i64,
        scopes: &[String],
        previous: Option<String>,
    ) -> Result<Option<(String, i64)>, ApiError> {
        let now = now_s();
        if let Some(prev) = &previous {
            if let Some(t) = self.token(prev).await? {
                if t.expires_at - now >= TOKEN_REUSE_MIN_LEFT {
                    return Ok(Some((t.token, t.expires_at)));
                }
            }
        }
        match self.user(portal_id, user_id).await? {
            Some(u) if u.active => {}
            _ => return Ok(None),
        }
        if let Some(prev) = previous {
            self.exec_sql("DELETE FROM token WHERE token = ?", vec![prev.into()])
                .await?;
        }
        let token = Token {
            token: random_hex(),
            portal_id,
            user_id,
            scopes: scopes.to_vec(),
            expires_at: now + EVENT_TOKEN_TTL,
            // Handlers are keyed by their own application id string; OAuth applications'
            // numeric ids are not linked to them yet, so event tokens are app-less.
            app_id: None,
        };
        self.add_token(&token).await?;
        self.exec_sql(
            "UPDATE event_outbox SET access_token = ? WHERE portal_id = ? AND id = ?",
            vec![
                token.token.as_str().into(),
                portal_id.into(),
                outbox_id.into(),
            ],
        )
        .await?;
        Ok(Some((token.token, token.expires_at)))
    }

    /// Records the end of an attempt and releases the lease.
    pub async fn finish_delivery(
        &mut self,
        portal_id: i64,
        id: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        let status = |s: &Option<u16>| Value::BigInt(s.map(i64::from));
        let (sql, values): (&str, Vec<Value>) = match outcome {
            DeliveryOutcome::Delivered { status: s } => (
                "UPDATE event_outbox SET state = ?, attempts = attempts + 1, locked_until = NULL, \
                 finished_at = ?, last_status = ?, last_error = NULL WHERE portal_id = ? AND id = ?",
                vec![
                    DELIVERED.into(),
                    now.into(),
                    i64::from(*s).into(),
                    portal_id.into(),
                    id.into(),
                ],
            ),
            DeliveryOutcome::Retry {
                next_attempt_at,
                status: s,
                error,
            } => (
                "UPDATE event_outbox SET attempts = attempts + 1, locked_until = NULL, \
                 next_attempt_at = ?, last_status = ?, last_error = ? WHERE portal_id = ? AND id = ?",
                vec![
                    (*next_attempt_at).into(),
                    status(s),
                    error.as_str().into(),
                    portal_id.into(),
                    id.into(),
                ],
            ),
            DeliveryOutcome::Failed { status: s, error } => (
                "UPDATE event_outbox SET state = ?, attempts = attempts + 1, locked_until = NULL, \
                 finished_at = ?, last_status = ?, last_error = ? WHERE portal_id = ? AND id = ?",
                vec![
                    FAILED.into(),
                    now.into(),
                    status(s),
                    error.as_str().into(),
                    portal_id.into(),
                    id.into(),
                ],
            ),
        };
        self.exec_sql(sql, values).await?;
        Ok(())
    }

    /// Gives claimed deliveries back unsent (the worker is stopping); no attempt is counted.
    pub async fn release_deliveries(&mut self, ids: &[(i64, i64)]) -> Result<(), ApiError> {
        for (portal_id, id) in ids {
            self.exec_sql(
                "UPDATE event_outbox SET locked_until = NULL WHERE portal_id = ? AND id = ? AND state = ?",
                vec![(*portal_id).into(), (*id).into(), PENDING.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Frees every claim (a server starting on SQLite, where no other server can be delivering
    /// from the same file: claims left by a crash need not wait for their lease).
    pub async fn release_all_deliveries(&mut self) -> Result<u64, ApiError> {
        self.exec_sql(
            "UPDATE event_outbox SET locked_until = NULL WHERE state = ? AND locked_until IS NOT NULL",
            vec![PENDING.into()],
        )
        .await
    }

    /// Deletes deliveries finished before `before` (Unix ms) and the tokens minted for them.
    pub async fn prune_deliveries(&mut self, before: i64) -> Result<u64, ApiError> {
        self.exec_sql(
            "DELETE FROM token WHERE token IN (SELECT access_token FROM event_outbox \
             WHERE state <> ? AND finished_at < ? AND access_token IS NOT NULL)",
            vec![PENDING.into(), before.into()],
        )
        .await?;
        self.exec_sql(
            "DELETE FROM event_outbox WHERE state <> ? AND finished_at < ?",
            vec![PENDING.into(), before.into()],
        )
        .await
    }

    /// Deliveries of a portal (optionally of one handler), by id.
    pub async fn deliveries(
        &mut self,
        portal_id: i64,
        handler_id: Option<i64>,
    ) -> Result<Vec<DeliveryRecord>, ApiError> {
        let mut sql = String::from(
            "SELECT id, handler_id, uid, event_name, data, state, attempts, ts, last_status, last_error \
             FROM event_outbox WHERE portal_id = ?",
        );
        let mut values: Vec<Value> = vec![portal_id.into()];
        if let Some(h) = handler_id {
            sql.push_str(" AND handler_id = ?");
            values.push(h.into());
        }
        sql.push_str(" ORDER BY id");
        let rows = self.fetch_sql(&sql, values).await?;
        Ok(rows
            .iter()
            .map(|r| DeliveryRecord {
                id: val::int(&r[0]),
                handler_id: val::int(&r[1]),
                uid: val::text(&r[2]),
                event_name: val::text(&r[3]),
                data: json_value(&r[4]),
                state: val::text(&r[5]),
                attempts: val::int(&r[6]),
                ts: val::opt_int(&r[7]),
                last_status: val::opt_int(&r[8]),
                last_error: val::opt_text(&r[9]),
            })
            .collect())
    }

    /// The WHERE clause of a queue query (without `WHERE`) and its values.
    fn offline_where(q: &OfflineQuery) -> (String, Vec<Value>) {
        let mut sql = String::from("portal_id = ? AND app_id = ? AND auth_connector = ?");
        let mut values: Vec<Value> = vec![
            q.portal_id.into(),
            q.app_id.as_str().into(),
            q.auth_connector.as_str().into(),
        ];
        for (col, op, v) in &q.filter {
            sql.push_str(&format!(" AND {} {} ?", col.column(), op_sql(*op)));
            values.push(match col {
                OfflineCol::Error => (v.as_i64().unwrap_or(0) != 0).into(),
                _ => db_to_value(v),
            });
        }
        (sql, values)
    }

    fn offline_order(q: &OfflineQuery) -> String {
        let mut keys: Vec<String> = q
            .order
            .iter()
            .map(|(c, desc)| format!("{} {}", c.column(), if *desc { "DESC" } else { "ASC" }))
            .collect();
        if !q.order.iter().any(|(c, _)| *c == OfflineCol::Id) {
            keys.push("id ASC".into());
        }
        keys.join(", ")
    }

    /// `event.offline.list`: rows of a queue, without changing them.
    pub async fn offline_events(
        &mut self,
        q: &OfflineQuery,
    ) -> Result<Vec<OfflineEvent>, ApiError> {
        let (cond, mut values) = Self::offline_where(q);
        let mut sql = format!(
            "SELECT {OFFLINE_COLUMNS} FROM event_offline WHERE {cond} ORDER BY {}",
            Self::offline_order(q)
        );
        // Callers page with a limit; without one the whole queue is read.
        if let Some(limit) = q.limit {
            sql.push_str(" LIMIT ? OFFSET ?");
            values.push(limit.into());
            values.push(q.offset.into());
        }
        let rows = self.fetch_sql(&sql, values).await?;
        Ok(rows.iter().map(|r| offline_from(r)).collect())
    }

    pub async fn count_offline_events(&mut self, q: &OfflineQuery) -> Result<i64, ApiError> {
        let (cond, values) = Self::offline_where(q);
        let rows = self
            .fetch_sql(
                &format!("SELECT COUNT(*) FROM event_offline WHERE {cond}"),
                values,
            )
            .await?;
        Ok(rows.first().map(|r| val::int(&r[0])).unwrap_or(0))
    }

    /// `event.offline.get`: takes rows of a queue. With `hold` they are marked with that process
    /// id (hidden from other takers until cleared); without, they are deleted. Concurrent takers
    /// get disjoint rows (SKIP LOCKED on PostgreSQL; the single writer on SQLite).
    pub async fn take_offline_events(
        &mut self,
        t: &OfflineTake,
        hold: Option<&str>,
    ) -> Result<Vec<OfflineEvent>, ApiError> {
        let (cond, mut values) = Self::offline_where(&t.query);
        let mut sql = format!("SELECT {OFFLINE_COLUMNS} FROM event_offline WHERE {cond}");
        match &t.process_id {
            Some(p) => {
                sql.push_str(" AND (process_id = '' OR process_id = ?)");
                values.push(p.as_str().into());
            }
            None => sql.push_str(" AND process_id = ''"),
        }
        if !t.with_errors {
            sql.push_str(" AND error = ?");
            values.push(false.into());
        }
        sql.push_str(&format!(" ORDER BY {}", Self::offline_order(&t.query)));
        if let Some(limit) = t.query.limit {
            sql.push_str(" LIMIT ?");
            values.push(limit.into());
        }
        if self.backend() == Backend::Postgres {
            sql.push_str(" FOR UPDATE SKIP LOCKED");
        }
        let rows: Vec<OfflineEvent> = self
            .fetch_sql(&sql, values)
            .await?
            .iter()
            .map(|r| offline_from(r))
            .collect();
        for chunk in rows.chunks(500) {
            let mut values: Vec<Value> = Vec::new();
            let stmt = match hold {
                Some(p) => {
                    values.push(p.into());
                    "UPDATE event_offline SET process_id = ?"
                }
                None => "DELETE FROM event_offline",
            };
            values.push(t.query.portal_id.into());
            values.extend(chunk.iter().map(|e| Value::from(e.id)));
            self.exec_sql(
                &format!(
                    "{stmt} WHERE portal_id = ? AND id IN ({})",
                    placeholders(chunk.len())
                ),
                values,
            )
            .await?;
        }
        Ok(rows
            .into_iter()
            .map(|mut e| {
                if let Some(p) = hold {
                    e.process_id = p.to_string();
                }
                e
            })
            .collect())
    }

    /// `event.offline.clear`: deletes rows held by a process (all, or those with these ids or
    /// message ids). Returns how many went.
    pub async fn clear_offline_events(
        &mut self,
        q: &OfflineQuery,
        process_id: &str,
        ids: Option<&[i64]>,
        message_ids: Option<&[String]>,
    ) -> Result<u64, ApiError> {
        self.change_held(
            q,
            process_id,
            ids,
            message_ids,
            "DELETE FROM event_offline",
            vec![],
        )
        .await
    }

    /// `event.offline.error`: marks rows held by a process as failed and frees them.
    pub async fn fail_offline_events(
        &mut self,
        q: &OfflineQuery,
        process_id: &str,
        message_ids: Option<&[String]>,
    ) -> Result<u64, ApiError> {
        self.change_held(
            q,
            process_id,
            None,
            message_ids,
            "UPDATE event_offline SET error = ?, process_id = ''",
            vec![true.into()],
        )
        .await
    }

    async fn change_held(
        &mut self,
        q: &OfflineQuery,
        process_id: &str,
        ids: Option<&[i64]>,
        message_ids: Option<&[String]>,
        stmt: &str,
        mut values: Vec<Value>,
    ) -> Result<u64, ApiError> {
        let (cond, cond_values) = Self::offline_where(q);
        let mut sql = format!("{stmt} WHERE {cond} AND process_id = ?");
        values.extend(cond_values);
        values.push(process_id.into());
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(0);
            }
            sql.push_str(&format!(" AND id IN ({})", placeholders(ids.len())));
            values.extend(ids.iter().map(|i| Value::from(*i)));
        } else if let Some(m) = message_ids {
            if m.is_empty() {
                return Ok(0);
            }
            sql.push_str(&format!(" AND message_id IN ({})", placeholders(m.len())));
            values.extend(m.iter().map(|s| Value::from(s.as_str())));
        }
        self.exec_sql(&sql, values).await
    }
}
