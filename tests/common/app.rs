//! The app under test: a real axum app with `OidcLayer` on a loopback port, its settings, users
//! and sessions in a [`TestStore`] (memory unless `TOWER_OIDC_CONFORMANCE_BACKEND` names another
//! backend) that the test can also read and write.

use axum::{Json, Router, extract::Request, routing::get};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{Identity, MemoryStore, NewUser, SessionStore, SettingsStore, UserStore};
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{Auth, OidcLayer, OidcLayerBuilder, Providers, Secret};

use crate::common::admin::admin_settings;
use crate::common::browser::client;
use crate::common::store::TestStore;

/// How the admin entered the Authentik URL.
#[derive(Debug, Clone, Copy)]
pub enum UrlForm {
    /// `http://127.0.0.1:PORT`
    Instance,
    /// `http://127.0.0.1:PORT/application/o/<slug>/`
    Issuer,
}

/// A running app: `/` and `/after` answer who is signed in (`{"signed_in", "name"}`), `/headers`
/// echoes the request headers the app received, `/token` answers the session's access token, `/me` needs a signed-in user (`CurrentUser`) and
/// `/admin-only` an administrator (`AdminUser`); everything under `/api/auth` is the layer's.
pub struct App {
    pub url: String,
    /// The provider id sign-ins go through.
    pub provider: String,
    /// The test's browser: keeps cookies, does not follow redirects.
    pub client: reqwest::Client,
    pub layer: OidcLayer,
    pub store: TestStore,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
        // Over every scenario that ran so far: no metric label outside its documented set.
        if !std::thread::panicking() {
            crate::common::metrics::assert_labels_bounded();
        }
    }
}

impl App {
    /// The absolute URL of `path` (with its query) on the app.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The authorize route of the app's provider, with `query` (`""` or `?…`).
    pub fn authorize_url(&self, query: &str) -> String {
        self.at(&format!(
            "/api/auth/providers/{}/authorize{query}",
            self.provider
        ))
    }
}

/// Authentik settings for `fake`, with its URL entered in the form `form`.
pub fn authentik_settings(fake: &FakeAuthentik, form: UrlForm) -> ProviderSettings {
    ProviderSettings {
        enabled: true,
        url: Some(match form {
            UrlForm::Instance => fake.url(),
            UrlForm::Issuer => fake.issuer(),
        }),
        client_id: Some(fake.client_id().to_owned()),
        client_secret: Some(Secret::new(fake.client_secret())),
        ..ProviderSettings::default()
    }
}

/// A layer builder as the examples set one up: the built-in registry, `store` for settings,
/// users and sessions, and the app's public `base_url`.
pub fn builder<S>(store: &S, base_url: &str) -> OidcLayerBuilder
where
    S: SettingsStore + UserStore + SessionStore + Clone,
{
    OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(base_url)
}

/// An `OidcLayer` as the examples build it (memory stores; Authentik by its instance URL, with
/// the admin rule on the group "authentik Admins"), for an app at `app_url` signing in with
/// `fake`.
pub async fn layer_for(fake: &FakeAuthentik, app_url: &str) -> OidcLayer {
    let settings = ProviderSettings {
        url: Some(fake.url()),
        ..admin_settings(fake)
    };
    let store = MemoryStore::new();
    store.put("authentik", &settings).await.expect("settings");
    builder(&store, app_url).build().expect("layer")
}

async fn whoami(req: Request) -> Json<serde_json::Value> {
    let auth = Auth::from_extensions(req.extensions());
    Json(serde_json::json!({
        "signed_in": auth.is_signed_in(),
        "name": auth.user().and_then(|u| u.name.clone()),
    }))
}

async fn headers(req: Request) -> Json<serde_json::Value> {
    let h: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
            )
        })
        .collect();
    let signed_in = Auth::from_extensions(req.extensions()).is_signed_in();
    Json(serde_json::json!({"headers": h, "signed_in": signed_in}))
}

