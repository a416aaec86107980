//! Status dictionaries (`crm.status.*`, system-methods.md §2): the default entries a new portal
//! gets, their legacy formatting, and the methods that read and change them.
//!
//! Dictionaries are small, so `crm.status.list` filters and sorts in memory with the legacy
//! filter grammar and the shared evaluator.

use crate::entity::EntityKind;
use crate::eval::{self, RowAccess};
use crate::field::{FieldDef, FieldKind, FieldKind as K};
use crate::filter;
use crate::query::{CmpOp, Col, Cond, DbValue, ListQuery, Status};
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// One default dictionary entry; the store inserts these with `SYSTEM = Y` for a new portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSeed {
    pub entity_id: &'static str,
    pub status_id: &'static str,
    pub name: &'static str,
    pub sort: i64,
    /// `S` success, `F` failure, `None` in progress.
    pub semantics: Option<&'static str>,
    pub color: Option<&'static str>,
}

const fn seed(
    entity_id: &'static str,
    status_id: &'static str,
    name: &'static str,
    sort: i64,
    semantics: Option<&'static str>,
    color: Option<&'static str>,
) -> StatusSeed {
    StatusSeed {
        entity_id,
        status_id,
        name,
        sort,
        semantics,
        color,
    }
}

/// Entries without semantics or colour (plain dictionaries).
fn plain(entity_id: &'static str, entries: &[(&'static str, &'static str)]) -> Vec<StatusSeed> {
    entries
        .iter()
        .zip(1..)
        .map(|((id, name), i)| seed(entity_id, id, name, i * 10, None, None))
        .collect()
}

const S: Option<&str> = Some("S");
const F: Option<&str> = Some("F");

