//! Card layouts (`crm.<entity>.details.configuration.get/set/reset/forceCommonScopeForAll`,
//! leads.md §1 rows 20–23): which sections and fields a record's card shows, per user
//! (personal, `P`) or for everyone (common, `C`); validation of new layouts; the default layout.
//!
//! Which layout a user sees: their personal one, else the common one, else the default built
//! from the entity's field table (`default_layout`).

use crate::entity::EntityKind;
use crate::field::FieldKind;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::{php, ApiError, Output, Params};
use serde_json::{json, Map, Value};

/// Where one layout is stored: the card (entity type and the extras that select a variant) and
/// whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardKey {
    pub kind: EntityKind,
    /// The card variant: `customer_type=1` / `=2` for simple and repeat leads,
    /// `category=N` for deals of pipeline N, empty for contacts and companies.
    pub variant: String,
    /// `None`: the common layout; `Some(user)`: that user's personal layout.
    pub user_id: Option<i64>,
}

/// Entity types with card layouts: every type with a field table except quotes (entities.md §1).
pub fn has_card(kind: EntityKind) -> bool {
    kind != EntityKind::Quote && !kind.fields().is_empty()
}

pub const NO_DATA: &str = "There are no data to write.";
pub const DATA_MUST_BE_ARRAY: &str = "Parameter 'data' must be array.";
pub const DATA_MUST_BE_INDEXED: &str = "The data must be indexed array.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Personal,
    Common,
}

/// The card a call addresses, from `extras`. Leads accept both documented spellings of the
/// customer type (decision D2): `leadCustomerType` and `lead.customer.type`.
fn variant(kind: EntityKind, params: &Params) -> String {
    let extras = wire::legacy(params, "extras");
    let extra = |name: &str| {
        extras
            .and_then(|e| wire::php_get(e, name))
            .filter(|v| !v.is_null() && !wire::is_php_array(v))
            .map(php::intval)
    };
    match kind {
        EntityKind::Lead => {
            let repeat =
                extra("leadCustomerType").or_else(|| extra("lead.customer.type")) == Some(2);
            format!("customer_type={}", if repeat { 2 } else { 1 })
        }
        EntityKind::Deal => format!("category={}", extra("dealCategoryId").unwrap_or(0).max(0)),
        _ => String::new(),
    }
}

fn scope(params: &Params) -> Scope {
    match wire::scalar(params, "scope").and_then(wire::strval) {
        Some(s) if s.trim().eq_ignore_ascii_case("C") => Scope::Common,
        _ => Scope::Personal,
    }
}

/// `userId`: the user whose personal layout is meant; the caller when absent or not positive.
fn target_user(ctx: &Ctx<'_>, params: &Params) -> i64 {
    match wire::scalar(params, "userId") {
        Some(v) if !wire::is_php_array(v) && php::intval(v) > 0 => php::intval(v),
        _ => ctx.actor.user_id,
    }
}

/// Changing anything but one's own personal layout, or reading another user's, needs the
/// right to change CRM settings (administrators here).
fn require_admin(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.actor.rights.admin {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

/// The stored layout for a personal or common key, falling back as users see it.
async fn effective<S: Storage>(s: &mut S, portal: i64, key: &CardKey) -> Result<Value, ApiError> {
    if key.user_id.is_some() {
        if let Some(v) = s.card_config(portal, key).await? {
            return Ok(v);
        }
    }
    let common = CardKey {
        user_id: None,
        ..key.clone()
    };
    Ok(match s.card_config(portal, &common).await? {
        Some(v) => v,
        None => default_layout(key.kind, &key.variant),
    })
}

/// The key a get/set/reset call addresses, after the access check.
fn addressed(
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
    writing: bool,
) -> Result<CardKey, ApiError> {
    let user_id = match scope(params) {
        Scope::Common => {
            if writing {
                require_admin(ctx)?;
            }
            None
        }
        Scope::Personal => {
            let user = target_user(ctx, params);
            if user != ctx.actor.user_id {
                require_admin(ctx)?;
            }
            Some(user)
        }
    };
    Ok(CardKey {
        kind,
        variant: variant(kind, params),
        user_id,
    })
}

/// `details.configuration.get`: the layout the addressed user (or everyone) sees.
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let key = addressed(ctx, kind, params, false)?;
    Ok(Output::from(effective(s, ctx.actor.portal_id, &key).await?))
}

/// `details.configuration.set`: validates `data` and stores it as the addressed layout.
pub async fn set<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let data = match wire::legacy(params, "data") {
        Some(v) if wire::is_php_array(v) => v,
        _ => return Err(ApiError::legacy(DATA_MUST_BE_ARRAY)),
    };
    let key = addressed(ctx, kind, params, true)?;
    let sections = validate(data)?;
    s.save_card_config(ctx.actor.portal_id, &key, &sections)
        .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `details.configuration.reset`: forgets the addressed layout (the user then sees the common
/// one; the common one reverts to the default).
pub async fn reset<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let key = addressed(ctx, kind, params, true)?;
    s.delete_card_config(ctx.actor.portal_id, &key).await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `details.configuration.forceCommonScopeForAll`: removes every personal layout of the card so
/// that everyone sees the common one.
pub async fn force_common_scope_for_all<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let key = CardKey {
        kind,
        variant: variant(kind, params),
        user_id: None,
    };
    s.delete_personal_card_configs(ctx.actor.portal_id, &key)
        .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// The entries of a PHP list: a JSON array, or an object keyed `0..n-1` in order (what bracket
/// notation `data[0][name]=…` decodes to). `None` for any other array.
fn indexed(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(a) => Some(a.iter().collect()),
        Value::Object(m) => m
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == i.to_string())
            .then(|| m.values().collect()),
        _ => None,
    }
}

