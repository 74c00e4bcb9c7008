//! The fake's configuration and mutable state (users, codes, tokens, switches, request log).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::jwt::Signer;
use super::keys::{KeySet, SigningKey, SigningMode};
use super::record::{Endpoint, RecordedRequest};
use super::switches::{Fault, Switches};
use super::user::FakeUser;

/// Settings fixed when the fake starts.
pub(crate) struct Config {
    pub(crate) slug: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) public_client: bool,
    /// Scope names of the provider's scope mappings, in order (`openid` included).
    pub(crate) scopes: Vec<String>,
    pub(crate) mode: SigningMode,
    pub(crate) token_validity: Duration,
    pub(crate) code_validity: Duration,
    /// Sign a code's tokens at `/authorize` ([`sign_tokens_at_authorize`](super::FakeAuthentikBuilder::sign_tokens_at_authorize)).
    pub(crate) sign_at_authorize: bool,
    pub(crate) refresh_validity: Duration,
    pub(crate) login_page: bool,
    pub(crate) install_id: String,
    pub(crate) sub_mode: super::SubMode,
    /// The Authentik release whose behaviour is modelled where releases differ.
    pub(crate) version: super::AuthentikVersion,
    /// The redirect URIs the admin registered (strict); empty means the default registration,
    /// [`DEFAULT_REDIRECT_URI_REGEX`]. Fixed at start: nothing is learned from requests.
    pub(crate) redirect_uris: Vec<String>,
    /// CA certificates back-channel deliveries trust besides the client's built-in roots.
    pub(crate) logout_roots: Vec<reqwest::Certificate>,
}

/// The redirect URI registration a fake has when the test registers none: the regular
/// expression (Authentik's *Regex* matching mode, full match) an admin would enter for the test
/// apps: one on a loopback port, or at `https://app.example.com`, whose callback path ends in
/// `/callback`, like `http://127.0.0.1:PORT/api/auth/providers/<id>/callback`.
pub const DEFAULT_REDIRECT_URI_REGEX: &str = r"^(http://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+|https://app\.example\.com)(/[A-Za-z0-9._~-]+)*/callback$";

/// Whether `uri` fully matches [`DEFAULT_REDIRECT_URI_REGEX`] (matched by hand: the crate has no
/// regex engine).
pub(crate) fn matches_default_redirect_uri(uri: &str) -> bool {
    let path = if let Some(rest) = uri.strip_prefix("https://app.example.com") {
        rest
    } else {
        let Some(rest) = uri.strip_prefix("http://") else {
            return false;
        };
        let Some(rest) = ["127.0.0.1:", "localhost:", "[::1]:"]
            .iter()
            .find_map(|h| rest.strip_prefix(h))
        else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        &rest[digits..]
    };
    let Some(segments) = path.strip_suffix("/callback") else {
        return false;
    };
    if segments.is_empty() {
        return true;
    }
    let Some(segments) = segments.strip_prefix('/') else {
        return false;
    };
    segments.split('/').all(|seg| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    })
}

impl Config {
    /// Whether `uri` is a registered redirect URI: an exact, case-sensitive match of a strict
    /// registration, or of the default regular expression when none is registered.
    pub(crate) fn redirect_uri_registered(&self, uri: &str) -> bool {
        if self.redirect_uris.is_empty() {
            matches_default_redirect_uri(uri)
        } else {
            self.redirect_uris.iter().any(|u| u == uri)
        }
    }
}

/// A code handed out by /authorize, waiting for /token.
pub(crate) struct CodeGrant {
    pub(crate) user_pk: u64,
    pub(crate) scopes: Vec<String>,
    pub(crate) nonce: Option<String>,
    /// `(challenge, method)`.
    pub(crate) pkce: Option<(String, String)>,
    pub(crate) issued: Instant,
    pub(crate) session: Session,
    /// The token response, signed when the code was issued
    /// ([`sign_tokens_at_authorize`](super::FakeAuthentikBuilder::sign_tokens_at_authorize)).
    pub(crate) signed: Option<super::endpoints::Reply>,
}

/// The login session a token descends from.
#[derive(Clone)]
pub(crate) struct Session {
    /// Unix time of the login.
    pub(crate) auth_time: i64,
    /// 64 hex, Authentik's SHA-256 of the session key.
    pub(crate) sid: String,
}

/// A live Authentik session (`AuthenticatedSession`): deleting it logs the apps out.
pub(crate) struct LiveSession {
    /// The `sid` of the ID tokens issued from it.
    pub(crate) sid: String,
    pub(crate) user_pk: u64,
    /// The `authentik_session` cookie value of the browser that holds it.
    pub(crate) browser: String,
}

/// An access token the userinfo endpoint accepts.
pub(crate) struct AccessGrant {
    pub(crate) user_pk: u64,
    pub(crate) scopes: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) expires: Instant,
    /// The session it was issued from (code or refresh grant); it may have ended since.
    pub(crate) sid: String,
    /// Issue order, to list a session's tokens oldest first.
    pub(crate) serial: u64,
}

/// A refresh token.
pub(crate) struct RefreshGrant {
    pub(crate) user_pk: u64,
    pub(crate) scopes: Vec<String>,
    pub(crate) session: Session,
    pub(crate) expires: Instant,
    pub(crate) revoked: bool,
}

