//! The `crm.item.*` view of the one engine (spec/entities.md §6): exact camelCase parameters with
//! type checks, `entityTypeId` → family, camelCase fields, the item filter, typed output, coded errors.
//!
//! Everything stored, checked and derived is the engine's (`crate::engine`); this module only
//! translates names, values, parameters and errors.

pub mod filter;
pub mod input;
pub mod names;
pub mod output;
pub mod select;

use crate::actor::{Action, Level};
use crate::binding::Relation;
use crate::engine::{self, Dialect, ListRequest};
use crate::entity::EntityKind;
use crate::input::Mode;
use crate::storage::Storage;
use crate::tracking::Tracking;
use crate::Ctx;
use bx_wire::php::to_php_string;
use bx_wire::{ApiError, Output, Params};
use select::ItemSelection;
use serde_json::{Map, Value};

/// The old invoices: a real entity type the item API refuses by name.
const OLD_INVOICE_TYPE_ID: i64 = 5;

/// The family an `entityTypeId` names. A family is served exactly when its field table exists:
/// until deals, contacts, companies and quotes have theirs, ids 2, 3, 4 and 7 answer like any
/// unknown smart process (decision D13), and they are served with no change here once they do.
pub fn served_kind(entity_type_id: i64) -> Result<EntityKind, ApiError> {
    if entity_type_id == OLD_INVOICE_TYPE_ID {
        return Err(ApiError::entity_type_not_supported("INVOICE"));
    }
    match EntityKind::from_entity_type_id(entity_type_id) {
        Some(kind) if !kind.fields().is_empty() => Ok(kind),
        _ => Err(ApiError::smart_process_not_found()),
    }
}

/// An `int` parameter (exact name): JSON integers, integral floats and numeric strings (form
/// encodings carry only strings); anything else is the binder's type error. `null` is absent.
fn int_param(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = params.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let parsed = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                t.parse::<i64>().ok()
            } else {
                None
            }
        }
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| ApiError::invalid_parameter_type(&to_php_string(v), name, "int"))
}

fn required_int(params: &Params, name: &str) -> Result<i64, ApiError> {
    int_param(params, name)?.ok_or_else(|| ApiError::missing_parameter(name))
}

/// An `array` parameter (exact name). `null` (and, for optional ones, `""`, what form encodings
/// send for "nothing") is absent; another scalar is the binder's type error.
fn array_param<'a>(
    params: &'a Params,
    name: &str,
    required: bool,
) -> Result<Option<&'a Value>, ApiError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() && !required => Ok(None),
        Some(v) if v.is_array() || v.is_object() => Ok(Some(v)),
        Some(v) => Err(ApiError::invalid_parameter_type(
            &to_php_string(v),
            name,
            "array",
        )),
    }
}

fn required_array<'a>(params: &'a Params, name: &str) -> Result<&'a Value, ApiError> {
    array_param(params, name, true)?.ok_or_else(|| ApiError::missing_parameter(name))
}

/// `useOriginalUfNames`: `Y` (any case), `true`, `1`; default `N`.
fn use_original_uf_names(params: &Params) -> bool {
    match params.get("useOriginalUfNames") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "y" | "true" | "1")
        }
        _ => false,
    }
}

fn kind_param(params: &Params) -> Result<EntityKind, ApiError> {
    served_kind(required_int(params, "entityTypeId")?)
}

/// `{"item": {…}}` for a record just written or read.
async fn item_result<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    stored: &engine::Stored,
    original_uf_names: bool,
) -> Result<Output, ApiError> {
    let isel = ItemSelection {
        sel: stored.sel.clone(),
        ..ItemSelection::everything(kind)
    };
    let mut item = output::format_item(
        kind,
        &isel,
        &stored.row,
        &stored.multifields,
        ctx.settings,
        original_uf_names,
    );
    fill_binding_lists(s, ctx, kind, &isel, stored.row.id, &mut item).await?;
    let mut m = Map::new();
    m.insert("item".into(), item);
    Ok(Output::from(Value::Object(m)))
}

