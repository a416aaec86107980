//! The one generic entity engine behind `crm.<entity>.{add,update,get,list,delete,fields}` and
//! `crm.item.*`: permissions, dictionary checks, defaults and derived fields, over any `Storage`.
//!
//! Family differences come from the field table (`EntityKind::fields`) and `hooks`; nothing here
//! names a lead field except through those. The `*_record` functions are the shared core and take
//! parsed input; `add`/`update`/`get`/`list`/`delete` are the legacy view over them (parameters
//! and output of `crm.<entity>.*`), `crate::item` is the `crm.item.*` view.
//!
//! Sales Intelligence: the legacy `add`/`update` make traces in the same transaction (`TRACE`, the
//! UTM fields, channel `rest`, the attribution window; `tracking::service`), by passing
//! `Tracking::Rest` to the cores. `crm.item.add`/`update` pass `Tracking::Off` (spec §3: "no trace
//! is created by `crm.item.*`").

use crate::actor::{Action, Level};
use crate::binding::{self, OwnerColumn, Relation};
use crate::entity::EntityKind;
use crate::event::{self, EntityAction};
use crate::field::{FieldDef, FieldKind};
use crate::filter;
use crate::hooks::{self, DefaultValue, Values};
use crate::input::{self, Input, Mode, MultifieldOp};
use crate::output;
use crate::query::{Binding, CmpOp, Col, Cond, DbValue, ListQuery, Multifield, Order, Row, Status};
use crate::select::{self, Selection};
use crate::storage::{Assignments, Storage};
use crate::tracking::{self, Tracking, Utm, UTM_FIELDS};
use crate::userfield;
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Legacy lists always answer pages of 50 (lists.md §1).
pub const PAGE_SIZE: i64 = 50;

/// Which API is answering: the legacy families speak in empty-code texts, `crm.item.*` in codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Legacy,
    Item,
}

impl Dialect {
    /// The caller's role does not allow `action` at all (or not on this record).
    pub fn access_denied(self, action: Action) -> ApiError {
        match self {
            Dialect::Legacy => ApiError::access_denied(),
            Dialect::Item => ApiError::item_access_denied(action == Action::Read),
        }
    }

    pub fn not_found(self) -> ApiError {
        match self {
            Dialect::Legacy => ApiError::not_found(),
            Dialect::Item => ApiError::element_not_found(),
        }
    }

    /// A record that exists but that the caller may not read: legacy methods say so, while in the
    /// item API such records are invisible (spec/entities.md §6.3).
    pub fn unreadable(self, action: Action) -> ApiError {
        match self {
            Dialect::Legacy => self.access_denied(action),
            Dialect::Item => self.not_found(),
        }
    }

    /// A dictionary value (stage, source, currency, ...) that does not exist.
    pub fn invalid_value(self, def: &FieldDef) -> ApiError {
        match self {
            Dialect::Legacy => ApiError::legacy(format!("Invalid value for field {}.", def.name)),
            Dialect::Item => ApiError::field_value_not_valid(def.title),
        }
    }

    /// A required field (`isRequired`) left out or blank (decision D14).
    pub fn required(self, def: &FieldDef) -> ApiError {
        match self {
            Dialect::Legacy => {
                ApiError::legacy(format!("Required field {} is not specified.", def.name))
            }
            Dialect::Item => ApiError::coded(
                "CRM_FIELD_ERROR_REQUIRED",
                format!("Field \"{}\" is required", def.title),
                400,
            ),
        }
    }
}

/// An array parameter (`fields`, `params`, `order`, `filter`): absent (or `null`) is `None`;
/// present but not an array is the method's `Parameter '…' must be array.` error.
pub(crate) fn array_param<'a>(
    params: &'a Params,
    name: &str,
    error: &'static str,
) -> Result<Option<&'a Value>, ApiError> {
    match wire::legacy(params, name) {
        None => Ok(None),
        Some(v) if wire::is_php_array(v) => Ok(Some(v)),
        Some(_) => Err(ApiError::legacy(error)),
    }
}

/// `fields` of add/update. Bitrix24 answers a missing one (e.g. after an unparsable JSON body,
/// which becomes an empty parameter set) with the same error as a non-array one.
pub(crate) fn required_fields(params: &Params) -> Result<&Value, ApiError> {
    array_param(params, "fields", text::FIELDS_MUST_BE_ARRAY)?
        .ok_or_else(|| ApiError::legacy(text::FIELDS_MUST_BE_ARRAY))
}

/// The record id of update/get/delete: positive after `intval`, else `ID is not defined or invalid.`
pub(crate) fn record_id(params: &Params) -> Result<i64, ApiError> {
    match wire::id(params) {
        id if id > 0 => Ok(id),
        _ => Err(ApiError::id_not_defined()),
    }
}

fn column_of(kind: EntityKind, name: &str) -> Option<&'static str> {
    kind.field(name).and_then(|f| f.column)
}

fn id_column(kind: EntityKind) -> &'static str {
    column_of(kind, "ID").unwrap_or("id")
}

/// The record being written: stored values (update) plus changes in the order they were made.
struct Draft {
    kind: EntityKind,
    current: HashMap<&'static str, DbValue>,
    changes: Vec<(&'static FieldDef, DbValue)>,
    /// Fields the caller's `fields` set (as opposed to defaults and derivations).
    from_input: Vec<&'static str>,
}

impl Draft {
    fn new(kind: EntityKind) -> Draft {
        Draft {
            kind,
            current: HashMap::new(),
            changes: Vec::new(),
            from_input: Vec::new(),
        }
    }

    /// A draft over a stored record read with `sel`.
    fn from_row(kind: EntityKind, sel: &Selection, row: &Row) -> Draft {
        let mut draft = Draft::new(kind);
        for def in &sel.fields {
            draft.current.insert(def.name, sel.value(row, def.name));
        }
        draft
    }

