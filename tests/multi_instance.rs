//! Two app instances behind one public URL, sharing Postgres (and, in the second run, Redis for
//! sessions): a sign-in starts on A and its callback lands on B; the session then works on both;
//! sign-out on B ends it on A; a replayed callback on A after B consumed it is refused.
//!
//! Runs with `cargo test --all-features --test multi_instance` against
//! `TOWER_OIDC_TEST_POSTGRES_URL` and `TOWER_OIDC_TEST_REDIS_URL` (as `.ci/run` does). It never
//! skips: a missing server fails it.
#![cfg(all(feature = "postgres", feature = "redis"))]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::{Router, routing::get};
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

/// One app instance: its own store connections (as another process would have), the shared
/// cookie key, and the public base URL of the load balancer.
async fn instance(
    public_url: &str,
    listener: tokio::net::TcpListener,
    pg: PgConnectOptions,
    secret_key: [u8; 32],
    cookie_key: &[u8],
    sessions: Sessions,
    redis_prefix: &str,
) -> Instance {
    let port = listener.local_addr().unwrap().port();
    let store = PostgresStore::connect_with(pg)
        .await
        .unwrap_or_else(|e| panic!("Postgres unreachable at {}: {e}", pg_url()))
        .with_secret_key(SecretKey::from_bytes(secret_key));
    let session_store: Arc<dyn SessionStore> = match sessions {
        Sessions::Postgres => Arc::new(store.clone()),
        Sessions::Redis => Arc::new(
            RedisSessionStore::connect(&redis_url())
                .await
                .unwrap_or_else(|e| panic!("Redis unreachable at {}: {e}", redis_url()))
                .with_prefix(redis_prefix),
        ),
    };
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings_arc(Arc::new(store.clone()) as Arc<dyn SettingsStore>)
        .users_arc(Arc::new(store) as Arc<dyn UserStore>)
        .sessions_arc(session_store)
        .base_url(public_url)
        .cookie_key(cookie_key)
        .build()
        .await
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

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

fn cookie_pair(r: &reqwest::Response, prefix: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(prefix))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
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
    let prefix = format!("tower-oidc-multi:{t}:");
    let a = instance(
        &public,
        la,
        pg.clone(),
        secret_key,
        &cookie_key,
        sessions,
        &prefix,
    )
    .await;
    let b = instance(
        &public,
        lb,
        pg.clone(),
        secret_key,
        &cookie_key,
        sessions,
        &prefix,
    )
    .await;

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

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
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
    let tx_cookie = cookie_pair(&r, "tower_oidc_tx=").expect("transaction cookie");
    let r = client.get(location(&r)).send().await.unwrap();
    let callback = location(&r);
    // The callback lands on B.
    let r = client.get(on_port(&callback, b.port)).send().await.unwrap();
    assert_eq!(r.status(), 303, "callback on B: {:?}", r.headers());
    let session_cookie = cookie_pair(&r, "tower_oidc_session=").expect("session cookie");

    // The session works on both.
    let on_a: serde_json::Value = client
        .get(a_url("/api/auth/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let on_b: serde_json::Value = client
        .get(b_url("/api/auth/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_a["name"], "Alice Anders");
    assert_eq!(on_a["id"], on_b["id"]);

    // A replayed callback on A after B consumed it: refused, no second token request.
    let fresh = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = fresh
        .get(on_port(&callback, a.port))
        .header("cookie", &tx_cookie)
        .send()
        .await
        .unwrap();
    assert!(
        location(&r).contains("error=invalid_state"),
        "{}",
        location(&r)
    );
    assert_eq!(fake.count(Endpoint::Token), 1);

    // Sign out on B; the old session cookie no longer works on A.
    let r = client.post(b_url("/api/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = fresh
        .get(a_url("/api/auth/session"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

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
