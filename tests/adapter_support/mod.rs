//! Shared by `tests/adapter_*.rs`: runs a built example binary (`target/<profile>/examples/<name>`,
//! which `cargo test` builds) against a `FakeAuthentik` started in the test, on a loopback port,
//! and drives it like a browser or an API client.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, LOCATION};
use tower_oidc::testing::{Endpoint, FakeAuthentik};

/// A running example app and the fake Authentik it signs in with.
pub struct ExampleApp {
    pub url: String,
    pub fake: FakeAuthentik,
    child: Child,
}

impl Drop for ExampleApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example binary built next to this test binary.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/adapter_x-<hash> -> target/<profile>/examples/<name>
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let bin = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "example binary {} not found: `cargo test` builds it (a filtered run needs `cargo build --examples` first)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts example `name` with the quickstart's environment pointing at a new `FakeAuthentik`
/// (default users: alice, in "authentik Admins", and bob, in "users").
pub async fn start(name: &str) -> ExampleApp {
    let fake = FakeAuthentik::start().await;
    let bin = example_binary(name);
    let mut last_err = String::new();
    // A port picked here could be taken before the example binds it: try a few.
    for _ in 0..5 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(&bin)
            .env("APP_URL", &url)
            .env("AUTHENTIK_URL", fake.url())
            .env("AUTHENTIK_CLIENT_ID", fake.client_id())
            .env("AUTHENTIK_CLIENT_SECRET", fake.client_secret())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn example");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                last_err = format!("example {name} exited: {status}");
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return ExampleApp { url, fake, child };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("example {name} did not listen on {url} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("{last_err}");
}

/// A browser-like client: keeps cookies, does not follow redirects (the tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A response, read.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// `GET url` with an `Accept` header.
pub async fn get(client: &reqwest::Client, url: &str, accept: &str) -> Got {
    let r = client
        .get(url)
        .header(ACCEPT, accept)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let header = |name| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header(LOCATION);
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    Got {
        status,
        location,
        content_type,
        body,
    }
}

pub const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const JSON: &str = "application/json";

/// A whole browser sign-in as `login_hint`, starting where a signed-out browser was sent for
/// `return_to`; returns where the app finally sends the browser.
pub async fn sign_in(
    app: &ExampleApp,
    client: &reqwest::Client,
    login_hint: &str,
    return_to: &str,
) -> String {
    sign_in_at(&app.url, &app.fake, client, login_hint, return_to).await
}

/// [`sign_in`] at any app URL.
pub async fn sign_in_at(
    app_url: &str,
    fake: &FakeAuthentik,
    client: &reqwest::Client,
    login_hint: &str,
    return_to: &str,
) -> String {
    let start = format!(
        "{app_url}/api/auth/providers/authentik/authorize?login_hint={login_hint}&return_to={}",
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    );
    let r = get(client, &start, HTML).await;
    assert_eq!(r.status, 302, "authorize: {r:?}");
    let to_idp = r.location.expect("authorize Location");
    assert!(to_idp.starts_with(&fake.url()), "{to_idp}");
    let r = get(client, &to_idp, HTML).await;
    assert_eq!(r.status, 302, "fake authorize: {r:?}");
    let callback = r.location.expect("fake Location");
    assert!(
        callback.starts_with(&format!("{app_url}/api/auth/providers/authentik/callback")),
        "{callback}"
    );
    let r = get(client, &callback, HTML).await;
    assert_eq!(r.status, 303, "callback: {r:?}");
    let to = r.location.expect("callback Location");
    // login_hint reached the provider.
    let authz = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.endpoint == Some(Endpoint::Authorize))
        .expect("an authorize request");
    assert_eq!(authz.query_param("login_hint"), Some(login_hint));
    to
}

