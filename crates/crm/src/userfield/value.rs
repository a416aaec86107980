//! Values of user fields (leads.md §3.13): validation and normalisation by type on add/update,
//! defaults on add, the JSON kept in the record's `uf` column, legacy output, and the
//! `crm.<entity>.fields` entry of a user field. Also the per-type `SETTINGS` defaults.
//!
//! Stored forms (what filters compare): `string`, `url`, `address`, `money` (`"300|EUR"`), `crm`
//! (`"L_4"`, or `"4"` when the field binds one type) and `crm_status` as JSON strings;
//! `integer`, `employee` (user id), `enumeration` (option id), `file` (file id) and `boolean`
//! (1/0) as JSON integers; `double` as a JSON number; `datetime` as Unix seconds; `date` as
//! `"YYYY-MM-DD"`. A multiple field holds a JSON array; an unset field has no key.

use super::{UserField, UserType, LANGUAGES};
use crate::dates;
use crate::entity::EntityKind;
use crate::storage::Storage;
use crate::wire;
use crate::{Ctx, PortalSettings};
use base64::Engine as _;
use bx_wire::envelope::php_array;
use bx_wire::ApiError;
use chrono_tz::Tz;
use serde_json::{json, Map, Number, Value};
use std::collections::HashMap;

/// `SETTINGS` a new field of this type starts with (the documented keys and their defaults;
/// leads.md §5.1 and the userfield.add docs).
pub fn default_settings(ty: UserType) -> Map<String, Value> {
    let v = match ty {
        UserType::String => {
            json!({"SIZE": 20, "ROWS": 1, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0, "DEFAULT_VALUE": ""})
        }
        UserType::Integer => {
            json!({"SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": null})
        }
        UserType::Double => {
            json!({"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": null})
        }
        UserType::Boolean => json!({"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX"}),
        UserType::DateTime | UserType::Date => {
            json!({"DEFAULT_VALUE": {"VALUE": "", "TYPE": "NONE"}})
        }
        UserType::Enumeration => {
            json!({"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"})
        }
        UserType::File => {
            json!({"SIZE": 20, "LIST_WIDTH": 0, "LIST_HEIGHT": 0, "MAX_SHOW_SIZE": 0, "MAX_ALLOWED_SIZE": 0, "EXTENSIONS": [], "TARGET_BLANK": "Y"})
        }
        UserType::CrmStatus => json!({"ENTITY_TYPE": ""}),
        UserType::Crm => json!({"LEAD": "Y", "CONTACT": "N", "COMPANY": "N", "DEAL": "N"}),
        UserType::Money | UserType::Url => json!({"DEFAULT_VALUE": ""}),
        UserType::Address | UserType::Employee => json!({}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The entity types a `crm` field may bind, with their value prefixes, in settings order.
const CRM_BINDINGS: [(&str, &str); 4] = [
    ("LEAD", "L"),
    ("CONTACT", "C"),
    ("COMPANY", "CO"),
    ("DEAL", "D"),
];

/// Merges given `SETTINGS` into `settings` (update merges into the stored ones, leads.md §5.1).
/// Documented keys are converted to their type; other keys are kept as given.
pub fn merge_settings(ty: UserType, settings: &mut Map<String, Value>, given: &Value) {
    let entries = wire::php_entries(given).unwrap_or_default();
    if ty == UserType::Crm
        && entries
            .iter()
            .any(|(k, _)| CRM_BINDINGS.iter().any(|(b, _)| b == k))
    {
        // Naming any binding replaces the default "leads only".
        for (b, _) in CRM_BINDINGS {
            settings.insert(b.into(), Value::String("N".into()));
        }
    }
    for (key, v) in entries {
        let converted = match (ty, key.as_str()) {
            (
                _,
                "ROWS" | "SIZE" | "LIST_HEIGHT" | "LIST_WIDTH" | "MIN_LENGTH" | "MAX_LENGTH"
                | "PRECISION",
            ) => Value::from(wire::intval(v).max(0)),
            (UserType::Boolean, "DEFAULT_VALUE") => {
                let on = wire::yes_no(v).unwrap_or_else(|| wire::intval(v) >= 1);
                Value::from(i64::from(on))
            }
            (UserType::Integer, "DEFAULT_VALUE" | "MIN_VALUE" | "MAX_VALUE") => {
                match wire::strval(v).filter(|s| !s.trim().is_empty()) {
                    Some(_) => Value::from(wire::intval(v)),
                    None => Value::Null,
                }
            }
            (UserType::Double, "DEFAULT_VALUE" | "MIN_VALUE" | "MAX_VALUE") => {
                match wire::strval(v).filter(|s| !s.trim().is_empty()) {
                    Some(_) => {
                        Number::from_f64(wire::floatval(v)).map_or(Value::Null, Value::Number)
                    }
                    None => Value::Null,
                }
            }
            (UserType::Date | UserType::DateTime, "DEFAULT_VALUE") => {
                let value = wire::php_get(v, "VALUE")
                    .and_then(wire::strval)
                    .unwrap_or_default();
                let kind = wire::php_get(v, "TYPE")
                    .and_then(wire::strval)
                    .map(|t| t.trim().to_ascii_uppercase())
                    .filter(|t| matches!(t.as_str(), "NONE" | "NOW" | "FIXED"))
                    .unwrap_or_else(|| "NONE".into());
                json!({"VALUE": value, "TYPE": kind})
            }
            (UserType::Crm, "LEAD" | "CONTACT" | "COMPANY" | "DEAL") => Value::String(
                if wire::yes_no(v) == Some(true) {
                    "Y"
                } else {
                    "N"
                }
                .into(),
            ),
            (UserType::CrmStatus, "ENTITY_TYPE") => Value::String(
                wire::strval(v)
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_uppercase(),
            ),
            _ => v.clone(),
        };
        settings.insert(key, converted);
    }
}

/// Dictionaries value validation needs, read once per call.
#[derive(Debug, Clone, Default)]
pub struct Dictionaries {
    /// Currency codes of the portal (`money`).
    pub currencies: Vec<String>,
    /// Status ids per dictionary `ENTITY_ID` (`crm_status` fields).
    pub statuses: HashMap<String, Vec<String>>,
}

/// What normalisation needs besides the definition.
#[derive(Debug, Clone, Copy)]
pub struct ValueCtx<'a> {
    pub tz: Tz,
    pub now: i64,
    /// Portal base currency: the currency of a `money` amount given without one.
    pub base_currency: &'a str,
    pub dicts: &'a Dictionaries,
}

/// A file given for a `file` field. Only this metadata is kept (not the content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub name: String,
    /// Bytes after base64 decoding.
    pub size: i64,
}

/// One element of a normalised value.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Ready(Value),
    /// A new file: storage numbers it, and its id is the stored value.
    NewFile(NewFile),
}

