//! Every REST method the server answers, by family. A method not registered here answers
//! `ERROR_METHOD_NOT_FOUND`, like any unknown method.

pub mod app;
pub mod batch;
pub mod binding;
pub mod card;
pub mod category;
pub mod currency;
pub mod duplicate;
pub mod entity;
pub mod enums;
pub mod event;
pub mod item;
pub mod item_product_row;
pub mod multifield;
pub mod product_row;
pub mod settings;
pub mod status;
pub mod system;
pub mod tracking;
pub mod user;
pub mod userfield;

use crate::registry::{Call, Registry};
use bx_wire::{ApiError, Output, Params};
use crm::Ctx;
use futures::future::BoxFuture;
use store::{Store, Tx};

pub fn registry() -> Registry {
    let mut r = Registry::default();
    app::register(&mut r);
    batch::register(&mut r);
    system::register(&mut r);
    user::register(&mut r);
    status::register(&mut r);
    enums::register(&mut r);
    multifield::register(&mut r);
    currency::register(&mut r);
    duplicate::register(&mut r);
    category::register(&mut r);
    settings::register(&mut r);
    for kind in crm::EntityKind::ALL {
        entity::register(&mut r, kind);
    }
    binding::register(&mut r);
    product_row::register(&mut r);
    item::register(&mut r);
    item_product_row::register(&mut r);
    // Card layouts light up for every entity type that has a field table (quotes have none).
    for kind in crm::EntityKind::ALL {
        if crm::card::has_card(kind) {
            card::register(&mut r, kind);
        }
    }
    userfield::register(&mut r);
    event::register(&mut r);
    tracking::register(&mut r);
    r
}

/// Runs one `crm` domain function for a call: the caller's context, its parameters, one
/// transaction (a write transaction when `write`).
pub async fn crm_call<F>(call: Call, write: bool, f: F) -> Result<Output, ApiError>
where
    F: for<'a> FnOnce(
            &'a mut Tx,
            &'a Ctx<'a>,
            &'a Params,
        ) -> BoxFuture<'a, Result<Output, ApiError>>
        + Send
        + 'static,
{
    let actor = call.caller.actor();
    let settings = call.caller.settings();
    let params = call.params;
    let now = chrono::Utc::now().timestamp();
    in_tx(call.state.store(), write, move |tx| {
        Box::pin(async move {
            let ctx = Ctx {
                actor: &actor,
                settings: &settings,
                now,
            };
            f(tx, &ctx, &params).await
        })
    })
    .await
}

/// Runs `f` in one transaction: a write transaction (committed before answering) or a read.
pub async fn in_tx<T, F>(store: &Store, write: bool, f: F) -> Result<T, ApiError>
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    if write {
        store.write(f).await
    } else {
        store.read(f).await
    }
}
