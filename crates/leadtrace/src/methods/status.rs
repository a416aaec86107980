//! Status dictionaries (`crm.status.*`): stages, sources, salutations and the other lists.

use super::in_tx;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::{status, Ctx};

pub fn register(r: &mut Registry) {
    r.add("crm.status.list", Scope::Crm, |call| {
        Box::pin(read(call, false))
    });
    r.add("crm.status.entity.items", Scope::Crm, |call| {
        Box::pin(read(call, true))
    });
    r.add("crm.status.entity.types", Scope::Crm, |_| {
        Box::pin(async { Ok(status::entity_types().into()) })
    });
    r.add("crm.status.fields", Scope::Crm, |_| {
        Box::pin(async { Ok(status::fields().into()) })
    });
}

async fn read(call: Call, entity_items: bool) -> Result<Output, ApiError> {
    let actor = call.caller.actor();
    let settings = call.caller.settings();
    let params = call.params;
    let now = chrono::Utc::now().timestamp();
    in_tx(call.state.store(), false, move |tx| {
        Box::pin(async move {
            let ctx = Ctx {
                actor: &actor,
                settings: &settings,
                now,
            };
            if entity_items {
                status::entity_items(tx, &ctx, &params).await
            } else {
                status::list(tx, &ctx, &params).await
            }
        })
    })
    .await
}
