-- OAuth applications (issue 5): the server is its own OAuth server. An application is registered on
-- a portal (`leadtrace app create`); users authorize it at /oauth/authorize/, which issues a short-lived
-- authorization code; /oauth/token/ exchanges the code (or a refresh token) for an access token (kept
-- in `token`, now tagged with its application) and a refresh token. Mirrors ../sqlite/0005_oauth_apps.sql.

-- member_id: the portal's stable 32-hex identifier Bitrix24 sends in OAuth answers and events.
-- Filled at start-up for portals that have none (as on SQLite, which cannot default it to a random value).
ALTER TABLE portal ADD COLUMN member_id TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE app (
    id                BIGSERIAL,
    portal_id         BIGINT NOT NULL REFERENCES portal (id),
    name              TEXT COLLATE "C" NOT NULL,
    -- unique across the server: /oauth/token/ names no portal
    client_id         TEXT COLLATE "C" NOT NULL UNIQUE,
    client_secret     TEXT COLLATE "C" NOT NULL,
    -- JSON array of scope names
    scopes            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    redirect_uri      TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- sent with events as auth[application_token] so handlers can check the sender
    application_token TEXT COLLATE "C" NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (portal_id, id),
    UNIQUE (id)
);

-- Access tokens minted for an application carry its id; `leadtrace token create` tokens have none.
-- Expired application tokens, codes and refresh tokens are purged by expiry (hence the indexes).
ALTER TABLE token ADD COLUMN app_id BIGINT REFERENCES app (id);

CREATE TABLE app_auth_code (
    code       TEXT COLLATE "C" PRIMARY KEY,
    portal_id  BIGINT NOT NULL,
    app_id     BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    scopes     TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (portal_id, app_id) REFERENCES app (portal_id, id),
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
);

CREATE TABLE refresh_token (
    token      TEXT COLLATE "C" PRIMARY KEY,
    portal_id  BIGINT NOT NULL,
    app_id     BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    scopes     TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (portal_id, app_id) REFERENCES app (portal_id, id),
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
);

CREATE INDEX token_expires ON token (expires_at);
CREATE INDEX app_auth_code_expires ON app_auth_code (expires_at);
CREATE INDEX refresh_token_expires ON refresh_token (expires_at);
