//! Two app instances behind one public URL, sharing Postgres (and, in the second run, Redis for
//! sessions): a sign-in starts on A and its callback lands on B; the session then works on both;
//! sign-out on B ends it on A; a replayed callback on A after B consumed it is refused; a
//! back-channel logout delivered to B ends the session on A.
//!
//! Each instance caches sessions (`SessionCache`); A's staleness bound is 30 s, so a session
//! ended on B and refused on A within a second was dropped by the change channel (Postgres
//! `LISTEN/NOTIFY`, Redis pub/sub). With A's channel cut, the bound alone refuses it.
//!
//! Runs with `cargo test --all-features --test multi_instance` against
//! `TOWER_OIDC_TEST_POSTGRES_URL` and `TOWER_OIDC_TEST_REDIS_URL` (as `.ci/run` does). It never
//! skips: a missing server fails it.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::{Router, routing::get};
use common::{client, get_json, get_with_cookie, location, session_cookie, tx_cookie};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{
    PostgresStore, RedisSessionStore, SecretKey, SessionCache, SessionChange, SessionChanges,
    SessionFilter, SessionId, SessionRecord, SessionStore, SettingsStore, StoreError, UserStore,
};
use tower_oidc::testing::{Endpoint, FakeAuthentik};
use tower_oidc::{OidcLayer, Providers, Secret};

fn pg_url() -> String {
    std::env::var("TOWER_OIDC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("TOWER_OIDC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn tag() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Clone, Copy, Debug)]
enum Sessions {
    Postgres,
    Redis,
}

struct Instance {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the instances share: the public base URL of the load balancer, the database, the keys,
/// where sessions live.
struct Shared {
    public_url: String,
    pg: PgConnectOptions,
    secret_key: [u8; 32],
    cookie_key: Vec<u8>,
    sessions: Sessions,
    redis_prefix: String,
}

/// One app instance: its own store connections (as another process would have), the shared
/// cookie key, and the public base URL of the load balancer.
async fn instance(
    shared: &Shared,
    listener: tokio::net::TcpListener,
    cache: SessionCache,
    cut: Option<Arc<AtomicBool>>,
) -> Instance {
    let port = listener.local_addr().unwrap().port();
    let store = PostgresStore::connect_with(shared.pg.clone())
        .await
        .unwrap_or_else(|e| panic!("Postgres unreachable at {}: {e}", pg_url()))
        .with_secret_key(SecretKey::from_bytes(shared.secret_key));
    let session_store: Arc<dyn SessionStore> = match shared.sessions {
        Sessions::Postgres => Arc::new(store.clone()),
        Sessions::Redis => Arc::new(
            RedisSessionStore::connect(&redis_url())
                .await
                .unwrap_or_else(|e| panic!("Redis unreachable at {}: {e}", redis_url()))
                .with_prefix(&shared.redis_prefix),
        ),
    };
    let session_store = match cut {
        Some(cut) => Arc::new(Cuttable {
            inner: session_store,
            cut,
        }),
        None => session_store,
    };
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings_arc(Arc::new(store.clone()) as Arc<dyn SettingsStore>)
        .users_arc(Arc::new(store) as Arc<dyn UserStore>)
        .sessions_arc(session_store)
        .session_cache(cache)
        .base_url(&shared.public_url)
        .cookie_key(&shared.cookie_key)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .layer(layer);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Instance { port, task }
}

fn on_port(url: &str, port: u16) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_port(Some(port)).unwrap();
    u.to_string()
}

