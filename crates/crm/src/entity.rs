//! The entity types the engine serves and their field tables (leads first; deals, contacts,
//! companies and quotes join as tables of the same shape).

use crate::field::{FieldDef, FieldKind as K};

/// A CRM entity type. The numeric ids are Bitrix24's `entityTypeId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Lead,
    Deal,
    Contact,
    Company,
    Quote,
}

impl EntityKind {
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Lead,
        EntityKind::Deal,
        EntityKind::Contact,
        EntityKind::Company,
        EntityKind::Quote,
    ];

    pub fn entity_type_id(self) -> i64 {
        match self {
            EntityKind::Lead => 1,
            EntityKind::Deal => 2,
            EntityKind::Contact => 3,
            EntityKind::Company => 4,
            EntityKind::Quote => 7,
        }
    }

    pub fn from_entity_type_id(id: i64) -> Option<Self> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.entity_type_id() == id)
    }

    /// `LEAD`, `DEAL`, ... (as in `crm.enum.ownertype` `SYMBOL_CODE`).
    pub fn code(self) -> &'static str {
        match self {
            EntityKind::Lead => "LEAD",
            EntityKind::Deal => "DEAL",
            EntityKind::Contact => "CONTACT",
            EntityKind::Company => "COMPANY",
            EntityKind::Quote => "QUOTE",
        }
    }

    /// Lower-case name used in method names (`crm.lead.add`) and permission specs.
    pub fn method_name(self) -> &'static str {
        match self {
            EntityKind::Lead => "lead",
            EntityKind::Deal => "deal",
            EntityKind::Contact => "contact",
            EntityKind::Company => "company",
            EntityKind::Quote => "quote",
        }
    }

    pub fn from_method_name(name: &str) -> Option<Self> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.method_name() == name)
    }

    /// The storage table.
    pub fn table(self) -> &'static str {
        match self {
            EntityKind::Lead => "crm_lead",
            EntityKind::Deal => "crm_deal",
            EntityKind::Contact => "crm_contact",
            EntityKind::Company => "crm_company",
            EntityKind::Quote => "crm_quote",
        }
    }

    /// The field table, in Bitrix24's order.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            EntityKind::Lead => LEAD_FIELDS,
            // The other families are added by the CRM-surface issue; until then their methods
            // are not registered, so this is never reached through the API.
            _ => &[],
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Key order of legacy get/list records, where Bitrix24's differs from the `*.fields` order.
    /// Fields not named here follow in table order; empty means table order throughout.
    pub fn legacy_output_order(self) -> &'static [&'static str] {
        match self {
            EntityKind::Lead => LEAD_OUTPUT_ORDER,
            _ => &[],
        }
    }
}

