//! Contact and company bindings (`crm.{lead,deal,quote,company}.contact.*`,
//! `crm.contact.company.*`): one set of handlers for every relation; `crm::binding` does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::binding::{self, Relation};
use crm::simple_mode::CrmMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Delete,
    ItemsGet,
    ItemsSet,
    ItemsDelete,
}

pub fn register(r: &mut Registry) {
    for rel in Relation::ALL {
        let prefix = format!(
            "crm.{}.{}.",
            rel.owner.method_name(),
            rel.bound.method_name()
        );
        for (name, op) in [
            ("add", Op::Add),
            ("delete", Op::Delete),
            ("items.get", Op::ItemsGet),
            ("items.set", Op::ItemsSet),
            ("items.delete", Op::ItemsDelete),
        ] {
            r.add(&format!("{prefix}{name}"), Scope::Crm, move |call| {
                Box::pin(run(call, rel, op))
            });
        }
        r.add(&format!("{prefix}fields"), Scope::Crm, move |_call| {
            Box::pin(async move { Ok(binding::fields(rel).into()) })
        });
    }
}

async fn run(call: Call, rel: Relation, op: Op) -> Result<Output, ApiError> {
    if CrmMode::of(&call.caller.portal.crm_mode).hides(rel.owner) {
        return binding::absent_owner(&call.params);
    }
    crm_call(call, op != Op::ItemsGet, move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::Add => binding::add(tx, ctx, rel, params).await,
                Op::Delete => binding::delete(tx, ctx, rel, params).await,
                Op::ItemsGet => binding::items_get(tx, ctx, rel, params).await,
                Op::ItemsSet => binding::items_set(tx, ctx, rel, params).await,
                Op::ItemsDelete => binding::items_delete(tx, ctx, rel, params).await,
            }
        })
    })
    .await
}
