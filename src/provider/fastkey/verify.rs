//! The glue to `openidconnect`: [`RingJwk`] as a `JsonWebKey`. Key compatibility is checked
//! first, exactly as `openidconnect` does for `CoreJsonWebKey`, then the algorithm picks the
//! `ring` check (`rsa`, `ec`, `hmac`).

use std::sync::Arc;

use openidconnect::core::{
    CoreJsonCurveType, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse as _, JwsSigningAlgorithm as _,
    SignatureVerificationError,
};
use ring::signature;

use super::{Inner, KeyAlg, RingJwk};

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

pub(super) fn invalid_key(m: &str) -> SignatureVerificationError {
    SignatureVerificationError::InvalidKey(m.to_owned())
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
            A::EdDsa => self.verify_eddsa(message, sig),
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
