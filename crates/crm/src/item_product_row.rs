//! `crm.item.productrow.*`: the universal view of the same product rows as
//! `crm.{lead,deal,quote}.productrows.*` — camelCase names, typed values, one row at a time,
//! coded errors, `{"productRow": …}` / `{"productRows": […]}` results (b24restdocs
//! `api-reference/crm/universal/product-rows`). Prices and totals come from `product_row`.

use crate::actor::Action;
use crate::engine::{self, Access, PAGE_SIZE};
use crate::entity::EntityKind;
use crate::product_row::{self, number, row_from_input, ProductRow};
use crate::simple_mode::CrmMode;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Map, Value};

/// Input names: camelCase of `crm.item.productrow.*` → the legacy names `row_from_input` reads.
/// Only these are written; the rest (`priceExclusive`, `type`, `xmlId`, …) is computed or kept.
const WRITABLE: [(&str, &str); 12] = [
    ("productId", "PRODUCT_ID"),
    ("productName", "PRODUCT_NAME"),
    ("price", "PRICE"),
    ("quantity", "QUANTITY"),
    ("discountTypeId", "DISCOUNT_TYPE_ID"),
    ("discountRate", "DISCOUNT_RATE"),
    ("discountSum", "DISCOUNT_SUM"),
    ("taxRate", "TAX_RATE"),
    ("taxIncluded", "TAX_INCLUDED"),
    ("taxName", "TAX_NAME"),
    ("measureCode", "MEASURE_CODE"),
    ("sort", "SORT"),
];

fn missing(param: &str) -> ApiError {
    ApiError::coded(
        "100",
        format!("Could not find value for parameter {{{param}}}"),
        400,
    )
}

fn not_supported() -> ApiError {
    ApiError::coded(
        "ENTITY_TYPE_NOT_SUPPORTED",
        "Product rows are not supported for this entity type",
        400,
    )
}

fn owner_not_found() -> ApiError {
    ApiError::coded("OWNER_NOT_FOUND", "Owner was not found", 400)
}

fn row_not_found() -> ApiError {
    ApiError::coded("NOT_FOUND", "Item not found", 400)
}

fn access_denied() -> ApiError {
    ApiError::coded("ACCESS_DENIED", "Access denied", 400)
}

/// A row in `crm.item.productrow.*` form, in the docs' key order.
pub fn to_item(row: &ProductRow) -> Value {
    let yn = |b: bool| if b { "Y" } else { "N" };
    let untaxed = row.tax_rate.unwrap_or(0.0) == 0.0;
    let tax_name = row.tax_name.clone().unwrap_or_else(|| {
        if untaxed {
            "No VAT".into()
        } else {
            String::new()
        }
    });
    json!({
        "id": row.id,
        "ownerId": row.owner_id,
        "ownerType": product_row::owner_type(row.owner_kind).unwrap_or(""),
        "productId": row.product_id,
        "productName": row.name(),
        "price": number(row.price),
        "priceAccount": number(row.price_account),
        "priceExclusive": number(row.price_exclusive),
        "priceNetto": number(row.price_netto),
        "priceBrutto": number(row.price_brutto),
        "quantity": number(row.quantity),
        "discountTypeId": row.discount_type_id,
        "discountRate": number(row.discount_rate),
        "discountSum": number(row.discount_sum),
        "taxRate": row.tax_rate.map_or(Value::Null, number),
        "taxIncluded": yn(row.tax_included),
        "taxName": tax_name,
        "customized": yn(row.customized),
        "measureCode": row.measure_code,
        "measureName": row.measure_name,
        "sort": row.sort,
        "xmlId": row.xml_id.clone().unwrap_or_default(),
        "type": row.product_type,
        "storeId": row.store_id,
    })
}

/// The stored row as legacy input, for merging an update over it.
fn stored_input(row: &ProductRow) -> Map<String, Value> {
    let mut m: Map<String, Value> = row
        .legacy_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    // The raw name (not the `[id]` shown for a nameless row) and the label the legacy form lacks.
    m.insert(
        "PRODUCT_NAME".into(),
        Value::String(row.product_name.clone()),
    );
    m.insert(
        "TAX_NAME".into(),
        row.tax_name.clone().map_or(Value::Null, Value::String),
    );
    m.remove("MEASURE_NAME");
    m
}

