//! `select` and `order` of `crm.item.list` (lists.md §3.1, §3.3): which item fields a list
//! returns (`fm` only with `*`) and its sort keys, with the item API's order errors.

use super::names::{self, Name};
use crate::entity::EntityKind;
use crate::field::{FieldDef, FieldKind, MULTIFIELD_TYPES};
use crate::query::{Col, Order, OrderKey};
use crate::select::{Selection, UfSelect};
use crate::userfield::UserField;
use crate::wire;
use bx_wire::ApiError;
use serde_json::Value;
use std::collections::BTreeSet;

/// The single field a multiple binding keeps as its first element (`CONTACT_IDS` → `CONTACT_ID`,
/// leads.md §3.1): the item API shows the binding as a list built from it.
pub fn binding_single(kind: EntityKind, def: &FieldDef) -> Option<&'static FieldDef> {
    if !def.multiple || def.column.is_some() || def.kind == FieldKind::CrmMultifield {
        return None;
    }
    def.name
        .strip_suffix('S')
        .and_then(|n| kind.field(n))
        .filter(|f| f.column.is_some() && !f.multiple)
}

/// Whether the item view shows a field: stored in a column and readable, or a binding list.
fn shown(kind: EntityKind, def: &FieldDef) -> bool {
    (def.readable && def.column.is_some()) || binding_single(kind, def).is_some()
}

/// The resolved `select` of an item list (or everything, for get/add/update).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSelection {
    /// What storage reads (columns, user fields, multifield types).
    pub sel: Selection,
    /// Stored fields and bindings to print, in table order.
    pub fields: Vec<&'static FieldDef>,
    /// Disabled item fields to print as `null`.
    pub disabled: Vec<&'static str>,
    /// `*`: also `entityTypeId`, `fm` and the multifield pseudo fields.
    pub all: bool,
}

impl ItemSelection {
    /// Everything an item has (`select` absent, empty or with `*`; get/add/update results).
    pub fn everything(kind: EntityKind) -> ItemSelection {
        let fields: Vec<&'static FieldDef> = names::item_fields(kind)
            .filter(|f| shown(kind, f))
            .collect();
        let everything = Selection::everything(kind);
        ItemSelection {
            sel: Selection {
                fields: storage_fields(kind, &fields),
                uf: UfSelect::All,
                multifields: everything.multifields,
            },
            fields,
            disabled: names::disabled(kind).to_vec(),
            all: true,
        }
    }
}

