//! Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4, verified per §2.6).
//!
//! The checks, in order: size and shape (a JWS of three segments; an encrypted token — five — is
//! refused, as this crate registers no encryption key); a header that repeats a member or has
//! `crit` is refused; `typ` is `logout+jwt` (or `JWT`, which Authentik sends before 2026.2, or
//! absent); the algorithm is one the provider's ID tokens may use (pinned from configuration or
//! discovery, never `none`); the signature, with the provider's keys (or the client secret for
//! HS256, as Authentik signs without a signing key); `iss` byte for byte; `aud` our client id
//! and no other; `iat` present and not in the future; `exp`, when present, not past (without
//! `exp`, `iat` no older than the maximum token age; all with the clock skew); `jti` present; the
//! `events` member holding the back-channel logout event as a JSON object; `sid` or `sub`;
//! and **no `nonce`** (an ID token posted as a logout token fails here, and on `events`).
//! Single use of `jti` is the caller's (it needs the store).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openidconnect::core::{CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeySet};

use super::verify::{MAX_HEADER_BYTES, MAX_ID_TOKEN_BYTES, decode_segment};
use crate::config::Secret;
use crate::error::{Error, ErrorCode};
use crate::provider::is_hmac;

/// The event a logout token must carry (§2.4).
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// What a logout token must say, besides its signature.
pub(crate) struct LogoutExpect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub algs: &'a [CoreJwsSigningAlgorithm],
    pub now: SystemTime,
    pub skew: Duration,
    pub max_age: Duration,
}

/// Whose sessions a logout token ends (§2.7): with a `sid`, that provider session's; with only
/// a `sub`, every session of that account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutTarget {
    /// The sessions of this provider session.
    Session(String),
    /// Every session of this subject.
    Subject(String),
}

/// A verified logout token: who and which provider session it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    /// `iss`, verbatim.
    pub issuer: String,
    /// Whose sessions end.
    pub ends: LogoutTarget,
    /// `jti`, for the single-use check.
    pub jti: String,
    /// Until when the token could be replayed (Unix seconds): its `exp`, else `iat` plus the
    /// maximum token age, plus the skew either way. The single-use record lives that long.
    pub replayable_until: u64,
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::InvalidRequest,
        format!("logout token: {}", detail.into()),
    )
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A short, printable string claim: `Some` for a non-empty string of at most 255 bytes, an
/// error for any other present value.
fn short_string(
    payload: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<String>, Error> {
    match payload.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 255 => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(invalid(format!(
            "`{name}` is not a string of 1 to 255 bytes"
        ))),
    }
}

/// The unverified `iss` and `kid` of a logout token, to pick the provider's issuer and keys.
pub(crate) struct LogoutPeek {
    pub iss: Option<String>,
    pub kid: Option<String>,
}

/// Shape checks and the unverified fields.
pub(crate) fn peek_logout_token(token: &str) -> Result<LogoutPeek, Error> {
    let (header, payload, _) = split(token)?;
    let header = decode_segment(header, "logout token header")
        .map_err(|e| invalid(e.detail().to_owned()))?;
    let payload = decode_segment(payload, "logout token payload")
        .map_err(|e| invalid(e.detail().to_owned()))?;
    let text = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m.get(k).and_then(|v| v.as_str()).map(str::to_owned)
    };
    Ok(LogoutPeek {
        iss: text(&payload, "iss"),
        kid: text(&header, "kid"),
    })
}

fn split(token: &str) -> Result<(&str, &str, &str), Error> {
    if token.len() > MAX_ID_TOKEN_BYTES {
        return Err(invalid("too large"));
    }
    let parts: Vec<&str> = token.splitn(6, '.').collect();
    match parts.as_slice() {
        [h, p, s] if h.len() <= MAX_HEADER_BYTES => Ok((h, p, s)),
        [_, _, _] => Err(invalid("header too large")),
        [_, _, _, _, _] => Err(invalid(
            "encrypted (JWE) logout tokens are not accepted: no encryption key is registered",
        )),
        _ => Err(invalid("not a signed JWT (three segments)")),
    }
}

