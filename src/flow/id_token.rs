//! An ID token from a token response, verified for a provider: the issuer (learned from the
//! token for an Authentik configured by instance URL only), the allowed algorithms, the keys
//! (refetched once for a `kid`-less token no cached key verifies), and the nonce rule. Shared by
//! the callback and the refresh.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::Flow;
use super::params::loggable;
use super::verify::{Expect, NonceRule, VerifiedIdToken, peek, verify_peeked};
use crate::error::{Error, ErrorCode};
use crate::provider::{ProviderState, ResolvedProvider, is_hmac};

/// Variables learned from a token's issuer (an Authentik configured by instance URL only).
pub(super) type Vars = BTreeMap<String, String>;

/// What the caller expects of the token besides the provider's own rules.
pub(crate) struct Expected<'a> {
    pub nonce: NonceRule<'a>,
    /// The access token of the same response, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The authorization response's `iss` (RFC 9207), which must be the token's issuer.
    pub iss_param: Option<&'a str>,
}

/// A verified ID token and the issuer it was verified against.
pub(crate) struct Checked {
    pub token: VerifiedIdToken,
    pub issuer: String,
}

impl Flow {
    pub(super) async fn verify_provider_id_token(
        &self,
        provider: &str,
        st: &ProviderState,
        resolved: &ResolvedProvider,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<Checked, Error> {
        // Parsed once: the peeked header and payload go on to the verifier.
        let peeked = peek(token)?;
        // A multi-tenant provider: the tenant the (unverified) token names picks its issuer.
        let tenant = match resolved.multi_tenant() {
            Some(mt) => Some(
                peeked
                    .1
                    .get(&mt.claim)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            ),
            None => None,
        };
        let (resolved, learned, issuer) = issuer_for(
            provider,
            resolved,
            peeked.0.iss.as_deref(),
            tenant.as_ref().map(Option::as_deref),
            ErrorCode::IdTokenInvalid,
        )?;
        if let Some(iss) = expected.iss_param
            && iss != issuer
        {
            return Err(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "provider `{provider}`: authorization response `iss` differs from the ID token's"
                ),
            ));
        }
        let algs = self.registry.algs_for(st, &resolved).await?;
        let hmac = !algs.is_empty() && algs.iter().all(is_hmac);
        let jwks_url = if hmac {
            None
        } else {
            Some(self.registry.jwks_url_for(st, &resolved).await?)
        };
        let keys = match &jwks_url {
            // HMAC is keyed by the client secret: no JWKS is needed (Authentik serves `{}` in
            // that mode).
            None => Arc::new(crate::provider::KeySet::new(Vec::new())),
            Some(url) => self.registry.keys(st, url, peeked.0.kid.as_deref()).await?,
        };
        let kid_less = peeked.0.kid.is_none();
        let expect = Expect {
            issuer: &issuer,
            client_id: &resolved.client_id,
            client_secret: resolved.client_secret.as_ref(),
            algs: &algs,
            nonce: expected.nonce,
            access_token: expected.access_token,
            now: self.now(),
            skew: self.timing.clock_skew,
            max_age: self.timing.max_token_age,
        };
        let mut result = verify_peeked(token, peeked, &keys, &expect);
        // A token without `kid` that no cached key verifies may be signed with a key the
        // provider rotated in since: fetch the set again (rate-limited) and retry once.
        if result.is_err()
            && kid_less
            && let Some(url) = &jwks_url
            && let Some(fresh) = self.registry.refetched_keys(st, url).await
        {
            result = peek(token).and_then(|p| verify_peeked(token, p, &fresh, &expect));
        }
        let verified = result
            .map_err(|e| Error::new(e.code(), format!("provider `{provider}`: {}", e.detail())))?;
        if let Some(vars) = learned {
            st.learn(vars);
        }
        Ok(Checked {
            token: verified,
            issuer,
        })
    }
}

/// The provider as it expects a token whose (unverified) issuer is `token_iss`: for an Authentik
/// configured by instance URL only, the issuer learned from the token when it is one of that
/// instance's (`mismatch` is the error code when it is not), with the variables learned; for a
/// multi-tenant provider, the issuer of the token's tenant (see [`tenant_issuer`]); else the
/// configured issuer.
///
/// `token_tenant` is `Some` exactly for a multi-tenant provider: the token's tenant claim, if
/// it has one as a string.
pub(super) fn issuer_for<'a>(
    provider: &str,
    resolved: &'a ResolvedProvider,
    token_iss: Option<&str>,
    token_tenant: Option<Option<&str>>,
    mismatch: ErrorCode,
) -> Result<(Cow<'a, ResolvedProvider>, Option<Vars>, String), Error> {
    if resolved.multi_tenant().is_some() {
        let issuer = tenant_issuer(
            provider,
            resolved,
            token_iss,
            token_tenant.flatten(),
            mismatch,
        )?;
        return Ok((Cow::Borrowed(resolved), None, issuer));
    }
    let (resolved, learned) = match &resolved.endpoints.issuer {
        // Borrowed: the common case copies nothing.
        Some(_) => (Cow::Borrowed(resolved), None),
        None => {
            let vars = token_iss
                .and_then(|iss| resolved.match_learnable_issuer(iss))
                .ok_or_else(|| {
                    Error::new(
                        mismatch,
                        format!(
                            "provider `{provider}`: token issuer `{}` is not an issuer of the configured instance URL",
                            loggable(token_iss.unwrap_or(""))
                        ),
                    )
                })?;
            (Cow::Owned(resolved.with_learned(&vars)), Some(vars))
        }
    };
    // The issuer to expect; when it cannot be rendered from the learned variables the
    // configuration is at fault, not the token.
    let Some(issuer) = resolved.endpoints.issuer.clone() else {
        return Err(Error::new(
            ErrorCode::ProviderMisconfigured,
            format!("provider `{provider}`: the issuer template could not be rendered"),
        ));
    };
    Ok((resolved, learned, issuer))
}

/// The issuer of a multi-tenant provider's token, in this order: its tenant claim (`tid`) is a
/// plain tenant id; the issuer template with that tenant is exactly its `iss` (else `mismatch`:
/// a token of one tenant cannot borrow another's issuer); the tenant is on the settings'
/// `allowed_tenants` (else `tenant_not_allowed`). The signature and claims are then verified
/// against that issuer, which also keys the identity.
fn tenant_issuer(
    provider: &str,
    resolved: &ResolvedProvider,
    token_iss: Option<&str>,
    tenant: Option<&str>,
    mismatch: ErrorCode,
) -> Result<String, Error> {
    let claim = resolved.multi_tenant().map_or("", |m| m.claim.as_str());
    let Some((tenant, issuer)) = tenant.and_then(|t| resolved.tenant_issuer(t).map(|i| (t, i)))
    else {
        return Err(Error::new(
            mismatch,
            format!(
                "provider `{provider}`: the token's `{claim}` is missing or not a plain tenant id (`{}`)",
                loggable(tenant.unwrap_or(""))
            ),
        ));
    };
    if token_iss != Some(issuer.as_str()) {
        return Err(Error::new(
            mismatch,
            format!(
                "provider `{provider}`: the token's `iss` `{}` is not the issuer of its tenant `{tenant}` (`{issuer}`)",
                loggable(token_iss.unwrap_or(""))
            ),
        ));
    }
    if !resolved.tenant_allowed(tenant) {
        return Err(Error::new(
            ErrorCode::TenantNotAllowed,
            format!(
                "provider `{provider}`: tenant `{tenant}` is not on the provider's allowed_tenants"
            ),
        ));
    }
    Ok(issuer)
}
