//! The [`OidcLayer`] builder.

use std::sync::Arc;
use std::time::Duration;

use super::OidcLayer;
use super::key::cookie_key;
use crate::admin::AdminApi;
use crate::config::{ProviderSettings, Providers};
use crate::engine::OidcEngine;
use crate::flow::{Flow, FlowTiming};
use crate::provider::{CachePolicy, EndpointPolicy, HttpLimits, Registry};
use crate::session::{
    DEFAULT_PREFIX, FreshUsers, Responses, Sealer, SessionCookie, SessionTiming, Sessions,
    TokenKeeper,
};
use crate::store::{MemoryStore, SessionCache, SessionStore, SettingsStore, UserStore};
use crate::util::Clock;

// The trust settings, with the builder methods that set them (a child module: it sets the
// builder's fields).
#[path = "trust.rs"]
mod trust;
// The stores and the session cache in front of them, with their builder methods.
#[path = "stores.rs"]
mod stores;
// The providers file, loaded at build and reloaded or watched, with its builder methods.
#[path = "file.rs"]
mod file;
// Why a build fails.
#[path = "build_error.rs"]
mod build_error;
pub use build_error::BuildError;
// The login, error and admin pages' templates and language, with their builder methods.
#[cfg(feature = "ui")]
#[path = "pages.rs"]
mod pages;
// The app's key for `private_key_jwt`, with its builder method.
#[path = "client_key.rs"]
mod client_key;

/// Builds an [`OidcLayer`]. Only [`OidcLayerBuilder::base_url`] is required; stores default to
/// memory, providers to the built-in registry.
pub struct OidcLayerBuilder {
    providers: Option<Providers>,
    file: file::FileOptions,
    settings: Option<Arc<dyn SettingsStore>>,
    users: Option<Arc<dyn UserStore>>,
    sessions: Option<Arc<dyn SessionStore>>,
    session_cache: SessionCache,
    base_url: Option<String>,
    prefix: String,
    key: Option<Vec<u8>>,
    timing: FlowTiming,
    limits: HttpLimits,
    endpoint_policy: EndpointPolicy,
    tls_trust: trust::Trusts,
    cache: CachePolicy,
    error_page: Option<String>,
    after_logout: String,
    keep_one_sign_in_method: bool,
    user_revalidation: Duration,
    /// Settings given with [`OidcLayerBuilder::provider`], in call order.
    seeds: Vec<(String, ProviderSettings)>,
    ephemeral_keys: bool,
    session_timing: Option<SessionTiming>,
    clock: Clock,
    refresh_tokens: bool,
    #[cfg(feature = "ui")]
    pages: pages::PageOptions,
    client_key: Option<Arc<crate::flow::ClientKey>>,
}

impl Default for OidcLayerBuilder {
    fn default() -> Self {
        OidcLayerBuilder {
            providers: None,
            file: Default::default(),
            settings: None,
            users: None,
            sessions: None,
            session_cache: SessionCache::default(),
            base_url: None,
            prefix: DEFAULT_PREFIX.into(),
            key: None,
            timing: FlowTiming::default(),
            limits: HttpLimits::default(),
            endpoint_policy: EndpointPolicy::default(),
            tls_trust: Default::default(),
            cache: CachePolicy::default(),
            error_page: None,
            after_logout: "/".into(),
            keep_one_sign_in_method: false,
            user_revalidation: Duration::from_secs(60),
            seeds: Vec::new(),
            ephemeral_keys: false,
            session_timing: None,
            clock: Clock::system(),
            refresh_tokens: true,
            #[cfg(feature = "ui")]
            pages: Default::default(),
            client_key: None,
        }
    }
}

