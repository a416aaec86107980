//! Expense packs (spec §12.2, E17): ad spend entered for one source over a date range, and its
//! even split into days that the report sums. Pure: validation, money in integer cents, the split.
//!
//! A pack's amount is held in cents (always 2 decimals, whatever the currency) and its counts in
//! units; each day gets `floor(total / days)` and the first day also the remainder, so the days of a
//! pack add up to the pack exactly and no sum ever passes through floating point.

use super::{Source, NO_SOURCE};
use crate::dates;
use crate::wire;
use bx_wire::ApiError;
use chrono::{Datelike, NaiveDate};
use serde_json::Value;

/// The longest pack: its days, `DATE_FROM` to `DATE_TO` inclusive.
pub const MAX_DAYS: i64 = 365;
/// The largest amount of one pack, in cents (100 billion in currency units): far from overflowing
/// any sum of packs in an `i64`.
pub const MAX_AMOUNT_CENTS: i64 = 10_000_000_000_000;
/// The largest impression or action count of one pack.
pub const MAX_COUNT: i64 = 1_000_000_000_000;
pub const MAX_COMMENT_CHARS: usize = 1024;

/// A stored pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpensePack {
    pub id: i64,
    /// A source of the portal; never 0 (organic / other traffic has no spend).
    pub source_id: i64,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    /// The amount in cents (hundredths of the currency unit).
    pub amount_cents: i64,
    /// A currency code of the portal (`crm.currency.list`).
    pub currency: String,
    pub impressions: i64,
    /// Clicks (Bitrix24 calls them actions).
    pub actions: i64,
    pub comment: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The user who entered it (0: the command line).
    pub created_by: i64,
}

impl ExpensePack {
    /// Days from `date_from` to `date_to` inclusive.
    pub fn days(&self) -> i64 {
        (self.date_to - self.date_from).num_days() + 1
    }

    /// The materialised daily rows of this pack (§12.2).
    pub fn split(&self) -> Vec<ExpenseDay> {
        let n = self.days().max(1);
        let amounts = split(self.amount_cents, n);
        let impressions = split(self.impressions, n);
        let actions = split(self.actions, n);
        self.date_from
            .iter_days()
            .take(n as usize)
            .enumerate()
            .map(|(i, day)| ExpenseDay {
                day,
                amount_cents: amounts[i],
                impressions: impressions[i],
                actions: actions[i],
            })
            .collect()
    }
}

/// One day of a pack (its source and currency are the pack's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpenseDay {
    pub day: NaiveDate,
    pub amount_cents: i64,
    pub impressions: i64,
    pub actions: i64,
}

/// Which packs a list shows: of one source, and overlapping `[from, to]` (either end open).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpenseFilter {
    pub source_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl ExpenseFilter {
    pub fn matches(&self, p: &ExpensePack) -> bool {
        self.source_id.is_none_or(|s| p.source_id == s)
            && self.from.is_none_or(|f| p.date_to >= f)
            && self.to.is_none_or(|t| p.date_from <= t)
    }
}

/// The daily rows of one source and currency summed over a range of days
/// (`Storage::expense_totals`); the report converts `amount` with `crm.currency` rates.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseTotal {
    pub source_id: i64,
    pub currency: String,
    /// The exact sum, in cents.
    pub amount_cents: i64,
    /// `amount_cents / 100`, in currency units.
    pub amount: f64,
    pub impressions: i64,
    pub actions: i64,
}

impl ExpenseTotal {
    pub fn new(
        source_id: i64,
        currency: String,
        amount_cents: i64,
        impressions: i64,
        actions: i64,
    ) -> ExpenseTotal {
        ExpenseTotal {
            source_id,
            currency,
            amount_cents,
            amount: cents_to_units(amount_cents),
            impressions,
            actions,
        }
    }
}

/// `total` split over `days` (≥ 1) parts: `floor(total / days)` each, the remainder on the first.
pub fn split(total: i64, days: i64) -> Vec<i64> {
    let days = days.max(1);
    let each = total / days;
    let mut out = vec![each; days as usize];
    out[0] += total - each * days;
    out
}

/// Cents as a number of currency units (`3334` → `33.34`).
pub fn cents_to_units(cents: i64) -> f64 {
    // Division of an exactly representable integer: the nearest double to the 2-decimal value,
    // which serializes as that value.
    cents as f64 / 100.0
}

/// Cents as text with two decimals (`3334` → `33.34`).
pub fn cents_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn invalid(text: impl Into<String>) -> ApiError {
    ApiError::core(text.into())
}

