//! Currencies (`crm.currency.list`, `crm.currency.base.get`, system-methods.md §4): the portal's
//! currencies with their rates, and the display data (names, formats) of well-known codes.

use crate::dates;
use crate::eval;
use crate::query::DbValue;
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Value};
use std::cmp::Ordering;

/// A currency of a portal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Currency {
    /// ISO code, e.g. `USD`.
    pub code: String,
    pub sort: i64,
    /// The portal's base currency (exactly one per portal).
    pub base: bool,
    /// `amount` is the price of `amount_cnt` units in the base currency.
    pub amount_cnt: i64,
    pub amount: f64,
    /// Unix seconds of the last rate change.
    pub date_update: i64,
}

/// How a currency is written: what Bitrix24 calls its language settings (`LID` `en`).
struct Display {
    code: &'static str,
    full_name: &'static str,
    /// `#` stands for the number.
    format: &'static str,
    decimals: u8,
}

/// English display data of common currencies; other codes get their code as name and `# CODE`.
const DISPLAY: &[Display] = &[
    Display {
        code: "USD",
        full_name: "US Dollar",
        format: "$#",
        decimals: 2,
    },
    Display {
        code: "EUR",
        full_name: "Euro",
        format: "&euro;#",
        decimals: 2,
    },
    Display {
        code: "GBP",
        full_name: "Pound Sterling",
        format: "&pound;#",
        decimals: 2,
    },
    Display {
        code: "CHF",
        full_name: "Swiss Franc",
        format: "# CHF",
        decimals: 2,
    },
    Display {
        code: "JPY",
        full_name: "Japanese Yen",
        format: "&yen;#",
        decimals: 0,
    },
    Display {
        code: "CNY",
        full_name: "Yuan Renminbi",
        format: "# CNY",
        decimals: 2,
    },
    Display {
        code: "CAD",
        full_name: "Canadian Dollar",
        format: "# CAD",
        decimals: 2,
    },
    Display {
        code: "AUD",
        full_name: "Australian Dollar",
        format: "# AUD",
        decimals: 2,
    },
    Display {
        code: "PLN",
        full_name: "Zloty",
        format: "# z&#322;",
        decimals: 2,
    },
    Display {
        code: "RUB",
        full_name: "Russian Ruble",
        format: "# &#8381;",
        decimals: 2,
    },
    Display {
        code: "UAH",
        full_name: "Hryvnia",
        format: "# &#8372;",
        decimals: 2,
    },
    Display {
        code: "KZT",
        full_name: "Tenge",
        format: "# &#8376;",
        decimals: 2,
    },
    Display {
        code: "BYN",
        full_name: "Belarusian Ruble",
        format: "# BYN",
        decimals: 2,
    },
    Display {
        code: "INR",
        full_name: "Indian Rupee",
        format: "&#8377;#",
        decimals: 2,
    },
    Display {
        code: "BRL",
        full_name: "Brazilian Real",
        format: "R$#",
        decimals: 2,
    },
];

/// The keys `order` may name, as output keys.
const ORDER_KEYS: [&str; 6] = [
    "CURRENCY",
    "SORT",
    "BASE",
    "AMOUNT",
    "AMOUNT_CNT",
    "FULL_NAME",
];

fn display(code: &str) -> (String, String, u8) {
    match DISPLAY.iter().find(|d| d.code == code) {
        Some(d) => (d.full_name.into(), d.format.into(), d.decimals),
        None => (code.to_string(), format!("# {code}"), 2),
    }
}

fn full_name(code: &str) -> String {
    display(code).0
}

/// One `crm.currency.list` entry (legacy strings, as the docs' example).
pub fn format_currency(c: &Currency, ctx: &Ctx<'_>) -> Value {
    let (full_name, format, decimals) = display(&c.code);
    json!({
        "CURRENCY": c.code,
        "AMOUNT_CNT": c.amount_cnt.to_string(),
        "AMOUNT": format!("{:.4}", c.amount),
        "SORT": c.sort.to_string(),
        "BASE": if c.base { "Y" } else { "N" },
        "FULL_NAME": full_name,
        "LID": "en",
        "FORMAT_STRING": format,
        "DEC_POINT": ".",
        "THOUSANDS_SEP": ",",
        "DECIMALS": decimals.to_string(),
        "DATE_UPDATE": dates::format_datetime(c.date_update, ctx.settings.time_zone),
    })
}

fn order_value(c: &Currency, key: &str) -> DbValue {
    match key {
        "CURRENCY" => DbValue::Text(c.code.clone()),
        "SORT" => DbValue::Int(c.sort),
        "BASE" => DbValue::Text(if c.base { "Y" } else { "N" }.into()),
        "AMOUNT" => DbValue::Real(c.amount),
        "AMOUNT_CNT" => DbValue::Int(c.amount_cnt),
        "FULL_NAME" => DbValue::Text(full_name(&c.code)),
        _ => DbValue::Null,
    }
}

