// The store implementation shared by the SQLite and Postgres backends.
//
// This file is `include!`d by `sqlite.rs` and `postgres.rs`, which define before it:
// - `type Db` (the sqlx database), `type DbPool`, `type DbRow`, `type This` (the store type, a
//   struct with the fields `pool: DbPool`, `key: Option<Arc<SecretKey>>`, `ops: Arc<AtomicU64>`,
//   `op_timeout: Duration`);
// - `const BEGIN_WRITE: &str` (how a write transaction starts), `const MIGRATION_LOCK:
//   Option<&str>` (a statement that serializes concurrent migrations), `static MIGRATOR`;
// - `fn unavailable_code(code: &str) -> bool` (backend error codes that mean "unreachable").
//
// Both backends accept `$N` placeholders, so every statement below is written once.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use sqlx::{Executor as _, Row as _};

use super::secret_box::{self, SecretKey};
use super::{
    Identity, NewUser, SessionId, SessionRecord, SessionStore, SettingsStore, StoreError,
    StoreErrorKind, User, UserId, UserStore, UserUpdate, canonical_email,
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
         sort_order, icon, email_trust, admin_groups_json, admin_domains_json, slug, params_json"
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

impl This {
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
        let settings = ProviderSettings {
            enabled: row.try_get("enabled").map_err(get_err)?,
            url: row.try_get("url").map_err(get_err)?,
            client_id: row.try_get("client_id").map_err(get_err)?,
            client_secret,
            scopes,
            auto_register: row.try_get("auto_register").map_err(get_err)?,
            sort_order: row.try_get("sort_order").map_err(get_err)?,
            icon: row.try_get("icon").map_err(get_err)?,
            email_trust,
            admin_rules: AdminRules {
                groups: serde_json::from_str(&groups)
                    .map_err(|e| corrupt(op, "admin groups", e))?,
                email_domains: serde_json::from_str(&domains)
                    .map_err(|e| corrupt(op, "admin email domains", e))?,
            },
            slug: row.try_get("slug").map_err(get_err)?,
            params: serde_json::from_str(&params).map_err(|e| corrupt(op, "params", e))?,
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

/// Applies the embedded migrations that are not applied yet, in one transaction, recorded in
/// `tower_oidc_migrations` (not sqlx's `_sqlx_migrations`, so an app that runs its own sqlx
/// migrations on the same database is not disturbed).
///
/// Boxed as a `Send` future so that `from_pool` can be spawned (written as a plain `async fn`,
/// rustc loses the `Send`-ness of the sqlx executor lifetimes in callers).
fn migrate(pool: &DbPool) -> futures_util::future::BoxFuture<'_, Result<(), StoreError>> {
    Box::pin(async move {
        let op = "migrate";
        let me = |e| map_err(op, e);
        let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(me)?;
        if let Some(lock) = MIGRATION_LOCK {
            sqlx::query(lock).execute(&mut *tx).await.map_err(me)?;
        }
        // Plain `&str` statements run unprepared (several statements per migration file are
        // fine); `sqlx::raw_sql` would do the same but makes this future lose `Send`.
        (&mut *tx)
            .execute(
                "CREATE TABLE IF NOT EXISTS tower_oidc_migrations (\
                 version BIGINT NOT NULL PRIMARY KEY, \
                 description TEXT NOT NULL, \
                 checksum TEXT NOT NULL, \
                 applied_at BIGINT NOT NULL)",
            )
            .await
            .map_err(me)?;
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, checksum FROM tower_oidc_migrations")
                .fetch_all(&mut *tx)
                .await
                .map_err(me)?;
        for m in MIGRATOR.iter() {
            if m.migration_type.is_down_migration() {
                continue;
            }
            let checksum: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            match applied.iter().find(|(v, _)| *v == m.version) {
                Some((_, c)) if *c == checksum => continue,
                Some(_) => {
                    return Err(StoreError::new(
                        StoreErrorKind::Corrupt,
                        op,
                        format!(
                            "migration {} ({}) was changed after it was applied",
                            m.version, m.description
                        ),
                    ));
                }
                None => {}
            }
            (&mut *tx).execute(m.sql.as_ref()).await.map_err(me)?;
            sqlx::query(
                "INSERT INTO tower_oidc_migrations (version, description, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.description.as_ref())
            .bind(checksum)
            .bind(now_secs())
            .execute(&mut *tx)
            .await
            .map_err(me)?;
        }
        tx.commit().await.map_err(me)
    })
}

#[async_trait]
impl UserStore for This {
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        let op = "find user by identity";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE id = (SELECT user_id FROM tower_oidc_identities \
                 WHERE provider = $1 AND issuer = $2 AND subject = $3)"
            ))
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let op = "find user by email";
        let email = canonical_email(email);
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE email = $1"
            ))
            .bind(&email)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let op = "get user";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM tower_oidc_users WHERE id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        let op = "create user";
        let me = |e| map_err(op, e);
        let user = NewUser {
            email: user.email.as_deref().map(canonical_email),
            ..user
        };
        let user = User::from_new(UserId::random(), user);
        let groups = to_json(op, &user.groups)?;
        self.run(op, async {
            let now = now_secs();
            // Writes only, user row first: the unique keys (identity primary key, email) decide
            // the race between concurrent first sign-ins, and the loser's whole transaction
            // (its user row included) rolls back.
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(me)?;
            sqlx::query(
                "INSERT INTO tower_oidc_users (id, email, email_verified, name, given_name, \
                 family_name, picture, username, groups_json, is_admin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(user.id.as_str())
            .bind(&user.email)
            .bind(user.email_verified)
            .bind(&user.name)
            .bind(&user.given_name)
            .bind(&user.family_name)
            .bind(&user.picture)
            .bind(&user.username)
            .bind(&groups)
            .bind(user.is_admin)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(me)?;
            sqlx::query(
                "INSERT INTO tower_oidc_identities (provider, issuer, subject, user_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(user.id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(me)?;
            tx.commit().await.map_err(me)?;
            Ok(user)
        })
        .await
    }

    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        let op = "link identity";
        let me = |e| map_err(op, e);
        self.run(op, async {
            // One statement: inserts only when the user exists and the identity is free.
            let done = sqlx::query(
                "INSERT INTO tower_oidc_identities (provider, issuer, subject, user_id, \
                 created_at) SELECT $1, $2, $3, u.id, $5 FROM tower_oidc_users u WHERE u.id = $4 \
                 ON CONFLICT (provider, issuer, subject) DO NOTHING",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(user.as_str())
            .bind(now_secs())
            .execute(&self.pool)
            .await
            .map_err(me)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let owner: Option<String> = sqlx::query_scalar(
                "SELECT user_id FROM tower_oidc_identities \
                 WHERE provider = $1 AND issuer = $2 AND subject = $3",
            )
            .bind(&identity.provider)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(me)?;
            match owner {
                Some(o) if o == user.as_str() => Ok(()),
                Some(_) => Err(StoreError::conflict(
                    op,
                    "identity already linked to another user",
                )),
                None => Err(not_found(op)),
            }
        })
        .await
    }

    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        let op = "update user";
        let groups = to_json(op, &update.groups)?;
        self.run(op, async {
            let row = sqlx::query(concat!(
                "UPDATE tower_oidc_users SET name = $2, given_name = $3, family_name = $4, \
                 picture = $5, username = $6, groups_json = $7, \
                 is_admin = COALESCE($8, is_admin), updated_at = $9 WHERE id = $1 RETURNING ",
                user_cols!()
            ))
            .bind(user.as_str())
            .bind(&update.name)
            .bind(&update.given_name)
            .bind(&update.family_name)
            .bind(&update.picture)
            .bind(&update.username)
            .bind(&groups)
            .bind(update.is_admin)
            .bind(now_secs())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            match row {
                Some(row) => user_from_row(&row),
                None => Err(not_found(op)),
            }
        })
        .await
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        let op = "list identities";
        self.run(op, async {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT provider, issuer, subject FROM tower_oidc_identities WHERE user_id = $1 \
                 ORDER BY provider, issuer, subject",
            )
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            let mut ids: Vec<Identity> = rows
                .into_iter()
                .map(|(provider, issuer, subject)| Identity {
                    provider,
                    issuer,
                    subject,
                })
                .collect();
            // The same order as `Identity`'s `Ord`, whatever the database's collation.
            ids.sort();
            Ok(ids)
        })
        .await
    }
}

