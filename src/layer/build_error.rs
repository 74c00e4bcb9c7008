//! Why a layer could not be built: [`BuildError`].

/// Why a layer could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// No public base URL was set.
    #[error("the public base URL is not set (OidcLayerBuilder::base_url)")]
    MissingBaseUrl,
    /// The base URL is not an absolute https URL (or http on loopback).
    #[error("base URL: {0}")]
    BadBaseUrl(String),
    /// The route prefix is malformed.
    #[error(
        "route prefix `{0}` must start with `/`, not end with `/`, and hold only URL path characters"
    )]
    BadPrefix(String),
    /// The cookie key is too short, or its signing and encryption halves are equal.
    #[error("cookie key: {0}")]
    BadKey(String),
    /// A duration is out of bounds.
    #[error("timing: {0}")]
    BadTiming(String),
    /// The HTTP client could not be created.
    #[error("HTTP client: {0}")]
    Http(String),
    /// No cookie key was set and the base URL is not on a loopback host: a random key would
    /// sign everybody out at every restart and break sign-ins that cross instances.
    #[error(
        "no cookie key: set OidcLayerBuilder::cookie_key (64 random bytes, the same on every instance), or call OidcLayerBuilder::ephemeral_keys to accept a random key that dies with the process"
    )]
    MissingKey,
    /// [`crate::OidcLayerBuilder::provider`] named a provider the registry does not define.
    #[error(
        "provider `{0}` is not defined: name a built-in provider (e.g. `authentik`) or one of your providers.toml"
    )]
    UnknownProvider(String),
    /// The file of [`crate::OidcLayerBuilder::providers_file`] could not be read or has errors, each
    /// at its `file:line:column`.
    #[error("{0}")]
    Config(crate::config::ConfigErrors),
    /// [`crate::OidcLayerBuilder::watch_providers`] without [`crate::OidcLayerBuilder::providers_file`].
    #[error("watch_providers needs a file to watch: set OidcLayerBuilder::providers_file")]
    WatchWithoutFile,
    /// [`crate::OidcLayerBuilder::watch_providers`] outside a tokio runtime: the polling task needs
    /// one.
    #[error(
        "watch_providers polls the file on a tokio task: build the layer inside the tokio runtime (e.g. in #[tokio::main])"
    )]
    NoRuntime,
    /// A page template of [`crate::OidcLayerBuilder::page_templates`] could not be read, compiled, or
    /// rendered with sample data: the file, the line and what is wrong.
    #[cfg(feature = "ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    #[error("{0}")]
    Template(crate::ui::TemplateError),
    /// [`crate::OidcLayerBuilder::page_language`] named a language without a catalog.
    #[cfg(feature = "ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    #[error("page language `{0}` has no catalog (one of tower_oidc::ui::LANGUAGES)")]
    UnknownLanguage(String),
}
