-- Year-long Sales Intelligence reports (leadtrace.tracking.report.get) without reading every
-- record of the range. Mirrors ../sqlite/0012_report_days.sql (which explains the design in full);
-- keep both in step.
--
-- 1. Daily roll-ups per UTC day of DATE_CREATE (si_report_day, si_report_visit_day); a report
--    sums the whole days inside its range and reads the records of its partial end days and of
--    dirty days, so it is exact at any moment and independent of the portal's time zone.
-- 2. Dirty marks (si_report_dirty), appended by triggers (appending never waits on another
--    transaction); Store::refresh_report_days recomputes marked days and deletes the marks it saw.
-- 3. Each multi-touch lead and deal keeps its touches as text (tracking_path).

-- The touches of a multi-touch record (3., filled at the end).
ALTER TABLE crm_lead ADD COLUMN tracking_path TEXT COLLATE "C";
ALTER TABLE crm_deal ADD COLUMN tracking_path TEXT COLLATE "C";

-- split, model, period: see ../sqlite/0012_report_days.sql.
CREATE TABLE si_report_day (
    portal_id      BIGINT NOT NULL,
    entity_type_id INTEGER NOT NULL,
    split          INTEGER NOT NULL,
    model          INTEGER NOT NULL,
    period         INTEGER NOT NULL,
    day            BIGINT NOT NULL,
    source_id      BIGINT NOT NULL,
    channel        TEXT COLLATE "C" NOT NULL,
    currency_id    TEXT COLLATE "C" NOT NULL,
    assigned_by_id BIGINT NOT NULL,
    n              DOUBLE PRECISION NOT NULL,
    amount         DOUBLE PRECISION NOT NULL,
    won            DOUBLE PRECISION NOT NULL,
    won_amount     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (portal_id, entity_type_id, split, model, period, day, source_id, channel,
        currency_id, assigned_by_id)
);

CREATE TABLE si_report_visit_day (
    portal_id     BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    source_id     BIGINT NOT NULL,
    channel_group TEXT COLLATE "C" NOT NULL,
    n             BIGINT NOT NULL,
    PRIMARY KEY (portal_id, day, source_id, channel_group)
);

-- entity_type_id 0 = visits (si_trace).
CREATE TABLE si_report_dirty (
    id             BIGSERIAL PRIMARY KEY,
    portal_id      BIGINT NOT NULL,
    entity_type_id INTEGER NOT NULL,
    day            BIGINT NOT NULL
);
CREATE INDEX si_report_dirty_day ON si_report_dirty (portal_id, entity_type_id, day);

-- Marks the day of a lead or deal (TG_ARGV[0] = its entity type id) as written.
CREATE FUNCTION si_report_mark_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    et INTEGER := TG_ARGV[0]::INTEGER;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        IF NEW.date_create >= 0 THEN
            INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
            VALUES (NEW.portal_id, et, NEW.date_create / 86400);
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        IF OLD.date_create >= 0 THEN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
                VALUES (OLD.portal_id, et, OLD.date_create / 86400);
            ELSIF NEW.date_create IS NULL OR NEW.date_create < 0
                OR NEW.date_create / 86400 <> OLD.date_create / 86400 THEN
                INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
                VALUES (OLD.portal_id, et, OLD.date_create / 86400);
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Marks the day of a trace (a visit) as written.
CREATE FUNCTION si_report_mark_trace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        IF NEW.created_at >= 0 THEN
            INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
            VALUES (NEW.portal_id, 0, NEW.created_at / 86400);
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        IF OLD.created_at >= 0 THEN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
                VALUES (OLD.portal_id, 0, OLD.created_at / 86400);
            ELSIF NEW.created_at / 86400 <> OLD.created_at / 86400 THEN
                INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
                VALUES (OLD.portal_id, 0, OLD.created_at / 86400);
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER crm_lead_report_mark AFTER INSERT OR DELETE ON crm_lead
    FOR EACH ROW EXECUTE FUNCTION si_report_mark_record('1');
CREATE TRIGGER crm_lead_report_mark_update AFTER UPDATE ON crm_lead FOR EACH ROW
    WHEN ((OLD.date_create, OLD.tracking_source_id, OLD.tracking_channel, OLD.assigned_by_id,
           OLD.status_semantic_id, OLD.currency_id, OLD.opportunity, OLD.tracking_at,
           OLD.tracking_touches, OLD.tracking_path)
          IS DISTINCT FROM
          (NEW.date_create, NEW.tracking_source_id, NEW.tracking_channel, NEW.assigned_by_id,
           NEW.status_semantic_id, NEW.currency_id, NEW.opportunity, NEW.tracking_at,
           NEW.tracking_touches, NEW.tracking_path))
    EXECUTE FUNCTION si_report_mark_record('1');
