//! Shared harness: a real axum app with `OidcLayer` on a loopback port, driven by an HTTP client
//! that keeps cookies and follows redirects by hand (so tests can stop anywhere in the flow).
#![allow(dead_code)]

use std::sync::Arc;

use axum::{Json, Router, extract::Request, routing::get};
use reqwest::header::{ACCEPT, LOCATION, SET_COOKIE};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{MemoryStore, SettingsStore};
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{Auth, OidcLayer, OidcLayerBuilder, Providers, Secret};

/// How the admin entered the Authentik URL.
#[derive(Debug, Clone, Copy)]
pub enum UrlForm {
    /// `http://127.0.0.1:PORT`
    Instance,
    /// `http://127.0.0.1:PORT/application/o/<slug>/`
    Issuer,
}

pub struct App {
    pub url: String,
    /// The provider id sign-ins go through.
    pub provider: String,
    pub client: reqwest::Client,
    pub layer: OidcLayer,
    pub store: MemoryStore,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

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

async fn whoami(req: Request) -> Json<serde_json::Value> {
    let auth = Auth::from_extensions(req.extensions());
    Json(serde_json::json!({
        "signed_in": auth.is_signed_in(),
        "name": auth.user().and_then(|u| u.name.clone()),
    }))
}

/// Starts an app whose Authentik provider points at `fake`.
pub async fn app(fake: &FakeAuthentik, form: UrlForm) -> App {
    app_with(fake, authentik_settings(fake, form), |b| b).await
}

pub async fn app_with(
    _fake: &FakeAuthentik,
    settings: ProviderSettings,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    app_for("authentik", settings, tweak).await
}

/// Starts an app with the built-in registry and `settings` stored for `provider`.
pub async fn app_for(
    provider: &str,
    settings: ProviderSettings,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let store = MemoryStore::new();
    store.put(provider, &settings).await.unwrap();
    let builder = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(url.clone());
    let layer = tweak(builder).build().await.unwrap();
    let router = Router::new()
        .route("/", get(whoami))
        .route("/after", get(whoami))
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

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The outcome of driving a sign-in.
#[derive(Debug)]
pub struct Outcome {
    /// Status of the callback response.
    pub status: u16,
    /// Its `Location`.
    pub location: Option<String>,
    /// Its `Set-Cookie` headers.
    pub set_cookies: Vec<String>,
    /// The callback URL the provider redirected to.
    pub callback_url: String,
}

impl Outcome {
    /// The `error` code the browser was sent to, if any.
    pub fn error_code(&self) -> Option<String> {
        let loc = self.location.as_deref()?;
        let u = url::Url::parse(&format!("http://x{}", loc))
            .or_else(|_| url::Url::parse(loc))
            .ok()?;
        u.query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
    }

    /// Whether an authenticated session cookie was set.
    pub fn set_session(&self) -> bool {
        self.set_cookies
            .iter()
            .any(|c| c.starts_with("tower_oidc_session=") && !c.starts_with("tower_oidc_session=;"))
    }
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Starts a sign-in at the app and follows the provider's redirect; returns the callback URL
/// (not yet visited) and the authorize redirect.
pub async fn start(app: &App, query: &str) -> (String, String) {
    let r = app
        .client
        .get(format!(
            "{}/api/auth/providers/{}/authorize{query}",
            app.url, app.provider
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "authorize: {:?}", r.text().await);
    let to_idp = location(&r).unwrap();
    let r = app.client.get(&to_idp).send().await.unwrap();
    assert_eq!(r.status(), 302, "fake authorize answered {}", r.status());
    (location(&r).unwrap(), to_idp)
}

/// Visits a callback URL with the app's client.
pub async fn finish(app: &App, callback_url: &str) -> Outcome {
    let r = app.client.get(callback_url).send().await.unwrap();
    Outcome {
        status: r.status().as_u16(),
        location: location(&r),
        set_cookies: r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect(),
        callback_url: callback_url.to_owned(),
    }
}

/// A whole sign-in as `login_hint`.
pub async fn sign_in(app: &App, login_hint: &str) -> Outcome {
    let (cb, _) = start(app, &format!("?login_hint={login_hint}")).await;
    finish(app, &cb).await
}

/// `GET /api/auth/session`: (status, JSON).
pub async fn session(app: &App) -> (u16, serde_json::Value) {
    let r = app
        .client
        .get(format!("{}/api/auth/session", app.url))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Replaces a query parameter in a URL.
pub fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair(name, v);
        }
    }
    u.to_string()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