    fn given(&self, name: &str) -> bool {
        self.changes.iter().any(|(f, _)| f.name == name)
    }

    fn given_by_input(&self, name: &str) -> bool {
        self.from_input.contains(&name)
    }

    fn stored(&self, name: &str) -> DbValue {
        self.current.get(name).cloned().unwrap_or(DbValue::Null)
    }

    fn set_def(&mut self, def: &'static FieldDef, value: DbValue) {
        if def.column.is_none() {
            return;
        }
        match self.changes.iter_mut().find(|(f, _)| f.name == def.name) {
            Some(slot) => slot.1 = value,
            None => self.changes.push((def, value)),
        }
    }

    fn assignments(&self) -> Assignments {
        self.changes
            .iter()
            .filter_map(|(f, v)| f.column.map(|c| (c, v.clone())))
            .collect()
    }
}

impl Values for Draft {
    fn get(&self, name: &str) -> DbValue {
        match self.changes.iter().find(|(f, _)| f.name == name) {
            Some((_, v)) => v.clone(),
            None => self.stored(name),
        }
    }

    /// Fields the family does not have are ignored, so shared derivations can be unconditional.
    fn set(&mut self, name: &'static str, value: DbValue) {
        if let Some(def) = self.kind.field(name) {
            self.set_def(def, value);
        }
    }
}

/// Status dictionaries and currencies, each read at most once per call.
#[derive(Default)]
struct Dictionaries {
    statuses: HashMap<String, Vec<Status>>,
    currencies: Option<Vec<String>>,
}

impl Dictionaries {
    async fn statuses<S: Storage>(
        &mut self,
        s: &mut S,
        portal: i64,
        entity_id: &str,
    ) -> Result<&[Status], ApiError> {
        if !self.statuses.contains_key(entity_id) {
            let list = s.statuses(portal, Some(entity_id)).await?;
            self.statuses.insert(entity_id.to_string(), list);
        }
        Ok(self
            .statuses
            .get(entity_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]))
    }

    async fn currencies<S: Storage>(
        &mut self,
        s: &mut S,
        portal: i64,
    ) -> Result<&[String], ApiError> {
        if self.currencies.is_none() {
            self.currencies = Some(s.currencies(portal).await?);
        }
        Ok(self.currencies.as_deref().unwrap_or(&[]))
    }
}

/// The exact entry, or the one that matches ignoring case (stored in its canonical spelling).
fn canonical<'a>(
    mut candidates: impl Iterator<Item = &'a str> + Clone,
    given: &str,
) -> Option<String> {
    if candidates.clone().any(|c| c == given) {
        return Some(given.to_string());
    }
    candidates
        .find(|c| c.eq_ignore_ascii_case(given))
        .map(str::to_string)
}

/// Checks dictionary values (stages, sources, salutations, currencies) against storage.
async fn check_dictionaries<S: Storage>(
    s: &mut S,
    portal: i64,
    draft: &mut Draft,
    dicts: &mut Dictionaries,
    dialect: Dialect,
) -> Result<(), ApiError> {
    for i in 0..draft.changes.len() {
        let (def, value) = (draft.changes[i].0, draft.changes[i].1.clone());
        let DbValue::Text(given) = value else {
            continue;
        };
        let found = match def.kind {
            FieldKind::CrmStatus(entity_id) => {
                let entries = dicts.statuses(s, portal, entity_id).await?;
                canonical(entries.iter().map(|e| e.status_id.as_str()), &given)
            }
            FieldKind::CrmCurrency => {
                let codes = dicts.currencies(s, portal).await?;
                canonical(codes.iter().map(String::as_str), &given)
            }
            _ => continue,
        };
        match found {
            Some(canon) => draft.changes[i].1 = DbValue::Text(canon),
            None => return Err(dialect.invalid_value(def)),
        }
    }
    Ok(())
}

fn is_binding_field(kind: EntityKind, name: &str) -> bool {
    Relation::of_owner(kind).any(|r| r.primary_field().is_some_and(|f| f.name == name))
}

/// The bindings `fields` ask for, per relation of the owner, with the owner's primary column set
/// in the draft. `current` reads the stored bindings (update) or starts empty (add).
async fn plan_bindings<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: Option<i64>,
    input: &Input,
    draft: &mut Draft,
) -> Result<Vec<(Relation, Vec<Binding>, Vec<Binding>)>, ApiError> {
    let mut plans = Vec::new();
    for rel in Relation::of_owner(kind) {
        let list = rel.list_field().and_then(|f| input.binding(f.name));
        let single = rel.primary_field().and_then(|f| input.value(f.name));
        if list.is_none() && single.is_none() {
            continue;
        }
        let old = match id {
            Some(id) => s.bindings(kind, ctx.actor.portal_id, id, rel.bound).await?,
            None => vec![],
        };
        let Some(new) = binding::requested(s, ctx, rel, &old, list, single).await? else {
            continue;
        };
        if let Some(field) = rel.primary_field() {
            let primary = new
                .iter()
                .find(|b| b.primary)
                .map_or(DbValue::Null, |b| DbValue::Int(b.id));
            draft.set(field.name, primary);
        }
        plans.push((rel, old, new));
    }
    Ok(plans)
}

