//! Bearer access tokens of API clients (RFC 6750), verified for a provider whose spec turns
//! `[providers.<id>.bearer]` on: a JWT access token against the provider's keys, an opaque one at
//! its introspection endpoint (`src/flow/introspect.rs`). It ends at a [`VerifiedBearer`] and,
//! like the callback, knows neither users nor sessions.
//!
//! A JWT access token is checked, in order: size and shape (as an ID token, [`peek`]); the
//! provider whose configured issuer is the token's `iss`, verbatim (an issuer is never learned
//! from a bearer token); the header `typ` (the spec's, or `JWT`/`at+jwt`/none); that it is not an
//! ID token (an `at+jwt` is an access token by RFC 9068; otherwise `at_hash`/`c_hash`/`s_hash`
//! mark an ID token, and an access token names what it grants: `scope`, `scp` or `client_id`);
//! `exp` (with the clock skew) and `nbf`; `aud` naming the client id or an allowed audience; then
//! `openidconnect`'s verifier for the signature with the algorithms pinned as for ID tokens
//! (`none` never, HMAC only when the provider signs with the client secret), the issuer and
//! `iat`; and `sub`. `azp` is not compared with our client id: an access token's `azp` is the
//! client that asked for it (an SPA, a CLI), not necessarily this app.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use openidconnect::core::{CoreIdToken, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{IssuerUrl, JsonWebKey, JsonWebKeySet};
use serde_json::Value;

use super::Flow;
use super::introspect::{cache_until, key_of};
use super::params::loggable;
use super::verify::{MAX_ID_TOKEN_BYTES, Peek, peek, unix, verifier_for};
use crate::config::{AdminRules, EmailTrust, Secret};
use crate::error::Error;
use crate::identity::Profile;
use crate::provider::{ProviderState, ResolvedProvider, is_hmac};
use crate::store::Identity;

/// A bearer token verified for a provider: who it says this is, and the provider's
/// account-linking policy as configured now.
#[derive(Clone)]
pub(crate) struct VerifiedBearer {
    /// The provider id.
    pub provider: String,
    /// The identity the user is found by: (provider, issuer, `sub`).
    pub identity: Identity,
    /// The profile mapped from the token's (or the introspection answer's) claims.
    pub profile: Profile,
    /// The provider's email trust.
    pub email_trust: EmailTrust,
    /// Whether unknown identities get an account.
    pub auto_register: bool,
    /// Who becomes an administrator.
    pub admin_rules: AdminRules,
    /// The token's `exp` (Unix seconds), when it has one.
    pub expires_at: Option<u64>,
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub(crate) enum BearerError {
    /// The token is not accepted: `401` with `error="invalid_token"`. `description` is the
    /// RFC 6750 `error_description` (fixed words, nothing of the token); `detail` is for the log.
    Invalid {
        description: &'static str,
        detail: String,
    },
    /// The token could not be checked (the provider unreachable, its configuration wrong).
    Failed(Error),
}

pub(crate) fn invalid(description: &'static str, detail: impl Into<String>) -> BearerError {
    BearerError::Invalid {
        description,
        detail: detail.into(),
    }
}

/// What a JWT access token must say.
pub(crate) struct AccessExpect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The client secret: the HMAC key when the provider signs with it.
    pub client_secret: Option<&'a Secret>,
    /// `aud` values accepted besides the client id.
    pub audiences: &'a [String],
    /// The `typ` the spec requires, if any.
    pub typ: Option<&'a str>,
    pub algs: &'a [CoreJwsSigningAlgorithm],
    pub now: SystemTime,
    pub skew: Duration,
}

/// A JOSE `typ` compared as RFC 7515 §4.1.9 says: case-insensitive, `application/` optional.
fn normal_typ(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    match t.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => t,
    }
}

