//! The session cookie: a random session id, HMAC-signed with the app's key.

use cookie::{Cookie, CookieJar, Key, SameSite};

use crate::store::SessionId;
use crate::web::{Found, find_unique_cookie, pair_is_named};

/// Longest session cookie value accepted; longer ones are ignored without work.
const MAX_SESSION_COOKIE: usize = 256;

/// The session cookie's settings.
#[derive(Debug, Clone)]
pub(crate) struct SessionCookie {
    pub name: &'static str,
    pub secure: bool,
}

impl SessionCookie {
    pub fn new(secure: bool) -> Self {
        SessionCookie {
            name: if secure {
                "__Host-tower_oidc_session"
            } else {
                "tower_oidc_session"
            },
            secure,
        }
    }

    /// The hand-off cookie of a session started by a cross-site POST (see `handoff`): signed
    /// like the session cookie, under a name of its own.
    pub fn handoff(secure: bool) -> Self {
        SessionCookie {
            name: if secure {
                "__Host-tower_oidc_handoff"
            } else {
                "tower_oidc_handoff"
            },
            secure,
        }
    }

    /// Whether a `Cookie` header carries a cookie of this name (the hot path's check: a scan of
    /// the `name=value` pairs without allocating, decoding or verifying anything). Only the
    /// exact name counts: `tower_oidc_sessionX` or `my_tower_oidc_session` is another
    /// cookie, and a request carrying only such cookies stays on the allocation-free path.
    pub fn present(&self, cookie_header: &str) -> bool {
        cookie_header
            .split(';')
            .any(|pair| pair_is_named(pair, self.name))
    }

    /// The verified session id in a `Cookie` header, if any. Anything malformed is "none".
    /// Two session cookies in one header are "none" too: one of them was planted.
    pub fn read(&self, key: &Key, cookie_header: &str) -> Option<SessionId> {
        self.read_all(key, [cookie_header])
    }

    /// [`SessionCookie::read`] over every `Cookie` header field of a request: HTTP/2 may send
    /// each cookie in a field of its own, and two session cookies count as planted whether
    /// they share a field or not.
    pub fn read_all<'a>(
        &self,
        key: &Key,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> Option<SessionId> {
        let mut raw = None;
        for header in cookie_headers {
            match find_unique_cookie(header, self.name) {
                Found::Missing => {}
                Found::One(r) if raw.is_none() => raw = Some(r),
                Found::One(_) | Found::Many => return None,
            }
        }
        self.verify(key, raw?)
    }

    fn verify(&self, key: &Key, raw: &str) -> Option<SessionId> {
        if raw.len() > MAX_SESSION_COOKIE {
            return None;
        }
        let jar = CookieJar::new();
        let c = jar
            .signed(key)
            .verify(Cookie::new(self.name, raw.to_owned()))?;
        Some(SessionId::from_str_ref(c.value()))
    }

    fn base(&self, value: String) -> Cookie<'static> {
        let mut c = Cookie::new(self.name, value);
        c.set_path("/");
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(self.secure);
        c
    }

    /// The signed session cookie for `id`, living `max_age_secs` (the session's remaining
    /// lifetime).
    pub fn write_for(&self, key: &Key, id: &SessionId, max_age_secs: u64) -> String {
        let mut jar = CookieJar::new();
        let mut c = self.base(id.expose().to_owned());
        c.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX / 1000),
        ));
        jar.signed_mut(key).add(c);
        jar.get(self.name)
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// `Set-Cookie` that ends the session cookie.
    pub fn clear(&self) -> String {
        let mut c = self.base(String::new());
        c.set_max_age(cookie::time::Duration::ZERO);
        c.set_expires(cookie::time::OffsetDateTime::UNIX_EPOCH);
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_cookie_round_trip_and_forgery() {
        let key = Key::generate();
        let sc = SessionCookie::new(true);
        let id = SessionId::random();
        let set = sc.write_for(&key, &id, 60);
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
        let plain = SessionCookie::new(false).write_for(&key, &id, 60);
        assert!(plain.starts_with("tower_oidc_session=") && !plain.contains("Secure"));
    }
}
