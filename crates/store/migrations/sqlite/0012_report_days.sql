-- Year-long Sales Intelligence reports (leadtrace.tracking.report.get) without reading every
-- record of the range. Mirrors ../postgres/0012_report_days.sql; keep both in step.
--
-- 1. Daily roll-ups. si_report_day holds, per UTC day of DATE_CREATE (date_create / 86400), the
--    sums the report needs of the leads (entity_type_id 1) and deals (2) of that day; si_report_visit_day
--    the number of traces per day. A report sums the roll-ups of the whole UTC days inside its
--    range and reads the records of the partial days at its ends (the range is whole days of the
--    portal's time zone) and of days marked dirty, so the answer is exact at any moment and no
--    time-zone change ever needs a rebuild.
-- 2. Dirty marks. Triggers append a row to si_report_dirty for the day of every record or trace
--    written (both days when DATE_CREATE moves). Appending never waits on another transaction;
--    the store's refresher (Store::refresh_report_days) recomputes the marked days from the
--    records and deletes the marks it has seen.
-- 3. Each multi-touch lead and deal keeps its touches as text (tracking_path), so the touch
--    models read them from one partial index instead of joining bindings, links and traces.

-- The touches of a multi-touch record (3., filled at the end).
ALTER TABLE crm_lead ADD COLUMN tracking_path TEXT;
ALTER TABLE crm_deal ADD COLUMN tracking_path TEXT;

-- split = 0: one row sums every responsible (assigned_by_id 0); split = 1: one row per
-- responsible (assigned_by_id 0 = none). currency_id '' = none. model: 0 = Bitrix24's attribution
-- (each record wholly to its effective trace's source and channel group), 1..6 = the touch models
-- in the order of crm::tracking::attribution::Model::ALL (a record's credit split over its touches
-- in the portal's attribution window; a change of the window marks every day dirty). n, won: the
-- credit of the records (whole under model 0), amount, won_amount: credit x OPPORTUNITY.
-- period = 0: `day` is one UTC day; period = 1: the sum of the 32 days from `day` (a multiple of
-- 32), so a year is read from about a dozen blocks and the days around them.
CREATE TABLE si_report_day (
    portal_id      INTEGER NOT NULL,
    entity_type_id INTEGER NOT NULL,
    split          INTEGER NOT NULL,
    model          INTEGER NOT NULL,
    period         INTEGER NOT NULL,
    day            INTEGER NOT NULL,
    source_id      INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    currency_id    TEXT NOT NULL,
    assigned_by_id INTEGER NOT NULL,
    n              REAL NOT NULL,
    amount         REAL NOT NULL,
    won            REAL NOT NULL,
    won_amount     REAL NOT NULL,
    PRIMARY KEY (portal_id, entity_type_id, split, model, period, day, source_id, channel,
        currency_id, assigned_by_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE si_report_visit_day (
    portal_id     INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    source_id     INTEGER NOT NULL,
    channel_group TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (portal_id, day, source_id, channel_group)
) STRICT, WITHOUT ROWID;

-- entity_type_id 0 = visits (si_trace).
CREATE TABLE si_report_dirty (
    id             INTEGER PRIMARY KEY,
    portal_id      INTEGER NOT NULL,
    entity_type_id INTEGER NOT NULL,
    day            INTEGER NOT NULL
) STRICT;
CREATE INDEX si_report_dirty_day ON si_report_dirty (portal_id, entity_type_id, day);

CREATE TRIGGER crm_lead_report_insert AFTER INSERT ON crm_lead WHEN NEW.date_create >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (NEW.portal_id, 1, NEW.date_create / 86400);
END;
CREATE TRIGGER crm_lead_report_delete AFTER DELETE ON crm_lead WHEN OLD.date_create >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (OLD.portal_id, 1, OLD.date_create / 86400);
END;
CREATE TRIGGER crm_lead_report_update AFTER UPDATE ON crm_lead
WHEN NEW.date_create IS NOT OLD.date_create OR NEW.tracking_source_id IS NOT OLD.tracking_source_id
    OR NEW.tracking_channel IS NOT OLD.tracking_channel OR NEW.assigned_by_id IS NOT OLD.assigned_by_id
    OR NEW.status_semantic_id IS NOT OLD.status_semantic_id OR NEW.currency_id IS NOT OLD.currency_id
    OR NEW.opportunity IS NOT OLD.opportunity OR NEW.tracking_at IS NOT OLD.tracking_at
    OR NEW.tracking_touches IS NOT OLD.tracking_touches OR NEW.tracking_path IS NOT OLD.tracking_path
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT NEW.portal_id, 1, NEW.date_create / 86400 WHERE NEW.date_create >= 0;
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT OLD.portal_id, 1, OLD.date_create / 86400 WHERE OLD.date_create >= 0
        AND (NEW.date_create IS NULL OR NEW.date_create < 0
            OR NEW.date_create / 86400 <> OLD.date_create / 86400);
END;

CREATE TRIGGER crm_deal_report_insert AFTER INSERT ON crm_deal WHEN NEW.date_create >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (NEW.portal_id, 2, NEW.date_create / 86400);
END;
CREATE TRIGGER crm_deal_report_delete AFTER DELETE ON crm_deal WHEN OLD.date_create >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (OLD.portal_id, 2, OLD.date_create / 86400);
END;
CREATE TRIGGER crm_deal_report_update AFTER UPDATE ON crm_deal
WHEN NEW.date_create IS NOT OLD.date_create OR NEW.tracking_source_id IS NOT OLD.tracking_source_id
    OR NEW.tracking_channel IS NOT OLD.tracking_channel OR NEW.assigned_by_id IS NOT OLD.assigned_by_id
    OR NEW.stage_semantic_id IS NOT OLD.stage_semantic_id OR NEW.currency_id IS NOT OLD.currency_id
    OR NEW.opportunity IS NOT OLD.opportunity OR NEW.tracking_at IS NOT OLD.tracking_at
    OR NEW.tracking_touches IS NOT OLD.tracking_touches OR NEW.tracking_path IS NOT OLD.tracking_path
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT NEW.portal_id, 2, NEW.date_create / 86400 WHERE NEW.date_create >= 0;
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT OLD.portal_id, 2, OLD.date_create / 86400 WHERE OLD.date_create >= 0
        AND (NEW.date_create IS NULL OR NEW.date_create < 0
            OR NEW.date_create / 86400 <> OLD.date_create / 86400);
END;

CREATE TRIGGER si_trace_report_insert AFTER INSERT ON si_trace WHEN NEW.created_at >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (NEW.portal_id, 0, NEW.created_at / 86400);
END;
CREATE TRIGGER si_trace_report_delete AFTER DELETE ON si_trace WHEN OLD.created_at >= 0
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    VALUES (OLD.portal_id, 0, OLD.created_at / 86400);
END;
CREATE TRIGGER si_trace_report_update AFTER UPDATE ON si_trace
WHEN NEW.created_at IS NOT OLD.created_at OR NEW.source_id IS NOT OLD.source_id
    OR NEW.channel_group IS NOT OLD.channel_group
BEGIN
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT NEW.portal_id, 0, NEW.created_at / 86400 WHERE NEW.created_at >= 0;
    INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
    SELECT OLD.portal_id, 0, OLD.created_at / 86400 WHERE OLD.created_at >= 0
        AND NEW.created_at / 86400 <> OLD.created_at / 86400;
END;

-- Every day that already has records or traces starts dirty: the refresher builds its roll-ups.
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 1, date_create / 86400 FROM crm_lead WHERE date_create >= 0;
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 2, date_create / 86400 FROM crm_deal WHERE date_create >= 0;
INSERT INTO si_report_dirty (portal_id, entity_type_id, day)
SELECT DISTINCT portal_id, 0, created_at / 86400 FROM si_trace WHERE created_at >= 0;

-- 3. The touches of a record with two or more of them: "trace_id,created_at,source_id,channel"
-- per touch, joined by ';' (each trace once); NULL otherwise. tracking_touches now counts distinct
-- traces (it used to count bindings plus links, which could overcount). CROSS JOIN keeps SQLite's
-- join order from the record's bindings outwards.
UPDATE crm_lead SET (tracking_touches, tracking_path) = (
    SELECT COUNT(*), CASE WHEN COUNT(*) > 1 THEN group_concat(x.id || ',' || x.created_at || ','
        || x.source_id || ',' || x.channel_group, ';') END
    FROM (SELECT t.id, t.created_at, t.source_id, t.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace t
          WHERE b.portal_id = crm_lead.portal_id AND b.entity_type_id = 1 AND b.entity_id = crm_lead.id
            AND t.portal_id = b.portal_id AND t.id = b.trace_id
          UNION
          SELECT c.id, c.created_at, c.source_id, c.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace_link l CROSS JOIN si_trace c
          WHERE b.portal_id = crm_lead.portal_id AND b.entity_type_id = 1 AND b.entity_id = crm_lead.id
            AND l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
            AND c.portal_id = l.portal_id AND c.id = l.child_trace_id) x)
WHERE tracking_touches > 1;
UPDATE crm_deal SET (tracking_touches, tracking_path) = (
    SELECT COUNT(*), CASE WHEN COUNT(*) > 1 THEN group_concat(x.id || ',' || x.created_at || ','
        || x.source_id || ',' || x.channel_group, ';') END
    FROM (SELECT t.id, t.created_at, t.source_id, t.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace t
          WHERE b.portal_id = crm_deal.portal_id AND b.entity_type_id = 2 AND b.entity_id = crm_deal.id
            AND t.portal_id = b.portal_id AND t.id = b.trace_id
          UNION
          SELECT c.id, c.created_at, c.source_id, c.channel_group
          FROM crm_trace_entity b CROSS JOIN si_trace_link l CROSS JOIN si_trace c
          WHERE b.portal_id = crm_deal.portal_id AND b.entity_type_id = 2 AND b.entity_id = crm_deal.id
            AND l.portal_id = b.portal_id AND l.parent_trace_id = b.trace_id
            AND c.portal_id = l.portal_id AND c.id = l.child_trace_id) x)
WHERE tracking_touches > 1;

-- The multi-touch records of a range with everything the touch models read.
CREATE INDEX crm_lead_touches ON crm_lead (portal_id, date_create, id, currency_id, opportunity,
    status_semantic_id, assigned_by_id, tracking_path) WHERE tracking_touches > 1;
CREATE INDEX crm_deal_touches ON crm_deal (portal_id, date_create, id, currency_id, opportunity,
    stage_semantic_id, assigned_by_id, tracking_path) WHERE tracking_touches > 1;
