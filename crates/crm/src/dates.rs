//! Dates and datetimes at the edge: lenient parsing of client input (ISO 8601 with or without
//! offset, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, `NOW`) and legacy ISO output in the portal time zone.
//!
//! Storage is Unix seconds for datetimes and `YYYY-MM-DD` text for dates (leads.md §3.8).

use bx_wire::envelope;
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
};
use chrono_tz::Tz;
use regex::Regex;
use std::sync::LazyLock;

/// `2024-01-20`, `2024-01-20T18:35:32`, `2024-01-20 18:35`, fractions, then an optional offset
/// (`Z`, `+01:00`, `+0100`, `+01`, `UTC`, `GMT`).
static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?)?\s*(Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?$",
    )
    .expect("static regex")
});

/// The portal's own display format, `DD.MM.YYYY[ HH:MM[:SS]]`, which PHP `strtotime` also reads.
static DOTTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})(?:\s+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$",
    )
    .expect("static regex")
});

/// A parsed input: a calendar date and time as written, and the offset when one was given.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Parsed {
    Local(NaiveDateTime),
    Fixed(NaiveDateTime, FixedOffset),
    Instant(i64),
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let upper = s.to_ascii_uppercase();
    if matches!(upper.as_str(), "Z" | "UTC" | "GMT") {
        return FixedOffset::east_opt(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s[1..].chars().filter(char::is_ascii_digit).collect();
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = match digits.get(2..4) {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    if minutes >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn num(c: &regex::Captures<'_>, i: usize) -> Option<u32> {
    c.get(i).and_then(|m| m.as_str().parse().ok())
}

fn parse(input: &str, now: i64) -> Option<Parsed> {
    let s = input.trim();
    if s.eq_ignore_ascii_case("now") {
        return Some(Parsed::Instant(now));
    }
    if let Some(ts) = s.strip_prefix('@') {
        return ts.parse::<i64>().ok().map(Parsed::Instant);
    }
    let (date, time, offset) = if let Some(c) = ISO.captures(s) {
        let date = NaiveDate::from_ymd_opt(num(&c, 1)? as i32, num(&c, 2)?, num(&c, 3)?)?;
        let time = match c.get(4) {
            Some(_) => NaiveTime::from_hms_opt(num(&c, 4)?, num(&c, 5)?, num(&c, 6).unwrap_or(0))?,
            None => NaiveTime::MIN,
        };
        let offset = match c.get(7) {
            Some(m) => Some(parse_offset(m.as_str())?),
            None => None,
        };
        (date, time, offset)
    } else if let Some(c) = DOTTED.captures(s) {
        let date = NaiveDate::from_ymd_opt(num(&c, 3)? as i32, num(&c, 2)?, num(&c, 1)?)?;
        let time = match c.get(4) {
            Some(_) => NaiveTime::from_hms_opt(num(&c, 4)?, num(&c, 5)?, num(&c, 6).unwrap_or(0))?,
            None => NaiveTime::MIN,
        };
        (date, time, None)
    } else {
        return None;
    };
    let local = date.and_time(time);
    Some(match offset {
        Some(o) => Parsed::Fixed(local, o),
        None => Parsed::Local(local),
    })
}

/// The instant of a wall-clock time in `tz`. In a DST gap the clock is moved forward an hour (as
/// PHP does); in an overlap the earlier instant wins.
pub fn local_to_unix(local: NaiveDateTime, tz: Tz) -> Option<i64> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.timestamp()),
        LocalResult::Ambiguous(a, _) => Some(a.timestamp()),
        LocalResult::None => {
            let later = local.checked_add_signed(chrono::Duration::hours(1))?;
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.timestamp())
        }
    }
}

/// A datetime input as Unix seconds. Without an offset the value is read in the portal time zone.
/// `None` when it cannot be parsed.
pub fn parse_datetime(input: &str, tz: Tz, now: i64) -> Option<i64> {
    match parse(input, now)? {
        Parsed::Instant(ts) => Some(ts),
        Parsed::Local(local) => local_to_unix(local, tz),
        Parsed::Fixed(local, offset) => offset
            .from_local_datetime(&local)
            .single()
            .map(|t| t.timestamp()),
    }
}

/// A date input as the calendar date written: the time and offset of a full timestamp are
/// ignored, so what a client read from a date field (`2025-04-29T03:00:00+03:00`) round-trips.
/// `NOW` and `@ts` are today / that day in the portal time zone.
pub fn parse_date(input: &str, tz: Tz, now: i64) -> Option<NaiveDate> {
    match parse(input, now)? {
        Parsed::Instant(ts) => {
            DateTime::from_timestamp(ts, 0).map(|t| t.with_timezone(&tz).date_naive())
        }
        Parsed::Local(local) | Parsed::Fixed(local, _) => Some(local.date()),
    }
}

/// The storage text of a date.
pub fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Legacy datetime output: ISO 8601 with the portal zone's offset at that instant, seconds precision.
pub fn format_datetime(ts: i64, tz: Tz) -> String {
    let utc = DateTime::from_timestamp(ts, 0).unwrap_or_default();
    // The same formatter as the envelope's `time`, fed the zone's offset at this instant (DST).
    envelope::format_datetime(ts, tz.offset_from_utc_datetime(&utc.naive_utc()).fix())
}

