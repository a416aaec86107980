-- Initial schema (SQLite): portals and their users, roles, webhooks and tokens; CRM dictionaries;
-- leads with what hangs on them. Mirrors ../postgres/0001_init.sql; keep both in step.

-- STRICT tables make SQLite reject a value of the wrong type, as PostgreSQL does, so a bug shows
-- on both backends. Ids are global (AUTOINCREMENT never reuses one); every key starts with portal_id.

CREATE TABLE portal (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    crm_mode   TEXT    NOT NULL DEFAULT 'classic',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE role (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id INTEGER NOT NULL REFERENCES portal (id),
    name      TEXT    NOT NULL,
    -- crm::Rights::to_spec text
    rights    TEXT    NOT NULL,
    UNIQUE (portal_id, id),
    UNIQUE (portal_id, name)
) STRICT;

CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id     INTEGER NOT NULL REFERENCES portal (id),
    login         TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    last_name     TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1,
    admin         INTEGER NOT NULL DEFAULT 0,
    role_id       INTEGER,
    date_register INTEGER NOT NULL,
    last_login    INTEGER,
    UNIQUE (portal_id, id),
    UNIQUE (portal_id, login),
    FOREIGN KEY (portal_id, role_id) REFERENCES role (portal_id, id)
) STRICT;

CREATE TABLE webhook (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    -- unique across the server: the URL /rest/{user}/{code}/ names no portal
    code      TEXT    NOT NULL UNIQUE,
    -- JSON array of scope names
    scopes    TEXT    NOT NULL DEFAULT '[]',
    active    INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
) STRICT;
CREATE INDEX webhook_portal ON webhook (portal_id, id);

CREATE TABLE token (
    token      TEXT    PRIMARY KEY,
    portal_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
) STRICT;

CREATE TABLE crm_status (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portal (id),
    entity_id   TEXT    NOT NULL,
    status_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    name_init   TEXT    NOT NULL DEFAULT '',
    sort        INTEGER NOT NULL DEFAULT 10,
    system      INTEGER NOT NULL DEFAULT 0,
    category_id INTEGER,
    color       TEXT,
    semantics   TEXT,
    UNIQUE (portal_id, entity_id, status_id)
) STRICT;

CREATE TABLE currency (
    portal_id INTEGER NOT NULL REFERENCES portal (id),
    code      TEXT    NOT NULL,
    sort      INTEGER NOT NULL DEFAULT 100,
    base      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, code)
) STRICT;

-- One typed column per crm::entity::LEAD_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_lead (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id             INTEGER NOT NULL REFERENCES portal (id),
    title                 TEXT,
    honorific             TEXT,
    name                  TEXT,
    second_name           TEXT,
    last_name             TEXT,
    birthdate             TEXT,
    company_title         TEXT,
    source_id             TEXT,
    source_description    TEXT,
    status_id             TEXT,
    status_description    TEXT,
    status_semantic_id    TEXT,
    post                  TEXT,
    address               TEXT,
    address_2             TEXT,
    address_city          TEXT,
    address_postal_code   TEXT,
    address_region        TEXT,
    address_province      TEXT,
    address_country       TEXT,
    address_country_code  TEXT,
    address_loc_addr_id   INTEGER,
    currency_id           TEXT,
    opportunity           REAL,
    is_manual_opportunity TEXT,
    opened                TEXT,
    comments              TEXT,
    has_phone             TEXT,
    has_email             TEXT,
    has_imol              TEXT,
    assigned_by_id        INTEGER,
    created_by_id         INTEGER,
    modify_by_id          INTEGER,
    moved_by_id           INTEGER,
    date_create           INTEGER,
    date_modify           INTEGER,
    moved_time            INTEGER,
    company_id            INTEGER,
    contact_id            INTEGER,
    is_return_customer    TEXT,
    date_closed           INTEGER,
    originator_id         TEXT,
    origin_id             TEXT,
    utm_source            TEXT,
    utm_medium            TEXT,
    utm_campaign          TEXT,
    utm_content           TEXT,
    utm_term              TEXT,
    last_activity_time    INTEGER,
    last_activity_by      INTEGER,
    uf                    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(uf))
) STRICT;
CREATE UNIQUE INDEX crm_lead_portal_id ON crm_lead (portal_id, id);
CREATE INDEX crm_lead_date_create ON crm_lead (portal_id, date_create);
CREATE INDEX crm_lead_date_modify ON crm_lead (portal_id, date_modify);
-- Text filters are case-insensitive (lt_fold(col) = folded value), so the text indexes are on lt_fold().
CREATE INDEX crm_lead_status ON crm_lead (portal_id, lt_fold(status_id));
CREATE INDEX crm_lead_source ON crm_lead (portal_id, lt_fold(source_id));
CREATE INDEX crm_lead_utm_source ON crm_lead (portal_id, lt_fold(utm_source));
CREATE INDEX crm_lead_assigned ON crm_lead (portal_id, assigned_by_id, id);

-- PHONE / EMAIL / WEB / IM / LINK values of any entity type.
CREATE TABLE crm_multifield (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id      INTEGER NOT NULL,
    entity_type_id INTEGER NOT NULL,
    owner_id       INTEGER NOT NULL,
    type_id        TEXT    NOT NULL,
    value_type     TEXT    NOT NULL,
    value          TEXT    NOT NULL
) STRICT;
CREATE INDEX crm_multifield_owner ON crm_multifield (portal_id, entity_type_id, owner_id);
-- Duplicate search and filters look values up case-insensitively; owner_id makes it covering.
CREATE INDEX crm_multifield_value ON crm_multifield (portal_id, type_id, lt_fold(value), entity_type_id, owner_id);

-- Contact bindings of leads, deals, quotes (and companies).
CREATE TABLE crm_entity_contact (
    portal_id      INTEGER NOT NULL,
    entity_type_id INTEGER NOT NULL,
    owner_id       INTEGER NOT NULL,
    contact_id     INTEGER NOT NULL,
    sort           INTEGER NOT NULL DEFAULT 0,
    is_primary     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, entity_type_id, owner_id, contact_id)
) STRICT;
CREATE INDEX crm_entity_contact_contact ON crm_entity_contact (portal_id, contact_id);

-- Product rows; owner_type is Bitrix24's OWNER_TYPE letter code (L, D, Q, ...). The row itself is
-- JSON (`data`) until the product-rows issue gives it columns.
CREATE TABLE crm_product_row (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id  INTEGER NOT NULL,
    owner_type TEXT    NOT NULL,
    owner_id   INTEGER NOT NULL,
    sort       INTEGER NOT NULL DEFAULT 0,
    data       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;
CREATE INDEX crm_product_row_owner ON crm_product_row (portal_id, owner_type, owner_id);

-- Sales Intelligence: which entities a trace (customer journey) led to.
CREATE TABLE crm_trace_entity (
    portal_id      INTEGER NOT NULL,
    trace_id       INTEGER NOT NULL,
    entity_type_id INTEGER NOT NULL,
    entity_id      INTEGER NOT NULL,
    PRIMARY KEY (portal_id, trace_id, entity_type_id, entity_id)
) STRICT;
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id);
