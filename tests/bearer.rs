//! Bearer tokens on the app's routes (issue 20, item 1; security matrix §B): an API client's
//! `Authorization: Bearer` access token from a provider whose spec has `[providers.<id>.bearer]`
//! authenticates the request as its user, without a session or a cookie; every bad token is
//! `401` with the RFC 6750 challenge.
//!
//! Each refusal is the accepted token with one thing changed (a control request with the token
//! as minted, or re-signed unchanged, passes), so a test fails if the refusal comes from
//! anything but the case it is named after.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tower_oidc::Providers;
use tower_oidc::config::ProviderSettings;
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, Tamper};

use common::*;

/// Authentik accepting bearer tokens, opaque ones by introspection.
const BEARER: &str = "[providers.authentik.bearer]\nintrospection = true\n";

async fn fake() -> FakeAuthentik {
    FakeAuthentik::builder()
        .user(
            FakeUser::new("carol")
                .name("Carol C")
                .email("carol@example.com"),
        )
        .start()
        .await
}

async fn bearer_app(_fake: &FakeAuthentik, toml: &str, settings: ProviderSettings) -> App {
    let providers = Providers::builtin()
        .with_toml_str("bearer.toml", toml)
        .unwrap();
    app_custom(providers, vec![("authentik", settings)], |b| b).await
}

async fn app_accepting_bearer(fake: &FakeAuthentik) -> App {
    bearer_app(fake, BEARER, authentik_settings(fake, UrlForm::Issuer)).await
}

/// `GET path` as an API client with `token`.
async fn call(app: &App, path: &str, token: &str) -> reqwest::Response {
    bare_client()
        .get(app.at(path))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

#[track_caller]
fn assert_no_cookie(r: &reqwest::Response) {
    assert!(
        r.headers().get("set-cookie").is_none(),
        "a bearer response set a cookie: {:?}",
        r.headers()
    );
}

/// A refusal: 401, `WWW-Authenticate: Bearer realm=…, error="invalid_token"`, no cookie.
async fn assert_invalid_token(app: &App, token: &str) {
    for path in ["/", "/me"] {
        let r = call(app, path, token).await;
        assert_no_cookie(&r);
        assert_eq!(r.status(), 401, "{path}");
        let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(
            h.starts_with(&format!("Bearer realm=\"{}\"", app.url))
                && h.contains(r#"error="invalid_token""#)
                && h.contains("error_description=\""),
            "{h}"
        );
        assert!(!h.contains(token), "the token is echoed: {h}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }
}

/// Accepted: the handler sees the user; no cookie.
async fn assert_accepted(app: &App, token: &str) -> String {
    let r = call(app, "/", token).await;
    assert_no_cookie(&r);
    assert_eq!(r.status(), 200);
    let who: Value = r.json().await.unwrap();
    assert_eq!(who["signed_in"], true, "{who}");
    let r = call(app, "/me", token).await;
    assert_no_cookie(&r);
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn claims_of(jwt: &str) -> Map<String, Value> {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `token`'s claims changed by `f`, signed again with the fake's key (`typ: JWT`).
fn resigned(fake: &FakeAuthentik, token: &str, f: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut claims = claims_of(token);
    f(&mut claims);
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    fake.sign_jwt(header, claims)
}

#[tokio::test]
async fn bearer_valid_jwt_reaches_the_handler_as_the_user() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let id = assert_accepted(&app, &token).await;
    let r = call(&app, "/", &token).await;
    let who: Value = r.json().await.unwrap();
    assert_eq!(who["name"], "Carol C");
    // The same user on the next request (found by identity, not created again), and the
    // user store holds the identity (provider, issuer, sub).
    assert_eq!(assert_accepted(&app, &token).await, id);
    let user = user_by_email(&app, "carol@example.com").await.unwrap();
    assert_eq!(user.id.to_string(), id);
    // Re-signed unchanged (the control of the cases below): accepted.
    assert_eq!(
        assert_accepted(&app, &resigned(&fake, &token, |_| {})).await,
        id
    );
}

#[tokio::test]
async fn bearer_expired_token_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let expired = resigned(&fake, &token, |c| {
        c.insert("iat".into(), json!(now() - 7200));
        c.insert("exp".into(), json!(now() - 3600));
    });
    assert_invalid_token(&app, &expired).await;
}

#[tokio::test]
async fn bearer_wrong_audience_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let other = resigned(&fake, &token, |c| {
        c.insert("aud".into(), json!("another-client"));
    });
    assert_invalid_token(&app, &other).await;
    // An allowed audience of the spec is accepted.
    let app = bearer_app(
        &fake,
        "[providers.authentik.bearer]\naudiences = [\"another-client\"]\n",
        authentik_settings(&fake, UrlForm::Issuer),
    )
    .await;
    assert_accepted(&app, &other).await;
}

#[tokio::test]
async fn bearer_wrong_issuer_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let issuer = fake.issuer();
    for iss in [
        format!("{}/application/o/other-app/", fake.url()),
        issuer.trim_end_matches('/').to_owned(),
        "https://evil.example/application/o/tower-oidc/".to_owned(),
    ] {
        let forged = resigned(&fake, &token, |c| {
            c.insert("iss".into(), json!(iss));
        });
        assert_invalid_token(&app, &forged).await;
    }
}

#[tokio::test]
async fn bearer_alg_none_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake
        .issue_access_token("carol", Some(Tamper::AlgNone))
        .unwrap();
    assert!(token.ends_with('.'));
    assert_invalid_token(&app, &token).await;
}

#[tokio::test]
async fn bearer_hs256_when_rs256_pinned_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake
        .issue_access_token("carol", Some(Tamper::Hs256WithRsaPublicKey))
        .unwrap();
    assert!(claims_of(&token).contains_key("scope"));
    assert_invalid_token(&app, &token).await;
}

