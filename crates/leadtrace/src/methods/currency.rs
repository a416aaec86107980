//! Currencies (`crm.currency.list`, `crm.currency.base.get`).

use super::crm_call;
use crate::registry::{Registry, Scope};
use bx_wire::Output;
use crm::{currency, Storage};

pub fn register(r: &mut Registry) {
    r.add("crm.currency.list", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, p| {
            Box::pin(async move {
                let all = tx.currency_list(ctx.actor.portal_id).await?;
                currency::list(all, ctx, p)
            })
        }))
    });
    r.add("crm.currency.base.get", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, _| {
            Box::pin(async move {
                let all = tx.currency_list(ctx.actor.portal_id).await?;
                Ok(Output::from(currency::base(&all, ctx)))
            })
        }))
    });
}
