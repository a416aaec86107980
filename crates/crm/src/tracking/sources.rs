//! Managing sources (extension, E19): `leadtrace.tracking.source.list/add/update/delete` and the
//! `leadtrace source …` commands, which call these same functions with an administrator.
//!
//! Anyone with the `crm` scope may list sources; changing them needs an administrator.

use super::source::{compile_regexp, MatchKind, MatchValue, Source};
use super::NO_SOURCE_CODE;
use crate::dates;
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{json, Map, Value};

pub const MAX_NAME_CHARS: usize = 255;
pub const MAX_CODE_CHARS: usize = 64;
pub const MAX_COLOR_CHARS: usize = 32;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
pub const MAX_VALUE_CHARS: usize = 256;
pub const MAX_VALUES: usize = 100;

/// A source as the methods show it.
pub fn source_json(s: &Source, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), json!(s.id));
    m.insert("CODE".into(), json!(s.code));
    m.insert("NAME".into(), json!(s.name));
    m.insert("ACTIVE".into(), json!(if s.active { "Y" } else { "N" }));
    m.insert(
        "DATE_CREATE".into(),
        json!(dates::format_datetime(s.created_at, ctx.settings.time_zone)),
    );
    m.insert("COLOR".into(), json!(s.color));
    m.insert("DESCRIPTION".into(), json!(s.description));
    for kind in MatchKind::ALL {
        let values: Vec<Value> = s
            .values(kind)
            .iter()
            .map(|v| {
                if v.is_regexp {
                    json!({ "REGEXP": v.value })
                } else {
                    json!(v.value)
                }
            })
            .collect();
        m.insert(kind.as_str().into(), Value::Array(values));
    }
    Value::Object(m)
}

pub(crate) fn invalid(text: impl Into<String>) -> ApiError {
    ApiError::core(text.into())
}

pub(crate) fn require_admin(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.actor.rights.admin {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

pub(crate) fn string(fields: &Value, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = wire::php_get(fields, name) else {
        return Ok(None);
    };
    if wire::is_php_array(v) {
        return Err(invalid(format!("Field {name} must be a string.")));
    }
    let s = wire::strval(v).unwrap_or_default().trim().to_string();
    if s.chars().count() > max {
        return Err(invalid(format!(
            "Field {name} is longer than {max} characters."
        )));
    }
    Ok(Some(s))
}

/// A match list (field `name`): a list (or one value) of plain strings and `{"REGEXP": pattern}`
/// items. Channel rules take their lists the same way.
pub(crate) fn match_list(name: &str, v: &Value) -> Result<Vec<MatchValue>, ApiError> {
    let items: Vec<&Value> = match v {
        Value::Null => vec![],
        Value::Array(a) => a.iter().collect(),
        // A single `{"REGEXP": …}` item, or a list that arrived as a PHP array with keys.
        Value::Object(m) if m.keys().any(|k| k.eq_ignore_ascii_case("REGEXP")) => vec![v],
        Value::Object(m) => m.values().collect(),
        other => vec![other],
    };
    if items.len() > MAX_VALUES {
        return Err(invalid(format!(
            "Field {name} has more than {MAX_VALUES} values."
        )));
    }
    let mut out: Vec<MatchValue> = Vec::new();
    for item in items {
        let (raw, is_regexp) = match item {
            Value::Object(m) => {
                let Some((_, p)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("REGEXP")) else {
                    return Err(invalid(format!(
                        "Field {name}: an item is either a value or {{\"REGEXP\": pattern}}."
                    )));
                };
                (wire::strval(p).unwrap_or_default(), true)
            }
            Value::Array(_) => {
                return Err(invalid(format!(
                    "Field {name}: an item is either a value or {{\"REGEXP\": pattern}}."
                )))
            }
            other => (wire::strval(other).unwrap_or_default(), false),
        };
        let value = if is_regexp {
            raw
        } else {
            raw.trim().to_string()
        };
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "Field {name}: a value is longer than {MAX_VALUE_CHARS} characters."
            )));
        }
        if is_regexp {
            compile_regexp(&value).map_err(|e| {
                invalid(format!(
                    "Field {name}: invalid regular expression `{value}`: {e}"
                ))
            })?;
        }
        let item = MatchValue { value, is_regexp };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

