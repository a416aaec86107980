//! Field names of the `crm.item.*` view: the camelCase name of every stored `UPPER_SNAKE` field
//! (a generic rule plus Bitrix24's irregular names, spec/entities.md §6.5), user-field names, and
//! resolving a key a client sent (camelCase, the item's UPPER name or the legacy name).

use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::filter::is_uf_name;

/// Stored fields whose item name does not follow the generic rule. They apply to every family
/// that has the field (only leads and quotes have `STATUS_ID`, which the item API calls a stage).
const IRREGULAR: [(&str, &str); 7] = [
    ("STATUS_ID", "stageId"),
    ("STATUS_SEMANTIC_ID", "stageSemanticId"),
    ("CREATED_BY_ID", "createdBy"),
    ("MODIFY_BY_ID", "updatedBy"),
    ("MOVED_BY_ID", "movedBy"),
    ("DATE_CREATE", "createdTime"),
    ("DATE_MODIFY", "updatedTime"),
];

/// Fields the item API answers with `null` whatever is stored (spec/entities.md §6.5: "disabled
/// (always `null`)"); they are not written, filtered or sorted through `crm.item.*`. A name here
/// overrides a stored field of the same item name (the lead's legacy `ADDRESS`).
pub fn disabled(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Lead => &[
            "dateCreateShort",
            "dateModifyShort",
            "isConvert",
            "productId",
            "address",
            "login",
            "shortName",
        ],
        EntityKind::Deal => &[
            "dateCreateShort",
            "dateModifyShort",
            "begindateShort",
            "closedateShort",
            "eventDateShort",
        ],
        EntityKind::Contact | EntityKind::Company | EntityKind::Quote => &[],
    }
}

/// The multifield pseudo field of the item API.
pub const FM: &str = "fm";

/// `ASSIGNED_BY_ID` → `assignedById`, `ADDRESS_2` → `address2`: lower-case the first word,
/// capitalise the others, drop the underscores.
pub fn camel_case(upper: &str) -> String {
    let mut out = String::with_capacity(upper.len());
    for (i, word) in upper.split('_').filter(|w| !w.is_empty()).enumerate() {
        let lower = word.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// The reverse of `camel_case` for names a client sends: `stageId` → `STAGE_ID`. A name without
/// lower-case letters is already UPPER and only upper-cased.
pub fn upper_snake(camel: &str) -> String {
    if !camel.bytes().any(|b| b.is_ascii_lowercase()) {
        return camel.to_ascii_uppercase();
    }
    let mut out = String::with_capacity(camel.len() + 4);
    let mut previous: Option<char> = None;
    for c in camel.chars() {
        // A word starts at a capital that follows a lower-case letter or a digit.
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
        previous = Some(c);
    }
    out
}

/// The item name of a stored field.
pub fn item_name(def: &FieldDef) -> String {
    match IRREGULAR.iter().find(|(upper, _)| *upper == def.name) {
        Some((_, camel)) => (*camel).to_string(),
        None => camel_case(def.name),
    }
}

/// The item's own UPPER name of a field (`upperName` of `crm.item.fields`): `stageId` → `STAGE_ID`,
/// `createdBy` → `CREATED_BY`.
pub fn item_upper_name(def: &FieldDef) -> String {
    upper_snake(&item_name(def))
}

/// The item name of a user field (spec/entities.md §6.3). `type_number` is the smart-process
/// number in names like `UF_CRM_10_…`; the families served here have none, so their user fields
/// take the "simplified" form `UF_CRM_MANAGER_NOTE` → `ufCrm_MANAGER_NOTE`.
pub fn uf_item_name(name: &str, type_number: Option<i64>) -> String {
    let rest = name.strip_prefix("UF_CRM_").unwrap_or(name);
    if let Some(n) = type_number {
        if let Some(tail) = rest
            .strip_prefix(&n.to_string())
            .and_then(|t| t.strip_prefix('_'))
        {
            // "Regular": a numeric tail keeps its underscore, a tail of words is camel-cased.
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                return format!("ufCrm{n}_{tail}");
            }
            let words_only = !tail.is_empty()
                && tail
                    .split('_')
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic()));
            if words_only {
                let camel = camel_case(tail);
                let mut chars = camel.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                return format!(
                    "ufCrm{n}{}{}",
                    first.map(String::from).unwrap_or_default(),
                    chars.as_str()
                );
            }
        }
    }
    format!("ufCrm_{rest}")
}

