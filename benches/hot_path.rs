//! The per-request cost of `OidcLayer`, each measured against the bare app in the same run:
//!
//! - `pass_through`: a request without a session cookie (budget: ≤ 150 ns added);
//! - `authenticated`: a request with a valid session cookie, sessions in memory (budget:
//!   ≤ 1.5 µs added), in SQLite (`sqlite::memory:`), in Redis (feature `redis` and `REDIS_URL`
//!   set) and in Postgres (feature `postgres` and `POSTGRES_URL` set): each shared store on a
//!   session cache hit (budget ≤ 1.5 µs added, as memory) and without the cache (`…_uncached`:
//!   one store round trip, what a cache miss costs);
//! - `authorize`: the authorize redirect (discovery cached, from an in-process FakeAuthentik);
//! - `refresh`: a token refresh through `Auth::access_token` against the refresh grant alone
//!   (both against an in-process FakeAuthentik over loopback HTTP);
//! - `axum`: the authenticated (memory) request through an axum `Router` whose handler takes
//!   `CurrentUser`, against a bare `Router`;
//! - `actix` and `warp`: the same through actix-web's `OidcMiddleware` with its `CurrentUser`
//!   extractor, and through warp's `require_user` filter, each against the bare app of its
//!   framework;
//! - `recorded`: the pass-through and the authenticated (memory) requests again with a metrics
//!   recorder installed (`metrics-exporter-prometheus`), same budgets.
//!
//! `cargo bench --bench hot_path` (Redis: `REDIS_URL=redis://127.0.0.1/ cargo bench
//! --features redis --bench hot_path`). The summary at the end prints the time added over
//! the bare app and the ratio, next to the budgets.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::BatchSize;
use http::{Request, Response};
use http_body_util::Empty;
use tower::{Layer, Service};
use tower_oidc::store::{
    IdpSession, MemoryStore, NewUser, SealedTokens, SessionCache, SessionId, SessionRecord,
    SessionStore, SettingsStore, TokenState, UserStore,
};
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{Auth, OidcLayer, Providers};

#[path = "common/report.rs"]
mod report;

#[path = "common/fixture.rs"]
mod fixture;
use fixture::{BASE_URL, Body, COOKIE_KEY, fake_settings, now_secs, session_cookie};

#[path = "common/adapters.rs"]
mod adapters;

/// The app: answers 200 at once, and looks at who is signed in (as a handler would).
#[derive(Clone)]
struct App;

impl Service<Request<Body>> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: Request<Body>) -> Self::Future {
        std::hint::black_box(Auth::from_extensions(req.extensions()).is_signed_in());
        std::future::ready(Ok(Response::new(Empty::new())))
    }
}

/// Calls a service whose future is ready at once, without a runtime.
fn call_now<S: Service<Request<Body>>>(svc: &mut S, req: Request<Body>) -> S::Response {
    let mut cx = Context::from_waker(Waker::noop());
    let _ = svc.poll_ready(&mut cx);
    match pin!(svc.call(req)).poll(&mut cx) {
        Poll::Ready(Ok(r)) => r,
        _ => panic!("not ready"),
    }
}

fn plain_request() -> Request<Body> {
    Request::builder()
        .uri("/dashboard?tab=2")
        .header("accept", "text/html")
        .header("cookie", "theme=dark; _ga=GA1.2.3")
        .body(Empty::new())
        .unwrap()
}

/// A handler as users write one: it takes the signed-in user.
async fn current_user(user: tower_oidc::CurrentUser) -> &'static str {
    if user.id.0.is_empty() { "?" } else { "ok" }
}

/// The bare app's cookie header in the authenticated groups: a session cookie it never reads.
const NO_SESSION: &str = "theme=dark; tower_oidc_session=x";

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// `svc` answering requests without a session cookie, called synchronously.
fn bench_plain<S: Service<Request<Body>>>(g: &mut Group<'_>, name: &str, svc: &mut S) {
    g.bench_function(name, |b| {
        b.iter_batched(plain_request, |r| call_now(svc, r), BatchSize::SmallInput)
    });
}

