-- Unicode lower-casing for case-insensitive filters (spec decision C5). Columns use the "C"
-- collation (bytewise, as SQLite), under which lower() folds ASCII only; ICU's root locale folds
-- every script. SQLite registers the same function from Rust on each connection.
CREATE FUNCTION lt_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(t COLLATE "und-x-icu") $$;

-- Initial schema (PostgreSQL): portals and their users, roles, webhooks and tokens; CRM dictionaries;
-- leads with what hangs on them. Mirrors ../sqlite/0001_init.sql; keep both in step.

-- Text columns use COLLATE "C" so comparisons, LOWER() and ORDER BY are bytewise, exactly as in
-- SQLite, whatever the database's locale: both backends must return the same rows in the same order.
-- Ids are global (one sequence per table); keys lead with portal_id so tables can be distributed by it.
-- Sort indexes are NULLS FIRST because the store orders NULLs first ascending (SQLite's and MySQL's rule).

CREATE TABLE portal (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    time_zone  TEXT COLLATE "C" NOT NULL,
    currency   TEXT COLLATE "C" NOT NULL,
    crm_mode   TEXT COLLATE "C" NOT NULL DEFAULT 'classic',
    created_at BIGINT NOT NULL
);

CREATE TABLE role (
    id        BIGSERIAL,
    portal_id BIGINT NOT NULL REFERENCES portal (id),
    name      TEXT COLLATE "C" NOT NULL,
    -- crm::Rights::to_spec text
    rights    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (portal_id, id),
    UNIQUE (portal_id, name)
);

CREATE TABLE app_user (
    id            BIGSERIAL,
    portal_id     BIGINT NOT NULL REFERENCES portal (id),
    login         TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL DEFAULT '',
    last_name     TEXT COLLATE "C" NOT NULL DEFAULT '',
    email         TEXT COLLATE "C" NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    role_id       BIGINT,
    date_register BIGINT NOT NULL,
    last_login    BIGINT,
    PRIMARY KEY (portal_id, id),
    UNIQUE (portal_id, login),
    FOREIGN KEY (portal_id, role_id) REFERENCES role (portal_id, id)
);

CREATE TABLE webhook (
    id        BIGSERIAL,
    portal_id BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    -- unique across the server: the URL /rest/{user}/{code}/ names no portal
    code      TEXT COLLATE "C" NOT NULL UNIQUE,
    -- JSON array of scope names
    scopes    TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    active    BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (portal_id, id),
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
);

CREATE TABLE token (
    token      TEXT COLLATE "C" PRIMARY KEY,
    portal_id  BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    scopes     TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (portal_id, user_id) REFERENCES app_user (portal_id, id)
);

CREATE TABLE crm_status (
    id          BIGSERIAL,
    portal_id   BIGINT NOT NULL REFERENCES portal (id),
    entity_id   TEXT COLLATE "C" NOT NULL,
    status_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    name_init   TEXT COLLATE "C" NOT NULL DEFAULT '',
    sort        BIGINT NOT NULL DEFAULT 10,
    system      BOOLEAN NOT NULL DEFAULT FALSE,
    category_id BIGINT,
    color       TEXT COLLATE "C",
    semantics   TEXT COLLATE "C",
    PRIMARY KEY (portal_id, id),
    UNIQUE (portal_id, entity_id, status_id)
);

CREATE TABLE currency (
    portal_id BIGINT NOT NULL REFERENCES portal (id),
    code      TEXT COLLATE "C" NOT NULL,
    sort      BIGINT NOT NULL DEFAULT 100,
    base      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, code)
);

