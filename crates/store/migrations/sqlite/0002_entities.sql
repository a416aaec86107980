-- Deals, contacts, companies and quotes (SQLite). Mirrors ../postgres/0002_entities.sql; keep both
-- in step. Same conventions as 0001: STRICT tables, global ids, portal_id first in every key, text
-- filters case-insensitive (so text indexes are on lt_fold()), list paging by (portal_id, id).

-- One typed column per crm::entity::DEAL_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_deal (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id             INTEGER NOT NULL REFERENCES portal (id),
    title                 TEXT,
    type_id               TEXT,
    category_id           INTEGER,
    stage_id              TEXT,
    stage_semantic_id     TEXT,
    is_new                TEXT,
    is_recurring          TEXT,
    is_return_customer    TEXT,
    is_repeated_approach  TEXT,
    probability           INTEGER,
    currency_id           TEXT,
    opportunity           REAL,
    is_manual_opportunity TEXT,
    tax_value             REAL,
    company_id            INTEGER,
    contact_id            INTEGER,
    quote_id              INTEGER,
    begindate             TEXT,
    closedate             TEXT,
    opened                TEXT,
    closed                TEXT,
    comments              TEXT,
    assigned_by_id        INTEGER,
    created_by_id         INTEGER,
    modify_by_id          INTEGER,
    moved_by_id           INTEGER,
    date_create           INTEGER,
    date_modify           INTEGER,
    moved_time            INTEGER,
    source_id             TEXT,
    source_description    TEXT,
    lead_id               INTEGER,
    additional_info       TEXT,
    location_id           INTEGER,
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
CREATE UNIQUE INDEX crm_deal_portal_id ON crm_deal (portal_id, id);
CREATE INDEX crm_deal_date_create ON crm_deal (portal_id, date_create);
CREATE INDEX crm_deal_date_modify ON crm_deal (portal_id, date_modify);
CREATE INDEX crm_deal_stage_id ON crm_deal (portal_id, lt_fold(stage_id));
CREATE INDEX crm_deal_source_id ON crm_deal (portal_id, lt_fold(source_id));
CREATE INDEX crm_deal_utm_source ON crm_deal (portal_id, lt_fold(utm_source));
CREATE INDEX crm_deal_company_id ON crm_deal (portal_id, company_id);
CREATE INDEX crm_deal_contact_id ON crm_deal (portal_id, contact_id);
CREATE INDEX crm_deal_lead_id ON crm_deal (portal_id, lead_id);
CREATE INDEX crm_deal_assigned ON crm_deal (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::CONTACT_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_contact (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id            INTEGER NOT NULL REFERENCES portal (id),
    honorific            TEXT,
    name                 TEXT,
    second_name          TEXT,
    last_name            TEXT,
    photo                INTEGER,
    birthdate            TEXT,
    type_id              TEXT,
    source_id            TEXT,
    source_description   TEXT,
    post                 TEXT,
    address              TEXT,
    address_2            TEXT,
    address_city         TEXT,
    address_postal_code  TEXT,
    address_region       TEXT,
    address_province     TEXT,
    address_country      TEXT,
    address_country_code TEXT,
    address_loc_addr_id  INTEGER,
    comments             TEXT,
    opened               TEXT,
    export               TEXT,
    has_phone            TEXT,
    has_email            TEXT,
    has_imol             TEXT,
    assigned_by_id       INTEGER,
    created_by_id        INTEGER,
    modify_by_id         INTEGER,
    date_create          INTEGER,
    date_modify          INTEGER,
    company_id           INTEGER,
    lead_id              INTEGER,
    originator_id        TEXT,
    origin_id            TEXT,
    origin_version       TEXT,
    utm_source           TEXT,
    utm_medium           TEXT,
    utm_campaign         TEXT,
    utm_content          TEXT,
    utm_term             TEXT,
    last_activity_time   INTEGER,
    last_activity_by     INTEGER,
    uf                   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(uf))
) STRICT;
CREATE UNIQUE INDEX crm_contact_portal_id ON crm_contact (portal_id, id);
CREATE INDEX crm_contact_date_create ON crm_contact (portal_id, date_create);
CREATE INDEX crm_contact_date_modify ON crm_contact (portal_id, date_modify);
CREATE INDEX crm_contact_last_name ON crm_contact (portal_id, lt_fold(last_name));
CREATE INDEX crm_contact_source_id ON crm_contact (portal_id, lt_fold(source_id));
CREATE INDEX crm_contact_utm_source ON crm_contact (portal_id, lt_fold(utm_source));
CREATE INDEX crm_contact_company_id ON crm_contact (portal_id, company_id);
CREATE INDEX crm_contact_lead_id ON crm_contact (portal_id, lead_id);
CREATE INDEX crm_contact_assigned ON crm_contact (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::COMPANY_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_company (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id                INTEGER NOT NULL REFERENCES portal (id),
    title                    TEXT,
    company_type             TEXT,
    logo                     INTEGER,
    address                  TEXT,
    address_2                TEXT,
    address_city             TEXT,
    address_postal_code      TEXT,
    address_region           TEXT,
    address_province         TEXT,
    address_country          TEXT,
    address_country_code     TEXT,
    address_loc_addr_id      INTEGER,
    address_legal            TEXT,
    reg_address              TEXT,
    reg_address_2            TEXT,
    reg_address_city         TEXT,
    reg_address_postal_code  TEXT,
    reg_address_region       TEXT,
    reg_address_province     TEXT,
    reg_address_country      TEXT,
    reg_address_country_code TEXT,
    reg_address_loc_addr_id  INTEGER,
    banking_details          TEXT,
    industry                 TEXT,
    employees                TEXT,
    currency_id              TEXT,
    revenue                  REAL,
    opened                   TEXT,
    comments                 TEXT,
    has_phone                TEXT,
    has_email                TEXT,
    has_imol                 TEXT,
    is_my_company            TEXT,
    assigned_by_id           INTEGER,
    created_by_id            INTEGER,
    modify_by_id             INTEGER,
    date_create              INTEGER,
    date_modify              INTEGER,
    lead_id                  INTEGER,
    originator_id            TEXT,
    origin_id                TEXT,
    origin_version           TEXT,
    utm_source               TEXT,
    utm_medium               TEXT,
    utm_campaign             TEXT,
    utm_content              TEXT,
    utm_term                 TEXT,
    last_activity_time       INTEGER,
    last_activity_by         INTEGER,
    last_communication_time  TEXT,
    uf                       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(uf))
) STRICT;
CREATE UNIQUE INDEX crm_company_portal_id ON crm_company (portal_id, id);
CREATE INDEX crm_company_date_create ON crm_company (portal_id, date_create);
CREATE INDEX crm_company_date_modify ON crm_company (portal_id, date_modify);
CREATE INDEX crm_company_title ON crm_company (portal_id, lt_fold(title));
CREATE INDEX crm_company_utm_source ON crm_company (portal_id, lt_fold(utm_source));
CREATE INDEX crm_company_lead_id ON crm_company (portal_id, lead_id);
CREATE INDEX crm_company_assigned ON crm_company (portal_id, assigned_by_id, id);

-- One typed column per crm::entity::QUOTE_FIELDS entry with a column; user fields in `uf`.
CREATE TABLE crm_quote (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id               INTEGER NOT NULL REFERENCES portal (id),
    quote_number            TEXT,
    title                   TEXT,
    status_id               TEXT,
    currency_id             TEXT,
    opportunity             REAL,
    tax_value               REAL,
    company_id              INTEGER,
    mycompany_id            INTEGER,
    contact_id              INTEGER,
    begindate               TEXT,
    closedate               TEXT,
    actual_date             TEXT,
    opened                  TEXT,
    closed                  TEXT,
    comments                TEXT,
    content                 TEXT,
    terms                   TEXT,
    client_title            TEXT,
    client_addr             TEXT,
    client_contact          TEXT,
    client_email            TEXT,
    client_phone            TEXT,
    client_tp_id            TEXT,
    client_tpa_id           TEXT,
    assigned_by_id          INTEGER,
    created_by_id           INTEGER,
    modify_by_id            INTEGER,
    date_create             INTEGER,
    date_modify             INTEGER,
    lead_id                 INTEGER,
    deal_id                 INTEGER,
    person_type_id          INTEGER,
    location_id             INTEGER,
    utm_source              TEXT,
    utm_medium              TEXT,
    utm_campaign            TEXT,
    utm_content             TEXT,
    utm_term                TEXT,
    last_activity_time      INTEGER,
    last_activity_by        INTEGER,
    last_communication_time TEXT,
    uf                      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(uf))
) STRICT;
CREATE UNIQUE INDEX crm_quote_portal_id ON crm_quote (portal_id, id);
CREATE INDEX crm_quote_date_create ON crm_quote (portal_id, date_create);
CREATE INDEX crm_quote_date_modify ON crm_quote (portal_id, date_modify);
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
    portal_id  INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    company_id INTEGER NOT NULL,
    sort       INTEGER NOT NULL DEFAULT 0,
    is_primary INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, contact_id, company_id)
) STRICT;
CREATE INDEX crm_contact_company_company ON crm_contact_company (portal_id, company_id);

