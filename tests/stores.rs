//! The store conformance suite (`store_conformance`) run against every backend, and the tests
//! that only make sense for the persistent ones: faults (an unreachable or vanishing server),
//! client secrets at rest, migrations.
//!
//! Memory and SQLite always run. Postgres and Redis run with the features `postgres` / `redis`
//! (`cargo test --all-features`) against `TOWER_OIDC_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and `TOWER_OIDC_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`). Each test isolates itself (a fresh schema, a fresh key prefix)
//! and fails loudly if the server is unreachable: these tests never skip.

mod fault_proxy;
mod store_conformance;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use store_conformance as conf;

/// What a fixture does when its test is over (drop the schema, delete the keys).
type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

fn no_cleanup() -> Cleanup {
    Box::pin(async {})
}

/// One `#[tokio::test]` per case, for a fixture `async fn() -> (Arc<Store>, Cleanup)`.
macro_rules! cases {
    ($fixture:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, cleanup) = $fixture().await;
                crate::conf::$case(store).await;
                cleanup.await;
            }
        )*
    };
}

macro_rules! user_cases {
    ($fixture:path) => {
        cases!($fixture;
            create_and_find,
            find_by_email_is_canonical,
            email_is_unique,
            create_for_linked_identity_conflicts_atomically,
            link_identity,
            link_conflict,
            update_profile,
            identities_list,
            concurrent_first_sign_ins_one_user,
            concurrent_same_email_one_user,
        );
    };
}

macro_rules! settings_cases {
    ($fixture:path) => {
        cases!($fixture; settings_round_trip);
    };
}

macro_rules! session_cases {
    ($fixture:path) => {
        cases!($fixture;
            session_round_trip,
            session_expiry,
            consumed_transactions_single_use,
            consumed_transactions_expire,
            sessions_found_and_ended_by_user,
            sessions_found_and_ended_by_idp_sid,
            sessions_found_and_ended_by_idp_subject,
            session_lookup_follows_writes,
            many_sessions_of_one_user_end_together,
        );
    };
}

mod memory {
    use super::*;
    use tower_oidc::store::MemoryStore;

    async fn fixture() -> (Arc<MemoryStore>, Cleanup) {
        (Arc::new(MemoryStore::new()), no_cleanup())
    }

    user_cases!(fixture);
    settings_cases!(fixture);
    session_cases!(fixture);

    /// The whole suite through trait objects: the traits stay object-safe.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn whole_suite_through_dyn() {
        let s = MemoryStore::new();
        conf::users(Arc::new(s.clone()) as Arc<dyn tower_oidc::store::UserStore>).await;
        conf::settings(Arc::new(s.clone()) as Arc<dyn tower_oidc::store::SettingsStore>).await;
        conf::sessions(Arc::new(s) as Arc<dyn tower_oidc::store::SessionStore>).await;
    }
}

mod sqlite {
    use super::*;
    use tower_oidc::config::ProviderSettings;
    use tower_oidc::store::{SecretKey, SettingsStore, SqliteStore, StoreErrorKind, UserStore};