/// The default dictionaries of a new portal.
pub fn seeds() -> Vec<StatusSeed> {
    let mut out = vec![
        // Lead stages (leads.md §3.3).
        seed("STATUS", "NEW", "Unprocessed", 10, None, Some("#39A8EF")),
        seed(
            "STATUS",
            "IN_PROCESS",
            "In process",
            20,
            None,
            Some("#2FC6F6"),
        ),
        seed(
            "STATUS",
            "PROCESSED",
            "Processed",
            30,
            None,
            Some("#55D0E0"),
        ),
        seed("STATUS", "CONVERTED", "Qualified", 40, S, Some("#7BD500")),
        seed("STATUS", "JUNK", "Junk", 50, F, Some("#FF5752")),
        // Deal stages of pipeline 0 (entities.md §2).
        seed("DEAL_STAGE", "NEW", "New", 10, None, Some("#39A8EF")),
        seed(
            "DEAL_STAGE",
            "PREPARATION",
            "Document preparation",
            20,
            None,
            Some("#2FC6F6"),
        ),
        seed(
            "DEAL_STAGE",
            "PREPAYMENT_INVOICE",
            "Prepayment invoice",
            30,
            None,
            Some("#55D0E0"),
        ),
        seed(
            "DEAL_STAGE",
            "EXECUTING",
            "In progress",
            40,
            None,
            Some("#47E4C2"),
        ),
        seed(
            "DEAL_STAGE",
            "FINAL_INVOICE",
            "Final invoice",
            50,
            None,
            Some("#FFA900"),
        ),
        seed(
            "DEAL_STAGE",
            "WON",
            "Deal successful",
            60,
            S,
            Some("#7BD500"),
        ),
        seed("DEAL_STAGE", "LOSE", "Deal failed", 70, F, Some("#FF5752")),
        seed(
            "DEAL_STAGE",
            "APOLOGY",
            "Failure reason analysis",
            80,
            F,
            Some("#FF5752"),
        ),
        // Quote stages (entities.md §5; `DECLAINED` is Bitrix24's historic spelling).
        seed("QUOTE_STATUS", "DRAFT", "New", 10, None, Some("#39A8EF")),
        seed(
            "QUOTE_STATUS",
            "SENT",
            "Sent to client",
            20,
            None,
            Some("#2FC6F6"),
        ),
        seed(
            "QUOTE_STATUS",
            "RECEIVED",
            "Received",
            30,
            None,
            Some("#55D0E0"),
        ),
        seed(
            "QUOTE_STATUS",
            "APPROVED",
            "Approved",
            40,
            S,
            Some("#7BD500"),
        ),
        seed(
            "QUOTE_STATUS",
            "DECLAINED",
            "Declined",
            50,
            F,
            Some("#FF5752"),
        ),
    ];
    // Sources (leads.md §3.4).
    out.extend(plain(
        "SOURCE",
        &[
            ("CALL", "Call"),
            ("EMAIL", "E-mail"),
            ("WEB", "Website"),
            ("ADVERTISING", "Advertising"),
            ("PARTNER", "Existing client"),
            ("RECOMMENDATION", "By recommendation"),
            ("TRADE_SHOW", "Trade show"),
            ("WEBFORM", "CRM form"),
            ("CALLBACK", "Callback"),
            ("RC_GENERATOR", "Sales generator"),
            ("STORE", "Online store"),
            ("OTHER", "Other"),
        ],
    ));
    // Salutations (leads.md §3.5).
    out.extend(plain(
        "HONORIFIC",
        &[
            ("HNR_EN_1", "Mr."),
            ("HNR_EN_2", "Mrs."),
            ("HNR_EN_3", "Ms."),
            ("HNR_EN_4", "Dr."),
        ],
    ));
    // The ids below are the ones entities.md names as examples; the names are our wording, as the
    // spec gives none.
    out.extend(plain(
        "DEAL_TYPE",
        &[
            ("SALE", "Sales"),
            ("COMPLEX", "Complex sale"),
            ("GOODS", "Sale of goods"),
            ("SERVICES", "Sale of services"),
            ("SERVICE", "After-sales service"),
        ],
    ));
    out.extend(plain(
        "CONTACT_TYPE",
        &[
            ("CLIENT", "Clients"),
            ("SUPPLIER", "Suppliers"),
            ("PARTNER", "Partners"),
            ("OTHER", "Other"),
        ],
    ));
    out.extend(plain(
        "COMPANY_TYPE",
        &[
            ("CUSTOMER", "Client"),
            ("SUPPLIER", "Supplier"),
            ("COMPETITOR", "Competitor"),
            ("PARTNER", "Partner"),
            ("OTHER", "Other"),
        ],
    ));
    // entities.md names only `IT` and `MANUFACTURING`; the rest is a small sensible seed of ours.
    out.extend(plain(
        "INDUSTRY",
        &[
            ("IT", "Information technology"),
            ("TELECOM", "Telecommunications"),
            ("MANUFACTURING", "Manufacturing"),
            ("BANKING", "Banking"),
            ("CONSULTING", "Consulting"),
            ("FINANCE", "Finance"),
            ("GOVERNMENT", "Government"),
            ("DELIVERY", "Delivery"),
            ("ENTERTAINMENT", "Entertainment"),
            ("NOTPROFIT", "Non-profit"),
            ("OTHER", "Other"),
        ],
    ));
    out.extend(plain(
        "EMPLOYEES",
        &[
            ("EMPLOYEES_1", "fewer than 50"),
            ("EMPLOYEES_2", "50-250"),
            ("EMPLOYEES_3", "250-500"),
            ("EMPLOYEES_4", "more than 500"),
        ],
    ));
    out
}

/// Stage dictionaries and their main stages (`SEMANTIC_INFO` of `crm.status.entity.types`).
struct SemanticInfo {
    entity_id: &'static str,
    start: &'static str,
    success: &'static str,
    failure: &'static str,
}

const STAGE_DICTIONARIES: [SemanticInfo; 3] = [
    SemanticInfo {
        entity_id: "STATUS",
        start: "NEW",
        success: "CONVERTED",
        failure: "JUNK",
    },
    SemanticInfo {
        entity_id: "DEAL_STAGE",
        start: "NEW",
        success: "WON",
        failure: "LOSE",
    },
    SemanticInfo {
        entity_id: "QUOTE_STATUS",
        start: "DRAFT",
        success: "APPROVED",
        failure: "DECLAINED",
    },
];

fn semantic_info(entity_id: &str) -> Option<&'static SemanticInfo> {
    STAGE_DICTIONARIES.iter().find(|s| s.entity_id == entity_id)
}

