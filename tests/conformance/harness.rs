//! The §0 oracle, log capture, and app builders beyond `tests/common`.
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::{Extension, Json, Router, routing::get};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{MemoryStore, SettingsStore};
use tower_oidc::testing::{Endpoint, FakeAuthentik};
use tower_oidc::{Auth, OidcLayer, OidcLayerBuilder, Providers};

pub use crate::common::*;

/// What a negative case must also show besides the error code and the missing session.
#[derive(Debug, Clone, Copy)]
pub enum NoFurther {
    /// A bad ID token (or token response): no userinfo call.
    Userinfo,
    /// A bad authorization response: no token call (and so no userinfo call either).
    Token,
    /// Nothing more to check (the failure is at or after userinfo).
    Nothing,
}

/// A fresh fake and an app pointing at it with the issuer URL form.
pub async fn fresh() -> (FakeAuthentik, App) {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    (fake, app)
}

/// A fresh fake and app with builder tweaks.
pub async fn fresh_with(
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> (FakeAuthentik, App) {
    let fake = FakeAuthentik::start().await;
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let app = app_with(&fake, settings, tweak).await;
    (fake, app)
}

/// Signs in as alice and applies the §0 oracle: error `code`, no session cookie, no further
/// call of the kind `no_further`, and the transaction consumed (the same callback URL replayed
/// by the same browser is `invalid_state`, without another token call).
pub async fn rejected(
    fake: &FakeAuthentik,
    app: &App,
    code: &str,
    no_further: NoFurther,
) -> Outcome {
    let (cb, _) = start(app, "?login_hint=alice").await;
    rejected_at(fake, app, &cb, code, no_further).await
}

/// The oracle for a callback URL that the test prepared itself.
pub async fn rejected_at(
    fake: &FakeAuthentik,
    app: &App,
    callback_url: &str,
    code: &str,
    no_further: NoFurther,
) -> Outcome {
    let tokens = fake.count(Endpoint::Token);
    let userinfos = fake.count(Endpoint::Userinfo);
    let before = session(app).await;
    let out = finish(app, callback_url).await;
    assert_eq!(out.error_code().as_deref(), Some(code), "{out:?}");
    assert_eq!(
        out.status, 302,
        "browsers are redirected to the error page: {out:?}"
    );
    let loc = out.location.as_deref().unwrap_or("");
    assert!(
        loc.starts_with("/api/auth/login?error="),
        "only the code reaches the browser: {loc}"
    );
    assert!(!out.set_session(), "no session cookie: {out:?}");
    match no_further {
        NoFurther::Userinfo => assert_eq!(
            fake.count(Endpoint::Userinfo),
            userinfos,
            "no userinfo call after a bad ID token"
        ),
        NoFurther::Token => {
            assert_eq!(
                fake.count(Endpoint::Token),
                tokens,
                "no token call after a bad authorization response"
            );
            assert_eq!(fake.count(Endpoint::Userinfo), userinfos);
        }
        NoFurther::Nothing => {}
    }
    // Not signed in by this attempt: still signed out, or still the same session as before.
    let after = session(app).await;
    assert_eq!(after.0, before.0, "the session did not change");
    assert_eq!(after.1["id"], before.1["id"], "the session did not change");
    // The transaction is consumed: the same callback again is unknown state, with no token call
    // (a browser that is still signed in from before gets the harmless redirect home instead).
    let tokens = fake.count(Endpoint::Token);
    let replay = finish(app, callback_url).await;
    if before.0 == 200 {
        assert_eq!(replay.status, 303, "replay: {replay:?}");
        assert_eq!(replay.location.as_deref(), Some("/"), "replay: {replay:?}");
    } else {
        assert_eq!(
            replay.error_code().as_deref(),
            Some("invalid_state"),
            "replay: {replay:?}"
        );
    }
    assert!(!replay.set_session());
    assert_eq!(
        fake.count(Endpoint::Token),
        tokens,
        "no token call on replay"
    );
    out
}

/// Signs in as alice and expects success (303 and a session cookie).
pub async fn accepted(app: &App) -> Outcome {
    let out = sign_in(app, "alice").await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");
    let (status, me) = session(app).await;
    assert_eq!(status, 200, "{me}");
    out
}

/// The `Set-Cookie` value (`name=value`) of a response's cookie, if set to a non-empty value.
pub fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let pair = c.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        (n == name && !v.is_empty()).then(|| pair.to_owned())
    })
}