/// The new value of one user field: its elements (at most one for a single-valued field); none
/// clears the field.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub name: String,
    pub multiple: bool,
    pub elements: Vec<Element>,
}

/// The outcome of converting one given element.
enum Conv {
    Value(Element),
    /// Blank, or a file marked `remove`: no value.
    Clear,
    /// Unusable in a way Bitrix24 passes over silently (an unparsable date, a file id that is not
    /// the record's): the element, or a single field's whole value, is left out.
    Ignore,
}

fn invalid(uf: &UserField) -> ApiError {
    ApiError::legacy(format!("Invalid value for field {}.", uf.field_name))
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// An integer as PHP would read a number-like value; `None` for anything that is not a number.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
        }
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn round_to(f: f64, precision: i64) -> f64 {
    let p = 10f64.powi(precision.clamp(0, 12) as i32);
    let r = (f * p).round() / p;
    if r.is_finite() {
        r
    } else {
        f
    }
}

fn setting_int(uf: &UserField, key: &str, default: i64) -> i64 {
    uf.settings.get(key).map_or(default, wire::intval)
}

/// The entity types a `crm` field binds, as `(settings key, prefix)`.
fn crm_bindings(uf: &UserField) -> Vec<(&'static str, &'static str)> {
    let on: Vec<_> = CRM_BINDINGS
        .into_iter()
        .filter(|(k, _)| uf.settings.get(*k).and_then(wire::yes_no) == Some(true))
        .collect();
    if on.is_empty() {
        // "If none of the options are provided, the link to leads is enabled."
        vec![CRM_BINDINGS[0]]
    } else {
        on
    }
}

/// A `crm` binding value: `L_4`-style for a field binding several types, a plain id for one
/// binding a single type (which also accepts its own prefix).
fn crm_value(uf: &UserField, s: &str) -> Option<String> {
    let bindings = crm_bindings(uf);
    let s = s.trim().to_ascii_uppercase();
    let positive = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i64>().ok())
            .flatten()
            .filter(|id| *id > 0)
    };
    if let Some((prefix, id)) = s.rsplit_once('_') {
        let id = positive(id)?;
        bindings.iter().find(|(_, p)| *p == prefix)?;
        return Some(if bindings.len() == 1 {
            id.to_string()
        } else {
            format!("{prefix}_{id}")
        });
    }
    if bindings.len() == 1 {
        return positive(&s).map(|id| id.to_string());
    }
    None
}

/// `"300|EUR"`: an amount and a currency of the portal (its base currency when none is given).
fn money_value(s: &str, cx: &ValueCtx<'_>) -> Option<String> {
    let (amount, currency) = match s.split_once('|') {
        Some((a, c)) => (a.trim(), c.trim().to_ascii_uppercase()),
        None => (s.trim(), String::new()),
    };
    amount.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let currency = if currency.is_empty() {
        cx.base_currency.to_string()
    } else {
        currency
    };
    if !cx.dicts.currencies.is_empty() && !cx.dicts.currencies.contains(&currency) {
        return None;
    }
    Some(format!("{amount}|{currency}"))
}

