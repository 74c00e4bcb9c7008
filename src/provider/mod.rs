//! Runnable providers: a spec plus its settings, endpoint resolution, and the discovery and JWKS
//! caches.

mod active;
mod address;
mod backoff;
mod buttons;
mod call;
mod discovery;
mod fastkey;
mod horizon;
pub(crate) mod http;
mod jwks;
mod reload;
mod resolve;
mod trust;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use backoff::Backoff;

pub(crate) use active::Active;

pub use address::{EndpointPolicy, RefusedAddress};
pub use buttons::ProviderButton;
pub use discovery::Discovery;
pub(crate) use fastkey::KeySet;
pub(crate) use horizon::Horizon;
pub use http::HttpLimits;
pub use jwks::CachePolicy;
pub(crate) use jwks::parse_jwks;
pub(crate) use resolve::warn_seeded_without_tenants;
pub use resolve::{Endpoints, ResolvedProvider, default_discovery};
pub use trust::TlsTrust;
pub(crate) use watch::{Loaded, POLL_INTERVAL};
pub use watch::{ProvidersFile, Reload};

use openidconnect::core::CoreJwsSigningAlgorithm;

use crate::config::{ProviderSettings, Providers};
use crate::error::{Error, ErrorCode};
use crate::store::SettingsStore;
use http::IdpClient;

/// Per-provider state, rebuilt whenever the provider's settings change (a changed setting takes
/// effect at the next sign-in, with fresh caches).
pub(crate) struct ProviderState {
    pub settings: ProviderSettings,
    pub resolved: Arc<ResolvedProvider>,
    /// The spec's fingerprint, carried by the login transactions started with this state.
    pub fingerprint: String,
    /// For an instance-URL-only Authentik: the provider with the variables (slug) learned from
    /// the first verified ID token applied.
    learned: RwLock<Option<Arc<ResolvedProvider>>>,
    /// The last [`Active`] built, with what it was built from (see [`Registry::active`]).
    active: Mutex<Option<active::Memo>>,
    discovery: tokio::sync::Mutex<Option<(Arc<Discovery>, Instant, String)>>,
    discovery_failures: Mutex<Backoff>,
    jwks: Mutex<HashMap<String, Arc<jwks::JwksCache>>>,
}

/// The provider registry: specs, settings, and per-provider caches.
///
/// The specs (and the settings seeded with them) can be replaced while the registry serves
/// ([`Registry::replace`], for a reloaded `providers.toml`): readers take a snapshot with
/// [`Registry::providers`].
pub(crate) struct Registry {
    providers: RwLock<Arc<Providers>>,
    pub settings: Arc<dyn SettingsStore>,
    pub http: IdpClient,
    pub policy: CachePolicy,
    /// Lock order: `states`, then `providers`, then `retired`.
    states: Mutex<HashMap<String, Arc<ProviderState>>>,
    /// States whose spec a reload replaced, kept for the sign-ins they started.
    retired: Mutex<Vec<reload::Retired>>,
    /// How long a retired state is kept: the longest a sign-in may take.
    retain: Duration,
}

/// Maps a discovery/spec algorithm name to the pinned allow-list.
fn parse_alg(s: &str) -> Option<CoreJwsSigningAlgorithm> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// The algorithms to accept: the spec's if it pins them, else the discovery document's, else
/// RS256. `none` is never accepted, and when a provider lists both HMAC and asymmetric
/// algorithms only the asymmetric ones are kept, so a token can never choose HMAC keyed by a
/// public key (RFC 8725 §3.1).
pub(crate) fn pinned_algs(
    spec_algs: Option<&[String]>,
    discovered: Option<&[String]>,
) -> Vec<CoreJwsSigningAlgorithm> {
    let names: Vec<String> = match (spec_algs, discovered) {
        (Some(a), _) => a.to_vec(),
        (None, Some(d)) if !d.is_empty() => d.to_vec(),
        _ => vec!["RS256".to_owned()],
    };
    let mut algs: Vec<CoreJwsSigningAlgorithm> = names
        .iter()
        .filter(|n| !n.eq_ignore_ascii_case("none"))
        .filter_map(|n| parse_alg(n))
        .collect();
    let asym = algs.iter().any(|a| !is_hmac(a));
    if asym {
        algs.retain(|a| !is_hmac(a));
    }
    algs
}

pub(crate) fn is_hmac(a: &CoreJwsSigningAlgorithm) -> bool {
    matches!(
        a,
        CoreJwsSigningAlgorithm::HmacSha256
            | CoreJwsSigningAlgorithm::HmacSha384
            | CoreJwsSigningAlgorithm::HmacSha512
    )
}

impl Registry {
    /// A registry of `providers`; a sign-in may take up to `retain` (a replaced spec is kept
    /// that long for the sign-ins it started).
    pub fn new(
        providers: Providers,
        settings: Arc<dyn SettingsStore>,
        http: IdpClient,
        policy: CachePolicy,
        retain: Duration,
    ) -> Self {
        Registry {
            providers: RwLock::new(Arc::new(providers)),
            settings,
            http,
            policy,
            states: Mutex::new(HashMap::new()),
            retired: Mutex::new(Vec::new()),
            retain,
        }
    }