/// Verifies a logout token's signature and claims (see the module documentation).
pub(crate) fn verify_logout_token<K>(
    token: &str,
    keys: &JsonWebKeySet<K>,
    ex: &LogoutExpect<'_>,
) -> Result<LogoutToken, Error>
where
    K: JsonWebKey<SigningAlgorithm = CoreJwsSigningAlgorithm, KeyUse = CoreJsonWebKeyUse>,
{
    use base64::Engine as _;
    let (h, p, s) = split(token)?;
    let header =
        decode_segment(h, "logout token header").map_err(|e| invalid(e.detail().to_owned()))?;
    if header.contains_key("crit") {
        return Err(invalid("`crit` header extensions are not supported"));
    }
    match header.get("typ") {
        None => {}
        Some(serde_json::Value::String(t))
            if ["logout+jwt", "application/logout+jwt", "jwt"]
                .iter()
                .any(|ok| t.eq_ignore_ascii_case(ok)) => {}
        Some(_) => return Err(invalid("`typ` is not `logout+jwt`")),
    }
    let alg_name = header
        .get("alg")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("no `alg`"))?;
    let alg: CoreJwsSigningAlgorithm =
        serde_json::from_value(serde_json::Value::String(alg_name.to_owned())).map_err(|_| {
            invalid(format!(
                "unknown algorithm `{}`",
                super::params::loggable(alg_name)
            ))
        })?;
    if alg == CoreJwsSigningAlgorithm::None || !ex.algs.contains(&alg) {
        return Err(invalid(format!(
            "algorithm `{}` is not one this provider signs with",
            super::params::loggable(alg_name)
        )));
    }
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| invalid("the signature is not base64url"))?;
    let message = &token[..h.len() + 1 + p.len()];
    let verified = if is_hmac(&alg) {
        let secret = ex
            .client_secret
            .ok_or_else(|| invalid("an HMAC-signed token needs a client secret"))?;
        K::new_symmetric(secret.expose().as_bytes().to_vec())
            .verify_signature(&alg, message.as_bytes(), &signature)
            .is_ok()
    } else {
        let kid = header.get("kid").and_then(|v| v.as_str());
        keys.keys()
            .iter()
            .filter(|k| kid.is_none() || k.key_id().map(|id| id.as_str()) == kid)
            .any(|k| {
                k.verify_signature(&alg, message.as_bytes(), &signature)
                    .is_ok()
            })
    };
    if !verified {
        return Err(invalid(
            "the signature does not verify with the provider's keys",
        ));
    }

    let payload =
        decode_segment(p, "logout token payload").map_err(|e| invalid(e.detail().to_owned()))?;
    match payload.get("iss").and_then(|v| v.as_str()) {
        Some(iss) if iss == ex.issuer => {}
        _ => return Err(invalid("`iss` is not the provider's issuer")),
    }
    let aud_ok = match payload.get("aud") {
        Some(serde_json::Value::String(a)) => a == ex.client_id,
        Some(serde_json::Value::Array(list)) => {
            !list.is_empty() && list.iter().all(|a| a.as_str() == Some(ex.client_id))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(invalid("`aud` is not this client (alone)"));
    }
    let now = unix(ex.now);
    let skew = i64::try_from(ex.skew.as_secs()).unwrap_or(i64::MAX);
    let max_age = i64::try_from(ex.max_age.as_secs()).unwrap_or(i64::MAX);
    let iat = payload
        .get("iat")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| invalid("no numeric `iat`"))?;
    if iat > now.saturating_add(skew) {
        return Err(invalid("issued in the future (`iat`)"));
    }
    let exp = match payload.get("exp") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| invalid("`exp` is not a number"))?),
    };
    // With an `exp` the token says how long it is good for (Authentik: the access token
    // lifetime, and it retries a failed delivery for up to an hour); without one, the maximum
    // age of ID tokens bounds it.
    if exp.is_none() && iat < now.saturating_sub(max_age).saturating_sub(skew) {
        return Err(invalid("too old (`iat`, and no `exp`)"));
    }
    if let Some(exp) = exp
        && exp.saturating_add(skew) <= now
    {
        return Err(invalid("expired (`exp`)"));
    }
    let jti = short_string(&payload, "jti")?.ok_or_else(|| invalid("no `jti`"))?;
    match payload
        .get("events")
        .and_then(|e| e.as_object())
        .and_then(|e| e.get(BACKCHANNEL_LOGOUT_EVENT))
    {
        Some(serde_json::Value::Object(_)) => {}
        _ => return Err(invalid("no back-channel logout event in `events`")),
    }
    if payload.contains_key("nonce") {
        return Err(invalid("a logout token must not carry a `nonce`"));
    }
    let subject = short_string(&payload, "sub")?;
    let ends = match (short_string(&payload, "sid")?, subject) {
        (Some(sid), _) => LogoutTarget::Session(sid),
        (None, Some(sub)) => LogoutTarget::Subject(sub),
        (None, None) => return Err(invalid("neither `sid` nor `sub`")),
    };
    let until = exp
        .unwrap_or_else(|| iat.saturating_add(max_age))
        .saturating_add(skew);
    Ok(LogoutToken {
        issuer: ex.issuer.to_owned(),
        ends,
        jti,
        replayable_until: u64::try_from(until).unwrap_or(0),
    })
}

