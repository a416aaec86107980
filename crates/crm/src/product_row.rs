//! Product rows of leads, deals and quotes (leads.md §6): the row model, input normalisation,
//! derived prices (decision D11), the owner's OPPORTUNITY, and `crm.{lead,deal,quote}.productrows.*`.
//!
//! `PRICE` is the final unit price (after discount, with tax when `TAX_INCLUDED = Y`); every other
//! price is derived from it, the tax rate and the discount, so a row is always self-consistent.

use crate::actor::Action;
use crate::engine::{self, Access};
use crate::entity::EntityKind;
use crate::query::DbValue;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};

/// Percentage discount (`DISCOUNT_TYPE_ID = 2`, the default) and absolute discount (`1`).
pub const DISCOUNT_PERCENT: i64 = 2;
pub const DISCOUNT_ABSOLUTE: i64 = 1;

/// One product row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRow {
    /// 0 until stored.
    pub id: i64,
    pub owner_kind: EntityKind,
    pub owner_id: i64,
    pub product_id: i64,
    /// Empty: the row shows `[{id}]` (no catalog to take a name from).
    pub product_name: String,
    pub original_product_name: Option<String>,
    pub product_description: Option<String>,
    pub price: f64,
    pub price_exclusive: f64,
    pub price_netto: f64,
    pub price_brutto: f64,
    pub price_account: f64,
    pub quantity: f64,
    pub discount_type_id: i64,
    pub discount_rate: f64,
    pub discount_sum: f64,
    pub tax_rate: Option<f64>,
    pub tax_included: bool,
    /// A label only (`VAT 20`); `crm.item.productrow.*` shows `No VAT` for an untaxed row without one.
    pub tax_name: Option<String>,
    pub customized: bool,
    pub measure_code: i64,
    pub measure_name: String,
    pub sort: i64,
    pub xml_id: Option<String>,
    /// `TYPE`: 1 simple product, 4 variation, 7 service.
    pub product_type: i64,
    pub store_id: Option<i64>,
    pub reserve_id: Option<i64>,
    pub date_reserve_end: Option<String>,
    pub reserve_quantity: Option<f64>,
}

/// The symbol of a unit of measure by its OKEI code, for the units a new Bitrix24 catalog has;
/// any other code shows as pieces (there is no catalog of measures here).
pub fn measure_name(code: i64) -> &'static str {
    match code {
        6 => "m",
        112 => "l",
        163 => "g",
        166 => "kg",
        _ => "pcs",
    }
}

/// Bitrix24's `OWNER_TYPE` letter of the families that have product rows.
pub fn owner_type(kind: EntityKind) -> Option<&'static str> {
    match kind {
        EntityKind::Lead => Some("L"),
        EntityKind::Deal => Some("D"),
        EntityKind::Quote => Some("Q"),
        EntityKind::Contact | EntityKind::Company => None,
    }
}

pub fn owner_kind(letter: &str) -> Option<EntityKind> {
    [EntityKind::Lead, EntityKind::Deal, EntityKind::Quote]
        .into_iter()
        .find(|k| owner_type(*k).is_some_and(|t| t.eq_ignore_ascii_case(letter)))
}

fn round_to(f: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    let r = (f * m).round() / m;
    if r.is_finite() {
        r
    } else {
        0.0
    }
}

/// Money (prices, sums) is kept to cents; rates and quantities to 4 places.
fn money(f: f64) -> f64 {
    round_to(f, 2)
}

fn fine(f: f64) -> f64 {
    round_to(f, 4)
}

/// The discount as given: which of rate and sum the caller sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscountInput {
    pub type_id: Option<i64>,
    pub rate: Option<f64>,
    pub sum: Option<f64>,
}

/// The ERROR_CORE validation of a row's discount (docs of `crm.deal.productrows.set`). Only an
/// explicitly given discount type asks for its value.
pub fn check_discount(d: &DiscountInput) -> Result<(), ApiError> {
    match d.type_id {
        Some(DISCOUNT_PERCENT) if d.rate.is_none() => Err(ApiError::core(
            "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined.<br>",
        )),
        Some(DISCOUNT_PERCENT) if d.rate == Some(100.0) && d.sum.is_none() => Err(ApiError::core(
            "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>",
        )),
        Some(DISCOUNT_ABSOLUTE) if d.sum.is_none() => Err(ApiError::core(
            "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined.<br>",
        )),
        _ => Ok(()),
    }
}

