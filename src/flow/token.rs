//! The token exchange and the userinfo call.

use serde::Deserialize;

use crate::config::{Secret, TokenAuth};
use crate::error::{Error, ErrorCode};
use crate::provider::http::IdpClient;

/// What the token endpoint answered.
pub(crate) struct Tokens {
    pub access_token: Secret,
    pub id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

/// The error code for a token endpoint's `error`.
fn code_of_token_error(err: &str, status: u16) -> ErrorCode {
    match err {
        // Authentik answers 400 invalid_client for a wrong id or secret *and* for a redirect URI
        // that is not registered; GitHub says `incorrect_client_credentials`.
        "invalid_client" | "unauthorized_client" | "incorrect_client_credentials" => {
            ErrorCode::InvalidClient
        }
        // GitHub: `bad_verification_code` for a used or expired code.
        "invalid_grant" | "bad_verification_code" => ErrorCode::LoginExpired,
        "access_denied" => ErrorCode::AccessDenied,
        _ if status == 401 => ErrorCode::InvalidClient,
        _ => ErrorCode::ProviderMisconfigured,
    }
}

/// The provider's error code as it may be shown and logged: word characters only, bounded.
fn shown_error(err: &str) -> String {
    err.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

/// Redeems `code` at the token endpoint with the spec's client authentication.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn exchange(
    http: &IdpClient,
    provider: &str,
    token_url: &str,
    auth: TokenAuth,
    client_id: &str,
    client_secret: Option<&Secret>,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<Tokens, Error> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let basic = match (auth, client_secret) {
        (TokenAuth::ClientSecretBasic, Some(s)) => Some((client_id, s)),
        (TokenAuth::ClientSecretPost, Some(s)) => {
            form.push(("client_id", client_id));
            form.push(("client_secret", s.expose()));
            None
        }
        (_, None) => {
            form.push(("client_id", client_id));
            None
        }
    };
    let resp = http.post_form("token", token_url, &form, basic).await?;
    let fail = |code: ErrorCode, d: String| {
        Error::new(code, format!("provider `{provider}`: token endpoint: {d}"))
    };
    if resp.status >= 500 {
        return Err(fail(
            ErrorCode::ProviderUnreachable,
            format!("HTTP {}", resp.status),
        ));
    }
    if resp.status != 200 {
        let err = serde_json::from_slice::<ErrorResponse>(&resp.body)
            .map(|e| e.error)
            .unwrap_or_default();
        let shown = shown_error(&err);
        return Err(fail(
            code_of_token_error(&err, resp.status),
            format!("HTTP {} error `{shown}`", resp.status),
        ));
    }
    // GitHub answers a bad code or client with HTTP 200 and an `error` member.
    if let Ok(e) = serde_json::from_slice::<ErrorResponse>(&resp.body) {
        let shown = shown_error(&e.error);
        return Err(fail(
            code_of_token_error(&e.error, resp.status),
            format!("HTTP {} error `{shown}`", resp.status),
        ));
    }
    let t: TokenResponse = serde_json::from_slice(&resp.body).map_err(|e| {
        fail(
            ErrorCode::ProviderMisconfigured,
            format!("response is not a token response ({e})"),
        )
    })?;
    if !t.token_type.eq_ignore_ascii_case("bearer") {
        return Err(fail(
            ErrorCode::ProviderMisconfigured,
            "token_type is not Bearer".into(),
        ));
    }
    Ok(Tokens {
        access_token: Secret::new(t.access_token),
        id_token: t.id_token,
    })
}

/// Calls userinfo with the access token in the `Authorization` header (never in a URL).
pub(crate) async fn userinfo(
    http: &IdpClient,
    provider: &str,
    url: &str,
    access_token: &Secret,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    // A body that is not a JSON object is the provider misbehaving (or a proxy's error page),
    // not a claim that failed verification.
    match get_json(http, provider, "userinfo", url, access_token).await? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(Error::new(
            ErrorCode::ProviderMisconfigured,
            format!("provider `{provider}`: userinfo: not a JSON object"),
        )),
    }
}

/// A user-API request with the access token (userinfo, or a spec's `fetch`): the JSON answer.
pub(crate) async fn get_json(
    http: &IdpClient,
    provider: &str,
    what: &'static str,
    url: &str,
    access_token: &Secret,
) -> Result<serde_json::Value, Error> {
    let resp = http.get(what, url, Some(access_token.expose())).await?;
    let fail = |code: ErrorCode, d: String| {
        Error::new(code, format!("provider `{provider}`: {what}: {d}"))
    };
    if resp.status >= 500 {
        return Err(fail(
            ErrorCode::ProviderUnreachable,
            format!("HTTP {}", resp.status),
        ));
    }
    if resp.status != 200 {
        return Err(fail(
            ErrorCode::ProviderMisconfigured,
            format!("HTTP {} (the access token was refused)", resp.status),
        ));
    }
    if resp
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/jwt"))
    {
        return Err(fail(
            ErrorCode::ProviderMisconfigured,
            "signed userinfo (application/jwt) is not supported".into(),
        ));
    }
    resp.json()
        .map_err(|e| fail(ErrorCode::ProviderMisconfigured, e))
}
