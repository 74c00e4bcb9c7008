//! `tower-oidc check`, run as the built binary.

use std::path::Path;
use std::process::{Command, Output};

fn tower_oidc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tower-oidc"))
        .args(args)
        .env_remove("CLI_TEST_SECRET")
        .output()
        .expect("run tower-oidc")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_builtin_providers_toml_succeeds_and_lists_authentik() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers.toml");
    let out = tower_oidc(&["check", file.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(stdout.contains("[authentik] Authentik (oidc)"), "{stdout}");
    assert!(stdout.contains("{url}/application/o/{slug}/"), "{stdout}");
    assert!(stdout.contains("not seeded"), "{stdout}");
}

#[test]
fn check_file_with_a_typo_fails_naming_key_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.toml");
    std::fs::write(
        &file,
        "[providers.authentik]\nsort_order = 1\n  isuer = \"https://auth.example.com/\"\n",
    )
    .unwrap();
    let out = tower_oidc(&["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:3:3: providers.authentik.isuer: unknown key `isuer`; did you mean `issuer`?",
        file.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn check_reports_every_error_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.toml");
    std::fs::write(
        &file,
        "[providers.corp]\nname = \"Corp\"\nissuer = \"http://sso.corp.example/\"\n\
         [settings.authentik]\nclient_secert = \"x\"\n",
    )
    .unwrap();
    let out = tower_oidc(&["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let f = file.display().to_string();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{f}:3:10: providers.corp.issuer: ")),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("{f}:5:1: settings.authentik.client_secert: ")),
        "{stderr}"
    );
}

#[test]
fn check_summary_never_shows_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.toml");
    std::fs::write(
        &file,
        "[settings.authentik]\nenabled = true\nurl = \"https://auth.example.com\"\n\
         client_id = \"app\"\nclient_secret = \"${CLI_TEST_SECRET}\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tower-oidc"))
        .args(["check", file.to_str().unwrap()])
        .env("CLI_TEST_SECRET", "cli-s3cret-value")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("client_secret:      set"), "{stdout}");
    assert!(stdout.contains("seeded, enabled"), "{stdout}");
    assert!(!stdout.contains("cli-s3cret-value"), "{stdout}");

    // Without the variable, the error names it and still not a value.
    let out = tower_oidc(&["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(":5:17: settings.authentik.client_secret: environment variable `CLI_TEST_SECRET` is not set"), "{stderr}");
}

#[test]
fn check_missing_file_fails() {
    let out = tower_oidc(&["check", "/nonexistent/app.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("/nonexistent/app.toml: cannot read"));
}

#[test]
fn help_prints_usage() {
    for args in [&["--help"][..], &["-h"], &["check", "--help"]] {
        let out = tower_oidc(args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("tower-oidc check FILE"));
    }
}

#[test]
fn wrong_usage_exits_2() {
    for args in [
        &[][..],
        &["chek"],
        &["check"],
        &["check", "a", "b"],
        &["check", "--json"],
    ] {
        let out = tower_oidc(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn doctor_without_a_provider_is_a_usage_error() {
    let out = tower_oidc(&["doctor"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("needs a PROVIDER"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 19: `doctor --ca-file` with a file that is not there, or holds no certificate, is a
/// usage error naming the file (before any request is made).
#[test]
fn doctor_ca_file_must_hold_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    for path in [dir.path().join("missing.pem"), empty] {
        let p = path.to_str().unwrap();
        let out = tower_oidc(&[
            "doctor",
            "authentik",
            "--url",
            "https://auth.example.com",
            "--ca-file",
            p,
        ]);
        assert_eq!(out.status.code(), Some(2), "{p}");
        assert!(text(&out.stderr).contains(p), "{}", text(&out.stderr));
    }
}

#[path = "common/tls.rs"]
mod tls;

/// Issue 19: a provider behind a private CA, checked by `doctor` as a separate process (so the
/// OS store can be pointed at a file with `SSL_CERT_FILE`, as installing the CA there does):
/// refused by default with the cause named, passed with `--ca-file`, and with `--native-roots`
/// when the CA is in the OS store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_trusts_a_private_ca_from_a_file_or_the_os_store() {
    let ca = tls::test_ca();
    let fake = tower_oidc::testing::FakeAuthentik::builder()
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let ca_path = ca_file.to_str().unwrap().to_owned();
    let issuer = fake.issuer();
    let run = move |extra: Vec<String>, os_store: Option<String>| {
        let issuer = issuer.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tower-oidc"));
            cmd.args(["doctor", "authentik", "--url", &issuer])
                .args(&extra);
            match os_store {
                Some(f) => cmd.env("SSL_CERT_FILE", f),
                // An empty OS store: only what the options add is trusted.
                None => cmd.env("SSL_CERT_FILE", "/nonexistent/ca.pem"),
            };
            cmd.env_remove("SSL_CERT_DIR").output().expect("run doctor")
        })
    };
    let out = run(vec![], None).await.unwrap();
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("UnknownIssuer") && said.contains("--ca-file"),
        "{said}"
    );
    let out = run(vec!["--ca-file".into(), ca_path.clone()], None)
        .await
        .unwrap();
    let said = text(&out.stdout);
    assert!(
        said.contains("ok") && !said.contains("UnknownIssuer"),
        "{said}"
    );
    assert!(!said.contains("FAIL reachable"), "{said}");
    assert_eq!(out.status.code(), Some(0), "every check passes: {said}");
    let out = run(vec!["--native-roots".into()], Some(ca_path.clone()))
        .await
        .unwrap();
    let said = text(&out.stdout);
    assert!(
        !said.contains("UnknownIssuer"),
        "the OS store holds the CA: {said}"
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    let out = run(vec![], Some(ca_path)).await.unwrap();
    assert!(
        text(&out.stdout).contains("UnknownIssuer"),
        "without --native-roots the OS store is not used"
    );
}
