//! Sessions: the session cookie (a random id, signed), the [`Auth`] request extension, the
//! answers a signed-out or forbidden request gets, and the session store behind them.
//!
//! The cookie holds only a 256-bit random id, HMAC-signed with the app's key (so a tampered,
//! truncated or forged cookie is rejected before any store lookup). It is `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, without `Domain`; on an https base URL it is also `Secure` and named
//! with the `__Host-` prefix (which blocks cookie tossing from sibling subdomains); on http
//! loopback it is plain, so local development works.
//!
//! This module knows the store and the HTTP plumbing, nothing of flows or providers: the engine
//! hands it a finished [`crate::store::SessionRecord`] to start, and asks it who is signed in.

mod auth;
mod fresh_users;
mod handoff;
mod logout;
mod refresh;
mod responses;
mod sealed;
mod session_cookie;
mod sessions;
mod tokens;

pub use auth::Auth;
pub(crate) use fresh_users::FreshUsers;
pub(crate) use handoff::HandedOff;
pub(crate) use logout::EndReason;
pub(crate) use responses::{DEFAULT_PREFIX, Responses};
pub(crate) use sealed::Sealer;
pub(crate) use session_cookie::SessionCookie;
pub(crate) use sessions::Sessions;
pub(crate) use tokens::TokenKeeper;
pub use tokens::{AccessToken, SessionTiming};
