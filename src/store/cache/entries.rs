//! The cached sessions of one layer, and the rules that decide whether one may still be served.
//!
//! Entries are keyed by the first 128 bits of the SHA-256 digest of the session id, the name
//! the stores' change channels use: an announced change finds its entry directly, and the cache
//! keeps no copy of the id.
//!
//! An entry is served while it is at most the staleness bound old, or while the change channel
//! is known to be delivering: a marker this instance published at `m` came back, `m` is at
//! most the bound ago, and the entry was loaded while the current subscription was live. A
//! change committed before `m` has then been delivered (and dropped the entry); one committed
//! after it is less than the bound old. So a session changed or ended elsewhere is never
//! served past the bound, whether the channel works or not.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use quick_cache::Lifecycle;

use super::super::{SessionFilter, SessionId, SessionRecord};

/// How many recent invalidations a load that raced them can be checked against.
const RECENT: usize = 128;

/// An entry's key: the first 128 bits of the SHA-256 digest of the session id.
type Key = u128;

fn key(digest: &[u8; 32]) -> Key {
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(k)
}

/// One cached session.
#[derive(Clone)]
pub(super) struct Entry {
    record: Arc<SessionRecord>,
    /// When the load that read it began (ms on the cache's clock).
    loaded: u64,
    weight: u32,
}

/// Counts evictions.
#[derive(Clone)]
pub(super) struct Evictions(metrics::Counter);

impl Lifecycle<Key, Entry> for Evictions {
    type RequestState = ();
    fn on_evict(&self, _: &mut (), _: Key, _: Entry) {
        self.0.increment(1);
    }
}

#[derive(Clone)]
pub(super) struct Weigh;

impl quick_cache::Weighter<Key, Entry> for Weigh {
    fn weight(&self, _: &Key, entry: &Entry) -> u64 {
        u64::from(entry.weight)
    }
}

type Map = quick_cache::sync::Cache<Key, Entry, Weigh, std::hash::RandomState, Evictions>;

/// The recent invalidations, so that a load that began before one does not cache what it read.
struct Recent {
    seq: u64,
    /// Loads that began before this sequence number cache nothing (an invalidation by filter).
    barrier: u64,
    keys: VecDeque<(u64, Key)>,
}

impl Recent {
    fn allows(&self, start: u64, key: Key) -> bool {
        if self.seq == start {
            return true;
        }
        if self.barrier > start {
            return false;
        }
        match self.keys.front() {
            // Older invalidations were forgotten: one of them may have been this session's.
            Some((first, _)) if *first > start + 1 => false,
            _ => !self.keys.iter().any(|(s, k)| *s > start && *k == key),
        }
    }
}

/// A load in progress: where the invalidations stood when it began.
#[derive(Clone, Copy)]
pub(super) struct Ticket {
    seq: u64,
    at: u64,
}

pub(super) struct Entries {
    map: Map,
    recent: Mutex<Recent>,
    base: Instant,
    bound: u64,
    /// The least weight of an entry: the byte budget over the entry budget, so both hold.
    min_weight: u64,
    /// 1 + when the last marker that came back was sent (ms); 0: none in this subscription.
    watermark: AtomicU64,
    /// When the current subscription began (ms); `u64::MAX`: there is none.
    covered_since: AtomicU64,
    hits: crate::observe::CacheCounters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Entries {
    pub fn new(max_entries: usize, max_bytes: u64, bound: Duration) -> Self {
        let evictions = Evictions(crate::observe::cache_evictions("sessions"));
        let max_entries = max_entries.max(1);
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(max_entries)
            .weight_capacity(max_bytes.max(1))
            .build()
            .unwrap_or_else(|_| unreachable!("both capacities are set"));
        Entries {
            map: Map::with_options(options, Weigh, std::hash::RandomState::new(), evictions),
            recent: Mutex::new(Recent {
                seq: 0,
                barrier: 0,
                keys: VecDeque::with_capacity(RECENT),
            }),
            base: Instant::now(),
            bound: u64::try_from(bound.as_millis()).unwrap_or(u64::MAX),
            min_weight: (max_bytes / max_entries as u64).max(1),
            watermark: AtomicU64::new(0),
            covered_since: AtomicU64::new(u64::MAX),
            hits: crate::observe::CacheCounters::new("sessions"),
        }
    }

    /// Milliseconds on the cache's clock.
    pub fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The cached record of `id`, if it may be served now. A miss is counted only when
    /// `count_miss` (a lookup that is tried again is counted once).
    pub fn get(&self, id: &SessionId, count_miss: bool) -> Option<Arc<SessionRecord>> {
        let fresh = self
            .map
            .get(&key(&id.digest()))
            .filter(|e| self.may_serve(e));
        if fresh.is_some() || count_miss {
            self.hits.record(fresh.is_some());
        }
        fresh.map(|e| e.record)
    }

    fn may_serve(&self, e: &Entry) -> bool {
        let now = self.now();
        if now.saturating_sub(e.loaded) <= self.bound {
            return true;
        }
        let w = self.watermark.load(Ordering::Acquire);
        w != 0
            && now.saturating_sub(w - 1) <= self.bound
            && e.loaded >= self.covered_since.load(Ordering::Acquire)
    }

    /// Notes where invalidations stand before a load.
    pub fn ticket(&self) -> Ticket {
        let seq = lock(&self.recent).seq;
        Ticket {
            seq,
            at: self.now(),
        }
    }

    /// Caches what a load that began at `ticket` read, unless the session was invalidated
    /// since.
    pub fn insert(&self, ticket: Ticket, id: &SessionId, record: Arc<SessionRecord>) {
        let k = key(&id.digest());
        let weight = super::weight(&record).max(self.min_weight);
        let weight = u32::try_from(weight).unwrap_or(u32::MAX);
        let recent = lock(&self.recent);
        if !recent.allows(ticket.seq, k) {
            return;
        }
        let loaded = ticket.at;
        self.map.insert(
            k,
            Entry {
                record,
                loaded,
                weight,
            },
        );
        drop(recent);
    }

    /// Drops the session `id` (changed or ended here).
    pub fn invalidate_id(&self, id: &SessionId) {
        self.invalidate_digest(id.digest());
    }

    /// Drops the session whose id has `digest` (changed or ended somewhere).
    pub fn invalidate_digest(&self, digest: [u8; 32]) {
        let k = key(&digest);
        let mut recent = lock(&self.recent);
        recent.seq += 1;
        let seq = recent.seq;
        if recent.keys.len() == RECENT {
            recent.keys.pop_front();
        }
        recent.keys.push_back((seq, k));
        self.map.remove(&k);
        drop(recent);
    }

    /// Drops every session `filter` selects.
    pub fn invalidate_matching(&self, filter: &SessionFilter) {
        let mut recent = lock(&self.recent);
        recent.seq += 1;
        recent.barrier = recent.seq;
        self.map.retain(|_, e| !filter.matches(&e.record));
        drop(recent);
    }

    /// A subscription began: entries loaded from now on are covered by its markers.
    pub fn subscribed(&self) {
        self.watermark.store(0, Ordering::Release);
        self.covered_since.store(self.now(), Ordering::Release);
    }

    /// The subscription was lost: only the staleness bound holds until the next one.
    pub fn unsubscribed(&self) {
        self.covered_since.store(u64::MAX, Ordering::Release);
        self.watermark.store(0, Ordering::Release);
    }

    /// A marker sent at `sent` (ms) came back through the current subscription.
    pub fn marker_returned(&self, sent: u64) {
        self.watermark
            .fetch_max(sent.saturating_add(1), Ordering::AcqRel);
    }

    /// How many sessions are cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}
