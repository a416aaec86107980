-- Sales Intelligence expenses (spec/sales-intelligence.md §10, §12.2): packs of ad spend entered for
-- one source over a date range, and their even split into days (materialised, so the report sums
-- the days inside its range). Mirrors ../postgres/0009_expenses.sql; keep both in step.
--
-- Money is in cents (integer hundredths of the currency unit, whatever the currency); days are
-- 'YYYY-MM-DD' text, which orders as the dates do. A pack spans 1..365 days (crm::tracking::expense).

CREATE TABLE si_expense_pack (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id    INTEGER NOT NULL REFERENCES portal (id),
    source_id    INTEGER NOT NULL,
    date_from    TEXT    NOT NULL,
    date_to      TEXT    NOT NULL,
    impressions  INTEGER NOT NULL DEFAULT 0 CHECK (impressions >= 0),
    -- clicks
    actions      INTEGER NOT NULL DEFAULT 0 CHECK (actions >= 0),
    amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    currency     TEXT    NOT NULL,
    comment      TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    created_by   INTEGER NOT NULL DEFAULT 0,
    CHECK (date_from <= date_to)
) STRICT;
CREATE UNIQUE INDEX si_expense_pack_portal_id ON si_expense_pack (portal_id, id);
-- Lists filter by source and by overlap with a date range.
CREATE INDEX si_expense_pack_source ON si_expense_pack (portal_id, source_id, date_from);
CREATE INDEX si_expense_pack_from ON si_expense_pack (portal_id, date_from);

-- One row per day of a pack; the days of a pack add up to the pack exactly.
CREATE TABLE si_expense_day (
    portal_id    INTEGER NOT NULL,
    pack_id      INTEGER NOT NULL,
    day          TEXT    NOT NULL,
    source_id    INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    impressions  INTEGER NOT NULL DEFAULT 0,
    actions      INTEGER NOT NULL DEFAULT 0,
    amount_cents INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, pack_id, day)
) STRICT;
-- Range sums by day (`Storage::expense_totals`), grouped by source and currency.
CREATE INDEX si_expense_day_day ON si_expense_day (portal_id, day, source_id, currency);
