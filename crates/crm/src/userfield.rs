//! User fields (`UF_CRM_*`, leads.md §5): their definitions per entity type and the methods
//! `crm.<entity>.userfield.{add,update,get,list,delete}`, the same for every entity type.
//!
//! Values of user fields (validation on add/update, legacy output, `*.fields` entries) are in
//! `userfield::value`; the engine calls it with the definitions read here.

pub mod value;

use crate::actor::{Action, Level};
use crate::entity::EntityKind;
use crate::eval::{self, RowAccess};
use crate::event::UserFieldAction;
use crate::field::{ColumnType, FieldDef, FieldKind as K};
use crate::filter;
use crate::query::{Col, DbValue};
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::envelope::php_array;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Languages labels are kept in (leads.md §5.1, decision "labels"). Not configurable yet: a label
/// given as a plain string is stored for each of these, and a language map keeps these keys only.
pub const LANGUAGES: &[&str] = &["en"];

/// Every user field's name starts with this.
pub const PREFIX: &str = "UF_CRM_";

/// Longest `FIELD_NAME`, prefix included.
pub const MAX_NAME_LEN: usize = 50;

/// The label keys of a definition, in output order.
pub const LABEL_KEYS: [&str; 5] = [
    "EDIT_FORM_LABEL",
    "LIST_COLUMN_LABEL",
    "LIST_FILTER_LABEL",
    "ERROR_MESSAGE",
    "HELP_MESSAGE",
];

/// Error texts of the userfield methods (leads.md §1 rows 15–19).
pub mod texts {
    pub const FIELD_NAME_NOT_FOUND: &str = "The 'FIELD_NAME' field is not found.";
    pub const USER_TYPE_NOT_FOUND: &str = "The 'USER_TYPE_ID' field is not found.";
    pub const NAME_TOO_LONG: &str = "Field name is too long (more than 50 characters).";
    pub const NAME_INVALID: &str =
        "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _.";
    pub const INVALID_TYPE: &str = "Invalid custom type specified.";
}

/// The value types a user field can have (`USER_TYPE_ID`). Bitrix24's `iblock_section`,
/// `iblock_element`, `resourcebooking` and app-registered types are not supported (decision in
/// leads.md §5.1: they answer `Invalid custom type specified.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserType {
    String,
    Integer,
    Double,
    Boolean,
    DateTime,
    Date,
    Money,
    Url,
    Address,
    Enumeration,
    File,
    Employee,
    CrmStatus,
    Crm,
}

impl UserType {
    pub const ALL: [UserType; 14] = [
        UserType::String,
        UserType::Integer,
        UserType::Double,
        UserType::Boolean,
        UserType::DateTime,
        UserType::Date,
        UserType::Money,
        UserType::Url,
        UserType::Address,
        UserType::Enumeration,
        UserType::File,
        UserType::Employee,
        UserType::CrmStatus,
        UserType::Crm,
    ];

    /// The `USER_TYPE_ID`.
    pub fn id(self) -> &'static str {
        match self {
            UserType::String => "string",
            UserType::Integer => "integer",
            UserType::Double => "double",
            UserType::Boolean => "boolean",
            UserType::DateTime => "datetime",
            UserType::Date => "date",
            UserType::Money => "money",
            UserType::Url => "url",
            UserType::Address => "address",
            UserType::Enumeration => "enumeration",
            UserType::File => "file",
            UserType::Employee => "employee",
            UserType::CrmStatus => "crm_status",
            UserType::Crm => "crm",
        }
    }

    /// A `USER_TYPE_ID` as a client writes it (surrounding blanks and letter case ignored).
    pub fn parse(s: &str) -> Option<UserType> {
        let s = s.trim();
        UserType::ALL
            .into_iter()
            .find(|t| t.id().eq_ignore_ascii_case(s))
    }

    /// How stored values compare in filters and order: ids, flags, timestamps and numbers
    /// numerically; dates (`YYYY-MM-DD`) and everything else as text.
    pub fn column_type(self) -> ColumnType {
        match self {
            UserType::Integer
            | UserType::Boolean
            | UserType::DateTime
            | UserType::Enumeration
            | UserType::File
            | UserType::Employee => ColumnType::Int,
            UserType::Double => ColumnType::Real,
            _ => ColumnType::Text,
        }
    }
}

/// One option of an `enumeration` field (`LIST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumItem {
    /// 0 for an option not stored yet.
    pub id: i64,
    pub value: String,
    pub sort: i64,
    pub def: bool,
    pub xml_id: String,
}

