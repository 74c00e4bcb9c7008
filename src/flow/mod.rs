//! The authorization code flow: the authorize redirect, the login transaction cookie, and the
//! callback (state and `iss` checks, token exchange, ID token and userinfo verification, claim
//! mapping). It ends at a verified sign-in (`VerifiedSignIn`): who the provider says this is, verified. It knows
//! neither users nor sessions (the engine resolves the user and starts the session), speaks
//! `http` types and knows no framework.

mod callback;
mod options;
mod par;
mod params;
pub(crate) use bearer::{BearerError, VerifiedBearer};
pub(crate) use callback::VerifiedSignIn;
pub use client_key::{ASSERTION_LIFETIME_SECS, ClientKey};
pub(crate) use introspect::IntrospectionCache;
pub use introspect::{INTROSPECTION_CACHE_MAX, INTROSPECTION_TTL};
pub(crate) use logout_token::LogoutTarget;
pub use options::LoginOptions;
pub use params::{CallbackParams, MAX_QUERY_BYTES};
pub(crate) use refresh::{Original, Refreshed, Verified};
pub(crate) use revoke::ToRevoke;
pub mod apple;
mod bearer;
mod client_key;
mod id_token;
mod introspect;
mod logout_token;
mod refresh;
mod revoke;
mod token;
mod transaction;
mod verify;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cookie::Key;
use openidconnect::PkceCodeChallenge;

pub use crate::web::{MAX_RETURN_TO, safe_return_to};
pub use transaction::{MAX_COOKIE_BYTES, MAX_PENDING};
pub(crate) use verify::{Expect, NonceRule, peek, verify_id_token};
pub use verify::{MAX_HEADER_BYTES, MAX_ID_TOKEN_BYTES, VerifiedIdToken};

use transaction::Transaction;
pub(crate) use transaction::TxCookie;

use crate::config::{Pkce, ResponseMode};
use crate::error::Error;
use crate::provider::Registry;
use crate::store::SessionStore;
use crate::util::{b64, random_bytes, unix_now};

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
    pub registry: Arc<Registry>,
    /// Where completed login transactions are remembered, so a callback is accepted once on
    /// every instance (the session store's `consume_transaction`; the flow uses nothing else of
    /// it).
    pub transactions: Arc<dyn SessionStore>,
    /// Encrypts the transaction cookie.
    pub key: Key,
    pub base_url: String,
    pub prefix: String,
    pub tx_cookie: TxCookie,
    pub timing: FlowTiming,
    /// Whether a provider's `refresh_scope` is requested (refresh tokens wanted).
    pub refresh_tokens: bool,
    /// Verified bearer tokens (JWTs and introspection answers).
    pub introspection: IntrospectionCache,
    /// The app's key for `private_key_jwt` client authentication, if it gave one.
    pub client_key: Option<Arc<ClientKey>>,
}

/// The redirect URI registered at a provider: from the configured base URL and prefix, never
/// from request headers.
pub(crate) fn redirect_uri(base_url: &str, prefix: &str, provider: &str) -> String {
    format!("{base_url}{prefix}/providers/{provider}/callback")
}

impl Flow {
    /// The redirect URI registered at the provider.
    pub fn redirect_uri(&self, provider: &str) -> String {
        redirect_uri(&self.base_url, &self.prefix, provider)
    }

