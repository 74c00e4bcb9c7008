//! The builder's stores, and the session cache it puts in front of a shared session store.

use std::sync::Arc;

use super::OidcLayerBuilder;
use crate::store::{SessionCache, SessionStore, SettingsStore, UserStore};

impl OidcLayerBuilder {
    /// One store for settings, users and sessions (e.g. a `SqliteStore`, or a `MemoryStore`
    /// in tests): the same as `.settings(s.clone()).users(s.clone()).sessions(s)`.
    ///
    /// ```
    /// use tower_oidc::{OidcLayer, store::MemoryStore};
    /// let layer = OidcLayer::builder()
    ///     .store(MemoryStore::new())
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()
    ///     .unwrap();
    /// # let _ = layer;
    /// ```
    pub fn store<S>(self, s: S) -> Self
    where
        S: SettingsStore + UserStore + SessionStore + Clone,
    {
        self.settings(s.clone()).users(s.clone()).sessions(s)
    }
    /// The settings store (default: memory, seeded from the providers' `[settings]` tables).
    pub fn settings(mut self, s: impl SettingsStore) -> Self {
        self.settings = Some(Arc::new(s));
        self
    }
    /// The settings store, shared.
    pub fn settings_arc(mut self, s: Arc<dyn SettingsStore>) -> Self {
        self.settings = Some(s);
        self
    }
    /// The user store (default: memory).
    pub fn users(mut self, s: impl UserStore) -> Self {
        self.users = Some(Arc::new(s));
        self
    }
    /// The user store, shared.
    pub fn users_arc(mut self, s: Arc<dyn UserStore>) -> Self {
        self.users = Some(s);
        self
    }
    /// The session store (default: memory).
    pub fn sessions(mut self, s: impl SessionStore) -> Self {
        self.sessions = Some(Arc::new(s));
        self
    }
    /// The session store, shared.
    pub fn sessions_arc(mut self, s: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(s);
        self
    }
    /// The cache of verified sessions in front of the session store (default
    /// [`SessionCache::default`]: 100,000 sessions, 128 MiB, a staleness bound of 1 s). It
    /// makes a signed-in request on Postgres, SQLite or Redis cost about what it costs on
    /// memory; a session ended on another instance is refused here within milliseconds
    /// (Postgres `LISTEN/NOTIFY`, Redis pub/sub), and never later than the staleness bound
    /// (SQLite, or a change channel that is down). A store that answers from this process's
    /// memory ([`MemoryStore`](crate::store::MemoryStore)) gets no cache.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_oidc::{OidcLayer, store::SessionCache};
    /// let layer = OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .session_cache(SessionCache::new().staleness(Duration::from_millis(500)))
    ///     .build()
    ///     .unwrap();
    /// # let _ = layer;
    /// ```
    pub fn session_cache(mut self, cache: SessionCache) -> Self {
        self.session_cache = cache;
        self
    }
}
