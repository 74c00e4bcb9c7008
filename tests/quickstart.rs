//! The quickstart example against an Authentik given by environment variables (issue 4).
//!
//! A `FakeAuthentik` of its own, in HS256 mode (no signing key selected in Authentik, so the ID
//! token is signed with the client secret and the JWKS is `{}`), stands in for "your real
//! Authentik". The example binary is started with only what a newcomer types — `APP_URL`, the
//! **instance** URL as `AUTHENTIK_URL`, the client id and secret — and a sign-in as bob is driven
//! through it by hand: authorize → the fake → callback → session → logout.
//!
//! The binary is `target/<profile>/examples/quickstart`, next to this test's own `deps/`
//! directory. A plain `cargo test` builds it; `cargo test --test quickstart` builds no examples
//! (run `cargo build --example quickstart` first; a missing or stale binary fails with that hint).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use tower_oidc::testing::{Endpoint, FakeAuthentik, SigningMode};

const CALLBACK_PATH: &str = "/api/auth/providers/authentik/callback";

/// The running example: killed (and reaped) when dropped, whatever the test's outcome.
struct Quickstart {
    child: Child,
    output: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Quickstart {
    /// Everything the process printed so far (stdout and stderr).
    fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The source files cargo built `bin` from, listed in its dep-info file (`quickstart.d`).
fn sources_of(bin: &Path) -> Vec<PathBuf> {
    let Ok(dep_info) = std::fs::read_to_string(bin.with_extension("d")) else {
        return Vec::new();
    };
    let Some((_, deps)) = dep_info.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    deps.replace("\\ ", "\0")
        .split_whitespace()
        .map(|p| PathBuf::from(p.replace('\0', " ")))
        .collect()
}

/// The example binary. `cargo test` builds it; `cargo test --test quickstart` does not, so a
/// missing one, or one older than a source file it was built from, fails with the command that
/// fixes it. (The test does not run cargo itself: cargo's variables in a test's environment make
/// a nested cargo rebuild build scripts such as ring's, and the next outer build again.)
fn quickstart_binary() -> PathBuf {
    let bin = example_path("quickstart");
    let fix =
        "build it with `cargo build --example quickstart` (a plain `cargo test` builds it too)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("no quickstart example at {} ({e}): {fix}", bin.display()));
    let newer: Vec<PathBuf> = sources_of(&bin)
        .into_iter()
        .filter(|src| {
            std::fs::metadata(src)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
        })
        .collect();
    assert!(
        newer.is_empty(),
        "the quickstart example at {} is older than {newer:?}: {fix}",
        bin.display()
    );
    bin
}

/// Copies a child's output, line by line, into `sink`.
fn collect(stream: impl std::io::Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
}

/// Starts the example with `env` (and no other Authentik settings) in an empty directory.
fn spawn_quickstart(env: &[(&str, String)]) -> Quickstart {
    let bin = quickstart_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(&bin);
    cmd.current_dir(dir.path())
        .env_remove("AUTHENTIK_URL")
        .env_remove("AUTHENTIK_CLIENT_ID")
        .env_remove("AUTHENTIK_CLIENT_SECRET")
        .env_remove("FAKE_AUTHENTIK_PORT")
        .env_remove("DATABASE_URL")
        .env_remove("AUTHENTIK_CA_FILE")
        .env_remove("AUTHENTIK_INTERNAL_URL")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let output = Arc::new(Mutex::new(String::new()));
    collect(child.stdout.take().expect("stdout"), output.clone());
    collect(child.stderr.take().expect("stderr"), output.clone());
    Quickstart {
        child,
        output,
        _dir: dir,
    }
}

/// Waits until the app answers and has printed `line`; panics with its output otherwise.
async fn wait_ready(app: &mut Quickstart, client: &reqwest::Client, url: &str, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = app.child.try_wait() {
            // Let the reader threads catch up with the last lines.
            tokio::time::sleep(Duration::from_millis(200)).await;
            panic!(
                "the quickstart exited ({status}) before it answered; it printed:\n{}",
                app.output()
            );
        }
        let answered = client
            .get(format!("{url}/api/auth/providers"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if answered && app.output().contains(line) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the quickstart did not answer at {url} (and print {line:?}) within 20 s; it printed:\n{}",
            app.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where a redirect sends the browser.
fn redirect_target(r: &reqwest::Response) -> String {
    location(r).unwrap_or_else(|| panic!("{} {}: no Location header", r.status(), r.url()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_signs_in_against_authentik_from_env_vars() {
    let app_url = format!("http://127.0.0.1:{}", free_port());
    let redirect_uri = format!("{app_url}{CALLBACK_PATH}");
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Hs256)
        .redirect_uri(&redirect_uri)
        .start()
        .await;

    let mut app = spawn_quickstart(&[
        ("APP_URL", app_url.clone()),
        ("AUTHENTIK_URL", fake.url()),
        ("AUTHENTIK_CLIENT_ID", fake.client_id().to_owned()),
        ("AUTHENTIK_CLIENT_SECRET", fake.client_secret().to_owned()),
    ]);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let redirect_line = format!("Redirect URI to register in Authentik: {redirect_uri}");
    wait_ready(&mut app, &client, &app_url, &redirect_line).await;
    let printed = app.output();
    assert!(
        printed.contains(&format!("Authentik: {}\n", fake.url())),
        "the quickstart should announce the Authentik from AUTHENTIK_URL, not its built-in fake; it printed:\n{printed}"
    );

    // Signed out.
    let (status, body) = session_in(&client, &app_url).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "session before sign-in: {body}"
    );
    let userinfo_url = format!("{app_url}/api/me/userinfo");
    let r = client.get(&userinfo_url).send().await.expect("userinfo");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "userinfo signed out");

    // The app sends the browser to the fake...
    let r = client
        .get(format!(
            "{app_url}/api/auth/providers/authentik/authorize?login_hint=bob"
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "authorize: {:?}",
        r.text().await
    );
    let to_idp = redirect_target(&r);
    assert!(
        to_idp.starts_with(&fake.authorize_url()),
        "authorize should redirect to the fake's {}, not {to_idp}",
        fake.authorize_url()
    );

    // ...which logs bob in and sends it back to the registered callback...
    let r = client.get(&to_idp).send().await.expect("fake authorize");
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "fake authorize: {:?}",
        r.text().await
    );
    let callback = redirect_target(&r);
    assert!(
        callback.starts_with(&format!("{redirect_uri}?")),
        "the fake should redirect to {redirect_uri}, not {callback}"
    );

    // ...where the app exchanges the code and signs bob in.
    let r = client.get(&callback).send().await.expect("callback");
    let after = redirect_target(&r);
    assert!(
        r.status().is_redirection() && !after.contains("error="),
        "callback: {} to {after}; the quickstart printed:\n{}",
        r.status(),
        app.output()
    );
    assert_eq!(
        fake.count(Endpoint::Token),
        1,
        "one code exchange at the fake"
    );

    let (status, body) = session_in(&client, &app_url).await;
    assert_eq!(status, StatusCode::OK, "session after sign-in: {body}");
    assert_eq!(body["name"], "Bob Berger", "session: {body}");
    assert!(
        body["id"].as_str().is_some_and(|id| !id.is_empty()),
        "session has no id: {body}"
    );

    // The provider's userinfo, fetched by the app with the session's access token.
    let before = fake.count(Endpoint::Userinfo);
    let r = client.get(&userinfo_url).send().await.expect("userinfo");
    assert_eq!(r.status(), StatusCode::OK, "userinfo: {}", app.output());
    let info: serde_json::Value = r.json().await.expect("userinfo JSON");
    assert_eq!(info["sub"].as_str(), fake.sub("bob").as_deref(), "{info}");
    assert_eq!(info["name"], "Bob Berger", "{info}");
    assert_eq!(
        fake.count(Endpoint::Userinfo),
        before + 1,
        "one userinfo call"
    );

    // Signing out ends the session.
    let r = client
        .post(format!("{app_url}/api/auth/logout"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::OK, "logout: {:?}", r.text().await);
    let (status, body) = session_in(&client, &app_url).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "session after logout: {body}"
    );
    let r = client.get(&userinfo_url).send().await.expect("userinfo");
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "userinfo after logout"
    );
}

/// Issue 19's interop contract: the quickstart trusts the CA of `AUTHENTIK_CA_FILE` for an
/// Authentik behind a private CA, and reaches it at `AUTHENTIK_INTERNAL_URL` while the browser
/// goes to `AUTHENTIK_URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_trusts_authentik_ca_file_and_uses_the_internal_url() {
    let ca = common::tls::test_ca();
    let app_url = format!("http://127.0.0.1:{}", free_port());
    let redirect_uri = format!("{app_url}{CALLBACK_PATH}");
    let fake = FakeAuthentik::builder()
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .redirect_uri(&redirect_uri)
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    // The same server under another name: the certificate covers 127.0.0.1 too.
    let internal = fake
        .url()
        .replace("https://localhost:", "https://127.0.0.1:");
    let mut app = spawn_quickstart(&[
        ("APP_URL", app_url.clone()),
        ("AUTHENTIK_URL", fake.url()),
        ("AUTHENTIK_CLIENT_ID", fake.client_id().to_owned()),
        ("AUTHENTIK_CLIENT_SECRET", fake.client_secret().to_owned()),
        ("AUTHENTIK_CA_FILE", ca_file.to_str().unwrap().to_owned()),
        ("AUTHENTIK_INTERNAL_URL", internal),
    ]);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
        .build()
        .expect("client");
    let redirect_line = format!("Redirect URI to register in Authentik: {redirect_uri}");
    wait_ready(&mut app, &client, &app_url, &redirect_line).await;
    let r = client
        .get(format!(
            "{app_url}/api/auth/providers/authentik/authorize?login_hint=bob"
        ))
        .send()
        .await
        .expect("authorize");
    let to_idp = redirect_target(&r);
    assert!(
        to_idp.starts_with(&fake.authorize_url()),
        "the browser goes to the public URL {}, not {to_idp}; the quickstart printed:\n{}",
        fake.authorize_url(),
        app.output()
    );
    let r = client.get(&to_idp).send().await.expect("fake authorize");
    let callback = redirect_target(&r);
    let r = client.get(&callback).send().await.expect("callback");
    let after = redirect_target(&r);
    assert!(
        !after.contains("error="),
        "callback to {after}; the quickstart printed:\n{}",
        app.output()
    );
    let (status, _) = session_in(&client, &app_url).await;
    assert_eq!(status, StatusCode::OK);
    let public_host = fake.url().trim_start_matches("https://").to_owned();
    let token = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Token))
        .expect("a token request");
    assert_eq!(
        token.header("x-forwarded-host"),
        Some(public_host.as_str()),
        "the code was redeemed at the internal URL, naming the public host"
    );
    assert!(
        token
            .header("host")
            .is_some_and(|h| h.starts_with("127.0.0.1:")),
        "{:?}",
        token.header("host")
    );
}