/// `{"fileData": ["name.ext", "<base64>"]}` (or `["<base64>"]`), a bare `["name.ext", "<base64>"]`,
/// `{"id": n}` to keep one of the record's files, `{"id": n, "remove": "Y"}` to drop it.
fn file_element(uf: &UserField, v: &Value, stored: &[i64]) -> Result<Conv, ApiError> {
    if !wire::is_php_array(v) {
        return Err(invalid(uf));
    }
    let data = match wire::php_get(v, "fileData") {
        Some(fd) => Some(fd),
        None if v.is_array() => Some(v),
        None => None,
    };
    if let Some(fd) = data {
        let parts: Vec<String> = wire::php_values(fd)
            .unwrap_or_default()
            .into_iter()
            .filter_map(wire::strval)
            .collect();
        let (name, content) = match parts.as_slice() {
            [content] => ("file".to_string(), content),
            [name, content, ..] => (name.trim().to_string(), content),
            [] => return Err(invalid(uf)),
        };
        let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = engine.decode(compact.as_bytes()).map_err(|_| invalid(uf))?;
        let name: String = if name.is_empty() { "file".into() } else { name };
        return Ok(Conv::Value(Element::NewFile(NewFile {
            name: name.chars().take(255).collect(),
            size: bytes.len() as i64,
        })));
    }
    let Some(id) = wire::php_get(v, "id")
        .or_else(|| wire::php_get(v, "ID"))
        .and_then(integer)
    else {
        return Err(invalid(uf));
    };
    let remove = wire::php_get(v, "remove")
        .and_then(wire::yes_no)
        .unwrap_or(false);
    if remove {
        return Ok(Conv::Clear);
    }
    Ok(if stored.contains(&id) {
        Conv::Value(Element::Ready(Value::from(id)))
    } else {
        Conv::Ignore
    })
}

/// Converts one scalar (or, for files, one descriptor) of a field.
fn element(
    uf: &UserField,
    v: &Value,
    stored_files: &[i64],
    cx: &ValueCtx<'_>,
) -> Result<Conv, ApiError> {
    if uf.user_type == UserType::File {
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Ok(Conv::Clear);
        }
        return file_element(uf, v, stored_files);
    }
    if wire::is_php_array(v) {
        return Err(invalid(uf));
    }
    if is_blank(v)
        && !(uf.user_type == UserType::String && v.as_str().is_some_and(|s| !s.is_empty()))
    {
        return Ok(Conv::Clear);
    }
    let ready = |v: Value| Ok(Conv::Value(Element::Ready(v)));
    let text = wire::strval(v).unwrap_or_default();
    match uf.user_type {
        UserType::String | UserType::Address => ready(Value::String(text)),
        UserType::Url => ready(Value::String(text.trim().to_string())),
        UserType::Integer => integer(v).map_or_else(|| Err(invalid(uf)), |i| ready(Value::from(i))),
        UserType::Double => {
            let f = number(v).ok_or_else(|| invalid(uf))?;
            let f = round_to(f, setting_int(uf, "PRECISION", 2));
            ready(Number::from_f64(f).map_or(Value::Null, Value::Number))
        }
        UserType::Boolean => match wire::yes_no(v) {
            Some(b) => ready(Value::from(i64::from(b))),
            None => Err(invalid(uf)),
        },
        UserType::DateTime => Ok(match dates::parse_datetime(&text, cx.tz, cx.now) {
            Some(ts) => Conv::Value(Element::Ready(Value::from(ts))),
            None => Conv::Ignore,
        }),
        UserType::Date => Ok(match dates::parse_date(&text, cx.tz, cx.now) {
            Some(d) => Conv::Value(Element::Ready(Value::String(dates::date_text(d)))),
            None => Conv::Ignore,
        }),
        UserType::Enumeration => match integer(v) {
            Some(id) if uf.items.iter().any(|i| i.id == id) => ready(Value::from(id)),
            _ => Err(invalid(uf)),
        },
        UserType::Employee => match integer(v) {
            Some(id) if id > 0 => ready(Value::from(id)),
            _ => Err(invalid(uf)),
        },
        UserType::Money => {
            money_value(&text, cx).map_or_else(|| Err(invalid(uf)), |m| ready(Value::String(m)))
        }
        UserType::Crm => {
            crm_value(uf, &text).map_or_else(|| Err(invalid(uf)), |c| ready(Value::String(c)))
        }
        UserType::CrmStatus => {
            let given = text.trim();
            let dictionary = uf
                .settings
                .get("ENTITY_TYPE")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if dictionary.is_empty() {
                return ready(Value::String(given.to_string()));
            }
            let entries = cx
                .dicts
                .statuses
                .get(dictionary)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match entries
                .iter()
                .find(|e| *e == given)
                .or_else(|| entries.iter().find(|e| e.eq_ignore_ascii_case(given)))
            {
                Some(canonical) => ready(Value::String(canonical.clone())),
                None => Err(invalid(uf)),
            }
        }
        UserType::File => unreachable!("handled above"),
    }
}

/// File ids a record's stored value of this field holds.
fn stored_file_ids(stored: Option<&Value>) -> Vec<i64> {
    match stored {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        Some(v) => v.as_i64().into_iter().collect(),
        None => vec![],
    }
}

