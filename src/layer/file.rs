//! The builder's `providers.toml` file: loaded at build, reloaded on demand or watched.
//!
//! Why a builder option rather than a `Providers::watch(path)`: [`Providers`] is a plain value
//! of the configuration module, with no runtime and no registry to swap; what a reload
//! replaces is the running layer's registry. An axum or tower app configures its layer on the
//! builder, so the path is given once there, loaded at build with the same errors a restart
//! would give, and the handle to reload it comes from the built layer.

use std::path::PathBuf;
use std::sync::Arc;

use super::{BuildError, OidcLayerBuilder};
use crate::config::Providers;
use crate::provider::{ProvidersFile, Registry};

/// The builder's file settings.
#[derive(Debug, Default)]
pub(super) struct FileOptions {
    path: Option<PathBuf>,
    watch: bool,
}

impl OidcLayerBuilder {
    /// Loads the providers and `[settings.<id>]` seeds of a `providers.toml` at build, on top of
    /// the [`providers`](Self::providers) given (default: the built-in ones). A file with
    /// errors fails the build with [`BuildError::Config`], every error at its
    /// `file:line:column`. The built layer can then reload the file without a restart:
    /// [`OidcLayer::providers_file`](crate::OidcLayer::providers_file) answers its
    /// [`ProvidersFile`], whose [`reload_now`](ProvidersFile::reload_now) applies a changed
    /// file; [`watch_providers`](Self::watch_providers) does so by itself.
    ///
    /// ```
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("providers.toml");
    /// std::fs::write(&path, "[providers.authentik]\nsort_order = 1\n")?;
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .providers_file(&path)
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()?;
    /// assert_eq!(layer.providers_file().unwrap().path(), path);
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn providers_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file.path = Some(path.into());
        self
    }

    /// Whether the layer watches its [`providers_file`](Self::providers_file) (default
    /// `false`): once a second it looks at the file's modification time and length, reads the
    /// file when they changed, and applies it as
    /// [`ProvidersFile::reload_now`] does — a valid file replaces the providers for new
    /// sign-ins, an invalid one is logged (WARN, `file:line:column`) and the providers in force
    /// stay. The polling task runs on the tokio runtime the layer is built in
    /// ([`BuildError::NoRuntime`] outside one) and ends when the layer is dropped. Without a
    /// providers file the build fails with [`BuildError::WatchWithoutFile`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("providers.toml");
    /// std::fs::write(&path, "")?;
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .providers_file(&path)
    ///     .watch_providers(true)
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub fn watch_providers(mut self, on: bool) -> Self {
        self.file.watch = on;
        self
    }
}

/// The providers to build with, and the file they came from (still to be handed its
/// registry with [`LoadedFile::attach`]).
pub(super) fn load(
    opts: &FileOptions,
    base: Option<Providers>,
) -> Result<(Providers, Option<LoadedFile>), BuildError> {
    let base = base.unwrap_or_else(Providers::builtin);
    let Some(path) = &opts.path else {
        if opts.watch {
            return Err(BuildError::WatchWithoutFile);
        }
        return Ok((base, None));
    };
    let loaded = ProvidersFile::load(&base, path).map_err(BuildError::Config)?;
    let providers = loaded.providers.clone();
    Ok((
        providers,
        Some(LoadedFile {
            path: path.clone(),
            watch: opts.watch,
            base,
            loaded,
        }),
    ))
}

/// A file loaded at build.
pub(super) struct LoadedFile {
    path: PathBuf,
    watch: bool,
    base: Providers,
    loaded: crate::provider::Loaded,
}

impl LoadedFile {
    /// The handle of the file for `registry` (polled when watched); `seeds` are the settings
    /// given in code, seeded again after every reload.
    pub(super) fn attach(
        self,
        seeds: Vec<(String, crate::config::ProviderSettings)>,
        registry: &Arc<Registry>,
    ) -> Result<ProvidersFile, BuildError> {
        let file = ProvidersFile::new(self.path, self.base, seeds, registry.clone(), self.loaded);
        if self.watch && !file.poll(crate::provider::POLL_INTERVAL) {
            return Err(BuildError::NoRuntime);
        }
        Ok(file)
    }
}
