//! Ending sessions beyond the browser at hand — every session of a user, or those of one
//! provider session or account — and revoking ended sessions' tokens at their provider.

use std::sync::Arc;
use std::time::Duration;

use super::sealed::TokenSet;
use super::{Sessions, TokenKeeper};
use crate::error::Error;
use crate::flow::ToRevoke;
use crate::store::{SessionFilter, SessionRecord};

/// How long revoking one sign-out's tokens may take in all, in the background.
pub(crate) const REVOKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long a sign-out waits for its revocation before it answers (the revocation goes on in
/// the background after that).
pub(crate) const REVOKE_WAIT: Duration = Duration::from_secs(3);

/// Why sessions end: the audit log's `reason`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EndReason {
    /// The user signed out of this browser.
    SignOut,
    /// The user signed out everywhere.
    SignOutEverywhere,
    /// An admin (or the app, from code) ended them.
    Admin,
    /// The provider said so, server to server.
    BackchannelLogout,
    /// The provider said so, through the browser.
    FrontchannelLogout,
    /// The session ended while a refresh was in flight: the grant's new tokens.
    EndedDuringRefresh,
}

impl EndReason {
    /// The `cause` label of the sessions ended for this reason (`None`: no session ends, only
    /// tokens are revoked).
    fn cause(self) -> Option<&'static str> {
        match self {
            EndReason::EndedDuringRefresh => None,
            other => Some(other.as_str()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::SignOut => "sign_out",
            EndReason::SignOutEverywhere => "sign_out_everywhere",
            EndReason::Admin => "admin",
            EndReason::BackchannelLogout => "backchannel_logout",
            EndReason::FrontchannelLogout => "frontchannel_logout",
            EndReason::EndedDuringRefresh => "ended_during_refresh",
        }
    }
}

impl Sessions {
    /// Ends every session `filter` selects, on every instance sharing the store, and revokes
    /// their tokens at the provider (waiting at most [`REVOKE_WAIT`]). Returns the sessions
    /// ended.
    pub async fn end_where(
        &self,
        filter: &SessionFilter,
        reason: EndReason,
    ) -> Result<Vec<SessionRecord>, Error> {
        let ended = self.take_where(filter).await?;
        self.revoke(ended.clone(), reason).await;
        Ok(ended)
    }

    /// Ends every session `filter` selects, like [`Sessions::end_where`], leaving their tokens
    /// to the caller (who revokes them with others).
    pub async fn take_where(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, Error> {
        Ok(self.store.end_sessions(filter).await?)
    }

    /// Revokes the refresh and access tokens of ended sessions at their providers: in a task
    /// of its own bounded by [`REVOKE_DEADLINE`], awaited for at most [`REVOKE_WAIT`]. Failures
    /// are logged, never returned: the sessions are over either way.
    ///
    /// Every session ended beyond its expiry passes here, so it is counted here.
    pub async fn revoke(&self, ended: Vec<SessionRecord>, reason: EndReason) {
        if let Some(cause) = reason.cause() {
            for r in &ended {
                crate::observe::sessions_ended(&r.provider, cause, 1);
            }
        }
        if ended.iter().all(|r| r.tokens.is_none()) {
            return;
        }
        let keeper = Arc::clone(&self.keeper);
        let task = tokio::spawn(async move {
            let work = revoke_all(&keeper, &ended, reason);
            if tokio::time::timeout(REVOKE_DEADLINE, work).await.is_err() {
                tracing::warn!(
                    reason = reason.as_str(),
                    "revoking ended sessions' tokens at the provider took too long; gave up"
                );
            }
        });
        // Past the wait the task goes on; the answer does not wait for a slow provider.
        let _ = tokio::time::timeout(REVOKE_WAIT, task).await;
    }
}

async fn revoke_all(keeper: &TokenKeeper, ended: &[SessionRecord], reason: EndReason) {
    for r in ended {
        let Some(state) = &r.tokens else { continue };
        let set = match keeper.sealer.open(&state.sealed) {
            Ok(set) => set,
            Err(e) => {
                tracing::warn!(provider = %r.provider, error = %e, "an ended session's tokens could not be opened; not revoked");
                continue;
            }
        };
        revoke_set(keeper, &r.provider, &set, reason).await;
    }
}

/// Revokes one session's tokens at `provider` (the refresh token first), logging the outcome.
pub(super) async fn revoke_set(
    keeper: &TokenKeeper,
    provider: &str,
    set: &TokenSet,
    reason: EndReason,
) {
    let refresh = set.refresh_token.clone().map(crate::config::Secret::new);
    let access = crate::config::Secret::new(set.access_token.clone());
    let mut list = Vec::with_capacity(2);
    // The refresh token first: it is the one that outlives the provider's session.
    if let Some(t) = &refresh {
        list.push(ToRevoke {
            token: t,
            hint: "refresh_token",
        });
    }
    list.push(ToRevoke {
        token: &access,
        hint: "access_token",
    });
    match keeper.flow.revoke(provider, &list).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::debug!(
                provider,
                tokens = n,
                reason = reason.as_str(),
                "revoked an ended session's tokens"
            )
        }
        Err(e) => {
            tracing::warn!(provider, reason = reason.as_str(), error = %e, "revoking an ended session's tokens failed")
        }
    }
}
