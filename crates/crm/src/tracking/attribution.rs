//! Attribution models (spec/sales-intelligence.md §13, our extension; open-questions E18).
//!
//! Bitrix24 itself credits a record to the source of its *effective trace* (the binding with the
//! highest `seq`): that is [`Model::Bitrix`], the report's default, and it needs no touch list.
//! The six touch models share one input: the record's conversion time `C` (its creation time) and
//! its touches (every bound trace plus their previous-visit children, each with a time, a source
//! and a channel group). [`touches_in_window`] keeps those with `C − window ≤ at ≤ C`, oldest
//! first, at most the last [`MAX_TOUCHES`]; [`weights`] gives each kept touch its credit, the
//! credits of a record summing to 1. A record without touches is credited wholly to source 0 /
//! channel Unassigned by the caller.

use super::ChannelGroup;

/// At most this many touches (the most recent ones) take part in a record's attribution.
pub const MAX_TOUCHES: usize = 10;

/// Time-decay half-life: 7 days.
pub const DEFAULT_HALF_LIFE_SECS: f64 = 7.0 * 86_400.0;

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// Bitrix24's rule: the source of the record's effective trace (the report's default).
    Bitrix,
    FirstTouch,
    LastTouch,
    LastNonDirect,
    Linear,
    /// 40 % first, 40 % last, 20 % split over the middle touches.
    PositionBased,
    /// `2^(−(C − t)/H)`, normalised; H = half-life.
    TimeDecay,
}

impl Model {
    pub const ALL: [Model; 7] = [
        Model::Bitrix,
        Model::FirstTouch,
        Model::LastTouch,
        Model::LastNonDirect,
        Model::Linear,
        Model::PositionBased,
        Model::TimeDecay,
    ];

    /// The code used by `leadtrace.tracking.report.get` (`model` parameter).
    pub fn code(self) -> &'static str {
        match self {
            Model::Bitrix => "bitrix",
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::LastNonDirect => "last_non_direct",
            Model::Linear => "linear",
            Model::PositionBased => "position_based",
            Model::TimeDecay => "time_decay",
        }
    }

    /// A human caption (the dashboard's model picker).
    pub fn name(self) -> &'static str {
        match self {
            Model::Bitrix => "Bitrix24 (effective trace)",
            Model::FirstTouch => "First touch",
            Model::LastTouch => "Last touch",
            Model::LastNonDirect => "Last non-direct",
            Model::Linear => "Linear",
            Model::PositionBased => "Position-based 40/20/40",
            Model::TimeDecay => "Time decay (7-day half-life)",
        }
    }

    /// Parses a code, case-insensitively.
    pub fn parse(s: &str) -> Option<Model> {
        let s = s.trim();
        Model::ALL
            .into_iter()
            .find(|m| m.code().eq_ignore_ascii_case(s))
    }

    /// Whether the model needs the record's touch list (all but [`Model::Bitrix`]).
    pub fn uses_touches(self) -> bool {
        self != Model::Bitrix
    }
}

/// One touch of a record's journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// Unix seconds: the trace's `created_at` (for a previous visit, its captured `tags.ts`).
    pub at: i64,
    /// The trace's source (0 = none).
    pub source_id: i64,
    pub channel: ChannelGroup,
}

/// The touches that take part: `conversion_at − window_secs ≤ at ≤ conversion_at`, sorted oldest
/// first (equal times keep their input order), the last [`MAX_TOUCHES`] of them.
pub fn touches_in_window(conversion_at: i64, touches: Vec<Touch>, window_secs: i64) -> Vec<Touch> {
    let earliest = conversion_at.saturating_sub(window_secs.max(0));
    let mut kept: Vec<Touch> = touches
        .into_iter()
        .filter(|t| t.at >= earliest && t.at <= conversion_at)
        .collect();
    kept.sort_by_key(|t| t.at); // stable
    if kept.len() > MAX_TOUCHES {
        kept.drain(..kept.len() - MAX_TOUCHES);
    }
    kept
}

