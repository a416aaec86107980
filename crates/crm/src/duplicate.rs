//! Duplicate search by phone or e-mail (`crm.duplicate.findbycomm`, system-methods.md §4) and the
//! comparison key multifield values are stored and searched under.
//!
//! Decision D16: phones compare by their digits (the extension left out), e-mails ignoring case.

use crate::actor::{Action, Level};
use crate::entity::EntityKind;
use crate::query::{CmpOp, Col, Cond, DbValue, ListQuery};
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};

/// At most this many values per call (docs: "Maximum number of values — 20").
pub const MAX_VALUES: usize = 20;

/// Ids returned per entity type; a type that reaches it ends the search (docs: "If 20 or more
/// duplicates are found for one object, the other types are not returned").
pub const LIMIT: i64 = 20;

/// The types searched, in the order they are searched and returned.
const SEARCHED: [EntityKind; 3] = [EntityKind::Lead, EntityKind::Contact, EntityKind::Company];

/// The key a multifield value is compared under: a phone's digits up to its extension, anything
/// else trimmed and lower-cased. Empty when a phone has no digits (it then never matches).
pub fn comm_key(type_id: &str, value: &str) -> String {
    if type_id == "PHONE" {
        phone_key(value)
    } else {
        value.trim().to_lowercase()
    }
}

/// Digits only; the extension (what follows a letter, `#`, `,` or `;` after the first digit,
/// as in `+1 555 0100 ext. 12`) is not part of the number.
fn phone_key(value: &str) -> String {
    let mut digits = String::new();
    for ch in value.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else if !digits.is_empty() && (ch.is_alphabetic() || matches!(ch, '#' | ',' | ';')) {
            break;
        }
    }
    digits
}

/// An error whose text the docs put in `error` (decision: the same text in both fields).
fn comm_error(text: String) -> ApiError {
    ApiError::coded(text.clone(), text, 400)
}

/// `crm.duplicate.findbycomm`: `{"LEAD": [ids], "CONTACT": [...], "COMPANY": [...]}` with only the
/// types that have matches, or `[]` when nothing matches.
pub async fn find_by_comm<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let given_type = wire::scalar(params, "type")
        .and_then(wire::strval)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::coded(
                "Communication type is not defined",
                "Parameter 'type' is required.",
                400,
            )
        })?;
    let type_id = given_type.to_ascii_uppercase();
    if type_id != "PHONE" && type_id != "EMAIL" {
        return Err(comm_error(format!(
            "Communication type '{given_type}' is not supported in current context"
        )));
    }
    let values: Vec<String> = match wire::scalar(params, "values") {
        None => vec![],
        Some(v) => match wire::php_values(v) {
            Some(list) => list.into_iter().filter_map(wire::strval).collect(),
            None => wire::strval(v).into_iter().collect(),
        },
    };
    if values.len() > MAX_VALUES {
        return Err(comm_error(format!(
            "Too many communication values. The maximum is {MAX_VALUES}."
        )));
    }
    let mut keys: Vec<String> = values
        .iter()
        .map(|v| comm_key(&type_id, v))
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    if values.iter().all(|v| v.trim().is_empty()) {
        return Err(comm_error("Communication values is not defined".into()));
    }

    let wanted: Vec<EntityKind> = match wire::scalar(params, "entity_type")
        .and_then(wire::strval)
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
    {
        None => SEARCHED.to_vec(),
        Some(name) => {
            let kind = SEARCHED
                .into_iter()
                .find(|k| k.code().eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    comm_error(format!(
                        "Entity type '{name}' is not supported in current context"
                    ))
                })?;
            vec![kind]
        }
    };
    let readable: Vec<(EntityKind, Level)> = wanted
        .iter()
        .map(|k| (*k, ctx.actor.level(*k, Action::Read)))
        .filter(|(_, level)| *level != Level::None)
        .collect();
    if readable.is_empty() {
        return Err(ApiError::coded("ACCESS_DENIED", "Access denied", 403));
    }

    let mut found = Map::new();
    for (kind, level) in readable {
        // Types without records yet (no field table) have nothing to find.
        if kind.fields().is_empty() || keys.is_empty() {
            continue;
        }
        let ids = match level {
            Level::Own => own_matches(s, ctx, kind, &type_id, &keys).await?,
            _ => {
                s.find_by_comm(kind, ctx.actor.portal_id, &type_id, &keys, Some(LIMIT))
                    .await?
            }
        };
        if ids.is_empty() {
            continue;
        }
        let full = ids.len() as i64 >= LIMIT;
        found.insert(
            kind.code().to_string(),
            Value::Array(ids.into_iter().map(Value::from).collect()),
        );
        if full {
            break;
        }
    }
    Ok(Output::from(if found.is_empty() {
        Value::Array(vec![])
    } else {
        Value::Object(found)
    }))
}

/// Matches among the caller's own records (level `Own`: `ASSIGNED_BY_ID` is the caller).
async fn own_matches<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    type_id: &str,
    keys: &[String],
) -> Result<Vec<i64>, ApiError> {
    let ids = s
        .find_by_comm(kind, ctx.actor.portal_id, type_id, keys, None)
        .await?;
    let Some(assigned) = kind.field("ASSIGNED_BY_ID").and_then(|f| f.column) else {
        return Ok(vec![]);
    };
    let id_column = kind.field("ID").and_then(|f| f.column).unwrap_or("id");
    if ids.is_empty() {
        return Ok(ids);
    }
    let query = ListQuery {
        kind,
        portal_id: ctx.actor.portal_id,
        filter: Cond::And(vec![
            Cond::In {
                col: Col::Column(id_column),
                values: ids.into_iter().map(DbValue::Int).collect(),
                ci: false,
            },
            Cond::Cmp {
                col: Col::Column(assigned),
                op: CmpOp::Eq,
                value: DbValue::Int(ctx.actor.user_id),
                ci: false,
            },
        ]),
        order: vec![],
        columns: vec![],
        with_uf: false,
        offset: 0,
        limit: Some(LIMIT),
    };
    Ok(s.list_entities(&query)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_keys_are_digits_without_extension() {
        assert_eq!(comm_key("PHONE", "+1 (555) 010-0100"), "15550100100");
        assert_eq!(comm_key("PHONE", "15550100100"), "15550100100");
        assert_eq!(comm_key("PHONE", "+1 555 0100 ext. 12"), "15550100");
        assert_eq!(comm_key("PHONE", "555-0100#12"), "5550100");
        assert_eq!(comm_key("PHONE", "tel: 555 0100"), "5550100");
        assert_eq!(comm_key("PHONE", "none"), "");
    }

    #[test]
    fn other_keys_ignore_case_and_edges() {
        assert_eq!(comm_key("EMAIL", "  John@Example.COM "), "john@example.com");
        assert_eq!(comm_key("EMAIL", "ÄRGER@x.de"), "ärger@x.de");
        assert_eq!(comm_key("WEB", "Example.com"), "example.com");
    }
}
