//! The admin API's error answers: a [`FieldError`] names the offending field, an engine
//! [`Error`] keeps its stable code.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::json;

use crate::error::Error;
use crate::web::json_response;

/// A 400 (or 409) naming the offending field.
#[derive(Debug)]
pub(super) struct FieldError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) field: String,
    pub(super) message: String,
}

/// The usual 400 `invalid_input` for `field`.
pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_input",
        field: field.into(),
        message: message.into(),
    }
}

impl FieldError {
    pub(super) fn response(&self) -> Response<Bytes> {
        json_response(
            self.status,
            &json!({"error": self.error, "field": self.field, "message": self.message}),
        )
    }
}

/// `{"error": ..., "message": ...}` with `status`.
pub(super) fn json_error(status: StatusCode, error: &str, message: &str) -> Response<Bytes> {
    json_response(status, &json!({"error": error, "message": message}))
}

/// An engine error as JSON with its stable code; the detail goes to the log only.
pub(super) fn engine_error(e: &Error) -> Response<Bytes> {
    tracing::warn!(code = %e.code(), detail = %e.detail(), "admin API request failed");
    json_error(e.code().status(), e.code().as_str(), e.code().message())
}

/// Why a handler refused: a field, or an engine error (store down, unknown provider).
pub(super) enum AdminError {
    Field(FieldError),
    Engine(Error),
}

impl From<FieldError> for AdminError {
    fn from(e: FieldError) -> Self {
        AdminError::Field(e)
    }
}

impl From<Error> for AdminError {
    fn from(e: Error) -> Self {
        AdminError::Engine(e)
    }
}