/// Input values into the draft; a blank for a field that must keep a value is skipped, values a
/// family ignores are dropped and over-long text is cut where the family truncates.
fn apply_input(kind: EntityKind, draft: &mut Draft, input: &Input) {
    for (def, value) in &input.values {
        if value.is_null() && hooks::keeps_value_when_blank(kind, def.name) {
            continue;
        }
        // The single binding fields (`CONTACT_ID`, contact `COMPANY_ID`) follow the bindings,
        // which `plan_bindings` works out.
        if is_binding_field(kind, def.name) {
            continue;
        }
        if hooks::ignores_input(kind, def.name, value) {
            continue;
        }
        let value = match (value, hooks::max_chars(kind, def.name)) {
            (DbValue::Text(t), Some(max)) if t.chars().count() > max => {
                DbValue::Text(t.chars().take(max).collect())
            }
            _ => value.clone(),
        };
        draft.set_def(def, value);
        draft.from_input.push(def.name);
    }
}

fn is_blank(v: &DbValue) -> bool {
    match v {
        DbValue::Null => true,
        DbValue::Text(t) => t.trim().is_empty(),
        _ => false,
    }
}

/// Required fields (`isRequired` in the field table): missing or blank on add, blank on update
/// → `Required field X is not specified.` (decision D14).
fn check_required(
    kind: EntityKind,
    draft: &Draft,
    adding: bool,
    dialect: Dialect,
) -> Result<(), ApiError> {
    for def in kind.fields().iter().filter(|f| f.required) {
        let missing = if adding {
            is_blank(&draft.get(def.name))
        } else {
            draft.given(def.name) && is_blank(&draft.get(def.name))
        };
        if missing {
            return Err(dialect.required(def));
        }
    }
    Ok(())
}

/// The family's rules on the record about to be written, worded for the answering API.
fn validate(
    kind: EntityKind,
    draft: &Draft,
    adding: bool,
    dialect: Dialect,
) -> Result<(), ApiError> {
    hooks::validate(kind, draft, adding).map_err(|name| match kind.field(name) {
        Some(def) => dialect.invalid_value(def),
        None => ApiError::legacy(format!("Invalid value for field {name}.")),
    })
}

async fn apply_defaults<S: Storage>(
    s: &mut S,
    kind: EntityKind,
    ctx: &Ctx<'_>,
    draft: &mut Draft,
    dicts: &mut Dictionaries,
) -> Result<(), ApiError> {
    let defaults = hooks::DEFAULTS
        .iter()
        .chain(hooks::family_defaults(kind).iter());
    for (name, default) in defaults {
        let Some(def) = kind.field(name) else {
            continue;
        };
        if draft.given(name) {
            continue;
        }
        let value = match *default {
            DefaultValue::Caller => DbValue::Int(ctx.actor.user_id),
            DefaultValue::Now => DbValue::Int(ctx.now),
            DefaultValue::BaseCurrency => DbValue::Text(ctx.settings.currency.clone()),
            DefaultValue::Text(t) => DbValue::Text(t.to_string()),
            DefaultValue::Real(r) => DbValue::Real(r),
            DefaultValue::Int(i) => DbValue::Int(i),
            DefaultValue::Today(days) => DbValue::Text(today_plus(ctx, days)),
            DefaultValue::FirstStatus(entity_id) => {
                let entries = dicts.statuses(s, ctx.actor.portal_id, entity_id).await?;
                match entries.first() {
                    Some(first) => DbValue::Text(first.status_id.clone()),
                    None => continue,
                }
            }
        };
        draft.set_def(def, value);
    }
    Ok(())
}

/// The portal's calendar date of `ctx.now` plus `days`, as a stored date.
fn today_plus(ctx: &Ctx<'_>, days: i64) -> String {
    let today = chrono::DateTime::from_timestamp(ctx.now, 0)
        .unwrap_or_default()
        .with_timezone(&ctx.settings.time_zone)
        .date_naive();
    let day = today
        .checked_add_signed(chrono::Duration::days(days))
        .unwrap_or(today);
    crate::dates::date_text(day)
}

/// Stage default on add, and on a stage change: semantics, move stamps, closing date, first-stage
/// flag. A closed flag (`CLOSED`) follows the stage on every write.
async fn derive_stage<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    draft: &mut Draft,
    dicts: &mut Dictionaries,
    adding: bool,
) -> Result<(), ApiError> {
    let Some(stage) = hooks::stage(kind) else {
        return Ok(());
    };
    let Some(FieldKind::CrmStatus(entity_id)) = kind.field(stage.field).map(|f| f.kind) else {
        return Ok(());
    };
    let entries = dicts.statuses(s, ctx.actor.portal_id, entity_id).await?;
    if adding && !draft.given(stage.field) {
        // The first stage of the dictionary (`NEW` for leads, leads.md §3.3; decision D7).
        if let Some(first) = entries.first() {
            let first = first.status_id.clone();
            draft.set(stage.field, DbValue::Text(first));
        }
    }
    let stage_id = draft.get(stage.field);
    let entry = entries
        .iter()
        .position(|e| stage_id.as_str() == Some(e.status_id.as_str()));
    let letter = match entry.and_then(|i| entries[i].semantics.as_deref()) {
        Some("S") => "S",
        Some("F") => "F",
        _ => "P",
    };
    let yn = |b: bool| DbValue::Text(if b { "Y" } else { "N" }.into());
    let is_first = entry == Some(0);
    if let Some(flag) = stage.closed_flag {
        draft.set(flag, yn(letter != "P"));
    }
    let changed = adding || (draft.given(stage.field) && stage_id != draft.stored(stage.field));
    if !changed {
        return Ok(());
    }
    if let Some(field) = stage.semantic_field {
        draft.set(field, DbValue::Text(letter.into()));
    }
    if let Some(flag) = stage.first_stage_flag {
        draft.set(flag, yn(is_first));
    }
    if !adding {
        draft.set("MOVED_TIME", DbValue::Int(ctx.now));
        draft.set("MOVED_BY_ID", DbValue::Int(ctx.actor.user_id));
    }
    // Entering a final stage closes the record; moving back to work reopens it.
    match stage.closing {
        hooks::Closing::ClosedAt(field) => draft.set(
            field,
            if letter == "P" {
                DbValue::Null
            } else {
                DbValue::Int(ctx.now)
            },
        ),
        hooks::Closing::CloseDate(field) => {
            if letter != "P" && !draft.given_by_input(field) {
                draft.set(field, DbValue::Text(today_plus(ctx, 0)));
            }
        }
        hooks::Closing::Nothing => {}
    }
    Ok(())
}

