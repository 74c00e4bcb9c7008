//! [`FakeIssuer`]: a fake of any built-in provider, laid out by a [`Preset`].

mod preset;
mod refresh;
mod serve;
mod tenant;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wiremock::{Mock, MockServer};

pub use preset::Preset;
pub(crate) use preset::{Ctx, TokenStyle};

use super::keys::{KeySet, KidStyle, SigningMode};
use super::record::{Endpoint, RecordedRequest};
use super::state::random_alnum;
use super::user::FakeUser;
use crate::config::{ProviderSettings, Secret};

/// A fake of one built-in provider on a loopback port: its endpoint paths, its client
/// authentication, its token response quirks (GitHub's form-encoded default, errors as HTTP 200)
/// and its users' claims in the provider's own shape, from a [`Preset`].
///
/// It runs the authorization code flow as the provider does for a user who is already signed
/// in and has consented: `/authorize` answers with the 302 to the redirect URI (the user chosen
/// by `login_hint`, else the first), the token endpoint checks the client, the code (single
/// use), the `redirect_uri` and the PKCE verifier, and signs ID tokens with the fake's
/// published test key.
///
/// For Authentik with every misbehaviour switch, use [`FakeAuthentik`](super::FakeAuthentik).
///
/// ```
/// use tower_oidc::testing::{FakeIssuer, FakeUser, Preset};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fake = FakeIssuer::builder(Preset::github())
///     .user(FakeUser::new("octocat").email("octo@example.com").email_verified(true))
///     .start()
///     .await;
/// let s = fake.settings();
/// assert_eq!(s.url.as_deref(), Some(fake.url().as_str()));
/// assert_eq!(s.params["api"], format!("{}/api", fake.url()));
/// assert!(fake.issuer().is_none()); // GitHub has no ID token
/// # }
/// ```
pub struct FakeIssuer {
    // Kept alive: dropping the server stops it.
    _server: MockServer,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIssuer")
            .field("provider", &self.inner.preset.provider)
            .field("url", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// A code waiting for the token endpoint.
pub(crate) struct Grant {
    pub(crate) user_pk: u64,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) challenge: Option<String>,
}

/// What changes while the fake runs.
pub(crate) struct State {
    pub(crate) users: Vec<FakeUser>,
    pub(crate) codes: HashMap<String, Grant>,
    /// access token → (user pk, scopes)
    pub(crate) access: HashMap<String, (u64, Vec<String>)>,
    /// Refresh tokens issued, rotated-away ones kept as revoked.
    pub(crate) refresh: HashMap<String, refresh::RefreshGrant>,
    pub(crate) log: Vec<RecordedRequest>,
    /// Multi-tenant: the tenants of the next ID tokens.
    pub(crate) tenant: tenant::TokenTenant,
}

pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) preset: Preset,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) keys: KeySet,
    /// Multi-tenant (Entra ID): the tenant parameter that means any tenant (`organizations`).
    pub(crate) multi_tenant: Option<String>,
    pub(crate) state: Mutex<State>,
    /// Sign in with Apple's client side ([`Preset::apple`]).
    pub(crate) apple: Option<preset::apple::AppleClient>,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn issuer(&self) -> Option<String> {
        if self.multi_tenant.is_some() {
            return self.templated_issuer();
        }
        self.preset.issuer_path.map(|p| format!("{}{p}", self.base))
    }

    pub(crate) fn discovery_url(&self) -> Option<String> {
        if self.multi_tenant.is_some() {
            return self.tenant_discovery_url();
        }
        match self.preset.discovery_path {
            Some(p) => Some(format!("{}{p}", self.base)),
            None => self.issuer().map(|i| {
                format!(
                    "{}/.well-known/openid-configuration",
                    i.trim_end_matches('/')
                )
            }),
        }
    }
}

/// Builder for [`FakeIssuer`]; see [`FakeIssuer::builder`].
#[derive(Debug)]
#[must_use]
pub struct FakeIssuerBuilder {
    preset: Preset,
    users: Vec<FakeUser>,
    mode: SigningMode,
    multi_tenant: Option<String>,
}

impl FakeIssuerBuilder {
    /// Adds a user; adding any replaces the defaults (`alice`, an admin with a verified email,
    /// and `bob`).
    pub fn user(mut self, user: FakeUser) -> Self {
        self.users.push(user);
        self
    }

    /// The ID token signing key (default RS256 with RSA-2048; HS256 is not offered here).
    pub fn signing(mut self, mode: SigningMode) -> Self {
        self.mode = if mode == SigningMode::Hs256 {
            SigningMode::Rs256
        } else {
            mode
        };
        self
    }

