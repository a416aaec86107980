//! `crm.category.list`: pipelines (our portals have the general deal pipeline only).

use crate::registry::{Registry, Scope};

pub fn register(r: &mut Registry) {
    r.add("crm.category.list", Scope::Crm, |call| {
        Box::pin(async move { crm::category::list(&call.params) })
    });
}
