//! Real deployments (issue 19): a provider behind a private CA, a provider the server reaches at
//! another address than browsers do (split horizon, `internal_url`); and what a load balancer
//! asks (issue 23: `/health`, `/ready`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use tower_oidc::config::ProviderSettings;
use tower_oidc::testing::{Endpoint, FakeAuthentik};

use crate::common::{
    UrlForm, app_with, authentik_settings, authorize, finish_in, location, session, to_callback,
};

/// A reverse proxy on a loopback port in front of `target` (the "internal address" of the
/// provider): forwards every request as it came, marked `x-via-internal: 1`.
async fn internal_proxy(target: String) -> String {
    async fn forward(State(target): State<String>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut out = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .request(parts.method, format!("{target}{path}"));
        for (k, v) in &parts.headers {
            if k != "host" && k != "content-length" {
                out = out.header(k, v);
            }
        }
        let resp = out
            .header("x-via-internal", "1")
            .body(body)
            .send()
            .await
            .unwrap();
        let mut back = Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            if k != "transfer-encoding" && k != "content-length" {
                back = back.header(k, v);
            }
        }
        back.body(Body::from(resp.bytes().await.unwrap())).unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(forward).with_state(target);
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    url
}

/// With `internal_url`, discovery, JWKS, token, userinfo and revocation go to the internal
/// address with `X-Forwarded-Host`/`X-Forwarded-Proto` naming the public one (so Authentik
/// answers with its public issuer), while the browser is sent to the public URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn split_horizon_sends_server_requests_to_the_internal_url() {
    let fake = FakeAuthentik::builder()
        .scopes(["openid", "email", "profile", "offline_access"])
        .start()
        .await;
    let internal = internal_proxy(fake.url()).await;
    let settings = ProviderSettings {
        internal_url: Some(internal),
        ..authentik_settings(&fake, UrlForm::Instance)
    };
    let app = app_with(&fake, settings, |b| b).await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let to = location(&r).unwrap();
    assert!(
        to.starts_with(&format!("{}/application/o/authorize/", fake.url())),
        "the browser goes to the public URL: {to}"
    );
    let out = finish_in(&app.client, &to_callback(&app.client, &r).await).await;
    assert_eq!(out.status, 303, "{:?}", out.location);
    assert_eq!(session(&app).await.0, 200, "the public issuer was verified");
    let r = app
        .client
        .post(app.at("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    let public_host = fake.url().trim_start_matches("http://").to_owned();
    let mut seen = Vec::new();
    for r in fake.requests() {
        let Some(e) = r.endpoint else { continue };
        let internal = r.header("x-via-internal") == Some("1");
        match e {
            Endpoint::Authorize => assert!(!internal, "the browser's authorize is public"),
            _ => {
                assert!(internal, "{e:?} went to the public address");
                assert_eq!(
                    r.header("x-forwarded-host"),
                    Some(public_host.as_str()),
                    "{e:?}"
                );
                assert_eq!(r.header("x-forwarded-proto"), Some("http"), "{e:?}");
                seen.push(e);
            }
        }
    }
    for e in [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Userinfo,
        Endpoint::Revoke,
    ] {
        assert!(
            seen.contains(&e),
            "no {e:?} request via the internal address: {seen:?}"
        );
    }
}

/// `internal_url` must be an origin: a path, query or credentials are refused when settings are
/// read from TOML (and by the admin API).
#[test]
fn internal_url_must_be_an_origin() {
    for bad in [
        "ftp://authentik:21",
        "http://authentik-server:9000/application/o/",
        "http://authentik-server:9000/?x=1",
        "http://user:pw@authentik-server:9000",
        "not a url",
    ] {
        let toml = format!(
            "[settings.authentik]\nurl = \"https://auth.example.com\"\ninternal_url = \"{bad}\"\n"
        );
        let e = tower_oidc::Providers::builtin()
            .with_toml_str("t", &toml)
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(e.to_string().contains("internal_url"), "{bad}: {e}");
    }
    let ok = "[settings.authentik]\nurl = \"https://auth.example.com\"\ninternal_url = \"http://authentik-server:9000\"\n";
    let p = tower_oidc::Providers::builtin()
        .with_toml_str("t", ok)
        .unwrap();
    assert_eq!(
        p.seeded_settings()["authentik"].internal_url.as_deref(),
        Some("http://authentik-server:9000")
    );
}

/// An Authentik behind a private CA (issue 19): refused with the default trust — the sign-in
/// fails `provider_unreachable`, the log and the provider check name the unknown CA and the
/// setting that fixes it — and trusted once its CA's PEM is configured.
#[tokio::test]
async fn a_private_ca_is_refused_by_default_and_trusted_from_its_pem() {
    let ca = crate::common::tls::test_ca();
    let fake = FakeAuthentik::builder()
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .start()
        .await;
    assert!(
        fake.url().starts_with("https://localhost:"),
        "{}",
        fake.url()
    );
    let settings = authentik_settings(&fake, UrlForm::Issuer);

    let (logs, _guard) = crate::common::Logs::capture();
    let app = app_with(&fake, settings.clone(), |b| b).await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let to = location(&r).unwrap_or_default();
    assert!(to.contains("error=provider_unreachable"), "{to}");
    let text = logs.text();
    assert!(
        text.contains("UnknownIssuer") && text.contains("with_pem_file"),
        "the log names the cause and the fix: {text}"
    );
    let spec = tower_oidc::Providers::builtin()
        .get("authentik")
        .unwrap()
        .clone();
    let redirect = app.at("/api/auth/providers/authentik/callback");
    let report =
        tower_oidc::admin::check::check_provider(&spec, &settings, &redirect, Default::default())
            .await;
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.message.clone())
        .collect();
    assert!(
        failed.iter().any(|m| m.contains("does not trust")),
        "the check names the unknown CA: {failed:?}"
    );

    let trust = tower_oidc::TlsTrust::web_pki()
        .with_pem(ca.ca_pem.as_bytes())
        .unwrap();
    let report = tower_oidc::admin::check::check_provider_with(
        &spec,
        &settings,
        &redirect,
        Default::default(),
        &trust,
    )
    .await;
    assert!(report.ok, "with the CA the check passes: {report:?}");
    let app = app_with(&fake, settings, |b| b.tls_trust(trust)).await;
    // The browser trusts the CA too (as one on the company network would).
    let browser = browser_trusting(&ca.ca_pem);
    let r = authorize(&app, &browser, "?login_hint=alice").await;
    assert_eq!(r.status(), 302);
    let out = finish_in(&browser, &to_callback(&browser, &r).await).await;
    assert_eq!(out.status, 303, "{:?}", out.location);
    assert_eq!(crate::common::session_in(&browser, &app.url).await.0, 200);
}

