//! The cookie key a layer is built with: given (checked), or random where that is safe; and the
//! public base URL it is built for (checked).

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

/// The app's public base URL, checked: an absolute `https` (or loopback `http`) origin, without
/// a query or a path (a mount path belongs in the prefix).
pub(super) fn public_base(base: &str) -> Result<url::Url, BuildError> {
    let parsed = crate::config::check_url(base.trim()).map_err(BuildError::BadBaseUrl)?;
    if parsed.query().is_some() {
        return Err(BuildError::BadBaseUrl("must not have a query".into()));
    }
    if parsed.path() != "/" {
        // A path here would put redirect URIs and cookie paths where the app does not
        // serve them (or, behind a proxy that strips the path, where the browser does not
        // go): the prefix is the one place a mount path belongs.
        return Err(BuildError::BadBaseUrl(format!(
            "must be an origin (scheme, host, port), not `{}`: for an app mounted under `{}`, set the base URL `{}` and the prefix `{}/api/auth` (and serve the app under `{}` without stripping it)",
            base.trim(),
            parsed.path().trim_end_matches('/'),
            parsed.origin().ascii_serialization(),
            parsed.path().trim_end_matches('/'),
            parsed.path().trim_end_matches('/'),
        )));
    }
    Ok(parsed)
}