/// The elements a multiple field was given: a list or map of values, one value, or (for files)
/// one descriptor.
fn given_elements<'v>(uf: &UserField, v: &'v Value) -> Vec<&'v Value> {
    let descriptor = uf.user_type == UserType::File
        && (wire::php_get(v, "fileData").is_some()
            || wire::php_get(v, "id").is_some()
            || wire::php_get(v, "ID").is_some());
    if descriptor || !wire::is_php_array(v) {
        return vec![v];
    }
    wire::php_values(v).unwrap_or_default()
}

/// Normalises the given `UF_CRM_*` values of add/update against the definitions (leads.md §3.13).
/// Names that are not defined, and fields that are not writable (`EDIT_IN_LIST = N`), are dropped
/// like other unknown or read-only keys; a value of the wrong shape is an error
/// `Invalid value for field UF_CRM_X.`; an unparsable date is ignored as for system dates.
/// A multiple field's new value replaces the stored one.
pub fn normalize(
    ufs: &[UserField],
    given: &Map<String, Value>,
    stored: Option<&Map<String, Value>>,
    cx: &ValueCtx<'_>,
) -> Result<Vec<Change>, ApiError> {
    let mut out = Vec::new();
    for uf in ufs {
        let Some(v) = given.get(&uf.field_name) else {
            continue;
        };
        if !uf.writable() {
            continue;
        }
        let files = stored_file_ids(stored.and_then(|m| m.get(&uf.field_name)));
        let mut elements = Vec::new();
        if uf.multiple {
            if !is_blank(v) {
                for item in given_elements(uf, v) {
                    if let Conv::Value(e) = element(uf, item, &files, cx)? {
                        elements.push(e);
                    }
                }
            }
        } else {
            match element(uf, v, &files, cx)? {
                Conv::Value(e) => elements.push(e),
                Conv::Clear => {}
                Conv::Ignore => continue,
            }
        }
        out.push(Change {
            name: uf.field_name.clone(),
            multiple: uf.multiple,
            elements,
        });
    }
    Ok(out)
}

/// Default values of the fields an add did not give (our choice, as the UI and `crm.item.add`
/// do): `DEFAULT_VALUE` of string, integer, double, boolean, url and money fields, `NOW` or a
/// fixed date of date/datetime fields, the `DEF` options of an enumeration.
pub fn defaults(ufs: &[UserField], given: &Map<String, Value>, cx: &ValueCtx<'_>) -> Vec<Change> {
    let mut out = Vec::new();
    for uf in ufs {
        if given.contains_key(&uf.field_name) && uf.writable() {
            continue;
        }
        let default = uf.settings.get("DEFAULT_VALUE");
        let mut elements: Vec<Element> = Vec::new();
        match uf.user_type {
            UserType::Enumeration => {
                for item in uf.items.iter().filter(|i| i.def) {
                    elements.push(Element::Ready(Value::from(item.id)));
                }
            }
            UserType::Date | UserType::DateTime => {
                let kind = default
                    .and_then(|d| d.get("TYPE"))
                    .and_then(Value::as_str)
                    .unwrap_or("NONE");
                let fixed = default
                    .and_then(|d| d.get("VALUE"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let text = match kind {
                    "NOW" => "NOW",
                    "FIXED" if !fixed.trim().is_empty() => fixed,
                    _ => "",
                };
                if !text.is_empty() {
                    if let Ok(Conv::Value(e)) = element(uf, &Value::String(text.into()), &[], cx) {
                        elements.push(e);
                    }
                }
            }
            UserType::String
            | UserType::Integer
            | UserType::Double
            | UserType::Boolean
            | UserType::Url
            | UserType::Money => {
                if let Some(d) = default.filter(|d| !is_blank(d)) {
                    if let Ok(Conv::Value(e)) = element(uf, d, &[], cx) {
                        elements.push(e);
                    }
                }
            }
            _ => {}
        }
        if !uf.multiple {
            elements.truncate(1);
        }
        if !elements.is_empty() {
            out.push(Change {
                name: uf.field_name.clone(),
                multiple: uf.multiple,
                elements,
            });
        }
    }
    out
}

/// The dictionaries the given values (and defaults) of these fields will be checked against.
async fn load_dictionaries<S: Storage>(
    s: &mut S,
    portal_id: i64,
    ufs: &[UserField],
) -> Result<Dictionaries, ApiError> {
    let mut dicts = Dictionaries::default();
    if ufs.iter().any(|u| u.user_type == UserType::Money) {
        dicts.currencies = s.currencies(portal_id).await?;
    }
    for uf in ufs.iter().filter(|u| u.user_type == UserType::CrmStatus) {
        let Some(entity) = uf.settings.get("ENTITY_TYPE").and_then(Value::as_str) else {
            continue;
        };
        if entity.is_empty() || dicts.statuses.contains_key(entity) {
            continue;
        }
        let entries = s.statuses(portal_id, Some(entity)).await?;
        dicts.statuses.insert(
            entity.to_string(),
            entries.into_iter().map(|e| e.status_id).collect(),
        );
    }
    Ok(dicts)
}

/// The user-field values an add/update writes: given values normalised (and, on add, defaults for
/// the fields not given), new files numbered by storage. `None` removes the field's value.
pub async fn prepare<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    ufs: &[UserField],
    given: &Map<String, Value>,
    stored: Option<&Map<String, Value>>,
    adding: bool,
) -> Result<Vec<(String, Option<Value>)>, ApiError> {
    let portal = ctx.actor.portal_id;
    let relevant: Vec<UserField> = ufs
        .iter()
        .filter(|u| adding || given.contains_key(&u.field_name))
        .cloned()
        .collect();
    if relevant.is_empty() {
        return Ok(vec![]);
    }
    let dicts = load_dictionaries(s, portal, &relevant).await?;
    let cx = ValueCtx {
        tz: ctx.settings.time_zone,
        now: ctx.now,
        base_currency: &ctx.settings.currency,
        dicts: &dicts,
    };
    let mut changes = normalize(&relevant, given, stored, &cx)?;
    if adding {
        changes.extend(defaults(&relevant, given, &cx));
    }
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let mut values = Vec::with_capacity(change.elements.len());
        for e in change.elements {
            values.push(match e {
                Element::Ready(v) => v,
                Element::NewFile(f) => Value::from(s.insert_file(portal, &f.name, f.size).await?),
            });
        }
        let value = if change.multiple {
            (!values.is_empty()).then_some(Value::Array(values))
        } else {
            values.into_iter().next()
        };
        out.push((change.name, value));
    }
    Ok(out)
}

