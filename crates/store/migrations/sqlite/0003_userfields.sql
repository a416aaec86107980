-- User fields (SQLite): definitions of UF_CRM_* fields per entity type, the options of
-- enumeration fields, and the metadata of files given for file fields. Mirrors
-- ../postgres/0003_userfields.sql; keep both in step. Values live in each entity's `uf` JSON.

CREATE TABLE crm_user_field (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id     INTEGER NOT NULL REFERENCES portal (id),
    -- CRM_LEAD, CRM_DEAL, CRM_CONTACT, CRM_COMPANY, CRM_QUOTE
    entity_id     TEXT    NOT NULL,
    field_name    TEXT    NOT NULL,
    user_type_id  TEXT    NOT NULL,
    xml_id        TEXT,
    sort          INTEGER NOT NULL DEFAULT 100,
    multiple      INTEGER NOT NULL DEFAULT 0,
    mandatory     INTEGER NOT NULL DEFAULT 0,
    show_filter   TEXT    NOT NULL DEFAULT 'N',
    show_in_list  INTEGER NOT NULL DEFAULT 1,
    edit_in_list  INTEGER NOT NULL DEFAULT 1,
    is_searchable INTEGER NOT NULL DEFAULT 0,
    -- SETTINGS object and {"EDIT_FORM_LABEL": {"en": "..."}, ...}, as JSON text (never queried;
    -- text, not JSONB on PostgreSQL, keeps the key order clients gave).
    settings      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    labels        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    UNIQUE (portal_id, id),
    UNIQUE (portal_id, entity_id, field_name)
) STRICT;

CREATE TABLE crm_user_field_enum (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id INTEGER NOT NULL,
    field_id  INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    sort      INTEGER NOT NULL DEFAULT 0,
    def       INTEGER NOT NULL DEFAULT 0,
    xml_id    TEXT    NOT NULL,
    FOREIGN KEY (portal_id, field_id) REFERENCES crm_user_field (portal_id, id)
) STRICT;
CREATE INDEX crm_user_field_enum_field ON crm_user_field_enum (portal_id, field_id);

-- Files given for file user fields: metadata only (the content is not kept).
CREATE TABLE crm_file (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id  INTEGER NOT NULL REFERENCES portal (id),
    name       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