CREATE TRIGGER crm_deal_report_mark AFTER INSERT OR DELETE ON crm_deal
    FOR EACH ROW EXECUTE FUNCTION si_report_mark_record('2');
CREATE TRIGGER crm_deal_report_mark_update AFTER UPDATE ON crm_deal FOR EACH ROW
    WHEN ((OLD.date_create, OLD.tracking_source_id, OLD.tracking_channel, OLD.assigned_by_id,
           OLD.stage_semantic_id, OLD.currency_id, OLD.opportunity, OLD.tracking_at,
           OLD.tracking_touches, OLD.tracking_path)
          IS DISTINCT FROM
          (NEW.date_create, NEW.tracking_source_id, NEW.tracking_channel, NEW.assigned_by_id,
           NEW.stage_semantic_id, NEW.currency_id, NEW.opportunity, NEW.tracking_at,
           NEW.tracking_touches, NEW.tracking_path))
    EXECUTE FUNCTION si_report_mark_record('2');
CREATE TRIGGER si_trace_report_mark AFTER INSERT OR DELETE ON si_trace
    FOR EACH ROW EXECUTE FUNCTION si_report_mark_trace();
CREATE TRIGGER si_trace_report_mark_update AFTER UPDATE ON si_trace FOR EACH ROW
    WHEN ((OLD.created_at, OLD.source_id, OLD.channel_group)
          IS DISTINCT FROM (NEW.created_at, NEW.source_id, NEW.channel_group))
    EXECUTE FUNCTION si_report_mark_trace();

-- Every day that already has records or traces starts dirty: the refresher builds its roll-ups.
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 1, date_create / 86400 FROM crm_lead WHERE date_create >= 0;
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 2, date_create / 86400 FROM crm_deal WHERE date_create >= 0;
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 0, created_at / 86400 FROM si_trace WHERE created_at >= 0;

-- 3. "trace_id,created_at,source_id,channel" per touch joined by ';' (each trace once) for a
-- record with two or more touches, NULL otherwise; tracking_touches counts distinct traces.
UPDATE crm_lead r SET (tracking_touches, tracking_path) = (
    SELECT COUNT(*), CASE WHEN COUNT(*) > 1 THEN string_agg(x.id || ',' || x.created_at || ','
        || x.source_id || ',' || x.channel_group, ';') END
    FROM (SELECT t.id, t.created_at, t.source_id, t.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace t
          WHERE b.portal_id = r.portal_id AND b.entity_type_id = 1 AND b.entity_id = r.id
            AND t.portal_id = b.portal_id AND t.id = b.trace_id
          UNION
          SELECT c.id, c.created_at, c.source_id, c.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace_link l CROSS JOIN si_trace c
          WHERE b.portal_id = r.portal_id AND b.entity_type_id = 1 AND b.entity_id = r.id
            AND l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
            AND c.portal_id = l.portal_id AND c.id = l.child_trace_id) x)
WHERE tracking_touches > 1;
UPDATE crm_deal r SET (tracking_touches, tracking_path) = (
    SELECT COUNT(*), CASE WHEN COUNT(*) > 1 THEN string_agg(x.id || ',' || x.created_at || ','
        || x.source_id || ',' || x.channel_group, ';') END
    FROM (SELECT t.id, t.created_at, t.source_id, t.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace t
          WHERE b.portal_id = r.portal_id AND b.entity_type_id = 2 AND b.entity_id = r.id
            AND t.portal_id = b.portal_id AND t.id = b.trace_id
          UNION
          SELECT c.id, c.created_at, c.source_id, c.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace_link l CROSS JOIN si_trace c
          WHERE b.portal_id = r.portal_id AND b.entity_type_id = 2 AND b.entity_id = r.id
            AND l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
            AND c.portal_id = l.portal_id AND c.id = l.child_trace_id) x)
WHERE tracking_touches > 1;

-- The multi-touch records of a range with everything the touch models read.
CREATE INDEX crm_lead_touches ON crm_lead (portal_id, date_create) INCLUDE (id, currency_id,
    opportunity, status_semantic_id, assigned_by_id, tracking_path) WHERE tracking_touches > 1;
CREATE INDEX crm_deal_touches ON crm_deal (portal_id, date_create) INCLUDE (id, currency_id,
    opportunity, stage_semantic_id, assigned_by_id, tracking_path) WHERE tracking_touches > 1;
