//! RSA signatures (RS256/384/512, PS256/384/512) with `ring`: moduli of 2048 to 8192 bits.

use openidconnect::SignatureVerificationError;
use ring::signature::{self, RsaPublicKeyComponents};

use super::RingJwk;
use super::verify::invalid_key;

/// Big-endian integer without leading zero bytes (what `ring` wants; JWKs may carry them).
fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

impl RingJwk {
    pub(super) fn verify_rsa(
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
}
