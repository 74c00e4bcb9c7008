//! Persistence: the traits [`UserStore`], [`SettingsStore`] and [`SessionStore`], and their
//! backends.
//!
//! The traits are object-safe (`Arc<dyn UserStore>`) and their errors say what failed. The
//! in-memory backends ([`MemoryStore`]) always exist; SQLite, Postgres and Redis backends sit
//! behind the cargo features `sqlite`, `postgres` and `redis`:
//!
//! | backend | feature | stores | for |
//! | --- | --- | --- | --- |
//! | [`MemoryStore`] | — | users, settings, sessions | tests, demos |
//! | `SqliteStore` | `sqlite` (default) | users, settings, sessions | one instance |
//! | `PostgresStore` | `postgres` | users, settings, sessions | several instances |
//! | `RedisSessionStore` | `redis` | sessions | several instances |
//!
//! The SQL stores create and migrate their tables (prefixed `tower_oidc_`) when opened, keep
//! their own migration record (`tower_oidc_migrations`, not sqlx's `_sqlx_migrations`), and
//! store client secrets encrypted with a `SecretKey` the app provides (AES-256-GCM); session
//! and transaction ids are stored as SHA-256 hashes. An unreachable database gives
//! [`StoreErrorKind::Unavailable`] within seconds, never a panic.
//!
//! ```no_run
//! # async fn f() -> Result<(), tower_oidc::store::StoreError> {
//! # #[cfg(feature = "sqlite")] {
//! use tower_oidc::store::{SecretKey, SqliteStore};
//! let key = SecretKey::from_base64(&std::env::var("TOWER_OIDC_SECRET_KEY").unwrap_or_default())?;
//! let store = SqliteStore::open("app.db").await?.with_secret_key(key);
//! # }
//! # Ok(()) }
//! ```

mod cache;
mod changes;
mod error;
mod filter;
mod memory;
mod model;
mod observed;
#[cfg(feature = "postgres")]
mod pg_changes;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod secret_box;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::time::SystemTime;

use async_trait::async_trait;

#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[cfg(feature = "redis")]
pub use self::redis::RedisSessionStore;
pub use cache::SessionCache;
pub(crate) use cache::cached;
pub use changes::{SessionChange, SessionChanges};
pub use error::{StoreError, StoreErrorKind, StoreResult};
pub use filter::SessionFilter;
pub use memory::MemoryStore;
pub(crate) use model::with_profile_fields;
pub use model::{
    Identity, IdpSession, NewUser, SealedTokens, SessionId, SessionRecord, SignInFacts, TokenState,
    User, UserId, UserUpdate,
};
pub(crate) use observed::observed;
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use secret_box::SecretKey;
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::config::ProviderSettings;

/// The form in which the stores keep and compare emails: trimmed and lower-cased, so that
/// `Alice@Example.com ` and `alice@example.com` are one address (and one account).
pub(crate) fn canonical_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The app's users and their linked identities.
///
/// Implement it over your own user table, or use a backend of this crate. The rules a backend
/// must keep (the conformance suite in `tests/` checks them):
/// - an [`Identity`] (provider, issuer, subject) belongs to at most one user;
/// - [`UserStore::create_with_identity`] is atomic: two concurrent calls for one identity create
///   one user, and the loser gets a [`StoreErrorKind::Conflict`];
/// - [`UserStore::find_by_email`] compares the canonical (trimmed, lower-cased) email; the
///   backends of this crate also keep emails in that form (whatever `create_with_identity` is
///   given) and canonicalize the argument, so email uniqueness is case-insensitive.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user linked to `identity`, if any.
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError>;
    /// The user whose email is `email` (already canonical: trimmed and lower-cased).
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id.
    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Creates a user and links `identity` to it, atomically.
    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError>;
    /// Links `identity` to an existing user. Fails with `Conflict` if it is linked elsewhere.
    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError>;
    /// Refreshes a user's profile fields (and admin flag) from a sign-in.
    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError>;
    /// The identities linked to a user.
    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError>;
    /// Whether this store answers from this process's memory. Calls to such a store are not
    /// timed or traced ([`crate::observe`]): they cost less than timing them would.
    fn in_process(&self) -> bool {
        false
    }
}