fn required(name: &str) -> ApiError {
    invalid(format!("Required field {name} is not specified."))
}

/// A scalar field as trimmed text; `None` when absent or empty.
fn text_field(fields: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match wire::php_get(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) if wire::is_php_array(v) => {
            Err(invalid(format!("Field {name} must be a single value.")))
        }
        Some(v) => {
            let s = wire::strval(v).unwrap_or_default().trim().to_string();
            Ok((!s.is_empty()).then_some(s))
        }
    }
}

/// An amount in cents: digits with at most 2 decimals (`.` separates them), no sign, no
/// exponent. `None` when the text is not such a number.
pub fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    let units: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    units.checked_mul(100)?.checked_add(cents)
}

/// A non-negative integer count (digits only; `1.0` is not a count). `None` otherwise.
pub fn parse_count(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse().ok()
}

fn amount_field(fields: &Value) -> Result<i64, ApiError> {
    let Some(s) = text_field(fields, "AMOUNT")? else {
        return Err(required("AMOUNT"));
    };
    let cents = parse_cents(&s).ok_or_else(|| {
        invalid(format!(
            "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `{s}`."
        ))
    })?;
    if cents > MAX_AMOUNT_CENTS {
        return Err(invalid(format!(
            "Field AMOUNT is too large: at most {}.",
            MAX_AMOUNT_CENTS / 100
        )));
    }
    Ok(cents)
}

fn count_field(fields: &Value, name: &str) -> Result<i64, ApiError> {
    let Some(s) = text_field(fields, name)? else {
        return Ok(0);
    };
    let n = parse_count(&s).ok_or_else(|| {
        invalid(format!(
            "Field {name} must be a whole number of at least 0, not `{s}`."
        ))
    })?;
    if n > MAX_COUNT {
        return Err(invalid(format!(
            "Field {name} is too large: at most {MAX_COUNT}."
        )));
    }
    Ok(n)
}

/// A calendar date (`YYYY-MM-DD`, or any date form the CRM methods accept: the time and offset of
/// a full timestamp are ignored).
pub fn parse_day(s: &str, ctx_tz: chrono_tz::Tz, now: i64) -> Option<NaiveDate> {
    dates::parse_date(s, ctx_tz, now).filter(|d| (1000..=9999).contains(&d.year()))
}

fn date_field(
    fields: &Value,
    name: &str,
    tz: chrono_tz::Tz,
    now: i64,
) -> Result<Option<NaiveDate>, ApiError> {
    let Some(s) = text_field(fields, name)? else {
        return Ok(None);
    };
    parse_day(&s, tz, now).map(Some).ok_or_else(|| {
        invalid(format!(
            "Field {name} must be a date (YYYY-MM-DD), not `{s}`."
        ))
    })
}

/// The source a `SOURCE_ID` value names: a source id, or else a source code (exact, then ignoring
/// case). Source 0 (organic / other traffic) takes no expenses.
pub fn resolve_source(sources: &[Source], value: &str) -> Result<i64, ApiError> {
    let v = value.trim();
    if let Some(id) = parse_count(v) {
        if id == NO_SOURCE {
            return Err(invalid(
                "Source 0 (organic / other traffic) takes no expenses: choose a configured source.",
            ));
        }
        return sources
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.id)
            .ok_or_else(|| invalid(format!("Source `{v}` does not exist.")));
    }
    if v.eq_ignore_ascii_case(super::NO_SOURCE_CODE) {
        return Err(invalid(
            "Source 0 (organic / other traffic) takes no expenses: choose a configured source.",
        ));
    }
    sources
        .iter()
        .find(|s| !s.code.is_empty() && s.code == v)
        .or_else(|| {
            sources
                .iter()
                .find(|s| !s.code.is_empty() && s.code.eq_ignore_ascii_case(v))
        })
        .map(|s| s.id)
        .ok_or_else(|| invalid(format!("Source `{v}` does not exist.")))
}

/// What a new pack is checked against.
pub struct PackContext<'a> {
    /// Every source of the portal.
    pub sources: &'a [Source],
    /// The portal's currency codes, base first.
    pub currencies: &'a [String],
    pub time_zone: chrono_tz::Tz,
    pub now: i64,
    pub user_id: i64,
}

