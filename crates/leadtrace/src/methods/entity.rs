//! The generic CRM entity methods (`crm.{type}.add/update/get/list/delete/fields`): one set of
//! handlers for every entity type; the `crm` engine does the work.

use super::in_tx;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::{engine, Ctx, EntityKind};

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
    let actor = call.caller.actor();
    let settings = call.caller.settings();
    let params = call.params;
    let now = chrono::Utc::now().timestamp();
    in_tx(call.state.store(), op.writes(), move |tx| {
        Box::pin(async move {
            let ctx = Ctx {
                actor: &actor,
                settings: &settings,
                now,
            };
            match op {
                Op::Add => engine::add(tx, &ctx, kind, &params).await,
                Op::Update => engine::update(tx, &ctx, kind, &params).await,
                Op::Get => engine::get(tx, &ctx, kind, &params).await,
                Op::List => engine::list(tx, &ctx, kind, &params).await,
                Op::Delete => engine::delete(tx, &ctx, kind, &params).await,
                Op::Fields => engine::fields(tx, &ctx, kind).await,
            }
        })
    })
    .await
}
