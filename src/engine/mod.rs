//! The framework-agnostic core: [`OidcEngine`] answers auth routes from an `http::Request` and
//! resolves the signed-in user from request headers. The tower layer and every framework
//! adapter are thin shells around it.
//!
//! The engine orchestrates; each step is another module's: the [`flow`](crate::flow) verifies a
//! sign-in, [`identity`](crate::identity) resolves the user, [`session`](crate::session) starts,
//! finds and ends sessions, [`admin`](crate::admin) answers the admin API, and the `ui` pages
//! render what the engine hands them.

mod bearer;
mod health;
mod logout;
mod routes;
mod sign_in;

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

pub use crate::provider::ProviderButton;

pub(crate) use bearer::{bearer_in, bearer_token};

use crate::admin::AdminApi;
use crate::error::Error;
use crate::flow::Flow;
use crate::provider::Registry;
use crate::session::{Auth, Responses, Sessions};
use crate::store::UserStore;

/// The engine behind [`crate::OidcLayer`]. Build it with [`crate::OidcLayer::builder`]; get it
/// with [`crate::OidcLayer::engine`] to drive it from another framework.
pub struct OidcEngine {
    pub(crate) registry: Arc<Registry>,
    pub(crate) flow: Arc<Flow>,
    pub(crate) sessions: Sessions,
    pub(crate) users: Arc<dyn UserStore>,
    pub(crate) responses: Arc<Responses>,
    pub(crate) after_logout: String,
    pub(crate) admin: AdminApi,
    pub(crate) ready_cache: health::ReadyCache,
    /// The `providers.toml` the layer was built from, when it was given as a file.
    pub(crate) providers_file: Option<crate::provider::ProvidersFile>,
    /// The login, error and admin pages: compiled templates and the language rule.
    #[cfg(feature = "ui")]
    pub(crate) pages: Arc<crate::ui::Pages>,
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

    /// The `providers.toml` the layer was built from
    /// ([`OidcLayerBuilder::providers_file`](crate::OidcLayerBuilder::providers_file)), to
    /// reload it; `None` when the providers were given as a value.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()
    ///     .unwrap();
    /// assert!(layer.engine().providers_file().is_none());
    /// ```
    pub fn providers_file(&self) -> Option<&crate::provider::ProvidersFile> {
        self.providers_file.as_ref()
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
        self.sessions.authenticate(headers).await
    }

    /// Who is signed in for a request outside the auth routes, with the engine's answers
    /// attached so that extractors refuse a request the way the engine does, and the
    /// `Set-Cookie` that clears a stale session cookie, if the request carried one.
    ///
    /// A session store that cannot be reached does not fail the request: public routes are
    /// served as signed out, and protected ones answer `503 store_unavailable` (see
    /// [`Auth::is_store_unavailable`]). Only other errors come back as `Err`.
    pub(crate) async fn authenticate_request(
        &self,
        headers: &HeaderMap,
    ) -> Result<(Auth, Option<String>), Error> {
        match self.sessions.check(headers).await {
            Ok(c) => Ok((c.auth.with_responses(self.responses.clone()), c.set_cookie)),
            Err(e) if e.code() == crate::error::ErrorCode::StoreUnavailable => {
                tracing::warn!(code = %e.code(), detail = %e.detail(), "session store unavailable: serving the request as signed out");
                Ok((
                    Auth::unavailable().with_responses(self.responses.clone()),
                    None,
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// [`OidcEngine::authenticate_request`] when it can answer without waiting (a signed-in
    /// request whose session and user are at hand, nothing to write); `None`: ask it.
    pub(crate) fn authenticate_now(&self, headers: &HeaderMap) -> Option<Auth> {
        let auth = self.sessions.check_now(headers)?;
        Some(auth.with_responses(self.responses.clone()))
    }

    /// An anonymous [`Auth`] with the engine's answers attached.
    #[cfg(feature = "actix")]
    pub(crate) fn anonymous(&self) -> Auth {
        Auth::anonymous().with_responses(self.responses.clone())
    }

    /// Whether the request carries a session cookie at all (a cheap check for the hot path).
    pub fn has_session_cookie(&self, headers: &HeaderMap) -> bool {
        self.sessions.has_cookie(headers)
    }

    /// A `store_unavailable` (or other) error as a response, for requests outside the auth
    /// routes that could not be authenticated.
    pub fn error_response(&self, headers: &HeaderMap, err: &Error) -> http::Response<Bytes> {
        tracing::warn!(code = %err.code(), detail = %err.detail(), "request could not be authenticated");
        self.responses.error(headers, err, &[])
    }

    /// The `401` a protected route answers to a signed-out request: JSON for API clients, a
    /// redirect to the login page for browsers.
    pub fn unauthenticated(
        &self,
        headers: &HeaderMap,
        path_and_query: &str,
    ) -> http::Response<Bytes> {
        self.responses.unauthenticated(headers, path_and_query)
    }

    /// The `403` for a signed-in user who is not allowed.
    pub fn forbidden(&self, headers: &HeaderMap) -> http::Response<Bytes> {
        self.responses.forbidden(headers)
    }

    /// The URL (a path under the prefix) that starts a sign-in with `provider`, with a login
    /// hint, a `return_to`, or step-up options (`max_age`, `prompt=login`, `acr_values`).
    ///
    /// ```
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use tower_oidc::{OidcLayer, flow::LoginOptions};
    /// let layer = OidcLayer::builder().base_url("http://127.0.0.1:3000").build()?;
    /// let url = layer.engine().login_url_with(
    ///     "authentik",
    ///     &LoginOptions::default().max_age(Duration::from_secs(300)).prompt("login"),
    /// );
    /// assert_eq!(url, "/api/auth/providers/authentik/authorize?max_age=300&prompt=login");
    /// # Ok(()) }
    /// ```
    pub fn login_url_with(&self, provider: &str, opts: &crate::flow::LoginOptions) -> String {
        self.responses.authorize_url(provider, opts)
    }

    /// The login page URL (the built-in one with feature `ui`, else the error page).
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder().base_url("http://127.0.0.1:3000").build().unwrap();
    /// assert_eq!(layer.engine().login_url(), "/api/auth/login");
    /// ```
    pub fn login_url(&self) -> String {
        self.responses.login_url.clone()
    }

    /// The sign-out URL, `{prefix}/logout`. Sign-out is a same-origin `POST` (a `GET`, or a
    /// `POST` another site's page sends, is refused, so no link or image can sign a user out);
    /// add `?end_session=1` to end the session at the provider too. [`OidcEngine::logout_form`]
    /// is the HTML form.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .prefix("/auth")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(layer.engine().logout_url(), "/auth/logout");
    /// ```
    pub fn logout_url(&self) -> String {
        format!("{}/logout", self.responses.prefix)
    }

    /// A sign-out button: an HTML `<form>` that `POST`s to [`OidcEngine::logout_url`], with
    /// `end_session=1` when `at_provider` (the browser then also signs out at the provider, where
    /// it supports RP-initiated logout). Put it in any page of the app.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder().base_url("http://127.0.0.1:3000").build().unwrap();
    /// assert_eq!(
    ///     layer.engine().logout_form(false),
    ///     r#"<form method="post" action="/api/auth/logout"><button type="submit">Sign out</button></form>"#,
    /// );
    /// ```
    pub fn logout_form(&self, at_provider: bool) -> String {
        let query = if at_provider { "?end_session=1" } else { "" };
        format!(
            r#"<form method="post" action="{}{query}"><button type="submit">Sign out</button></form>"#,
            crate::web::escape(&self.logout_url())
        )
    }
}
