//! [`FakeAuthentikBuilder`]: settings fixed at start, and starting the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::{Mock, MockServer};

use super::endpoints::Responder;
use super::fake::FakeAuthentik;
use super::keys::{KeySet, KidStyle, SigningMode};
use super::state::{Config, Inner, State, random_alnum};
use super::sub_mode::SubMode;
use super::switches::Switches;
use super::tls::{TlsProxy, TlsSettings};
use super::user::{FakeUser, default_users};
use super::version::AuthentikVersion;

/// Builder for [`FakeAuthentik`]; see [`FakeAuthentik::builder`].
#[derive(Debug)]
#[must_use]
pub struct FakeAuthentikBuilder {
    mode: SigningMode,
    kid_style: KidStyle,
    slug: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    public_client: bool,
    redirect_uris: Vec<String>,
    logout_uris: Vec<String>,
    users: Vec<FakeUser>,
    scopes: Vec<String>,
    login_page: bool,
    listener: Option<std::net::TcpListener>,
    tls: Option<TlsSettings>,
    tls_host: String,
    logout_ca_pem: Vec<String>,
    token_validity: Duration,
    code_validity: Duration,
    sign_at_authorize: bool,
    install_id: Option<String>,
    sub_mode: SubMode,
    version: AuthentikVersion,
}

impl Default for FakeAuthentikBuilder {
    fn default() -> Self {
        Self {
            mode: SigningMode::Rs256,
            kid_style: KidStyle::Md5Hex,
            slug: "tower-oidc".into(),
            client_id: None,
            client_secret: None,
            public_client: false,
            redirect_uris: Vec::new(),
            logout_uris: Vec::new(),
            users: Vec::new(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            login_page: false,
            listener: None,
            tls: None,
            tls_host: "localhost".into(),
            logout_ca_pem: Vec::new(),
            token_validity: Duration::from_secs(3600),
            code_validity: Duration::from_secs(60),
            sign_at_authorize: false,
            install_id: None,
            sub_mode: SubMode::HashedUserId,
            version: AuthentikVersion::default(),
        }
    }
}

impl FakeAuthentikBuilder {
    /// The signing key type (default [`SigningMode::Rs256`], RSA-2048).
    pub fn signing(mut self, mode: SigningMode) -> Self {
        self.mode = mode;
        self
    }

    /// How `kid` is derived (default 32-hex MD5 style; 86-char SHA-512 style for 2026.2+ keys).
    pub fn kid_style(mut self, style: KidStyle) -> Self {
        self.kid_style = style;
        self
    }

    /// The application slug (default `tower-oidc`); the issuer is
    /// `{url}/application/o/{slug}/`.
    pub fn slug(mut self, slug: impl Into<String>) -> Self {
        self.slug = slug.into();
        self
    }

    /// The client ID (default: 40 random alphanumerics, like Authentik).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The client secret (default: 128 random alphanumerics). In HS256 mode it is also the
    /// HMAC key.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Makes the provider a *public* client: the token endpoint does not check the secret.
    pub fn public_client(mut self, public: bool) -> Self {
        self.public_client = public;
        self
    }

    /// Registers a strict (exact, case-sensitive) authorization redirect URI, as the admin does
    /// in the provider's settings. The list is fixed when the fake starts: nothing is learned
    /// from requests, so a relying party that sends a redirect URI other than the one its
    /// documentation tells the admin to register fails here as it would in production. With
    /// none registered, the fake has the default registration
    /// [`DEFAULT_REDIRECT_URI_REGEX`](super::DEFAULT_REDIRECT_URI_REGEX) (a loopback app's or
    /// `https://app.example.com`'s `…/callback`).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Registers a strict *logout* redirect URI; `end-session` honours `post_logout_redirect_uri`
    /// only for these (Authentik 2026.5+).
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.logout_uris.push(uri.into());
        self
    }

    /// Adds a user. Adding any user replaces the defaults (`alice`, `bob`).
    pub fn user(mut self, user: FakeUser) -> Self {
        self.users.push(user);
        self
    }

    /// The provider's scope mappings (default `openid email profile`, the UI's preselection).
    /// Add `offline_access` to get refresh tokens.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// When on, `/authorize` without a matching `login_hint` shows an HTML page with one link per
    /// user (the same authorize URL plus `login_hint=<username>`) instead of picking the first.
    pub fn login_page(mut self, on: bool) -> Self {
        self.login_page = on;
        self
    }

