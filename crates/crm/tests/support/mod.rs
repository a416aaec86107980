//! An in-memory `Storage` for engine tests: records, multifields and dictionaries in maps, with
//! filters evaluated by `crm::eval` (SQL three-valued logic) and every call logged by name.
//! The SQL backends have their own tests; this one only has to be obviously right.

#![allow(dead_code)]

use bx_wire::ApiError;
use crm::card::CardKey;
use crm::currency::Currency;
use crm::eval::{self, RowAccess};
use crm::event::Event;
use crm::product_row::ProductRow;
use crm::query::{Binding, Col, DbValue, ListQuery, Multifield, OrderKey, Row, Status, UfCol};
use crm::tracking::attribution::Model;
use crm::tracking::report::{GroupBy, GroupKey, RecordGroup, ReportQuery, TouchRecord, TraceTouch};
use crm::tracking::{
    Binding as TraceBinding, ChannelRule, ExpenseDay, ExpenseFilter, ExpensePack, ExpenseTotal,
    Source, Trace, TraceChannel, TraceData, TrackingSettings,
};
use crm::{Assignments, ColumnType, EntityKind, Storage, UserField};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub cols: HashMap<&'static str, DbValue>,
    pub uf: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct StoredMultifield {
    pub kind: EntityKind,
    pub portal: i64,
    pub mf: Multifield,
}

#[derive(Debug, Default)]
pub struct MemStore {
    pub records: BTreeMap<(EntityKind, i64), BTreeMap<i64, Record>>,
    pub multifields: Vec<StoredMultifield>,
    pub statuses: Vec<Status>,
    pub currencies: Vec<String>,
    /// (owner kind, portal, owner id, bound kind) → bindings in stored order.
    pub bindings: BTreeMap<(EntityKind, i64, i64, EntityKind), Vec<Binding>>,
    /// (portal, row) in insertion order.
    pub product_rows: Vec<(i64, ProductRow)>,
    next_row: i64,
    pub cards: HashMap<(i64, CardKey), Value>,
    /// User-field definitions with their portal.
    pub user_fields: Vec<(i64, UserField)>,
    /// Files given for file user fields: (portal, id, name, size).
    pub files: Vec<(i64, i64, String, i64)>,
    /// Events enqueued, in order.
    pub events: Vec<Event>,
    /// Sales Intelligence: settings per portal (defaults when absent), sources, traces, bindings.
    pub tracking_settings: HashMap<i64, TrackingSettings>,
    pub sources: Vec<(i64, Source)>,
    /// Channel override rules with their portal.
    pub channel_rules: Vec<(i64, ChannelRule)>,
    pub traces: BTreeMap<(i64, i64), Trace>,
    pub trace_bindings: Vec<(i64, TraceBinding)>,
    /// Expense packs: (portal, pack with its id, its daily rows), by id.
    pub expense_packs: Vec<(i64, ExpensePack, Vec<ExpenseDay>)>,
    next_pack: i64,
    next_id: i64,
    next_mf: i64,
    next_uf: i64,
    next_source: i64,
    next_channel_rule: i64,
    next_trace: i64,
    /// Names of the trait methods called, in order.
    pub calls: Vec<&'static str>,
}

impl MemStore {
    /// A store with the default dictionaries and currencies USD, EUR (shared by all portals).
    pub fn seeded() -> MemStore {
        let statuses = crm::status::seeds()
            .into_iter()
            .zip(1..)
            .map(|(s, id)| Status {
                id,
                entity_id: s.entity_id.into(),
                status_id: s.status_id.into(),
                name: s.name.into(),
                name_init: s.name.into(),
                sort: s.sort,
                system: true,
                category_id: None,
                color: s.color.map(str::to_string),
                semantics: s.semantics.map(str::to_string),
            })
            .collect();
        MemStore {
            statuses,
            currencies: vec!["USD".into(), "EUR".into()],
            ..MemStore::default()
        }
    }

    /// The seeded sources for a portal (ids in seed order, as on a fresh database).
    pub fn with_sources(mut self, portal: i64) -> MemStore {
        for seed in crm::tracking::source::SEEDS {
            self.next_source += 1;
            let source = Source {
                id: self.next_source,
                ..seed.to_source(0)
            };
            self.sources.push((portal, source));
        }
        self
    }

    /// The traces bound to a record, effective first.
    pub fn traces_of(&self, portal: i64, kind: EntityKind, id: i64) -> Vec<&Trace> {
        let mut b: Vec<&TraceBinding> = self
            .trace_bindings
            .iter()
            .filter(|(p, b)| *p == portal && b.kind == kind && b.entity_id == id)
            .map(|(_, b)| b)
            .collect();
        b.sort_by_key(|b| std::cmp::Reverse((b.seq, b.trace_id)));
        b.iter()
            .filter_map(|b| self.traces.get(&(portal, b.trace_id)))
            .collect()
    }

