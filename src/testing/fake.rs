//! [`FakeAuthentik`]: the handle tests hold.

use std::sync::Arc;

use serde_json::{Map, Value};
use wiremock::MockServer;

use super::builder::FakeAuthentikBuilder;
use super::keys::SigningMode;
use super::record::{Endpoint, RecordedRequest};
use super::state::Inner;
use super::switches::{Fault, Switches, Tamper};
use super::user::FakeUser;

/// A fake Authentik instance with one OAuth2/OpenID provider and application, served by
/// [`wiremock`] on a loopback port, over plain http or, with a certificate the test provides,
/// HTTPS ([`tls`](FakeAuthentikBuilder::tls)).
///
/// It follows Authentik 2025.10–2026.5 byte for byte where relying parties can tell, and where
/// those releases differ it behaves like the one chosen with
/// [`version`](FakeAuthentikBuilder::version) (default the newest; see
/// [`AuthentikVersion`](super::AuthentikVersion)):
/// per-application issuer with a trailing slash, trailing-slash endpoint paths (no-slash variants
/// are 404), discovery only under the application slug, JWKS `{}` and no `kid` in HS256 mode,
/// `aud` as a string, `email_verified: false`, `given_name` = full name, token errors as 400 JSON
/// with `request_id` (even `invalid_client`), `invalid_client` for a `redirect_uri` mismatch at
/// the token endpoint, single-use codes, PKCE with the downgrade guard, refresh tokens only with
/// `offline_access`, userinfo 401 with an empty body and a `WWW-Authenticate` header without the
/// `Bearer` scheme, the `nonce` echoed by userinfo, and redirect URIs registered by the admin
/// (fixed at start; a mismatch at `/authorize` is Authentik's "Redirect URI Error" page).
///
/// The user is always "logged in": `/authorize` answers directly with the 302 to the client
/// (Authentik's silent implicit-consent flow), choosing the user by `login_hint` (username or
/// email), else the first user, or an HTML page listing users when
/// [`login_page`](FakeAuthentikBuilder::login_page) is on. A successful `/authorize` sets the
/// `authentik_session` cookie: a browser that sends it back has an Authentik session (which
/// end-session tells apart on 2026.5).
///
/// # Logout notifications
///
/// Each `/authorize` starts an Authentik session whose `sid` the ID tokens carry; the fake
/// remembers it ([`sessions`](Self::sessions)) with the access tokens issued from it (code and
/// refresh grants). With a logout URI set ([`set_logout_uri`](Self::set_logout_uri), Authentik's
/// *Logout URI* and *Logout Method*), ending sessions ([`end_sessions`](Self::end_sessions),
/// [`end_session`](Self::end_session): the user logs out of Authentik, or an admin deletes the
/// sessions) notifies the app:
///
/// - **back-channel** (OpenID Connect Back-Channel Logout 1.0): one POST per access token of
///   the session that was still unexpired (none when there is none, so a refreshed session gets
///   several), `logout_token=<JWT>` form-urlencoded, `User-Agent: authentik@<release>`, no
///   client authentication, redirects followed, 30 s timeout. The token is signed like the ID
///   tokens (same key and `kid`, or HS256 with the client secret), header `typ` `JWT` on
///   2025.10 and `logout+jwt` on 2026.5; claims `iss`, `aud` (the client ID), `iat`, `exp`
///   (`iat` + the access token validity, [clock offset](Self::set_clock_offset) applied), `jti`
///   (a UUID), `events` `{"http://schemas.openid.net/event/backchannel-logout":{}}`, `sub` and
///   `sid` as in the session's ID tokens, no `nonce`. A 4xx/5xx answer or a connection error
///   is retried with a new token per attempt ([`set_logout_retry_delays`](Self::set_logout_retry_delays));
///   every attempt shows in [`logout_deliveries`](Self::logout_deliveries);
/// - **front-channel** (Front-Channel Logout 1.0): nothing is sent; the report lists
///   `<logout URI>?iss=<issuer>&sid=<sid>` for each ended session that held an unexpired access
///   token: what Authentik's logout page loads in hidden iframes.
///
/// The ended sessions' access tokens are deleted; refresh tokens survive. On 2026.5 the
/// end-session endpoint, for a browser with an Authentik session, also logs the app out of
/// it: the back-channel token for the session's oldest unexpired access token (which is
/// deleted), or the front-channel iframes on the logged-out page; the Authentik session stays
/// (the default provider invalidation flow has no *User Logout* stage). Revoking a token never
/// notifies ([`revocations`](Self::revocations) lists what the revoke endpoint forgot).
/// [`logout_token_for`](Self::logout_token_for) and [`sign_jwt`](Self::sign_jwt) give tests
/// tokens to post themselves, genuine or wrong in chosen ways.
///
/// # Test keys
///
/// **The signing keys are published test keys** embedded in this crate (`src/testing/keys/`).
/// Anyone can sign tokens with them. Never configure them, or a fake issuer URL, in production.
///
/// # Example
///
/// ```
/// use tower_oidc::testing::{FakeAuthentik, Endpoint};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fake = FakeAuthentik::builder()
///     .redirect_uri("http://127.0.0.1:3000/callback")
///     .start()
///     .await;
/// assert_eq!(fake.issuer(), format!("{}/application/o/tower-oidc/", fake.url()));
/// assert_eq!(
///     fake.discovery_url(),
///     format!("{}.well-known/openid-configuration", fake.issuer()),
/// );
/// assert_eq!(fake.client_id().len(), 40);
/// assert_eq!(fake.count(Endpoint::Token), 0);
/// # }
/// ```
pub struct FakeAuthentik {
    pub(super) server: MockServer,
    pub(super) inner: Arc<Inner>,
    /// The HTTPS front, with [`tls`](FakeAuthentikBuilder::tls).
    pub(super) tls: Option<super::tls::TlsProxy>,
}