/// `EXTRA.SEMANTICS`: `apology` is a failure stage other than the dictionary's main one.
fn extra_semantics(st: &Status, info: &SemanticInfo) -> &'static str {
    match st.semantics.as_deref() {
        Some("S") => "success",
        Some("F") if st.status_id == info.failure => "failure",
        Some("F") => "apology",
        _ => "process",
    }
}

fn opt_string(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// One entry in legacy form (system-methods.md §2). `EXTRA` is emitted for stage dictionaries,
/// the ones that have semantics.
pub fn format_status(st: &Status) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), Value::String(st.id.to_string()));
    m.insert("ENTITY_ID".into(), Value::String(st.entity_id.clone()));
    m.insert("STATUS_ID".into(), Value::String(st.status_id.clone()));
    m.insert("NAME".into(), Value::String(st.name.clone()));
    m.insert("NAME_INIT".into(), Value::String(st.name_init.clone()));
    m.insert("SORT".into(), Value::String(st.sort.to_string()));
    m.insert(
        "SYSTEM".into(),
        Value::String(if st.system { "Y" } else { "N" }.into()),
    );
    m.insert(
        "CATEGORY_ID".into(),
        st.category_id
            .map_or(Value::Null, |c| Value::String(c.to_string())),
    );
    m.insert("COLOR".into(), opt_string(st.color.as_deref()));
    m.insert("SEMANTICS".into(), opt_string(st.semantics.as_deref()));
    if let Some(info) = semantic_info(&st.entity_id) {
        m.insert(
            "EXTRA".into(),
            json!({"SEMANTICS": extra_semantics(st, info), "COLOR": opt_string(st.color.as_deref())}),
        );
    }
    Value::Object(m)
}

/// The filterable/sortable fields of an entry, as a field table for the legacy filter parser.
static STATUS_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id"),
    FieldDef::new("ENTITY_ID", K::String, "Entity ID", "entity_id"),
    FieldDef::new("STATUS_ID", K::String, "Status", "status_id"),
    FieldDef::new("NAME", K::String, "Name", "name"),
    FieldDef::new("NAME_INIT", K::String, "Default Name", "name_init"),
    FieldDef::new("SORT", K::Integer, "Sorting", "sort"),
    FieldDef::new("SYSTEM", K::Char, "System", "system"),
    FieldDef::new("CATEGORY_ID", K::Integer, "CATEGORY_ID", "category_id"),
    FieldDef::new("COLOR", K::String, "COLOR", "color"),
    FieldDef::new("SEMANTICS", K::String, "SEMANTICS", "semantics"),
];

struct StatusRow<'a>(&'a Status);

impl RowAccess for StatusRow<'_> {
    fn value(&self, col: &Col) -> DbValue {
        let st = self.0;
        let text = |s: &str| DbValue::Text(s.to_string());
        let opt = |s: Option<&str>| s.map_or(DbValue::Null, |s| DbValue::Text(s.to_string()));
        match col {
            Col::Column("id") => DbValue::Int(st.id),
            Col::Column("entity_id") => text(&st.entity_id),
            Col::Column("status_id") => text(&st.status_id),
            Col::Column("name") => text(&st.name),
            Col::Column("name_init") => text(&st.name_init),
            Col::Column("sort") => DbValue::Int(st.sort),
            Col::Column("system") => text(if st.system { "Y" } else { "N" }),
            Col::Column("category_id") => st.category_id.map_or(DbValue::Null, DbValue::Int),
            Col::Column("color") => opt(st.color.as_deref()),
            Col::Column("semantics") => opt(st.semantics.as_deref()),
            _ => DbValue::Null,
        }
    }

    fn multifield_values(&self, _type_id: &str) -> Vec<String> {
        vec![]
    }
}

