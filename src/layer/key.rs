//! The cookie key a layer is built with: given (checked), or random where that is safe.

use cookie::Key;

use super::BuildError;
use crate::config::is_loopback;

/// The cookie key from the builder's bytes; without them a random key on loopback development
/// URLs or when `ephemeral` was asked for, else [`BuildError::MissingKey`].
pub(super) fn cookie_key(
    key: Option<Vec<u8>>,
    ephemeral: bool,
    base_url: &url::Url,
) -> Result<Key, BuildError> {
    let key = match key {
        Some(k) => {
            if k.len() < 64 {
                return Err(BuildError::BadKey(format!(
                    "{} bytes; at least 64 are needed",
                    k.len()
                )));
            }
            if k[..32] == k[32..64] {
                return Err(BuildError::BadKey(
                    "the signing and encryption halves are equal".into(),
                ));
            }
            Key::try_from(k.as_slice()).map_err(|e| BuildError::BadKey(e.to_string()))?
        }
        None if ephemeral => {
            tracing::info!(
                "ephemeral cookie key: sessions and pending sign-ins end with this process"
            );
            Key::generate()
        }
        None if is_loopback(base_url) => {
            tracing::warn!(
                "no cookie key configured: using a random one for loopback development; sessions will not survive a restart"
            );
            Key::generate()
        }
        None => return Err(BuildError::MissingKey),
    };
    Ok(key)
}
