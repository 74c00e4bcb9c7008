//! ID token verification: one function, [`verify_id_token`], that every ID token goes through.
//!
//! The checks, in order: size and shape before any parsing work grows (three segments, bounded
//! header and token); a `crit` header is refused; `iss` equal to the expected issuer byte for
//! byte; then `openidconnect`'s verifier with the algorithm allow-list pinned from configuration
//! or discovery (never from the token header; `none` never), the signature (always checked, even
//! for tokens from the token endpoint), audience (our client id, no untrusted extra audiences),
//! expiry and issued-at with a bounded skew and a maximum age, and the nonce bound to this
//! browser's login transaction; then `azp` (must be our client id when present), `nbf`, the
//! subject's presence and length, and `at_hash` when the token carries one (Core 3.1.3.8: the
//! check is optional in the code flow, but a present, wrong hash means the access token is not
//! the one this ID token was issued with). A header or payload that repeats a member is refused:
//! JSON parsers disagree on which copy wins, and the verifier and the claim mapping must see one
//! token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{
    ClientId, ClientSecret, IdTokenVerifier, IssuerUrl, JsonWebKey, JsonWebKeySet, Nonce,
};

use subtle::ConstantTimeEq as _;

use crate::config::Secret;
use crate::error::{Error, ErrorCode};

/// Largest ID token accepted (a user in many groups makes large tokens; 128 KiB is far above
/// what any provider sends, and bounds the work).
pub const MAX_ID_TOKEN_BYTES: usize = 128 * 1024;
/// Largest JOSE header accepted.
pub const MAX_HEADER_BYTES: usize = 4096;

/// What the token must say.
/// What the ID token's `nonce` must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NonceRule<'a> {
    /// A sign-in: the nonce this browser's transaction sent, required.
    Equals(&'a str),
    /// A refreshed ID token (Core 12.2): no nonce, or the original sign-in's.
    AbsentOrEquals(Option<&'a str>),
}

pub(crate) struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub algs: &'a [CoreJwsSigningAlgorithm],
    pub nonce: NonceRule<'a>,
    /// The access token from the same token response, for `at_hash`.
    pub access_token: Option<&'a str>,
    pub now: SystemTime,
    pub skew: Duration,
    pub max_age: Duration,
}

/// The unverified header fields needed to pick keys, and the unverified `iss`.
#[derive(Debug)]
pub(crate) struct Peek {
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub iss: Option<String>,
    /// The header's `typ`.
    pub typ: Option<String>,
}

/// A verified ID token: its subject, issuer and all its claims (as sent, for claim mapping).
#[derive(Clone)]
pub struct VerifiedIdToken {
    /// `sub`.
    pub subject: String,
    /// `iss`, verbatim.
    pub issuer: String,
    /// Every claim of the payload.
    pub claims: serde_json::Value,
    raw: String,
}

impl VerifiedIdToken {
    /// The compact token, for `id_token_hint` at logout. Treat it as a secret.
    pub fn expose_raw(&self) -> &str {
        &self.raw
    }

    /// [`VerifiedIdToken::expose_raw`], owned. Treat it as a secret.
    pub fn into_raw(self) -> String {
        self.raw
    }

    /// The provider's session id (`sid`), when the token carries a usable one.
    pub fn sid(&self) -> Option<String> {
        self.claims
            .get("sid")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .map(str::to_owned)
    }
}

impl std::fmt::Debug for VerifiedIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedIdToken")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::new(ErrorCode::IdTokenInvalid, detail)
}

pub(crate) fn decode_segment(
    seg: &str,
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(seg.trim_end_matches('='))
        .map_err(|_| invalid(format!("{what} is not base64url")))?;
    match serde_json::from_slice::<UniqueObject>(&bytes) {
        Ok(UniqueObject(m)) => Ok(m),
        Err(e) if e.to_string().starts_with(DUPLICATE) => {
            Err(invalid(format!("{what} repeats a member")))
        }
        Err(_) => Err(invalid(format!("{what} is not a JSON object"))),
    }
}

const DUPLICATE: &str = "duplicate member";

/// A JSON object whose top-level members are unique (nested values are taken as they are).
struct UniqueObject(serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut m = serde_json::Map::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if m.contains_key(&k) {
                        return Err(serde::de::Error::custom(DUPLICATE));
                    }
                    m.insert(k, v);
                }
                Ok(UniqueObject(m))
            }
        }
        d.deserialize_map(V)
    }
}