#[tokio::test]
async fn bearer_unknown_kid_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake
        .issue_access_token("carol", Some(Tamper::Kid("not-a-key-of-the-issuer".into())))
        .unwrap();
    assert_invalid_token(&app, &token).await;
    // Signed by a key the JWKS does not hold, header naming it.
    let token = fake
        .issue_access_token("carol", Some(Tamper::EmbeddedJwkHeader))
        .unwrap();
    assert_invalid_token(&app, &token).await;
}

#[tokio::test]
async fn bearer_id_token_used_as_access_token_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    // Authentik's ID token: same issuer, key and `aud` as its access tokens, but no `scope`.
    let id_token = fake.issue_id_token("carol").unwrap();
    assert_invalid_token(&app, &id_token).await;
    // An access token carrying `at_hash` is an ID token too.
    let token = fake.issue_access_token("carol", None).unwrap();
    let with_at_hash = resigned(&fake, &token, |c| {
        c.insert("at_hash".into(), json!("x4Yr2S3iFzzG6pDrXL3rSg"));
    });
    assert_invalid_token(&app, &with_at_hash).await;
    // A provider whose access tokens are `at+jwt` (RFC 9068): a `JWT` is refused.
    let app = bearer_app(
        &fake,
        "[providers.authentik.bearer]\ntyp = \"at+jwt\"\n",
        authentik_settings(&fake, UrlForm::Issuer),
    )
    .await;
    assert_invalid_token(&app, &token).await;
    let mut header = Map::new();
    header.insert("typ".into(), json!("at+jwt"));
    assert_accepted(&app, &fake.sign_jwt(header, claims_of(&token))).await;
}

#[tokio::test]
async fn bearer_introspection_inactive_is_refused() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    // An opaque token the provider does not know: introspection answers `active: false`.
    assert_invalid_token(&app, "not-a-token-of-the-provider").await;
    assert!(fake.count(Endpoint::Introspect) >= 1);
    // One the provider issued, then revoked before it was used.
    let token = fake.issue_opaque_access_token("carol").unwrap();
    let revoked = reqwest::Client::new()
        .post(format!("{}/application/o/revoke/", fake.url()))
        .form(&[
            ("token", token.as_str()),
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_invalid_token(&app, &token).await;
}

#[tokio::test]
async fn bearer_opaque_token_is_checked_by_introspection_and_cached() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_opaque_access_token("carol").unwrap();
    fake.clear_requests();
    let id = assert_accepted(&app, &token).await;
    assert_eq!(assert_accepted(&app, &token).await, id);
    // Four requests, one introspection: the answer is cached (30 s, bounded, never past `exp`).
    let calls: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Introspect))
        .collect();
    assert_eq!(calls.len(), 1);
    // Client-authenticated (the built-in spec's `client_secret_post`), the token as sent.
    assert_eq!(calls[0].form_param("client_id"), Some(fake.client_id()));
    assert_eq!(
        calls[0].form_param("client_secret"),
        Some(fake.client_secret())
    );
    assert_eq!(calls[0].form_param("token"), Some(token.as_str()));
    // Without `introspection = true`, an opaque token is refused without asking the provider.
    let app = bearer_app(
        &fake,
        "[providers.authentik.bearer]\n",
        authentik_settings(&fake, UrlForm::Issuer),
    )
    .await;
    fake.clear_requests();
    assert_invalid_token(&app, &fake.issue_opaque_access_token("carol").unwrap()).await;
    assert_eq!(fake.count(Endpoint::Introspect), 0);
}

