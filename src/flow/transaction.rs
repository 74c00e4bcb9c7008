//! The login transaction: `state`, `nonce`, PKCE verifier, provider, `return_to` and expiry, in
//! an AEAD-encrypted (AES-256-GCM, via `cookie`'s private jar), short-lived cookie scoped to the
//! callback path. No server state, so a sign-in may start on one instance and finish on another.
//! Several pending sign-ins (tabs) each keep a slot; the oldest is evicted past
//! [`MAX_PENDING`], which also bounds the cookie's size.

use crate::web::{Found, find_unique_cookie};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

/// Most pending sign-ins kept per browser.
pub const MAX_PENDING: usize = 4;

/// Largest transaction cookie value accepted (bytes); larger ones are treated as absent.
pub const MAX_COOKIE_BYTES: usize = 3072;

/// One pending sign-in.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Transaction {
    /// Random id, remembered in the session store once consumed (single use).
    pub id: String,
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: Option<String>,
    pub return_to: String,
    /// Unix seconds.
    pub expires_at: u64,
    /// The `max_age` asked of the provider (step-up): the ID token must then carry an
    /// `auth_time` no older than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The fingerprint of the provider's spec when the sign-in started: the callback finishes
    /// with that spec even if a reload of `providers.toml` changed it meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("provider", &self.provider)
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The pending sign-ins of one browser.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Pending(pub Vec<Transaction>);

impl Pending {
    /// Adds a transaction, dropping expired ones and the oldest beyond [`MAX_PENDING`].
    pub fn push(&mut self, tx: Transaction, now: u64) {
        self.0.retain(|t| t.expires_at > now);
        self.0.push(tx);
        while self.0.len() > MAX_PENDING {
            self.0.remove(0);
        }
    }

    /// Removes and returns the transaction whose `state` equals `state` (constant-time compare).
    pub fn take(&mut self, state: &str) -> Option<Transaction> {
        let i = self
            .0
            .iter()
            .position(|t| bool::from(t.state.as_bytes().ct_eq(state.as_bytes())))?;
        Some(self.0.remove(i))
    }
}

/// Cookie settings for the transaction cookie.
#[derive(Clone)]
pub(crate) struct TxCookie {
    pub name: &'static str,
    pub path: String,
    pub secure: bool,
    pub max_age_secs: i64,
    /// `SameSite=None` (with `Secure`) instead of `Lax`: the cookie of form_post sign-ins,
    /// whose callback is a cross-site `POST` (see [`TxCookie::form_post`]).
    pub cross_site: bool,
}

impl TxCookie {
    /// The cookie of sign-ins whose response comes back as a form `POST` (Sign in with Apple):
    /// the provider's page POSTs cross-site to the callback, and a browser sends a `SameSite=Lax`
    /// cookie with a cross-site top-level `GET` only. So these transactions live in a cookie of
    /// their own, `SameSite=None; Secure` on https (its name `__Host-` too), while every other
    /// sign-in keeps the `Lax` one. The trade-off: this cookie goes with any cross-site request
    /// to the callback path, which is what the callback needs, and all it can do there is what
    /// the form_post callback does (state, nonce, PKCE and single use are checked as always);
    /// it carries no session. On http (loopback development) `SameSite=None` would need
    /// `Secure`, which browsers then refuse: it stays `Lax`, and a provider on the same
    /// loopback host is same-site anyway.
    pub fn form_post(&self) -> TxCookie {
        TxCookie {
            name: if self.secure {
                "__Host-tower_oidc_tx_post"
            } else {
                "tower_oidc_tx_post"
            },
            cross_site: self.secure,
            ..self.clone()
        }
    }

    /// Reads and decrypts the pending transactions from a `Cookie` header value. A missing,
    /// tampered, truncated, oversized or undecodable cookie is "no pending sign-ins".
    pub fn read(&self, key: &Key, cookie_header: Option<&str>) -> Pending {
        self.read_unique(key, cookie_header).unwrap_or_default()
    }

    /// [`TxCookie::read`], but `None` when the header carries more than one transaction cookie:
    /// one of them was planted (cookie tossing), and which is ours cannot be told.
    pub fn read_unique(&self, key: &Key, cookie_header: Option<&str>) -> Option<Pending> {
        let raw = match cookie_header.map(|h| find_unique_cookie(h, self.name)) {
            None | Some(Found::Missing) => return Some(Pending::default()),
            Some(Found::Many) => return None,
            Some(Found::One(raw)) => raw,
        };
        Some(self.decrypt(key, raw))
    }

    fn decrypt(&self, key: &Key, raw: &str) -> Pending {
        if raw.len() > MAX_COOKIE_BYTES {
            return Pending::default();
        }
        let jar = CookieJar::new();
        let c = Cookie::new(self.name, raw.to_owned());
        jar.private(key)
            .decrypt(c)
            .and_then(|c| serde_json::from_str::<Pending>(c.value()).ok())
            .unwrap_or_default()
    }

