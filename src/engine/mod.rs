//! The framework-agnostic core: [`OidcEngine`] answers auth routes from an `http::Request` and
//! resolves the signed-in user from request headers. The tower layer and every framework
//! adapter are thin shells around it.

mod responses;
mod routes;

use std::sync::Arc;

use http::HeaderMap;

#[cfg_attr(not(feature = "ui"), allow(unused_imports))]
pub(crate) use responses::{escape, json_response, wants_json};

/// A redirect with the auth responses' headers.
pub(crate) fn redirect_response(
    status: http::StatusCode,
    location: &str,
) -> http::Response<bytes::Bytes> {
    responses::redirect(status, location, &[])
}
pub use routes::ProviderButton;
#[cfg_attr(not(feature = "ui"), allow(unused_imports))]
pub(crate) use routes::page;

use crate::error::Error;
use crate::flow::Flow;
use crate::session::Auth;

/// The engine behind [`crate::OidcLayer`]. Build it with [`crate::OidcLayer::builder`]; get it
/// with [`crate::OidcLayer::engine`] to drive it from another framework.
pub struct OidcEngine {
    pub(crate) flow: Flow,
    pub(crate) error_page: String,
    pub(crate) after_logout: String,
    pub(crate) admin: crate::admin::AdminState,
}

impl std::fmt::Debug for OidcEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcEngine")
            .field("base_url", &self.flow.base_url)
            .field("prefix", &self.flow.prefix)
            .finish_non_exhaustive()
    }
}

impl OidcEngine {
    /// The route prefix (default `/api/auth`).
    pub fn prefix(&self) -> &str {
        &self.flow.prefix
    }

    /// The public base URL of the app.
    pub fn base_url(&self) -> &str {
        &self.flow.base_url
    }

    /// The redirect URI to register at a provider.
    pub fn redirect_uri(&self, provider: &str) -> String {
        self.flow.redirect_uri(provider)
    }

    /// Whether `path` is one of the engine's routes (under the prefix).
    pub fn is_auth_route(&self, path: &str) -> bool {
        match path.strip_prefix(self.flow.prefix.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Who is signed in, from the request's `Cookie` header. No cookie: anonymous, without
    /// allocation or I/O. A cookie that is tampered, forged or expired: anonymous. A session
    /// store that cannot be reached: `store_unavailable`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Auth, Error> {
        let Some(id) = self.session_id(headers) else {
            return Ok(Auth::anonymous());
        };
        match self.flow.sessions.load(&id).await? {
            Some(record) if !record.is_expired(std::time::SystemTime::now()) => {
                Ok(Auth::signed_in(Arc::new(record)))
            }
            _ => Ok(Auth::anonymous()),
        }
    }

    /// Whether the request carries a session cookie at all (a cheap check for the hot path).
    pub fn has_session_cookie(&self, headers: &HeaderMap) -> bool {
        headers.get_all(http::header::COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| crate::flow::find_cookie(s, self.flow.session_cookie.name).is_some())
        })
    }

    pub(crate) fn session_id(&self, headers: &HeaderMap) -> Option<crate::store::SessionId> {
        headers.get_all(http::header::COOKIE).iter().find_map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| self.flow.session_cookie.read(&self.flow.key, s))
        })
    }

    /// A `store_unavailable` (or other) error as a response, for requests outside the auth
    /// routes that could not be authenticated.
    pub fn error_response(&self, headers: &HeaderMap, err: &Error) -> http::Response<bytes::Bytes> {
        tracing::warn!(code = %err.code(), detail = %err.detail(), "request could not be authenticated");
        responses::error(self, headers, err, Vec::new())
    }

    /// The `401` a protected route answers to a signed-out request: JSON for API clients, a
    /// redirect to the login page for browsers.
    pub fn unauthenticated(
        &self,
        headers: &HeaderMap,
        path_and_query: &str,
    ) -> http::Response<bytes::Bytes> {
        responses::unauthenticated(self, headers, path_and_query)
    }

    /// The `403` for a signed-in user who is not allowed.
    pub fn forbidden(&self, headers: &HeaderMap) -> http::Response<bytes::Bytes> {
        responses::forbidden(headers)
    }

    /// The login page URL (the built-in one with feature `ui`, else the error page).
    pub fn login_url(&self) -> String {
        format!("{}/login", self.flow.prefix)
    }
}
