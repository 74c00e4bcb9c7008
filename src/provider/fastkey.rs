//! [`RingJwk`]: a JSON Web Key whose signatures are verified by `ring` (already linked for
//! rustls), plugged into `openidconnect`'s verifier in place of `CoreJsonWebKey`.
//!
//! Why: `CoreJsonWebKey` verifies RSA with the pure-Rust `rsa` crate, about ten times slower
//! than `ring` (an RSA-4096 ID token — Authentik's default certificate — took most of a
//! millisecond of CPU per sign-in). Everything else stays `openidconnect`'s: the verifier picks
//! the key (by `kid`, key type, `use` and `alg`, exactly as it does for `CoreJsonWebKey`; the
//! semantics are reproduced member by member below), checks the algorithm allow-list, audience,
//! issuer, times and nonce.
//!
//! Differences from `CoreJsonWebKey`, all stricter: RSA moduli must be 2048 to 8192 bits
//! (`ring`'s floor; the `rsa` crate took 1024-bit keys and refused 8192-bit ones); ES512/P-521
//! stays unsupported, as before. A symmetric key's `k` is never serialised.
//!
//! The feature `rustcrypto-verify` switches back to `CoreJsonWebKey` (see [`VerifyKey`]).
#![cfg_attr(feature = "rustcrypto-verify", allow(dead_code))]

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreJsonCurveType, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeySet, JsonWebKeyUse as _,
    JwsSigningAlgorithm as _, SignatureVerificationError,
};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

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

/// The JWK members this key understands. `kty`, `use`, `kid` with `openidconnect`'s own types
/// (so an unknown `kty` or a malformed `use`/`kid` fails the key, and the set skips it); the key
/// material leniently (a member that is not base64url is absent, as in `CoreJsonWebKey`).
#[derive(Deserialize)]
struct RawJwk {
    kty: CoreJsonWebKeyType,
    #[serde(rename = "use")]
    use_: Option<CoreJsonWebKeyUse>,
    kid: Option<JsonWebKeyId>,
    alg: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient_b64")]
    n: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    e: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_curve")]
    crv: Option<CoreJsonCurveType>,
    #[serde(default, deserialize_with = "lenient_b64")]
    x: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    y: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    k: Option<Vec<u8>>,
}

fn lenient_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_str()
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()))
}

fn lenient_curve<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CoreJsonCurveType>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// `alg` as `openidconnect` reads it: a string (else the key fails); `none` or a JWE content
/// encryption algorithm → not for signing; a JWS algorithm → that one; anything else fails the
/// key (so the set skips it).
fn parse_alg<E: de::Error>(v: Option<serde_json::Value>) -> Result<(KeyAlg, Option<String>), E> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok((KeyAlg::Unspecified, None));
    };
    let s = v
        .as_str()
        .ok_or_else(|| E::custom("`alg` is not a string"))?
        .to_owned();
    if s == "none" || serde_json::from_value::<CoreJweContentEncryptionAlgorithm>(v.clone()).is_ok()
    {
        return Ok((KeyAlg::NotSigning(s.clone()), Some(s)));
    }
    match serde_json::from_value::<CoreJwsSigningAlgorithm>(v) {
        Ok(a) => Ok((KeyAlg::Signing(a), Some(s))),
        Err(_) => Err(E::custom(format!("unrecognized JSON Web Algorithm `{s}`"))),
    }
}

impl<'de> Deserialize<'de> for RingJwk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJwk::deserialize(d)?;
        let (alg, alg_raw) = parse_alg::<D::Error>(raw.alg)?;
        let ec_point = match (&raw.x, &raw.y) {
            (Some(x), Some(y)) if raw.kty == CoreJsonWebKeyType::EllipticCurve => {
                let mut p = Vec::with_capacity(1 + x.len() + y.len());
                p.push(0x04);
                p.extend_from_slice(x);
                p.extend_from_slice(y);
                Some(p)
            }
            _ => None,
        };
        Ok(RingJwk(Arc::new(Inner {
            kty: raw.kty,
            use_: raw.use_,
            kid: raw.kid,
            alg,
            alg_raw,
            n: raw.n,
            e: raw.e,
            crv: raw.crv,
            x: raw.x,
            y: raw.y,
            k: raw.k,
            ec_point,
        })))
    }
}

