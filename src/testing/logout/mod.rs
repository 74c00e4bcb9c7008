//! Logout notifications as Authentik sends them when an Authentik session ends: OpenID Connect
//! Back-Channel Logout 1.0 (a signed logout token POSTed to the app) and Front-Channel Logout
//! 1.0 (the app's logout URI loaded in a hidden iframe).
//!
//! The model, shared by [`FakeAuthentik::end_sessions`](super::FakeAuthentik::end_sessions) and
//! the end-session endpoint:
//!
//! - every `/authorize` starts an Authentik session with a new `sid` (64 hex, the ID tokens'
//!   `sid`), held by the browser's `authentik_session` cookie; the access tokens of the code
//!   grant and of every refresh grant descending from it belong to that session;
//! - deleting a session (the user logs out of Authentik, an admin deletes it) deletes its access
//!   tokens, and for the back-channel method sends one logout token **per unexpired access
//!   token** the session held (none when it held none); refresh tokens survive;
//! - a delivery attempt whose answer is 4xx/5xx, or that fails to connect, is retried after
//!   each of the [retry delays](super::FakeAuthentik::set_logout_retry_delays), each attempt
//!   with a freshly minted token (new `jti`, `iat`, `exp`) and the provider settings of the
//!   moment; it stops at the first success;
//! - revoking a token never notifies.

mod api;
mod deliver;
mod end;
mod token;

use std::time::Duration;

pub(crate) use end::end_session_endpoint;

/// The back-channel retry schedule: 5 retries, the lower bounds of the jittered exponential
/// backoff of Authentik's task queue (from 15 s, doubling, capped at 1 h).
pub(crate) const DEFAULT_RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(240),
];

/// How the provider tells the app that an Authentik session ended (the provider's *Logout
/// Method*), set with [`FakeAuthentik::set_logout_uri`](super::FakeAuthentik::set_logout_uri).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LogoutMethod {
    /// OpenID Connect Back-Channel Logout 1.0: Authentik POSTs
    /// `logout_token=<JWT>` (form-urlencoded) to the logout URI, server to server (the default).
    #[default]
    Backchannel,
    /// OpenID Connect Front-Channel Logout 1.0: Authentik's logout page loads
    /// `<logout URI>?iss=<issuer>&sid=<sid>` in a hidden iframe; nothing is POSTed.
    Frontchannel,
}

/// One back-channel delivery attempt: what the fake POSTed to the app and how the app answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutDelivery {
    /// The logout URI posted to.
    pub uri: String,
    /// The `sid` of the ended session (also the token's `sid` claim).
    pub sid: String,
    /// The logout token sent (the `logout_token` form field): each attempt mints its own.
    pub logout_token: String,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// The final HTTP status (after redirects); `None` when no answer came (connection
    /// refused, timeout after 30 s, too many redirects).
    pub status: Option<u16>,
    /// Why no answer came, when `status` is `None`.
    pub error: Option<String>,
}

impl LogoutDelivery {
    /// Whether the attempt counts as delivered: an answer below 400 (Authentik's
    /// `raise_for_status`); anything else is retried.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| s < 400)
    }
}

/// What ending Authentik sessions did, returned by
/// [`FakeAuthentik::end_sessions`](super::FakeAuthentik::end_sessions) and
/// [`end_session`](super::FakeAuthentik::end_session).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutReport {
    /// The `sid`s of the sessions deleted.
    pub ended_sessions: Vec<String>,
    /// The back-channel notifications, one per unexpired access token of an ended session:
    /// their first attempts, awaited (retries go on in the background and show in
    /// [`logout_deliveries`](super::FakeAuthentik::logout_deliveries)).
    pub deliveries: Vec<LogoutDelivery>,
    /// For the front-channel method: the iframe URLs Authentik's logout page loads, one per
    /// ended session that held an unexpired access token. Nothing loads them: a browser test
    /// opens them itself. When the session end models an admin deleting the session, Authentik
    /// shows no page, so such a test ignores them.
    pub frontchannel_urls: Vec<String>,
}