/// `crm.status.list`: all matching entries (no paging) with `total`.
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let order = match wire::legacy(params, "order") {
        Some(v) if !wire::is_php_array(v) => {
            return Err(ApiError::legacy(text::ORDER_MUST_BE_ARRAY))
        }
        other => other,
    };
    let filter = match wire::legacy(params, "filter") {
        Some(v) if !wire::is_php_array(v) => {
            return Err(ApiError::legacy(text::FILTER_MUST_BE_ARRAY))
        }
        other => other,
    };
    let empty = Value::Object(Map::new());
    let filter = filter.unwrap_or(&empty);
    let parsed =
        filter::parse_legacy_filter(STATUS_FIELDS, &[], filter, ctx.settings.time_zone, ctx.now);
    if !parsed.dropped.is_empty() || !parsed.notes.is_empty() {
        tracing::warn!(method = "crm.status.list", dropped = ?parsed.dropped, notes = ?parsed.notes, "legacy filter: keys dropped or reinterpreted");
    }
    // The common `filter[ENTITY_ID]=…` narrows the read; the full filter still applies below.
    let entity_id = wire::php_get(filter, "ENTITY_ID")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    let all = s
        .statuses(ctx.actor.portal_id, entity_id.as_deref())
        .await?;
    let mut entries: Vec<&Status> = all
        .iter()
        .filter(|st| eval::matches(&parsed.cond, &StatusRow(st)))
        .collect();

    let keys: Vec<(&'static str, bool)> = wire::php_entries(order.unwrap_or(&empty))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, dir)| {
            let column = STATUS_FIELDS
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.column)?;
            Some((
                column,
                dir.as_str()
                    .is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC")),
            ))
        })
        .collect();
    if !keys.is_empty() {
        // Stable: ties keep the store's SORT, id order.
        entries.sort_by(|a, b| {
            for (column, desc) in &keys {
                let col = Col::Column(column);
                let ord = eval::sort_cmp(&StatusRow(a).value(&col), &StatusRow(b).value(&col));
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let items: Vec<Value> = entries.iter().map(|st| format_status(st)).collect();
    let total = items.len() as i64;
    Ok(Output::list(Value::Array(items), total, None))
}

/// `crm.status.entity.items`: `[{"NAME", "SORT" (a number here), "STATUS_ID"}]` of one dictionary.
pub async fn entity_items<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let entity_id = wire::scalar(params, "entityId")
        .and_then(wire::strval)
        .map(|e| e.trim().to_ascii_uppercase())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::legacy("The parameter entityId is not defined or invalid."))?;
    let entries = s.statuses(ctx.actor.portal_id, Some(&entity_id)).await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|st| json!({"NAME": st.name, "SORT": st.sort, "STATUS_ID": st.status_id}))
        .collect();
    Ok(Output::from(Value::Array(items)))
}

/// `crm.status.entity.types` (system-methods.md §2).
pub fn entity_types() -> Value {
    let info = |i: &SemanticInfo| json!({"START_FIELD": i.start, "FINAL_SUCCESS_FIELD": i.success, "FINAL_UNSUCCESS_FIELD": i.failure, "FINAL_SORT": 0});
    let [lead, deal, quote] = &STAGE_DICTIONARIES;
    json!([
        {"ID": "STATUS", "NAME": "Lead stages", "SEMANTIC_INFO": info(lead), "ENTITY_TYPE_ID": 1},
        {"ID": "SOURCE", "NAME": "Sources"},
        {"ID": "CONTACT_TYPE", "NAME": "Contact type"},
        {"ID": "COMPANY_TYPE", "NAME": "Company type"},
        {"ID": "EMPLOYEES", "NAME": "Number of employees"},
        {"ID": "INDUSTRY", "NAME": "Industry"},
        {"ID": "DEAL_TYPE", "NAME": "Deal type"},
        {"ID": "DEAL_STAGE", "NAME": "General deal stages", "SEMANTIC_INFO": info(deal), "FIELD_ATTRIBUTE_SCOPE": "", "ENTITY_TYPE_ID": 2, "CATEGORY_ID": 0},
        {"ID": "QUOTE_STATUS", "NAME": "Quote stages", "SEMANTIC_INFO": info(quote), "ENTITY_TYPE_ID": 7},
        {"ID": "HONORIFIC", "NAME": "Inquiries"},
        {"ID": "CALL_LIST", "NAME": "Call statuses"}
    ])
}

