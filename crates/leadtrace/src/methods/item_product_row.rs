//! `crm.item.productrow.*`: the universal, camelCase view of product rows; `crm::item_product_row`
//! does the work over the same rows as `crm.{lead,deal,quote}.productrows.*`.

use super::crm_call;
use crate::registry::{Call, Registry, Scope};
use bx_wire::{ApiError, Output};
use crm::item_product_row as rows;
use crm::simple_mode::CrmMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Update,
    Get,
    Delete,
    Set,
    List,
}

pub fn register(r: &mut Registry) {
    for (name, op) in [
        ("add", Op::Add),
        ("update", Op::Update),
        ("get", Op::Get),
        ("delete", Op::Delete),
        ("set", Op::Set),
        ("list", Op::List),
    ] {
        r.add(
            &format!("crm.item.productrow.{name}"),
            Scope::Crm,
            move |call| Box::pin(run(call, op)),
        );
    }
    r.add("crm.item.productrow.fields", Scope::Crm, |_call| {
        Box::pin(async { Ok(rows::fields().into()) })
    });
}

async fn run(call: Call, op: Op) -> Result<Output, ApiError> {
    let mode = CrmMode::of(&call.caller.portal.crm_mode);
    let write = !matches!(op, Op::Get | Op::List);
    crm_call(call, write, move |tx, ctx, params| {
        Box::pin(async move {
            match op {
                Op::Add => rows::add(tx, ctx, mode, params).await,
                Op::Update => rows::update(tx, ctx, mode, params).await,
                Op::Get => rows::get(tx, ctx, mode, params).await,
                Op::Delete => rows::delete(tx, ctx, mode, params).await,
                Op::Set => rows::set(tx, ctx, mode, params).await,
                Op::List => rows::list(tx, ctx, mode, params).await,
            }
        })
    })
    .await
}
