//! Channel override rules for `Tx` (migration 0010): `si_channel_rule` with its value lists in
//! `si_channel_rule_match`. `crm::Storage` (entity.rs) delegates here.

use crate::tracking::LIST_ORDER;
use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::tracking::{ChannelGroup, ChannelRule, MatchValue, RuleField};
use crm::DbValue;

/// Channel rules with their values in the row layout of tracking.rs's `SOURCE_ROWS` (part 1;
/// no color and description).
pub(crate) const RULE_ROWS: &str = "SELECT 1, r.id, r.sort, r.active, r.name, r.channel_group, \
     r.created_at, NULL, NULL, m.field, m.value, m.is_regexp, m.position FROM si_channel_rule r \
     LEFT JOIN si_channel_rule_match m ON m.portal_id = r.portal_id AND m.rule_id = r.id \
     WHERE r.portal_id = ?";

/// Rules from rows of `RULE_ROWS`, in row order. A rule with an unknown channel group is skipped.
pub(crate) fn rules_from(rows: &[Vec<DbValue>]) -> Vec<ChannelRule> {
    let mut rules: Vec<ChannelRule> = Vec::new();
    // The last row's rule, and whether it was kept.
    let mut last: Option<(i64, bool)> = None;
    for r in rows {
        let id = val::int(&r[1]);
        if last.is_none_or(|(l, _)| l != id) {
            let code = val::text(&r[5]);
            let group = ChannelGroup::from_code(&code);
            match group {
                Some(group) => rules.push(ChannelRule {
                    id,
                    sort: val::int(&r[2]),
                    active: val::flag(&r[3]),
                    name: val::text(&r[4]),
                    group,
                    created_at: val::int(&r[6]),
                    ..ChannelRule::default()
                }),
                None => {
                    tracing::error!(rule = id, code, "unknown channel group in a channel rule");
                }
            }
            last = Some((id, group.is_some()));
        }
        if last != Some((id, true)) {
            continue;
        }
        // NULL: a rule without any value.
        let Some(field) = val::opt_text(&r[9]) else {
            continue;
        };
        let Some(field) = RuleField::parse(&field) else {
            tracing::error!(rule = id, field, "unknown channel rule field");
            continue;
        };
        if let Some(rule) = rules.last_mut() {
            rule.values_mut(field).push(MatchValue {
                value: val::text(&r[10]),
                is_regexp: val::flag(&r[11]),
            });
        }
    }
    rules
}

impl Tx {
    /// A portal's channel rules with their value lists, by `sort` then id.
    pub(crate) async fn si_channel_rules(
        &mut self,
        portal_id: i64,
    ) -> Result<Vec<ChannelRule>, ApiError> {
        let rows = self
            .fetch_sql(
                &format!("{RULE_ROWS} ORDER BY {LIST_ORDER}"),
                vec![portal_id.into()],
            )
            .await?;
        Ok(rules_from(&rows))
    }

    async fn si_insert_rule_matches(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<(), ApiError> {
        for field in RuleField::ALL {
            for (position, m) in rule.values(field).iter().enumerate() {
                self.exec_sql(
                    "INSERT INTO si_channel_rule_match (portal_id, rule_id, field, position, value, is_regexp) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        portal_id.into(),
                        rule.id.into(),
                        field.as_str().into(),
                        (position as i64).into(),
                        m.value.as_str().into(),
                        m.is_regexp.into(),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn si_insert_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<i64, ApiError> {
        let rows = self
            .fetch_sql(
                "INSERT INTO si_channel_rule (portal_id, sort, active, name, channel_group, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    portal_id.into(),
                    rule.sort.into(),
                    rule.active.into(),
                    rule.name.as_str().into(),
                    rule.group.code().into(),
                    rule.created_at.into(),
                ],
            )
            .await?;
        let id = rows
            .first()
            .and_then(|r| r.first())
            .map(val::int)
            .ok_or(ApiError::Internal)?;
        let stored = ChannelRule { id, ..rule.clone() };
        self.si_insert_rule_matches(portal_id, &stored).await?;
        Ok(id)
    }

    pub(crate) async fn si_update_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "UPDATE si_channel_rule SET sort = ?, active = ?, name = ?, channel_group = ? \
                 WHERE portal_id = ? AND id = ?",
                vec![
                    rule.sort.into(),
                    rule.active.into(),
                    rule.name.as_str().into(),
                    rule.group.code().into(),
                    portal_id.into(),
                    rule.id.into(),
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        self.clear_matches("si_channel_rule_match", "rule_id", portal_id, rule.id)
            .await?;
        self.si_insert_rule_matches(portal_id, rule).await?;
        Ok(true)
    }

    pub(crate) async fn si_delete_channel_rule(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        self.delete_with_matches(
            ("si_channel_rule", "si_channel_rule_match", "rule_id"),
            portal_id,
            id,
        )
        .await
    }
}
