//! The provider check (`POST /admin/providers/{id}/test` and `tower-oidc doctor`): one test per
//! thing an admin can get wrong, each asserting the words the admin reads.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tower_oidc::provider::HttpLimits;
use tower_oidc::store::SettingsStore;
use tower_oidc::testing::{Endpoint, FakeAuthentik, Fault, SigningMode};

/// An app with alice signed in as admin (which also registers the redirect URI at the fake).
async fn admin_app(fake: &FakeAuthentik) -> App {
    let app = app_with(fake, admin_settings(fake), |b| {
        b.http_limits(HttpLimits {
            timeout: Duration::from_secs(2),
            ..HttpLimits::default()
        })
    })
    .await;
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    app
}

/// Runs the check, optionally on candidate settings; returns the report.
async fn test_provider(app: &App, candidate: Option<Value>) -> Value {
    let (status, report, _) = app
        .admin()
        .post("/providers/authentik/test", candidate)
        .await;
    assert_eq!(status, 200);
    report
}

/// The check called `name`: (ok, message).
fn check<'a>(report: &'a Value, name: &str) -> (bool, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report:#}"));
    (c["ok"].as_bool().unwrap(), c["message"].as_str().unwrap())
}

fn names(report: &Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_correct_provider_passes_every_check() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let report = test_provider(&app, None).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        names(&report),
        [
            "settings",
            "reachable",
            "discovery",
            "issuer",
            "signing",
            "jwks",
            "client",
            "redirect_uri",
            "logout_uri"
        ]
    );
    assert!(check(&report, "signing").1.contains("RS256"));
    assert!(check(&report, "client").1.contains("accepted"));
    let redirect = format!("{}/api/auth/providers/authentik/callback", app.url);
    assert_eq!(report["redirect_uri"], redirect);
    assert!(check(&report, "redirect_uri").1.contains(&redirect));
    let logout = format!(
        "{}/api/auth/providers/authentik/backchannel-logout",
        app.url
    );
    let says = check(&report, "logout_uri").1;
    assert!(
        says.contains(&logout) && says.contains("Back-channel"),
        "{says}"
    );
    assert!(!report.to_string().contains(fake.client_secret()));
}

#[tokio::test]
async fn discovery_not_found_points_at_the_url_form_or_slug() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    fake.fault(Endpoint::Discovery, Fault::Status(404));
    let report = test_provider(&app, None).await;
    assert_eq!(report["ok"], false);
    assert!(check(&report, "reachable").0);
    let (ok, msg) = check(&report, "discovery");
    assert!(!ok);
    assert!(msg.contains("HTTP 404"), "{msg}");
    assert!(msg.contains("URL form or the application slug"), "{msg}");
}

#[tokio::test]
async fn a_wrong_slug_is_a_missing_discovery_document() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let wrong = format!("{}/application/o/not-the-app/", fake.url());
    let report = test_provider(&app, Some(json!({ "url": wrong }))).await;
    let (ok, msg) = check(&report, "discovery");
    assert!(!ok && msg.contains("slug"), "{msg}");
}

#[tokio::test]
async fn an_issuer_without_its_trailing_slash_is_explained() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let slashless = fake.issuer().trim_end_matches('/').to_owned();
    let s = slashless.clone();
    fake.set_discovery(move |d| {
        d.insert("issuer".into(), json!(s));
    });
    let report = test_provider(&app, None).await;
    assert_eq!(report["ok"], false);
    let (ok, msg) = check(&report, "issuer");
    assert!(!ok);
    assert!(msg.contains(&format!("`{}`", fake.issuer())), "{msg}");
    assert!(msg.contains(&format!("`{slashless}`")), "{msg}");
    assert!(msg.contains("trailing slash"), "{msg}");
}

