//! Whole-settings checks before a change is stored: an enabled provider must be usable, and no
//! two providers may share one client.

use super::errors::{FieldError, invalid};
use crate::config::{ProviderSettings, ProviderSpec};
use crate::provider::ResolvedProvider;

/// Whole-settings checks: an enabled provider must be usable.
pub(super) fn validate_settings(
    spec: &ProviderSpec,
    s: &ProviderSettings,
) -> Result<(), FieldError> {
    if !s.enabled {
        return Ok(());
    }
    if s.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(invalid(
            "client_id",
            "a client ID is needed to enable this provider (Authentik: Protocol Settings → Client ID)",
        ));
    }
    if let Err(e) = ResolvedProvider::resolve(spec, s) {
        let detail = e.detail();
        let field = if detail.contains("slug") {
            "slug"
        } else if detail.contains("client id") {
            "client_id"
        } else {
            "url"
        };
        let message = detail
            .strip_prefix(&format!("provider `{}`: ", spec.id))
            .unwrap_or(detail);
        let message = if message == "no provider URL is set" {
            "a provider URL is needed to enable this provider (Authentik: the instance URL, e.g. https://auth.example.com)".to_owned()
        } else {
            message.to_owned()
        };
        return Err(invalid(field, message));
    }
    Ok(())
}

/// Two providers of one kind with the same URL and client id would make identities ambiguous.
pub(super) fn check_duplicate_client(
    id: &str,
    spec: &ProviderSpec,
    s: &ProviderSettings,
    all: &[(ProviderSpec, ProviderSettings)],
) -> Result<(), FieldError> {
    let (Some(url), Some(client)) = (&s.url, &s.client_id) else {
        return Ok(());
    };
    let key = |sp: &ProviderSpec| sp.issuer.as_ref().map(|t| t.as_str().to_owned());
    let norm = |u: &str| u.trim_end_matches('/').to_owned();
    for (other_spec, other) in all {
        if other_spec.id == id {
            continue;
        }
        if key(other_spec) == key(spec)
            && other.url.as_deref().map(norm) == Some(norm(url))
            && other.client_id.as_deref() == Some(client.as_str())
        {
            return Err(invalid(
                "client_id",
                format!(
                    "provider `{}` already uses this URL and client ID: identities would be ambiguous",
                    other_spec.id
                ),
            ));
        }
    }
    Ok(())
}
