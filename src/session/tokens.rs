//! Access tokens for API calls on the user's behalf, refreshed once per expiry per session
//! across every instance.
//!
//! The session record carries its tokens sealed ([`super::sealed`]) with, in the clear, the
//! access token's expiry and a refresh lease. A request that needs a token and finds it expiring
//! within the skew takes the lease with the store's compare-and-set; only the holder sends the
//! refresh grant, with the refresh token of the record it swapped (the newest: a stale, rotated
//! token is never sent), and writes the new tokens back releasing the lease. Everyone else —
//! on this instance or another — waits for the lease to be released and reads the new token.
//! Authentik rotates refresh tokens and answers a reused one with `invalid_grant`, so this is
//! what keeps two instances from signing a user out.
//!
//! The holder's work — the grant, the verification and the write-back — runs in a task of its
//! own (`super::refresh`), so a request that is cancelled mid-refresh does not lose a refresh
//! token the provider has already rotated. `invalid_grant` ends the session (`session_expired`,
//! logged once), as does a refreshed ID token that fails verification; a network failure or a
//! 5xx keeps the session and its current token until that expires, and is retried after a
//! pause, so an IdP outage never signs everyone out.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::Instrument as _;

use super::FreshUsers;
use super::sealed::{Sealer, TokenSet};
use crate::error::{Error, ErrorCode};
use crate::flow::Flow;
use crate::store::{SessionId, SessionRecord, SessionStore, TokenState, UserStore};
use crate::util::Clock;

/// How long sessions live and when tokens are refreshed.
///
/// ```
/// use std::time::Duration;
/// use tower_oidc::session::SessionTiming;
/// let t = SessionTiming {
///     idle: Duration::from_secs(24 * 3600),
///     ..SessionTiming::default()
/// };
/// assert_eq!(t.absolute, Duration::from_secs(30 * 24 * 3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTiming {
    /// A session ends after this long without a request (default 7 days).
    pub idle: Duration,
    /// A session ends this long after sign-in, however active (default 30 days).
    pub absolute: Duration,
    /// A request renews the session's expiry (a store write and a new cookie) only when that
    /// moves it by more than this (default 1 hour; at most half of `idle`), not on every
    /// request.
    pub renew_step: Duration,
    /// An access token is refreshed when it expires within this (default 60 s).
    pub refresh_skew: Duration,
    /// How long an instance may hold the refresh lease before another may take over (default
    /// 60 s: longer than a refresh can take — its HTTP calls time out after 10 s each by
    /// default — so a lease lapses only when its holder died). Instances' clocks must agree
    /// to well within it.
    pub refresh_lease: Duration,
    /// After a refresh failed because the provider was unreachable, wait this long before the
    /// next try (default 30 s).
    pub refresh_retry: Duration,
}

impl Default for SessionTiming {
    fn default() -> Self {
        SessionTiming {
            idle: Duration::from_secs(7 * 24 * 3600),
            absolute: Duration::from_secs(30 * 24 * 3600),
            renew_step: Duration::from_secs(3600),
            refresh_skew: Duration::from_secs(60),
            refresh_lease: Duration::from_secs(60),
            refresh_retry: Duration::from_secs(30),
        }
    }
}

/// An access token of the signed-in user, for calling APIs on their behalf. Its `Debug` shows
/// only the expiry.
#[derive(Clone)]
pub struct AccessToken {
    pub(super) secret: String,
    pub(super) expires_at: Option<u64>,
}

impl AccessToken {
    /// The token, for an `Authorization: Bearer` header. Never log it.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `Bearer <token>`, the `Authorization` header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.secret)
    }

    /// When the token expires, when the provider said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at.map(|s| UNIX_EPOCH + Duration::from_secs(s))
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Keeps sessions' tokens fresh (one per layer, shared by every request's `Auth`).
pub(crate) struct TokenKeeper {
    pub store: Arc<dyn SessionStore>,
    pub flow: Arc<Flow>,
    pub users: Arc<dyn UserStore>,
    pub fresh: Arc<FreshUsers>,
    pub sealer: Sealer,
    pub clock: Clock,
    pub timing: SessionTiming,
}

impl std::fmt::Debug for TokenKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeeper")
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

const POLL: Duration = Duration::from_millis(20);

pub(super) fn expired_err(detail: &str) -> Error {
    Error::new(ErrorCode::SessionExpired, detail.to_owned())
}