/// Derives the prices of a row from `PRICE`, tax and discount (decision D11, leads.md §6):
/// * `PRICE_EXCLUSIVE` (after discount, without tax) = `PRICE / (1 + TAX_RATE/100)` when the tax is
///   included, else `PRICE`;
/// * percent discount `r`: `PRICE_NETTO = PRICE_EXCLUSIVE / (1 - r/100)`, `DISCOUNT_SUM =
///   PRICE_NETTO × r/100` (at 100 %, `PRICE_NETTO = PRICE_EXCLUSIVE + DISCOUNT_SUM`);
/// * absolute discount `s`: `PRICE_NETTO = PRICE_EXCLUSIVE + s`, `DISCOUNT_RATE = s / PRICE_NETTO × 100`;
/// * `PRICE_BRUTTO = PRICE_NETTO × (1 + TAX_RATE/100)`; `PRICE_ACCOUNT = PRICE` (one currency).
pub fn derive_prices(row: &mut ProductRow) {
    let tax = 1.0 + row.tax_rate.unwrap_or(0.0) / 100.0;
    let tax = if tax > 0.0 { tax } else { 1.0 };
    // Computed unrounded and rounded once at the end, so no rounding error is carried along.
    let price = money(row.price);
    let exclusive = if row.tax_included { price / tax } else { price };
    let (netto, rate, sum) = match row.discount_type_id {
        DISCOUNT_ABSOLUTE => {
            let sum = row.discount_sum;
            let netto = exclusive + sum;
            let rate = if netto != 0.0 {
                sum / netto * 100.0
            } else {
                0.0
            };
            (netto, rate, sum)
        }
        _ => {
            row.discount_type_id = DISCOUNT_PERCENT;
            let rate = row.discount_rate;
            if rate >= 100.0 {
                (exclusive + row.discount_sum, rate, row.discount_sum)
            } else {
                let netto = exclusive / (1.0 - rate / 100.0);
                (netto, rate, netto * rate / 100.0)
            }
        }
    };
    row.price = price;
    row.price_exclusive = money(exclusive);
    row.price_netto = money(netto);
    row.price_brutto = money(netto * tax);
    row.discount_rate = money(rate);
    row.discount_sum = money(sum);
    row.price_account = price;
}

/// `OPPORTUNITY` from rows: Σ PRICE × QUANTITY (decision D11).
pub fn total(rows: &[ProductRow]) -> f64 {
    money(rows.iter().map(|r| r.price * r.quantity).sum())
}

fn opt_text(v: Option<&Value>) -> Option<String> {
    v.and_then(wire::strval)
}

fn given(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null() && !wire::is_php_array(v))
}

/// Field names of a row as legacy input spells them. `crm.item.productrow.*` maps its camelCase
/// names onto these.
pub fn row_from_input(
    owner_kind: EntityKind,
    owner_id: i64,
    get: &dyn Fn(&str) -> Option<Value>,
) -> Result<ProductRow, ApiError> {
    let field = |name: &str| get(name);
    let num = |name: &str| given(field(name).as_ref()).map(wire::floatval);
    let int = |name: &str| given(field(name).as_ref()).map(wire::intval);
    let discount = DiscountInput {
        type_id: int("DISCOUNT_TYPE_ID"),
        rate: num("DISCOUNT_RATE"),
        sum: num("DISCOUNT_SUM"),
    };
    check_discount(&discount)?;
    let measure_code = int("MEASURE_CODE").unwrap_or(796);
    let product_name = opt_text(field("PRODUCT_NAME").as_ref())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut row = ProductRow {
        id: 0,
        owner_kind,
        owner_id,
        product_id: int("PRODUCT_ID").unwrap_or(0).max(0),
        original_product_name: opt_text(field("ORIGINAL_PRODUCT_NAME").as_ref())
            .or_else(|| (!product_name.is_empty()).then(|| product_name.clone())),
        product_name,
        product_description: opt_text(field("PRODUCT_DESCRIPTION").as_ref()),
        price: num("PRICE").filter(|f| f.is_finite()).unwrap_or(0.0),
        price_exclusive: 0.0,
        price_netto: 0.0,
        price_brutto: 0.0,
        price_account: 0.0,
        quantity: fine(num("QUANTITY").filter(|f| f.is_finite()).unwrap_or(1.0)),
        discount_type_id: match discount.type_id {
            Some(DISCOUNT_ABSOLUTE) => DISCOUNT_ABSOLUTE,
            _ => DISCOUNT_PERCENT,
        },
        discount_rate: discount.rate.filter(|f| f.is_finite()).unwrap_or(0.0),
        discount_sum: discount.sum.filter(|f| f.is_finite()).unwrap_or(0.0),
        tax_rate: num("TAX_RATE").filter(|f| f.is_finite()).map(fine),
        tax_included: field("TAX_INCLUDED")
            .as_ref()
            .and_then(wire::yes_no)
            .unwrap_or(false),
        tax_name: opt_text(field("TAX_NAME").as_ref()).filter(|s| !s.is_empty()),
        customized: field("CUSTOMIZED")
            .as_ref()
            .and_then(wire::yes_no)
            .unwrap_or(true),
        measure_code,
        measure_name: opt_text(field("MEASURE_NAME").as_ref())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| measure_name(measure_code).into()),
        sort: int("SORT").unwrap_or(0),
        xml_id: opt_text(field("XML_ID").as_ref()).filter(|s| !s.is_empty()),
        product_type: int("TYPE").filter(|t| *t > 0).unwrap_or(1),
        store_id: int("STORE_ID"),
        reserve_id: int("RESERVE_ID"),
        date_reserve_end: opt_text(field("DATE_RESERVE_END").as_ref()).filter(|s| !s.is_empty()),
        reserve_quantity: num("RESERVE_QUANTITY").filter(|f| f.is_finite()).map(fine),
    };
    derive_prices(&mut row);
    Ok(row)
}

