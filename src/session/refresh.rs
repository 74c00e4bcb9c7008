//! The refresh lease holder's work: send the grant with the leased record's refresh token, and
//! write the outcome back — the new tokens (whatever their verification found: the old refresh
//! token is spent), the session ended (`invalid_grant`, or a refreshed ID token that fails
//! verification), or the lease released with a pause before the next try (an outage). Runs in a
//! task of its own (see `TokenKeeper::access_token`).

use super::EndReason;
use super::sealed::TokenSet;
use super::tokens::{AccessToken, TokenKeeper, expired_err};
use crate::error::{Error, ErrorCode};
use crate::flow::{Original, Refreshed, Verified};
use crate::store::{SessionId, SessionRecord};

/// How often the write-back retries on a record that changed under it (a sliding renewal).
const WRITE_ATTEMPTS: usize = 4;

impl TokenKeeper {
    /// Sends the refresh grant with the leased record's refresh token and writes the outcome
    /// back, releasing the lease.
    pub(super) async fn refresh_holding_lease(
        &self,
        id: &SessionId,
        leased: SessionRecord,
    ) -> Result<AccessToken, Error> {
        let Some(state) = leased.tokens.clone() else {
            return Err(expired_err("the session holds no tokens"));
        };
        let set = self.sealer.open(&state.sealed)?;
        let Some(refresh_token) = set.refresh_token.as_deref() else {
            return Err(expired_err("the session holds no refresh token"));
        };
        let original = Original {
            idp: leased.idp.as_ref(),
            nonce: set.nonce.as_deref(),
        };
        let outcome = self
            .flow
            .refresh(&leased.provider, refresh_token, &original)
            .await;
        let now = self.clock.unix_now();
        let counted = match &outcome {
            Ok(r) if matches!(&r.verified, Err(e) if e.code() == ErrorCode::IdTokenInvalid) => {
                "refused"
            }
            Ok(_) => "refreshed",
            Err(e) if e.code() == ErrorCode::SessionExpired => "refused",
            Err(_) => "failed",
        };
        crate::observe::refresh(&leased.provider, counted);
        match outcome {
            Ok(r) => match r.verified {
                Err(e) if e.code() == ErrorCode::IdTokenInvalid => {
                    // Not the user the session was opened for, or not the provider's token.
                    self.end(id, &leased, "refresh_verification_failed", &e)
                        .await;
                    Err(expired_err(
                        "the refreshed ID token failed verification; the session ended",
                    ))
                }
                _ => self.store_refreshed(id, leased, &set, r, now).await,
            },
            Err(e) if e.code() == ErrorCode::SessionExpired => {
                self.end(id, &leased, "refresh_refused", &e).await;
                Err(e)
            }
            Err(e) => {
                tracing::warn!(provider = %leased.provider, code = %e.code(), detail = %e.detail(), "token refresh failed; keeping the session and its current token, retrying later");
                let mut released = leased.next_version();
                if let Some(t) = &mut released.tokens {
                    t.lease_until = 0;
                    t.retry_after = now.saturating_add(self.timing.refresh_retry.as_secs());
                }
                if let Err(se) = self.store.compare_and_swap(id, &released).await {
                    tracing::warn!(error = %se, "could not release the refresh lease (it lapses by itself)");
                }
                match state.access_expires_at {
                    Some(exp) if exp <= now => Err(e),
                    _ => self.token_of(&state),
                }
            }
        }
    }

    /// Ends the session this lease was taken on — only if it is still that record (a holder
    /// whose lease lapsed must not end a session another instance has refreshed since).
    async fn end(&self, id: &SessionId, leased: &SessionRecord, reason: &str, e: &Error) {
        let ended = leased.ended();
        match self.store.compare_and_swap(id, &ended).await {
            Ok(true) => {
                crate::observe::sessions_ended(&leased.provider, "refresh_refused", 1);
                tracing::info!(target: "tower_oidc::audit", event = "session_ended", provider = %leased.provider, user = %leased.user.id, reason, detail = %e.detail(), "the session's tokens could not be refreshed: session ended");
            }
            Ok(false) => {}
            Err(se) => tracing::warn!(error = %se, "could not end the session"),
        }
        self.fresh.forget(&leased.user.id);
    }

