//! The one generic entity engine behind `crm.<entity>.{add,update,get,list,delete,fields}`:
//! parameters, permissions, dictionary checks, defaults and derived fields, over any `Storage`.
//!
//! Family differences come from the field table (`EntityKind::fields`) and `hooks`; nothing here
//! names a lead field except through those.
//!
//! Sales Intelligence: `add` and `update` are the legacy methods and make traces (`TRACE`, the
//! UTM fields, channel `rest`, the attribution window; `tracking::service`). A caller that must
//! not make traces — `crm.item.add`/`update` (spec §3: "no trace is created by `crm.item.*`") —
//! uses `add_with` / `update_with` with `Tracking::Off`.

use crate::actor::{Action, Level};
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::filter;
use crate::hooks::{self, DefaultValue, Values};
use crate::input::{self, Input, Mode, MultifieldOp};
use crate::output;
use crate::query::{CmpOp, Col, Cond, DbValue, ListQuery, Multifield, Row, Status};
use crate::select::{self, Selection};
use crate::storage::{Assignments, Storage};
use crate::tracking::{self, Tracking, Utm, UTM_FIELDS};
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Legacy lists always answer pages of 50 (lists.md §1).
pub const PAGE_SIZE: i64 = 50;

/// An array parameter (`fields`, `params`, `order`, `filter`): absent (or `null`) is `None`;
/// present but not an array is the method's `Parameter '…' must be array.` error.
fn array_param<'a>(
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
fn required_fields(params: &Params) -> Result<&Value, ApiError> {
    array_param(params, "fields", text::FIELDS_MUST_BE_ARRAY)?
        .ok_or_else(|| ApiError::legacy(text::FIELDS_MUST_BE_ARRAY))
}

/// The record id of update/get/delete: positive after `intval`, else `ID is not defined or invalid.`
fn record_id(params: &Params) -> Result<i64, ApiError> {
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
}

impl Draft {
    fn new(kind: EntityKind) -> Draft {
        Draft {
            kind,
            current: HashMap::new(),
            changes: Vec::new(),
        }
    }

    /// A draft over a stored record read with `sel`.
    fn from_row(kind: EntityKind, sel: &Selection, row: &Row) -> Draft {
        let mut draft = Draft::new(kind);
        for def in &sel.fields {
            draft
                .current
                .insert(def.name, row_value(sel, row, def.name));
        }
        draft
    }

    fn given(&self, name: &str) -> bool {
        self.changes.iter().any(|(f, _)| f.name == name)
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

/// The value of a field in a row read with `sel`.
fn row_value(sel: &Selection, row: &Row, name: &str) -> DbValue {
    let Some(def) = sel.fields.iter().find(|f| f.name == name) else {
        return DbValue::Null;
    };
    match def.column {
        Some("id") => DbValue::Int(row.id),
        Some(column) => sel
            .columns()
            .iter()
            .position(|c| *c == column)
            .and_then(|i| row.values.get(i))
            .cloned()
            .unwrap_or(DbValue::Null),
        None => DbValue::Null,
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
            None => {
                return Err(ApiError::legacy(format!(
                    "Invalid value for field {}.",
                    def.name
                )))
            }
        }
    }
    Ok(())
}

/// Input values into the draft; a blank for a field that must keep a value is skipped.
fn apply_input(kind: EntityKind, draft: &mut Draft, input: &Input) {
    for (def, value) in &input.values {
        if value.is_null() && hooks::keeps_value_when_blank(kind, def.name) {
            continue;
        }
        draft.set_def(def, value.clone());
    }
    // `X_IDS` bindings keep the deprecated single `X_ID` as their first element (leads.md §3.1).
    for (def, ids) in &input.bindings {
        if let Some(single) = def.name.strip_suffix('S').and_then(|n| kind.field(n)) {
            if single.column.is_some() && !single.multiple {
                draft.set_def(
                    single,
                    ids.first().map_or(DbValue::Null, |id| DbValue::Int(*id)),
                );
            }
        }
    }
}

fn apply_defaults(kind: EntityKind, ctx: &Ctx<'_>, draft: &mut Draft) {
    for (name, default) in hooks::DEFAULTS {
        let Some(def) = kind.field(name) else {
            continue;
        };
        if draft.given(name) {
            continue;
        }
        let value = match default {
            DefaultValue::Caller => DbValue::Int(ctx.actor.user_id),
            DefaultValue::Now => DbValue::Int(ctx.now),
            DefaultValue::BaseCurrency => DbValue::Text(ctx.settings.currency.clone()),
            DefaultValue::Text(t) => DbValue::Text(t.to_string()),
            DefaultValue::Real(r) => DbValue::Real(r),
        };
        draft.set_def(def, value);
    }
}

/// Stage default on add, and on a stage change: semantics, move stamps, closing date.
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
        // The first stage of the dictionary (`NEW` for leads, leads.md §3.3).
        if let Some(first) = entries.first() {
            let first = first.status_id.clone();
            draft.set(stage.field, DbValue::Text(first));
        }
    }
    let stage_id = draft.get(stage.field);
    if !adding && (!draft.given(stage.field) || stage_id == draft.stored(stage.field)) {
        return Ok(());
    }
    let semantics = entries
        .iter()
        .find(|e| stage_id.as_str() == Some(e.status_id.as_str()))
        .and_then(|e| e.semantics.as_deref());
    let letter = match semantics {
        Some("S") => "S",
        Some("F") => "F",
        _ => "P",
    };
    if let Some(field) = stage.semantic_field {
        draft.set(field, DbValue::Text(letter.into()));
    }
    if !adding {
        draft.set("MOVED_TIME", DbValue::Int(ctx.now));
        draft.set("MOVED_BY_ID", DbValue::Int(ctx.actor.user_id));
    }
    // Entering a final stage closes the record; moving back to work reopens it.
    draft.set(
        "DATE_CLOSED",
        if letter == "P" {
            DbValue::Null
        } else {
            DbValue::Int(ctx.now)
        },
    );
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