/// A new pack from `fields` (`SOURCE_ID`, `DATE_FROM`, `DATE_TO`, `AMOUNT`, `CURRENCY_ID`,
/// `IMPRESSIONS`, `ACTIONS`, `COMMENT`), checked in that order; the first problem is the error.
/// `DATE_TO` defaults to `DATE_FROM`, `CURRENCY_ID` to the base currency, counts to 0.
pub fn new_pack(fields: &Value, pc: &PackContext<'_>) -> Result<ExpensePack, ApiError> {
    let source = text_field(fields, "SOURCE_ID")?.ok_or_else(|| required("SOURCE_ID"))?;
    let source_id = resolve_source(pc.sources, &source)?;
    let date_from = date_field(fields, "DATE_FROM", pc.time_zone, pc.now)?
        .ok_or_else(|| required("DATE_FROM"))?;
    let date_to = date_field(fields, "DATE_TO", pc.time_zone, pc.now)?.unwrap_or(date_from);
    if date_from > date_to {
        return Err(invalid(format!(
            "DATE_FROM ({date_from}) must not be later than DATE_TO ({date_to})."
        )));
    }
    let days = (date_to - date_from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(invalid(format!(
            "An expense pack spans at most {MAX_DAYS} days; {date_from} to {date_to} is {days}."
        )));
    }
    let amount_cents = amount_field(fields)?;
    let currency = match text_field(fields, "CURRENCY_ID")? {
        None => pc
            .currencies
            .first()
            .cloned()
            .ok_or_else(|| invalid("The portal has no currency."))?,
        Some(c) => pc
            .currencies
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&c))
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "Field CURRENCY_ID: `{c}` is not a currency of the portal ({}).",
                    pc.currencies.join(", ")
                ))
            })?,
    };
    let impressions = count_field(fields, "IMPRESSIONS")?;
    let actions = count_field(fields, "ACTIONS")?;
    let comment = text_field(fields, "COMMENT")?.unwrap_or_default();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(invalid(format!(
            "Field COMMENT is longer than {MAX_COMMENT_CHARS} characters."
        )));
    }
    Ok(ExpensePack {
        id: 0,
        source_id,
        date_from,
        date_to,
        amount_cents,
        currency,
        impressions,
        actions,
        comment,
        created_at: pc.now,
        created_by: pc.user_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn pack(from: &str, to: &str, cents: i64, impressions: i64, actions: i64) -> ExpensePack {
        ExpensePack {
            id: 1,
            source_id: 1,
            date_from: d(from),
            date_to: d(to),
            amount_cents: cents,
            currency: "EUR".into(),
            impressions,
            actions,
            comment: String::new(),
            created_at: 0,
            created_by: 0,
        }
    }

    #[test]
    fn the_spec_examples() {
        // 100.00 EUR over 3 days → 33.34, 33.33, 33.33; 10 impressions → 4, 3, 3.
        let days = pack("2026-01-01", "2026-01-03", 10_000, 10, 0).split();
        assert_eq!(
            days.iter().map(|x| x.amount_cents).collect::<Vec<_>>(),
            [3334, 3333, 3333]
        );
        assert_eq!(
            days.iter()
                .map(|x| cents_text(x.amount_cents))
                .collect::<Vec<_>>(),
            ["33.34", "33.33", "33.33"]
        );
        assert_eq!(
            days.iter().map(|x| x.impressions).collect::<Vec<_>>(),
            [4, 3, 3]
        );
        assert_eq!(
            days.iter().map(|x| x.actions).collect::<Vec<_>>(),
            [0, 0, 0]
        );
        assert_eq!(
            days.iter().map(|x| x.day).collect::<Vec<_>>(),
            [d("2026-01-01"), d("2026-01-02"), d("2026-01-03")]
        );
        assert_eq!(cents_to_units(3334), 33.34);
        assert_eq!(
            serde_json::to_string(&cents_to_units(3333)).unwrap(),
            "33.33"
        );
    }

    #[test]
    fn splits() {
        assert_eq!(split(10, 3), [4, 3, 3]);
        assert_eq!(split(2, 3), [2, 0, 0]);
        assert_eq!(split(0, 3), [0, 0, 0]);
        assert_eq!(split(7, 1), [7]);
        assert_eq!(split(9, 3), [3, 3, 3]);
        assert_eq!(split(11, 4), [5, 2, 2, 2]);
        // One day: the whole pack.
        let one = pack("2026-02-28", "2026-02-28", 12_345, 7, 2).split();
        assert_eq!(one.len(), 1);
        assert_eq!(
            (
                one[0].day,
                one[0].amount_cents,
                one[0].impressions,
                one[0].actions
            ),
            (d("2026-02-28"), 12_345, 7, 2)
        );
        // Zero amounts: every day 0.
        let zero = pack("2026-01-01", "2026-01-05", 0, 0, 0).split();
        assert_eq!(zero.len(), 5);
        assert!(zero
            .iter()
            .all(|x| x.amount_cents == 0 && x.impressions == 0 && x.actions == 0));
    }

    #[test]
    fn a_year_long_pack() {
        // 365 days across a leap day: 1000.00 is 2.73 a day and 6.28 on the first (2.73 + 3.55).
        let p = pack("2027-06-01", "2028-05-30", 100_000, 1000, 366);
        assert_eq!(p.days(), 365);
        let days = p.split();
        assert_eq!(days.len(), 365);
        assert_eq!(days[0].amount_cents, 273 + 100_000 - 273 * 365);
        assert_eq!(days[0].amount_cents, 628);
        assert!(days[1..].iter().all(|x| x.amount_cents == 273));
        assert_eq!(days.iter().map(|x| x.amount_cents).sum::<i64>(), 100_000);
        assert_eq!(days.iter().map(|x| x.impressions).sum::<i64>(), 1000);
        assert_eq!(days[0].impressions, 2 + 1000 - 2 * 365);
        assert_eq!(days.iter().map(|x| x.actions).sum::<i64>(), 366);
        assert_eq!(days[0].actions, 2);
        assert!(days.iter().any(|x| x.day == d("2028-02-29")));
        assert_eq!(days[364].day, d("2028-05-30"));
        // Every split adds up to its pack.
        for total in [0, 1, 364, 365, 366, 99_999_999] {
            for n in [1, 2, 3, 7, 31, 365] {
                let parts = split(total, n);
                assert_eq!(parts.len() as i64, n);
                assert_eq!(parts.iter().sum::<i64>(), total);
                assert!(parts[1..].iter().all(|x| *x == total / n));
            }
        }
    }

    #[test]
    fn amounts_and_counts() {
        for (s, cents) in [
            ("100", 10_000),
            ("100.00", 10_000),
            ("100.5", 10_050),
            ("0", 0),
            ("0.01", 1),
            (".5", 50),
            ("007.10", 710),
            (" 12.34 ", 1234),
            ("100000000000", 10_000_000_000_000),
        ] {
            assert_eq!(parse_cents(s), Some(cents), "{s}");
        }
        for s in [
            "",
            ".",
            "-1",
            "+1",
            "1.234",
            "1e3",
            "1,5",
            "abc",
            "1.",
            "1.2.3",
            "NaN",
            "99999999999999999999",
        ] {
            assert_eq!(parse_cents(s), None, "{s}");
        }
        assert_eq!(parse_count("10"), Some(10));
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("000"), Some(0));
        for s in ["", "-1", "1.5", "1.0", "x", "99999999999999999999"] {
            assert_eq!(parse_count(s), None, "{s}");
        }
        assert_eq!(cents_text(5), "0.05");
        assert_eq!(cents_text(-150), "-1.50");
    }

    fn sources() -> Vec<Source> {
        vec![
            Source {
                id: 1,
                code: "google".into(),
                ..Source::default()
            },
            Source {
                id: 8,
                code: "Partners".into(),
                active: false,
                ..Source::default()
            },
        ]
    }

    fn check(fields: Value) -> Result<ExpensePack, String> {
        let sources = sources();
        let currencies = vec!["USD".to_string(), "EUR".to_string()];
        let pc = PackContext {
            sources: &sources,
            currencies: &currencies,
            time_zone: chrono_tz::UTC,
            now: 1_700_000_000,
            user_id: 3,
        };
        new_pack(&fields, &pc).map_err(|e| e.description().to_string())
    }

    #[test]
    fn new_packs() {
        let p = check(
            json!({"SOURCE_ID": "1", "DATE_FROM": "2026-01-01", "DATE_TO": "2026-01-03",
                             "AMOUNT": 100, "CURRENCY_ID": "eur", "IMPRESSIONS": "10", "ACTIONS": 4,
                             "COMMENT": " spring "}),
        )
        .unwrap();
        assert_eq!(
            (
                p.source_id,
                p.date_from,
                p.date_to,
                p.amount_cents,
                p.currency.as_str()
            ),
            (1, d("2026-01-01"), d("2026-01-03"), 10_000, "EUR")
        );
        assert_eq!(
            (p.impressions, p.actions, p.comment.as_str()),
            (10, 4, "spring")
        );
        assert_eq!((p.created_at, p.created_by), (1_700_000_000, 3));
        // Defaults: one day, the base currency, no counts; a source by code (an inactive one too).
        let p = check(
            json!({"SOURCE_ID": "partners", "DATE_FROM": "2026-01-01T10:00:00+03:00",
                             "AMOUNT": "0.5"}),
        )
        .unwrap();
        assert_eq!(
            (p.source_id, p.date_to, p.amount_cents),
            (8, d("2026-01-01"), 50)
        );
        assert_eq!(
            (p.currency.as_str(), p.impressions, p.actions),
            ("USD", 0, 0)
        );
        // A float that JSON carries with two decimals.
        assert_eq!(
            check(json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 33.34}))
                .unwrap()
                .amount_cents,
            3334
        );
        // 365 days inclusive pass, 366 do not.
        assert_eq!(
            check(json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "DATE_TO": "2026-12-31", "AMOUNT": 1}))
                .unwrap()
                .days(),
            365
        );
        for (fields, text) in [
            (
                json!({"DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Required field SOURCE_ID is not specified.",
            ),
            (
                json!({"SOURCE_ID": 0, "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Source 0 (organic / other traffic) takes no expenses: choose a configured source.",
            ),
            (
                json!({"SOURCE_ID": "organic", "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Source 0 (organic / other traffic) takes no expenses: choose a configured source.",
            ),
            (
                json!({"SOURCE_ID": 99, "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Source `99` does not exist.",
            ),
            (
                json!({"SOURCE_ID": "nope", "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Source `nope` does not exist.",
            ),
            (
                json!({"SOURCE_ID": [1], "DATE_FROM": "2026-01-01", "AMOUNT": 1}),
                "Field SOURCE_ID must be a single value.",
            ),
            (
                json!({"SOURCE_ID": 1, "AMOUNT": 1}),
                "Required field DATE_FROM is not specified.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-02-30", "AMOUNT": 1}),
                "Field DATE_FROM must be a date (YYYY-MM-DD), not `2026-02-30`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "DATE_TO": "soon", "AMOUNT": 1}),
                "Field DATE_TO must be a date (YYYY-MM-DD), not `soon`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-02", "DATE_TO": "2026-01-01", "AMOUNT": 1}),
                "DATE_FROM (2026-01-02) must not be later than DATE_TO (2026-01-01).",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "DATE_TO": "2027-01-01", "AMOUNT": 1}),
                "An expense pack spans at most 365 days; 2026-01-01 to 2027-01-01 is 366.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01"}),
                "Required field AMOUNT is not specified.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": -1}),
                "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `-1`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": "1.005"}),
                "Field AMOUNT must be a number of at least 0 with at most 2 decimals, not `1.005`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": "100000000000.01"}),
                "Field AMOUNT is too large: at most 100000000000.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1, "CURRENCY_ID": "XYZ"}),
                "Field CURRENCY_ID: `XYZ` is not a currency of the portal (USD, EUR).",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1, "IMPRESSIONS": -5}),
                "Field IMPRESSIONS must be a whole number of at least 0, not `-5`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1, "ACTIONS": "2.5"}),
                "Field ACTIONS must be a whole number of at least 0, not `2.5`.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1, "ACTIONS": "1000000000001"}),
                "Field ACTIONS is too large: at most 1000000000000.",
            ),
            (
                json!({"SOURCE_ID": 1, "DATE_FROM": "2026-01-01", "AMOUNT": 1, "COMMENT": "c".repeat(1025)}),
                "Field COMMENT is longer than 1024 characters.",
            ),
        ] {
            assert_eq!(check(fields.clone()).unwrap_err(), text, "{fields}");
        }
    }

    #[test]
    fn filters() {
        let p = pack("2026-01-10", "2026-01-20", 1, 0, 0);
        let f = |s: Option<i64>, from: Option<&str>, to: Option<&str>| ExpenseFilter {
            source_id: s,
            from: from.map(d),
            to: to.map(d),
        };
        assert!(f(None, None, None).matches(&p));
        assert!(f(Some(1), Some("2026-01-20"), None).matches(&p));
        assert!(f(None, None, Some("2026-01-10")).matches(&p));
        assert!(f(None, Some("2026-01-01"), Some("2026-01-31")).matches(&p));
        assert!(f(None, Some("2026-01-15"), Some("2026-01-15")).matches(&p));
        assert!(!f(Some(2), None, None).matches(&p));
        assert!(!f(None, Some("2026-01-21"), None).matches(&p));
        assert!(!f(None, None, Some("2026-01-09")).matches(&p));
    }
}
