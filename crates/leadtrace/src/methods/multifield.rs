//! `crm.multifield.fields`: the fields of one PHONE / EMAIL / WEB / IM / LINK value.

use crate::registry::{Registry, Scope};

pub fn register(r: &mut Registry) {
    r.add("crm.multifield.fields", Scope::Crm, |_| {
        Box::pin(async { Ok(crm::enums::multifield_fields().into()) })
    });
}
