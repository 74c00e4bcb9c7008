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
    token_validity: Duration,
    code_validity: Duration,
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
            token_validity: Duration::from_secs(3600),
            code_validity: Duration::from_secs(60),
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

    /// Serve on this listener (a fixed port) instead of a random loopback port.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
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
    /// If the embedded test keys cannot be loaded (a packaging bug) or the listener cannot be
    /// used; both are test-setup failures.
    pub async fn start(self) -> FakeAuthentik {
        let keys = match KeySet::load(self.mode, self.kid_style) {
            Ok(k) => k,
            Err(e) => panic!("FakeAuthentik: embedded test keys are broken: {e}"),
        };
        let mut builder = MockServer::builder();
        if let Some(l) = self.listener {
            builder = builder.listener(l);
        }
        let server = builder.start().await;
        let cfg = Config {
            slug: self.slug,
            client_id: self.client_id.unwrap_or_else(|| random_alnum(40)),
            client_secret: self.client_secret.unwrap_or_else(|| random_alnum(128)),
            public_client: self.public_client,
            scopes: self.scopes,
            mode: self.mode,
            token_validity: self.token_validity,
            code_validity: self.code_validity,
            refresh_validity: Duration::from_secs(30 * 24 * 3600),
            login_page: self.login_page,
            install_id: self
                .install_id
                .unwrap_or_else(|| super::state::hex(&crate::util::random_bytes::<16>())),
            sub_mode: self.sub_mode,
            version: self.version,
            redirect_uris: self.redirect_uris,
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
            base: server.uri(),
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
        FakeAuthentik { server, inner }
    }
}