/// Legacy date output (leads.md §3.8): the day's midnight UTC written in the portal zone's
/// offset, so that the time part equals the offset (`2025-04-29T03:00:00+03:00`, and
/// `2025-04-29T00:00:00+00:00` in UTC), as Bitrix24's own examples show. Text that is not a
/// stored date is passed through.
pub fn format_date(stored: &str, tz: Tz) -> String {
    let Ok(d) = NaiveDate::parse_from_str(stored, "%Y-%m-%d") else {
        return stored.to_string();
    };
    format_datetime(d.and_time(NaiveTime::MIN).and_utc().timestamp(), tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;
    const UTC: Tz = chrono_tz::UTC;
    const NOW: i64 = 1_716_481_105; // 2024-05-23T16:18:25Z

    #[test]
    fn datetime_with_offset_is_absolute() {
        assert_eq!(
            parse_datetime("2024-05-23T18:18:25+02:00", UTC, NOW),
            Some(NOW)
        );
        assert_eq!(
            parse_datetime("2024-05-23T16:18:25Z", BERLIN, NOW),
            Some(NOW)
        );
        assert_eq!(
            parse_datetime("2024-05-23T18:18:25+0200", UTC, NOW),
            Some(NOW)
        );
        assert_eq!(
            parse_datetime("2024-05-23T19:18:25+03", UTC, NOW),
            Some(NOW)
        );
        assert_eq!(
            parse_datetime("2024-05-23T16:18:25.123456+00:00", BERLIN, NOW),
            Some(NOW)
        );
    }

    #[test]
    fn datetime_without_offset_is_portal_local() {
        assert_eq!(parse_datetime("2024-05-23T18:18:25", BERLIN, 0), Some(NOW));
        assert_eq!(parse_datetime("2024-05-23 18:18:25", BERLIN, 0), Some(NOW));
        assert_eq!(parse_datetime("2024-05-23 16:18:25", UTC, 0), Some(NOW));
        assert_eq!(parse_datetime("2024-05-23 16:18", UTC, 0), Some(NOW - 25));
        assert_eq!(parse_datetime("23.05.2024 18:18:25", BERLIN, 0), Some(NOW));
        // A bare date is midnight in the portal zone.
        assert_eq!(parse_datetime("2024-05-23", BERLIN, 0), Some(1_716_415_200));
        // Winter time in Berlin is +01:00.
        assert_eq!(
            parse_datetime("2024-01-20 18:35:32", BERLIN, 0),
            parse_datetime("2024-01-20T17:35:32Z", UTC, 0)
        );
    }

    #[test]
    fn datetime_now_gaps_and_garbage() {
        assert_eq!(parse_datetime("NOW", UTC, NOW), Some(NOW));
        assert_eq!(parse_datetime(" now ", UTC, NOW), Some(NOW));
        assert_eq!(parse_datetime("@1700000000", UTC, NOW), Some(1_700_000_000));
        // 02:30 does not exist in Berlin on 2024-03-31; moved forward to 03:30 CEST.
        assert_eq!(
            parse_datetime("2024-03-31 02:30:00", BERLIN, 0),
            parse_datetime("2024-03-31T01:30:00Z", UTC, 0)
        );
        for bad in [
            "",
            "tomorrow-ish",
            "2024-13-01",
            "2024-02-30",
            "2024-01-01T25:00:00",
            "12345",
            "2024-01-01T10:00:00+99:99",
        ] {
            assert_eq!(parse_datetime(bad, UTC, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_keep_the_written_day() {
        let d = |s| parse_date(s, BERLIN, NOW).map(date_text);
        assert_eq!(d("2025-04-29"), Some("2025-04-29".into()));
        assert_eq!(d("2025-04-29T03:00:00+03:00"), Some("2025-04-29".into()));
        assert_eq!(d("2025-04-29T00:00:00-05:00"), Some("2025-04-29".into()));
        assert_eq!(d("29.04.2025"), Some("2025-04-29".into()));
        assert_eq!(d("NOW"), Some("2024-05-23".into()));
        assert_eq!(d("garbage"), None);
    }

    #[test]
    fn output_uses_the_zone_offset_of_the_instant() {
        assert_eq!(format_datetime(NOW, BERLIN), "2024-05-23T18:18:25+02:00");
        assert_eq!(format_datetime(NOW, UTC), "2024-05-23T16:18:25+00:00");
        assert_eq!(
            format_datetime(1_705_771_532, BERLIN),
            "2024-01-20T18:25:32+01:00"
        );
        assert_eq!(format_date("2025-04-29", UTC), "2025-04-29T00:00:00+00:00");
        assert_eq!(
            format_date("2025-04-29", chrono_tz::Europe::Moscow),
            "2025-04-29T03:00:00+03:00"
        );
        assert_eq!(
            format_date("2025-01-15", chrono_tz::America::New_York),
            // UTC midnight seen from a negative offset is the evening before.
            "2025-01-14T19:00:00-05:00"
        );
        assert_eq!(format_date("not a date", UTC), "not a date");
    }
}