/// `crm.status.fields` (system-methods.md §2). Fields without a documented caption are titled
/// with their code, as Bitrix24 does for uncaptioned fields.
pub fn fields() -> Value {
    let f = |ty: &str, required: bool, read_only: bool, immutable: bool, title: &str| {
        json!({"type": ty, "isRequired": required, "isReadOnly": read_only, "isImmutable": immutable,
               "isMultiple": false, "isDynamic": false, "title": title})
    };
    let mut m = Map::new();
    m.insert("ID".into(), f("integer", false, true, false, "ID"));
    m.insert(
        "ENTITY_ID".into(),
        f("string", true, false, true, "Entity ID"),
    );
    m.insert("STATUS_ID".into(), f("string", true, false, true, "Status"));
    m.insert("SORT".into(), f("integer", false, false, false, "Sorting"));
    m.insert("NAME".into(), f("string", true, false, false, "Name"));
    m.insert(
        "NAME_INIT".into(),
        f("string", false, true, false, "Default Name"),
    );
    m.insert("SYSTEM".into(), f("char", false, true, false, "System"));
    m.insert(
        "CATEGORY_ID".into(),
        f("integer", false, false, true, "CATEGORY_ID"),
    );
    m.insert("COLOR".into(), f("string", false, false, false, "COLOR"));
    m.insert(
        "SEMANTICS".into(),
        f("char", false, false, true, "SEMANTICS"),
    );
    m.insert(
        "EXTRA".into(),
        f("crm_status_extra", false, false, false, "Additional Fields"),
    );
    Value::Object(m)
}

/// Error texts of `crm.status.*` (system-methods.md §2; decision D15: all HTTP 400 with an empty
/// code, except a duplicate id, which is `ERROR_CORE`).
pub mod texts {
    pub const INVALID_PARAMETERS: &str = "Invalid parameters.";
    pub const INVALID_IDENTIFIER: &str = "Invalid identifier.";
    pub const NOT_FOUND: &str = "Status is not found.";
    pub const ENTITY_ID_REQUIRED: &str = "The field ENTITY_ID is required.";
    pub const STATUS_ID_REQUIRED: &str = "The field STATUS_ID is required.";
    pub const NOT_SUPPORTED: &str = "Specified entity type is not supported.";
    pub const TITLE_REQUIRED: &str = "The field Title is required.";
    pub const AFTER_FINAL: &str = "Cannot create more stages after the final stage because the final successful stage already exists. Try using sort order values less than that of the final stage.";
    pub const ERROR_CREATING: &str = "Error on creating status.";
    pub const ERROR_UPDATING: &str = "Error on updating status.";
    pub const ERROR_DELETING: &str = "Error on deleting status.";
    pub const SYSTEM_NEEDS_FORCED: &str =
        "CRM System Status can be deleted only if parameter FORCED is specified and equal to \"Y\".";
    pub const ACTIVE_ITEMS: &str = "There are active items in this status.";
    pub const DUPLICATE: &str = "The specified status ID already exists.";
}

/// Dictionaries entries can be added to: the ones `crm.status.entity.types` lists.
fn supported_entity_id(given: &str) -> Option<String> {
    entity_types()
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["ID"].as_str())
        .find(|id| id.eq_ignore_ascii_case(given.trim()))
        .map(str::to_string)
}

