-- Events (spec/events.md): handlers bound by applications (event.bind) or configured as outgoing
-- webhooks (`leadtrace event add`), the outbox the delivery worker sends from, and the offline
-- event queues. Mirrors ../sqlite/0006_events.sql; keep both in step.

-- The application token sent as auth[application_token] with the events of an application.
-- app_id '' is the application of tokens that name none (`leadtrace token create`).
CREATE TABLE event_app (
    portal_id         BIGINT NOT NULL REFERENCES portal (id),
    app_id            TEXT COLLATE "C" NOT NULL,
    application_token TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (portal_id, app_id)
);

CREATE TABLE event_handler (
    id                BIGSERIAL,
    portal_id         BIGINT NOT NULL REFERENCES portal (id),
    -- 'app' (event.bind) or 'webhook' (an outgoing webhook of the portal)
    kind              TEXT COLLATE "C" NOT NULL,
    app_id            TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- upper case, e.g. ONCRMLEADADD
    event_name        TEXT COLLATE "C" NOT NULL,
    -- the URL; '' for offline subscriptions
    handler           TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- whose token is sent: a user id, or 0 for the user who caused the event
    auth_type         BIGINT NOT NULL DEFAULT 0,
    offline           BOOLEAN NOT NULL DEFAULT FALSE,
    auth_connector    TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- JSON object (e.g. {"minTimeout": 1} for ONOFFLINEEVENT)
    options           TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    -- who registered it (event.get shows non-administrators only their own)
    user_id           BIGINT NOT NULL,
    -- JSON array: the scopes of the tokens sent with its events
    scopes            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    application_token TEXT COLLATE "C" NOT NULL,
    -- ONOFFLINEEVENT throttling: when the last notification was (or is) due, Unix ms
    last_notified_at  BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX event_handler_event ON event_handler (portal_id, event_name);

-- One delivery of one event to one handler. Written in the transaction of the change; the worker
-- claims due rows (FOR UPDATE SKIP LOCKED, then a lease in locked_until), POSTs, and records the
-- outcome, so any number of instances can deliver from one database.
CREATE TABLE event_outbox (
    id              BIGSERIAL,
    portal_id       BIGINT NOT NULL,
    handler_id      BIGINT NOT NULL,
    -- de-duplication id, the same on every attempt (header X-Leadtrace-Event-Id)
    uid             TEXT COLLATE "C" NOT NULL,
    event_name      TEXT COLLATE "C" NOT NULL,
    -- JSON object: the notification's `data`
    data            TEXT COLLATE "C" NOT NULL,
    -- whose access token goes into auth[...] (0: none)
    user_id         BIGINT NOT NULL DEFAULT 0,
    -- 'pending', 'delivered' or 'failed'
    state           TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- Unix ms
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    finished_at     BIGINT,
    -- Unix seconds of the first attempt; retries send the same `ts`
    ts              BIGINT,
    -- the access token minted for the last attempt (removed with the row)
    access_token    TEXT COLLATE "C",
    last_status     BIGINT,
    last_error      TEXT COLLATE "C",
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX event_outbox_due ON event_outbox (state, next_attempt_at);
CREATE INDEX event_outbox_handler ON event_outbox (portal_id, handler_id, state, id);
CREATE INDEX event_outbox_finished ON event_outbox (state, finished_at);

-- Offline events: one queue per (application, auth_connector), one row per changed object.
CREATE TABLE event_offline (
    id               BIGSERIAL,
    portal_id        BIGINT NOT NULL,
    app_id           TEXT COLLATE "C" NOT NULL,
    auth_connector   TEXT COLLATE "C" NOT NULL DEFAULT '',
    message_id       TEXT COLLATE "C" NOT NULL,
    event_name       TEXT COLLATE "C" NOT NULL,
    event_data       TEXT COLLATE "C" NOT NULL,
    event_additional TEXT COLLATE "C" NOT NULL,
    -- Unix seconds of the latest change
    timestamp_x      BIGINT NOT NULL,
    -- '' while free; the event.offline.get process holding it otherwise
    process_id       TEXT COLLATE "C" NOT NULL DEFAULT '',
    error            BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX event_offline_queue ON event_offline (portal_id, app_id, auth_connector, process_id, message_id);
