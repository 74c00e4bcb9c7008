//! The rules of the session cache, one by one.

use std::sync::Arc;
use std::time::Duration;

use super::entries::Entries;
use crate::store::{NewUser, SessionFilter, SessionId, SessionRecord, User, UserId};

fn record(user: &str) -> Arc<SessionRecord> {
    let user = User::from_new(UserId(user.into()), NewUser::default());
    Arc::new(SessionRecord::new(user, "authentik", u64::MAX))
}

/// Cached from a load that began now.
fn cached(entries: &Entries, id: &SessionId, user: &str) {
    let ticket = entries.ticket();
    entries.insert(ticket, id, record(user));
}

const LONG: Duration = Duration::from_secs(3600);
const SHORT: Duration = Duration::from_millis(30);

#[test]
fn a_cached_session_is_served_until_the_bound() {
    let entries = Entries::new(100, 1 << 20, LONG);
    let id = SessionId::random();
    assert!(entries.get(&id, true).is_none());
    cached(&entries, &id, "u1");
    assert_eq!(entries.get(&id, true).unwrap().user.id.0, "u1");
}

#[test]
fn without_a_channel_an_entry_older_than_the_bound_is_not_served() {
    let entries = Entries::new(100, 1 << 20, SHORT);
    let id = SessionId::random();
    cached(&entries, &id, "u1");
    std::thread::sleep(SHORT * 2);
    assert!(entries.get(&id, true).is_none());
}

#[test]
fn a_marker_that_came_back_covers_entries_loaded_during_its_subscription() {
    let entries = Entries::new(100, 1 << 20, SHORT);
    let before = SessionId::random();
    cached(&entries, &before, "u0");
    std::thread::sleep(Duration::from_millis(2));
    entries.subscribed();
    let id = SessionId::random();
    cached(&entries, &id, "u1");
    std::thread::sleep(SHORT * 2);
    // The channel delivers: a marker sent just now came back.
    entries.marker_returned(entries.now());
    assert!(entries.get(&id, true).is_some());
    // Loaded before the subscription began: changes of it may have been missed.
    assert!(entries.get(&before, true).is_none());
    // The subscription is lost: only the bound holds.
    entries.unsubscribed();
    assert!(entries.get(&id, true).is_none());
    // A new one: entries loaded before it are not covered by its markers.
    std::thread::sleep(Duration::from_millis(2));
    entries.subscribed();
    entries.marker_returned(entries.now());
    assert!(entries.get(&id, true).is_none());
}

#[test]
fn a_marker_older_than_the_bound_covers_nothing() {
    let entries = Entries::new(100, 1 << 20, SHORT);
    entries.subscribed();
    let id = SessionId::random();
    cached(&entries, &id, "u1");
    entries.marker_returned(entries.now());
    std::thread::sleep(SHORT * 2);
    assert!(entries.get(&id, true).is_none());
}

#[test]
fn a_change_announced_by_digest_drops_the_session() {
    let entries = Entries::new(100, 1 << 20, LONG);
    let (a, b) = (SessionId::random(), SessionId::random());
    cached(&entries, &a, "u1");
    cached(&entries, &b, "u2");
    entries.invalidate_digest(a.digest());
    assert!(entries.get(&a, true).is_none());
    assert!(entries.get(&b, true).is_some());
}

#[test]
fn a_load_that_raced_a_change_of_its_session_caches_nothing() {
    let entries = Entries::new(100, 1 << 20, LONG);
    let (id, other) = (SessionId::random(), SessionId::random());
    let ticket = entries.ticket();
    // The store changed the session after the load read it, before the load cached it.
    entries.invalidate_digest(id.digest());
    entries.insert(ticket, &id, record("u1"));
    assert!(entries.get(&id, true).is_none());
    // A change of another session does not stop it.
    let ticket = entries.ticket();
    entries.invalidate_digest(other.digest());
    entries.insert(ticket, &id, record("u1"));
    assert!(entries.get(&id, true).is_some());
}

#[test]
fn a_load_that_raced_more_changes_than_are_remembered_caches_nothing() {
    let entries = Entries::new(100, 1 << 20, LONG);
    let id = SessionId::random();
    let ticket = entries.ticket();
    for _ in 0..500 {
        entries.invalidate_digest(SessionId::random().digest());
    }
    entries.insert(ticket, &id, record("u1"));
    assert!(entries.get(&id, true).is_none());
}

#[test]
fn ending_sessions_by_filter_drops_them_and_what_loads_racing_it_read() {
    let entries = Entries::new(100, 1 << 20, LONG);
    let (a, b, c) = (
        SessionId::random(),
        SessionId::random(),
        SessionId::random(),
    );
    cached(&entries, &a, "u1");
    cached(&entries, &b, "u2");
    let racing = entries.ticket();
    entries.invalidate_matching(&SessionFilter::User(UserId("u1".into())));
    assert!(entries.get(&a, true).is_none());
    assert!(entries.get(&b, true).is_some());
    entries.insert(racing, &c, record("u1"));
    assert!(entries.get(&c, true).is_none());
    // A digest announced after the filter still finds nothing stale left in the index.
    entries.invalidate_digest(a.digest());
    assert!(entries.get(&a, true).is_none());
}

#[test]
fn the_cache_keeps_within_its_entry_budget() {
    let entries = Entries::new(16, 1 << 30, LONG);
    for i in 0..200 {
        cached(&entries, &SessionId::random(), &format!("u{i}"));
    }
    assert!(entries.len() <= 16, "{} entries", entries.len());
}

#[test]
fn the_cache_keeps_within_its_byte_budget() {
    // Each entry weighs over 256 bytes: 4 KiB holds fewer than 16.
    let entries = Entries::new(100_000, 4096, LONG);
    for i in 0..200 {
        cached(&entries, &SessionId::random(), &format!("u{i}"));
    }
    assert!(entries.len() < 16, "{} entries", entries.len());
}