    /// A store on a fresh file in a temporary directory (removed by the cleanup).
    async fn fixture() -> (Arc<SqliteStore>, Cleanup) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("app.db"))
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        (
            Arc::new(store),
            Box::pin(async move {
                drop(dir);
            }),
        )
    }

    user_cases!(fixture);
    settings_cases!(fixture);
    session_cases!(fixture);

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn whole_suite_through_dyn_in_memory_database() {
        let s = SqliteStore::open_url("sqlite::memory:")
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        conf::users(Arc::new(s.clone()) as Arc<dyn UserStore>).await;
        conf::settings(Arc::new(s.clone()) as Arc<dyn SettingsStore>).await;
        conf::sessions(Arc::new(s) as Arc<dyn tower_oidc::store::SessionStore>).await;
    }

    /// An in-memory database lives in exactly one connection that is never closed for being
    /// idle (a second connection, or a reaped one, would be an empty database).
    #[tokio::test]
    async fn in_memory_database_keeps_one_connection() {
        let s = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let o = s.pool().options();
        assert_eq!(o.get_max_connections(), 1);
        assert_eq!(o.get_idle_timeout(), None);
        assert_eq!(o.get_max_lifetime(), None);
        let file = tempfile::tempdir().unwrap();
        let f = SqliteStore::open(file.path().join("a.db")).await.unwrap();
        assert!(f.pool().options().get_max_connections() > 1);
    }

    /// Reopening a database keeps its data and does not re-run migrations; two stores opened at
    /// once on a new file both migrate it without error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn reopen_keeps_data_and_concurrent_open_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let (a, b) = tokio::join!(SqliteStore::open(&path), SqliteStore::open(&path));
        let (a, _b) = (a.unwrap(), b.unwrap());
        let id = conf::identity(&conf::tag(), 1);
        let u = a
            .create_with_identity(conf::new_user(None), &id)
            .await
            .unwrap();
        a.pool().close().await;
        let again = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            again.find_by_identity(&id).await.unwrap().map(|x| x.id),
            Some(u.id)
        );
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_oidc_migrations")
            .fetch_one(again.pool())
            .await
            .unwrap();
        assert_eq!(applied, migrations("sqlite"), "each migration applied once");
    }

    /// The client secret never reaches the file in clear (database, WAL and shared-memory
    /// files all scanned); the column holds `v1:` ciphertext.
    #[tokio::test]
    async fn client_secret_is_not_readable_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let plain = format!("PLAINTEXT-client-secret-{}", conf::tag());
        let key = SecretKey::generate();
        let store = SqliteStore::open(&path)
            .await
            .unwrap()
            .with_secret_key(key.clone());
        store
            .put("authentik", &conf::full_settings(&plain))
            .await
            .unwrap();
        let stored: String =
            sqlx::query_scalar("SELECT client_secret FROM tower_oidc_provider_settings")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(stored.starts_with("v1:"), "{stored}");
        assert!(!stored.contains(&plain));
        let got = SettingsStore::get(&store, "authentik")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.client_secret.unwrap().expose(), plain);
        // Scan every file before and after a checkpoint.
        let scan = |when: &str| {
            let mut scanned = 0;
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                // SQLite removes its -shm/-journal files as connections close: one listed a
                // moment ago may be gone, with nothing left to leak.
                let bytes = match std::fs::read(entry.unwrap().path()) {
                    Ok(bytes) => bytes,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => panic!("{e}"),
                };
                scanned += bytes.len();
                assert!(
                    !bytes.windows(plain.len()).any(|w| w == plain.as_bytes()),
                    "plaintext secret found on disk ({when})"
                );
            }
            assert!(scanned > 0);
        };
        scan("WAL open");
        store.pool().close().await;
        scan("after close");
    }

    /// Without a key a client secret is refused (nothing written); a wrong key reads as
    /// `Corrupt`; a missing key on read is a clear error; settings without a secret need no key.
    #[tokio::test]
    async fn secret_key_is_required_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let keyless = SqliteStore::open(&path).await.unwrap();
        let e = keyless
            .put("authentik", &conf::full_settings("x"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("with_secret_key"), "{e}");
        assert_eq!(
            SettingsStore::get(&keyless, "authentik").await.unwrap(),
            None
        );
        keyless
            .put("public", &ProviderSettings::default())
            .await
            .unwrap();

        let right = keyless.clone().with_secret_key(SecretKey::generate());
        right
            .put("authentik", &conf::full_settings("hunter2"))
            .await
            .unwrap();
        let wrong = keyless.clone().with_secret_key(SecretKey::generate());
        let e = SettingsStore::get(&wrong, "authentik").await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
        assert!(e.to_string().contains("wrong secret key"), "{e}");
        assert_eq!(
            wrong.list().await.unwrap_err().kind(),
            StoreErrorKind::Corrupt
        );
        let e = SettingsStore::get(&keyless, "authentik").await.unwrap_err();
        assert!(e.to_string().contains("no key"), "{e}");
        assert_eq!(
            SettingsStore::get(&keyless, "public").await.unwrap(),
            Some(ProviderSettings::default())
        );
    }

    /// A database that cannot be opened is `Unavailable`, not a panic.
    #[tokio::test]
    async fn unopenable_file_is_unavailable() {
        let e = SqliteStore::open("/nonexistent-dir/for/sure/app.db")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
    }

    /// Expired rows are cleaned up: an expired session when it is loaded, and every expired
    /// session and consumed transaction by the sweep that runs every 64 session writes.
    #[tokio::test]
    async fn expired_rows_are_cleaned_up() {
        use tower_oidc::store::{SessionId, SessionStore};
        let (s, cleanup) = fixture().await;
        let count = |table: &'static str| {
            let pool = s.pool().clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let expired = SessionId::random();
        s.store(&expired, &conf::record(4_000_000_000))
            .await
            .unwrap();
        sqlx::query("UPDATE tower_oidc_sessions SET expires_at = 1")
            .execute(s.pool())
            .await
            .unwrap();
        assert_eq!(s.load(&expired).await.unwrap(), None);
        assert_eq!(count("tower_oidc_sessions").await, 0, "deleted on load");
        sqlx::query(
            "INSERT INTO tower_oidc_sessions (id_hash, record_json, expires_at) \
             VALUES ('old', '{}', 1)",
        )
        .execute(s.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO tower_oidc_consumed_transactions (id_hash, expires_at) VALUES ('old', 1)",
        )
        .execute(s.pool())
        .await
        .unwrap();
        for _ in 0..64 {
            s.store(&SessionId::random(), &conf::record(4_000_000_000))
                .await
                .unwrap();
        }
        assert_eq!(
            count("tower_oidc_sessions").await,
            64,
            "the expired one swept"
        );
        assert_eq!(count("tower_oidc_consumed_transactions").await, 0);
        cleanup.await;
    }

    /// Session ids are stored hashed: the table never holds a usable id.
    #[tokio::test]
    async fn session_ids_are_stored_hashed() {
        use tower_oidc::store::{SessionId, SessionStore};
        let (s, cleanup) = fixture().await;
        let id = SessionId::random();
        s.store(&id, &conf::record(4_000_000_000)).await.unwrap();
        let keys: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM tower_oidc_sessions")
            .fetch_all(s.pool())
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert!(!keys[0].contains(id.expose()));
        cleanup.await;
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::str::FromStr;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::fault_proxy::{FaultProxy, closed_port, once_resumed};
    use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
    use tower_oidc::store::{
        PostgresStore, SecretKey, SessionId, SessionStore, SettingsStore, StoreErrorKind, UserStore,
    };

    fn url() -> String {
        std::env::var("TOWER_OIDC_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    async fn admin() -> PgPool {
        let url = url();
        PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Postgres is unreachable at {url} ({e}). Start it, or point \
                     TOWER_OIDC_TEST_POSTGRES_URL at one: these tests never skip."
                )
            })
    }

    /// A fresh schema, and connect options whose `search_path` is that schema.
    async fn fresh_schema(admin: &PgPool) -> (String, PgConnectOptions) {
        let schema = format!("tower_oidc_test_{}", conf::tag());
        sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(admin)
            .await
            .unwrap();
        let options = PgConnectOptions::from_str(&url())
            .unwrap()
            .options([("search_path", schema.as_str())])
            .application_name(&schema);
        (schema, options)
    }

    fn drop_schema(admin: PgPool, schema: String) -> Cleanup {
        Box::pin(async move {
            let _ = sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&admin)
                .await;
            admin.close().await;
        })
    }

    async fn fixture() -> (Arc<PostgresStore>, Cleanup) {
        let admin = admin().await;
        let (schema, options) = fresh_schema(&admin).await;
        let store = PostgresStore::connect_with(options)
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        (Arc::new(store), drop_schema(admin, schema))
    }

    user_cases!(fixture);
    settings_cases!(fixture);
    session_cases!(fixture);

    /// Four instances starting at once on an empty schema: the advisory lock makes them
    /// migrate one at a time, exactly once; `from_pool` works on the app's own pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_startup_migrates_once() {
        let admin = admin().await;
        let (schema, options) = fresh_schema(&admin).await;
        let mut starts = Vec::new();
        for _ in 0..4 {
            let options = options.clone();
            starts.push(tokio::spawn(async move {
                let pool = PgPoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await
                    .unwrap();
                PostgresStore::from_pool(pool).await
            }));
        }
        for s in starts {
            s.await.unwrap().unwrap();
        }
        let applied: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{schema}\".tower_oidc_migrations"
        ))
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(
            applied,
            migrations("postgres"),
            "each migration applied once"
        );
        drop_schema(admin, schema).await;
    }

    /// The client secret column holds `v1:` ciphertext; the plaintext appears nowhere in the
    /// row.
    #[tokio::test]
    async fn client_secret_is_not_readable_in_the_table() {
        let (store, cleanup) = fixture().await;
        let plain = format!("PLAINTEXT-client-secret-{}", conf::tag());
        store
            .put("authentik", &conf::full_settings(&plain))
            .await
            .unwrap();
        let (column, row): (String, String) = sqlx::query_as(
            "SELECT client_secret, t::text FROM tower_oidc_provider_settings t \
             WHERE provider = 'authentik'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(column.starts_with("v1:"), "{column}");
        assert!(!row.contains(&plain), "{row}");
        let got = SettingsStore::get(&*store, "authentik")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.client_secret.unwrap().expose(), plain);
        let wrong = (*store).clone().with_secret_key(SecretKey::generate());
        assert_eq!(
            SettingsStore::get(&wrong, "authentik")
                .await
                .unwrap_err()
                .kind(),
            StoreErrorKind::Corrupt
        );
        cleanup.await;
    }

    /// Nothing listens on the port: connecting fails fast with `Unavailable`, no panic.
    #[tokio::test]
    async fn closed_port_is_unavailable() {
        let started = Instant::now();
        let e = PostgresStore::connect(&format!(
            "postgres://postgres@127.0.0.1:{}/test",
            closed_port()
        ))
        .await
        .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        let took = started.elapsed();
        eprintln!("postgres closed port: Unavailable after {took:?}");
        assert!(took < Duration::from_secs(6), "{took:?}");
    }

    /// A store on a fresh schema reached through a [`FaultProxy`], which the test can take down.
    async fn behind_fault_proxy(options: PgConnectOptions) -> (FaultProxy, PostgresStore) {
        let target = tokio::net::lookup_host((options.get_host(), options.get_port()))
            .await
            .unwrap()
            .next()
            .unwrap();
        let proxy = FaultProxy::start(target).await;
        let store = PostgresStore::connect_with(options.host("127.0.0.1").port(proxy.port()))
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        (proxy, store)
    }

    /// Issue 23: `GET {prefix}/ready` answers 503 naming the stores when Postgres is down (and
    /// no provider is enabled, so nothing else is checked), 200 again once it is back;
    /// `GET {prefix}/health` stays 200 throughout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn ready_names_postgres_while_it_is_down_and_health_stays_up() {
        use http::Request;
        use tower::ServiceExt as _;
        let admin = admin().await;
        let (_schema, options) = fresh_schema(&admin).await;
        let (proxy, store) = behind_fault_proxy(options).await;
        let layer = tower_oidc::OidcLayer::builder()
            .providers(tower_oidc::Providers::builtin())
            .store(store)
            .base_url("http://127.0.0.1:3000")
            .ephemeral_keys()
            .build()
            .unwrap();
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "home" }))
            .layer(layer);
        let get = |path: &'static str| {
            let app = app.clone();
            async move {
                let r = app
                    .oneshot(Request::get(path).body(axum::body::Body::empty()).unwrap())
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
                let json =
                    serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_else(|_| {
                        panic!("{path}: {status} {}", String::from_utf8_lossy(&body))
                    });
                (status, json)
            }
        };
        let (status, body) = get("/api/auth/ready").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["checks"]["session_store"], "ok");
        proxy.down().await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (status, body) = get("/api/auth/ready").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unavailable");
        for store in ["settings_store", "user_store", "session_store"] {
            assert_eq!(body["checks"][store], "store_unavailable", "{body}");
        }
        assert!(
            !body.to_string().contains("127.0.0.1"),
            "no addresses: {body}"
        );
        assert_eq!(get("/api/auth/health").await.0, 200);
        proxy.up().await;
        let mut status = 0;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            status = get("/api/auth/ready").await.0;
            if status == 200 {
                break;
            }
        }
        assert_eq!(status, 200, "ready again once Postgres is back");
    }

    /// The server goes away mid-run (every connection cut, the port closed): each operation
    /// fails with `Unavailable` within seconds, writes nothing, and service resumes by itself
    /// once the server is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn outage_is_unavailable_then_service_resumes() {
        let admin = admin().await;
        let (schema, options) = fresh_schema(&admin).await;
        let (proxy, store) = behind_fault_proxy(options).await;
        let t = conf::tag();
        let before = store
            .create_with_identity(conf::new_user(None), &conf::identity(&t, 1))
            .await
            .unwrap();

        proxy.down().await;
        let lost_email = format!("lost-{t}@example.com");
        let started = Instant::now();
        let e = store
            .create_with_identity(conf::new_user(Some(&lost_email)), &conf::identity(&t, 2))
            .await
            .unwrap_err();
        let took = started.elapsed();
        eprintln!("postgres outage: create_with_identity Unavailable after {took:?}");
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        assert!(took < Duration::from_secs(6), "{took:?}");
        let e = store
            .find_by_identity(&conf::identity(&t, 1))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        let e = store
            .consume_transaction("tx", std::time::SystemTime::now() + Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        let e = store.load(&SessionId::random()).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");

        proxy.up().await;
        let started = Instant::now();
        let first = conf::identity(&t, 1);
        let found = once_resumed(|| store.find_by_identity(&first)).await;
        eprintln!(
            "postgres outage: resumed {:?} after the server came back",
            started.elapsed()
        );
        assert_eq!(found.map(|u| u.id), Some(before.id));
        // Nothing of the failed sign-in was written.
        assert_eq!(store.find_by_email(&lost_email).await.unwrap(), None);
        assert_eq!(
            store
                .find_by_identity(&conf::identity(&t, 2))
                .await
                .unwrap(),
            None
        );
        store
            .create_with_identity(conf::new_user(Some(&lost_email)), &conf::identity(&t, 2))
            .await
            .unwrap();
        drop(store);
        drop_schema(admin, schema).await;
    }

    /// The server kills the pool's connections (`pg_terminate_backend`, as at a failover or an
    /// admin's restart): no panic, no error other than `Unavailable`, and the next operations
    /// succeed on fresh connections with the data intact.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn terminated_backends_reconnect() {
        let admin = admin().await;
        let (schema, options) = fresh_schema(&admin).await;
        let store = PostgresStore::connect_with(options).await.unwrap();
        let t = conf::tag();
        let id = conf::identity(&t, 1);
        let u = store
            .create_with_identity(conf::new_user(None), &id)
            .await
            .unwrap();
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(&schema)
        .fetch_all(&admin)
        .await
        .unwrap();
        assert!(!killed.is_empty(), "the pool had connections to kill");
        let mut ok = 0;
        for _ in 0..5 {
            match store.find_by_identity(&id).await {
                Ok(found) => {
                    assert_eq!(found.map(|x| x.id), Some(u.id.clone()));
                    ok += 1;
                }
                Err(e) => assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}"),
            }
        }
        assert!(ok >= 4, "the pool reconnects ({ok}/5 succeeded)");
        drop(store);
        drop_schema(admin, schema).await;
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::fault_proxy::{FaultProxy, closed_port, once_resumed};
    use tower_oidc::store::{RedisSessionStore, SessionId, SessionStore, StoreErrorKind};

    fn url() -> String {
        std::env::var("TOWER_OIDC_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    async fn connect(url: &str) -> RedisSessionStore {
        RedisSessionStore::connect(url).await.unwrap_or_else(|e| {
            panic!(
                "Redis is unreachable at {url} ({e}). Start it, or point \
                 TOWER_OIDC_TEST_REDIS_URL at one: these tests never skip."
            )
        })
    }

    async fn fixture() -> (Arc<RedisSessionStore>, Cleanup) {
        let prefix = format!("tower-oidc-test:{}:", conf::tag());
        let store = connect(&url()).await.with_prefix(prefix.clone());
        let cleanup = Box::pin(async move {
            let client = ::redis::Client::open(url()).unwrap();
            let mut c = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = ::redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut c)
                .await
                .unwrap();
            if !keys.is_empty() {
                let _: i64 = ::redis::cmd("DEL")
                    .arg(keys)
                    .query_async(&mut c)
                    .await
                    .unwrap();
            }
        });
        (Arc::new(store), cleanup)
    }

    session_cases!(fixture);

    /// Keys carry the prefix and a hash, never the session id; Redis holds the expiry (of the
    /// index sets too).
    #[tokio::test]
    async fn keys_are_prefixed_hashed_and_expiring() {
        let (store, cleanup) = fixture().await;
        let id = SessionId::random();
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        store.store(&id, &conf::record(expires)).await.unwrap();
        let client = ::redis::Client::open(url()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg(format!("{}*", store.prefix()))
            .query_async(&mut c)
            .await
            .unwrap();
        // The session, and its user's index set (the record has no provider session).
        assert_eq!(keys.len(), 2, "{keys:?}");
        let session = format!("{}session:", store.prefix());
        let index = format!("{}index:", store.prefix());
        assert_eq!(keys.iter().filter(|k| k.starts_with(&session)).count(), 1);
        assert_eq!(keys.iter().filter(|k| k.starts_with(&index)).count(), 1);
        for key in &keys {
            assert!(!key.contains(id.expose()));
            let ttl: i64 = ::redis::cmd("TTL")
                .arg(key)
                .query_async(&mut c)
                .await
                .unwrap();
            assert!((95..=100).contains(&ttl), "{key}: {ttl}");
        }
        cleanup.await;
    }

    #[tokio::test]
    async fn closed_port_is_unavailable() {
        let started = Instant::now();
        let e = RedisSessionStore::connect(&format!("redis://127.0.0.1:{}", closed_port()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        eprintln!(
            "redis closed port: Unavailable after {:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// The server goes away mid-run: `Unavailable`, then service resumes when it is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn outage_is_unavailable_then_service_resumes() {
        let u = url::Url::parse(&url()).unwrap();
        let target = tokio::net::lookup_host((
            u.host_str().unwrap_or("127.0.0.1"),
            u.port().unwrap_or(6379),
        ))
        .await
        .unwrap()
        .next()
        .unwrap();
        let proxy = FaultProxy::start(target).await;
        let mut proxied = u.clone();
        proxied.set_host(Some("127.0.0.1")).unwrap();
        proxied.set_port(Some(proxy.port())).unwrap();
        let prefix = format!("tower-oidc-test:{}:", conf::tag());
        let store = connect(proxied.as_str()).await.with_prefix(prefix);
        let id = SessionId::random();
        let far = 4_000_000_000; // the year 2096
        store.store(&id, &conf::record(far)).await.unwrap();

        proxy.down().await;
        let started = Instant::now();
        let e = store.load(&id).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        let e = store
            .consume_transaction("tx", std::time::SystemTime::now() + Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        eprintln!(
            "redis outage: two operations Unavailable within {:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(10));

        proxy.up().await;
        let started = Instant::now();
        let loaded = once_resumed(|| store.load(&id)).await;
        eprintln!(
            "redis outage: resumed {:?} after the server came back",
            started.elapsed()
        );
        assert!(loaded.is_some());
        // The failed consume wrote nothing: the id is still fresh.
        assert!(
            store
                .consume_transaction("tx", std::time::SystemTime::now() + Duration::from_secs(60))
                .await
                .unwrap()
        );
        store.delete(&id).await.unwrap();
    }
}

/// How many migrations the crate embeds for a backend (the files in `migrations/<backend>/`).
#[allow(dead_code)]
fn migrations(backend: &str) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count() as i64
}