/// A non-empty scalar text (`name`, `title`), trimmed.
fn text_of(v: Option<&Value>) -> Option<String> {
    v.filter(|v| !wire::is_php_array(v))
        .and_then(wire::strval)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Checks a layout as Bitrix24 does (texts of the docs) and returns it in stored form:
/// sections `{name, title, type, elements}`, elements `{name, optionFlags ("0"/"1"), options?}`.
pub fn validate(data: &Value) -> Result<Value, ApiError> {
    let sections = indexed(data).ok_or_else(|| ApiError::legacy(DATA_MUST_BE_INDEXED))?;
    if sections.is_empty() {
        return Err(ApiError::legacy(NO_DATA));
    }
    let mut out = Vec::with_capacity(sections.len());
    for (i, section) in sections.into_iter().enumerate() {
        let field = |name: &str| wire::php_get(section, name);
        let ty = field("type")
            .filter(|v| !wire::is_php_array(v))
            .and_then(wire::strval)
            .unwrap_or_default();
        if ty != "section" {
            return Err(ApiError::legacy(format!(
                "Section at index {i} has type {ty}. The expected type is 'section'."
            )));
        }
        let name = text_of(field("name"))
            .ok_or_else(|| ApiError::legacy(format!("Section at index {i} does not have name.")))?;
        let title = text_of(field("title")).ok_or_else(|| {
            ApiError::legacy(format!("Section at index {i} does not have title."))
        })?;
        let given = field("elements")
            .and_then(wire::php_values)
            .unwrap_or_default();
        let mut elements = Vec::with_capacity(given.len());
        for (j, element) in given.into_iter().enumerate() {
            let el = |name: &str| wire::php_get(element, name);
            let name = text_of(el("name")).ok_or_else(|| {
                ApiError::legacy(format!(
                    "Element at index {j} in section at index {i} does not have name."
                ))
            })?;
            let flags = el("optionFlags")
                .filter(|v| !wire::is_php_array(v))
                .map(php::intval)
                .unwrap_or(0);
            let mut m = Map::new();
            m.insert("name".into(), Value::String(name));
            m.insert("optionFlags".into(), Value::String(flags.to_string()));
            if let Some(options) = el("options")
                .filter(|o| wire::php_values(o).is_some_and(|values| !values.is_empty()))
            {
                m.insert("options".into(), options.clone());
            }
            elements.push(Value::Object(m));
        }
        out.push(json!({"name": name, "title": title, "type": "section", "elements": elements}));
    }
    Ok(Value::Array(out))
}

/// Card elements that stand for several fields (or none of the table's), as Bitrix24 names them.
/// `Some(shown)` when `name` is one; `shown` says whether this entity type has it.
fn pseudo_element(kind: EntityKind, name: &str) -> Option<bool> {
    let has = |f: &str| kind.field(f).is_some();
    Some(match name {
        "OPPORTUNITY_WITH_CURRENCY" => has("OPPORTUNITY") && has("CURRENCY_ID"),
        "REVENUE_WITH_CURRENCY" => has("REVENUE") && has("CURRENCY_ID"),
        "CLIENT" => has("CONTACT_ID") || has("COMPANY_ID") || has("CONTACT_IDS"),
        "ADDRESS" => has("ADDRESS"),
        "UTM" => has("UTM_SOURCE"),
        // Sales Intelligence's card field (sales-intelligence.md §11).
        "TRACKING_SOURCE_ID" => true,
        "PRODUCT_ROW_SUMMARY" => matches!(kind, EntityKind::Lead | EntityKind::Deal),
        _ => return None,
    })
}

/// Fields a pseudo element shows, so they are not listed again.
fn covered_by(pseudo: &str, field: &str) -> bool {
    match pseudo {
        "OPPORTUNITY_WITH_CURRENCY" => {
            matches!(
                field,
                "OPPORTUNITY" | "CURRENCY_ID" | "IS_MANUAL_OPPORTUNITY"
            )
        }
        "REVENUE_WITH_CURRENCY" => matches!(field, "REVENUE" | "CURRENCY_ID"),
        "ADDRESS" => field.starts_with("ADDRESS"),
        "UTM" => field.starts_with("UTM_"),
        _ => false,
    }
}

/// The main section's elements, in order; names the entity type lacks are skipped.
fn main_elements(kind: EntityKind, variant: &str) -> &'static [&'static str] {
    match kind {
        EntityKind::Lead if variant == "customer_type=2" => &[
            "TITLE",
            "STATUS_ID",
            "SOURCE_ID",
            "OPPORTUNITY_WITH_CURRENCY",
            "CLIENT",
            "TRACKING_SOURCE_ID",
        ],
        EntityKind::Lead => &[
            "TITLE",
            "STATUS_ID",
            "SOURCE_ID",
            "OPPORTUNITY_WITH_CURRENCY",
            "HONORIFIC",
            "NAME",
            "SECOND_NAME",
            "LAST_NAME",
            "BIRTHDATE",
            "POST",
            "COMPANY_TITLE",
            "PHONE",
            "EMAIL",
            "WEB",
            "IM",
            "ADDRESS",
            "TRACKING_SOURCE_ID",
        ],
        EntityKind::Deal => &[
            "TITLE",
            "OPPORTUNITY_WITH_CURRENCY",
            "STAGE_ID",
            "CLOSEDATE",
            "CLIENT",
            "TRACKING_SOURCE_ID",
        ],
        EntityKind::Contact => &[
            "HONORIFIC",
            "NAME",
            "SECOND_NAME",
            "LAST_NAME",
            "PHOTO",
            "BIRTHDATE",
            "POST",
            "PHONE",
            "EMAIL",
            "WEB",
            "IM",
            "COMPANY_ID",
            "ADDRESS",
            "TRACKING_SOURCE_ID",
        ],
        EntityKind::Company | EntityKind::Quote => &[
            "TITLE",
            "LOGO",
            "COMPANY_TYPE",
            "INDUSTRY",
            "REVENUE_WITH_CURRENCY",
            "PHONE",
            "EMAIL",
            "WEB",
            "IM",
            "ADDRESS",
            "TRACKING_SOURCE_ID",
        ],
    }
}