/// A user-field definition.
#[derive(Debug, Clone, PartialEq)]
pub struct UserField {
    /// 0 for a definition not stored yet.
    pub id: i64,
    /// `CRM_LEAD`, `CRM_DEAL`, ...
    pub entity_id: String,
    /// `UF_CRM_...`
    pub field_name: String,
    pub user_type: UserType,
    pub xml_id: Option<String>,
    pub sort: i64,
    pub multiple: bool,
    pub mandatory: bool,
    /// `N`, or how the UI filters: `I` exact, `E` mask, `S` substring (`Y` is kept as given).
    pub show_filter: String,
    pub show_in_list: bool,
    pub edit_in_list: bool,
    pub is_searchable: bool,
    pub settings: Map<String, Value>,
    /// Label key (`EDIT_FORM_LABEL`, ...) → language → text.
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Options of an enumeration, ordered by `SORT`, then id.
    pub items: Vec<EnumItem>,
}

impl UserField {
    /// A new definition with Bitrix24's defaults (leads.md §5.1).
    pub fn new(entity_id: &str, field_name: &str, user_type: UserType) -> UserField {
        UserField {
            id: 0,
            entity_id: entity_id.to_string(),
            field_name: field_name.to_string(),
            user_type,
            xml_id: None,
            sort: 100,
            multiple: false,
            mandatory: false,
            show_filter: "N".into(),
            show_in_list: true,
            edit_in_list: true,
            is_searchable: false,
            settings: value::default_settings(user_type),
            labels: LABEL_KEYS
                .iter()
                .map(|k| (k.to_string(), lang_map(|_| String::new())))
                .collect(),
            items: vec![],
        }
    }

    /// The operand filters and order use for this field.
    pub fn col(&self) -> Col {
        let ty = self.user_type.column_type();
        if self.multiple {
            Col::uf_multiple(self.field_name.clone(), ty)
        } else {
            Col::uf(self.field_name.clone(), ty)
        }
    }

    /// Writable through add/update: `EDIT_IN_LIST = N` makes the field read-only, like Bitrix24's
    /// `isReadOnly` of such fields.
    pub fn writable(&self) -> bool {
        self.edit_in_list
    }

    /// A label in a language (`""` when none).
    pub fn label(&self, key: &str, lang: &str) -> &str {
        self.labels
            .get(key)
            .and_then(|m| m.get(lang))
            .map_or("", String::as_str)
    }

    /// The labels as stored: `{"EDIT_FORM_LABEL": {"en": "..."}, ...}`.
    pub fn labels_json(&self) -> Value {
        Value::Object(
            self.labels
                .iter()
                .map(|(k, m)| {
                    let langs = m
                        .iter()
                        .map(|(l, t)| (l.clone(), Value::String(t.clone())))
                        .collect();
                    (k.clone(), Value::Object(langs))
                })
                .collect(),
        )
    }

    /// Reads labels stored by `labels_json`; missing keys and languages are `""`.
    pub fn set_labels_json(&mut self, stored: &Value) {
        for key in LABEL_KEYS {
            let given = stored.get(key);
            self.labels.insert(
                key.to_string(),
                lang_map(|lang| {
                    given
                        .and_then(|m| m.get(lang))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                }),
            );
        }
    }

    fn sort_items(&mut self) {
        self.items.sort_by_key(|i| (i.sort, i.id == 0, i.id));
    }
}

/// A map over the configured languages.
fn lang_map(f: impl Fn(&str) -> String) -> BTreeMap<String, String> {
    LANGUAGES.iter().map(|l| (l.to_string(), f(l))).collect()
}

/// The `ENTITY_ID` of an entity type's user fields: `CRM_LEAD`, `CRM_DEAL`, ...
pub fn entity_id(kind: EntityKind) -> String {
    format!("CRM_{}", kind.code())
}

/// `FIELD_NAME` as stored: upper-cased, with the `UF_CRM_` prefix ensured (`MANAGER_NOTE` and
/// `UF_MANAGER_NOTE` both become `UF_CRM_MANAGER_NOTE`), at most 50 characters of `A-Z0-9_`.
pub fn normalize_field_name(given: &str) -> Result<String, ApiError> {
    // ASCII only: a non-ASCII letter must stay invalid rather than upper-case into ASCII (`ß`).
    let upper = given.trim().to_ascii_uppercase();
    let code = upper
        .strip_prefix(PREFIX)
        .or_else(|| upper.strip_prefix("UF_"))
        .unwrap_or(&upper);
    if code.is_empty() {
        return Err(ApiError::legacy(texts::FIELD_NAME_NOT_FOUND));
    }
    let name = format!("{PREFIX}{code}");
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::core(texts::NAME_TOO_LONG));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ApiError::core(texts::NAME_INVALID));
    }
    Ok(name)
}