/// The usual split-horizon mistake: discovery answers with the internal host in its issuer. The
/// provider check (the admin Test button, `tower-oidc doctor`) says which setting fixes it.
#[tokio::test]
async fn the_check_points_at_internal_url_when_the_issuer_names_another_host() {
    let fake = FakeAuthentik::start().await;
    let slug = fake.slug().to_owned();
    fake.set_discovery(move |d| {
        d.insert(
            "issuer".into(),
            format!("http://authentik-server:9000/application/o/{slug}/").into(),
        );
    });
    let spec = tower_oidc::Providers::builtin()
        .get("authentik")
        .unwrap()
        .clone();
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let report = tower_oidc::admin::check::check_provider(
        &spec,
        &settings,
        "https://app.example.com/api/auth/providers/authentik/callback",
        Default::default(),
    )
    .await;
    let issuer = report.checks.iter().find(|c| c.name == "issuer").unwrap();
    assert!(!issuer.ok);
    assert!(
        issuer.message.contains("internal_url") && issuer.message.contains("X-Forwarded-Host"),
        "{}",
        issuer.message
    );
}

/// Issue 23: `GET {prefix}/health` is always 200; `GET {prefix}/ready` checks the stores and
/// each enabled provider: 200 naming them `ok`, 503 naming an unreachable provider by its
/// stable code — no URL, no setting.
#[tokio::test]
async fn ready_checks_the_stores_and_each_enabled_provider() {
    let fake = FakeAuthentik::start().await;
    let app = app_with(&fake, authentik_settings(&fake, UrlForm::Issuer), |b| b).await;
    let get = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(get(app.at("/api/auth/health")).await.0, 200);
    let (status, body) = get(app.at("/api/auth/ready")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["providers"]["authentik"], "ok");
    assert_eq!(body["checks"]["session_store"], "ok");

    // A provider nobody answers for.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // Entered by its issuer URL: the issuer is known, so its discovery is what readiness fetches.
    let down = ProviderSettings {
        url: Some(format!(
            "http://127.0.0.1:{closed}/application/o/tower-oidc/"
        )),
        ..authentik_settings(&fake, UrlForm::Issuer)
    };
    let app = app_with(&fake, down, |b| b).await;
    let (status, body) = get(app.at("/api/auth/ready")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        body["checks"]["providers"]["authentik"],
        "provider_unreachable"
    );
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    assert_eq!(get(app.at("/api/auth/health")).await.0, 200);
}

