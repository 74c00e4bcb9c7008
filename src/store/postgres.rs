//! The Postgres backend (feature `postgres`): users, provider settings and sessions shared by
//! every instance of the app.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

type DbPool = PgPool;
type DbRow = PgRow;
type Db = sqlx::Postgres;
type This = PostgresStore;

const BEGIN_WRITE: &str = "BEGIN";
/// Two instances starting at once migrate one after the other (a transaction-scoped advisory
/// lock; the number is this crate's own, "towr" in ASCII).
const MIGRATION_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(1953462130)");
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// What the doc examples of the shared methods (`from_pool`, `with_secret_key`, ...) need to say
/// about this backend: the store's path, how to open one, how to make a pool.
macro_rules! backend_doc {
    (store) => {
        "tower_oidc::store::PostgresStore"
    };
    (open) => {
        "tower_oidc::store::PostgresStore::connect(\"postgres://postgres@127.0.0.1/app\").await?"
    };
    (pool) => {
        "let pool = sqlx::postgres::PgPoolOptions::new()\n    \
         .acquire_timeout(std::time::Duration::from_secs(3))\n    \
         .connect(\"postgres://postgres@127.0.0.1/app\")\n    \
         .await?;"
    };
}

/// The store's name in `Debug`.
const STORE_NAME: &str = "PostgresStore";

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLSTATEs that mean the server cannot serve us right now: connection exceptions (`08…`),
/// insufficient resources (`53…`), shutdown or recovery in progress (`57P…`), a database that
/// is gone (`3D000`), a read-only standby after a failover (`25006`).
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "3D000"
        || code == "25006"
}

/// Users, provider settings and sessions in Postgres, shared by every instance of the app.
///
/// The schema (tables prefixed `tower_oidc_`, in the connection's `search_path`) is created and
/// migrated when the store connects; concurrent instances migrate one at a time. Client secrets
/// are stored encrypted: give the store a [`SecretKey`] with
/// [`with_secret_key`](Self::with_secret_key) (without a key, storing a client secret fails).
///
/// A server that is down or stops answering gives [`StoreErrorKind::Unavailable`] within a few
/// seconds (3 s to get a connection, 10 s per operation by default); the pool reconnects when
/// the server is back.
///
/// ```no_run
/// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
/// use tower_oidc::store::{PostgresStore, SecretKey};
/// let key = SecretKey::from_base64(&std::env::var("TOWER_OIDC_SECRET_KEY").unwrap_or_default())?;
/// let store = PostgresStore::connect("postgres://app@db.internal/app")
///     .await?
///     .with_secret_key(key);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    key: Option<Arc<SecretKey>>,
    ops: Arc<AtomicU64>,
    op_timeout: Duration,
}

impl PostgresStore {
    /// The channel on which the database announces session changes (see `pg_changes`).
    fn session_changes(&self) -> Option<Arc<dyn super::SessionChanges>> {
        Some(Arc::new(super::pg_changes::PgChanges {
            pool: self.pool.clone(),
        }))
    }

    /// Connects to `url` (`postgres://user:password@host/db`) with a pool of up to 10
    /// connections and migrates the database.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// let store = tower_oidc::store::PostgresStore::connect("postgres://postgres@127.0.0.1/app").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| map_err("connect", e))?;
        Self::connect_with(options).await
    }

    /// Connects with the given options (for instance a `search_path` that puts the tables in
    /// their own schema) and migrates the database.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// use sqlx::postgres::PgConnectOptions;
    /// let options = PgConnectOptions::new()
    ///     .host("127.0.0.1")
    ///     .username("app")
    ///     .database("app")
    ///     .options([("search_path", "auth")]);
    /// let store = tower_oidc::store::PostgresStore::connect_with(options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| map_err("connect", e))?;
        Self::from_pool(pool).await
    }
}

include!("sql/shared.rs");
