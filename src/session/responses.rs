//! How a request that may not pass is answered: `401` JSON or a redirect to the login page for
//! a signed-out request, `403` for a forbidden one, and an error as JSON or a redirect to the
//! error page. [`Auth`](super::Auth) carries these, so extractors answer like the engine without
//! holding it.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};

use std::time::Duration;

use crate::error::Error;
use crate::flow::LoginOptions;
use crate::web::{
    add_cookies, code_json, error_json, html_response, page, redirect, wants_json, with_query,
};

/// Marks a redirect to the login page that was built without knowing the engine (an anonymous
/// request carries no [`Auth`](super::Auth)): the layer the response passes on its way out
/// points it at its own login page, so a custom prefix holds. Holds the checked `return_to`.
#[derive(Debug, Clone)]
pub(crate) struct LoginRedirect(pub String);

/// Marks a JSON `401` built without knowing the engine (an anonymous request carries no
/// [`Auth`](super::Auth)): a layer whose providers accept bearer tokens adds its
/// `WWW-Authenticate: Bearer realm=…` challenge (RFC 6750 §3) on the way out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BearerChallenge;

/// The route prefix of an engine that was given none.
pub(crate) const DEFAULT_PREFIX: &str = "/api/auth";

/// The login and error pages' URLs, and the answers built from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Responses {
    /// The route prefix.
    pub prefix: String,
    /// The login page (`{prefix}/login`).
    pub login_url: String,
    /// Where a browser's error goes, with `?error=<code>`.
    pub error_page: String,
    /// The `WWW-Authenticate` challenge of a JSON `401` (`Bearer realm="<base URL>"`), when a
    /// provider accepts bearer tokens.
    pub bearer_challenge: Option<String>,
}

impl Responses {
    /// The answers of an engine under `prefix` with its error page.
    pub fn new(prefix: &str, error_page: String) -> Self {
        Responses {
            prefix: prefix.to_owned(),
            login_url: format!("{prefix}/login"),
            error_page,
            bearer_challenge: None,
        }
    }

    /// These answers with the RFC 6750 challenge of an API whose callers may send bearer
    /// tokens: `Bearer realm="<realm>"`, without an error (the request carried no token).
    pub fn with_bearer_realm(mut self, realm: &str) -> Self {
        let realm: String = realm.chars().filter(|c| *c != '"' && *c != '\\').collect();
        self.bearer_challenge = Some(format!("Bearer realm=\"{realm}\""));
        self
    }

    /// Whether responses passing the layer need this engine's touch: a login redirect to
    /// re-point (a custom prefix) or a bearer challenge to add.
    pub fn fixes_responses(&self) -> bool {
        self.moves_login_page() || self.bearer_challenge.is_some()
    }

    /// The answers under the default prefix: what an extractor gives an anonymous request,
    /// which carries no engine.
    pub fn default_prefix() -> Self {
        Responses::new(DEFAULT_PREFIX, format!("{DEFAULT_PREFIX}/login"))
    }

    /// Whether a login redirect built under the default prefix points elsewhere than this
    /// engine's login page (a custom prefix), so the layer must re-point it.
    pub fn moves_login_page(&self) -> bool {
        self.prefix != DEFAULT_PREFIX
    }

    /// A signed-out request to a protected route: JSON for API clients, a redirect to the login
    /// page (with `return_to`) for browsers.
    pub fn unauthenticated(&self, headers: &HeaderMap, path_and_query: &str) -> Response<Bytes> {
        if wants_json(headers) {
            let mut r = error_json(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in to continue.",
            );
            match self
                .bearer_challenge
                .as_deref()
                .and_then(|c| http::HeaderValue::from_str(c).ok())
            {
                Some(v) => {
                    r.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
                }
                None => {
                    r.extensions_mut().insert(BearerChallenge);
                }
            }
            r
        } else {
            let rt = crate::web::safe_return_to(Some(path_and_query));
            let mut r = redirect(StatusCode::SEE_OTHER, &self.login_location(&rt), &[]);
            r.extensions_mut().insert(LoginRedirect(rt));
            r
        }
    }

    /// The login page with `return_to`.
    pub fn login_location(&self, return_to: &str) -> String {
        with_query(&self.login_url, &[("return_to", return_to)])
    }

    /// Points a response marked with [`LoginRedirect`] at this engine's login page, and adds
    /// the bearer challenge to one marked with [`BearerChallenge`].
    pub fn fix_login_redirect<B>(&self, r: &mut Response<B>) {
        if let Some(c) = &self.bearer_challenge
            && r.extensions_mut().remove::<BearerChallenge>().is_some()
            && !r.headers().contains_key(http::header::WWW_AUTHENTICATE)
            && let Ok(v) = http::HeaderValue::from_str(c)
        {
            r.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        if let Some(LoginRedirect(rt)) = r.extensions_mut().remove::<LoginRedirect>()
            && let Ok(v) = http::HeaderValue::from_str(&self.login_location(&rt))
        {
            r.headers_mut().insert(http::header::LOCATION, v);
        }
    }

    /// `{prefix}/providers/{provider}/authorize` with `opts`: where a browser starts a sign-in.
    pub fn authorize_url(&self, provider: &str, opts: &LoginOptions) -> String {
        let q = opts.to_query();
        let base = format!("{}/providers/{provider}/authorize", self.prefix);
        if q.is_empty() {
            base
        } else {
            format!("{base}?{q}")
        }
    }

    /// A signed-in user whose authentication is older than a route allows (step-up): JSON
    /// `401 login_required` for API clients; browsers go through `provider` again with
    /// `prompt=login` and `max_age`, and come back to `path_and_query`.
    pub fn reauthenticate(
        &self,
        headers: &HeaderMap,
        provider: &str,
        path_and_query: &str,
        max_age: Duration,
    ) -> Response<Bytes> {
        if wants_json(headers) {
            error_json(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "Sign in again to continue.",
            )
        } else {
            let opts = LoginOptions::default()
                .return_to(crate::web::safe_return_to(Some(path_and_query)))
                .max_age(max_age)
                .prompt("login");
            redirect(
                StatusCode::SEE_OTHER,
                &self.authorize_url(provider, &opts),
                &[],
            )
        }
    }

    /// A signed-in user who is not allowed.
    pub fn forbidden(&self, headers: &HeaderMap) -> Response<Bytes> {
        if wants_json(headers) {
            error_json(
                StatusCode::FORBIDDEN,
                "forbidden",
                "You are not allowed to do this.",
            )
        } else {
            html_response(
                StatusCode::FORBIDDEN,
                page(
                    "Forbidden",
                    "<p>You are signed in, but not allowed to see this page.</p>",
                ),
            )
        }
    }

    /// An error: JSON `{"error","message"}` for API clients, a redirect to the error page with
    /// `?error=<code>` for browsers. The detail goes to the log only (the caller's).
    pub fn error(&self, headers: &HeaderMap, err: &Error, cookies: &[String]) -> Response<Bytes> {
        let code = err.code();
        if wants_json(headers) {
            let mut r = code_json(code);
            add_cookies(&mut r, cookies);
            r
        } else {
            let location = with_query(&self.error_page, &[("error", code.as_str())]);
            redirect(StatusCode::FOUND, &location, cookies)
        }
    }
}
