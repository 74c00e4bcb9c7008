//! The JWKS cache: keys fetched once per lifetime, one re-fetch on an unknown `kid` (single
//! flight, rate-limited by a cooldown), and the stale set kept while the endpoint is down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::JsonWebKey as _;

use super::backoff::Backoff;
use super::fastkey::KeySet;

use super::http::{Call, Endpoint, IdpClient};
use crate::error::{Error, ErrorCode};

/// Cache timing.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// How long discovery documents and key sets are used before a refresh.
    pub ttl: Duration,
    /// Least time between two re-fetches of a key set caused by an unknown `kid` (or by a
    /// token without `kid` that no cached key verifies).
    pub refetch_cooldown: Duration,
    /// After a failed discovery or key-set fetch, how long sign-ins are answered at once (with
    /// the failure, or with the cached copy where there is one) before the next try; it doubles
    /// with each further failure up to [`CachePolicy::failure_backoff_max`].
    pub failure_backoff: Duration,
    /// Longest wait between two tries of a failing endpoint.
    pub failure_backoff_max: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            ttl: Duration::from_secs(3600),
            refetch_cooldown: Duration::from_secs(30),
            failure_backoff: Duration::from_secs(1),
            failure_backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_refetch: Option<Instant>,
    backoff: Backoff,
}

/// One provider's key set.
pub(crate) struct JwksCache {
    url: String,
    state: tokio::sync::Mutex<State>,
}

/// Parses a JWKS body. Authentik in HS256 mode serves `{}` (no `keys` member): an empty set.
/// Keys that cannot be parsed (unknown `kty`…) are skipped, as RFC 7517 §5 asks.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    if !obj.contains_key("keys") {
        return Ok(KeySet::new(Vec::new()));
    }
    serde_json::from_value(v).map_err(|e| format!("not a key set ({e})"))
}

/// Whether two key sets hold the same keys (compared as served, so kid-less keys count too).
fn same_keys(a: &KeySet, b: &KeySet) -> bool {
    match (serde_json::to_vec(a), serde_json::to_vec(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn has_kid(set: &KeySet, kid: &str) -> bool {
    set.keys()
        .iter()
        .any(|k| k.key_id().is_some_and(|id| id.as_str() == kid))
}

impl JwksCache {
    pub fn new(url: String) -> Self {
        JwksCache {
            url,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// The key set to verify a token whose header names `kid`.
    pub async fn keys(
        &self,
        http: &IdpClient,
        provider: &str,
        kid: Option<&str>,
        policy: CachePolicy,
    ) -> Result<Arc<KeySet>, Error> {
        // The async mutex makes fetches single-flight: concurrent callers wait for the one fetch
        // in progress and then use its result.
        let mut st = self.state.lock().await;
        let now = Instant::now();
        // A recent failure: no new fetch until the backoff ends; the stale set if there is one.
        if st.backoff.active(now) {
            crate::observe::cache("jwks", st.keys.is_some());
            return match &st.keys {
                Some(keys) => Ok(keys.clone()),
                None => st
                    .backoff
                    .check(now)
                    .map(|()| Arc::new(KeySet::new(Vec::new()))),
            };
        }
        let fresh = st
            .fetched_at
            .is_some_and(|t| now.duration_since(t) < policy.ttl);
        if let (Some(keys), true) = (&st.keys, fresh) {
            let known = kid.is_none_or(|k| has_kid(keys, k));
            let cooling = st
                .last_refetch
                .is_some_and(|t| now.duration_since(t) < policy.refetch_cooldown);
            if known || cooling {
                crate::observe::cache("jwks", true);
                return Ok(keys.clone());
            }
            tracing::info!(
                provider,
                "unknown signing key id; re-fetching the key set once"
            );
            st.last_refetch = Some(now);
        }
        crate::observe::cache("jwks", false);
        self.fetch_into(&mut st, http, provider, policy, now).await
    }

    /// After a token that names no `kid` failed to verify with the cached set: the set fetched
    /// again, when the cooldown allows and it changed (the provider rotated its key); `None`
    /// otherwise.
    pub async fn refetched(
        &self,
        http: &IdpClient,
        provider: &str,
        policy: CachePolicy,
    ) -> Option<Arc<KeySet>> {
        let mut st = self.state.lock().await;
        let now = Instant::now();
        let cooling = st
            .last_refetch
            .is_some_and(|t| now.duration_since(t) < policy.refetch_cooldown);
        if cooling || st.backoff.active(now) {
            return None;
        }
        st.last_refetch = Some(now);
        let before = st.keys.clone();
        tracing::info!(
            provider,
            "no cached key verifies the token; re-fetching the key set once"
        );
        let after = self
            .fetch_into(&mut st, http, provider, policy, now)
            .await
            .ok()?;
        match before {
            Some(b) if same_keys(&b, &after) => None,
            _ => Some(after),
        }
    }

    async fn fetch_into(
        &self,
        st: &mut State,
        http: &IdpClient,
        provider: &str,
        policy: CachePolicy,
        now: Instant,
    ) -> Result<Arc<KeySet>, Error> {
        match self.fetch(http, provider).await {
            Ok(set) => {
                let set = Arc::new(set);
                st.keys = Some(set.clone());
                st.fetched_at = Some(now);
                st.backoff.succeeded();
                Ok(set)
            }
            Err(e) => {
                st.backoff.failed(
                    &e,
                    Instant::now(),
                    policy.failure_backoff,
                    policy.failure_backoff_max,
                );
                match &st.keys {
                    // Stale-while-error: a key set we had is better than none while the endpoint is
                    // down; a rotated key still fails (no matching key), as it must.
                    Some(keys) => {
                        tracing::warn!(provider, error = %e, "JWKS refresh failed; using the cached key set");
                        Ok(keys.clone())
                    }
                    None => Err(e),
                }
            }
        }
    }

    async fn fetch(&self, http: &IdpClient, provider: &str) -> Result<KeySet, Error> {
        let resp = http
            .get(Call::of(provider, Endpoint::Jwks), &self.url, None)
            .await?;
        if resp.status >= 500 {
            return Err(Error::new(
                ErrorCode::ProviderUnreachable,
                format!(
                    "provider `{provider}`: JWKS at {} answered HTTP {}",
                    self.url, resp.status
                ),
            ));
        }
        if resp.status != 200 {
            return Err(Error::new(
                ErrorCode::ProviderMisconfigured,
                format!(
                    "provider `{provider}`: JWKS at {} answered HTTP {}",
                    self.url, resp.status
                ),
            ));
        }
        parse_jwks(&resp.body).map_err(|m| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}`: JWKS at {}: {m}", self.url),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_is_an_empty_set_and_junk_keys_are_skipped() {
        assert!(parse_jwks(b"{}").unwrap().keys().is_empty());
        let set = parse_jwks(
            br#"{"keys":[{"kty":"AKP","kid":"x","alg":"ML-DSA-44","pub":"AAAA"},
                {"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"sXch","e":"AQAB"}]}"#,
        )
        .unwrap();
        assert_eq!(set.keys().len(), 1);
        assert!(has_kid(&set, "k1"));
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"<html>").is_err());
    }
}