/// Applies `fields` to `source` (all keys optional; the lists given replace the stored ones).
fn apply(source: &mut Source, fields: &Value) -> Result<(), ApiError> {
    if let Some(name) = string(fields, "NAME", MAX_NAME_CHARS)? {
        if name.is_empty() {
            return Err(invalid("Field NAME must not be empty."));
        }
        source.name = name;
    }
    if let Some(code) = string(fields, "CODE", MAX_CODE_CHARS)? {
        if code.eq_ignore_ascii_case(NO_SOURCE_CODE) {
            return Err(invalid(format!(
                "CODE `{NO_SOURCE_CODE}` is reserved for source 0."
            )));
        }
        source.code = code;
    }
    if let Some(v) = wire::php_get(fields, "ACTIVE") {
        source.active = wire::yes_no(v).ok_or_else(|| invalid("Field ACTIVE must be Y or N."))?;
    }
    if let Some(color) = string(fields, "COLOR", MAX_COLOR_CHARS)? {
        source.color = (!color.is_empty()).then_some(color);
    }
    if let Some(d) = string(fields, "DESCRIPTION", MAX_DESCRIPTION_CHARS)? {
        source.description = d;
    }
    for kind in MatchKind::ALL {
        if let Some(v) = wire::php_get(fields, kind.as_str()) {
            *source.values_mut(kind) = match_list(kind.as_str(), v)?;
        }
    }
    Ok(())
}

pub(crate) fn fields_param(params: &Params) -> Result<&Value, ApiError> {
    wire::legacy(params, "fields")
        .filter(|v| wire::is_php_array(v))
        .ok_or_else(|| ApiError::legacy(text::FIELDS_MUST_BE_ARRAY))
}

pub(crate) fn record_id(params: &Params) -> Result<i64, ApiError> {
    match wire::id(params) {
        id if id > 0 => Ok(id),
        _ => Err(ApiError::id_not_defined()),
    }
}

/// The answer of an update or delete of a record found by `id`: `true`, or not found.
pub(crate) fn done_if_found(found: bool) -> Result<Output, ApiError> {
    if !found {
        return Err(ApiError::not_found());
    }
    Ok(Output::from(Value::Bool(true)))
}

/// A non-empty code must name one source only.
fn check_code(all: &[Source], source: &Source) -> Result<(), ApiError> {
    if !source.code.is_empty()
        && all
            .iter()
            .any(|s| s.id != source.id && s.code.eq_ignore_ascii_case(&source.code))
    {
        return Err(invalid(format!(
            "A source with CODE `{}` already exists.",
            source.code
        )));
    }
    Ok(())
}

/// `leadtrace.tracking.source.list`: every source (active or not) by id. Source 0 (organic /
/// other traffic) is virtual and not listed.
pub async fn list<S: Storage>(s: &mut S, ctx: &Ctx<'_>) -> Result<Output, ApiError> {
    let sources = s.sources(ctx.actor.portal_id).await?;
    let items: Vec<Value> = sources.iter().map(|x| source_json(x, ctx)).collect();
    let total = items.len() as i64;
    Ok(Output::list(Value::Array(items), total, None))
}

/// `leadtrace.tracking.source.add` (`fields`): the new id.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let fields = fields_param(params)?;
    let mut source = Source {
        active: true,
        created_at: ctx.now,
        ..Source::default()
    };
    apply(&mut source, fields)?;
    if source.name.is_empty() {
        return Err(invalid("Required field NAME is not specified."));
    }
    let all = s.sources(ctx.actor.portal_id).await?;
    check_code(&all, &source)?;
    let id = s.insert_source(ctx.actor.portal_id, &source).await?;
    Ok(Output::from(Value::from(id)))
}

/// `leadtrace.tracking.source.update` (`id`, `fields`): `true`.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let id = record_id(params)?;
    let fields = fields_param(params)?;
    let all = s.sources(ctx.actor.portal_id).await?;
    let Some(mut source) = all.iter().find(|x| x.id == id).cloned() else {
        return Err(ApiError::not_found());
    };
    apply(&mut source, fields)?;
    check_code(&all, &source)?;
    done_if_found(s.update_source(ctx.actor.portal_id, &source).await?)
}