/// A row from camelCase `fields`, over `base` (legacy names) when updating.
fn row_from_item(
    kind: EntityKind,
    owner_id: i64,
    fields: &Value,
    base: Option<&Map<String, Value>>,
) -> Result<ProductRow, ApiError> {
    let get = |legacy: &str| -> Option<Value> {
        let camel = WRITABLE.iter().find(|(_, l)| *l == legacy).map(|(c, _)| *c);
        camel
            .and_then(|c| wire::php_get(fields, c))
            .cloned()
            .or_else(|| base.and_then(|b| b.get(legacy)).cloned())
    };
    row_from_input(kind, owner_id, &get)
}

/// The owner named by `ownerType`/`ownerId`, checked for `action`.
async fn owner<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    owner_type: Option<&Value>,
    owner_id: Option<&Value>,
    action: Action,
) -> Result<(EntityKind, i64), ApiError> {
    let letter = owner_type
        .and_then(wire::strval)
        .ok_or_else(|| missing("ownerType"))?;
    let id = owner_id
        .map(wire::intval)
        .ok_or_else(|| missing("ownerId"))?;
    let kind = product_row::owner_kind(letter.trim()).ok_or_else(not_supported)?;
    if mode.hides(kind) {
        return Err(owner_not_found());
    }
    match engine::access(s, ctx, kind, id, action).await? {
        Access::Granted => Ok((kind, id)),
        Access::Denied => Err(access_denied()),
        Access::Missing => Err(owner_not_found()),
    }
}

/// A stored row and its owner, checked for `action` on the owner.
async fn stored_row<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
    action: Action,
) -> Result<ProductRow, ApiError> {
    let id = params
        .get("id")
        .map(wire::intval)
        .ok_or_else(|| missing("id"))?;
    let row = s
        .product_row(ctx.actor.portal_id, id)
        .await?
        .filter(|r| !mode.hides(r.owner_kind))
        .ok_or_else(row_not_found)?;
    match engine::access(s, ctx, row.owner_kind, row.owner_id, action).await? {
        Access::Granted => Ok(row),
        Access::Denied => Err(access_denied()),
        Access::Missing => Err(row_not_found()),
    }
}

async fn refresh_owner<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<(), ApiError> {
    let rows = s.product_rows(kind, ctx.actor.portal_id, &[id]).await?;
    product_row::update_owner(s, ctx, kind, id, &rows).await
}

fn one(row: &ProductRow) -> Output {
    Output::from(json!({ "productRow": to_item(row) }))
}

/// `crm.item.productrow.add`: one more row for an owner.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let fields = params
        .get("fields")
        .filter(|v| wire::is_php_array(v))
        .ok_or_else(|| missing("fields"))?;
    let (kind, owner_id) = owner(
        s,
        ctx,
        mode,
        wire::php_get(fields, "ownerType"),
        wire::php_get(fields, "ownerId"),
        Action::Update,
    )
    .await?;
    let mut row = row_from_item(kind, owner_id, fields, None)?;
    row.id = s.insert_product_row(ctx.actor.portal_id, &row).await?;
    refresh_owner(s, ctx, kind, owner_id).await?;
    Ok(one(&row))
}

/// `crm.item.productrow.update`: changes the fields given; an empty `fields` answers `null`.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let fields = params
        .get("fields")
        .filter(|v| wire::is_php_array(v))
        .ok_or_else(|| missing("fields"))?;
    let stored = stored_row(s, ctx, mode, params, Action::Update).await?;
    let given = wire::php_entries(fields).unwrap_or_default();
    if given.is_empty() {
        return Ok(Output::from(Value::Null));
    }
    if !given
        .iter()
        .any(|(k, _)| WRITABLE.iter().any(|(c, _)| c == k))
    {
        return Err(ApiError::coded(
            "INVALID_ARG_VALUE",
            "No fields to update",
            400,
        ));
    }
    let base = stored_input(&stored);
    let mut row = row_from_item(stored.owner_kind, stored.owner_id, fields, Some(&base))?;
    row.id = stored.id;
    // What an update cannot change: the owner and the catalog-side fields.
    row.customized = stored.customized;
    row.xml_id = stored.xml_id.clone();
    row.product_type = stored.product_type;
    row.store_id = stored.store_id;
    s.update_product_row(ctx.actor.portal_id, &row).await?;
    refresh_owner(s, ctx, row.owner_kind, row.owner_id).await?;
    Ok(one(&row))
}