/// `HAS_PHONE` / `HAS_EMAIL` / `HAS_IMOL` from the record's multifield values `(type, value type)`.
fn multifield_flags(draft: &mut Draft, values: &[(&str, &str)]) {
    let yn = |b: bool| DbValue::Text(if b { "Y" } else { "N" }.into());
    let has = |t: &str| values.iter().any(|(ty, _)| *ty == t);
    let imol = values
        .iter()
        .any(|(ty, vt)| *ty == "IM" && matches!(*vt, "OPENLINE" | "IMOL"));
    draft.set("HAS_PHONE", yn(has("PHONE")));
    draft.set("HAS_EMAIL", yn(has("EMAIL")));
    draft.set("HAS_IMOL", yn(imol));
}

/// With `Own`, a record is the caller's when it is assigned to them.
fn owns(kind: EntityKind, draft: &Draft, ctx: &Ctx<'_>) -> bool {
    column_of(kind, "ASSIGNED_BY_ID").is_some()
        && draft.get("ASSIGNED_BY_ID") == DbValue::Int(ctx.actor.user_id)
}

/// Whether the caller may read this record.
fn can_read(kind: EntityKind, draft: &Draft, ctx: &Ctx<'_>) -> bool {
    match ctx.actor.level(kind, Action::Read) {
        Level::All => true,
        Level::Own => owns(kind, draft, ctx),
        Level::None => false,
    }
}

/// The refusal for a record the caller may not `action` although their role allows it on their
/// own records: invisible (item API) when they may not even read it.
fn refuse(kind: EntityKind, draft: &Draft, ctx: &Ctx<'_>, action: Action, d: Dialect) -> ApiError {
    if can_read(kind, draft, ctx) {
        d.access_denied(action)
    } else {
        d.unreadable(action)
    }
}

/// Reads one record with `sel`.
async fn read_one<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    sel: &Selection,
) -> Result<Option<Row>, ApiError> {
    let query = ListQuery {
        kind,
        portal_id: ctx.actor.portal_id,
        filter: Cond::Cmp {
            col: Col::Column(id_column(kind)),
            op: CmpOp::Eq,
            value: DbValue::Int(id),
            ci: false,
        },
        order: vec![],
        columns: sel.columns(),
        with_uf: sel.with_uf(),
        offset: 0,
        limit: Some(1),
    };
    Ok(s.list_entities(&query).await?.into_iter().next())
}

/// Records the event of a successful write in the same transaction (the outbox).
async fn emit<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    action: EntityAction,
    id: i64,
) -> Result<(), ApiError> {
    let e = event::entity(kind, action, ctx.actor.portal_id, id, ctx.actor.user_id);
    s.enqueue_event(&e).await
}

/// A stored record with everything readable: columns, user fields and multifield values.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub sel: Selection,
    pub row: Row,
    pub multifields: Vec<Multifield>,
}

/// Reads a whole record without any permission check (for answering with the record the caller
/// has just written). `None` when there is no such record.
pub async fn fetch_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<Option<Stored>, ApiError> {
    let sel = Selection::everything(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Ok(None);
    };
    let multifields = if sel.multifields.is_empty() {
        vec![]
    } else {
        s.multifields(kind, ctx.actor.portal_id, &[row.id]).await?
    };
    Ok(Some(Stored {
        sel,
        row,
        multifields,
    }))
}

/// Reads a whole record the caller may read.
pub async fn read_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    dialect: Dialect,
) -> Result<Stored, ApiError> {
    if ctx.actor.level(kind, Action::Read) == Level::None {
        return Err(dialect.access_denied(Action::Read));
    }
    let Some(stored) = fetch_record(s, ctx, kind, id).await? else {
        return Err(dialect.not_found());
    };
    if !can_read(kind, &Draft::from_row(kind, &stored.sel, &stored.row), ctx) {
        return Err(dialect.unreadable(Action::Read));
    }
    Ok(stored)
}

