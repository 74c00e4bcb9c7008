//! Two app instances behind one public URL, sharing Postgres (and, in the second run, Redis for
//! sessions): a sign-in starts on A and its callback lands on B; the session then works on both;
//! sign-out on B ends it on A; a replayed callback on A after B consumed it is refused; a
//! back-channel logout delivered to B ends the session on A.
//!
//! Runs with `cargo test --all-features --test multi_instance` against
//! `TOWER_OIDC_TEST_POSTGRES_URL` and `TOWER_OIDC_TEST_REDIS_URL` (as `.ci/run` does). It never
//! skips: a missing server fails it.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::{Router, routing::get};
use common::{client, get_json, get_with_cookie, location, session_cookie, tx_cookie};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{
    PostgresStore, RedisSessionStore, SecretKey, SessionStore, SettingsStore, UserStore,
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
async fn instance(shared: &Shared, listener: tokio::net::TcpListener) -> Instance {
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
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings_arc(Arc::new(store.clone()) as Arc<dyn SettingsStore>)
        .users_arc(Arc::new(store) as Arc<dyn UserStore>)
        .sessions_arc(session_store)
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

async fn two_instances(sessions: Sessions) {
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
    let a = instance(&shared, la).await;
    let b = instance(&shared, lb).await;

    // The admin enables Authentik once, through instance A's store; B sees it.
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

    // Sign out on B; the old session cookie no longer works on A.
    let r = client.post(b_url("/api/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = get_with_cookie(&a_url("/api/auth/session"), &session_cookie).await;
    assert_eq!(r.status(), 401);

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
    let r = again
        .get(a_url("/api/auth/session"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "signed out on A after B got the logout token"
    );

    drop((a, b));
    let _ = sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&admin)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_postgres() {
    two_instances(Sessions::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_redis_sessions() {
    two_instances(Sessions::Redis).await;
}
