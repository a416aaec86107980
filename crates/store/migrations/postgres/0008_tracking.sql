-- Sales Intelligence (spec/sales-intelligence.md §10): traces with their pages and channels, links
-- to the traces of previous visits, ordered trace bindings, sources with their match lists, and
-- per-portal settings. Mirrors ../sqlite/0008_tracking.sql; keep both in step.

-- One customer journey. utm_* are the tags after the record's UTM fields were laid over the
-- trace's; channel_group is the GA4-style group (our extension, §14).
CREATE TABLE si_trace (
    id                 BIGSERIAL,
    portal_id          BIGINT NOT NULL REFERENCES portal (id),
    created_at         BIGINT NOT NULL,
    source_id          BIGINT NOT NULL DEFAULT 0,
    source_description TEXT COLLATE "C",
    guest_id           TEXT COLLATE "C",
    is_mobile          BOOLEAN NOT NULL DEFAULT FALSE,
    landing_url        TEXT COLLATE "C",
    referrer_url       TEXT COLLATE "C",
    utm_source         TEXT COLLATE "C",
    utm_medium         TEXT COLLATE "C",
    utm_campaign       TEXT COLLATE "C",
    utm_content        TEXT COLLATE "C",
    utm_term           TEXT COLLATE "C",
    gclid              TEXT COLLATE "C",
    -- the tracker's `client` object (analytics client ids), JSON text
    client_ids         TEXT COLLATE "C",
    has_children       BOOLEAN NOT NULL DEFAULT FALSE,
    channel_group      TEXT COLLATE "C" NOT NULL DEFAULT 'unassigned',
    -- the TRACE text as received, for audit
    raw_json           TEXT COLLATE "C",
    PRIMARY KEY (portal_id, id)
);
-- The report groups records by the source (or channel) of their effective trace.
CREATE INDEX si_trace_source ON si_trace (portal_id, source_id, created_at);
CREATE INDEX si_trace_created ON si_trace (portal_id, created_at);

CREATE TABLE si_trace_page (
    portal_id   BIGINT NOT NULL,
    trace_id    BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    url         TEXT COLLATE "C" NOT NULL,
    visited_at  BIGINT,
    title       TEXT COLLATE "C" NOT NULL DEFAULT '',
    is_referrer BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, trace_id, position)
);

CREATE TABLE si_trace_channel (
    portal_id BIGINT NOT NULL,
    trace_id  BIGINT NOT NULL,
    position  BIGINT NOT NULL,
    code      TEXT COLLATE "C" NOT NULL,
    value     TEXT COLLATE "C",
    PRIMARY KEY (portal_id, trace_id, position)
);

-- A trace and the traces of the previous visits it carried.
CREATE TABLE si_trace_link (
    portal_id       BIGINT NOT NULL,
    parent_trace_id BIGINT NOT NULL,
    child_trace_id  BIGINT NOT NULL,
    PRIMARY KEY (portal_id, parent_trace_id, child_trace_id)
);
CREATE INDEX si_trace_link_child ON si_trace_link (portal_id, child_trace_id);

-- Bindings (crm_trace_entity, from 0001) get an order: a record's effective trace is its binding
-- with the highest seq (per record, monotonic).
ALTER TABLE crm_trace_entity ADD COLUMN bound_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE crm_trace_entity ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
DROP INDEX crm_trace_entity_entity;
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id, seq);

-- Sources; id 0 ("organic / other traffic") is virtual and never stored.
CREATE TABLE si_source (
    id          BIGSERIAL,
    portal_id   BIGINT NOT NULL REFERENCES portal (id),
    code        TEXT COLLATE "C" NOT NULL DEFAULT '',
    name        TEXT COLLATE "C" NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    color       TEXT COLLATE "C",
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (portal_id, id)
);

-- kind: UTM_SOURCE, REF_DOMAIN, PHONE or EMAIL; position keeps the admin's order.
CREATE TABLE si_source_match (
    portal_id BIGINT NOT NULL,
    source_id BIGINT NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,
    position  BIGINT NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    is_regexp BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (portal_id, source_id, kind, position)
);

-- A row only once a setting was changed; absent means the defaults.
CREATE TABLE si_settings (
    portal_id               BIGINT PRIMARY KEY REFERENCES portal (id),
    use_attribution_window  BOOLEAN NOT NULL DEFAULT TRUE,
    attribution_window_days BIGINT NOT NULL DEFAULT 28
);

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
JOIN (VALUES
    ('google', 'UTM_SOURCE', 0, 'google'),
    ('fb', 'UTM_SOURCE', 0, 'facebook'),
    ('fb', 'UTM_SOURCE', 1, 'fb'),
    ('fb', 'REF_DOMAIN', 0, 'facebook.com'),
    ('instagram', 'UTM_SOURCE', 0, 'instagram'),
    ('instagram', 'UTM_SOURCE', 1, 'ig'),
    ('instagram', 'REF_DOMAIN', 0, 'instagram.com'),
    ('vk', 'UTM_SOURCE', 0, 'vk'),
    ('vk', 'REF_DOMAIN', 0, 'vk.com'),
    ('vkads', 'UTM_SOURCE', 0, 'vkads'),
    ('yandex', 'UTM_SOURCE', 0, 'yandex'),
    ('sender-mail', 'UTM_SOURCE', 0, 'email'),
    ('sender-mail', 'UTM_SOURCE', 1, 'newsletter')
) AS m (code, kind, position, value) ON m.code = s.code;