impl Serialize for RingJwk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b64 = |b: &Vec<u8>| URL_SAFE_NO_PAD.encode(b);
        let i = &self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kty", &i.kty)?;
        if let Some(u) = &i.use_ {
            m.serialize_entry("use", u)?;
        }
        if let Some(k) = &i.kid {
            m.serialize_entry("kid", k)?;
        }
        if let Some(a) = &i.alg_raw {
            m.serialize_entry("alg", a)?;
        }
        for (name, v) in [("n", &i.n), ("e", &i.e)] {
            v.as_ref()
                .map(|v| m.serialize_entry(name, &b64(v)))
                .transpose()?;
        }
        if let Some(c) = &i.crv {
            m.serialize_entry("crv", c)?;
        }
        for (name, v) in [("x", &i.x), ("y", &i.y)] {
            v.as_ref()
                .map(|v| m.serialize_entry(name, &b64(v)))
                .transpose()?;
        }
        // `k` (a symmetric key made from the client secret) is deliberately not serialised.
        m.end()
    }
}

/// `openidconnect`'s `check_key_compatibility`, which is crate-private there: `use` must allow
/// signatures when present, the key type must be the algorithm's, and a key `alg` must be the
/// token's.
fn check_compat(key: &RingJwk, alg: &CoreJwsSigningAlgorithm) -> Result<(), &'static str> {
    if let Some(u) = key.key_use()
        && !u.allows_signature()
    {
        return Err("key usage not permitted for digital signatures");
    }
    if alg.key_type().as_ref() != Some(key.key_type()) {
        return Err("key type does not match signature algorithm");
    }
    match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => Ok(()),
        JsonWebKeyAlgorithm::Unsupported => Err("key algorithm is not a signing algorithm"),
        JsonWebKeyAlgorithm::Algorithm(a) if a == alg => Ok(()),
        JsonWebKeyAlgorithm::Algorithm(_) => Err("incompatible key algorithm"),
    }
}

fn invalid_key(m: &str) -> SignatureVerificationError {
    SignatureVerificationError::InvalidKey(m.to_owned())
}

/// Big-endian integer without leading zero bytes (what `ring` wants; JWKs may carry them).
fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

impl RingJwk {
    fn verify_rsa(
        &self,
        params: &'static signature::RsaParameters,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        let n = self
            .0
            .n
            .as_deref()
            .ok_or_else(|| invalid_key("RSA modulus `n` is missing"))?;
        let e = self
            .0
            .e
            .as_deref()
            .ok_or_else(|| invalid_key("RSA exponent `e` is missing"))?;
        RsaPublicKeyComponents {
            n: strip_zeros(n),
            e: strip_zeros(e),
        }
        .verify(params, message, sig)
        .map_err(|_| SignatureVerificationError::CryptoError("bad signature".to_owned()))
    }

    fn verify_ec(
        &self,
        crv: CoreJsonCurveType,
        alg: &'static signature::EcdsaVerificationAlgorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        if self.0.crv.as_ref() != Some(&crv) {
            return Err(invalid_key("Key uses different CRV than JWT"));
        }
        let point = self
            .0
            .ec_point
            .as_deref()
            .ok_or_else(|| invalid_key("EC `x` or `y` part is missing"))?;
        UnparsedPublicKey::new(alg, point)
            .verify(message, sig)
            .map_err(|_| {
                SignatureVerificationError::CryptoError("EC Signature was wrong".to_owned())
            })
    }

    fn verify_hmac(
        &self,
        alg: ring::hmac::Algorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        let k = self
            .0
            .k
            .as_deref()
            .ok_or_else(|| invalid_key("Symmetric key `k` is missing"))?;
        // Constant-time comparison.
        ring::hmac::verify(&ring::hmac::Key::new(alg, k), message, sig)
            .map_err(|_| SignatureVerificationError::CryptoError("bad HMAC".to_owned()))
    }
}