/// A Y/N flag of a definition; anything unrecognised keeps `current`.
fn flag(fields: &Value, key: &str, current: bool) -> bool {
    wire::php_get(fields, key)
        .and_then(wire::yes_no)
        .unwrap_or(current)
}

fn text_of(v: &Value) -> Option<String> {
    wire::strval(v)
}

/// One label as given: a string for every language, or a language map where languages not given
/// take `fallback`. `None` when absent or of no usable shape.
fn given_label(v: Option<&Value>, fallback: &str) -> Option<BTreeMap<String, String>> {
    let v = v.filter(|v| !v.is_null())?;
    if wire::is_php_array(v) {
        Some(lang_map(|lang| {
            wire::php_get(v, lang)
                .and_then(text_of)
                .unwrap_or_else(|| fallback.to_string())
        }))
    } else {
        text_of(v).map(|t| lang_map(|_| t.clone()))
    }
}

/// The labels of `fields` (leads.md §5.1): `LABEL` is the default of every label key not given,
/// and of the languages a map leaves out. Keys neither given nor defaulted keep their value.
fn apply_labels(uf: &mut UserField, fields: &Value) {
    let label = wire::php_get(fields, "LABEL")
        .filter(|v| !wire::is_php_array(v))
        .and_then(text_of);
    for key in LABEL_KEYS {
        let fallback = label.clone().unwrap_or_default();
        let map = match given_label(wire::php_get(fields, key), &fallback) {
            Some(m) => m,
            None => match &label {
                Some(l) => lang_map(|_| l.clone()),
                None => continue,
            },
        };
        uf.labels.insert(key.to_string(), map);
    }
}