impl std::fmt::Debug for OidcLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLayerBuilder")
            .field("base_url", &self.base_url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl OidcLayerBuilder {
    /// The provider specs (default: [`Providers::builtin`]); a
    /// [`providers_file`](Self::providers_file) is loaded on top of them.
    pub fn providers(mut self, p: Providers) -> Self {
        self.providers = Some(p);
        self
    }
    /// Enables and configures provider `id` from code: what an admin would enter (instance URL,
    /// client ID and secret). These settings apply until the settings store holds settings of
    /// its own for `id` (the admin page's), exactly like a `[settings.<id>]` table of a
    /// `providers.toml`; a later call for the same `id` replaces an earlier one. An `id` the
    /// registry does not define fails [`OidcLayerBuilder::build`] with
    /// [`BuildError::UnknownProvider`].
    ///
    /// ```
    /// use tower_oidc::{OidcLayer, ProviderSettings, Secret};
    ///
    /// let layer = OidcLayer::builder()
    ///     .provider("authentik", ProviderSettings {
    ///         enabled: true,
    ///         url: Some("https://auth.example.com".into()),
    ///         client_id: Some("my-client-id".into()),
    ///         client_secret: Some(Secret::new("my-client-secret")),
    ///         ..ProviderSettings::default()
    ///     })
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(layer.engine().login_url(), "/api/auth/login");
    /// ```
    pub fn provider(mut self, id: impl Into<String>, settings: ProviderSettings) -> Self {
        self.seeds.push((id.into(), settings));
        self
    }
    /// The app's public base URL, e.g. `https://app.example.com` (required): an origin, without
    /// a path. Redirect URIs are built from it, never from request headers. `https`, or `http`
    /// on a loopback host; cookies are `Secure` and `__Host-` on https. An app mounted under a
    /// path (`https://example.com/app`) keeps the origin here and puts the path in
    /// [`prefix`](Self::prefix): `.prefix("/app/api/auth")`, with the app served under `/app`
    /// as the browser sees it (a proxy must not strip the path) and
    /// [`after_logout`](Self::after_logout) pointing inside it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// The route prefix (default `/api/auth`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// The cookie key: at least 64 bytes (the first 32 sign the session cookie, the last 32
    /// encrypt login transactions; they must differ), the same on every instance. Make one
    /// with `openssl rand -base64 64` (and decode it), or
    /// [`cookie::Key::generate`](https://docs.rs/cookie/latest/cookie/struct.Key.html#method.generate)
    /// once, and keep it with the app's secrets. Required unless the base URL is on a loopback
    /// host or [`OidcLayerBuilder::ephemeral_keys`] is called.
    pub fn cookie_key(mut self, key: &[u8]) -> Self {
        self.key = Some(key.to_vec());
        self
    }
    /// Accepts a random cookie key when none is set, on any base URL: sessions and pending
    /// sign-ins then die with the process and do not span instances. For demos and tests;
    /// without this call a missing key is a [`BuildError::MissingKey`] outside loopback
    /// development (`http://127.0.0.1:…`, `http://localhost:…`), where a random key is made
    /// with a warning.
    pub fn ephemeral_keys(mut self) -> Self {
        self.ephemeral_keys = true;
        self
    }
    /// Timing rules.
    pub fn timing(mut self, t: FlowTiming) -> Self {
        self.timing = t;
        self
    }
    /// Limits on identity-provider calls.
    pub fn http_limits(mut self, l: HttpLimits) -> Self {
        self.limits = l;
        self
    }
    /// Which addresses identity-provider endpoints are refused at (default
    /// [`EndpointPolicy::DenyLinkLocal`]: link-local and cloud metadata addresses; use
    /// [`EndpointPolicy::Strict`] when every provider is on the public internet). Applies to
    /// the discovery URL, the endpoints a discovery document advertises and those of the
    /// spec's templates, as IP literals and as the addresses host names resolve to. A refused
    /// endpoint fails the sign-in with `provider_misconfigured`.
    pub fn endpoint_policy(mut self, p: EndpointPolicy) -> Self {
        self.endpoint_policy = p;
        self
    }
    /// Discovery and JWKS cache policy.
    pub fn cache_policy(mut self, c: CachePolicy) -> Self {
        self.cache = c;
        self
    }
    /// Where browsers are sent on an error, with `?error=<code>` (default:
    /// `{prefix}/login` with feature `ui`, else `{prefix}/error`).
    pub fn error_page(mut self, path: impl Into<String>) -> Self {
        self.error_page = Some(path.into());
        self
    }
    /// Where browsers go after signing out (default `/`).
    pub fn after_logout(mut self, path: impl Into<String>) -> Self {
        self.after_logout = path.into();
        self
    }

    /// How old the user a signed-in request sees may be (default 60 s): each instance re-reads
    /// a session's user from the [`UserStore`] at least this often, so a user the app demotes
    /// loses admin rights, and a user it deletes loses the session, within this bound. `ZERO`
    /// reads the store on every signed-in request.
    pub fn user_revalidation(mut self, max_age: Duration) -> Self {
        self.user_revalidation = max_age;
        self
    }

    /// Session lifetimes (idle and absolute, how often activity renews them) and when access
    /// tokens are refreshed. Default [`SessionTiming::default`], with `idle` taken from
    /// [`FlowTiming::session_ttl`] when only that was set.
    pub fn session_timing(mut self, timing: SessionTiming) -> Self {
        self.session_timing = Some(timing);
        self
    }

    /// Whether sign-ins ask for refresh tokens (default `true`): each provider's
    /// `refresh_scope` in `providers.toml` (`offline_access` for Authentik) is requested besides
    /// its scopes. Off, sessions keep the access token of the sign-in until it expires.
    pub fn refresh_tokens(mut self, on: bool) -> Self {
        self.refresh_tokens = on;
        self
    }

    /// The clock sessions and tokens expire by (default the system clock). Tests pass a
    /// [`Clock::manual`] to let tokens and sessions expire without waiting.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether the admin API refuses to disable or delete the last enabled provider (default
    /// `false`). Turn it on when the providers are the app's only way to sign in, so that an
    /// admin cannot lock everybody out; leave it off when the app has another one (passwords).
    pub fn keep_one_sign_in_method(mut self, on: bool) -> Self {
        self.keep_one_sign_in_method = on;
        self
    }

    /// Builds the layer. Nothing here waits on the network or a store (providers are
    /// discovered on first use, stores are opened by their own constructors), so building is
    /// synchronous; every check of the configuration happens here, before the first request.
    pub fn build(self) -> Result<OidcLayer, BuildError> {
        let base = self.base_url.ok_or(BuildError::MissingBaseUrl)?;
        let parsed = super::key::public_base(&base)?;
        let base_url = base.trim().trim_end_matches('/').to_owned();
        let secure = parsed.scheme() == "https";
        let prefix = self.prefix;
        if !prefix.starts_with('/')
            || prefix.ends_with('/')
            || prefix.contains("//")
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
        {
            return Err(BuildError::BadPrefix(prefix));
        }
        let key = cookie_key(self.key, self.ephemeral_keys, &parsed)?;
        let t = self.timing;
        if t.transaction_ttl.is_zero() || t.transaction_ttl > Duration::from_secs(3600) {
            return Err(BuildError::BadTiming(
                "transaction TTL must be between 1 s and 1 h".into(),
            ));
        }
        if t.clock_skew > Duration::from_secs(300) {
            return Err(BuildError::BadTiming(
                "clock skew must be at most 5 min".into(),
            ));
        }
        if t.session_ttl.is_zero() {
            return Err(BuildError::BadTiming("session TTL must be positive".into()));
        }
        let (mut providers, loaded) = file::load(&self.file, self.providers)?;
        for (id, settings) in &self.seeds {
            if providers.get(id).is_none() {
                return Err(BuildError::UnknownProvider(id.clone()));
            }
            providers.seed(id.clone(), settings.clone());
        }
        crate::provider::warn_seeded_without_tenants(&providers);
        let memory = MemoryStore::new();
        let settings = self
            .settings
            .unwrap_or_else(|| Arc::new(memory.clone()) as Arc<dyn SettingsStore>);
        let users = self
            .users
            .unwrap_or_else(|| Arc::new(memory.clone()) as Arc<dyn UserStore>);
        let sessions = self
            .sessions
            .unwrap_or_else(|| Arc::new(memory) as Arc<dyn SessionStore>);
        let (settings, users, sessions) = crate::store::observed(settings, users, sessions);
        let sessions = crate::store::cached(sessions, &self.session_cache);
        crate::observe::describe();
        let http = self
            .tls_trust
            .client(self.limits, self.endpoint_policy, &providers)?;
        let error_page = self.error_page.unwrap_or_else(|| {
            if cfg!(feature = "ui") {
                format!("{prefix}/login")
            } else {
                format!("{prefix}/error")
            }
        });
        let bearer = providers.iter().any(|s| s.bearer.is_some());
        let registry = Arc::new(Registry::new(
            providers,
            settings,
            http,
            self.cache,
            t.transaction_ttl + t.clock_skew,
        ));
        let flow = Arc::new(Flow {
            registry: registry.clone(),
            transactions: sessions.clone(),
            key: key.clone(),
            base_url: base_url.clone(),
            tx_cookie: crate::flow::tx_cookie(secure, &prefix, t.transaction_ttl),
            prefix: prefix.clone(),
            timing: t,
            refresh_tokens: self.refresh_tokens,
            introspection: Default::default(),
            client_key: self.client_key,
        });
        let st = self.session_timing.unwrap_or(SessionTiming {
            idle: t.session_ttl,
            ..SessionTiming::default()
        });
        if st.idle.is_zero() || st.absolute.is_zero() {
            return Err(BuildError::BadTiming(
                "session lifetimes must be positive".into(),
            ));
        }
        if st.renew_step < Duration::from_secs(1) || st.refresh_lease < Duration::from_secs(1) {
            // A zero step would write the store on every request; a lease under a second
            // lapses while its holder is still refreshing.
            return Err(BuildError::BadTiming(
                "the renew step and the refresh lease must be at least 1 s".into(),
            ));
        }
        let providers_file = match loaded {
            Some(f) => Some(f.attach(self.seeds, &registry)?),
            None => None,
        };
        #[cfg(feature = "ui")]
        let pages = Arc::new(self.pages.compile()?);
        let fresh = Arc::new(FreshUsers::new(users.clone(), self.user_revalidation));
        let keeper = Arc::new(TokenKeeper {
            store: sessions.clone(),
            flow: flow.clone(),
            users: users.clone(),
            fresh: fresh.clone(),
            sealer: Sealer::new(&key),
            clock: self.clock.clone(),
            timing: st,
        });
        Ok(OidcLayer {
            engine: Arc::new(OidcEngine {
                registry: registry.clone(),
                flow,
                sessions: Sessions {
                    store: sessions,
                    cookie: SessionCookie::new(secure),
                    key,
                    users: fresh,
                    keeper,
                    timing: st,
                    clock: self.clock,
                },
                users: users.clone(),
                responses: Arc::new(if bearer {
                    Responses::new(&prefix, error_page).with_bearer_realm(&base_url)
                } else {
                    Responses::new(&prefix, error_page)
                }),
                after_logout: self.after_logout,
                admin: AdminApi {
                    registry,
                    users,
                    base_url,
                    prefix,
                    keep_one_sign_in_method: self.keep_one_sign_in_method,
                    write_lock: tokio::sync::Mutex::new(()),
                },
                ready_cache: Default::default(),
                providers_file,
                #[cfg(feature = "ui")]
                pages,
            }),
        })
    }
}
