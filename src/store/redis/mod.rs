//! The Redis session store (feature `redis`): sessions and consumed login transactions shared by
//! every instance of the app, expired by Redis itself.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use async_trait::async_trait;

use super::{
    SessionFilter, SessionId, SessionRecord, SessionStore, StoreError, StoreErrorKind, StoreResult,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_PREFIX: &str = "tower-oidc:";

/// Sessions and consumed login transactions in Redis.
///
/// Keys are `<prefix>session:<sha256 of the session id>` (the value is the JSON
/// [`SessionRecord`], expiring at `record.expires_at` through `SET … PXAT`) and
/// `<prefix>tx:<sha256 of the transaction id>` (set with `SET … NX PXAT`, the atomic single-use
/// check). Redis never holds a usable session id. The prefix is `tower-oidc:` unless set with
/// [`with_prefix`](Self::with_prefix). Each session is also a member of the index sets
/// `<prefix>index:<sha256 of a SessionFilter>` (its user, its provider account and its provider
/// session), which expire with the last of their sessions; sessions are written, swapped and
/// ended by Lua scripts, so a session and its index entries change together. The scripts
/// address session keys they derive from an index, so the store needs one Redis server (with
/// replicas if you like), not Redis Cluster.
///
/// A server that is down gives [`StoreErrorKind::Unavailable`] within a few seconds; the
/// connection manager reconnects when it is back. Cloning is cheap and shares the connection.
///
/// ```no_run
/// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
/// use tower_oidc::store::RedisSessionStore;
/// let sessions = RedisSessionStore::connect("redis://127.0.0.1:6379")
///     .await?
///     .with_prefix("myapp:auth:");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
    // Opens the pub/sub connection that follows session changes (see `changes`).
    pubsub: Option<::redis::Client>,
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn map_err(op: &'static str, e: ::redis::RedisError) -> StoreError {
    use ::redis::ErrorKind as K;
    let unavailable = e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.kind(),
            K::BusyLoadingError | K::TryAgain | K::ClusterDown | K::MasterDown | K::ReadOnly
        );
    let kind = if unavailable {
        StoreErrorKind::Unavailable
    } else {
        StoreErrorKind::Other
    };
    StoreError::new(kind, op, e.to_string())
}

fn hash(id: &str) -> String {
    use std::fmt::Write as _;
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d.as_ref() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The latest expiry this store asks Redis for (the year 9999, in milliseconds): far enough,
/// and never an overflow whatever `expires_at` says.
const MAX_PXAT: u64 = 253_402_300_799_000;

/// A record as the scripts store it.
fn encode(op: &'static str, record: &SessionRecord) -> Result<String, StoreError> {
    serde_json::to_string(record)
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, format!("cannot encode: {e}")))
}

fn now_secs() -> u64 {
    millis(SystemTime::now()) / 1000
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl RedisSessionStore {
    /// Connects to `url` (`redis://host:6379`, `rediss://…`, `redis://:password@host/2`).
    /// Fails with [`StoreErrorKind::Unavailable`] if the server cannot be reached.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// let sessions = tower_oidc::store::RedisSessionStore::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = ::redis::Client::open(url).map_err(|e| map_err("connect", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| map_err("connect", e))?;
        Ok(Self::from_connection_manager(conn).with_pubsub(client))
    }

    /// Uses an existing connection manager (the app's own, for instance). Give it the client
    /// to open pub/sub connections with ([`with_pubsub`](Self::with_pubsub)), or the layer's
    /// session cache cannot follow changes made by other instances and rereads sessions once
    /// they are older than its staleness bound.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = ::redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = ::redis::aio::ConnectionManager::new(client).await?;
    /// let sessions = tower_oidc::store::RedisSessionStore::from_connection_manager(manager);
    /// # Ok(()) }
    /// ```
    pub fn from_connection_manager(conn: ConnectionManager) -> Self {
        RedisSessionStore {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
            pubsub: None,
        }
    }

    /// The client the store opens its pub/sub connection with: every write of a session is
    /// published on the channel `<prefix>changes` (by the script that makes it), and the
    /// layer's [`SessionCache`](super::SessionCache) subscribes to drop sessions that other
    /// instances changed or ended. [`connect`](Self::connect) sets it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = ::redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = ::redis::aio::ConnectionManager::new(client.clone()).await?;
    /// let sessions = tower_oidc::store::RedisSessionStore::from_connection_manager(manager)
    ///     .with_pubsub(client);
    /// # Ok(()) }
    /// ```
    pub fn with_pubsub(mut self, client: ::redis::Client) -> Self {
        self.pubsub = Some(client);
        self
    }

    /// Sets the prefix of every key (`tower-oidc:` by default), to share a Redis database
    /// between apps.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// let sessions = tower_oidc::store::RedisSessionStore::connect("redis://127.0.0.1:6379")
    ///     .await?
    ///     .with_prefix("shop:auth:");
    /// assert_eq!(sessions.prefix(), "shop:auth:");
    /// # Ok(()) }
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    ///
    /// ```no_run
    /// # fn f(sessions: tower_oidc::store::RedisSessionStore) {
    /// let session_keys = format!("{}session:*", sessions.prefix());
    /// # }
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn session_key(&self, id: &SessionId) -> String {
        format!("{}{}", self.session_prefix(), hash(id.expose()))
    }

    fn session_prefix(&self) -> String {
        format!("{}session:", self.prefix)
    }

    fn changes_channel(&self) -> String {
        format!("{}changes", self.prefix)
    }

    fn index_key(&self, filter: &SessionFilter) -> String {
        format!("{}index:{}", self.prefix, hash(&filter.index_key()))
    }

    fn index_keys(&self, record: &SessionRecord) -> Vec<String> {
        SessionFilter::all_for(record)
            .iter()
            .map(|f| self.index_key(f))
            .collect()
    }

    /// Runs a script that writes the session `id` (`KEYS[1]`) and `record`'s index sets
    /// (`KEYS[2..]`), with `args` then the id hash, the change channel and the session key
    /// prefix as its `ARGV`.
    async fn write_session(
        &self,
        op: &'static str,
        script: &::redis::Script,
        id: &SessionId,
        record: &SessionRecord,
        args: &[String],
    ) -> Result<i64, StoreError> {
        let mut invocation = script.key(self.session_key(id));
        for k in self.index_keys(record) {
            invocation.key(k);
        }
        for a in args {
            invocation.arg(a);
        }
        let mut conn = self.conn.clone();
        invocation
            .arg(hash(id.expose()))
            .arg(self.changes_channel())
            .arg(self.session_prefix())
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_err(op, e))
    }

    /// Sends one command on the shared connection.
    async fn query<T: ::redis::FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &::redis::Cmd,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(|e| map_err(op, e))
    }

    fn tx_key(&self, id: &str) -> String {
        format!("{}tx:{}", self.prefix, hash(id))
    }
}

