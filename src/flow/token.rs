//! The token exchange and the userinfo call.

use std::borrow::Cow;

use serde::Deserialize;

use crate::config::{AssertionAud, Secret, TokenAuth};
use crate::error::{Error, ErrorCode};
use crate::provider::http::{Call, Endpoint, IdpClient};

/// What the token endpoint answered.
pub(crate) struct Tokens {
    pub access_token: Secret,
    pub id_token: Option<String>,
    /// The refresh token, when the provider issued one (or rotated it).
    pub refresh_token: Option<Secret>,
    /// `expires_in`, in seconds, when the provider said.
    pub expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenResponse {
    // GitHub answers a bad code or client with HTTP 200 and an `error` member: read in the same
    // pass as the tokens (a successful answer is parsed once). Only a string is an error, as
    // before; any other value is ignored.
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    // A number, or (some providers, Authentik behind some proxies) a string of digits.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

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

/// The client assertion type of RFC 7523 §2.2.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Redeems `code` at the token endpoint with the spec's client authentication.
/// The client: how it authenticates at the token endpoint.
pub(crate) struct Client<'a> {
    pub provider: &'a str,
    pub token_url: &'a str,
    pub auth: TokenAuth,
    pub client_id: &'a str,
    /// The secret sent: the settings' own, or (Sign in with Apple) a JWT signed from them.
    pub client_secret: Option<Cow<'a, Secret>>,
    /// `private_key_jwt`: the signed client assertion of this request.
    pub assertion: Option<String>,
}

impl<'a> Client<'a> {
    /// The client of `provider` as configured now.
    pub fn of(provider: &'a str, active: &'a crate::provider::Active) -> Client<'a> {
        Client {
            provider,
            token_url: &active.token,
            auth: active.resolved.spec.token_auth,
            client_id: &active.resolved.client_id,
            client_secret: active.resolved.client_secret.as_ref().map(Cow::Borrowed),
            assertion: None,
        }
    }

    /// The client of `provider` with the assertion signed by `key` when it authenticates with
    /// `private_key_jwt` (`aud`: the token endpoint or the issuer, as the spec's
    /// `assertion_aud` says). Without a key, or an `issuer` audience without an issuer, such a
    /// client cannot authenticate: `provider_misconfigured`.
    pub fn signed(
        provider: &'a str,
        active: &'a crate::provider::Active,
        key: Option<&super::ClientKey>,
    ) -> Result<Client<'a>, Error> {
        let mut c = Client::of(provider, active);
        if c.auth == TokenAuth::PrivateKeyJwt {
            let key = key.ok_or_else(|| {
                Error::new(
                    ErrorCode::ProviderMisconfigured,
                    format!("provider `{provider}`: token_auth is private_key_jwt, and the app gave no client key (OidcLayerBuilder::client_key)"),
                )
            })?;
            let aud = match active.resolved.spec.assertion_aud {
                AssertionAud::TokenEndpoint => c.token_url,
                AssertionAud::Issuer => active.resolved.endpoints.issuer.as_deref().ok_or_else(|| {
                    Error::new(
                        ErrorCode::ProviderMisconfigured,
                        format!("provider `{provider}`: assertion_aud is issuer, and the provider has no issuer"),
                    )
                })?,
            };
            let a = key
                .assertion(c.client_id, aud, crate::util::unix_now())
                .map_err(|e| Error::new(ErrorCode::Internal, e))?;
            c.assertion = Some(a);
        }
        if c.auth == TokenAuth::AppleClientSecretJwt {
            let s =
                super::apple::client_secret(provider, &active.resolved, crate::util::unix_now())?;
            c.client_secret = Some(Cow::Owned(s));
        }
        Ok(c)
    }
}

impl<'a> Client<'a> {
    /// Adds the client's authentication to a token or revocation request: the form members, or
    /// the Basic credentials to send (returned).
    pub fn authenticate<'b>(
        &'b self,
        form: &mut Vec<(&'b str, &'b str)>,
    ) -> Option<(&'b str, &'b Secret)> {
        if let Some(a) = &self.assertion {
            form.push(("client_id", self.client_id));
            form.push(("client_assertion_type", JWT_BEARER));
            form.push(("client_assertion", a));
            return None;
        }
        match (self.auth, self.client_secret.as_deref()) {
            (TokenAuth::ClientSecretBasic, Some(s)) => Some((self.client_id, s)),
            (
                TokenAuth::ClientSecretPost
                | TokenAuth::PrivateKeyJwt
                | TokenAuth::AppleClientSecretJwt,
                Some(s),
            ) => {
                form.push(("client_id", self.client_id));
                form.push(("client_secret", s.expose()));
                None
            }
            (_, None) => {
                form.push(("client_id", self.client_id));
                None
            }
        }
    }
}

/// The authorization code grant.
pub(crate) async fn exchange(
    http: &IdpClient,
    client: &Client<'_>,
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
    token_request(http, client, form).await
}

