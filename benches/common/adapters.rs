//! The authenticated request through the actix-web and warp adapters, each against the bare
//! app of its framework with the same route (issue 21, item 0).

use std::sync::Arc;

use actix_web::dev::Service as _;
use criterion::{BatchSize, Criterion};
use tower::Service as _;
use tower_oidc::OidcEngine;

use super::report;

/// The bare app's cookie: a session cookie it never reads.
const NO_SESSION: &str = "theme=dark; tower_oidc_session=x";

/// actix-web: `App` with a route whose handler takes `tower_oidc::actix::CurrentUser`, wrapped
/// in `OidcMiddleware`, against the same `App` without either.
pub fn actix(
    c: &mut Criterion,
    engine: Arc<OidcEngine>,
    cookie: &str,
    rows: &mut Vec<report::Row>,
) {
    use actix_web::{App, test, web};
    async fn current_user(user: tower_oidc::actix::CurrentUser) -> &'static str {
        if user.id.0.is_empty() { "?" } else { "ok" }
    }
    let sys = actix_web::rt::System::new();
    let (bare, app) = sys.block_on(async {
        let bare =
            test::init_service(App::new().route("/dashboard", web::get().to(|| async { "ok" })))
                .await;
        let app = test::init_service(
            App::new()
                .wrap(tower_oidc::actix::OidcMiddleware::new(engine))
                .route("/dashboard", web::get().to(current_user)),
        )
        .await;
        (bare, app)
    });
    let request = |cookie: &str| {
        test::TestRequest::get()
            .uri("/dashboard?tab=2")
            .insert_header(("cookie", cookie.to_owned()))
            .to_request()
    };
    let status = sys.block_on(app.call(request(cookie))).map(|r| r.status());
    assert_eq!(
        status.ok(),
        Some(actix_web::http::StatusCode::OK),
        "signed in through actix"
    );
    let mut g = c.benchmark_group("actix");
    g.bench_function("bare", |b| {
        b.iter_batched(
            || request(NO_SESSION),
            |r| sys.block_on(bare.call(r)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("current_user", |b| {
        b.iter_batched(
            || request(cookie),
            |r| sys.block_on(app.call(r)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
    rows.push(report::Row::ratio(
        "actix-web, OidcMiddleware + CurrentUser (memory sessions)",
        "actix/bare",
        "actix/current_user",
        None,
        report::Budget::Added,
    ));
}

/// warp: a route with `tower_oidc::warp::require_user`, against the same route without it,
/// each served by `warp::service`.
pub fn warp(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    engine: Arc<OidcEngine>,
    cookie: &str,
    rows: &mut Vec<report::Row>,
) {
    use warp::Filter as _;
    let bare = warp::service(warp::path("dashboard").map(|| "ok"));
    let app = warp::service(
        warp::path("dashboard")
            .and(tower_oidc::warp::require_user(engine))
            .map(|u: tower_oidc::warp::CurrentUser| if u.id.0.is_empty() { "?" } else { "ok" })
            .recover(tower_oidc::warp::handle_rejection),
    );
    let request = |cookie: &str| {
        http::Request::builder()
            .uri("/dashboard?tab=2")
            .header("cookie", cookie)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap()
    };
    let status = rt
        .block_on(app.clone().call(request(cookie)))
        .map(|r| r.status());
    assert_eq!(
        status.ok(),
        Some(http::StatusCode::OK),
        "signed in through warp"
    );
    let mut g = c.benchmark_group("warp");
    g.bench_function("bare", |b| {
        b.to_async(rt).iter_batched(
            || request(NO_SESSION),
            |r| {
                let mut s = bare;
                async move { s.call(r).await }
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("current_user", |b| {
        b.to_async(rt).iter_batched(
            || request(cookie),
            |r| {
                let mut s = app.clone();
                async move { s.call(r).await }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
    rows.push(report::Row::ratio(
        "warp, require_user filter (memory sessions)",
        "warp/bare",
        "warp/current_user",
        None,
        report::Budget::Added,
    ));
}
