//! The `client` check: one token request with a made-up code tells whether the provider
//! accepts the client ID, secret and redirect URI.

use serde_json::Value;

use super::CheckReport;
use super::reach::unreachable;
use crate::config::{ProviderSpec, TokenAuth};
use crate::provider::ResolvedProvider;
use crate::provider::http::{Call, Endpoint, IdpClient};

pub(super) async fn client(
    http: &IdpClient,
    spec: &ProviderSpec,
    p: &ResolvedProvider,
    token: &str,
    redirect_uri: &str,
    hmac_only: bool,
    r: &mut CheckReport,
) {
    if spec.token_auth == TokenAuth::PrivateKeyJwt {
        r.warn(
            "client",
            "The client credentials were not checked: the client authenticates with private_key_jwt (the app's key, published at {prefix}/jwks.json).",
        );
        return;
    }
    let apple;
    let secret = if spec.token_auth == TokenAuth::AppleClientSecretJwt {
        // The .p8 key itself is never sent: the check signs a client secret from it, as a
        // sign-in does.
        match crate::flow::apple::client_secret(&spec.id, p, crate::util::unix_now()) {
            Ok(s) => {
                apple = s;
                Some(&apple)
            }
            Err(e) => {
                r.push("client", false, e.detail().to_owned());
                return;
            }
        }
    } else {
        p.client_secret.as_ref()
    };
    let Some(secret) = secret else {
        r.warn(
            "client",
            "The client credentials were not checked: no client secret is set (Authentik: Protocol Settings → Client Secret, for a Confidential client).",
        );
        return;
    };
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", "tower-oidc-check-not-a-real-code"),
        ("redirect_uri", redirect_uri),
    ];
    let basic = match spec.token_auth {
        TokenAuth::ClientSecretBasic => Some((p.client_id.as_str(), secret)),
        TokenAuth::ClientSecretPost | TokenAuth::AppleClientSecretJwt => {
            form.push(("client_id", p.client_id.as_str()));
            form.push(("client_secret", secret.expose()));
            None
        }
        TokenAuth::PrivateKeyJwt => None,
    };
    let resp = match http
        .post_form(Call::check(Endpoint::Token), token, &form, basic)
        .await
    {
        Ok(resp) => resp,
        Err(e) => {
            r.push("client", false, unreachable(token, e.detail()));
            return;
        }
    };
    let error = resp
        .json()
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    match (resp.status, error.as_deref()) {
        (_, Some("invalid_grant")) => r.push(
            "client",
            true,
            "The token endpoint accepted the client ID, the client secret and the redirect URI (it refused only the made-up code the check sends).",
        ),
        (_, Some("invalid_client" | "unauthorized_client")) => r.push(
            "client",
            false,
            format!(
                "The token endpoint refused the client (invalid_client): check the Client ID and Client Secret (copied without extra spaces{}) and that the redirect URI {redirect_uri} is registered at the provider. Authentik registers the first redirect URI it sees when none is set, so a sign-in may fix this; a wrong secret it will not.",
                if hmac_only { "; with HS256 the secret also verifies ID tokens" } else { "" }
            ),
        ),
        (404, _) => r.push(
            "client",
            false,
            format!("The token endpoint {token} does not exist (HTTP 404): check the provider URL."),
        ),
        (status, e) => r.warn(
            "client",
            format!(
                "The token endpoint answered HTTP {status}{}: the client credentials could not be confirmed.",
                e.map(|e| format!(" ({})", e.chars().filter(|c| !c.is_control()).take(64).collect::<String>()))
                    .unwrap_or_default()
            ),
        ),
    }
}