/// A hex code for an option without `XML_ID` (Bitrix24 gives them a 32-character hex code too).
/// Derived from the field, the value and a counter, so it is stable and can be made unique.
fn generated_xml_id(field_name: &str, value: &str, salt: usize) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut out = String::with_capacity(32);
    for half in 0..2u8 {
        let mut h = DefaultHasher::new();
        (field_name, value, salt, half).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Applies `LIST` (leads.md §5.1): an element with an `ID` changes that option (or deletes it
/// with `DEL=Y`); one without adds an option, unless its `VALUE` is empty. Options not named are
/// kept. A single-valued field keeps only the first default.
fn apply_list(uf: &mut UserField, list: &Value) -> Result<(), ApiError> {
    let elements = wire::php_values(list).unwrap_or_default();
    for element in elements {
        if !wire::is_php_array(element) {
            continue;
        }
        let get = |k: &str| wire::php_get(element, k).filter(|v| !v.is_null());
        let id = get("ID").map(wire::intval).unwrap_or(0);
        let value = get("VALUE").and_then(text_of);
        let sort = get("SORT").map(wire::intval);
        let def = get("DEF").and_then(wire::yes_no);
        let xml_id = get("XML_ID")
            .and_then(text_of)
            .filter(|x| !x.trim().is_empty());
        if id > 0 {
            let Some(pos) = uf.items.iter().position(|i| i.id == id) else {
                continue;
            };
            if get("DEL").and_then(wire::yes_no) == Some(true) {
                uf.items.remove(pos);
                continue;
            }
            let item = &mut uf.items[pos];
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                item.value = v;
            }
            if let Some(s) = sort {
                item.sort = s;
            }
            if let Some(d) = def {
                item.def = d;
            }
            if let Some(x) = xml_id {
                item.xml_id = x;
            }
        } else {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            let xml_id = xml_id.unwrap_or_default();
            uf.items.push(EnumItem {
                id: 0,
                value,
                sort: sort.unwrap_or(0),
                def: def.unwrap_or(false),
                xml_id,
            });
        }
    }
    // Codes: given ones must be unique; missing ones are generated unique.
    let mut seen: Vec<String> = Vec::new();
    for item in &uf.items {
        if item.xml_id.is_empty() {
            continue;
        }
        if seen.contains(&item.xml_id) {
            return Err(ApiError::core(format!(
                "List item with XML_ID={} already exists.",
                item.xml_id
            )));
        }
        seen.push(item.xml_id.clone());
    }
    let name = uf.field_name.clone();
    for item in &mut uf.items {
        if item.xml_id.is_empty() {
            let mut salt = 0;
            let mut code = generated_xml_id(&name, &item.value, salt);
            while seen.contains(&code) {
                salt += 1;
                code = generated_xml_id(&name, &item.value, salt);
            }
            seen.push(code.clone());
            item.xml_id = code;
        }
    }
    uf.sort_items();
    if !uf.multiple {
        let mut first = true;
        for item in &mut uf.items {
            if item.def {
                item.def = first;
                first = false;
            }
        }
    }
    Ok(())
}

/// The changeable attributes of a definition from `fields` (shared by add and update; `MULTIPLE`
/// is read by add only).
fn apply_definition(uf: &mut UserField, fields: &Value) -> Result<(), ApiError> {
    if let Some(x) = wire::php_get(fields, "XML_ID") {
        uf.xml_id = text_of(x).filter(|x| !x.is_empty());
    }
    if let Some(sort) = wire::php_get(fields, "SORT").map(wire::intval) {
        // "Must be greater than zero": anything else keeps the current order.
        if sort > 0 {
            uf.sort = sort;
        }
    }
    uf.mandatory = flag(fields, "MANDATORY", uf.mandatory);
    uf.show_in_list = flag(fields, "SHOW_IN_LIST", uf.show_in_list);
    uf.edit_in_list = flag(fields, "EDIT_IN_LIST", uf.edit_in_list);
    uf.is_searchable = flag(fields, "IS_SEARCHABLE", uf.is_searchable);
    if let Some(sf) = wire::php_get(fields, "SHOW_FILTER").and_then(text_of) {
        let sf = sf.trim().to_ascii_uppercase();
        uf.show_filter = match sf.as_str() {
            "Y" | "N" | "I" | "E" | "S" => sf,
            _ => match wire::yes_no(&Value::String(sf)) {
                Some(true) => "Y".into(),
                _ => "N".into(),
            },
        };
    }
    if let Some(settings) = wire::php_get(fields, "SETTINGS") {
        value::merge_settings(uf.user_type, &mut uf.settings, settings);
    }
    apply_labels(uf, fields);
    if uf.user_type == UserType::Enumeration {
        if let Some(list) = wire::php_get(fields, "LIST") {
            apply_list(uf, list)?;
        }
    }
    Ok(())
}

/// userfield.add/update/delete change the portal's configuration: CRM administrators only.
/// Bitrix24 answers this denial with HTTP 403.
fn require_admin(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.actor.rights.admin {
        Ok(())
    } else {
        Err(access_denied())
    }
}

fn access_denied() -> ApiError {
    ApiError::coded("", text::ACCESS_DENIED, 403)
}

/// get/list need read access to the entity type.
fn require_read(ctx: &Ctx<'_>, kind: EntityKind) -> Result<(), ApiError> {
    if ctx.actor.level(kind, Action::Read) == Level::None {
        Err(access_denied())
    } else {
        Ok(())
    }
}

fn definition_id(params: &Params) -> Result<i64, ApiError> {
    match wire::id(params) {
        id if id > 0 => Ok(id),
        _ => Err(ApiError::id_not_defined()),
    }
}

/// The definition `id` of this entity type: not found → `ERROR_NOT_FOUND`; a field of another
/// entity type → access denied (as Bitrix24 answers).
async fn load<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<UserField, ApiError> {
    let all = s.user_fields(ctx.actor.portal_id, None).await?;
    let Some(uf) = all.into_iter().find(|u| u.id == id) else {
        return Err(ApiError::coded(
            "ERROR_NOT_FOUND",
            format!("The entity with ID '{id}' is not found"),
            400,
        ));
    };
    if uf.entity_id != entity_id(kind) {
        return Err(access_denied());
    }
    Ok(uf)
}

/// The user fields of an entity type in a portal, in output order (`SORT`, then id).
pub async fn of_kind<S: Storage>(
    s: &mut S,
    portal_id: i64,
    kind: EntityKind,
) -> Result<Vec<UserField>, ApiError> {
    s.user_fields(portal_id, Some(&entity_id(kind))).await
}

/// `crm.<entity>.userfield.add`: the new definition's id.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    require_admin(ctx)?;
    // Without `fields`, the parameters themselves are the definition (leads.md §1 row 15).
    let whole = Value::Object(params.clone());
    let fields = match wire::legacy(params, "fields") {
        Some(f) if wire::is_php_array(f) => f,
        _ => &whole,
    };
    let given = |k: &str| {
        wire::php_get(fields, k)
            .and_then(text_of)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let name = given("FIELD_NAME").ok_or_else(|| ApiError::legacy(texts::FIELD_NAME_NOT_FOUND))?;
    let type_id =
        given("USER_TYPE_ID").ok_or_else(|| ApiError::legacy(texts::USER_TYPE_NOT_FOUND))?;
    let name = normalize_field_name(&name)?;
    let user_type = UserType::parse(&type_id).ok_or_else(|| ApiError::core(texts::INVALID_TYPE))?;

    let entity = entity_id(kind);
    let mut uf = UserField::new(&entity, &name, user_type);
    // "Fields of type boolean cannot be multiple."
    uf.multiple = user_type != UserType::Boolean && flag(fields, "MULTIPLE", false);
    apply_definition(&mut uf, fields)?;

    let existing = s.user_fields(ctx.actor.portal_id, Some(&entity)).await?;
    if existing.iter().any(|u| u.field_name == name) {
        return Err(ApiError::core(format!(
            "Field {name} already exists for object {entity}."
        )));
    }
    let id = s.insert_user_field(ctx.actor.portal_id, &uf).await?;
    emit(s, ctx, kind, UserFieldAction::Add, id, &uf.field_name).await?;
    Ok(Output::from(Value::from(id)))
}

/// `crm.<entity>.userfield.update`: `true`. `FIELD_NAME`, `USER_TYPE_ID` and `MULTIPLE` cannot
/// change and are ignored.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = definition_id(params)?;
    require_admin(ctx)?;
    let mut uf = load(s, ctx, kind, id).await?;
    let fields = match wire::legacy(params, "fields") {
        Some(f) if wire::is_php_array(f) => f,
        _ => return Err(ApiError::legacy(text::FIELDS_MUST_BE_ARRAY)),
    };
    apply_definition(&mut uf, fields)?;
    if !s.update_user_field(ctx.actor.portal_id, &uf).await? {
        return Err(ApiError::coded(
            "ERROR_NOT_FOUND",
            format!("The entity with ID '{id}' is not found"),
            400,
        ));
    }
    emit(s, ctx, kind, UserFieldAction::Update, id, &uf.field_name).await?;
    if wire::php_get(fields, "LIST").is_some() {
        emit(
            s,
            ctx,
            kind,
            UserFieldAction::SetEnumValues,
            id,
            &uf.field_name,
        )
        .await?;
    }
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.<entity>.userfield.get`: the definition (labels as language maps).
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = definition_id(params)?;
    require_read(ctx, kind)?;
    let uf = load(s, ctx, kind, id).await?;
    Ok(Output::from(format_definition(&uf, None)))
}

/// `crm.<entity>.userfield.delete`: `true`. Deleting a definition deletes its values from every
/// record (Bitrix24 drops the field's column), so a field created again later starts empty.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = definition_id(params)?;
    require_admin(ctx)?;
    let uf = load(s, ctx, kind, id).await?;
    if !s.delete_user_field(ctx.actor.portal_id, id).await? {
        return Err(ApiError::legacy(format!(
            "Error deleting {} for object {}",
            uf.field_name, uf.entity_id
        )));
    }
    s.remove_user_field_values(kind, ctx.actor.portal_id, &uf.field_name)
        .await?;
    emit(s, ctx, kind, UserFieldAction::Delete, id, &uf.field_name).await?;
    Ok(Output::from(Value::Bool(true)))
}

/// Records a user-field event (`onCrm<Type>UserField<Action>`) in this call's transaction.
async fn emit<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    action: UserFieldAction,
    id: i64,
    field_name: &str,
) -> Result<(), ApiError> {
    let e = crate::event::userfield(
        kind,
        action,
        ctx.actor.portal_id,
        id,
        field_name,
        ctx.actor.user_id,
    );
    s.enqueue_event(&e).await
}

/// The filterable attributes of `crm.<entity>.userfield.list` (leads.md §1 row 17), as a field
/// table for the legacy filter grammar.
static LIST_FIELDS: &[FieldDef] = &[
    FieldDef::new("ID", K::Integer, "ID", "id"),
    FieldDef::new("FIELD_NAME", K::String, "", "field_name"),
    FieldDef::new("USER_TYPE_ID", K::String, "", "user_type_id"),
    FieldDef::new("XML_ID", K::String, "", "xml_id"),
    FieldDef::new("SORT", K::Integer, "", "sort"),
    FieldDef::new("MULTIPLE", K::Char, "", "multiple"),
    FieldDef::new("MANDATORY", K::Char, "", "mandatory"),
    FieldDef::new("SHOW_FILTER", K::String, "", "show_filter"),
    FieldDef::new("SHOW_IN_LIST", K::Char, "", "show_in_list"),
    FieldDef::new("EDIT_IN_LIST", K::Char, "", "edit_in_list"),
    FieldDef::new("IS_SEARCHABLE", K::Char, "", "is_searchable"),
];

/// Keys `order` may sort by.
const ORDER_KEYS: [&str; 5] = ["ID", "FIELD_NAME", "USER_TYPE_ID", "XML_ID", "SORT"];

struct DefinitionRow<'a>(&'a UserField);

impl RowAccess for DefinitionRow<'_> {
    fn value(&self, col: &Col) -> DbValue {
        let uf = self.0;
        let yn = |b: bool| DbValue::Text(if b { "Y" } else { "N" }.into());
        match col {
            Col::Column("id") => DbValue::Int(uf.id),
            Col::Column("field_name") => DbValue::Text(uf.field_name.clone()),
            Col::Column("user_type_id") => DbValue::Text(uf.user_type.id().into()),
            Col::Column("xml_id") => uf.xml_id.clone().map_or(DbValue::Null, DbValue::Text),
            Col::Column("sort") => DbValue::Int(uf.sort),
            Col::Column("multiple") => yn(uf.multiple),
            Col::Column("mandatory") => yn(uf.mandatory),
            Col::Column("show_filter") => DbValue::Text(uf.show_filter.clone()),
            Col::Column("show_in_list") => yn(uf.show_in_list),
            Col::Column("edit_in_list") => yn(uf.edit_in_list),
            Col::Column("is_searchable") => yn(uf.is_searchable),
            _ => DbValue::Null,
        }
    }

    fn multifield_values(&self, _type_id: &str) -> Vec<String> {
        vec![]
    }
}

/// `crm.<entity>.userfield.list`: every matching definition (no paging) with `total`. With
/// `filter.LANG` labels are plain strings in that language.
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let order = match wire::legacy(params, "order") {
        Some(v) if !wire::is_php_array(v) => {
            return Err(ApiError::legacy(text::ORDER_MUST_BE_ARRAY))
        }
        other => other,
    };
    let filter = match wire::legacy(params, "filter") {
        Some(v) if !wire::is_php_array(v) => {
            return Err(ApiError::legacy(text::FILTER_MUST_BE_ARRAY))
        }
        other => other,
    };
    require_read(ctx, kind)?;
    let mut conditions = Map::new();
    let mut lang = None;
    for (key, v) in filter.and_then(wire::php_entries).unwrap_or_default() {
        if key == "LANG" {
            lang = text_of(v).map(|l| l.trim().to_ascii_lowercase());
        } else {
            conditions.insert(key, v.clone());
        }
    }
    let parsed = filter::parse_legacy_filter(
        LIST_FIELDS,
        &[],
        &Value::Object(conditions),
        ctx.settings.time_zone,
        ctx.now,
    );
    if !parsed.dropped.is_empty() || !parsed.notes.is_empty() {
        tracing::warn!(method = %format!("crm.{}.userfield.list", kind.method_name()), dropped = ?parsed.dropped, notes = ?parsed.notes, "legacy filter: keys dropped or reinterpreted");
    }
    let all = of_kind(s, ctx.actor.portal_id, kind).await?;
    let mut found: Vec<&UserField> = all
        .iter()
        .filter(|uf| eval::matches(&parsed.cond, &DefinitionRow(uf)))
        .collect();

    let empty = Value::Object(Map::new());
    let mut keys: Vec<(&'static str, bool)> = Vec::new();
    for (name, dir) in wire::php_entries(order.unwrap_or(&empty)).unwrap_or_default() {
        let Some(def) = LIST_FIELDS
            .iter()
            .find(|f| f.name == name && ORDER_KEYS.contains(&f.name))
        else {
            continue;
        };
        let desc = dir
            .as_str()
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC"));
        if let Some(column) = def.column {
            if !keys.iter().any(|(c, _)| *c == column) {
                keys.push((column, desc));
            }
        }
    }
    if keys.is_empty() {
        keys = vec![("sort", false), ("id", false)];
    }
    found.sort_by(|a, b| {
        for (column, desc) in &keys {
            let col = Col::Column(column);
            let ord = eval::sort_cmp(&DefinitionRow(a).value(&col), &DefinitionRow(b).value(&col));
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    let items: Vec<Value> = found
        .iter()
        .map(|uf| format_definition(uf, lang.as_deref()))
        .collect();
    let total = items.len() as i64;
    Ok(Output::list(Value::Array(items), total, None))
}

/// A definition as get/list return it (leads.md §5.1): scalars as strings, `Y`/`N` flags, labels
/// as language maps, or as strings in `lang` (`null` when empty) for a list with `filter.LANG`.
pub fn format_definition(uf: &UserField, lang: Option<&str>) -> Value {
    let yn = |b: bool| Value::String(if b { "Y" } else { "N" }.into());
    let s = |t: &str| Value::String(t.to_string());
    let mut m = Map::new();
    m.insert("ID".into(), Value::String(uf.id.to_string()));
    m.insert("ENTITY_ID".into(), s(&uf.entity_id));
    m.insert("FIELD_NAME".into(), s(&uf.field_name));
    m.insert("USER_TYPE_ID".into(), s(uf.user_type.id()));
    m.insert("XML_ID".into(), uf.xml_id.as_deref().map_or(Value::Null, s));
    m.insert("SORT".into(), Value::String(uf.sort.to_string()));
    m.insert("MULTIPLE".into(), yn(uf.multiple));
    m.insert("MANDATORY".into(), yn(uf.mandatory));
    m.insert("SHOW_FILTER".into(), s(&uf.show_filter));
    m.insert("SHOW_IN_LIST".into(), yn(uf.show_in_list));
    m.insert("EDIT_IN_LIST".into(), yn(uf.edit_in_list));
    m.insert("IS_SEARCHABLE".into(), yn(uf.is_searchable));
    m.insert(
        "SETTINGS".into(),
        php_array(uf.settings.clone().into_iter().collect()),
    );
    for key in LABEL_KEYS {
        let v = match lang {
            Some(lang) => match uf.label(key, lang) {
                "" => Value::Null,
                t => s(t),
            },
            None => Value::Object(
                LANGUAGES
                    .iter()
                    .map(|l| (l.to_string(), s(uf.label(key, l))))
                    .collect(),
            ),
        };
        m.insert(key.into(), v);
    }
    if uf.user_type == UserType::Enumeration {
        let items = uf
            .items
            .iter()
            .map(|i| {
                let mut o = Map::new();
                o.insert("ID".into(), Value::String(i.id.to_string()));
                o.insert("SORT".into(), Value::String(i.sort.to_string()));
                o.insert("VALUE".into(), s(&i.value));
                o.insert("DEF".into(), yn(i.def));
                o.insert("XML_ID".into(), s(&i.xml_id));
                Value::Object(o)
            })
            .collect();
        m.insert("LIST".into(), Value::Array(items));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_are_normalised() {
        let ok = |s: &str| normalize_field_name(s).unwrap();
        assert_eq!(ok("MANAGER_NOTE"), "UF_CRM_MANAGER_NOTE");
        assert_eq!(ok("UF_MANAGER_NOTE"), "UF_CRM_MANAGER_NOTE");
        assert_eq!(ok("UF_CRM_MANAGER_NOTE"), "UF_CRM_MANAGER_NOTE");
        assert_eq!(ok("manager_note"), "UF_CRM_MANAGER_NOTE");
        assert_eq!(ok(" uf_crm_1704817278 "), "UF_CRM_1704817278");
        assert_eq!(ok("66976FE3B2425"), "UF_CRM_66976FE3B2425");
        // 43 characters of code is the most that fits.
        let code43 = "A".repeat(43);
        assert_eq!(ok(&code43).len(), 50);
        let err = |s: &str| normalize_field_name(s).unwrap_err();
        assert_eq!(err(&"A".repeat(44)), ApiError::core(texts::NAME_TOO_LONG));
        assert_eq!(
            err(&format!("UF_CRM_{}", "B".repeat(44))),
            ApiError::core(texts::NAME_TOO_LONG)
        );
        for bad in ["MY-FIELD", "MY FIELD", "поле", "STRASSE_ß", "X.Y"] {
            assert_eq!(err(bad), ApiError::core(texts::NAME_INVALID), "{bad}");
        }
        for empty in ["UF_CRM_", "UF_", "  "] {
            assert_eq!(
                err(empty),
                ApiError::legacy(texts::FIELD_NAME_NOT_FOUND),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn user_types() {
        assert_eq!(
            UserType::parse(" Enumeration "),
            Some(UserType::Enumeration)
        );
        assert_eq!(UserType::parse("crm_status"), Some(UserType::CrmStatus));
        for unsupported in ["iblock_section", "iblock_element", "resourcebooking", "x"] {
            assert_eq!(UserType::parse(unsupported), None);
        }
        for t in UserType::ALL {
            assert_eq!(UserType::parse(t.id()), Some(t));
        }
        assert_eq!(UserType::DateTime.column_type(), ColumnType::Int);
        assert_eq!(UserType::Date.column_type(), ColumnType::Text);
        assert_eq!(UserType::Double.column_type(), ColumnType::Real);
    }

    fn defined(ty: UserType, fields: Value) -> UserField {
        let mut uf = UserField::new("CRM_LEAD", "UF_CRM_X", ty);
        uf.multiple = flag(&fields, "MULTIPLE", false);
        apply_definition(&mut uf, &fields).unwrap();
        uf
    }

    #[test]
    fn labels_default_to_label_and_fill_languages() {
        let uf = defined(
            UserType::String,
            json!({"LABEL": "Note", "EDIT_FORM_LABEL": {"en": "Edit", "de": "Bearbeiten"}, "HELP_MESSAGE": "Help"}),
        );
        assert_eq!(uf.label("EDIT_FORM_LABEL", "en"), "Edit");
        assert_eq!(uf.label("LIST_COLUMN_LABEL", "en"), "Note");
        assert_eq!(uf.label("ERROR_MESSAGE", "en"), "Note");
        assert_eq!(uf.label("HELP_MESSAGE", "en"), "Help");
        // Only configured languages are kept.
        assert!(!uf.labels["EDIT_FORM_LABEL"].contains_key("de"));
        let uf = defined(UserType::String, json!({"LIST_FILTER_LABEL": {"de": "x"}}));
        assert_eq!(uf.label("LIST_FILTER_LABEL", "en"), "");
        assert_eq!(uf.label("EDIT_FORM_LABEL", "en"), "");
        let mut round = UserField::new("CRM_LEAD", "UF_CRM_X", UserType::String);
        round.set_labels_json(&uf.labels_json());
        assert_eq!(round.labels, uf.labels);
    }

    #[test]
    fn list_items_add_change_delete() {
        let mut uf = defined(
            UserType::Enumeration,
            json!({"LIST": [{"VALUE": "b", "SORT": 20, "DEF": "Y"}, {"VALUE": "a", "SORT": 10, "DEF": "Y", "XML_ID": "A"}, {"VALUE": ""}, "junk"]}),
        );
        let values: Vec<&str> = uf.items.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["a", "b"]);
        // Single-valued: only the first default (in option order) stays.
        assert_eq!(
            uf.items.iter().map(|i| i.def).collect::<Vec<_>>(),
            [true, false]
        );
        assert_eq!(uf.items[0].xml_id, "A");
        assert_eq!(uf.items[1].xml_id.len(), 32);
        uf.items[0].id = 7;
        uf.items[1].id = 8;
        apply_list(
            &mut uf,
            &json!([{"ID": 7, "DEL": "Y"}, {"ID": "8", "VALUE": "B", "SORT": 5}, {"ID": 99, "VALUE": "ghost"}, {"VALUE": "c"}]),
        )
        .unwrap();
        let got: Vec<(i64, &str, i64)> = uf
            .items
            .iter()
            .map(|i| (i.id, i.value.as_str(), i.sort))
            .collect();
        assert_eq!(got, [(0, "c", 0), (8, "B", 5)]);
        let dup = apply_list(
            &mut uf,
            &json!([{"VALUE": "d", "XML_ID": "A"}, {"VALUE": "e", "XML_ID": "A"}]),
        );
        assert_eq!(
            dup,
            Err(ApiError::core("List item with XML_ID=A already exists."))
        );
    }

    #[test]
    fn definition_flags_sort_and_settings() {
        let uf = defined(
            UserType::Double,
            json!({"MULTIPLE": "Y", "MANDATORY": "y", "SORT": "0", "SHOW_FILTER": "e", "EDIT_IN_LIST": "N",
                   "XML_ID": "X1", "SETTINGS": {"PRECISION": "3", "OTHER": "kept"}}),
        );
        assert!(uf.multiple && uf.mandatory && !uf.edit_in_list && uf.show_in_list);
        assert_eq!(uf.sort, 100);
        assert_eq!(uf.show_filter, "E");
        assert_eq!(uf.xml_id.as_deref(), Some("X1"));
        assert_eq!(uf.settings["PRECISION"], json!(3));
        assert_eq!(uf.settings["OTHER"], json!("kept"));
        let out = format_definition(&uf, None);
        assert_eq!(out["SORT"], json!("100"));
        assert_eq!(out["MULTIPLE"], json!("Y"));
        assert_eq!(out["EDIT_FORM_LABEL"], json!({"en": ""}));
        assert!(out.get("LIST").is_none());
        let out = format_definition(&uf, Some("en"));
        assert_eq!(out["EDIT_FORM_LABEL"], json!(null));
    }
}
