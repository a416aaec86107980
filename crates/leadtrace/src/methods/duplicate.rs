//! `crm.duplicate.findbycomm`: leads, contacts and companies with a given phone or e-mail.

use super::crm_call;
use crate::registry::{Registry, Scope};
use crm::duplicate;

pub fn register(r: &mut Registry) {
    r.add("crm.duplicate.findbycomm", Scope::Crm, |call| {
        Box::pin(crm_call(call, false, |tx, ctx, p| {
            Box::pin(duplicate::find_by_comm(tx, ctx, p))
        }))
    });
}
