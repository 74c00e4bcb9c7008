//! Unit tests of the memory store's internals.

use std::time::{Duration, SystemTime};

use super::MemoryStore;
use crate::store::SessionStore as _;

/// Consumed transaction ids are forgotten once their memory expires, without a scan of all
/// of them on every callback: the map stays near the live ids, and an expired id can be
/// taken again (as the SQL and Redis stores behave).
#[tokio::test]
async fn consumed_transactions_are_swept_in_bounded_memory() {
    let store = MemoryStore::new();
    let past = SystemTime::now() - Duration::from_secs(1);
    let live = SystemTime::now() + Duration::from_secs(600);
    for (prefix, until) in [("old", past), ("new", live)] {
        for i in 0..10_000 {
            assert!(
                store
                    .consume_transaction(&format!("{prefix}-{i}"), until)
                    .await
                    .unwrap()
            );
        }
    }
    let len = store.lock().consumed.len();
    assert!(len < 12_000, "{len} ids remembered for 10,000 live ones");
    assert!(store.consume_transaction("old-3", live).await.unwrap());
    assert!(!store.consume_transaction("new-3", live).await.unwrap());
    assert!(!store.consume_transaction("old-3", live).await.unwrap());
}