impl super::Flow {
    /// Verifies a logout token posted for `provider` (see the module documentation); its `jti`
    /// is spent with [`Flow::spend_logout_token`].
    pub(crate) async fn verify_logout(
        &self,
        provider: &str,
        token: &str,
    ) -> Result<LogoutToken, Error> {
        let peeked = peek_logout_token(token)?;
        let st = self.registry.enabled(provider).await?;
        let active = self.registry.active(&st).await?;
        // A multi-tenant provider's tenant, from the issuer (logout tokens need no `tid`).
        let tenant = active.resolved.multi_tenant().map(|_| {
            peeked
                .iss
                .as_deref()
                .and_then(|i| active.resolved.tenant_in_issuer(i))
        });
        let (resolved, _, issuer) = super::id_token::issuer_for(
            provider,
            &active.resolved,
            peeked.iss.as_deref(),
            tenant.as_ref().map(Option::as_deref),
            ErrorCode::InvalidRequest,
        )?;
        let algs = self.registry.algs_for(&st, &resolved).await?;
        let hmac = !algs.is_empty() && algs.iter().all(is_hmac);
        let jwks_url = if hmac {
            None
        } else {
            Some(self.registry.jwks_url_for(&st, &resolved).await?)
        };
        let keys = match &jwks_url {
            None => std::sync::Arc::new(crate::provider::KeySet::new(Vec::new())),
            Some(url) => self.registry.keys(&st, url, peeked.kid.as_deref()).await?,
        };
        let expect = LogoutExpect {
            issuer: &issuer,
            client_id: &resolved.client_id,
            client_secret: resolved.client_secret.as_ref(),
            algs: &algs,
            now: self.now(),
            skew: self.timing.clock_skew,
            max_age: self.timing.max_token_age,
        };
        let mut result = verify_logout_token(token, &keys, &expect);
        // A `kid`-less token no cached key verifies may be signed with a key rotated in since.
        if result.is_err()
            && peeked.kid.is_none()
            && let Some(url) = &jwks_url
            && let Some(fresh) = self.registry.refetched_keys(&st, url).await
        {
            result = verify_logout_token(token, &fresh, &expect);
        }
        result.map_err(|e| Error::new(e.code(), format!("provider `{provider}`: {}", e.detail())))
    }

    /// Spends a verified logout token's `jti`: `Ok` the first time on any instance sharing the
    /// session store, [`ErrorCode::InvalidRequest`] for a replay. Called once the token's
    /// sessions are ended, so that a provider retrying after a failure on this side (the store
    /// unreachable) is not refused as a replay; a replay then ends nothing new (its provider
    /// session is over) and is refused.
    pub(crate) async fn spend_logout_token(
        &self,
        provider: &str,
        verified: &LogoutToken,
    ) -> Result<(), Error> {
        let spent = format!("logout-jti:{provider}:{}:{}", verified.issuer, verified.jti);
        let until = UNIX_EPOCH + Duration::from_secs(verified.replayable_until);
        let first = self
            .transactions
            .consume_transaction(&spent, until)
            .await
            .map_err(Error::from)?;
        if !first {
            return Err(invalid(format!(
                "provider `{provider}`: `jti` was already used (a replayed logout token)"
            )));
        }
        Ok(())
    }
}

impl super::Flow {
    /// The issuer of `provider` when a front-channel logout names `claimed`: the provider's
    /// issuer (or, for an Authentik configured by instance URL only, the one of that instance
    /// `claimed` is), or [`ErrorCode::InvalidRequest`] when `claimed` is not it.
    pub(crate) async fn issuer_of(&self, provider: &str, claimed: &str) -> Result<String, Error> {
        let st = self.registry.enabled(provider).await?;
        let current = st.current();
        let tenant = current
            .multi_tenant()
            .map(|_| current.tenant_in_issuer(claimed));
        let (_, _, issuer) = super::id_token::issuer_for(
            provider,
            &current,
            Some(claimed),
            tenant.as_ref().map(Option::as_deref),
            ErrorCode::InvalidRequest,
        )?;
        if issuer != claimed {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!("provider `{provider}`: `iss` is not the provider's issuer"),
            ));
        }
        Ok(issuer)
    }
}
