//! The entity types the engine serves and their field tables: leads, deals, contacts, companies
//! and quotes, each a table of the same shape, plus the key order of their legacy records.

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
            EntityKind::Deal => DEAL_FIELDS,
            EntityKind::Contact => CONTACT_FIELDS,
            EntityKind::Company => COMPANY_FIELDS,
            EntityKind::Quote => QUOTE_FIELDS,
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
            EntityKind::Deal => DEAL_OUTPUT_ORDER,
            EntityKind::Contact => CONTACT_OUTPUT_ORDER,
            EntityKind::Company => COMPANY_OUTPUT_ORDER,
            // The docs give no quote record example: field-table order.
            EntityKind::Quote => &[],
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

/// `crm.deal.fields` (spec/entities.md), in the docs' order.
pub static DEAL_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id").read_only(),
    FieldDef::new("TITLE", K::String, "Title", "title"),
    FieldDef::new("TYPE_ID", K::CrmStatus("DEAL_TYPE"), "Type", "type_id"),
    FieldDef::new("CATEGORY_ID", K::CrmCategory, "Sales Funnel", "category_id").immutable(),
    FieldDef::new(
        "STAGE_ID",
        K::CrmStatus("DEAL_STAGE"),
        "Deal Stage",
        "stage_id",
    ),
    FieldDef::new(
        "STAGE_SEMANTIC_ID",
        K::String,
        "Stage Group",
        "stage_semantic_id",
    )
    .read_only(),
    FieldDef::new("IS_NEW", K::Char, "New Deal", "is_new").read_only(),
    FieldDef::new("IS_RECURRING", K::Char, "Recurring Deal", "is_recurring"),
    FieldDef::new(
        "IS_RETURN_CUSTOMER",
        K::Char,
        "Repeat Deal",
        "is_return_customer",
    ),
    FieldDef::new(
        "IS_REPEATED_APPROACH",
        K::Char,
        "Repeated Approach",
        "is_repeated_approach",
    ),
    FieldDef::new("PROBABILITY", K::Integer, "Probability", "probability"),
    FieldDef::new("CURRENCY_ID", K::CrmCurrency, "Currency", "currency_id"),
    FieldDef::new("OPPORTUNITY", K::Double, "Amount", "opportunity"),
    FieldDef::new(
        "IS_MANUAL_OPPORTUNITY",
        K::Char,
        "IS_MANUAL_OPPORTUNITY",
        "is_manual_opportunity",
    ),
    FieldDef::new("TAX_VALUE", K::Double, "Tax Rate", "tax_value"),
    FieldDef::new("COMPANY_ID", K::CrmCompany, "Company", "company_id")
        .settings(r#"{"parentEntityTypeId":4}"#),
    FieldDef::new("CONTACT_ID", K::CrmContact, "Contact", "contact_id").deprecated(),
    FieldDef::write_only_multiple("CONTACT_IDS", K::CrmContact, "Contacts"),
    FieldDef::new("QUOTE_ID", K::CrmQuote, "Estimate", "quote_id")
        .read_only()
        .settings(r#"{"parentEntityTypeId":7}"#),
    FieldDef::new("BEGINDATE", K::Date, "Start Date", "begindate"),
    FieldDef::new("CLOSEDATE", K::Date, "Close Date", "closedate"),
    FieldDef::new("OPENED", K::Char, "Available to All", "opened"),
    FieldDef::new("CLOSED", K::Char, "Closed", "closed"),
    FieldDef::new("COMMENTS", K::String, "Comment", "comments"),
    FieldDef::new("ASSIGNED_BY_ID", K::User, "Responsible", "assigned_by_id"),
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
    FieldDef::new("SOURCE_ID", K::CrmStatus("SOURCE"), "Source", "source_id"),
    FieldDef::new(
        "SOURCE_DESCRIPTION",
        K::String,
        "Additional Info about Source",
        "source_description",
    ),
    FieldDef::new("LEAD_ID", K::CrmLead, "Lead", "lead_id")
        .read_only()
        .settings(r#"{"parentEntityTypeId":1}"#),
    FieldDef::new(
        "ADDITIONAL_INFO",
        K::String,
        "Additional Information",
        "additional_info",
    ),
    FieldDef::new("LOCATION_ID", K::Location, "Location", "location_id"),
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
    FieldDef::new(
        "UTM_TERM",
        K::String,
        "Campaign Search Condition",
        "utm_term",
    ),
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
];

/// `crm.contact.fields` (spec/entities.md), in the docs' order. The docs mark the three name fields
/// required; a fresh portal has no such rule (decision D4), so they are not.
pub static CONTACT_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id").read_only(),
    FieldDef::new(
        "HONORIFIC",
        K::CrmStatus("HONORIFIC"),
        "Salutation",
        "honorific",
    ),
    FieldDef::new("NAME", K::String, "First Name", "name"),
    FieldDef::new("SECOND_NAME", K::String, "Middle Name", "second_name"),
    FieldDef::new("LAST_NAME", K::String, "Last Name", "last_name"),
    FieldDef::new("PHOTO", K::File, "Photo", "photo"),
    FieldDef::new("BIRTHDATE", K::Date, "Birthdate", "birthdate"),
    FieldDef::new(
        "TYPE_ID",
        K::CrmStatus("CONTACT_TYPE"),
        "Contact Type",
        "type_id",
    ),
    FieldDef::new("SOURCE_ID", K::CrmStatus("SOURCE"), "Source", "source_id"),
    FieldDef::new(
        "SOURCE_DESCRIPTION",
        K::String,
        "Additional Source Information",
        "source_description",
    ),
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
    FieldDef::new("COMMENTS", K::String, "Comment", "comments"),
    FieldDef::new("OPENED", K::Char, "Available to All", "opened"),
    FieldDef::new(
        "EXPORT",
        K::Char,
        "Participates in Contact Export",
        "export",
    ),
    FieldDef::new("HAS_PHONE", K::Char, "Phone Set", "has_phone").read_only(),
    FieldDef::new("HAS_EMAIL", K::Char, "E-mail Set", "has_email").read_only(),
    FieldDef::new("HAS_IMOL", K::Char, "Open Line Set", "has_imol").read_only(),
    FieldDef::new(
        "ASSIGNED_BY_ID",
        K::User,
        "Responsible Person",
        "assigned_by_id",
    ),
    FieldDef::new("CREATED_BY_ID", K::User, "Created By", "created_by_id").read_only(),
    FieldDef::new("MODIFY_BY_ID", K::User, "Modified By", "modify_by_id").read_only(),
    FieldDef::new("DATE_CREATE", K::DateTime, "Creation Date", "date_create").read_only(),
    FieldDef::new(
        "DATE_MODIFY",
        K::DateTime,
        "Modification Date",
        "date_modify",
    )
    .read_only(),
    FieldDef::new("COMPANY_ID", K::CrmCompany, "Company", "company_id").deprecated(),
    FieldDef::write_only_multiple("COMPANY_IDS", K::CrmCompany, "COMPANY_IDS"),
    FieldDef::new("LEAD_ID", K::CrmLead, "Lead", "lead_id")
        .read_only()
        .settings(r#"{"parentEntityTypeId":1}"#),
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
    FieldDef::new(
        "ORIGIN_VERSION",
        K::String,
        "Original Version",
        "origin_version",
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
    FieldDef::new(
        "UTM_TERM",
        K::String,
        "Campaign Search Condition",
        "utm_term",
    ),
    FieldDef::new(
        "LAST_ACTIVITY_TIME",
        K::DateTime,
        "Last Activity",
        "last_activity_time",
    )
    .read_only(),
    FieldDef::new(
        "LAST_ACTIVITY_BY",
        K::User,
        "Last Activity By",
        "last_activity_by",
    )
    .read_only(),
    FieldDef::multifield("PHONE", "Phone"),
    FieldDef::multifield("EMAIL", "E-mail"),
    FieldDef::multifield("WEB", "Website"),
    FieldDef::multifield("IM", "Messenger"),
    FieldDef::multifield("LINK", "LINK"),
];

/// `crm.company.fields` (spec/entities.md), in the docs' order, without the docs' portal-specific
/// custom fields and smart-process relation. `CONTACT_ID` is the multiple, write-only binding.
pub static COMPANY_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id").read_only(),
    FieldDef::new("TITLE", K::String, "Company Name", "title").required(),
    FieldDef::new(
        "COMPANY_TYPE",
        K::CrmStatus("COMPANY_TYPE"),
        "Company Type",
        "company_type",
    ),
    FieldDef::new("LOGO", K::File, "Logo", "logo"),
    FieldDef::new("ADDRESS", K::String, "Physical Address", "address"),
    FieldDef::new("ADDRESS_2", K::String, "Address (line 2)", "address_2"),
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
    FieldDef::new("ADDRESS_LEGAL", K::String, "Legal Address", "address_legal"),
    FieldDef::new("REG_ADDRESS", K::String, "Legal Address", "reg_address"),
    FieldDef::new(
        "REG_ADDRESS_2",
        K::String,
        "Legal Address (line 2)",
        "reg_address_2",
    ),
    FieldDef::new(
        "REG_ADDRESS_CITY",
        K::String,
        "Legal Address City",
        "reg_address_city",
    ),
    FieldDef::new(
        "REG_ADDRESS_POSTAL_CODE",
        K::String,
        "Legal Address Postal Code",
        "reg_address_postal_code",
    ),
    FieldDef::new(
        "REG_ADDRESS_REGION",
        K::String,
        "Legal Address Region",
        "reg_address_region",
    ),
    FieldDef::new(
        "REG_ADDRESS_PROVINCE",
        K::String,
        "Legal Address Province",
        "reg_address_province",
    ),
    FieldDef::new(
        "REG_ADDRESS_COUNTRY",
        K::String,
        "Legal Address Country",
        "reg_address_country",
    ),
    FieldDef::new(
        "REG_ADDRESS_COUNTRY_CODE",
        K::String,
        "Legal Address Country Code",
        "reg_address_country_code",
    ),
    FieldDef::new(
        "REG_ADDRESS_LOC_ADDR_ID",
        K::Integer,
        "Legal Address Location ID",
        "reg_address_loc_addr_id",
    ),
    FieldDef::new(
        "BANKING_DETAILS",
        K::String,
        "Banking Details",
        "banking_details",
    ),
    FieldDef::new("INDUSTRY", K::CrmStatus("INDUSTRY"), "Industry", "industry"),
    FieldDef::new(
        "EMPLOYEES",
        K::CrmStatus("EMPLOYEES"),
        "Number of Employees",
        "employees",
    ),
    FieldDef::new("CURRENCY_ID", K::CrmCurrency, "Currency", "currency_id"),
    FieldDef::new("REVENUE", K::Double, "Annual Revenue", "revenue"),
    FieldDef::new("OPENED", K::Char, "Available to Everyone", "opened"),
    FieldDef::new("COMMENTS", K::String, "Comment", "comments"),
    FieldDef::new("HAS_PHONE", K::Char, "Phone Set", "has_phone").read_only(),
    FieldDef::new("HAS_EMAIL", K::Char, "E-mail Set", "has_email").read_only(),
    FieldDef::new("HAS_IMOL", K::Char, "Open Line Set", "has_imol").read_only(),
    FieldDef::new("IS_MY_COMPANY", K::Char, "My Company", "is_my_company"),
    FieldDef::new(
        "ASSIGNED_BY_ID",
        K::User,
        "Responsible Person",
        "assigned_by_id",
    ),
    FieldDef::new("CREATED_BY_ID", K::User, "Created By", "created_by_id").read_only(),
    FieldDef::new("MODIFY_BY_ID", K::User, "Modified By", "modify_by_id").read_only(),
    FieldDef::new("DATE_CREATE", K::DateTime, "Creation Date", "date_create").read_only(),
    FieldDef::new(
        "DATE_MODIFY",
        K::DateTime,
        "Modification Date",
        "date_modify",
    )
    .read_only(),
    FieldDef::write_only_multiple("CONTACT_ID", K::CrmContact, "Contact"),
    FieldDef::new("LEAD_ID", K::CrmLead, "Lead", "lead_id")
        .read_only()
        .settings(r#"{"parentEntityTypeId":1}"#),
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
    FieldDef::new(
        "ORIGIN_VERSION",
        K::String,
        "Original Version",
        "origin_version",
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
        "Last Activity Time",
        "last_activity_time",
    ),
    FieldDef::new(
        "LAST_ACTIVITY_BY",
        K::User,
        "Last Activity Author",
        "last_activity_by",
    ),
    FieldDef::new(
        "LAST_COMMUNICATION_TIME",
        K::String,
        "Last Communication Date",
        "last_communication_time",
    )
    .read_only(),
    FieldDef::multifield("PHONE", "Phone"),
    FieldDef::multifield("EMAIL", "E-mail"),
    FieldDef::multifield("WEB", "Website"),
    FieldDef::multifield("IM", "Messenger"),
    FieldDef::multifield("LINK", "LINK"),
];

/// `crm.quote.fields` (spec/entities.md), in the docs' order, without the docs' custom field.
pub static QUOTE_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id").read_only(),
    FieldDef::new("QUOTE_NUMBER", K::String, "Estimate Number", "quote_number").read_only(),
    FieldDef::new("TITLE", K::String, "Subject", "title").required(),
    FieldDef::new(
        "STATUS_ID",
        K::CrmStatus("QUOTE_STATUS"),
        "Estimate Stage",
        "status_id",
    ),
    FieldDef::new("CURRENCY_ID", K::CrmCurrency, "Currency", "currency_id"),
    FieldDef::new("OPPORTUNITY", K::Double, "Amount", "opportunity"),
    FieldDef::new("TAX_VALUE", K::Double, "Tax Rate", "tax_value"),
    FieldDef::new("COMPANY_ID", K::CrmCompany, "Company", "company_id"),
    FieldDef::new(
        "MYCOMPANY_ID",
        K::CrmCompany,
        "Your Company Details",
        "mycompany_id",
    ),
    FieldDef::new("CONTACT_ID", K::CrmContact, "Contact", "contact_id").deprecated(),
    FieldDef::write_only_multiple("CONTACT_IDS", K::CrmContact, "CONTACT_IDS"),
    FieldDef::new("BEGINDATE", K::Date, "Issue Date", "begindate"),
    FieldDef::new("CLOSEDATE", K::Date, "Deadline", "closedate"),
    FieldDef::new("ACTUAL_DATE", K::Date, "ACTUAL_DATE", "actual_date"),
    FieldDef::new("OPENED", K::Char, "Available to Everyone", "opened"),
    FieldDef::new("CLOSED", K::Char, "Closed", "closed"),
    FieldDef::new("COMMENTS", K::String, "Comment", "comments"),
    FieldDef::new("CONTENT", K::String, "Content", "content"),
    FieldDef::new("TERMS", K::String, "Terms", "terms"),
    FieldDef::new("CLIENT_TITLE", K::String, "Client", "client_title"),
    FieldDef::new("CLIENT_ADDR", K::String, "Address", "client_addr"),
    FieldDef::new(
        "CLIENT_CONTACT",
        K::String,
        "Contact Person",
        "client_contact",
    ),
    FieldDef::new("CLIENT_EMAIL", K::String, "E-mail", "client_email"),
    FieldDef::new("CLIENT_PHONE", K::String, "Phone", "client_phone"),
    FieldDef::new("CLIENT_TP_ID", K::String, "Tax ID", "client_tp_id"),
    FieldDef::new("CLIENT_TPA_ID", K::String, "KPP", "client_tpa_id"),
    FieldDef::new("ASSIGNED_BY_ID", K::User, "Responsible", "assigned_by_id"),
    FieldDef::new("CREATED_BY_ID", K::User, "Created By", "created_by_id").read_only(),
    FieldDef::new("MODIFY_BY_ID", K::User, "Modified By", "modify_by_id").read_only(),
    FieldDef::new("DATE_CREATE", K::DateTime, "Creation Date", "date_create").read_only(),
    FieldDef::new(
        "DATE_MODIFY",
        K::DateTime,
        "Modification Date",
        "date_modify",
    )
    .read_only(),
    FieldDef::new("LEAD_ID", K::CrmLead, "Lead", "lead_id"),
    FieldDef::new("DEAL_ID", K::CrmDeal, "Deal", "deal_id"),
    FieldDef::new(
        "PERSON_TYPE_ID",
        K::Integer,
        "Client Type",
        "person_type_id",
    ),
    FieldDef::new("LOCATION_ID", K::Location, "Location", "location_id"),
    FieldDef::new("UTM_SOURCE", K::String, "Advertising System", "utm_source"),
    FieldDef::new("UTM_MEDIUM", K::String, "Traffic Type", "utm_medium"),
    FieldDef::new(
        "UTM_CAMPAIGN",
        K::String,
        "Campaign Identifier",
        "utm_campaign",
    ),
    FieldDef::new("UTM_CONTENT", K::String, "Campaign Content", "utm_content"),
    FieldDef::new(
        "UTM_TERM",
        K::String,
        "Campaign Search Condition",
        "utm_term",
    ),
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
    FieldDef::new(
        "LAST_COMMUNICATION_TIME",
        K::String,
        "LAST_COMMUNICATION_TIME",
        "last_communication_time",
    )
    .read_only(),
];

/// Key order of a `crm.deal.get` record (b24restdocs `crm-deal-get.md` example).
pub static DEAL_OUTPUT_ORDER: &[&str] = &[
    "ID",
    "TITLE",
    "TYPE_ID",
    "STAGE_ID",
    "PROBABILITY",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "TAX_VALUE",
    "LEAD_ID",
    "COMPANY_ID",
    "CONTACT_ID",
    "QUOTE_ID",
    "BEGINDATE",
    "CLOSEDATE",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "CLOSED",
    "COMMENTS",
    "ADDITIONAL_INFO",
    "LOCATION_ID",
    "CATEGORY_ID",
    "STAGE_SEMANTIC_ID",
    "IS_NEW",
    "IS_RECURRING",
    "IS_RETURN_CUSTOMER",
    "IS_REPEATED_APPROACH",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "LAST_ACTIVITY_TIME",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
];

/// Key order of a `crm.contact.get` record (b24restdocs `crm-contact-get.md` example).
pub static CONTACT_OUTPUT_ORDER: &[&str] = &[
    "ID",
    "POST",
    "COMMENTS",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "PHOTO",
    "LEAD_ID",
    "TYPE_ID",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "COMPANY_ID",
    "BIRTHDATE",
    "EXPORT",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "DATE_CREATE",
    "DATE_MODIFY",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "LAST_ACTIVITY_TIME",
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
];

/// Key order of a `crm.company.get` record (b24restdocs `crm-company-get.md` example).
pub static COMPANY_OUTPUT_ORDER: &[&str] = &[
    "ID",
    "COMPANY_TYPE",
    "TITLE",
    "LOGO",
    "LEAD_ID",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "BANKING_DETAILS",
    "INDUSTRY",
    "REVENUE",
    "CURRENCY_ID",
    "EMPLOYEES",
    "COMMENTS",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "IS_MY_COMPANY",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "ADDRESS_LEGAL",
    "REG_ADDRESS",
    "REG_ADDRESS_2",
    "REG_ADDRESS_CITY",
    "REG_ADDRESS_POSTAL_CODE",
    "REG_ADDRESS_REGION",
    "REG_ADDRESS_PROVINCE",
    "REG_ADDRESS_COUNTRY",
    "REG_ADDRESS_COUNTRY_CODE",
    "REG_ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
    "LAST_COMMUNICATION_TIME",
];
