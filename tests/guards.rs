//! Guards beyond admin: `require_group` and the predicate guard `require`, in axum, actix-web and
//! warp, answer like `require_admin`: the user through when allowed, `401` JSON or a `303` to
//! the login page when signed out, `403` when signed in but not allowed.
//!
//! alice (group "authentik Admins") and bob (group "users") sign in once through the harness's
//! axum app; each framework's app below shares its engine (store and keys), so the browsers'
//! session cookies (cookies ignore ports) are valid there too.

mod common;

use std::sync::Arc;

use common::*;
use tower_oidc::OidcEngine;
use tower_oidc::store::User;

/// The group bob is in and alice is not.
const GROUP: &str = "users";

/// The predicate: only bob's address passes.
fn bob_only(user: &User) -> bool {
    user.email.as_deref() == Some("bob@example.com")
}

async fn axum_app(engine_layer: tower_oidc::OidcLayer) -> String {
    use axum::{Router, middleware, routing::get};
    use tower_oidc::axum::{require, require_group};
    let app = Router::new()
        .route(
            "/group",
            get(|| async { "in" }).route_layer(middleware::from_fn(require_group(GROUP))),
        )
        .route(
            "/pred",
            get(|| async { "in" }).route_layer(middleware::from_fn(require(bob_only))),
        )
        .layer(engine_layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn actix_app(engine: Arc<OidcEngine>) -> String {
    use actix_web::{App, HttpRequest, HttpServer, web};
    use tower_oidc::actix::{OidcMiddleware, require, require_group};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .wrap(OidcMiddleware::new(engine.clone()))
                    .route(
                        "/group",
                        web::get().to(|req: HttpRequest| async move {
                            require_group(&req, GROUP).map(|_| "in")
                        }),
                    )
                    .route(
                        "/pred",
                        web::get().to(|req: HttpRequest| async move {
                            require(&req, bob_only).map(|_| "in")
                        }),
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

async fn warp_app(engine: Arc<OidcEngine>) -> String {
    use tower_oidc::warp::{CurrentUser, handle_rejection, require, require_group};
    use warp::Filter as _;
    let group = warp::path!("group")
        .and(require_group(engine.clone(), GROUP))
        .map(|_: CurrentUser| "in");
    let pred = warp::path!("pred")
        .and(require(engine, bob_only))
        .map(|_: CurrentUser| "in");
    let routes = group.or(pred).recover(handle_rejection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(warp::serve(routes).incoming(listener).run());
    url
}

/// The whole table, for one framework's app at `url`.
async fn assert_guards(framework: &str, url: &str, alice: &reqwest::Client, bob: &reqwest::Client) {
    let anon = client();
    // Wait for a server started on another thread to answer.
    for _ in 0..100 {
        if anon.get(format!("{url}/group")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for path in ["/group", "/pred"] {
        let at = format!("{url}{path}");
        let allowed = get(bob, &at, HTML).await;
        assert_eq!(allowed.status, 200, "{framework} {path} bob: {allowed:?}");
        assert_eq!(allowed.body, "in");

        let api = get(alice, &at, JSON).await;
        assert_eq!(api.status, 403, "{framework} {path} alice API: {api:?}");
        assert_eq!(api.json()["error"], "forbidden", "{framework} {path}");
        let page = get(alice, &at, HTML).await;
        assert_eq!(
            page.status, 403,
            "{framework} {path} alice browser: {page:?}"
        );

        let api = get(&anon, &at, JSON).await;
        assert_eq!(
            api.status, 401,
            "{framework} {path} signed out API: {api:?}"
        );
        let page = get(&anon, &at, HTML).await;
        assert_eq!(
            page.status, 303,
            "{framework} {path} signed out browser: {page:?}"
        );
        let to = page.location.unwrap_or_default();
        assert_eq!(
            to,
            format!("/api/auth/login?return_to={}", encoded(path)),
            "{framework} {path}"
        );
    }
}

#[tokio::test]
async fn require_group_and_predicate_answer_like_require_admin_in_every_framework() {
    let (_fake, app) = fresh().await;
    let (alice, bob) = (client(), client());
    assert_eq!(sign_in_with(&app, &alice, "alice").await.0, 303);
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
    // Signed in as themselves (and the groups the guards test are the provider's).
    let (_, s) = session_in(&bob, &app.url).await;
    assert_eq!(s["email"], "bob@example.com", "{s}");

    let engine = app.layer.engine().clone();
    let axum_url = axum_app(app.layer.clone()).await;
    assert_guards("axum", &axum_url, &alice, &bob).await;
    let actix_url = actix_app(engine.clone());
    assert_guards("actix-web", &actix_url, &alice, &bob).await;
    let warp_url = warp_app(engine).await;
    assert_guards("warp", &warp_url, &alice, &bob).await;
}

/// A group is matched exactly: a case variant or a prefix of a group bob is in is not his.
#[tokio::test]
async fn require_group_matches_exactly() {
    let (_fake, app) = fresh().await;
    let bob = client();
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
    use axum::{Router, middleware, routing::get as route_get};
    use tower_oidc::axum::require_group;
    let mut router = Router::new();
    for (path, group) in [
        ("/upper", "Users"),
        ("/prefix", "user"),
        ("/exact", "users"),
    ] {
        router = router.route(
            path,
            route_get(|| async { "in" }).route_layer(middleware::from_fn(require_group(group))),
        );
    }
    let router = router.layer(app.layer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    assert_eq!(get(&bob, &format!("{url}/upper"), JSON).await.status, 403);
    assert_eq!(get(&bob, &format!("{url}/prefix"), JSON).await.status, 403);
    assert_eq!(get(&bob, &format!("{url}/exact"), JSON).await.status, 200);
}
