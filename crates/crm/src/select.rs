//! `select` and `order` of legacy lists (lists.md §2.1–2.2): which fields a list returns and how
//! it is sorted, resolved against the field table into columns and typed order keys.

use crate::field::{FieldDef, FieldKind, MULTIFIELD_TYPES};
use crate::query::{Col, DbValue, Order, OrderKey, Row};
use crate::userfield::UserField;
use crate::wire;
use crate::EntityKind;
use serde_json::Value;
use std::collections::BTreeSet;

/// Which user fields to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UfSelect {
    None,
    All,
    Names(BTreeSet<String>),
}

/// The resolved `select`: standard fields in table order, user fields, multifield types.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub fields: Vec<&'static FieldDef>,
    pub uf: UfSelect,
    /// Multifield types (`PHONE`, ...) in output order.
    pub multifields: Vec<&'static str>,
}

/// A field `*` selects: readable, stored in the entity table, not a multifield.
fn is_standard(f: &FieldDef) -> bool {
    f.readable && f.column.is_some() && f.kind != FieldKind::CrmMultifield
}

fn readable_multifields(kind: EntityKind) -> Vec<&'static str> {
    MULTIFIELD_TYPES
        .into_iter()
        .filter(|t| {
            kind.field(t)
                .is_some_and(|f| f.readable && f.kind == FieldKind::CrmMultifield)
        })
        .collect()
}

impl Selection {
    /// `select` absent, empty or `*`: all standard fields, no user fields, no multifields.
    pub fn standard(kind: EntityKind) -> Selection {
        Selection {
            fields: kind.fields().iter().filter(|f| is_standard(f)).collect(),
            uf: UfSelect::None,
            multifields: vec![],
        }
    }

    /// What `get` returns: everything readable.
    pub fn everything(kind: EntityKind) -> Selection {
        Selection {
            uf: UfSelect::All,
            multifields: readable_multifields(kind),
            ..Selection::standard(kind)
        }
    }

    /// The entity-table columns to read, in field order. The id column is left out: the store
    /// always reads it into `Row::id`.
    pub fn columns(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter_map(|f| f.column)
            .filter(|c| *c != "id")
            .collect()
    }

    pub fn with_uf(&self) -> bool {
        self.uf != UfSelect::None
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name) || self.multifields.contains(&name)
    }

    /// The stored value of field `name` in a row read with this selection (`Null` when the
    /// field was not selected or has no column).
    pub fn value(&self, row: &Row, name: &str) -> DbValue {
        let Some(def) = self.fields.iter().find(|f| f.name == name) else {
            return DbValue::Null;
        };
        match def.column {
            Some("id") => DbValue::Int(row.id),
            Some(column) => self
                .columns()
                .iter()
                .position(|c| *c == column)
                .and_then(|i| row.values.get(i))
                .cloned()
                .unwrap_or(DbValue::Null),
            None => DbValue::Null,
        }
    }
}

/// Resolves `select` against the field table and the entity's user fields (`ufs`; other
/// `UF_CRM_*` names are unknown). Absent, not an array, empty, or naming nothing known → all
/// standard fields (decision C8 and our reading for "only unknown names").
pub fn parse_select(kind: EntityKind, ufs: &[UserField], select: Option<&Value>) -> Selection {
    let names: Vec<String> = select
        .and_then(wire::php_values)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut star = false;
    let mut uf = UfSelect::None;
    let mut wanted: BTreeSet<&'static str> = BTreeSet::new();
    let mut multifields: BTreeSet<&'static str> = BTreeSet::new();
    for name in &names {
        if name == "*" {
            star = true;
        } else if name == "UF_*" {
            uf = UfSelect::All;
        } else if ufs.iter().any(|u| u.field_name == *name) {
            if let UfSelect::None = uf {
                uf = UfSelect::Names(BTreeSet::new());
            }
            if let UfSelect::Names(set) = &mut uf {
                set.insert(name.clone());
            }
        } else if let Some(def) = kind.field(name) {
            if def.kind == FieldKind::CrmMultifield && def.readable {
                multifields.insert(def.name);
            } else if is_standard(def) {
                wanted.insert(def.name);
            }
        }
    }
    let nothing_known = wanted.is_empty() && multifields.is_empty() && uf == UfSelect::None;
    if star || nothing_known {
        return Selection {
            uf,
            multifields: ordered_multifields(&multifields),
            ..Selection::standard(kind)
        };
    }
    if !multifields.is_empty() {
        // The multifield rows are keyed by the record id, so ID comes along (lists.md §2.2).
        wanted.insert("ID");
    }
    Selection {
        fields: kind
            .fields()
            .iter()
            .filter(|f| wanted.contains(f.name))
            .collect(),
        uf,
        multifields: ordered_multifields(&multifields),
    }
}

