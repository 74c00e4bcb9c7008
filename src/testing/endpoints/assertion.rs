//! `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9) at the
//! fake's token, revocation and introspection endpoints, checked strictly against the client's
//! public keys the test registered ([`FakeAuthentik::set_client_jwks`]): the assertion type,
//! RS256 or ES256 by a key of that set (by `kid`), `iss` = `sub` = the client id, `aud` the
//! token endpoint or the issuer, `exp` in the future and at most 5 minutes after `iat`, and a
//! `jti` never seen before.
//!
//! [`FakeAuthentik::set_client_jwks`]: crate::testing::FakeAuthentik::set_client_jwks

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::Req;
use crate::testing::state::Inner;

/// The assertion type of RFC 7523 §2.2.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn part(s: &str) -> Option<Map<String, Value>> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
}

fn unb64(v: Option<&Value>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(v?.as_str()?).ok()
}

/// Whether the request carries a client assertion at all.
pub(super) fn present(req: &Req) -> bool {
    req.f("client_assertion").is_some() || req.f("client_assertion_type").is_some()
}

/// The client id of a valid assertion; `Err` with the reason the fake refuses it.
pub(super) fn check(inner: &Inner, req: &Req) -> Result<String, &'static str> {
    if req.f("client_assertion_type") != Some(JWT_BEARER) {
        return Err("wrong client_assertion_type");
    }
    let jwt = req.f("client_assertion").unwrap_or("");
    let mut it = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err("not a JWS");
    };
    let header = part(h).ok_or("bad header")?;
    let claims = part(p).ok_or("bad payload")?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| "bad signature encoding")?;
    let kid = header.get("kid").and_then(Value::as_str);
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let input = format!("{h}.{p}");
    let (jwks, offset, only_aud) = {
        let st = inner.lock();
        (
            st.client_jwks.clone(),
            st.switches.clock_offset,
            st.assertion_aud.clone(),
        )
    };
    let keys = jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .ok_or("no client keys registered")?;
    let key = keys
        .iter()
        .find(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .ok_or("unknown kid")?;
    let ok = match (alg, key.get("kty").and_then(Value::as_str)) {
        ("RS256", Some("RSA")) => {
            let (Some(n), Some(e)) = (unb64(key.get("n")), unb64(key.get("e"))) else {
                return Err("bad RSA key");
            };
            ring::signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    input.as_bytes(),
                    &sig,
                )
                .is_ok()
        }
        ("ES256", Some("EC")) => {
            let (Some(x), Some(y)) = (unb64(key.get("x")), unb64(key.get("y"))) else {
                return Err("bad EC key");
            };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                point,
            )
            .verify(input.as_bytes(), &sig)
            .is_ok()
        }
        _ => return Err("algorithm not allowed for the key"),
    };
    if !ok {
        return Err("bad signature");
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    let client_id = s("iss").to_owned();
    if client_id.is_empty() || s("sub") != client_id {
        return Err("iss and sub must be the client id");
    }
    let token_url = format!("{}/application/o/token/", inner.base);
    let issuer = inner.issuer();
    let accepted = |a: &str| match &only_aud {
        Some(only) => a == only,
        None => a == token_url || a == issuer,
    };
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => accepted(a),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    };
    if !aud_ok {
        return Err("aud is not an audience this provider accepts");
    }
    let now = crate::util::unix_now() as i64 + offset;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or("no exp")?;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(exp);
    if exp <= now {
        return Err("expired assertion");
    }
    if exp - iat > 300 {
        return Err("assertion lifetime over 5 minutes");
    }
    let jti = s("jti");
    if jti.is_empty() {
        return Err("no jti");
    }
    if !inner.lock().assertion_jtis.insert(jti.to_owned()) {
        return Err("reused jti");
    }
    Ok(client_id)
}

impl crate::testing::FakeAuthentik {
    /// Registers the client's public keys (a JWKS, e.g. what the app serves at
    /// `{prefix}/jwks.json`): the token, revocation and introspection endpoints then accept
    /// `private_key_jwt` client assertions signed by them, strictly (RFC 7523 §3: the signature,
    /// `iss` = `sub` = the client id, `aud` the token endpoint or the issuer, an unexpired
    /// `exp` at most 5 minutes after `iat`, a `jti` never seen before). Authentik itself does
    /// not take `private_key_jwt` from clients; this stands in for providers that do (Keycloak,
    /// Okta, Entra ID, Auth0).
    pub fn set_client_jwks(&self, jwks: Value) {
        self.inner.lock().client_jwks = Some(jwks);
    }

    /// Accepts client assertions only with this `aud` (by default the token endpoint or the
    /// issuer), as providers that document one choice check it: Auth0 the issuer
    /// (`https://{domain}/`), Okta the token endpoint.
    pub fn require_assertion_aud(&self, aud: impl Into<String>) {
        self.inner.lock().assertion_aud = Some(aud.into());
    }
}
