-- Sales Intelligence expenses (spec/sales-intelligence.md §10, §12.2): packs of ad spend entered for
-- one source over a date range, and their even split into days (materialised, so the report sums
-- the days inside its range). Mirrors ../sqlite/0009_expenses.sql; keep both in step.
--
-- Money is in cents (integer hundredths of the currency unit, whatever the currency); days are
-- 'YYYY-MM-DD' text, which orders as the dates do. A pack spans 1..365 days (crm::tracking::expense).

CREATE TABLE si_expense_pack (
    id           BIGSERIAL,
    portal_id    BIGINT  NOT NULL REFERENCES portal (id),
    source_id    BIGINT  NOT NULL,
    date_from    TEXT COLLATE "C" NOT NULL,
    date_to      TEXT COLLATE "C" NOT NULL,
    impressions  BIGINT  NOT NULL DEFAULT 0 CHECK (impressions >= 0),
    -- clicks
    actions      BIGINT  NOT NULL DEFAULT 0 CHECK (actions >= 0),
    amount_cents BIGINT  NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    currency     TEXT COLLATE "C" NOT NULL,
    comment      TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    created_by   BIGINT  NOT NULL DEFAULT 0,
    CHECK (date_from <= date_to),
    PRIMARY KEY (portal_id, id)
);
-- Lists filter by source and by overlap with a date range.
CREATE INDEX si_expense_pack_source ON si_expense_pack (portal_id, source_id, date_from);
CREATE INDEX si_expense_pack_from ON si_expense_pack (portal_id, date_from);

-- One row per day of a pack; the days of a pack add up to the pack exactly.
CREATE TABLE si_expense_day (
    portal_id    BIGINT  NOT NULL,
    pack_id      BIGINT  NOT NULL,
    day          TEXT COLLATE "C" NOT NULL,
    source_id    BIGINT  NOT NULL,
    currency     TEXT COLLATE "C" NOT NULL,
    impressions  BIGINT  NOT NULL DEFAULT 0,
    actions      BIGINT  NOT NULL DEFAULT 0,
    amount_cents BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, pack_id, day)
);
-- Range sums by day (`Storage::expense_totals`), grouped by source and currency.
CREATE INDEX si_expense_day_day ON si_expense_day (portal_id, day, source_id, currency);
