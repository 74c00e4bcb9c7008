//! actix-web support (feature `actix`): the [`OidcMiddleware`] and the [`CurrentUser`],
//! `Option<CurrentUser>` and [`AdminUser`] extractors.
//!
//! The middleware drives the same [`OidcEngine`] as the tower layer: it answers the auth routes
//! (`/api/auth/...`) and puts an [`Auth`] into the extensions of every other request.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use actix_web::{App, HttpServer, web};
//! use tower_oidc::actix::{AdminUser, CurrentUser, OidcMiddleware};
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
//! async fn admin(admin: AdminUser) -> String {
//!     format!("Settings, for {} only", admin.id)
//! }
//!
//! let layer = OidcLayer::builder()
//!     .providers(Providers::builtin())
//!     .base_url("https://app.example.com")
//!     .build()?;
//! let engine = layer.engine().clone();
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(OidcMiddleware::new(engine.clone()))
//!         .route("/", web::get().to(home))
//!         .route("/me", web::get().to(me))
//!         .route("/admin", web::get().to(admin))
//! })
//! .bind(("127.0.0.1", 3000))?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! A refused request gets the engine's response: `401` JSON for API clients
//! (`Accept: application/json`), a `303` to the login page (with `return_to`) for browsers, and
//! `403` for signed-in users who are not administrators. `Option<CurrentUser>` uses actix-web's
//! `Option<T>` extractor: `None` whenever `CurrentUser` is refused — also when the middleware is
//! missing (the plain `CurrentUser` then refuses as signed out).

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use futures_util::future::LocalBoxFuture;

pub use super::{AdminUser, CurrentUser};
use super::{Denied, check, check_admin, check_group, check_recent, check_with, denied_response};
use crate::engine::OidcEngine;
use crate::session::Auth;

/// Largest request body an auth route reads (as the tower layer).
const MAX_REQUEST_BODY: usize = 64 * 1024;

/// actix-web middleware around an [`OidcEngine`]: serves the auth routes and authenticates
/// every other request (an [`Auth`] in its extensions).
///
/// ```no_run
/// # async fn run(layer: tower_oidc::OidcLayer) {
/// use actix_web::App;
/// use tower_oidc::actix::OidcMiddleware;
///
/// let engine = layer.engine().clone();
/// let server = actix_web::HttpServer::new(move || {
///     App::new().wrap(OidcMiddleware::new(engine.clone()))
/// });
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OidcMiddleware {
    engine: Arc<OidcEngine>,
}

impl OidcMiddleware {
    /// The middleware for `engine` (from [`crate::OidcLayer::engine`]).
    pub fn new(engine: Arc<OidcEngine>) -> Self {
        OidcMiddleware { engine }
    }
}

impl<S, B> Transform<S, ServiceRequest> for OidcMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = OidcMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(OidcMiddlewareService {
            service: Rc::new(service),
            engine: self.engine.clone(),
        }))
    }
}

/// The service [`OidcMiddleware`] wraps an app's service in.
#[derive(Debug)]
pub struct OidcMiddlewareService<S> {
    service: Rc<S>,
    engine: Arc<OidcEngine>,
}

impl<S, B> Service<ServiceRequest> for OidcMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let engine = self.engine.clone();
        let service = self.service.clone();
        if engine.is_auth_route(req.path()) {
            return Box::pin(async move {
                let response = match read_body(&mut req).await {
                    Ok(body) => match to_http_request(&req, body) {
                        Some(r) => engine.handle(r).await,
                        None => crate::web::bad_request(),
                    },
                    Err(r) => r,
                };
                Ok(req
                    .into_response(to_actix_response(&response))
                    .map_into_right_body())
            });
        }
        let cookies = cookie_headers(req.headers());
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::engine::bearer_in)
            .filter(|_| engine.bearer_enabled())
            .map(str::to_owned);
        if token.is_some() {
            // An API client with a bearer token a provider accepts: no session, no cookie.
            let session_cookie = engine.has_session_cookie(&cookies);
            return Box::pin(async move {
                match engine.bearer_auth(token.as_deref(), session_cookie).await {
                    Some(Ok(auth)) => {
                        req.extensions_mut().insert(auth);
                        Ok(service.call(req).await?.map_into_left_body())
                    }
                    Some(Err(r)) => Ok(req
                        .into_response(to_actix_response(&r))
                        .map_into_right_body()),
                    // No provider accepts them any more (a reload in between): anonymous.
                    None => {
                        req.extensions_mut().insert(engine.anonymous());
                        Ok(service.call(req).await?.map_into_left_body())
                    }
                }
            });
        }
        if cookies.is_empty() {
            // Anonymous: no session lookup.
            req.extensions_mut().insert(engine.anonymous());
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        if let Some(auth) = engine.authenticate_now(&cookies) {
            // Signed in with the session and its user at hand, nothing to write.
            req.extensions_mut().insert(auth);
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        Box::pin(async move {
            match engine.authenticate_request(&cookies).await {
                Ok((auth, clear)) => {
                    req.extensions_mut().insert(auth);
                    let mut res = service.call(req).await?;
                    if let Some(v) =
                        clear.and_then(|c| actix_web::http::header::HeaderValue::from_str(&c).ok())
                    {
                        res.headers_mut()
                            .append(actix_web::http::header::SET_COOKIE, v);
                    }
                    Ok(res.map_into_left_body())
                }
                Err(e) => {
                    let r = engine.error_response(&to_http_headers(req.headers()), &e);
                    Ok(req
                        .into_response(to_actix_response(&r))
                        .map_into_right_body())
                }
            }
        })
    }
}

