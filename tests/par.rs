//! Pushed authorization requests (issue 20, item 4; RFC 9126): with `par = true` in the spec
//! and a `pushed_authorization_request_endpoint` in discovery — or a provider that sets
//! `require_pushed_authorization_requests` — the authorization request is POSTed to the
//! provider with the client's authentication, and the browser carries only `client_id` and the
//! `request_uri`, which the fake accepts once. The admin's `par` setting overrides the spec's
//! either way, except that a provider requiring PAR always gets it.

mod common;

use serde_json::json;
use tower_oidc::Providers;
use tower_oidc::store::SettingsStore;
use tower_oidc::testing::{Endpoint, FakeAuthentik};

use common::*;

/// A fake whose discovery advertises its PAR endpoint (and requires PAR when `required`).
async fn fake_with_par(advertised: bool, required: bool) -> FakeAuthentik {
    let fake = FakeAuthentik::start().await;
    let par = format!("{}/application/o/par/", fake.url());
    fake.set_discovery(move |doc| {
        if advertised {
            doc.insert("pushed_authorization_request_endpoint".into(), json!(par));
        }
        if required {
            doc.insert("require_pushed_authorization_requests".into(), json!(true));
        }
    });
    fake
}

async fn app_with(fake: &FakeAuthentik, spec: &str) -> App {
    let providers = Providers::builtin()
        .with_toml_str("par.toml", spec)
        .unwrap();
    app_custom(
        providers,
        vec![("authentik", authentik_settings(fake, UrlForm::Issuer))],
        |b| b,
    )
    .await
}

const PAR_ON: &str = "[providers.authentik]\npar = true\n";

#[tokio::test]
async fn par_pushes_the_request_and_signs_in() {
    let fake = fake_with_par(true, false).await;
    let app = app_with(&fake, PAR_ON).await;
    let (callback, to_idp) = start(&app, "?login_hint=alice").await;
    // The browser's URL names only the client and the pushed request.
    let url = url::Url::parse(&to_idp).unwrap();
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(keys, ["client_id", "request_uri"], "{to_idp}");
    assert!(finish(&app, &callback).await.set_session());
    // One push, client-authenticated, with the whole request (state, nonce, PKCE, scope).
    let pushed: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Par))
        .collect();
    assert_eq!(pushed.len(), 1);
    let p = &pushed[0];
    assert_eq!(p.form_param("client_secret"), Some(fake.client_secret()));
    for k in [
        "response_type",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
    ] {
        assert!(p.form_param(k).is_some(), "{k} not pushed");
    }
}

#[tokio::test]
async fn par_request_uri_is_single_use() {
    let fake = fake_with_par(true, false).await;
    let app = app_with(&fake, PAR_ON).await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let to_idp = location(&r).unwrap();
    let first = bare_client().get(&to_idp).send().await.unwrap();
    assert_eq!(first.status(), 302, "the pushed request is honoured once");
    let again = bare_client().get(&to_idp).send().await.unwrap();
    assert_eq!(again.status(), 400, "a request_uri used again is refused");
    assert!(again.text().await.unwrap().contains("Request URI Error"));
}

#[tokio::test]
async fn par_required_by_the_provider_is_honoured() {
    let fake = fake_with_par(true, true).await;
    // The spec leaves PAR off; the provider's discovery requires it.
    let app = app_with(&fake, "[providers.authentik]\n").await;
    assert!(sign_in(&app, "alice").await.set_session());
    assert_eq!(fake.count(Endpoint::Par), 1);
}

#[tokio::test]
async fn par_is_off_unless_asked_or_required() {
    let fake = fake_with_par(true, false).await;
    let app = app_with(&fake, "[providers.authentik]\n").await;
    let (_, to_idp) = start(&app, "?login_hint=alice").await;
    assert!(to_idp.contains("scope="), "{to_idp}");
    assert_eq!(fake.count(Endpoint::Par), 0);
    // Asked for, but the provider advertises no endpoint: the plain redirect.
    let fake = fake_with_par(false, false).await;
    let app = app_with(&fake, PAR_ON).await;
    assert!(sign_in(&app, "alice").await.set_session());
    assert_eq!(fake.count(Endpoint::Par), 0);
}

#[tokio::test]
async fn par_required_without_an_endpoint_is_a_misconfiguration() {
    let fake = fake_with_par(false, true).await;
    let app = app_with(&fake, "[providers.authentik]\n").await;
    let r = authorize_as_api(&app, "").await;
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "provider_misconfigured");
}

// ----------------------------------------------------------------------------------------------
// The admin's `par` setting (issue 20, item 4: "the spec or admin turns it on").

/// An app on `backend` over `fake`, with `providers`, where alice (signed in on `app.client`)
/// is an administrator.
async fn admin_app(fake: &FakeAuthentik, providers: Providers, backend: Backend) -> App {
    let store = TestStore::on(backend).await;
    SettingsStore::put(&store, "authentik", &admin_settings(fake))
        .await
        .unwrap();
    let app = serve_on("authentik", store, |b| b.providers(providers)).await;
    assert!(sign_in(&app, "alice").await.set_session());
    app
}

fn spec(toml: &str) -> Providers {
    Providers::builtin()
        .with_toml_str("par.toml", toml)
        .unwrap()
}