#[tokio::test]
async fn bearer_responses_never_set_cookies() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let good = fake.issue_access_token("carol", None).unwrap();
    for token in [
        good.clone(),
        fake.issue_id_token("carol").unwrap(),
        fake.issue_opaque_access_token("carol").unwrap(),
        "junk".to_owned(),
        "a.b.c".to_owned(),
    ] {
        for path in ["/", "/me", "/admin-only", "/headers"] {
            let r = call(&app, path, &token).await;
            assert_no_cookie(&r);
        }
    }
    // No session was created for any of them.
    let (status, session) = session_in(&bare_client(), &app.url).await;
    assert_eq!(status, 401, "{session}");
    assert_eq!(session["error"], "unauthenticated", "{session}");
    // The token's user exists (the good token was accepted), with no session in the store.
    let user = user_by_email(&app, "carol@example.com").await.unwrap();
    let sessions = tower_oidc::store::SessionStore::find_sessions(
        &app.store,
        &tower_oidc::store::SessionFilter::User(user.id),
    )
    .await
    .unwrap();
    assert!(sessions.is_empty(), "{} sessions", sessions.len());
}

#[tokio::test]
async fn bearer_with_a_session_cookie_is_refused_400() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    assert!(sign_in(&app, "carol").await.set_session());
    let token = fake.issue_access_token("carol", None).unwrap();
    let r = app
        .client
        .get(app.at("/"))
        .bearer_auth(&token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_no_cookie(&r);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(h.contains(r#"error="invalid_request""#), "{h}");
    // Each alone is fine.
    let who: Value = app
        .client
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["signed_in"], true);
    assert_accepted(&app, &token).await;
}

#[tokio::test]
async fn bearer_unknown_identity_without_auto_registration_is_refused() {
    let fake = fake().await;
    let settings = ProviderSettings {
        auto_register: false,
        ..authentik_settings(&fake, UrlForm::Issuer)
    };
    let app = bearer_app(&fake, BEARER, settings).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    assert_invalid_token(&app, &token).await;
    assert!(user_by_email(&app, "carol@example.com").await.is_none());
}

#[tokio::test]
async fn bearer_only_api_without_token_gets_the_realm_challenge() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let r = bare_client()
        .get(app.at("/me"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(h, format!("Bearer realm=\"{}\"", app.url));
}

#[tokio::test]
async fn bearer_tokens_are_ignored_when_no_provider_accepts_them() {
    let fake = fake().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let r = call(&app, "/", &token).await;
    assert_eq!(r.status(), 200);
    let who: Value = r.json().await.unwrap();
    assert_eq!(who["signed_in"], false);
    let r = call(&app, "/me", &token).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_none());
}

/// An actix-web app on `engine`: `/me` answers the signed-in user's id (`CurrentUser`).
fn actix_me(engine: std::sync::Arc<tower_oidc::OidcEngine>) -> String {
    use actix_web::{App as ActixApp, HttpServer, web};
    use tower_oidc::actix::{CurrentUser, OidcMiddleware};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                ActixApp::new()
                    .wrap(OidcMiddleware::new(engine.clone()))
                    .route(
                        "/me",
                        web::get().to(|u: CurrentUser| async move { u.id.to_string() }),
                    )
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap()
        })
    });
    url
}

/// A warp app on `engine`: `/me` answers the signed-in user's id (`require_user`).
async fn warp_me(engine: std::sync::Arc<tower_oidc::OidcEngine>) -> String {
    use tower_oidc::warp::{CurrentUser, handle_rejection, require_user};
    use warp::Filter as _;
    let me = warp::path!("me")
        .and(require_user(engine))
        .map(|u: CurrentUser| u.id.to_string())
        .recover(handle_rejection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(warp::serve(me).incoming(listener).run());
    url
}

#[tokio::test]
async fn bearer_tokens_work_in_actix_and_warp_as_in_the_layer() {
    let fake = fake().await;
    let app = app_accepting_bearer(&fake).await;
    let token = fake.issue_access_token("carol", None).unwrap();
    let id = assert_accepted(&app, &token).await;
    let expired = resigned(&fake, &token, |c| {
        c.insert("exp".into(), json!(1));
    });
    let engine = app.layer.engine().clone();
    for (framework, url) in [
        ("actix-web", actix_me(engine.clone())),
        ("warp", warp_me(engine).await),
    ] {
        let get = |token: &str| {
            bare_client()
                .get(format!("{url}/me"))
                .bearer_auth(token)
                .header("accept", "application/json")
        };
        // The same user as through the layer, and no cookie.
        let r = get(&token).send().await.unwrap();
        assert_no_cookie(&r);
        assert_eq!(r.status(), 200, "{framework}");
        assert_eq!(r.text().await.unwrap(), id, "{framework}");
        // A refused token: 401 with the RFC 6750 challenge.
        let r = get(&expired).send().await.unwrap();
        assert_no_cookie(&r);
        assert_eq!(r.status(), 401, "{framework}");
        let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(h.contains(r#"error="invalid_token""#), "{framework}: {h}");
        // A session cookie beside the token: 400.
        let r = get(&token)
            .header("cookie", "tower_oidc_session=x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{framework}");
    }
}