/// `at_hash` for `access_token` under the JWS algorithm `alg` (Core 3.1.3.8): the left half of
/// the hash the algorithm uses, base64url. `None` for an algorithm without a defined hash.
fn at_hash(alg: &str, access_token: &str) -> Option<String> {
    let digest = match alg {
        "RS256" | "PS256" | "ES256" | "HS256" => &ring::digest::SHA256,
        "RS384" | "PS384" | "ES384" | "HS384" => &ring::digest::SHA384,
        "RS512" | "PS512" | "ES512" | "HS512" | "EdDSA" => &ring::digest::SHA512,
        _ => return None,
    };
    let h = ring::digest::digest(digest, access_token.as_bytes());
    let h = h.as_ref();
    Some(URL_SAFE_NO_PAD.encode(&h[..h.len() / 2]))
}

/// Shape checks and the unverified fields, without trusting anything.
pub(crate) fn peek(token: &str) -> Result<(Peek, serde_json::Value), Error> {
    if token.len() > MAX_ID_TOKEN_BYTES {
        return Err(invalid(format!(
            "ID token is {} bytes, over the {MAX_ID_TOKEN_BYTES}-byte limit",
            token.len()
        )));
    }
    let mut parts = token.splitn(4, '.');
    let (Some(h), Some(p), Some(_s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            "ID token is not a signed JWT (three segments); encrypted or malformed tokens are refused",
        ));
    };
    if h.len() > MAX_HEADER_BYTES {
        return Err(invalid("ID token header is too large"));
    }
    let header = decode_segment(h, "ID token header")?;
    if header.contains_key("crit") {
        return Err(invalid(
            "ID token header has `crit` extensions, which are not supported",
        ));
    }
    let payload = decode_segment(p, "ID token payload")?;
    let kid = header
        .get("kid")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let alg = header
        .get("alg")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let iss = payload
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let typ = header
        .get("typ")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok((
        Peek { kid, alg, iss, typ },
        serde_json::Value::Object(payload),
    ))
}

pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// `openidconnect`'s verifier for `client_id` (confidential with a secret, for HMAC-signed
/// tokens; public without), before the caller's settings.
pub(crate) fn verifier_for<K>(
    client_id: &str,
    client_secret: Option<&Secret>,
    issuer: IssuerUrl,
    keys: &JsonWebKeySet<K>,
) -> IdTokenVerifier<'static, K>
where
    K: JsonWebKey<SigningAlgorithm = CoreJwsSigningAlgorithm, KeyUse = CoreJsonWebKeyUse>,
{
    let client_id = ClientId::new(client_id.to_owned());
    // With `KeySet` (`ring`, see `provider::fastkey`) cloning the set is `Arc` increments.
    match client_secret {
        Some(s) => IdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(s.expose().to_owned()),
            issuer,
            keys.clone(),
        ),
        None => IdTokenVerifier::new_public_client(client_id, issuer, keys.clone()),
    }
}

/// Verifies an ID token against `keys` and `ex`. See the module documentation for the checks.
/// Generic over the key type so the benchmarks can compare backends; the callback uses
/// `provider::KeySet` (`ring`, see `provider::fastkey`).
pub(crate) fn verify_id_token<K>(
    token: &str,
    keys: &JsonWebKeySet<K>,
    ex: &Expect<'_>,
) -> Result<VerifiedIdToken, Error>
where
    K: JsonWebKey<SigningAlgorithm = CoreJwsSigningAlgorithm, KeyUse = CoreJsonWebKeyUse>,
{
    verify_peeked(token, peek(token)?, keys, ex)
}

