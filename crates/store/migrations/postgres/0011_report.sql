-- The Sales Intelligence report (leadtrace.tracking.report.get, spec §12): each lead and deal
-- carries the source and channel group of its effective trace (its crm_trace_entity row with the
-- highest seq, a tie to the higher trace_id), kept up to date by the store whenever a binding, a
-- trace or a source changes. NULL = no trace (source 0 / channel unassigned). With the covering
-- indexes below the default report is one index range scan per table, grouped by the database.
-- Mirrors ../sqlite/0011_report.sql; keep both in step.

ALTER TABLE crm_lead ADD COLUMN tracking_source_id BIGINT;
ALTER TABLE crm_lead ADD COLUMN tracking_channel TEXT COLLATE "C";
ALTER TABLE crm_deal ADD COLUMN tracking_source_id BIGINT;
ALTER TABLE crm_deal ADD COLUMN tracking_channel TEXT COLLATE "C";
-- The effective trace's time, and how many touches the record has (bindings plus their previous
-- visits; may overcount): records with at most one touch are summed by the database under every
-- attribution model, only the others are read one by one.
ALTER TABLE crm_lead ADD COLUMN tracking_at BIGINT;
ALTER TABLE crm_lead ADD COLUMN tracking_touches BIGINT NOT NULL DEFAULT 0;
ALTER TABLE crm_deal ADD COLUMN tracking_at BIGINT;
ALTER TABLE crm_deal ADD COLUMN tracking_touches BIGINT NOT NULL DEFAULT 0;

UPDATE crm_lead r SET tracking_source_id = e.source_id, tracking_channel = e.channel_group,
    tracking_at = e.created_at
FROM (SELECT DISTINCT ON (b.portal_id, b.entity_id) b.portal_id, b.entity_id, t.source_id, t.channel_group, t.created_at
      FROM crm_trace_entity b JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id
      WHERE b.entity_type_id = 1
      ORDER BY b.portal_id, b.entity_id, b.seq DESC, b.trace_id DESC) e
WHERE r.portal_id = e.portal_id AND r.id = e.entity_id;
UPDATE crm_deal r SET tracking_source_id = e.source_id, tracking_channel = e.channel_group,
    tracking_at = e.created_at
FROM (SELECT DISTINCT ON (b.portal_id, b.entity_id) b.portal_id, b.entity_id, t.source_id, t.channel_group, t.created_at
      FROM crm_trace_entity b JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id
      WHERE b.entity_type_id = 2
      ORDER BY b.portal_id, b.entity_id, b.seq DESC, b.trace_id DESC) e
WHERE r.portal_id = e.portal_id AND r.id = e.entity_id;
UPDATE crm_lead r SET tracking_touches = e.n
FROM (SELECT b.portal_id, b.entity_id, COUNT(*) + COUNT(l.child_trace_id) AS n
      FROM crm_trace_entity b LEFT JOIN si_trace_link l
      ON l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
      WHERE b.entity_type_id = 1 GROUP BY b.portal_id, b.entity_id) e
WHERE r.portal_id = e.portal_id AND r.id = e.entity_id;
UPDATE crm_deal r SET tracking_touches = e.n
FROM (SELECT b.portal_id, b.entity_id, COUNT(*) + COUNT(l.child_trace_id) AS n
      FROM crm_trace_entity b LEFT JOIN si_trace_link l
      ON l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
      WHERE b.entity_type_id = 2 GROUP BY b.portal_id, b.entity_id) e
WHERE r.portal_id = e.portal_id AND r.id = e.entity_id;

-- Records by creation date with everything the report sums (index-only scans).
CREATE INDEX crm_lead_report ON crm_lead (portal_id, date_create) INCLUDE (tracking_source_id,
    tracking_channel, assigned_by_id, status_semantic_id, currency_id, opportunity, id, tracking_at,
    tracking_touches);
CREATE INDEX crm_deal_report ON crm_deal (portal_id, date_create) INCLUDE (tracking_source_id,
    tracking_channel, assigned_by_id, stage_semantic_id, currency_id, opportunity, id, tracking_at,
    tracking_touches);

-- A record's bindings, newest first, with the trace id: the effective trace (and every touch of
-- the attribution models) without reading the table.
DROP INDEX crm_trace_entity_entity;
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id, seq, trace_id);

-- Visits: traces by creation time with their source and channel group. Replaces
-- si_trace_created (a prefix of it).
DROP INDEX si_trace_created;
CREATE INDEX si_trace_report ON si_trace (portal_id, created_at) INCLUDE (source_id, channel_group);