    /// Serves the provider as a multi-tenant application sees it (Microsoft Entra ID's
    /// `common`, `organizations` or `consumers`, given as `any`): the discovery document at
    /// `{url}/{any}/v2.0/.well-known/openid-configuration` names the issuer
    /// `{url}/{tenantid}/v2.0` literally, and each ID token carries the issuer and `tid` of one
    /// tenant ([`FakeIssuer::sign_for_tenant`]; the preset's tenant by default).
    /// [`FakeIssuer::settings`] then sets the `tenant` parameter to `any`.
    pub fn multi_tenant(mut self, any: &str) -> Self {
        self.multi_tenant = Some(any.to_owned());
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If the embedded test keys cannot be loaded (a packaging bug): a test-setup failure.
    pub async fn start(self) -> FakeIssuer {
        let keys = match KeySet::load(self.mode, KidStyle::Md5Hex) {
            Ok(k) => k,
            Err(e) => panic!("FakeIssuer: embedded test keys are broken: {e}"),
        };
        let apple = if self.preset.apple {
            match preset::apple::AppleClient::new() {
                Ok(a) => Some(a),
                Err(e) => panic!("FakeIssuer: the Apple test key is broken: {e}"),
            }
        } else {
            None
        };
        let server = MockServer::start().await;
        let users = if self.users.is_empty() {
            default_users()
        } else {
            self.users
        };
        let users = users
            .into_iter()
            .enumerate()
            .map(|(i, mut u)| {
                u.pk = i as u64 + 1;
                u
            })
            .collect();
        let inner = Arc::new(Inner {
            base: server.uri(),
            preset: self.preset,
            client_id: random_alnum(32),
            client_secret: random_alnum(64),
            keys,
            multi_tenant: self.multi_tenant,
            state: Mutex::new(State {
                users,
                codes: HashMap::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                log: Vec::new(),
                tenant: tenant::TokenTenant::default(),
            }),
            apple,
        });
        Mock::given(wiremock::matchers::any())
            .respond_with(serve::Responder(inner.clone()))
            .named("FakeIssuer")
            .mount(&server)
            .await;
        FakeIssuer {
            _server: server,
            inner,
        }
    }
}

fn default_users() -> Vec<FakeUser> {
    vec![
        FakeUser::new("alice")
            .name("Alice Anders")
            .given_name("Alice")
            .family_name("Anders")
            .email("alice@example.com")
            .email_verified(true)
            .groups(["admins"]),
        FakeUser::new("bob")
            .name("Bob Berger")
            .email("bob@example.com")
            .groups(["users"]),
    ]
}

impl FakeIssuer {
    /// A builder for a fake laid out as `preset`.
    pub fn builder(preset: Preset) -> FakeIssuerBuilder {
        FakeIssuerBuilder {
            preset,
            users: Vec::new(),
            mode: SigningMode::Rs256,
            multi_tenant: None,
        }
    }

    /// Starts a fake of `preset` with the default users.
    pub async fn start(preset: Preset) -> FakeIssuer {
        Self::builder(preset).start().await
    }

    /// The providers.toml id it impersonates.
    pub fn provider(&self) -> &'static str {
        self.inner.preset.provider
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.inner.base.clone()
    }

    /// The issuer, or `None` for an OAuth2-only provider. Multi-tenant: the templated one
    /// the discovery document names (`{url}/{tenantid}/v2.0`).
    pub fn issuer(&self) -> Option<String> {
        self.inner.issuer()
    }

    /// Multi-tenant: the issuer of `tenant` (`{url}/{tenant}/v2.0`), as its ID tokens say.
    pub fn tenant_issuer(&self, tenant: &str) -> Option<String> {
        self.inner.issuer_of_tenant(tenant)
    }

    /// Multi-tenant: the next ID tokens are `tenant`'s (its issuer as `iss`, `tid` = `tenant`).
    pub fn sign_for_tenant(&self, tenant: &str) {
        self.sign_mismatched_tenant(tenant, tenant);
    }

    /// Multi-tenant: the next ID tokens carry the issuer of `iss_tenant` but `tid` = `tid`
    /// (a token of one tenant passed off under another's issuer).
    pub fn sign_mismatched_tenant(&self, iss_tenant: &str, tid: &str) {
        self.inner.lock().tenant = tenant::TokenTenant {
            iss: iss_tenant.to_owned(),
            tid: tid.to_owned(),
        };
    }

    /// The client id the fake accepts.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The client secret the fake accepts.
    pub fn client_secret(&self) -> &str {
        &self.inner.client_secret
    }

    /// What an admin enters to point the built-in provider at this fake: enabled, the URL,
    /// parameters (Entra's tenant, GitHub's API URL), client id and secret (Apple: the `.p8`
    /// key as the secret, and the parameters `team_id` and `key_id`).
    pub fn settings(&self) -> ProviderSettings {
        let mut s = self.plain_settings();
        preset::apple::settings(&self.inner, &mut s);
        s
    }

    fn plain_settings(&self) -> ProviderSettings {
        let p = &self.inner.preset;
        ProviderSettings {
            enabled: true,
            url: Some(format!("{}{}", self.inner.base, p.url_path)),
            client_id: Some(self.inner.client_id.clone()),
            client_secret: Some(Secret::new(self.inner.client_secret.clone())),
            params: p
                .params
                .iter()
                .map(|(k, v)| {
                    let v = match &self.inner.multi_tenant {
                        Some(any) if *k == "tenant" => any.clone(),
                        _ if v.starts_with('/') => format!("{}{v}", self.inner.base),
                        _ => (*v).to_owned(),
                    };
                    ((*k).to_owned(), v)
                })
                .collect(),
            ..ProviderSettings::default()
        }
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().log.clone()
    }

    /// How many requests reached `endpoint`.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        super::record::count(&self.inner.lock().log, endpoint)
    }

    /// The users, with their assigned primary keys.
    pub fn users(&self) -> Vec<FakeUser> {
        self.inner.lock().users.clone()
    }
}
