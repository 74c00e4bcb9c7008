//! The `providers.toml` DSL: parsing, validation with line/column errors, `${ENV}` interpolation,
//! and the built-in registry (`providers.toml` at the crate root, embedded).
//!
//! Two layers are kept apart on purpose:
//! 1. **Provider specs** (`[providers.<id>]`): the technical facts about a kind of identity
//!    provider (endpoints, claims, client authentication). Official ones are built in.
//! 2. **Provider settings** (`[settings.<id>]`): what an admin enters (enabled, URL, client id and
//!    secret…). At run time they live in a settings store (`SettingsStore`); a TOML file can seed
//!    them, with secrets as `"${ENV_VAR}"`.
//!
//! ```
//! use tower_oidc::config::Providers;
//! let providers = Providers::builtin()
//!     .with_toml_str("providers.toml", r#"
//!         [providers.authentik]
//!         sort_order = 1
//!
//!         [settings.authentik]
//!         enabled = true
//!         url = "https://auth.example.com"
//!         client_id = "app"
//!     "#)
//!     .unwrap();
//! assert_eq!(providers.get("authentik").unwrap().sort_order, 1);
//! assert!(providers.seeded_settings()["authentik"].enabled);
//! ```

mod claims;
mod error;
mod interpolate;
mod load;
mod raw;
mod read;
mod registry;
mod resolve;
mod rules;
#[cfg(feature = "schema")]
mod schema;
mod settings;
mod spec;
mod syntax;
mod template;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub(crate) use load::read_capped;
pub use registry::{ENV_SEEDABLE_FIELDS, Origin, Providers, SeedSource};
pub use rules::{
    MAX_ALLOWED_TENANTS, MAX_SORT_ORDER, MIN_SORT_ORDER, SettingsError, check_internal_url,
    check_scopes, check_settings_url, is_valid_slug, is_valid_tenant, settings_errors,
};
#[cfg(feature = "schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
pub use schema::{json_schema, json_schema_string};
pub use settings::{AdminRules, ProviderSettings, Secret};
pub use spec::{
    AssertionAud, Bearer, ClaimMap, ClaimPath, ClaimRule, ClaimSource, ClaimTemplate, EmailTrust,
    Fetch, MultiTenant, PathSegment, Pkce, Protocol, ProviderSpec, ResponseMode, TokenAuth,
};
pub use template::{Template, TemplateError};
pub use validate::{check_url, is_loopback, is_valid_provider_id};

/// The built-in registry, embedded from the crate's `providers.toml`.
pub const BUILTIN_PROVIDERS_TOML: &str = include_str!("../../providers.toml");

/// The name under which the built-in registry appears in errors and in
/// [`Providers::sources`].
pub const BUILTIN_SOURCE: &str = "<built-in providers.toml>";

/// Largest configuration file accepted (a config is a few KiB; this bounds a mistake).
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

#[cfg(test)]
mod tests;