fn ordered_multifields(set: &BTreeSet<&'static str>) -> Vec<&'static str> {
    MULTIFIELD_TYPES
        .into_iter()
        .filter(|t| set.contains(t))
        .collect()
}

/// Resolves `order` (already known to be an array): known readable fields and single-valued user
/// fields (compared by their type) in the given order; `DESC` in any case descends, anything else
/// ascends; dictionary fields sort by the dictionary's `SORT`. Nothing usable → `ID ASC`
/// (decision C6).
pub fn parse_order(kind: EntityKind, ufs: &[UserField], order: &Value) -> Vec<Order> {
    let mut out = Vec::new();
    for (name, dir) in wire::php_entries(order).unwrap_or_default() {
        let desc = dir
            .as_str()
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC"));
        let key = if let Some(def) = kind.field(&name).filter(|f| is_standard(f)) {
            let Some(column) = def.column else { continue };
            match def.kind {
                FieldKind::CrmStatus(entity_id) => OrderKey::StatusSort {
                    column,
                    entity_id: entity_id.to_string(),
                },
                _ => OrderKey::Col(Col::Column(column)),
            }
        } else if let Some(uf) = ufs.iter().find(|u| u.field_name == name && !u.multiple) {
            OrderKey::Col(uf.col())
        } else {
            continue;
        };
        if !out.iter().any(|o: &Order| o.key == key) {
            out.push(Order { key, desc });
        }
    }
    if out.is_empty() {
        if let Some(column) = kind.field("ID").and_then(|f| f.column) {
            out.push(Order {
                key: OrderKey::Col(Col::Column(column)),
                desc: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LEAD: EntityKind = EntityKind::Lead;

    fn ufs() -> Vec<UserField> {
        use crate::userfield::UserType;
        let mut m = UserField::new("CRM_LEAD", "UF_CRM_M", UserType::Integer);
        m.multiple = true;
        vec![
            UserField::new("CRM_LEAD", "UF_CRM_A", UserType::String),
            UserField::new("CRM_LEAD", "UF_CRM_X", UserType::Double),
            m,
        ]
    }

    fn names(s: &Selection) -> Vec<&'static str> {
        s.fields.iter().map(|f| f.name).collect()
    }

    #[test]
    fn absent_empty_star_and_garbage_select_all_standard_fields() {
        let all = Selection::standard(LEAD);
        assert!(!all.has("CONTACT_IDS") && !all.has("PHONE"));
        assert!(all.has("ID") && all.has("LAST_ACTIVITY_BY"));
        assert_eq!(all.fields.len(), 51);
        for v in [
            None,
            Some(json!([])),
            Some(json!(["*"])),
            Some(json!("ID")),
            Some(json!(["NOPE"])),
            Some(json!({})),
        ] {
            assert_eq!(parse_select(LEAD, &[], v.as_ref()), all, "{v:?}");
        }
        assert_eq!(all.columns().first(), Some(&"title"));
    }

    #[test]
    fn explicit_names_in_table_order_with_id_for_multifields() {
        let s = parse_select(
            LEAD,
            &[],
            Some(&json!(["TITLE", "PHONE", "NOPE", "CONTACT_IDS", "EMAIL"])),
        );
        assert_eq!(names(&s), vec!["ID", "TITLE"]);
        assert_eq!(s.multifields, vec!["PHONE", "EMAIL"]);
        assert_eq!(s.uf, UfSelect::None);
        let s = parse_select(LEAD, &[], Some(&json!({"0": "STATUS_ID", "1": "TITLE"})));
        assert_eq!(names(&s), vec!["TITLE", "STATUS_ID"]);
        assert_eq!(s.columns(), vec!["title", "status_id"]);
    }

    #[test]
    fn user_fields_and_star() {
        let s = parse_select(LEAD, &[], Some(&json!(["*", "UF_*"])));
        assert_eq!(s.fields.len(), 51);
        assert_eq!(s.uf, UfSelect::All);
        let s = parse_select(LEAD, &[], Some(&json!(["UF_*"])));
        assert_eq!(s.fields.len(), 0);
        assert!(s.with_uf());
        let s = parse_select(
            LEAD,
            &ufs(),
            Some(&json!(["ID", "UF_CRM_A", "UF_CRM_X", "UF_CRM_NOPE"])),
        );
        assert_eq!(names(&s), vec!["ID"]);
        assert_eq!(
            s.uf,
            UfSelect::Names(["UF_CRM_A".to_string(), "UF_CRM_X".to_string()].into())
        );
        // An undefined user field is an unknown name.
        assert_eq!(
            parse_select(LEAD, &ufs(), Some(&json!(["UF_CRM_NOPE"]))),
            Selection::standard(LEAD)
        );
        let s = parse_select(LEAD, &[], Some(&json!(["*", "PHONE"])));
        assert_eq!(s.fields.len(), 51);
        assert_eq!(s.multifields, vec!["PHONE"]);
    }

    #[test]
    fn order_keys() {
        let o = parse_order(
            LEAD,
            &ufs(),
            &json!({"STATUS_ID": "desc", "TITLE": "asc", "NOPE": "DESC", "DATE_CREATE": "sideways", "UF_CRM_X": "DESC", "UF_CRM_M": "ASC", "UF_CRM_NOPE": "ASC", "PHONE": "ASC"}),
        );
        assert_eq!(
            o,
            vec![
                Order {
                    key: OrderKey::StatusSort {
                        column: "status_id",
                        entity_id: "STATUS".into()
                    },
                    desc: true
                },
                Order {
                    key: OrderKey::Col(Col::Column("title")),
                    desc: false
                },
                Order {
                    key: OrderKey::Col(Col::Column("date_create")),
                    desc: false
                },
                Order {
                    key: OrderKey::Col(Col::uf("UF_CRM_X", crate::field::ColumnType::Real)),
                    desc: true
                },
            ]
        );
        let default = vec![Order {
            key: OrderKey::Col(Col::Column("id")),
            desc: false,
        }];
        assert_eq!(parse_order(LEAD, &[], &json!({})), default);
        assert_eq!(parse_order(LEAD, &[], &json!(["ID"])), default);
        assert_eq!(parse_order(LEAD, &[], &json!({"id": "DESC"})), default);
        assert_eq!(
            parse_order(LEAD, &[], &json!({"ID": " Desc "})),
            vec![Order {
                key: OrderKey::Col(Col::Column("id")),
                desc: true
            }]
        );
    }
}