/// `crm.<entity>.add`: the new id as a JSON integer. Makes the record's trace (`Tracking::Rest`).
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    add_with(s, ctx, kind, params, Tracking::Rest).await
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

/// An add; `tracking` says whether it makes a Sales Intelligence trace.
pub async fn add_with<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
    tracking: Tracking,
) -> Result<Output, ApiError> {
    let fields = required_fields(params)?;
    let options = array_param(params, "params", text::PARAMS_MUST_BE_ARRAY)?;
    let level = ctx.actor.level(kind, Action::Add);
    if level == Level::None {
        return Err(ApiError::access_denied());
    }
    // REGISTER_SONET_EVENT has nothing to act on here (no activity stream); IMPORT unlocks stamps.
    let import = wire::param_flag(options, "IMPORT");
    let input = input::normalize(
        kind,
        fields,
        Mode::Add { import },
        ctx.settings.time_zone,
        ctx.now,
    );

    let portal = ctx.actor.portal_id;
    let mut dicts = Dictionaries::default();
    let mut draft = Draft::new(kind);
    apply_input(kind, &mut draft, &input);
    check_dictionaries(s, portal, &mut draft, &mut dicts).await?;
    apply_defaults(kind, ctx, &mut draft);
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
    hooks::derive(kind, &mut draft);

    // With `Own`, a user may only create records that stay theirs.
    if level == Level::Own && !owns(kind, &draft, ctx) {
        return Err(ApiError::access_denied());
    }

    let uf = (!input.uf.is_empty()).then(|| input.uf.clone());
    let id = s
        .insert_entity(kind, portal, draft.assignments(), uf)
        .await?;
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
        let mut contact_ids: Vec<i64> = id_in(&draft, "CONTACT_ID").into_iter().collect();
        for c in input.binding("CONTACT_IDS").unwrap_or_default() {
            if !contact_ids.contains(c) {
                contact_ids.push(*c);
            }
        }
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
    Ok(Output::from(Value::from(id)))
}

/// `crm.<entity>.update`: `true`. A change of the UTM fields may make a new trace (`Tracking::Rest`).
pub async fn update<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    update_with(s, ctx, kind, params, Tracking::Rest).await
}

/// An update; `tracking` says whether a UTM change may make a Sales Intelligence trace.
pub async fn update_with<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
    tracking: Tracking,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    let fields = required_fields(params)?;
    // REGISTER_SONET_EVENT / REGISTER_HISTORY_EVENT are accepted; there is no feed or history to write.
    array_param(params, "params", text::PARAMS_MUST_BE_ARRAY)?;
    let level = ctx.actor.level(kind, Action::Update);
    if level == Level::None {
        return Err(ApiError::access_denied());
    }
    let portal = ctx.actor.portal_id;
    let sel = Selection::everything(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Err(ApiError::not_found());
    };
    let mut draft = Draft::from_row(kind, &sel, &row);
    if level == Level::Own && !owns(kind, &draft, ctx) {
        return Err(ApiError::access_denied());
    }

    let input = input::normalize(kind, fields, Mode::Update, ctx.settings.time_zone, ctx.now);
    let mut dicts = Dictionaries::default();
    apply_input(kind, &mut draft, &input);
    check_dictionaries(s, portal, &mut draft, &mut dicts).await?;
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
    hooks::derive(kind, &mut draft);

    let uf = if input.uf.is_empty() {
        None
    } else {
        let mut merged = row.uf.clone().unwrap_or_default();
        merged.extend(input.uf.clone());
        Some(merged)
    };
    // The row update comes first, so a record deleted meanwhile fails before anything else is written.
    if !s
        .update_entity(kind, portal, id, draft.assignments(), uf)
        .await?
    {
        return Err(ApiError::not_found());
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
    Ok(Output::from(Value::Bool(true)))
}