    /// The providers now in force (a snapshot: a reload does not change it).
    pub fn providers(&self) -> Arc<Providers> {
        self.providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The effective settings of a provider: the store's, else the TOML seed, else defaults
    /// (disabled).
    pub async fn settings_of(&self, id: &str) -> Result<ProviderSettings, Error> {
        if let Some(s) = self.settings.get(id).await? {
            return Ok(s);
        }
        Ok(self
            .providers()
            .seeded_settings()
            .get(id)
            .cloned()
            .unwrap_or_default())
    }

    /// Every provider with its effective settings, in spec id order.
    pub async fn all(&self) -> Result<Vec<(crate::config::ProviderSpec, ProviderSettings)>, Error> {
        let stored: HashMap<String, ProviderSettings> =
            self.settings.list().await?.into_iter().collect();
        let providers = self.providers();
        Ok(providers
            .iter()
            .map(|spec| {
                let s = stored
                    .get(&spec.id)
                    .cloned()
                    .or_else(|| providers.seeded_settings().get(&spec.id).cloned())
                    .unwrap_or_default();
                (spec.clone(), s)
            })
            .collect())
    }

    /// The state of an enabled provider (unknown → `provider_unknown`, disabled →
    /// `provider_disabled`, unusable settings → `provider_misconfigured`).
    pub async fn enabled(&self, id: &str) -> Result<Arc<ProviderState>, Error> {
        let unknown = || Error::new(ErrorCode::ProviderUnknown, "no provider with that id");
        if self.providers().get(id).is_none() {
            return Err(unknown());
        }
        let settings = self.settings_of(id).await?;
        if !settings.enabled {
            return Err(Error::new(
                ErrorCode::ProviderDisabled,
                format!("provider `{id}` is not enabled"),
            ));
        }
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        // Read under the states' lock, which a reload holds while it swaps the providers: a
        // state is never built from a spec that a reload has already replaced.
        let providers = self.providers();
        let spec = providers.get(id).ok_or_else(unknown)?;
        if let Some(st) = states.get(id) {
            if *st.resolved.spec == *spec {
                if st.settings == settings {
                    return Ok(st.clone());
                }
                tracing::info!(provider = id, "provider settings changed; caches dropped");
            } else {
                self.retire(st.clone());
            }
        }
        let resolved = ResolvedProvider::resolve(spec, &settings)?;
        resolved.warn_if_no_tenant_allowed();
        self.http.horizons.set(id, horizon_of(&settings, &resolved));
        let st = Arc::new(ProviderState {
            fingerprint: reload::fingerprint(spec),
            settings,
            resolved: Arc::new(resolved),
            learned: RwLock::new(None),
            active: Mutex::new(None),
            discovery: tokio::sync::Mutex::new(None),
            discovery_failures: Mutex::new(Backoff::default()),
            jwks: Mutex::new(HashMap::new()),
        });
        states.insert(id.to_owned(), st.clone());
        Ok(st)
    }

    /// `id` as a metric label: a configured provider's id, or `unknown` (ids in request paths
    /// are untrusted input, and a label must not take any value a request chooses).
    pub fn label<'a>(&self, id: &'a str) -> &'a str {
        match self.providers().get(id) {
            Some(_) => id,
            None => "unknown",
        }
    }

    /// Drops the caches of one provider (or all).
    pub fn invalidate(&self, id: Option<&str>) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match id {
            Some(id) => {
                states.remove(id);
            }
            None => states.clear(),
        }
    }

    async fn discovery(
        &self,
        st: &ProviderState,
        url: &str,
        issuer: &str,
    ) -> Result<Arc<Discovery>, Error> {
        let mut slot = st.discovery.lock().await;
        let cached = slot
            .as_ref()
            .filter(|(_, _, for_url)| for_url == url)
            .map(|(d, at, _)| (d.clone(), at.elapsed() < self.policy.ttl));
        if let Some((d, true)) = &cached {
            crate::observe::cache("discovery", true);
            return Ok(d.clone());
        }
        crate::observe::cache("discovery", false);
        fn failures(st: &ProviderState) -> std::sync::MutexGuard<'_, Backoff> {
            st.discovery_failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        }
        // A recent failure: answer at once (with the expired copy if there is one) rather than
        // make every queued sign-in wait for the provider's timeout again.
        if let Err(e) = failures(st).check(Instant::now()) {
            return cached.map(|(d, _)| d).ok_or(e);
        }
        match Discovery::fetch(&self.http, &st.resolved.spec.id, url, issuer).await {
            Ok(d) => {
                failures(st).succeeded();
                let d = Arc::new(d);
                *slot = Some((d.clone(), Instant::now(), url.to_owned()));
                Ok(d)
            }
            Err(e) => {
                failures(st).failed(
                    &e,
                    Instant::now(),
                    self.policy.failure_backoff,
                    self.policy.failure_backoff_max,
                );
                match cached {
                    Some((d, _)) => {
                        tracing::warn!(provider = %st.resolved.spec.id, error = %e, "discovery refresh failed; using the cached document");
                        Ok(d)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// The key set of `jwks_url` fetched again after a token without a usable `kid` failed to
    /// verify: `Some` only when the provider now serves other keys (rate-limited).
    pub async fn refetched_keys(&self, st: &ProviderState, jwks_url: &str) -> Option<Arc<KeySet>> {
        let cache = st
            .jwks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(jwks_url)
            .cloned()?;
        cache
            .refetched(&self.http, &st.resolved.spec.id, self.policy)
            .await
    }

    /// The key set of `jwks_url`, for a token whose header names `kid`.
    pub async fn keys(
        &self,
        st: &ProviderState,
        jwks_url: &str,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, Error> {
        let cache = {
            let mut map = st.jwks.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(jwks_url.to_owned())
                .or_insert_with(|| Arc::new(jwks::JwksCache::new(jwks_url.to_owned())))
                .clone()
        };
        cache
            .keys(&self.http, &st.resolved.spec.id, kid, self.policy)
            .await
    }

    /// The JWKS URL for an issuer: the discovery document's (fetched and checked for this exact
    /// issuer), falling back to the spec's template.
    pub async fn jwks_url_for(
        &self,
        st: &ProviderState,
        resolved: &ResolvedProvider,
    ) -> Result<String, Error> {
        let id = &resolved.spec.id;
        if let (Some(issuer), Some(url)) =
            (&resolved.endpoints.issuer, &resolved.endpoints.discovery)
        {
            let d = self.discovery(st, url, issuer).await?;
            if let Some(j) = &d.jwks_uri {
                return Ok(j.clone());
            }
        }
        resolved.endpoints.jwks.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{id}`: no JWKS URI"),
            )
        })
    }

    /// Pinned algorithms for a resolved provider (after discovery of its issuer).
    pub async fn algs_for(
        &self,
        st: &ProviderState,
        resolved: &ResolvedProvider,
    ) -> Result<Vec<CoreJwsSigningAlgorithm>, Error> {
        let discovered = match (&resolved.endpoints.issuer, &resolved.endpoints.discovery) {
            (Some(issuer), Some(url)) => Some(self.discovery(st, url, issuer).await?),
            _ => None,
        };
        Ok(pinned_algs(
            resolved.spec.signing_algs.as_deref(),
            discovered
                .as_deref()
                .map(|d| d.id_token_signing_alg_values_supported.as_slice()),
        ))
    }
}

/// The split horizon of a provider's settings: its public URL (the settings' `url`, or the
/// spec's default) and `internal_url`.
pub(crate) fn horizon_of(
    settings: &ProviderSettings,
    resolved: &ResolvedProvider,
) -> Option<horizon::Horizon> {
    let internal = settings.internal_url.as_deref()?;
    horizon::Horizon::of(resolved.url.as_deref()?, internal)
}

impl ProviderState {
    /// The resolved provider, with learned variables applied.
    pub fn current(&self) -> Arc<ResolvedProvider> {
        let learned = self.learned.read().unwrap_or_else(|p| p.into_inner());
        match learned.as_ref() {
            Some(resolved) => resolved.clone(),
            None => self.resolved.clone(),
        }
    }

    /// Remembers the issuer variables learned from a verified ID token.
    ///
    /// Why learning the issuer is safe: the admin entered only the instance URL, so Authentik's
    /// global token endpoint (on that URL, over TLS in production) is the only source of the ID
    /// token, and it answered our client credentials and PKCE verifier. We accept its `iss` only
    /// if it has exactly the issuer template's shape under the configured URL (so no other host,
    /// path prefix, or reserved name), then discover *that* issuer (whose document must name
    /// the same issuer byte for byte), and verify the token's signature, audience (our client
    /// id), nonce and times against that issuer's keys — the full check a configured issuer
    /// gets. Once learned, the issuer is fixed for this provider until its settings change, so
    /// a later token naming another application is rejected as an issuer mismatch.
    pub fn learn(&self, vars: BTreeMap<String, String>) {
        let mut learned = self.learned.write().unwrap_or_else(|p| p.into_inner());
        if learned.is_none() {
            tracing::info!(provider = %self.resolved.spec.id, "learned the application issuer from a verified ID token");
            *learned = Some(Arc::new(self.resolved.with_learned(&vars)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_pinned_and_never_none_or_mixed() {
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pinned_algs(None, None),
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
        assert_eq!(
            pinned_algs(None, Some(&d(&["HS256"]))),
            vec![CoreJwsSigningAlgorithm::HmacSha256]
        );
        assert_eq!(
            pinned_algs(None, Some(&d(&["RS256", "HS256", "none"]))),
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
        assert!(pinned_algs(None, Some(&d(&["none"]))).is_empty());
        assert_eq!(
            pinned_algs(Some(&d(&["ES256"])), Some(&d(&["RS256"]))),
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]
        );
    }
}