/// [`verify_id_token`] for a token the caller has already [`peek`]ed (to pick its keys), so the
/// token is decoded once.
pub(crate) fn verify_peeked<K>(
    token: &str,
    (peeked, payload): (Peek, serde_json::Value),
    keys: &JsonWebKeySet<K>,
    ex: &Expect<'_>,
) -> Result<VerifiedIdToken, Error>
where
    K: JsonWebKey<SigningAlgorithm = CoreJwsSigningAlgorithm, KeyUse = CoreJsonWebKeyUse>,
{
    match payload.get("iss").and_then(|v| v.as_str()) {
        Some(iss) if iss == ex.issuer => {}
        Some(iss) => {
            return Err(invalid(format!(
                "issuer mismatch: expected `{}`, the token says `{iss}`",
                ex.issuer
            )));
        }
        None => return Err(invalid("the ID token has no `iss` claim")),
    }
    if ex.algs.is_empty() {
        return Err(invalid("no signing algorithm is allowed for this provider"));
    }
    let parsed: CoreIdToken =
        serde_json::from_value(serde_json::Value::String(token.to_owned()))
            .map_err(|e| invalid(format!("ID token claims are malformed ({e})")))?;
    let issuer = IssuerUrl::new(ex.issuer.to_owned())
        .map_err(|e| invalid(format!("issuer is not a URL ({e})")))?;
    let verifier = verifier_for(ex.client_id, ex.client_secret, issuer, keys);
    let now = unix(ex.now);
    let skew = ex.skew.as_secs() as i64;
    let max_age = ex.max_age.as_secs() as i64;
    let shifted = ex.now.checked_sub(ex.skew).unwrap_or(ex.now);
    let verifier = verifier
        .set_allowed_algs(ex.algs.to_vec())
        // `exp` is compared with this clock: shifting it back by the skew accepts a token that
        // expired less than `skew` ago.
        .set_time_fn(move || chrono::DateTime::<chrono::Utc>::from(shifted))
        .set_issue_time_verifier_fn(move |iat| {
            let iat = iat.timestamp();
            if iat > now + skew {
                Err(format!("issued {} s in the future", iat - now))
            } else if iat < now - max_age - skew {
                Err(format!(
                    "issued {} s ago, older than the {max_age} s limit",
                    now - iat
                ))
            } else {
                Ok(())
            }
        });
    match ex.nonce {
        NonceRule::Equals(expected) => {
            let nonce = Nonce::new(expected.to_owned());
            parsed.claims(&verifier, &nonce).map(|_| ())
        }
        NonceRule::AbsentOrEquals(original) => parsed
            .claims(&verifier, |claimed: Option<&Nonce>| {
                match (claimed, original) {
                    (None, _) => Ok(()),
                    (Some(n), Some(o)) if n.secret() == o => Ok(()),
                    (Some(_), _) => {
                        Err("a refreshed ID token carries a nonce that is not the sign-in's".into())
                    }
                }
            })
            .map(|_| ()),
    }
    .map_err(|e| invalid(format!("ID token rejected: {e}")))?;

    if let Some(azp) = payload.get("azp")
        && azp.as_str() != Some(ex.client_id)
    {
        return Err(invalid("`azp` is not this client"));
    }
    if let Some(nbf) = payload.get("nbf") {
        match nbf.as_i64() {
            Some(nbf) if nbf <= now + skew => {}
            _ => return Err(invalid("the ID token is not valid yet (`nbf`)")),
        }
    }
    let subject = match payload.get("sub").and_then(|v| v.as_str()) {
        Some(s) if !s.is_empty() && s.len() <= 255 => s.to_owned(),
        _ => {
            return Err(invalid(
                "`sub` is missing, empty or longer than 255 characters",
            ));
        }
    };
    if let Some(claimed) = payload.get("at_hash") {
        // The signature was checked with an allowed algorithm, so the header's `alg` is the one
        // that signed the token.
        let expected = match (ex.access_token, peeked.alg.as_deref()) {
            (Some(at), Some(alg)) => at_hash(alg, at),
            _ => None,
        };
        let ok = match (claimed.as_str(), expected) {
            (Some(c), Some(e)) => bool::from(c.as_bytes().ct_eq(e.as_bytes())),
            _ => false,
        };
        if !ok {
            return Err(invalid(
                "`at_hash` does not match the access token of the token response",
            ));
        }
    }
    Ok(VerifiedIdToken {
        subject,
        issuer: ex.issuer.to_owned(),
        claims: payload,
        raw: token.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_checked_before_parsing() {
        for bad in ["", "a.b", "a.b.c.d.e", "!!.e30.x", "e30.W10.x"] {
            assert_eq!(
                peek(bad).unwrap_err().code(),
                ErrorCode::IdTokenInvalid,
                "{bad}"
            );
        }
        let big = "a".repeat(MAX_ID_TOKEN_BYTES + 1);
        assert!(peek(&big).is_err());
        // {"alg":"RS256","crit":["x"]} . {}
        let crit = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","crit":["x"]}"#),
            URL_SAFE_NO_PAD.encode(b"{}")
        );
        assert!(peek(&crit).unwrap_err().detail().contains("crit"));
        // A repeated member, at the top level of the header or the payload.
        let dup = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"sub":"a","sub":"b"}"#)
        );
        assert!(peek(&dup).unwrap_err().detail().contains("repeats"), "dup");
        let nested = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"sub":"a","x":{"y":1}}"#)
        );
        assert!(peek(&nested).is_ok());
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithm_hash() {
        // SHA-256 for the *256 algorithms, 16 of its 32 bytes, base64url without padding.
        let h = at_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNcV5lPaW").unwrap();
        let full = ring::digest::digest(&ring::digest::SHA256, b"jHkWEdUXMU1BwAsC4vtUsZwnNcV5lPaW");
        assert_eq!(h, URL_SAFE_NO_PAD.encode(&full.as_ref()[..16]));
        assert_eq!(h.len(), 22);
        assert_eq!(at_hash("ES384", "x").unwrap().len(), 32);
        assert!(at_hash("none", "x").is_none());
    }
}
