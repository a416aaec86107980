//! Contact and company bindings (leads.md §4, entities.md §1): which contacts a lead, deal, quote
//! or company has and which companies a contact has, with SORT and one primary per record.
//!
//! One generic set of operations serves every relation; company↔contact is one relation seen from
//! both sides (each side keeps its own SORT and IS_PRIMARY). The owner's deprecated single field
//! (`CONTACT_ID`, contact `COMPANY_ID`) always holds the primary binding; the multiple field
//! (`CONTACT_IDS`, company `CONTACT_ID`, `COMPANY_IDS`) is write-only (decisions D5/D6).

use crate::actor::Action;
use crate::engine::{self, Access};
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind};
use crate::query::{Binding, DbValue};
use crate::storage::Storage;
use crate::wire;
use crate::Ctx;
use bx_wire::error::text;
use bx_wire::{ApiError, Output, Params};
use serde_json::{Map, Value};

/// `SORT` of a binding when none is given (docs: "Defaults to 10").
pub const DEFAULT_SORT: i64 = 10;

/// Bindings of records of kind `owner` to records of kind `bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    pub owner: EntityKind,
    pub bound: EntityKind,
}

impl Relation {
    /// Every relation the server keeps.
    pub const ALL: [Relation; 5] = [
        Relation::new(EntityKind::Lead, EntityKind::Contact),
        Relation::new(EntityKind::Deal, EntityKind::Contact),
        Relation::new(EntityKind::Quote, EntityKind::Contact),
        Relation::new(EntityKind::Company, EntityKind::Contact),
        Relation::new(EntityKind::Contact, EntityKind::Company),
    ];

    pub const fn new(owner: EntityKind, bound: EntityKind) -> Relation {
        Relation { owner, bound }
    }

    /// The relations whose owner is `kind`.
    pub fn of_owner(kind: EntityKind) -> impl Iterator<Item = Relation> {
        Relation::ALL.into_iter().filter(move |r| r.owner == kind)
    }

    /// The bound record's key in items and `fields`: `CONTACT_ID` or `COMPANY_ID`.
    pub fn key(self) -> &'static str {
        match self.bound {
            EntityKind::Company => "COMPANY_ID",
            _ => "CONTACT_ID",
        }
    }

    fn bound_field_kind(self) -> FieldKind {
        match self.bound {
            EntityKind::Company => FieldKind::CrmCompany,
            _ => FieldKind::CrmContact,
        }
    }

    /// The owner's single, stored field that shows the primary binding (`CONTACT_ID` of leads,
    /// deals and quotes, `COMPANY_ID` of contacts); companies have none for their contacts.
    pub fn primary_field(self) -> Option<&'static FieldDef> {
        self.owner
            .field(self.key())
            .filter(|f| f.column.is_some() && !f.multiple)
    }

    /// The owner's multiple, write-only field (`CONTACT_IDS`, company `CONTACT_ID`, `COMPANY_IDS`).
    pub fn list_field(self) -> Option<&'static FieldDef> {
        let kind = self.bound_field_kind();
        self.owner
            .fields()
            .iter()
            .find(|f| f.multiple && f.column.is_none() && f.kind == kind)
    }

    /// The same pairs seen from the other side (company↔contact only).
    pub fn mirror(self) -> Option<Relation> {
        match (self.owner, self.bound) {
            (EntityKind::Company, EntityKind::Contact)
            | (EntityKind::Contact, EntityKind::Company) => {
                Some(Relation::new(self.bound, self.owner))
            }
            _ => None,
        }
    }
}

/// Orders by SORT then id and keeps exactly one primary when there are bindings: the first one
/// marked primary, else the first in order (leads.md §4 decision).
pub fn normalize(list: &mut [Binding]) {
    list.sort_by_key(|b| (b.sort, b.id));
    let primary =
        list.iter()
            .position(|b| b.primary)
            .or(if list.is_empty() { None } else { Some(0) });
    for (i, b) in list.iter_mut().enumerate() {
        b.primary = Some(i) == primary;
    }
}

/// A whole new set, in the order given: the first item marked primary is primary, else the
/// first item. A repeated id keeps its first occurrence.
pub fn replace(items: &[Binding]) -> Vec<Binding> {
    let mut out: Vec<Binding> = Vec::with_capacity(items.len());
    for item in items {
        if !out.iter().any(|b| b.id == item.id) {
            out.push(*item);
        }
    }
    let primary = out.iter().position(|b| b.primary).unwrap_or(0);
    for (i, b) in out.iter_mut().enumerate() {
        b.primary = i == primary;
    }
    normalize(&mut out);
    out
}