/// `crm.lead.fields` (spec/leads.md §2), in the docs' order.
pub static LEAD_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id").read_only(),
    FieldDef::new("TITLE", K::String, "Lead Title", "title"),
    FieldDef::new(
        "HONORIFIC",
        K::CrmStatus("HONORIFIC"),
        "Salutation",
        "honorific",
    ),
    FieldDef::new("NAME", K::String, "First Name", "name"),
    FieldDef::new("SECOND_NAME", K::String, "Middle Name", "second_name"),
    FieldDef::new("LAST_NAME", K::String, "Last Name", "last_name"),
    FieldDef::new("BIRTHDATE", K::Date, "Birthdate", "birthdate"),
    FieldDef::new("COMPANY_TITLE", K::String, "Company Name", "company_title"),
    FieldDef::new("SOURCE_ID", K::CrmStatus("SOURCE"), "Source", "source_id"),
    FieldDef::new(
        "SOURCE_DESCRIPTION",
        K::String,
        "Source Description",
        "source_description",
    ),
    FieldDef::new("STATUS_ID", K::CrmStatus("STATUS"), "Stage", "status_id"),
    FieldDef::new(
        "STATUS_DESCRIPTION",
        K::String,
        "Stage Description",
        "status_description",
    ),
    FieldDef::new(
        "STATUS_SEMANTIC_ID",
        K::String,
        "Status Semantic",
        "status_semantic_id",
    )
    .read_only(),
    FieldDef::new("POST", K::String, "Position", "post"),
    FieldDef::new("ADDRESS", K::String, "Address", "address"),
    FieldDef::new("ADDRESS_2", K::String, "Address (Line 2)", "address_2"),
    FieldDef::new("ADDRESS_CITY", K::String, "City", "address_city"),
    FieldDef::new(
        "ADDRESS_POSTAL_CODE",
        K::String,
        "Postal Code",
        "address_postal_code",
    ),
    FieldDef::new("ADDRESS_REGION", K::String, "Region", "address_region"),
    FieldDef::new(
        "ADDRESS_PROVINCE",
        K::String,
        "Province",
        "address_province",
    ),
    FieldDef::new("ADDRESS_COUNTRY", K::String, "Country", "address_country"),
    FieldDef::new(
        "ADDRESS_COUNTRY_CODE",
        K::String,
        "Country Code",
        "address_country_code",
    ),
    FieldDef::new(
        "ADDRESS_LOC_ADDR_ID",
        K::Integer,
        "Location Address ID",
        "address_loc_addr_id",
    ),
    FieldDef::new("CURRENCY_ID", K::CrmCurrency, "Currency", "currency_id"),
    FieldDef::new("OPPORTUNITY", K::Double, "Amount", "opportunity"),
    FieldDef::new(
        "IS_MANUAL_OPPORTUNITY",
        K::Char,
        "IS_MANUAL_OPPORTUNITY",
        "is_manual_opportunity",
    ),
    FieldDef::new("OPENED", K::Char, "Available to All", "opened"),
    FieldDef::new("COMMENTS", K::String, "Comments", "comments"),
    FieldDef::new("HAS_PHONE", K::Char, "Phone Provided", "has_phone").read_only(),
    FieldDef::new("HAS_EMAIL", K::Char, "Email Provided", "has_email").read_only(),
    FieldDef::new("HAS_IMOL", K::Char, "Open Line Assigned", "has_imol").read_only(),
    FieldDef::new(
        "ASSIGNED_BY_ID",
        K::User,
        "Responsible User",
        "assigned_by_id",
    ),
    FieldDef::new("CREATED_BY_ID", K::User, "Created By", "created_by_id").read_only(),
    FieldDef::new("MODIFY_BY_ID", K::User, "Modified By", "modify_by_id").read_only(),
    FieldDef::new("MOVED_BY_ID", K::User, "MOVED_BY_ID", "moved_by_id").read_only(),
    FieldDef::new("DATE_CREATE", K::DateTime, "Creation Date", "date_create").read_only(),
    FieldDef::new(
        "DATE_MODIFY",
        K::DateTime,
        "Modification Date",
        "date_modify",
    )
    .read_only(),
    FieldDef::new("MOVED_TIME", K::DateTime, "MOVED_TIME", "moved_time").read_only(),
    FieldDef::new("COMPANY_ID", K::CrmCompany, "Company", "company_id")
        .settings(r#"{"parentEntityTypeId":4}"#),
    FieldDef::new("CONTACT_ID", K::CrmContact, "Contact", "contact_id").deprecated(),
    FieldDef::write_only_multiple("CONTACT_IDS", K::CrmContact, "CONTACT_IDS"),
    FieldDef::new(
        "IS_RETURN_CUSTOMER",
        K::Char,
        "Returning Lead",
        "is_return_customer",
    )
    .read_only(),
    FieldDef::new("DATE_CLOSED", K::DateTime, "Closing Date", "date_closed").read_only(),
    FieldDef::new(
        "ORIGINATOR_ID",
        K::String,
        "External Source",
        "originator_id",
    ),
    FieldDef::new(
        "ORIGIN_ID",
        K::String,
        "Identifier in External Source",
        "origin_id",
    ),
    FieldDef::new("UTM_SOURCE", K::String, "Advertising System", "utm_source"),
    FieldDef::new("UTM_MEDIUM", K::String, "Traffic Type", "utm_medium"),
    FieldDef::new(
        "UTM_CAMPAIGN",
        K::String,
        "Campaign Identifier",
        "utm_campaign",
    ),
    FieldDef::new("UTM_CONTENT", K::String, "Campaign Content", "utm_content"),
    FieldDef::new("UTM_TERM", K::String, "Campaign Search Term", "utm_term"),
    FieldDef::new(
        "LAST_ACTIVITY_TIME",
        K::DateTime,
        "LAST_ACTIVITY_TIME",
        "last_activity_time",
    )
    .read_only(),
    FieldDef::new(
        "LAST_ACTIVITY_BY",
        K::User,
        "LAST_ACTIVITY_BY",
        "last_activity_by",
    )
    .read_only(),
    FieldDef::multifield("PHONE", "Phone"),
    FieldDef::multifield("EMAIL", "E-mail"),
    FieldDef::multifield("WEB", "Website"),
    FieldDef::multifield("IM", "Messenger"),
    FieldDef::multifield("LINK", "LINK"),
];

/// Key order of a `crm.lead.get` record (the docs example, leads.md §7), which is not the order
/// of `crm.lead.fields`. User fields and multifields follow these.
pub static LEAD_OUTPUT_ORDER: &[&str] = &[
    "ID",
    "TITLE",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "COMPANY_TITLE",
    "COMPANY_ID",
    "CONTACT_ID",
    "IS_RETURN_CUSTOMER",
    "BIRTHDATE",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "STATUS_ID",
    "STATUS_DESCRIPTION",
    "POST",
    "COMMENTS",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "DATE_CLOSED",
    "STATUS_SEMANTIC_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
];
