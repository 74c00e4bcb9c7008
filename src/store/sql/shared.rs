// The store implementation shared by the SQLite and Postgres backends.
//
// The files of this folder are not modules: `sqlite.rs` and `postgres.rs` each `include!` this
// one, which includes the others at its end, so the same code is compiled once per backend
// (against that backend's sqlx types). They define before it:
// - `type Db` (the sqlx database), `type DbPool`, `type DbRow`, `type This` (the store type, a struct with the fields
//   `pool: DbPool`, `key: Option<Arc<SecretKey>>`, `ops: Arc<AtomicU64>`, `op_timeout: Duration`);
// - `const BEGIN_WRITE: &str` (how a write transaction starts), `const MIGRATION_LOCK:
//   Option<&str>` (a statement that serializes concurrent migrations), `static MIGRATOR`;
// - `const STORE_NAME: &str` (the name `Debug` shows), `const OP_TIMEOUT: Duration` (the default
//   time limit of one operation);
// - `fn unavailable_code(code: &str) -> bool` (backend error codes that mean "unreachable");
// - `macro_rules! backend_doc` (the lines of the shared doc examples that name the backend).
//
// Both backends accept `$N` placeholders, so every statement is written once:
// - this file: imports, error mapping, encoding helpers, row decoding, the constructor from a
//   pool and the builder methods, the time limit and sweep;
// - `migrate.rs`: the embedded migrations and their record;
// - `users.rs`, `settings.rs`, `sessions.rs`: `UserStore`, `SettingsStore`, `SessionStore`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use sqlx::{Executor as _, Row as _};

use super::secret_box::{self, SecretKey};
use super::{
    Identity, NewUser, SessionFilter, SessionId, SessionRecord, SessionStore, SettingsStore,
    StoreError, StoreErrorKind, StoreResult, User, UserId, UserStore, UserUpdate, canonical_email,
};
use crate::config::{AdminRules, EmailTrust, ProviderSettings, Secret};

/// Every this many session writes, expired sessions and consumed transactions are swept.
const SWEEP_EVERY: u64 = 64;

/// Maps a sqlx error to a [`StoreError`] of the right kind.
fn map_err(op: &'static str, e: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    let kind = match &e {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
            StoreErrorKind::Unavailable
        }
        // A connection cut mid-message shows up as a protocol error.
        E::Protocol(_) => StoreErrorKind::Unavailable,
        E::Database(db) if db.is_unique_violation() => StoreErrorKind::Conflict,
        E::Database(db) if db.code().is_some_and(|c| unavailable_code(&c)) => {
            StoreErrorKind::Unavailable
        }
        E::ColumnDecode { .. } | E::Decode(_) | E::ColumnNotFound(_) | E::TypeNotFound { .. } => {
            StoreErrorKind::Corrupt
        }
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, op, e.to_string())
}

fn corrupt(op: &'static str, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, op, format!("{what}: {e}"))
}

fn not_found(op: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::NotFound, op, "no such user")
}