/// Polls `send` until it answers 401, and fails if a request sent more than `within` after
/// `since` was still let in. Returns how long after `since` the first refusal came.
async fn refused_within<F, Fut>(since: Instant, within: Duration, send: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::StatusCode>,
{
    loop {
        let sent = Instant::now();
        let status = send().await;
        if status == 401 {
            return since.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            sent.duration_since(since) <= within,
            "still signed in {:?} after the session ended (bound {within:?})",
            sent.duration_since(since)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A's cache: a bound too long to explain a refusal within a second.
fn long_bound() -> SessionCache {
    SessionCache::new().staleness(Duration::from_secs(30))
}

/// Two instances behind A's address on a fresh Postgres schema (and Redis prefix), Authentik
/// enabled once through the shared store.
struct Deployment {
    fake: FakeAuthentik,
    a: Instance,
    b: Instance,
    admin: sqlx::PgPool,
    schema: String,
}

impl Deployment {
    /// `a_cache` and `a_cut`: instance A's session cache, and a switch that cuts its change
    /// channel.
    async fn start(
        sessions: Sessions,
        a_cache: SessionCache,
        a_cut: Option<Arc<AtomicBool>>,
    ) -> Self {
        let t = tag();
        let schema = format!("tower_oidc_multi_{t}");
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&pg_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Postgres unreachable at {}: {e}; this suite never skips",
                    pg_url()
                )
            });
        sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&admin)
            .await
            .unwrap();
        let pg = PgConnectOptions::from_str(&pg_url())
            .unwrap()
            .options([("search_path", schema.as_str())]);

        let fake = FakeAuthentik::start().await;
        let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // The public URL is A's address: the "load balancer" the browser and the IdP know.
        let public = format!("http://{}", la.local_addr().unwrap());
        let mut secret_key = [0u8; 32];
        getrandom::fill(&mut secret_key).unwrap();
        let mut cookie_key = vec![0u8; 64];
        getrandom::fill(&mut cookie_key).unwrap();
        let shared = Shared {
            public_url: public,
            pg: pg.clone(),
            secret_key,
            cookie_key,
            sessions,
            redis_prefix: format!("tower-oidc-multi:{t}:"),
        };
        let a = instance(&shared, la, a_cache, a_cut).await;
        let b = instance(&shared, lb, SessionCache::new(), None).await;

        // The admin enables Authentik once, through the shared store; both instances see it.
        let seed = PostgresStore::connect_with(pg.clone())
            .await
            .unwrap()
            .with_secret_key(SecretKey::from_bytes(secret_key));
        seed.put(
            "authentik",
            &ProviderSettings {
                enabled: true,
                url: Some(fake.url()),
                client_id: Some(fake.client_id().into()),
                client_secret: Some(Secret::new(fake.client_secret())),
                ..ProviderSettings::default()
            },
        )
        .await
        .unwrap();
        Deployment {
            fake,
            a,
            b,
            admin,
            schema,
        }
    }

    async fn stop(self) {
        drop((self.a, self.b));
        let _ = sqlx::raw_sql(&format!("DROP SCHEMA \"{}\" CASCADE", self.schema))
            .execute(&self.admin)
            .await;
    }
}

