//! Framework adapters: the same [`CurrentUser`] and [`AdminUser`] for axum, actix-web and warp,
//! each behind its cargo feature (`axum`, `actix`, `warp`).
//!
//! The types here need no framework; the modules `tower_oidc::axum`, `tower_oidc::actix` and
//! `tower_oidc::warp` make them extractors (or filters) of their framework. Every adapter answers a
//! refused request with the engine's own responses, chosen by the request's `Accept` header:
//!
//! | who | API client (`Accept: application/json`) | browser |
//! |---|---|---|
//! | signed out | `401` `{"error":"unauthenticated",…}` | `303` to the login page with `?return_to=` |
//! | signed in, not an admin (for [`AdminUser`]) | `403` `{"error":"forbidden",…}` | `403` page |
//! | signed in, not in the group / refused by the predicate (`require_group`, `require`) | `403` `{"error":"forbidden",…}` | `403` page |
// The shared checks are used only by the framework modules.
#![cfg_attr(
    not(any(feature = "axum", feature = "actix", feature = "warp")),
    allow(dead_code)
)]

#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
#[cfg(feature = "actix")]
pub mod actix;
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[cfg(feature = "axum")]
pub mod axum;
#[cfg_attr(docsrs, doc(cfg(feature = "warp")))]
#[cfg(feature = "warp")]
pub mod warp;

use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Response};

use crate::session::{Auth, Responses};
use crate::store::{SessionRecord, User};

/// The signed-in user of a request; dereferences to [`User`].
///
/// As an extractor (axum, actix-web) or filter (warp) it refuses signed-out requests: `401`
/// JSON for API clients, a redirect to the login page for browsers. Take an
/// `Option<CurrentUser>` to serve both.
///
/// ```
/// use tower_oidc::adapters::CurrentUser;
///
/// fn greeting(user: &CurrentUser) -> String {
///     format!("Hello, {}!", user.name.as_deref().unwrap_or("you"))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct CurrentUser {
    session: Arc<SessionRecord>,
    user: Arc<User>,
    // For the token calls (Arc clones).
    auth: Auth,
}

impl CurrentUser {
    /// The signed-in user of `auth`, if someone is signed in.
    ///
    /// ```
    /// use tower_oidc::{Auth, adapters::CurrentUser};
    /// assert!(CurrentUser::from_auth(&Auth::anonymous()).is_none());
    /// ```
    pub fn from_auth(auth: &Auth) -> Option<CurrentUser> {
        match (auth.session_record(), auth.user_arc()) {
            (Some(s), Some(u)) => Some(CurrentUser {
                session: s.clone(),
                user: u.clone(),
                auth: auth.clone(),
            }),
            _ => None,
        }
    }

    /// The user, as the user store has them (at most the revalidation bound old).
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The provider the user signed in with (e.g. `authentik`).
    pub fn provider(&self) -> &str {
        &self.session.provider
    }

    /// When and how the user authenticated at the provider (`auth_time`, `acr`, `amr`).
    pub fn sign_in(&self) -> &crate::store::SignInFacts {
        &self.session.sign_in
    }

    /// Whether the user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }

    /// The claims the provider's `[claims.extra]` rules keep with the session (see
    /// [`Auth::claims`]).
    pub fn claims(&self) -> &std::collections::BTreeMap<String, serde_json::Value> {
        &self.session.claims
    }

    /// A valid access token of this user, refreshed first when it is about to expire (see
    /// [`Auth::access_token`]).
    pub async fn access_token(&self) -> Result<crate::session::AccessToken, crate::error::Error> {
        self.auth.access_token().await
    }

    /// The provider's userinfo for this user (see [`Auth::userinfo`]).
    pub async fn userinfo(
        &self,
    ) -> Result<serde_json::Map<String, serde_json::Value>, crate::error::Error> {
        self.auth.userinfo().await
    }
}

impl Deref for CurrentUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.user
    }
}