/// Creates a record from normalised input; returns its id. With `Tracking::Rest` the record also
/// gets its Sales Intelligence trace.
pub async fn add_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    input: &Input,
    dialect: Dialect,
    tracking: Tracking,
) -> Result<i64, ApiError> {
    let level = ctx.actor.level(kind, Action::Add);
    if level == Level::None {
        return Err(dialect.access_denied(Action::Add));
    }
    let portal = ctx.actor.portal_id;
    let mut dicts = Dictionaries::default();
    let mut draft = Draft::new(kind);
    apply_input(kind, &mut draft, input);
    check_required(kind, &draft, true, dialect)?;
    check_dictionaries(s, portal, &mut draft, &mut dicts, dialect).await?;
    let ufs = userfield::of_kind(s, portal, kind).await?;
    let mut uf = Map::new();
    for (name, value) in userfield::value::prepare(s, ctx, &ufs, &input.uf, None, true).await? {
        if let Some(v) = value {
            uf.insert(name, v);
        }
    }
    apply_defaults(s, kind, ctx, &mut draft, &mut dicts).await?;
    derive_stage(s, ctx, kind, &mut draft, &mut dicts, true).await?;
    let new_values: Vec<(&str, &str)> = input
        .multifields
        .iter()
        .filter_map(|op| match op {
            MultifieldOp::Add {
                type_id,
                value_type,
                ..
            } => Some((*type_id, value_type.as_str())),
            _ => None,
        })
        .collect();
    multifield_flags(&mut draft, &new_values);
    let plans = plan_bindings(s, ctx, kind, None, input, &mut draft).await?;
    hooks::derive(kind, &mut draft);
    validate(kind, &draft, true, dialect)?;

    // With `Own`, a user may only create records that stay theirs.
    if level == Level::Own && !owns(kind, &draft, ctx) {
        return Err(dialect.access_denied(Action::Add));
    }

    let uf = (!uf.is_empty()).then_some(uf);
    let id = s
        .insert_entity(kind, portal, draft.assignments(), uf)
        .await?;
    let derived: Assignments = hooks::after_insert(kind, id)
        .into_iter()
        .filter_map(|(name, v)| column_of(kind, name).map(|c| (c, v)))
        .collect();
    if !derived.is_empty() {
        s.update_entity(kind, portal, id, derived, None).await?;
    }
    let contact_ids = contacts_of(&draft, &plans);
    for (rel, old, new) in plans {
        binding::save(s, ctx, rel, id, &old, &new, OwnerColumn::AlreadySet).await?;
    }
    for op in &input.multifields {
        if let MultifieldOp::Add {
            type_id,
            value_type,
            value,
        } = op
        {
            s.insert_multifield(kind, portal, id, type_id, value_type, value)
                .await?;
        }
    }
    if tracking == Tracking::Rest {
        let added = tracking::RecordAdded {
            kind,
            id,
            utm: utm_of(&draft),
            contact_ids,
            company_id: id_in(&draft, "COMPANY_ID"),
            trace: input.trace.as_ref(),
        };
        tracking::service::record_added(s, ctx, &added).await?;
    }
    emit(s, ctx, kind, EntityAction::Add, id).await?;
    Ok(id)
}

/// Changes a record with normalised input. With `Tracking::Rest` a change of the UTM fields may
/// make a new trace.
pub async fn update_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    input: &Input,
    dialect: Dialect,
    tracking: Tracking,
) -> Result<(), ApiError> {
    let level = ctx.actor.level(kind, Action::Update);
    if level == Level::None {
        return Err(dialect.access_denied(Action::Update));
    }
    let portal = ctx.actor.portal_id;
    let sel = Selection::everything(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Err(dialect.not_found());
    };
    let mut draft = Draft::from_row(kind, &sel, &row);
    if level == Level::Own && !owns(kind, &draft, ctx) {
        return Err(refuse(kind, &draft, ctx, Action::Update, dialect));
    }

    let mut dicts = Dictionaries::default();
    apply_input(kind, &mut draft, input);
    check_required(kind, &draft, false, dialect)?;
    check_dictionaries(s, portal, &mut draft, &mut dicts, dialect).await?;
    let ufs = userfield::of_kind(s, portal, kind).await?;
    let uf_changes =
        userfield::value::prepare(s, ctx, &ufs, &input.uf, row.uf.as_ref(), false).await?;
    derive_stage(s, ctx, kind, &mut draft, &mut dicts, false).await?;
    draft.set("DATE_MODIFY", DbValue::Int(ctx.now));
    draft.set("MODIFY_BY_ID", DbValue::Int(ctx.actor.user_id));

    // Multifields merge by id: plan against the stored values so ids of other records (or of
    // another type) are ignored, and the HAS_* flags reflect the result.
    let mut planned: Vec<MultifieldOp> = Vec::new();
    if !input.multifields.is_empty() {
        let mut state: Vec<Multifield> = s.multifields(kind, portal, &[id]).await?;
        for op in &input.multifields {
            match op {
                MultifieldOp::Add {
                    type_id,
                    value_type,
                    value,
                } => {
                    state.push(Multifield {
                        id: 0,
                        owner_id: id,
                        type_id: type_id.to_string(),
                        value_type: value_type.clone(),
                        value: value.clone(),
                    });
                    planned.push(op.clone());
                }
                MultifieldOp::Change {
                    type_id,
                    id: value_id,
                    value_type,
                    value,
                } => {
                    let Some(m) = state
                        .iter_mut()
                        .find(|m| m.id == *value_id && m.type_id == *type_id)
                    else {
                        continue;
                    };
                    let value_type = value_type.clone().unwrap_or_else(|| m.value_type.clone());
                    m.value_type = value_type.clone();
                    m.value = value.clone();
                    planned.push(MultifieldOp::Change {
                        type_id,
                        id: *value_id,
                        value_type: Some(value_type),
                        value: value.clone(),
                    });
                }
                MultifieldOp::Delete {
                    type_id,
                    id: value_id,
                } => {
                    let before = state.len();
                    state.retain(|m| !(m.id == *value_id && m.type_id == *type_id));
                    if state.len() != before {
                        planned.push(op.clone());
                    }
                }
            }
        }
        let values: Vec<(&str, &str)> = state
            .iter()
            .map(|m| (m.type_id.as_str(), m.value_type.as_str()))
            .collect();
        multifield_flags(&mut draft, &values);
    }
    let plans = plan_bindings(s, ctx, kind, Some(id), input, &mut draft).await?;
    hooks::derive(kind, &mut draft);
    validate(kind, &draft, false, dialect)?;

    let uf = if uf_changes.is_empty() {
        None
    } else {
        let mut merged = row.uf.clone().unwrap_or_default();
        for (name, value) in uf_changes {
            match value {
                Some(v) => merged.insert(name, v),
                None => merged.remove(&name),
            };
        }
        Some(merged)
    };
    // The row update comes first, so a record deleted meanwhile fails before anything else is written.
    if !s
        .update_entity(kind, portal, id, draft.assignments(), uf)
        .await?
    {
        return Err(dialect.not_found());
    }
    for op in planned {
        match op {
            MultifieldOp::Add {
                type_id,
                value_type,
                value,
            } => {
                s.insert_multifield(kind, portal, id, type_id, &value_type, &value)
                    .await?;
            }
            MultifieldOp::Change {
                id: value_id,
                value_type,
                value,
                ..
            } => {
                let value_type = value_type.unwrap_or_default();
                s.update_multifield(kind, portal, id, value_id, &value_type, &value)
                    .await?;
            }
            MultifieldOp::Delete { id: value_id, .. } => {
                s.delete_multifield(kind, portal, id, value_id).await?;
            }
        }
    }
    for (rel, old, new) in plans {
        binding::save(s, ctx, rel, id, &old, &new, OwnerColumn::AlreadySet).await?;
    }
    if tracking == Tracking::Rest {
        let mut before = Utm::default();
        for field in UTM_FIELDS {
            before.set(field, draft.stored(field).as_str().map(str::to_string));
        }
        let changed = tracking::RecordUpdated {
            kind,
            id,
            before,
            after: utm_of(&draft),
        };
        tracking::service::record_updated(s, ctx, &changed).await?;
    }
    // Bitrix24 fires `…Update` on every successful update call, changed or not (F5).
    emit(s, ctx, kind, EntityAction::Update, id).await?;
    Ok(())
}

