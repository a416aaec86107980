-- Card layouts, currency rates and multifield comparison keys (SQLite). Mirrors
-- ../postgres/0004_cards_currency_rates_comm_keys.sql; keep both in step.

-- crm.<entity>.details.configuration.*: one stored layout per card variant and owner.
CREATE TABLE crm_card_config (
    portal_id      INTEGER NOT NULL REFERENCES portal (id),
    entity_type_id INTEGER NOT NULL,
    -- crm::card::CardKey::variant: `customer_type=1`, `category=0`, '' ...
    variant        TEXT    NOT NULL,
    -- 0: the common layout; otherwise the user whose personal layout this is
    user_id        INTEGER NOT NULL,
    -- the sections as JSON text (text, not JSONB on PostgreSQL: key order is part of the answer)
    data           TEXT    NOT NULL CHECK (json_valid(data)),
    PRIMARY KEY (portal_id, entity_type_id, variant, user_id)
) STRICT;

-- crm.currency.list: `amount` is the price of `amount_cnt` units in the base currency.
ALTER TABLE currency ADD COLUMN amount_cnt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE currency ADD COLUMN amount REAL NOT NULL DEFAULT 1.0;
ALTER TABLE currency ADD COLUMN date_update INTEGER NOT NULL DEFAULT 0;
UPDATE currency SET date_update = (SELECT created_at FROM portal WHERE portal.id = currency.portal_id);

-- crm.duplicate.findbycomm compares crm::duplicate::comm_key(type_id, value), written with every
-- value. Existing phones get the common separators removed (SQLite has no regexp_replace); the
-- server writes the exact key for every value it stores from now on.
ALTER TABLE crm_multifield ADD COLUMN value_key TEXT NOT NULL DEFAULT '';
UPDATE crm_multifield SET value_key = CASE
    WHEN type_id = 'PHONE' THEN replace(replace(replace(replace(replace(replace(replace(
        value, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''), '/', '')
    ELSE lower(trim(value))
END;
CREATE INDEX crm_multifield_key ON crm_multifield (portal_id, entity_type_id, type_id, value_key, owner_id);