    /// Serve on this listener (a fixed port) instead of a random loopback port. With
    /// [`tls`](Self::tls) it is the HTTPS port.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Serves **HTTPS** with this certificate chain and private key, as a self-hosted Authentik
    /// behind a private CA does, so a test can check that the app trusts that CA, and refuses
    /// the server without it ([`FakeAuthentik::tls_handshake_failures`]).
    ///
    /// `cert_chain_pem` holds the server's certificate first, then any intermediates (`CERTIFICATE`
    /// blocks); `key_pem` its private key (PKCS#8, PKCS#1 or SEC1). The certificate must name the
    /// [`tls_host`](Self::tls_host), `localhost` by default. [`FakeAuthentik::url`] is then
    /// `https://localhost:PORT`, and so are the issuer and every URL the fake hands out
    /// (discovery, JWKS, token, userinfo, end-session, …).
    ///
    /// A TLS proxy on its own loopback port (the [`listener`](Self::listener)'s, if given)
    /// terminates TLS and forwards the plaintext to the wiremock server, which stays plain http
    /// on another port ([`FakeAuthentik::mock_server`]). TLS 1.2 and 1.3, the `ring` provider,
    /// HTTP/1.1 (no ALPN). A handshake that fails closes that connection and nothing else.
    ///
    /// ```
    /// use tower_oidc::testing::FakeAuthentik;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A private CA and a certificate it signed for localhost (here with rcgen).
    /// let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    /// ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    /// let ca_key = rcgen::KeyPair::generate()?;
    /// let ca_pem = ca_params.self_signed(&ca_key)?.pem();
    /// let ca = rcgen::Issuer::new(ca_params, ca_key);
    /// let leaf_key = rcgen::KeyPair::generate()?;
    /// let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?
    ///     .signed_by(&leaf_key, &ca)?;
    ///
    /// let fake = FakeAuthentik::builder()
    ///     .tls(leaf.pem(), leaf_key.serialize_pem())
    ///     .start()
    ///     .await;
    /// assert!(fake.issuer().starts_with("https://localhost:"));
    ///
    /// let client = reqwest::Client::builder()
    ///     .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
    ///     .build()?;
    /// let doc: serde_json::Value = client.get(fake.discovery_url()).send().await?.json().await?;
    /// assert_eq!(doc["issuer"], fake.issuer());
    /// # Ok(()) }
    /// ```
    pub fn tls(mut self, cert_chain_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.tls = Some(TlsSettings {
            cert_chain_pem: cert_chain_pem.into(),
            key_pem: key_pem.into(),
        });
        self
    }

    /// The host name in the fake's URLs when it serves [`tls`](Self::tls) (default
    /// `localhost`; `127.0.0.1` for a certificate with only the IP address). The certificate must
    /// name it, and the client must resolve it to the fake's loopback address: for a made-up
    /// name such as `auth.localtest`, with
    /// `reqwest::ClientBuilder::resolve(host, fake.local_addr())`
    /// ([`FakeAuthentik::local_addr`]). An IPv6 address goes in brackets. No effect without TLS,
    /// where the URL is always `http://127.0.0.1:PORT`.
    pub fn tls_host(mut self, host: impl Into<String>) -> Self {
        self.tls_host = host.into();
        self
    }

