//! warp support (feature `warp`): filters over the same [`OidcEngine`] as the tower layer.
//!
//! - [`routes`] serves the auth routes (`/api/auth/...`); put it first.
//! - [`auth`] extracts the request's [`Auth`]; [`current_user`] an `Option<CurrentUser>`.
//! - [`require_user`] extracts a [`CurrentUser`] and [`require_admin`] an [`AdminUser`]; they
//!   reject with an [`AuthRejection`] that carries the engine's answer (`401` JSON for API
//!   clients, a `303` to the login page for browsers, `403` for signed-in non-admins).
//! - [`handle_rejection`], given to `Filter::recover`, turns that rejection into its response.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use warp::Filter;
//! use tower_oidc::{OidcLayer, Providers, warp as oidc};
//!
//! let layer = OidcLayer::builder()
//!     .providers(Providers::builtin())
//!     .base_url("https://app.example.com")
//!     .build()?;
//! let engine = layer.engine().clone();
//!
//! let home = warp::path::end()
//!     .and(oidc::current_user(engine.clone()))
//!     .map(|user: Option<oidc::CurrentUser>| match user {
//!         Some(user) => format!("Hello, {}!", user.name.as_deref().unwrap_or("you")),
//!         None => "Hello! Sign in at /api/auth/login".into(),
//!     });
//! let me = warp::path!("me")
//!     .and(oidc::require_user(engine.clone()))
//!     .map(|user: oidc::CurrentUser| format!("You are {}", user.email.as_deref().unwrap_or("?")));
//! let admin = warp::path!("admin")
//!     .and(oidc::require_admin(engine.clone()))
//!     .map(|admin: oidc::AdminUser| format!("Settings, for {} only", admin.id));
//!
//! let app = oidc::routes(engine)
//!     .or(home)
//!     .or(me)
//!     .or(admin)
//!     .recover(oidc::handle_rejection);
//! warp::serve(app).run(([127, 0, 0, 1], 3000)).await;
//! # Ok(()) }
//! ```
//!
//! Without `recover(handle_rejection)`, warp answers an [`AuthRejection`] with its generic
//! `500`; with it, every refused request gets the right status, body and `Location`. A
//! `recover` of your own can call [`handle_rejection`] first, or look for the rejection with
//! `rejection.find::<AuthRejection>()`.

use std::convert::Infallible;
use std::sync::Arc;

use ::warp::filters::path::FullPath;
use ::warp::{Filter, Rejection};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use http::HeaderMap;

pub use super::{AdminUser, CurrentUser};
use super::{Denied, check, check_admin, check_group, check_recent, check_with, denied_response};
use crate::engine::OidcEngine;
use crate::session::Auth;

/// Largest request body an auth route reads (as the tower layer).
const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Why warp refused a request, with the engine's response for it. Turn it into that response
/// with [`handle_rejection`].
///
/// ```
/// use tower_oidc::warp::AuthRejection;
///
/// fn is_ours(rejection: &warp::Rejection) -> bool {
///     rejection.find::<AuthRejection>().is_some()
/// }
/// ```
#[derive(Debug)]
pub struct AuthRejection {
    response: http::Response<Bytes>,
}

impl AuthRejection {
    /// The status of the response: `401`, `303`, `403`, `500` or `503`.
    pub fn status(&self) -> http::StatusCode {
        self.response.status()
    }

    /// The response (a cheap copy: the body is shared).
    pub fn response(&self) -> http::Response<Bytes> {
        let mut r = http::Response::new(self.response.body().clone());
        *r.status_mut() = self.response.status();
        *r.headers_mut() = self.response.headers().clone();
        r
    }
}

impl ::warp::reject::Reject for AuthRejection {}

/// Turns an [`AuthRejection`] into its response; passes other rejections on. Use with
/// `Filter::recover`.
///
/// ```
/// use warp::Filter;
///
/// let app = warp::path!("me")
///     .map(|| "me")
///     .recover(tower_oidc::warp::handle_rejection);
/// ```
pub async fn handle_rejection(rejection: Rejection) -> Result<http::Response<Bytes>, Rejection> {
    match rejection.find::<AuthRejection>() {
        Some(r) => Ok(r.response()),
        None => Err(rejection),
    }
}

