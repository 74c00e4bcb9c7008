//! [`ProvidersFile`]: the `providers.toml` a layer was built from, reloaded while the layer
//! serves — on demand ([`ProvidersFile::reload_now`]) or by polling it
//! ([`OidcLayerBuilder::watch_providers`](crate::OidcLayerBuilder::watch_providers)).
//!
//! Polling looks at the file's modification time and length once a period, and reads it only
//! when they changed (or while the modification time is too recent to tell a later write in
//! the same clock tick apart); a read whose content hashes as the last one did is no change.
//! No file-system notification crate is needed, and it works the same on every platform and
//! with a Kubernetes ConfigMap's symbolic links (the file's metadata is read through them).

use std::hash::{DefaultHasher, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Registry;
use crate::config::{ConfigErrors, ProviderSettings, Providers, read_capped};

/// How often [`OidcLayerBuilder::watch_providers`](crate::OidcLayerBuilder::watch_providers)
/// looks at the file.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A modification time this close to the moment the file was read may hide a later write in
/// the same tick of a coarse file-system clock: such a file is read again at the next look.
const RACY: Duration = Duration::from_secs(2);

/// What a reload did (see [`ProvidersFile::reload_now`]).
///
/// ```
/// use tower_oidc::provider::Reload;
/// let r = Reload::Applied { changed: vec!["authentik".into()] };
/// assert!(matches!(r, Reload::Applied { ref changed } if changed[0] == "authentik"));
/// assert_ne!(r, Reload::Unchanged);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reload {
    /// The file is as it was at the last look (applied, or refused and logged then).
    Unchanged,
    /// The file changed and is valid: its providers are in force for every sign-in that starts
    /// from now on.
    Applied {
        /// The providers whose spec or seeded settings changed, were added or were removed, in
        /// id order (empty when only comments or formatting changed).
        changed: Vec<String>,
    },
}

/// The file's state at the last look.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Seen {
    /// Modification time and length.
    stat: Option<(Option<SystemTime>, u64)>,
    /// Whether `stat` is old enough to trust (see [`RACY`]).
    settled: bool,
    /// The hash of the content (or of the read error) last acted on.
    content: Option<u64>,
}

/// The outcome of one look at the file.
enum Look {
    Same(Seen),
    Valid(Box<Providers>, Seen),
    Refused(ConfigErrors, Seen),
}

struct Source {
    path: PathBuf,
    /// The providers the file is loaded on top of (`OidcLayerBuilder::providers`).
    base: Providers,
    /// The settings given in code (`OidcLayerBuilder::provider`), seeded after the file.
    seeds: Vec<(String, ProviderSettings)>,
}

struct Inner {
    source: Arc<Source>,
    registry: Arc<Registry>,
    /// Held through a look, so a poll and a `reload_now` never interleave.
    seen: tokio::sync::Mutex<Seen>,
}

/// The `providers.toml` a layer was built from
/// ([`OidcLayerBuilder::providers_file`](crate::OidcLayerBuilder::providers_file)); get it with
/// [`OidcLayer::providers_file`](crate::OidcLayer::providers_file).
///
/// A reload reads the file again on top of the same base providers (the built-in ones unless
/// [`OidcLayerBuilder::providers`](crate::OidcLayerBuilder::providers) gave others) and seeds
/// the settings given in code after it, as the build did. A valid file replaces the providers
/// and the settings seeded from its `[settings.<id>]` tables at once, for every sign-in that
/// starts after it; a sign-in in flight finishes with the spec it started with. Settings an
/// admin saved (the settings store's) always win over seeded ones, so a reload never changes
/// them. An invalid file is refused: each error is logged (`tracing`, WARN) with its
/// `file:line:column`, and the providers in force stay.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tower_oidc::OidcLayer;
/// use tower_oidc::provider::Reload;
///
/// let layer = OidcLayer::builder()
///     .providers_file("providers.toml")
///     .watch_providers(true)
///     .base_url("https://app.example.com")
///     .build()?;
/// // Polling picks up a change within a second; a deploy script (or a SIGHUP handler) can
/// // also ask at once:
/// if let Some(file) = layer.providers_file() {
///     match file.reload_now().await {
///         Ok(Reload::Applied { changed }) => println!("reloaded: {changed:?}"),
///         Ok(_) => println!("unchanged"),
///         Err(errors) => eprintln!("refused, the old providers stay:\n{errors}"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ProvidersFile {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProvidersFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvidersFile")
            .field("path", &self.inner.source.path)
            .finish_non_exhaustive()
    }
}

/// A file loaded at build, with what the first look must compare against.
pub(crate) struct Loaded {
    pub providers: Providers,
    seen: Seen,
}

impl ProvidersFile {
    /// Loads `path` on top of `base` (the build's first load; the settings given in code are
    /// seeded by the builder, which reports an unknown id its own way).
    pub(crate) fn load(base: &Providers, path: &Path) -> Result<Loaded, ConfigErrors> {
        match look(base, &[], path, &Seen::default()) {
            Look::Valid(providers, seen) => Ok(Loaded {
                providers: *providers,
                seen,
            }),
            Look::Refused(e, _) => Err(e),
            // Unreachable: nothing was seen before.
            Look::Same(_) => Err(ConfigErrors::unplaced(
                &path.display().to_string(),
                "not loaded".into(),
            )),
        }
    }

