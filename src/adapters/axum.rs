//! axum support (feature `axum`): [`CurrentUser`], `Option<CurrentUser>` and [`AdminUser`]
//! extractors, and the [`require_user`] / [`require_admin`] / [`require_group`] / [`require`] /
//! [`require_recent_login`] middleware functions.
//!
//! Add [`crate::OidcLayer`] with `Router::layer` (outermost, so it also serves the auth routes
//! under `/api/auth`); then extract the user in handlers, or guard whole routers:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Router, middleware, routing::get};
//! use tower_oidc::axum::{AdminUser, CurrentUser, require_admin};
//! use tower_oidc::{OidcLayer, Providers};
//!
//! async fn home(user: Option<CurrentUser>) -> String {
//!     match user {
//!         Some(user) => format!("Hello, {}!", user.name.as_deref().unwrap_or("you")),
//!         None => "Hello! Sign in at /api/auth/login".into(),
//!     }
//! }
//! async fn me(user: CurrentUser) -> String {
//!     format!("You are {}", user.email.as_deref().unwrap_or("?"))
//! }
//! async fn settings(admin: AdminUser) -> String {
//!     format!("Settings, for {} only", admin.id)
//! }
//! async fn stats() -> &'static str {
//!     "only admins get here"
//! }
//!
//! let auth = OidcLayer::builder()
//!     .providers(Providers::builtin())
//!     .base_url("https://app.example.com")
//!     .build()?;
//! let admin = Router::new()
//!     .route("/admin/stats", get(stats))
//!     .route_layer(middleware::from_fn(require_admin));
//! let app: Router = Router::new()
//!     .route("/", get(home))
//!     .route("/me", get(me))
//!     .route("/admin/settings", get(settings))
//!     .merge(admin)
//!     .layer(auth);
//! # Ok(()) }
//! ```
//!
//! A refused request gets the engine's response: `401` JSON for API clients
//! (`Accept: application/json`), a `303` to the login page (with `return_to`) for browsers, and
//! `403` for signed-in users who are not administrators. The layer inserts no `Auth` for requests
//! without a session cookie (that keeps its hot path allocation-free), so a route outside the
//! layer is refused as signed out — never an anonymous pass.

use ::axum::body::Body;
use ::axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri, Request};
use ::axum::middleware::Next;
use ::axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;

pub use super::{AdminUser, CurrentUser};
use super::{Denied, check, check_admin, check_group, check_recent, check_with, denied_response};
use crate::session::Auth;
use crate::store::User;

/// The rejection of [`CurrentUser`] and [`AdminUser`]: the engine's `401`/`303`/`403`
/// response.
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_oidc::axum::AuthRejection;
///
/// fn log_and_answer(rejection: AuthRejection) -> axum::response::Response {
///     tracing::debug!(status = %rejection.status(), "refused");
///     rejection.into_response()
/// }
/// ```
#[derive(Debug)]
pub struct AuthRejection {
    response: http::Response<Bytes>,
}

impl AuthRejection {
    fn new(denied: Denied, auth: Option<&Auth>, parts: &Parts) -> Self {
        AuthRejection {
            response: denied_response(denied, auth, &parts.headers, path_and_query(parts)),
        }
    }

    /// The status code: `401`, `303` or `403`.
    pub fn status(&self) -> http::StatusCode {
        self.response.status()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.response.map(Body::from)
    }
}

/// The path and query the user asked for, before any `nest` stripped a prefix.
fn path_and_query(parts: &Parts) -> &str {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map(|o| &o.0)
        .unwrap_or(&parts.uri);
    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts.extensions.get::<Auth>();
        check(auth).map_err(|d| AuthRejection::new(d, auth, parts))
    }
}

/// `Option<CurrentUser>`: `None` when signed out (a request without a session cookie carries no
/// `Auth` at all).
impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let auth = parts.extensions.get::<Auth>();
        match check(auth) {
            Ok(user) => Ok(Some(user)),
            // Signed out, or the session store is down: public routes serve the request.
            Err(Denied::Unauthenticated | Denied::Unavailable) => Ok(None),
            Err(d) => Err(AuthRejection::new(d, auth, parts)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AdminUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts.extensions.get::<Auth>();
        check_admin(auth).map_err(|d| AuthRejection::new(d, auth, parts))
    }
}