/// Whether `STATUS_ID` fits its dictionary (crm-status-add.md "Restrictions for STATUS_ID"):
/// stage ids are Latin letters, digits, `-` and `_`, at most 21 (lead) or 22 (deal, quote)
/// characters; other dictionaries take any text up to 50 characters.
fn valid_status_id(entity_id: &str, status_id: &str) -> bool {
    let max = match entity_id {
        "STATUS" => 21,
        "DEAL_STAGE" | "QUOTE_STATUS" => 22,
        _ => return status_id.chars().count() <= 50,
    };
    status_id.len() <= max
        && status_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The numeric `id` of get/update/delete.
fn entry_id(params: &Params) -> Result<i64, ApiError> {
    match wire::id(params) {
        id if id > 0 => Ok(id),
        _ => Err(ApiError::legacy(texts::INVALID_IDENTIFIER)),
    }
}

/// Changing dictionaries needs the right to change CRM settings (administrators here).
fn require_admin(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.actor.rights.admin {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

/// A scalar text of `fields`; `None` when absent, null or an array.
fn field_text(fields: &Value, name: &str) -> Option<String> {
    wire::php_get(fields, name)
        .filter(|v| !wire::is_php_array(v))
        .and_then(wire::strval)
}

/// `SEMANTICS` as given (`S`, `F`; anything else is "in progress"), or from `EXTRA.SEMANTICS`
/// (`success`, `failure`, `apology`).
fn semantics_of(fields: &Value) -> Option<String> {
    if let Some(s) = field_text(fields, "SEMANTICS") {
        return match s.trim().to_ascii_uppercase().as_str() {
            "S" => Some("S".into()),
            "F" => Some("F".into()),
            _ => None,
        };
    }
    let extra = wire::php_get(fields, "EXTRA")?;
    match field_text(extra, "SEMANTICS")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "success" => Some("S".into()),
        "failure" | "apology" => Some("F".into()),
        _ => None,
    }
}

/// `COLOR`, or `EXTRA.COLOR`; empty means none.
fn color_of(fields: &Value) -> Option<Option<String>> {
    let given = field_text(fields, "COLOR")
        .or_else(|| wire::php_get(fields, "EXTRA").and_then(|extra| field_text(extra, "COLOR")))?;
    let given = given.trim().to_string();
    Some((!given.is_empty()).then_some(given))
}

/// `crm.status.get`: one entry by its numeric id.
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = entry_id(params)?;
    let st = s
        .status(ctx.actor.portal_id, id)
        .await?
        .ok_or_else(|| ApiError::legacy(texts::NOT_FOUND))?;
    Ok(Output::from(format_status(&st)))
}

/// `crm.status.add`: a new entry (`SYSTEM = N`, `NAME_INIT` empty); its id as an integer.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let fields = match wire::legacy(params, "fields") {
        Some(v) if wire::is_php_array(v) => v,
        _ => return Err(ApiError::legacy(text::FIELDS_MUST_BE_ARRAY)),
    };
    require_admin(ctx)?;
    let entity_id = field_text(fields, "ENTITY_ID")
        .map(|e| e.trim().to_string())
        .unwrap_or_default();
    let status_id = field_text(fields, "STATUS_ID")
        .map(|e| e.trim().to_string())
        .unwrap_or_default();
    // Both missing: both texts in one answer, as the docs say.
    let missing: Vec<&str> = [
        (entity_id.is_empty(), texts::ENTITY_ID_REQUIRED),
        (status_id.is_empty(), texts::STATUS_ID_REQUIRED),
    ]
    .into_iter()
    .filter_map(|(absent, t)| absent.then_some(t))
    .collect();
    if !missing.is_empty() {
        return Err(ApiError::legacy(missing.join("<br>")));
    }
    let entity_id =
        supported_entity_id(&entity_id).ok_or_else(|| ApiError::legacy(texts::NOT_SUPPORTED))?;
    let name = field_text(fields, "NAME")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::legacy(texts::TITLE_REQUIRED))?;
    if !valid_status_id(&entity_id, &status_id) {
        return Err(ApiError::legacy(texts::ERROR_CREATING));
    }
    let portal = ctx.actor.portal_id;
    let existing = s.statuses(portal, Some(&entity_id)).await?;
    // Ids are matched ignoring case elsewhere (record values), so they must be unique that way.
    if existing
        .iter()
        .any(|e| e.status_id.eq_ignore_ascii_case(&status_id))
    {
        return Err(ApiError::core(texts::DUPLICATE));
    }
    let sort = wire::php_get(fields, "SORT")
        .filter(|v| !v.is_null() && !wire::is_php_array(v))
        .map(wire::intval)
        .unwrap_or(10);
    let is_stage = semantic_info(&entity_id).is_some();
    let semantics = if is_stage { semantics_of(fields) } else { None };
    if is_stage {
        let success = existing
            .iter()
            .find(|e| e.semantics.as_deref() == Some("S"));
        match (semantics.as_deref(), success) {
            // One success stage per dictionary: nothing to say why, as Bitrix24 would not.
            (Some("S"), Some(_)) => return Err(ApiError::legacy(texts::ERROR_CREATING)),
            (None, Some(won)) if sort > won.sort => {
                return Err(ApiError::legacy(texts::AFTER_FINAL))
            }
            _ => {}
        }
    }
    let entry = Status {
        id: 0,
        entity_id,
        status_id,
        name,
        name_init: String::new(),
        sort,
        system: false,
        category_id: None,
        color: color_of(fields).flatten(),
        semantics,
    };
    let id = s.insert_status(portal, &entry).await?;
    Ok(Output::from(Value::from(id)))
}

