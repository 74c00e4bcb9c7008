//! [`SessionCache`]: verified session records kept in the process in front of a shared session
//! store, so a signed-in request on Postgres, SQLite or Redis costs what it costs on memory.

mod entries;
mod follow;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use self::entries::Entries;
use super::{
    SessionChanges, SessionFilter, SessionId, SessionRecord, SessionStore, StoreError, StoreResult,
};

/// The session cache the layer puts in front of a session store that is not in the process
/// (see [`OidcLayerBuilder::session_cache`](crate::OidcLayerBuilder::session_cache)).
///
/// It keeps up to [`max_entries`](Self::max_entries) session records, and at most
/// [`max_bytes`](Self::max_bytes) of them as estimated from their encoded size, evicting the
/// least useful (S3-FIFO, by the `quick_cache` crate). Every write of this instance (sign-in,
/// sliding expiry, refresh, logout, sign out everywhere, back- and front-channel logout, an
/// admin ending sessions) updates it at once. A write of **another** instance reaches it through
/// the store's change channel ([`SessionStore::changes`]: Postgres `LISTEN/NOTIFY`, Redis
/// pub/sub) within milliseconds; and whatever the channel does, a cached session is never
/// served more than [`staleness`](Self::staleness) (1 s by default) after it changed or ended
/// elsewhere: without a channel (SQLite), or while it is down, an entry older than that is read
/// again from the store.
///
/// ```
/// use std::time::Duration;
/// use tower_oidc::store::SessionCache;
/// let cache = SessionCache::new()
///     .max_entries(50_000)
///     .max_bytes(64 << 20)
///     .staleness(Duration::from_millis(500));
/// assert_eq!(cache.staleness_bound(), Duration::from_millis(500));
/// assert!(!SessionCache::disabled().is_enabled());
/// ```
#[derive(Debug, Clone)]
pub struct SessionCache {
    enabled: bool,
    max_entries: usize,
    max_bytes: u64,
    staleness: Duration,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache::new()
    }
}

impl SessionCache {
    /// The default cache: 100,000 sessions, 128 MiB, a staleness bound of 1 s.
    pub fn new() -> Self {
        SessionCache {
            enabled: true,
            max_entries: 100_000,
            max_bytes: 128 << 20,
            staleness: Duration::from_secs(1),
        }
    }

    /// No cache: every signed-in request reads its session from the store.
    pub fn disabled() -> Self {
        SessionCache {
            enabled: false,
            ..SessionCache::new()
        }
    }

    /// The most sessions kept.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n.max(1);
        self
    }

    /// The most bytes of session records kept (as estimated from their encoded size).
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// The longest a session changed or ended on another instance may still be served here
    /// when the change channel is down or the store has none (default 1 s).
    pub fn staleness(mut self, bound: Duration) -> Self {
        self.staleness = bound;
        self
    }

    /// The staleness bound.
    pub fn staleness_bound(&self) -> Duration {
        self.staleness
    }

    /// Whether the cache is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

/// `store` behind `cache` (the store itself when the cache is off or the store is in process).
pub(crate) fn cached(store: Arc<dyn SessionStore>, cache: &SessionCache) -> Arc<dyn SessionStore> {
    if !cache.enabled || store.in_process() {
        return store;
    }
    let changes = store.changes();
    Arc::new(Cached {
        entries: Arc::new(Entries::new(
            cache.max_entries,
            cache.max_bytes,
            cache.staleness,
        )),
        inner: store,
        changes,
        following: AtomicBool::new(false),
        staleness: cache.staleness,
    })
}

/// The estimated weight of a record in the cache: its encoded size and what the cache keeps
/// beside it.
fn weight(record: &SessionRecord) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, record);
    count.0 + 256
}

struct Cached {
    inner: Arc<dyn SessionStore>,
    entries: Arc<Entries>,
    changes: Option<Arc<dyn SessionChanges>>,
    following: AtomicBool,
    staleness: Duration,
}

impl Cached {
    /// Starts following the change channel, once, from the first call made on a runtime.
    fn follow(&self) {
        if self.following.load(Ordering::Relaxed) {
            return;
        }
        let Some(changes) = &self.changes else {
            self.following.store(true, Ordering::Relaxed);
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.following.swap(true, Ordering::AcqRel) {
            runtime.spawn(follow::follow(
                Arc::downgrade(&self.entries),
                changes.clone(),
                self.staleness,
            ));
        }
    }
}

#[async_trait]
impl SessionStore for Cached {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.load(id).await
    }

    fn peek(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.follow();
        self.entries.get(id, false)
    }

    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        self.follow();
        if let Some(record) = self.entries.get(id, true) {
            return Ok(Some(record));
        }
        let ticket = self.entries.ticket();
        let record = self.inner.load_shared(id).await?;
        if let Some(record) = &record {
            self.entries.insert(ticket, id, record.clone());
        }
        Ok(record)
    }

    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        // Not cached from here: a change committed elsewhere between this write and caching
        // it could be missed. The first request of the session reads it.
        let out = self.inner.store(id, record).await;
        self.entries.invalidate_id(id);
        out
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let out = self.inner.delete(id).await;
        self.entries.invalidate_id(id);
        out
    }

    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool> {
        let out = self.inner.compare_and_swap(id, next).await;
        // Whatever happened, the cached record is not the stored one any more (or was stale).
        self.entries.invalidate_id(id);
        out
    }

    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.find_sessions(filter).await
    }

    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        let out = self.inner.end_sessions(filter).await;
        self.entries.invalidate_matching(filter);
        out
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
        self.changes.clone()
    }
}