/// Signs alice in once more; whether the authorization request was pushed (checked both at the
/// browser's URL and at the fake's PAR endpoint).
async fn signs_in_pushed(app: &App, fake: &FakeAuthentik) -> bool {
    let before = fake.count(Endpoint::Par);
    let (callback, to_idp) = start(app, "?login_hint=alice").await;
    let url = url::Url::parse(&to_idp).unwrap();
    let pushed_url = url.query_pairs().any(|(k, _)| k == "request_uri");
    assert!(finish(app, &callback).await.set_session());
    let pushed = fake.count(Endpoint::Par) - before;
    assert_eq!(pushed_url, pushed == 1, "{to_idp}: {pushed} pushes");
    pushed_url
}

async fn set_par(app: &App, v: serde_json::Value) -> serde_json::Value {
    let (status, body, _) = app
        .admin()
        .put("/providers/authentik", json!({ "par": v }))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn par_admin_turns_it_on_for_a_spec_with_it_off() {
    let fake = fake_with_par(true, false).await;
    let app = admin_app(&fake, Providers::builtin(), Backend::from_env()).await;
    assert!(
        !signs_in_pushed(&app, &fake).await,
        "the spec leaves PAR off"
    );
    set_par(&app, json!(true)).await;
    assert!(
        signs_in_pushed(&app, &fake).await,
        "the admin turned PAR on"
    );
    // Back to the spec's.
    set_par(&app, json!(null)).await;
    assert!(!signs_in_pushed(&app, &fake).await);
}

#[tokio::test]
async fn par_admin_turns_it_off_for_a_spec_with_it_on() {
    let fake = fake_with_par(true, false).await;
    let app = admin_app(&fake, spec(PAR_ON), Backend::from_env()).await;
    assert!(signs_in_pushed(&app, &fake).await, "the spec turns PAR on");
    set_par(&app, json!(false)).await;
    assert!(
        !signs_in_pushed(&app, &fake).await,
        "the admin turned PAR off"
    );
}

#[tokio::test]
async fn par_admin_off_but_the_provider_requires_it_is_pushed() {
    let fake = fake_with_par(true, true).await;
    let app = admin_app(&fake, spec(PAR_ON), Backend::from_env()).await;
    set_par(&app, json!(false)).await;
    assert_eq!(
        app.store.get("authentik").await.unwrap().unwrap().par,
        Some(false)
    );
    assert!(
        signs_in_pushed(&app, &fake).await,
        "require_pushed_authorization_requests wins over the admin's off"
    );
}

#[tokio::test]
async fn par_setting_round_trips_through_the_admin_api_and_the_sqlite_store() {
    let fake = fake_with_par(true, false).await;
    let app = admin_app(&fake, Providers::builtin(), Backend::Sqlite).await;
    let (status, v, _) = app.admin().get("/providers/authentik").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (&v["par"], &v["sources"]["par"]),
        (&json!(false), &json!("builtin"))
    );
    for (sent, stored) in [
        (json!(true), Some(true)),
        (json!(false), Some(false)),
        (json!(null), None),
    ] {
        let v = set_par(&app, sent.clone()).await;
        let stored_now = app.store.get("authentik").await.unwrap().unwrap();
        assert_eq!(stored_now.par, stored, "{sent}");
        // The rest of the settings are untouched.
        assert_eq!(
            stored_now,
            tower_oidc::ProviderSettings {
                par: stored,
                ..admin_settings(&fake)
            }
        );
        let (_, got, _) = app.admin().get("/providers/authentik").await;
        assert_eq!(got, v, "the PUT answers the provider as GET shows it");
        let source = if stored.is_some() { "store" } else { "builtin" };
        assert_eq!(got["par"], json!(stored.unwrap_or(false)), "{got}");
        assert_eq!(got["sources"]["par"], source, "{got}");
    }
}

#[tokio::test]
async fn par_setting_values_are_checked_in_the_api_and_the_file() {
    let fake = fake_with_par(true, false).await;
    let app = admin_app(&fake, Providers::builtin(), Backend::from_env()).await;
    let before = app.store.get("authentik").await.unwrap();
    for (id, body) in [
        ("authentik", json!({"par": "yes"})),
        ("authentik", json!({"par": 1})),
        // A plain OAuth 2.0 provider has no discovery document to advertise the endpoint.
        ("github", json!({"par": true})),
    ] {
        let (status, v, _) = app
            .admin()
            .put(&format!("/providers/{id}"), body.clone())
            .await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(
            (&v["error"], &v["field"]),
            (&json!("invalid_input"), &json!("par")),
            "{body}: {v}"
        );
    }
    assert_eq!(app.store.get("authentik").await.unwrap(), before);
    assert_eq!(app.store.get("github").await.unwrap(), None);
    // Off is fine for one (it never pushes anyway).
    let (status, v, _) = app
        .admin()
        .put("/providers/github", json!({"par": false}))
        .await;
    assert_eq!(status, 200, "{v}");
    // The same rules in a providers file, at the key.
    let e = Providers::builtin()
        .with_toml_str("app.toml", "[settings.github]\npar = true\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("settings.github.par"), "{e}");
    assert!(e.contains("no discovery document"), "{e}");
    let p = Providers::builtin()
        .with_toml_str("app.toml", "[settings.authentik]\npar = true\n")
        .unwrap();
    assert_eq!(p.seeded_settings()["authentik"].par, Some(true));
}
