//! HMAC (HS256/384/512, keyed with the client secret) with `ring`, compared in constant time.

use openidconnect::SignatureVerificationError;

use super::RingJwk;
use super::verify::invalid_key;

impl RingJwk {
    pub(super) fn verify_hmac(
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
