//! In-memory stores: for tests, demos, and single-process apps that may lose state on restart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;

use super::{
    Identity, NewUser, SessionFilter, SessionId, SessionRecord, SessionStore, SettingsStore,
    StoreError, StoreResult, User, UserId, UserStore, UserUpdate,
};
use crate::config::ProviderSettings;

#[derive(Default)]
struct Inner {
    users: HashMap<UserId, User>,
    identities: HashMap<Identity, UserId>,
    settings: BTreeMap<String, ProviderSettings>,
    sessions: HashMap<SessionId, Arc<SessionRecord>>,
    /// The sessions each [`SessionFilter`] selects, by a keyed hash of the filter (a copy of
    /// each filter would cost more than the session's own record): kept in step with
    /// `sessions` by `put_session` and `remove_session`, the only writers of either. Readers
    /// check `SessionFilter::matches`, so two filters sharing a hash select nothing extra.
    session_index: HashMap<u64, Ids>,
    index_hasher: std::hash::RandomState,
    stored_since_sweep: usize,
    consumed: HashMap<String, SystemTime>,
    consumed_since_sweep: usize,
}

/// The sessions of one index entry: most filters select one session (a provider session's
/// `sid`), kept inline; a user's or an account's many get a set.
enum Ids {
    One(SessionId),
    Many(HashSet<SessionId>),
}

impl Ids {
    fn insert(&mut self, id: &SessionId) {
        match self {
            Ids::One(one) if one == id => {}
            Ids::One(one) => *self = Ids::Many(HashSet::from([one.clone(), id.clone()])),
            Ids::Many(set) => {
                set.insert(id.clone());
            }
        }
    }

    /// Removes `id`; whether none are left.
    fn remove(&mut self, id: &SessionId) -> bool {
        match self {
            Ids::One(one) => one == id,
            Ids::Many(set) => {
                set.remove(id);
                set.is_empty()
            }
        }
    }

    fn to_vec(&self) -> Vec<SessionId> {
        match self {
            Ids::One(one) => vec![one.clone()],
            Ids::Many(set) => set.iter().cloned().collect(),
        }
    }
}

impl Inner {
    fn index_keys(&self, record: &SessionRecord) -> Vec<u64> {
        SessionFilter::all_for(record)
            .iter()
            .map(|f| self.index_hasher.hash_one(f))
            .collect()
    }

    fn put_session(&mut self, id: &SessionId, record: Arc<SessionRecord>) {
        let new = self.index_keys(&record);
        if let Some(old) = self.sessions.insert(id.clone(), record) {
            for k in self.index_keys(&old) {
                if !new.contains(&k) {
                    self.unindex(k, id);
                }
            }
        }
        for k in new {
            match self.session_index.get_mut(&k) {
                Some(ids) => ids.insert(id),
                None => {
                    self.session_index.insert(k, Ids::One(id.clone()));
                }
            }
        }
    }

    fn remove_session(&mut self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        let old = self.sessions.remove(id)?;
        for k in self.index_keys(&old) {
            self.unindex(k, id);
        }
        Some(old)
    }

    fn unindex(&mut self, key: u64, id: &SessionId) {
        if let Some(ids) = self.session_index.get_mut(&key)
            && ids.remove(id)
        {
            self.session_index.remove(&key);
        }
    }

    /// The ids `filter` selects (live or not), and perhaps a few more: check `matches`.
    fn selected(&self, filter: &SessionFilter) -> Vec<SessionId> {
        self.session_index
            .get(&self.index_hasher.hash_one(filter))
            .map(Ids::to_vec)
            .unwrap_or_default()
    }
}