/// The columns behind the fields printed: the fields themselves, the single field of each
/// binding, and always `ID`.
fn storage_fields(kind: EntityKind, shown: &[&'static FieldDef]) -> Vec<&'static FieldDef> {
    let wanted: BTreeSet<&str> = shown
        .iter()
        .map(|f| binding_single(kind, f).map_or(f.name, |single| single.name))
        .chain(["ID"])
        .collect();
    kind.fields()
        .iter()
        .filter(|f| f.column.is_some() && wanted.contains(f.name))
        .collect()
}

/// Resolves `select`: camelCase or UPPER names, `ufCrm…`/`UF_CRM_*` user fields, `UF_*` for all
/// user fields. Unknown names and `fm` are ignored (`fm` comes only with `*`); `id` always comes.
pub fn parse_select(kind: EntityKind, select: Option<&Value>) -> ItemSelection {
    let given: Vec<&str> = select
        .and_then(wire::php_values)
        .unwrap_or_default()
        .into_iter()
        .filter_map(Value::as_str)
        // `select[]=` is how an empty list travels in a query string.
        .filter(|name| !name.is_empty())
        .collect();
    if given.is_empty() || given.contains(&"*") {
        return ItemSelection::everything(kind);
    }
    let mut wanted: BTreeSet<&'static str> = BTreeSet::from(["ID"]);
    let mut disabled: BTreeSet<&'static str> = BTreeSet::new();
    let mut uf = UfSelect::None;
    for key in given {
        if key == "UF_*" {
            uf = UfSelect::All;
            continue;
        }
        match names::resolve(kind, key) {
            Name::Field(def) if shown(kind, def) => {
                wanted.insert(def.name);
            }
            Name::Uf(name) => match &mut uf {
                UfSelect::All => {}
                UfSelect::Names(set) => {
                    set.insert(name);
                }
                UfSelect::None => uf = UfSelect::Names(BTreeSet::from([name])),
            },
            Name::Disabled(camel) => {
                disabled.insert(camel);
            }
            Name::Field(_) | Name::Fm | Name::Unknown(_) => {}
        }
    }
    let fields: Vec<&'static FieldDef> = names::item_fields(kind)
        .filter(|f| wanted.contains(f.name))
        .collect();
    ItemSelection {
        sel: Selection {
            fields: storage_fields(kind, &fields),
            uf,
            multifields: vec![],
        },
        fields,
        disabled: names::disabled(kind)
            .iter()
            .copied()
            .filter(|d| disabled.contains(d))
            .collect(),
        all: false,
    }
}

/// Whether a family has multifields (and so `fm` and the pseudo fields).
pub fn has_multifields(kind: EntityKind) -> bool {
    MULTIFIELD_TYPES.iter().any(|t| {
        kind.field(t)
            .is_some_and(|f| f.kind == FieldKind::CrmMultifield)
    })
}

/// Resolves `order` (already known to be a PHP array): `ASC`/`DESC` in any case, fields in the
/// given order, `id ASC` when empty. A field that cannot be sorted on (an undefined or multiple
/// user field among them: `ufs` are the definitions), or another direction, is
/// `INVALID_ARG_VALUE` (lists.md §3.3).
pub fn parse_order(
    kind: EntityKind,
    ufs: &[UserField],
    order: Option<&Value>,
) -> Result<Vec<Order>, ApiError> {
    let mut out: Vec<Order> = Vec::new();
    for (key, direction) in order.and_then(wire::php_entries).unwrap_or_default() {
        // `order[]=`: an empty order written as a query string.
        if key.bytes().all(|b| b.is_ascii_digit()) && direction.as_str() == Some("") {
            continue;
        }
        let name = names::resolve(kind, &key);
        let upper = name.upper();
        let col = match &name {
            Name::Field(def) if def.readable => match def.column {
                Some(column) => Col::Column(column),
                None => return Err(not_allowed_in_order(&upper)),
            },
            Name::Uf(uf) => match ufs.iter().find(|u| u.field_name == *uf && !u.multiple) {
                Some(def) => def.col(),
                None => return Err(not_allowed_in_order(&upper)),
            },
            _ => return Err(not_allowed_in_order(&upper)),
        };
        let given = wire::strval(direction).unwrap_or_else(|| "Array".into());
        let desc = match given.trim().to_ascii_uppercase().as_str() {
            "ASC" => false,
            "DESC" => true,
            _ => {
                return Err(ApiError::invalid_arg_value(format!(
                    "Invalid order: allowed sort directions are ASC, DESC. But got '{given}' for field '{upper}'"
                )))
            }
        };
        let key = OrderKey::Col(col);
        if !out.iter().any(|o| o.key == key) {
            out.push(Order { key, desc });
        }
    }
    if out.is_empty() {
        out.push(Order {
            key: OrderKey::Col(Col::Column("id")),
            desc: false,
        });
    }
    Ok(out)
}

fn not_allowed_in_order(upper: &str) -> ApiError {
    ApiError::invalid_arg_value(format!(
        "Invalid order: field '{upper}' is not allowed in order"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LEAD: EntityKind = EntityKind::Lead;

    fn printed(s: &ItemSelection) -> Vec<&'static str> {
        s.fields.iter().map(|f| f.name).collect()
    }

    #[test]
    fn star_absent_and_empty_select_everything() {
        let all = ItemSelection::everything(LEAD);
        assert!(all.all);
        assert_eq!(all.sel.uf, UfSelect::All);
        assert_eq!(
            all.sel.multifields,
            vec!["PHONE", "EMAIL", "WEB", "IM", "LINK"]
        );
        assert!(printed(&all).contains(&"CONTACT_IDS"));
        assert!(!printed(&all).contains(&"PHONE"));
        // CONTACT_IDS is read through CONTACT_ID.
        assert!(all.sel.columns().contains(&"contact_id"));
        for v in [
            None,
            Some(json!([])),
            Some(json!(["*"])),
            Some(json!(["title", "*"])),
        ] {
            assert_eq!(parse_select(LEAD, v.as_ref()), all, "{v:?}");
        }
    }

    #[test]
    fn explicit_names_in_table_order_with_id() {
        let s = parse_select(
            LEAD,
            Some(&json!([
                "title",
                "STATUS_ID",
                "fm",
                "PHONE",
                "nope",
                "contactIds",
                "ufCrm_A",
                "isConvert"
            ])),
        );
        assert!(!s.all);
        assert_eq!(printed(&s), vec!["ID", "TITLE", "STATUS_ID", "CONTACT_IDS"]);
        assert_eq!(s.sel.columns(), vec!["title", "status_id", "contact_id"]);
        assert!(s.sel.multifields.is_empty());
        assert_eq!(
            s.sel.uf,
            UfSelect::Names(BTreeSet::from(["UF_CRM_A".to_string()]))
        );
        assert_eq!(s.disabled, vec!["isConvert"]);
        let s = parse_select(LEAD, Some(&json!(["nope"])));
        assert_eq!(printed(&s), vec!["ID"]);
        let s = parse_select(LEAD, Some(&json!(["UF_*", "ufCrm_B"])));
        assert_eq!(s.sel.uf, UfSelect::All);
    }

    #[test]
    fn order_keys_and_errors() {
        use crate::userfield::UserType;
        let mut tags = UserField::new("CRM_LEAD", "UF_CRM_TAGS", UserType::Integer);
        tags.multiple = true;
        let ufs = vec![
            UserField::new("CRM_LEAD", "UF_CRM_X", UserType::Double),
            tags,
        ];
        let parse_order = |kind, order: Option<&Value>| super::parse_order(kind, &ufs, order);
        let o = parse_order(
            LEAD,
            Some(&json!({"lastName": "asc", "ID": "DESC", "ufCrm_X": "Desc"})),
        )
        .unwrap();
        assert_eq!(
            o,
            vec![
                Order {
                    key: OrderKey::Col(Col::Column("last_name")),
                    desc: false
                },
                Order {
                    key: OrderKey::Col(Col::Column("id")),
                    desc: true
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
        assert_eq!(parse_order(LEAD, None).unwrap(), default);
        assert_eq!(parse_order(LEAD, Some(&json!({}))).unwrap(), default);
        assert_eq!(parse_order(LEAD, Some(&json!([""]))).unwrap(), default);
        let err = |v: Value| parse_order(LEAD, Some(&v)).unwrap_err();
        for (v, text) in [
            (json!({"nope": "ASC"}), "Invalid order: field 'NOPE' is not allowed in order"),
            (json!({"fm": "ASC"}), "Invalid order: field 'FM' is not allowed in order"),
            (json!({"ufCrm_NOPE": "ASC"}), "Invalid order: field 'UF_CRM_NOPE' is not allowed in order"),
            (json!({"ufCrm_TAGS": "ASC"}), "Invalid order: field 'UF_CRM_TAGS' is not allowed in order"),
            (json!({"contactIds": "ASC"}), "Invalid order: field 'CONTACT_IDS' is not allowed in order"),
            (json!(["id"]), "Invalid order: field '0' is not allowed in order"),
            (
                json!({"stageId": "UP"}),
                "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'STAGE_ID'",
            ),
            (
                json!({"id": ["x"]}),
                "Invalid order: allowed sort directions are ASC, DESC. But got 'Array' for field 'ID'",
            ),
        ] {
            let e = err(v.clone());
            assert_eq!((e.code(), e.description()), ("INVALID_ARG_VALUE", text), "{v}");
        }
    }
}