impl TokenKeeper {
    /// The token state of freshly issued tokens: sealed, with when the access token expires
    /// and when to refresh it (the skew, but at most half the token's lifetime, so a short-lived
    /// token is not refreshed on every call).
    pub fn sealed_state(
        &self,
        set: &TokenSet,
        expires_in: Option<u64>,
        now: u64,
    ) -> Result<TokenState, Error> {
        let skew = self.timing.refresh_skew.as_secs();
        Ok(TokenState {
            access_expires_at: expires_in.map(|e| now.saturating_add(e)),
            refresh_at: expires_in.map(|e| now.saturating_add(e - skew.min(e / 2))),
            refreshable: set.refresh_token.is_some(),
            lease_until: 0,
            retry_after: 0,
            sealed: self.sealer.seal(set)?,
        })
    }

    /// The token state a sign-in's tokens start with.
    pub fn initial(
        &self,
        access_token: &str,
        refresh_token: Option<&str>,
        expires_in: Option<u64>,
        nonce: Option<&str>,
    ) -> Result<TokenState, Error> {
        let set = TokenSet {
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.map(str::to_owned),
            nonce: nonce.map(str::to_owned),
        };
        self.sealed_state(&set, expires_in, self.clock.unix_now())
    }

    /// The provider's userinfo for session `id`, fetched with a valid access token.
    pub async fn userinfo(
        self: &Arc<Self>,
        id: &SessionId,
        snapshot: Arc<SessionRecord>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let provider = snapshot.provider.clone();
        let token = self.access_token(id, snapshot).await?;
        self.flow.userinfo(&provider, token.secret()).await
    }

    pub(super) fn token_of(&self, state: &TokenState) -> Result<AccessToken, Error> {
        let set = self.sealer.open(&state.sealed)?;
        Ok(AccessToken {
            secret: set.access_token,
            expires_at: state.access_expires_at,
        })
    }

    /// A valid access token for session `id`, whose record this request loaded as `snapshot`.
    pub async fn access_token(
        self: &Arc<Self>,
        id: &SessionId,
        snapshot: Arc<SessionRecord>,
    ) -> Result<AccessToken, Error> {
        // Long enough to see a live holder finish, or its lease lapse and take it over.
        let deadline = Instant::now() + self.timing.refresh_lease + Duration::from_secs(5);
        let mut record = snapshot;
        loop {
            let now = self.clock.unix_now();
            let Some(state) = &record.tokens else {
                return Err(expired_err(
                    "this session holds no access token (it began before tokens were kept); sign in again",
                ));
            };
            let usable = |s: &TokenState| s.access_expires_at.is_none_or(|e| e > now);
            let refresh_at = state.refresh_at.or_else(|| {
                state
                    .access_expires_at
                    .map(|e| e.saturating_sub(self.timing.refresh_skew.as_secs()))
            });
            // Fresh enough (or of unknown lifetime): no I/O beyond opening the seal.
            if refresh_at.is_none_or(|r| now < r) {
                return self.token_of(state);
            }
            if !state.refreshable || state.retry_after > now {
                // Nothing to refresh with, or the provider failed a moment ago: the current
                // token while it lasts.
                return if usable(state) {
                    self.token_of(state)
                } else if state.refreshable {
                    Err(Error::new(
                        ErrorCode::ProviderUnreachable,
                        "the access token expired and the provider could not refresh it; retrying later",
                    ))
                } else {
                    Err(expired_err(
                        "the access token expired and the provider gave no refresh token",
                    ))
                };
            }
            if state.lease_until > now {
                // Another request (here or on another instance) is refreshing: wait for it.
                if Instant::now() > deadline {
                    return Err(Error::new(
                        ErrorCode::ProviderUnreachable,
                        "another instance's token refresh did not finish in time",
                    ));
                }
                tokio::time::sleep(POLL).await;
                record = self.reload(id).await?;
                continue;
            }
            // Take the lease.
            let mut leased = record.next_version();
            if let Some(t) = &mut leased.tokens {
                t.lease_until = now.saturating_add(self.timing.refresh_lease.as_secs().max(1));
            }
            if !self.store.compare_and_swap(id, &leased).await? {
                record = self.reload(id).await?;
                continue;
            }
            // The holder's work runs to completion even if this request is dropped: once the
            // grant is sent, the refresh token it spent must be replaced in the store.
            let keeper = Arc::clone(self);
            let id = id.clone();
            // Its span is the request's child, though the grant runs in a task of its own.
            let span = tracing::info_span!("tower_oidc.refresh", provider = %leased.provider);
            let work = tokio::spawn(
                async move { keeper.refresh_holding_lease(&id, leased).await }.instrument(span),
            );
            return work.await.unwrap_or_else(|e| {
                Err(Error::new(
                    ErrorCode::Internal,
                    format!("the token refresh task failed: {e}"),
                ))
            });
        }
    }

    pub(super) async fn reload(&self, id: &SessionId) -> Result<Arc<SessionRecord>, Error> {
        self.store
            .load_shared(id)
            .await?
            .ok_or_else(|| expired_err("the session ended"))
    }
}