/// `crm.item.productrow.get`.
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let row = stored_row(s, ctx, mode, params, Action::Read).await?;
    Ok(one(&row))
}

/// `crm.item.productrow.delete`: `null`.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let row = stored_row(s, ctx, mode, params, Action::Update).await?;
    s.delete_product_row(ctx.actor.portal_id, row.id).await?;
    refresh_owner(s, ctx, row.owner_kind, row.owner_id).await?;
    Ok(Output::from(Value::Null))
}

/// `crm.item.productrow.set`: the whole set of an owner. A row with the `id` of one of the
/// owner's rows keeps that id; rows not mentioned are deleted; any invalid row changes nothing.
pub async fn set<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let owner_type = params
        .get("ownerType")
        .ok_or_else(|| missing("ownerType"))?;
    let owner_id = params.get("ownerId").ok_or_else(|| missing("ownerId"))?;
    let given = params
        .get("productRows")
        .and_then(wire::php_values)
        .ok_or_else(|| missing("productRows"))?;
    let (kind, id) = owner(
        s,
        ctx,
        mode,
        Some(owner_type),
        Some(owner_id),
        Action::Update,
    )
    .await?;
    let portal = ctx.actor.portal_id;
    let existing = s.product_rows(kind, portal, &[id]).await?;
    let mut rows = Vec::with_capacity(given.len());
    for fields in given {
        let keep = wire::php_get(fields, "id")
            .map(wire::intval)
            .and_then(|rid| {
                existing
                    .iter()
                    .find(|r| r.id == rid && !rows.iter().any(|x: &ProductRow| x.id == rid))
            });
        let mut row = row_from_item(kind, id, fields, None)?;
        if let Some(old) = keep {
            row.id = old.id;
            row.xml_id = old.xml_id.clone();
            row.store_id = old.store_id;
        }
        rows.push(row);
    }
    for old in &existing {
        if !rows.iter().any(|r| r.id == old.id) {
            s.delete_product_row(portal, old.id).await?;
        }
    }
    for row in &mut rows {
        if row.id > 0 {
            s.update_product_row(portal, row).await?;
        } else {
            row.id = s.insert_product_row(portal, row).await?;
        }
    }
    product_row::update_owner(s, ctx, kind, id, &rows).await?;
    let saved = s.product_rows(kind, portal, &[id]).await?;
    Ok(Output::from(json!({
        "productRows": saved.iter().map(to_item).collect::<Vec<_>>()
    })))
}

/// A comparison of `crm.item.productrow.list`'s filter on `id` or `productId`.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Eq(i64),
    Ne(i64),
    Gt(i64),
    Ge(i64),
    Lt(i64),
    Le(i64),
    In(Vec<i64>),
}

impl Test {
    fn matches(&self, v: i64) -> bool {
        match self {
            Test::Eq(x) => v == *x,
            Test::Ne(x) => v != *x,
            Test::Gt(x) => v > *x,
            Test::Ge(x) => v >= *x,
            Test::Lt(x) => v < *x,
            Test::Le(x) => v <= *x,
            Test::In(xs) => xs.contains(&v),
        }
    }
}

/// Filter keys on `id` and `productId` with their prefixes; other keys are ignored (docs: no
/// index on them), and so is an array anywhere but `@id`.
fn parse_filter(filter: &Value) -> Result<Vec<(&'static str, Test)>, ApiError> {
    let mut out = Vec::new();
    for (key, value) in wire::php_entries(filter).unwrap_or_default() {
        let (prefix, field) = ["!=", ">=", "<=", "=", ">", "<", "@", ""]
            .iter()
            .find_map(|p| key.strip_prefix(p).map(|f| (*p, f)))
            .unwrap_or(("", key.as_str()));
        let field: &'static str = match field {
            "id" => "id",
            "productId" => "productId",
            _ => continue,
        };
        if wire::is_php_array(value) {
            if prefix == "@" && field == "id" {
                let ids = wire::php_values(value)
                    .unwrap_or_default()
                    .into_iter()
                    .map(wire::intval)
                    .collect();
                out.push((field, Test::In(ids)));
                continue;
            }
            if !prefix.is_empty() {
                return Err(ApiError::coded(
                    "INVALID_ARG_VALUE",
                    format!("Invalid filter: field '{field}' has invalid value"),
                    400,
                ));
            }
            continue;
        }
        let v = wire::intval(value);
        let test = match prefix {
            "" | "=" | "@" => Test::Eq(v),
            "!=" => Test::Ne(v),
            ">" => Test::Gt(v),
            ">=" => Test::Ge(v),
            "<" => Test::Lt(v),
            "<=" => Test::Le(v),
            _ => continue,
        };
        out.push((field, test));
    }
    Ok(out)
}

