//! Legacy output formatting (leads.md §7–8): records with every scalar as a JSON string, dates in
//! the portal zone, multifield lists, user fields; and the `crm.<entity>.fields` description map.

use crate::dates;
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::query::{DbValue, Multifield, Row};
use crate::select::{Selection, UfSelect};
use crate::userfield::{self, UserField};
use crate::PortalSettings;
use serde_json::{Map, Value};

/// Scalar fields of a record in legacy output order (the kind's documented order first, then the
/// rest of the table).
pub fn output_order(kind: EntityKind) -> Vec<&'static FieldDef> {
    let order = kind.legacy_output_order();
    let mut fields: Vec<&'static FieldDef> = order.iter().filter_map(|n| kind.field(n)).collect();
    fields.extend(kind.fields().iter().filter(|f| !order.contains(&f.name)));
    fields
}

/// A number that is not money, as PHP prints it.
fn plain_number(r: f64) -> String {
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// Two decimals, halves rounded away from zero as PHP does (`{:.2}` alone rounds half to even).
fn money(r: f64) -> String {
    format!("{:.2}", crate::input::round2(r))
}

/// One stored value in legacy form (rules 1–3 of leads.md §8).
pub fn format_value(def: &FieldDef, v: &DbValue, settings: &PortalSettings) -> Value {
    let tz = settings.time_zone;
    let s = |t: String| Value::String(t);
    match def.kind {
        // Empty dates are "" (never null): the PHP SDK parses them and only tolerates "".
        FieldKind::DateTime => match v {
            DbValue::Null => s(String::new()),
            DbValue::Int(ts) => s(dates::format_datetime(*ts, tz)),
            DbValue::Real(r) => s(dates::format_datetime(r.trunc() as i64, tz)),
            DbValue::Text(t) => match t.trim().parse::<i64>() {
                Ok(ts) => s(dates::format_datetime(ts, tz)),
                Err(_) => s(t.clone()),
            },
        },
        FieldKind::Date => match v {
            DbValue::Null => s(String::new()),
            DbValue::Text(t) if t.is_empty() => s(String::new()),
            DbValue::Text(t) => s(dates::format_date(t, tz)),
            DbValue::Int(i) => s(i.to_string()),
            DbValue::Real(r) => s(plain_number(*r)),
        },
        // Never null: the PHP SDK builds a Currency from it.
        FieldKind::CrmCurrency => match v {
            DbValue::Text(t) if !t.is_empty() => s(t.clone()),
            _ => s(settings.currency.clone()),
        },
        FieldKind::Double => match v {
            DbValue::Null => Value::Null,
            DbValue::Real(r) => s(money(*r)),
            DbValue::Int(i) => s(format!("{i}.00")),
            DbValue::Text(t) => match t.trim().parse::<f64>() {
                Ok(r) => s(money(r)),
                Err(_) => s(t.clone()),
            },
        },
        _ => match v {
            DbValue::Null => Value::Null,
            DbValue::Int(i) => s(i.to_string()),
            DbValue::Real(r) => s(plain_number(*r)),
            DbValue::Text(t) => s(t.clone()),
        },
    }
}

/// `{"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}`.
pub fn format_multifield(m: &Multifield) -> Value {
    let mut out = Map::new();
    out.insert("ID".into(), Value::String(m.id.to_string()));
    out.insert("VALUE_TYPE".into(), Value::String(m.value_type.clone()));
    out.insert("VALUE".into(), Value::String(m.value.clone()));
    out.insert("TYPE_ID".into(), Value::String(m.type_id.clone()));
    Value::Object(out)
}

/// One record. `row.values` must hold `sel.columns()` in order; `multifields` are the record's
/// values (any order; other owners' values are ignored); `ufs` are the entity's user fields, of
/// which the selected ones are output in their order, unset ones as `null` (`[]` when multiple).
pub fn format_record(
    kind: EntityKind,
    sel: &Selection,
    row: &Row,
    multifields: &[Multifield],
    ufs: &[UserField],
    settings: &PortalSettings,
) -> Value {
    let columns = sel.columns();
    let mut out = Map::new();
    for def in output_order(kind) {
        if !sel.fields.iter().any(|f| f.name == def.name) {
            continue;
        }
        let Some(column) = def.column else { continue };
        let value = if column == "id" {
            DbValue::Int(row.id)
        } else {
            columns
                .iter()
                .position(|c| *c == column)
                .and_then(|i| row.values.get(i))
                .cloned()
                .unwrap_or(DbValue::Null)
        };
        out.insert(def.name.to_string(), format_value(def, &value, settings));
    }
    if let Some(stored) = &row.uf {
        for uf in ufs {
            let wanted = match &sel.uf {
                UfSelect::None => false,
                UfSelect::All => true,
                UfSelect::Names(set) => set.contains(uf.field_name.as_str()),
            };
            if wanted {
                let value = userfield::value::format(
                    uf,
                    stored.get(&uf.field_name),
                    kind,
                    row.id,
                    settings,
                );
                out.insert(uf.field_name.clone(), value);
            }
        }
    }
    for type_id in &sel.multifields {
        let mut mine: Vec<&Multifield> = multifields
            .iter()
            .filter(|m| m.owner_id == row.id && m.type_id == *type_id)
            .collect();
        // Omitted entirely when the record has no value of this type (leads.md §3.12).
        if mine.is_empty() {
            continue;
        }
        mine.sort_by_key(|m| m.id);
        out.insert(
            type_id.to_string(),
            Value::Array(mine.into_iter().map(format_multifield).collect()),
        );
    }
    Value::Object(out)
}

/// The `crm.<entity>.fields` map (leads.md §2): the field table in its order, then the user
/// fields (`isDynamic: true`) in theirs.
pub fn describe_fields(kind: EntityKind, ufs: &[UserField]) -> Value {
    let mut out = Map::new();
    for def in kind.fields() {
        out.insert(def.name.to_string(), describe_field(def));
    }
    for uf in ufs {
        out.insert(uf.field_name.clone(), userfield::value::describe(uf));
    }
    Value::Object(out)
}

fn describe_field(def: &FieldDef) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(def.kind.type_name().into()));
    m.insert("isRequired".into(), Value::Bool(def.required));
    m.insert("isReadOnly".into(), Value::Bool(def.read_only));
    m.insert("isImmutable".into(), Value::Bool(def.immutable));
    m.insert("isMultiple".into(), Value::Bool(def.multiple));
    m.insert("isDynamic".into(), Value::Bool(false));
    if def.deprecated {
        m.insert("isDeprecated".into(), Value::Bool(true));
    }
    if let FieldKind::CrmStatus(entity_id) = def.kind {
        m.insert("statusType".into(), Value::String(entity_id.into()));
    }
    if let Some(settings) = def
        .settings
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
    {
        m.insert("settings".into(), settings);
    }
    let title = if def.title.is_empty() {
        def.name
    } else {
        def.title
    };
    m.insert("title".into(), Value::String(title.into()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::LEAD_FIELDS;
    use serde_json::json;

    fn berlin_eur() -> PortalSettings {
        PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "EUR".into(),
        }
    }

    fn utc_usd() -> PortalSettings {
        PortalSettings {
            time_zone: chrono_tz::UTC,
            currency: "USD".into(),
        }
    }

    fn def(name: &str) -> &'static FieldDef {
        LEAD_FIELDS
            .iter()
            .find(|f| f.name == name)
            .expect("lead field")
    }

    #[test]
    fn scalars_are_strings() {
        let st = utc_usd();
        assert_eq!(format_value(def("ID"), &DbValue::Int(5), &st), json!("5"));
        assert_eq!(
            format_value(def("OPPORTUNITY"), &DbValue::Real(15000.0), &st),
            json!("15000.00")
        );
        assert_eq!(
            format_value(def("OPPORTUNITY"), &DbValue::Real(0.125), &st),
            json!("0.13")
        );
        assert_eq!(
            format_value(def("OPPORTUNITY"), &DbValue::Int(3), &st),
            json!("3.00")
        );
        assert_eq!(
            format_value(def("OPPORTUNITY"), &DbValue::Null, &st),
            json!(null)
        );
        assert_eq!(format_value(def("TITLE"), &DbValue::Null, &st), json!(null));
        assert_eq!(
            format_value(def("COMPANY_ID"), &DbValue::Null, &st),
            json!(null)
        );
        assert_eq!(
            format_value(def("OPENED"), &DbValue::Text("Y".into()), &st),
            json!("Y")
        );
        assert_eq!(
            format_value(def("CURRENCY_ID"), &DbValue::Null, &st),
            json!("USD")
        );
        assert_eq!(
            format_value(def("CURRENCY_ID"), &DbValue::Text("EUR".into()), &st),
            json!("EUR")
        );
    }

    #[test]
    fn dates_in_the_portal_zone() {
        let st = berlin_eur();
        assert_eq!(
            format_value(def("DATE_CREATE"), &DbValue::Int(1_716_481_105), &st),
            json!("2024-05-23T18:18:25+02:00")
        );
        assert_eq!(
            format_value(def("DATE_CLOSED"), &DbValue::Null, &st),
            json!("")
        );
        assert_eq!(
            format_value(def("BIRTHDATE"), &DbValue::Null, &st),
            json!("")
        );
        assert_eq!(
            format_value(def("BIRTHDATE"), &DbValue::Text("1990-07-01".into()), &st),
            json!("1990-07-01T02:00:00+02:00")
        );
        assert_eq!(
            format_value(def("BIRTHDATE"), &DbValue::Text("1990-01-01".into()), &st),
            json!("1990-01-01T01:00:00+01:00")
        );
    }

    #[test]
    fn lead_output_order_covers_every_readable_scalar_once() {
        let order: Vec<&str> = output_order(EntityKind::Lead)
            .iter()
            .map(|f| f.name)
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), order.len());
        assert_eq!(order.len(), LEAD_FIELDS.len());
        // Every documented key is a real field.
        for name in EntityKind::Lead.legacy_output_order() {
            assert!(EntityKind::Lead.field(name).is_some(), "{name}");
        }
    }

    /// The record of leads.md §7, byte for byte (with `HAS_PHONE`/`HAS_IMOL` as our server
    /// computes them for the values shown).
    #[test]
    fn lead_get_matches_the_documented_shape() {
        let sel = Selection::everything(EntityKind::Lead);
        let cols = sel.columns();
        let ts = 1_716_481_105; // 2024-05-23T18:18:25+02:00
        let mut values = vec![DbValue::Null; cols.len()];
        let mut set = |col: &str, v: DbValue| {
            let i = cols.iter().position(|c| *c == col).expect("column");
            values[i] = v;
        };
        let t = |s: &str| DbValue::Text(s.into());
        set("title", t("Lead #1591"));
        set("name", t(""));
        set("is_return_customer", t("N"));
        set("source_id", t("1"));
        set("status_id", t("IN_PROCESS"));
        set("currency_id", t("EUR"));
        set("opportunity", DbValue::Real(0.0));
        set("is_manual_opportunity", t("N"));
        set("has_phone", t("Y"));
        set("has_email", t("N"));
        set("has_imol", t("Y"));
        for c in [
            "assigned_by_id",
            "created_by_id",
            "modify_by_id",
            "moved_by_id",
            "last_activity_by",
        ] {
            set(c, DbValue::Int(1));
        }
        for c in [
            "date_create",
            "date_modify",
            "moved_time",
            "last_activity_time",
        ] {
            set(c, DbValue::Int(ts));
        }
        set("status_semantic_id", t("P"));
        set("opened", t("Y"));
        let row = Row {
            id: 123,
            values,
            uf: Some(Map::new()),
        };
        let mf = |id, type_id: &str, value_type: &str, value: &str| Multifield {
            id,
            owner_id: 123,
            type_id: type_id.into(),
            value_type: value_type.into(),
            value: value.into(),
        };
        let mfs = vec![
            mf(11660, "IM", "OPENLINE", "imol|livechat|1|67|21"),
            mf(11658, "PHONE", "OTHER", "+15454777777"),
            mf(1, "PHONE", "WORK", "other owner"),
        ];
        let mut mfs = mfs;
        mfs[2].owner_id = 9;
        let got = serde_json::to_string(&format_record(
            EntityKind::Lead,
            &sel,
            &row,
            &mfs,
            &[],
            &berlin_eur(),
        ))
        .unwrap();
        let want = r#"{"ID":"123","TITLE":"Lead #1591","HONORIFIC":null,"NAME":"","SECOND_NAME":null,"LAST_NAME":null,"COMPANY_TITLE":null,"COMPANY_ID":null,"CONTACT_ID":null,"IS_RETURN_CUSTOMER":"N","BIRTHDATE":"","SOURCE_ID":"1","SOURCE_DESCRIPTION":null,"STATUS_ID":"IN_PROCESS","STATUS_DESCRIPTION":null,"POST":null,"COMMENTS":null,"CURRENCY_ID":"EUR","OPPORTUNITY":"0.00","IS_MANUAL_OPPORTUNITY":"N","HAS_PHONE":"Y","HAS_EMAIL":"N","HAS_IMOL":"Y","ASSIGNED_BY_ID":"1","CREATED_BY_ID":"1","MODIFY_BY_ID":"1","DATE_CREATE":"2024-05-23T18:18:25+02:00","DATE_MODIFY":"2024-05-23T18:18:25+02:00","DATE_CLOSED":"","STATUS_SEMANTIC_ID":"P","OPENED":"Y","ORIGINATOR_ID":null,"ORIGIN_ID":null,"MOVED_BY_ID":"1","MOVED_TIME":"2024-05-23T18:18:25+02:00","ADDRESS":null,"ADDRESS_2":null,"ADDRESS_CITY":null,"ADDRESS_POSTAL_CODE":null,"ADDRESS_REGION":null,"ADDRESS_PROVINCE":null,"ADDRESS_COUNTRY":null,"ADDRESS_COUNTRY_CODE":null,"ADDRESS_LOC_ADDR_ID":null,"UTM_SOURCE":null,"UTM_MEDIUM":null,"UTM_CAMPAIGN":null,"UTM_CONTENT":null,"UTM_TERM":null,"LAST_ACTIVITY_BY":"1","LAST_ACTIVITY_TIME":"2024-05-23T18:18:25+02:00","PHONE":[{"ID":"11658","VALUE_TYPE":"OTHER","VALUE":"+15454777777","TYPE_ID":"PHONE"}],"IM":[{"ID":"11660","VALUE_TYPE":"OPENLINE","VALUE":"imol|livechat|1|67|21","TYPE_ID":"IM"}]}"#;
        assert_eq!(got, want);
    }

    #[test]
    fn user_fields_in_definition_order_before_multifields_and_selected_only() {
        use crate::userfield::UserType;
        let ufs = vec![
            UserField::new("CRM_LEAD", "UF_CRM_B", UserType::Integer),
            UserField::new("CRM_LEAD", "UF_CRM_A", UserType::String),
            UserField::new("CRM_LEAD", "UF_CRM_M", UserType::Integer),
        ];
        let mut ufs = ufs;
        ufs[2].multiple = true;
        let mut sel = crate::select::parse_select(
            EntityKind::Lead,
            &ufs,
            Some(&json!(["TITLE", "UF_CRM_B", "UF_CRM_UNDEFINED", "EMAIL"])),
        );
        let cols = sel.columns();
        assert_eq!(cols, vec!["title"]);
        let uf = json!({"UF_CRM_B": 2, "UF_CRM_A": "a", "UF_CRM_GONE": 1})
            .as_object()
            .cloned();
        let row = Row {
            id: 7,
            values: vec![DbValue::Text("T".into())],
            uf,
        };
        let email = Multifield {
            id: 3,
            owner_id: 7,
            type_id: "EMAIL".into(),
            value_type: "WORK".into(),
            value: "a@b.c".into(),
        };
        let got = format_record(
            EntityKind::Lead,
            &sel,
            &row,
            std::slice::from_ref(&email),
            &ufs,
            &utc_usd(),
        );
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"ID":"7","TITLE":"T","UF_CRM_B":"2","EMAIL":[{"ID":"3","VALUE_TYPE":"WORK","VALUE":"a@b.c","TYPE_ID":"EMAIL"}]}"#
        );
        sel.uf = UfSelect::All;
        let got = format_record(EntityKind::Lead, &sel, &row, &[], &ufs, &utc_usd());
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"ID":"7","TITLE":"T","UF_CRM_B":"2","UF_CRM_A":"a","UF_CRM_M":[]}"#
        );
    }

    #[test]
    fn fields_description() {
        let f = describe_fields(EntityKind::Lead, &[]);
        let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), LEAD_FIELDS.len());
        assert_eq!(keys[0], "ID");
        assert_eq!(keys.last().map(|k| k.as_str()), Some("LINK"));
        assert_eq!(
            serde_json::to_string(&f["COMPANY_ID"]).unwrap(),
            r#"{"type":"crm_company","isRequired":false,"isReadOnly":false,"isImmutable":false,"isMultiple":false,"isDynamic":false,"settings":{"parentEntityTypeId":4},"title":"Company"}"#
        );
        assert_eq!(f["STATUS_ID"]["statusType"], json!("STATUS"));
        assert_eq!(f["CONTACT_ID"]["isDeprecated"], json!(true));
        assert!(f["TITLE"].get("isDeprecated").is_none());
        assert!(f["TITLE"].get("statusType").is_none());
        assert_eq!(f["ID"]["isReadOnly"], json!(true));
        assert_eq!(f["CONTACT_IDS"]["isMultiple"], json!(true));
        assert_eq!(f["PHONE"]["type"], json!("crm_multifield"));
        assert!(f.get("TRACE").is_none());
    }
}