/// The whole scenario every framework's example must pass.
pub async fn example_contract(name: &str) {
    let app = start(name).await;
    let anon = client();

    // Public page: open to everyone.
    let r = get(&anon, &format!("{}/", app.url), HTML).await;
    assert_eq!(r.status, 200, "{r:?}");

    // Signed out: API clients get 401 JSON, browsers a redirect to the login page.
    for path in ["/me", "/admin"] {
        let r = get(&anon, &format!("{}{path}", app.url), JSON).await;
        assert_eq!(r.status, 401, "{path} API: {r:?}");
        assert!(
            r.content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/json")),
            "{r:?}"
        );
        assert_eq!(r.json()["error"], "unauthenticated", "{r:?}");
        let r = get(&anon, &format!("{}{path}", app.url), HTML).await;
        assert_eq!(r.status, 303, "{path} browser: {r:?}");
        let loc = r.location.clone().unwrap_or_default();
        assert!(
            loc.starts_with("/api/auth/login?return_to="),
            "{path} browser should go to the login page: {r:?}"
        );
        assert!(
            loc.contains(
                &url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
            ),
            "{loc}"
        );
    }
    let r = get(&anon, &format!("{}/api/auth/session", app.url), JSON).await;
    assert_eq!(r.status, 401, "{r:?}");

    // bob: signed in, not an admin.
    let bob = client();
    let to = sign_in(&app, &bob, "bob", "/me").await;
    assert_eq!(to, "/me");
    let r = get(&bob, &format!("{}/me", app.url), HTML).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("Bob Berger"), "{r:?}");
    let r = get(&bob, &format!("{}/api/auth/session", app.url), JSON).await;
    assert_eq!(r.status, 200, "{r:?}");
    let session = r.json();
    assert_eq!(session["name"], "Bob Berger");
    assert_eq!(session["is_admin"], false);
    let bob_id = session["id"].as_str().expect("id").to_owned();
    assert!(!bob_id.is_empty());
    assert!(r.body.len() > 2);
    let r = get(&bob, &format!("{}/me", app.url), HTML).await;
    assert!(r.body.contains(&bob_id), "/me shows the stable id: {r:?}");
    let r = get(&bob, &format!("{}/admin", app.url), HTML).await;
    assert_eq!(r.status, 403, "bob is not an admin: {r:?}");
    let r = get(&bob, &format!("{}/admin", app.url), JSON).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.json()["error"], "forbidden");
    let r = get(&bob, &format!("{}/", app.url), HTML).await;
    assert!(r.body.contains("Bob Berger"), "{r:?}");

    // The id is stable across sign-ins.
    let bob_again = client();
    sign_in(&app, &bob_again, "bob", "/").await;
    let r = get(&bob_again, &format!("{}/api/auth/session", app.url), JSON).await;
    assert_eq!(r.json()["id"], bob_id.as_str());

    // alice: an admin (group "authentik Admins").
    let alice = client();
    let to = sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(to, "/admin");
    let r = get(&alice, &format!("{}/admin", app.url), HTML).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("Alice Anders"), "{r:?}");
    let r = get(&alice, &format!("{}/me", app.url), HTML).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("Alice Anders"), "{r:?}");
    let r = get(&alice, &format!("{}/api/auth/session", app.url), JSON).await;
    assert_eq!(r.json()["is_admin"], true, "{r:?}");
    assert_ne!(r.json()["id"], bob_id.as_str());
}

/// An `OidcLayer` as the examples build it (memory stores, admin rule on the group
/// "authentik Admins"), for an app at `app_url` signing in with `fake`.
pub async fn layer_for(fake: &FakeAuthentik, app_url: &str) -> tower_oidc::OidcLayer {
    use tower_oidc::config::{AdminRules, ProviderSettings};
    use tower_oidc::store::{MemoryStore, SettingsStore};
    let settings = ProviderSettings {
        enabled: true,
        url: Some(fake.url()),
        client_id: Some(fake.client_id().to_owned()),
        client_secret: Some(tower_oidc::Secret::new(fake.client_secret())),
        admin_rules: AdminRules {
            groups: vec!["authentik Admins".into()],
            email_domains: Vec::new(),
        },
        ..ProviderSettings::default()
    };
    let store = MemoryStore::new();
    store.put("authentik", &settings).await.expect("settings");
    tower_oidc::OidcLayer::builder()
        .providers(tower_oidc::Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store)
        .base_url(app_url)
        .build()
        .await
        .expect("layer")
}