/// The UTM fields of the record being written.
fn utm_of(draft: &Draft) -> Utm {
    let mut utm = Utm::default();
    for field in UTM_FIELDS {
        utm.set(field, draft.get(field).as_str().map(str::to_string));
    }
    utm
}

/// A positive id held in a field of the record being written.
fn id_in(draft: &Draft, name: &str) -> Option<i64> {
    draft.get(name).as_i64().filter(|id| *id > 0)
}

/// The contacts of a record being added, for its trace: the primary one (`CONTACT_ID`) first, then
/// the other contacts bound by this add in their order.
fn contacts_of(draft: &Draft, plans: &[(Relation, Vec<Binding>, Vec<Binding>)]) -> Vec<i64> {
    let mut ids: Vec<i64> = id_in(draft, "CONTACT_ID").into_iter().collect();
    for (rel, _, new) in plans {
        if rel.bound == EntityKind::Contact {
            for b in new {
                if !ids.contains(&b.id) {
                    ids.push(b.id);
                }
            }
        }
    }
    ids
}

/// Deletes a record and everything that hangs on it.
pub async fn delete_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    dialect: Dialect,
) -> Result<(), ApiError> {
    let level = ctx.actor.level(kind, Action::Delete);
    if level == Level::None {
        return Err(dialect.access_denied(Action::Delete));
    }
    if level == Level::Own {
        let sel = Selection {
            fields: kind.field("ASSIGNED_BY_ID").into_iter().collect(),
            ..Selection::standard(kind)
        };
        let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
            return Err(dialect.not_found());
        };
        let draft = Draft::from_row(kind, &sel, &row);
        if !owns(kind, &draft, ctx) {
            return Err(refuse(kind, &draft, ctx, Action::Delete, dialect));
        }
    }
    if !exists(s, ctx, kind, id).await? {
        return Err(dialect.not_found());
    }
    // What points at the record goes in the same transaction: bindings (re-electing primaries
    // of the records they leave) and company/contact references of other records.
    binding::detach(s, ctx, kind, id).await?;
    clear_references(s, ctx, kind, id).await?;
    if !s.delete_entity(kind, ctx.actor.portal_id, id).await? {
        return Err(dialect.not_found());
    }
    emit(s, ctx, kind, EntityAction::Delete, id).await?;
    Ok(())
}

/// Whether a record exists (regardless of permissions).
async fn exists<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<bool, ApiError> {
    Ok(!existing_ids(s, ctx, kind, &[id]).await?.is_empty())
}

/// Which of `ids` are records of `kind` in the caller's portal (regardless of permissions).
pub async fn existing_ids<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    ids: &[i64],
) -> Result<Vec<i64>, ApiError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        let query = ListQuery {
            kind,
            portal_id: ctx.actor.portal_id,
            filter: Cond::In {
                col: Col::Column(id_column(kind)),
                values: chunk.iter().map(|i| DbValue::Int(*i)).collect(),
                ci: false,
            },
            order: vec![],
            columns: vec![],
            with_uf: false,
            offset: 0,
            limit: None,
        };
        found.extend(s.list_entities(&query).await?.into_iter().map(|r| r.id));
    }
    Ok(found)
}

/// What the caller may do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Granted,
    Denied,
    Missing,
}

/// Checks `action` on record `id` of `kind` for the caller (with `Own`, the record must be
/// assigned to them). A missing record is `Missing` only for callers with some access.
pub async fn access<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    action: Action,
) -> Result<Access, ApiError> {
    let level = ctx.actor.level(kind, action);
    if level == Level::None {
        return Ok(Access::Denied);
    }
    let sel = Selection {
        fields: kind.field("ASSIGNED_BY_ID").into_iter().collect(),
        ..Selection::standard(kind)
    };
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Ok(Access::Missing);
    };
    if level == Level::Own && !owns(kind, &Draft::from_row(kind, &sel, &row), ctx) {
        return Ok(Access::Denied);
    }
    Ok(Access::Granted)
}

/// A record in legacy form (as `get` shows it), read without a permission check: for derived
/// work done on the caller's behalf, such as the conversion of a lead in simple CRM mode.
pub(crate) async fn legacy_record<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<Option<Value>, ApiError> {
    let sel = Selection::everything(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Ok(None);
    };
    let multifields = if sel.multifields.is_empty() {
        vec![]
    } else {
        s.multifields(kind, ctx.actor.portal_id, &[row.id]).await?
    };
    let ufs = userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    Ok(Some(output::format_record(
        kind,
        &sel,
        &row,
        &multifields,
        &ufs,
        ctx.settings,
    )))
}