/// A number as PHP prints it.
fn plain_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Where a record's file can be shown, in Bitrix24's shape. leadtrace keeps no file content, so
/// nothing answers at these paths; the ids and key names are what clients read.
fn file_url(kind: EntityKind, owner_id: i64, field: &str, file_id: i64) -> String {
    format!(
        "/bitrix/components/bitrix/crm.{}.show/show_file.php?ownerId={owner_id}&fieldName={field}&dynamic=Y&fileId={file_id}",
        kind.method_name()
    )
}

fn format_one(
    uf: &UserField,
    v: &Value,
    kind: EntityKind,
    owner_id: i64,
    settings: &PortalSettings,
) -> Value {
    let string = |t: String| Value::String(t);
    match (uf.user_type, v) {
        (_, Value::Null) => Value::Null,
        (UserType::Boolean, Value::Number(n)) => Value::Bool(n.as_f64().unwrap_or(0.0) != 0.0),
        (UserType::Boolean, Value::Bool(b)) => Value::Bool(*b),
        (UserType::DateTime, Value::Number(n)) => match n.as_i64() {
            Some(ts) => string(dates::format_datetime(ts, settings.time_zone)),
            None => string(n.to_string()),
        },
        (UserType::Date, Value::String(t)) => string(dates::format_date(t, settings.time_zone)),
        (UserType::File, Value::Number(n)) => {
            let id = n.as_i64().unwrap_or_default();
            let url = file_url(kind, owner_id, &uf.field_name, id);
            json!({"id": id, "showUrl": url, "downloadUrl": url})
        }
        (_, Value::Number(n)) => string(match n.as_i64() {
            Some(i) => i.to_string(),
            None => plain_number(n.as_f64().unwrap_or(0.0)),
        }),
        (_, Value::String(t)) => string(t.clone()),
        (_, other) => other.clone(),
    }
}

/// A user field's value in a legacy record: strings for numbers and ids, JSON booleans,
/// ISO dates, file objects, arrays for multiple fields; `null` (`[]` when multiple) when unset.
pub fn format(
    uf: &UserField,
    stored: Option<&Value>,
    kind: EntityKind,
    owner_id: i64,
    settings: &PortalSettings,
) -> Value {
    let one = |v: &Value| format_one(uf, v, kind, owner_id, settings);
    if uf.multiple {
        let items = match stored {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a.iter().map(one).collect(),
            Some(v) => vec![one(v)],
        };
        Value::Array(items)
    } else {
        match stored {
            None => Value::Null,
            Some(Value::Array(a)) => a.first().map_or(Value::Null, one),
            Some(v) => one(v),
        }
    }
}

