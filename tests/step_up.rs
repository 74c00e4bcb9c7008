//! Step-up sign-in: `max_age`, `prompt=login` and `acr_values` on the authorize route and from
//! code, `auth_time`/`acr`/`amr` kept with the session, `max_age` enforced on the ID token, and
//! the `require_recent_login` guard sending an old sign-in through the provider again.

mod common;

use std::time::Duration;

use axum::{Router, middleware, routing::get};
use common::*;
use tower_oidc::flow::LoginOptions;
use tower_oidc::testing::FakeAuthentik;

/// The authorize route passes `max_age`, `prompt` and `acr_values` on to the provider.
#[tokio::test]
async fn authorize_passes_step_up_parameters() {
    let (_fake, app) = fresh().await;
    let r = authorize(
        &app,
        &bare_client(),
        "?login_hint=alice&max_age=60&prompt=login&acr_values=gold",
    )
    .await;
    let to = location(&r).unwrap();
    assert_eq!(param(&to, "max_age").as_deref(), Some("60"), "{to}");
    assert_eq!(param(&to, "prompt").as_deref(), Some("login"));
    assert_eq!(param(&to, "acr_values").as_deref(), Some("gold"));
    assert_eq!(param(&to, "login_hint").as_deref(), Some("alice"));
    // From code, the same URL.
    let url = app.layer.engine().login_url_with(
        "authentik",
        &LoginOptions::default()
            .max_age(Duration::from_secs(60))
            .prompt("login"),
    );
    assert_eq!(
        url,
        "/api/auth/providers/authentik/authorize?max_age=60&prompt=login"
    );
}

/// With `max_age` asked for, an ID token without `auth_time` is refused (Core 3.1.2.1); without
/// `max_age` the same token signs in.
#[tokio::test]
async fn max_age_requires_auth_time() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("auth_time");
    });
    let (cb, _) = start(&app, "?login_hint=alice&max_age=60").await;
    let out = finish(&app, &cb).await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("id_token_invalid"),
        "{out:?}"
    );
    assert!(!out.set_session());
    accepted(&app).await;
}

/// With `max_age` asked for, an authentication older than that is refused.
#[tokio::test]
async fn authentication_older_than_max_age_is_refused() {
    let (fake, app) = fresh().await;
    let old = now() - 3600;
    fake.set_id_token_claims(move |c| {
        c.insert("auth_time".into(), old.into());
    });
    let (cb, _) = start(&app, "?login_hint=alice&max_age=60").await;
    let out = finish(&app, &cb).await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("id_token_invalid"),
        "{out:?}"
    );
    let (cb, _) = start(&app, "?login_hint=alice&max_age=7200").await;
    assert!(finish(&app, &cb).await.set_session(), "within max_age");
}

/// The session keeps `auth_time`, `acr` and `amr` of the ID token.
#[tokio::test]
async fn session_keeps_auth_time_acr_and_amr() {
    let (_fake, app) = fresh().await;
    let before = now() as u64;
    assert!(sign_in(&app, "alice").await.set_session());
    let (status, body) = session(&app).await;
    assert_eq!(status, 200);
    let t = body["auth_time"].as_u64().expect("auth_time");
    assert!(t + 60 >= before && t <= now() as u64 + 60, "{body}");
    assert!(
        body["acr"].as_str().is_some_and(|a| !a.is_empty()),
        "{body}"
    );
    assert!(body["amr"].is_array(), "{body}");
}

async fn billing() -> &'static str {
    "billing"
}

/// `require_recent_login` (axum): a recent sign-in passes; an older one sends the browser through
/// the provider again with `prompt=login` and `max_age`, and back to the page; an API client
/// gets `401 login_required`.
#[tokio::test]
async fn require_recent_login_sends_old_sign_ins_through_the_provider_again() {
    let fake = FakeAuthentik::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let layer = layer_for(&fake, &url).await;
    let app = Router::new()
        .route("/billing", get(billing))
        .route_layer(middleware::from_fn(tower_oidc::axum::require_recent_login(
            Duration::from_secs(2),
        )))
        .layer(layer);
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = client();
    assert_eq!(sign_in_at(&url, &fake, &c, "alice", "/").await, "/");
    let r = c.get(format!("{url}/billing")).send().await.unwrap();
    assert_eq!(r.status(), 200, "a fresh sign-in passes");

    tokio::time::sleep(Duration::from_millis(3100)).await;
    let r = c
        .get(format!("{url}/billing"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "login_required");

    let r = c
        .get(format!("{url}/billing"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r).unwrap();
    assert!(
        to.starts_with("/api/auth/providers/authentik/authorize?"),
        "{to}"
    );
    assert_eq!(
        param(&format!("{url}{to}"), "prompt").as_deref(),
        Some("login")
    );
    assert_eq!(
        param(&format!("{url}{to}"), "max_age").as_deref(),
        Some("2")
    );
    assert_eq!(
        param(&format!("{url}{to}"), "return_to").as_deref(),
        Some("/billing")
    );
    // Through the provider again (a new authentication), back to the page.
    let r = c.get(format!("{url}{to}")).send().await.unwrap();
    let cb = to_callback(&c, &r).await;
    let r = c.get(&cb).send().await.unwrap();
    assert_eq!(location(&r).as_deref(), Some("/billing"));
    let r = c.get(format!("{url}/billing")).send().await.unwrap();
    assert_eq!(r.status(), 200, "recent again");
    server.abort();
}