async fn two_instances(sessions: Sessions) {
    let d = Deployment::start(sessions, long_bound(), None).await;
    let (fake, a, b) = (&d.fake, &d.a, &d.b);

    let client = client();
    let a_url = |p: &str| format!("http://127.0.0.1:{}{p}", a.port);
    let b_url = |p: &str| format!("http://127.0.0.1:{}{p}", b.port);

    // Start on A.
    let r = client
        .get(a_url(
            "/api/auth/providers/authentik/authorize?login_hint=alice",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let tx_cookie = tx_cookie(&r);
    let r = client.get(location(&r).unwrap()).send().await.unwrap();
    let callback = location(&r).unwrap();
    // The callback lands on B.
    let r = client.get(on_port(&callback, b.port)).send().await.unwrap();
    assert_eq!(r.status(), 303, "callback on B: {:?}", r.headers());
    let session_cookie = session_cookie(&r).expect("session cookie");

    // The session works on both.
    let on_a = get_json(&client, &a_url("/api/auth/session")).await;
    let on_b = get_json(&client, &b_url("/api/auth/session")).await;
    assert_eq!(on_a["name"], "Alice Anders");
    assert_eq!(on_a["id"], on_b["id"]);

    // A replayed callback on A after B consumed it: refused, no second token request.
    let r = get_with_cookie(&on_port(&callback, a.port), &tx_cookie).await;
    let replayed = location(&r).unwrap();
    assert!(replayed.contains("error=invalid_state"), "{replayed}");
    assert_eq!(fake.count(Endpoint::Token), 1);

    // Sign out on B; the old session cookie (cached on A) no longer works on A.
    let r = client.post(b_url("/api/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let took = refused_within(Instant::now(), Duration::from_secs(1), || async {
        get_with_cookie(&a_url("/api/auth/session"), &session_cookie)
            .await
            .status()
    })
    .await;
    eprintln!("{sessions:?}: sign-out on B refused on A after {took:?}");

    // Alice signs in again on A; Authentik ends her session and tells instance B (Back-Channel
    // Logout): her session on A ends at once.
    let again = common::client();
    let r = again
        .get(a_url(
            "/api/auth/providers/authentik/authorize?login_hint=alice",
        ))
        .send()
        .await
        .unwrap();
    let r = again.get(location(&r).unwrap()).send().await.unwrap();
    let r = again
        .get(on_port(&location(&r).unwrap(), a.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        get_json(&again, &a_url("/api/auth/session")).await["name"],
        "Alice Anders"
    );
    fake.set_logout_uri(
        b_url("/api/auth/providers/authentik/backchannel-logout"),
        tower_oidc::testing::LogoutMethod::Backchannel,
    );
    let report = fake.end_sessions("alice").await;
    assert!(
        report.deliveries.iter().any(|d| d.status == Some(200)),
        "{:?}",
        report.deliveries
    );
    let took = refused_within(Instant::now(), Duration::from_secs(1), || async {
        again
            .get(a_url("/api/auth/session"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .status()
    })
    .await;
    eprintln!("{sessions:?}: back-channel logout on B refused on A after {took:?}");

    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_postgres() {
    two_instances(Sessions::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_redis_sessions() {
    two_instances(Sessions::Redis).await;
}

/// A's channel cut: the subscription delivers nothing and its markers never come back, as when
/// the network drops the listening connection without closing it. A session ended on B is
/// still refused on A once it is older than A's staleness bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_change_channel_still_refuses_within_the_staleness_bound() {
    let bound = Duration::from_millis(500);
    let cut = Arc::new(AtomicBool::new(false));
    let d = Deployment::start(
        Sessions::Postgres,
        SessionCache::new().staleness(bound),
        Some(cut.clone()),
    )
    .await;
    let (a, b) = (&d.a, &d.b);
    let client = client();
    let a_url = |p: &str| format!("http://127.0.0.1:{}{p}", a.port);
    let r = client
        .get(a_url(
            "/api/auth/providers/authentik/authorize?login_hint=alice",
        ))
        .send()
        .await
        .unwrap();
    let r = client.get(location(&r).unwrap()).send().await.unwrap();
    let r = client.get(location(&r).unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r).expect("session cookie");
    assert_eq!(
        get_json(&client, &a_url("/api/auth/session")).await["name"],
        "Alice Anders"
    );

    cut.store(true, Ordering::SeqCst);
    let r = client
        .post(format!("http://127.0.0.1:{}/api/auth/logout", b.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let took = refused_within(Instant::now(), bound, || async {
        get_with_cookie(&a_url("/api/auth/session"), &cookie)
            .await
            .status()
    })
    .await;
    eprintln!("channel cut: sign-out on B refused on A after {took:?} (bound {bound:?})");

    d.stop().await;
}

/// A session store whose change channel the test can cut.
struct Cuttable {
    inner: Arc<dyn SessionStore>,
    cut: Arc<AtomicBool>,
}

struct CutChanges {
    inner: Arc<dyn SessionChanges>,
    cut: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl SessionChanges for CutChanges {
    async fn subscribe(
        &self,
    ) -> Result<futures_util::stream::BoxStream<'static, SessionChange>, StoreError> {
        use futures_util::StreamExt as _;
        let cut = self.cut.clone();
        let stream = self.inner.subscribe().await?;
        Ok(stream
            .filter(move |_| std::future::ready(!cut.load(Ordering::SeqCst)))
            .boxed())
    }
    async fn mark(&self, marker: &str) -> Result<(), StoreError> {
        match self.cut.load(Ordering::SeqCst) {
            true => Ok(()),
            false => self.inner.mark(marker).await,
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Cuttable {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.load(id).await
    }
    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        self.inner.store(id, record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.delete(id).await
    }
    async fn compare_and_swap(
        &self,
        id: &SessionId,
        next: &SessionRecord,
    ) -> Result<bool, StoreError> {
        self.inner.compare_and_swap(id, next).await
    }
    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.find_sessions(filter).await
    }
    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.end_sessions(filter).await
    }
    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.inner
            .consume_transaction(transaction_id, expires_at)
            .await
    }
    fn changes(&self) -> Option<Arc<dyn SessionChanges>> {
        Some(Arc::new(CutChanges {
            inner: self.inner.changes()?,
            cut: self.cut.clone(),
        }))
    }
}
