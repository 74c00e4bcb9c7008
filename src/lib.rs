#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod util;

pub use config::{Providers, ProviderSettings, Secret};
pub use error::{Error, ErrorCode};
