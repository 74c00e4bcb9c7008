//! [`SessionChanges`]: how every instance sharing a session store learns, within milliseconds,
//! that a session changed or ended somewhere, so that it can cache sessions in memory.

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use super::{SessionId, StoreError};

/// One message of a [`SessionChanges`] subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionChange {
    /// The session whose id has this SHA-256 digest ([`SessionId::digest`]) was changed or
    /// ended.
    Session([u8; 32]),
    /// A marker published with [`SessionChanges::mark`], coming back.
    Marker(String),
}

impl SessionChange {
    /// Reads the wire form the backends of this crate publish: the digest as 64 lower-case hex
    /// digits, or `m:` and a marker. Anything else is not a change (`None`).
    ///
    /// ```
    /// use tower_oidc::store::{SessionChange, SessionId};
    /// let id = SessionId::from_str_ref("abc");
    /// let wire = SessionChange::Session(id.digest()).to_wire();
    /// assert_eq!(SessionChange::from_wire(&wire), Some(SessionChange::Session(id.digest())));
    /// assert_eq!(SessionChange::from_wire("m:x"), Some(SessionChange::Marker("x".into())));
    /// assert_eq!(SessionChange::from_wire("nonsense"), None);
    /// ```
    pub fn from_wire(payload: &str) -> Option<SessionChange> {
        if let Some(marker) = payload.strip_prefix("m:") {
            return Some(SessionChange::Marker(marker.to_owned()));
        }
        let bytes = payload.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut digest = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_digit(pair[0])?;
            let lo = hex_digit(pair[1])?;
            digest[i] = hi << 4 | lo;
        }
        Some(SessionChange::Session(digest))
    }

    /// The wire form [`SessionChange::from_wire`] reads.
    pub fn to_wire(&self) -> String {
        match self {
            SessionChange::Session(d) => hex(d),
            SessionChange::Marker(m) => format!("m:{m}"),
        }
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A channel on which a session store announces every change of a session to every instance
/// sharing it: Postgres `LISTEN/NOTIFY` for [`PostgresStore`](super::PostgresStore), Redis
/// pub/sub for [`RedisSessionStore`](super::RedisSessionStore). The layer's session cache
/// ([`SessionCache`](super::SessionCache)) follows it to drop a session the moment another
/// instance ends or changes it.
///
/// What a backend must keep:
/// - a change is announced **with** the write (in the same transaction or script), so that no
///   write goes unannounced when the writer dies after it;
/// - a subscription yields the changes committed after it began, in commit order, and markers
///   in that same order: a marker coming back means every change committed before it was
///   published has been delivered (the cache's staleness bound rests on it);
/// - the stream ends when the subscription is lost (changes may have been missed); the cache
///   then serves nothing older than its staleness bound until it has subscribed again.
#[async_trait]
pub trait SessionChanges: Send + Sync + 'static {
    /// Subscribes to the changes of every session.
    async fn subscribe(&self) -> Result<BoxStream<'static, SessionChange>, StoreError>;
    /// Publishes `marker` through the channel, after every change committed before this call.
    async fn mark(&self, marker: &str) -> Result<(), StoreError>;
}

impl SessionId {
    /// The SHA-256 digest of the id: how the SQL and Redis stores key a session (they never
    /// hold the id itself) and how [`SessionChange::Session`] names one.
    ///
    /// ```
    /// let id = tower_oidc::store::SessionId::from_str_ref("abc");
    /// assert_eq!(id.digest()[..2], [0xba, 0x78]);
    /// ```
    pub fn digest(&self) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, self.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
}