/// Adds a binding or changes the SORT of an existing one. It becomes primary when asked to or
/// when it is the first; asking an existing primary to stop being one changes nothing, as one
/// binding must stay primary.
pub fn upsert(list: &[Binding], item: Binding) -> Vec<Binding> {
    let mut out = list.to_vec();
    let make_primary = item.primary || out.is_empty();
    match out.iter_mut().find(|b| b.id == item.id) {
        Some(b) => b.sort = item.sort,
        None => out.push(Binding {
            primary: false,
            ..item
        }),
    }
    if make_primary {
        for b in out.iter_mut() {
            b.primary = b.id == item.id;
        }
    }
    normalize(&mut out);
    out
}

/// Removes a binding; when it was the primary one, the first remaining becomes primary.
pub fn remove(list: &[Binding], id: i64) -> Vec<Binding> {
    let mut out: Vec<Binding> = list.iter().copied().filter(|b| b.id != id).collect();
    normalize(&mut out);
    out
}

fn primary_of(list: &[Binding]) -> DbValue {
    list.iter()
        .find(|b| b.primary)
        .map_or(DbValue::Null, |b| DbValue::Int(b.id))
}

/// Whether the owner's primary column must still be written after the bindings are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerColumn {
    /// The caller wrote it in the same change (add/update of the owner).
    AlreadySet,
    /// Write it; `touch` also stamps `DATE_MODIFY`/`MODIFY_BY_ID` (a change made through the
    /// owner's own binding methods).
    Update { touch: bool },
    /// The owner is being deleted.
    Skip,
}