/// All three stores in memory. Cloning shares the data.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use tower_oidc::store::{MemoryStore, UserStore, Identity, NewUser};
/// let store = MemoryStore::new();
/// let id = Identity { provider: "authentik".into(), issuer: "https://a/".into(), subject: "1".into() };
/// let user = store.create_with_identity(NewUser::default(), &id).await.unwrap();
/// assert_eq!(store.find_by_identity(&id).await.unwrap().unwrap().id, user.id);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated (every mutation is a
        // single insert or remove), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    fn in_process(&self) -> bool {
        true
    }

    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        let g = self.lock();
        Ok(g.identities
            .get(identity)
            .and_then(|id| g.users.get(id))
            .cloned())
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let email = super::canonical_email(email);
        let g = self.lock();
        Ok(g.users
            .values()
            .find(|u| u.email.as_deref() == Some(email.as_str()))
            .cloned())
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        let user = NewUser {
            email: user.email.as_deref().map(super::canonical_email),
            ..user
        };
        let mut g = self.lock();
        if g.identities.contains_key(identity) {
            return Err(StoreError::conflict(
                "create user",
                "identity already linked to a user",
            ));
        }
        if let Some(email) = &user.email
            && g.users.values().any(|u| u.email.as_ref() == Some(email))
        {
            return Err(StoreError::conflict("create user", "email already taken"));
        }
        let user = User::from_new(UserId::random(), user);
        g.identities.insert(identity.clone(), user.id.clone());
        g.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        let mut g = self.lock();
        if !g.users.contains_key(user) {
            return Err(StoreError::new(
                super::StoreErrorKind::NotFound,
                "link identity",
                "no such user",
            ));
        }
        match g.identities.get(identity) {
            Some(owner) if owner == user => Ok(()),
            Some(_) => Err(StoreError::conflict(
                "link identity",
                "identity already linked to another user",
            )),
            None => {
                g.identities.insert(identity.clone(), user.clone());
                Ok(())
            }
        }
    }

    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        let mut g = self.lock();
        let u = g.users.get_mut(user).ok_or_else(|| {
            StoreError::new(
                super::StoreErrorKind::NotFound,
                "update user",
                "no such user",
            )
        })?;
        u.apply(update);
        Ok(u.clone())
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        let g = self.lock();
        let mut ids: Vec<Identity> = g
            .identities
            .iter()
            .filter(|(_, owner)| *owner == user)
            .map(|(i, _)| i.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[async_trait]
impl SettingsStore for MemoryStore {
    fn in_process(&self) -> bool {
        true
    }

    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError> {
        Ok(self.lock().settings.get(provider).cloned())
    }

    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError> {
        Ok(self
            .lock()
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError> {
        self.lock()
            .settings
            .insert(provider.to_owned(), settings.clone());
        Ok(())
    }

    async fn delete(&self, provider: &str) -> Result<(), StoreError> {
        self.lock().settings.remove(provider);
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn in_process(&self) -> bool {
        true
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .load_shared(id)
            .await?
            .map(|r| SessionRecord::clone(&r)))
    }

    fn peek(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        let g = self.lock();
        g.sessions
            .get(id)
            .filter(|r| !r.is_expired(SystemTime::now()))
            .cloned()
    }

    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let now = SystemTime::now();
        let mut g = self.lock();
        match g.sessions.get(id) {
            Some(r) if r.is_expired(now) => {
                g.remove_session(id);
                Ok(None)
            }
            Some(r) => Ok(Some(Arc::clone(r))),
            None => Ok(None),
        }
    }

    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool> {
        let now = SystemTime::now();
        let mut g = self.lock();
        match g.sessions.get(id) {
            Some(r) if !r.is_expired(now) && r.version == next.predecessor() => {
                if next.is_expired(now) {
                    g.remove_session(id);
                } else {
                    g.put_session(id, Arc::new(next.clone()));
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let mut g = self.lock();
        // Sweep expired sessions now and then, so an app that never restarts does not grow:
        // after as many new sessions as half of those kept (at least 256), so that the sweep's
        // scan costs each insert O(1) however many sessions there are.
        g.stored_since_sweep += 1;
        if g.stored_since_sweep >= (g.sessions.len() / 2).max(256) {
            g.stored_since_sweep = 0;
            let expired: Vec<SessionId> = g
                .sessions
                .iter()
                .filter(|(_, r)| r.is_expired(now))
                .map(|(id, _)| id.clone())
                .collect();
            for id in &expired {
                g.remove_session(id);
            }
        }
        g.put_session(id, Arc::new(record.clone()));
        Ok(())
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.lock().remove_session(id);
        Ok(())
    }

    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let now = SystemTime::now();
        let g = self.lock();
        Ok(g.selected(filter)
            .iter()
            .filter_map(|id| g.sessions.get(id))
            .filter(|r| !r.is_expired(now) && filter.matches(r))
            .map(|r| SessionRecord::clone(r))
            .collect())
    }

    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        let now = SystemTime::now();
        let mut g = self.lock();
        let mut ended = Vec::new();
        for id in g.selected(filter) {
            if !g.sessions.get(&id).is_some_and(|r| filter.matches(r)) {
                continue;
            }
            if let Some(r) = g.remove_session(&id)
                && !r.is_expired(now)
            {
                ended.push(SessionRecord::clone(&r));
            }
        }
        Ok(ended)
    }

    async fn consume_transaction(
        &self,
        id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let now = SystemTime::now();
        let mut g = self.lock();
        // A remembered id whose memory has expired is taken again, as by the SQL store.
        if g.consumed.get(id).is_some_and(|exp| *exp > now) {
            return Ok(false);
        }
        // Expired ids are swept as sessions are (see `store`): after as many new ones as half
        // of those kept, so each callback pays O(1) however many sign-ins the last minutes saw
        // (a scan on every callback made a busy instance's callbacks O(n) under the lock).
        g.consumed_since_sweep += 1;
        if g.consumed_since_sweep >= (g.consumed.len() / 2).max(256) {
            g.consumed_since_sweep = 0;
            g.consumed.retain(|_, exp| *exp > now);
        }
        g.consumed.insert(id.to_owned(), expires_at);
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
