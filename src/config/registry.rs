//! [`Providers`]: the registry of provider specs and seeded settings, and where each came from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::error::{self, ConfigError, ConfigErrors};
use super::interpolate::env_lookup;
use super::load::{read_capped, too_large_message};
use super::raw::RawSpec;
use super::{
    BUILTIN_PROVIDERS_TOML, BUILTIN_SOURCE, MAX_CONFIG_BYTES, ProviderSettings, ProviderSpec,
};

/// Where a provider's definition came from (for error positions and the admin API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in registry.
    Builtin,
    /// A user file (its name).
    File(String),
}

/// Where the value of one seeded setting comes from (see [`Providers::seed_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedSource {
    /// Written literally in a `[settings.<id>]` table.
    File,
    /// Read from the environment: the table's value references a `"${VAR}"`.
    Environment,
}

/// The settings fields whose values may reference the environment, as
/// [`Providers::seed_source`] names them.
pub const ENV_SEEDABLE_FIELDS: [&str; 6] = [
    "url",
    "client_id",
    "client_secret",
    "icon",
    "slug",
    "params",
];

/// One provider as merged so far. No source text is kept (a file may hold a literal secret,
/// and this type is `Debug`): positions are resolved to line and column when the entry is made.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) raw: RawSpec,
    /// The file that last touched this provider, and where its `[providers.<id>]` key is there.
    pub(super) file: String,
    pub(super) key_pos: (usize, usize),
    pub(super) origin: Origin,
    /// Every source that defined or changed this provider, in load order.
    pub(super) sources: Vec<String>,
}

/// A set of provider specs (built-in and custom) and seeded settings.
///
/// `Debug` shows specs and settings, never a client secret (see [`Secret`](super::Secret)).
#[derive(Debug, Clone)]
pub struct Providers {
    pub(super) entries: BTreeMap<String, Entry>,
    pub(super) specs: BTreeMap<String, ProviderSpec>,
    pub(super) seeds: BTreeMap<String, ProviderSettings>,
    /// Per seeded provider, the fields whose value came (at least partly) from `${VAR}`.
    pub(super) seed_env: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Providers {
    /// No providers at all.
    ///
    /// ```
    /// assert!(tower_oidc::config::Providers::empty().is_empty());
    /// ```
    pub fn empty() -> Providers {
        Providers {
            entries: BTreeMap::new(),
            specs: BTreeMap::new(),
            seeds: BTreeMap::new(),
            seed_env: BTreeMap::new(),
        }
    }

    /// The official providers, built in.
    ///
    /// ```
    /// let p = tower_oidc::config::Providers::builtin();
    /// assert_eq!(p.get("authentik").unwrap().name, "Authentik");
    /// ```
    pub fn builtin() -> Providers {
        match Providers::empty().with_source(
            BUILTIN_SOURCE,
            BUILTIN_PROVIDERS_TOML,
            &env_lookup,
            true,
        ) {
            Ok(p) => p,
            Err(e) => {
                // Unreachable in a released crate: a unit test loads the built-in file.
                tracing::error!(error = %e, "the built-in providers.toml is invalid");
                Providers::empty()
            }
        }
    }

    /// The built-in providers with a user file on top.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Providers, ConfigErrors> {
        Providers::builtin().with_toml_file(path)
    }