/// Middleware that lets only signed-in users through; use with
/// [`axum::middleware::from_fn`] on a router (`layer`) or its
/// routes (`route_layer`).
///
/// ```
/// use axum::{Router, middleware, routing::get};
/// use tower_oidc::axum::require_user;
///
/// let members: Router = Router::new()
///     .route("/members", get(|| async { "members only" }))
///     .route_layer(middleware::from_fn(require_user));
/// ```
pub async fn require_user(req: Request, next: Next) -> Response {
    guard(req, next, check).await
}

/// Middleware that lets only administrators through (`403` for other signed-in users, `401` or
/// a redirect to the login page for signed-out ones); use with
/// [`axum::middleware::from_fn`].
///
/// ```
/// use axum::{Router, middleware, routing::get};
/// use tower_oidc::axum::require_admin;
///
/// let admin: Router = Router::new()
///     .route("/admin", get(|| async { "admins only" }))
///     .route_layer(middleware::from_fn(require_admin));
/// ```
pub async fn require_admin(req: Request, next: Next) -> Response {
    guard(req, next, |auth| check_admin(auth).map(|a| a.0)).await
}

/// Middleware that lets through only users who authenticated at the provider within `max_age`
/// (step-up, e.g. before changing billing details): an older sign-in sends the browser through
/// the provider again (`prompt=login`, `max_age`) and back to the same page; API clients get
/// `401 login_required`; signed-out requests are refused as by [`require_user`].
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, middleware, routing::get};
/// use tower_oidc::axum::require_recent_login;
///
/// let billing: Router = Router::new()
///     .route("/billing", get(|| async { "recently signed in" }))
///     .route_layer(middleware::from_fn(require_recent_login(Duration::from_secs(300))));
/// ```
pub fn require_recent_login(
    max_age: std::time::Duration,
) -> impl Fn(Request, Next) -> Guarded + Clone + Send + Sync + 'static {
    move |req: Request, next: Next| {
        Box::pin(async move { guard(req, next, |auth| check_recent(auth, max_age)).await })
    }
}

/// The boxed future the guard middleware functions return.
type Guarded = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// Runs `check` on the request's `Auth`: on success the request goes on, else the engine's
/// refusal (`401`/`303`/`403`) answers it.
async fn guard(
    req: Request,
    next: Next,
    check: impl FnOnce(Option<&Auth>) -> Result<super::CurrentUser, Denied>,
) -> Response {
    let (parts, body) = req.into_parts();
    let auth = parts.extensions.get::<Auth>();
    if let Err(d) = check(auth) {
        return AuthRejection::new(d, auth, &parts).into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Middleware that lets through only members of `group` (an exact, case-sensitive match
/// against the user's groups as the provider sent them): `403` for other signed-in users, and
/// signed-out requests refused as by [`require_user`] (`401` JSON or a `303` to the login page).
///
/// ```
/// use axum::{Router, middleware, routing::get};
/// use tower_oidc::axum::require_group;
///
/// let ops: Router = Router::new()
///     .route("/ops", get(|| async { "operators only" }))
///     .route_layer(middleware::from_fn(require_group("ops")));
/// ```
pub fn require_group(
    group: impl Into<String>,
) -> impl Fn(Request, Next) -> Guarded + Clone + Send + Sync + 'static {
    let group: std::sync::Arc<str> = group.into().into();
    move |req: Request, next: Next| {
        let group = group.clone();
        Box::pin(async move { guard(req, next, |auth| check_group(auth, &group)).await })
    }
}

/// Middleware that lets through only signed-in users for whom `allowed` returns `true`: `403`
/// for the others, and signed-out requests refused as by [`require_user`]. The predicate sees
/// the user as the user store has them (at most the revalidation bound old).
///
/// ```
/// use axum::{Router, middleware, routing::get};
/// use tower_oidc::axum::require;
///
/// let staff: Router = Router::new()
///     .route("/staff", get(|| async { "staff only" }))
///     .route_layer(middleware::from_fn(require(|user| {
///         user.email_verified && user.email.as_deref().is_some_and(|e| e.ends_with("@example.com"))
///     })));
/// ```
pub fn require<F>(allowed: F) -> impl Fn(Request, Next) -> Guarded + Clone + Send + Sync + 'static
where
    F: Fn(&User) -> bool + Clone + Send + Sync + 'static,
{
    move |req: Request, next: Next| {
        let allowed = allowed.clone();
        Box::pin(async move { guard(req, next, |auth| check_with(auth, allowed)).await })
    }
}