/// The `crm.<entity>.fields` entry of a user field (leads.md §2): `type` is the `USER_TYPE_ID`,
/// `isDynamic` true, `title` the field name, labels in the portal's first language, `settings`,
/// and the options of an enumeration.
pub fn describe(uf: &UserField) -> Value {
    let lang = LANGUAGES.first().copied().unwrap_or("en");
    let mut m = Map::new();
    m.insert("type".into(), Value::String(uf.user_type.id().into()));
    m.insert("isRequired".into(), Value::Bool(uf.mandatory));
    m.insert("isReadOnly".into(), Value::Bool(!uf.writable()));
    m.insert("isImmutable".into(), Value::Bool(false));
    m.insert("isMultiple".into(), Value::Bool(uf.multiple));
    m.insert("isDynamic".into(), Value::Bool(true));
    m.insert("title".into(), Value::String(uf.field_name.clone()));
    m.insert(
        "listLabel".into(),
        Value::String(uf.label("LIST_COLUMN_LABEL", lang).into()),
    );
    m.insert(
        "formLabel".into(),
        Value::String(uf.label("EDIT_FORM_LABEL", lang).into()),
    );
    m.insert(
        "filterLabel".into(),
        Value::String(uf.label("LIST_FILTER_LABEL", lang).into()),
    );
    m.insert(
        "settings".into(),
        php_array(uf.settings.clone().into_iter().collect()),
    );
    if uf.user_type == UserType::Enumeration {
        let items = uf
            .items
            .iter()
            .map(|i| json!({"ID": i.id.to_string(), "VALUE": i.value}))
            .collect();
        m.insert("items".into(), Value::Array(items));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::userfield::EnumItem;

    const NOW: i64 = 1_716_481_105; // 2024-05-23T16:18:25Z

    fn field(ty: UserType, multiple: bool) -> UserField {
        let mut uf = UserField::new("CRM_LEAD", "UF_CRM_X", ty);
        uf.multiple = multiple;
        uf
    }

    fn dicts() -> Dictionaries {
        Dictionaries {
            currencies: vec!["USD".into(), "EUR".into()],
            statuses: HashMap::from([("SOURCE".to_string(), vec!["CALL".into(), "WEB".into()])]),
        }
    }

    fn cx(d: &Dictionaries) -> ValueCtx<'_> {
        ValueCtx {
            tz: chrono_tz::Europe::Berlin,
            now: NOW,
            base_currency: "USD",
            dicts: d,
        }
    }

    /// The stored value of one given value (`Ok(None)`: the field is left alone).
    fn one(uf: &UserField, v: Value) -> Result<Option<Value>, ApiError> {
        let d = dicts();
        let given = Map::from_iter([(uf.field_name.clone(), v)]);
        let changes = normalize(std::slice::from_ref(uf), &given, None, &cx(&d))?;
        Ok(changes.into_iter().next().map(|c| {
            let vals: Vec<Value> = c
                .elements
                .into_iter()
                .map(|e| match e {
                    Element::Ready(v) => v,
                    Element::NewFile(f) => json!({"new": f.name, "size": f.size}),
                })
                .collect();
            if c.multiple {
                Value::Array(vals)
            } else {
                vals.into_iter().next().unwrap_or(Value::Null)
            }
        }))
    }

    fn ok(uf: &UserField, v: Value) -> Value {
        one(uf, v.clone())
            .unwrap_or_else(|e| panic!("{v}: {e}"))
            .unwrap_or_else(|| panic!("{v}: ignored"))
    }

    fn bad(uf: &UserField, v: Value) {
        assert_eq!(one(uf, v.clone()), Err(invalid(uf)), "{v}");
    }

    #[test]
    fn scalars_by_type() {
        let s = field(UserType::String, false);
        assert_eq!(ok(&s, json!(" a ")), json!(" a "));
        assert_eq!(ok(&s, json!(15)), json!("15"));
        assert_eq!(ok(&s, json!("")), json!(null));
        bad(&s, json!(["a"]));
        let i = field(UserType::Integer, false);
        assert_eq!(ok(&i, json!("42")), json!(42));
        assert_eq!(ok(&i, json!(" -7 ")), json!(-7));
        assert_eq!(ok(&i, json!(3.9)), json!(3));
        assert_eq!(ok(&i, json!(null)), json!(null));
        bad(&i, json!("12abc"));
        bad(&i, json!(true));
        let d = field(UserType::Double, false);
        assert_eq!(ok(&d, json!("2.345")), json!(2.35));
        assert_eq!(ok(&d, json!(7)), json!(7.0));
        bad(&d, json!("x"));
        let b = field(UserType::Boolean, false);
        for (v, want) in [
            (json!("Y"), 1),
            (json!("n"), 0),
            (json!(true), 1),
            (json!("0"), 0),
            (json!(1), 1),
            (json!("false"), 0),
        ] {
            assert_eq!(ok(&b, v), json!(want));
        }
        bad(&b, json!("maybe"));
        let u = field(UserType::Url, false);
        assert_eq!(ok(&u, json!(" https://x.org ")), json!("https://x.org"));
        let a = field(UserType::Address, false);
        assert_eq!(ok(&a, json!("Main st 1|Berlin")), json!("Main st 1|Berlin"));
        let e = field(UserType::Employee, false);
        assert_eq!(ok(&e, json!("5")), json!(5));
        bad(&e, json!(0));
        bad(&e, json!("bob"));
    }

    #[test]
    fn dates_like_system_fields() {
        let dt = field(UserType::DateTime, false);
        assert_eq!(ok(&dt, json!("2024-05-23T18:18:25+02:00")), json!(NOW));
        assert_eq!(ok(&dt, json!("2024-05-23 18:18:25")), json!(NOW));
        assert_eq!(one(&dt, json!("someday")), Ok(None), "ignored");
        assert_eq!(ok(&dt, json!("")), json!(null));
        let d = field(UserType::Date, false);
        assert_eq!(
            ok(&d, json!("2025-04-29T03:00:00+03:00")),
            json!("2025-04-29")
        );
        let dm = field(UserType::Date, true);
        assert_eq!(
            ok(&dm, json!(["2025-01-02", "nope", "2025-01-03"])),
            json!(["2025-01-02", "2025-01-03"])
        );
    }

    #[test]
    fn enumeration_by_option_id() {
        let mut e = field(UserType::Enumeration, true);
        e.items = vec![
            EnumItem {
                id: 11,
                value: "a".into(),
                sort: 10,
                def: true,
                xml_id: "A".into(),
            },
            EnumItem {
                id: 12,
                value: "b".into(),
                sort: 20,
                def: false,
                xml_id: "B".into(),
            },
        ];
        assert_eq!(ok(&e, json!(["11", 12])), json!([11, 12]));
        assert_eq!(ok(&e, json!(12)), json!([12]));
        assert_eq!(ok(&e, json!({"n0": 11})), json!([11]));
        assert_eq!(ok(&e, json!([])), json!([]));
        bad(&e, json!([11, 13]));
        bad(&e, json!(["a"]));
    }

    #[test]
    fn money_and_crm_bindings() {
        let m = field(UserType::Money, false);
        assert_eq!(ok(&m, json!("300|eur")), json!("300|EUR"));
        assert_eq!(ok(&m, json!("12.50")), json!("12.50|USD"));
        assert_eq!(ok(&m, json!(300)), json!("300|USD"));
        bad(&m, json!("300|XYZ"));
        bad(&m, json!("lots|EUR"));

        let mut c = field(UserType::Crm, false);
        assert_eq!(ok(&c, json!("4")), json!("4"));
        assert_eq!(ok(&c, json!("L_4")), json!("4"));
        bad(&c, json!("D_4"));
        bad(&c, json!("0"));
        merge_settings(
            UserType::Crm,
            &mut c.settings,
            &json!({"DEAL": "Y", "CONTACT": "Y"}),
        );
        assert_eq!(c.settings["LEAD"], json!("N"));
        assert_eq!(ok(&c, json!("d_1")), json!("D_1"));
        assert_eq!(ok(&c, json!("C_2")), json!("C_2"));
        bad(&c, json!("L_4"));
        bad(&c, json!("4"));
        bad(&c, json!("D_x"));
    }

    #[test]
    fn crm_status_against_its_dictionary() {
        let mut st = field(UserType::CrmStatus, false);
        assert_eq!(ok(&st, json!("ANY")), json!("ANY"));
        merge_settings(
            UserType::CrmStatus,
            &mut st.settings,
            &json!({"ENTITY_TYPE": "source"}),
        );
        assert_eq!(ok(&st, json!("web")), json!("WEB"));
        bad(&st, json!("NOPE"));
    }

    #[test]
    fn files_keep_metadata_only() {
        let f = field(UserType::File, false);
        assert_eq!(
            ok(&f, json!({"fileData": ["a.txt", "aGVsbG8="]})),
            json!({"new": "a.txt", "size": 5})
        );
        assert_eq!(
            ok(&f, json!({"fileData": ["aGVsbG8"]})),
            json!({"new": "file", "size": 5})
        );
        assert_eq!(
            ok(&f, json!(["b.bin", "AAEC"])),
            json!({"new": "b.bin", "size": 3})
        );
        bad(&f, json!({"fileData": ["x", "!!!"]}));
        bad(&f, json!("aGVsbG8="));
        // Keeping or removing needs the record's own file ids.
        let d = dicts();
        let stored = Map::from_iter([("UF_CRM_X".to_string(), json!(9))]);
        let given = |v: Value| Map::from_iter([("UF_CRM_X".to_string(), v)]);
        let run = |v: Value| {
            normalize(std::slice::from_ref(&f), &given(v), Some(&stored), &cx(&d)).unwrap()
        };
        assert_eq!(
            run(json!({"id": 9}))[0].elements,
            vec![Element::Ready(json!(9))]
        );
        assert!(run(json!({"id": 9, "remove": "Y"}))[0].elements.is_empty());
        assert!(
            run(json!({"id": 8})).is_empty(),
            "another record's file is ignored"
        );
        let fm = field(UserType::File, true);
        let stored = Map::from_iter([("UF_CRM_X".to_string(), json!([7, 9]))]);
        let got = normalize(
            std::slice::from_ref(&fm),
            &given(json!([{"id": 7}, {"id": 9, "remove": "Y"}, {"fileData": ["c", "AA=="]}, {"id": 1}])),
            Some(&stored),
            &cx(&d),
        )
        .unwrap();
        assert_eq!(
            got[0].elements,
            vec![
                Element::Ready(json!(7)),
                Element::NewFile(NewFile {
                    name: "c".into(),
                    size: 1
                })
            ]
        );
    }

    #[test]
    fn undefined_and_read_only_fields_are_dropped() {
        let mut ro = field(UserType::String, false);
        ro.edit_in_list = false;
        let d = dicts();
        let given = Map::from_iter([
            ("UF_CRM_X".to_string(), json!("v")),
            ("UF_CRM_OTHER".to_string(), json!("v")),
        ]);
        assert!(normalize(&[ro], &given, None, &cx(&d)).unwrap().is_empty());
    }

    #[test]
    fn defaults_on_add() {
        let mut s = field(UserType::String, false);
        merge_settings(
            UserType::String,
            &mut s.settings,
            &json!({"DEFAULT_VALUE": "hello"}),
        );
        let mut b = field(UserType::Boolean, false);
        b.field_name = "UF_CRM_B".into();
        let mut dt = field(UserType::DateTime, false);
        dt.field_name = "UF_CRM_DT".into();
        merge_settings(
            UserType::DateTime,
            &mut dt.settings,
            &json!({"DEFAULT_VALUE": {"TYPE": "now"}}),
        );
        let mut e = field(UserType::Enumeration, true);
        e.field_name = "UF_CRM_E".into();
        e.items = vec![
            EnumItem {
                id: 1,
                value: "a".into(),
                sort: 1,
                def: true,
                xml_id: "a".into(),
            },
            EnumItem {
                id: 2,
                value: "b".into(),
                sort: 2,
                def: true,
                xml_id: "b".into(),
            },
        ];
        let plain = field(UserType::Integer, false);
        let mut plain = plain;
        plain.field_name = "UF_CRM_I".into();
        let d = dicts();
        let given = Map::from_iter([("UF_CRM_X".to_string(), json!("given"))]);
        let got = defaults(&[s, b, dt, e, plain], &given, &cx(&d));
        let got: Vec<(&str, Vec<Element>)> = got
            .iter()
            .map(|c| (c.name.as_str(), c.elements.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("UF_CRM_B", vec![Element::Ready(json!(0))]),
                ("UF_CRM_DT", vec![Element::Ready(json!(NOW))]),
                (
                    "UF_CRM_E",
                    vec![Element::Ready(json!(1)), Element::Ready(json!(2))]
                ),
            ]
        );
    }

    #[test]
    fn legacy_output() {
        let st = PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "EUR".into(),
        };
        let f = |ty, multiple, v: Option<Value>| {
            format(&field(ty, multiple), v.as_ref(), EntityKind::Lead, 5, &st)
        };
        assert_eq!(f(UserType::Integer, false, Some(json!(42))), json!("42"));
        assert_eq!(f(UserType::Double, false, Some(json!(2.5))), json!("2.5"));
        assert_eq!(f(UserType::Double, false, Some(json!(7.0))), json!("7"));
        assert_eq!(f(UserType::Boolean, false, Some(json!(1))), json!(true));
        assert_eq!(f(UserType::Boolean, false, Some(json!(0))), json!(false));
        assert_eq!(f(UserType::Boolean, false, None), json!(null));
        assert_eq!(
            f(UserType::DateTime, false, Some(json!(NOW))),
            json!("2024-05-23T18:18:25+02:00")
        );
        assert_eq!(
            f(UserType::Date, false, Some(json!("2025-04-29"))),
            json!("2025-04-29T02:00:00+02:00")
        );
        assert_eq!(
            f(UserType::Enumeration, true, Some(json!([3, 4]))),
            json!(["3", "4"])
        );
        assert_eq!(f(UserType::Enumeration, true, None), json!([]));
        assert_eq!(
            f(UserType::Money, false, Some(json!("300|EUR"))),
            json!("300|EUR")
        );
        assert_eq!(
            f(UserType::File, false, Some(json!(12))),
            json!({"id": 12, "showUrl": "/bitrix/components/bitrix/crm.lead.show/show_file.php?ownerId=5&fieldName=UF_CRM_X&dynamic=Y&fileId=12",
                   "downloadUrl": "/bitrix/components/bitrix/crm.lead.show/show_file.php?ownerId=5&fieldName=UF_CRM_X&dynamic=Y&fileId=12"})
        );
    }

    #[test]
    fn fields_entry() {
        let mut e = field(UserType::Enumeration, true);
        e.mandatory = true;
        e.items = vec![EnumItem {
            id: 3,
            value: "a".into(),
            sort: 1,
            def: false,
            xml_id: "a".into(),
        }];
        e.labels
            .get_mut("LIST_COLUMN_LABEL")
            .unwrap()
            .insert("en".into(), "Col".into());
        assert_eq!(
            serde_json::to_string(&describe(&e)).unwrap(),
            r#"{"type":"enumeration","isRequired":true,"isReadOnly":false,"isImmutable":false,"isMultiple":true,"isDynamic":true,"title":"UF_CRM_X","listLabel":"Col","formLabel":"","filterLabel":"","settings":{"DISPLAY":"LIST","LIST_HEIGHT":1,"CAPTION_NO_VALUE":"","SHOW_NO_VALUE":"Y"},"items":[{"ID":"3","VALUE":"a"}]}"#
        );
        let a = field(UserType::Address, false);
        assert_eq!(describe(&a)["settings"], json!([]));
    }
}
