//! Opaque bearer tokens checked at the provider's token introspection endpoint (RFC 7662), with
//! the client's authentication; and the short, bounded cache of verified bearer tokens (JWTs
//! and introspection answers alike).
//!
//! One provider introspects: the first (by id) enabled provider whose `[providers.<id>.bearer]`
//! sets `introspection = true`. An opaque token says nothing of its issuer, and sending it to
//! every provider in turn would hand one provider's tokens to another.
//!
//! The cache: a verified token (a JWT that passed every check, or an `active` introspection
//! answer) is kept for [`INTROSPECTION_TTL`], never past the token's `exp`, keyed by the SHA-256
//! of the token (the token itself is not kept); at most [`INTROSPECTION_CACHE_MAX`] entries
//! (when full, expired entries are dropped, and if none were, all). Refused tokens are not
//! cached: a revoked opaque token is refused at once, at the cost of a request to the provider
//! per refused token. A provider turned off or a key removed stops a cached token within the
//! TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Flow;
use super::bearer::{BearerError, VerifiedBearer, invalid};
use super::token::Client;
use crate::error::{Error, ErrorCode};
use crate::provider::http::{Call, Endpoint};
use crate::util::unix_now;

/// How long a verified bearer token (a JWT, or an active introspection answer) is reused.
pub const INTROSPECTION_TTL: Duration = Duration::from_secs(30);
/// Most verified bearer tokens cached.
pub const INTROSPECTION_CACHE_MAX: usize = 10_000;

/// A cached answer and the instant it lapses.
type Entry = (Arc<VerifiedBearer>, Instant);

/// Verified bearer tokens by SHA-256 of the token.
#[derive(Default)]
pub(crate) struct IntrospectionCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl std::fmt::Debug for IntrospectionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionCache").finish_non_exhaustive()
    }
}

