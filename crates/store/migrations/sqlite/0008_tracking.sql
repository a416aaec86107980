-- Sales Intelligence (spec/sales-intelligence.md §10): traces with their pages and channels, links
-- to the traces of previous visits, ordered trace bindings, sources with their match lists, and
-- per-portal settings. Mirrors ../postgres/0008_tracking.sql; keep both in step.

-- One customer journey. utm_* are the tags after the record's UTM fields were laid over the
-- trace's; channel_group is the GA4-style group (our extension, §14).
CREATE TABLE si_trace (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id          INTEGER NOT NULL REFERENCES portal (id),
    created_at         INTEGER NOT NULL,
    source_id          INTEGER NOT NULL DEFAULT 0,
    source_description TEXT,
    guest_id           TEXT,
    is_mobile          INTEGER NOT NULL DEFAULT 0,
    landing_url        TEXT,
    referrer_url       TEXT,
    utm_source         TEXT,
    utm_medium         TEXT,
    utm_campaign       TEXT,
    utm_content        TEXT,
    utm_term           TEXT,
    gclid              TEXT,
    -- the tracker's `client` object (analytics client ids), JSON
    client_ids         TEXT CHECK (client_ids IS NULL OR json_valid(client_ids)),
    has_children       INTEGER NOT NULL DEFAULT 0,
    channel_group      TEXT    NOT NULL DEFAULT 'unassigned',
    -- the TRACE text as received, for audit
    raw_json           TEXT
) STRICT;
CREATE UNIQUE INDEX si_trace_portal_id ON si_trace (portal_id, id);
-- The report groups records by the source (or channel) of their effective trace.
CREATE INDEX si_trace_source ON si_trace (portal_id, source_id, created_at);
CREATE INDEX si_trace_created ON si_trace (portal_id, created_at);

CREATE TABLE si_trace_page (
    portal_id   INTEGER NOT NULL,
    trace_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    visited_at  INTEGER,
    title       TEXT    NOT NULL DEFAULT '',
    is_referrer INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, trace_id, position)
) STRICT;

CREATE TABLE si_trace_channel (
    portal_id INTEGER NOT NULL,
    trace_id  INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    code      TEXT    NOT NULL,
    value     TEXT,
    PRIMARY KEY (portal_id, trace_id, position)
) STRICT;

-- A trace and the traces of the previous visits it carried.
CREATE TABLE si_trace_link (
    portal_id       INTEGER NOT NULL,
    parent_trace_id INTEGER NOT NULL,
    child_trace_id  INTEGER NOT NULL,
    PRIMARY KEY (portal_id, parent_trace_id, child_trace_id)
) STRICT;
CREATE INDEX si_trace_link_child ON si_trace_link (portal_id, child_trace_id);

-- Bindings (crm_trace_entity, from 0001) get an order: a record's effective trace is its binding
-- with the highest seq (per record, monotonic).
ALTER TABLE crm_trace_entity ADD COLUMN bound_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crm_trace_entity ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
DROP INDEX crm_trace_entity_entity;
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id, seq);

-- Sources; id 0 ("organic / other traffic") is virtual and never stored.
CREATE TABLE si_source (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portal (id),
    code        TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    color       TEXT,
    description TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX si_source_portal_id ON si_source (portal_id, id);

-- kind: UTM_SOURCE, REF_DOMAIN, PHONE or EMAIL; position keeps the admin's order.
CREATE TABLE si_source_match (
    portal_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    is_regexp INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, source_id, kind, position)
) STRICT;

-- A row only once a setting was changed; absent means the defaults.
CREATE TABLE si_settings (
    portal_id               INTEGER PRIMARY KEY REFERENCES portal (id),
    use_attribution_window  INTEGER NOT NULL DEFAULT 1,
    attribution_window_days INTEGER NOT NULL DEFAULT 28
) STRICT;

-- Portals that existed before this migration get the seeded sources (crm::tracking::source::SEEDS);
-- new portals get them from Tx::create_portal.
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'google', 'Google Ads', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'fb', 'Facebook', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'instagram', 'Instagram', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'vk', 'VK', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'vkads', 'VK Ads', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'yandex', 'Yandex.Direct', created_at FROM portal ORDER BY id;
INSERT INTO si_source (portal_id, code, name, created_at) SELECT id, 'sender-mail', 'Email Marketing', created_at FROM portal ORDER BY id;
INSERT INTO si_source_match (portal_id, source_id, kind, position, value)
SELECT s.portal_id, s.id, m.kind, m.position, m.value
FROM si_source s
JOIN (
    SELECT 'google' AS code, 'UTM_SOURCE' AS kind, 0 AS position, 'google' AS value
    UNION ALL SELECT 'fb', 'UTM_SOURCE', 0, 'facebook'
    UNION ALL SELECT 'fb', 'UTM_SOURCE', 1, 'fb'
    UNION ALL SELECT 'fb', 'REF_DOMAIN', 0, 'facebook.com'
    UNION ALL SELECT 'instagram', 'UTM_SOURCE', 0, 'instagram'
    UNION ALL SELECT 'instagram', 'UTM_SOURCE', 1, 'ig'
    UNION ALL SELECT 'instagram', 'REF_DOMAIN', 0, 'instagram.com'
    UNION ALL SELECT 'vk', 'UTM_SOURCE', 0, 'vk'
    UNION ALL SELECT 'vk', 'REF_DOMAIN', 0, 'vk.com'
    UNION ALL SELECT 'vkads', 'UTM_SOURCE', 0, 'vkads'
    UNION ALL SELECT 'yandex', 'UTM_SOURCE', 0, 'yandex'
    UNION ALL SELECT 'sender-mail', 'UTM_SOURCE', 0, 'email'
    UNION ALL SELECT 'sender-mail', 'UTM_SOURCE', 1, 'newsletter'
) m ON m.code = s.code;