/// The audiences of `aud` (a string or an array of strings).
fn audiences(payload: &Value) -> Vec<&str> {
    match payload.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Verifies a JWT access token that was [`peek`]ed; see the module documentation for the
/// checks. Returns its payload.
pub(crate) fn verify_access_token<K>(
    token: &str,
    (peeked, payload): (Peek, Value),
    keys: &JsonWebKeySet<K>,
    ex: &AccessExpect<'_>,
) -> Result<Value, BearerError>
where
    K: JsonWebKey<SigningAlgorithm = CoreJwsSigningAlgorithm, KeyUse = CoreJsonWebKeyUse>,
{
    let typ = peeked.typ.as_deref().map(normal_typ);
    match (ex.typ, typ.as_deref()) {
        (Some(want), got) if got != Some(normal_typ(want).as_str()) => {
            return Err(invalid(
                "the token is not an access token of this provider",
                format!("header `typ` is {got:?}, the provider's access tokens say `{want}`"),
            ));
        }
        (None, Some(t)) if !matches!(t, "jwt" | "at+jwt") => {
            return Err(invalid(
                "the token is not an access token",
                format!("header `typ` is `{}`", loggable(t)),
            ));
        }
        _ => {}
    }
    if typ.as_deref() != Some("at+jwt") {
        if let Some(c) = ["at_hash", "c_hash", "s_hash"]
            .into_iter()
            .find(|c| payload.get(*c).is_some())
        {
            return Err(invalid(
                "an ID token is not an access token",
                format!("the token carries `{c}`, a claim of ID tokens"),
            ));
        }
        if !["scope", "scp", "client_id"]
            .into_iter()
            .any(|c| payload.get(c).is_some())
        {
            return Err(invalid(
                "an ID token is not an access token",
                "the token names no `scope`, `scp` or `client_id`: an ID token, not an access token",
            ));
        }
    }
    let now = unix(ex.now);
    let skew = ex.skew.as_secs() as i64;
    match payload.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp + skew > now => {}
        Some(exp) => {
            return Err(invalid(
                "the token has expired",
                format!("expired {} s ago", now - exp),
            ));
        }
        None => return Err(invalid("the token has no expiry", "no numeric `exp`")),
    }
    if let Some(nbf) = payload.get("nbf") {
        match nbf.as_i64() {
            Some(nbf) if nbf <= now + skew => {}
            _ => return Err(invalid("the token is not valid yet", "`nbf` in the future")),
        }
    }
    let auds = audiences(&payload);
    if !auds
        .iter()
        .any(|a| *a == ex.client_id || ex.audiences.iter().any(|x| x == a))
    {
        return Err(invalid(
            "the token is not meant for this application",
            format!(
                "`aud` {:?} names neither the client id nor an allowed audience",
                auds.iter().map(|a| loggable(a)).collect::<Vec<_>>()
            ),
        ));
    }
    match payload.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == ex.issuer => {}
        _ => {
            return Err(invalid(
                "the token's issuer is not accepted here",
                "`iss` is not the provider's issuer",
            ));
        }
    }
    if ex.algs.is_empty() {
        return Err(invalid(
            "the token could not be verified",
            "no signing algorithm is allowed for this provider",
        ));
    }
    let parsed: CoreIdToken = serde_json::from_value(Value::String(token.to_owned()))
        .map_err(|e| invalid("the token is malformed", format!("({e})")))?;
    let issuer = IssuerUrl::new(ex.issuer.to_owned())
        .map_err(|e| invalid("the token could not be verified", format!("issuer ({e})")))?;
    // `azp` is the requesting client's; the verifier compares it with its client id.
    let azp = payload
        .get("azp")
        .and_then(Value::as_str)
        .unwrap_or(ex.client_id);
    let verifier = verifier_for(azp, ex.client_secret, issuer, keys);
    let shifted = ex.now.checked_sub(ex.skew).unwrap_or(ex.now);
    let verifier = verifier
        // The audience was checked against the allow-list above.
        .require_audience_match(false)
        .set_allowed_algs(ex.algs.to_vec())
        // `typ` was checked above (`at+jwt` is not among the verifier's defaults).
        .allow_all_jose_types()
        .set_time_fn(move || chrono::DateTime::<chrono::Utc>::from(shifted))
        .set_issue_time_verifier_fn(move |iat| {
            if iat.timestamp() > now + skew {
                Err("issued in the future".to_owned())
            } else {
                Ok(())
            }
        });
    parsed
        .claims(&verifier, |_: Option<&openidconnect::Nonce>| {
            Ok::<(), String>(())
        })
        .map_err(|e| invalid("the token could not be verified", format!("{e:?}")))?;
    match payload.get("sub").and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 255 => Ok(payload),
        _ => Err(invalid(
            "the token names no user",
            "`sub` is missing, empty or longer than 255 characters",
        )),
    }
}

impl Flow {
    /// Whether any provider's spec accepts bearer tokens (a snapshot of the specs in force).
    pub(crate) fn bearer_enabled(&self) -> bool {
        self.registry.providers().iter().any(|s| s.bearer.is_some())
    }