/// A float as PHP's JSON prints it: whole numbers without a fraction.
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> Value) -> Value {
    v.as_ref().map_or(Value::Null, f)
}

impl ProductRow {
    /// The name a row shows: its own, or `[{id}]`.
    pub fn name(&self) -> String {
        if self.product_name.is_empty() {
            format!("[{}]", self.id)
        } else {
            self.product_name.clone()
        }
    }

    /// `(KEY, value)` pairs in the docs' order (leads.md §6; `crm-quote-productrows-get.md`):
    /// numbers as JSON numbers except `ID`, `OWNER_ID` and `PRICE_ACCOUNT`.
    pub fn legacy_pairs(&self) -> Vec<(&'static str, Value)> {
        let yn = |b: bool| Value::String(if b { "Y" } else { "N" }.into());
        let s = |t: &str| Value::String(t.to_string());
        vec![
            ("ID", s(&self.id.to_string())),
            ("OWNER_ID", s(&self.owner_id.to_string())),
            ("OWNER_TYPE", s(owner_type(self.owner_kind).unwrap_or(""))),
            ("PRODUCT_ID", Value::from(self.product_id)),
            ("PRODUCT_NAME", s(&self.name())),
            (
                "ORIGINAL_PRODUCT_NAME",
                Value::String(
                    self.original_product_name
                        .clone()
                        .unwrap_or_else(|| self.name()),
                ),
            ),
            (
                "PRODUCT_DESCRIPTION",
                opt(&self.product_description, |t| s(t)),
            ),
            ("PRICE", number(self.price)),
            ("PRICE_EXCLUSIVE", number(self.price_exclusive)),
            ("PRICE_NETTO", number(self.price_netto)),
            ("PRICE_BRUTTO", number(self.price_brutto)),
            ("PRICE_ACCOUNT", s(&format!("{:.8}", self.price_account))),
            ("QUANTITY", number(self.quantity)),
            ("DISCOUNT_TYPE_ID", Value::from(self.discount_type_id)),
            ("DISCOUNT_RATE", number(self.discount_rate)),
            ("DISCOUNT_SUM", number(self.discount_sum)),
            ("TAX_RATE", opt(&self.tax_rate, |f| number(*f))),
            ("TAX_INCLUDED", yn(self.tax_included)),
            ("CUSTOMIZED", yn(self.customized)),
            ("MEASURE_CODE", Value::from(self.measure_code)),
            ("MEASURE_NAME", s(&self.measure_name)),
            ("SORT", Value::from(self.sort)),
            ("XML_ID", opt(&self.xml_id, |t| s(t))),
            ("TYPE", Value::from(self.product_type)),
            ("STORE_ID", opt(&self.store_id, |i| Value::from(*i))),
            ("RESERVE_ID", opt(&self.reserve_id, |i| Value::from(*i))),
            ("DATE_RESERVE_END", opt(&self.date_reserve_end, |t| s(t))),
            (
                "RESERVE_QUANTITY",
                opt(&self.reserve_quantity, |f| number(*f)),
            ),
        ]
    }

    pub fn to_legacy(&self) -> Value {
        Value::Object(
            self.legacy_pairs()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<String, Value>>(),
        )
    }
}

