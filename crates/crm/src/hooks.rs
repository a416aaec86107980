//! Per-family peculiarities the generic engine consults: the stage field, defaults on add and
//! derived fields that are not shared by every family. Adding a family means adding arms here.
//!
//! Everything shared (stamps, money defaults, multifield flags) is keyed by field name and
//! applies to whichever families have that field.

use crate::entity::EntityKind;
use crate::query::DbValue;

/// The stage-like field of a family and its read-only semantic companion (`P`/`S`/`F`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub field: &'static str,
    pub semantic_field: Option<&'static str>,
}

pub fn stage(kind: EntityKind) -> Option<Stage> {
    match kind {
        EntityKind::Lead => Some(Stage {
            field: "STATUS_ID",
            semantic_field: Some("STATUS_SEMANTIC_ID"),
        }),
        EntityKind::Deal => Some(Stage {
            field: "STAGE_ID",
            semantic_field: Some("STAGE_SEMANTIC_ID"),
        }),
        EntityKind::Quote => Some(Stage {
            field: "STATUS_ID",
            semantic_field: None,
        }),
        EntityKind::Contact | EntityKind::Company => None,
    }
}

/// Where a default value on add comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Caller,
    Now,
    BaseCurrency,
    Text(&'static str),
    Real(f64),
}

/// Defaults on add shared by every family that has the field (leads.md §3.15). The stage
/// default (the dictionary's first stage) is applied separately.
pub const DEFAULTS: [(&str, DefaultValue); 13] = [
    ("CURRENCY_ID", DefaultValue::BaseCurrency),
    ("OPPORTUNITY", DefaultValue::Real(0.0)),
    ("IS_MANUAL_OPPORTUNITY", DefaultValue::Text("N")),
    ("OPENED", DefaultValue::Text("Y")),
    ("ASSIGNED_BY_ID", DefaultValue::Caller),
    ("CREATED_BY_ID", DefaultValue::Caller),
    ("MODIFY_BY_ID", DefaultValue::Caller),
    ("MOVED_BY_ID", DefaultValue::Caller),
    ("LAST_ACTIVITY_BY", DefaultValue::Caller),
    ("DATE_CREATE", DefaultValue::Now),
    ("DATE_MODIFY", DefaultValue::Now),
    ("MOVED_TIME", DefaultValue::Now),
    ("LAST_ACTIVITY_TIME", DefaultValue::Now),
];

/// Fields that never become NULL through input: a `null`/`""` for them keeps the default (add)
/// or the stored value (update). The PHP SDK, for one, fails on a null currency.
pub fn keeps_value_when_blank(kind: EntityKind, name: &str) -> bool {
    stage(kind).is_some_and(|s| s.field == name) || DEFAULTS.iter().any(|(n, _)| *n == name)
}

/// Families whose new records inherit a client's source through the attribution window
/// (sales-intelligence.md §9): leads and deals.
pub fn uses_attribution_window(kind: EntityKind) -> bool {
    matches!(kind, EntityKind::Lead | EntityKind::Deal)
}

/// Families whose REST-created records also bind their contact and company to their trace
/// (sales-intelligence.md §3 step 4): deals.
pub fn binds_clients_to_trace(kind: EntityKind) -> bool {
    kind == EntityKind::Deal
}

/// Read access to the record being written, for derivations.
pub trait Values {
    fn get(&self, name: &str) -> DbValue;
    fn set(&mut self, name: &'static str, value: DbValue);
}

fn is_set(v: &DbValue) -> bool {
    match v {
        DbValue::Null => false,
        DbValue::Int(i) => *i != 0,
        DbValue::Real(r) => *r != 0.0,
        DbValue::Text(t) => !t.is_empty() && t != "0",
    }
}

/// Family-specific derived fields, run after input, defaults and the shared derivations.
pub fn derive(kind: EntityKind, record: &mut dyn Values) {
    if kind == EntityKind::Lead {
        // A returning customer is a lead tied to a known company or contact (leads.md §3.2);
        // on deals the same field is writable, so this is lead-only.
        let returning = is_set(&record.get("COMPANY_ID")) || is_set(&record.get("CONTACT_ID"));
        record.set(
            "IS_RETURN_CUSTOMER",
            DbValue::Text(if returning { "Y" } else { "N" }.into()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct M(HashMap<&'static str, DbValue>);
    impl Values for M {
        fn get(&self, name: &str) -> DbValue {
            self.0.get(name).cloned().unwrap_or(DbValue::Null)
        }
        fn set(&mut self, name: &'static str, value: DbValue) {
            self.0.insert(name, value);
        }
    }

    #[test]
    fn lead_return_customer() {
        let mut m = M::default();
        derive(EntityKind::Lead, &mut m);
        assert_eq!(m.get("IS_RETURN_CUSTOMER"), DbValue::Text("N".into()));
        m.set("CONTACT_ID", DbValue::Int(4));
        derive(EntityKind::Lead, &mut m);
        assert_eq!(m.get("IS_RETURN_CUSTOMER"), DbValue::Text("Y".into()));
        let mut deal = M::default();
        deal.set("COMPANY_ID", DbValue::Int(4));
        derive(EntityKind::Deal, &mut deal);
        assert_eq!(deal.get("IS_RETURN_CUSTOMER"), DbValue::Null);
    }

    #[test]
    fn blank_protection() {
        assert!(keeps_value_when_blank(EntityKind::Lead, "STATUS_ID"));
        assert!(keeps_value_when_blank(EntityKind::Lead, "CURRENCY_ID"));
        assert!(keeps_value_when_blank(EntityKind::Lead, "ASSIGNED_BY_ID"));
        assert!(!keeps_value_when_blank(EntityKind::Lead, "SOURCE_ID"));
        assert!(!keeps_value_when_blank(EntityKind::Lead, "TITLE"));
    }
}