pub(super) fn key_of(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

impl IntrospectionCache {
    pub(super) fn get(&self, key: &[u8; 32], now: Instant) -> Option<Arc<VerifiedBearer>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((v, until)) if *until > now => Some(v.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(super) fn put(&self, key: [u8; 32], v: Arc<VerifiedBearer>, until: Instant, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= INTROSPECTION_CACHE_MAX {
            entries.retain(|_, (_, u)| *u > now);
            if entries.len() >= INTROSPECTION_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(key, (v, until));
    }

    /// How many answers are cached (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Until when an answer for a token expiring at `exp` (Unix seconds) may be reused: the TTL,
/// cut at `exp`. `None`: not at all.
pub(super) fn cache_until(now: Instant, now_unix: u64, exp: Option<u64>) -> Option<Instant> {
    let ttl = match exp {
        Some(exp) if exp <= now_unix => return None,
        Some(exp) => INTROSPECTION_TTL.min(Duration::from_secs(exp - now_unix)),
        None => INTROSPECTION_TTL,
    };
    Some(now + ttl)
}

impl Flow {
    /// An opaque bearer token, checked at the introspecting provider.
    pub(super) async fn introspect_bearer(
        &self,
        token: &str,
    ) -> Result<VerifiedBearer, BearerError> {
        let providers = self.registry.providers();
        let mut st = None;
        for spec in providers
            .iter()
            .filter(|s| s.bearer.as_ref().is_some_and(|b| b.introspection))
        {
            if let Ok(s) = self.registry.enabled(&spec.id).await {
                st = Some(s);
                break;
            }
        }
        let Some(st) = st else {
            return Err(invalid(
                "the token is malformed",
                "not a JWT, and no enabled provider introspects opaque tokens",
            ));
        };
        let active = self
            .registry
            .active(&st)
            .await
            .map_err(BearerError::Failed)?;
        let provider = active.resolved.spec.id.clone();
        let misconf = |d: String| {
            BearerError::Failed(Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}`: {d}"),
            ))
        };
        let Some(url) = active.introspection.as_deref() else {
            return Err(misconf(
                "no introspection endpoint (set `introspection_endpoint`)".into(),
            ));
        };
        if active.resolved.multi_tenant().is_some() {
            return Err(misconf(
                "a multi-tenant provider's bearer tokens are not accepted".into(),
            ));
        }
        let Some(issuer) = active.resolved.endpoints.issuer.clone() else {
            return Err(misconf(
                "the issuer is not known yet (set the full issuer URL or the slug)".into(),
            ));
        };
        let client = Client::signed(&provider, &active, self.client_key.as_deref())
            .map_err(BearerError::Failed)?;
        let mut form = vec![("token", token), ("token_type_hint", "access_token")];
        let basic = client.authenticate(&mut form);
        let resp = self
            .registry
            .http
            .post_form(
                Call::of(&provider, Endpoint::Introspection),
                url,
                &form,
                basic,
            )
            .await
            .map_err(BearerError::Failed)?;
        if resp.status != 200 {
            let code = if resp.status >= 500 {
                ErrorCode::ProviderUnreachable
            } else {
                ErrorCode::ProviderMisconfigured
            };
            return Err(BearerError::Failed(Error::new(
                code,
                format!(
                    "provider `{provider}`: introspection endpoint answered HTTP {}",
                    resp.status
                ),
            )));
        }
        let answer: serde_json::Map<String, Value> = serde_json::from_slice(&resp.body)
            .map_err(|_| misconf("the introspection answer is not a JSON object".into()))?;
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(invalid(
                "the token is not active",
                format!("provider `{provider}`: introspection answered `active: false`"),
            ));
        }
        if let Some(iss) = answer.get("iss")
            && iss.as_str() != Some(issuer.as_str())
        {
            return Err(invalid(
                "the token's issuer is not accepted here",
                format!("provider `{provider}`: the introspection answer names another issuer"),
            ));
        }
        if answer.get("token_type").and_then(Value::as_str) == Some("refresh_token") {
            return Err(invalid(
                "the token is not an access token",
                format!("provider `{provider}`: introspection says it is a refresh token"),
            ));
        }
        let now_unix = unix_now();
        let exp = answer
            .get("exp")
            .and_then(Value::as_i64)
            .map(|e| u64::try_from(e).unwrap_or(0));
        if exp.is_some_and(|e| e <= now_unix) {
            return Err(invalid(
                "the token has expired",
                format!("provider `{provider}`: the introspection answer's `exp` has passed"),
            ));
        }
        if answer.contains_key("aud") {
            let bearer = active.resolved.spec.bearer.clone().unwrap_or_default();
            let auds: Vec<&str> = match answer.get("aud") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let client_id = active.resolved.client_id.as_str();
            if !auds
                .iter()
                .any(|a| *a == client_id || bearer.audiences.iter().any(|x| x == a))
            {
                return Err(invalid(
                    "the token is not meant for this application",
                    format!(
                        "provider `{provider}`: the introspection answer's `aud` is not accepted"
                    ),
                ));
            }
        }
        self.verified_bearer(&st, &active.resolved, issuer, &Value::Object(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_answers_are_never_kept_past_the_token_expiry() {
        let now = Instant::now();
        assert_eq!(cache_until(now, 1000, None), Some(now + INTROSPECTION_TTL));
        assert_eq!(
            cache_until(now, 1000, Some(1005)),
            Some(now + Duration::from_secs(5))
        );
        assert_eq!(
            cache_until(now, 1000, Some(1_000_000)),
            Some(now + INTROSPECTION_TTL)
        );
        assert_eq!(cache_until(now, 1000, Some(1000)), None);
        assert_eq!(cache_until(now, 1000, Some(10)), None);
    }

    #[test]
    fn introspection_cache_is_bounded() {
        let cache = IntrospectionCache::default();
        let v = Arc::new(VerifiedBearer {
            provider: "p".into(),
            identity: crate::store::Identity {
                provider: "p".into(),
                issuer: "https://i/".into(),
                subject: "s".into(),
            },
            profile: crate::identity::Profile::default(),
            email_trust: crate::config::EmailTrust::Never,
            auto_register: false,
            admin_rules: crate::config::AdminRules::default(),
            expires_at: None,
        });
        let now = Instant::now();
        let later = now + INTROSPECTION_TTL;
        for i in 0..INTROSPECTION_CACHE_MAX + 5 {
            cache.put(key_of(&i.to_string()), v.clone(), later, now);
            assert!(cache.len() <= INTROSPECTION_CACHE_MAX);
        }
        assert!(cache.get(&key_of("3"), now).is_none(), "cleared when full");
        let last = (INTROSPECTION_CACHE_MAX + 4).to_string();
        assert!(cache.get(&key_of(&last), now).is_some());
        // A lapsed entry is not served.
        assert!(cache.get(&key_of(&last), later).is_none());
    }
}
