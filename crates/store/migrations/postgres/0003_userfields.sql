-- User fields (PostgreSQL): definitions of UF_CRM_* fields per entity type, the options of
-- enumeration fields, and the metadata of files given for file fields. Mirrors
-- ../sqlite/0003_userfields.sql; keep both in step. Values live in each entity's `uf` JSON.

CREATE TABLE crm_user_field (
    id            BIGSERIAL,
    portal_id     BIGINT NOT NULL REFERENCES portal (id),
    -- CRM_LEAD, CRM_DEAL, CRM_CONTACT, CRM_COMPANY, CRM_QUOTE
    entity_id     TEXT COLLATE "C" NOT NULL,
    field_name    TEXT COLLATE "C" NOT NULL,
    user_type_id  TEXT COLLATE "C" NOT NULL,
    xml_id        TEXT COLLATE "C",
    sort          BIGINT NOT NULL DEFAULT 100,
    multiple      BOOLEAN NOT NULL DEFAULT FALSE,
    mandatory     BOOLEAN NOT NULL DEFAULT FALSE,
    show_filter   TEXT COLLATE "C" NOT NULL DEFAULT 'N',
    show_in_list  BOOLEAN NOT NULL DEFAULT TRUE,
    edit_in_list  BOOLEAN NOT NULL DEFAULT TRUE,
    is_searchable BOOLEAN NOT NULL DEFAULT FALSE,
    -- SETTINGS object and {"EDIT_FORM_LABEL": {"en": "..."}, ...}, as JSON text: never queried,
    -- and text keeps the key order clients gave (JSONB would reorder them).
    settings      TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    labels        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id),
    UNIQUE (portal_id, entity_id, field_name)
);

CREATE TABLE crm_user_field_enum (
    id        BIGSERIAL,
    portal_id BIGINT NOT NULL,
    field_id  BIGINT NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    sort      BIGINT NOT NULL DEFAULT 0,
    def       BOOLEAN NOT NULL DEFAULT FALSE,
    xml_id    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (portal_id, id),
    FOREIGN KEY (portal_id, field_id) REFERENCES crm_user_field (portal_id, id)
);
CREATE INDEX crm_user_field_enum_field ON crm_user_field_enum (portal_id, field_id);

-- Files given for file user fields: metadata only (the content is not kept).
CREATE TABLE crm_file (
    id         BIGSERIAL,
    portal_id  BIGINT NOT NULL REFERENCES portal (id),
    name       TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (portal_id, id)
);
