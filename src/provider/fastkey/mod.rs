//! [`RingJwk`]: a JSON Web Key whose signatures are verified by `ring` (already linked for
//! rustls), plugged into `openidconnect`'s verifier in place of `CoreJsonWebKey`.
//!
//! Why: `CoreJsonWebKey` verifies RSA with the pure-Rust `rsa` crate, about ten times slower
//! than `ring` (an RSA-4096 ID token — Authentik's default certificate — took most of a
//! millisecond of CPU per sign-in). Everything else stays `openidconnect`'s: the verifier picks
//! the key (by `kid`, key type, `use` and `alg`, exactly as it does for `CoreJsonWebKey`; the
//! semantics are reproduced member by member in `parse` and `verify`), checks the algorithm
//! allow-list, audience, issuer, times and nonce.
//!
//! Differences from `CoreJsonWebKey` (the `differential` test holds `RingJwk` to exactly these):
//! RSA moduli must be 2048 to 8192 bits (`ring`'s range; the `rsa` crate took 1024-bit keys and
//! refused ones over 4096 bits); a key member in base64url with `=` padding is read (the padding
//! trimmed) where `CoreJsonWebKey` ignores the member, and one with non-zero trailing bits is
//! ignored where `CoreJsonWebKey` reads it; an HMAC tag of the wrong length is a rejection where
//! `CoreJsonWebKey` panics. ES512/P-521 stays unsupported, as before. A symmetric key's `k` is
//! never serialised.
//!
//! The feature `rustcrypto-verify` switches back to `CoreJsonWebKey` (see [`VerifyKey`]).
//!
//! Layout: `parse` reads (and writes) the JWK members; `verify` is the glue to `openidconnect`
//! (the `JsonWebKey` impl: key compatibility, then dispatch on the algorithm); `rsa`, `ec`
//! (ECDSA and EdDSA) and `hmac` verify with `ring`.
#![cfg_attr(feature = "rustcrypto-verify", allow(dead_code))]

mod ec;
mod hmac;
mod parse;
mod rsa;
mod verify;

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use openidconnect::JsonWebKeyId;
use openidconnect::JsonWebKeySet;
use openidconnect::core::{
    CoreJsonCurveType, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm,
};

/// The key type the verifier uses: [`RingJwk`], or `openidconnect`'s own with the feature
/// `rustcrypto-verify`.
#[cfg(not(feature = "rustcrypto-verify"))]
pub(crate) type VerifyKey = RingJwk;
/// The key type the verifier uses: `openidconnect`'s own (feature `rustcrypto-verify`).
#[cfg(feature = "rustcrypto-verify")]
pub(crate) type VerifyKey = openidconnect::core::CoreJsonWebKey;

/// A key set of [`VerifyKey`]s (keys that cannot be parsed are skipped, as `openidconnect`
/// does: RFC 7517 §5).
pub(crate) type KeySet = JsonWebKeySet<VerifyKey>;

/// The JWK `alg` member.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyAlg {
    /// No `alg`: any compatible algorithm.
    Unspecified,
    /// A JWS algorithm this key is restricted to.
    Signing(CoreJwsSigningAlgorithm),
    /// `none` or an encryption algorithm: not usable for signatures.
    NotSigning(String),
}

/// A public (or, from the client secret, symmetric) JSON Web Key verified with `ring`.
/// Cloning is an `Arc` increment (the verifier clones its key set per token).
#[derive(Clone)]
pub struct RingJwk(Arc<Inner>);

struct Inner {
    kty: CoreJsonWebKeyType,
    use_: Option<CoreJsonWebKeyUse>,
    kid: Option<JsonWebKeyId>,
    alg: KeyAlg,
    alg_raw: Option<String>,
    n: Option<Vec<u8>>,
    e: Option<Vec<u8>>,
    crv: Option<CoreJsonCurveType>,
    x: Option<Vec<u8>>,
    y: Option<Vec<u8>>,
    k: Option<Vec<u8>>,
    /// `04 || x || y`, built once for EC keys.
    ec_point: Option<Vec<u8>>,
}

impl fmt::Debug for RingJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingJwk")
            .field("kty", &self.0.kty)
            .field("use", &self.0.use_)
            .field("kid", &self.0.kid)
            .field("alg", &self.0.alg)
            .field("crv", &self.0.crv)
            .finish_non_exhaustive()
    }
}
