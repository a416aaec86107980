//! The portal's users: `user.current` (the caller) and `user.get` (filtered list); the record
//! shape, filter and paging are `crm::user`'s.

use super::in_tx;
use crate::registry::{Registry, Scope};
use crm::user::{self, PortalUser};

pub fn register(r: &mut Registry) {
    r.add("user.current", Scope::User, |call| {
        Box::pin(async move {
            let me = portal_user(&call.caller.user);
            Ok(user::format(&me, &call.caller.settings(), true).into())
        })
    });
    r.add("user.get", Scope::User, |call| {
        Box::pin(async move {
            let portal_id = call.caller.portal.id;
            let users = in_tx(call.state.store(), false, move |tx| {
                Box::pin(async move { tx.users(portal_id).await })
            })
            .await?;
            let users: Vec<PortalUser> = users.iter().map(portal_user).collect();
            let now = chrono::Utc::now().timestamp();
            user::list(
                &users,
                call.caller.user.id,
                &call.caller.settings(),
                now,
                &call.params,
            )
        })
    });
}

fn portal_user(u: &store::User) -> PortalUser {
    PortalUser {
        id: u.id,
        name: u.name.clone(),
        last_name: u.last_name.clone(),
        email: u.email.clone(),
        active: u.active,
        date_register: u.date_register,
        last_login: u.last_login,
    }
}
