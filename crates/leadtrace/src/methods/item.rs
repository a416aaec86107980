//! `crm.item.add/update/get/list/delete/fields`: the universal item API for every family whose
//! field table exists (`crm::item::served_kind`); the `crm::item` view of the engine does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::item;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Update,
    Get,
    List,
    Delete,
    Fields,
}

impl Op {
    fn writes(self) -> bool {
        matches!(self, Op::Add | Op::Update | Op::Delete)
    }
}

pub fn register(r: &mut Registry) {
    for (name, op) in [
        ("crm.item.add", Op::Add),
        ("crm.item.update", Op::Update),
        ("crm.item.get", Op::Get),
        ("crm.item.list", Op::List),
        ("crm.item.delete", Op::Delete),
        ("crm.item.fields", Op::Fields),
    ] {
        r.add(name, Scope::Crm, move |call| Box::pin(run(call, op)));
    }
}

async fn run(call: Call, op: Op) -> Result<Output, ApiError> {
    crm_call(call, op.writes(), move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::Add => item::add(tx, ctx, params).await,
                Op::Update => item::update(tx, ctx, params).await,
                Op::Get => item::get(tx, ctx, params).await,
                Op::List => item::list(tx, ctx, params).await,
                Op::Delete => item::delete(tx, ctx, params).await,
                Op::Fields => item::fields(tx, ctx, params).await,
            }
        })
    })
    .await
}