    pub fn record(&self, kind: EntityKind, portal: i64, id: i64) -> Option<&Record> {
        self.records.get(&(kind, portal)).and_then(|m| m.get(&id))
    }

    pub fn count_calls(&self, name: &str) -> usize {
        self.calls.iter().filter(|c| **c == name).count()
    }

    fn values_of(&self, kind: EntityKind, portal: i64, owner: i64, type_id: &str) -> Vec<String> {
        self.multifields
            .iter()
            .filter(|m| {
                m.kind == kind
                    && m.portal == portal
                    && m.mf.owner_id == owner
                    && m.mf.type_id == type_id
            })
            .map(|m| m.mf.value.clone())
            .collect()
    }

    fn matching(&self, q: &ListQuery) -> Vec<(i64, Record)> {
        let Some(table) = self.records.get(&(q.kind, q.portal_id)) else {
            return vec![];
        };
        let mut rows: Vec<(i64, Record)> = table
            .iter()
            .filter(|(id, rec)| {
                eval::matches(
                    &q.filter,
                    &View {
                        store: self,
                        q,
                        id: **id,
                        rec,
                    },
                )
            })
            .map(|(id, rec)| (*id, rec.clone()))
            .collect();
        rows.sort_by(|(ia, a), (ib, b)| {
            for o in &q.order {
                let (va, vb) = match &o.key {
                    OrderKey::Col(col) => (value(*ia, a, col), value(*ib, b, col)),
                    OrderKey::StatusSort { column, entity_id } => (
                        self.status_sort(entity_id, a.cols.get(column)),
                        self.status_sort(entity_id, b.cols.get(column)),
                    ),
                };
                let ord = eval::sort_cmp(&va, &vb);
                let ord = if o.desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            ia.cmp(ib)
        });
        rows
    }

    fn status_sort(&self, entity_id: &str, v: Option<&DbValue>) -> DbValue {
        let Some(DbValue::Text(status_id)) = v else {
            return DbValue::Null;
        };
        self.statuses
            .iter()
            .find(|s| s.entity_id == entity_id && &s.status_id == status_id)
            .map_or(DbValue::Null, |s| DbValue::Int(s.sort))
    }
}

/// A stored JSON value as the SQL stores compare it: numbers (and booleans as 1/0) for numeric
/// user fields, anything else NULL there; text for text ones.
fn uf_scalar(v: &Value, ty: ColumnType) -> DbValue {
    match (ty, v) {
        (_, Value::Null) => DbValue::Null,
        (ColumnType::Text, Value::String(s)) => DbValue::Text(s.clone()),
        (ColumnType::Text, other) => DbValue::Text(other.to_string()),
        (_, Value::Bool(b)) => DbValue::Int(i64::from(*b)),
        (_, Value::Number(n)) => n
            .as_i64()
            .map_or(DbValue::Real(n.as_f64().unwrap_or(0.0)), DbValue::Int),
        _ => DbValue::Null,
    }
}

fn uf_value(rec: &Record, uf: &UfCol) -> DbValue {
    match rec.uf.get(&uf.name) {
        None => DbValue::Null,
        Some(v) => uf_scalar(v, uf.ty),
    }
}

fn value(id: i64, rec: &Record, col: &Col) -> DbValue {
    match col {
        Col::Column("id") => DbValue::Int(id),
        Col::Column(c) => rec.cols.get(c).cloned().unwrap_or(DbValue::Null),
        Col::Uf(uf) => uf_value(rec, uf),
    }
}

struct View<'a> {
    store: &'a MemStore,
    q: &'a ListQuery,
    id: i64,
    rec: &'a Record,
}

impl RowAccess for View<'_> {
    fn value(&self, col: &Col) -> DbValue {
        value(self.id, self.rec, col)
    }

    fn multifield_values(&self, type_id: &str) -> Vec<String> {
        self.store
            .values_of(self.q.kind, self.q.portal_id, self.id, type_id)
    }

    fn values(&self, col: &Col) -> Vec<DbValue> {
        match col {
            Col::Uf(uf) if uf.multiple => match self.rec.uf.get(&uf.name) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| uf_scalar(v, uf.ty))
                    .filter(|v| !v.is_null())
                    .collect(),
                // Like the SQL stores: a value that is not an array has no elements.
                _ => vec![],
            },
            _ => match self.value(col) {
                DbValue::Null => vec![],
                v => vec![v],
            },
        }
    }
}

