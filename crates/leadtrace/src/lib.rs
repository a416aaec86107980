//! The leadtrace server: configuration, CLI, the axum app, authentication, the method registry,
//! thin method handlers, batch, event delivery, TLS and the `/dashboard` page. Business rules live
//! in `crm`; storage in `store`.

pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod delivery;
pub mod expense_cli;
pub mod limits;
pub mod methods;
pub mod oauth;
pub mod registry;
pub mod rest;
pub mod state;
pub mod tls;
pub mod tracker;

pub use config::ServeConfig;
pub use state::AppState;