-- One typed column per crm::entity::LEAD_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_lead (
    id                    BIGSERIAL,
    portal_id             BIGINT NOT NULL REFERENCES portal (id),
    title                 TEXT COLLATE "C",
    honorific             TEXT COLLATE "C",
    name                  TEXT COLLATE "C",
    second_name           TEXT COLLATE "C",
    last_name             TEXT COLLATE "C",
    birthdate             TEXT COLLATE "C",
    company_title         TEXT COLLATE "C",
    source_id             TEXT COLLATE "C",
    source_description    TEXT COLLATE "C",
    status_id             TEXT COLLATE "C",
    status_description    TEXT COLLATE "C",
    status_semantic_id    TEXT COLLATE "C",
    post                  TEXT COLLATE "C",
    address               TEXT COLLATE "C",
    address_2             TEXT COLLATE "C",
    address_city          TEXT COLLATE "C",
    address_postal_code   TEXT COLLATE "C",
    address_region        TEXT COLLATE "C",
    address_province      TEXT COLLATE "C",
    address_country       TEXT COLLATE "C",
    address_country_code  TEXT COLLATE "C",
    address_loc_addr_id   BIGINT,
    currency_id           TEXT COLLATE "C",
    opportunity           DOUBLE PRECISION,
    is_manual_opportunity TEXT COLLATE "C",
    opened                TEXT COLLATE "C",
    comments              TEXT COLLATE "C",
    has_phone             TEXT COLLATE "C",
    has_email             TEXT COLLATE "C",
    has_imol              TEXT COLLATE "C",
    assigned_by_id        BIGINT,
    created_by_id         BIGINT,
    modify_by_id          BIGINT,
    moved_by_id           BIGINT,
    date_create           BIGINT,
    date_modify           BIGINT,
    moved_time            BIGINT,
    company_id            BIGINT,
    contact_id            BIGINT,
    is_return_customer    TEXT COLLATE "C",
    date_closed           BIGINT,
    originator_id         TEXT COLLATE "C",
    origin_id             TEXT COLLATE "C",
    utm_source            TEXT COLLATE "C",
    utm_medium            TEXT COLLATE "C",
    utm_campaign          TEXT COLLATE "C",
    utm_content           TEXT COLLATE "C",
    utm_term              TEXT COLLATE "C",
    last_activity_time    BIGINT,
    last_activity_by      BIGINT,
    uf                    JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_lead_date_create ON crm_lead (portal_id, date_create NULLS FIRST);
CREATE INDEX crm_lead_date_modify ON crm_lead (portal_id, date_modify NULLS FIRST);
-- Text filters are case-insensitive (lt_fold(col) = folded value), so the text indexes are on lt_fold().
CREATE INDEX crm_lead_status ON crm_lead (portal_id, lt_fold(status_id));
CREATE INDEX crm_lead_source ON crm_lead (portal_id, lt_fold(source_id));
CREATE INDEX crm_lead_utm_source ON crm_lead (portal_id, lt_fold(utm_source));
CREATE INDEX crm_lead_assigned ON crm_lead (portal_id, assigned_by_id, id);

-- PHONE / EMAIL / WEB / IM / LINK values of any entity type.
CREATE TABLE crm_multifield (
    id             BIGSERIAL,
    portal_id      BIGINT NOT NULL,
    entity_type_id BIGINT NOT NULL,
    owner_id       BIGINT NOT NULL,
    type_id        TEXT COLLATE "C" NOT NULL,
    value_type     TEXT COLLATE "C" NOT NULL,
    value          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_multifield_owner ON crm_multifield (portal_id, entity_type_id, owner_id);
-- Duplicate search and filters look values up case-insensitively; owner_id makes it covering.
CREATE INDEX crm_multifield_value ON crm_multifield (portal_id, type_id, lt_fold(value), entity_type_id, owner_id);

-- Contact bindings of leads, deals, quotes (and companies).
CREATE TABLE crm_entity_contact (
    portal_id      BIGINT NOT NULL,
    entity_type_id BIGINT NOT NULL,
    owner_id       BIGINT NOT NULL,
    contact_id     BIGINT NOT NULL,
    sort           BIGINT NOT NULL DEFAULT 0,
    is_primary     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, entity_type_id, owner_id, contact_id)
);
CREATE INDEX crm_entity_contact_contact ON crm_entity_contact (portal_id, contact_id);

-- Product rows; owner_type is Bitrix24's OWNER_TYPE letter code (L, D, Q, ...). The row itself is
-- JSON (`data`) until the product-rows issue gives it columns.
CREATE TABLE crm_product_row (
    id         BIGSERIAL,
    portal_id  BIGINT NOT NULL,
    owner_type TEXT COLLATE "C" NOT NULL,
    owner_id   BIGINT NOT NULL,
    sort       BIGINT NOT NULL DEFAULT 0,
    data       JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_product_row_owner ON crm_product_row (portal_id, owner_type, owner_id);

-- Sales Intelligence: which entities a trace (customer journey) led to.
CREATE TABLE crm_trace_entity (
    portal_id      BIGINT NOT NULL,
    trace_id       BIGINT NOT NULL,
    entity_type_id BIGINT NOT NULL,
    entity_id      BIGINT NOT NULL,
    PRIMARY KEY (portal_id, trace_id, entity_type_id, entity_id)
);
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id);