/// The stored `UF_CRM_*` name of a user-field key in any spelling the item API accepts:
/// `UF_CRM_X`, `ufCrm_X`, `ufCrmX` (generic rule), `ufCrm10_123`/`ufCrm10Digit` (regular form).
pub fn uf_stored_name(key: &str) -> Option<String> {
    let name = if let Some(rest) = key.strip_prefix("ufCrm_") {
        format!("UF_CRM_{}", rest.to_ascii_uppercase())
    } else if let Some(rest) = key.strip_prefix("ufCrm") {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let tail = &rest[digits.len()..];
        if digits.is_empty() {
            format!("UF_CRM_{}", upper_snake(tail).trim_start_matches('_'))
        } else if let Some(numeric) = tail.strip_prefix('_') {
            format!("UF_CRM_{digits}_{}", numeric.to_ascii_uppercase())
        } else {
            format!(
                "UF_CRM_{digits}_{}",
                upper_snake(tail).trim_start_matches('_')
            )
        }
    } else {
        key.to_string()
    };
    is_uf_name(&name).then_some(name)
}

/// What a key of `fields`, `filter`, `select` or `order` names.
#[derive(Debug, Clone, PartialEq)]
pub enum Name {
    /// A stored field of the family (never a multifield: those are `Fm`).
    Field(&'static FieldDef),
    /// A user field, by its stored `UF_CRM_*` name.
    Uf(String),
    /// `fm`, the multifields.
    Fm,
    /// A field the item API always answers with `null` (by item name).
    Disabled(&'static str),
    /// Nothing the family has; carries the UPPER spelling error messages use.
    Unknown(String),
}

impl Name {
    /// The UPPER_SNAKE name `INVALID_ARG_VALUE` messages quote.
    pub fn upper(&self) -> String {
        match self {
            Name::Field(def) => item_upper_name(def),
            Name::Uf(name) => name.clone(),
            Name::Fm => "FM".into(),
            Name::Disabled(camel) => upper_snake(camel),
            Name::Unknown(upper) => upper.clone(),
        }
    }
}

/// Fields the item API addresses by name: everything of the table except multifields (`fm`).
pub fn item_fields(kind: EntityKind) -> impl Iterator<Item = &'static FieldDef> {
    kind.fields()
        .iter()
        .filter(|f| f.kind != FieldKind::CrmMultifield)
}

/// Resolves a key: the exact item name first, then user-field spellings, then the UPPER forms
/// (the item's `STAGE_ID` or the stored `STATUS_ID`), so `stageId`, `STAGE_ID` and `STATUS_ID`
/// all name the lead stage.
pub fn resolve(kind: EntityKind, key: &str) -> Name {
    if key == FM {
        return Name::Fm;
    }
    let disabled = disabled(kind);
    if let Some(camel) = disabled.iter().find(|d| **d == key) {
        return Name::Disabled(camel);
    }
    if let Some(def) = item_fields(kind).find(|f| item_name(f) == key) {
        return Name::Field(def);
    }
    if let Some(uf) = uf_stored_name(key) {
        return Name::Uf(uf);
    }
    let upper = upper_snake(key);
    if upper == "FM" {
        return Name::Fm;
    }
    if let Some(camel) = disabled.iter().find(|d| upper_snake(d) == upper) {
        return Name::Disabled(camel);
    }
    match item_fields(kind).find(|f| item_upper_name(f) == upper || f.name == upper) {
        Some(def) => match disabled.iter().find(|d| **d == item_name(def)) {
            Some(camel) => Name::Disabled(camel),
            None => Name::Field(def),
        },
        None => Name::Unknown(upper),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAD: EntityKind = EntityKind::Lead;

    fn field(kind: EntityKind, key: &str) -> &'static str {
        match resolve(kind, key) {
            Name::Field(def) => def.name,
            other => panic!("{key}: {other:?}"),
        }
    }

    #[test]
    fn generic_rule() {
        assert_eq!(camel_case("ASSIGNED_BY_ID"), "assignedById");
        assert_eq!(camel_case("UTM_SOURCE"), "utmSource");
        assert_eq!(camel_case("ID"), "id");
        assert_eq!(camel_case("ADDRESS_2"), "address2");
        assert_eq!(camel_case("ADDRESS_LOC_ADDR_ID"), "addressLocAddrId");
        assert_eq!(camel_case("IS_MANUAL_OPPORTUNITY"), "isManualOpportunity");
        assert_eq!(camel_case("BEGINDATE"), "begindate");
        assert_eq!(upper_snake("stageId"), "STAGE_ID");
        assert_eq!(upper_snake("assignedById"), "ASSIGNED_BY_ID");
        assert_eq!(upper_snake("STATUS_ID"), "STATUS_ID");
        assert_eq!(upper_snake("id"), "ID");
        assert_eq!(upper_snake("UF_CRM_x"), "UF_CRM_X");
        assert_eq!(upper_snake("ufCrm10Digit"), "UF_CRM10_DIGIT");
    }

    /// Every row of spec/entities.md §6.5.
    #[test]
    fn lead_names_of_the_spec_table() {
        let table = [
            ("ID", "id"),
            ("TITLE", "title"),
            ("HONORIFIC", "honorific"),
            ("NAME", "name"),
            ("SECOND_NAME", "secondName"),
            ("LAST_NAME", "lastName"),
            ("BIRTHDATE", "birthdate"),
            ("COMPANY_TITLE", "companyTitle"),
            ("POST", "post"),
            ("COMMENTS", "comments"),
            ("STATUS_ID", "stageId"),
            ("STATUS_DESCRIPTION", "statusDescription"),
            ("STATUS_SEMANTIC_ID", "stageSemanticId"),
            ("SOURCE_ID", "sourceId"),
            ("SOURCE_DESCRIPTION", "sourceDescription"),
            ("OPPORTUNITY", "opportunity"),
            ("CURRENCY_ID", "currencyId"),
            ("IS_MANUAL_OPPORTUNITY", "isManualOpportunity"),
            ("OPENED", "opened"),
            ("ASSIGNED_BY_ID", "assignedById"),
            ("CREATED_BY_ID", "createdBy"),
            ("MODIFY_BY_ID", "updatedBy"),
            ("MOVED_BY_ID", "movedBy"),
            ("DATE_CREATE", "createdTime"),
            ("DATE_MODIFY", "updatedTime"),
            ("MOVED_TIME", "movedTime"),
            ("DATE_CLOSED", "dateClosed"),
            ("COMPANY_ID", "companyId"),
            ("CONTACT_ID", "contactId"),
            ("CONTACT_IDS", "contactIds"),
            ("IS_RETURN_CUSTOMER", "isReturnCustomer"),
            ("HAS_PHONE", "hasPhone"),
            ("HAS_EMAIL", "hasEmail"),
            ("HAS_IMOL", "hasImol"),
            ("ORIGINATOR_ID", "originatorId"),
            ("ORIGIN_ID", "originId"),
            ("UTM_SOURCE", "utmSource"),
            ("UTM_MEDIUM", "utmMedium"),
            ("UTM_CAMPAIGN", "utmCampaign"),
            ("UTM_CONTENT", "utmContent"),
            ("UTM_TERM", "utmTerm"),
            ("LAST_ACTIVITY_TIME", "lastActivityTime"),
            ("LAST_ACTIVITY_BY", "lastActivityBy"),
            ("ADDRESS_POSTAL_CODE", "addressPostalCode"),
        ];
        for (upper, camel) in table {
            let def = LEAD.field(upper).unwrap_or_else(|| panic!("{upper}"));
            assert_eq!(item_name(def), camel, "{upper}");
            // Each spelling resolves back to the stored field.
            assert_eq!(field(LEAD, camel), upper);
            assert_eq!(field(LEAD, upper), upper);
            assert_eq!(field(LEAD, &item_upper_name(def)), upper);
        }
        assert_eq!(field(LEAD, "STAGE_ID"), "STATUS_ID");
        assert_eq!(field(LEAD, "CREATED_TIME"), "DATE_CREATE");
        assert_eq!(field(LEAD, "UPDATED_BY"), "MODIFY_BY_ID");
        assert_eq!(
            item_upper_name(LEAD.field("CREATED_BY_ID").unwrap()),
            "CREATED_BY"
        );
    }

    #[test]
    fn item_names_are_unique_per_family() {
        for kind in EntityKind::ALL {
            let names: Vec<String> = item_fields(kind).map(item_name).collect();
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{kind:?}");
            assert!(!names.iter().any(|n| n == FM));
        }
    }

    #[test]
    fn multifields_disabled_and_unknown_names() {
        assert_eq!(resolve(LEAD, "fm"), Name::Fm);
        assert_eq!(resolve(LEAD, "FM"), Name::Fm);
        assert_eq!(resolve(LEAD, "PHONE"), Name::Unknown("PHONE".into()));
        assert_eq!(resolve(LEAD, "phone"), Name::Unknown("PHONE".into()));
        assert_eq!(resolve(LEAD, "address"), Name::Disabled("address"));
        assert_eq!(resolve(LEAD, "ADDRESS"), Name::Disabled("address"));
        assert_eq!(resolve(LEAD, "isConvert"), Name::Disabled("isConvert"));
        assert_eq!(resolve(LEAD, "titel"), Name::Unknown("TITEL".into()));
        assert_eq!(resolve(LEAD, "trace").upper(), "TRACE");
        assert_eq!(resolve(LEAD, "stageId").upper(), "STAGE_ID");
        assert_eq!(resolve(LEAD, "STATUS_ID").upper(), "STAGE_ID");
        assert_eq!(resolve(LEAD, ""), Name::Unknown(String::new()));
    }

    #[test]
    fn user_field_names() {
        // The spec's examples of both forms (smart processes carry a type number).
        assert_eq!(
            uf_item_name("UF_CRM_10_5186744711", Some(10)),
            "ufCrm10_5186744711"
        );
        assert_eq!(uf_item_name("UF_CRM_10_DIGIT", Some(10)), "ufCrm10Digit");
        assert_eq!(uf_item_name("UF_CRM_3_DIGIT", Some(3)), "ufCrm3Digit");
        assert_eq!(uf_item_name("UF_CRM_3_DIGIT10", Some(3)), "ufCrm_3_DIGIT10");
        assert_eq!(uf_item_name("UF_CRM_1747309879", None), "ufCrm_1747309879");
        assert_eq!(
            uf_item_name("UF_CRM_1721244707107", None),
            "ufCrm_1721244707107"
        );
        // Leads, deals, contacts, companies and quotes: always simplified.
        assert_eq!(
            uf_item_name("UF_CRM_MANAGER_NOTE", None),
            "ufCrm_MANAGER_NOTE"
        );
        assert_eq!(uf_item_name("UF_CRM_10_DIGIT", None), "ufCrm_10_DIGIT");

        let stored = |k: &str| uf_stored_name(k);
        assert_eq!(
            stored("ufCrm_MANAGER_NOTE").as_deref(),
            Some("UF_CRM_MANAGER_NOTE")
        );
        assert_eq!(
            stored("UF_CRM_MANAGER_NOTE").as_deref(),
            Some("UF_CRM_MANAGER_NOTE")
        );
        assert_eq!(
            stored("ufCrmManagerNote").as_deref(),
            Some("UF_CRM_MANAGER_NOTE")
        );
        assert_eq!(stored("ufCrm10Digit").as_deref(), Some("UF_CRM_10_DIGIT"));
        assert_eq!(
            stored("ufCrm10_5186744711").as_deref(),
            Some("UF_CRM_10_5186744711")
        );
        assert_eq!(
            stored("ufCrm_1747309879").as_deref(),
            Some("UF_CRM_1747309879")
        );
        assert_eq!(stored("ufCrm_"), None);
        assert_eq!(stored("UF_CRM_"), None);
        assert_eq!(stored("title"), None);
        assert_eq!(resolve(LEAD, "ufCrm_NOTE"), Name::Uf("UF_CRM_NOTE".into()));
        assert_eq!(resolve(LEAD, "UF_CRM_NOTE"), Name::Uf("UF_CRM_NOTE".into()));
        // Round trip for the families served.
        for name in [
            "UF_CRM_MANAGER_NOTE",
            "UF_CRM_1747309879",
            "UF_CRM_3_DIGIT10",
        ] {
            assert_eq!(stored(&uf_item_name(name, None)).as_deref(), Some(name));
        }
    }
}
