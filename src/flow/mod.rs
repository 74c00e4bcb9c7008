//! The authorization code flow: the authorize redirect, the login transaction cookie, and the
//! callback (state and `iss` checks, token exchange, ID token and userinfo verification, claim
//! mapping, identity resolution, session). It speaks `http` types and knows no framework.

mod callback;
pub use callback::{CallbackParams, MAX_QUERY_BYTES};
mod return_to;
mod token;
mod transaction;
mod verify;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cookie::Key;
use openidconnect::PkceCodeChallenge;

pub use return_to::{MAX_RETURN_TO, safe_return_to};
pub use transaction::{MAX_COOKIE_BYTES, MAX_PENDING};
pub(crate) use verify::{Expect, peek, verify_id_token};
pub use verify::{MAX_HEADER_BYTES, MAX_ID_TOKEN_BYTES, VerifiedIdToken};

pub(crate) use transaction::find_cookie;
use transaction::{Pending, Transaction, TxCookie};

use crate::config::Pkce;
use crate::error::Error;
use crate::provider::Registry;
use crate::session::SessionCookie;
use crate::store::{SessionStore, UserStore};
use crate::util::{random_b64, unix_now};

/// Timing rules of the flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowTiming {
    /// How long a sign-in may take, from the authorize redirect to the callback.
    pub transaction_ttl: Duration,
    /// Clock skew tolerated on `exp`, `iat` and `nbf`.
    pub clock_skew: Duration,
    /// Oldest `iat` accepted (plus the skew). The ID token comes straight from the token
    /// endpoint, moments after it was issued, so an older one means a clock far off or a
    /// replayed token.
    pub max_token_age: Duration,
    /// Session lifetime.
    pub session_ttl: Duration,
}

