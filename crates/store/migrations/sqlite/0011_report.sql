-- The Sales Intelligence report (leadtrace.tracking.report.get, spec §12): each lead and deal
-- carries the source and channel group of its effective trace (its crm_trace_entity row with the
-- highest seq, a tie to the higher trace_id), kept up to date by the store whenever a binding, a
-- trace or a source changes. NULL = no trace (source 0 / channel unassigned). With the covering
-- indexes below the default report is one index range scan per table, grouped by the database.
-- Mirrors ../postgres/0011_report.sql; keep both in step.

ALTER TABLE crm_lead ADD COLUMN tracking_source_id INTEGER;
ALTER TABLE crm_lead ADD COLUMN tracking_channel TEXT;
ALTER TABLE crm_deal ADD COLUMN tracking_source_id INTEGER;
ALTER TABLE crm_deal ADD COLUMN tracking_channel TEXT;
-- The effective trace's time, and how many touches the record has (bindings plus their previous
-- visits; may overcount): records with at most one touch are summed by the database under every
-- attribution model, only the others are read one by one.
ALTER TABLE crm_lead ADD COLUMN tracking_at INTEGER;
ALTER TABLE crm_lead ADD COLUMN tracking_touches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crm_deal ADD COLUMN tracking_at INTEGER;
ALTER TABLE crm_deal ADD COLUMN tracking_touches INTEGER NOT NULL DEFAULT 0;

UPDATE crm_lead SET (tracking_source_id, tracking_channel, tracking_at) = (
    SELECT t.source_id, t.channel_group, t.created_at FROM crm_trace_entity b
    JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id
    WHERE b.portal_id = crm_lead.portal_id AND b.entity_type_id = 1 AND b.entity_id = crm_lead.id
    ORDER BY b.seq DESC, b.trace_id DESC LIMIT 1),
  tracking_touches = (SELECT COUNT(*) FROM crm_trace_entity b
    WHERE b.portal_id = crm_lead.portal_id AND b.entity_type_id = 1 AND b.entity_id = crm_lead.id)
  + (SELECT COUNT(*) FROM si_trace_link l WHERE l.portal_id = crm_lead.portal_id
    AND l.parent_trace_id IN (SELECT b.trace_id FROM crm_trace_entity b
    WHERE b.portal_id = crm_lead.portal_id AND b.entity_type_id = 1 AND b.entity_id = crm_lead.id));
UPDATE crm_deal SET (tracking_source_id, tracking_channel, tracking_at) = (
    SELECT t.source_id, t.channel_group, t.created_at FROM crm_trace_entity b
    JOIN si_trace t ON t.portal_id = b.portal_id AND t.id = b.trace_id
    WHERE b.portal_id = crm_deal.portal_id AND b.entity_type_id = 2 AND b.entity_id = crm_deal.id
    ORDER BY b.seq DESC, b.trace_id DESC LIMIT 1),
  tracking_touches = (SELECT COUNT(*) FROM crm_trace_entity b
    WHERE b.portal_id = crm_deal.portal_id AND b.entity_type_id = 2 AND b.entity_id = crm_deal.id)
  + (SELECT COUNT(*) FROM si_trace_link l WHERE l.portal_id = crm_deal.portal_id
    AND l.parent_trace_id IN (SELECT b.trace_id FROM crm_trace_entity b
    WHERE b.portal_id = crm_deal.portal_id AND b.entity_type_id = 2 AND b.entity_id = crm_deal.id));

-- Records by creation date with everything the report sums (the rowid, id, comes with it).
CREATE INDEX crm_lead_report ON crm_lead (portal_id, date_create, tracking_source_id,
    tracking_channel, assigned_by_id, status_semantic_id, currency_id, opportunity, tracking_at,
    tracking_touches);
CREATE INDEX crm_deal_report ON crm_deal (portal_id, date_create, tracking_source_id,
    tracking_channel, assigned_by_id, stage_semantic_id, currency_id, opportunity, tracking_at,
    tracking_touches);

-- A record's bindings, newest first, with the trace id: the effective trace (and every touch of
-- the attribution models) without reading the table.
DROP INDEX crm_trace_entity_entity;
CREATE INDEX crm_trace_entity_entity ON crm_trace_entity (portal_id, entity_type_id, entity_id, seq, trace_id);

-- Visits: traces by creation time with their source and channel group. Replaces
-- si_trace_created (a prefix of it).
DROP INDEX si_trace_created;
CREATE INDEX si_trace_report ON si_trace (portal_id, created_at, source_id, channel_group);
