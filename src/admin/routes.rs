//! The admin API's routing: who may call it, the request body, and which handler answers.

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};
use serde_json::{Map, Value};

use super::AdminApi;
use super::errors::{AdminError, FieldError, engine_error, invalid, json_error};
use crate::error::Error;
use crate::session::Auth;
use crate::store::User;

impl AdminApi {
    /// Answers `{prefix}/admin/...`: `rest` are the path segments after `admin`; `auth` is who
    /// the engine found signed in.
    pub(crate) async fn handle(
        &self,
        method: &Method,
        rest: &[&str],
        headers: &HeaderMap,
        body: &Bytes,
        auth: Result<Auth, Error>,
    ) -> Response<Bytes> {
        let mutating = !matches!(*method, Method::GET | Method::HEAD);
        let admin = match self.guard(auth, headers, mutating).await {
            Ok(u) => u,
            Err(r) => return r,
        };
        let parsed = if mutating {
            match parse_body(headers, body) {
                Ok(v) => v,
                Err(e) => return e.response(),
            }
        } else {
            None
        };
        let result = match (method.clone(), rest) {
            (Method::GET, ["providers"]) => self.admin_list().await,
            (Method::POST, ["providers"]) => self.admin_create(&admin.id, parsed).await,
            (Method::PUT, ["providers", "order"]) => self.admin_reorder(&admin.id, parsed).await,
            (Method::GET, ["providers", id]) => self.admin_get(id).await,
            (Method::PUT, ["providers", id]) => self.admin_update(&admin.id, id, parsed).await,
            (Method::DELETE, ["providers", id]) => self.admin_delete(&admin.id, id).await,
            (Method::POST, ["providers", id, "enable"]) => {
                self.admin_set_enabled(&admin.id, id, true).await
            }
            (Method::POST, ["providers", id, "disable"]) => {
                self.admin_set_enabled(&admin.id, id, false).await
            }
            (Method::POST, ["providers", id, "test"]) => self.admin_test(id, parsed).await,
            (
                _,
                ["providers"] | ["providers", _] | ["providers", _, "enable" | "disable" | "test"],
            ) => Ok(json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed.",
            )),
            _ => Ok(json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such admin route.",
            )),
        };
        match result {
            Ok(r) => r,
            Err(AdminError::Field(e)) => e.response(),
            Err(AdminError::Engine(e)) => engine_error(&e),
        }
    }

    /// The signed-in admin, or the 401/403 response.
    pub(crate) async fn guard(
        &self,
        auth: Result<Auth, Error>,
        headers: &HeaderMap,
        mutating: bool,
    ) -> Result<User, Response<Bytes>> {
        let auth = auth.map_err(|e| engine_error(&e))?;
        let Some(session_user) = auth.user() else {
            return Err(json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in as an administrator to continue.",
            ));
        };
        // The store's current flag, not the session's copy from sign-in time.
        let current = self
            .users
            .get(&session_user.id)
            .await
            .map_err(|e| engine_error(&e.into()))?;
        let Some(user) = current.filter(|u| u.is_admin) else {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only administrators may do this.",
            ));
        };
        if mutating && !self.same_origin(headers) {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Cross-site request refused.",
            ));
        }
        Ok(user)
    }
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Option<Value>, FieldError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_json = ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(FieldError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: "invalid_input",
            field: String::new(),
            message: "send the body as application/json".into(),
        });
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| invalid("", format!("the body is not valid JSON ({e})")))
}

pub(super) fn object_body(v: Option<Value>) -> Result<Map<String, Value>, FieldError> {
    match v {
        Some(Value::Object(m)) => Ok(m),
        None => Err(invalid("", "send a JSON object with the fields to change")),
        Some(_) => Err(invalid("", "the body must be a JSON object")),
    }
}
