//! Pushed authorization requests (RFC 9126): the authorization request's parameters are POSTed
//! to the provider's `pushed_authorization_request_endpoint` with the client's authentication,
//! and the browser goes to the authorization endpoint with only `client_id` and the
//! `request_uri` the provider answered. Used when the spec says `par = true` and discovery
//! advertises the endpoint, or when discovery says `require_pushed_authorization_requests`.

use serde::Deserialize;

use super::Flow;
use super::token::Client;
use crate::error::{Error, ErrorCode};
use crate::provider::Active;
use crate::provider::http::{Call, Endpoint};

#[derive(Deserialize)]
struct ParResponse {
    request_uri: String,
}

impl Flow {
    /// Pushes the request `url` carries (its query) to `par`; the URL the browser follows.
    pub(super) async fn pushed(
        &self,
        provider: &str,
        active: &Active,
        par: &str,
        mut url: url::Url,
    ) -> Result<url::Url, Error> {
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let client = Client::signed(provider, active, self.client_key.as_deref())?;
        let mut form: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(k, _)| k != "client_id")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let basic = client.authenticate(&mut form);
        if !form.iter().any(|(k, _)| *k == "client_id") {
            form.push(("client_id", client.client_id));
        }
        let resp = self
            .registry
            .http
            .post_form(Call::of(provider, Endpoint::Par), par, &form, basic)
            .await?;
        let fail = |code: ErrorCode, d: String| {
            Error::new(
                code,
                format!("provider `{provider}`: pushed authorization request: {d}"),
            )
        };
        if resp.status >= 500 {
            return Err(fail(
                ErrorCode::ProviderUnreachable,
                format!("HTTP {}", resp.status),
            ));
        }
        if resp.status != 201 && resp.status != 200 {
            let code = if resp.status == 401 {
                ErrorCode::InvalidClient
            } else {
                ErrorCode::ProviderMisconfigured
            };
            return Err(fail(code, format!("HTTP {}", resp.status)));
        }
        let answer: ParResponse = serde_json::from_slice(&resp.body)
            .map_err(|_| fail(ErrorCode::ProviderMisconfigured, "no `request_uri`".into()))?;
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("client_id", client.client_id)
            .append_pair("request_uri", &answer.request_uri);
        Ok(url)
    }
}