impl std::fmt::Debug for FakeAuthentik {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAuthentik")
            .field("url", &self.inner.base)
            .field("slug", &self.inner.cfg.slug)
            .field("mode", &self.inner.cfg.mode)
            .finish_non_exhaustive()
    }
}

impl FakeAuthentik {
    /// Starts a fake with the defaults: RS256 (RSA-2048), slug `tower-oidc`, random client
    /// credentials, users `alice` and `bob`, the default redirect URI registration
    /// ([`DEFAULT_REDIRECT_URI_REGEX`](super::DEFAULT_REDIRECT_URI_REGEX)), the newest Authentik.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// A builder for a customised fake.
    pub fn builder() -> FakeAuthentikBuilder {
        FakeAuthentikBuilder::default()
    }

    /// The instance URL, e.g. `http://127.0.0.1:PORT`, or `https://localhost:PORT` with
    /// [`tls`](FakeAuthentikBuilder::tls) (no trailing slash).
    pub fn url(&self) -> String {
        self.inner.base.clone()
    }

    /// The issuer, `{url}/application/o/{slug}/`, **with** the trailing slash.
    pub fn issuer(&self) -> String {
        self.inner.issuer()
    }

    /// `{issuer}.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}.well-known/openid-configuration", self.issuer())
    }

    /// `{issuer}jwks/`.
    pub fn jwks_url(&self) -> String {
        format!("{}jwks/", self.issuer())
    }

    /// `{url}/application/o/authorize/`.
    pub fn authorize_url(&self) -> String {
        format!("{}/application/o/authorize/", self.inner.base)
    }

    /// `{url}/application/o/token/`.
    pub fn token_url(&self) -> String {
        format!("{}/application/o/token/", self.inner.base)
    }

    /// `{url}/application/o/userinfo/`.
    pub fn userinfo_url(&self) -> String {
        format!("{}/application/o/userinfo/", self.inner.base)
    }

    /// `{url}/application/o/revoke/`.
    pub fn revoke_url(&self) -> String {
        format!("{}/application/o/revoke/", self.inner.base)
    }

    /// `{issuer}end-session/`.
    pub fn end_session_url(&self) -> String {
        format!("{}end-session/", self.issuer())
    }

    /// The application slug.
    pub fn slug(&self) -> &str {
        &self.inner.cfg.slug
    }

    /// The client ID.
    pub fn client_id(&self) -> &str {
        &self.inner.cfg.client_id
    }

    /// The client secret.
    pub fn client_secret(&self) -> &str {
        &self.inner.cfg.client_secret
    }

    /// The signing mode.
    pub fn signing_mode(&self) -> SigningMode {
        self.inner.cfg.mode
    }

    /// The `kid` of the key currently signing; `None` in HS256 mode.
    pub fn kid(&self) -> Option<String> {
        let index = self.inner.lock().key_index;
        self.inner.key(index).map(|k| k.kid().to_owned())
    }

    /// The registered (strict) authorization redirect URIs; empty when the fake has the default
    /// registration, [`DEFAULT_REDIRECT_URI_REGEX`](super::DEFAULT_REDIRECT_URI_REGEX).
    pub fn redirect_uris(&self) -> Vec<String> {
        self.inner.cfg.redirect_uris.clone()
    }

    /// The Authentik release this fake behaves like.
    pub fn version(&self) -> super::AuthentikVersion {
        self.inner.cfg.version
    }

    /// The users, in insertion order.
    pub fn users(&self) -> Vec<FakeUser> {
        self.inner.lock().users.clone()
    }

    /// Adds a user (replacing one with the same username).
    pub fn add_user(&self, user: FakeUser) {
        self.inner.lock().add_user(user);
    }

    /// Changes a user in place; later tokens and every userinfo response see the change.
    /// Returns `false` if there is no such user. The closure runs with the fake's lock held:
    /// do not call the fake from inside it.
    pub fn update_user(&self, username: &str, f: impl FnOnce(&mut FakeUser)) -> bool {
        let mut st = self.inner.lock();
        match st.users.iter_mut().find(|u| u.username == username) {
            Some(u) => {
                let pk = u.pk;
                f(u);
                u.pk = pk;
                true
            }
            None => false,
        }
    }

    /// The `sub` the fake issues for this user under the configured [`SubMode`](super::SubMode).
    pub fn sub(&self, username: &str) -> Option<String> {
        let st = self.inner.lock();
        let user = st.users.iter().find(|u| u.username == username)?;
        Some(self.inner.sub(user))
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().log.clone()
    }

    /// How many requests reached `endpoint` (faulted ones included).
    pub fn count(&self, endpoint: Endpoint) -> usize {
        super::record::count(&self.inner.lock().log, endpoint)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner.lock().log.clear();
    }

    /// Rotates to the next embedded key (new key, new `kid`); the JWKS serves only the new key
    /// afterwards and new tokens are signed with it. Returns the new `kid`; a no-op returning
    /// `None` in HS256 mode. The keys cycle (3 for RS256/ES256, 2 for RSA-4096).
    pub fn rotate_signing_key(&self) -> Option<String> {
        let index = {
            let mut st = self.inner.lock();
            st.key_index = st.key_index.wrapping_add(1);
            st.key_index
        };
        self.inner.key(index).map(|k| k.kid().to_owned())
    }

    /// Makes `endpoint` misbehave with `fault` until [`clear_fault`](Self::clear_fault).
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.inner.lock().faults.insert(endpoint, fault);
    }

    /// Removes the fault on `endpoint`.
    pub fn clear_fault(&self, endpoint: Endpoint) {
        self.inner.lock().faults.remove(&endpoint);
    }

    /// Mutates the ID token claims just before signing (wrong `iss`/`aud`/`exp`/`nonce`,
    /// removed `sub`/`iat`, `aud` as an array, an added `azp`, …). Applies to ID tokens from the
    /// code and refresh grants, not to access tokens.
    pub fn set_id_token_claims(&self, f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) {
        self.inner.lock().switches.id_token_claims = Some(Arc::new(f));
    }

    /// Corrupts the ID tokens signed from now on; see [`Tamper`].
    pub fn set_tamper(&self, tamper: Tamper) {
        self.inner.lock().switches.tamper = Some(tamper);
    }

    /// Mutates every successful token response body (drop `id_token`, `token_type: "mac"`,
    /// `expires_in` as a string, …). The tokens themselves stay valid and stored.
    pub fn set_token_response(&self, f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) {
        self.inner.lock().switches.token_response = Some(Arc::new(f));
    }

    /// Mutates every userinfo response body (e.g. a different `sub`).
    pub fn set_userinfo(&self, f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) {
        self.inner.lock().switches.userinfo = Some(Arc::new(f));
    }

    /// Mutates the discovery document (issuer mismatch, extra or missing members, …).
    pub fn set_discovery(&self, f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) {
        self.inner.lock().switches.discovery = Some(Arc::new(f));
    }

    /// Advertises `endpoint` in the discovery document at another origin: its URL keeps its
    /// path and query and takes the scheme, host and port of `origin` (e.g.
    /// `https://169.254.169.254`: a hostile or compromised provider pointing the relying party
    /// at the cloud metadata service, security matrix N3). Endpoints that discovery does not
    /// advertise ([`Endpoint::Discovery`], [`Endpoint::ProviderRoot`],
    /// [`Endpoint::AttackerJwks`]) are left alone, and so is everything when `origin` is not an
    /// absolute URL. Applied before [`set_discovery`](Self::set_discovery)'s hook; cleared by
    /// [`clear_switches`](Self::clear_switches).
    ///
    /// ```
    /// use tower_oidc::testing::{Endpoint, FakeAuthentik};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeAuthentik::start().await;
    /// fake.advertise_endpoint_at(Endpoint::Jwks, "https://169.254.169.254");
    /// let doc: serde_json::Value = reqwest::get(fake.discovery_url()).await?.json().await?;
    /// assert_eq!(
    ///     doc["jwks_uri"],
    ///     format!("https://169.254.169.254/application/o/{}/jwks/", fake.slug())
    /// );
    /// # Ok(()) }
    /// ```
    pub fn advertise_endpoint_at(&self, endpoint: Endpoint, origin: impl Into<String>) {
        let origin = origin.into();
        let mut g = self.inner.lock();
        g.switches
            .advertised_origins
            .retain(|(e, _)| *e != endpoint);
        g.switches.advertised_origins.push((endpoint, origin));
    }

    /// Mutates the JWKS document (the top-level object, `{}` in HS256 mode).
    pub fn set_jwks(&self, f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) {
        self.inner.lock().switches.jwks = Some(Arc::new(f));
    }

    /// Mutates the query parameters of the successful authorize redirect (existing redirect-URI
    /// parameters, then `code`, then `state`): add `iss`, change or remove `state`, add
    /// `error=access_denied`, …
    pub fn set_callback_params(
        &self,
        f: impl Fn(&mut Vec<(String, String)>) + Send + Sync + 'static,
    ) {
        self.inner.lock().switches.callback_params = Some(Arc::new(f));
    }

    /// Puts keys the relying party must skip *before* the real one: `kty: "AKP"` (ML-DSA),
    /// a made-up `kty`, and an Ed448 `OKP` key, each with its own `kid`.
    pub fn set_jwks_junk_keys(&self, on: bool) {
        self.inner.lock().switches.jwks_junk_keys = on;
    }

    /// Adds `n` other keys of the same type **without** `kid` to the JWKS (at most the number
    /// of spare embedded keys: 2 for RS256/ES256, 1 for RSA-4096).
    pub fn set_extra_kidless_keys(&self, n: usize) {
        self.inner.lock().switches.extra_kidless_keys = n;
    }

    /// Shifts `iat`, `exp` and `auth_time` of new tokens by `seconds` (the issuer's clock is
    /// ahead when positive).
    pub fn set_clock_offset(&self, seconds: i64) {
        self.inner.lock().switches.clock_offset = seconds;
    }

    /// Resets every switch (`set_*`); faults are cleared with
    /// [`clear_fault`](Self::clear_fault).
    pub fn clear_switches(&self) {
        self.inner.lock().switches = Switches::default();
    }

    /// The underlying wiremock server, to mount extra mocks (checked before the fake's catch-all
    /// only if mounted with a higher priority). With [`tls`](FakeAuthentikBuilder::tls) its own
    /// URI is the plain-http backend behind the TLS proxy, not [`url`](Self::url).
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }
}
