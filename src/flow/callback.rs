//! The callback: the authorization response checked before anything is sent anywhere, then the
//! token exchange, ID token and userinfo verification, and claim mapping — ending at a
//! [`VerifiedSignIn`]. Resolving the user and starting the session are the engine's.

use std::time::{Duration, UNIX_EPOCH};

use super::apple;
use super::id_token::Expected;
use super::params::{CallbackParams, code_of_idp_error, loggable};
use super::token::{Client, Tokens, exchange, get_json, userinfo};
use super::verify::NonceRule;
use super::{Flow, FlowError, safe_return_to};
use crate::config::{AdminRules, EmailTrust, Protocol, ResponseMode};
use crate::error::{Error, ErrorCode};
use crate::identity::Profile;
use crate::provider::http::Endpoint;
use crate::store::{Identity, IdpSession, SignInFacts};
use crate::util::unix_now;

/// A completed, verified sign-in: who the provider says this is (from the verified ID token for
/// OpenID Connect, from the user API for OAuth 2.0), mapped to a profile, with the provider's
/// account-linking policy as configured at that moment.
pub(crate) struct VerifiedSignIn {
    /// The provider id.
    pub provider: String,
    /// The identity the user is found by.
    pub identity: Identity,
    /// The profile mapped from the claims.
    pub profile: Profile,
    /// The raw ID token, as `id_token_hint` for RP-initiated logout.
    pub id_token_hint: Option<String>,
    /// When and how the user authenticated at the provider.
    pub sign_in: SignInFacts,
    /// The provider's side of the session (OpenID Connect only).
    pub idp: Option<IdpSession>,
    /// The token response: kept with the session for `Auth::access_token`.
    pub tokens: Tokens,
    /// The nonce of this sign-in: a refreshed ID token that carries one must carry this one.
    pub nonce: String,
    /// Where the browser goes next (already checked).
    pub return_to: String,
    /// The provider's email trust.
    pub email_trust: EmailTrust,
    /// Whether unknown users are created.
    pub auto_register: bool,
    /// Who becomes an administrator.
    pub admin_rules: AdminRules,
    /// `Set-Cookie` of the consumed transaction.
    pub cookies: Vec<String>,
}