/// `crm.currency.list`: every currency of the portal, in `order` (default: SORT, then code),
/// with the real count in `total` (the docs' example says 0; decision in system-methods.md §4).
pub fn list(currencies: Vec<Currency>, ctx: &Ctx<'_>, params: &Params) -> Result<Output, ApiError> {
    let order = match wire::legacy(params, "order") {
        Some(v) if !wire::is_php_array(v) => {
            return Err(ApiError::legacy(text::ORDER_MUST_BE_ARRAY))
        }
        other => other,
    };
    let keys: Vec<(&str, bool)> = order
        .and_then(wire::php_entries)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, dir)| {
            // Keys inside legacy `order` are case-sensitive UPPER names (transport.md §6).
            let key = ORDER_KEYS.iter().find(|k| **k == name)?;
            let desc = wire::strval(dir).is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC"));
            Some((*key, desc))
        })
        .collect();
    let mut currencies = currencies;
    // Stable: ties keep the store's SORT, code order.
    currencies.sort_by(|a, b| {
        for (key, desc) in &keys {
            let ord = eval::sort_cmp(&order_value(a, key), &order_value(b, key));
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    let items: Vec<Value> = currencies.iter().map(|c| format_currency(c, ctx)).collect();
    let total = items.len() as i64;
    Ok(Output::list(Value::Array(items), total, None))
}

/// The base currency's code (`crm.currency.base.get`): the store's base entry, else the portal
/// setting (they are kept equal; the setting is the fallback for an empty list).
pub fn base(currencies: &[Currency], ctx: &Ctx<'_>) -> Value {
    let code = currencies
        .iter()
        .find(|c| c.base)
        .map(|c| c.code.clone())
        .unwrap_or_else(|| ctx.settings.currency.clone());
    Value::String(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, PortalSettings, Rights};

    fn cur(code: &str, sort: i64, base: bool, amount: f64) -> Currency {
        Currency {
            code: code.into(),
            sort,
            base,
            amount_cnt: 1,
            amount,
            date_update: 1_706_524_120,
        }
    }

    fn with_ctx<T>(f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let actor = Actor {
            portal_id: 1,
            user_id: 1,
            rights: Rights::admin(),
        };
        let settings = PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "USD".into(),
        };
        f(&Ctx {
            actor: &actor,
            settings: &settings,
            now: 0,
        })
    }

    #[test]
    fn entry_shape() {
        let got = with_ctx(|ctx| format_currency(&cur("USD", 100, true, 1.0), ctx));
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"CURRENCY":"USD","AMOUNT_CNT":"1","AMOUNT":"1.0000","SORT":"100","BASE":"Y","FULL_NAME":"US Dollar","LID":"en","FORMAT_STRING":"$#","DEC_POINT":".","THOUSANDS_SEP":",","DECIMALS":"2","DATE_UPDATE":"2024-01-29T11:28:40+01:00"}"#
        );
        let other = with_ctx(|ctx| format_currency(&cur("XYZ", 300, false, 2.5), ctx));
        assert_eq!(other["FULL_NAME"], "XYZ");
        assert_eq!(other["FORMAT_STRING"], "# XYZ");
        assert_eq!(other["AMOUNT"], "2.5000");
    }

    #[test]
    fn order_and_total() {
        let all = vec![cur("USD", 100, true, 1.0), cur("EUR", 200, false, 1.1)];
        let params: Params = json!({"order": {"currency": "desc", "CURRENCY": "asc"}})
            .as_object()
            .cloned()
            .unwrap();
        let out = with_ctx(|ctx| list(all.clone(), ctx, &params)).unwrap();
        assert_eq!(out.total, Some(2));
        assert_eq!(out.result[0]["CURRENCY"], "EUR");
        let params: Params = json!({"order": {"SORT": "DESC"}})
            .as_object()
            .cloned()
            .unwrap();
        let out = with_ctx(|ctx| list(all.clone(), ctx, &params)).unwrap();
        assert_eq!(out.result[0]["CURRENCY"], "EUR");
        let params: Params = json!({"order": "SORT"}).as_object().cloned().unwrap();
        let err = with_ctx(|ctx| list(all.clone(), ctx, &params)).unwrap_err();
        assert_eq!(err.description(), "Parameter 'order' must be array.");
        assert_eq!(with_ctx(|ctx| base(&all, ctx)), json!("USD"));
        assert_eq!(with_ctx(|ctx| base(&[], ctx)), json!("USD"));
    }
}
