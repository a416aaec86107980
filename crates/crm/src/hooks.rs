//! Per-family peculiarities the generic engine consults: the stage field and what follows from
//! it, defaults on add, validation, derived fields and values not shared by every family.
//! Adding a family means adding arms here.
//!
//! Everything shared (stamps, money defaults, multifield flags) is keyed by field name and
//! applies to whichever families have that field.

use crate::entity::EntityKind;
use crate::query::DbValue;

/// The stage-like field of a family and what follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub field: &'static str,
    /// Read-only `P`/`S`/`F` companion.
    pub semantic_field: Option<&'static str>,
    /// A Y/N flag that follows the stage: `Y` in a final (`S`/`F`) stage, `N` otherwise
    /// (`CLOSED` of deals and quotes; entities.md §2 decision).
    pub closed_flag: Option<&'static str>,
    /// A read-only Y/N flag that is `Y` while the record is in the dictionary's first stage
    /// (`IS_NEW` of deals, decision D10).
    pub first_stage_flag: Option<&'static str>,
    pub closing: Closing,
}

/// How entering a final stage dates the record (decision D10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// A datetime set to now on entering a final stage and cleared on leaving it (`DATE_CLOSED`).
    ClosedAt(&'static str),
    /// A planned closing date that becomes today's date on entering a final stage, unless the
    /// same call gives it; kept when the record leaves the final stage (`CLOSEDATE` of deals).
    CloseDate(&'static str),
    Nothing,
}

pub fn stage(kind: EntityKind) -> Option<Stage> {
    match kind {
        EntityKind::Lead => Some(Stage {
            field: "STATUS_ID",
            semantic_field: Some("STATUS_SEMANTIC_ID"),
            closed_flag: None,
            first_stage_flag: None,
            closing: Closing::ClosedAt("DATE_CLOSED"),
        }),
        EntityKind::Deal => Some(Stage {
            field: "STAGE_ID",
            semantic_field: Some("STAGE_SEMANTIC_ID"),
            closed_flag: Some("CLOSED"),
            first_stage_flag: Some("IS_NEW"),
            closing: Closing::CloseDate("CLOSEDATE"),
        }),
        EntityKind::Quote => Some(Stage {
            field: "STATUS_ID",
            semantic_field: None,
            closed_flag: Some("CLOSED"),
            first_stage_flag: None,
            closing: Closing::Nothing,
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
    Int(i64),
    /// The portal's date today plus this many days (a `date` field).
    Today(i64),
    /// The first entry (by sort) of this status dictionary.
    FirstStatus(&'static str),
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

/// Defaults on add of one family, applied after the shared ones.
pub fn family_defaults(kind: EntityKind) -> &'static [(&'static str, DefaultValue)] {
    match kind {
        // entities.md §2: pipeline 0, the first deal type, start today, close in a week; the
        // docs' get example shows the Y/N flags as "N" when not given.
        EntityKind::Deal => &[
            ("CATEGORY_ID", DefaultValue::Int(0)),
            ("TYPE_ID", DefaultValue::FirstStatus("DEAL_TYPE")),
            ("IS_RECURRING", DefaultValue::Text("N")),
            ("IS_RETURN_CUSTOMER", DefaultValue::Text("N")),
            ("IS_REPEATED_APPROACH", DefaultValue::Text("N")),
            ("BEGINDATE", DefaultValue::Today(0)),
            ("CLOSEDATE", DefaultValue::Today(7)),
        ],
        // A new contact takes part in exports unless told otherwise (Bitrix24's form default).
        EntityKind::Contact => &[("EXPORT", DefaultValue::Text("Y"))],
        EntityKind::Company => &[("IS_MY_COMPANY", DefaultValue::Text("N"))],
        EntityKind::Lead | EntityKind::Quote => &[],
    }
}

/// Fields that never become NULL through input: a `null`/`""` for them keeps the default (add)
/// or the stored value (update). The PHP SDK, for one, fails on a null currency.
pub fn keeps_value_when_blank(kind: EntityKind, name: &str) -> bool {
    stage(kind).is_some_and(|s| s.field == name)
        || DEFAULTS.iter().any(|(n, _)| *n == name)
        || family_defaults(kind).iter().any(|(n, _)| *n == name)
}

/// Input values a family ignores silently. `crm.deal.update` moves a deal only within its own
/// pipeline; a stage of another pipeline (`C<n>:…`) is ignored (entities.md §2), and with only
/// pipeline 0 every such stage belongs to another one.
pub fn ignores_input(kind: EntityKind, name: &str, value: &DbValue) -> bool {
    match (kind, name, value) {
        (EntityKind::Deal, "STAGE_ID", DbValue::Text(t)) => other_pipeline_stage(t),
        _ => false,
    }
}

fn other_pipeline_stage(stage_id: &str) -> bool {
    stage_id
        .strip_prefix(['C', 'c'])
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Text fields a family truncates instead of rejecting (quotes: entities.md §5, "values are
/// normalized, truncated"), by characters.
pub fn max_chars(kind: EntityKind, name: &str) -> Option<usize> {
    match (kind, name) {
        (
            EntityKind::Quote,
            "TITLE" | "CLIENT_TITLE" | "CLIENT_ADDR" | "CLIENT_CONTACT" | "CLIENT_EMAIL"
            | "CLIENT_PHONE" | "CLIENT_TP_ID" | "CLIENT_TPA_ID",
        ) => Some(255),
        _ => None,
    }
}

/// Family rules checked on the record about to be written (after input and defaults); `Err`
/// names the field whose value is not valid (the engine words the error for the API answering).
pub fn validate(kind: EntityKind, record: &dyn Values, adding: bool) -> Result<(), &'static str> {
    if kind == EntityKind::Deal && adding {
        // Only pipeline 0 exists (entities.md §2 decision); CATEGORY_ID is immutable, so this
        // only matters on add.
        match record.get("CATEGORY_ID") {
            DbValue::Null | DbValue::Int(0) => {}
            _ => return Err("CATEGORY_ID"),
        }
    }
    Ok(())
}

/// Values a family derives from the new record's id, written right after the insert.
pub fn after_insert(kind: EntityKind, id: i64) -> Vec<(&'static str, DbValue)> {
    match kind {
        // QUOTE_NUMBER is the id unless the portal numbers quotes (entities.md §5); ours does not.
        EntityKind::Quote => vec![("QUOTE_NUMBER", DbValue::Text(id.to_string()))],
        _ => vec![],
    }
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
    fn deal_pipeline_rules() {
        let text = |s: &str| DbValue::Text(s.into());
        assert!(ignores_input(EntityKind::Deal, "STAGE_ID", &text("C1:NEW")));
        assert!(ignores_input(
            EntityKind::Deal,
            "STAGE_ID",
            &text("C12:UC_KN8KFI")
        ));
        assert!(!ignores_input(EntityKind::Deal, "STAGE_ID", &text("NEW")));
        assert!(!ignores_input(EntityKind::Deal, "STAGE_ID", &text("C:NEW")));
        assert!(!ignores_input(
            EntityKind::Deal,
            "STAGE_ID",
            &text("CX:NEW")
        ));
        assert!(!ignores_input(
            EntityKind::Lead,
            "STATUS_ID",
            &text("C1:NEW")
        ));

        let mut deal = M::default();
        assert!(validate(EntityKind::Deal, &deal, true).is_ok());
        deal.set("CATEGORY_ID", DbValue::Int(0));
        assert!(validate(EntityKind::Deal, &deal, true).is_ok());
        deal.set("CATEGORY_ID", DbValue::Int(3));
        assert_eq!(validate(EntityKind::Deal, &deal, true), Err("CATEGORY_ID"));
        // Immutable after add: an update never carries it, and a stored one is not re-checked.
        assert!(validate(EntityKind::Deal, &deal, false).is_ok());
    }

    #[test]
    fn quote_peculiarities() {
        assert_eq!(max_chars(EntityKind::Quote, "TITLE"), Some(255));
        assert_eq!(max_chars(EntityKind::Quote, "CLIENT_TPA_ID"), Some(255));
        assert_eq!(max_chars(EntityKind::Quote, "COMMENTS"), None);
        assert_eq!(max_chars(EntityKind::Deal, "TITLE"), None);
        assert_eq!(
            after_insert(EntityKind::Quote, 42),
            vec![("QUOTE_NUMBER", DbValue::Text("42".into()))]
        );
        assert!(after_insert(EntityKind::Deal, 42).is_empty());
    }

    #[test]
    fn blank_protection() {
        assert!(keeps_value_when_blank(EntityKind::Lead, "STATUS_ID"));
        assert!(keeps_value_when_blank(EntityKind::Lead, "CURRENCY_ID"));
        assert!(keeps_value_when_blank(EntityKind::Lead, "ASSIGNED_BY_ID"));
        assert!(!keeps_value_when_blank(EntityKind::Lead, "SOURCE_ID"));
        assert!(!keeps_value_when_blank(EntityKind::Lead, "TITLE"));
        assert!(keeps_value_when_blank(EntityKind::Deal, "STAGE_ID"));
        assert!(keeps_value_when_blank(EntityKind::Deal, "CATEGORY_ID"));
        assert!(keeps_value_when_blank(EntityKind::Quote, "STATUS_ID"));
        assert!(!keeps_value_when_blank(EntityKind::Lead, "CATEGORY_ID"));
    }
}