/// `leadtrace.tracking.source.delete` (`id`): `true`. Traces of the source fall back to source 0;
/// its expense packs are deleted with it (spend without its source would count for no report row).
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    let id = record_id(params)?;
    done_if_found(s.delete_source(ctx.actor.portal_id, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_lists() {
        let v = json!(["google", " g2 ", {"REGEXP": "^goo"}, "", "google"]);
        assert_eq!(
            match_list(MatchKind::UtmSource.as_str(), &v).unwrap(),
            vec![
                MatchValue::plain("google"),
                MatchValue::plain("g2"),
                MatchValue::regexp("^goo")
            ]
        );
        assert_eq!(
            match_list(MatchKind::RefDomain.as_str(), &json!("example.com")).unwrap(),
            vec![MatchValue::plain("example.com")]
        );
        assert_eq!(
            match_list(MatchKind::UtmSource.as_str(), &json!({"regexp": "x+"})).unwrap(),
            vec![MatchValue::regexp("x+")]
        );
        assert_eq!(
            match_list(
                MatchKind::UtmSource.as_str(),
                &json!({"0": "a", "1": {"REGEXP": "b"}})
            )
            .unwrap(),
            vec![MatchValue::plain("a"), MatchValue::regexp("b")]
        );
        assert!(match_list(MatchKind::UtmSource.as_str(), &json!(null))
            .unwrap()
            .is_empty());
        let e = match_list(MatchKind::UtmSource.as_str(), &json!([{"REGEXP": "("}])).unwrap_err();
        assert!(e
            .description()
            .starts_with("Field UTM_SOURCE: invalid regular expression `(`"));
        assert!(match_list(MatchKind::Email.as_str(), &json!([[1]])).is_err());
        assert!(match_list(MatchKind::Email.as_str(), &json!(["x".repeat(257)])).is_err());
        let many: Vec<String> = (0..=MAX_VALUES).map(|i| i.to_string()).collect();
        assert!(match_list(MatchKind::Phone.as_str(), &json!(many)).is_err());
    }

    #[test]
    fn applying_fields() {
        let mut s = Source::default();
        apply(
            &mut s,
            &json!({"NAME": " Partners ", "CODE": "partners", "ACTIVE": "N", "COLOR": "#00ff00",
                    "DESCRIPTION": "d", "UTM_SOURCE": ["p"], "REF_DOMAIN": ["partner.com"], "OTHER": 1}),
        )
        .unwrap();
        assert_eq!(s.name, "Partners");
        assert_eq!(s.code, "partners");
        assert!(!s.active);
        assert_eq!(s.color.as_deref(), Some("#00ff00"));
        assert_eq!(s.utm_source, vec![MatchValue::plain("p")]);
        assert_eq!(s.ref_domain, vec![MatchValue::plain("partner.com")]);
        // Lists not given stay; given ones are replaced.
        apply(&mut s, &json!({"UTM_SOURCE": [], "COLOR": ""})).unwrap();
        assert!(s.utm_source.is_empty());
        assert_eq!(s.ref_domain.len(), 1);
        assert_eq!(s.color, None);
        for bad in [
            json!({"NAME": ""}),
            json!({"NAME": ["x"]}),
            json!({"ACTIVE": "maybe"}),
            json!({"CODE": "organic"}),
            json!({"NAME": "n".repeat(256)}),
        ] {
            assert!(apply(&mut s, &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_unique() {
        let all = vec![
            Source {
                id: 1,
                code: "google".into(),
                ..Source::default()
            },
            Source {
                id: 2,
                code: String::new(),
                ..Source::default()
            },
        ];
        let mut new = Source {
            id: 0,
            code: "Google".into(),
            ..Source::default()
        };
        assert_eq!(
            check_code(&all, &new).unwrap_err().description(),
            "A source with CODE `Google` already exists."
        );
        new.code = String::new();
        assert!(check_code(&all, &new).is_ok());
        let same = all[0].clone();
        assert!(check_code(&all, &same).is_ok());
    }
}
