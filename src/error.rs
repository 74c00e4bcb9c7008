//! One error type with stable, documented error codes.
//!
//! Every failure a sign-in can meet ends as an [`Error`] carrying an [`ErrorCode`]. The code is
//! what browsers see (`?error=<code>` on the error page) and what JSON clients see
//! (`{"error": "<code>", "message": "..."}`); it never changes meaning between releases. The
//! [`Error::detail`] is for operators: it goes to the log, never to the browser, and never holds a
//! secret, a token, an authorization code or a cookie value.

use std::fmt;

use http::StatusCode;

/// The stable error codes of the HTTP surface.
///
/// ```
/// use tower_oidc::ErrorCode;
/// assert_eq!(ErrorCode::InvalidState.as_str(), "invalid_state");
/// assert_eq!(ErrorCode::parse("login_expired"), Some(ErrorCode::LoginExpired));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The user (or the identity provider's policy) refused the sign-in.
    AccessDenied,
    /// The identity provider did not accept the client id, the client secret or the redirect URI.
    InvalidClient,
    /// No provider with that id is configured.
    ProviderUnknown,
    /// The provider exists but is not enabled.
    ProviderDisabled,
    /// The identity provider could not be reached (DNS, TLS, refused, timeout, 5xx).
    ProviderUnreachable,
    /// The provider's configuration or its answers are wrong (missing settings, issuer mismatch,
    /// malformed discovery document).
    ProviderMisconfigured,
    /// The callback did not belong to a sign-in started by this browser (bad, missing, replayed
    /// or foreign `state`, or no login transaction).
    InvalidState,
    /// The sign-in took too long; start again.
    LoginExpired,
    /// The session ended: the provider refused to refresh its tokens (`invalid_grant`: revoked,
    /// expired, or the user was removed), so the user must sign in again.
    SessionExpired,
    /// The ID token (or the userinfo answer) failed verification.
    IdTokenInvalid,
    /// An account with this email exists, and the provider's email is not trusted to link it.
    EmailNotVerified,
    /// The identity is unknown and auto-registration is off.
    RegistrationDisabled,
    /// The identity conflicts with an existing link.
    AccountConflict,
    /// The user's tenant (organisation) is not among those a multi-tenant provider (Microsoft
    /// Entra ID's `common` or `organizations`) lets sign in: its `allowed_tenants` setting.
    TenantNotAllowed,
    /// A request from the identity provider (a back- or front-channel logout) is malformed, or
    /// its logout token failed verification; it ended nothing.
    InvalidRequest,
    /// A store (database, Redis) is unavailable.
    StoreUnavailable,
    /// Anything else. Details are in the server log.
    Internal,
}