fn section_title(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Lead => "About the Lead",
        EntityKind::Deal => "About the Deal",
        EntityKind::Contact => "About the Contact",
        EntityKind::Company => "About the Company",
        EntityKind::Quote => "About the Quote",
    }
}

fn element(name: &str) -> Value {
    json!({"name": name, "optionFlags": "0"})
}

fn section(name: &str, title: &str, elements: &[&str]) -> Value {
    json!({"name": name, "title": title, "type": "section",
           "elements": elements.iter().map(|e| element(e)).collect::<Vec<_>>()})
}

/// The layout of a card nobody has configured, built from the field table so that every entity
/// type with a table gets one:
/// * `main` ("About the Lead", …): the type's key fields (`main_elements`), with Bitrix24's
///   compound elements (`OPPORTUNITY_WITH_CURRENCY`, `CLIENT`, `ADDRESS`) and Sales
///   Intelligence's `TRACKING_SOURCE_ID`;
/// * `additional` ("Additional"): every other writable, readable field in table order, except
///   bindings to other records (shown by `CLIENT`), technical origin ids and deprecated fields,
///   then `UTM`;
/// * `products` ("Products") for leads and deals: `PRODUCT_ROW_SUMMARY`.
///
/// Every element has `optionFlags` `"0"`. Repeat leads show `CLIENT` instead of the person's
/// name fields in `main`.
pub fn default_layout(kind: EntityKind, variant: &str) -> Value {
    let main: Vec<&str> = main_elements(kind, variant)
        .iter()
        .copied()
        .filter(|name| match pseudo_element(kind, name) {
            Some(shown) => shown,
            None => kind.field(name).is_some_and(|f| f.readable && !f.read_only),
        })
        .collect();
    let pseudos: Vec<&str> = main
        .iter()
        .copied()
        .filter(|n| pseudo_element(kind, n).is_some())
        .collect();
    let mut additional: Vec<&str> = kind
        .fields()
        .iter()
        .filter(|f| {
            f.readable
                && !f.read_only
                && !f.deprecated
                && f.name != "ID"
                && !matches!(f.name, "ORIGINATOR_ID" | "ORIGIN_ID")
                && !main.contains(&f.name)
                && !pseudos.iter().any(|p| covered_by(p, f.name))
                && !f.name.starts_with("UTM_")
                && !matches!(
                    f.kind,
                    FieldKind::CrmContact
                        | FieldKind::CrmCompany
                        | FieldKind::CrmLead
                        | FieldKind::CrmQuote
                        | FieldKind::CrmMultifield
                )
        })
        .map(|f| f.name)
        .collect();
    if pseudo_element(kind, "UTM") == Some(true) {
        additional.push("UTM");
    }
    let mut sections = vec![section("main", section_title(kind), &main)];
    if !additional.is_empty() {
        sections.push(section("additional", "Additional", &additional));
    }
    if pseudo_element(kind, "PRODUCT_ROW_SUMMARY") == Some(true) {
        sections.push(section("products", "Products", &["PRODUCT_ROW_SUMMARY"]));
    }
    Value::Array(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(data: Value) -> String {
        validate(&data).unwrap_err().description().to_string()
    }

    #[test]
    fn validation_texts() {
        assert_eq!(err(json!({"a": 1})), DATA_MUST_BE_INDEXED);
        assert_eq!(err(json!({"1": {}})), DATA_MUST_BE_INDEXED);
        assert_eq!(err(json!([])), NO_DATA);
        assert_eq!(
            err(json!([{"name": "main", "title": "Main", "type": "column"}])),
            "Section at index 0 has type column. The expected type is 'section'."
        );
        assert_eq!(
            err(json!([{"name": "a", "title": "A", "type": "section"}, "x"])),
            "Section at index 1 has type . The expected type is 'section'."
        );
        assert_eq!(
            err(json!([{"title": "Main", "type": "section"}])),
            "Section at index 0 does not have name."
        );
        assert_eq!(
            err(json!([{"name": "main", "title": " ", "type": "section"}])),
            "Section at index 0 does not have title."
        );
        assert_eq!(
            err(json!([
                {"name": "main", "title": "Main", "type": "section", "elements": [{"name": "TITLE"}]},
                {"name": "more", "title": "More", "type": "section", "elements": [{"optionFlags": 1}]}
            ])),
            "Element at index 0 in section at index 1 does not have name."
        );
    }

    #[test]
    fn stored_form() {
        let got = validate(&json!({"0": {
            "type": "section", "name": "main", "title": "About", "extra": 1,
            "elements": {"0": {"name": "TITLE"}, "1": {"name": "PHONE", "optionFlags": "1", "options": {"defaultCountry": "DE"}}, "2": {"name": "X", "options": []}}
        }}))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"[{"name":"main","title":"About","type":"section","elements":[{"name":"TITLE","optionFlags":"0"},{"name":"PHONE","optionFlags":"1","options":{"defaultCountry":"DE"}},{"name":"X","optionFlags":"0"}]}]"#
        );
        let no_elements =
            validate(&json!([{"type": "section", "name": "m", "title": "M"}])).unwrap();
        assert_eq!(no_elements[0]["elements"], json!([]));
    }

    fn names(section: &Value) -> Vec<&str> {
        section["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn default_lead_layout() {
        let layout = default_layout(EntityKind::Lead, "customer_type=1");
        let sections = layout.as_array().unwrap();
        assert_eq!(sections.len(), 3);
        assert_eq!(sections[0]["name"], "main");
        assert_eq!(sections[0]["title"], "About the Lead");
        assert_eq!(
            sections[0]["elements"][0],
            json!({"name": "TITLE", "optionFlags": "0"})
        );
        let main = names(&sections[0]);
        for n in [
            "STATUS_ID",
            "OPPORTUNITY_WITH_CURRENCY",
            "NAME",
            "PHONE",
            "ADDRESS",
            "TRACKING_SOURCE_ID",
        ] {
            assert!(main.contains(&n), "{n} in {main:?}");
        }
        let additional = names(&sections[1]);
        assert_eq!(additional.last(), Some(&"UTM"));
        for n in ["ASSIGNED_BY_ID", "COMMENTS", "SOURCE_DESCRIPTION", "OPENED"] {
            assert!(additional.contains(&n), "{n} in {additional:?}");
        }
        for n in [
            "ID",
            "OPPORTUNITY",
            "CURRENCY_ID",
            "ADDRESS_CITY",
            "UTM_SOURCE",
            "CONTACT_ID",
            "COMPANY_ID",
            "CONTACT_IDS",
            "DATE_CREATE",
            "LINK",
            "TITLE",
        ] {
            assert!(!additional.contains(&n), "{n} in {additional:?}");
        }
        assert_eq!(names(&sections[2]), ["PRODUCT_ROW_SUMMARY"]);

        let repeat = default_layout(EntityKind::Lead, "customer_type=2");
        let main = names(&repeat[0]);
        assert!(main.contains(&"CLIENT") && !main.contains(&"NAME"));
        assert!(names(&repeat[1]).contains(&"NAME"));
    }

    #[test]
    fn kinds_with_cards() {
        assert!(has_card(EntityKind::Lead));
        assert!(!has_card(EntityKind::Quote));
    }
}