/// A binding list (`contactIds`, contact `companyIds`) shows every bound record in binding
/// order; the row itself keeps only the primary one.
async fn fill_binding_lists<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    isel: &ItemSelection,
    id: i64,
    item: &mut Value,
) -> Result<(), ApiError> {
    for rel in Relation::of_owner(kind) {
        let Some(list) = rel.list_field() else {
            continue;
        };
        if !isel.fields.iter().any(|f| f.name == list.name) {
            continue;
        }
        let ids: Vec<Value> = s
            .bindings(kind, ctx.actor.portal_id, id, rel.bound)
            .await?
            .iter()
            .map(|b| Value::from(b.id))
            .collect();
        if let Some(obj) = item.as_object_mut() {
            obj.insert(names::item_name(list), Value::Array(ids));
        }
    }
    Ok(())
}

/// Reads back what was written, whatever the caller's read rights (the answer of add/update).
async fn written<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    original_uf_names: bool,
) -> Result<Output, ApiError> {
    match engine::fetch_record(s, ctx, kind, id).await? {
        Some(stored) => item_result(s, ctx, kind, &stored, original_uf_names).await,
        None => Err(ApiError::element_not_found()),
    }
}

/// `crm.item.add`: `{"item": {<all fields of the new item>}}`.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    let fields = required_array(params, "fields")?;
    let original = use_original_uf_names(params);
    let legacy = input::to_legacy_fields(kind, fields, true)?;
    let input = crate::input::normalize(
        kind,
        &legacy,
        Mode::Add { import: false },
        ctx.settings.time_zone,
        ctx.now,
    );
    let id = engine::add_record(s, ctx, kind, &input, Dialect::Item, Tracking::Off).await?;
    written(s, ctx, kind, id, original).await
}

/// `crm.item.update`: `{"item": {<all fields after the update>}}`.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    let id = required_int(params, "id")?;
    let fields = required_array(params, "fields")?;
    let original = use_original_uf_names(params);
    let legacy = input::to_legacy_fields(kind, fields, false)?;
    let input =
        crate::input::normalize(kind, &legacy, Mode::Update, ctx.settings.time_zone, ctx.now);
    engine::update_record(s, ctx, kind, id, &input, Dialect::Item, Tracking::Off).await?;
    written(s, ctx, kind, id, original).await
}

/// `crm.item.get`: `{"item": {…}}`.
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    let id = required_int(params, "id")?;
    let original = use_original_uf_names(params);
    let stored = engine::read_record(s, ctx, kind, id, Dialect::Item).await?;
    item_result(s, ctx, kind, &stored, original).await
}

/// `crm.item.delete`: `[]`.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    let id = required_int(params, "id")?;
    engine::delete_record(s, ctx, kind, id, Dialect::Item).await?;
    Ok(Output::from(Value::Array(vec![])))
}

/// `crm.item.list`: `{"items": […]}` with top-level `total`/`next` (lists.md §3).
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    let select = array_param(params, "select", false)?;
    let filter = array_param(params, "filter", false)?;
    let order = array_param(params, "order", false)?;
    let original = use_original_uf_names(params);
    let ufs = crate::userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    let cond = match filter {
        Some(f) => filter::parse_filter(kind, &ufs, f, ctx.settings.time_zone, ctx.now)?,
        None => crate::query::Cond::True,
    };
    let order = select::parse_order(kind, &ufs, order)?;
    let isel = select::parse_select(kind, select);
    let request = ListRequest {
        filter: cond,
        order,
        sel: isel.sel.clone(),
        start: crate::wire::start(params),
    };
    let page = engine::list_records(s, ctx, kind, request, Dialect::Item).await?;
    let mut items = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        let mut item =
            output::format_item(kind, &isel, row, &page.multifields, ctx.settings, original);
        fill_binding_lists(s, ctx, kind, &isel, row.id, &mut item).await?;
        items.push(item);
    }
    let mut m = Map::new();
    m.insert("items".into(), Value::Array(items));
    Ok(Output::list(Value::Object(m), page.total, page.next))
}