/// What the caller may do to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Denied,
    /// No such record (or no such family yet).
    Missing,
}

/// Whether record `id` exists (no permission check: for bindings the system makes itself). Unlike
/// `record_access` it does not skip families without a field table, so engine tests can use them;
/// storage must have the family's table.
pub async fn record_exists<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<bool, ApiError> {
    if id <= 0 {
        return Ok(false);
    }
    let sel = Selection {
        fields: vec![],
        ..Selection::standard(kind)
    };
    Ok(read_one(s, ctx, kind, id, &sel).await?.is_some())
}

/// Whether the caller may `action` record `id` (used where a method acts on records of any family,
/// e.g. binding traces). With no right at all the record is not even looked up.
pub async fn record_access<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
    action: Action,
) -> Result<Access, ApiError> {
    if kind.fields().is_empty() || id <= 0 {
        return Ok(Access::Missing);
    }
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
    Ok(Access::Allowed)
}

/// `crm.<entity>.get`: the record in legacy form (leads.md §7).
pub async fn get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = record_id(params)?;
    let level = ctx.actor.level(kind, Action::Read);
    if level == Level::None {
        return Err(ApiError::access_denied());
    }
    let sel = Selection::everything(kind);
    let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
        return Err(ApiError::not_found());
    };
    if level == Level::Own && !owns(kind, &Draft::from_row(kind, &sel, &row), ctx) {
        return Err(ApiError::access_denied());
    }
    let multifields = if sel.multifields.is_empty() {
        vec![]
    } else {
        s.multifields(kind, ctx.actor.portal_id, &[row.id]).await?
    };
    Ok(Output::from(output::format_record(
        kind,
        &sel,
        &row,
        &multifields,
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
    let level = ctx.actor.level(kind, Action::Delete);
    if level == Level::None {
        return Err(ApiError::access_denied());
    }
    if level == Level::Own {
        let sel = Selection {
            fields: kind.field("ASSIGNED_BY_ID").into_iter().collect(),
            ..Selection::standard(kind)
        };
        let Some(row) = read_one(s, ctx, kind, id, &sel).await? else {
            return Err(ApiError::not_found());
        };
        if !owns(kind, &Draft::from_row(kind, &sel, &row), ctx) {
            return Err(ApiError::access_denied());
        }
    }
    if !s.delete_entity(kind, ctx.actor.portal_id, id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Output::from(Value::Bool(true)))
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

/// `crm.<entity>.list`: one page of records with `total` and `next` (lists.md §1–2).
pub async fn list<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    params: &Params,
) -> Result<Output, ApiError> {
    let order = array_param(params, "order", text::ORDER_MUST_BE_ARRAY)?;
    let filter = array_param(params, "filter", text::FILTER_MUST_BE_ARRAY)?;
    let level = ctx.actor.level(kind, Action::Read);
    if level == Level::None {
        return Err(ApiError::access_denied());
    }
    let empty = Value::Object(Map::new());
    let parsed = filter::parse_legacy_filter(
        kind.fields(),
        true,
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
    let mut conds = vec![parsed.cond];
    if level == Level::Own {
        // Only the caller's records exist for this list, so `total` counts only those too.
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
    let sel = select::parse_select(kind, wire::legacy(params, "select"));
    let (offset, count) = page_window(wire::start(params));
    let query = ListQuery {
        kind,
        portal_id: ctx.actor.portal_id,
        filter: Cond::all(conds),
        order: select::parse_order(kind, order.unwrap_or(&empty)),
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
    let items: Vec<Value> = rows
        .iter()
        .map(|row| output::format_record(kind, &sel, row, &multifields, ctx.settings))
        .collect();
    Ok(Output::list(Value::Array(items), total, next))
}

/// `crm.<entity>.fields`.
pub fn fields(kind: EntityKind) -> Value {
    output::describe_fields(kind)
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
