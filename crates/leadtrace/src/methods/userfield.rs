//! `crm.<entity>.userfield.{add,update,get,list,delete}` (leads.md §5): one set of handlers for
//! every entity type that has a field table; `crm::userfield` does the work.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::{userfield, EntityKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Update,
    Get,
    List,
    Delete,
}

impl Op {
    fn writes(self) -> bool {
        matches!(self, Op::Add | Op::Update | Op::Delete)
    }
}

/// Registers the methods for every entity type whose field table exists, so a family gets its
/// user fields as soon as it gets its fields.
pub fn register(r: &mut Registry) {
    for kind in EntityKind::ALL {
        if kind.fields().is_empty() {
            continue;
        }
        let prefix = format!("crm.{}.userfield.", kind.method_name());
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
    }
}

async fn run(call: Call, kind: EntityKind, op: Op) -> Result<Output, ApiError> {
    crm_call(call, op.writes(), move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::Add => userfield::add(tx, ctx, kind, params).await,
                Op::Update => userfield::update(tx, ctx, kind, params).await,
                Op::Get => userfield::get(tx, ctx, kind, params).await,
                Op::List => userfield::list(tx, ctx, kind, params).await,
                Op::Delete => userfield::delete(tx, ctx, kind, params).await,
            }
        })
    })
    .await
}
