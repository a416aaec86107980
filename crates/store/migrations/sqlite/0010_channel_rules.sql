-- Channel override rules (spec/sales-intelligence.md §14 "user-defined override rules", our
-- extension): per portal, evaluated by sort then id before the default channel grouping, each
-- mapping conditions to a channel group code. Mirrors ../postgres/0010_channel_rules.sql; keep both
-- in step.
CREATE TABLE si_channel_rule (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id     INTEGER NOT NULL REFERENCES portal (id),
    sort          INTEGER NOT NULL DEFAULT 100,
    active        INTEGER NOT NULL DEFAULT 1,
    name          TEXT    NOT NULL DEFAULT '',
    channel_group TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX si_channel_rule_portal_id ON si_channel_rule (portal_id, id);

-- field: UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN or REF_DOMAIN; position keeps the admin's order.
CREATE TABLE si_channel_rule_match (
    portal_id INTEGER NOT NULL,
    rule_id   INTEGER NOT NULL,
    field     TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    is_regexp INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, rule_id, field, position)
) STRICT;
