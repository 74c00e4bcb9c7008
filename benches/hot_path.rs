//! The per-request cost of `OidcLayer`, each measured against the bare app in the same run:
//!
//! - `pass_through`: a request without a session cookie (budget: ≤ 150 ns added);
//! - `authenticated`: a request with a valid session cookie, sessions in memory (budget:
//!   ≤ 1.5 µs added), in SQLite (`sqlite::memory:`), and in Redis (feature `redis` and
//!   `REDIS_URL` set);
//! - `authorize`: the authorize redirect (discovery cached, from an in-process FakeAuthentik).
//!
//! `cargo bench --bench hot_path` (Redis: `REDIS_URL=redis://127.0.0.1/ cargo bench
//! --features redis --bench hot_path`). The summary at the end prints the time added over
//! the bare app and the ratio, next to the budgets.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::BatchSize;
use http::{Request, Response};
use http_body_util::Empty;
use tower::{Layer, Service};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{
    MemoryStore, NewUser, SessionId, SessionRecord, SessionStore, SettingsStore, UserStore,
};
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{Auth, OidcLayer, Providers, Secret};

#[path = "common/report.rs"]
mod report;

const BASE_URL: &str = "http://127.0.0.1:3000";
const COOKIE_KEY: [u8; 64] = {
    let mut k = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        k[i] = i as u8 + 1;
        i += 1;
    }
    k
};

type Body = Empty<Bytes>;

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

fn cookie_request(cookie: &str) -> Request<Body> {
    Request::builder()
        .uri("/dashboard?tab=2")
        .header("accept", "text/html")
        .header("cookie", cookie)
        .body(Empty::new())
        .unwrap()
}

async fn layer(sessions: Arc<dyn SessionStore>, settings: MemoryStore) -> OidcLayer {
    OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(settings.clone())
        .users(settings)
        .sessions_arc(sessions)
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
    let expires_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    store
        .store(
            &id,
            &SessionRecord {
                user,
                provider: "authentik".into(),
                expires_at,
                id_token_hint: None,
                sign_in: Default::default(),
            },
        )
        .await
        .unwrap();
    let key = cookie::Key::try_from(&COOKIE_KEY[..]).unwrap();
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&key).add(cookie::Cookie::new(
        "tower_oidc_session",
        id.expose().to_owned(),
    ));
    format!(
        "theme=dark; tower_oidc_session={}",
        jar.get("tower_oidc_session").unwrap().value()
    )
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
        g.bench_function("bare", |b| {
            b.iter_batched(
                plain_request,
                |r| call_now(&mut bare, r),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("layer", |b| {
            b.iter_batched(
                plain_request,
                |r| call_now(&mut wrapped, r),
                BatchSize::SmallInput,
            )
        });
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
        let mut g = c.benchmark_group("authenticated");
        let bare = App;
        g.bench_function("bare", |b| {
            b.to_async(&rt).iter_batched(
                || cookie_request("theme=dark; tower_oidc_session=x"),
                |r| {
                    let mut s = bare.clone();
                    async move { s.call(r).await }
                },
                BatchSize::SmallInput,
            )
        });
        for (name, store) in stores {
            let l = rt.block_on(layer(store.clone(), settings.clone()));
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
            g.bench_function(name, |b| {
                b.to_async(&rt).iter_batched(
                    || cookie_request(&cookie),
                    |r| {
                        let mut s = svc.clone();
                        async move { s.call(r).await }
                    },
                    BatchSize::SmallInput,
                )
            });
            rows.push(report::Row::ratio(
                &format!("authenticated, {name} sessions"),
                "authenticated/bare",
                &format!("authenticated/{name}"),
                (name == "memory").then_some(1500.0),
                report::Budget::Added,
            ));
        }
        g.finish();
    }

    // 3. The authorize redirect (discovery cached).
    {
        let fake = rt.block_on(
            FakeAuthentik::builder()
                .redirect_uri(format!("{BASE_URL}/api/auth/providers/authentik/callback"))
                .start(),
        );
        let settings = MemoryStore::new();
        rt.block_on(settings.put(
            "authentik",
            &ProviderSettings {
                enabled: true,
                url: Some(fake.issuer()),
                client_id: Some(fake.client_id().to_owned()),
                client_secret: Some(Secret::new(fake.client_secret())),
                ..ProviderSettings::default()
            },
        ))
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

    c.final_summary();
    report::print("hot_path", &rows);
}