impl Default for FlowTiming {
    fn default() -> Self {
        FlowTiming {
            transaction_ttl: Duration::from_secs(600),
            clock_skew: Duration::from_secs(60),
            // 5 min + 60 s skew: an issuer clock 10 min slow is refused (security matrix N9,
            // X14), one 30 s off is not.
            max_token_age: Duration::from_secs(300),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What a flow step answers: a redirect with cookies, or an error (with the cookies to set even
/// so, e.g. the consumed transaction).
#[derive(Debug)]
pub(crate) struct Redirect {
    pub location: String,
    pub cookies: Vec<String>,
}

/// An error together with the cookies the response must still set.
#[derive(Debug)]
pub(crate) struct FlowError {
    pub error: Error,
    pub cookies: Vec<String>,
}

impl From<Error> for FlowError {
    fn from(error: Error) -> Self {
        FlowError {
            error,
            cookies: Vec::new(),
        }
    }
}

/// Everything the flow needs.
pub(crate) struct Flow {
    pub registry: Registry,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub key: Key,
    pub base_url: String,
    pub prefix: String,
    pub session_cookie: SessionCookie,
    pub tx_cookie: TxCookie,
    pub timing: FlowTiming,
}

impl Flow {
    /// The redirect URI registered at the provider: from the configured base URL, never from
    /// request headers.
    pub fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}{}/providers/{provider}/callback",
            self.base_url, self.prefix
        )
    }

    /// Starts a sign-in: a 302 to the provider with a fresh transaction in the cookie.
    pub async fn authorize(
        &self,
        provider: &str,
        return_to: Option<&str>,
        login_hint: Option<&str>,
        cookie_header: Option<&str>,
    ) -> Result<Redirect, Error> {
        let st = self.registry.enabled(provider).await?;
        let active = self.registry.active(&st).await?;
        let (challenge, verifier) = match active.resolved.spec.pkce {
            Pkce::S256 => {
                let (c, v) = PkceCodeChallenge::new_random_sha256();
                (Some(c), Some(v.secret().clone()))
            }
            Pkce::Disabled => (None, None),
        };
        let now = unix_now();
        let tx = Transaction {
            id: random_b64(16),
            provider: provider.to_owned(),
            state: random_b64(32),
            nonce: random_b64(32),
            pkce_verifier: verifier,
            return_to: safe_return_to(return_to),
            expires_at: now + self.timing.transaction_ttl.as_secs(),
        };
        let mut url = url::Url::parse(&active.authorization).map_err(|e| {
            Error::new(
                crate::ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}`: authorization endpoint is not a URL ({e})"),
            )
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &active.resolved.client_id)
                .append_pair("redirect_uri", &self.redirect_uri(provider))
                .append_pair("scope", &active.resolved.scopes.join(" "))
                .append_pair("state", &tx.state);
            if active.resolved.spec.protocol == crate::config::Protocol::Oidc {
                q.append_pair("nonce", &tx.nonce);
            }
            if let Some(c) = &challenge {
                q.append_pair("code_challenge", c.as_str())
                    .append_pair("code_challenge_method", "S256");
            }
            if let Some(hint) = login_hint.filter(|h| !h.is_empty() && h.len() <= 256) {
                q.append_pair("login_hint", hint);
            }
        }
        let mut pending = self.tx_cookie.read(&self.key, cookie_header);
        pending.push(tx, now);
        let cookie = self.tx_cookie.write(&self.key, &pending);
        tracing::debug!(provider, "sign-in started");
        Ok(Redirect {
            location: url.to_string(),
            cookies: vec![cookie],
        })
    }

    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    pub(crate) fn pending(&self, cookie_header: Option<&str>) -> Pending {
        self.tx_cookie.read(&self.key, cookie_header)
    }
}

/// The transaction cookie's settings: scoped to the providers' callback paths; `__Secure-` and
/// `Secure` on https (the `__Host-` prefix would force `Path=/`).
pub(crate) fn tx_cookie(secure: bool, prefix: &str, ttl: Duration) -> TxCookie {
    TxCookie {
        name: if secure {
            "__Secure-tower_oidc_tx"
        } else {
            "tower_oidc_tx"
        },
        path: format!("{prefix}/providers/"),
        secure,
        max_age_secs: ttl.as_secs() as i64,
    }
}

/// A cookie key from arbitrary bytes (SHA-512 stretches them to the 64 bytes `Key` needs). For
/// the fuzz targets only.
fn fuzz_key(key: &[u8]) -> Key {
    let d = ring::digest::digest(&ring::digest::SHA512, key);
    Key::from(d.as_ref())
}

/// Fuzzing entry point, not part of the API: decodes a `Cookie` header as the login
/// transaction cookies (plain and `__Secure-`) and the session cookies (plain and `__Host-`)
/// under a key derived from `key`, and returns how many pending sign-ins and session ids it
/// found. Anything malformed must read as none, without panicking.
#[doc(hidden)]
pub fn fuzz_decode_cookies(key: &[u8], cookie_header: &str) -> usize {
    let key = fuzz_key(key);
    let ttl = Duration::from_secs(600);
    let mut n = 0;
    for secure in [false, true] {
        n += tx_cookie(secure, "/api/auth", ttl)
            .read(&key, Some(cookie_header))
            .0
            .len();
        n += usize::from(
            SessionCookie::new(secure, ttl)
                .read(&key, cookie_header)
                .is_some(),
        );
    }
    n
}

/// Fuzzing entry point, not part of the API: the value of a transaction cookie that encrypts
/// `plaintext` under a key derived from `key` (so a fuzz target can reach the JSON decoding
/// behind the AEAD with arbitrary plaintexts).
#[doc(hidden)]
pub fn fuzz_seal_transactions(key: &[u8], plaintext: &str) -> String {
    let key = fuzz_key(key);
    let c = tx_cookie(false, "/api/auth", Duration::from_secs(600));
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(cookie::Cookie::new(c.name, plaintext.to_owned()));
    jar.get(c.name)
        .map(|c| format!("{}={}", c.name(), c.value()))
        .unwrap_or_default()
}
