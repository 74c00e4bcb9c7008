//! The OpenID Connect discovery document, fetched and checked.

use serde::Deserialize;

use super::http::{Call, Endpoint, IdpClient};
use crate::config::check_url;
use crate::error::{Error, ErrorCode};

/// The fields of a discovery document this crate uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// The issuer; must equal the expected issuer byte for byte.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: Option<String>,
    /// Userinfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// JWKS URI.
    pub jwks_uri: Option<String>,
    /// End-session endpoint (RP-initiated logout).
    pub end_session_endpoint: Option<String>,
    /// Token revocation endpoint (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// Token introspection endpoint (RFC 7662).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// Pushed authorization request endpoint (RFC 9126).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: the provider accepts authorization requests only when pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// ID token signing algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9207: whether the authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl Discovery {
    /// Fetches `url` and checks it: JSON, the expected issuer verbatim (Discovery §4.3; a
    /// trailing `/` matters), the required endpoints present, every endpoint https (or http on
    /// loopback) and not on an address the client's [`super::EndpointPolicy`] refuses.
    pub(crate) async fn fetch(
        http: &IdpClient,
        provider: &str,
        url: &str,
        expected_issuer: &str,
    ) -> Result<Discovery, Error> {
        let resp = http
            .get(Call::of(provider, Endpoint::Discovery), url, None)
            .await?;
        let bad = |detail: String| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{provider}`: discovery document at {url}: {detail}"),
            )
        };
        if resp.status >= 500 {
            return Err(Error::new(
                ErrorCode::ProviderUnreachable,
                format!(
                    "provider `{provider}`: discovery at {url} answered HTTP {}",
                    resp.status
                ),
            ));
        }
        if resp.status != 200 {
            return Err(bad(format!(
                "HTTP {} (wrong URL form or application slug?)",
                resp.status
            )));
        }
        let d: Discovery = serde_json::from_slice(&resp.body)
            .map_err(|e| bad(format!("not a valid discovery document ({e})")))?;
        if d.issuer != expected_issuer {
            return Err(bad(format!(
                "issuer mismatch: expected `{expected_issuer}`, the document says `{}` (issuers are compared exactly, trailing slash included)",
                d.issuer
            )));
        }
        for (name, v) in [
            ("authorization_endpoint", Some(&d.authorization_endpoint)),
            ("token_endpoint", d.token_endpoint.as_ref()),
            ("userinfo_endpoint", d.userinfo_endpoint.as_ref()),
            ("jwks_uri", d.jwks_uri.as_ref()),
            ("end_session_endpoint", d.end_session_endpoint.as_ref()),
            ("revocation_endpoint", d.revocation_endpoint.as_ref()),
            ("introspection_endpoint", d.introspection_endpoint.as_ref()),
            (
                "pushed_authorization_request_endpoint",
                d.pushed_authorization_request_endpoint.as_ref(),
            ),
        ] {
            if let Some(v) = v {
                check_url(v).map_err(|m| bad(format!("{name}: {m}")))?;
                // N3: an endpoint advertised on a link-local or metadata address (or, under
                // the strict policy, a private or loopback one) is refused before any request
                // is sent to it.
                http.policy()
                    .check_url(v)
                    .map_err(|m| bad(format!("{name}: {m}")))?;
            }
        }
        if d.token_endpoint.is_none() {
            return Err(bad("no token_endpoint".into()));
        }
        if d.jwks_uri.is_none() {
            return Err(bad("no jwks_uri".into()));
        }
        Ok(d)
    }
}