/// The request's `Cookie` headers as an `http` 1 map (empty, without allocation, when there are
/// none).
fn cookie_headers(headers: &actix_web::http::header::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for v in headers.get_all(actix_web::http::header::COOKIE) {
        if let Ok(v) = http::HeaderValue::from_bytes(v.as_bytes()) {
            out.append(http::header::COOKIE, v);
        }
    }
    out
}

/// All headers as an `http` 1 map (actix-web 4 uses `http` 0.2).
fn to_http_headers(headers: &actix_web::http::header::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
    out
}

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, http::Response<Bytes>> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| crate::web::too_large())?;
        if body.len() + chunk.len() > MAX_REQUEST_BODY {
            return Err(crate::web::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn to_http_request(req: &ServiceRequest, body: Bytes) -> Option<http::Request<Bytes>> {
    let method = http::Method::from_bytes(req.method().as_str().as_bytes()).ok()?;
    let uri: http::Uri = req.uri().to_string().parse().ok()?;
    let mut out = http::Request::new(body);
    *out.method_mut() = method;
    *out.uri_mut() = uri;
    *out.headers_mut() = to_http_headers(req.headers());
    Some(out)
}

/// An engine response as an actix-web response.
fn to_actix_response(r: &http::Response<Bytes>) -> HttpResponse<BoxBody> {
    let status = actix_web::http::StatusCode::from_u16(r.status().as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::with_body(status, r.body().clone()).map_into_boxed_body();
    for (name, value) in r.headers() {
        if let (Ok(n), Ok(v)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}

/// The error of the [`CurrentUser`] and [`AdminUser`] extractors: the engine's `401`/`303`/`403`
/// response.
///
/// ```
/// use actix_web::ResponseError as _;
/// use tower_oidc::actix::AuthError;
///
/// fn status(e: &AuthError) -> u16 {
///     e.status_code().as_u16()
/// }
/// ```
#[derive(Debug)]
pub struct AuthError {
    response: http::Response<Bytes>,
}

impl AuthError {
    fn new(denied: Denied, req: &HttpRequest) -> Self {
        let ext = req.extensions();
        let auth = ext.get::<Auth>();

        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        AuthError {
            response: denied_response(
                denied,
                auth,
                &to_http_headers(req.headers()),
                path_and_query,
            ),
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.response.status().as_u16() {
            403 => f.write_str("forbidden"),
            500 => f.write_str("authentication is not set up for this route"),
            _ => f.write_str("not signed in"),
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.response.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        to_actix_response(&self.response)
    }
}

// The error holds the ready response; it is built once per refused request, on the cold path,
// and actix takes it by value, so boxing it would only move the allocation.
#[allow(clippy::result_large_err)]
fn extract<T>(
    req: &HttpRequest,
    f: impl FnOnce(Option<&Auth>) -> Result<T, Denied>,
) -> Result<T, AuthError> {
    let result = f(req.extensions().get::<Auth>());
    result.map_err(|d| AuthError::new(d, req))
}

impl FromRequest for CurrentUser {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req, check))
    }
}

impl FromRequest for AdminUser {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req, check_admin))
    }
}

/// The signed-in user if they authenticated at the provider within `max_age` (step-up, e.g.
/// before changing billing details); otherwise the error to return, whose response sends a
/// browser through the provider again (`prompt=login`, `max_age`) and back to the same page,
/// and answers API clients `401 login_required`.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{HttpRequest, HttpResponse};
/// use tower_oidc::actix::{AuthError, require_recent_login};
///
/// async fn billing(req: HttpRequest) -> Result<HttpResponse, AuthError> {
///     let user = require_recent_login(&req, Duration::from_secs(300))?;
///     Ok(HttpResponse::Ok().body(format!("billing for {}", user.id)))
/// }
/// ```
#[allow(clippy::result_large_err)]
pub fn require_recent_login(
    req: &HttpRequest,
    max_age: std::time::Duration,
) -> Result<CurrentUser, AuthError> {
    extract(req, |auth| check_recent(auth, max_age))
}

/// The signed-in user if they are in `group` (an exact, case-sensitive match against the
/// user's groups as the provider sent them); otherwise the error to return: `403` for other
/// signed-in users, `401` JSON or a `303` to the login page for signed-out requests.
///
/// ```
/// use actix_web::{HttpRequest, HttpResponse};
/// use tower_oidc::actix::{AuthError, require_group};
///
/// async fn ops(req: HttpRequest) -> Result<HttpResponse, AuthError> {
///     let user = require_group(&req, "ops")?;
///     Ok(HttpResponse::Ok().body(format!("operator {}", user.id)))
/// }
/// ```
#[allow(clippy::result_large_err)]
pub fn require_group(req: &HttpRequest, group: &str) -> Result<CurrentUser, AuthError> {
    extract(req, |auth| check_group(auth, group))
}

/// The signed-in user if `allowed` returns `true` for them; otherwise the error to return
/// (`403` for other signed-in users, as [`require_group`] for signed-out requests). The
/// predicate sees the user as the user store has them (at most the revalidation bound old).
///
/// ```
/// use actix_web::{HttpRequest, HttpResponse};
/// use tower_oidc::actix::{AuthError, require};
///
/// async fn staff(req: HttpRequest) -> Result<HttpResponse, AuthError> {
///     let user = require(&req, |u| u.email.as_deref().is_some_and(|e| e.ends_with("@example.com")))?;
///     Ok(HttpResponse::Ok().body(format!("staff {}", user.id)))
/// }
/// ```
#[allow(clippy::result_large_err)]
pub fn require(
    req: &HttpRequest,
    allowed: impl FnOnce(&crate::store::User) -> bool,
) -> Result<CurrentUser, AuthError> {
    extract(req, |auth| check_with(auth, allowed))
}
