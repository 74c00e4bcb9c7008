#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
pub mod admin;
pub mod config;
pub mod engine;
pub mod error;
pub mod flow;
pub mod identity;
pub mod layer;
pub mod provider;
pub mod session;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "ui")]
pub mod ui;
mod util;
mod web;

#[doc(hidden)]
#[path = "bench_api.rs"]
pub mod __bench;

#[cfg(feature = "actix")]
pub use adapters::actix;
#[cfg(feature = "axum")]
pub use adapters::axum;
#[cfg(feature = "warp")]
pub use adapters::warp;
pub use adapters::{AdminUser, CurrentUser};
pub use config::{ProviderSettings, Providers, Secret};
pub use engine::OidcEngine;
pub use error::{Error, ErrorCode};
pub use layer::{OidcLayer, OidcLayerBuilder, OidcService};
pub use session::Auth;
pub use store::{MemoryStore, User};
