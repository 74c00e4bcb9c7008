//! Encryption of client secrets at rest (AES-256-GCM) for the SQL settings stores.

use std::fmt;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

use super::{StoreError, StoreErrorKind};

/// The prefix of every encrypted value; bumped if the format ever changes.
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The 256-bit key that encrypts client secrets in the SQL [`SettingsStore`](super::SettingsStore)
/// backends (AES-256-GCM, a random nonce per value, the provider id as associated data).
///
/// Keep it out of the database (an environment variable, a secrets manager): whoever has both
/// the database and the key has the client secrets. Losing the key loses the stored secrets (the
/// admin enters them again); a wrong key reads as a [`StoreErrorKind::Corrupt`] error. Its
/// `Debug` never shows the key.
///
/// ```
/// use tower_oidc::store::SecretKey;
/// // Generate one once, e.g. with `openssl rand -base64 32`, and keep it in the environment.
/// let key = SecretKey::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
/// assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
/// assert!(SecretKey::from_base64("too short").is_err());
/// ```
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretKey(bytes)
    }

    /// A key from its base64 form (standard or URL-safe alphabet, padded or not) of exactly 32
    /// bytes. The error says what is wrong, never the key.
    pub fn from_base64(encoded: &str) -> Result<Self, StoreError> {
        let encoded = encoded.trim();
        let bytes = STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE.decode(encoded))
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
            .map_err(|_| {
                StoreError::new(
                    StoreErrorKind::Other,
                    "read secret key",
                    "the secret key is not valid base64",
                )
            })?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            StoreError::new(
                StoreErrorKind::Other,
                "read secret key",
                format!("the secret key must be 32 bytes, got {}", b.len()),
            )
        })?;
        Ok(SecretKey(bytes))
    }

    /// A new random key from the operating system's generator (for tests, or to print one
    /// once for a deployment).
    pub fn generate() -> Self {
        SecretKey(crate::util::random_bytes())
    }

    /// The key in standard base64, to store it in the app's secrets.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

fn aad(provider: &str) -> Vec<u8> {
    format!("tower-oidc:client_secret:{provider}").into_bytes()
}

/// Encrypts `plain` for the settings row of `provider`: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
pub(crate) fn seal(
    key: Option<&SecretKey>,
    provider: &str,
    plain: &str,
) -> Result<String, StoreError> {
    let key = key.ok_or_else(|| {
        StoreError::new(
            StoreErrorKind::Other,
            "store settings",
            "a client secret can only be stored encrypted: give the store a key with \
             `with_secret_key`",
        )
    })?;
    let nonce: [u8; NONCE_LEN] = crate::util::random_bytes();
    let aad = aad(provider);
    let ct = key
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| {
            StoreError::new(StoreErrorKind::Other, "store settings", "encryption failed")
        })?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
}

/// Decrypts a value made by [`seal`] for the same `provider`.
pub(crate) fn open(
    key: Option<&SecretKey>,
    provider: &str,
    stored: &str,
) -> Result<String, StoreError> {
    let corrupt = |msg: &str| StoreError::new(StoreErrorKind::Corrupt, "load settings", msg);
    let body = stored
        .strip_prefix(PREFIX)
        .ok_or_else(|| corrupt("the stored client secret is not in the `v1:` encrypted format"))?;
    let key = key.ok_or_else(|| {
        StoreError::new(
            StoreErrorKind::Other,
            "load settings",
            format!(
                "the client secret of `{provider}` is encrypted but the store has no key: give \
                 it the key with `with_secret_key`"
            ),
        )
    })?;
    let raw = STANDARD
        .decode(body)
        .map_err(|_| corrupt("the stored client secret is not valid base64"))?;
    if raw.len() < NONCE_LEN + 16 {
        return Err(corrupt("the stored client secret is too short"));
    }
    let (nonce, ct) = raw.split_at(NONCE_LEN);
    let aad = aad(provider);
    let plain = key
        .cipher()
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .map_err(|_| {
            StoreError::new(
                StoreErrorKind::Corrupt,
                "load settings",
                format!(
                    "cannot decrypt the client secret of `{provider}`: wrong secret key, or the \
                     value was altered"
                ),
            )
        })?;
    String::from_utf8(plain).map_err(|_| corrupt("the decrypted client secret is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let k = SecretKey::generate();
        let sealed = seal(Some(&k), "authentik", "hunter2").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            seal(Some(&k), "authentik", "hunter2").unwrap(),
            "random nonce"
        );
        assert_eq!(open(Some(&k), "authentik", &sealed).unwrap(), "hunter2");
        // Wrong key, other provider row, tampering, no key: errors, never panics.
        let other = SecretKey::generate();
        assert_eq!(
            open(Some(&other), "authentik", &sealed).unwrap_err().kind(),
            StoreErrorKind::Corrupt
        );
        assert_eq!(
            open(Some(&k), "google", &sealed).unwrap_err().kind(),
            StoreErrorKind::Corrupt
        );
        assert_eq!(
            open(Some(&k), "authentik", "v1:AAAA").unwrap_err().kind(),
            StoreErrorKind::Corrupt
        );
        assert_eq!(
            open(Some(&k), "authentik", "hunter2").unwrap_err().kind(),
            StoreErrorKind::Corrupt
        );
        assert!(open(None, "authentik", &sealed).is_err());
        assert!(seal(None, "authentik", "x").is_err());
        let b64 = k.to_base64();
        assert_eq!(SecretKey::from_base64(&b64).unwrap().0, k.0);
    }
}
