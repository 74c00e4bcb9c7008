//! tower-oidc with warp: a public page `/`, a page for signed-in users `/me` and one for
//! administrators `/admin`.
//!
//! ```sh
//! cargo run --example warp
//! ```
//!
//! With no configuration it signs you in through a fake Authentik started in-process; set
//! `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET` for a real one, and
//! `APP_URL` (default `http://127.0.0.1:3000`) for where the app listens.

#[path = "common/mod.rs"]
mod common;

use tower_oidc::warp::{self as oidc, AdminUser, CurrentUser};
use warp::Filter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logs();
    let setup = common::setup().await?;
    // The same engine as the tower layer, driven by warp filters.
    let engine = setup.layer.engine().clone();

    // Public: everyone, signed in or not.
    let home = warp::path::end()
        .and(warp::get())
        .and(oidc::current_user(engine.clone()))
        .map(|user: Option<CurrentUser>| warp::reply::html(common::home_page(user.as_deref())));
    // Signed-in users: everyone else is rejected (401 JSON or a redirect to log in).
    let me = warp::path!("me")
        .and(warp::get())
        .and(oidc::require_user(engine.clone()))
        .map(|user: CurrentUser| warp::reply::html(common::me_page(&user)));
    // Administrators: other signed-in users get 403.
    let admin = warp::path!("admin")
        .and(warp::get())
        .and(oidc::require_admin(engine.clone()))
        .map(|admin: AdminUser| warp::reply::html(common::admin_page(&admin)));

    let app = oidc::routes(engine)
        .or(home)
        .or(me)
        .or(admin)
        // Turns the rejections of require_user/require_admin into the engine's responses.
        .recover(oidc::handle_rejection);

    let listener = tokio::net::TcpListener::bind(&setup.addr).await?;
    common::banner("warp", &setup);
    warp::serve(app).incoming(listener).run().await;
    Ok(())
}