/// The refresh token grant (RFC 6749 §6). `invalid_grant` (revoked, expired, reused) is
/// [`ErrorCode::SessionExpired`]; an unreachable provider or a 5xx is
/// [`ErrorCode::ProviderUnreachable`].
pub(crate) async fn refresh(
    http: &IdpClient,
    client: &Client<'_>,
    refresh_token: &str,
) -> Result<Tokens, Error> {
    let form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token_request(http, client, form).await.map_err(|e| {
        if e.code() == ErrorCode::LoginExpired {
            Error::new(ErrorCode::SessionExpired, e.detail().to_owned())
        } else {
            e
        }
    })
}

async fn token_request<'b>(
    http: &IdpClient,
    client: &'b Client<'_>,
    mut form: Vec<(&'b str, &'b str)>,
) -> Result<Tokens, Error> {
    let provider = client.provider;
    let basic = client.authenticate(&mut form);
    let resp = http
        .post_form(
            Call::of(provider, Endpoint::Token),
            client.token_url,
            &form,
            basic,
        )
        .await?;
    read_token_answer(provider, resp.status, &resp.body)
}

/// The token endpoint's answer, read: an error (by HTTP status, or GitHub's `error` member in
/// an HTTP 200), or the tokens. A successful answer is parsed once.
fn read_token_answer(provider: &str, status: u16, body: &[u8]) -> Result<Tokens, Error> {
    let fail = |code: ErrorCode, d: String| {
        Error::new(code, format!("provider `{provider}`: token endpoint: {d}"))
    };
    if status >= 500 {
        return Err(fail(
            ErrorCode::ProviderUnreachable,
            format!("HTTP {}", status),
        ));
    }
    if status != 200 {
        let err = serde_json::from_slice::<ErrorResponse>(body)
            .map(|e| e.error)
            .unwrap_or_default();
        let shown = shown_error(&err);
        return Err(fail(
            code_of_token_error(&err, status),
            format!("HTTP {} error `{shown}`", status),
        ));
    }
    let t: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        fail(
            ErrorCode::ProviderMisconfigured,
            format!("response is not a token response ({e})"),
        )
    })?;
    if let Some(serde_json::Value::String(e)) = &t.error {
        let shown = shown_error(e);
        return Err(fail(
            code_of_token_error(e, status),
            format!("HTTP {} error `{shown}`", status),
        ));
    }
    let (Some(access_token), Some(token_type)) = (t.access_token, t.token_type) else {
        return Err(fail(
            ErrorCode::ProviderMisconfigured,
            "response is not a token response (no `access_token` and `token_type`)".into(),
        ));
    };
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(fail(
            ErrorCode::ProviderMisconfigured,
            "token_type is not Bearer".into(),
        ));
    }
    let expires_in = match &t.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Tokens {
        access_token: Secret::new(access_token),
        id_token: t.id_token,
        refresh_token: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
        expires_in,
    })
}

pub(crate) async fn userinfo(
    http: &IdpClient,
    provider: &str,
    url: &str,
    access_token: &Secret,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    // A body that is not a JSON object is the provider misbehaving (or a proxy's error page),
    // not a claim that failed verification.
    match get_json(http, provider, Endpoint::Userinfo, url, access_token).await? {
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
    endpoint: Endpoint,
    url: &str,
    access_token: &Secret,
) -> Result<serde_json::Value, Error> {
    let what = endpoint.describe();
    let resp = http
        .get(
            Call::of(provider, endpoint),
            url,
            Some(access_token.expose()),
        )
        .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> Result<Tokens, Error> {
        read_token_answer("p", status, body.as_bytes())
    }

    #[test]
    fn token_answer_with_an_error_member_in_http_200_is_that_error() {
        let e = read(
            200,
            r#"{"error":"bad_verification_code","error_description":"x"}"#,
        )
        .err()
        .map(|e| e.code());
        assert_eq!(e, Some(ErrorCode::LoginExpired));
        // With tokens beside it, the error still wins.
        let e = read(
            200,
            r#"{"access_token":"a","token_type":"Bearer","error":"invalid_client"}"#,
        );
        assert_eq!(e.err().map(|e| e.code()), Some(ErrorCode::InvalidClient));
    }

    #[test]
    fn token_answer_with_a_non_string_error_member_is_read_for_its_tokens() {
        for error in ["null", "5", "{}"] {
            let t = read(
                200,
                &format!(r#"{{"error":{error},"access_token":"a","token_type":"bearer","expires_in":"60"}}"#),
            )
            .map(|t| (t.access_token.expose().to_owned(), t.expires_in));
            assert_eq!(t.ok(), Some(("a".to_owned(), Some(60))), "error {error}");
        }
    }

    #[test]
    fn token_answer_without_tokens_or_bearer_is_misconfigured() {
        for body in [
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","token_type":"mac"}"#,
            r#"[1]"#,
            "not json",
        ] {
            let e = read(200, body).err().map(|e| e.code());
            assert_eq!(e, Some(ErrorCode::ProviderMisconfigured), "{body}");
        }
        assert_eq!(
            read(503, "").err().map(|e| e.code()),
            Some(ErrorCode::ProviderUnreachable)
        );
    }
}