    /// Adds (or overrides) providers and settings from a file.
    ///
    /// The file must be UTF-8 (a leading BOM is ignored) and at most [`MAX_CONFIG_BYTES`] long;
    /// it is never read past that limit. Errors are named after `path` as given.
    pub fn with_toml_file(self, path: impl AsRef<Path>) -> Result<Providers, ConfigErrors> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = read_capped(path).map_err(|e| ConfigErrors::unreadable(&name, &e))?;
        self.with_toml_bytes(&name, bytes)
    }

    /// [`Providers::with_toml_file`] for a file's bytes, already read (at most one byte past
    /// [`MAX_CONFIG_BYTES`]); `name` is used in errors.
    pub(crate) fn with_toml_bytes(
        self,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Providers, ConfigErrors> {
        let err = |line: usize, column: usize, message: String| {
            ConfigErrors(vec![ConfigError {
                file: name.to_owned(),
                line,
                column,
                path: String::new(),
                message,
            }])
        };
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(err(0, 0, too_large_message()));
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let bytes = e.as_bytes();
                let good = e.utf8_error().valid_up_to();
                let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
                let (line, column) = error::line_col(prefix, prefix.len());
                let (line, column) = if prefix.starts_with('\u{feff}') && line == 1 {
                    (line, column - 1)
                } else {
                    (line, column)
                };
                return Err(err(
                    line,
                    column,
                    format!(
                        "the file is not valid UTF-8 (byte 0x{:02x} at offset {good}); save it as UTF-8",
                        bytes.get(good).copied().unwrap_or(0)
                    ),
                ));
            }
        };
        self.with_toml_str(name, &text)
    }

    /// Adds (or overrides) providers and settings from TOML text; `name` is used in errors.
    pub fn with_toml_str(self, name: &str, text: &str) -> Result<Providers, ConfigErrors> {
        self.with_source(name, text, &env_lookup, false)
    }

    /// As [`Providers::with_toml_str`], resolving `${VAR}` with `env` instead of the process
    /// environment.
    ///
    /// ```
    /// use tower_oidc::config::Providers;
    /// let env = |name: &str| (name == "AUTHENTIK_CLIENT_SECRET").then(|| "s3cret".to_string());
    /// let p = Providers::builtin()
    ///     .with_toml_str_env("app.toml", r#"
    ///         [settings.authentik]
    ///         client_secret = "${AUTHENTIK_CLIENT_SECRET}"
    ///     "#, &env)
    ///     .unwrap();
    /// let s = &p.seeded_settings()["authentik"];
    /// assert_eq!(s.client_secret.as_ref().unwrap().expose(), "s3cret");
    /// ```
    pub fn with_toml_str_env(
        self,
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Providers, ConfigErrors> {
        self.with_source(name, text, env, false)
    }

    /// The spec of one provider.
    pub fn get(&self, id: &str) -> Option<&ProviderSpec> {
        self.specs.get(id)
    }

    /// Every spec, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ProviderSpec> {
        self.specs.values()
    }

    /// How many providers there are.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Where a provider was first defined (a built-in provider that a file overrides stays
    /// [`Origin::Builtin`]; [`Providers::sources`] lists every file that changed it).
    pub fn origin(&self, id: &str) -> Option<&Origin> {
        self.entries.get(id).map(|e| &e.origin)
    }

    /// Every source (the built-in registry's name or a file name) that defined or changed a
    /// provider, in load order: `["<built-in providers.toml>", "app.toml"]` for a built-in
    /// provider that `app.toml` overrides.
    ///
    /// ```
    /// use tower_oidc::config::Providers;
    /// let p = Providers::builtin()
    ///     .with_toml_str("app.toml", "[providers.authentik]\nsort_order = 1\n")
    ///     .unwrap();
    /// assert_eq!(p.sources("authentik").len(), 2);
    /// assert_eq!(p.sources("authentik")[1], "app.toml");
    /// ```
    pub fn sources(&self, id: &str) -> &[String] {
        self.entries
            .get(id)
            .map(|e| e.sources.as_slice())
            .unwrap_or_default()
    }

    /// Seeds provider `id` with `settings` given in code (`OidcLayerBuilder::provider`), as a
    /// `[settings.<id>]` table would; no field counts as coming from the environment.
    pub(crate) fn seed(&mut self, id: String, settings: ProviderSettings) {
        self.seed_env.remove(&id);
        self.seeds.insert(id, settings);
    }

    /// Settings seeded from `[settings.<id>]` tables.
    pub fn seeded_settings(&self) -> &BTreeMap<String, ProviderSettings> {
        &self.seeds
    }

    /// Where the seeded value of one settings `field` of provider `id` comes from:
    /// [`SeedSource::Environment`] when its `[settings.<id>]` table wrote it with a `"${VAR}"`
    /// reference (for `params`: any parameter did), [`SeedSource::File`] otherwise, and `None`
    /// when the provider has no seeded settings. Whether the field is set at all is in
    /// [`Providers::seeded_settings`]. The fields that can reference the environment are
    /// [`ENV_SEEDABLE_FIELDS`].
    ///
    /// ```
    /// use tower_oidc::config::{Providers, SeedSource};
    /// let env = |name: &str| (name == "AUTHENTIK_CLIENT_SECRET").then(|| "s3cret".to_string());
    /// let p = Providers::builtin()
    ///     .with_toml_str_env("app.toml", r#"
    ///         [settings.authentik]
    ///         url = "https://auth.example.com"
    ///         client_secret = "${AUTHENTIK_CLIENT_SECRET}"
    ///     "#, &env)
    ///     .unwrap();
    /// assert_eq!(p.seed_source("authentik", "client_secret"), Some(SeedSource::Environment));
    /// assert_eq!(p.seed_source("authentik", "url"), Some(SeedSource::File));
    /// assert_eq!(p.seed_source("nope", "url"), None);
    /// ```
    pub fn seed_source(&self, id: &str, field: &str) -> Option<SeedSource> {
        if !self.seeds.contains_key(id) {
            return None;
        }
        let from_env = self.seed_env.get(id).is_some_and(|f| f.contains(field));
        Some(if from_env {
            SeedSource::Environment
        } else {
            SeedSource::File
        })
    }
}
