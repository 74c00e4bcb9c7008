//! Following a store's change channel: sessions changed elsewhere leave the cache, and markers
//! sent through the channel prove, when they come back, that it still delivers.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use super::entries::Entries;
use crate::store::{SessionChange, SessionChanges};

/// How long subscribing may take before it counts as failed.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts to subscribe.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Follows `changes` for `entries` until they are dropped (the layer went away).
pub(super) async fn follow(
    entries: Weak<Entries>,
    changes: Arc<dyn SessionChanges>,
    bound: Duration,
) {
    let nonce = crate::util::random_hex(8);
    let every = (bound / 4).max(Duration::from_millis(10));
    // A subscription whose markers stop coming back is silently broken: subscribe again.
    let silent = (bound * 5).max(Duration::from_secs(5));
    let mut generation = 0u64;
    let mut backoff = Duration::from_millis(100);
    let mut failing = false;
    loop {
        if entries.strong_count() == 0 {
            return;
        }
        let mut stream = match tokio::time::timeout(SUBSCRIBE_TIMEOUT, changes.subscribe()).await {
            Ok(Ok(stream)) => stream,
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                if failing {
                    tracing::debug!(error = %why, "still cannot follow session changes");
                } else {
                    tracing::warn!(error = %why, "cannot follow session changes; cached sessions are revalidated after the staleness bound");
                }
                failing = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        if failing {
            tracing::info!("following session changes again");
        }
        failing = false;
        backoff = Duration::from_millis(100);
        generation += 1;
        match entries.upgrade() {
            Some(e) => e.subscribed(),
            None => return,
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_return = Instant::now();
        loop {
            tokio::select! {
                change = stream.next() => {
                    let Some(e) = entries.upgrade() else { return };
                    match change {
                        Some(SessionChange::Session(digest)) => e.invalidate_digest(digest),
                        Some(SessionChange::Marker(m)) => {
                            if let Some(sent) = own_marker(&m, &nonce, generation) {
                                e.marker_returned(sent);
                                last_return = Instant::now();
                            }
                        }
                        None => {
                            e.unsubscribed();
                            tracing::warn!("lost the session change channel; subscribing again");
                            break;
                        }
                    }
                }
                _ = tick.tick() => {
                    let Some(e) = entries.upgrade() else { return };
                    if last_return.elapsed() > silent {
                        e.unsubscribed();
                        tracing::warn!("no marker came back through the session change channel; subscribing again");
                        break;
                    }
                    let marker = format!("{nonce}.{generation}.{}", e.now());
                    drop(e);
                    if let Ok(Err(err)) = tokio::time::timeout(bound, changes.mark(&marker)).await {
                        tracing::debug!(error = %err, "could not send a session change marker");
                    }
                }
            }
        }
    }
}

/// When a marker of this follower's current subscription was sent, if `marker` is one.
fn own_marker(marker: &str, nonce: &str, generation: u64) -> Option<u64> {
    let mut parts = marker.split('.');
    let (n, g, sent) = (parts.next()?, parts.next()?, parts.next()?);
    (n == nonce && g.parse::<u64>().ok()? == generation && parts.next().is_none())
        .then(|| sent.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::own_marker;

    #[test]
    fn only_this_followers_current_markers_count() {
        assert_eq!(own_marker("ab.3.1200", "ab", 3), Some(1200));
        assert_eq!(own_marker("ab.2.1200", "ab", 3), None);
        assert_eq!(own_marker("cd.3.1200", "ab", 3), None);
        assert_eq!(own_marker("ab.3.x", "ab", 3), None);
        assert_eq!(own_marker("ab.3.1.2", "ab", 3), None);
    }
}