/// After the rows of an owner changed: OPPORTUNITY = Σ PRICE × QUANTITY unless the owner keeps a
/// manual amount (`IS_MANUAL_OPPORTUNITY = Y`; quotes have no such field), and with no rows the
/// amount is kept (leads.md §3.6). The owner's DATE_MODIFY is stamped either way.
pub async fn update_owner<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    rows: &[ProductRow],
) -> Result<(), ApiError> {
    let manual = kind.field("IS_MANUAL_OPPORTUNITY").is_some()
        && engine::field_value(s, ctx, kind, id, "IS_MANUAL_OPPORTUNITY").await?
            == DbValue::Text("Y".into());
    let changes = if manual || rows.is_empty() {
        vec![]
    } else {
        vec![("OPPORTUNITY", DbValue::Real(total(rows)))]
    };
    engine::set_fields(s, ctx, kind, id, changes, true).await
}

/// The owner of a `productrows` call, checked for `action`.
async fn owner<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
    action: Action,
) -> Result<i64, ApiError> {
    let id = match wire::id(params) {
        id if id > 0 => id,
        _ => {
            return Err(ApiError::legacy(
                "The parameter id is invalid or not defined.",
            ))
        }
    };
    match engine::access(s, ctx, kind, id, action).await? {
        Access::Granted => Ok(id),
        Access::Denied => Err(ApiError::access_denied()),
        Access::Missing => Err(ApiError::legacy("Not found.")),
    }
}

/// `productrows.get/set` of an owner whose records are absent (leads in simple CRM mode).
pub fn absent_owner(params: &Params) -> Result<Output, ApiError> {
    match wire::id(params) {
        id if id > 0 => Err(ApiError::legacy("Not found.")),
        _ => Err(ApiError::legacy(
            "The parameter id is invalid or not defined.",
        )),
    }
}

/// `crm.{lead,deal,quote}.productrows.get`: the rows ordered by SORT, then id.
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = owner(s, ctx, kind, params, Action::Read).await?;
    let rows = s.product_rows(kind, ctx.actor.portal_id, &[id]).await?;
    Ok(Output::from(Value::Array(
        rows.iter().map(ProductRow::to_legacy).collect(),
    )))
}

