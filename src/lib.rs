#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// On docs.rs every feature is on, and each feature-gated item says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod adapters;
pub mod admin;
pub mod config;
pub mod engine;
pub mod error;
pub mod flow;
pub mod identity;
pub mod layer;
pub mod observe;
pub mod provider;
pub mod session;
pub mod store;
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
#[cfg(feature = "testing")]
pub mod testing;
#[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
#[cfg(feature = "ui")]
pub mod ui;
mod util;
pub use util::Clock;
mod web;

#[doc(hidden)]
#[path = "bench_api.rs"]
pub mod __bench;

// The framework modules `actix`, `axum` and `warp` (each behind its feature, as declared in
// `adapters`), `CurrentUser` and `AdminUser`.
pub use adapters::*;
pub use config::{ProviderSettings, Providers, Secret};
pub use engine::OidcEngine;
pub use error::{Error, ErrorCode};
pub use layer::{OidcLayer, OidcLayerBuilder, OidcService};
pub use provider::TlsTrust;
pub use session::Auth;
pub use store::{MemoryStore, User};
