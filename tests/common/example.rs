//! The example binaries (`target/<profile>/examples/<name>`, which `cargo test` builds) run as
//! processes against a `FakeAuthentik` started in the test, on a loopback port, and driven like
//! a browser or an API client: the contract every framework's example must pass.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tower_oidc::testing::{Endpoint, FakeAuthentik};

use crate::common::browser::{HTML, JSON, client, encoded, get};

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

/// `target/<profile>/examples/<name>`, found from the running test binary
/// (`target/<profile>/deps/<test>-<hash>`).
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps/");
    dir.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The example binary built next to this test binary; it must exist.
pub fn example_binary(name: &str) -> PathBuf {
    let bin = example_path(name);
    assert!(
        bin.exists(),
        "example binary {} not found: `cargo test` builds it (a filtered run needs `cargo build --examples` first)",
        bin.display()
    );
    bin
}

/// A loopback port nothing listens on (now: it could be taken before it is used).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts example `name` with the quickstart's environment pointing at a new `FakeAuthentik`
/// (default users: alice, in "authentik Admins", and bob, in "users").
pub async fn start_example(name: &str) -> ExampleApp {
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

/// A whole browser sign-in as `login_hint` at the app at `app_url`, starting where a signed-out
/// browser was sent for `return_to`; returns where the app finally sends the browser.
pub async fn sign_in_at(
    app_url: &str,
    fake: &FakeAuthentik,
    client: &reqwest::Client,
    login_hint: &str,
    return_to: &str,
) -> String {
    let start = format!(
        "{app_url}/api/auth/providers/authentik/authorize?login_hint={login_hint}&return_to={}",
        encoded(return_to)
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
    let app = start_example(name).await;
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
    let to = sign_in_at(&app.url, &app.fake, &bob, "bob", "/me").await;
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
    sign_in_at(&app.url, &app.fake, &bob_again, "bob", "/").await;
    let r = get(&bob_again, &format!("{}/api/auth/session", app.url), JSON).await;
    assert_eq!(r.json()["id"], bob_id.as_str());

    // alice: an admin (group "authentik Admins").
    let alice = client();
    let to = sign_in_at(&app.url, &app.fake, &alice, "alice", "/admin").await;
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