/// Issue 19, item 1, per provider: `.provider_tls_trust(id, …)` trusts a CA for that provider's
/// requests alone. Two HTTPS fakes with certificates of one private CA: the provider given the
/// CA signs in (and its admin Test passes), the other is refused with the unknown-CA cause, as
/// with no trust at all; an id the registry lacks fails `build()`.
#[tokio::test]
async fn a_provider_trusts_its_own_ca_and_no_other_does() {
    let ca = crate::common::tls::test_ca();
    let fake = |ca: &crate::common::tls::TestCa| {
        FakeAuthentik::builder()
            .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
            .start()
    };
    let (company, other) = (fake(&ca).await, fake(&ca).await);
    let trust = || {
        tower_oidc::TlsTrust::web_pki()
            .with_pem(ca.ca_pem.as_bytes())
            .unwrap()
    };
    let app = crate::common::app_custom(
        crate::common::with_second_authentik(),
        vec![
            ("authentik", crate::common::admin_settings(&company)),
            ("other", authentik_settings(&other, UrlForm::Issuer)),
        ],
        |b| b.provider_tls_trust("authentik", trust()),
    )
    .await;
    let browser = browser_trusting(&ca.ca_pem);
    // alice is an admin at the company's Authentik.
    let r = authorize(&app, &browser, "?login_hint=alice").await;
    let to = location(&r).unwrap_or_default();
    assert!(
        to.starts_with(&company.url()),
        "the trusted provider's discovery was fetched, the browser sent there: {to}"
    );
    let out = finish_in(&browser, &to_callback(&browser, &r).await).await;
    assert_eq!(out.status, 303, "{:?}", out.location);
    assert_eq!(crate::common::session_in(&browser, &app.url).await.0, 200);

    let r = browser
        .get(app.at("/api/auth/providers/other/authorize?login_hint=alice"))
        .send()
        .await
        .unwrap();
    let to = location(&r).unwrap_or_default();
    assert!(
        to.contains("error=provider_unreachable"),
        "the other provider does not trust the CA: {to}"
    );

    let admin = app.admin_as(&browser);
    let (status, report, _) = admin.post("/providers/authentik/test", None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["ok"], true,
        "the Test button uses the provider's trust: {report}"
    );
    let (_, report, _) = admin.post("/providers/other/test", None).await;
    assert_eq!(report["ok"], false, "{report}");
    assert!(
        report.to_string().contains("does not trust"),
        "the check names the unknown CA: {report}"
    );

    let unknown = tower_oidc::OidcLayer::builder()
        .base_url("http://127.0.0.1:3000")
        .provider_tls_trust("no-such-provider", trust())
        .build()
        .err();
    assert!(
        matches!(
            unknown,
            Some(tower_oidc::layer::BuildError::UnknownProvider(ref id)) if id == "no-such-provider"
        ),
        "{unknown:?}"
    );
}

/// A browser that trusts the CA of `ca_pem` too (as one on the company network would): keeps
/// cookies, follows no redirects.
fn browser_trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}
