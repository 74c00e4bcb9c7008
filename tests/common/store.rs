//! The store an app under test keeps its settings, users and sessions in, chosen by
//! `TOWER_OIDC_CONFORMANCE_BACKEND`:
//!
//! - `memory` (the default): one `MemoryStore`;
//! - `sqlite`: a `SqliteStore` on a fresh file in a temporary directory;
//! - `postgres-redis`: a `PostgresStore` in a fresh schema for users and settings, and a
//!   `RedisSessionStore` under a fresh key prefix for sessions (needs the features `postgres`
//!   and `redis`, and the servers of `TOWER_OIDC_TEST_POSTGRES_URL` / `TOWER_OIDC_TEST_REDIS_URL`).
//!
//! CI runs the conformance suite once on each, so the matrix's end-to-end cases (a replayed
//! callback, concurrent first sign-ins, …) hold on every backend, not only in memory. A backend
//! that cannot be reached fails the test loudly; nothing is skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use async_trait::async_trait;
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{
    Identity, MemoryStore, NewUser, SessionId, SessionRecord, SessionStore, SettingsStore,
    StoreError, User, UserId, UserStore, UserUpdate,
};

/// The backend the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    PostgresRedis,
}

impl Backend {
    /// The backend named by `TOWER_OIDC_CONFORMANCE_BACKEND` (default `memory`).
    pub fn from_env() -> Self {
        match std::env::var("TOWER_OIDC_CONFORMANCE_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("memory") => Backend::Memory,
            Ok("sqlite") => Backend::Sqlite,
            Ok("postgres-redis") => Backend::PostgresRedis,
            Ok(other) => panic!(
                "TOWER_OIDC_CONFORMANCE_BACKEND={other:?}: expected memory, sqlite or \
                 postgres-redis"
            ),
        }
    }
}

/// Settings, users and sessions on one backend; clones share it. What the backend needs
/// cleaned up (a temporary directory, a Postgres schema) goes when the last clone does.
#[derive(Clone)]
pub struct TestStore {
    pub backend: Backend,
    /// Where the backend keeps sessions at rest, for scans of what it holds.
    pub at_rest: AtRest,
    /// postgres-redis: the Postgres store as a session store too, with where it keeps them (so
    /// a test can run sessions on the SQL table instead of Redis).
    pub sql_sessions: Option<(Arc<dyn SessionStore>, AtRest)>,
    users: Arc<dyn UserStore>,
    settings: Arc<dyn SettingsStore>,
    sessions: Arc<dyn SessionStore>,
    _cleanup: Arc<dyn Send + Sync>,
}

/// Where a backend keeps sessions at rest.
#[derive(Clone, Debug)]
pub enum AtRest {
    /// Only in this process's memory.
    Process,
    /// Files in this directory (SQLite: the database, WAL and shared-memory files).
    Files(std::path::PathBuf),
    /// Redis keys under this prefix.
    Redis { url: String, prefix: String },
    /// The session table in this Postgres schema.
    Postgres { url: String, schema: String },
}

impl AtRest {
    /// What is kept here, as bytes (`None`: only in this process).
    pub async fn read(&self) -> Option<Vec<u8>> {
        match self {
            #[cfg(not(feature = "postgres"))]
            AtRest::Postgres { .. } => None,
            #[cfg(feature = "postgres")]
            AtRest::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT t::text FROM \"{schema}\".tower_oidc_sessions t"
                ))
                .fetch_all(&pool)
                .await
                .unwrap();
                pool.close().await;
                Some(rows.concat().into_bytes())
            }
            AtRest::Process => None,
            AtRest::Files(dir) => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(dir).unwrap().flatten() {
                    if let Ok(bytes) = std::fs::read(entry.path()) {
                        all.extend(bytes);
                    }
                }
                Some(all)
            }
            #[cfg(not(feature = "redis"))]
            AtRest::Redis { .. } => None,
            #[cfg(feature = "redis")]
            AtRest::Redis { url, prefix } => {
                let client = ::redis::Client::open(url.as_str()).unwrap();
                let mut c = client.get_multiplexed_async_connection().await.unwrap();
                let keys: Vec<String> = ::redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query_async(&mut c)
                    .await
                    .unwrap();
                let mut all = Vec::new();
                for k in keys {
                    // Sessions are strings; their index sets hold session id hashes.
                    let kind: String = ::redis::cmd("TYPE")
                        .arg(&k)
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    let values: Vec<Vec<u8>> = if kind == "set" {
                        ::redis::cmd("SMEMBERS")
                            .arg(&k)
                            .query_async(&mut c)
                            .await
                            .unwrap()
                    } else {
                        let v: Option<Vec<u8>> = ::redis::cmd("GET")
                            .arg(&k)
                            .query_async(&mut c)
                            .await
                            .unwrap();
                        v.into_iter().collect()
                    };
                    all.extend(values.concat());
                }
                Some(all)
            }
        }
    }
}