    /// Starts a sign-in: a 302 to the provider with a fresh transaction in the cookie.
    pub async fn authorize(
        &self,
        provider: &str,
        opts: &LoginOptions,
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
        let oidc = active.resolved.spec.protocol == crate::config::Protocol::Oidc;
        let form_post = active.resolved.spec.response_mode == ResponseMode::FormPost;
        // The id, `state` and nonce from one call to the OS generator: a system call costs more
        // than the bytes (three calls were three system calls per sign-in).
        let random: [u8; 80] = random_bytes();
        let tx = Transaction {
            id: b64(&random[..16]),
            provider: provider.to_owned(),
            state: b64(&random[16..48]),
            nonce: b64(&random[48..]),
            pkce_verifier: verifier,
            return_to: safe_return_to(opts.return_to.as_deref()),
            expires_at: now + self.timing.transaction_ttl.as_secs(),
            // Only an ID token can prove when the user authenticated.
            max_age: opts.max_age.filter(|_| oidc),
            spec: Some(st.fingerprint.clone()),
        };
        let mut url = url::Url::parse(&active.authorization).map_err(|e| {
            Error::new(
                crate::error::ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}`: authorization endpoint is not a URL ({e})"),
            )
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &active.resolved.client_id)
                .append_pair("redirect_uri", &self.redirect_uri(provider))
                .append_pair(
                    "scope",
                    &self.scope_of(&active.resolved, st.settings.refresh_tokens),
                )
                .append_pair("state", &tx.state);
            if oidc {
                q.append_pair("nonce", &tx.nonce);
                if let Some(max_age) = tx.max_age {
                    q.append_pair("max_age", &max_age.to_string());
                }
                if let Some(acr) = &opts.acr_values {
                    q.append_pair("acr_values", acr);
                }
            }
            if let Some(prompt) = &opts.prompt {
                q.append_pair("prompt", prompt);
            }
            if let Some(c) = &challenge {
                q.append_pair("code_challenge", c.as_str())
                    .append_pair("code_challenge_method", "S256");
            }
            if let Some(hint) = &opts.login_hint {
                q.append_pair("login_hint", hint);
            }
            if form_post {
                q.append_pair("response_mode", "form_post");
            }
        }
        if let Some(par) = &active.par {
            url = self.pushed(provider, &active, par, url).await?;
        }
        let jar = self.tx_jar(active.resolved.spec.response_mode);
        let mut pending = jar.read(&self.key, cookie_header);
        pending.push(tx, now);
        let cookie = jar.write(&self.key, &pending);
        tracing::debug!(provider, "sign-in started");
        Ok(Redirect {
            location: url.to_string(),
            cookies: vec![cookie],
        })
    }

    /// The scopes a sign-in asks for: the provider's, and its refresh scope when refresh
    /// tokens are wanted (by the app and the provider's settings) and the scopes do not
    /// already name it.
    fn scope_of(&self, resolved: &crate::provider::ResolvedProvider, wanted: bool) -> String {
        let mut scope = resolved.scopes.join(" ");
        if self.refresh_tokens
            && wanted
            && let Some(extra) = &resolved.spec.refresh_scope
            && !resolved.scopes.iter().any(|s| s == extra)
        {
            scope.push(' ');
            scope.push_str(extra);
        }
        scope
    }

    /// The transaction cookie of sign-ins whose response comes back in `mode`: the `Lax` one,
    /// or for `form_post` the cross-site one ([`TxCookie::form_post`]).
    pub(crate) fn tx_jar(&self, mode: ResponseMode) -> TxCookie {
        match mode {
            ResponseMode::Query => self.tx_cookie.clone(),
            ResponseMode::FormPost => self.tx_cookie.form_post(),
        }
    }

    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The transaction cookie's settings. On https it is `__Host-` (so `Secure`, `Path=/`, no
/// `Domain`): a sibling subdomain cannot set a cookie of that name, so it cannot toss its own
/// login transaction into this browser's callback (matrix H1/H11). On http loopback (local
/// development) it is plain and scoped to the providers' callback paths.
pub(crate) fn tx_cookie(secure: bool, prefix: &str, ttl: Duration) -> TxCookie {
    let (name, path) = if secure {
        ("__Host-tower_oidc_tx", "/".to_owned())
    } else {
        ("tower_oidc_tx", format!("{prefix}/providers/"))
    };
    TxCookie {
        name,
        path,
        secure,
        max_age_secs: ttl.as_secs() as i64,
        cross_site: false,
    }
}
