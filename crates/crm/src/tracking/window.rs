//! The attribution window (§9): a lead or deal created without a source of its own, for a client
//! (contact or company) whose effective trace has a source and is younger than the window,
//! inherits that source.

use super::{TrackingSettings, NO_SOURCE};

/// The effective trace of one of the record's clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<T> {
    pub trace_id: i64,
    pub source_id: i64,
    pub created_at: i64,
    /// Whatever the caller wants back with the winner (its tags, its channel group).
    pub extra: T,
}

/// What the rule looks at about the new record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRecord {
    /// The family takes part (leads and deals).
    pub eligible: bool,
    /// The record has its own `UTM_SOURCE`.
    pub has_utm_source: bool,
    /// The source its own trace resolved to (from `TRACE` and its UTM fields); 0 for none.
    pub own_source: i64,
    /// The creation time.
    pub now: i64,
}

/// The client trace whose source the record inherits, if any: the most recent qualifying one
/// (a later trace wins a tie).
pub fn inherited<'a, T>(
    settings: &TrackingSettings,
    record: &NewRecord,
    candidates: &'a [Candidate<T>],
) -> Option<&'a Candidate<T>> {
    if !settings.use_attribution_window
        || settings.attribution_window_days <= 0
        || !record.eligible
        || record.has_utm_source
        || record.own_source != NO_SOURCE
    {
        return None;
    }
    let oldest = record
        .now
        .saturating_sub(settings.attribution_window_days.saturating_mul(86_400));
    candidates
        .iter()
        .filter(|c| c.source_id != NO_SOURCE && c.created_at >= oldest)
        .max_by_key(|c| (c.created_at, c.trace_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_716_481_105;
    const DAY: i64 = 86_400;

    fn c(trace_id: i64, source_id: i64, age_days: i64) -> Candidate<()> {
        Candidate {
            trace_id,
            source_id,
            created_at: NOW - age_days * DAY,
            extra: (),
        }
    }

    fn record() -> NewRecord {
        NewRecord {
            eligible: true,
            has_utm_source: false,
            own_source: 0,
            now: NOW,
        }
    }

    #[test]
    fn inherits_the_latest_source_inside_the_window() {
        let s = TrackingSettings::default();
        let cands = [c(1, 2, 3), c(2, 4, 1), c(3, 0, 0), c(4, 5, 29)];
        assert_eq!(
            inherited(&s, &record(), &cands).map(|c| c.trace_id),
            Some(2)
        );
        // Exactly 28 days old is still inside.
        assert_eq!(
            inherited(&s, &record(), &[c(7, 3, 28)]).map(|c| c.trace_id),
            Some(7)
        );
        assert_eq!(inherited(&s, &record(), &[c(8, 3, 29)]), None);
        // A tie on time goes to the later trace.
        let tie = [c(10, 1, 2), c(11, 2, 2)];
        assert_eq!(inherited(&s, &record(), &tie).map(|c| c.trace_id), Some(11));
    }

    #[test]
    fn does_not_apply() {
        let s = TrackingSettings::default();
        let cands = [c(1, 2, 3)];
        let off = TrackingSettings {
            use_attribution_window: false,
            ..s
        };
        assert_eq!(inherited(&off, &record(), &cands), None);
        let zero = TrackingSettings {
            attribution_window_days: 0,
            ..s
        };
        assert_eq!(inherited(&zero, &record(), &cands), None);
        for r in [
            NewRecord {
                eligible: false,
                ..record()
            },
            NewRecord {
                has_utm_source: true,
                ..record()
            },
            NewRecord {
                own_source: 3,
                ..record()
            },
        ] {
            assert_eq!(inherited(&s, &r, &cands), None, "{r:?}");
        }
        assert_eq!(inherited(&s, &record(), &[c(1, 0, 1)]), None);
        assert_eq!(inherited::<()>(&s, &record(), &[]), None);
        // A shorter window.
        let week = TrackingSettings {
            attribution_window_days: 7,
            ..s
        };
        assert_eq!(inherited(&week, &record(), &[c(1, 2, 8)]), None);
    }
}