impl Flow {
    /// Completes a sign-in up to the verified identity.
    pub(crate) async fn callback(
        &self,
        provider: &str,
        query: &str,
        cookie_header: Option<&str>,
        mode: ResponseMode,
    ) -> Result<VerifiedSignIn, FlowError> {
        // `query` is the form body of a form_post response: the same encoding.
        let params = CallbackParams::parse(query)?;
        let jar = self.tx_jar(mode);
        // 1. The transaction: bound to this browser (the encrypted cookie), this provider, and
        //    used once. Without a matching one nothing else happens — no token request.
        let Some(mut pending) = jar.read_unique(&self.key, cookie_header) else {
            return Err(FlowError {
                error: Error::new(
                    ErrorCode::InvalidState,
                    format!(
                        "provider `{provider}`: the request carries more than one login transaction cookie (one was planted: cookie tossing)"
                    ),
                ),
                cookies: vec![jar.clear()],
            });
        };
        let state = params.state.as_deref().unwrap_or("");
        let tx = match (state.is_empty(), pending.take(state)) {
            (false, Some(tx)) => tx,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidState,
                    format!("provider `{provider}`: no pending sign-in in this browser matches the callback's state"),
                )
                .into());
            }
        };
        let cookies = vec![jar.write(&self.key, &pending)];
        let fail = |e: Error| FlowError {
            error: e,
            cookies: cookies.clone(),
        };
        if tx.provider != provider {
            return Err(fail(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "the sign-in was started for provider `{}`, not `{provider}`",
                    tx.provider
                ),
            )));
        }
        let expiry = UNIX_EPOCH + Duration::from_secs(tx.expires_at);
        if !self
            .transactions
            .consume_transaction(&tx.id, expiry + self.timing.clock_skew)
            .await
            .map_err(|e| fail(e.into()))?
        {
            return Err(fail(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "provider `{provider}`: this sign-in was already completed (replayed callback)"
                ),
            )));
        }
        if unix_now() > tx.expires_at {
            return Err(fail(Error::new(
                ErrorCode::LoginExpired,
                format!("provider `{provider}`: the sign-in transaction expired"),
            )));
        }
        let st = self
            .registry
            .for_callback(provider, tx.spec.as_deref())
            .await
            .map_err(fail)?;
        let active = self.registry.active(&st).await.map_err(fail)?;
        let resolved = active.resolved.clone();
        // A response in another mode than the one asked for (a form POST for a query provider,
        // or the reverse) is not the provider's answer to this sign-in.
        if resolved.spec.response_mode != mode {
            return Err(fail(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "provider `{provider}`: the authorization response came in response mode {mode:?}, not the provider's"
                ),
            )));
        }

        // 2. RFC 9207: an `iss` in the response must name our issuer; a provider that advertises
        //    it must send it.
        match (&params.iss, &resolved.endpoints.issuer) {
            // A multi-tenant provider's `iss` names one tenant's issuer: checked against the
            // ID token's (`verify_provider_id_token`).
            (Some(iss), Some(expected))
                if iss != expected && resolved.tenant_in_issuer(iss).is_none() =>
            {
                return Err(fail(Error::new(
                    ErrorCode::InvalidState,
                    format!(
                        "provider `{provider}`: authorization response `iss` is `{}`, expected `{expected}`",
                        loggable(iss)
                    ),
                )));
            }
            (Some(iss), None) if resolved.match_learnable_issuer(iss).is_none() => {
                return Err(fail(Error::new(
                    ErrorCode::InvalidState,
                    format!(
                        "provider `{provider}`: authorization response `iss` `{}` is not an issuer of the configured instance",
                        loggable(iss)
                    ),
                )));
            }
            (None, _) if active.iss_param_supported => {
                return Err(fail(Error::new(
                    ErrorCode::InvalidState,
                    format!(
                        "provider `{provider}`: the provider advertises RFC 9207 but sent no `iss`"
                    ),
                )));
            }
            _ => {}
        }
        // 3. An error from the provider, now that we know it answers our own request.
        if let Some(err) = &params.error {
            let code = code_of_idp_error(err);
            return Err(fail(Error::new(
                code,
                format!(
                    "provider `{provider}` answered error `{}`: {}",
                    loggable(err),
                    loggable(params.error_description.as_deref().unwrap_or(""))
                ),
            )));
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return Err(fail(Error::new(
                ErrorCode::InvalidState,
                format!("provider `{provider}`: the callback has no code"),
            )));
        };

        // 4. Token exchange.
        let client = Client::signed(provider, &active, self.client_key.as_deref()).map_err(fail)?;
        let tokens = exchange(
            &self.registry.http,
            &client,
            code,
            &self.redirect_uri(provider),
            tx.pkce_verifier.as_deref(),
        )
        .await
        .map_err(fail)?;

        // 5. The ID token, verified (and the issuer learned, for an instance-URL-only Authentik).
        let mut id_token_hint = None;
        // For OpenID Connect the identity is the verified ID token's `sub`, whatever the claim
        // rules map (matrix X: identity key).
        let mut verified_subject = None;
        let mut idp = None;
        // How the user authenticated: the ID token's word, or (OAuth 2.0) the callback's time.
        let mut facts = SignInFacts {
            auth_time: Some(unix_now()),
            ..SignInFacts::default()
        };
        let (claims, issuer) = match resolved.spec.protocol {
            Protocol::Oidc => {
                let Some(token) = tokens.id_token.as_deref() else {
                    return Err(fail(Error::new(
                        ErrorCode::IdTokenInvalid,
                        format!("provider `{provider}`: the token response has no id_token"),
                    )));
                };
                let checked = self
                    .verify_provider_id_token(
                        provider,
                        &st,
                        &resolved,
                        token,
                        &Expected {
                            nonce: NonceRule::Equals(&tx.nonce),
                            access_token: Some(tokens.access_token.expose()),
                            iss_param: params.iss.as_deref(),
                        },
                    )
                    .await
                    .map_err(fail)?;
                let (mut verified, issuer) = (checked.token, checked.issuer);
                // 6. Userinfo: its `sub` must be the ID token's; ID token claims win on conflict.
                let mut claims = match &active.userinfo {
                    Some(url) => {
                        let info =
                            userinfo(&self.registry.http, provider, url, &tokens.access_token)
                                .await
                                .map_err(fail)?;
                        if info.get("sub").and_then(|s| s.as_str())
                            != Some(verified.subject.as_str())
                        {
                            return Err(fail(Error::new(
                                ErrorCode::IdTokenInvalid,
                                format!(
                                    "provider `{provider}`: userinfo `sub` differs from the ID token's"
                                ),
                            )));
                        }
                        info
                    }
                    None => serde_json::Map::new(),
                };
                facts = sign_in_facts(&verified.claims);
                let sid = verified.sid();
                // The ID token's claims move into the mapped ones (no copy).
                if let serde_json::Value::Object(id_claims) = std::mem::take(&mut verified.claims) {
                    // An email and its verification come from the same source: an ID token
                    // email without `email_verified` is not verified by userinfo's flag, which
                    // may be about another address (never upgrade from a weaker source).
                    if id_claims.contains_key("email") && !id_claims.contains_key("email_verified")
                    {
                        claims.remove("email_verified");
                    }
                    claims.extend(id_claims);
                    if apple::is_apple(&resolved.spec) {
                        apple::normalize_claims(&mut claims);
                    }
                }
                check_max_age(
                    tx.max_age,
                    facts.auth_time,
                    self.timing.clock_skew.as_secs(),
                )
                .map_err(|d| {
                    fail(Error::new(
                        ErrorCode::IdTokenInvalid,
                        format!("provider `{provider}`: {d}"),
                    ))
                })?;
                let subject = std::mem::take(&mut verified.subject);
                idp = Some(IdpSession {
                    issuer: issuer.clone(),
                    subject: subject.clone(),
                    sid,
                });
                verified_subject = Some(subject);
                id_token_hint = Some(verified.into_raw());
                (serde_json::Value::Object(claims), issuer)
            }
            Protocol::Oauth2 => {
                let url = active.userinfo.as_deref().ok_or_else(|| {
                    fail(Error::new(
                        ErrorCode::ProviderMisconfigured,
                        format!("provider `{provider}`: no user API endpoint"),
                    ))
                })?;
                let info = userinfo(&self.registry.http, provider, url, &tokens.access_token)
                    .await
                    .map_err(fail)?;
                let issuer = resolved
                    .endpoints
                    .issuer
                    .clone()
                    .or_else(|| resolved.url.clone())
                    .unwrap_or_else(|| active.authorization.clone());
                (serde_json::Value::Object(info), issuer)
            }
        };

        // 6b. The spec's extra user-API requests (GitHub's emails), each answer under its name;
        //     a claim the provider already sent (the ID token's, above all) is never replaced.
        let mut claims = claims;
        if let serde_json::Value::Object(map) = &mut claims {
            for (name, url) in &resolved.endpoints.fetch {
                if map.contains_key(name) {
                    continue;
                }
                let v = get_json(
                    &self.registry.http,
                    provider,
                    Endpoint::UserApi("user API"),
                    url,
                    &tokens.access_token,
                )
                .await
                .map_err(fail)?;
                map.insert(name.clone(), v);
            }
        }

        // 7. Who this is.
        let mut profile = Profile::from_claims(&claims, &resolved.spec.claims).map_err(fail)?;
        // Sign in with Apple's `user` field: unsigned, so only a display name, and only once the
        // ID token proved who this is.
        if mode == ResponseMode::FormPost
            && verified_subject.is_some()
            && let Some(user) = apple::user_field(query)
        {
            apple::apply_user_field(&mut profile, &user);
        }
        if let Some(sub) = verified_subject {
            profile.subject = sub;
        }
        Ok(VerifiedSignIn {
            provider: provider.to_owned(),
            identity: Identity {
                provider: provider.to_owned(),
                issuer,
                subject: profile.subject.clone(),
            },
            profile,
            id_token_hint,
            sign_in: facts,
            idp,
            tokens,
            nonce: tx.nonce,
            return_to: safe_return_to(Some(&tx.return_to)),
            email_trust: st.settings.email_trust.unwrap_or(resolved.spec.email_trust),
            auto_register: st.settings.auto_register,
            admin_rules: st.settings.admin_rules.clone(),
            cookies,
        })
    }
}

/// `auth_time`, `acr` and `amr` of verified ID token claims (malformed ones count as absent).
fn sign_in_facts(claims: &serde_json::Value) -> SignInFacts {
    SignInFacts {
        auth_time: claims.get("auth_time").and_then(serde_json::Value::as_u64),
        acr: claims
            .get("acr")
            .and_then(|v| v.as_str())
            .map(|s| s.chars().take(256).collect()),
        amr: claims
            .get("amr")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str())
                    .take(16)
                    .map(|m| m.chars().take(64).collect())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// OpenID Connect Core 3.1.2.1: with `max_age` asked for, `auth_time` is required, and an
/// authentication older than `max_age` (plus the clock skew) is refused.
fn check_max_age(max_age: Option<u64>, auth_time: Option<u64>, skew: u64) -> Result<(), String> {
    let Some(max_age) = max_age else {
        return Ok(());
    };
    let Some(auth_time) = auth_time else {
        return Err("`max_age` was asked for, but the ID token has no `auth_time`".into());
    };
    let age = unix_now().saturating_sub(auth_time);
    if age > max_age.saturating_add(skew) {
        return Err(format!(
            "the user authenticated {age} s ago, longer than the {max_age} s `max_age` asked for"
        ));
    }
    Ok(())
}
