//! Fixed enumerations (`crm.enum.*`): owner types, enumeration fields, CRM modes, address types
//! and the outdated activity enumerations.

use crate::registry::{Registry, Scope};
use crm::enums;
use serde_json::Value;

/// A fixed enumeration.
type Values = fn() -> Value;

pub fn register(r: &mut Registry) {
    let all: [(&str, Values); 10] = [
        ("crm.enum.ownertype", enums::owner_types),
        ("crm.enum.fields", enums::fields),
        ("crm.enum.settings.mode", enums::settings_modes),
        ("crm.enum.addresstype", enums::address_types),
        ("crm.enum.activitytype", enums::activity_types),
        ("crm.enum.activitydirection", enums::activity_directions),
        ("crm.enum.activitypriority", enums::activity_priorities),
        ("crm.enum.activitystatus", enums::activity_statuses),
        ("crm.enum.activitynotifytype", enums::activity_notify_types),
        ("crm.enum.contenttype", enums::content_types),
    ];
    for (name, values) in all {
        r.add(name, Scope::Crm, move |_| {
            Box::pin(async move { Ok(values().into()) })
        });
    }
}