/// Log capture at TRACE level. One global subscriber (installed once, at TRACE) writes each
/// event into the buffer of the thread that emitted it, when that thread is capturing. Tests run
/// on a current-thread runtime, so the app's tasks log on the test's thread. (A per-test
/// `set_default` subscriber is not enough: callsite interest is cached process-wide, and other
/// tests running in parallel without a subscriber make it miss events.)
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(b) = c.borrow().as_ref() {
                b.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing on drop.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

impl Logs {
    pub fn capture() -> (Logs, CaptureGuard) {
        static INIT: std::sync::Once = std::sync::Once::new();
        INIT.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                .try_init();
        });
        let logs = Logs::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(logs.0.clone()));
        (logs, CaptureGuard)
    }

    /// Everything captured, except the test browser's own cookie jar (`cookie_store`, a
    /// dependency of the test client, which logs the cookies it stores at DEBUG).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| !l.contains(" cookie_store::"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asserts that none of `secrets` (ignoring empty ones) appears in the logs.
    pub fn assert_free_of(&self, secrets: &[(&str, String)]) {
        let text = self.text();
        assert!(!text.is_empty(), "the subscriber captured nothing");
        for (what, s) in secrets {
            if s.len() >= 8
                && let Some(at) = text.find(s.as_str())
            {
                let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!(
                    "the logs contain the {what}: {}",
                    &text[from..to.min(from + 600)]
                );
            }
        }
    }
}

async fn whoami(Extension(auth): Extension<Auth>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "signed_in": auth.is_signed_in(),
        "name": auth.user().and_then(|u| u.name.clone()),
    }))
}

async fn headers(req: axum::extract::Request) -> Json<serde_json::Value> {
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
    let signed_in = req
        .extensions()
        .get::<Auth>()
        .is_some_and(|a| a.is_signed_in());
    Json(serde_json::json!({"headers": h, "signed_in": signed_in}))
}

/// An app with any providers and settings (the harness's `app_with` has Authentik only), and a
/// `/headers` route that echoes the headers the app received.
pub async fn app_custom(
    providers: Providers,
    settings: Vec<(&str, ProviderSettings)>,
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let store = MemoryStore::new();
    for (id, s) in &settings {
        store.put(id, s).await.unwrap();
    }
    let builder = OidcLayer::builder()
        .providers(providers)
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(url.clone());
    let layer = tweak(builder).build().await.unwrap();
    let router = Router::new()
        .route("/", get(whoami))
        .route("/headers", get(headers))
        .layer(layer.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    App {
        url,
        provider: "authentik".to_owned(),
        client: client(),
        layer,
        store,
        task,
    }
}

/// The built-in registry plus a second provider, `other`, with Authentik's spec.
pub fn with_second_authentik() -> Providers {
    let builtin = include_str!("../../providers.toml");
    let start = builtin.find("[providers.authentik]").unwrap();
    // Up to the next provider's tables (the Authentik entry and its `.claims`).
    let end = builtin[start..]
        .match_indices("\n[providers.")
        .map(|(i, _)| start + i)
        .find(|&i| !builtin[i + 1..].starts_with("[providers.authentik"))
        .unwrap_or(builtin.len());
    let other = builtin[start..end].replace("[providers.authentik", "[providers.other");
    Providers::builtin()
        .with_toml_str("other.toml", &other)
        .unwrap()
}

/// The value of a query parameter in a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Writes a string to stderr (for the figures a test wants in its output).
pub fn note(s: &str) {
    let _ = writeln!(std::io::stderr(), "{s}");
}