/// `crm.{lead,deal,quote}.productrows.set`: replaces all rows (an empty `rows` deletes them).
pub async fn set<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = match wire::id(params) {
        id if id > 0 => id,
        _ => {
            return Err(ApiError::legacy(
                "The parameter id is invalid or not defined.",
            ))
        }
    };
    let given_rows = match wire::legacy(params, "rows") {
        Some(v) if wire::is_php_array(v) => wire::php_values(v).unwrap_or_default(),
        _ => return Err(ApiError::legacy("The parameter rows must be array.")),
    };
    owner(s, ctx, kind, params, Action::Update).await?;
    let mut rows = Vec::with_capacity(given_rows.len());
    for value in given_rows {
        // A row that is not an array carries no fields: a free row with every default.
        let get = |name: &str| wire::php_get(value, name).cloned();
        rows.push(row_from_input(kind, id, &get)?);
    }
    let portal = ctx.actor.portal_id;
    s.delete_product_rows(kind, portal, id).await?;
    for row in &mut rows {
        row.id = s.insert_product_row(portal, row).await?;
    }
    update_owner(s, ctx, kind, id, &rows).await?;
    Ok(Output::from(Value::Bool(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Result<ProductRow, ApiError> {
        let get = |name: &str| v.get(name).cloned();
        row_from_input(EntityKind::Deal, 5, &get)
    }

    fn prices(r: &ProductRow) -> [f64; 6] {
        [
            r.price,
            r.price_exclusive,
            r.price_netto,
            r.price_brutto,
            r.discount_rate,
            r.discount_sum,
        ]
    }

    #[test]
    fn docs_example_percent_discount_tax_included() {
        // crm-deal-productrows-get.md: 899.1 after 10 % off 999, no tax rate.
        let r = row(json!({"PRICE": 899.1, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 10, "TAX_INCLUDED": "Y"})).unwrap();
        assert_eq!(prices(&r), [899.1, 899.1, 999.0, 999.0, 10.0, 99.9]);
        assert_eq!(r.price_account, 899.1);
    }

    #[test]
    fn price_only() {
        let r = row(json!({"PRICE": "100"})).unwrap();
        assert_eq!(prices(&r), [100.0, 100.0, 100.0, 100.0, 0.0, 0.0]);
        assert_eq!(
            (
                r.quantity,
                r.discount_type_id,
                r.measure_code,
                r.measure_name.as_str(),
                r.product_type
            ),
            (1.0, 2, 796, "pcs", 1)
        );
        assert!(!r.tax_included && r.customized);
    }

    #[test]
    fn tax_included_and_excluded() {
        let r = row(json!({"PRICE": 113, "TAX_RATE": 13, "TAX_INCLUDED": "Y"})).unwrap();
        assert_eq!(prices(&r), [113.0, 100.0, 100.0, 113.0, 0.0, 0.0]);
        let r = row(json!({"PRICE": 100, "TAX_RATE": 13, "TAX_INCLUDED": "N"})).unwrap();
        assert_eq!(prices(&r), [100.0, 100.0, 100.0, 113.0, 0.0, 0.0]);
    }

    #[test]
    fn absolute_discount() {
        // docs set example, first row: 1000 after 100 off, 13 % tax not included
        let r = row(json!({"PRICE": 1000, "QUANTITY": 10, "DISCOUNT_TYPE_ID": 1, "DISCOUNT_SUM": 100, "TAX_RATE": 13})).unwrap();
        assert_eq!(prices(&r), [1000.0, 1000.0, 1100.0, 1243.0, 9.09, 100.0]);
        let r = row(json!({"PRICE": 0, "DISCOUNT_TYPE_ID": 1, "DISCOUNT_SUM": 0})).unwrap();
        assert_eq!(r.discount_rate, 0.0, "no division by zero");
    }

    #[test]
    fn full_percent_discount_needs_the_sum() {
        let r = row(
            json!({"PRICE": 0, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 100, "DISCOUNT_SUM": 50}),
        )
        .unwrap();
        assert_eq!(prices(&r), [0.0, 0.0, 50.0, 50.0, 100.0, 50.0]);
    }

    #[test]
    fn discount_validation_texts() {
        let err = |v: Value| row(v).unwrap_err();
        assert_eq!(
            err(json!({"DISCOUNT_TYPE_ID": 2})),
            ApiError::core("Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined.<br>")
        );
        assert_eq!(
            err(json!({"DISCOUNT_TYPE_ID": "2", "DISCOUNT_RATE": 100})),
            ApiError::core("Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>")
        );
        assert_eq!(
            err(json!({"DISCOUNT_TYPE_ID": 1})),
            ApiError::core("Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID) is defined.<br>")
        );
        assert_eq!(err(json!({"DISCOUNT_TYPE_ID": 1})).code(), "ERROR_CORE");
        // without an explicit type the default percent type needs nothing
        assert!(row(json!({"DISCOUNT_RATE": 5, "PRICE": 95})).is_ok());
    }

    #[test]
    fn totals_and_names() {
        let a = row(json!({"PRICE": 10.5, "QUANTITY": 3})).unwrap();
        let b = row(json!({"PRICE": 0.1, "QUANTITY": 0.5, "PRODUCT_NAME": " Widget "})).unwrap();
        assert_eq!(total(&[a.clone(), b.clone()]), 31.55);
        assert_eq!(total(&[]), 0.0);
        let mut a = a;
        a.id = 42;
        assert_eq!(a.name(), "[42]");
        assert_eq!(b.name(), "Widget");
        assert_eq!(b.original_product_name.as_deref(), Some("Widget"));
    }

    #[test]
    fn legacy_output_shape() {
        let mut r = row(json!({"PRICE": 899.1, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 10, "TAX_INCLUDED": "Y",
                               "PRODUCT_ID": 450, "PRODUCT_NAME": "Product #2", "SORT": 10, "XML_ID": "sale_basket_651"}))
        .unwrap();
        r.id = 5;
        let got = serde_json::to_string(&r.to_legacy()).unwrap();
        assert_eq!(
            got,
            r#"{"ID":"5","OWNER_ID":"5","OWNER_TYPE":"D","PRODUCT_ID":450,"PRODUCT_NAME":"Product #2","ORIGINAL_PRODUCT_NAME":"Product #2","PRODUCT_DESCRIPTION":null,"PRICE":899.1,"PRICE_EXCLUSIVE":899.1,"PRICE_NETTO":999,"PRICE_BRUTTO":999,"PRICE_ACCOUNT":"899.10000000","QUANTITY":1,"DISCOUNT_TYPE_ID":2,"DISCOUNT_RATE":10,"DISCOUNT_SUM":99.9,"TAX_RATE":null,"TAX_INCLUDED":"Y","CUSTOMIZED":"Y","MEASURE_CODE":796,"MEASURE_NAME":"pcs","SORT":10,"XML_ID":"sale_basket_651","TYPE":1,"STORE_ID":null,"RESERVE_ID":null,"DATE_RESERVE_END":null,"RESERVE_QUANTITY":null}"#
        );
    }

    #[test]
    fn owner_types() {
        assert_eq!(owner_type(EntityKind::Quote), Some("Q"));
        assert_eq!(owner_kind("d"), Some(EntityKind::Deal));
        assert_eq!(owner_kind("C"), None);
        assert_eq!(owner_type(EntityKind::Company), None);
    }
}