/// A name unique to this process and call.
fn tag() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}x{}x{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestStore {
    /// A fresh, empty store on the backend of `TOWER_OIDC_CONFORMANCE_BACKEND`.
    pub async fn from_env() -> Self {
        Self::on(Backend::from_env()).await
    }

    /// A fresh, empty store on `backend`.
    pub async fn on(backend: Backend) -> Self {
        match backend {
            Backend::Memory => {
                let m = MemoryStore::new();
                Self::shared(backend, AtRest::Process, m, ())
            }
            Backend::Sqlite => sqlite().await,
            Backend::PostgresRedis => postgres_redis().await,
        }
    }

    fn shared<S>(
        backend: Backend,
        at_rest: AtRest,
        s: S,
        cleanup: impl Send + Sync + 'static,
    ) -> Self
    where
        S: UserStore + SettingsStore + SessionStore + Clone,
    {
        TestStore {
            backend,
            at_rest,
            sql_sessions: None,
            users: Arc::new(s.clone()),
            settings: Arc::new(s.clone()),
            sessions: Arc::new(s),
            _cleanup: Arc::new(cleanup),
        }
    }
}

async fn sqlite() -> TestStore {
    #[cfg(feature = "sqlite")]
    {
        use tower_oidc::store::{SecretKey, SqliteStore};
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path().join("app.db"))
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        let at_rest = AtRest::Files(dir.path().to_owned());
        TestStore::shared(Backend::Sqlite, at_rest, s, dir)
    }
    #[cfg(not(feature = "sqlite"))]
    panic!("TOWER_OIDC_CONFORMANCE_BACKEND=sqlite needs the feature `sqlite`")
}

async fn postgres_redis() -> TestStore {
    #[cfg(all(feature = "postgres", feature = "redis"))]
    {
        pg::store().await
    }
    #[cfg(not(all(feature = "postgres", feature = "redis")))]
    panic!(
        "TOWER_OIDC_CONFORMANCE_BACKEND=postgres-redis needs the features `postgres` and \
         `redis` (cargo test --all-features)"
    )
}

#[cfg(all(feature = "postgres", feature = "redis"))]
mod pg {
    use std::str::FromStr;
    use std::sync::Arc;

    use sqlx::postgres::PgConnectOptions;
    use tower_oidc::store::{PostgresStore, RedisSessionStore, SecretKey};

    use super::{Backend, TestStore, tag};

