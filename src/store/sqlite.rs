//! The SQLite backend (feature `sqlite`, on by default): users, provider settings and sessions in
//! one file, for an app that runs as a single instance.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

type DbPool = SqlitePool;
type DbRow = SqliteRow;
type Db = sqlx::Sqlite;
type This = SqliteStore;

/// A write transaction takes the write lock at once, so that two writers wait for each other
/// (`busy_timeout`) instead of failing to upgrade a read lock.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// `BEGIN IMMEDIATE` already serializes migrations.
const MIGRATION_LOCK: Option<&str> = None;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// What the doc examples of the shared methods (`from_pool`, `with_secret_key`, ...) need to say
/// about this backend: the store's path, how to open one, how to make a pool.
macro_rules! backend_doc {
    (store) => {
        "tower_oidc::store::SqliteStore"
    };
    (open) => {
        "tower_oidc::store::SqliteStore::open(\"app.db\").await?"
    };
    (pool) => {
        "let pool = sqlx::SqlitePool::connect(\"sqlite://app.db?mode=rwc\").await?;"
    };
}

/// The store's name in `Debug`.
const STORE_NAME: &str = "SqliteStore";

/// How long a connection waits for the database to be free, and for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite result codes (primary part of the extended code) that mean the database cannot be used
/// right now: busy or locked past the timeout, an I/O error, a full disk, a file that cannot be
/// opened or is read-only.
fn unavailable_code(code: &str) -> bool {
    code.parse::<i64>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// Whether the options name an in-memory database (`:memory:`, or the name sqlx gives to
/// `sqlite::memory:`), which exists only as long as one of its connections.
fn is_memory(options: &SqliteConnectOptions) -> bool {
    let name = options.get_filename().to_string_lossy();
    name == ":memory:" || name.starts_with("file:sqlx-in-memory-") || name.contains("mode=memory")
}

/// Users, provider settings and sessions in a SQLite database.
///
/// The schema (tables prefixed `tower_oidc_`) is created and migrated when the store is opened.
/// Client secrets are stored encrypted: give the store a [`SecretKey`] with
/// [`with_secret_key`](Self::with_secret_key) before storing settings that carry one (without a
/// key, [`SettingsStore::put`] of a client secret fails rather than store it in clear).
///
/// Cloning is cheap and shares the connection pool.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use tower_oidc::store::{SecretKey, SqliteStore, UserStore};
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("app.db");
/// let store = SqliteStore::open(&path)
///     .await?
///     .with_secret_key(SecretKey::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?);
/// assert!(store.find_by_email("nobody@example.com").await?.is_none());
/// # Ok::<(), tower_oidc::store::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    key: Option<Arc<SecretKey>>,
    ops: Arc<AtomicU64>,
    op_timeout: Duration,
}

impl SqliteStore {
    /// SQLite has no channel to announce session changes on: a cached session is reread once
    /// it is older than the cache's staleness bound.
    fn session_changes(&self) -> Option<Arc<dyn super::SessionChanges>> {
        None
    }

    /// Opens (creating it if needed) the database file at `path`, in WAL mode, and migrates it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// let store = tower_oidc::store::SqliteStore::open("app.db").await?;
    /// # Ok(()) }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(options).await
    }

    /// Opens a database by URL (`sqlite://app.db`, `sqlite::memory:`), creating a file if
    /// needed, and migrates it. An in-memory database lives in one connection, as long as the
    /// store.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = tower_oidc::store::SqliteStore::open_url("sqlite::memory:").await?;
    /// # Ok::<(), tower_oidc::store::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| map_err("open database", e))?
            .create_if_missing(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let in_memory = in_memory || is_memory(&options);
        Self::open_inner(options, in_memory).await
    }

    /// Opens a database with the given options (WAL, a busy timeout and foreign keys are added)
    /// and migrates it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// use sqlx::sqlite::SqliteConnectOptions;
    /// let options = SqliteConnectOptions::new().filename("app.db").create_if_missing(true);
    /// let store = tower_oidc::store::SqliteStore::open_with(options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let in_memory = is_memory(&options);
        Self::open_inner(options, in_memory).await
    }

    async fn open_inner(
        options: SqliteConnectOptions,
        in_memory: bool,
    ) -> Result<Self, StoreError> {
        let options = options
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = if in_memory {
            // Each connection to `:memory:` is its own database: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        }
        .acquire_timeout(ACQUIRE_TIMEOUT);
        // Switching a new file to WAL takes an exclusive lock for which SQLite does not call the
        // busy handler, so two instances opening the same new file at once can see SQLITE_BUSY
        // ("database is locked"). That is transient: retry a few times with a short backoff.
        let mut attempt = 0u32;
        let pool = loop {
            match pool.clone().connect_with(options.clone()).await {
                Ok(p) => break p,
                Err(e) if attempt < 20 && is_busy(&e) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25 * u64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(map_err("open database", e)),
            }
        };
        Self::from_pool(pool).await
    }
}

include!("sql/shared.rs");

/// Whether an error is SQLite's transient "database is locked" / "busy" (codes 5 and 6).
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("5" | "6" | "517" | "262")),
        _ => false,
    }
}
