//! Fixed enumerations and descriptions (`crm.enum.*`, `crm.multifield.fields`,
//! system-methods.md §3–4): data only, ids as JSON numbers, as the docs' examples show.

use serde_json::{json, Map, Value};

/// `{"ID", "NAME", "SYMBOL_CODE": null, "SYMBOL_CODE_SHORT": null}` entries.
fn plain(items: &[(i64, &str)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(id, name)| json!({"ID": id, "NAME": name, "SYMBOL_CODE": null, "SYMBOL_CODE_SHORT": null}))
            .collect(),
    )
}

/// `crm.enum.ownertype`: the built-in CRM object types (our server has no smart processes).
pub fn owner_types() -> Value {
    let types: [(i64, &str, &str, &str); 10] = [
        (1, "Lead", "LEAD", "L"),
        (2, "Deal", "DEAL", "D"),
        (3, "Contact", "CONTACT", "C"),
        (4, "Company", "COMPANY", "CO"),
        (5, "Invoice (old version)", "INVOICE", "I"),
        (31, "Invoice", "SMART_INVOICE", "SI"),
        (7, "Quote", "QUOTE", "Q"),
        (8, "Billing Details", "REQUISITE", "RQ"),
        (36, "Document", "SMART_DOCUMENT", "DO"),
        (39, "Company Document", "SMART_B2E_DOC", "SBD"),
    ];
    Value::Array(
        types
            .iter()
            .map(|(id, name, code, short)| {
                json!({"ID": id, "NAME": name, "SYMBOL_CODE": code, "SYMBOL_CODE_SHORT": short})
            })
            .collect(),
    )
}

/// A field description with the full flag set of `crm.*.fields` (leads.md §2).
fn describe(ty: &str, read_only: bool, title: &str) -> Value {
    json!({"type": ty, "isRequired": false, "isReadOnly": read_only, "isImmutable": false,
           "isMultiple": false, "isDynamic": false, "title": title})
}

/// `crm.enum.fields`: the fields of an enumeration entry.
pub fn fields() -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), describe("int", true, "ID"));
    m.insert("NAME".into(), describe("string", true, "Name"));
    m.insert(
        "SYMBOL_CODE".into(),
        describe("string", true, "Symbol code"),
    );
    m.insert(
        "SYMBOL_CODE_SHORT".into(),
        describe("string", true, "Short symbol code"),
    );
    Value::Object(m)
}

/// `crm.enum.settings.mode`: the CRM modes (`crm.settings.mode.get` answers one of these ids).
pub fn settings_modes() -> Value {
    plain(&[(1, "Classic CRM"), (2, "Simple CRM")])
}

/// `crm.enum.addresstype`, in the docs' order.
pub fn address_types() -> Value {
    plain(&[
        (11, "Shipping address"),
        (1, "Physical address"),
        (6, "Legal address"),
        (4, "Registered address"),
        (8, "Mailing address"),
        (9, "Beneficiary address"),
    ])
}

/// `crm.enum.activitytype` (outdated, kept for old integrations).
pub fn activity_types() -> Value {
    plain(&[
        (0, ""),
        (1, "Meeting"),
        (2, "Call"),
        (3, "Task"),
        (4, "E-mail"),
        (5, "Action"),
        (6, "User Action"),
    ])
}

/// `crm.enum.activitydirection` (outdated).
pub fn activity_directions() -> Value {
    plain(&[(0, ""), (1, "Incoming"), (2, "Outgoing")])
}

/// `crm.enum.activitypriority` (outdated).
pub fn activity_priorities() -> Value {
    plain(&[(0, ""), (1, "low"), (2, "medium"), (3, "high")])
}

/// `crm.enum.activitystatus` (outdated).
pub fn activity_statuses() -> Value {
    plain(&[
        (0, ""),
        (1, "Pending"),
        (2, "Completed"),
        (3, "Automatically Completed"),
    ])
}

/// `crm.enum.activitynotifytype` (outdated).
pub fn activity_notify_types() -> Value {
    plain(&[(0, ""), (1, "min."), (2, "h."), (3, "d.")])
}

/// `crm.enum.contenttype` (outdated).
pub fn content_types() -> Value {
    plain(&[(0, ""), (1, "Plain text"), (2, "bbCode"), (3, "HTML")])
}

/// `crm.multifield.fields`: the fields of one multifield value (PHONE, EMAIL, ...).
pub fn multifield_fields() -> Value {
    let mut m = Map::new();
    m.insert("ID".into(), describe("int", true, "ID"));
    m.insert("TYPE_ID".into(), describe("string", true, "Field Type"));
    m.insert("VALUE".into(), describe("string", false, "Value"));
    m.insert("VALUE_TYPE".into(), describe("string", false, "Value Type"));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shapes() {
        assert_eq!(
            serde_json::to_string(&settings_modes()).unwrap(),
            r#"[{"ID":1,"NAME":"Classic CRM","SYMBOL_CODE":null,"SYMBOL_CODE_SHORT":null},{"ID":2,"NAME":"Simple CRM","SYMBOL_CODE":null,"SYMBOL_CODE_SHORT":null}]"#
        );
        let owners = owner_types();
        assert_eq!(owners.as_array().unwrap().len(), 10);
        assert_eq!(
            owners[0],
            json!({"ID":1,"NAME":"Lead","SYMBOL_CODE":"LEAD","SYMBOL_CODE_SHORT":"L"})
        );
        assert_eq!(owners[5]["ID"], json!(31));
        assert_eq!(address_types()[0]["ID"], json!(11));
        assert_eq!(
            serde_json::to_string(&fields()["SYMBOL_CODE_SHORT"]).unwrap(),
            r#"{"type":"string","isRequired":false,"isReadOnly":true,"isImmutable":false,"isMultiple":false,"isDynamic":false,"title":"Short symbol code"}"#
        );
        let mf = multifield_fields();
        assert_eq!(mf["TYPE_ID"]["title"], "Field Type");
        assert_eq!(mf["VALUE"]["isReadOnly"], json!(false));
        assert_eq!(activity_types().as_array().unwrap().len(), 7);
    }
}
