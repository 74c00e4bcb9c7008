//! The bearer-token path (issue 20) against the session path and the bare app, in one group,
//! `bearer`:
//!
//! - `bare`: the app alone (its request carries a cookie it never reads);
//! - `session`: a valid session cookie, sessions in memory (the `authenticated/memory` request
//!   of `hot_path`);
//! - `jwt_uncached`: `Authorization: Bearer` with a valid JWT access token (RS256, RSA-2048:
//!   the fake's default key) of an in-process FakeAuthentik, a new token for every request, so
//!   each one is verified in full (shape, claims, the `ring` signature check, the claim
//!   mapping), the discovery document and keys cached; then the user found by identity in the
//!   memory user store;
//! - `jwt`: the same token again: the verified token is cached (30 s, never past `exp`), so a
//!   request costs a SHA-256 of the token, a map lookup and the user lookup;
//! - `opaque_cached`: an opaque token whose introspection answer is in the same cache.
//!
//! `nice -n 15 cargo bench --bench bearer -- bearer`. The summary at the end prints the time
//! each adds over the bare app.

use std::convert::Infallible;
use std::task::{Context, Poll};

use criterion::BatchSize;
use http::{Request, Response};
use http_body_util::Empty;
use tower::{Layer, Service};
use tower_oidc::store::{MemoryStore, NewUser, SessionId, SessionRecord, SessionStore, UserStore};
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{Auth, OidcLayer, Providers};

#[path = "common/report.rs"]
mod report;

#[path = "common/fixture.rs"]
mod fixture;
use fixture::{BASE_URL, Body, COOKIE_KEY, fake_settings, now_secs, session_cookie};

/// The app: answers 200 at once; a signed-out request is a bug of the bench.
#[derive(Clone)]
struct App {
    must_be_signed_in: bool,
}

impl Service<Request<Body>> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let signed_in = Auth::from_extensions(req.extensions()).is_signed_in();
        assert!(signed_in || !self.must_be_signed_in, "not signed in");
        std::future::ready(Ok(Response::new(Empty::new())))
    }
}

fn request(header: (&str, &str)) -> Request<Body> {
    Request::builder()
        .uri("/api/orders?page=2")
        .header("accept", "application/json")
        .header(header.0, header.1)
        .body(Empty::new())
        .unwrap()
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn bench<S, B>(
    g: &mut Group<'_>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    svc: &S,
    header: (&str, &str),
) where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    // Once outside the measurement: accepted (and the caches warm).
    let r = rt.block_on(svc.clone().call(request(header))).unwrap();
    assert_eq!(r.status(), 200, "{name}");
    g.bench_function(name, |b| {
        b.to_async(rt).iter_batched(
            || request(header),
            |r| {
                let mut s = svc.clone();
                async move { s.call(r).await }
            },
            BatchSize::SmallInput,
        )
    });
}

/// A user with a session in `store`, and the `Cookie` header that carries it.
async fn session(store: &MemoryStore) -> String {
    let id = SessionId::random();
    let user = store
        .create_with_identity(
            NewUser {
                // Not the fake's alice: her token must find no account to link to.
                email: Some("session-user@example.com".into()),
                name: Some("Session User".into()),
                ..NewUser::default()
            },
            &tower_oidc::store::Identity {
                provider: "authentik".into(),
                issuer: "https://auth.example.com/application/o/app/".into(),
                subject: "bench-session".into(),
            },
        )
        .await
        .unwrap();
    let now = now_secs();
    let record = SessionRecord {
        created_at: now,
        ..SessionRecord::new(user, "authentik", now + 7 * 24 * 3600)
    };
    store.store(&id, &record).await.unwrap();
    session_cookie(&id)
}

fn main() {
    let mut c = report::criterion();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeAuthentik::start());
    let store = MemoryStore::new();
    rt.block_on(tower_oidc::store::SettingsStore::put(
        &store,
        "authentik",
        &fake_settings(&fake),
    ))
    .unwrap();
    let providers = Providers::builtin()
        .with_toml_str(
            "bench.toml",
            "[providers.authentik.bearer]\nintrospection = true\n",
        )
        .unwrap();
    let layer = OidcLayer::builder()
        .providers(providers)
        .store(store.clone())
        .base_url(BASE_URL)
        .cookie_key(&COOKIE_KEY)
        .build()
        .unwrap();
    let cookie = rt.block_on(session(&store));
    let jwt = format!("Bearer {}", fake.issue_access_token("alice", None).unwrap());
    let opaque = format!(
        "Bearer {}",
        fake.issue_opaque_access_token("alice").unwrap()
    );
    let svc = layer.layer(App {
        must_be_signed_in: true,
    });
    let mut g = c.benchmark_group("bearer");
    let bare = App {
        must_be_signed_in: false,
    };
    bench(
        &mut g,
        &rt,
        "bare",
        &bare,
        ("cookie", "theme=dark; _ga=GA1.2.3"),
    );
    bench(&mut g, &rt, "session", &svc, ("cookie", &cookie));
    g.bench_function("jwt_uncached", |b| {
        b.to_async(&rt).iter_batched(
            || {
                let t = fake.issue_access_token("alice", None).unwrap();
                request(("authorization", &format!("Bearer {t}")))
            },
            |r| {
                let mut s = svc.clone();
                async move {
                    let r = s.call(r).await.unwrap();
                    assert_eq!(r.status(), 200);
                }
            },
            BatchSize::SmallInput,
        )
    });
    bench(&mut g, &rt, "jwt", &svc, ("authorization", &jwt));
    bench(
        &mut g,
        &rt,
        "opaque_cached",
        &svc,
        ("authorization", &opaque),
    );
    g.finish();
    let rows = vec![
        report::Row::ratio(
            "session cookie, memory sessions",
            "bearer/bare",
            "bearer/session",
            Some(1500.0),
            report::Budget::Added,
        ),
        report::Row::ratio(
            "bearer JWT (RS256-2048), verified (a new token)",
            "bearer/bare",
            "bearer/jwt_uncached",
            None,
            report::Budget::Added,
        ),
        report::Row::ratio(
            "bearer JWT, verified token cached",
            "bearer/bare",
            "bearer/jwt",
            None,
            report::Budget::Added,
        ),
        report::Row::ratio(
            "bearer opaque token, introspection cached",
            "bearer/bare",
            "bearer/opaque_cached",
            None,
            report::Budget::Added,
        ),
    ];
    c.final_summary();
    report::print("bearer", &rows);
}