/// `svc` answering requests that carry `cookie`, on `rt`.
fn bench_cookie<S>(
    g: &mut Group<'_>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    svc: &S,
    cookie: &str,
) where
    S: Service<Request<Body>> + Clone,
{
    g.bench_function(name, |b| {
        b.to_async(rt).iter_batched(
            || cookie_request(cookie),
            |r| {
                let mut s = svc.clone();
                async move { s.call(r).await }
            },
            BatchSize::SmallInput,
        )
    });
}

fn cookie_request(cookie: &str) -> Request<Body> {
    Request::builder()
        .uri("/dashboard?tab=2")
        .header("accept", "text/html")
        .header("cookie", cookie)
        .body(Empty::new())
        .unwrap()
}

async fn layer(sessions: Arc<dyn SessionStore>, settings: MemoryStore) -> OidcLayer {
    layer_with(sessions, settings, SessionCache::default()).await
}

async fn layer_with(
    sessions: Arc<dyn SessionStore>,
    settings: MemoryStore,
    cache: SessionCache,
) -> OidcLayer {
    OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(settings.clone())
        .users(settings)
        .sessions_arc(sessions)
        .session_cache(cache)
        .base_url(BASE_URL)
        .cookie_key(&COOKIE_KEY)
        .build()
        .unwrap()
}

/// A user in `users`, a session of theirs in `store`, and the `Cookie` header that carries it.
async fn session(store: &dyn SessionStore, users: &MemoryStore) -> String {
    let id = SessionId::random();
    let user = users
        .create_with_identity(
            NewUser {
                email: Some(format!("alice-{}@example.com", id.expose())),
                email_verified: true,
                name: Some("Alice Anders".into()),
                username: Some("alice".into()),
                groups: vec!["staff".into()],
                ..NewUser::default()
            },
            &tower_oidc::store::Identity {
                provider: "authentik".into(),
                issuer: "https://auth.example.com/application/o/app/".into(),
                subject: format!("bench-{}", SessionId::random().expose()),
            },
        )
        .await
        .unwrap();
    let now = now_secs();
    // A session as a sign-in leaves it: the provider's session, a live access token and a
    // refresh token sealed (the size of an Authentik RS256 access token, refresh token and
    // nonce), sliding expiry on (just renewed, so no renewal is due).
    let record = SessionRecord {
        created_at: now,
        idp: Some(IdpSession {
            issuer: "https://auth.example.com/application/o/app/".into(),
            subject: "f14ea2846c4f1c4b78fb983b5aa9362f3dbb0804de7d2fdaac0e5171079b01b9".into(),
            sid: Some("835f67347452576e2b52dcfda428db03e0a69e72dbe684c20e5d4eee4555226f".into()),
        }),
        tokens: Some(Box::new(TokenState {
            access_expires_at: Some(now + 3600),
            refresh_at: Some(now + 3540),
            refreshable: true,
            lease_until: 0,
            retry_after: 0,
            sealed: SealedTokens("A".repeat(1900)),
        })),
        ..SessionRecord::new(user, "authentik", now + 7 * 24 * 3600)
    };
    store.store(&id, &record).await.unwrap();
    session_cookie(&id)
}

