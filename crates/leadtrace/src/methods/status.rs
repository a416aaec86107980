//! Status dictionaries (`crm.status.*`): stages, sources, salutations and the other lists.

use super::crm_call;
use crate::registry::{Registry, Scope};
use crm::status;

pub fn register(r: &mut Registry) {
    r.add("crm.status.list", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, p| {
            Box::pin(status::list(tx, ctx, p))
        }))
    });
    r.add("crm.status.get", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, p| {
            Box::pin(status::get(tx, ctx, p))
        }))
    });
    r.add("crm.status.add", Scope::Crm, |call| {
        Box::pin(crm_call(call, true, |tx, ctx, p| {
            Box::pin(status::add(tx, ctx, p))
        }))
    });
    r.add("crm.status.update", Scope::Crm, |call| {
        Box::pin(crm_call(call, true, |tx, ctx, p| {
            Box::pin(status::update(tx, ctx, p))
        }))
    });
    r.add("crm.status.delete", Scope::Crm, |call| {
        Box::pin(crm_call(call, true, |tx, ctx, p| {
            Box::pin(status::delete(tx, ctx, p))
        }))
    });
    r.add("crm.status.entity.items", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, p| {
            Box::pin(status::entity_items(tx, ctx, p))
        }))
    });
    r.add("crm.status.entity.types", Scope::Crm, |_| {
        Box::pin(async { Ok(status::entity_types().into()) })
    });
    r.add("crm.status.fields", Scope::Crm, |_| {
        Box::pin(async { Ok(status::fields().into()) })
    });
}