    fn postgres_url() -> String {
        std::env::var("TOWER_OIDC_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    fn redis_url() -> String {
        std::env::var("TOWER_OIDC_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    /// Drops its schema and its Redis keys when the last clone of the store goes (on a thread
    /// of its own, since the test's runtime may be the one shutting down).
    struct Cleanup {
        schema: String,
        redis_prefix: String,
    }

    impl Drop for Cleanup {
        fn drop(&mut self) {
            let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
            let pattern = format!("{}*", self.redis_prefix);
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(pool) = sqlx::PgPool::connect(&postgres_url()).await {
                        let _ = sqlx::raw_sql(&sql).execute(&pool).await;
                        pool.close().await;
                    }
                    let Ok(client) = ::redis::Client::open(redis_url()) else {
                        return;
                    };
                    let Ok(mut c) = client.get_multiplexed_async_connection().await else {
                        return;
                    };
                    let keys: Vec<String> = ::redis::cmd("KEYS")
                        .arg(&pattern)
                        .query_async(&mut c)
                        .await
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: Result<i64, _> =
                            ::redis::cmd("DEL").arg(keys).query_async(&mut c).await;
                    }
                });
            })
            .join();
        }
    }

    pub async fn store() -> TestStore {
        let url = postgres_url();
        let schema = format!("tower_oidc_conformance_{}", tag());
        let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
            panic!(
                "Postgres is unreachable at {url} ({e}). Start it, or point \
                 TOWER_OIDC_TEST_POSTGRES_URL at one: the suite never skips."
            )
        });
        sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let redis_prefix = format!("tower-oidc-conformance:{}:", tag());
        let cleanup = Cleanup {
            schema: schema.clone(),
            redis_prefix: redis_prefix.clone(),
        };
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let pg = PostgresStore::connect_with(options)
            .await
            .unwrap()
            .with_secret_key(SecretKey::generate());
        let redis_url = redis_url();
        let redis = RedisSessionStore::connect(&redis_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Redis is unreachable at {redis_url} ({e}). Start it, or point \
                     TOWER_OIDC_TEST_REDIS_URL at one: the suite never skips."
                )
            })
            .with_prefix(redis_prefix.clone());
        TestStore {
            backend: Backend::PostgresRedis,
            at_rest: super::AtRest::Redis {
                url: redis_url,
                prefix: redis_prefix,
            },
            sql_sessions: Some((
                Arc::new(pg.clone()),
                super::AtRest::Postgres {
                    url: postgres_url(),
                    schema: schema.clone(),
                },
            )),
            users: Arc::new(pg.clone()),
            settings: Arc::new(pg),
            sessions: Arc::new(redis),
            _cleanup: Arc::new(cleanup),
        }
    }
}

#[async_trait]
impl UserStore for TestStore {
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        self.users.find_by_identity(identity).await
    }
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.users.find_by_email(email).await
    }
    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.users.get(id).await
    }
    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        self.users.create_with_identity(user, identity).await
    }
    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        self.users.link_identity(user, identity).await
    }
    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        self.users.update(user, update).await
    }
    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        self.users.identities(user).await
    }
}

#[async_trait]
impl SettingsStore for TestStore {
    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError> {
        self.settings.get(provider).await
    }
    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError> {
        self.settings.list().await
    }
    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError> {
        self.settings.put(provider, settings).await
    }
    async fn delete(&self, provider: &str) -> Result<(), StoreError> {
        self.settings.delete(provider).await
    }
}

#[async_trait]
impl SessionStore for TestStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.sessions.load(id).await
    }
    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        self.sessions.store(id, record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.sessions.delete(id).await
    }
    async fn compare_and_swap(
        &self,
        id: &SessionId,
        next: &SessionRecord,
    ) -> Result<bool, StoreError> {
        self.sessions.compare_and_swap(id, next).await
    }
    async fn find_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.sessions.find_sessions(filter).await
    }
    async fn end_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.sessions.end_sessions(filter).await
    }
    async fn load_shared(
        &self,
        id: &SessionId,
    ) -> Result<Option<std::sync::Arc<SessionRecord>>, StoreError> {
        self.sessions.load_shared(id).await
    }
    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.sessions
            .consume_transaction(transaction_id, expires_at)
            .await
    }
    // The backend as the layer would see it alone: memory gets no session cache, Postgres and
    // Redis announce their changes.
    fn in_process(&self) -> bool {
        self.sessions.in_process()
    }
    fn changes(&self) -> Option<std::sync::Arc<dyn tower_oidc::store::SessionChanges>> {
        self.sessions.changes()
    }
    fn peek(&self, id: &SessionId) -> Option<std::sync::Arc<SessionRecord>> {
        self.sessions.peek(id)
    }
}
