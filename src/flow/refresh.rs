//! The refresh: a refresh token grant, the new ID token verified like the first (same issuer,
//! audience and signature checks; no nonce expected, or the sign-in's; the same `sub`), and the
//! profile mapped again from it and from userinfo, so group and admin changes apply. It knows
//! neither sessions nor users: the session module decides when to refresh and what to keep.

use super::Flow;
use super::id_token::Expected;
use super::token::{Client, Tokens, refresh, userinfo};
use super::verify::NonceRule;
use crate::config::{AdminRules, Protocol};
use crate::error::{Error, ErrorCode};
use crate::identity::Profile;
use crate::store::IdpSession;

/// What the sign-in established, which a refresh must not change.
pub(crate) struct Original<'a> {
    /// The ID token's issuer and subject at sign-in (OpenID Connect).
    pub idp: Option<&'a IdpSession>,
    /// The sign-in's nonce: a refreshed ID token carrying a nonce must carry this one.
    pub nonce: Option<&'a str>,
}

/// A refresh grant the provider answered: its tokens (the old refresh token is spent, so they
/// must be kept whatever follows), and what verifying the answer found.
pub(crate) struct Refreshed {
    pub tokens: Tokens,
    /// The new ID token and userinfo, verified; or why they could not be — `id_token_invalid`
    /// (a bad signature, another `sub` or `iss`) or a failure to reach the JWKS or userinfo.
    pub verified: Result<Verified, Error>,
    /// The provider's admin rules now.
    pub admin_rules: AdminRules,
}

/// What a refresh's verified answer says about the user.
pub(crate) struct Verified {
    /// The profile from the new ID token and userinfo, when the provider sent claims.
    pub profile: Option<Profile>,
    /// The new raw ID token, for RP-initiated logout.
    pub id_token_hint: Option<String>,
    /// The new ID token's `sid`, when it has one.
    pub sid: Option<String>,
}

impl Flow {
    /// Sends one refresh token grant for `provider` and verifies what comes back. An error is
    /// a grant that did not succeed (`session_expired` for `invalid_grant`); after a successful
    /// grant the answer's verification is reported in [`Refreshed::verified`].
    pub(crate) async fn refresh(
        &self,
        provider: &str,
        refresh_token: &str,
        original: &Original<'_>,
    ) -> Result<Refreshed, Error> {
        let st = self.registry.enabled(provider).await?;
        let active = self.registry.active(&st).await?;
        let client = Client::signed(provider, &active, self.client_key.as_deref())?;
        let tokens = refresh(&self.registry.http, &client, refresh_token).await?;
        let verified = self
            .verify_refreshed(provider, &st, &active, &tokens, original)
            .await;
        Ok(Refreshed {
            tokens,
            verified,
            admin_rules: st.settings.admin_rules.clone(),
        })
    }

    async fn verify_refreshed(
        &self,
        provider: &str,
        st: &crate::provider::ProviderState,
        active: &crate::provider::Active,
        tokens: &Tokens,
        original: &Original<'_>,
    ) -> Result<Verified, Error> {
        let resolved = &active.resolved;
        let oidc = resolved.spec.protocol == Protocol::Oidc;
        let mut claims = serde_json::Map::new();
        let mut id_token_hint = None;
        let mut sid = None;
        let mut subject = original.idp.map(|i| i.subject.clone());
        if oidc && let Some(token) = tokens.id_token.as_deref() {
            let checked = self
                .verify_provider_id_token(
                    provider,
                    st,
                    resolved,
                    token,
                    &Expected {
                        nonce: NonceRule::AbsentOrEquals(original.nonce),
                        access_token: Some(tokens.access_token.expose()),
                        iss_param: None,
                    },
                )
                .await?;
            // Core 12.2: the same issuer and subject as the sign-in's ID token.
            if let Some(idp) = original.idp
                && (checked.issuer != idp.issuer || checked.token.subject != idp.subject)
            {
                return Err(Error::new(
                    ErrorCode::IdTokenInvalid,
                    format!(
                        "provider `{provider}`: the refreshed ID token names another issuer or subject than the sign-in's"
                    ),
                ));
            }
            subject = Some(checked.token.subject.clone());
            sid = checked.token.sid();
            id_token_hint = Some(checked.token.expose_raw().to_owned());
            if let serde_json::Value::Object(c) = &checked.token.claims {
                claims = c.clone();
            }
        }
        if let Some(url) = &active.userinfo {
            let info = userinfo(&self.registry.http, provider, url, &tokens.access_token).await?;
            if oidc && info.get("sub").and_then(|s| s.as_str()) != subject.as_deref() {
                return Err(Error::new(
                    ErrorCode::IdTokenInvalid,
                    format!("provider `{provider}`: userinfo `sub` differs from the session's"),
                ));
            }
            // ID token claims win on conflict, as at sign-in; an ID token email without
            // `email_verified` is not verified by userinfo's flag.
            let mut merged = info;
            if claims.contains_key("email") && !claims.contains_key("email_verified") {
                merged.remove("email_verified");
            }
            merged.extend(claims);
            claims = merged;
        }
        let profile = if claims.is_empty() {
            None
        } else {
            let mut p =
                Profile::from_claims(&serde_json::Value::Object(claims), &resolved.spec.claims)?;
            if let Some(sub) = subject {
                p.subject = sub;
            }
            Some(p)
        };
        Ok(Verified {
            profile,
            id_token_hint,
            sid,
        })
    }
}

impl Flow {
    /// The provider's userinfo (or user API) answer for an access token of its own.
    pub(crate) async fn userinfo(
        &self,
        provider: &str,
        access_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let st = self.registry.enabled(provider).await?;
        let active = self.registry.active(&st).await?;
        let Some(url) = &active.userinfo else {
            return Err(Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}` has no userinfo endpoint"),
            ));
        };
        let token = crate::config::Secret::new(access_token);
        userinfo(&self.registry.http, provider, url, &token).await
    }
}
