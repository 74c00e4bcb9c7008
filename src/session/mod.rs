//! Sessions: the session cookie (a random id, signed), the [`Auth`] request extension, rotation
//! at sign-in, and logout.
//!
//! The cookie holds only a 256-bit random id, HMAC-signed with the app's key (so a tampered,
//! truncated or forged cookie is rejected before any store lookup). It is `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, without `Domain`; on an https base URL it is also `Secure` and named
//! with the `__Host-` prefix (which blocks cookie tossing from sibling subdomains); on http
//! loopback it is plain, so local development works.

use std::sync::Arc;
use std::time::Duration;

use cookie::{Cookie, CookieJar, Key, SameSite};

use crate::engine::OidcEngine;
use crate::flow::find_cookie;
use crate::store::{SessionId, SessionRecord, User};

/// Longest session cookie value accepted; longer ones are ignored without work.
const MAX_SESSION_COOKIE: usize = 256;

/// The session cookie's settings.
#[derive(Debug, Clone)]
pub(crate) struct SessionCookie {
    pub name: &'static str,
    pub secure: bool,
    pub ttl: Duration,
}

impl SessionCookie {
    pub fn new(secure: bool, ttl: Duration) -> Self {
        SessionCookie {
            name: if secure {
                "__Host-tower_oidc_session"
            } else {
                "tower_oidc_session"
            },
            secure,
            ttl,
        }
    }

    /// The verified session id in a `Cookie` header, if any. Anything malformed is "none".
    pub fn read(&self, key: &Key, cookie_header: &str) -> Option<SessionId> {
        let raw = find_cookie(cookie_header, self.name)?;
        if raw.len() > MAX_SESSION_COOKIE {
            return None;
        }
        let jar = CookieJar::new();
        let c = jar
            .signed(key)
            .verify(Cookie::new(self.name, raw.to_owned()))?;
        Some(SessionId::from_string(c.value().to_owned()))
    }

    /// `Set-Cookie` for a new session id.
    pub fn write(&self, key: &Key, id: &SessionId) -> String {
        let mut jar = CookieJar::new();
        let mut c = Cookie::new(self.name, id.expose().to_owned());
        c.set_path("/");
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(self.secure);
        c.set_max_age(cookie::time::Duration::seconds(self.ttl.as_secs() as i64));
        jar.signed_mut(key).add(c);
        jar.get(self.name)
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// `Set-Cookie` that ends the session cookie.
    pub fn clear(&self) -> String {
        let mut c = Cookie::new(self.name, "");
        c.set_path("/");
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(self.secure);
        c.set_max_age(cookie::time::Duration::ZERO);
        c.set_expires(cookie::time::OffsetDateTime::UNIX_EPOCH);
        c.to_string()
    }
}

/// Who is signed in, in the request's extensions.
///
/// The layer inserts an `Auth` into requests that carry a session cookie. A request without
/// one gets **nothing** inserted (that keeps the pass-through path free of allocations), so
/// the absence of `Auth` means signed out: read it with [`Auth::from_extensions`], not
/// `extensions().get::<Auth>()` alone (nor axum's `Extension<Auth>`, which would refuse
/// anonymous requests).
///
/// ```
/// # use tower_oidc::Auth;
/// async fn handler(req: http::Request<()>) -> String {
///     match Auth::from_extensions(req.extensions()).user() {
///         Some(user) => format!("hello {}", user.name.as_deref().unwrap_or("you")),
///         None => "hello stranger".into(),
///     }
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Auth {
    session: Option<Arc<SessionRecord>>,
    // The engine that authenticated the request (set by the layer and the framework adapters),
    // so extractors can answer with its 401/redirect/403 responses. An `Arc` clone: no allocation.
    engine: Option<Arc<OidcEngine>>,
}

impl Auth {
    /// Nobody signed in.
    pub fn anonymous() -> Self {
        Auth {
            session: None,
            engine: None,
        }
    }

    /// Who is signed in according to a request's extensions: the `Auth` the layer inserted
    /// (a cheap clone: an `Arc`), or anonymous when there is none — the layer inserts nothing
    /// for requests without a session cookie.
    ///
    /// ```
    /// # use tower_oidc::Auth;
    /// let req = http::Request::new(());
    /// assert!(!Auth::from_extensions(req.extensions()).is_signed_in());
    /// ```
    pub fn from_extensions(extensions: &http::Extensions) -> Auth {
        extensions.get::<Auth>().cloned().unwrap_or_default()
    }

    pub(crate) fn signed_in(record: Arc<SessionRecord>) -> Self {
        Auth {
            session: Some(record),
            engine: None,
        }
    }

    /// Remembers the engine that authenticated the request.
    pub(crate) fn with_engine(mut self, engine: Arc<OidcEngine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// The engine that authenticated this request, when it came through [`crate::OidcLayer`]
    /// or a framework adapter: use it to answer with the engine's own responses
    /// ([`OidcEngine::unauthenticated`], [`OidcEngine::forbidden`]).
    ///
    /// ```
    /// # use tower_oidc::Auth;
    /// fn login_url(auth: &Auth) -> String {
    ///     auth.engine().map(|e| e.login_url()).unwrap_or_else(|| "/api/auth/login".into())
    /// }
    /// assert_eq!(login_url(&Auth::anonymous()), "/api/auth/login");
    /// ```
    pub fn engine(&self) -> Option<&Arc<OidcEngine>> {
        self.engine.as_ref()
    }

    pub(crate) fn session_record(&self) -> Option<&Arc<SessionRecord>> {
        self.session.as_ref()
    }

    /// The signed-in user (as of the sign-in), if any.
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }

    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether the signed-in user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_admin)
    }

    /// The provider the user signed in with.
    pub fn provider(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.provider.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_cookie_round_trip_and_forgery() {
        let key = Key::generate();
        let sc = SessionCookie::new(true, Duration::from_secs(60));
        let id = SessionId::random();
        let set = sc.write(&key, &id);
        assert!(set.starts_with("__Host-tower_oidc_session="));
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(set.contains(attr), "{set}");
        }
        assert!(!set.contains("Domain"));
        let value = set.split(';').next().unwrap();
        assert_eq!(sc.read(&key, value), Some(id.clone()));
        assert_eq!(sc.read(&Key::generate(), value), None);
        let forged = format!("__Host-tower_oidc_session={}", id.expose());
        assert_eq!(sc.read(&key, &forged), None);
        let plain = SessionCookie::new(false, Duration::from_secs(60)).write(&key, &id);
        assert!(plain.starts_with("tower_oidc_session=") && !plain.contains("Secure"));
    }
}