/// Everything that changes while the fake runs.
pub(crate) struct State {
    pub(crate) users: Vec<FakeUser>,
    pub(crate) next_pk: u64,
    pub(crate) logout_uris: Vec<String>,
    /// The values of the `authentik_session` cookies handed out: browsers with a session.
    pub(crate) browser_sessions: std::collections::HashSet<String>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) access: HashMap<String, AccessGrant>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    /// Live Authentik sessions, oldest first.
    pub(crate) sessions: Vec<LiveSession>,
    /// Issue counter for [`AccessGrant::serial`].
    pub(crate) next_serial: u64,
    /// The provider's logout URI and method, when set.
    pub(crate) logout: Option<(String, super::LogoutMethod)>,
    /// Waits before each back-channel retry; its length is the number of retries.
    pub(crate) logout_retry_delays: Vec<Duration>,
    /// Every back-channel delivery attempt, in order.
    pub(crate) deliveries: Vec<super::LogoutDelivery>,
    /// Every token the revoke endpoint forgot, in order.
    pub(crate) revocations: Vec<super::Revocation>,
    pub(crate) key_index: usize,
    pub(crate) switches: Switches,
    pub(crate) faults: HashMap<Endpoint, Fault>,
    pub(crate) log: Vec<RecordedRequest>,
    /// The client's public keys for `private_key_jwt`, when the test registered them.
    pub(crate) client_jwks: Option<Value>,
    /// The only `aud` client assertions may have, when the test set one (else the token
    /// endpoint or the issuer).
    pub(crate) assertion_aud: Option<String>,
    /// Every client assertion `jti` accepted: one seen again is refused.
    pub(crate) assertion_jtis: std::collections::HashSet<String>,
    /// Pushed authorization requests by `request_uri`: their parameters and expiry; used once.
    pub(crate) pushed: HashMap<String, (Vec<(String, String)>, Instant)>,
}

impl State {
    /// Adds a user, assigning the next primary key.
    pub(crate) fn add_user(&mut self, mut user: FakeUser) {
        user.pk = self.next_pk;
        self.next_pk += 1;
        self.users.retain(|u| u.username != user.username);
        self.users.push(user);
    }

    /// The user with this primary key.
    pub(crate) fn user(&self, pk: u64) -> Option<&FakeUser> {
        self.users.iter().find(|u| u.pk == pk)
    }

    /// The primary key of the user with this username.
    pub(crate) fn user_pk(&self, username: &str) -> Option<u64> {
        self.users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.pk)
    }

    /// The next [`AccessGrant::serial`].
    pub(crate) fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }
}

/// Shared by the `FakeAuthentik` handle and the wiremock responder.
pub(crate) struct Inner {
    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT` behind the TLS proxy), no trailing
    /// slash: every absolute URL the fake hands out starts with it.
    pub(crate) base: String,
    pub(crate) cfg: Config,
    pub(crate) keys: KeySet,
    pub(crate) state: Mutex<State>,
    /// The runtime the fake was started on: back-channel deliveries run there.
    pub(crate) runtime: Option<tokio::runtime::Handle>,
}

impl Inner {
    /// Locks the state; a panic in a user hook must not wedge every later request.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `{base}/application/o/{slug}/`.
    pub(crate) fn issuer(&self) -> String {
        format!("{}/application/o/{}/", self.base, self.cfg.slug)
    }

    /// The key currently signing, `None` in HS256 mode.
    pub(crate) fn key(&self, index: usize) -> Option<&SigningKey> {
        let n = self.keys.ring.len();
        if n == 0 {
            None
        } else {
            self.keys.ring.get(index % n)
        }
    }

    /// `sub` for `user`, per the configured [`SubMode`](super::SubMode).
    pub(crate) fn sub(&self, user: &FakeUser) -> String {
        self.cfg.sub_mode.sub(user, &self.cfg.install_id)
    }

    /// What signs tokens while key `index` is current: that key, or HMAC with the client
    /// secret in HS256 mode.
    pub(crate) fn signer(&self, index: usize) -> Signer<'_> {
        match self.key(index) {
            Some(k) => Signer::Key(k),
            None => Signer::Hmac(self.cfg.client_secret.as_bytes()),
        }
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `n` random ASCII letters and digits (Authentik's `generate_id`/`generate_key` alphabet).
pub(crate) fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let bytes: [u8; 64] = crate::util::random_bytes();
        // 248 = 4 * 62: rejection sampling keeps the distribution uniform.
        for b in bytes.into_iter().filter(|&b| b < 248) {
            if out.len() == n {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}

/// The claims Authentik's default scope mappings add for `scopes`, evaluated for `user` now.
pub(crate) fn scope_claims(user: &FakeUser, scopes: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("email") {
        m.insert("email".into(), json!(user.email));
        m.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("profile") {
        m.insert("name".into(), json!(user.name));
        m.insert("given_name".into(), json!(user.name));
        m.insert("preferred_username".into(), json!(user.username));
        m.insert("nickname".into(), json!(user.username));
        m.insert("groups".into(), json!(user.groups));
    }
    m
}

/// The claim names each default scope mapping returns, for `claims_supported`.
pub(crate) fn scope_claim_names(scope: &str) -> &'static [&'static str] {
    match scope {
        "email" => &["email", "email_verified"],
        "profile" => &[
            "name",
            "given_name",
            "preferred_username",
            "nickname",
            "groups",
        ],
        _ => &[],
    }
}
