//! tower-oidc with axum: a public page `/`, a page for signed-in users `/me` and one for
//! administrators `/admin`.
//!
//! ```sh
//! cargo run --example axum
//! ```
//!
//! With no configuration it signs you in through a fake Authentik started in-process; set
//! `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET` for a real one, and
//! `APP_URL` (default `http://127.0.0.1:3000`) for where the app listens.

#[path = "common/mod.rs"]
mod common;

use axum::response::Html;
use axum::{Router, middleware, routing::get};
use tower_oidc::axum::{AdminUser, CurrentUser, require_admin};

/// Public: everyone, signed in or not.
async fn home(user: Option<CurrentUser>) -> Html<String> {
    Html(common::home_page(user.as_deref()))
}

/// Signed-in users: the extractor answers everyone else (401 JSON or a redirect to log in).
async fn me(user: CurrentUser) -> Html<String> {
    Html(common::me_page(&user))
}

/// Administrators: the route is guarded by `require_admin`; the `AdminUser` extractor would
/// do the same for one handler.
async fn admin(admin: AdminUser) -> Html<String> {
    Html(common::admin_page(&admin))
}

/// The app: the `OidcLayer` goes outermost (it serves `/api/auth/...` and puts `Auth` into
/// every other request); the admin router is guarded with `route_layer`.
fn app(layer: tower_oidc::OidcLayer) -> Router {
    let admin = Router::new()
        .route("/admin", get(admin))
        .route_layer(middleware::from_fn(require_admin));
    Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .merge(admin)
        .layer(layer)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logs();
    let setup = common::setup().await?;
    let listener = tokio::net::TcpListener::bind(&setup.addr).await?;
    common::banner("axum", &setup);
    axum::serve(listener, app(setup.layer.clone())).await?;
    Ok(())
}
