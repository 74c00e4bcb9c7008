// Included by `shared.rs`: `SessionStore` for the SQL stores (ids stored as hashes).

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
                "INSERT INTO tower_oidc_sessions (id_hash, record_json, expires_at, version) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (id_hash) DO UPDATE SET \
                 record_json = excluded.record_json, expires_at = excluded.expires_at, \
                 version = excluded.version",
            )
            .bind(&hash)
            .bind(&json)
            .bind(expires_at)
            .bind(version_of(record))
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

    async fn compare_and_swap(
        &self,
        id: &SessionId,
        expected: u64,
        record: &SessionRecord,
    ) -> Result<bool, StoreError> {
        let op = "compare and swap session";
        let hash = id_hash(id.expose());
        let json = to_json(op, record)?;
        let expires_at = i64::try_from(record.expires_at).unwrap_or(i64::MAX);
        let expected = i64::try_from(expected).unwrap_or(i64::MAX);
        self.run(op, async {
            // One statement: the row changes only while it still has the version the caller
            // read and has not expired.
            let done = sqlx::query(
                "UPDATE tower_oidc_sessions SET record_json = $2, expires_at = $3, version = $4 \
                 WHERE id_hash = $1 AND version = $5 AND expires_at > $6",
            )
            .bind(&hash)
            .bind(&json)
            .bind(expires_at)
            .bind(version_of(record))
            .bind(expected)
            .bind(now_secs())
            .execute(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            Ok(done.rows_affected() == 1)
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

/// A record's version as the SQL column holds it.
fn version_of(record: &SessionRecord) -> i64 {
    i64::try_from(record.version).unwrap_or(i64::MAX)
}