#[tokio::test]
async fn hs256_means_no_signing_key_is_selected() {
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Hs256)
        .start()
        .await;
    let app = admin_app(&fake).await;
    let report = test_provider(&app, None).await;
    assert_eq!(report["ok"], true, "HS256 works: {report:#}");
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "signing")
        .unwrap();
    assert_eq!(c["warning"], true);
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("No signing key is selected in Authentik"),
        "{msg}"
    );
    assert!(msg.contains("keep HS256"), "{msg}");
    assert!(check(&report, "jwks").1.contains("empty, as expected"));
    // Without the secret, HS256 tokens cannot be verified at all.
    let report = test_provider(&app, Some(json!({"client_secret": null}))).await;
    assert!(!check(&report, "signing").0);
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_and_not_saved() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let report = test_provider(&app, Some(json!({"client_secret": "wrong"}))).await;
    assert_eq!(report["ok"], false);
    let (ok, msg) = check(&report, "client");
    assert!(!ok);
    assert!(
        msg.contains("invalid_client") && msg.contains("Client Secret"),
        "{msg}"
    );
    // The candidate settings were only tested.
    assert_eq!(
        app.store.get("authentik").await.unwrap(),
        Some(admin_settings(&fake))
    );
}

#[tokio::test]
async fn an_unknown_host_is_a_dns_failure() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let report = test_provider(
        &app,
        Some(json!({"url": "https://does-not-exist.invalid/application/o/app/"})),
    )
    .await;
    let (ok, msg) = check(&report, "reachable");
    assert!(!ok);
    assert!(msg.starts_with("Instance not reachable."), "{msg}");
    assert!(
        msg.contains("`does-not-exist.invalid` could not be resolved (DNS)"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_refused_connection() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/application/o/app/");
    let report = test_provider(&app, Some(json!({ "url": url }))).await;
    let (ok, msg) = check(&report, "reachable");
    assert!(!ok);
    assert!(
        msg.contains(&format!("127.0.0.1:{port} was refused")),
        "{msg}"
    );
}

#[tokio::test]
async fn a_silent_instance_is_a_timeout() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    fake.fault(Endpoint::Discovery, Fault::Delay(Duration::from_secs(5)));
    let report = test_provider(&app, None).await;
    let (ok, msg) = check(&report, "reachable");
    assert!(!ok);
    assert!(msg.contains("did not answer in time (timed out)"), "{msg}");
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_failure() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let url = fake.issuer().replace("http://", "https://");
    let report = test_provider(&app, Some(json!({ "url": url }))).await;
    let (ok, msg) = check(&report, "reachable");
    assert!(!ok);
    assert!(msg.contains("(TLS)"), "{msg}");
}

#[tokio::test]
async fn an_instance_url_only_learns_the_slug_at_the_first_sign_in() {
    let fake = FakeAuthentik::start().await;
    let app = admin_app(&fake).await;
    let report = test_provider(&app, Some(json!({"url": fake.url()}))).await;
    assert_eq!(report["ok"], true, "{report:#}");
    let (_, msg) = check(&report, "slug");
    assert!(msg.contains("learned from the first sign-in"), "{msg}");
    let (ok, msg) = check(&report, "endpoints");
    assert!(ok, "{msg}");
    assert!(msg.contains("authorize (HTTP 404)"), "{msg}");
    assert!(check(&report, "client").0);
}

#[tokio::test]
async fn doctor_on_the_command_line() {
    let fake = FakeAuthentik::start().await;
    let exe = env!("CARGO_BIN_EXE_tower-oidc");
    let issuer = fake.issuer();
    let ok = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "doctor",
                "authentik",
                "--url",
                &issuer,
                "--base-url",
                "https://app.example.com",
            ])
            .env_remove("TOWER_OIDC_CLIENT_SECRET")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert!(out.contains("ok   issuer"), "{out}");
    assert!(
        out.contains("https://app.example.com/api/auth/providers/authentik/callback"),
        "{out}"
    );
    let bad = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "doctor",
                "authentik",
                "--url",
                "https://does-not-exist.invalid",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL reachable") && out.contains("(DNS)"),
        "{out}"
    );
    let usage = std::process::Command::new(exe)
        .args(["doctor"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