    /// Writes a successful grant's tokens back, releasing the lease: with the refreshed
    /// profile when the answer verified, with the tokens alone when verifying it could not be
    /// finished (JWKS or userinfo unreachable).
    async fn store_refreshed(
        &self,
        id: &SessionId,
        leased: SessionRecord,
        old: &TokenSet,
        r: Refreshed,
        now: u64,
    ) -> Result<AccessToken, Error> {
        // Without rotation the provider sends no refresh token, and the old one stays valid.
        let set = TokenSet {
            access_token: r.tokens.access_token.expose().to_owned(),
            refresh_token: r
                .tokens
                .refresh_token
                .as_ref()
                .map(|s| s.expose().to_owned())
                .or_else(|| old.refresh_token.clone()),
            nonce: old.nonce.clone(),
        };
        let state = self.sealed_state(&set, r.tokens.expires_in, now)?;
        let token = AccessToken {
            secret: set.access_token.clone(),
            expires_at: state.access_expires_at,
        };
        let verified = match r.verified {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(provider = %leased.provider, code = %e.code(), detail = %e.detail(), "refreshed tokens kept, but the profile could not be refreshed");
                None
            }
        };
        let user = self
            .refreshed_user(&leased, verified.as_ref(), &r.admin_rules)
            .await;
        let mut base = leased;
        for _ in 0..WRITE_ATTEMPTS {
            let mut next = base.next_version();
            next.tokens = Some(Box::new(state.clone()));
            if let Some(v) = &verified {
                if v.id_token_hint.is_some() {
                    next.id_token_hint = v.id_token_hint.clone();
                }
                if let (Some(idp), Some(sid)) = (&mut next.idp, &v.sid) {
                    idp.sid = Some(sid.clone());
                }
                if let Some(p) = &v.profile {
                    next.claims = p.extra.clone();
                }
            }
            if let Some(u) = &user {
                next.user = u.clone();
            }
            if self.store.compare_and_swap(id, &next).await? {
                tracing::debug!(provider = %next.provider, "access token refreshed");
                return Ok(token);
            }
            // Changed while the grant was in flight.
            let Some(current) = self.store.load_shared(id).await? else {
                // Ended meanwhile (signed out, logged out by the provider): the new tokens are
                // not kept, and are revoked — the sign-out revoked only the spent ones, and a
                // rotated refresh token would otherwise stay valid at the provider.
                super::logout::revoke_set(
                    self,
                    &base.provider,
                    &set,
                    EndReason::EndedDuringRefresh,
                )
                .await;
                return Err(expired_err("the session ended during the token refresh"));
            };
            let same_tokens = current.tokens.as_ref().map(|t| &t.sealed)
                == base.tokens.as_ref().map(|t| &t.sealed);
            if !same_tokens {
                // Another refresh wrote newer tokens (this lease had lapsed): those stand.
                return match &current.tokens {
                    Some(t) => self.token_of(t),
                    None => Err(expired_err("the session ended during the token refresh")),
                };
            }
            // Only the rest of the record moved (a sliding renewal): write onto it.
            base = SessionRecord::clone(&current);
        }
        Err(Error::new(
            ErrorCode::StoreUnavailable,
            "the refreshed tokens could not be written back (the session kept changing)",
        ))
    }

    /// The session's user with a verified refreshed profile applied (and the admin rules), or
    /// `None` to keep the record's.
    async fn refreshed_user(
        &self,
        leased: &SessionRecord,
        verified: Option<&Verified>,
        admin_rules: &crate::config::AdminRules,
    ) -> Option<crate::store::User> {
        let profile = verified?.profile.as_ref()?;
        let updated = crate::identity::refresh_user(
            self.users.as_ref(),
            &leased.user.id,
            &leased.provider,
            profile,
            admin_rules,
        )
        .await;
        self.fresh.forget(&leased.user.id);
        match updated {
            Ok(user) => Some(user),
            Err(e) => {
                tracing::warn!(code = %e.code(), detail = %e.detail(), "could not write the refreshed profile; the session keeps the tokens");
                None
            }
        }
    }
}