    /// The handle of a file loaded at build into `registry`.
    pub(crate) fn new(
        path: PathBuf,
        base: Providers,
        seeds: Vec<(String, ProviderSettings)>,
        registry: Arc<Registry>,
        loaded: Loaded,
    ) -> ProvidersFile {
        ProvidersFile {
            inner: Arc::new(Inner {
                source: Arc::new(Source { path, base, seeds }),
                registry,
                seen: tokio::sync::Mutex::new(loaded.seen),
            }),
        }
    }

    /// The file's path, as given to the builder.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .providers_file("providers.toml")
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()?;
    /// let file = layer.providers_file().unwrap();
    /// assert_eq!(file.path(), std::path::Path::new("providers.toml"));
    /// # Ok(()) }
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.source.path
    }

    /// Looks at the file now and applies it if it changed since the last look: `Ok` with what
    /// was done, or the file's errors (logged as well) when it is refused — then the providers
    /// in force stay. A file refused once is not reported again until it changes
    /// ([`Reload::Unchanged`]). Reading and parsing run on tokio's blocking pool.
    ///
    /// ```no_run
    /// # async fn run(layer: tower_oidc::OidcLayer) {
    /// if let Some(file) = layer.providers_file() {
    ///     if let Err(errors) = file.reload_now().await {
    ///         for e in errors.errors() {
    ///             eprintln!("{}:{}:{}: {}", e.file, e.line, e.column, e.message);
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn reload_now(&self) -> Result<Reload, ConfigErrors> {
        let mut seen = self.inner.seen.lock().await;
        let source = self.inner.source.clone();
        let before = seen.clone();
        let file = source.path.display().to_string();
        let looked = tokio::task::spawn_blocking(move || {
            look(&source.base, &source.seeds, &source.path, &before)
        })
        .await
        .map_err(|e| ConfigErrors::unplaced(&file, format!("the reload task failed: {e}")))?;
        // Logged here, on the runtime, rather than on the blocking pool's thread.
        match looked {
            Look::Same(now) => {
                *seen = now;
                Ok(Reload::Unchanged)
            }
            Look::Refused(errors, now) => {
                *seen = now;
                for e in errors.errors() {
                    tracing::warn!(file = %e.file, line = e.line, column = e.column, "{e}");
                }
                tracing::warn!(
                    file,
                    errors = errors.errors().len(),
                    "providers file refused; the providers loaded before stay in force"
                );
                Err(errors)
            }
            Look::Valid(providers, now) => {
                *seen = now;
                let changed = self.inner.registry.replace(*providers);
                tracing::info!(file, changed = ?changed, "providers file reloaded");
                Ok(Reload::Applied { changed })
            }
        }
    }

    /// Starts polling the file every `every` on the current tokio runtime; the task ends when
    /// the last handle to the file (the layer's engine holds one) is dropped. `false` outside
    /// a runtime.
    pub(crate) fn poll(&self, every: Duration) -> bool {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let weak = Arc::downgrade(&self.inner);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else {
                    break;
                };
                // Errors are logged by `reload_now`.
                let _ = ProvidersFile { inner }.reload_now().await;
            }
        });
        true
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// One look at the file at `path`, compared with what was `seen` before.
fn look(base: &Providers, seeds: &[(String, ProviderSettings)], path: &Path, seen: &Seen) -> Look {
    let name = path.display().to_string();
    let now = SystemTime::now();
    let stat = std::fs::metadata(path).map(|m| (m.modified().ok(), m.len()));
    if let Ok(stat) = &stat
        && seen.settled
        && seen.stat.as_ref() == Some(stat)
    {
        return Look::Same(seen.clone());
    }
    let read = stat.and_then(|stat| Ok((stat, read_capped(path)?)));
    let (stat, content, loaded) = match read {
        Ok((stat, bytes)) => {
            let content = hash(&bytes);
            if seen.content == Some(content) {
                (Some(stat), content, None)
            } else {
                (Some(stat), content, Some(load(base, seeds, &name, bytes)))
            }
        }
        Err(e) => {
            let content = hash(format!("{:?}", e.kind()).as_bytes());
            let loaded =
                (seen.content != Some(content)).then(|| Err(ConfigErrors::unreadable(&name, &e)));
            (None, content, loaded)
        }
    };
    let settled = stat
        .as_ref()
        .and_then(|(mtime, _)| *mtime)
        .and_then(|mtime| now.duration_since(mtime).ok())
        .is_some_and(|age| age > RACY);
    let seen = Seen {
        stat,
        settled,
        content: Some(content),
    };
    match loaded {
        None => Look::Same(seen),
        Some(Ok(p)) => Look::Valid(Box::new(p), seen),
        Some(Err(e)) => Look::Refused(e, seen),
    }
}

/// The file's content on top of `base`, then the settings given in code.
fn load(
    base: &Providers,
    seeds: &[(String, ProviderSettings)],
    name: &str,
    bytes: Vec<u8>,
) -> Result<Providers, ConfigErrors> {
    let mut providers = base.clone().with_toml_bytes(name, bytes)?;
    for (id, settings) in seeds {
        if providers.get(id).is_none() {
            return Err(ConfigErrors::unplaced(
                name,
                format!(
                    "provider `{id}` is configured in code (OidcLayerBuilder::provider) but no longer defined"
                ),
            ));
        }
        providers.seed(id.clone(), settings.clone());
    }
    Ok(providers)
}
