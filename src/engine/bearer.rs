//! The resource-server path: a request outside the auth routes that carries
//! `Authorization: Bearer <token>` (an SPA, a mobile app, a CLI, another service), when a
//! provider's spec accepts bearer tokens. The flow verifies the token (`src/flow/bearer.rs`),
//! the user is found by identity — or registered under the provider's auto-registration policy
//! — and the request gets the same [`Auth`] a session would give it. Nothing is stored: no
//! session, no cookie.
//!
//! Answers (RFC 6750 §3): a refused token is `401` with
//! `WWW-Authenticate: Bearer realm="<base URL>", error="invalid_token", error_description="…"`
//! (fixed words; never the token or its claims); a request carrying both a session cookie and a
//! bearer token is `400 invalid_request` — which one it meant cannot be known, so neither is
//! guessed.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::OidcEngine;
use crate::error::ErrorCode;
use crate::flow::{BearerError, VerifiedBearer};
use crate::identity::{Policy, Resolution, resolve_user};
use crate::session::Auth;
use crate::store::SessionRecord;
use crate::web::error_json;

/// The token of an `Authorization: Bearer <token>` header (the scheme case-insensitive, RFC
/// 6750 §2.1); `None` for no header or another scheme. Allocation-free.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    bearer_in(headers.get(http::header::AUTHORIZATION)?.to_str().ok()?)
}

/// The token of one `Authorization` header's value (for the adapters whose header maps are
/// not `http` 1's).
pub(crate) fn bearer_in(v: &str) -> Option<&str> {
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl OidcEngine {
    /// For the framework adapters, as the tower layer does it: a request's bearer token when a
    /// provider accepts them — `None` to go on with the session cookie (or anonymous); else who
    /// the token says this is, or the answer refusing it (a session cookie beside it: 400).
    pub(crate) async fn bearer_auth(
        &self,
        token: Option<&str>,
        session_cookie: bool,
    ) -> Option<Result<Auth, Response<Bytes>>> {
        let token = token.filter(|_| self.bearer_enabled())?;
        if session_cookie {
            return Some(Err(self.bearer_with_cookie()));
        }
        Some(self.authenticate_bearer(token).await)
    }

    /// Whether any provider accepts bearer tokens now.
    pub(crate) fn bearer_enabled(&self) -> bool {
        self.flow.bearer_enabled()
    }

    /// Who the bearer token says this is, as an [`Auth`]; or the answer refusing it.
    pub(crate) async fn authenticate_bearer(&self, token: &str) -> Result<Auth, Response<Bytes>> {
        let v = match self.flow.verify_bearer(token).await {
            Ok(v) => v,
            Err(BearerError::Invalid {
                description,
                detail,
            }) => {
                tracing::info!(%detail, "bearer token refused");
                return Err(self.bearer_refused("invalid_token", description));
            }
            Err(BearerError::Failed(e)) => {
                tracing::warn!(code = %e.code(), detail = %e.detail(), "bearer token could not be checked");
                return Err(self.bearer_error(e.code()));
            }
        };
        let user = self.bearer_user(&v).await?;
        let record = SessionRecord {
            claims: v.profile.extra.clone(),
            ..SessionRecord::new(
                (*user).clone(),
                v.provider.clone(),
                v.expires_at.unwrap_or(0),
            )
        };
        Ok(Auth::bearer(Arc::new(record), user).with_responses(self.responses.clone()))
    }

    /// The user of a verified token: by identity, else under the provider's policy (linked by a
    /// trusted email, or registered when auto-registration is on); an identity with no account
    /// and none to be made is refused like a bad token.
    async fn bearer_user(
        &self,
        v: &VerifiedBearer,
    ) -> Result<Arc<crate::store::User>, Response<Bytes>> {
        match self.users.find_by_identity(&v.identity).await {
            Ok(Some(u)) => return Ok(Arc::new(u)),
            Ok(None) => {}
            Err(e) => {
                let e = crate::error::Error::from(e);
                tracing::warn!(code = %e.code(), detail = %e.detail(), "bearer token: user store");
                return Err(self.bearer_error(e.code()));
            }
        }
        let policy = Policy {
            email_trust: v.email_trust,
            auto_register: v.auto_register,
            admin_rules: &v.admin_rules,
        };
        match resolve_user(self.users.as_ref(), &v.identity, &v.profile, &policy).await {
            Ok((u, resolution)) => {
                let event = match resolution {
                    Resolution::Created => "user_created",
                    Resolution::Linked => "identity_linked",
                    Resolution::Existing => "sign_in",
                };
                tracing::info!(target: "tower_oidc::audit", event, provider = %v.provider, user = %u.id, via = "bearer", "first request with a bearer token");
                Ok(Arc::new(u))
            }
            Err(e) => {
                tracing::info!(code = %e.code(), detail = %e.detail(), "bearer token of an identity without an account");
                match e.code() {
                    ErrorCode::StoreUnavailable | ErrorCode::Internal => {
                        Err(self.bearer_error(e.code()))
                    }
                    _ => Err(self
                        .bearer_refused("invalid_token", "the token's user has no account here")),
                }
            }
        }
    }

    /// `401` (`400` for `invalid_request`) with the RFC 6750 challenge naming `error`.
    pub(crate) fn bearer_refused(&self, error: &str, description: &str) -> Response<Bytes> {
        let status = if error == "invalid_request" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNAUTHORIZED
        };
        let mut r = error_json(status, error, description);
        let challenge = format!(
            r#"Bearer realm="{}", error="{error}", error_description="{description}""#,
            self.flow.base_url
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        r
    }

    /// A request with both a session cookie and a bearer token.
    pub(crate) fn bearer_with_cookie(&self) -> Response<Bytes> {
        self.bearer_refused(
            "invalid_request",
            "send either a session cookie or a bearer token, not both",
        )
    }

    /// A token that could not be checked (provider or store unavailable): the code's JSON error.
    fn bearer_error(&self, code: ErrorCode) -> Response<Bytes> {
        let mut r = crate::web::code_json(code);
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_other_schemes_are_not_tokens() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
            m
        };
        assert_eq!(bearer_token(&h("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&h("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&h("Basic abc")), None);
        assert_eq!(bearer_token(&h("Bearer ")), None);
        assert_eq!(bearer_token(&h("Bearer")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
