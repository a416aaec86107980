-- Channel override rules (spec/sales-intelligence.md §14 "user-defined override rules", our
-- extension): per portal, evaluated by sort then id before the default channel grouping, each
-- mapping conditions to a channel group code. Mirrors ../sqlite/0010_channel_rules.sql; keep both
-- in step.
CREATE TABLE si_channel_rule (
    id            BIGSERIAL,
    portal_id     BIGINT NOT NULL REFERENCES portal (id),
    sort          BIGINT NOT NULL DEFAULT 100,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    name          TEXT COLLATE "C" NOT NULL DEFAULT '',
    channel_group TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (portal_id, id)
);

-- field: UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN or REF_DOMAIN; position keeps the admin's order.
CREATE TABLE si_channel_rule_match (
    portal_id BIGINT NOT NULL,
    rule_id   BIGINT NOT NULL,
    field     TEXT COLLATE "C" NOT NULL,
    position  BIGINT NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    is_regexp BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, rule_id, field, position)
);