    /// The `Set-Cookie` value that stores `pending` (or clears the cookie when empty).
    ///
    /// The sealed value never exceeds [`MAX_COOKIE_BYTES`] (which [`TxCookie::read`] would
    /// ignore, and browsers drop past 4 KiB): the oldest sign-ins are evicted until it fits, and
    /// a lone sign-in whose `return_to` is too long returns to `/` instead.
    pub fn write(&self, key: &Key, pending: &Pending) -> String {
        let mut pending = pending.clone();
        loop {
            if pending.0.is_empty() {
                return self.clear();
            }
            let value = serde_json::to_string(&pending).unwrap_or_default();
            let mut jar = CookieJar::new();
            jar.private_mut(key).add(self.base(value));
            let Some(c) = jar.get(self.name) else {
                return self.clear();
            };
            if c.value().len() <= MAX_COOKIE_BYTES {
                return c.to_string();
            }
            if pending.0.len() > 1 {
                pending.0.remove(0);
            } else if pending.0[0].return_to != "/" {
                pending.0[0].return_to = "/".to_owned();
            } else {
                // Unreachable with the bounded fields of a transaction.
                return self.clear();
            }
        }
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn clear(&self) -> String {
        let mut c = self.base(String::new());
        c.set_max_age(cookie::time::Duration::ZERO);
        c.set_expires(cookie::time::OffsetDateTime::UNIX_EPOCH);
        c.to_string()
    }

    fn base(&self, value: String) -> Cookie<'static> {
        let mut c = Cookie::new(self.name, value);
        c.set_path(self.path.clone());
        c.set_http_only(true);
        c.set_same_site(if self.cross_site {
            SameSite::None
        } else {
            SameSite::Lax
        });
        c.set_secure(self.secure);
        c.set_max_age(cookie::time::Duration::seconds(self.max_age_secs));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(state: &str, exp: u64) -> Transaction {
        Transaction {
            id: format!("id-{state}"),
            provider: "authentik".into(),
            state: state.into(),
            nonce: "n".into(),
            pkce_verifier: Some("v".into()),
            return_to: "/".into(),
            expires_at: exp,
            max_age: None,
            spec: None,
        }
    }

    fn jar() -> TxCookie {
        TxCookie {
            name: "tower_oidc_tx",
            path: "/api/auth/providers/".into(),
            secure: false,
            max_age_secs: 600,
            cross_site: false,
        }
    }

    #[test]
    fn form_post_transactions_have_a_cookie_of_their_own() {
        let key = Key::generate();
        let https = TxCookie {
            name: "__Host-tower_oidc_tx",
            path: "/".into(),
            secure: true,
            ..jar()
        };
        let post = https.form_post();
        let mut p = Pending::default();
        p.push(tx("s1", 100), 0);
        let set = post.write(&key, &p);
        assert!(set.starts_with("__Host-tower_oidc_tx_post="), "{set}");
        assert!(
            set.contains("SameSite=None") && set.contains("Secure"),
            "{set}"
        );
        assert!(https.write(&key, &p).contains("SameSite=Lax"));
        // On http it stays Lax (SameSite=None without Secure is refused by browsers).
        let plain = jar().form_post().write(&key, &p);
        assert!(plain.starts_with("tower_oidc_tx_post=") && plain.contains("SameSite=Lax"));
        // One jar does not read the other's cookie.
        let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
        let header = format!("__Host-tower_oidc_tx_post={value}");
        assert_eq!(post.read(&key, Some(&header)), p);
        assert_eq!(https.read(&key, Some(&header)), Pending::default());
    }

    #[test]
    fn round_trip_and_tamper() {
        let key = Key::generate();
        let mut p = Pending::default();
        p.push(tx("s1", 100), 0);
        let set = jar().write(&key, &p);
        let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
        let header = format!("other=1; tower_oidc_tx={value}");
        assert_eq!(jar().read(&key, Some(&header)), p);
        // Wrong key, flipped byte, truncation: all read as no pending sign-in.
        assert_eq!(
            jar().read(&Key::generate(), Some(&header)),
            Pending::default()
        );
        let mut bytes = value.as_bytes().to_vec();
        bytes[10] ^= 1;
        let flipped = format!("tower_oidc_tx={}", String::from_utf8_lossy(&bytes));
        assert_eq!(jar().read(&key, Some(&flipped)), Pending::default());
        let cut = format!("tower_oidc_tx={}", &value[..value.len() - 3]);
        assert_eq!(jar().read(&key, Some(&cut)), Pending::default());
    }

    #[test]
    fn pending_is_bounded_and_single_use() {
        let mut p = Pending::default();
        for i in 0..10 {
            p.push(tx(&format!("s{i}"), 100), 0);
        }
        assert_eq!(p.0.len(), MAX_PENDING);
        assert!(p.take("s0").is_none(), "oldest evicted");
        assert!(p.take("s9").is_some());
        assert!(p.take("s9").is_none(), "taken once");
        p.push(tx("new", 100), 150);
        assert_eq!(p.0.len(), 1, "expired dropped");
    }

    #[test]
    fn written_cookies_fit_the_read_limit() {
        let key = Key::generate();
        let mut p = Pending::default();
        for i in 0..MAX_PENDING {
            let mut t = tx(&format!("s{i}"), 100);
            t.return_to = format!("/{}", "\"".repeat(1500));
            p.push(t, 0);
        }
        let set = jar().write(&key, &p);
        let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
        assert!(value.len() <= MAX_COOKIE_BYTES, "{}", value.len());
        let back = jar().read(&key, Some(&format!("tower_oidc_tx={value}")));
        assert_eq!(back.0.len(), 1, "only the newest fits");
        assert_eq!(back.0[0].state, format!("s{}", MAX_PENDING - 1));
        assert_eq!(back.0[0].return_to, "/", "too long to keep");
    }
}
