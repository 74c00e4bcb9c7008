//! The authorization response's parameters, read strictly, and what the provider's own error
//! codes mean to the app.

use crate::error::{Error, ErrorCode};

/// Longest callback query accepted.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// The parameters of an authorization response.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// RFC 9207 `iss`.
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description` (shown nowhere; logged escaped).
    pub error_description: Option<String>,
}

impl CallbackParams {
    /// Parses a callback query. A repeated parameter, or a query over [`MAX_QUERY_BYTES`], is
    /// refused (an authorization response never repeats a parameter).
    ///
    /// ```
    /// use tower_oidc::flow::CallbackParams;
    /// let p = CallbackParams::parse("code=abc&state=xyz").unwrap();
    /// assert_eq!(p.code.as_deref(), Some("abc"));
    /// assert!(CallbackParams::parse("state=a&state=b").is_err());
    /// ```
    pub fn parse(query: &str) -> Result<CallbackParams, Error> {
        let bad = |d: &str| Error::new(ErrorCode::InvalidState, format!("callback query: {d}"));
        if query.len() > MAX_QUERY_BYTES {
            return Err(bad("too long"));
        }
        let mut p = CallbackParams::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "code" => &mut p.code,
                "state" => &mut p.state,
                "iss" => &mut p.iss,
                "error" => &mut p.error,
                "error_description" => &mut p.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(bad("a parameter is repeated"));
            }
            *slot = Some(v.into_owned());
        }
        Ok(p)
    }
}

pub(super) fn code_of_idp_error(e: &str) -> ErrorCode {
    match e {
        "access_denied"
        | "login_required"
        | "consent_required"
        | "interaction_required"
        | "account_selection_required" => ErrorCode::AccessDenied,
        "invalid_client" | "unauthorized_client" => ErrorCode::InvalidClient,
        "temporarily_unavailable" | "server_error" => ErrorCode::ProviderUnreachable,
        _ => ErrorCode::ProviderMisconfigured,
    }
}

/// What a log line may say of a value sent by the provider: short and printable.
pub(super) fn loggable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_errors_map_to_codes() {
        assert_eq!(code_of_idp_error("access_denied"), ErrorCode::AccessDenied);
        assert_eq!(
            code_of_idp_error("invalid_client"),
            ErrorCode::InvalidClient
        );
        assert_eq!(code_of_idp_error("weird"), ErrorCode::ProviderMisconfigured);
    }

    #[test]
    fn query_parsing() {
        let p = CallbackParams::parse("code=a%20b&state=s&iss=https%3A%2F%2Fx%2F&other=1").unwrap();
        assert_eq!(p.code.as_deref(), Some("a b"));
        assert_eq!(p.iss.as_deref(), Some("https://x/"));
        assert!(CallbackParams::parse(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
        assert_eq!(
            CallbackParams::parse("").unwrap(),
            CallbackParams::default()
        );
    }
}
