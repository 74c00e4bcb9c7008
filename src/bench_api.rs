//! Unstable entry points for the crate's own benchmarks (`benches/`). **Not part of the API**:
//! hidden from the documentation, exempt from semver, and may change or disappear in any
//! release. Applications have no use for them.

use std::sync::Arc;

use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};

use crate::config::Secret;
use crate::error::Error;
use crate::flow::{Expect, FlowTiming, VerifiedIdToken, peek, verify_id_token};
use crate::provider::{KeySet, parse_jwks, pinned_algs};

/// The callback's ID token verification, set up once from a JWKS body as the cache holds it
/// (the issuer's answers served from memory).
pub struct IdTokenCheck {
    keys: Arc<KeySet>,
    core_keys: Arc<CoreJsonWebKeySet>,
    issuer: String,
    client_id: String,
    client_secret: Option<Secret>,
    algs: Vec<CoreJwsSigningAlgorithm>,
    timing: FlowTiming,
}

impl IdTokenCheck {
    /// `jwks`: the JWKS body (`{}` for HS256); `algs`: the provider's advertised algorithms.
    pub fn new(
        jwks: &[u8],
        issuer: &str,
        client_id: &str,
        client_secret: Option<&str>,
        algs: &[&str],
    ) -> Result<Self, String> {
        let keys = parse_jwks(jwks)?;
        let core_keys: CoreJsonWebKeySet = match serde_json::from_slice::<serde_json::Value>(jwks) {
            Ok(v) if v.get("keys").is_some() => {
                serde_json::from_value(v).map_err(|e| e.to_string())?
            }
            _ => CoreJsonWebKeySet::new(Vec::new()),
        };
        let names: Vec<String> = algs.iter().map(|s| s.to_string()).collect();
        Ok(IdTokenCheck {
            keys: Arc::new(keys),
            core_keys: Arc::new(core_keys),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(Secret::new),
            algs: pinned_algs(None, Some(&names)),
            timing: FlowTiming::default(),
        })
    }

    fn expect<'a>(&'a self, nonce: &'a str) -> Expect<'a> {
        Expect {
            issuer: &self.issuer,
            client_id: &self.client_id,
            client_secret: self.client_secret.as_ref(),
            algs: &self.algs,
            nonce: crate::flow::NonceRule::Equals(nonce),
            now: std::time::SystemTime::now(),
            skew: self.timing.clock_skew,
            max_age: self.timing.max_token_age,
            // The fake's code-flow ID tokens carry no `at_hash` (as Authentik's don't).
            access_token: None,
        }
    }

    /// What the callback does with an ID token: the shape peek, then the full verification
    /// (with the configured backend: `ring` unless `rustcrypto-verify`).
    pub fn verify(&self, token: &str, nonce: &str) -> Result<VerifiedIdToken, Error> {
        peek(token)?;
        verify_id_token(token, &*self.keys, &self.expect(nonce))
    }

    /// The same with `openidconnect`'s own pure-Rust keys (`CoreJsonWebKey`), for comparison.
    pub fn verify_rustcrypto(&self, token: &str, nonce: &str) -> Result<VerifiedIdToken, Error> {
        peek(token)?;
        verify_id_token(token, &*self.core_keys, &self.expect(nonce))
    }
}

/// A cookie key from arbitrary bytes (SHA-512 stretches them to the 64 bytes `Key` needs).
fn fuzz_key(key: &[u8]) -> cookie::Key {
    let d = ring::digest::digest(&ring::digest::SHA512, key);
    cookie::Key::from(d.as_ref())
}

/// Fuzzing entry point: decodes a `Cookie` header as the login transaction cookies (plain and
/// `__Secure-`) and the session cookies (plain and `__Host-`) under a key derived from `key`,
/// and returns how many pending sign-ins and session ids it found. Anything malformed must read
/// as none, without panicking.
pub fn fuzz_decode_cookies(key: &[u8], cookie_header: &str) -> usize {
    let key = fuzz_key(key);
    let ttl = std::time::Duration::from_secs(600);
    let mut n = 0;
    for secure in [false, true] {
        n += crate::flow::tx_cookie(secure, "/api/auth", ttl)
            .read(&key, Some(cookie_header))
            .0
            .len();
        n += usize::from(
            crate::session::SessionCookie::new(secure)
                .read(&key, cookie_header)
                .is_some(),
        );
    }
    n
}

/// Fuzzing entry point: the value of a transaction cookie that encrypts `plaintext` under a key
/// derived from `key` (so a fuzz target can reach the JSON decoding behind the AEAD with
/// arbitrary plaintexts).
pub fn fuzz_seal_transactions(key: &[u8], plaintext: &str) -> String {
    let key = fuzz_key(key);
    let c = crate::flow::tx_cookie(false, "/api/auth", std::time::Duration::from_secs(600));
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(cookie::Cookie::new(c.name, plaintext.to_owned()));
    jar.get(c.name)
        .map(|c| format!("{}={}", c.name(), c.value()))
        .unwrap_or_default()
}
