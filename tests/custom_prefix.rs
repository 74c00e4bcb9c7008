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

/// Issue 19: an app mounted under a path (`/app`, as the browser sees it): the base URL stays
/// the origin and the prefix carries the path. The redirect URI, the transaction cookie's path,
/// `return_to` and the sign-out redirect all stay inside `/app`, and a sign-in works end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_mounted_under_a_path_signs_in_and_out() {
    use tower_oidc::MemoryStore;
    use tower_oidc::config::ProviderSettings;
    use tower_oidc::store::SettingsStore as _;

    let fake = tower_oidc::testing::FakeAuthentik::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let store = MemoryStore::new();
    store
        .put(
            "authentik",
            &ProviderSettings {
                enabled: true,
                url: Some(fake.url()),
                client_id: Some(fake.client_id().into()),
                client_secret: Some(tower_oidc::Secret::new(fake.client_secret())),
                ..ProviderSettings::default()
            },
        )
        .await
        .unwrap();
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .store(store)
        .base_url(&origin)
        .prefix("/app/api/auth")
        .after_logout("/app/")
        .ephemeral_keys()
        .build()
        .expect("layer");
    let inner = Router::new().route(
        "/dashboard",
        get(|u: tower_oidc::CurrentUser| async move { format!("hello {}", u.id) }),
    );
    let app = Router::new().nest("/app", inner).layer(layer);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let loc = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
    let r = browser
        .get(format!(
            "{origin}/app/api/auth/providers/authentik/authorize?login_hint=alice&return_to=/app/dashboard"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let to_idp = loc(&r);
    let redirect_uri = url::Url::parse(&to_idp)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        redirect_uri,
        format!("{origin}/app/api/auth/providers/authentik/callback")
    );
    let tx = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tower_oidc_tx="))
        .unwrap();
    assert!(tx.contains("Path=/app/api/auth/providers/"), "{tx}");
    let r = browser.get(&to_idp).send().await.unwrap();
    let callback = loc(&r);
    assert!(callback.starts_with(&redirect_uri), "{callback}");
    let r = browser.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(loc(&r), "/app/dashboard");
    let r = browser
        .get(format!("{origin}/app/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("hello "));
    let r = browser
        .post(format!("{origin}/app/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(loc(&r), "/app/");
    let r = browser
        .get(format!("{origin}/app/dashboard"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed out");
    assert!(loc(&r).starts_with("/app/api/auth/login"), "{}", loc(&r));

    // A path in the base URL is refused, with the setting to use instead.
    let e = OidcLayer::builder()
        .base_url("https://example.com/app")
        .build()
        .expect_err("a base URL with a path is refused")
        .to_string();
    assert!(
        e.contains(".prefix") || e.contains("prefix `/app/api/auth`"),
        "{e}"
    );
}
