//! Elliptic-curve signatures with `ring`: ECDSA on P-256 and P-384 (fixed-length `r || s`, as
//! JWS has them) and EdDSA on Ed25519.

use openidconnect::SignatureVerificationError;
use openidconnect::core::CoreJsonCurveType;
use ring::signature::{self, UnparsedPublicKey};

use super::RingJwk;
use super::verify::invalid_key;

impl RingJwk {
    pub(super) fn verify_ec(
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

    pub(super) fn verify_eddsa(
        &self,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        match &self.0.crv {
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
        }
    }
}
