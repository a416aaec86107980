//! Field tables: each entity type is data — one `FieldDef` per field, in Bitrix24's own order.
//! The engine, the filter parser, the output formatter and the SQL schema all read these tables.

/// What kind of value a field holds, in Bitrix24's `crm.*.fields` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Integer,
    String,
    /// `Y` / `N`
    Char,
    Double,
    /// A date without time, stored as `YYYY-MM-DD` text.
    Date,
    /// A point in time, stored as Unix seconds.
    DateTime,
    /// A user id.
    User,
    /// A value from a status dictionary; the argument is the dictionary's `ENTITY_ID`
    /// (`STATUS`, `SOURCE`, `HONORIFIC`, ...).
    CrmStatus(&'static str),
    CrmCurrency,
    CrmCompany,
    CrmContact,
    CrmLead,
    CrmDeal,
    CrmQuote,
    CrmCategory,
    /// PHONE / EMAIL / WEB / IM / LINK.
    CrmMultifield,
    Location,
    File,
}

impl FieldKind {
    /// The `type` string of `crm.*.fields`.
    pub fn type_name(self) -> &'static str {
        match self {
            FieldKind::Integer => "integer",
            FieldKind::String => "string",
            FieldKind::Char => "char",
            FieldKind::Double => "double",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::User => "user",
            FieldKind::CrmStatus(_) => "crm_status",
            FieldKind::CrmCurrency => "crm_currency",
            FieldKind::CrmCompany => "crm_company",
            FieldKind::CrmContact => "crm_contact",
            FieldKind::CrmLead => "crm_lead",
            FieldKind::CrmDeal => "crm_deal",
            FieldKind::CrmQuote => "crm_quote",
            FieldKind::CrmCategory => "crm_category",
            FieldKind::CrmMultifield => "crm_multifield",
            FieldKind::Location => "location",
            FieldKind::File => "file",
        }
    }

    /// How the value is stored in its column.
    pub fn column_type(self) -> ColumnType {
        match self {
            FieldKind::Integer
            | FieldKind::User
            | FieldKind::CrmCompany
            | FieldKind::CrmContact
            | FieldKind::CrmLead
            | FieldKind::CrmDeal
            | FieldKind::CrmQuote
            | FieldKind::CrmCategory
            | FieldKind::DateTime
            | FieldKind::Location
            | FieldKind::File => ColumnType::Int,
            FieldKind::Double => ColumnType::Real,
            _ => ColumnType::Text,
        }
    }
}

/// The storage type of a column. Datetimes are Unix seconds (Int), dates `YYYY-MM-DD` (Text),
/// money a double rounded to cents (Real), `Y`/`N` flags Text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Real,
    Text,
}

/// One field of an entity type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldDef {
    /// UPPER_SNAKE name, e.g. `TITLE`.
    pub name: &'static str,
    pub kind: FieldKind,
    /// Caption as `crm.*.fields` shows it.
    pub title: &'static str,
    pub required: bool,
    pub read_only: bool,
    pub immutable: bool,
    pub multiple: bool,
    pub deprecated: bool,
    /// Storage column; `None` for fields stored elsewhere (multifields, bindings).
    pub column: Option<&'static str>,
    /// Extra `settings` object of `crm.*.fields`, as JSON text.
    pub settings: Option<&'static str>,
    /// Returned by get/list (false for write-only fields such as `CONTACT_IDS`).
    pub readable: bool,
}

impl FieldDef {
    /// A plain writable field stored in `column`.
    pub const fn new(
        name: &'static str,
        kind: FieldKind,
        title: &'static str,
        column: &'static str,
    ) -> Self {
        FieldDef {
            name,
            kind,
            title,
            required: false,
            read_only: false,
            immutable: false,
            multiple: false,
            deprecated: false,
            column: Some(column),
            settings: None,
            readable: true,
        }
    }

    pub const fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub const fn immutable(mut self) -> Self {
        self.immutable = true;
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub const fn settings(mut self, json: &'static str) -> Self {
        self.settings = Some(json);
        self
    }

    /// A multifield (PHONE, EMAIL, ...): multiple, stored in the multifield table.
    pub const fn multifield(name: &'static str, title: &'static str) -> Self {
        FieldDef {
            name,
            kind: FieldKind::CrmMultifield,
            title,
            required: false,
            read_only: false,
            immutable: false,
            multiple: true,
            deprecated: false,
            column: None,
            settings: None,
            readable: true,
        }
    }

    /// A write-only multiple binding field such as `CONTACT_IDS`.
    pub const fn write_only_multiple(
        name: &'static str,
        kind: FieldKind,
        title: &'static str,
    ) -> Self {
        FieldDef {
            name,
            kind,
            title,
            required: false,
            read_only: false,
            immutable: false,
            multiple: true,
            deprecated: false,
            column: None,
            settings: None,
            readable: false,
        }
    }
}

/// The multifield types, in output order.
pub const MULTIFIELD_TYPES: [&str; 5] = ["PHONE", "EMAIL", "WEB", "IM", "LINK"];