    /// CA certificates (PEM, one or more `CERTIFICATE` blocks) the fake trusts, besides the
    /// client's built-in roots, when it POSTs back-channel logout tokens to an app served over
    /// **HTTPS** by a private CA, as an Authentik admin adds that CA to the instance's trust
    /// store. Without it such a delivery fails its TLS handshake and records no status. The
    /// app's host name is resolved by the system resolver, as for any delivery. Calls add up.
    ///
    /// ```
    /// use tower_oidc::testing::FakeAuthentik;
    /// # fn f(app_ca_pem: &str) {
    /// let builder = FakeAuthentik::builder().logout_ca_pem(app_ca_pem);
    /// # let _ = builder; }
    /// ```
    pub fn logout_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.logout_ca_pem.push(pem.into());
        self
    }

    /// Access token validity: `expires_in` and the ID token's `exp - iat` (default 3600 s, the
    /// model default; the admin UI default is 300 s).
    pub fn access_token_validity(mut self, validity: Duration) -> Self {
        self.token_validity = validity;
        self
    }

    /// Authorization code validity (default 60 s).
    pub fn code_validity(mut self, validity: Duration) -> Self {
        self.code_validity = validity;
        self
    }

    /// Signs a code's tokens when `/authorize` issues the code, so that the token endpoint
    /// answers the exchange from memory (default: off, tokens are signed at the exchange, as
    /// Authentik does).
    ///
    /// For load tests of the relying party: signing with an RSA-4096 key takes milliseconds, and
    /// on a small machine the fake's signing would otherwise share the cores that the code
    /// exchange is timed on. The tokens' `iat` is then the time of the authorization, and the
    /// access token (and refresh token) is live from then on; the code stays single-use.
    ///
    /// ```
    /// # async fn demo() {
    /// use tower_oidc::testing::{FakeAuthentik, SigningMode};
    /// let fake = FakeAuthentik::builder()
    ///     .signing(SigningMode::Rs256Rsa4096)
    ///     .sign_tokens_at_authorize(true)
    ///     .start()
    ///     .await;
    /// # drop(fake);
    /// # }
    /// ```
    pub fn sign_tokens_at_authorize(mut self, on: bool) -> Self {
        self.sign_at_authorize = on;
        self
    }

    /// The install (tenant) id that `sub` hashes with the user pk (default: random per fake).
    pub fn install_id(mut self, id: impl Into<String>) -> Self {
        self.install_id = Some(id.into());
        self
    }

    /// How `sub` is derived (default [`SubMode::HashedUserId`]).
    pub fn sub_mode(mut self, mode: SubMode) -> Self {
        self.sub_mode = mode;
        self
    }

    /// The Authentik release to behave like where releases differ (default
    /// [`AuthentikVersion::NEWEST`]); see [`AuthentikVersion`] for what changes.
    pub fn version(mut self, version: AuthentikVersion) -> Self {
        self.version = version;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If the embedded test keys cannot be loaded (a packaging bug), the listener cannot be
    /// used, or the [`tls`](Self::tls) certificate or key or a
    /// [`logout_ca_pem`](Self::logout_ca_pem) certificate cannot be read; all are test-setup
    /// failures.
    pub async fn start(self) -> FakeAuthentik {
        let keys = match KeySet::load(self.mode, self.kid_style) {
            Ok(k) => k,
            Err(e) => panic!("FakeAuthentik: embedded test keys are broken: {e}"),
        };
        let mut logout_roots = Vec::new();
        for pem in &self.logout_ca_pem {
            match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certs) if !certs.is_empty() => logout_roots.extend(certs),
                Ok(_) => panic!("FakeAuthentik: logout_ca_pem holds no CERTIFICATE block"),
                Err(e) => panic!("FakeAuthentik: logout_ca_pem is not PEM certificates: {e}"),
            }
        }
        let tls_config = self.tls.as_ref().map(|t| match t.server_config() {
            Ok(config) => config,
            Err(e) => panic!("FakeAuthentik: TLS setup: {e}"),
        });
        // The given listener is the port clients use: wiremock's, or the TLS proxy's.
        let (mock_listener, front) = match tls_config {
            None => (self.listener, None),
            Some(_) => (None, self.listener),
        };
        let mut builder = MockServer::builder();
        if let Some(l) = mock_listener {
            builder = builder.listener(l);
        }
        let server = builder.start().await;
        let (base, tls) = match tls_config {
            None => (server.uri(), None),
            Some(config) => {
                let proxy = front
                    .map_or_else(|| std::net::TcpListener::bind("127.0.0.1:0"), Ok)
                    .and_then(|l| TlsProxy::start(l, *server.address(), config));
                let proxy = match proxy {
                    Ok(p) => p,
                    Err(e) => panic!("FakeAuthentik: cannot start the TLS proxy: {e}"),
                };
                let base = format!("https://{}:{}", self.tls_host, proxy.port());
                (base, Some(proxy))
            }
        };
        let cfg = Config {
            slug: self.slug,
            client_id: self.client_id.unwrap_or_else(|| random_alnum(40)),
            client_secret: self.client_secret.unwrap_or_else(|| random_alnum(128)),
            public_client: self.public_client,
            scopes: self.scopes,
            mode: self.mode,
            token_validity: self.token_validity,
            code_validity: self.code_validity,
            sign_at_authorize: self.sign_at_authorize,
            refresh_validity: Duration::from_secs(30 * 24 * 3600),
            login_page: self.login_page,
            install_id: self
                .install_id
                .unwrap_or_else(|| super::state::hex(&crate::util::random_bytes::<16>())),
            sub_mode: self.sub_mode,
            version: self.version,
            redirect_uris: self.redirect_uris,
            logout_roots,
        };
        let mut state = State {
            users: Vec::new(),
            next_pk: 1,
            logout_uris: self.logout_uris,
            browser_sessions: Default::default(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            sessions: Vec::new(),
            next_serial: 0,
            logout: None,
            logout_retry_delays: super::logout::DEFAULT_RETRY_DELAYS.to_vec(),
            deliveries: Vec::new(),
            revocations: Vec::new(),
            key_index: 0,
            switches: Switches::default(),
            faults: HashMap::new(),
            log: Vec::new(),
            client_jwks: None,
            assertion_aud: None,
            assertion_jtis: Default::default(),
            pushed: HashMap::new(),
        };
        let users = if self.users.is_empty() {
            default_users()
        } else {
            self.users
        };
        for u in users {
            state.add_user(u);
        }
        let inner = Arc::new(Inner {
            base,
            cfg,
            keys,
            state: Mutex::new(state),
            runtime: tokio::runtime::Handle::try_current().ok(),
        });
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(inner.clone()))
            .named("FakeAuthentik")
            .mount(&server)
            .await;
        FakeAuthentik { server, inner, tls }
    }
}