/// SHA-256 (hex) of a session or transaction id: the tables never hold a usable id.
fn id_hash(id: &str) -> String {
    use std::fmt::Write as _;
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d.as_ref() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn now_secs() -> i64 {
    i64::try_from(crate::util::unix_now()).unwrap_or(i64::MAX)
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn to_json<T: serde::Serialize>(op: &'static str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::new(StoreErrorKind::Other, op, format!("cannot encode: {e}")))
}

fn email_trust_str(t: EmailTrust) -> &'static str {
    match t {
        EmailTrust::VerifiedClaim => "verified_claim",
        EmailTrust::Always => "always",
        EmailTrust::Never => "never",
    }
}

fn parse_email_trust(s: &str) -> Result<EmailTrust, StoreError> {
    match s {
        "verified_claim" => Ok(EmailTrust::VerifiedClaim),
        "always" => Ok(EmailTrust::Always),
        "never" => Ok(EmailTrust::Never),
        other => Err(corrupt(
            "load settings",
            "unknown email_trust",
            format!("`{other}`"),
        )),
    }
}

macro_rules! user_cols {
    () => {
        "id, email, email_verified, name, given_name, family_name, picture, username, \
         groups_json, is_admin"
    };
}

macro_rules! settings_cols {
    () => {
        "provider, enabled, url, client_id, client_secret, scopes_json, auto_register, \
         sort_order, icon, email_trust, admin_groups_json, admin_domains_json, slug, params_json, \
         refresh_tokens, internal_url, allowed_tenants_json, par"
    };
}

fn user_from_row(row: &DbRow) -> Result<User, StoreError> {
    let op = "load user";
    let get_err = |e: sqlx::Error| map_err(op, e);
    let groups: String = row.try_get("groups_json").map_err(get_err)?;
    Ok(User {
        id: UserId(row.try_get("id").map_err(get_err)?),
        email: row.try_get("email").map_err(get_err)?,
        email_verified: row.try_get("email_verified").map_err(get_err)?,
        name: row.try_get("name").map_err(get_err)?,
        given_name: row.try_get("given_name").map_err(get_err)?,
        family_name: row.try_get("family_name").map_err(get_err)?,
        picture: row.try_get("picture").map_err(get_err)?,
        username: row.try_get("username").map_err(get_err)?,
        groups: serde_json::from_str(&groups).map_err(|e| corrupt(op, "groups", e))?,
        is_admin: row.try_get("is_admin").map_err(get_err)?,
    })
}

impl std::fmt::Debug for This {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(STORE_NAME)
            .field("has_secret_key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl This {
    /// Uses an existing pool (the app's own, for instance) and migrates the database. The
    /// pool's acquire timeout is the pool's own: keep it short (a few seconds) so that a
    /// database that is down or stuck gives a quick [`StoreErrorKind::Unavailable`].
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    #[doc = backend_doc!(pool)]
    #[doc = concat!("let store = ", backend_doc!(store), "::from_pool(pool).await?;")]
    /// # Ok(()) }
    /// ```
    pub async fn from_pool(pool: DbPool) -> Result<Self, StoreError> {
        migrate(&pool).await?;
        Ok(This {
            pool,
            key: None,
            ops: Arc::new(AtomicU64::new(0)),
            op_timeout: OP_TIMEOUT,
        })
    }

    /// Sets the key that encrypts client secrets at rest (see [`SecretKey`]). Without it, the
    /// store refuses to store a client secret, and reading an encrypted one fails.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    /// use tower_oidc::store::SecretKey;
    /// let key = SecretKey::from_base64(&std::env::var("TOWER_OIDC_SECRET_KEY").unwrap_or_default())?;
    #[doc = concat!("let store = ", backend_doc!(open), ".with_secret_key(key);")]
    /// # Ok(()) }
    /// ```
    pub fn with_secret_key(mut self, key: SecretKey) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    /// Sets the time limit of one store operation (10 s by default); past it the operation
    /// fails with [`StoreErrorKind::Unavailable`].
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), tower_oidc::store::StoreError> {
    #[doc = concat!("let store = ", backend_doc!(open))]
    ///     .with_op_timeout(std::time::Duration::from_secs(2));
    /// # Ok(()) }
    /// ```
    pub fn with_op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// The connection pool, for the app's own queries.
    ///
    /// ```no_run
    #[doc = concat!("# async fn f(store: ", backend_doc!(store), ") -> Result<(), sqlx::Error> {")]
    /// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_oidc_users")
    ///     .fetch_one(store.pool())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs one store operation with the store's time limit, so that a server that stopped
    /// answering yields [`StoreErrorKind::Unavailable`] instead of a hung request.
    async fn run<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.op_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::unavailable(
                op,
                format!("no answer within {:?}", self.op_timeout),
            )),
        }
    }

    fn settings_from_row(&self, row: &DbRow) -> Result<(String, ProviderSettings), StoreError> {
        let op = "load settings";
        let get_err = |e: sqlx::Error| map_err(op, e);
        let provider: String = row.try_get("provider").map_err(get_err)?;
        let secret: Option<String> = row.try_get("client_secret").map_err(get_err)?;
        let client_secret = match secret {
            Some(s) => Some(Secret::new(secret_box::open(
                self.key.as_deref(),
                &provider,
                &s,
            )?)),
            None => None,
        };
        let scopes: Option<String> = row.try_get("scopes_json").map_err(get_err)?;
        let scopes = match scopes {
            Some(s) => Some(serde_json::from_str(&s).map_err(|e| corrupt(op, "scopes", e))?),
            None => None,
        };
        let email_trust: Option<String> = row.try_get("email_trust").map_err(get_err)?;
        let email_trust = email_trust.as_deref().map(parse_email_trust).transpose()?;
        let groups: String = row.try_get("admin_groups_json").map_err(get_err)?;
        let domains: String = row.try_get("admin_domains_json").map_err(get_err)?;
        let params: String = row.try_get("params_json").map_err(get_err)?;
        let tenants: String = row.try_get("allowed_tenants_json").map_err(get_err)?;
        let settings = ProviderSettings {
            enabled: row.try_get("enabled").map_err(get_err)?,
            url: row.try_get("url").map_err(get_err)?,
            internal_url: row.try_get("internal_url").map_err(get_err)?,
            client_id: row.try_get("client_id").map_err(get_err)?,
            client_secret,
            scopes,
            auto_register: row.try_get("auto_register").map_err(get_err)?,
            refresh_tokens: row.try_get("refresh_tokens").map_err(get_err)?,
            sort_order: row.try_get("sort_order").map_err(get_err)?,
            icon: row.try_get("icon").map_err(get_err)?,
            email_trust,
            par: row.try_get("par").map_err(get_err)?,
            admin_rules: AdminRules {
                groups: serde_json::from_str(&groups)
                    .map_err(|e| corrupt(op, "admin groups", e))?,
                email_domains: serde_json::from_str(&domains)
                    .map_err(|e| corrupt(op, "admin email domains", e))?,
            },
            slug: row.try_get("slug").map_err(get_err)?,
            params: serde_json::from_str(&params).map_err(|e| corrupt(op, "params", e))?,
            allowed_tenants: serde_json::from_str(&tenants)
                .map_err(|e| corrupt(op, "allowed tenants", e))?,
        };
        Ok((provider, settings))
    }

    /// Deletes expired sessions and consumed transactions every [`SWEEP_EVERY`] session writes.
    /// Best effort: a failed sweep is logged and retried at the next turn.
    async fn maybe_sweep(&self) {
        if self.ops.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        let r = async {
            sqlx::query("DELETE FROM tower_oidc_sessions WHERE expires_at <= $1")
                .bind(now_secs())
                .execute(&self.pool)
                .await?;
            sqlx::query("DELETE FROM tower_oidc_consumed_transactions WHERE expires_at <= $1")
                .bind(millis(SystemTime::now()))
                .execute(&self.pool)
                .await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "sweeping expired sessions failed");
        }
    }
}

include!("migrate.rs");
include!("users.rs");
include!("settings.rs");
include!("sessions.rs");
