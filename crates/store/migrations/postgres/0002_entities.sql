-- Deals, contacts, companies and quotes (PostgreSQL). Mirrors ../sqlite/0002_entities.sql; keep both
-- in step. Same conventions as 0001: COLLATE "C" text, global ids, portal_id first in every key,
-- text filters case-insensitive (so text indexes are on lt_fold()), date indexes NULLS FIRST.

-- One typed column per crm::entity::DEAL_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_deal (
    id                    BIGSERIAL,
    portal_id             BIGINT NOT NULL REFERENCES portal (id),
    title                 TEXT COLLATE "C",
    type_id               TEXT COLLATE "C",
    category_id           BIGINT,
    stage_id              TEXT COLLATE "C",
    stage_semantic_id     TEXT COLLATE "C",
    is_new                TEXT COLLATE "C",
    is_recurring          TEXT COLLATE "C",
    is_return_customer    TEXT COLLATE "C",
    is_repeated_approach  TEXT COLLATE "C",
    probability           BIGINT,
    currency_id           TEXT COLLATE "C",
    opportunity           DOUBLE PRECISION,
    is_manual_opportunity TEXT COLLATE "C",
    tax_value             DOUBLE PRECISION,
    company_id            BIGINT,
    contact_id            BIGINT,
    quote_id              BIGINT,
    begindate             TEXT COLLATE "C",
    closedate             TEXT COLLATE "C",
    opened                TEXT COLLATE "C",
    closed                TEXT COLLATE "C",
    comments              TEXT COLLATE "C",
    assigned_by_id        BIGINT,
    created_by_id         BIGINT,
    modify_by_id          BIGINT,
    moved_by_id           BIGINT,
    date_create           BIGINT,
    date_modify           BIGINT,
    moved_time            BIGINT,
    source_id             TEXT COLLATE "C",
    source_description    TEXT COLLATE "C",
    lead_id               BIGINT,
    additional_info       TEXT COLLATE "C",
    location_id           BIGINT,
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
CREATE INDEX crm_deal_date_create ON crm_deal (portal_id, date_create NULLS FIRST);
CREATE INDEX crm_deal_date_modify ON crm_deal (portal_id, date_modify NULLS FIRST);
CREATE INDEX crm_deal_stage_id ON crm_deal (portal_id, lt_fold(stage_id));
CREATE INDEX crm_deal_source_id ON crm_deal (portal_id, lt_fold(source_id));
CREATE INDEX crm_deal_utm_source ON crm_deal (portal_id, lt_fold(utm_source));
CREATE INDEX crm_deal_company_id ON crm_deal (portal_id, company_id);
CREATE INDEX crm_deal_contact_id ON crm_deal (portal_id, contact_id);
CREATE INDEX crm_deal_lead_id ON crm_deal (portal_id, lead_id);
CREATE INDEX crm_deal_assigned ON crm_deal (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::CONTACT_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_contact (
    id                   BIGSERIAL,
    portal_id            BIGINT NOT NULL REFERENCES portal (id),
    honorific            TEXT COLLATE "C",
    name                 TEXT COLLATE "C",
    second_name          TEXT COLLATE "C",
    last_name            TEXT COLLATE "C",
    photo                BIGINT,
    birthdate            TEXT COLLATE "C",
    type_id              TEXT COLLATE "C",
    source_id            TEXT COLLATE "C",
    source_description   TEXT COLLATE "C",
    post                 TEXT COLLATE "C",
    address              TEXT COLLATE "C",
    address_2            TEXT COLLATE "C",
    address_city         TEXT COLLATE "C",
    address_postal_code  TEXT COLLATE "C",
    address_region       TEXT COLLATE "C",
    address_province     TEXT COLLATE "C",
    address_country      TEXT COLLATE "C",
    address_country_code TEXT COLLATE "C",
    address_loc_addr_id  BIGINT,
    comments             TEXT COLLATE "C",
    opened               TEXT COLLATE "C",
    export               TEXT COLLATE "C",
    has_phone            TEXT COLLATE "C",
    has_email            TEXT COLLATE "C",
    has_imol             TEXT COLLATE "C",
    assigned_by_id       BIGINT,
    created_by_id        BIGINT,
    modify_by_id         BIGINT,
    date_create          BIGINT,
    date_modify          BIGINT,
    company_id           BIGINT,
    lead_id              BIGINT,
    originator_id        TEXT COLLATE "C",
    origin_id            TEXT COLLATE "C",
    origin_version       TEXT COLLATE "C",
    utm_source           TEXT COLLATE "C",
    utm_medium           TEXT COLLATE "C",
    utm_campaign         TEXT COLLATE "C",
    utm_content          TEXT COLLATE "C",
    utm_term             TEXT COLLATE "C",
    last_activity_time   BIGINT,
    last_activity_by     BIGINT,
    uf                   JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_contact_date_create ON crm_contact (portal_id, date_create NULLS FIRST);
CREATE INDEX crm_contact_date_modify ON crm_contact (portal_id, date_modify NULLS FIRST);
CREATE INDEX crm_contact_last_name ON crm_contact (portal_id, lt_fold(last_name));
CREATE INDEX crm_contact_source_id ON crm_contact (portal_id, lt_fold(source_id));
CREATE INDEX crm_contact_utm_source ON crm_contact (portal_id, lt_fold(utm_source));
CREATE INDEX crm_contact_company_id ON crm_contact (portal_id, company_id);
CREATE INDEX crm_contact_lead_id ON crm_contact (portal_id, lead_id);
CREATE INDEX crm_contact_assigned ON crm_contact (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::COMPANY_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_company (
    id                       BIGSERIAL,
    portal_id                BIGINT NOT NULL REFERENCES portal (id),
    title                    TEXT COLLATE "C",
    company_type             TEXT COLLATE "C",
    logo                     BIGINT,
    address                  TEXT COLLATE "C",
    address_2                TEXT COLLATE "C",
    address_city             TEXT COLLATE "C",
    address_postal_code      TEXT COLLATE "C",
    address_region           TEXT COLLATE "C",
    address_province         TEXT COLLATE "C",
    address_country          TEXT COLLATE "C",
    address_country_code     TEXT COLLATE "C",
    address_loc_addr_id      BIGINT,
    address_legal            TEXT COLLATE "C",
    reg_address              TEXT COLLATE "C",
    reg_address_2            TEXT COLLATE "C",
    reg_address_city         TEXT COLLATE "C",
    reg_address_postal_code  TEXT COLLATE "C",
    reg_address_region       TEXT COLLATE "C",
    reg_address_province     TEXT COLLATE "C",
    reg_address_country      TEXT COLLATE "C",
    reg_address_country_code TEXT COLLATE "C",
    reg_address_loc_addr_id  BIGINT,
    banking_details          TEXT COLLATE "C",
    industry                 TEXT COLLATE "C",
    employees                TEXT COLLATE "C",
    currency_id              TEXT COLLATE "C",
    revenue                  DOUBLE PRECISION,
    opened                   TEXT COLLATE "C",
    comments                 TEXT COLLATE "C",
    has_phone                TEXT COLLATE "C",
    has_email                TEXT COLLATE "C",
    has_imol                 TEXT COLLATE "C",
    is_my_company            TEXT COLLATE "C",
    assigned_by_id           BIGINT,
    created_by_id            BIGINT,
    modify_by_id             BIGINT,
    date_create              BIGINT,
    date_modify              BIGINT,
    lead_id                  BIGINT,
    originator_id            TEXT COLLATE "C",
    origin_id                TEXT COLLATE "C",
    origin_version           TEXT COLLATE "C",
    utm_source               TEXT COLLATE "C",
    utm_medium               TEXT COLLATE "C",
    utm_campaign             TEXT COLLATE "C",
    utm_content              TEXT COLLATE "C",
    utm_term                 TEXT COLLATE "C",
    last_activity_time       BIGINT,
    last_activity_by         BIGINT,
    last_communication_time  TEXT COLLATE "C",
    uf                       JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_company_date_create ON crm_company (portal_id, date_create NULLS FIRST);
CREATE INDEX crm_company_date_modify ON crm_company (portal_id, date_modify NULLS FIRST);
CREATE INDEX crm_company_title ON crm_company (portal_id, lt_fold(title));
CREATE INDEX crm_company_utm_source ON crm_company (portal_id, lt_fold(utm_source));
CREATE INDEX crm_company_lead_id ON crm_company (portal_id, lead_id);
CREATE INDEX crm_company_assigned ON crm_company (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::QUOTE_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_quote (
    id                      BIGSERIAL,
    portal_id               BIGINT NOT NULL REFERENCES portal (id),
    quote_number            TEXT COLLATE "C",
    title                   TEXT COLLATE "C",
    status_id               TEXT COLLATE "C",
    currency_id             TEXT COLLATE "C",
    opportunity             DOUBLE PRECISION,
    tax_value               DOUBLE PRECISION,
    company_id              BIGINT,
    mycompany_id            BIGINT,
    contact_id              BIGINT,
    begindate               TEXT COLLATE "C",
    closedate               TEXT COLLATE "C",
    actual_date             TEXT COLLATE "C",
    opened                  TEXT COLLATE "C",
    closed                  TEXT COLLATE "C",
    comments                TEXT COLLATE "C",
    content                 TEXT COLLATE "C",
    terms                   TEXT COLLATE "C",
    client_title            TEXT COLLATE "C",
    client_addr             TEXT COLLATE "C",
    client_contact          TEXT COLLATE "C",
    client_email            TEXT COLLATE "C",
    client_phone            TEXT COLLATE "C",
    client_tp_id            TEXT COLLATE "C",
    client_tpa_id           TEXT COLLATE "C",
    assigned_by_id          BIGINT,
    created_by_id           BIGINT,
    modify_by_id            BIGINT,
    date_create             BIGINT,
    date_modify             BIGINT,
    lead_id                 BIGINT,
    deal_id                 BIGINT,
    person_type_id          BIGINT,
    location_id             BIGINT,
    utm_source              TEXT COLLATE "C",
    utm_medium              TEXT COLLATE "C",
    utm_campaign            TEXT COLLATE "C",
    utm_content             TEXT COLLATE "C",
    utm_term                TEXT COLLATE "C",
    last_activity_time      BIGINT,
    last_activity_by        BIGINT,
    last_communication_time TEXT COLLATE "C",
    uf                      JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id)
);
CREATE INDEX crm_quote_date_create ON crm_quote (portal_id, date_create NULLS FIRST);
CREATE INDEX crm_quote_date_modify ON crm_quote (portal_id, date_modify NULLS FIRST);
CREATE INDEX crm_quote_status_id ON crm_quote (portal_id, lt_fold(status_id));
CREATE INDEX crm_quote_company_id ON crm_quote (portal_id, company_id);
CREATE INDEX crm_quote_contact_id ON crm_quote (portal_id, contact_id);
CREATE INDEX crm_quote_deal_id ON crm_quote (portal_id, deal_id);
CREATE INDEX crm_quote_lead_id ON crm_quote (portal_id, lead_id);
CREATE INDEX crm_quote_assigned ON crm_quote (portal_id, assigned_by_id, id);
-- Companies of a contact: the contact's side of the company↔contact relation, with the contact's
-- own SORT and primary flag. The company's side is crm_entity_contact (entity_type_id 4); the
-- crm binding code keeps both sides in step.
CREATE TABLE crm_contact_company (
    portal_id  BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    company_id BIGINT NOT NULL,
    sort       BIGINT NOT NULL DEFAULT 0,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, contact_id, company_id)
);
CREATE INDEX crm_contact_company_company ON crm_contact_company (portal_id, company_id);

-- Product rows get typed columns (crm::product_row::ProductRow); the JSON `data` column of 0001
-- stays unused. OWNER_TYPE letters: L lead, D deal, Q quote.
ALTER TABLE crm_product_row ADD COLUMN product_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN product_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE crm_product_row ADD COLUMN original_product_name TEXT COLLATE "C";
ALTER TABLE crm_product_row ADD COLUMN product_description TEXT COLLATE "C";
ALTER TABLE crm_product_row ADD COLUMN price DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_exclusive DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_netto DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_brutto DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_account DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN quantity DOUBLE PRECISION NOT NULL DEFAULT 1;
ALTER TABLE crm_product_row ADD COLUMN discount_type_id BIGINT NOT NULL DEFAULT 2;
ALTER TABLE crm_product_row ADD COLUMN discount_rate DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN discount_sum DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN tax_rate DOUBLE PRECISION;
ALTER TABLE crm_product_row ADD COLUMN tax_name TEXT COLLATE "C";
ALTER TABLE crm_product_row ADD COLUMN tax_included TEXT COLLATE "C" NOT NULL DEFAULT 'N';
ALTER TABLE crm_product_row ADD COLUMN customized TEXT COLLATE "C" NOT NULL DEFAULT 'Y';
ALTER TABLE crm_product_row ADD COLUMN measure_code BIGINT NOT NULL DEFAULT 796;
ALTER TABLE crm_product_row ADD COLUMN measure_name TEXT COLLATE "C" NOT NULL DEFAULT 'pcs';
ALTER TABLE crm_product_row ADD COLUMN xml_id TEXT COLLATE "C";
ALTER TABLE crm_product_row ADD COLUMN product_type BIGINT NOT NULL DEFAULT 1;
ALTER TABLE crm_product_row ADD COLUMN store_id BIGINT;
ALTER TABLE crm_product_row ADD COLUMN reserve_id BIGINT;
ALTER TABLE crm_product_row ADD COLUMN date_reserve_end TEXT COLLATE "C";
ALTER TABLE crm_product_row ADD COLUMN reserve_quantity DOUBLE PRECISION;
CREATE INDEX crm_product_row_owner_sort ON crm_product_row (portal_id, owner_type, owner_id, sort, id);

-- Deleting a company or contact clears the references other records keep to it (crm engine),
-- and filters by these columns are common: index the ones 0001 left without.
CREATE INDEX crm_lead_company_id ON crm_lead (portal_id, company_id);
CREATE INDEX crm_lead_contact_id ON crm_lead (portal_id, contact_id);
CREATE INDEX crm_quote_mycompany_id ON crm_quote (portal_id, mycompany_id);