impl ErrorCode {
    /// Every code, in documentation order.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::AccessDenied,
        ErrorCode::InvalidClient,
        ErrorCode::ProviderUnknown,
        ErrorCode::ProviderDisabled,
        ErrorCode::ProviderUnreachable,
        ErrorCode::ProviderMisconfigured,
        ErrorCode::InvalidState,
        ErrorCode::LoginExpired,
        ErrorCode::SessionExpired,
        ErrorCode::IdTokenInvalid,
        ErrorCode::EmailNotVerified,
        ErrorCode::RegistrationDisabled,
        ErrorCode::AccountConflict,
        ErrorCode::TenantNotAllowed,
        ErrorCode::InvalidRequest,
        ErrorCode::StoreUnavailable,
        ErrorCode::Internal,
    ];

    /// The wire form of the code, e.g. `"invalid_state"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::ProviderUnknown => "provider_unknown",
            ErrorCode::ProviderDisabled => "provider_disabled",
            ErrorCode::ProviderUnreachable => "provider_unreachable",
            ErrorCode::ProviderMisconfigured => "provider_misconfigured",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::LoginExpired => "login_expired",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::IdTokenInvalid => "id_token_invalid",
            ErrorCode::EmailNotVerified => "email_not_verified",
            ErrorCode::RegistrationDisabled => "registration_disabled",
            ErrorCode::AccountConflict => "account_conflict",
            ErrorCode::TenantNotAllowed => "tenant_not_allowed",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// Parses the wire form; unknown strings give `None`.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The HTTP status a JSON client gets for this code.
    pub const fn status(self) -> StatusCode {
        match self {
            ErrorCode::AccessDenied
            | ErrorCode::EmailNotVerified
            | ErrorCode::RegistrationDisabled
            | ErrorCode::TenantNotAllowed
            | ErrorCode::ProviderDisabled => StatusCode::FORBIDDEN,
            ErrorCode::ProviderUnknown => StatusCode::NOT_FOUND,
            ErrorCode::AccountConflict => StatusCode::CONFLICT,
            ErrorCode::SessionExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidState
            | ErrorCode::LoginExpired
            | ErrorCode::IdTokenInvalid
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidClient => StatusCode::BAD_REQUEST,
            ErrorCode::ProviderUnreachable | ErrorCode::ProviderMisconfigured => {
                StatusCode::BAD_GATEWAY
            }
            ErrorCode::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A sentence for the person signing in.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorCode::AccessDenied => {
                "The sign-in was cancelled or refused by the identity provider."
            }
            ErrorCode::InvalidClient => {
                "The identity provider did not accept this application's credentials."
            }
            ErrorCode::ProviderUnknown => "This sign-in method does not exist.",
            ErrorCode::ProviderDisabled => "This sign-in method is turned off.",
            ErrorCode::ProviderUnreachable => "The identity provider could not be reached.",
            ErrorCode::ProviderMisconfigured => "This sign-in method is not set up correctly.",
            ErrorCode::InvalidState => {
                "This sign-in link is not valid for this browser. Please start again."
            }
            ErrorCode::LoginExpired => "The sign-in took too long. Please start again.",
            ErrorCode::SessionExpired => "Your session has ended. Please sign in again.",
            ErrorCode::IdTokenInvalid => "The identity provider's answer could not be verified.",
            ErrorCode::EmailNotVerified => {
                "An account with this email already exists, and the provider has not verified the email."
            }
            ErrorCode::RegistrationDisabled => {
                "There is no account for you here, and new accounts cannot be created with this sign-in method."
            }
            ErrorCode::AccountConflict => "This identity conflicts with an existing account.",
            ErrorCode::TenantNotAllowed => {
                "Accounts of your organisation cannot sign in to this application."
            }
            ErrorCode::InvalidRequest => "The identity provider's request could not be verified.",
            ErrorCode::StoreUnavailable => {
                "The service is temporarily unavailable. Please try again shortly."
            }
            ErrorCode::Internal => "Something went wrong while signing in.",
        }
    }

    /// What an administrator should check (the troubleshooting advice of the user guide).
    pub const fn advice(self) -> &'static str {
        match self {
            ErrorCode::AccessDenied => {
                "Check that the provider grants the requested scopes (openid, profile, email), that the user may access the application (Authentik: application bindings and policies), and that the provider is not restricted or disabled."
            }
            ErrorCode::InvalidClient => {
                "Check the Client ID and Client Secret (copied without extra spaces), the instance URL, and that the redirect URI registered at the provider is exactly this app's callback URL (protocol, port, no extra trailing slash). Generate a new secret if needed."
            }
            ErrorCode::ProviderUnknown => "Check the provider id in the URL and in providers.toml.",
            ErrorCode::ProviderDisabled => {
                "An administrator can enable the provider in the authentication settings."
            }
            ErrorCode::ProviderUnreachable => {
                "Check that the instance URL is right, that the instance is running, and that this server can reach it (DNS, firewall, TLS certificate)."
            }
            ErrorCode::ProviderMisconfigured => {
                "Check the instance URL (https://auth.example.com or the application's full issuer URL), the application slug, and the signing key selected in the provider."
            }
            ErrorCode::InvalidState => {
                "Start the sign-in again from this app's login page, in the same browser, with cookies enabled."
            }
            ErrorCode::LoginExpired => {
                "Start the sign-in again; it must finish within a few minutes."
            }
            ErrorCode::SessionExpired => {
                "Sign in again; the provider no longer honours this session's refresh token (revoked, expired or reused)."
            }
            ErrorCode::IdTokenInvalid => "Check the provider's signing key and the server's clock.",
            ErrorCode::EmailNotVerified => {
                "Sign in with the method you created your account with; an administrator can set this provider's email trust to `always` if it verifies every address itself."
            }
            ErrorCode::RegistrationDisabled => {
                "Ask an administrator to create your account or to enable auto-registration."
            }
            ErrorCode::AccountConflict => {
                "Ask an administrator to check the accounts linked to this identity."
            }
            ErrorCode::TenantNotAllowed => {
                "If this organisation's users may sign in, add its tenant id (the server log names it) to the provider's allowed_tenants setting."
            }
            ErrorCode::InvalidRequest => {
                "Check the provider's logout URI, signing key and the server's clock; the log says which check failed."
            }
            ErrorCode::StoreUnavailable => "Check the database and session store connections.",
            ErrorCode::Internal => "See the server log for details.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the sign-in flow: a stable [`ErrorCode`] and an operator-facing detail.
///
/// The detail is written for logs. It never contains secrets, tokens, authorization codes,
/// `state` values or cookie values.
///
/// ```
/// use tower_oidc::{Error, ErrorCode};
/// let e = Error::new(ErrorCode::LoginExpired, "transaction expired 12 s ago");
/// assert_eq!(e.code(), ErrorCode::LoginExpired);
/// assert_eq!(e.to_string(), "login_expired: transaction expired 12 s ago");
/// ```
#[derive(Debug)]
pub struct Error {
    code: ErrorCode,
    detail: String,
}

impl Error {
    /// A new error with its code and operator-facing detail.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: detail.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The operator-facing detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            assert!(!c.message().is_empty() && !c.advice().is_empty());
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }
}