/// One stored value of a record (`Null` when the record or the field does not exist).
pub async fn field_value<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    name: &str,
) -> Result<DbValue, ApiError> {
    let Some(def) = kind.field(name).filter(|f| f.column.is_some()) else {
        return Ok(DbValue::Null);
    };
    let sel = Selection {
        fields: vec![def],
        ..Selection::standard(kind)
    };
    Ok(match read_one(s, ctx, kind, id, &sel).await? {
        Some(row) => sel.value(&row, name),
        None => DbValue::Null,
    })
}

/// Sets fields of a stored record outside add/update (bindings, product-row totals, cleanup
/// after a delete), re-running the family's derivations; `touch` marks a change made through the
/// record's own methods (its bindings or product rows): it stamps DATE_MODIFY and MODIFY_BY_ID
/// and fires the record's `…Update` event, as an update would (F5). A record that does not
/// exist is left alone.
pub async fn set_fields<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    changes: Vec<(&'static str, DbValue)>,
    touch: bool,
) -> Result<(), ApiError> {
    let sel = Selection::standard(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Ok(());
    };
    let mut draft = Draft::from_row(kind, &sel, &row);
    for (name, value) in changes {
        draft.set(name, value);
    }
    hooks::derive(kind, &mut draft);
    if touch {
        draft.set("DATE_MODIFY", DbValue::Int(ctx.now));
        draft.set("MODIFY_BY_ID", DbValue::Int(ctx.actor.user_id));
    }
    s.update_entity(kind, ctx.actor.portal_id, id, draft.assignments(), None)
        .await?;
    if touch {
        emit(s, ctx, kind, EntityAction::Update, id).await?;
    }
    Ok(())
}

/// Clears the company or contact references other records keep to a record being deleted
/// (`COMPANY_ID`, quote `MYCOMPANY_ID`, ...); bindings are handled by `binding::detach`.
async fn clear_references<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<(), ApiError> {
    let target = match kind {
        EntityKind::Company => FieldKind::CrmCompany,
        EntityKind::Contact => FieldKind::CrmContact,
        _ => return Ok(()),
    };
    for owner in EntityKind::ALL {
        for def in owner.fields().iter().filter(|f| f.kind == target) {
            let Some(column) = def.column else { continue };
            let query = ListQuery {
                kind: owner,
                portal_id: ctx.actor.portal_id,
                filter: Cond::Cmp {
                    col: Col::Column(column),
                    op: CmpOp::Eq,
                    value: DbValue::Int(id),
                    ci: false,
                },
                order: vec![],
                columns: vec![],
                with_uf: false,
                offset: 0,
                limit: None,
            };
            for row in s.list_entities(&query).await? {
                set_fields(
                    s,
                    ctx,
                    owner,
                    row.id,
                    vec![(def.name, DbValue::Null)],
                    false,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The paging window of a `start` value: `(offset, count)`; `start=-1` reads the first page and
/// skips counting (decision (c)); other negatives are 0; offsets round down to the page.
pub fn page_window(start: i64) -> (i64, bool) {
    if start == -1 {
        (0, false)
    } else {
        (start.max(0) / PAGE_SIZE * PAGE_SIZE, true)
    }
}

/// A parsed list request: the view has turned its grammar into the query model.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRequest {
    pub filter: Cond,
    pub order: Vec<Order>,
    pub sel: Selection,
    /// The raw `start` (`-1` skips counting).
    pub start: i64,
}

/// One page of a list: the rows, their multifield values (when selected), `total` and `next`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<Row>,
    pub multifields: Vec<Multifield>,
    pub total: i64,
    pub next: Option<i64>,
}

/// One page of the records the caller may read (lists.md §1): with `Own`, only the caller's
/// records exist for the list, so `total` counts only those too.
pub async fn list_records<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    request: ListRequest,
    dialect: Dialect,
) -> Result<Page, ApiError> {
    let level = ctx.actor.level(kind, Action::Read);
    if level == Level::None {
        return Err(dialect.access_denied(Action::Read));
    }
    let mut conds = vec![request.filter];
    if level == Level::Own {
        match column_of(kind, "ASSIGNED_BY_ID") {
            Some(column) => conds.push(Cond::Cmp {
                col: Col::Column(column),
                op: CmpOp::Eq,
                value: DbValue::Int(ctx.actor.user_id),
                ci: false,
            }),
            None => conds.push(Cond::False),
        }
    }
    let sel = request.sel;
    let (offset, count) = page_window(request.start);
    let query = ListQuery {
        kind,
        portal_id: ctx.actor.portal_id,
        filter: Cond::all(conds),
        order: request.order,
        columns: sel.columns(),
        with_uf: sel.with_uf(),
        offset,
        limit: Some(PAGE_SIZE),
    };
    let rows = if query.filter == Cond::False {
        vec![]
    } else {
        s.list_entities(&query).await?
    };
    let on_page = rows.len() as i64;
    let total = if !count || query.filter == Cond::False {
        0
    } else if on_page < PAGE_SIZE && (on_page > 0 || offset == 0) {
        // A short page ends the result, so the count is known without asking storage.
        offset.saturating_add(on_page)
    } else {
        s.count_entities(&query).await?
    };
    let next =
        (count && offset.saturating_add(on_page) < total).then(|| offset.saturating_add(PAGE_SIZE));

    let multifields = if sel.multifields.is_empty() || rows.is_empty() {
        vec![]
    } else {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        s.multifields(kind, ctx.actor.portal_id, &ids).await?
    };
    Ok(Page {
        rows,
        multifields,
        total,
        next,
    })
}

/// `crm.<entity>.add`: the new id as a JSON integer. Makes the record's trace.
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    add_with(s, ctx, kind, params, Tracking::Rest).await
}

/// A legacy add; `tracking` says whether it makes a trace (records derived from another one, like
/// those of a simple-mode conversion, share that record's trace instead).
pub async fn add_with<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
    tracking: Tracking,
) -> Result<Output, ApiError> {
    let fields = required_fields(params)?;
    let options = array_param(params, "params", text::PARAMS_MUST_BE_ARRAY)?;
    // REGISTER_SONET_EVENT has nothing to act on here (no activity stream); IMPORT unlocks stamps.
    let import = wire::param_flag(options, "IMPORT");
    let input = input::normalize(
        kind,
        fields,
        Mode::Add { import },
        ctx.settings.time_zone,
        ctx.now,
    );
    let id = add_record(s, ctx, kind, &input, Dialect::Legacy, tracking).await?;
    Ok(Output::from(Value::from(id)))
}

