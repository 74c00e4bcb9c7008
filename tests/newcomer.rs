//! First contact, from the outside: three new apps (`tests/newcomer/{axum,actix,warp}`), each a
//! crate of its own whose `Cargo.toml` names only the features the README names and whose
//! `main.rs` is the README's snippet for its framework. Each is built on its own (so no other
//! feature is switched on for it, as the repository's dev-dependency would) and signed in
//! through, against a `FakeAuthentik`: anonymous page, login page with a working sign-in
//! button, protected route, admin route, sign-out, error page.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tower_oidc::testing::FakeAuthentik;

const FRAMEWORKS: [&str; 3] = ["axum", "actix", "warp"];

fn newcomer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/newcomer")
}

/// The README's `[dependencies]` block for a framework: the app's own, with the path to this
/// checkout written as the published version.
fn readme_dependencies(framework: &str) -> String {
    let manifest = std::fs::read_to_string(newcomer_dir().join(framework).join("Cargo.toml"))
        .expect("the newcomer's Cargo.toml");
    let deps = &manifest[manifest
        .find("[dependencies]")
        .expect("a [dependencies] table")..];
    deps.replace(r#"path = "../../..""#, r#"version = "0.1""#)
}

/// The README shows each newcomer app as it is: its `[dependencies]` and its whole `main.rs`.
#[test]
fn readme_snippets_are_the_newcomer_apps() {
    let readme = include_str!("../README.md");
    for framework in FRAMEWORKS {
        let deps = readme_dependencies(framework);
        assert!(
            readme.contains(&format!("```toml\n{deps}```")),
            "README.md lacks the {framework} app's dependencies exactly as\n{deps}"
        );
        let main = std::fs::read_to_string(newcomer_dir().join(framework).join("src/main.rs"))
            .expect("the newcomer's main.rs");
        assert!(
            readme.contains(&format!("```rust,no_run\n{main}```")),
            "README.md lacks tests/newcomer/{framework}/src/main.rs exactly"
        );
    }
}

/// Builds one newcomer app on its own (`-p`, so only its features are on) and returns its
/// binary.
fn build(framework: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The apps build in this test's own target dir (…/target/debug/deps/newcomer-… is this
    // binary), so dependencies built for the suite are reused rather than built again under
    // tests/newcomer/target. A CARGO_TARGET_DIR in the environment is used as it is.
    if std::env::var_os("CARGO_TARGET_DIR").is_none()
        && let Some(target) = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
    {
        cmd.arg("--config").arg(format!(
            "build.target-dir={:?}",
            target.display().to_string()
        ));
    }
    let out = cmd
        .current_dir(newcomer_dir())
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            &format!("newcomer-{framework}"),
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the {framework} newcomer app failed"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("no executable for newcomer-{framework}"))
}

struct Running {
    url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(bin: &Path, fake: &FakeAuthentik) -> Running {
    // The app reads its cookie key from ./cookie.key, as the README says to make it.
    let dir = tempfile::tempdir().unwrap();
    let key: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    std::fs::write(dir.path().join("cookie.key"), key).unwrap();
    for _ in 0..5 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(bin)
            .current_dir(dir.path())
            .env("APP_URL", &url)
            .env("LISTEN", format!("127.0.0.1:{port}"))
            .env("AUTHENTIK_URL", fake.url())
            .env("AUTHENTIK_CLIENT_ID", fake.client_id())
            .env("AUTHENTIK_CLIENT_SECRET", fake.client_secret())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the newcomer app");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break; // the port was taken: try another
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Running {
                    url,
                    child,
                    _dir: dir,
                };
            }
            assert!(Instant::now() < deadline, "{bin:?} did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("{bin:?} did not start");
}

/// The first `href` of `html` that contains `needle`, unescaped.
fn href_with(html: &str, needle: &str) -> Option<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|h| h.contains(needle))
        .map(|h| h.replace("&amp;", "&"))
}

async fn newcomer_contract(framework: &str) {
    let bin = build(framework);
    let fake = FakeAuthentik::start().await;
    let app = start(&bin, &fake).await;
    let at = |path: &str| format!("{}{path}", app.url);
    let anon = client();

    // The public page, signed out (the old README snippet's `Extension<Auth>` answered 500).
    let r = get(&anon, &at("/"), HTML).await;
    assert_eq!(r.status, 200, "{framework} /: {r:?}");
    assert!(r.body.contains("Sign in"), "{r:?}");

    // Protected routes, signed out.
    let r = get(&anon, &at("/me"), JSON).await;
    assert_eq!(r.status, 401, "{framework} /me API: {r:?}");
    let r = get(&anon, &at("/me"), HTML).await;
    assert_eq!(r.status, 303, "{framework} /me browser: {r:?}");
    let login = r.location.expect("Location");
    assert_eq!(login, "/api/auth/login?return_to=%2Fme", "{framework}");

    // The login page has a working sign-in button.
    let bob = client();
    let page = get(&bob, &at(&login), HTML).await;
    assert_eq!(page.status, 200, "{framework} login page: {page:?}");
    let button = href_with(&page.body, "/providers/authentik/authorize")
        .unwrap_or_else(|| panic!("{framework}: no sign-in button on {}", page.body));
    let button = if button.starts_with('/') {
        at(&button)
    } else {
        button
    };
    let r = get(&bob, &format!("{button}&login_hint=bob"), HTML).await;
    assert_eq!(r.status, 302, "{framework} button: {r:?}");
    let r = get(&bob, &r.location.unwrap(), HTML).await;
    let r = get(&bob, &r.location.expect("the fake redirects back"), HTML).await;
    assert_eq!(r.status, 303, "{framework} callback: {r:?}");
    assert_eq!(r.location.as_deref(), Some("/me"), "{framework}");

    let r = get(&bob, &at("/me"), HTML).await;
    assert_eq!(r.status, 200, "{framework} /me bob: {r:?}");
    assert!(r.body.contains("bob@example.com"), "{r:?}");
    let r = get(&bob, &at("/admin"), JSON).await;
    assert_eq!(r.status, 403, "{framework} /admin bob: {r:?}");

    // alice is in "authentik Admins".
    let alice = client();
    assert_eq!(
        sign_in_at(&app.url, &fake, &alice, "alice", "/admin").await,
        "/admin"
    );
    let r = get(&alice, &at("/admin"), HTML).await;
    assert_eq!(r.status, 200, "{framework} /admin alice: {r:?}");
    assert!(r.body.starts_with("Settings, for"), "{r:?}");

    // Sign-out: a same-origin POST.
    let r = bob
        .post(at("/api/auth/logout"))
        .header("origin", &app.url)
        .header("accept", HTML)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{framework} logout");
    let r = get(&bob, &at("/me"), JSON).await;
    assert_eq!(r.status, 401, "{framework}: signed out after logout: {r:?}");

    // The error page a failed sign-in lands on.
    let r = get(&anon, &at("/api/auth/login?error=access_denied"), HTML).await;
    assert_eq!(r.status, 200, "{framework} error page: {r:?}");
    assert!(
        r.body
            .contains(tower_oidc::ErrorCode::AccessDenied.message()),
        "{r:?}"
    );
}

#[tokio::test]
async fn newcomer_axum_app_signs_in() {
    newcomer_contract("axum").await;
}

#[tokio::test]
async fn newcomer_actix_app_signs_in() {
    newcomer_contract("actix").await;
}

#[tokio::test]
async fn newcomer_warp_app_signs_in() {
    newcomer_contract("warp").await;
}