/// The auth routes (`/api/auth/...` by default), answered by the engine. Other paths are
/// rejected as "not found", so chain the app's filters after it with `or`.
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// let app = tower_oidc::warp::routes(engine).or(warp::path::end().map(|| "home"));
/// # }
/// ```
pub fn routes(
    engine: Arc<OidcEngine>,
) -> impl Filter<Extract = (http::Response<Bytes>,), Error = Rejection> + Clone {
    let check_engine = engine.clone();
    ::warp::path::full()
        .and_then(move |path: FullPath| {
            let hit = check_engine.is_auth_route(path.as_str());
            async move {
                if hit {
                    Ok(path)
                } else {
                    Err(::warp::reject::not_found())
                }
            }
        })
        .and(::warp::method())
        .and(raw_query())
        .and(::warp::header::headers_cloned())
        .and(::warp::body::stream())
        .and_then(
            move |path: FullPath, method: http::Method, query: String, headers: HeaderMap, body| {
                let engine = engine.clone();
                async move {
                    let body = match read_body(body).await {
                        Ok(b) => b,
                        Err(r) => return Ok::<_, Rejection>(r),
                    };
                    let uri = if query.is_empty() {
                        path.as_str().parse::<http::Uri>()
                    } else {
                        format!("{}?{query}", path.as_str()).parse::<http::Uri>()
                    };
                    let Ok(uri) = uri else {
                        return Ok(crate::web::bad_request());
                    };
                    let mut req = http::Request::new(body);
                    *req.method_mut() = method;
                    *req.uri_mut() = uri;
                    *req.headers_mut() = headers;
                    Ok(engine.handle(req).await)
                }
            },
        )
}

async fn read_body<S, B>(body: S) -> Result<Bytes, http::Response<Bytes>>
where
    S: futures_util::Stream<Item = Result<B, ::warp::Error>>,
    B: bytes::Buf,
{
    let mut body = std::pin::pin!(body);
    let mut out = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| crate::web::too_large())?;
        if out.len() + chunk.remaining() > MAX_REQUEST_BODY {
            return Err(crate::web::too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            out.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// The raw query string, empty when there is none.
fn raw_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    ::warp::query::raw()
        .or(::warp::any().map(String::new))
        .unify()
}

/// The request's [`Auth`] (who is signed in). A session store that cannot be reached rejects
/// with an [`AuthRejection`] (`503`).
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// let hello = tower_oidc::warp::auth(engine)
///     .map(|auth: tower_oidc::Auth| format!("signed in: {}", auth.is_signed_in()));
/// # }
/// ```
pub fn auth(engine: Arc<OidcEngine>) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    ::warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
        let engine = engine.clone();
        async move { authenticate(engine, &headers).await }
    })
}

async fn authenticate(engine: Arc<OidcEngine>, headers: &HeaderMap) -> Result<Auth, Rejection> {
    if let Some(token) = crate::engine::bearer_token(headers) {
        // An API client with a bearer token a provider accepts: no session, no cookie.
        let session_cookie = engine.has_session_cookie(headers);
        if let Some(by_token) = engine.bearer_auth(Some(token), session_cookie).await {
            return by_token.map_err(|response| ::warp::reject::custom(AuthRejection { response }));
        }
    }
    if let Some(auth) = engine.authenticate_now(headers) {
        return Ok(auth);
    }
    match engine.authenticate_request(headers).await {
        // warp's filters cannot add a header to the app's reply: a stale cookie is not cleared
        // here (it is by the tower layer and the actix-web middleware).
        Ok((auth, _clear)) => Ok(auth),
        Err(e) => Err(::warp::reject::custom(AuthRejection {
            response: engine.error_response(headers, &e),
        })),
    }
}

/// The signed-in user, or `None`.
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// use tower_oidc::warp::{CurrentUser, current_user};
/// let home = warp::path::end().and(current_user(engine)).map(|u: Option<CurrentUser>| {
///     format!("signed in: {}", u.is_some())
/// });
/// # }
/// ```
pub fn current_user(
    engine: Arc<OidcEngine>,
) -> impl Filter<Extract = (Option<CurrentUser>,), Error = Rejection> + Clone {
    auth(engine).map(|auth: Auth| CurrentUser::from_auth(&auth))
}

/// The signed-in user; signed-out requests are rejected with an [`AuthRejection`] (`401` JSON
/// or a redirect to the login page).
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// use tower_oidc::warp::{CurrentUser, handle_rejection, require_user};
/// let me = warp::path!("me")
///     .and(require_user(engine))
///     .map(|u: CurrentUser| format!("{}", u.id))
///     .recover(handle_rejection);
/// # }
/// ```
pub fn require_user(
    engine: Arc<OidcEngine>,
) -> impl Filter<Extract = (CurrentUser,), Error = Rejection> + Clone {
    guarded(engine, check)
}

