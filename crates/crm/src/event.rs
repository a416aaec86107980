//! CRM events (spec/events.md §2): their names, payloads and the object each one is about.
//! The engine emits them through `Storage::enqueue_event` inside the transaction of the change.
//!
//! Where events are emitted:
//! * `ONCRM{TYPE}ADD` / `UPDATE` / `DELETE`: by `engine::{add, update, delete}` for every entity
//!   type, after the write succeeded (an update fires even when nothing changed, F5).
//! * `ONCRM{TYPE}USERFIELD{ADD,UPDATE,DELETE,SETENUMVALUES}`: by the user-field methods
//!   (`crm.{type}.userfield.*`), which call [`userfield`] and `Storage::enqueue_event` after their
//!   write, in the same transaction: `Add` after `add`, `Update` after `update`, `Delete` after
//!   `delete`, and `SetEnumValues` after an `add`/`update` that changed the `LIST` of an
//!   enumeration field (in addition to `Add`/`Update`).

use crate::entity::EntityKind;
use serde_json::{json, Value};

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityAction {
    Add,
    Update,
    Delete,
}

impl EntityAction {
    fn suffix(self) -> &'static str {
        match self {
            EntityAction::Add => "ADD",
            EntityAction::Update => "UPDATE",
            EntityAction::Delete => "DELETE",
        }
    }
}

/// What happened to a user field definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFieldAction {
    Add,
    Update,
    Delete,
    SetEnumValues,
}

impl UserFieldAction {
    const ALL: [UserFieldAction; 4] = [
        UserFieldAction::Add,
        UserFieldAction::Update,
        UserFieldAction::Delete,
        UserFieldAction::SetEnumValues,
    ];

    fn suffix(self) -> &'static str {
        match self {
            UserFieldAction::Add => "ADD",
            UserFieldAction::Update => "UPDATE",
            UserFieldAction::Delete => "DELETE",
            UserFieldAction::SetEnumValues => "SETENUMVALUES",
        }
    }
}

/// One event to deliver: to every handler bound to `name` on the portal, and into the offline
/// queues subscribed to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub portal_id: i64,
    /// Upper-case event code, e.g. `ONCRMLEADADD`.
    pub name: String,
    /// The `data` of the notification, e.g. `{"FIELDS": {"ID": "15"}}` (all values strings).
    pub data: Value,
    /// The user whose action caused the event (whose token an application receives); 0 for none.
    pub user_id: i64,
    /// The object the event is about. Offline events of one object collapse into one queue row,
    /// and this is that row's `MESSAGE_ID`.
    pub object: String,
}

/// `ONCRMLEADADD`, `ONCRMDEALUPDATE`, ...
pub fn entity_event_name(kind: EntityKind, action: EntityAction) -> String {
    format!("ONCRM{}{}", kind.code(), action.suffix())
}

/// `ONCRMLEADUSERFIELDADD`, ...
pub fn userfield_event_name(kind: EntityKind, action: UserFieldAction) -> String {
    format!("ONCRM{}USERFIELD{}", kind.code(), action.suffix())
}

/// The event of an added, updated or deleted record: `data[FIELDS][ID]` only (events.md §3).
pub fn entity(
    kind: EntityKind,
    action: EntityAction,
    portal_id: i64,
    id: i64,
    user_id: i64,
) -> Event {
    Event {
        portal_id,
        name: entity_event_name(kind, action),
        data: json!({"FIELDS": {"ID": id.to_string()}}),
        user_id,
        object: format!("CRM_{}_{id}", kind.code()),
    }
}

/// The event of a user field definition (F3): `data[FIELDS][ID]` (the field's id),
/// `[ENTITY_ID]` (`CRM_LEAD`, ...) and `[FIELD_NAME]` (`UF_CRM_...`).
pub fn userfield(
    kind: EntityKind,
    action: UserFieldAction,
    portal_id: i64,
    field_id: i64,
    field_name: &str,
    user_id: i64,
) -> Event {
    let entity_id = format!("CRM_{}", kind.code());
    Event {
        portal_id,
        name: userfield_event_name(kind, action),
        data: json!({"FIELDS": {
            "ID": field_id.to_string(),
            "ENTITY_ID": entity_id,
            "FIELD_NAME": field_name,
        }}),
        user_id,
        object: format!("{entity_id}_USERFIELD_{field_id}"),
    }
}

/// Every CRM event an application may bind, in the order `events` lists them (Bitrix24's order:
/// leads, deals, companies, contacts, quotes, then recurring deals). Deal pipelines and recurring
/// deals do not exist here yet, so their events can be bound but never fire.
pub fn crm_event_names() -> Vec<String> {
    let mut out = Vec::new();
    for kind in [
        EntityKind::Lead,
        EntityKind::Deal,
        EntityKind::Company,
        EntityKind::Contact,
        EntityKind::Quote,
    ] {
        for action in [
            EntityAction::Add,
            EntityAction::Update,
            EntityAction::Delete,
        ] {
            out.push(entity_event_name(kind, action));
        }
        if kind == EntityKind::Deal {
            out.push("ONCRMDEALMOVETOCATEGORY".to_string());
        }
        for action in UserFieldAction::ALL {
            out.push(userfield_event_name(kind, action));
        }
    }
    for suffix in ["ADD", "UPDATE", "DELETE", "EXPOSE"] {
        out.push(format!("ONCRMDEALRECURRING{suffix}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_payloads() {
        let e = entity(EntityKind::Lead, EntityAction::Add, 1, 15, 3);
        assert_eq!(e.name, "ONCRMLEADADD");
        assert_eq!(e.data, json!({"FIELDS": {"ID": "15"}}));
        assert_eq!(e.object, "CRM_LEAD_15");
        assert_eq!(
            entity_event_name(EntityKind::Company, EntityAction::Delete),
            "ONCRMCOMPANYDELETE"
        );
        let u = userfield(
            EntityKind::Deal,
            UserFieldAction::SetEnumValues,
            1,
            7,
            "UF_CRM_1742999523",
            1,
        );
        assert_eq!(u.name, "ONCRMDEALUSERFIELDSETENUMVALUES");
        assert_eq!(
            u.data,
            json!({"FIELDS": {"ID": "7", "ENTITY_ID": "CRM_DEAL", "FIELD_NAME": "UF_CRM_1742999523"}})
        );
        assert_eq!(u.object, "CRM_DEAL_USERFIELD_7");
    }

    #[test]
    fn catalogue_covers_every_entity_event() {
        let names = crm_event_names();
        for kind in EntityKind::ALL {
            for action in [
                EntityAction::Add,
                EntityAction::Update,
                EntityAction::Delete,
            ] {
                assert!(names.contains(&entity_event_name(kind, action)));
            }
            for action in UserFieldAction::ALL {
                assert!(names.contains(&userfield_event_name(kind, action)));
            }
        }
        assert_eq!(names.first().map(String::as_str), Some("ONCRMLEADADD"));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }
}