/// The credit of each touch (same order as `touches`, which must be oldest first as
/// [`touches_in_window`] returns them); the credits sum to 1. No touches → no credits.
/// [`Model::Bitrix`] is not a touch model (the report uses the effective trace); here it is
/// treated as [`Model::LastTouch`].
pub fn weights(
    model: Model,
    conversion_at: i64,
    touches: &[Touch],
    half_life_secs: f64,
) -> Vec<f64> {
    let n = touches.len();
    let mut w = vec![0.0; n];
    if n == 0 {
        return w;
    }
    match model {
        Model::FirstTouch => w[0] = 1.0,
        Model::Bitrix | Model::LastTouch => w[n - 1] = 1.0,
        Model::LastNonDirect => {
            let i = touches
                .iter()
                .rposition(|t| t.channel != ChannelGroup::Direct)
                .unwrap_or(n - 1);
            w[i] = 1.0;
        }
        Model::Linear => w.iter_mut().for_each(|x| *x = 1.0 / n as f64),
        Model::PositionBased => match n {
            1 => w[0] = 1.0,
            2 => {
                w[0] = 0.5;
                w[1] = 0.5;
            }
            _ => {
                let middle = 0.2 / (n - 2) as f64;
                w.iter_mut().for_each(|x| *x = middle);
                w[0] = 0.4;
                w[n - 1] = 0.4;
            }
        },
        Model::TimeDecay => {
            let h = if half_life_secs > 0.0 {
                half_life_secs
            } else {
                DEFAULT_HALF_LIFE_SECS
            };
            for (x, t) in w.iter_mut().zip(touches) {
                let age = (conversion_at - t.at).max(0) as f64;
                *x = (-age / h).exp2();
            }
            let sum: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= sum);
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelGroup::*;

    const DAY: i64 = 86_400;
    const C: i64 = 1_700_000_000;

    fn t(days_before: i64, source_id: i64, channel: ChannelGroup) -> Touch {
        Touch {
            at: C - days_before * DAY,
            source_id,
            channel,
        }
    }

    fn w(model: Model, touches: &[Touch]) -> Vec<f64> {
        weights(model, C, touches, DEFAULT_HALF_LIFE_SECS)
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, e) in got.iter().zip(want) {
            assert!((g - e).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for m in Model::ALL {
            assert_eq!(Model::parse(m.code()), Some(m));
            assert_eq!(Model::parse(&m.code().to_uppercase()), Some(m));
        }
        assert_eq!(Model::parse("u_shaped"), None);
        assert!(!Model::Bitrix.uses_touches());
        assert!(Model::Linear.uses_touches());
    }

    #[test]
    fn no_touches_no_credit() {
        for m in Model::ALL {
            assert!(w(m, &[]).is_empty());
        }
    }

    #[test]
    fn one_touch_gets_everything_in_every_model() {
        let one = [t(3, 1, PaidSearch)];
        for m in Model::ALL {
            assert_close(&w(m, &one), &[1.0]);
        }
    }

    #[test]
    fn two_touches() {
        let two = [t(10, 1, PaidSearch), t(2, 2, Direct)];
        assert_close(&w(Model::FirstTouch, &two), &[1.0, 0.0]);
        assert_close(&w(Model::LastTouch, &two), &[0.0, 1.0]);
        assert_close(&w(Model::LastNonDirect, &two), &[1.0, 0.0]);
        assert_close(&w(Model::Linear, &two), &[0.5, 0.5]);
        assert_close(&w(Model::PositionBased, &two), &[0.5, 0.5]);
        // 2^-(10/7) : 2^-(2/7), normalised.
        let a = (-10.0f64 / 7.0).exp2();
        let b = (-2.0f64 / 7.0).exp2();
        assert_close(&w(Model::TimeDecay, &two), &[a / (a + b), b / (a + b)]);
    }

    #[test]
    fn three_touches() {
        let three = [t(21, 1, OrganicSearch), t(14, 2, Email), t(7, 3, Direct)];
        assert_close(&w(Model::FirstTouch, &three), &[1.0, 0.0, 0.0]);
        assert_close(&w(Model::LastTouch, &three), &[0.0, 0.0, 1.0]);
        assert_close(&w(Model::LastNonDirect, &three), &[0.0, 1.0, 0.0]);
        assert_close(&w(Model::Linear, &three), &[1.0 / 3.0; 3]);
        assert_close(&w(Model::PositionBased, &three), &[0.4, 0.2, 0.4]);
        // Ages 3, 2 and 1 half-lives: weights 1/8, 1/4, 1/2 → 1/7, 2/7, 4/7.
        assert_close(
            &w(Model::TimeDecay, &three),
            &[1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0],
        );
    }

    #[test]
    fn five_touches_position_based_splits_the_middle() {
        let five: Vec<Touch> = (0..5).map(|i| t(10 - i, i, Referral)).collect();
        assert_close(
            &w(Model::PositionBased, &five),
            &[0.4, 0.2 / 3.0, 0.2 / 3.0, 0.2 / 3.0, 0.4],
        );
    }

    #[test]
    fn all_direct_last_non_direct_falls_back_to_last() {
        let direct = [t(5, 1, Direct), t(4, 2, Direct)];
        assert_close(&w(Model::LastNonDirect, &direct), &[0.0, 1.0]);
    }

    #[test]
    fn equal_timestamps() {
        let same = [t(1, 1, PaidSocial), t(1, 2, Email), t(1, 3, Direct)];
        assert_close(&w(Model::TimeDecay, &same), &[1.0 / 3.0; 3]);
        assert_close(&w(Model::Linear, &same), &[1.0 / 3.0; 3]);
        assert_close(&w(Model::PositionBased, &same), &[0.4, 0.2, 0.4]);
        // The window keeps their order.
        let kept = touches_in_window(C, same.to_vec(), 28 * DAY);
        assert_eq!(
            kept.iter().map(|t| t.source_id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn a_touch_at_conversion_time_has_full_decay_weight() {
        let at_c = [t(7, 1, Email), t(0, 2, PaidSearch)];
        // Weights 1/2 and 1 → 1/3, 2/3.
        assert_close(&w(Model::TimeDecay, &at_c), &[1.0 / 3.0, 2.0 / 3.0]);
        // A custom half-life of 1 day: 2^-7 and 1.
        let a = (-7.0f64).exp2();
        assert_close(
            &weights(Model::TimeDecay, C, &at_c, DAY as f64),
            &[a / (a + 1.0), 1.0 / (a + 1.0)],
        );
    }

    #[test]
    fn window_filters_sorts_and_keeps_the_last_ten() {
        let input = vec![
            t(29, 1, Direct), // outside a 28-day window
            t(28, 2, Direct), // exactly on the edge: kept
            t(3, 3, Direct),
            t(10, 4, Direct),
            Touch {
                at: C + 1, // after the conversion: not a touch
                source_id: 5,
                channel: Direct,
            },
        ];
        let kept = touches_in_window(C, input, 28 * DAY);
        assert_eq!(
            kept.iter().map(|t| t.source_id).collect::<Vec<_>>(),
            [2, 4, 3]
        );

        let many: Vec<Touch> = (0..15).map(|i| t(20 - i, i, Direct)).collect();
        let kept = touches_in_window(C, many, 28 * DAY);
        assert_eq!(kept.len(), MAX_TOUCHES);
        assert_eq!(kept[0].source_id, 5);
        assert_eq!(kept[9].source_id, 14);
    }

    #[test]
    fn credits_sum_to_one() {
        let touches: Vec<Touch> = (0..7).map(|i| t(i * 3, i, Display)).rev().collect();
        for m in Model::ALL {
            let sum: f64 = w(m, &touches).iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{m:?}: {sum}");
        }
    }
}
