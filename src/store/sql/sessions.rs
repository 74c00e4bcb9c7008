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
        let row = SessionRow::of(op, id, record)?;
        self.run(op, async {
            row.bind(
                "INSERT INTO tower_oidc_sessions (id_hash, record_json, expires_at, version, \
                 user_id, provider, idp_issuer, idp_subject, idp_sid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id_hash) DO UPDATE SET \
                 record_json = excluded.record_json, expires_at = excluded.expires_at, \
                 version = excluded.version, user_id = excluded.user_id, \
                 provider = excluded.provider, idp_issuer = excluded.idp_issuer, \
                 idp_subject = excluded.idp_subject, idp_sid = excluded.idp_sid",
            )
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

    async fn compare_and_swap(&self, id: &SessionId, next: &SessionRecord) -> StoreResult<bool> {
        let op = "compare and swap session";
        let row = SessionRow::of(op, id, next)?;
        let expected = i64::try_from(next.predecessor()).unwrap_or(i64::MAX);
        self.run(op, async {
            // One statement: the row changes only while it still has the version the caller
            // read and has not expired.
            let done = row
                .bind(
                    "UPDATE tower_oidc_sessions SET record_json = $2, expires_at = $3, \
                     version = $4, user_id = $5, provider = $6, idp_issuer = $7, \
                     idp_subject = $8, idp_sid = $9 \
                     WHERE id_hash = $1 AND version = $10 AND expires_at > $11",
                )
                .bind(expected)
                .bind(now_secs())
                .execute(&self.pool)
                .await
                .map_err(|e| map_err(op, e))?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn find_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let op = "find sessions";
        let (cond, binds) = filter_condition(filter);
        let sql = format!(
            "SELECT record_json, expires_at FROM tower_oidc_sessions \
             WHERE {cond} AND expires_at > ${}",
            binds.len() + 1
        );
        let rows = self.filtered_rows(op, &sql, &binds, Some(now_secs())).await?;
        rows.into_iter()
            .map(|(json, _)| {
                serde_json::from_str::<SessionRecord>(&json)
                    .map_err(|e| corrupt(op, "session record", e))
            })
            .filter(|r| r.as_ref().map_or(true, |r| filter.matches(r)))
            .collect()
    }

    async fn end_sessions(
        &self,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let op = "end sessions";
        let (cond, binds) = filter_condition(filter);
        // One statement: every selected row goes, and what went comes back (the caller revokes
        // its tokens).
        let sql = format!(
            "DELETE FROM tower_oidc_sessions WHERE {cond} RETURNING record_json, expires_at"
        );
        let rows = self.filtered_rows(op, &sql, &binds, None).await?;
        let now = now_secs();
        let mut ended = Vec::with_capacity(rows.len());
        for (json, expires_at) in rows {
            if expires_at <= now {
                continue;
            }
            match serde_json::from_str::<SessionRecord>(&json) {
                Ok(r) => ended.push(r),
                // Already deleted; a record that cannot be read has no tokens to revoke.
                Err(e) => tracing::warn!(error = %e, "an ended session record was unreadable"),
            }
        }
        Ok(ended)
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

    fn changes(&self) -> Option<Arc<dyn super::SessionChanges>> {
        self.session_changes()
    }
}

/// A record's version as the SQL column holds it.
/// A session as its row stores it: the values of `$1`–`$9` of the statements that write one.
struct SessionRow<'a> {
    hash: String,
    json: String,
    expires_at: i64,
    version: i64,
    columns: Columns<'a>,
}

impl<'a> SessionRow<'a> {
    fn of(op: &'static str, id: &SessionId, record: &'a SessionRecord) -> Result<Self, StoreError> {
        Ok(SessionRow {
            hash: id_hash(id.expose()),
            json: to_json(op, record)?,
            expires_at: i64::try_from(record.expires_at).unwrap_or(i64::MAX),
            version: i64::try_from(record.version).unwrap_or(i64::MAX),
            columns: Columns::of(record),
        })
    }

    /// `sql` with the row bound as `$1`–`$9`: id hash, record, expiry, version, user id,
    /// provider, issuer, subject, sid.
    fn bind<'q>(&'q self, sql: &'q str) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
        let c = &self.columns;
        sqlx::query(sql)
            .bind(&self.hash)
            .bind(&self.json)
            .bind(self.expires_at)
            .bind(self.version)
            .bind(c.user_id)
            .bind(c.provider)
            .bind(c.issuer)
            .bind(c.subject)
            .bind(c.sid)
    }
}

/// The columns a session row indexes, copied out of its record.
struct Columns<'a> {
    user_id: &'a str,
    provider: &'a str,
    issuer: Option<&'a str>,
    subject: Option<&'a str>,
    sid: Option<&'a str>,
}

impl This {
    /// Runs `sql` with a filter's bind values, then `last` when given: the `(record_json,
    /// expires_at)` rows it returns.
    async fn filtered_rows(
        &self,
        op: &'static str,
        sql: &str,
        binds: &[&str],
        last: Option<i64>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.run(op, async {
            let mut q = sqlx::query_as::<_, (String, i64)>(sql);
            for b in binds {
                q = q.bind(*b);
            }
            if let Some(last) = last {
                q = q.bind(last);
            }
            q.fetch_all(&self.pool).await.map_err(|e| map_err(op, e))
        })
        .await
    }
}

impl<'a> Columns<'a> {
    fn of(record: &'a SessionRecord) -> Self {
        let idp = record.idp.as_ref();
        Columns {
            user_id: &record.user.id.0,
            provider: &record.provider,
            issuer: idp.map(|i| i.issuer.as_str()),
            subject: idp.map(|i| i.subject.as_str()),
            sid: idp.and_then(|i| i.sid.as_deref()),
        }
    }
}

/// The `WHERE` condition selecting `filter`'s sessions (an indexed column set; placeholders
/// `$1` to `$n`) and the `n` values to bind, in order.
fn filter_condition(filter: &SessionFilter) -> (&'static str, Vec<&str>) {
    match filter {
        SessionFilter::User(id) => ("user_id = $1", vec![id.0.as_str()]),
        SessionFilter::IdpSession {
            provider,
            issuer,
            sid,
        } => (
            "provider = $1 AND idp_issuer = $2 AND idp_sid = $3",
            vec![provider, issuer, sid],
        ),
        SessionFilter::IdpSubject {
            provider,
            issuer,
            subject,
        } => (
            "provider = $1 AND idp_issuer = $2 AND idp_subject = $3",
            vec![provider, issuer, subject],
        ),
    }
}
