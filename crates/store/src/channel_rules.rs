//! Channel override rules for `Tx` (migration 0010): `si_channel_rule` with its value lists in
//! `si_channel_rule_match`. `crm::Storage` (entity.rs) delegates here.

use crate::tx::{val, Tx};
use bx_wire::ApiError;
use crm::tracking::{ChannelGroup, ChannelRule, MatchValue, RuleField};

impl Tx {
    pub(crate) async fn si_channel_rules(
        &mut self,
        portal_id: i64,
    ) -> Result<Vec<ChannelRule>, ApiError> {
        let rows = self
            .fetch_sql(
                "SELECT id, sort, active, name, channel_group, created_at FROM si_channel_rule \
                 WHERE portal_id = ? ORDER BY sort, id",
                vec![portal_id.into()],
            )
            .await?;
        let mut rules: Vec<ChannelRule> = Vec::with_capacity(rows.len());
        for r in &rows {
            let (id, code) = (val::int(&r[0]), val::text(&r[4]));
            let Some(group) = ChannelGroup::from_code(&code) else {
                tracing::error!(rule = id, code, "unknown channel group in a channel rule");
                continue;
            };
            rules.push(ChannelRule {
                id,
                sort: val::int(&r[1]),
                active: val::flag(&r[2]),
                name: val::text(&r[3]),
                group,
                created_at: val::int(&r[5]),
                ..ChannelRule::default()
            });
        }
        let matches = self
            .fetch_sql(
                "SELECT rule_id, field, value, is_regexp FROM si_channel_rule_match \
                 WHERE portal_id = ? ORDER BY rule_id, field, position",
                vec![portal_id.into()],
            )
            .await?;
        for m in matches {
            let (id, field) = (val::int(&m[0]), val::text(&m[1]));
            let Some(field) = RuleField::parse(&field) else {
                tracing::error!(rule = id, field, "unknown channel rule field");
                continue;
            };
            if let Some(r) = rules.iter_mut().find(|r| r.id == id) {
                r.values_mut(field).push(MatchValue {
                    value: val::text(&m[2]),
                    is_regexp: val::flag(&m[3]),
                });
            }
        }
        Ok(rules)
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
        self.exec_sql(
            "DELETE FROM si_channel_rule_match WHERE portal_id = ? AND rule_id = ?",
            vec![portal_id.into(), rule.id.into()],
        )
        .await?;
        self.si_insert_rule_matches(portal_id, rule).await?;
        Ok(true)
    }

    pub(crate) async fn si_delete_channel_rule(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        let n = self
            .exec_sql(
                "DELETE FROM si_channel_rule WHERE portal_id = ? AND id = ?",
                vec![portal_id.into(), id.into()],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        self.exec_sql(
            "DELETE FROM si_channel_rule_match WHERE portal_id = ? AND rule_id = ?",
            vec![portal_id.into(), id.into()],
        )
        .await?;
        Ok(true)
    }
}