mod changes;
mod scripts;
use scripts::{CAS_SCRIPT, DELETE_SCRIPT, END_SCRIPT, STORE_SCRIPT, filter_args};

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let op = "load session";
        let json: Option<String> = self
            .query(op, ::redis::cmd("GET").arg(self.session_key(id)))
            .await?;
        let Some(json) = json else {
            return Ok(None);
        };
        let record: SessionRecord = serde_json::from_str(&json).map_err(|e| {
            StoreError::new(StoreErrorKind::Corrupt, op, format!("session record: {e}"))
        })?;
        // Redis expires the key at the same instant; this covers clock-edge reads.
        if record.expires_at <= now_secs() {
            return Ok(None);
        }
        Ok(Some(record))
    }

    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        if record.expires_at <= now_secs() {
            // Already over: nothing to keep (and Redis rejects an expiry in the past).
            return self.delete(id).await;
        }
        let op = "store session";
        let at = record.expires_at.saturating_mul(1000).min(MAX_PXAT);
        let args = [encode(op, record)?, at.to_string()];
        self.write_session(op, &STORE_SCRIPT, id, record, &args)
            .await?;
        Ok(())
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = DELETE_SCRIPT
            .key(self.session_key(id))
            .arg(self.changes_channel())
            .arg(hash(id.expose()))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_err("delete session", e))?;
        Ok(())
    }

    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool> {
        let op = "compare and swap session";
        // `0`: the new record is already over, so the key goes.
        let at = if next.expires_at <= now_secs() {
            0
        } else {
            next.expires_at.saturating_mul(1000).min(MAX_PXAT)
        };
        let args = [
            next.predecessor().to_string(),
            encode(op, next)?,
            at.to_string(),
        ];
        let swapped = self.write_session(op, &CAS_SCRIPT, id, next, &args).await?;
        Ok(swapped == 1)
    }

    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let op = "find sessions";
        let members: Vec<String> = self
            .query(op, ::redis::cmd("SMEMBERS").arg(self.index_key(filter)))
            .await?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = self.session_prefix();
        let keys: Vec<String> = members.iter().map(|m| format!("{prefix}{m}")).collect();
        let values: Vec<Option<String>> = self.query(op, ::redis::cmd("MGET").arg(&keys)).await?;
        let now = now_secs();
        let mut found = Vec::new();
        for json in values.into_iter().flatten() {
            let record: SessionRecord = serde_json::from_str(&json).map_err(|e| {
                StoreError::new(StoreErrorKind::Corrupt, op, format!("session record: {e}"))
            })?;
            if record.expires_at > now && filter.matches(&record) {
                found.push(record);
            }
        }
        Ok(found)
    }

    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        let op = "end sessions";
        let mut conn = self.conn.clone();
        let [kind, a, b, c] = filter_args(filter);
        let ended: Vec<String> = END_SCRIPT
            .key(self.index_key(filter))
            .arg(self.session_prefix())
            .arg(kind)
            .arg(a)
            .arg(b)
            .arg(c)
            .arg(self.changes_channel())
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_err(op, e))?;
        let now = now_secs();
        let mut out = Vec::with_capacity(ended.len());
        for json in ended {
            match serde_json::from_str::<SessionRecord>(&json) {
                Ok(r) if r.expires_at > now => out.push(r),
                Ok(_) => {}
                // Already deleted; a record that cannot be read has no tokens to revoke.
                Err(e) => tracing::warn!(error = %e, "an ended session record was unreadable"),
            }
        }
        Ok(out)
    }

    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        // An expiry already past would be refused by Redis; remember such an id briefly.
        let at = millis(expires_at)
            .max(millis(SystemTime::now()) + 1_000)
            .min(MAX_PXAT);
        let set: Option<String> = ::redis::cmd("SET")
            .arg(self.tx_key(transaction_id))
            .arg(1)
            .arg("NX")
            .arg("PXAT")
            .arg(at)
            .query_async(&mut conn)
            .await
            .map_err(|e| map_err("consume login transaction", e))?;
        Ok(set.is_some())
    }

    fn changes(&self) -> Option<std::sync::Arc<dyn super::SessionChanges>> {
        let client = self.pubsub.clone()?;
        Some(std::sync::Arc::new(changes::RedisChanges {
            client,
            conn: self.conn.clone(),
            channel: self.changes_channel(),
        }))
    }
}