/// `crm.item.fields`: `{"fields": {…}}` with the type's user fields after the item fields;
/// needs read access to the type (docs' `ACCESS_DENIED`). `useOriginalUfNames` names the user
/// fields `UF_CRM_*` instead of `ufCrm_*`.
pub async fn fields<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let kind = kind_param(params)?;
    if ctx.actor.level(kind, Action::Read) == Level::None {
        return Err(Dialect::Item.access_denied(Action::Read));
    }
    let ufs = crate::userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    Ok(Output::from(output::describe_fields(
        kind,
        &ufs,
        use_original_uf_names(params),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        v.as_object().cloned().unwrap_or_default()
    }

    fn err(e: ApiError) -> (u16, String, String) {
        (
            e.status(),
            e.code().to_string(),
            e.description().to_string(),
        )
    }

    #[test]
    fn entity_types() {
        assert_eq!(served_kind(1), Ok(EntityKind::Lead));
        let not_found = (400, "NOT_FOUND".into(), "Smart process not found".into());
        // Served once their field tables exist; the rule is the table, not a list of ids.
        for id in [2, 3, 4, 7] {
            let kind = EntityKind::from_entity_type_id(id).unwrap();
            match served_kind(id) {
                Ok(k) => assert!(k == kind && !kind.fields().is_empty()),
                Err(e) => assert!(kind.fields().is_empty() && err(e) == not_found),
            }
        }
        for id in [0, -1, 6, 8, 31, 128, 1220] {
            assert_eq!(err(served_kind(id).unwrap_err()), not_found, "{id}");
        }
        assert_eq!(
            err(served_kind(5).unwrap_err()),
            (
                400,
                "ENTITY_TYPE_NOT_SUPPORTED".into(),
                "Entity type INVOICE is not supported".into()
            )
        );
    }

    #[test]
    fn int_parameters() {
        let get = |v: Value| int_param(&params(json!({ "id": v })), "id");
        assert_eq!(get(json!(5)), Ok(Some(5)));
        assert_eq!(get(json!("5")), Ok(Some(5)));
        assert_eq!(get(json!(" -7 ")), Ok(Some(-7)));
        assert_eq!(get(json!(5.0)), Ok(Some(5)));
        assert_eq!(get(json!(null)), Ok(None));
        assert_eq!(int_param(&params(json!({})), "id"), Ok(None));
        for (v, shown) in [
            (json!("abc"), "abc"),
            (json!("5abc"), "5abc"),
            (json!("1.5"), "1.5"),
            (json!(1.5), "1.5"),
            (json!(true), "1"),
            (json!(""), ""),
            (json!([1]), "Array"),
            (json!("99999999999999999999"), "99999999999999999999"),
        ] {
            assert_eq!(
                err(get(v.clone()).unwrap_err()),
                (
                    400,
                    "100".into(),
                    format!("Invalid value {shown} to match with parameter {{id}}. Should be value of type int.")
                ),
                "{v}"
            );
        }
        assert_eq!(
            err(required_int(&params(json!({"ID": 5})), "id").unwrap_err()),
            (
                400,
                "100".into(),
                "Could not find value for parameter {id}".into()
            )
        );
    }

    #[test]
    fn array_parameters() {
        let p = params(json!({"fields": "x", "filter": "", "order": null, "select": ["id"]}));
        assert_eq!(
            err(required_array(&p, "fields").unwrap_err()),
            (
                400,
                "100".into(),
                "Invalid value x to match with parameter {fields}. Should be value of type array."
                    .into()
            )
        );
        assert_eq!(array_param(&p, "filter", false), Ok(None));
        assert_eq!(array_param(&p, "order", false), Ok(None));
        assert_eq!(array_param(&p, "select", false), Ok(Some(&json!(["id"]))));
        assert_eq!(
            err(required_array(&params(json!({"Fields": {}})), "fields").unwrap_err()).2,
            "Could not find value for parameter {fields}"
        );
    }

    #[test]
    fn original_uf_names_flag() {
        for v in [json!("Y"), json!("y"), json!(true), json!("1"), json!(1)] {
            assert!(use_original_uf_names(&params(
                json!({"useOriginalUfNames": v})
            )));
        }
        for v in [json!("N"), json!(false), json!("no"), json!(null)] {
            assert!(!use_original_uf_names(&params(
                json!({"useOriginalUfNames": v})
            )));
        }
        assert!(!use_original_uf_names(&params(
            json!({"USEORIGINALUFNAMES": "Y"})
        )));
    }
}
