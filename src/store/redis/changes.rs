//! The Redis change channel: the scripts that write sessions publish the id hash of each session
//! they change or end on `<prefix>changes`, in the same script; a pub/sub connection follows it.

use async_trait::async_trait;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;

use super::super::{SessionChange, SessionChanges, StoreError};
use super::{CONNECT_TIMEOUT, ConnectionManager, map_err};

pub(super) struct RedisChanges {
    pub client: ::redis::Client,
    pub conn: ConnectionManager,
    pub channel: String,
}

#[async_trait]
impl SessionChanges for RedisChanges {
    async fn subscribe(&self) -> Result<BoxStream<'static, SessionChange>, StoreError> {
        let op = "subscribe to session changes";
        let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| {
                StoreError::new(
                    super::StoreErrorKind::Unavailable,
                    op,
                    "timed out connecting",
                )
            })?
            .map_err(|e| map_err(op, e))?;
        pubsub
            .subscribe(&self.channel)
            .await
            .map_err(|e| map_err(op, e))?;
        // The stream ends when the connection does.
        let stream = pubsub.into_on_message().filter_map(|msg| async move {
            let payload: String = msg.get_payload().ok()?;
            SessionChange::from_wire(&payload)
        });
        Ok(stream.boxed())
    }

    async fn mark(&self, marker: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = ::redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(SessionChange::Marker(marker.to_owned()).to_wire())
            .query_async(&mut conn)
            .await
            .map_err(|e| map_err("mark session changes", e))?;
        Ok(())
    }
}
