//! A custom route prefix holds in every adapter: a signed-out browser on a protected route is
//! sent to `{prefix}/login` — also for anonymous requests through the tower layer, which carry
//! no `Auth` (the layer points the extractor's redirect at its own login page on the way out) —
//! and that page is served.

use std::sync::Arc;

use axum::{Router, routing::get};
use http::{Request, StatusCode};
use tower::ServiceExt as _;
use tower_oidc::{OidcEngine, OidcLayer, Providers};

const PREFIX: &str = "/auth";

async fn layer() -> OidcLayer {
    OidcLayer::builder()
        .providers(Providers::builtin())
        .base_url("http://127.0.0.1:3000")
        .prefix(PREFIX)
        .build()
        .expect("layer")
}

fn browser_get(uri: &str) -> Request<axum::body::Body> {
    Request::get(uri)
        .header("accept", "text/html")
        .body(axum::body::Body::empty())
        .unwrap()
}

fn location(r: &http::Response<impl Sized>) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn axum_anonymous_redirect_uses_the_custom_prefix() {
    use tower_oidc::axum::{AdminUser, CurrentUser};
    let app = Router::new()
        .route(
            "/private",
            get(|u: CurrentUser| async move { u.id.to_string() }),
        )
        .route(
            "/admin",
            get(|a: AdminUser| async move { a.id.to_string() }),
        )
        .route(
            "/guarded",
            get(|| async { "in" })
                .route_layer(axum::middleware::from_fn(tower_oidc::axum::require_user)),
        )
        .layer(layer().await);
    for path in ["/private?x=1", "/admin", "/guarded"] {
        let r = app.clone().oneshot(browser_get(path)).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let to = location(&r);
        assert!(
            to.starts_with("/auth/login?return_to="),
            "{path}: sent to {to}"
        );
        // The page it points at exists (the login page is on with default features).
        let login = app.clone().oneshot(browser_get(&to)).await.unwrap();
        assert_eq!(login.status(), StatusCode::OK, "{to}");
    }
    let r = app
        .clone()
        .oneshot(browser_get("/private?x=1"))
        .await
        .unwrap();
    assert_eq!(location(&r), "/auth/login?return_to=%2Fprivate%3Fx%3D1");
}

#[actix_web::test]
async fn actix_anonymous_redirect_uses_the_custom_prefix() {
    use actix_web::{App, test, web};
    use tower_oidc::actix::{CurrentUser, OidcMiddleware};
    let engine: Arc<OidcEngine> = layer().await.engine().clone();
    let app = test::init_service(App::new().wrap(OidcMiddleware::new(engine)).route(
        "/private",
        web::get().to(|u: CurrentUser| async move { u.id.to_string() }),
    ))
    .await;
    let req = test::TestRequest::get()
        .uri("/private")
        .insert_header(("accept", "text/html"))
        .to_request();
    let r = test::call_service(&app, req).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(to, "/auth/login?return_to=%2Fprivate");
}

#[tokio::test]
async fn warp_anonymous_redirect_uses_the_custom_prefix() {
    use warp::Filter as _;
    let engine: Arc<OidcEngine> = layer().await.engine().clone();
    let private = warp::path!("private")
        .and(tower_oidc::warp::require_user(engine))
        .map(|u: tower_oidc::warp::CurrentUser| u.id.to_string())
        .recover(tower_oidc::warp::handle_rejection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(warp::serve(private).incoming(listener).run());
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://{addr}/private"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    server.abort();
    assert_eq!(r.status().as_u16(), 303);
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(to, "/auth/login?return_to=%2Fprivate");
}