/// Stores `new` as the bindings of `owner_id` (which were `old`), keeps the owner's primary column
/// in step, and mirrors added and removed pairs to the other side of a two-sided relation.
pub async fn save<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    owner_id: i64,
    old: &[Binding],
    new: &[Binding],
    column: OwnerColumn,
) -> Result<(), ApiError> {
    let portal = ctx.actor.portal_id;
    if old != new {
        s.set_bindings(rel.owner, portal, owner_id, rel.bound, new)
            .await?;
    }
    if let (Some(field), OwnerColumn::Update { touch }) = (rel.primary_field(), column) {
        if primary_of(old) != primary_of(new) || touch {
            engine::set_fields(
                s,
                ctx,
                rel.owner,
                owner_id,
                vec![(field.name, primary_of(new))],
                touch,
            )
            .await?;
        }
    } else if let OwnerColumn::Update { touch: true } = column {
        engine::set_fields(s, ctx, rel.owner, owner_id, vec![], true).await?;
    }
    let Some(mirror) = rel.mirror() else {
        return Ok(());
    };
    let added = new.iter().filter(|b| !old.iter().any(|o| o.id == b.id));
    let removed = old.iter().filter(|o| !new.iter().any(|b| b.id == o.id));
    let changes: Vec<(i64, bool)> = added
        .map(|b| (b.id, true))
        .chain(removed.map(|o| (o.id, false)))
        .collect();
    for (other, bind) in changes {
        let theirs = s
            .bindings(mirror.owner, portal, other, mirror.bound)
            .await?;
        let updated = if bind {
            if theirs.iter().any(|b| b.id == owner_id) {
                continue;
            }
            upsert(
                &theirs,
                Binding {
                    id: owner_id,
                    sort: DEFAULT_SORT,
                    primary: false,
                },
            )
        } else {
            remove(&theirs, owner_id)
        };
        s.set_bindings(mirror.owner, portal, other, mirror.bound, &updated)
            .await?;
        if let Some(field) = mirror.primary_field() {
            if primary_of(&theirs) != primary_of(&updated) {
                engine::set_fields(
                    s,
                    ctx,
                    mirror.owner,
                    other,
                    vec![(field.name, primary_of(&updated))],
                    false,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Removes every binding of a record about to be deleted, and every binding that points at it,
/// keeping the other records' primary columns in step.
pub async fn detach<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    id: i64,
) -> Result<(), ApiError> {
    let portal = ctx.actor.portal_id;
    for rel in Relation::of_owner(kind) {
        let old = s.bindings(kind, portal, id, rel.bound).await?;
        if !old.is_empty() {
            save(s, ctx, rel, id, &old, &[], OwnerColumn::Skip).await?;
        }
    }
    // Two-sided relations were mirrored above; one-sided ones are found from the bound side.
    for rel in Relation::ALL
        .into_iter()
        .filter(|r| r.bound == kind && r.mirror().is_none())
    {
        for owner in s.bound_owners(rel.owner, portal, kind, id).await? {
            let old = s.bindings(rel.owner, portal, owner, kind).await?;
            let new = remove(&old, id);
            save(
                s,
                ctx,
                rel,
                owner,
                &old,
                &new,
                OwnerColumn::Update { touch: false },
            )
            .await?;
        }
    }
    Ok(())
}

/// The ids among `ids` that are records of `kind` (any order in, `ids` order out).
pub async fn existing<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    kind: EntityKind,
    ids: &[i64],
) -> Result<Vec<i64>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let found = engine::existing_ids(s, ctx, kind, ids).await?;
    Ok(ids.iter().copied().filter(|i| found.contains(i)).collect())
}

/// What add/update `fields` ask of one relation: the owner's new bindings, if they change.
/// `CONTACT_IDS`-style lists replace the set in the given order (SORT 10, 20, ...; the first is
/// primary); the single field alone makes its record the primary binding (added when missing,
/// others kept), and a blank one removes every binding. Ids of records that do not exist are
/// ignored.
pub async fn requested<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    old: &[Binding],
    list: Option<&[i64]>,
    single: Option<&DbValue>,
) -> Result<Option<Vec<Binding>>, ApiError> {
    if let Some(ids) = list {
        let ids = existing(s, ctx, rel.bound, ids).await?;
        let items: Vec<Binding> = ids
            .iter()
            .zip(1..)
            .map(|(id, i)| Binding {
                id: *id,
                sort: DEFAULT_SORT * i,
                primary: false,
            })
            .collect();
        return Ok(Some(replace(&items)));
    }
    match single {
        None => Ok(None),
        Some(DbValue::Int(id)) if *id > 0 => {
            if existing(s, ctx, rel.bound, &[*id]).await?.is_empty() {
                return Ok(None);
            }
            let sort = old
                .iter()
                .find(|b| b.id == *id)
                .map_or(DEFAULT_SORT, |b| b.sort);
            Ok(Some(upsert(
                old,
                Binding {
                    id: *id,
                    sort,
                    primary: true,
                },
            )))
        }
        Some(_) => Ok(Some(vec![])),
    }
}

// ---- The binding methods: crm.{owner}.{contact|company}.{add,delete,items.get,items.set,items.delete,fields}

fn not_found() -> ApiError {
    ApiError::coded("NOT_FOUND", "Not found.", 400)
}

fn access_denied() -> ApiError {
    ApiError::coded("ACCESS_DENIED", "Access denied.", 400)
}

/// The owner of a binding call, checked for `action` (read to list, update to change).
async fn owner<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
    action: Action,
) -> Result<i64, ApiError> {
    let id = match wire::id(params) {
        id if id > 0 => id,
        _ => return Err(ApiError::id_not_defined()),
    };
    match engine::access(s, ctx, rel.owner, id, action).await? {
        Access::Granted => Ok(id),
        Access::Denied => Err(access_denied()),
        Access::Missing => Err(not_found()),
    }
}

fn missing_key(param: &str, rel: Relation) -> ApiError {
    ApiError::legacy(format!(
        "The parameter '{param}' must contain {}.",
        rel.key()
    ))
}

/// One `{X_ID, SORT, IS_PRIMARY}` element.
fn item(value: &Value, rel: Relation, param: &str) -> Result<Binding, ApiError> {
    if !wire::is_php_array(value) {
        return Err(missing_key(param, rel));
    }
    let id = wire::php_get(value, rel.key()).map_or(0, wire::intval);
    if id <= 0 {
        return Err(missing_key(param, rel));
    }
    let sort = match wire::php_get(value, "SORT") {
        Some(v) if !v.is_null() && !wire::is_php_array(v) => wire::intval(v),
        _ => DEFAULT_SORT,
    };
    let primary = wire::php_get(value, "IS_PRIMARY")
        .and_then(wire::yes_no)
        .unwrap_or(false);
    Ok(Binding { id, sort, primary })
}

fn fields_param(params: &Params) -> Result<&Value, ApiError> {
    match wire::legacy(params, "fields") {
        Some(v) if wire::is_php_array(v) => Ok(v),
        _ => Err(ApiError::legacy(text::FIELDS_MUST_BE_ARRAY)),
    }
}