impl JsonWebKey for RingJwk {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.0.kid.as_ref()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        &self.0.kty
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.0.use_.as_ref()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        match &self.0.alg {
            KeyAlg::Unspecified => JsonWebKeyAlgorithm::Unspecified,
            KeyAlg::Signing(a) => JsonWebKeyAlgorithm::Algorithm(a),
            KeyAlg::NotSigning(_) => JsonWebKeyAlgorithm::Unsupported,
        }
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        RingJwk(Arc::new(Inner {
            kty: CoreJsonWebKeyType::Symmetric,
            use_: None,
            kid: None,
            alg: KeyAlg::Unspecified,
            alg_raw: None,
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
            k: Some(key),
            ec_point: None,
        }))
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        use CoreJwsSigningAlgorithm as A;
        check_compat(self, alg).map_err(invalid_key)?;
        match alg {
            A::RsaSsaPkcs1V15Sha256 => {
                self.verify_rsa(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
            }
            A::RsaSsaPkcs1V15Sha384 => {
                self.verify_rsa(&signature::RSA_PKCS1_2048_8192_SHA384, message, sig)
            }
            A::RsaSsaPkcs1V15Sha512 => {
                self.verify_rsa(&signature::RSA_PKCS1_2048_8192_SHA512, message, sig)
            }
            A::RsaSsaPssSha256 => {
                self.verify_rsa(&signature::RSA_PSS_2048_8192_SHA256, message, sig)
            }
            A::RsaSsaPssSha384 => {
                self.verify_rsa(&signature::RSA_PSS_2048_8192_SHA384, message, sig)
            }
            A::RsaSsaPssSha512 => {
                self.verify_rsa(&signature::RSA_PSS_2048_8192_SHA512, message, sig)
            }
            A::HmacSha256 => self.verify_hmac(ring::hmac::HMAC_SHA256, message, sig),
            A::HmacSha384 => self.verify_hmac(ring::hmac::HMAC_SHA384, message, sig),
            A::HmacSha512 => self.verify_hmac(ring::hmac::HMAC_SHA512, message, sig),
            A::EcdsaP256Sha256 => self.verify_ec(
                CoreJsonCurveType::P256,
                &signature::ECDSA_P256_SHA256_FIXED,
                message,
                sig,
            ),
            A::EcdsaP384Sha384 => self.verify_ec(
                CoreJsonCurveType::P384,
                &signature::ECDSA_P384_SHA384_FIXED,
                message,
                sig,
            ),
            A::EdDsa => match &self.0.crv {
                None => Err(invalid_key("EdDSA key must specify `crv`")),
                Some(CoreJsonCurveType::Ed25519) => {
                    let x = self
                        .0
                        .x
                        .as_deref()
                        .ok_or_else(|| invalid_key("OKP `x` part is missing"))?;
                    UnparsedPublicKey::new(&signature::ED25519, x)
                        .verify(message, sig)
                        .map_err(|_| {
                            SignatureVerificationError::CryptoError(
                                "incorrect EdDSA signature".to_owned(),
                            )
                        })
                }
                Some(crv) => Err(SignatureVerificationError::InvalidKey(format!(
                    "Unsupported EdDSA curve {crv:?}"
                ))),
            },
            other => Err(SignatureVerificationError::UnsupportedAlg(
                serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("{other:?}")),
            )),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        use CoreJwsSigningAlgorithm as A;
        check_compat(self, alg).map_err(String::from)?;
        let d = match alg {
            A::HmacSha256 | A::RsaSsaPkcs1V15Sha256 | A::RsaSsaPssSha256 | A::EcdsaP256Sha256 => {
                &ring::digest::SHA256
            }
            A::HmacSha384 | A::RsaSsaPkcs1V15Sha384 | A::RsaSsaPssSha384 | A::EcdsaP384Sha384 => {
                &ring::digest::SHA384
            }
            A::HmacSha512 | A::RsaSsaPkcs1V15Sha512 | A::RsaSsaPssSha512 | A::EcdsaP521Sha512 => {
                &ring::digest::SHA512
            }
            A::EdDsa => match &self.0.crv {
                None => return Err("EdDSA key must specify `crv`".to_owned()),
                Some(CoreJsonCurveType::Ed25519) => &ring::digest::SHA512,
                Some(crv) => return Err(format!("Unsupported EdDSA curve {crv:?}")),
            },
            A::None => {
                return Err(
                    "Signature algorithm `none` has no corresponding hash algorithm".to_owned(),
                );
            }
            other => return Err(format!("unsupported algorithm {other:?}")),
        };
        Ok(ring::digest::digest(d, bytes).as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair as _, RsaKeyPair};

    const MSG: &[u8] = b"header.payload";

    fn b64(b: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(b)
    }

    fn key(v: serde_json::Value) -> RingJwk {
        serde_json::from_value(v).unwrap()
    }

    fn rsa() -> (RsaKeyPair, serde_json::Map<String, serde_json::Value>) {
        let der = pem_der(include_str!("../testing/keys/rsa2048-1.key.pem"));
        let kp = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .unwrap();
        let pk = kp.public();
        let comps: RsaPublicKeyComponents<Vec<u8>> = pk.into();
        let jwk =
            serde_json::json!({"kty":"RSA","kid":"r1","n": b64(&comps.n), "e": b64(&comps.e)});
        (kp, jwk.as_object().unwrap().clone())
    }

    fn pem_der(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    fn rs256_sig(kp: &RsaKeyPair, msg: &[u8]) -> Vec<u8> {
        let mut sig = vec![0; kp.public().modulus_len()];
        kp.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            msg,
            &mut sig,
        )
        .unwrap();
        sig
    }

    fn ec() -> (EcdsaKeyPair, serde_json::Map<String, serde_json::Value>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let p = kp.public_key().as_ref();
        let jwk = serde_json::json!({"kty":"EC","crv":"P-256","kid":"e1","x": b64(&p[1..33]), "y": b64(&p[33..])});
        (kp, jwk.as_object().unwrap().clone())
    }

    #[test]
    fn rs256_good_and_bad() {
        let (kp, jwk) = rsa();
        let k = key(jwk.clone().into());
        let sig = rs256_sig(&kp, MSG);
        k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
            .unwrap();
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(matches!(
            k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &bad),
            Err(SignatureVerificationError::CryptoError(_))
        ));
        assert!(
            k.verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                b"other",
                &sig
            )
            .is_err()
        );
        // The same signature is not a PS256 one.
        assert!(
            k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPssSha256, MSG, &sig)
                .is_err()
        );
        // A modulus with a leading zero byte (as some JWKS publish) still verifies.
        let mut padded = jwk.clone();
        let mut n = URL_SAFE_NO_PAD
            .decode(padded["n"].as_str().unwrap())
            .unwrap();
        n.insert(0, 0);
        padded.insert("n".into(), b64(&n).into());
        key(padded.into())
            .verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
            .unwrap();
        // hash_bytes, for at_hash / c_hash.
        assert_eq!(
            k.hash_bytes(b"abc", &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256)
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn es256_good_bad_and_psychic() {
        let (kp, jwk) = ec();
        let k = key(jwk.into());
        let sig = kp.sign(&SystemRandom::new(), MSG).unwrap();
        let alg = CoreJwsSigningAlgorithm::EcdsaP256Sha256;
        k.verify_signature(&alg, MSG, sig.as_ref()).unwrap();
        let mut bad = sig.as_ref().to_vec();
        bad[5] ^= 1;
        assert!(k.verify_signature(&alg, MSG, &bad).is_err());
        // CVE-2022-21449: r = s = 0 must never verify.
        assert!(k.verify_signature(&alg, MSG, &[0u8; 64]).is_err());
        // DER-encoded or truncated signatures are not JWS signatures.
        assert!(k.verify_signature(&alg, MSG, &sig.as_ref()[..63]).is_err());
        // ES384 with a P-256 key.
        assert!(matches!(
            k.verify_signature(&CoreJwsSigningAlgorithm::EcdsaP384Sha384, MSG, sig.as_ref()),
            Err(SignatureVerificationError::InvalidKey(_))
        ));
    }

    #[test]
    fn hs256_good_and_bad() {
        let k = RingJwk::new_symmetric(b"client-secret".to_vec());
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"client-secret"),
            MSG,
        );
        let alg = CoreJwsSigningAlgorithm::HmacSha256;
        k.verify_signature(&alg, MSG, tag.as_ref()).unwrap();
        let other = RingJwk::new_symmetric(b"another-secret".to_vec());
        assert!(other.verify_signature(&alg, MSG, tag.as_ref()).is_err());
        assert!(k.verify_signature(&alg, MSG, &tag.as_ref()[..31]).is_err());
        // HS384 tag length and algorithm differ.
        assert!(
            k.verify_signature(&CoreJwsSigningAlgorithm::HmacSha384, MSG, tag.as_ref())
                .is_err()
        );
        // The secret is never serialised.
        assert!(!serde_json::to_string(&k).unwrap().contains("\"k\""));
    }

    #[test]
    fn wrong_key_type_for_alg_is_refused() {
        let (kp, rsa_jwk) = rsa();
        let rsa_key = key(rsa_jwk.into());
        let sig = rs256_sig(&kp, MSG);
        // An RSA key never verifies HS256 (alg confusion), ES256 or EdDSA.
        for alg in [
            CoreJwsSigningAlgorithm::HmacSha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ] {
            assert!(
                matches!(
                    rsa_key.verify_signature(&alg, MSG, &sig),
                    Err(SignatureVerificationError::InvalidKey(_))
                ),
                "{alg:?}"
            );
        }
        // An EC key never verifies RS256; a symmetric key never verifies RS256 or ES256.
        let (_, ec_jwk) = ec();
        let ec_key = key(ec_jwk.into());
        assert!(
            ec_key
                .verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
                .is_err()
        );
        let sym = RingJwk::new_symmetric(b"s".to_vec());
        for alg in [
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ] {
            assert!(sym.verify_signature(&alg, MSG, &sig).is_err());
        }
        // `none` is never a signature algorithm.
        assert!(
            rsa_key
                .verify_signature(&CoreJwsSigningAlgorithm::None, MSG, &[])
                .is_err()
        );
    }

    #[test]
    fn use_and_alg_members_are_honoured() {
        let (kp, jwk) = rsa();
        let sig = rs256_sig(&kp, MSG);
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        let with = |k: &str, v: serde_json::Value| {
            let mut j = jwk.clone();
            j.insert(k.into(), v);
            key(j.into())
        };
        // `use: enc` is refused for signatures; `use: sig` is fine.
        assert!(matches!(
            with("use", "enc".into()).verify_signature(&rs256, MSG, &sig),
            Err(SignatureVerificationError::InvalidKey(_))
        ));
        with("use", "sig".into())
            .verify_signature(&rs256, MSG, &sig)
            .unwrap();
        // `alg` pins the algorithm.
        with("alg", "RS256".into())
            .verify_signature(&rs256, MSG, &sig)
            .unwrap();
        assert!(
            with("alg", "RS512".into())
                .verify_signature(&rs256, MSG, &sig)
                .is_err()
        );
        assert!(
            with("alg", "A128GCM".into())
                .verify_signature(&rs256, MSG, &sig)
                .is_err()
        );
    }

    #[test]
    fn key_sets_skip_what_they_cannot_read() {
        let (_, jwk) = rsa();
        let set: JsonWebKeySet<RingJwk> = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AAAA"},
            {"kty": "RSA", "kid": "weird-alg", "alg": "RSA-OAEP-256", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": 5, "n": "AQAB", "e": "AQAB"},
            jwk,
        ]}))
        .unwrap();
        let kids: Vec<_> = set
            .keys()
            .iter()
            .map(|k| k.key_id().unwrap().as_str().to_owned())
            .collect();
        assert_eq!(kids, ["r1"]);
        // Same verdicts as `CoreJsonWebKey`.
        let core: openidconnect::core::CoreJsonWebKeySet =
            serde_json::from_value(serde_json::to_value(&set).unwrap()).unwrap();
        assert_eq!(core.keys().len(), 1);
    }
}
