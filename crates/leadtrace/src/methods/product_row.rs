//! Product rows of leads, deals and quotes (`crm.{lead,deal,quote}.productrows.get/set`): one
//! handler pair for every family that has rows; `crm::product_row` does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::simple_mode::CrmMode;
use crm::{product_row, EntityKind};

pub fn register(r: &mut Registry) {
    for kind in EntityKind::ALL {
        if product_row::owner_type(kind).is_none() {
            continue;
        }
        let prefix = format!("crm.{}.productrows.", kind.method_name());
        r.add(&format!("{prefix}get"), Scope::Crm, move |call| {
            Box::pin(run(call, kind, false))
        });
        r.add(&format!("{prefix}set"), Scope::Crm, move |call| {
            Box::pin(run(call, kind, true))
        });
    }
}

async fn run(call: Call, kind: EntityKind, set: bool) -> Result<Output, ApiError> {
    if CrmMode::of(&call.caller.portal.crm_mode).hides(kind) {
        return product_row::absent_owner(&call.params);
    }
    crm_call(call, set, move |tx, ctx, params| {
        Box::pin(async move {
            if set {
                product_row::set(tx, ctx, kind, params).await
            } else {
                product_row::get(tx, ctx, kind, params).await
            }
        })
    })
    .await
}
