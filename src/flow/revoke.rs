//! Token revocation at the provider (RFC 7009): signing out, sign out everywhere and a
//! back-channel logout revoke the ended sessions' refresh and access tokens, because a refresh
//! token outlives the provider's session (Authentik keeps it valid after logout).

use super::Flow;
use super::token::Client;
use crate::config::Secret;
use crate::error::{Error, ErrorCode};
use crate::provider::http::{Call, Endpoint};

/// A token to revoke and its `token_type_hint`.
pub(crate) struct ToRevoke<'a> {
    pub token: &'a Secret,
    /// `refresh_token` or `access_token`.
    pub hint: &'static str,
}

impl Flow {
    /// Revokes `tokens` at `provider`'s revocation endpoint, in order, with the client's
    /// authentication. `Ok(0)` when the provider has no revocation endpoint; the first failure
    /// ends the attempt (the caller logs it).
    pub(crate) async fn revoke(
        &self,
        provider: &str,
        tokens: &[ToRevoke<'_>],
    ) -> Result<usize, Error> {
        if tokens.is_empty() {
            return Ok(0);
        }
        // A provider the admin turned off is not contacted.
        let st = match self.registry.enabled(provider).await {
            Ok(st) => st,
            Err(e) if e.code() == ErrorCode::ProviderDisabled => {
                tracing::info!(
                    provider,
                    "provider turned off: the ended session's tokens are not revoked there"
                );
                return Ok(0);
            }
            Err(e) => return Err(e),
        };
        let active = self.registry.active(&st).await?;
        let Some(url) = active.revocation.as_deref() else {
            return Ok(0);
        };
        let mut revoked = 0;
        for t in tokens {
            // A fresh client assertion (its own `jti`) for every request.
            let client = Client::signed(provider, &active, self.client_key.as_deref())?;
            let mut form = vec![("token", t.token.expose()), ("token_type_hint", t.hint)];
            let basic = client.authenticate(&mut form);
            let resp = self
                .registry
                .http
                .post_form(Call::of(provider, Endpoint::Revocation), url, &form, basic)
                .await?;
            // RFC 7009 §2.2: 200 whether or not the token was valid; 503 asks to retry later.
            if !(200..300).contains(&resp.status) {
                return Err(Error::new(
                    if resp.status >= 500 {
                        ErrorCode::ProviderUnreachable
                    } else {
                        ErrorCode::ProviderMisconfigured
                    },
                    format!(
                        "provider `{provider}`: revocation endpoint answered HTTP {}",
                        resp.status
                    ),
                ));
            }
            revoked += 1;
        }
        Ok(revoked)
    }
}
