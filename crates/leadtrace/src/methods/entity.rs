//! The generic CRM entity methods (`crm.{type}.add/update/get/list/delete/fields`): one set of
//! handlers for every entity type; the `crm` engine does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::simple_mode::{self, CrmMode};
use crm::{engine, EntityKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Update,
    Get,
    List,
    Delete,
    /// `crm.<entity>.fields`: the field table and the portal's user fields.
    Fields,
}

impl Op {
    fn writes(self) -> bool {
        matches!(self, Op::Add | Op::Update | Op::Delete)
    }
}

pub fn register(r: &mut Registry, kind: EntityKind) {
    let prefix = format!("crm.{}.", kind.method_name());
    for (name, op) in [
        ("add", Op::Add),
        ("update", Op::Update),
        ("get", Op::Get),
        ("list", Op::List),
        ("delete", Op::Delete),
    ] {
        r.add(&format!("{prefix}{name}"), Scope::Crm, move |call| {
            Box::pin(run(call, kind, op))
        });
    }
    r.add(&format!("{prefix}fields"), Scope::Crm, move |call| {
        Box::pin(run(call, kind, Op::Fields))
    });
}

async fn run(call: Call, kind: EntityKind, op: Op) -> Result<Output, ApiError> {
    // In simple CRM mode leads are absent: an added lead becomes a deal at once.
    let hidden = CrmMode::of(&call.caller.portal.crm_mode).hides(kind);
    if hidden {
        match op {
            Op::Get | Op::Delete => return simple_mode::get_or_delete(&call.params),
            Op::Update => return simple_mode::update(&call.params),
            Op::List => return simple_mode::list(&call.params),
            Op::Add | Op::Fields => {}
        }
    }
    crm_call(call, op.writes(), move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::Add if hidden => simple_mode::add_lead(tx, ctx, params).await,
                Op::Add => engine::add(tx, ctx, kind, params).await,
                Op::Update => engine::update(tx, ctx, kind, params).await,
                Op::Get => engine::get(tx, ctx, kind, params).await,
                Op::List => engine::list(tx, ctx, kind, params).await,
                Op::Delete => engine::delete(tx, ctx, kind, params).await,
                Op::Fields => engine::fields(tx, ctx, kind).await,
            }
        })
    })
    .await
}
