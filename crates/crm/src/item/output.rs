//! Typed output of the `crm.item.*` view (spec/entities.md §6.3): camelCase keys, integers and
//! money as JSON numbers, `Y`/`N`, ISO dates, `null` for empty, `fm` lists; and `crm.item.fields`.

use super::names;
use super::select::{binding_single, has_multifields, ItemSelection};
use crate::dates;
use crate::entity::EntityKind;
use crate::field::{ColumnType, FieldDef, FieldKind};
use crate::input::round2;
use crate::query::{DbValue, Multifield, Row};
use crate::select::UfSelect;
use crate::userfield::{self, UserField, LANGUAGES};
use crate::PortalSettings;
use serde_json::{Map, Value};

/// A number as JSON: integral values without a fraction (`"opportunity": 19000`).
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

/// One stored value, typed.
pub fn typed_value(def: &FieldDef, v: &DbValue, settings: &PortalSettings) -> Value {
    let tz = settings.time_zone;
    match def.kind {
        // A flag is never null: no value is "no".
        FieldKind::Char => Value::String(
            match v {
                DbValue::Text(t) if t.eq_ignore_ascii_case("Y") => "Y",
                _ => "N",
            }
            .into(),
        ),
        FieldKind::DateTime => match v {
            DbValue::Int(ts) => Value::String(dates::format_datetime(*ts, tz)),
            DbValue::Real(r) => Value::String(dates::format_datetime(r.trunc() as i64, tz)),
            DbValue::Text(t) => match t.trim().parse::<i64>() {
                Ok(ts) => Value::String(dates::format_datetime(ts, tz)),
                Err(_) if t.is_empty() => Value::Null,
                Err(_) => Value::String(t.clone()),
            },
            DbValue::Null => Value::Null,
        },
        FieldKind::Date => match v {
            DbValue::Text(t) if !t.is_empty() => Value::String(dates::format_date(t, tz)),
            _ => Value::Null,
        },
        // Never null, as in legacy output: clients build a currency from it.
        FieldKind::CrmCurrency => match v {
            DbValue::Text(t) if !t.is_empty() => Value::String(t.clone()),
            _ => Value::String(settings.currency.clone()),
        },
        kind => match (kind.column_type(), v) {
            (_, DbValue::Null) => Value::Null,
            (ColumnType::Real, DbValue::Real(r)) => number(round2(*r)),
            (_, DbValue::Int(i)) => Value::from(*i),
            (_, DbValue::Real(r)) => number(*r),
            (ColumnType::Text, DbValue::Text(t)) => Value::String(t.clone()),
            (_, DbValue::Text(t)) => match t.trim().parse::<f64>() {
                Ok(f) => number(f),
                Err(_) => Value::String(t.clone()),
            },
        },
    }
}

/// `{"id", "valueType", "value", "typeId"}`.
fn format_multifield(m: &Multifield) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::from(m.id));
    out.insert("valueType".into(), Value::String(m.value_type.clone()));
    out.insert("value".into(), Value::String(m.value.clone()));
    out.insert("typeId".into(), Value::String(m.type_id.clone()));
    Value::Object(out)
}

/// Read-only pseudo fields derived from the multifields (spec/entities.md §6.3): the first value
/// of a type, optionally of given value types.
const PSEUDO_FIELDS: [(&str, &str, &[&str]); 11] = [
    ("phone", "PHONE", &[]),
    ("phoneMobile", "PHONE", &["MOBILE"]),
    ("phoneWork", "PHONE", &["WORK"]),
    ("phoneMailing", "PHONE", &["MAILING"]),
    ("email", "EMAIL", &[]),
    ("emailHome", "EMAIL", &["HOME"]),
    ("emailWork", "EMAIL", &["WORK"]),
    ("emailMailing", "EMAIL", &["MAILING"]),
    ("skype", "IM", &["SKYPE"]),
    ("icq", "IM", &["ICQ"]),
    ("imol", "IM", &["OPENLINE", "IMOL"]),
];

