//! The method table: lower-cased method name -> handler and scope, built once at start. Direct
//! calls and batch commands both go through `invoke`, so they behave the same.

use crate::auth::Caller;
use crate::state::AppState;
use bx_wire::envelope::{unix_now, Time};
use bx_wire::{ApiError, Output, Params};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Everything a handler gets: the server, the authenticated caller and the decoded parameters.
pub struct Call {
    pub state: AppState,
    pub caller: Arc<Caller>,
    pub params: Params,
}

pub type Handler = Arc<dyn Fn(Call) -> BoxFuture<'static, Result<Output, ApiError>> + Send + Sync>;

/// Permission groups of methods, as Bitrix24 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Always granted (batch, scope, methods, server.time, profile, ...).
    Basic,
    Crm,
    /// `user`, `user_brief` or `user_basic`.
    User,
}

impl Scope {
    pub fn granted(self, scopes: &[String]) -> bool {
        let has = |s: &str| scopes.iter().any(|g| g.eq_ignore_ascii_case(s));
        match self {
            Scope::Basic => true,
            Scope::Crm => has("crm"),
            Scope::User => has("user") || has("user_brief") || has("user_basic"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Basic => "basic",
            Scope::Crm => "crm",
            Scope::User => "user",
        }
    }
}

pub struct Method {
    pub name: String,
    pub scope: Scope,
    /// False for methods Bitrix24 refuses inside `batch` (`batch` itself).
    pub batchable: bool,
    pub handler: Handler,
}

#[derive(Default)]
pub struct Registry {
    methods: BTreeMap<String, Method>,
}

impl Registry {
    pub fn add<F>(&mut self, name: &str, scope: Scope, f: F)
    where
        F: Fn(Call) -> BoxFuture<'static, Result<Output, ApiError>> + Send + Sync + 'static,
    {
        self.insert(name, scope, true, Arc::new(f));
    }

    pub fn insert(&mut self, name: &str, scope: Scope, batchable: bool, handler: Handler) {
        let name = name.to_ascii_lowercase();
        self.methods.insert(
            name.clone(),
            Method {
                name,
                scope,
                batchable,
                handler,
            },
        );
    }

    /// Looks a method up by its name in any case.
    pub fn get(&self, name: &str) -> Option<&Method> {
        self.methods.get(&name.to_ascii_lowercase())
    }

    /// All methods, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Method> {
        self.methods.values()
    }
}

/// Runs one method for an authenticated caller, measures it and bills its operating time. A
/// method blocked by the operating limit is not run (429 `OPERATION_TIME_LIMIT`). A panic inside
/// the handler is answered as `INTERNAL_SERVER_ERROR`, never a dropped connection.
pub async fn invoke(
    state: &AppState,
    caller: &Arc<Caller>,
    method: &Method,
    params: Params,
) -> (Result<Output, ApiError>, Time) {
    let start = unix_now();
    if let Err(e) = state.limits().check(caller, &method.name).await {
        let time = Time {
            start,
            finish: start,
            processing: 0.0,
            operating: 0.0,
            operating_reset_at: start as i64 + 600,
        };
        return (Err(e), time);
    }
    let call = Call {
        state: state.clone(),
        caller: caller.clone(),
        params,
    };
    let outcome = match AssertUnwindSafe((method.handler)(call))
        .catch_unwind()
        .await
    {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(method = %method.name, "method panicked");
            Err(ApiError::Internal)
        }
    };
    let finish = unix_now();
    let operating = state
        .limits()
        .bill(caller, &method.name, finish - start)
        .await;
    let time = Time {
        start,
        finish,
        processing: finish - start,
        operating: operating.seconds,
        operating_reset_at: operating.reset_at,
    };
    (outcome, time)
}
