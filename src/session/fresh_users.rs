//! Fresh users for live sessions: a session names its user by id, and the user as the app's
//! [`UserStore`] has it now — not the copy taken at sign-in — is what a request sees, at most
//! `max_age` old. A demoted admin loses admin rights, and a deleted user the session, within that
//! bound on every instance (each instance asks the store at least that often).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::store::{User, UserId, UserStore};

/// Most users remembered per instance; past it, entries older than the bound are dropped, and if
/// that is not enough, all of them (they are fetched again as needed).
const MAX_ENTRIES: usize = 100_000;

/// Each user id with when it was read and what the store said (`None`: no such user).
type Cache = HashMap<UserId, (SystemTime, Option<Arc<User>>)>;

/// The per-instance cache of users, each kept for at most `max_age`.
pub(crate) struct FreshUsers {
    users: Arc<dyn UserStore>,
    max_age: Duration,
    cache: Mutex<Cache>,
    counted: crate::observe::CacheCounters,
}

impl FreshUsers {
    pub fn new(users: Arc<dyn UserStore>, max_age: Duration) -> Self {
        FreshUsers {
            users,
            max_age,
            cache: Mutex::new(HashMap::new()),
            counted: crate::observe::CacheCounters::new("users"),
        }
    }

    /// The user `id` as the store has it, at most `max_age` old; `None` when the store no
    /// longer has them.
    pub async fn get(&self, id: &UserId, now: SystemTime) -> Result<Option<Arc<User>>, Error> {
        // The caller's clock reading (the request's): one read per request. A clock that went
        // back makes the entry stale.
        let fresh = |at: &SystemTime| now.duration_since(*at).is_ok_and(|d| d < self.max_age);
        if let Some((at, user)) = self.lock().get(id)
            && fresh(at)
        {
            self.counted.record(true);
            return Ok(user.clone());
        }
        self.counted.record(false);
        let user = self.users.get(id).await?.map(Arc::new);
        let mut cache = self.lock();
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, (at, _)| fresh(at));
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(id.clone(), (now, user.clone()));
        Ok(user)
    }

    /// The user `id` if known and at most `max_age` old, without asking the store: `None` when
    /// the store must be asked ([`FreshUsers::get`]). A miss is not counted (`get` counts it).
    pub fn get_now(&self, id: &UserId, now: SystemTime) -> Option<Arc<User>> {
        let cache = self.lock();
        let (at, user) = cache.get(id)?;
        let user = user.as_ref()?;
        if !now.duration_since(*at).is_ok_and(|d| d < self.max_age) {
            return None;
        }
        let user = user.clone();
        drop(cache);
        self.counted.record(true);
        Some(user)
    }

    /// Forgets what is known of `id` (after the app or a sign-in changed the user).
    pub fn forget(&self, id: &UserId) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
