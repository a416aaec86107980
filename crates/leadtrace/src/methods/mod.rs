//! Every REST method the server answers, by family. A method not registered here answers
//! `ERROR_METHOD_NOT_FOUND`, like any unknown method.

pub mod batch;
pub mod entity;
pub mod status;
pub mod system;
pub mod tracking;

use crate::registry::Registry;
use bx_wire::ApiError;
use futures::future::BoxFuture;
use store::{Store, Tx};

pub fn registry() -> Registry {
    let mut r = Registry::default();
    batch::register(&mut r);
    system::register(&mut r);
    status::register(&mut r);
    entity::register(&mut r, crm::EntityKind::Lead);
    tracking::register(&mut r);
    r
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