async fn require_bound<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    ids: &[i64],
) -> Result<(), ApiError> {
    let found = existing(s, ctx, rel.bound, ids).await?;
    if ids.iter().all(|i| found.contains(i)) {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// `crm.{owner}.{bound}.add`: binds one record (or changes its SORT / IS_PRIMARY).
pub async fn add<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
) -> Result<Output, ApiError> {
    let fields = fields_param(params)?;
    let given = item(fields, rel, "fields")?;
    let id = owner(s, ctx, rel, params, Action::Update).await?;
    require_bound(s, ctx, rel, &[given.id]).await?;
    let old = s
        .bindings(rel.owner, ctx.actor.portal_id, id, rel.bound)
        .await?;
    let new = upsert(&old, given);
    save(
        s,
        ctx,
        rel,
        id,
        &old,
        &new,
        OwnerColumn::Update { touch: true },
    )
    .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.{owner}.{bound}.delete`: unbinds one record (an unbound one is no error).
pub async fn delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
) -> Result<Output, ApiError> {
    let fields = fields_param(params)?;
    let bound = wire::php_get(fields, rel.key()).map_or(0, wire::intval);
    if bound <= 0 {
        return Err(missing_key("fields", rel));
    }
    let id = owner(s, ctx, rel, params, Action::Update).await?;
    require_bound(s, ctx, rel, &[bound]).await?;
    let old = s
        .bindings(rel.owner, ctx.actor.portal_id, id, rel.bound)
        .await?;
    let new = remove(&old, bound);
    save(
        s,
        ctx,
        rel,
        id,
        &old,
        &new,
        OwnerColumn::Update { touch: true },
    )
    .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.{owner}.{bound}.items.get`: `[{X_ID, SORT, ROLE_ID, IS_PRIMARY}]` with integers as numbers.
pub async fn items_get<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = owner(s, ctx, rel, params, Action::Read).await?;
    let list = s
        .bindings(rel.owner, ctx.actor.portal_id, id, rel.bound)
        .await?;
    let items: Vec<Value> = list
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert(rel.key().into(), Value::from(b.id));
            m.insert("SORT".into(), Value::from(b.sort));
            m.insert("ROLE_ID".into(), Value::from(0));
            m.insert(
                "IS_PRIMARY".into(),
                Value::String(if b.primary { "Y" } else { "N" }.into()),
            );
            Value::Object(m)
        })
        .collect();
    Ok(Output::from(Value::Array(items)))
}

