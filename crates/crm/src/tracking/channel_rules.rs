//! Channel groups and the portal's channel override rules (§14 "user-defined override rules",
//! our extension): `leadtrace.tracking.channel.list` and
//! `leadtrace.tracking.channel.rule.list/add/update/delete`.
//!
//! Anyone with the `crm` scope may read them; changing rules needs an administrator (as sources).
//! A rule maps conditions on `UTM_SOURCE`, `UTM_MEDIUM`, `UTM_CAMPAIGN` and `REF_DOMAIN` (lists of
//! plain values or `{"REGEXP": pattern}`, as a source's lists) to a channel group; see
//! `channel::ChannelRule` for how they match. Rules apply to traces saved after the change.

use super::channel::{ChannelGroup, ChannelRule, RuleField};
use super::sources::{
    done_if_found, fields_param, invalid, match_list, record_id, require_admin, string,
};
use crate::dates;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Map, Value};

pub const MAX_NAME_CHARS: usize = 255;
/// The most rules a portal may have (every saved trace is checked against all of them).
pub const MAX_RULES: usize = 100;

/// `leadtrace.tracking.channel.list`: the channel groups, `{CODE, NAME}` in rule order.
pub fn groups() -> Output {
    let items: Vec<Value> = ChannelGroup::ALL
        .iter()
        .map(|g| json!({"CODE": g.code(), "NAME": g.name()}))
        .collect();
    let total = items.len() as i64;
    Output::list(Value::Array(items), total, None)
}

/// A rule as the methods show it.
pub fn rule_json(r: &ChannelRule, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), json!(r.id));
    m.insert("SORT".into(), json!(r.sort));
    m.insert("ACTIVE".into(), json!(if r.active { "Y" } else { "N" }));
    m.insert("NAME".into(), json!(r.name));
    m.insert("CHANNEL_GROUP".into(), json!(r.group.code()));
    m.insert(
        "DATE_CREATE".into(),
        json!(dates::format_datetime(r.created_at, ctx.settings.time_zone)),
    );
    for field in RuleField::ALL {
        let values: Vec<Value> = r
            .values(field)
            .iter()
            .map(|v| {
                if v.is_regexp {
                    json!({ "REGEXP": v.value })
                } else {
                    json!(v.value)
                }
            })
            .collect();
        m.insert(field.as_str().into(), Value::Array(values));
    }
    Value::Object(m)
}

/// `SORT`: an integer (a JSON number or a string of digits, optionally signed).
fn sort_value(v: &Value) -> Result<i64, ApiError> {
    let bad = || invalid("Field SORT must be an integer.");
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Applies `fields` to `rule` (all keys optional; the lists given replace the stored ones).
fn apply(rule: &mut ChannelRule, fields: &Value) -> Result<(), ApiError> {
    if let Some(name) = string(fields, "NAME", MAX_NAME_CHARS)? {
        rule.name = name;
    }
    if let Some(v) = wire::php_get(fields, "SORT") {
        rule.sort = sort_value(v)?;
    }
    if let Some(v) = wire::php_get(fields, "ACTIVE") {
        rule.active = wire::yes_no(v).ok_or_else(|| invalid("Field ACTIVE must be Y or N."))?;
    }
    if let Some(code) = string(fields, "CHANNEL_GROUP", MAX_NAME_CHARS)? {
        rule.group = ChannelGroup::from_code(&code.to_ascii_lowercase()).ok_or_else(|| {
            invalid(format!(
                "Field CHANNEL_GROUP: unknown channel group `{code}` (see leadtrace.tracking.channel.list)."
            ))
        })?;
    }
    for field in RuleField::ALL {
        if let Some(v) = wire::php_get(fields, field.as_str()) {
            *rule.values_mut(field) = match_list(field.as_str(), v)?;
        }
    }
    Ok(())
}

fn needs_condition() -> ApiError {
    invalid(
        "A rule needs at least one condition: UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN or REF_DOMAIN.",
    )
}

/// `leadtrace.tracking.channel.rule.list`: every rule (active or not) in evaluation order.
pub async fn list<S: Storage>(s: &mut S, ctx: &Ctx<'_>) -> Result<Output, ApiError> {
    let rules = s.channel_rules(ctx.actor.portal_id).await?;
    let items: Vec<Value> = rules.iter().map(|r| rule_json(r, ctx)).collect();
    let total = items.len() as i64;
    Ok(Output::list(Value::Array(items), total, None))
}

/// `leadtrace.tracking.channel.rule.add` (`fields`): the new id.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let fields = fields_param(params)?;
    if wire::php_get(fields, "CHANNEL_GROUP").is_none() {
        return Err(invalid("Required field CHANNEL_GROUP is not specified."));
    }
    let mut rule = ChannelRule {
        created_at: ctx.now,
        ..ChannelRule::default()
    };
    apply(&mut rule, fields)?;
    if !rule.has_conditions() {
        return Err(needs_condition());
    }
    if s.channel_rules(ctx.actor.portal_id).await?.len() >= MAX_RULES {
        return Err(invalid(format!(
            "A portal has at most {MAX_RULES} channel rules."
        )));
    }
    let id = s.insert_channel_rule(ctx.actor.portal_id, &rule).await?;
    Ok(Output::from(Value::from(id)))
}

