-- OAuth applications (issue 5): the server is its own OAuth server. An application is registered on
-- a portal (`leadtrace app create`); users authorize it at /oauth/authorize/, which issues a short-lived
-- authorization code; /oauth/token/ exchanges the code (or a refresh token) for an access token (kept
-- in `token`, now tagged with its application) and a refresh token. Mirrors ../postgres/0005_oauth_apps.sql.

-- member_id: the portal's stable 32-hex identifier Bitrix24 sends in OAuth answers and events.
-- Filled at start-up for portals that have none (SQLite cannot default a new column to a random value).
ALTER TABLE portal ADD COLUMN member_id TEXT NOT NULL DEFAULT '';

CREATE TABLE app (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id         INTEGER NOT NULL REFERENCES portal (id),
    name              TEXT    NOT NULL,
    -- unique across the server: /oauth/token/ names no portal
    client_id         TEXT    NOT NULL UNIQUE,
    client_secret     TEXT    NOT NULL,
    -- JSON array of scope names
    scopes            TEXT    NOT NULL DEFAULT '[]',
    redirect_uri      TEXT    NOT NULL DEFAULT '',
    -- sent with events as auth[application_token] so handlers can check the sender
    application_token TEXT    NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    UNIQUE (portal_id, id)
) STRICT;

-- Access tokens minted for an application carry its id; `leadtrace token create` tokens have none.
-- Expired application tokens, codes and refresh tokens are purged by expiry (hence the indexes).
ALTER TABLE token ADD COLUMN app_id INTEGER REFERENCES app (id);

CREATE TABLE app_auth_code (
    code       TEXT    PRIMARY KEY,
    portal_id  INTEGER NOT NULL,
    app_id     INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (portal_id, app_id) REFERENCES app (portal_id, id),
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
) STRICT;

CREATE TABLE refresh_token (
    token      TEXT    PRIMARY KEY,
    portal_id  INTEGER NOT NULL,
    app_id     INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (portal_id, app_id) REFERENCES app (portal_id, id),
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
) STRICT;

CREATE INDEX token_expires ON token (expires_at);
CREATE INDEX app_auth_code_expires ON app_auth_code (expires_at);
CREATE INDEX refresh_token_expires ON refresh_token (expires_at);