impl MemStore {
    /// The records of a report range: (id, record) of `kind` with `DATE_CREATE` in `[from, to)`.
    fn report_range(
        &self,
        kind: EntityKind,
        portal: i64,
        from: i64,
        to: i64,
    ) -> Vec<(i64, &Record)> {
        self.records
            .get(&(kind, portal))
            .map(|m| {
                m.iter()
                    .filter(|(_, r)| {
                        matches!(r.cols.get("date_create"), Some(DbValue::Int(t)) if *t >= from && *t < to)
                    })
                    .map(|(id, r)| (*id, r))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn touch(t: &Trace) -> TraceTouch {
        TraceTouch {
            trace_id: t.id,
            at: t.data.created_at,
            source_id: t.data.source_id,
            channel: t.data.channel_group.clone(),
        }
    }
}

fn col_text(r: &Record, col: &str) -> Option<String> {
    match r.cols.get(col) {
        Some(DbValue::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn col_int(r: &Record, col: &str) -> Option<i64> {
    match r.cols.get(col) {
        Some(DbValue::Int(i)) => Some(*i),
        _ => None,
    }
}

fn col_real(r: &Record, col: &str) -> f64 {
    match r.cols.get(col) {
        Some(DbValue::Real(f)) => *f,
        Some(DbValue::Int(i)) => *i as f64,
        _ => 0.0,
    }
}

fn add_to_groups(
    out: &mut Vec<RecordGroup>,
    key: GroupKey,
    currency: Option<String>,
    assigned: Option<i64>,
    amount: f64,
    won: bool,
) {
    let i = match out
        .iter()
        .position(|g| g.key == key && g.currency == currency && g.assigned_by_id == assigned)
    {
        Some(i) => i,
        None => {
            out.push(RecordGroup {
                key,
                assigned_by_id: assigned,
                currency,
                count: 0.0,
                sum: 0.0,
                won: 0.0,
                won_sum: 0.0,
            });
            out.len() - 1
        }
    };
    let g = &mut out[i];
    g.count += 1.0;
    g.sum += amount;
    if won {
        g.won += 1.0;
        g.won_sum += amount;
    }
}

fn semantic_col(kind: EntityKind) -> &'static str {
    if kind == EntityKind::Lead {
        "status_semantic_id"
    } else {
        "stage_semantic_id"
    }
}

impl Storage for MemStore {
    async fn insert_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        values: Assignments,
        uf: Option<Map<String, Value>>,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_entity");
        self.next_id += 1;
        let id = self.next_id;
        let rec = Record {
            cols: values.into_iter().collect(),
            uf: uf.unwrap_or_default(),
        };
        self.records
            .entry((kind, portal_id))
            .or_default()
            .insert(id, rec);
        Ok(id)
    }

    async fn update_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
        values: Assignments,
        uf: Option<Map<String, Value>>,
    ) -> Result<bool, ApiError> {
        self.calls.push("update_entity");
        let Some(rec) = self
            .records
            .get_mut(&(kind, portal_id))
            .and_then(|m| m.get_mut(&id))
        else {
            return Ok(false);
        };
        rec.cols.extend(values);
        if let Some(uf) = uf {
            rec.uf = uf;
        }
        Ok(true)
    }

    async fn delete_entity(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        self.calls.push("delete_entity");
        let removed = self
            .records
            .get_mut(&(kind, portal_id))
            .and_then(|m| m.remove(&id))
            .is_some();
        if removed {
            self.multifields
                .retain(|m| !(m.kind == kind && m.portal == portal_id && m.mf.owner_id == id));
            self.trace_bindings
                .retain(|(p, b)| !(*p == portal_id && b.kind == kind && b.entity_id == id));
        }
        Ok(removed)
    }

    async fn list_entities(&mut self, query: &ListQuery) -> Result<Vec<Row>, ApiError> {
        self.calls.push("list_entities");
        let rows = self.matching(query);
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let limit = query
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(0));
        Ok(rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(id, rec)| Row {
                id,
                values: query
                    .columns
                    .iter()
                    .map(|c| value(id, &rec, &Col::Column(c)))
                    .collect(),
                uf: query.with_uf.then(|| rec.uf.clone()),
            })
            .collect())
    }

    async fn count_entities(&mut self, query: &ListQuery) -> Result<i64, ApiError> {
        self.calls.push("count_entities");
        Ok(self.matching(query).len() as i64)
    }

    async fn multifields(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> Result<Vec<Multifield>, ApiError> {
        self.calls.push("multifields");
        let mut out: Vec<Multifield> = self
            .multifields
            .iter()
            .filter(|m| {
                m.kind == kind && m.portal == portal_id && owner_ids.contains(&m.mf.owner_id)
            })
            .map(|m| m.mf.clone())
            .collect();
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    async fn insert_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        type_id: &str,
        value_type: &str,
        value: &str,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_multifield");
        self.next_mf += 1;
        let mf = Multifield {
            id: self.next_mf,
            owner_id,
            type_id: type_id.into(),
            value_type: value_type.into(),
            value: value.into(),
        };
        self.multifields.push(StoredMultifield {
            kind,
            portal: portal_id,
            mf,
        });
        Ok(self.next_mf)
    }

    async fn update_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
        value_type: &str,
        value: &str,
    ) -> Result<bool, ApiError> {
        self.calls.push("update_multifield");
        match self.multifields.iter_mut().find(|m| {
            m.kind == kind && m.portal == portal_id && m.mf.owner_id == owner_id && m.mf.id == id
        }) {
            Some(m) => {
                m.mf.value_type = value_type.into();
                m.mf.value = value.into();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_multifield(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        owner_id: i64,
        id: i64,
    ) -> Result<bool, ApiError> {
        self.calls.push("delete_multifield");
        let before = self.multifields.len();
        self.multifields.retain(|m| {
            !(m.kind == kind && m.portal == portal_id && m.mf.owner_id == owner_id && m.mf.id == id)
        });
        Ok(self.multifields.len() != before)
    }

    async fn statuses(
        &mut self,
        _portal_id: i64,
        entity_id: Option<&str>,
    ) -> Result<Vec<Status>, ApiError> {
        self.calls.push("statuses");
        let mut out: Vec<Status> = self
            .statuses
            .iter()
            .filter(|s| entity_id.is_none_or(|e| s.entity_id == e))
            .cloned()
            .collect();
        out.sort_by_key(|s| (s.sort, s.id));
        Ok(out)
    }

    async fn currencies(&mut self, _portal_id: i64) -> Result<Vec<String>, ApiError> {
        self.calls.push("currencies");
        Ok(self.currencies.clone())
    }

    async fn bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
    ) -> Result<Vec<Binding>, ApiError> {
        self.calls.push("bindings");
        let mut out = self
            .bindings
            .get(&(owner, portal_id, owner_id, bound))
            .cloned()
            .unwrap_or_default();
        out.sort_by_key(|b| (b.sort, b.id));
        Ok(out)
    }

    async fn set_bindings(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
        bound: EntityKind,
        bindings: &[Binding],
    ) -> Result<(), ApiError> {
        self.calls.push("set_bindings");
        self.bindings
            .insert((owner, portal_id, owner_id, bound), bindings.to_vec());
        Ok(())
    }

    async fn bound_owners(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        bound: EntityKind,
        bound_id: i64,
    ) -> Result<Vec<i64>, ApiError> {
        self.calls.push("bound_owners");
        Ok(self
            .bindings
            .iter()
            .filter(|((o, p, _, b), list)| {
                *o == owner
                    && *p == portal_id
                    && *b == bound
                    && list.iter().any(|x| x.id == bound_id)
            })
            .map(|((_, _, id, _), _)| *id)
            .collect())
    }

    async fn product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_ids: &[i64],
    ) -> Result<Vec<ProductRow>, ApiError> {
        self.calls.push("product_rows");
        let mut out: Vec<ProductRow> = self
            .product_rows
            .iter()
            .filter(|(p, r)| {
                *p == portal_id && r.owner_kind == owner && owner_ids.contains(&r.owner_id)
            })
            .map(|(_, r)| r.clone())
            .collect();
        out.sort_by_key(|r| (r.owner_id, r.sort, r.id));
        Ok(out)
    }

    async fn product_row(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<Option<ProductRow>, ApiError> {
        self.calls.push("product_row");
        Ok(self
            .product_rows
            .iter()
            .find(|(p, r)| *p == portal_id && r.id == id)
            .map(|(_, r)| r.clone()))
    }

    async fn insert_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_product_row");
        self.next_row += 1;
        let mut row = row.clone();
        row.id = self.next_row;
        self.product_rows.push((portal_id, row));
        Ok(self.next_row)
    }

    async fn update_product_row(
        &mut self,
        portal_id: i64,
        row: &ProductRow,
    ) -> Result<bool, ApiError> {
        self.calls.push("update_product_row");
        match self
            .product_rows
            .iter_mut()
            .find(|(p, r)| *p == portal_id && r.id == row.id)
        {
            Some((_, r)) => {
                *r = row.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn status(&mut self, _portal_id: i64, id: i64) -> Result<Option<Status>, ApiError> {
        self.calls.push("status");
        Ok(self.statuses.iter().find(|s| s.id == id).cloned())
    }

    async fn insert_status(&mut self, _portal_id: i64, status: &Status) -> Result<i64, ApiError> {
        self.calls.push("insert_status");
        let id = self.statuses.iter().map(|s| s.id).max().unwrap_or(0) + 1;
        self.statuses.push(Status {
            id,
            ..status.clone()
        });
        Ok(id)
    }

    async fn update_status(&mut self, _portal_id: i64, status: &Status) -> Result<bool, ApiError> {
        self.calls.push("update_status");
        match self.statuses.iter_mut().find(|s| s.id == status.id) {
            Some(s) => {
                s.name = status.name.clone();
                s.sort = status.sort;
                s.color = status.color.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_product_row(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_product_row");
        let before = self.product_rows.len();
        self.product_rows
            .retain(|(p, r)| !(*p == portal_id && r.id == id));
        Ok(self.product_rows.len() != before)
    }

    async fn delete_product_rows(
        &mut self,
        owner: EntityKind,
        portal_id: i64,
        owner_id: i64,
    ) -> Result<(), ApiError> {
        self.calls.push("delete_product_rows");
        self.product_rows
            .retain(|(p, r)| !(*p == portal_id && r.owner_kind == owner && r.owner_id == owner_id));
        Ok(())
    }

    async fn delete_status(&mut self, _portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_status");
        let before = self.statuses.len();
        self.statuses.retain(|s| s.id != id);
        Ok(self.statuses.len() != before)
    }

    async fn currency_list(&mut self, _portal_id: i64) -> Result<Vec<Currency>, ApiError> {
        self.calls.push("currency_list");
        Ok(self
            .currencies
            .iter()
            .zip(1..)
            .map(|(code, i)| Currency {
                code: code.clone(),
                sort: i * 100,
                base: i == 1,
                amount_cnt: 1,
                amount: 1.0,
                date_update: 0,
            })
            .collect())
    }

    async fn find_by_comm(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        type_id: &str,
        keys: &[String],
        limit: Option<i64>,
    ) -> Result<Vec<i64>, ApiError> {
        self.calls.push("find_by_comm");
        let mut ids: Vec<i64> = self
            .multifields
            .iter()
            .filter(|m| {
                m.kind == kind
                    && m.portal == portal_id
                    && m.mf.type_id == type_id
                    && keys.contains(&crm::duplicate::comm_key(type_id, &m.mf.value))
            })
            .map(|m| m.mf.owner_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids.truncate(limit.map_or(usize::MAX, |l| l as usize));
        Ok(ids)
    }

    async fn card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<Option<Value>, ApiError> {
        self.calls.push("card_config");
        Ok(self.cards.get(&(portal_id, key.clone())).cloned())
    }

    async fn save_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
        sections: &Value,
    ) -> Result<(), ApiError> {
        self.calls.push("save_card_config");
        self.cards
            .insert((portal_id, key.clone()), sections.clone());
        Ok(())
    }

    async fn delete_card_config(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<bool, ApiError> {
        self.calls.push("delete_card_config");
        Ok(self.cards.remove(&(portal_id, key.clone())).is_some())
    }

    async fn delete_personal_card_configs(
        &mut self,
        portal_id: i64,
        key: &CardKey,
    ) -> Result<u64, ApiError> {
        self.calls.push("delete_personal_card_configs");
        let before = self.cards.len();
        self.cards.retain(|(p, k), _| {
            !(*p == portal_id
                && k.kind == key.kind
                && k.variant == key.variant
                && k.user_id.is_some())
        });
        Ok((before - self.cards.len()) as u64)
    }

    async fn user_fields(
        &mut self,
        portal_id: i64,
        entity_id: Option<&str>,
    ) -> Result<Vec<UserField>, ApiError> {
        self.calls.push("user_fields");
        let mut out: Vec<UserField> = self
            .user_fields
            .iter()
            .filter(|(p, uf)| *p == portal_id && entity_id.is_none_or(|e| uf.entity_id == e))
            .map(|(_, uf)| uf.clone())
            .collect();
        out.sort_by_key(|uf| (uf.sort, uf.id));
        for uf in &mut out {
            uf.items.sort_by_key(|i| (i.sort, i.id));
        }
        Ok(out)
    }

    async fn insert_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_user_field");
        self.next_uf += 1;
        let id = self.next_uf;
        let mut uf = field.clone();
        uf.id = id;
        for item in &mut uf.items {
            self.next_uf += 1;
            item.id = self.next_uf;
        }
        self.user_fields.push((portal_id, uf));
        Ok(id)
    }

    async fn update_user_field(
        &mut self,
        portal_id: i64,
        field: &UserField,
    ) -> Result<bool, ApiError> {
        self.calls.push("update_user_field");
        let mut next = self.next_uf;
        let Some((_, stored)) = self
            .user_fields
            .iter_mut()
            .find(|(p, uf)| *p == portal_id && uf.id == field.id)
        else {
            return Ok(false);
        };
        let mut uf = field.clone();
        uf.field_name = stored.field_name.clone();
        uf.user_type = stored.user_type;
        uf.entity_id = stored.entity_id.clone();
        uf.multiple = stored.multiple;
        for item in &mut uf.items {
            if item.id == 0 {
                next += 1;
                item.id = next;
            }
        }
        *stored = uf;
        self.next_uf = next;
        Ok(true)
    }

    async fn delete_user_field(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_user_field");
        let before = self.user_fields.len();
        self.user_fields
            .retain(|(p, uf)| !(*p == portal_id && uf.id == id));
        Ok(self.user_fields.len() != before)
    }

    async fn remove_user_field_values(
        &mut self,
        kind: EntityKind,
        portal_id: i64,
        field_name: &str,
    ) -> Result<(), ApiError> {
        self.calls.push("remove_user_field_values");
        if let Some(table) = self.records.get_mut(&(kind, portal_id)) {
            for rec in table.values_mut() {
                rec.uf.remove(field_name);
            }
        }
        Ok(())
    }

    async fn insert_file(
        &mut self,
        portal_id: i64,
        name: &str,
        size: i64,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_file");
        let id = self.files.len() as i64 + 1;
        self.files.push((portal_id, id, name.to_string(), size));
        Ok(id)
    }
    async fn enqueue_event(&mut self, event: &Event) -> Result<(), ApiError> {
        self.calls.push("enqueue_event");
        self.events.push(event.clone());
        Ok(())
    }

    async fn tracking_settings(&mut self, portal_id: i64) -> Result<TrackingSettings, ApiError> {
        self.calls.push("tracking_settings");
        Ok(self
            .tracking_settings
            .get(&portal_id)
            .copied()
            .unwrap_or_default())
    }

    async fn sources(&mut self, portal_id: i64) -> Result<Vec<Source>, ApiError> {
        self.calls.push("sources");
        let mut out: Vec<Source> = self
            .sources
            .iter()
            .filter(|(p, _)| *p == portal_id)
            .map(|(_, s)| s.clone())
            .collect();
        out.sort_by_key(|s| s.id);
        Ok(out)
    }

    async fn insert_source(&mut self, portal_id: i64, source: &Source) -> Result<i64, ApiError> {
        self.calls.push("insert_source");
        self.next_source += 1;
        let mut s = source.clone();
        s.id = self.next_source;
        self.sources.push((portal_id, s));
        Ok(self.next_source)
    }

    async fn update_source(&mut self, portal_id: i64, source: &Source) -> Result<bool, ApiError> {
        self.calls.push("update_source");
        match self
            .sources
            .iter_mut()
            .find(|(p, s)| *p == portal_id && s.id == source.id)
        {
            Some((_, s)) => {
                let created_at = s.created_at;
                *s = source.clone();
                s.created_at = created_at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_source(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_source");
        let before = self.sources.len();
        self.sources
            .retain(|(p, s)| !(*p == portal_id && s.id == id));
        if self.sources.len() == before {
            return Ok(false);
        }
        self.expense_packs
            .retain(|(p, e, _)| !(*p == portal_id && e.source_id == id));
        for ((p, _), t) in self.traces.iter_mut() {
            if *p == portal_id && t.data.source_id == id {
                t.data.source_id = 0;
            }
        }
        Ok(true)
    }

    async fn channel_rules(&mut self, portal_id: i64) -> Result<Vec<ChannelRule>, ApiError> {
        self.calls.push("channel_rules");
        let mut out: Vec<ChannelRule> = self
            .channel_rules
            .iter()
            .filter(|(p, _)| *p == portal_id)
            .map(|(_, r)| r.clone())
            .collect();
        out.sort_by_key(|r| (r.sort, r.id));
        Ok(out)
    }

    async fn insert_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_channel_rule");
        self.next_channel_rule += 1;
        let mut r = rule.clone();
        r.id = self.next_channel_rule;
        self.channel_rules.push((portal_id, r));
        Ok(self.next_channel_rule)
    }

    async fn update_channel_rule(
        &mut self,
        portal_id: i64,
        rule: &ChannelRule,
    ) -> Result<bool, ApiError> {
        self.calls.push("update_channel_rule");
        match self
            .channel_rules
            .iter_mut()
            .find(|(p, r)| *p == portal_id && r.id == rule.id)
        {
            Some((_, r)) => {
                let created_at = r.created_at;
                *r = rule.clone();
                r.created_at = created_at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_channel_rule(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_channel_rule");
        let before = self.channel_rules.len();
        self.channel_rules
            .retain(|(p, r)| !(*p == portal_id && r.id == id));
        Ok(self.channel_rules.len() != before)
    }

    async fn insert_trace(&mut self, portal_id: i64, trace: &TraceData) -> Result<i64, ApiError> {
        self.calls.push("insert_trace");
        self.next_trace += 1;
        let id = self.next_trace;
        self.traces.insert(
            (portal_id, id),
            Trace {
                id,
                data: trace.clone(),
                children: vec![],
            },
        );
        Ok(id)
    }

    async fn link_trace_child(
        &mut self,
        portal_id: i64,
        parent_id: i64,
        child_id: i64,
    ) -> Result<(), ApiError> {
        self.calls.push("link_trace_child");
        if let Some(t) = self.traces.get_mut(&(portal_id, parent_id)) {
            if !t.children.contains(&child_id) {
                t.children.push(child_id);
            }
        }
        Ok(())
    }

    async fn add_trace_channel(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        channel: &TraceChannel,
    ) -> Result<(), ApiError> {
        self.calls.push("add_trace_channel");
        if let Some(t) = self.traces.get_mut(&(portal_id, trace_id)) {
            if !t.data.channels.contains(channel) {
                t.data.channels.push(channel.clone());
            }
        }
        Ok(())
    }

    async fn traces(&mut self, portal_id: i64, ids: &[i64]) -> Result<Vec<Trace>, ApiError> {
        self.calls.push("traces");
        Ok(self
            .traces
            .iter()
            .filter(|((p, id), _)| *p == portal_id && ids.contains(id))
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn bind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
        now: i64,
    ) -> Result<(), ApiError> {
        self.calls.push("bind_trace");
        let seq = self
            .trace_bindings
            .iter()
            .filter(|(p, b)| *p == portal_id && b.kind == kind && b.entity_id == entity_id)
            .map(|(_, b)| b.seq)
            .max()
            .unwrap_or(0)
            + 1;
        self.trace_bindings.retain(|(p, b)| {
            !(*p == portal_id
                && b.trace_id == trace_id
                && b.kind == kind
                && b.entity_id == entity_id)
        });
        self.trace_bindings.push((
            portal_id,
            TraceBinding {
                trace_id,
                kind,
                entity_id,
                bound_at: now,
                seq,
            },
        ));
        Ok(())
    }

    async fn trace_bindings(
        &mut self,
        portal_id: i64,
        trace_id: i64,
    ) -> Result<Vec<TraceBinding>, ApiError> {
        self.calls.push("trace_bindings");
        Ok(self
            .trace_bindings
            .iter()
            .filter(|(p, b)| *p == portal_id && b.trace_id == trace_id)
            .map(|(_, b)| *b)
            .collect())
    }

    async fn entity_bindings(
        &mut self,
        portal_id: i64,
        kind: EntityKind,
        entity_id: i64,
        limit: i64,
    ) -> Result<Vec<TraceBinding>, ApiError> {
        self.calls.push("entity_bindings");
        let mut out: Vec<TraceBinding> = self
            .trace_bindings
            .iter()
            .filter(|(p, b)| *p == portal_id && b.kind == kind && b.entity_id == entity_id)
            .map(|(_, b)| *b)
            .collect();
        out.sort_by_key(|b| std::cmp::Reverse((b.seq, b.trace_id)));
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }

    async fn unbind_trace(
        &mut self,
        portal_id: i64,
        trace_id: i64,
        kind: EntityKind,
        entity_id: i64,
    ) -> Result<bool, ApiError> {
        self.calls.push("unbind_trace");
        let before = self.trace_bindings.len();
        self.trace_bindings.retain(|(p, b)| {
            !(*p == portal_id
                && b.trace_id == trace_id
                && b.kind == kind
                && b.entity_id == entity_id)
        });
        Ok(self.trace_bindings.len() != before)
    }

    async fn delete_trace(&mut self, portal_id: i64, trace_id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_trace");
        self.trace_bindings
            .retain(|(p, b)| !(*p == portal_id && b.trace_id == trace_id));
        for ((p, _), t) in self.traces.iter_mut() {
            if *p == portal_id {
                t.children.retain(|c| *c != trace_id);
            }
        }
        Ok(self.traces.remove(&(portal_id, trace_id)).is_some())
    }

    async fn report_groups(&mut self, q: &ReportQuery) -> Result<Vec<RecordGroup>, ApiError> {
        self.calls.push("report_groups");
        let &ReportQuery {
            portal_id,
            kind,
            from,
            to,
            group_by,
            by_responsible,
        } = q;
        if !matches!(kind, EntityKind::Lead | EntityKind::Deal) {
            return Ok(vec![]);
        }
        let mut out: Vec<RecordGroup> = Vec::new();
        for (id, r) in self.report_range(kind, portal_id, from, to) {
            let key = match self.traces_of(portal_id, kind, id).first() {
                Some(t) => GroupKey::of(group_by, t.data.source_id, &t.data.channel_group),
                None => GroupKey::none(group_by),
            };
            let currency = col_text(r, "currency_id");
            let assigned = col_int(r, "assigned_by_id").filter(|_| by_responsible);
            let amount = col_real(r, "opportunity");
            let won = col_text(r, semantic_col(kind)).as_deref() == Some("S");
            add_to_groups(&mut out, key, currency, assigned, amount, won);
        }
        Ok(out)
    }

    async fn report_touches(
        &mut self,
        q: &ReportQuery,
        _model: Model,
        window_secs: i64,
    ) -> Result<(Vec<RecordGroup>, Vec<TouchRecord>), ApiError> {
        self.calls.push("report_touches");
        let &ReportQuery {
            portal_id,
            kind,
            from,
            to,
            group_by,
            by_responsible,
        } = q;
        if !matches!(kind, EntityKind::Lead | EntityKind::Deal) {
            return Ok((vec![], vec![]));
        }
        let mut groups: Vec<RecordGroup> = Vec::new();
        let mut multi = Vec::new();
        for (id, r) in self.report_range(kind, portal_id, from, to) {
            let mut touches: Vec<TraceTouch> = Vec::new();
            for t in self.traces_of(portal_id, kind, id) {
                let children = t
                    .children
                    .iter()
                    .filter_map(|c| self.traces.get(&(portal_id, *c)));
                for x in std::iter::once(t).chain(children) {
                    if !touches.iter().any(|y| y.trace_id == x.id) {
                        touches.push(MemStore::touch(x));
                    }
                }
            }
            let created_at = col_int(r, "date_create").unwrap_or(0);
            let currency = col_text(r, "currency_id");
            let amount = col_real(r, "opportunity");
            let won = col_text(r, semantic_col(kind)).as_deref() == Some("S");
            if touches.len() > 1 {
                multi.push(TouchRecord {
                    id,
                    created_at,
                    currency,
                    amount,
                    won,
                    assigned_by_id: col_int(r, "assigned_by_id"),
                    touches,
                });
                continue;
            }
            let key = match touches.first() {
                Some(t) if t.at >= created_at - window_secs && t.at <= created_at => {
                    GroupKey::of(group_by, t.source_id, &t.channel)
                }
                _ => GroupKey::none(group_by),
            };
            let assigned = col_int(r, "assigned_by_id").filter(|_| by_responsible);
            add_to_groups(&mut groups, key, currency, assigned, amount, won);
        }
        Ok((groups, multi))
    }

    async fn report_visits(
        &mut self,
        portal_id: i64,
        from: i64,
        to: i64,
        group_by: GroupBy,
    ) -> Result<Vec<(GroupKey, i64)>, ApiError> {
        self.calls.push("report_visits");
        let mut out: BTreeMap<GroupKey, i64> = BTreeMap::new();
        for ((p, _), t) in &self.traces {
            if *p == portal_id && t.data.created_at >= from && t.data.created_at < to {
                *out.entry(GroupKey::of(
                    group_by,
                    t.data.source_id,
                    &t.data.channel_group,
                ))
                .or_default() += 1;
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn insert_expense_pack(
        &mut self,
        portal_id: i64,
        pack: &ExpensePack,
        days: &[ExpenseDay],
    ) -> Result<i64, ApiError> {
        self.calls.push("insert_expense_pack");
        self.next_pack += 1;
        let stored = ExpensePack {
            id: self.next_pack,
            ..pack.clone()
        };
        self.expense_packs.push((portal_id, stored, days.to_vec()));
        Ok(self.next_pack)
    }

    async fn expense_pack(
        &mut self,
        portal_id: i64,
        id: i64,
    ) -> Result<Option<ExpensePack>, ApiError> {
        self.calls.push("expense_pack");
        Ok(self
            .expense_packs
            .iter()
            .find(|(p, e, _)| *p == portal_id && e.id == id)
            .map(|(_, e, _)| e.clone()))
    }

    async fn expense_days(
        &mut self,
        portal_id: i64,
        pack_id: i64,
    ) -> Result<Vec<ExpenseDay>, ApiError> {
        self.calls.push("expense_days");
        let mut days: Vec<ExpenseDay> = self
            .expense_packs
            .iter()
            .filter(|(p, e, _)| *p == portal_id && e.id == pack_id)
            .flat_map(|(_, _, d)| d.iter().copied())
            .collect();
        days.sort_by_key(|d| d.day);
        Ok(days)
    }

    async fn expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ExpensePack>, ApiError> {
        self.calls.push("expense_packs");
        Ok(self
            .expense_packs
            .iter()
            .filter(|(p, e, _)| *p == portal_id && filter.matches(e))
            .map(|(_, e, _)| e.clone())
            .skip(offset.max(0) as usize)
            .take(limit.max(0) as usize)
            .collect())
    }

    async fn count_expense_packs(
        &mut self,
        portal_id: i64,
        filter: &ExpenseFilter,
    ) -> Result<i64, ApiError> {
        self.calls.push("count_expense_packs");
        Ok(self
            .expense_packs
            .iter()
            .filter(|(p, e, _)| *p == portal_id && filter.matches(e))
            .count() as i64)
    }

    async fn delete_expense_pack(&mut self, portal_id: i64, id: i64) -> Result<bool, ApiError> {
        self.calls.push("delete_expense_pack");
        let before = self.expense_packs.len();
        self.expense_packs
            .retain(|(p, e, _)| !(*p == portal_id && e.id == id));
        Ok(self.expense_packs.len() < before)
    }

    async fn expense_totals(
        &mut self,
        portal_id: i64,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<ExpenseTotal>, ApiError> {
        self.calls.push("expense_totals");
        // (source, currency) → (cents, impressions, actions)
        let mut sums: BTreeMap<(i64, String), (i64, i64, i64)> = BTreeMap::new();
        for (p, e, days) in &self.expense_packs {
            if *p != portal_id {
                continue;
            }
            for d in days {
                let day = d.day.format("%Y-%m-%d").to_string();
                if day.as_str() < from_day || day.as_str() > to_day {
                    continue;
                }
                let s = sums.entry((e.source_id, e.currency.clone())).or_default();
                s.0 += d.amount_cents;
                s.1 += d.impressions;
                s.2 += d.actions;
            }
        }
        Ok(sums
            .into_iter()
            .map(|((source, currency), (cents, impressions, actions))| {
                ExpenseTotal::new(source, currency, cents, impressions, actions)
            })
            .collect())
    }
}