/// `GET /token`: the session's access token (200), or the error code with its status.
async fn access_token(req: Request) -> (axum::http::StatusCode, String) {
    match Auth::from_extensions(req.extensions()).access_token().await {
        Ok(t) => (axum::http::StatusCode::OK, t.secret().to_owned()),
        Err(e) => (e.code().status(), e.code().as_str().to_owned()),
    }
}

/// Starts an app whose Authentik provider points at `fake`.
pub async fn app(fake: &FakeAuthentik, form: UrlForm) -> App {
    app_with(fake, authentik_settings(fake, form), |b| b).await
}

/// Starts an app with `settings` stored for Authentik and builder tweaks.
pub async fn app_with(
    _fake: &FakeAuthentik,
    settings: ProviderSettings,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    app_for("authentik", settings, tweak).await
}

/// Starts an app with the built-in registry and `settings` stored for `provider`, which
/// sign-ins go through.
pub async fn app_for(
    provider: &str,
    settings: ProviderSettings,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    serve(provider, vec![(provider, settings)], tweak).await
}

/// Starts an app with any providers and settings; sign-ins go through Authentik.
pub async fn app_custom(
    providers: Providers,
    settings: Vec<(&str, ProviderSettings)>,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    serve("authentik", settings, |b| tweak(b.providers(providers))).await
}

async fn serve(
    provider: &str,
    settings: Vec<(&str, ProviderSettings)>,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    let store = TestStore::from_env().await;
    for (id, s) in &settings {
        SettingsStore::put(&store, id, s).await.unwrap();
    }
    serve_on(provider, store, tweak).await
}

/// Starts another instance of an app on `store` (its settings, users and sessions); sign-ins
/// go through `provider`. Instances that must read each other's sessions' tokens share a
/// cookie key (`tweak` sets it).
pub async fn serve_on(
    provider: &str,
    store: TestStore,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    crate::common::metrics::install();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let layer = tweak(builder(&store, &url)).build().unwrap();
    let router = Router::new()
        .route("/", get(whoami))
        .route("/after", get(whoami))
        .route("/headers", get(headers))
        .route("/token", get(access_token))
        .route(
            "/me",
            get(|u: tower_oidc::CurrentUser| async move { u.id.to_string() }),
        )
        .route(
            "/admin-only",
            get(|a: tower_oidc::AdminUser| async move { a.id.to_string() }),
        )
        .layer(layer.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    App {
        url,
        provider: provider.to_owned(),
        client: client(),
        layer,
        store,
        task,
    }
}

/// The built-in registry plus a second provider, `other`, with Authentik's spec.
pub fn with_second_authentik() -> Providers {
    with_authentik_as("other")
}

/// The built-in registry plus a provider `id` with Authentik's spec.
pub fn with_authentik_as(id: &str) -> Providers {
    let builtin = include_str!("../../providers.toml");
    let start = builtin.find("[providers.authentik]").unwrap();
    // Up to the next provider's tables (the Authentik entry and its `.claims`).
    let end = builtin[start..]
        .match_indices("\n[providers.")
        .map(|(i, _)| start + i)
        .find(|&i| !builtin[i + 1..].starts_with("[providers.authentik"))
        .unwrap_or(builtin.len());
    let other = builtin[start..end].replace("[providers.authentik", &format!("[providers.{id}"));
    Providers::builtin()
        .with_toml_str(&format!("{id}.toml"), &other)
        .unwrap()
}

/// An account the app already has (signed up locally, so with a `local` identity) with `email`,
/// verified by the app or not.
pub async fn local_user(app: &App, email: &str, verified: bool) -> tower_oidc::User {
    app.store
        .create_with_identity(
            NewUser {
                email: Some(email.into()),
                email_verified: verified,
                name: Some("Local".into()),
                ..NewUser::default()
            },
            &Identity {
                provider: "local".into(),
                issuer: "local".into(),
                subject: email.into(),
            },
        )
        .await
        .unwrap()
}

/// The user the app has with `email`, if any.
pub async fn user_by_email(app: &App, email: &str) -> Option<tower_oidc::User> {
    app.store.find_by_email(email).await.unwrap()
}
