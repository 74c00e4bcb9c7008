//! tower-oidc with actix-web: a public page `/`, a page for signed-in users `/me` and one for
//! administrators `/admin`.
//!
//! ```sh
//! cargo run --example actix
//! ```
//!
//! With no configuration it signs you in through a fake Authentik started in-process; set
//! `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET` for a real one, and
//! `APP_URL` (default `http://127.0.0.1:3000`) for where the app listens.

#[path = "common/mod.rs"]
mod common;

use actix_web::{App, HttpResponse, HttpServer, web};
use tower_oidc::actix::{AdminUser, CurrentUser, OidcMiddleware};

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Public: everyone, signed in or not.
async fn home(user: Option<CurrentUser>) -> HttpResponse {
    html(common::home_page(user.as_deref()))
}

/// Signed-in users: the extractor answers everyone else (401 JSON or a redirect to log in).
async fn me(user: CurrentUser) -> HttpResponse {
    html(common::me_page(&user))
}

/// Administrators: `AdminUser` answers 403 to other signed-in users.
async fn admin(admin: AdminUser) -> HttpResponse {
    html(common::admin_page(&admin))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logs();
    let setup = common::setup().await?;
    // The same engine as the tower layer, driven by actix-web's middleware.
    let engine = setup.layer.engine().clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(OidcMiddleware::new(engine.clone()))
            .route("/", web::get().to(home))
            .route("/me", web::get().to(me))
            .route("/admin", web::get().to(admin))
    })
    .workers(2)
    .bind(&setup.addr)?;
    common::banner("actix-web", &setup);
    server.run().await?;
    Ok(())
}
