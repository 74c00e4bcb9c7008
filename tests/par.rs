//! Pushed authorization requests (issue 20, item 4; RFC 9126): with `par = true` in the spec
//! and a `pushed_authorization_request_endpoint` in discovery — or a provider that sets
//! `require_pushed_authorization_requests` — the authorization request is POSTed to the
//! provider with the client's authentication, and the browser carries only `client_id` and the
//! `request_uri`, which the fake accepts once.

mod common;

use serde_json::json;
use tower_oidc::Providers;
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
