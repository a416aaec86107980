-- Card layouts, currency rates and multifield comparison keys (PostgreSQL). Mirrors
-- ../sqlite/0004_cards_currency_rates_comm_keys.sql; keep both in step.

-- crm.<entity>.details.configuration.*: one stored layout per card variant and owner.
CREATE TABLE crm_card_config (
    portal_id      BIGINT NOT NULL REFERENCES portal (id),
    entity_type_id BIGINT NOT NULL,
    -- crm::card::CardKey::variant: `customer_type=1`, `category=0`, '' ...
    variant        TEXT COLLATE "C" NOT NULL,
    -- 0: the common layout; otherwise the user whose personal layout this is
    user_id        BIGINT NOT NULL,
    -- the sections as JSON text (not JSONB: key order is part of the answer)
    data           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (portal_id, entity_type_id, variant, user_id)
);

-- crm.currency.list: `amount` is the price of `amount_cnt` units in the base currency.
ALTER TABLE currency ADD COLUMN amount_cnt BIGINT NOT NULL DEFAULT 1;
ALTER TABLE currency ADD COLUMN amount DOUBLE PRECISION NOT NULL DEFAULT 1.0;
ALTER TABLE currency ADD COLUMN date_update BIGINT NOT NULL DEFAULT 0;
UPDATE currency c SET date_update = p.created_at FROM portal p WHERE p.id = c.portal_id;

-- crm.duplicate.findbycomm compares crm::duplicate::comm_key(type_id, value), written with every
-- value; existing values are keyed here (phones: digits only).
ALTER TABLE crm_multifield ADD COLUMN value_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE crm_multifield SET value_key = CASE
    WHEN type_id = 'PHONE' THEN regexp_replace(value, '[^0-9]', '', 'g')
    ELSE lower(btrim(value))
END;
CREATE INDEX crm_multifield_key ON crm_multifield (portal_id, entity_type_id, type_id, value_key, owner_id);
