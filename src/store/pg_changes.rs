//! The Postgres change channel: `LISTEN tower_oidc_session_changes`, fed by a trigger on the
//! sessions table (migration `20261206000001_session_changes.sql`), so every write of a
//! session is announced in its own transaction, whoever makes it.

use async_trait::async_trait;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use sqlx::postgres::{PgListener, PgPool};

use super::{SessionChange, SessionChanges, StoreError, StoreErrorKind};

/// The channel the trigger notifies.
const CHANNEL: &str = "tower_oidc_session_changes";

pub(super) struct PgChanges {
    pub pool: PgPool,
}

fn failed(op: &'static str, e: sqlx::Error) -> StoreError {
    StoreError::new(StoreErrorKind::Unavailable, op, e.to_string())
}

#[async_trait]
impl SessionChanges for PgChanges {
    async fn subscribe(&self) -> Result<BoxStream<'static, SessionChange>, StoreError> {
        let op = "subscribe to session changes";
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| failed(op, e))?;
        listener.listen(CHANNEL).await.map_err(|e| failed(op, e))?;
        let stream = futures_util::stream::unfold(listener, |mut listener| async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if let Some(change) = SessionChange::from_wire(n.payload()) {
                            return Some((change, listener));
                        }
                    }
                    // The connection was lost (notifications may have been missed), or the
                    // pool closed: the subscription ends.
                    Ok(None) | Err(_) => return None,
                }
            }
        });
        Ok(stream.boxed())
    }

    async fn mark(&self, marker: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(SessionChange::Marker(marker.to_owned()).to_wire())
            .execute(&self.pool)
            .await
            .map_err(|e| failed("mark session changes", e))?;
        Ok(())
    }
}