/// `crm.<entity>.update`: `true`.
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    let fields = required_fields(params)?;
    // REGISTER_SONET_EVENT / REGISTER_HISTORY_EVENT are accepted; there is no feed or history to write.
    array_param(params, "params", text::PARAMS_MUST_BE_ARRAY)?;
    let input = input::normalize(kind, fields, Mode::Update, ctx.settings.time_zone, ctx.now);
    update_record(s, ctx, kind, id, &input, Dialect::Legacy, Tracking::Rest).await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.<entity>.get`: the record in legacy form (leads.md §7).
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    let stored = read_record(s, ctx, kind, id, Dialect::Legacy).await?;
    let ufs = userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    Ok(Output::from(output::format_record(
        kind,
        &stored.sel,
        &stored.row,
        &stored.multifields,
        &ufs,
        ctx.settings,
    )))
}

/// `crm.<entity>.delete`: `true`.
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    delete_record(s, ctx, kind, id, Dialect::Legacy).await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.<entity>.list`: one page of records with `total` and `next` (lists.md §1–2).
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let order = array_param(params, "order", text::ORDER_MUST_BE_ARRAY)?;
    let filter = array_param(params, "filter", text::FILTER_MUST_BE_ARRAY)?;
    if ctx.actor.level(kind, Action::Read) == Level::None {
        return Err(ApiError::access_denied());
    }
    let empty = Value::Object(Map::new());
    let ufs = userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    let parsed = filter::parse_legacy_filter(
        kind.fields(),
        &ufs,
        filter.unwrap_or(&empty),
        ctx.settings.time_zone,
        ctx.now,
    );
    if !parsed.dropped.is_empty() || !parsed.notes.is_empty() {
        tracing::warn!(
            method = %format!("crm.{}.list", kind.method_name()),
            dropped = ?parsed.dropped,
            notes = ?parsed.notes,
            "legacy filter: keys dropped or reinterpreted"
        );
    }
    let request = ListRequest {
        filter: parsed.cond,
        order: select::parse_order(kind, &ufs, order.unwrap_or(&empty)),
        sel: select::parse_select(kind, &ufs, wire::legacy(params, "select")),
        start: wire::start(params),
    };
    let page = list_records(s, ctx, kind, request.clone(), Dialect::Legacy).await?;
    let items: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            output::format_record(
                kind,
                &request.sel,
                row,
                &page.multifields,
                &ufs,
                ctx.settings,
            )
        })
        .collect();
    Ok(Output::list(Value::Array(items), page.total, page.next))
}

/// `crm.<entity>.fields`: the field table and the portal's user fields of the entity type.
pub async fn fields<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
) -> Result<Output, ApiError> {
    let ufs = userfield::of_kind(s, ctx.actor.portal_id, kind).await?;
    Ok(Output::from(output::describe_fields(kind, &ufs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_window() {
        assert_eq!(page_window(0), (0, true));
        assert_eq!(page_window(49), (0, true));
        assert_eq!(page_window(75), (50, true));
        assert_eq!(page_window(100), (100, true));
        assert_eq!(page_window(-1), (0, false));
        assert_eq!(page_window(-7), (0, true));
        assert_eq!(page_window(i64::MAX), (i64::MAX / 50 * 50, true));
    }

    #[test]
    fn today_is_the_portal_date() {
        let actor = crate::Actor {
            portal_id: 1,
            user_id: 1,
            rights: crate::Rights::admin(),
        };
        let berlin = crate::PortalSettings {
            time_zone: chrono_tz::Europe::Berlin,
            currency: "EUR".into(),
        };
        // 2024-05-23T22:30:00Z is already the 24th in Berlin.
        let ctx = Ctx {
            actor: &actor,
            settings: &berlin,
            now: 1_716_503_400,
        };
        assert_eq!(today_plus(&ctx, 0), "2024-05-24");
        assert_eq!(today_plus(&ctx, 7), "2024-05-31");
        let utc = crate::PortalSettings {
            time_zone: chrono_tz::UTC,
            ..berlin.clone()
        };
        let ctx = Ctx {
            settings: &utc,
            ..ctx
        };
        assert_eq!(today_plus(&ctx, 0), "2024-05-23");
    }

    #[test]
    fn canonical_spelling() {
        let list = ["NEW", "IN_PROCESS"];
        assert_eq!(canonical(list.iter().copied(), "NEW"), Some("NEW".into()));
        assert_eq!(
            canonical(list.iter().copied(), "in_process"),
            Some("IN_PROCESS".into())
        );
        assert_eq!(canonical(list.iter().copied(), "OLD"), None);
    }
}