#[async_trait]
impl SettingsStore for This {
    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError> {
        let op = "load settings";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                settings_cols!(),
                " FROM tower_oidc_provider_settings WHERE provider = $1"
            ))
            .bind(provider)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            match row {
                Some(row) => Ok(Some(self.settings_from_row(&row)?.1)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError> {
        let op = "list settings";
        self.run(op, async {
            let rows = sqlx::query(concat!(
                "SELECT ",
                settings_cols!(),
                " FROM tower_oidc_provider_settings"
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            let mut all = rows
                .iter()
                .map(|r| self.settings_from_row(r))
                .collect::<Result<Vec<_>, _>>()?;
            all.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(all)
        })
        .await
    }

    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError> {
        let op = "store settings";
        let secret = settings
            .client_secret
            .as_ref()
            .map(|s| secret_box::seal(self.key.as_deref(), provider, s.expose()))
            .transpose()?;
        let scopes = settings
            .scopes
            .as_ref()
            .map(|s| to_json(op, s))
            .transpose()?;
        let groups = to_json(op, &settings.admin_rules.groups)?;
        let domains = to_json(op, &settings.admin_rules.email_domains)?;
        let params = to_json(op, &settings.params)?;
        self.run(op, async {
            sqlx::query(
                "INSERT INTO tower_oidc_provider_settings (provider, enabled, url, client_id, \
                 client_secret, scopes_json, auto_register, sort_order, icon, email_trust, \
                 admin_groups_json, admin_domains_json, slug, params_json, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (provider) DO UPDATE SET enabled = excluded.enabled, \
                 url = excluded.url, client_id = excluded.client_id, \
                 client_secret = excluded.client_secret, scopes_json = excluded.scopes_json, \
                 auto_register = excluded.auto_register, sort_order = excluded.sort_order, \
                 icon = excluded.icon, email_trust = excluded.email_trust, \
                 admin_groups_json = excluded.admin_groups_json, \
                 admin_domains_json = excluded.admin_domains_json, slug = excluded.slug, \
                 params_json = excluded.params_json, updated_at = excluded.updated_at",
            )
            .bind(provider)
            .bind(settings.enabled)
            .bind(&settings.url)
            .bind(&settings.client_id)
            .bind(&secret)
            .bind(&scopes)
            .bind(settings.auto_register)
            .bind(settings.sort_order)
            .bind(&settings.icon)
            .bind(settings.email_trust.map(email_trust_str))
            .bind(&groups)
            .bind(&domains)
            .bind(&settings.slug)
            .bind(&params)
            .bind(now_secs())
            .execute(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, provider: &str) -> Result<(), StoreError> {
        let op = "delete settings";
        self.run(op, async {
            sqlx::query("DELETE FROM tower_oidc_provider_settings WHERE provider = $1")
                .bind(provider)
                .execute(&self.pool)
                .await
                .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl SessionStore for This {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let op = "load session";
        let hash = id_hash(id.expose());
        self.run(op, async {
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT record_json, expires_at FROM tower_oidc_sessions WHERE id_hash = $1",
            )
            .bind(&hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            let Some((json, expires_at)) = row else {
                return Ok(None);
            };
            if expires_at <= now_secs() {
                // Expired: gone for the caller now, and from the table as soon as possible.
                if let Err(e) = sqlx::query(
                    "DELETE FROM tower_oidc_sessions WHERE id_hash = $1 AND expires_at <= $2",
                )
                .bind(&hash)
                .bind(now_secs())
                .execute(&self.pool)
                .await
                {
                    tracing::warn!(error = %e, "deleting an expired session failed");
                }
                return Ok(None);
            }
            let record: SessionRecord =
                serde_json::from_str(&json).map_err(|e| corrupt(op, "session record", e))?;
            Ok(Some(record))
        })
        .await
    }

    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        let op = "store session";
        let hash = id_hash(id.expose());
        let json = to_json(op, record)?;
        let expires_at = i64::try_from(record.expires_at).unwrap_or(i64::MAX);
        self.run(op, async {
            sqlx::query(
                "INSERT INTO tower_oidc_sessions (id_hash, record_json, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (id_hash) DO UPDATE SET \
                 record_json = excluded.record_json, expires_at = excluded.expires_at",
            )
            .bind(&hash)
            .bind(&json)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await?;
        self.maybe_sweep().await;
        Ok(())
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let op = "delete session";
        let hash = id_hash(id.expose());
        self.run(op, async {
            sqlx::query("DELETE FROM tower_oidc_sessions WHERE id_hash = $1")
                .bind(&hash)
                .execute(&self.pool)
                .await
                .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await
    }

    async fn consume_transaction(
        &self,
        transaction_id: &str,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let op = "consume login transaction";
        let hash = id_hash(transaction_id);
        self.run(op, async {
            // One atomic statement: a new id is inserted; a remembered id whose memory has
            // expired is taken again; a live one is left alone (0 rows: already consumed).
            let done = sqlx::query(
                "INSERT INTO tower_oidc_consumed_transactions (id_hash, expires_at) \
                 VALUES ($1, $2) ON CONFLICT (id_hash) DO UPDATE SET \
                 expires_at = excluded.expires_at \
                 WHERE tower_oidc_consumed_transactions.expires_at <= $3",
            )
            .bind(&hash)
            .bind(millis(expires_at))
            .bind(millis(SystemTime::now()))
            .execute(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }
}
