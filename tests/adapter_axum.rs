//! The axum adapter: the `axum` example app signs users in through `FakeAuthentik`, and its
//! extractors and guards answer as the engine does.

mod common;

use common::*;

/// `examples/axum.rs`, run as a process against a fake Authentik: a full sign-in; `/me` shows
/// the user; `/admin` refuses bob (403) and admits alice; signed-out API requests get 401 JSON
/// and browsers a redirect to the login page.
#[tokio::test]
async fn axum_example_signs_in_and_guards_pages() {
    example_contract("axum").await;
}

/// `examples/observability.rs`, run as a process: after a sign-in, `/metrics` answers the
/// Prometheus text with the sign-in's counters and the provider requests' histograms, with
/// their help text; the layer's `/health` and `/ready` answer 200.
#[tokio::test]
async fn observability_example_serves_the_metrics_of_a_sign_in() {
    let app = start_example("observability").await;
    let c = client();
    let to = sign_in_at(&app.url, &app.fake, &c, "bob", "/me").await;
    assert!(to.ends_with("/me"), "{to}");
    let metrics = get(&c, &format!("{}/metrics", app.url), "text/plain").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    for line in [
        "tower_oidc_sign_ins_started_total{provider=\"authentik\"} 1",
        "tower_oidc_sign_ins_completed_total{provider=\"authentik\"} 1",
        "tower_oidc_sessions_created_total{provider=\"authentik\"} 1",
        "# HELP tower_oidc_sign_ins_completed_total Callbacks that ended in a session.",
        "tower_oidc_provider_request_duration_seconds_count{provider=\"authentik\",endpoint=\"token\"} 1",
        "tower_oidc_callback_duration_seconds_bucket{provider=\"authentik\",outcome=\"completed\",le=\"10\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line `{line}` in /metrics:\n{text}"
        );
    }
    for route in ["health", "ready"] {
        let r = get(&c, &format!("{}/api/auth/{route}", app.url), JSON).await;
        assert_eq!(r.status, 200, "{route}: {r:?}");
    }
}

use axum::{Router, middleware, routing::get as route_get};
use tower_oidc::axum::{AdminUser, CurrentUser, require_admin, require_user};
use tower_oidc::testing::FakeAuthentik;

async fn name(user: CurrentUser) -> String {
    user.name.clone().unwrap_or_default()
}

async fn maybe(user: Option<CurrentUser>) -> String {
    match user {
        Some(u) => format!("user {}", u.id),
        None => "anonymous".into(),
    }
}

async fn admin_name(admin: AdminUser) -> String {
    admin.name.clone().unwrap_or_default()
}

/// The guards work as `route_layer` and as `layer` on a sub-router, extractors work in nested
/// routers (the login redirect keeps the full original path), `Option<CurrentUser>` serves
/// both, and a route outside the `OidcLayer` refuses (401) instead of letting anyone in.
#[tokio::test]
async fn axum_guards_as_layer_and_route_layer() {
    let fake = FakeAuthentik::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let layer = layer_for(&fake, &url).await;

    let by_route_layer = Router::new()
        .route("/ra/admin", route_get(|| async { "admin via route_layer" }))
        .route_layer(middleware::from_fn(require_admin));
    let by_layer = Router::new()
        .route("/la/admin", route_get(|| async { "admin via layer" }))
        .layer(middleware::from_fn(require_admin));
    let members = Router::new()
        .route("/members", route_get(|| async { "members" }))
        .route_layer(middleware::from_fn(require_user));
    let nested = Router::new().route("/name", route_get(name));
    let app = Router::new()
        .route("/maybe", route_get(maybe))
        .route("/extract/admin", route_get(admin_name))
        .merge(by_route_layer)
        .merge(by_layer)
        .merge(members)
        .nest("/n", nested)
        .layer(layer)
        // Outside the OidcLayer: no `Auth` in the request.
        .route("/unprotected", route_get(name));
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });

    let guarded = [
        "/ra/admin",
        "/la/admin",
        "/members",
        "/extract/admin",
        "/n/name?x=1",
    ];
    let anon = client();
    for path in guarded {
        let r = get(&anon, &format!("{url}{path}"), JSON).await;
        assert_eq!(r.status, 401, "{path}: {r:?}");
        assert_eq!(r.json()["error"], "unauthenticated");
        let r = get(&anon, &format!("{url}{path}"), HTML).await;
        assert_eq!(r.status, 303, "{path}: {r:?}");
        let expected = format!(
            "/api/auth/login?return_to={}",
            url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        );
        assert_eq!(r.location.as_deref(), Some(expected.as_str()), "{path}");
    }
    assert_eq!(
        get(&anon, &format!("{url}/maybe"), HTML).await.body,
        "anonymous"
    );
    // A route outside the layer cannot tell a missing layer from a signed-out visitor (the layer
    // inserts no `Auth` for anonymous requests): it refuses as signed out, never lets anyone in.
    let r = get(&anon, &format!("{url}/unprotected"), JSON).await;
    assert_eq!(r.status, 401, "{r:?}");

    let bob = client();
    sign_in_at(&url, &fake, &bob, "bob", "/").await;
    for path in ["/ra/admin", "/la/admin", "/extract/admin"] {
        let r = get(&bob, &format!("{url}{path}"), JSON).await;
        assert_eq!(r.status, 403, "{path}: {r:?}");
        assert_eq!(r.json()["error"], "forbidden");
        assert_eq!(get(&bob, &format!("{url}{path}"), HTML).await.status, 403);
    }
    assert_eq!(get(&bob, &format!("{url}/members"), HTML).await.status, 200);
    assert_eq!(
        get(&bob, &format!("{url}/n/name"), HTML).await.body,
        "Bob Berger"
    );
    assert!(
        get(&bob, &format!("{url}/maybe"), HTML)
            .await
            .body
            .starts_with("user ")
    );

    let alice = client();
    sign_in_at(&url, &fake, &alice, "alice", "/").await;
    for (path, body) in [
        ("/ra/admin", "admin via route_layer"),
        ("/la/admin", "admin via layer"),
        ("/extract/admin", "Alice Anders"),
    ] {
        let r = get(&alice, &format!("{url}{path}"), HTML).await;
        assert_eq!((r.status, r.body.as_str()), (200, body), "{path}");
    }
    server.abort();
}
