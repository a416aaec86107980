//! Card layouts (`crm.<entity>.details.configuration.get/set/reset/forceCommonScopeForAll`):
//! one set of handlers for every entity type with a card; `crm::card` does the work.

use super::crm_call;
use crate::registry::{Registry, Scope};
use crm::{card, EntityKind};

pub fn register(r: &mut Registry, kind: EntityKind) {
    let prefix = format!("crm.{}.details.configuration.", kind.method_name());
    r.add(&format!("{prefix}get"), Scope::Crm, move |call| {
        Box::pin(crm_call(call, false, move |tx, ctx, p| {
            Box::pin(card::get(tx, ctx, kind, p))
        }))
    });
    r.add(&format!("{prefix}set"), Scope::Crm, move |call| {
        Box::pin(crm_call(call, true, move |tx, ctx, p| {
            Box::pin(card::set(tx, ctx, kind, p))
        }))
    });
    r.add(&format!("{prefix}reset"), Scope::Crm, move |call| {
        Box::pin(crm_call(call, true, move |tx, ctx, p| {
            Box::pin(card::reset(tx, ctx, kind, p))
        }))
    });
    r.add(
        &format!("{prefix}forceCommonScopeForAll"),
        Scope::Crm,
        move |call| {
            Box::pin(crm_call(call, true, move |tx, ctx, p| {
                Box::pin(card::force_common_scope_for_all(tx, ctx, kind, p))
            }))
        },
    );
}
