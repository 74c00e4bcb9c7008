//! [`Auth`]: who is signed in, in a request's extensions.

use std::sync::Arc;

use super::{AccessToken, Responses, TokenKeeper};
use crate::error::{Error, ErrorCode};
use crate::store::{SessionId, SessionRecord, SignInFacts, User};

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
    // The session's user as the user store has it now (at most the revalidation bound old).
    user: Option<Arc<User>>,
    // How the engine that authenticated the request answers refused requests (set by the layer
    // and the framework adapters), so extractors answer alike. An `Arc` clone: no allocation.
    responses: Option<Arc<Responses>>,
    // The request carried a session cookie, but the session store could not be asked.
    unavailable: bool,
    // The session's id and the layer's token keeper, for `access_token` (reference counts:
    // no allocation per request).
    live: Option<(SessionId, Arc<TokenKeeper>)>,
    // Authenticated by an `Authorization: Bearer` token rather than a session cookie.
    bearer: bool,
}

impl Auth {
    /// Nobody signed in.
    pub fn anonymous() -> Self {
        Auth {
            session: None,
            user: None,
            responses: None,
            unavailable: false,
            live: None,
            bearer: false,
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

    pub(crate) fn signed_in(
        record: Arc<SessionRecord>,
        user: Arc<User>,
        live: (SessionId, Arc<TokenKeeper>),
    ) -> Self {
        Auth {
            session: Some(record),
            user: Some(user),
            responses: None,
            unavailable: false,
            live: Some(live),
            bearer: false,
        }
    }

    /// A request authenticated by a bearer token: its user, and a record that no store holds
    /// (the provider, the token's expiry and its `[claims.extra]`). Nothing is stored or
    /// refreshed for it.
    pub(crate) fn bearer(record: Arc<SessionRecord>, user: Arc<User>) -> Self {
        Auth {
            session: Some(record),
            user: Some(user),
            responses: None,
            unavailable: false,
            live: None,
            bearer: true,
        }
    }

    /// Whether the request was authenticated by an `Authorization: Bearer` access token (an API
    /// client) rather than a session cookie. Such a request has a user but no session:
    /// [`Auth::access_token`] and [`Auth::userinfo`] answer `session_expired`, and
    /// [`Auth::sign_in`] holds no facts.
    ///
    /// ```
    /// assert!(!tower_oidc::Auth::anonymous().is_bearer());
    /// ```
    pub fn is_bearer(&self) -> bool {
        self.bearer
    }

    /// A request whose session could not be looked up because the session store is down: not
    /// signed in, and protected routes answer `503 store_unavailable` rather than sending the
    /// user to sign in again.
    pub(crate) fn unavailable() -> Self {
        Auth {
            session: None,
            user: None,
            responses: None,
            unavailable: true,
            live: None,
            bearer: false,
        }
    }

    /// Whether the request carried a session cookie that could not be checked because the
    /// session store was unavailable. Such a request is served as signed out on public routes;
    /// [`CurrentUser`](crate::adapters::CurrentUser) and the guards answer `503`.
    pub fn is_store_unavailable(&self) -> bool {
        self.unavailable
    }

    /// Remembers how the engine that authenticated the request answers refused requests.
    pub(crate) fn with_responses(mut self, responses: Arc<Responses>) -> Self {
        self.responses = Some(responses);
        self
    }

    /// The answers of the engine that authenticated this request, if one did.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    pub(crate) fn responses(&self) -> Option<&Responses> {
        self.responses.as_deref()
    }

    /// The login page of the engine that authenticated this request (`{prefix}/login`), when
    /// it came through [`crate::OidcLayer`] or a framework adapter.
    ///
    /// ```
    /// # use tower_oidc::Auth;
    /// fn login_url(auth: &Auth) -> String {
    ///     auth.login_url().unwrap_or("/api/auth/login").to_owned()
    /// }
    /// assert_eq!(login_url(&Auth::anonymous()), "/api/auth/login");
    /// ```
    pub fn login_url(&self) -> Option<&str> {
        self.responses.as_deref().map(|r| r.login_url.as_str())
    }

    pub(crate) fn session_record(&self) -> Option<&Arc<SessionRecord>> {
        self.session.as_ref()
    }

    pub(crate) fn user_arc(&self) -> Option<&Arc<User>> {
        self.user.as_ref()
    }

    /// The signed-in user, as the user store has them (re-read at least every
    /// [`user_revalidation`](crate::OidcLayerBuilder::user_revalidation), 60 s by default), if any.
    pub fn user(&self) -> Option<&User> {
        self.user.as_deref()
    }

    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether the signed-in user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_admin)
    }

    /// When and how the user authenticated at the provider (`auth_time`, `acr`, `amr`), if
    /// someone is signed in.
    pub fn sign_in(&self) -> Option<&SignInFacts> {
        self.session.as_ref().map(|s| &s.sign_in)
    }

    /// The provider the user signed in with.
    pub fn provider(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.provider.as_str())
    }

    /// A valid access token of the signed-in user, for calling the provider's APIs (or any API
    /// that accepts its tokens) on their behalf. When the token expires within the refresh skew
    /// it is refreshed first — once per session across every instance sharing the session
    /// store, however many requests ask at the same moment.
    ///
    /// Errors: `session_expired` when signed out, when the session began before tokens were
    /// kept, or when the provider refused the refresh (the session then ends);
    /// `provider_unreachable` when the token has expired and the provider cannot be reached
    /// (the session is kept and the refresh retried later).
    ///
    /// ```no_run
    /// # async fn handler(auth: tower_oidc::Auth) -> Result<String, tower_oidc::Error> {
    /// let token = auth.access_token().await?;
    /// let response = reqwest::Client::new()
    ///     .get("https://auth.example.com/application/o/userinfo/")
    ///     .bearer_auth(token.secret())
    ///     .send()
    ///     .await;
    /// # Ok(String::new()) }
    /// ```
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        match (&self.live, &self.session) {
            (Some((id, keeper)), Some(record)) => keeper.access_token(id, record.clone()).await,
            _ => Err(Error::new(ErrorCode::SessionExpired, "not signed in")),
        }
    }

    /// The provider's userinfo for the signed-in user, fetched with [`Auth::access_token`]
    /// (refreshed first when it is about to expire): the provider's view of the user now.
    ///
    /// ```no_run
    /// # async fn handler(auth: tower_oidc::Auth) -> Result<(), tower_oidc::Error> {
    /// let info = auth.userinfo().await?;
    /// let groups = info.get("groups");
    /// # Ok(()) }
    /// ```
    pub async fn userinfo(&self) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        match (&self.live, &self.session) {
            (Some((id, keeper)), Some(record)) => keeper.userinfo(id, record.clone()).await,
            _ => Err(Error::new(ErrorCode::SessionExpired, "not signed in")),
        }
    }

    /// The claims the provider's `[providers.<id>.claims.extra]` rules keep with the session
    /// beyond the fixed profile fields (e.g. Authentik's `ak_proxy`, a tenant id), as of the
    /// sign-in or the last token refresh; empty when signed out.
    ///
    /// ```
    /// let auth = tower_oidc::Auth::anonymous();
    /// assert!(auth.claims().is_empty());
    /// assert_eq!(auth.claim("tenant"), None);
    /// ```
    pub fn claims(&self) -> &std::collections::BTreeMap<String, serde_json::Value> {
        static EMPTY: std::collections::BTreeMap<String, serde_json::Value> =
            std::collections::BTreeMap::new();
        self.session.as_ref().map_or(&EMPTY, |s| &s.claims)
    }

    /// One claim of [`Auth::claims`], by name.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims().get(name)
    }
}