/// `leadtrace.tracking.channel.rule.update` (`id`, `fields`): `true`.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let id = record_id(params)?;
    let fields = fields_param(params)?;
    let Some(mut rule) = s
        .channel_rules(ctx.actor.portal_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
    else {
        return Err(ApiError::not_found());
    };
    apply(&mut rule, fields)?;
    if !rule.has_conditions() {
        return Err(needs_condition());
    }
    done_if_found(s.update_channel_rule(ctx.actor.portal_id, &rule).await?)
}

/// `leadtrace.tracking.channel.rule.delete` (`id`): `true`. Traces keep the group they got.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let id = record_id(params)?;
    done_if_found(s.delete_channel_rule(ctx.actor.portal_id, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::MatchValue;

    #[test]
    fn applying_fields() {
        let mut r = ChannelRule::default();
        apply(
            &mut r,
            &json!({"NAME": " Partners ", "SORT": "20", "ACTIVE": "N", "CHANNEL_GROUP": "Affiliates",
                    "UTM_SOURCE": ["partner", {"REGEXP": "^aff-"}], "REF_DOMAIN": "partner.example", "OTHER": 1}),
        )
        .unwrap();
        assert_eq!(r.name, "Partners");
        assert_eq!(r.sort, 20);
        assert!(!r.active);
        assert_eq!(r.group, ChannelGroup::Affiliates);
        assert_eq!(
            r.utm_source,
            vec![MatchValue::plain("partner"), MatchValue::regexp("^aff-")]
        );
        assert_eq!(r.ref_domain, vec![MatchValue::plain("partner.example")]);
        assert!(r.utm_medium.is_empty());
        // Lists not given stay; given ones are replaced.
        apply(&mut r, &json!({"UTM_SOURCE": [], "SORT": -5})).unwrap();
        assert!(r.utm_source.is_empty());
        assert_eq!(r.ref_domain.len(), 1);
        assert_eq!(r.sort, -5);
        assert!(r.has_conditions());
        apply(&mut r, &json!({"REF_DOMAIN": null})).unwrap();
        assert!(!r.has_conditions());
        for (bad, text) in [
            (json!({"SORT": "x"}), "Field SORT must be an integer."),
            (json!({"SORT": 1.5}), "Field SORT must be an integer."),
            (json!({"ACTIVE": "maybe"}), "Field ACTIVE must be Y or N."),
            (
                json!({"CHANNEL_GROUP": "paid"}),
                "Field CHANNEL_GROUP: unknown channel group `paid` (see leadtrace.tracking.channel.list).",
            ),
            (json!({"NAME": ["x"]}), "Field NAME must be a string."),
            (
                json!({"UTM_MEDIUM": [{"REGEXP": "("}]}),
                "Field UTM_MEDIUM: invalid regular expression `(`",
            ),
        ] {
            let e = apply(&mut r, &bad).unwrap_err();
            assert!(e.description().starts_with(text), "{bad}: {}", e.description());
        }
    }

    #[test]
    fn groups_list_every_code() {
        let out = groups().result;
        let codes: Vec<&str> = out
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["CODE"].as_str().unwrap())
            .collect();
        assert_eq!(codes.len(), 19);
        assert_eq!(codes[0], "direct");
        assert_eq!(codes[18], "unassigned");
        assert_eq!(out[3]["NAME"], json!("Paid Search"));
    }
}
