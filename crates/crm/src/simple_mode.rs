//! Simple CRM mode (leads.md §3.14): a portal without leads. A lead added through REST is
//! converted at once into a deal (with a contact and a company made from its data) and is then
//! absent: `crm.lead.get` cannot find it, lists are empty, updates and deletes answer `Not found`.
//!
//! The portal's mode is a setting (`leadtrace portal set --crm-mode simple|classic`); the
//! handlers pick these functions for leads when it is `simple`.

use crate::binding::{self, OwnerColumn, Relation};
use crate::engine;
use crate::entity::EntityKind;
use crate::query::{Binding, DbValue};
use crate::storage::Storage;
use crate::tracking::{self, Tracking};
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};

/// How the portal's CRM works (`crm.settings.mode.get`: 1 classic, 2 simple).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrmMode {
    #[default]
    Classic,
    Simple,
}

impl CrmMode {
    /// The stored setting; anything unknown is classic.
    pub fn of(setting: &str) -> CrmMode {
        CrmMode::parse(setting).unwrap_or_default()
    }

    pub fn parse(s: &str) -> Option<CrmMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            // The numbers are `crm.enum.settings.mode`'s ids, accepted in a stored setting too.
            "classic" | "1" => Some(CrmMode::Classic),
            "simple" | "2" => Some(CrmMode::Simple),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CrmMode::Classic => "classic",
            CrmMode::Simple => "simple",
        }
    }

    /// `crm.settings.mode.get`'s number.
    pub fn code(self) -> i64 {
        match self {
            CrmMode::Classic => 1,
            CrmMode::Simple => 2,
        }
    }

    /// Whether records of `kind` are absent in this mode.
    pub fn hides(self, kind: EntityKind) -> bool {
        self == CrmMode::Simple && kind == EntityKind::Lead
    }
}

/// `crm.lead.get` / `crm.lead.delete` with no leads: the same parameter check, then `Not found`.
pub fn get_or_delete(params: &Params) -> Result<Output, ApiError> {
    engine::record_id(params)?;
    Err(ApiError::not_found())
}

/// `crm.lead.update` with no leads.
pub fn update(params: &Params) -> Result<Output, ApiError> {
    engine::record_id(params)?;
    engine::required_fields(params)?;
    Err(ApiError::not_found())
}

/// `crm.lead.list` with no leads: the same parameter checks, then an empty page.
pub fn list(params: &Params) -> Result<Output, ApiError> {
    engine::array_param(params, "order", text::ORDER_MUST_BE_ARRAY)?;
    engine::array_param(params, "filter", text::FILTER_MUST_BE_ARRAY)?;
    Ok(Output::list(Value::Array(vec![]), 0, None))
}

/// Lead fields a converted lead hands to the new contact, company and deal.
const PERSON: [&str; 19] = [
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "BIRTHDATE",
    "POST",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "COMMENTS",
    "OPENED",
];
const SHARED: [&str; 8] = [
    "ASSIGNED_BY_ID",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
];
const DEAL: [&str; 8] = [
    "TITLE",
    "OPPORTUNITY",
    "CURRENCY_ID",
    "IS_MANUAL_OPPORTUNITY",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "COMMENTS",
    "OPENED",
];
const MULTIFIELDS: [&str; 5] = ["PHONE", "EMAIL", "WEB", "IM", "LINK"];

fn has_text(lead: &Value, name: &str) -> bool {
    lead.get(name)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

/// The lead's values of `names` that are set (legacy output is valid input again).
fn copy(lead: &Value, names: &[&str], into: &mut Map<String, Value>) {
    for name in names {
        match lead.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => {
                into.insert(name.to_string(), v.clone());
            }
        }
    }
}

fn id_of(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_i64())
        .filter(|i| *i > 0)
}

async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    fields: Map<String, Value>,
    lead_id: i64,
) -> Result<i64, ApiError> {
    let mut params = Params::new();
    params.insert("fields".into(), Value::Object(fields));
    // The lead's trace is shared afterwards (`add_lead`); these records make none of their own.
    let id = engine::add_with(s, ctx, kind, &params, Tracking::Off)
        .await?
        .result
        .as_i64()
        .unwrap_or_default();
    // LEAD_ID is read-only for clients; the conversion records where the record came from.
    engine::set_fields(
        s,
        ctx,
        kind,
        id,
        vec![("LEAD_ID", DbValue::Int(lead_id))],
        false,
    )
    .await?;
    Ok(id)
}