/// One item. `row` was read with `isel.sel`; `multifields` may hold other owners' values.
pub fn format_item(
    kind: EntityKind,
    isel: &ItemSelection,
    row: &Row,
    multifields: &[Multifield],
    settings: &PortalSettings,
    original_uf_names: bool,
) -> Value {
    let mut out = Map::new();
    for def in &isel.fields {
        let value = match binding_single(kind, def) {
            // A binding lists what it binds; storage keeps its first element (leads.md §3.1).
            Some(single) => match isel.sel.value(row, single.name) {
                DbValue::Int(id) if id > 0 => Value::Array(vec![Value::from(id)]),
                _ => Value::Array(vec![]),
            },
            None => typed_value(def, &isel.sel.value(row, def.name), settings),
        };
        out.insert(names::item_name(def), value);
    }
    for camel in &isel.disabled {
        out.insert((*camel).to_string(), Value::Null);
    }
    if isel.all {
        out.insert("entityTypeId".into(), Value::from(kind.entity_type_id()));
    }
    if let Some(uf) = &row.uf {
        let mut entries: Vec<(&String, &Value)> = uf
            .iter()
            .filter(|(name, _)| match &isel.sel.uf {
                UfSelect::None => false,
                UfSelect::All => true,
                UfSelect::Names(set) => set.contains(name.as_str()),
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in entries {
            let key = if original_uf_names {
                name.clone()
            } else {
                names::uf_item_name(name, None)
            };
            out.insert(key, value.clone());
        }
    }
    if isel.all && has_multifields(kind) {
        let mut mine: Vec<&Multifield> = multifields
            .iter()
            .filter(|m| m.owner_id == row.id)
            .collect();
        mine.sort_by_key(|m| m.id);
        for (name, type_id, value_types) in PSEUDO_FIELDS {
            let found = mine.iter().find(|m| {
                m.type_id == type_id
                    && (value_types.is_empty() || value_types.contains(&m.value_type.as_str()))
            });
            out.insert(
                name.into(),
                found.map_or(Value::Null, |m| Value::String(m.value.clone())),
            );
        }
        out.insert(
            names::FM.into(),
            Value::Array(mine.into_iter().map(format_multifield).collect()),
        );
    }
    Value::Object(out)
}

/// `crm.item.fields`: `{"fields": {<camelName>: description}}` in table order, then `fm`, then
/// the user fields (`ufs`) under their item names (`original_uf_names`: `UF_CRM_*`).
pub fn describe_fields(kind: EntityKind, ufs: &[UserField], original_uf_names: bool) -> Value {
    let disabled = names::disabled(kind);
    let mut fields = Map::new();
    for def in names::item_fields(kind) {
        let name = names::item_name(def);
        if disabled.contains(&name.as_str()) {
            continue;
        }
        fields.insert(name, describe_field(def));
    }
    if has_multifields(kind) {
        let mut m = flags("crm_multifield", [false, false, false, true]);
        m.insert("title".into(), Value::String("Multifields".into()));
        m.insert("upperName".into(), Value::String("FM".into()));
        fields.insert(names::FM.into(), Value::Object(m));
    }
    for uf in ufs {
        let key = if original_uf_names {
            uf.field_name.clone()
        } else {
            names::uf_item_name(&uf.field_name, None)
        };
        fields.insert(key, describe_user_field(uf));
    }
    let mut out = Map::new();
    out.insert("fields".into(), Value::Object(fields));
    Value::Object(out)
}

/// A user field as the legacy `*.fields` shows it (type, flags, labels, settings, items), with
/// the item descriptions' `title` (the edit-form label, else the name) and `upperName`.
fn describe_user_field(uf: &UserField) -> Value {
    let mut v = userfield::value::describe(uf);
    if let Some(m) = v.as_object_mut() {
        let lang = LANGUAGES.first().copied().unwrap_or("en");
        let label = uf.label("EDIT_FORM_LABEL", lang);
        let title = if label.is_empty() {
            uf.field_name.as_str()
        } else {
            label
        };
        m.insert("title".into(), Value::String(title.into()));
        m.insert("upperName".into(), Value::String(uf.field_name.clone()));
    }
    v
}

/// `type` and the flags `[isRequired, isReadOnly, isImmutable, isMultiple]`, then `isDynamic`.
fn flags(type_name: &str, flags: [bool; 4]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(type_name.into()));
    for (name, value) in ["isRequired", "isReadOnly", "isImmutable", "isMultiple"]
        .into_iter()
        .zip(flags)
    {
        m.insert(name.into(), Value::Bool(value));
    }
    m.insert("isDynamic".into(), Value::Bool(false));
    m
}

/// Key order as in the docs' `crm.item.fields` example.
fn describe_field(def: &FieldDef) -> Value {
    let type_name = match def.kind {
        FieldKind::Char => "boolean",
        kind => kind.type_name(),
    };
    let mut m = flags(
        type_name,
        [def.required, def.read_only, def.immutable, def.multiple],
    );
    if def.deprecated {
        m.insert("isDeprecated".into(), Value::Bool(true));
    }
    if let FieldKind::CrmStatus(entity_id) = def.kind {
        m.insert("statusType".into(), Value::String(entity_id.into()));
    }
    let title = if def.title.is_empty() {
        def.name
    } else {
        def.title
    };
    m.insert("title".into(), Value::String(title.into()));
    if let Some(settings) = def
        .settings
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
    {
        m.insert("settings".into(), settings);
    }
    m.insert(
        "upperName".into(),
        Value::String(names::item_upper_name(def)),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::LEAD_FIELDS;
    use serde_json::json;

    fn settings() -> PortalSettings {
        PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "EUR".into(),
        }
    }

    fn def(name: &str) -> &'static FieldDef {
        LEAD_FIELDS
            .iter()
            .find(|f| f.name == name)
            .expect("lead field")
    }

    #[test]
    fn typed_values() {
        let st = settings();
        let t = |s: &str| DbValue::Text(s.into());
        assert_eq!(typed_value(def("ID"), &DbValue::Int(253), &st), json!(253));
        assert_eq!(
            typed_value(def("ASSIGNED_BY_ID"), &DbValue::Int(6), &st),
            json!(6)
        );
        assert_eq!(
            typed_value(def("COMPANY_ID"), &DbValue::Null, &st),
            json!(null)
        );
        assert_eq!(
            typed_value(def("OPPORTUNITY"), &DbValue::Real(19000.0), &st),
            json!(19000)
        );
        assert_eq!(
            typed_value(def("OPPORTUNITY"), &DbValue::Real(0.125), &st),
            json!(0.13)
        );
        assert_eq!(
            typed_value(def("OPPORTUNITY"), &DbValue::Null, &st),
            json!(null)
        );
        assert_eq!(typed_value(def("OPENED"), &t("Y"), &st), json!("Y"));
        assert_eq!(
            typed_value(def("HAS_IMOL"), &DbValue::Null, &st),
            json!("N")
        );
        assert_eq!(typed_value(def("TITLE"), &DbValue::Null, &st), json!(null));
        assert_eq!(typed_value(def("TITLE"), &t("x"), &st), json!("x"));
        assert_eq!(
            typed_value(def("CURRENCY_ID"), &DbValue::Null, &st),
            json!("EUR")
        );
        assert_eq!(
            typed_value(def("DATE_CREATE"), &DbValue::Int(1_716_481_105), &st),
            json!("2024-05-23T18:18:25+02:00")
        );
        assert_eq!(
            typed_value(def("DATE_CLOSED"), &DbValue::Null, &st),
            json!(null)
        );
        assert_eq!(
            typed_value(def("BIRTHDATE"), &DbValue::Null, &st),
            json!(null)
        );
        assert!(typed_value(def("BIRTHDATE"), &t("1990-07-01"), &st)
            .as_str()
            .is_some_and(|s| s.starts_with("1990-07-01T")));
    }

    #[test]
    fn an_item_with_bindings_user_fields_and_multifields() {
        let isel = ItemSelection::everything(EntityKind::Lead);
        let cols = isel.sel.columns();
        let mut values = vec![DbValue::Null; cols.len()];
        let mut set = |col: &str, v: DbValue| {
            let i = cols.iter().position(|c| *c == col).expect("column");
            values[i] = v;
        };
        set("title", DbValue::Text("T".into()));
        set("contact_id", DbValue::Int(4));
        set("opportunity", DbValue::Real(15.5));
        let uf = json!({"UF_CRM_NOTE": "n", "UF_CRM_A": 1})
            .as_object()
            .cloned();
        let row = Row { id: 9, values, uf };
        let mf = |id, owner_id, type_id: &str, value_type: &str, value: &str| Multifield {
            id,
            owner_id,
            type_id: type_id.into(),
            value_type: value_type.into(),
            value: value.into(),
        };
        let mfs = vec![
            mf(12, 9, "PHONE", "MOBILE", "+2"),
            mf(11, 9, "PHONE", "WORK", "+1"),
            mf(13, 9, "IM", "OPENLINE", "imol|x"),
            mf(14, 8, "EMAIL", "WORK", "other@owner"),
        ];
        let item = format_item(EntityKind::Lead, &isel, &row, &mfs, &settings(), false);
        assert_eq!(item["id"], json!(9));
        assert_eq!(item["title"], json!("T"));
        assert_eq!(item["stageId"], json!(null));
        assert_eq!(item["opportunity"], json!(15.5));
        assert_eq!(item["contactId"], json!(4));
        assert_eq!(item["contactIds"], json!([4]));
        assert_eq!(item["address"], json!(null));
        assert_eq!(item["isConvert"], json!(null));
        assert_eq!(item["entityTypeId"], json!(1));
        assert_eq!(item["ufCrm_NOTE"], json!("n"));
        assert_eq!(item["ufCrm_A"], json!(1));
        assert_eq!(item["phone"], json!("+1"));
        assert_eq!(item["phoneMobile"], json!("+2"));
        assert_eq!(item["phoneWork"], json!("+1"));
        assert_eq!(item["email"], json!(null));
        assert_eq!(item["imol"], json!("imol|x"));
        assert_eq!(
            item["fm"],
            json!([
                {"id": 11, "valueType": "WORK", "value": "+1", "typeId": "PHONE"},
                {"id": 12, "valueType": "MOBILE", "value": "+2", "typeId": "PHONE"},
                {"id": 13, "valueType": "OPENLINE", "value": "imol|x", "typeId": "IM"}
            ])
        );
        for legacy in ["ID", "TITLE", "STATUS_ID", "PHONE", "UF_CRM_NOTE"] {
            assert!(item.get(legacy).is_none(), "{legacy}");
        }
        let item = format_item(EntityKind::Lead, &isel, &row, &mfs, &settings(), true);
        assert_eq!(item["UF_CRM_NOTE"], json!("n"));
        assert!(item.get("ufCrm_NOTE").is_none());
    }

    /// Keys the view adds must never shadow a stored field of any family.
    #[test]
    fn added_keys_do_not_collide_with_fields() {
        for kind in EntityKind::ALL {
            for def in names::item_fields(kind) {
                let name = names::item_name(def);
                assert!(
                    !PSEUDO_FIELDS.iter().any(|(p, _, _)| *p == name)
                        && name != "entityTypeId"
                        && name != names::FM,
                    "{kind:?} {name}"
                );
            }
        }
    }

    #[test]
    fn user_fields_description() {
        use crate::userfield::UserType;
        let mut n = UserField::new("CRM_LEAD", "UF_CRM_N", UserType::Integer);
        n.mandatory = true;
        let flag = UserField::new("CRM_LEAD", "UF_CRM_FLAG", UserType::Boolean);
        let ufs = [n, flag];
        let f = describe_fields(EntityKind::Lead, &ufs, false);
        let fields = f["fields"].as_object().unwrap();
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(keys[keys.len() - 2..], ["ufCrm_N", "ufCrm_FLAG"]);
        let n = &fields["ufCrm_N"];
        assert_eq!(
            (
                &n["type"],
                &n["isRequired"],
                &n["isMultiple"],
                &n["isDynamic"]
            ),
            (&json!("integer"), &json!(true), &json!(false), &json!(true))
        );
        assert_eq!(
            (&n["title"], &n["upperName"]),
            (&json!("UF_CRM_N"), &json!("UF_CRM_N"))
        );
        assert_eq!(fields["ufCrm_FLAG"]["type"], json!("boolean"));
        let f = describe_fields(EntityKind::Lead, &ufs, true);
        assert!(
            f["fields"].get("UF_CRM_FLAG").is_some() && f["fields"].get("ufCrm_FLAG").is_none()
        );
    }

    #[test]
    fn fields_description() {
        let f = describe_fields(EntityKind::Lead, &[], false);
        let fields = f["fields"].as_object().unwrap();
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(keys.first(), Some(&"id"));
        assert_eq!(keys.last(), Some(&"fm"));
        assert!(!keys.contains(&"address") && !keys.contains(&"phone"));
        assert_eq!(
            serde_json::to_string(&fields["companyId"]).unwrap(),
            r#"{"type":"crm_company","isRequired":false,"isReadOnly":false,"isImmutable":false,"isMultiple":false,"isDynamic":false,"title":"Company","settings":{"parentEntityTypeId":4},"upperName":"COMPANY_ID"}"#
        );
        assert_eq!(
            serde_json::to_string(&fields["stageId"]).unwrap(),
            r#"{"type":"crm_status","isRequired":false,"isReadOnly":false,"isImmutable":false,"isMultiple":false,"isDynamic":false,"statusType":"STATUS","title":"Stage","upperName":"STAGE_ID"}"#
        );
        assert_eq!(fields["contactId"]["isDeprecated"], json!(true));
        assert_eq!(fields["contactIds"]["isMultiple"], json!(true));
        assert_eq!(fields["opened"]["type"], json!("boolean"));
        assert_eq!(fields["createdBy"]["upperName"], json!("CREATED_BY"));
        assert_eq!(fields["createdTime"]["isReadOnly"], json!(true));
        assert_eq!(fields["fm"]["type"], json!("crm_multifield"));
    }
}