/// `crm.{owner}.{bound}.items.set`: replaces the whole set.
pub async fn items_set<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
) -> Result<Output, ApiError> {
    let items = match wire::legacy(params, "items") {
        Some(v) if wire::is_php_array(v) => wire::php_values(v).unwrap_or_default(),
        _ => return Err(ApiError::legacy("Parameter 'items' must be array.")),
    };
    let given = items
        .into_iter()
        .map(|v| item(v, rel, "items"))
        .collect::<Result<Vec<Binding>, ApiError>>()?;
    let id = owner(s, ctx, rel, params, Action::Update).await?;
    let ids: Vec<i64> = given.iter().map(|b| b.id).collect();
    require_bound(s, ctx, rel, &ids).await?;
    let old = s
        .bindings(rel.owner, ctx.actor.portal_id, id, rel.bound)
        .await?;
    let new = replace(&given);
    save(
        s,
        ctx,
        rel,
        id,
        &old,
        &new,
        OwnerColumn::Update { touch: true },
    )
    .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// `crm.{owner}.{bound}.items.delete`: removes every binding.
pub async fn items_delete<S: Storage>(
    s: &mut S,
    ctx: &Ctx<'_>,
    rel: Relation,
    params: &Params,
) -> Result<Output, ApiError> {
    let id = owner(s, ctx, rel, params, Action::Update).await?;
    let old = s
        .bindings(rel.owner, ctx.actor.portal_id, id, rel.bound)
        .await?;
    save(
        s,
        ctx,
        rel,
        id,
        &old,
        &[],
        OwnerColumn::Update { touch: true },
    )
    .await?;
    Ok(Output::from(Value::Bool(true)))
}

/// Any binding method of an owner whose records are absent (leads in simple CRM mode): the
/// same `id` check, then `NOT_FOUND`.
pub fn absent_owner(params: &Params) -> Result<Output, ApiError> {
    match wire::id(params) {
        id if id > 0 => Err(not_found()),
        _ => Err(ApiError::id_not_defined()),
    }
}

/// `crm.{owner}.{bound}.fields` (docs example of `crm.lead.contact.fields`, plus `ROLE_ID`).
pub fn fields(rel: Relation) -> Value {
    let entry = |ty: &str, required: bool, read_only: bool, title: &str| {
        serde_json::json!({"type": ty, "isRequired": required, "isReadOnly": read_only, "isImmutable": false,
                           "isMultiple": false, "isDynamic": false, "title": title})
    };
    let mut m = Map::new();
    m.insert("SORT".into(), entry("integer", false, false, "Sorting"));
    m.insert("IS_PRIMARY".into(), entry("char", false, false, "Primary"));
    let title = match rel.bound {
        EntityKind::Company => "Company",
        _ => "Contact",
    };
    m.insert(rel.key().into(), entry("integer", true, false, title));
    m.insert("ROLE_ID".into(), entry("integer", false, true, "Role"));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(id: i64, sort: i64, primary: bool) -> Binding {
        Binding { id, sort, primary }
    }

    #[test]
    fn relation_fields() {
        let deal = Relation::new(EntityKind::Deal, EntityKind::Contact);
        assert_eq!(deal.primary_field().map(|f| f.name), Some("CONTACT_ID"));
        assert_eq!(deal.list_field().map(|f| f.name), Some("CONTACT_IDS"));
        assert_eq!(deal.mirror(), None);
        let company = Relation::new(EntityKind::Company, EntityKind::Contact);
        assert_eq!(company.primary_field(), None);
        assert_eq!(company.list_field().map(|f| f.name), Some("CONTACT_ID"));
        assert_eq!(
            company.mirror(),
            Some(Relation::new(EntityKind::Contact, EntityKind::Company))
        );
        let contact = Relation::new(EntityKind::Contact, EntityKind::Company);
        assert_eq!(contact.key(), "COMPANY_ID");
        assert_eq!(contact.primary_field().map(|f| f.name), Some("COMPANY_ID"));
        assert_eq!(contact.list_field().map(|f| f.name), Some("COMPANY_IDS"));
        for rel in Relation::ALL {
            assert!(rel.list_field().is_some(), "{rel:?}");
        }
        assert_eq!(Relation::of_owner(EntityKind::Lead).count(), 1);
    }

    #[test]
    fn one_primary_first_given_or_first() {
        assert_eq!(
            replace(&[b(5, 20, false), b(3, 10, false), b(5, 30, true)]),
            vec![b(3, 10, false), b(5, 20, true)],
            "first occurrence kept; the first item is primary when none asks"
        );
        assert_eq!(
            replace(&[b(1, 10, true), b(2, 10, true)]),
            vec![b(1, 10, true), b(2, 10, false)]
        );
        assert_eq!(
            replace(&[b(1, 10, false), b(2, 5, true)]),
            vec![b(2, 5, true), b(1, 10, false)]
        );
        assert!(replace(&[]).is_empty());
    }

    #[test]
    fn upsert_and_remove() {
        let one = upsert(&[], b(7, 10, false));
        assert_eq!(one, vec![b(7, 10, true)], "the first binding is primary");
        let two = upsert(&one, b(8, 5, false));
        assert_eq!(two, vec![b(8, 5, false), b(7, 10, true)]);
        let switched = upsert(&two, b(8, 5, true));
        assert_eq!(switched, vec![b(8, 5, true), b(7, 10, false)]);
        // the primary cannot be un-made without naming another
        assert_eq!(
            upsert(&switched, b(8, 40, false)),
            vec![b(7, 10, false), b(8, 40, true)]
        );
        assert_eq!(remove(&switched, 8), vec![b(7, 10, true)]);
        assert_eq!(remove(&switched, 99), switched);
        assert!(remove(&[b(7, 10, true)], 7).is_empty());
    }

    #[test]
    fn fields_description() {
        let f = fields(Relation::new(EntityKind::Contact, EntityKind::Company));
        let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["SORT", "IS_PRIMARY", "COMPANY_ID", "ROLE_ID"]);
        assert_eq!(f["COMPANY_ID"]["isRequired"], true);
        assert_eq!(f["ROLE_ID"]["isReadOnly"], true);
        let f = fields(Relation::new(EntityKind::Lead, EntityKind::Contact));
        assert_eq!(
            f["CONTACT_ID"],
            serde_json::json!({"type": "integer", "isRequired": true, "isReadOnly": false, "isImmutable": false,
                               "isMultiple": false, "isDynamic": false, "title": "Contact"})
        );
    }
}
