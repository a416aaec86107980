//! What every request can reach: the store, the method registry and the server settings.

use crate::config::ServeConfig;
use crate::limits::{Clock, Limits};
use crate::registry::Registry;
use std::sync::Arc;
use store::Store;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub registry: Registry,
    pub config: ServeConfig,
    pub limits: Limits,
}

impl AppState {
    pub fn new(store: Store, config: ServeConfig) -> Self {
        let limits = Limits::new(config.limits.clone(), config.clock.clone());
        AppState(Arc::new(Inner {
            store,
            registry: crate::methods::registry(),
            config,
            limits,
        }))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn registry(&self) -> &Registry {
        &self.0.registry
    }

    pub fn config(&self) -> &ServeConfig {
        &self.0.config
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.0.config.clock
    }
}
