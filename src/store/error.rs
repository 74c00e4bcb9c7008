//! What a store reports when an operation fails, and how the sign-in flow sees it.

use std::fmt;

use crate::error::{Error, ErrorCode};

/// What kind of failure a store met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend cannot be reached (connection refused, pool timeout, server gone).
    Unavailable,
    /// A uniqueness rule would be broken (the identity is already linked, the email is taken).
    Conflict,
    /// The record the operation needs does not exist.
    NotFound,
    /// Stored data could not be decoded.
    Corrupt,
    /// Anything else.
    Other,
}

/// What a store call returns: the value, or a [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

/// An error from a store, saying what operation failed and why.
///
/// ```
/// use tower_oidc::store::{StoreError, StoreErrorKind};
/// let e = StoreError::unavailable("load session", "connection refused");
/// assert_eq!(e.kind(), StoreErrorKind::Unavailable);
/// assert_eq!(e.to_string(), "load session: store unavailable: connection refused");
/// ```
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    op: &'static str,
    message: String,
}

impl StoreError {
    /// A new error of `kind` for operation `op`.
    pub fn new(kind: StoreErrorKind, op: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            op,
            message: message.into(),
        }
    }
    /// The backend is unreachable.
    pub fn unavailable(op: &'static str, message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Unavailable, op, message)
    }
    /// A uniqueness rule would be broken.
    pub fn conflict(op: &'static str, message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Conflict, op, message)
    }
    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
    /// The operation that failed.
    pub fn op(&self) -> &'static str {
        self.op
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            StoreErrorKind::Unavailable => "store unavailable",
            StoreErrorKind::Conflict => "conflict",
            StoreErrorKind::NotFound => "not found",
            StoreErrorKind::Corrupt => "corrupt data",
            StoreErrorKind::Other => "store error",
        };
        write!(f, "{}: {kind}: {}", self.op, self.message)
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        let code = match e.kind() {
            StoreErrorKind::Unavailable => ErrorCode::StoreUnavailable,
            StoreErrorKind::Conflict => ErrorCode::AccountConflict,
            _ => ErrorCode::Internal,
        };
        Error::new(code, e.to_string())
    }
}
