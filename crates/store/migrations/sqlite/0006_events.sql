-- Events (spec/events.md): handlers bound by applications (event.bind) or configured as outgoing
-- webhooks (`leadtrace event add`), the outbox the delivery worker sends from, and the offline
-- event queues. Mirrors ../postgres/0006_events.sql; keep both in step.

-- The application token sent as auth[application_token] with the events of an application.
-- app_id '' is the application of tokens that name none (`leadtrace token create`).
CREATE TABLE event_app (
    portal_id         INTEGER NOT NULL REFERENCES portal (id),
    app_id            TEXT    NOT NULL,
    application_token TEXT    NOT NULL,
    PRIMARY KEY (portal_id, app_id)
) STRICT;

CREATE TABLE event_handler (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id         INTEGER NOT NULL REFERENCES portal (id),
    -- 'app' (event.bind) or 'webhook' (an outgoing webhook of the portal)
    kind              TEXT    NOT NULL,
    app_id            TEXT    NOT NULL DEFAULT '',
    -- upper case, e.g. ONCRMLEADADD
    event_name        TEXT    NOT NULL,
    -- the URL; '' for offline subscriptions
    handler           TEXT    NOT NULL DEFAULT '',
    -- whose token is sent: a user id, or 0 for the user who caused the event
    auth_type         INTEGER NOT NULL DEFAULT 0,
    offline           INTEGER NOT NULL DEFAULT 0,
    auth_connector    TEXT    NOT NULL DEFAULT '',
    -- JSON object (e.g. {"minTimeout": 1} for ONOFFLINEEVENT)
    options           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    -- who registered it (event.get shows non-administrators only their own)
    user_id           INTEGER NOT NULL,
    -- JSON array: the scopes of the tokens sent with its events
    scopes            TEXT    NOT NULL DEFAULT '[]',
    application_token TEXT    NOT NULL,
    -- ONOFFLINEEVENT throttling: when the last notification was (or is) due, Unix ms
    last_notified_at  INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX event_handler_portal_id ON event_handler (portal_id, id);
CREATE INDEX event_handler_event ON event_handler (portal_id, event_name);

-- One delivery of one event to one handler. Written in the transaction of the change; the worker
-- claims due rows (a lease in locked_until), POSTs, and records the outcome.
CREATE TABLE event_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL,
    handler_id      INTEGER NOT NULL,
    -- de-duplication id, the same on every attempt (header X-Leadtrace-Event-Id)
    uid             TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    -- JSON object: the notification's `data`
    data            TEXT    NOT NULL CHECK (json_valid(data)),
    -- whose access token goes into auth[...] (0: none)
    user_id         INTEGER NOT NULL DEFAULT 0,
    -- 'pending', 'delivered' or 'failed'
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Unix ms
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    finished_at     INTEGER,
    -- Unix seconds of the first attempt; retries send the same `ts`
    ts              INTEGER,
    -- the access token minted for the last attempt (removed with the row)
    access_token    TEXT,
    last_status     INTEGER,
    last_error      TEXT
) STRICT;
CREATE UNIQUE INDEX event_outbox_portal_id ON event_outbox (portal_id, id);
CREATE INDEX event_outbox_due ON event_outbox (state, next_attempt_at);
CREATE INDEX event_outbox_handler ON event_outbox (portal_id, handler_id, state, id);
CREATE INDEX event_outbox_finished ON event_outbox (state, finished_at);

-- Offline events: one queue per (application, auth_connector), one row per changed object.
CREATE TABLE event_offline (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id        INTEGER NOT NULL,
    app_id           TEXT    NOT NULL,
    auth_connector   TEXT    NOT NULL DEFAULT '',
    message_id       TEXT    NOT NULL,
    event_name       TEXT    NOT NULL,
    event_data       TEXT    NOT NULL CHECK (json_valid(event_data)),
    event_additional TEXT    NOT NULL CHECK (json_valid(event_additional)),
    -- Unix seconds of the latest change
    timestamp_x      INTEGER NOT NULL,
    -- '' while free; the event.offline.get process holding it otherwise
    process_id       TEXT    NOT NULL DEFAULT '',
    error            INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX event_offline_portal_id ON event_offline (portal_id, id);
CREATE INDEX event_offline_queue ON event_offline (portal_id, app_id, auth_connector, process_id, message_id);