/// A layer signed in to an in-process FakeAuthentik that grants refresh tokens: its engine,
/// the signed-in request's headers, the layer's manual clock, and the fake.
async fn signed_in_with_refresh() -> (
    Arc<tower_oidc::OidcEngine>,
    http::HeaderMap,
    tower_oidc::Clock,
    FakeAuthentik,
) {
    let fake = FakeAuthentik::builder()
        .scopes(["openid", "email", "profile", "offline_access"])
        .redirect_uri(format!("{BASE_URL}/api/auth/providers/authentik/callback"))
        .start()
        .await;
    let store = MemoryStore::new();
    store.put("authentik", &fake_settings(&fake)).await.unwrap();
    let clock = tower_oidc::Clock::manual();
    let forever = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .store(store)
        .base_url(BASE_URL)
        .cookie_key(&COOKIE_KEY)
        .clock(clock.clone())
        .session_timing(tower_oidc::session::SessionTiming {
            idle: forever,
            absolute: forever,
            ..Default::default()
        })
        .build()
        .unwrap();
    let mut svc = layer.layer(App);
    let get = |uri: &str, cookie: Option<&str>| {
        let mut b = Request::builder().uri(uri).header("accept", "text/html");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        b.body(Empty::new()).unwrap()
    };
    let pair = |r: &Response<_>| -> String {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let r = svc
        .call(get(
            "/api/auth/providers/authentik/authorize?login_hint=alice",
            None,
        ))
        .await
        .unwrap();
    let tx = pair(&r);
    let to_fake = r.headers()["location"].to_str().unwrap().to_owned();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(&to_fake).send().await.unwrap();
    let callback = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let path = format!("{}?{}", callback.path(), callback.query().unwrap_or(""));
    let r = svc.call(get(&path, Some(&tx))).await.unwrap();
    assert_eq!(r.status(), 303, "signed in");
    let session = pair(&r);
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", session.parse().unwrap());
    (layer.engine().clone(), headers, clock, fake)
}

/// A refresh token from a code flow a bare HTTP client runs against `fake`.
async fn bare_refresh_token(fake: &FakeAuthentik, http: &reqwest::Client) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect_uri = format!("{BASE_URL}/api/auth/providers/authentik/callback");
    let r = browser
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", redirect_uri.as_str()),
            ("response_type", "code"),
            ("scope", "openid email profile offline_access"),
            ("state", "bench"),
            ("login_hint", "alice"),
        ])
        .send()
        .await
        .unwrap();
    let callback = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    token_grant(
        fake,
        http,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
        ],
    )
    .await
}