    /// Verifies a bearer token: a JWT for the provider whose issuer it names, an opaque token
    /// at the introspection endpoint of the provider that turns introspection on; a verified
    /// token is cached (see `src/flow/introspect.rs`: 30 s, never past `exp`, bounded).
    pub(crate) async fn verify_bearer(&self, token: &str) -> Result<VerifiedBearer, BearerError> {
        if token.len() > MAX_ID_TOKEN_BYTES {
            return Err(invalid("the token is too large", "over the size limit"));
        }
        let key = key_of(token);
        if let Some(v) = self.introspection.get(&key, Instant::now()) {
            crate::observe::cache("bearer", true);
            return Ok((*v).clone());
        }
        crate::observe::cache("bearer", false);
        let v = if token.split('.').count() == 3 {
            self.verify_jwt_bearer(token).await?
        } else {
            self.introspect_bearer(token).await?
        };
        let now = Instant::now();
        if let Some(until) = cache_until(now, crate::util::unix_now(), v.expires_at) {
            self.introspection.put(key, Arc::new(v.clone()), until, now);
        }
        Ok(v)
    }

    async fn verify_jwt_bearer(&self, token: &str) -> Result<VerifiedBearer, BearerError> {
        let peeked =
            peek(token).map_err(|e| invalid("the token is malformed", e.detail().to_owned()))?;
        let iss = peeked.0.iss.clone().unwrap_or_default();
        let Some((st, resolved)) = self.bearer_provider_of(&iss).await else {
            return Err(invalid(
                "the token's issuer is not accepted here",
                format!(
                    "no enabled provider accepting bearer tokens has issuer `{}`",
                    loggable(&iss)
                ),
            ));
        };
        let provider = resolved.spec.id.clone();
        let bearer = resolved.spec.bearer.clone().unwrap_or_default();
        let failed = BearerError::Failed;
        let algs = self
            .registry
            .algs_for(&st, &resolved)
            .await
            .map_err(failed)?;
        let hmac = !algs.is_empty() && algs.iter().all(is_hmac);
        let keys = if hmac {
            Arc::new(crate::provider::KeySet::new(Vec::new()))
        } else {
            let url = self
                .registry
                .jwks_url_for(&st, &resolved)
                .await
                .map_err(failed)?;
            self.registry
                .keys(&st, &url, peeked.0.kid.as_deref())
                .await
                .map_err(failed)?
        };
        let expect = AccessExpect {
            issuer: &iss,
            client_id: &resolved.client_id,
            client_secret: resolved.client_secret.as_ref(),
            audiences: &bearer.audiences,
            typ: bearer.typ.as_deref(),
            algs: &algs,
            now: self.now(),
            skew: self.timing.clock_skew,
        };
        let claims = verify_access_token(token, peeked, &keys, &expect).map_err(|e| match e {
            BearerError::Invalid {
                description,
                detail,
            } => invalid(description, format!("provider `{provider}`: {detail}")),
            other => other,
        })?;
        self.verified_bearer(&st, &resolved, iss, &claims)
    }

    /// The enabled provider accepting bearer tokens whose configured issuer is `iss`.
    pub(super) async fn bearer_provider_of(
        &self,
        iss: &str,
    ) -> Option<(Arc<ProviderState>, Arc<ResolvedProvider>)> {
        let providers = self.registry.providers();
        for spec in providers.iter().filter(|s| s.bearer.is_some()) {
            let Ok(st) = self.registry.enabled(&spec.id).await else {
                continue;
            };
            let resolved = st.current();
            // A multi-tenant provider's issuer is a template, never a token's: its bearer
            // tokens are not accepted.
            if resolved.multi_tenant().is_none()
                && resolved.endpoints.issuer.as_deref() == Some(iss)
            {
                return Some((st, resolved));
            }
        }
        None
    }

    /// The verified claims of a token of `resolved`'s, mapped to an identity and a profile.
    pub(super) fn verified_bearer(
        &self,
        st: &ProviderState,
        resolved: &ResolvedProvider,
        issuer: String,
        claims: &Value,
    ) -> Result<VerifiedBearer, BearerError> {
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .ok_or_else(|| invalid("the token names no user", "no usable `sub`"))?;
        let mut profile = Profile::from_claims(claims, &resolved.spec.claims)
            .map_err(|e| invalid("the token names no user", e.detail().to_owned()))?;
        profile.subject = sub.to_owned();
        let provider = resolved.spec.id.clone();
        Ok(VerifiedBearer {
            identity: Identity {
                provider: provider.clone(),
                issuer,
                subject: profile.subject.clone(),
            },
            profile,
            provider,
            email_trust: st.settings.email_trust.unwrap_or(resolved.spec.email_trust),
            auto_register: st.settings.auto_register,
            admin_rules: st.settings.admin_rules.clone(),
            expires_at: claims
                .get("exp")
                .and_then(Value::as_i64)
                .and_then(|e| u64::try_from(e).ok()),
        })
    }
}
