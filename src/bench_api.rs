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
            nonce,
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