/// A signed-in administrator; others are rejected with an [`AuthRejection`] (`403` when signed
/// in, else as [`require_user`]).
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// use tower_oidc::warp::{AdminUser, handle_rejection, require_admin};
/// let admin = warp::path!("admin")
///     .and(require_admin(engine))
///     .map(|a: AdminUser| format!("{}", a.id))
///     .recover(handle_rejection);
/// # }
/// ```
pub fn require_admin(
    engine: Arc<OidcEngine>,
) -> impl Filter<Extract = (AdminUser,), Error = Rejection> + Clone {
    guarded(engine, check_admin)
}

/// A signed-in user who authenticated at the provider within `max_age` (step-up); a user whose
/// sign-in is older is sent through the provider again (`prompt=login`, `max_age`) and comes
/// back to the same page; API clients get `401 login_required`. Signed-out requests are
/// rejected as by [`require_user`].
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use std::time::Duration;
/// use warp::Filter;
/// use tower_oidc::warp::{CurrentUser, handle_rejection, require_recent_login};
/// let billing = warp::path!("billing")
///     .and(require_recent_login(engine, Duration::from_secs(300)))
///     .map(|u: CurrentUser| format!("{}", u.id))
///     .recover(handle_rejection);
/// # }
/// ```
pub fn require_recent_login(
    engine: Arc<OidcEngine>,
    max_age: std::time::Duration,
) -> impl Filter<Extract = (CurrentUser,), Error = Rejection> + Clone {
    guarded(engine, move |auth| check_recent(auth, max_age))
}

/// A signed-in member of `group` (an exact, case-sensitive match against the user's groups as
/// the provider sent them); other signed-in users are rejected with `403`, signed-out requests
/// as by [`require_user`].
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// use tower_oidc::warp::{CurrentUser, handle_rejection, require_group};
/// let ops = warp::path!("ops")
///     .and(require_group(engine, "ops"))
///     .map(|u: CurrentUser| format!("operator {}", u.id))
///     .recover(handle_rejection);
/// # }
/// ```
pub fn require_group(
    engine: Arc<OidcEngine>,
    group: impl Into<String>,
) -> impl Filter<Extract = (CurrentUser,), Error = Rejection> + Clone {
    let group: Arc<str> = group.into().into();
    guarded(engine, move |auth| check_group(auth, &group))
}

/// A signed-in user for whom `allowed` returns `true`; other signed-in users are rejected with
/// `403`, signed-out requests as by [`require_user`]. The predicate sees the user as the user
/// store has them (at most the revalidation bound old).
///
/// ```
/// # fn app(engine: std::sync::Arc<tower_oidc::OidcEngine>) {
/// use warp::Filter;
/// use tower_oidc::warp::{CurrentUser, handle_rejection, require};
/// let staff = warp::path!("staff")
///     .and(require(engine, |u: &tower_oidc::store::User| u.email_verified))
///     .map(|u: CurrentUser| format!("staff {}", u.id))
///     .recover(handle_rejection);
/// # }
/// ```
pub fn require<F>(
    engine: Arc<OidcEngine>,
    allowed: F,
) -> impl Filter<Extract = (CurrentUser,), Error = Rejection> + Clone
where
    F: Fn(&crate::store::User) -> bool + Clone + Send + Sync + 'static,
{
    guarded(engine, move |auth| check_with(auth, &allowed))
}

fn guarded<T: Send + 'static>(
    engine: Arc<OidcEngine>,
    f: impl Fn(Option<&Auth>) -> Result<T, Denied> + Clone + Send + Sync + 'static,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    ::warp::header::headers_cloned()
        .and(::warp::path::full())
        .and(raw_query())
        .and_then(move |headers: HeaderMap, path: FullPath, query: String| {
            let engine = engine.clone();
            let f = f.clone();
            async move {
                let auth = authenticate(engine.clone(), &headers).await?;
                f(Some(&auth)).map_err(|d| {
                    let path_and_query = if query.is_empty() {
                        path.as_str().to_owned()
                    } else {
                        format!("{}?{query}", path.as_str())
                    };
                    ::warp::reject::custom(AuthRejection {
                        response: denied_response(d, Some(&auth), &headers, &path_and_query),
                    })
                })
            }
        })
}