/// A signed-in administrator; dereferences to [`User`].
///
/// As an extractor or filter it refuses signed-out requests like [`CurrentUser`], and signed-in
/// users who are not administrators with `403`.
///
/// ```
/// use tower_oidc::adapters::AdminUser;
///
/// fn audit_line(admin: &AdminUser) -> String {
///     format!("{} changed the settings", admin.id)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct AdminUser(pub CurrentUser);

impl Deref for AdminUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.0.user
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Nobody is signed in.
    Unauthenticated,
    /// Signed in, but not allowed here (not an administrator, not in the group, or refused by
    /// the app's predicate).
    Forbidden,
    /// The session store could not be asked who this is.
    Unavailable,
    /// Signed in, but the last authentication at the provider is older than this allows.
    LoginTooOld(std::time::Duration),
}

/// The user of `auth`, or why not.
pub(crate) fn check(auth: Option<&Auth>) -> Result<CurrentUser, Denied> {
    // No `Auth` means signed out: the layer inserts none for requests without a session cookie
    // (that keeps the hot path free of allocations).
    if auth.is_some_and(Auth::is_store_unavailable) {
        return Err(Denied::Unavailable);
    }
    auth.and_then(CurrentUser::from_auth)
        .ok_or(Denied::Unauthenticated)
}

/// The administrator of `auth`, or why not.
pub(crate) fn check_admin(auth: Option<&Auth>) -> Result<AdminUser, Denied> {
    let user = check(auth)?;
    if user.is_admin() {
        Ok(AdminUser(user))
    } else {
        Err(Denied::Forbidden)
    }
}

/// The user of `auth` if they are in `group` (exact, case-sensitive match against the groups the
/// provider sent), or why not.
pub(crate) fn check_group(auth: Option<&Auth>, group: &str) -> Result<CurrentUser, Denied> {
    check_with(auth, |user| user.groups.iter().any(|g| g == group))
}

/// The user of `auth` if `allowed` says yes, or why not (`Forbidden` when it says no).
pub(crate) fn check_with(
    auth: Option<&Auth>,
    allowed: impl FnOnce(&User) -> bool,
) -> Result<CurrentUser, Denied> {
    let user = check(auth)?;
    if allowed(user.user()) {
        Ok(user)
    } else {
        Err(Denied::Forbidden)
    }
}

/// The user of `auth` if they authenticated at the provider within `max_age`, or why not.
pub(crate) fn check_recent(
    auth: Option<&Auth>,
    max_age: std::time::Duration,
) -> Result<CurrentUser, Denied> {
    let user = check(auth)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match user.session.sign_in.auth_time {
        Some(t) if now.saturating_sub(t) <= max_age.as_secs() => Ok(user),
        _ => Err(Denied::LoginTooOld(max_age)),
    }
}

/// The response for a refused request: the engine's answers when the request carries them,
/// else the same answers under the default prefix.
pub(crate) fn denied_response(
    denied: Denied,
    auth: Option<&Auth>,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Response<Bytes> {
    let responses = auth.and_then(Auth::responses);
    let default;
    let responses = match responses {
        Some(r) => r,
        None => {
            // Anonymous requests through the tower layer carry no `Auth` (that keeps the hot
            // path free of allocations): answer as an engine with the default prefix.
            default = Responses::default_prefix();
            &default
        }
    };
    match denied {
        Denied::Unauthenticated => responses.unauthenticated(headers, path_and_query),
        Denied::Forbidden => responses.forbidden(headers),
        Denied::LoginTooOld(max_age) => match auth.and_then(Auth::provider) {
            Some(provider) => responses.reauthenticate(headers, provider, path_and_query, max_age),
            None => responses.unauthenticated(headers, path_and_query),
        },
        Denied::Unavailable => responses.error(
            headers,
            &crate::error::Error::new(
                crate::error::ErrorCode::StoreUnavailable,
                "the session store is unavailable",
            ),
            &[],
        ),
    }
}
