//! tower-oidc with Prometheus metrics: the axum example's pages, plus `GET /metrics` in the
//! Prometheus text format (every metric of `tower_oidc::observe`) and the layer's own
//! `GET /api/auth/health` and `GET /api/auth/ready` for a load balancer.
//!
//! ```sh
//! cargo run --example observability
//! # sign in at http://127.0.0.1:3000/me, then:
//! curl -s http://127.0.0.1:3000/metrics | grep tower_oidc_
//! ```
//!
//! Like the other examples it signs you in through a fake Authentik started in-process unless
//! `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET` name a real one; `APP_URL`
//! (default `http://127.0.0.1:3000`) is where it listens. In production, serve `/metrics` on an
//! address only the scraper reaches.

#[path = "common/mod.rs"]
mod common;

use std::error::Error;

use axum::response::Html;
use axum::{Router, routing::get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_oidc::axum::CurrentUser;

async fn home(user: Option<CurrentUser>) -> Html<String> {
    Html(common::home_page(user.as_deref()))
}

async fn me(user: CurrentUser) -> Html<String> {
    Html(common::me_page(&user))
}

/// The app: its pages behind the layer, `/metrics` beside it (a scraper has no session).
fn app(layer: tower_oidc::OidcLayer, prometheus: PrometheusHandle) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .layer(layer)
        .route("/metrics", get(move || async move { prometheus.render() }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    common::init_logs();
    // The recorder first: the layer's builder registers the metrics' help text with it, and
    // everything is recorded into whatever recorder is installed at the time. Durations get
    // histogram buckets from 5 ms to 10 s.
    let prometheus = PrometheusBuilder::new()
        .set_buckets(&[
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ])?
        .install_recorder()?;
    let setup = common::setup().await?;
    let listener = tokio::net::TcpListener::bind(&setup.addr).await?;
    common::banner("axum and Prometheus", &setup);
    println!("  Metrics: {}/metrics", setup.app_url);
    axum::serve(listener, app(setup.layer.clone(), prometheus)).await?;
    Ok(())
}