/// `crm.status.update`: changes `NAME`, `SORT`, `COLOR` (or `EXTRA.COLOR`); other keys are
/// immutable or read-only and ignored.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = entry_id(params)?;
    let fields = match wire::legacy(params, "fields") {
        Some(v) if wire::is_php_array(v) => v,
        _ => return Err(ApiError::legacy(texts::INVALID_PARAMETERS)),
    };
    require_admin(ctx)?;
    let portal = ctx.actor.portal_id;
    let mut entry = s
        .status(portal, id)
        .await?
        .ok_or_else(|| ApiError::legacy(texts::NOT_FOUND))?;
    if let Some(name) = wire::php_get(fields, "NAME").filter(|v| !v.is_null()) {
        let name = wire::strval(name)
            .map(|n| n.trim().to_string())
            .unwrap_or_default();
        if name.is_empty() {
            return Err(ApiError::legacy(texts::TITLE_REQUIRED));
        }
        entry.name = name;
    }
    if let Some(sort) =
        wire::php_get(fields, "SORT").filter(|v| !v.is_null() && !wire::is_php_array(v))
    {
        entry.sort = wire::intval(sort);
    }
    if let Some(color) = color_of(fields) {
        entry.color = color;
    }
    if !s.update_status(portal, &entry).await? {
        return Err(ApiError::legacy(texts::ERROR_UPDATING));
    }
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.status.delete`: removes an entry. Built-in entries need `params[FORCED]=Y`; an entry a
/// record still uses (any entity field of that dictionary holding this id) cannot go.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = entry_id(params)?;
    require_admin(ctx)?;
    let portal = ctx.actor.portal_id;
    let entry = s
        .status(portal, id)
        .await?
        .ok_or_else(|| ApiError::legacy(texts::NOT_FOUND))?;
    let forced = wire::param_flag(wire::legacy(params, "params"), "FORCED");
    if entry.system && !forced {
        return Err(ApiError::legacy(texts::SYSTEM_NEEDS_FORCED));
    }
    if in_use(s, portal, &entry).await? {
        return Err(ApiError::legacy(texts::ACTIVE_ITEMS));
    }
    if !s.delete_status(portal, id).await? {
        return Err(ApiError::legacy(texts::ERROR_DELETING));
    }
    Ok(Output::from(Value::Bool(true)))
}

/// Whether any record of any entity type holds this entry in a field of its dictionary.
async fn in_use<S: Storage>(s: &mut S, portal: i64, entry: &Status) -> Result<bool, ApiError> {
    for kind in EntityKind::ALL {
        for def in kind.fields() {
            let (FieldKind::CrmStatus(dictionary), Some(column)) = (def.kind, def.column) else {
                continue;
            };
            if dictionary != entry.entity_id {
                continue;
            }
            let query = ListQuery {
                kind,
                portal_id: portal,
                filter: Cond::Cmp {
                    col: Col::Column(column),
                    op: CmpOp::Eq,
                    value: DbValue::Text(entry.status_id.clone()),
                    ci: false,
                },
                order: vec![],
                columns: vec![],
                with_uf: false,
                offset: 0,
                limit: Some(1),
            };
            if !s.list_entities(&query).await?.is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn status(entity_id: &str, status_id: &str, semantics: Option<&str>) -> Status {
        Status {
            id: 101,
            entity_id: entity_id.into(),
            status_id: status_id.into(),
            name: "New".into(),
            name_init: "New".into(),
            sort: 10,
            system: true,
            category_id: None,
            color: Some("#39A8EF".into()),
            semantics: semantics.map(str::to_string),
        }
    }

    #[test]
    fn documented_entry_shape() {
        let got =
            serde_json::to_string(&format_status(&status("DEAL_STAGE", "NEW", None))).unwrap();
        assert_eq!(
            got,
            r##"{"ID":"101","ENTITY_ID":"DEAL_STAGE","STATUS_ID":"NEW","NAME":"New","NAME_INIT":"New","SORT":"10","SYSTEM":"Y","CATEGORY_ID":null,"COLOR":"#39A8EF","SEMANTICS":null,"EXTRA":{"SEMANTICS":"process","COLOR":"#39A8EF"}}"##
        );
    }

    #[test]
    fn extra_semantics_names() {
        let sem = |e, s, m| format_status(&status(e, s, m))["EXTRA"]["SEMANTICS"].clone();
        assert_eq!(sem("STATUS", "CONVERTED", Some("S")), json!("success"));
        assert_eq!(sem("STATUS", "JUNK", Some("F")), json!("failure"));
        assert_eq!(sem("DEAL_STAGE", "LOSE", Some("F")), json!("failure"));
        assert_eq!(sem("DEAL_STAGE", "APOLOGY", Some("F")), json!("apology"));
        let source = format_status(&Status {
            system: false,
            color: None,
            ..status("SOURCE", "WEB", None)
        });
        assert!(source.get("EXTRA").is_none());
        assert_eq!(source["SYSTEM"], json!("N"));
        assert_eq!(source["COLOR"], json!(null));
    }

    #[test]
    fn seeds_are_complete_and_unique() {
        let all = seeds();
        let mut keys = BTreeSet::new();
        for s in &all {
            assert!(
                keys.insert((s.entity_id, s.status_id)),
                "duplicate {}:{}",
                s.entity_id,
                s.status_id
            );
        }
        let ids = |e: &str| {
            all.iter()
                .filter(|s| s.entity_id == e)
                .map(|s| (s.status_id, s.sort, s.semantics))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids("STATUS"),
            vec![
                ("NEW", 10, None),
                ("IN_PROCESS", 20, None),
                ("PROCESSED", 30, None),
                ("CONVERTED", 40, S),
                ("JUNK", 50, F)
            ]
        );
        assert_eq!(ids("SOURCE").len(), 12);
        assert_eq!(ids("SOURCE").last(), Some(&("OTHER", 120, None)));
        assert_eq!(ids("HONORIFIC").len(), 4);
        assert_eq!(
            ids("DEAL_STAGE").iter().map(|s| s.1).collect::<Vec<_>>(),
            vec![10, 20, 30, 40, 50, 60, 70, 80]
        );
        assert_eq!(ids("QUOTE_STATUS")[4], ("DECLAINED", 50, F));
        for e in [
            "DEAL_TYPE",
            "CONTACT_TYPE",
            "COMPANY_TYPE",
            "INDUSTRY",
            "EMPLOYEES",
        ] {
            assert!(!ids(e).is_empty(), "{e}");
        }
        // Every dictionary the field tables point at is seeded.
        for kind in crate::EntityKind::ALL {
            for f in kind.fields() {
                if let K::CrmStatus(e) = f.kind {
                    assert!(!ids(e).is_empty(), "{e}");
                }
            }
        }
        // Every dictionary listed by entity.types except call lists is seeded.
        for t in entity_types().as_array().unwrap() {
            let id = t["ID"].as_str().unwrap();
            assert!(id == "CALL_LIST" || !ids(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn entity_types_and_fields_shapes() {
        let types = entity_types();
        assert_eq!(
            serde_json::to_string(&types[0]).unwrap(),
            r#"{"ID":"STATUS","NAME":"Lead stages","SEMANTIC_INFO":{"START_FIELD":"NEW","FINAL_SUCCESS_FIELD":"CONVERTED","FINAL_UNSUCCESS_FIELD":"JUNK","FINAL_SORT":0},"ENTITY_TYPE_ID":1}"#
        );
        assert_eq!(types[7]["CATEGORY_ID"], json!(0));
        assert_eq!(
            types[8]["SEMANTIC_INFO"]["FINAL_UNSUCCESS_FIELD"],
            json!("DECLAINED")
        );
        let f = fields();
        assert_eq!(f.as_object().unwrap().len(), 11);
        assert_eq!(f["ENTITY_ID"]["isRequired"], json!(true));
        assert_eq!(f["ENTITY_ID"]["isImmutable"], json!(true));
        assert_eq!(f["EXTRA"]["type"], json!("crm_status_extra"));
    }
}