/// One refresh grant by a bare HTTP client; the rotated refresh token.
async fn bare_refresh(fake: &FakeAuthentik, http: &reqwest::Client, token: &str) -> String {
    token_grant(
        fake,
        http,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// A grant at the fake's token endpoint (client credentials in the form); the refresh token of
/// the answer.
async fn token_grant(
    fake: &FakeAuthentik,
    http: &reqwest::Client,
    form: &[(&str, &str)],
) -> String {
    let mut form = form.to_vec();
    form.push(("client_id", fake.client_id()));
    form.push(("client_secret", fake.client_secret()));
    let tokens: serde_json::Value = http
        .post(fake.token_url())
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

fn main() {
    let mut c = report::criterion();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut rows = Vec::new();

    // 1. Pass-through: no session cookie.
    {
        let memory = MemoryStore::new();
        let l = rt.block_on(layer(Arc::new(memory.clone()), memory));
        let mut bare = App;
        let mut wrapped = l.layer(App);
        let mut g = c.benchmark_group("pass_through");
        bench_plain(&mut g, "bare", &mut bare);
        bench_plain(&mut g, "layer", &mut wrapped);
        g.finish();
        rows.push(report::Row::ratio(
            "pass-through (no session cookie)",
            "pass_through/bare",
            "pass_through/layer",
            Some(150.0),
            report::Budget::Added,
        ));
    }

    // 2. Authenticated: a valid session cookie, sessions in each store.
    {
        let settings = MemoryStore::new();
        let mut stores: Vec<(&str, Arc<dyn SessionStore>)> =
            vec![("memory", Arc::new(MemoryStore::new()))];
        #[cfg(feature = "sqlite")]
        stores.push((
            "sqlite",
            Arc::new(
                rt.block_on(tower_oidc::store::SqliteStore::open_url("sqlite::memory:"))
                    .unwrap(),
            ),
        ));
        #[cfg(feature = "redis")]
        if let Ok(url) = std::env::var("REDIS_URL") {
            match rt.block_on(tower_oidc::store::RedisSessionStore::connect(&url)) {
                Ok(s) => stores.push(("redis", Arc::new(s.with_prefix("bench:")))),
                Err(e) => eprintln!("redis at {url}: {e}; skipped"),
            }
        }
        #[cfg(feature = "postgres")]
        if let Ok(url) = std::env::var("POSTGRES_URL") {
            match rt.block_on(tower_oidc::store::PostgresStore::connect(&url)) {
                Ok(s) => stores.push(("postgres", Arc::new(s))),
                Err(e) => eprintln!("postgres at {url}: {e}; skipped"),
            }
        }
        let mut g = c.benchmark_group("authenticated");
        let bare = App;
        bench_cookie(&mut g, &rt, "bare", &bare, NO_SESSION);
        let variants = stores.into_iter().flat_map(|(name, store)| {
            let cached = (name.to_owned(), store.clone(), SessionCache::default());
            let uncached = (format!("{name}_uncached"), store, SessionCache::disabled());
            // Memory gets no cache either way: one row.
            std::iter::once(cached).chain((name != "memory").then_some(uncached))
        });
        for (name, store, cache) in variants {
            let name = name.as_str();
            let l = rt.block_on(layer_with(store.clone(), settings.clone(), cache));
            let cookie = rt.block_on(session(store.as_ref(), &settings));
            let svc = l.layer(App);
            // The session is found (a signed-in request, not an anonymous one).
            let check = rt.block_on(async {
                let mut s = l.layer(tower::service_fn(|req: Request<Body>| async move {
                    Ok::<_, Infallible>(Response::new(
                        if Auth::from_extensions(req.extensions()).is_signed_in() {
                            Empty::new()
                        } else {
                            panic!("the bench session is not signed in")
                        },
                    ))
                }));
                s.call(cookie_request(&cookie)).await
            });
            assert!(check.is_ok());
            bench_cookie(&mut g, &rt, name, &svc, &cookie);
            rows.push(report::Row::ratio(
                &format!("authenticated, {name} sessions"),
                "authenticated/bare",
                &format!("authenticated/{name}"),
                (!name.ends_with("_uncached")).then_some(1500.0),
                report::Budget::Added,
            ));
        }
        g.finish();
    }

    // 2b. Where users are (issue 21): the authenticated request through an axum `Router` whose
    //     handler takes `CurrentUser`, against a bare `Router` with the same route.
    {
        let memory = MemoryStore::new();
        let l = rt.block_on(layer(Arc::new(memory.clone()), memory.clone()));
        let engine = l.engine().clone();
        let cookie = rt.block_on(session(&memory, &memory));
        let bare = axum::Router::new().route("/dashboard", axum::routing::get(|| async { "ok" }));
        let app = axum::Router::new()
            .route("/dashboard", axum::routing::get(current_user))
            .layer(l);
        let status = rt
            .block_on(app.clone().call(cookie_request(&cookie)))
            .unwrap()
            .status();
        assert_eq!(
            status, 200,
            "the bench session reaches the handler signed in"
        );
        let mut g = c.benchmark_group("axum");
        bench_cookie(&mut g, &rt, "bare", &bare, NO_SESSION);
        bench_cookie(&mut g, &rt, "current_user", &app, &cookie);
        g.finish();
        rows.push(report::Row::ratio(
            "axum Router, handler takes CurrentUser (memory sessions)",
            "axum/bare",
            "axum/current_user",
            None,
            report::Budget::Added,
        ));
        // 2c. The same through the actix-web and warp adapters (issue 21, item 0).
        adapters::actix(&mut c, engine.clone(), &cookie, &mut rows);
        adapters::warp(&mut c, &rt, engine, &cookie, &mut rows);
    }

    // 3. The authorize redirect (discovery cached).
    {
        let fake = rt.block_on(
            FakeAuthentik::builder()
                .redirect_uri(format!("{BASE_URL}/api/auth/providers/authentik/callback"))
                .start(),
        );
        let settings = MemoryStore::new();
        rt.block_on(settings.put("authentik", &fake_settings(&fake)))
            .unwrap();
        let l = rt.block_on(layer(Arc::new(settings.clone()), settings));
        let svc = l.layer(App);
        let authorize = || {
            Request::builder()
                .uri("/api/auth/providers/authentik/authorize?return_to=/dashboard")
                .header("accept", "text/html")
                .body(Empty::new())
                .unwrap()
        };
        let first = rt.block_on(svc.clone().call(authorize())).unwrap();
        assert_eq!(first.status(), 302, "authorize redirect");
        let bare = App;
        let mut g = c.benchmark_group("authorize");
        g.bench_function("bare", |b| {
            b.to_async(&rt).iter_batched(
                authorize,
                |r| {
                    let mut s = bare.clone();
                    async move { s.call(r).await }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("redirect", |b| {
            b.to_async(&rt).iter_batched(
                authorize,
                |r| {
                    let mut s = svc.clone();
                    async move { s.call(r).await }
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
        rows.push(report::Row::ratio(
            "authorize redirect",
            "authorize/bare",
            "authorize/redirect",
            None,
            report::Budget::Added,
        ));
        drop(fake);
    }

    // 4. A token refresh: `Auth::access_token` when the token has expired — the refresh grant's
    //    round trip to the in-process fake, the new ID token's verification, the userinfo
    //    call, the user update and two compare-and-set writes — next to the refresh grant
    //    alone, sent by a bare HTTP client (the fake's own RS256 signing is in both).
    {
        let (engine, headers, clock, fake) = rt.block_on(signed_in_with_refresh());
        let http = reqwest::Client::new();
        let mut refresh_token = rt.block_on(bare_refresh_token(&fake, &http));
        let mut g = c.benchmark_group("refresh");
        g.sample_size(30);
        g.bench_function("grant_only", |b| {
            b.iter(|| {
                refresh_token = rt.block_on(bare_refresh(&fake, &http, &refresh_token));
            })
        });
        g.bench_function("access_token", |b| {
            b.iter(|| {
                clock.advance(std::time::Duration::from_secs(3600));
                rt.block_on(async {
                    let auth = engine.authenticate(&headers).await.unwrap();
                    auth.access_token().await.unwrap()
                })
            })
        });
        g.finish();
        rows.push(report::Row::ratio(
            "token refresh (Auth::access_token) vs the grant alone",
            "refresh/grant_only",
            "refresh/access_token",
            None,
            report::Budget::Added,
        ));
        drop(fake);
    }

    // 5. The first two again with a metrics recorder installed (Prometheus, as an app would):
    //    last, since a global recorder cannot be taken out again.
    with_recorder(&mut c, &rt, &mut rows);

    c.final_summary();
    report::print("hot_path", &rows);
}

/// The pass-through and the authenticated (memory) requests with the Prometheus recorder
/// installed, each against the bare app in the same group.
fn with_recorder(
    c: &mut criterion::Criterion,
    rt: &tokio::runtime::Runtime,
    rows: &mut Vec<report::Row>,
) {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the bench installs the only recorder");
    let memory = MemoryStore::new();
    let l = rt.block_on(layer(Arc::new(memory.clone()), memory.clone()));
    let cookie = rt.block_on(session(&memory, &memory));
    let mut g = c.benchmark_group("recorded");
    bench_plain(&mut g, "bare", &mut App);
    bench_plain(&mut g, "pass_through", &mut l.layer(App));
    bench_cookie(&mut g, rt, "bare_async", &App, NO_SESSION);
    bench_cookie(&mut g, rt, "authenticated_memory", &l.layer(App), &cookie);
    g.finish();
    rows.push(report::Row::ratio(
        "pass-through, metrics recorder installed",
        "recorded/bare",
        "recorded/pass_through",
        Some(150.0),
        report::Budget::Added,
    ));
    rows.push(report::Row::ratio(
        "authenticated, memory sessions, metrics recorder installed",
        "recorded/bare_async",
        "recorded/authenticated_memory",
        Some(1500.0),
        report::Budget::Added,
    ));
}
