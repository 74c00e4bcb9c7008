//! Stores as the layer calls them: each call out of process timed and counted
//! ([`crate::observe`]) inside a `tower_oidc.store` span. In-process stores are used as they
//! are.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use super::{
    Identity, NewUser, SessionFilter, SessionId, SessionRecord, SessionStore, SettingsStore,
    StoreError, StoreResult, User, UserId, UserStore, UserUpdate,
};
use crate::config::ProviderSettings;

/// The layer's stores, each wrapped unless it is in process.
pub(crate) fn observed(
    settings: Arc<dyn SettingsStore>,
    users: Arc<dyn UserStore>,
    sessions: Arc<dyn SessionStore>,
) -> (
    Arc<dyn SettingsStore>,
    Arc<dyn UserStore>,
    Arc<dyn SessionStore>,
) {
    let settings = match settings.in_process() {
        true => settings,
        false => Arc::new(Observed(settings)),
    };
    let users = match users.in_process() {
        true => users,
        false => Arc::new(Observed(users)),
    };
    let sessions = match sessions.in_process() {
        true => sessions,
        false => Arc::new(Observed(sessions)),
    };
    (settings, users, sessions)
}

/// A store whose calls are timed, counted and traced.
struct Observed<S: ?Sized>(Arc<S>);

/// Runs one store call inside its span, and records how long it took and whether it failed.
macro_rules! observe {
    ($store:literal, $op:literal, $call:expr) => {{
        let span = tracing::debug_span!("tower_oidc.store", store = $store, operation = $op);
        let start = std::time::Instant::now();
        let out = tracing::Instrument::instrument($call, span).await;
        crate::observe::store_call($store, $op, start.elapsed(), out.is_ok());
        out
    }};
}

#[async_trait]
impl UserStore for Observed<dyn UserStore> {
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        observe!(
            "users",
            "find_by_identity",
            self.0.find_by_identity(identity)
        )
    }
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        observe!("users", "find_by_email", self.0.find_by_email(email))
    }
    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        observe!("users", "get", self.0.get(id))
    }
    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        observe!(
            "users",
            "create_with_identity",
            self.0.create_with_identity(user, identity)
        )
    }
    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        observe!(
            "users",
            "link_identity",
            self.0.link_identity(user, identity)
        )
    }
    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        observe!("users", "update", self.0.update(user, update))
    }
    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        observe!("users", "identities", self.0.identities(user))
    }
}

#[async_trait]
impl SettingsStore for Observed<dyn SettingsStore> {
    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError> {
        observe!("settings", "get", self.0.get(provider))
    }
    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError> {
        observe!("settings", "list", self.0.list())
    }
    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError> {
        observe!("settings", "put", self.0.put(provider, settings))
    }
    async fn delete(&self, provider: &str) -> Result<(), StoreError> {
        observe!("settings", "delete", self.0.delete(provider))
    }
}

#[async_trait]
impl SessionStore for Observed<dyn SessionStore> {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        observe!("sessions", "load", self.0.load(id))
    }
    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        observe!("sessions", "store", self.0.store(id, record))
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        observe!("sessions", "delete", self.0.delete(id))
    }
    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool> {
        observe!(
            "sessions",
            "compare_and_swap",
            self.0.compare_and_swap(id, next)
        )
    }
    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        observe!("sessions", "find_sessions", self.0.find_sessions(filter))
    }
    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        observe!("sessions", "end_sessions", self.0.end_sessions(filter))
    }
    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        observe!("sessions", "load", self.0.load_shared(id))
    }
    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        observe!(
            "sessions",
            "consume_transaction",
            self.0.consume_transaction(transaction_id, expires_at)
        )
    }
    fn changes(&self) -> Option<Arc<dyn super::SessionChanges>> {
        self.0.changes()
    }
    fn peek(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.0.peek(id)
    }
}