/// `crm.lead.add` in simple mode: the lead is stored already converted (`STATUS_ID =
/// CONVERTED`), and a deal is made from it with `LEAD_ID` pointing back, bound to the lead's
/// contact and company — existing ones (`CONTACT_ID`/`COMPANY_ID`) or new ones made from its
/// name fields, communications and `COMPANY_TITLE`. Answers the lead's id, as Bitrix24 does.
pub async fn add_lead<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    // The same parameter errors as classic mode, before anything is made.
    let fields = engine::required_fields(params)?.clone();
    let mut fields = match fields {
        Value::Object(m) => m,
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Map::new(),
    };
    fields.retain(|k, _| k != "STATUS_ID");
    fields.insert("STATUS_ID".into(), Value::String("CONVERTED".into()));
    let mut call = Params::new();
    call.insert("fields".into(), Value::Object(fields));
    if let Some(options) = wire::legacy(params, "params") {
        call.insert("params".into(), options.clone());
    }
    let out = engine::add(s, ctx, EntityKind::Lead, &call).await?;
    let Some(lead_id) = out.result.as_i64() else {
        return Ok(out);
    };
    let Some(lead) = engine::legacy_record(s, ctx, EntityKind::Lead, lead_id).await? else {
        return Ok(out);
    };

    let mut company = lead.get("COMPANY_ID").and_then(id_of);
    if company.is_none() && has_text(&lead, "COMPANY_TITLE") {
        let mut f = Map::new();
        f.insert("TITLE".into(), lead["COMPANY_TITLE"].clone());
        copy(&lead, &["OPENED"], &mut f);
        copy(&lead, &SHARED, &mut f);
        company = Some(add(s, ctx, EntityKind::Company, f, lead_id).await?);
    }
    let mut contact = lead.get("CONTACT_ID").and_then(id_of);
    let person = ["NAME", "SECOND_NAME", "LAST_NAME"]
        .iter()
        .any(|n| has_text(&lead, n))
        || MULTIFIELDS.iter().any(|m| lead.get(*m).is_some());
    if contact.is_none() && person {
        let mut f = Map::new();
        copy(&lead, &PERSON, &mut f);
        copy(&lead, &SHARED, &mut f);
        for m in MULTIFIELDS {
            if let Some(values) = lead.get(m).and_then(Value::as_array) {
                // New values for the contact: the lead's value ids are not the contact's.
                let fresh: Vec<Value> = values
                    .iter()
                    .map(
                        |v| serde_json::json!({"VALUE": v["VALUE"], "VALUE_TYPE": v["VALUE_TYPE"]}),
                    )
                    .collect();
                f.insert(m.into(), Value::Array(fresh));
            }
        }
        if let Some(co) = company {
            f.insert("COMPANY_IDS".into(), Value::from(vec![co]));
        }
        contact = Some(add(s, ctx, EntityKind::Contact, f, lead_id).await?);
    }
    let mut f = Map::new();
    copy(&lead, &DEAL, &mut f);
    copy(&lead, &SHARED, &mut f);
    if let Some(co) = company {
        f.insert("COMPANY_ID".into(), Value::from(co));
    }
    if let Some(c) = contact {
        f.insert("CONTACT_IDS".into(), Value::from(vec![c]));
    }
    let deal = add(s, ctx, EntityKind::Deal, f, lead_id).await?;
    // The deal and its clients carry the lead's trace, as a REST-made deal binds its clients.
    let shared: Vec<(EntityKind, i64)> = std::iter::once((EntityKind::Deal, deal))
        .chain(contact.map(|c| (EntityKind::Contact, c)))
        .chain(company.map(|c| (EntityKind::Company, c)))
        .collect();
    tracking::service::share_trace(s, ctx, (EntityKind::Lead, lead_id), &shared).await?;

    // The converted lead keeps its links to the new contact and company.
    if let Some(c) = contact {
        let rel = Relation::new(EntityKind::Lead, EntityKind::Contact);
        let old = s
            .bindings(
                EntityKind::Lead,
                ctx.actor.portal_id,
                lead_id,
                EntityKind::Contact,
            )
            .await?;
        let new = binding::upsert(
            &old,
            Binding {
                id: c,
                sort: binding::DEFAULT_SORT,
                primary: true,
            },
        );
        binding::save(
            s,
            ctx,
            rel,
            lead_id,
            &old,
            &new,
            OwnerColumn::Update { touch: false },
        )
        .await?;
    }
    if let Some(co) = company {
        engine::set_fields(
            s,
            ctx,
            EntityKind::Lead,
            lead_id,
            vec![("COMPANY_ID", DbValue::Int(co))],
            false,
        )
        .await?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(CrmMode::of("simple"), CrmMode::Simple);
        assert_eq!(CrmMode::of(" Classic "), CrmMode::Classic);
        assert_eq!(CrmMode::of("whatever"), CrmMode::Classic);
        assert_eq!(CrmMode::parse("nope"), None);
        assert_eq!((CrmMode::Classic.code(), CrmMode::Simple.code()), (1, 2));
        assert!(CrmMode::Simple.hides(EntityKind::Lead));
        assert!(!CrmMode::Simple.hides(EntityKind::Deal));
        assert!(!CrmMode::Classic.hides(EntityKind::Lead));
        assert_eq!(CrmMode::Simple.as_str(), "simple");
    }

    #[test]
    fn absent_lead_answers() {
        let p = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            get_or_delete(&p(serde_json::json!({"id": 0}))).unwrap_err(),
            ApiError::id_not_defined()
        );
        assert_eq!(
            get_or_delete(&p(serde_json::json!({"id": 5}))).unwrap_err(),
            ApiError::not_found()
        );
        assert_eq!(
            update(&p(serde_json::json!({"id": 5}))).unwrap_err(),
            ApiError::legacy(text::FIELDS_MUST_BE_ARRAY)
        );
        assert_eq!(
            update(&p(serde_json::json!({"id": 5, "fields": {}}))).unwrap_err(),
            ApiError::not_found()
        );
        assert_eq!(
            list(&p(serde_json::json!({"filter": "x"}))).unwrap_err(),
            ApiError::legacy(text::FILTER_MUST_BE_ARRAY)
        );
        let out = list(&p(serde_json::json!({}))).unwrap();
        assert_eq!(out.result, Value::Array(vec![]));
    }
}