/// `crm.item.productrow.list`: the rows of one owner (`=ownerType` and `=ownerId` required),
/// filtered by `id`/`productId`, ordered by `sort` (default) or `id`, 50 per page.
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    mode: CrmMode,
    params: &Params,
) -> Result<Output, ApiError> {
    let filter = params
        .get("filter")
        .filter(|v| wire::is_php_array(v))
        .ok_or_else(|| missing("filter"))?;
    let (Some(owner_type), Some(owner_id)) = (
        wire::php_get(filter, "=ownerType"),
        wire::php_get(filter, "=ownerId"),
    ) else {
        return Err(ApiError::coded(
            "REQUIRED_ARG_MISSING",
            "The filter must contain =ownerType and =ownerId",
            400,
        ));
    };
    let tests = parse_filter(filter)?;
    // An owner that is missing, unreadable or without rows is one answer here (docs).
    let (kind, id) = match owner(s, ctx, mode, Some(owner_type), Some(owner_id), Action::Read).await
    {
        Ok(found) => found,
        Err(e) if e.code() == "100" => return Err(e),
        Err(_) => return Err(access_denied()),
    };
    let mut rows: Vec<ProductRow> = s
        .product_rows(kind, ctx.actor.portal_id, &[id])
        .await?
        .into_iter()
        .filter(|r| {
            tests.iter().all(|(field, t)| match *field {
                "id" => t.matches(r.id),
                _ => t.matches(r.product_id),
            })
        })
        .collect();
    let mut keys: Vec<(&str, bool)> = Vec::new();
    if let Some(order) = params.get("order") {
        for (k, dir) in wire::php_entries(order).unwrap_or_default() {
            let desc = dir
                .as_str()
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("desc"));
            match k.as_str() {
                "id" => keys.push(("id", desc)),
                "sort" => keys.push(("sort", desc)),
                _ => {}
            }
        }
    }
    if keys.is_empty() {
        keys.push(("sort", false));
    }
    rows.sort_by(|a, b| {
        for (k, desc) in &keys {
            let ord = match *k {
                "id" => a.id.cmp(&b.id),
                _ => a.sort.cmp(&b.sort),
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    let (offset, count) = engine::page_window(wire::start(params));
    let total = rows.len() as i64;
    let page: Vec<Value> = rows
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(PAGE_SIZE as usize)
        .map(to_item)
        .collect();
    let result = json!({ "productRows": page });
    if !count {
        return Ok(Output::from(result));
    }
    let next = (offset.saturating_add(PAGE_SIZE) < total).then(|| offset + PAGE_SIZE);
    Ok(Output::list(result, total, next))
}

/// `crm.item.productrow.fields` (docs example).
pub fn fields() -> Value {
    let f = |ty: &str, required: bool, read_only: bool, immutable: bool, title: &str| {
        json!({"type": ty, "isRequired": required, "isReadOnly": read_only, "isImmutable": immutable,
               "isMultiple": false, "isDynamic": false, "title": title})
    };
    json!({"fields": {
        "id": f("integer", false, true, false, "ID"),
        "ownerId": f("integer", true, false, true, "Owner ID"),
        "ownerType": f("string", true, false, true, "Owner Type"),
        "productId": f("integer", true, false, false, "Product"),
        "productName": f("string", false, false, false, "Product Name"),
        "price": f("double", false, false, false, "Price"),
        "priceExclusive": f("double", false, true, false, "Discounted price excluding tax"),
        "priceNetto": f("double", false, true, false, "PRICE_NETTO"),
        "priceBrutto": f("double", false, true, false, "PRICE_BRUTTO"),
        "quantity": f("double", false, false, false, "Quantity"),
        "discountTypeId": f("integer", false, false, false, "Discount Type"),
        "discountRate": f("double", false, false, false, "Discount Amount"),
        "discountSum": f("double", false, false, false, "Discount Total"),
        "taxRate": f("double", false, false, false, "Tax"),
        "taxName": f("string", false, false, false, "TAX_NAME"),
        "taxIncluded": f("char", false, false, false, "Tax included in price"),
        "customized": f("char", false, false, false, "Modified"),
        "measureCode": f("integer", false, false, false, "Unit of Measure Code"),
        "measureName": f("string", false, false, false, "Unit of Measure"),
        "sort": f("integer", false, false, false, "Sorting"),
        "type": f("integer", false, true, false, "TYPE"),
        "storeId": f("integer", false, true, false, "STORE_ID"),
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_add_example_prices() {
        // crm-item-productrow-add.md: 80000 after 20 % off, 20 % tax included.
        let fields = json!({"ownerId": 1, "ownerType": "D", "productId": 9621, "price": 80000, "quantity": 2,
                            "discountTypeId": 2, "discountRate": 20, "taxRate": 20, "taxIncluded": "Y", "measureCode": 796,
                            "sort": 10, "priceNetto": 1, "type": 9});
        let mut row = row_from_item(EntityKind::Deal, 1, &fields, None).unwrap();
        row.id = 17647;
        let item = to_item(&row);
        assert_eq!(item["priceExclusive"], json!(66666.67));
        assert_eq!(item["priceNetto"], json!(83333.33));
        assert_eq!(item["priceBrutto"], json!(100000));
        assert_eq!(item["discountSum"], json!(16666.67));
        assert_eq!(item["priceAccount"], json!(80000));
        assert_eq!(item["type"], json!(1), "type is not writable");
        assert_eq!(item["taxName"], json!(""));
        assert_eq!(item["productName"], json!("[17647]"));
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("id"));
        assert_eq!(keys.last().map(|k| k.as_str()), Some("storeId"));
        assert_eq!(keys.len(), 24);
    }

    #[test]
    fn untaxed_rows_say_no_vat_and_measures_have_names() {
        let row = row_from_item(
            EntityKind::Quote,
            3,
            &json!({"productName": "x", "measureCode": 6}),
            None,
        )
        .unwrap();
        let item = to_item(&row);
        assert_eq!(item["taxName"], "No VAT");
        assert_eq!(
            (&item["measureCode"], &item["measureName"]),
            (&json!(6), &json!("m"))
        );
        assert_eq!(item["ownerType"], "Q");
        assert_eq!(item["xmlId"], "");
    }

    #[test]
    fn update_merges_over_the_stored_row() {
        let mut stored = row_from_item(
            EntityKind::Deal,
            1,
            &json!({"productName": "x", "price": 90, "discountTypeId": 2, "discountRate": 10, "taxName": "VAT 0", "quantity": 3}),
            None,
        )
        .unwrap();
        stored.id = 5;
        let base = stored_input(&stored);
        let row = row_from_item(EntityKind::Deal, 1, &json!({"price": 45}), Some(&base)).unwrap();
        assert_eq!(
            (row.price, row.price_netto, row.discount_rate, row.quantity),
            (45.0, 50.0, 10.0, 3.0)
        );
        assert_eq!(row.product_name, "x");
        assert_eq!(row.tax_name.as_deref(), Some("VAT 0"));
    }

    #[test]
    fn list_filters() {
        let tests = parse_filter(&json!({"=ownerType": "D", "=ownerId": 1, ">id": 10, "@id": [11, 12], "productId": "7", "price": 5, "=%x": 1})).unwrap();
        assert_eq!(
            tests,
            vec![
                ("id", Test::Gt(10)),
                ("id", Test::In(vec![11, 12])),
                ("productId", Test::Eq(7))
            ]
        );
        assert!(parse_filter(&json!({">id": [1]})).is_err());
        assert_eq!(parse_filter(&json!({"productId": [1]})).unwrap(), vec![]);
        assert!(Test::Ne(3).matches(4) && !Test::Le(3).matches(4));
    }
}