-- Product rows get typed columns (crm::product_row::ProductRow); the JSON `data` column of 0001
-- stays unused. OWNER_TYPE letters: L lead, D deal, Q quote.
ALTER TABLE crm_product_row ADD COLUMN product_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN product_name TEXT NOT NULL DEFAULT '';
ALTER TABLE crm_product_row ADD COLUMN original_product_name TEXT;
ALTER TABLE crm_product_row ADD COLUMN product_description TEXT;
ALTER TABLE crm_product_row ADD COLUMN price REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_exclusive REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_netto REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_brutto REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN price_account REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN quantity REAL NOT NULL DEFAULT 1;
ALTER TABLE crm_product_row ADD COLUMN discount_type_id INTEGER NOT NULL DEFAULT 2;
ALTER TABLE crm_product_row ADD COLUMN discount_rate REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN discount_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE crm_product_row ADD COLUMN tax_rate REAL;
ALTER TABLE crm_product_row ADD COLUMN tax_name TEXT;
ALTER TABLE crm_product_row ADD COLUMN tax_included TEXT NOT NULL DEFAULT 'N';
ALTER TABLE crm_product_row ADD COLUMN customized TEXT NOT NULL DEFAULT 'Y';
ALTER TABLE crm_product_row ADD COLUMN measure_code INTEGER NOT NULL DEFAULT 796;
ALTER TABLE crm_product_row ADD COLUMN measure_name TEXT NOT NULL DEFAULT 'pcs';
ALTER TABLE crm_product_row ADD COLUMN xml_id TEXT;
ALTER TABLE crm_product_row ADD COLUMN product_type INTEGER NOT NULL DEFAULT 1;
ALTER TABLE crm_product_row ADD COLUMN store_id INTEGER;
ALTER TABLE crm_product_row ADD COLUMN reserve_id INTEGER;
ALTER TABLE crm_product_row ADD COLUMN date_reserve_end TEXT;
ALTER TABLE crm_product_row ADD COLUMN reserve_quantity REAL;
CREATE INDEX crm_product_row_owner_sort ON crm_product_row (portal_id, owner_type, owner_id, sort, id);

-- Deleting a company or contact clears the references other records keep to it (crm engine),
-- and filters by these columns are common: index the ones 0001 left without.
CREATE INDEX crm_lead_company_id ON crm_lead (portal_id, company_id);
CREATE INDEX crm_lead_contact_id ON crm_lead (portal_id, contact_id);
CREATE INDEX crm_quote_mycompany_id ON crm_quote (portal_id, mycompany_id);
