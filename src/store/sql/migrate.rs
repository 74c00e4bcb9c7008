// Included by `shared.rs`: the embedded migrations of the SQL stores, applied when a store opens.

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