/// Admin-editable provider settings, keyed by provider id.
#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    /// The stored settings of one provider, if any.
    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError>;
    /// All stored settings, sorted by provider id.
    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError>;
    /// Stores (creates or replaces) the settings of one provider.
    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError>;
    /// Removes the settings of one provider.
    async fn delete(&self, provider: &str) -> Result<(), StoreError>;
    /// Whether this store answers from this process's memory. Calls to such a store are not
    /// timed or traced ([`crate::observe`]): they cost less than timing them would.
    fn in_process(&self) -> bool {
        false
    }
}

/// Signed-in sessions, and the ids of consumed login transactions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if it exists and has not expired.
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
    /// Stores a session until `record.expires_at`.
    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError>;
    /// Ends a session. Deleting an unknown id is not an error.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;
    /// Replaces the session by `next` only while the stored record is the one `next` succeeds:
    /// its [`SessionRecord::version`] is still `next.version - 1` (wrapping; see
    /// [`SessionRecord::predecessor`]), atomically for every instance sharing the store:
    /// `Ok(true)` when it was replaced, `Ok(false)` when another writer changed it first or the
    /// session is gone or expired. Versions only move one step at a time, so a writer can not
    /// put back a version another writer has already passed.
    ///
    /// Refreshing a token once across instances and sliding a session's expiry build on it, so
    /// a backend must not emulate it with a load and a store.
    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool>;
    /// The live (unexpired) sessions `filter` selects, in no particular order. Backends keep an
    /// index per [`SessionFilter`] kind, so this costs the sessions found, not a scan.
    async fn find_sessions(&self, filter: &SessionFilter)
    -> Result<Vec<SessionRecord>, StoreError>;
    /// Ends every session `filter` selects, atomically per session, on every instance sharing
    /// the store, and returns the records it ended (live ones only), so that the caller can
    /// revoke their tokens at the provider. Ending nothing is not an error.
    async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError>;
    /// [`SessionStore::load`], shared. The default wraps `load`'s record in an `Arc`; a
    /// backend that keeps records in memory hands out its own (no copy per request).
    async fn load_shared(
        &self,
        id: &SessionId,
    ) -> Result<Option<std::sync::Arc<SessionRecord>>, StoreError> {
        Ok(self.load(id).await?.map(std::sync::Arc::new))
    }
    /// The session with this id if the store can answer **without waiting** (from this
    /// process's memory): a live session it holds. `None` means "ask
    /// [`load_shared`](SessionStore::load_shared)", including when the store does not know the
    /// id. The layer tries it first, so that a signed-in request whose session and user are at
    /// hand goes to the app without a future of its own. The default is `None`.
    fn peek(&self, id: &SessionId) -> Option<std::sync::Arc<SessionRecord>> {
        let _ = id;
        None
    }
    /// Marks a login transaction as consumed until `expires_at`. Returns `true` the first time
    /// for a given id and `false` on every later call: the atomic single-use check that makes a
    /// replayed or double-fired callback fail.
    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError>;
    /// Whether this store answers from this process's memory. Calls to such a store are not
    /// timed or traced ([`crate::observe`]), and the layer puts no [`SessionCache`] in front
    /// of it: they cost less than either would.
    fn in_process(&self) -> bool {
        false
    }
    /// The channel on which this store announces every change of a session to every instance
    /// sharing it, if it has one (Postgres and Redis do; SQLite does not). The layer's
    /// [`SessionCache`] follows it; without one, the cache rereads a session once it is older
    /// than the staleness bound.
    fn changes(&self) -> Option<std::sync::Arc<dyn SessionChanges>> {
        None
    }
}
