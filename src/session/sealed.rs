//! A session's tokens sealed for the store: AES-256-GCM under a key derived from the layer's
//! cookie key (HMAC-SHA-256 of its encryption half with a purpose label), a random 96-bit nonce
//! per seal, and the purpose as associated data. Every backend — memory, SQLite, Postgres,
//! Redis, or the app's own — holds only ciphertext; the tokens are opened only when
//! `Auth::access_token` is called, never on the hot path.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::store::SealedTokens;

const PURPOSE: &[u8] = b"tower-oidc session tokens v1";

/// The secrets of a session, in the clear (only ever in memory, briefly).
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenSet {
    #[serde(rename = "a")]
    pub access_token: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSet(<redacted>)")
    }
}

/// Seals and opens [`TokenSet`]s.
pub(crate) struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// A sealer keyed from the cookie key's encryption half.
    pub fn new(key: &cookie::Key) -> Self {
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.encryption());
        let derived = ring::hmac::sign(&mac, PURPOSE);
        let mut k = [0u8; 32];
        k.copy_from_slice(&derived.as_ref()[..32]);
        Sealer {
            cipher: Aes256Gcm::new(&k.into()),
        }
    }

    pub fn seal(&self, tokens: &TokenSet) -> Result<SealedTokens, Error> {
        let plain = serde_json::to_vec(tokens)
            .map_err(|e| Error::new(ErrorCode::Internal, format!("sealing tokens: {e}")))?;
        let nonce: [u8; 12] = crate::util::random_bytes();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| Error::new(ErrorCode::Internal, "sealing tokens failed"))?;
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(SealedTokens(URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens sealed tokens; a blob that does not open (another key, tampered) is an error
    /// that ends nothing by itself.
    pub fn open(&self, sealed: &SealedTokens) -> Result<TokenSet, Error> {
        let bad = || {
            Error::new(
                ErrorCode::Internal,
                "the session's sealed tokens do not open with this cookie key (was the key changed?)",
            )
        };
        let raw = URL_SAFE_NO_PAD
            .decode(sealed.0.as_bytes())
            .map_err(|_| bad())?;
        if raw.len() < 12 + 16 {
            return Err(bad());
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| bad())?;
        serde_json::from_slice(&plain).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> TokenSet {
        TokenSet {
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            nonce: Some("n".into()),
        }
    }

    #[test]
    fn sealed_tokens_open_with_the_same_key_only_and_hide_the_secrets() {
        let key = cookie::Key::generate();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal(&set()).unwrap();
        assert!(!sealed.0.contains("secret"));
        let opened = sealer.open(&sealed).unwrap();
        assert_eq!(opened.access_token, "at-secret");
        assert_eq!(opened.refresh_token.as_deref(), Some("rt-secret"));
        // Another key does not open it; a flipped byte does not either.
        assert!(Sealer::new(&cookie::Key::generate()).open(&sealed).is_err());
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed.0).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(
            sealer
                .open(&SealedTokens(URL_SAFE_NO_PAD.encode(raw)))
                .is_err()
        );
        assert!(sealer.open(&SealedTokens("short".into())).is_err());
        // Two seals of the same tokens differ (a fresh nonce each time).
        assert_ne!(sealer.seal(&set()).unwrap(), sealed);
    }
}
