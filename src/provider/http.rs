//! The HTTP client for calls to identity providers: total deadlines, no redirects, and a cap on
//! every body read, so a slow, hostile or broken provider costs a bounded amount of time and
//! memory and ends in a typed error.

use std::time::Duration;

use futures_util::StreamExt as _;
use tracing::Instrument as _;

use super::address::{EndpointPolicy, PolicyResolver, refused_name_in};
pub(crate) use super::call::{Call, Endpoint};
use super::horizon::{Horizons, Routed};
use super::trust::{TlsTrust, certificate_advice};
use crate::config::Secret;
use crate::error::{Error, ErrorCode};

/// Limits for calls to identity providers.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Total deadline of one call (connect, send, read the whole body).
    pub timeout: Duration,
    /// Connect deadline.
    pub connect_timeout: Duration,
    /// Largest body accepted.
    pub max_body: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body: 512 * 1024,
        }
    }
}

/// A response from a provider: status, content type and the (bounded) body.
#[derive(Debug)]
pub(crate) struct IdpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
}

impl IdpResponse {
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("body is not JSON ({e})"))
    }
}

/// A client for identity-provider calls.
#[derive(Clone)]
pub(crate) struct IdpClient {
    client: reqwest::Client,
    /// Providers with certificate authorities of their own: their requests go through their
    /// own client.
    own: std::sync::Arc<std::collections::HashMap<String, reqwest::Client>>,
    limits: HttpLimits,
    policy: EndpointPolicy,
    /// Providers reached at another address than browsers use (split horizon).
    pub(crate) horizons: Horizons,
}

impl IdpClient {
    /// A client with the default [`EndpointPolicy`] and `trust`.
    pub fn new(limits: HttpLimits, trust: &TlsTrust) -> Result<IdpClient, Error> {
        IdpClient::with_policy(limits, EndpointPolicy::default(), trust)
    }

    /// A client that refuses the addresses `policy` refuses: IP literals in request URLs, and
    /// (through its resolver) the addresses host names resolve to; it trusts the certificate
    /// authorities of `trust`.
    pub fn with_policy(
        limits: HttpLimits,
        policy: EndpointPolicy,
        trust: &TlsTrust,
    ) -> Result<IdpClient, Error> {
        Ok(IdpClient {
            client: build_client(limits, policy, trust)?,
            own: Default::default(),
            limits,
            policy,
            horizons: Horizons::default(),
        })
    }

    /// This client, with `provider`'s requests trusting the certificate authorities of `trust`
    /// instead of the client's own.
    pub fn with_provider_trust(mut self, provider: &str, trust: &TlsTrust) -> Result<Self, Error> {
        let client = build_client(self.limits, self.policy, trust)?;
        std::sync::Arc::make_mut(&mut self.own).insert(provider.to_owned(), client);
        Ok(self)
    }

    /// This client as `provider`'s requests use it (its own trust, if it has one), for calls
    /// that do not name the provider (the admin's check).
    pub fn for_provider(&self, provider: &str) -> IdpClient {
        let mut c = self.clone();
        if let Some(own) = self.own.get(provider) {
            c.client = own.clone();
        }
        c
    }

    /// The client for a request of `provider`'s.
    fn client_for(&self, provider: Option<&str>) -> &reqwest::Client {
        provider
            .and_then(|p| self.own.get(p))
            .unwrap_or(&self.client)
    }

    /// The address policy of this client.
    pub fn policy(&self) -> EndpointPolicy {
        self.policy
    }

    /// GET `url`.
    pub async fn get(
        &self,
        call: Call<'_>,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<IdpResponse, Error> {
        let (mut req, routed, parsed) = self.request(call, http::Method::GET, url);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        self.send(call, &routed.url, parsed.as_ref(), req).await
    }

    /// POST a form to `url`, with HTTP Basic client authentication when `basic` is given
    /// (id and secret form-urlencoded first, as RFC 6749 §2.3.1 requires).
    pub async fn post_form(
        &self,
        call: Call<'_>,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &Secret)>,
    ) -> Result<IdpResponse, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let (req, routed, parsed) = self.request(call, http::Method::POST, url);
        let mut req = req
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if let Some((id, secret)) = basic {
            let creds = format!("{}:{}", basic_encode(id), basic_encode(secret.expose()));
            req = req.header(
                http::header::AUTHORIZATION,
                format!("Basic {}", base64_std(&creds)),
            );
        }
        self.send(call, &routed.url, parsed.as_ref(), req).await
    }

    /// A request of `call`'s client to `url` as the split horizon routes it, asking for JSON;
    /// with the URL it goes to, and that URL parsed once (for the address policy and reqwest).
    fn request(
        &self,
        call: Call<'_>,
        method: http::Method,
        url: &str,
    ) -> (reqwest::RequestBuilder, Routed, Option<url::Url>) {
        let routed = self.horizons.route(url);
        let parsed = url::Url::parse(&routed.url).ok();
        let client = self.client_for(call.provider);
        let req = match &parsed {
            Some(u) => client.request(method, u.clone()),
            None => client.request(method, routed.url.as_str()),
        };
        let req = forwarded(req, &routed).header(http::header::ACCEPT, "application/json");
        (req, routed, parsed)
    }

    /// Sends one request inside its `tower_oidc.provider_request` span, and records its
    /// duration and failure for a provider's own call ([`Call::of`]).
    async fn send(
        &self,
        call: Call<'_>,
        url: &str,
        parsed: Option<&url::Url>,
        req: reqwest::RequestBuilder,
    ) -> Result<IdpResponse, Error> {
        let span = tracing::info_span!(
            "tower_oidc.provider_request",
            provider = call.provider.unwrap_or("-"),
            endpoint = call.endpoint.label(),
            status = tracing::field::Empty,
        );
        let start = std::time::Instant::now();
        let out = self
            .send_once(call.endpoint.describe(), url, parsed, req)
            .instrument(span.clone())
            .await;
        let failure = match &out {
            Ok(resp) => {
                span.record("status", resp.status);
                (resp.status >= 500).then_some("http_5xx")
            }
            Err((_, reason)) => Some(*reason),
        };
        if let Some(provider) = call.provider {
            crate::observe::provider_request(
                provider,
                call.endpoint.label(),
                start.elapsed(),
                failure,
            );
        }
        out.map_err(|(e, _)| e)
    }

    /// Sends one request; a failure comes with its metric `reason`.
    async fn send_once(
        &self,
        what: &str,
        url: &str,
        parsed: Option<&url::Url>,
        req: reqwest::RequestBuilder,
    ) -> Result<IdpResponse, (Error, &'static str)> {
        let unreachable = |detail: String| {
            Error::new(
                ErrorCode::ProviderUnreachable,
                format!("{what} at {}: {detail}", redact_url(url)),
            )
        };
        // Every request to a provider passes here, whatever the URL's source (discovery,
        // templates, the admin check): the last line of the address policy for IP literals.
        // Host names are checked by the resolver, whose refusal is found in the error chain.
        // (A URL that does not parse is refused by the HTTP client.)
        if let Some(Err(m)) = parsed.map(|u| self.policy.check_parsed(u, url)) {
            return Err((
                Error::new(ErrorCode::ProviderMisconfigured, format!("{what}: {m}")),
                "refused",
            ));
        }
        let resp = req.send().await.map_err(|e| match refused_name_in(&e) {
            Some(m) => (
                Error::new(
                    ErrorCode::ProviderMisconfigured,
                    format!("{what} at {}: {m}", redact_url(url)),
                ),
                "refused",
            ),
            None => match certificate_advice(&e) {
                // A refused certificate: the cause and the setting that fixes it.
                Some(advice) => (unreachable(advice), "tls"),
                None if e.is_timeout() => (unreachable(describe(&e)), "timeout"),
                None => (unreachable(describe(&e)), "unreachable"),
            },
        })?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(len) = resp.content_length()
            && len > self.limits.max_body as u64
        {
            return Err((
                Error::new(
                    ErrorCode::ProviderMisconfigured,
                    format!(
                        "{what} at {}: body of {len} bytes exceeds the {}-byte limit",
                        redact_url(url),
                        self.limits.max_body
                    ),
                ),
                "too_large",
            ));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                let reason = if e.is_timeout() {
                    "timeout"
                } else {
                    "unreachable"
                };
                (unreachable(describe(&e)), reason)
            })?;
            if body.len() + chunk.len() > self.limits.max_body {
                return Err((
                    Error::new(
                        ErrorCode::ProviderMisconfigured,
                        format!(
                            "{what} at {}: body exceeds the {}-byte limit",
                            redact_url(url),
                            self.limits.max_body
                        ),
                    ),
                    "too_large",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(IdpResponse {
            status,
            content_type,
            body: body.into(),
        })
    }
}

/// A client with the limits, address policy and trust given: no redirects followed.
fn build_client(
    limits: HttpLimits,
    policy: EndpointPolicy,
    trust: &TlsTrust,
) -> Result<reqwest::Client, Error> {
    let mut builder = trust
        .apply(reqwest::Client::builder())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(limits.timeout)
        .connect_timeout(limits.connect_timeout)
        .user_agent(concat!("tower-oidc/", env!("CARGO_PKG_VERSION")));
    if policy != EndpointPolicy::AllowAll {
        builder = builder.dns_resolver(std::sync::Arc::new(PolicyResolver(policy)));
    }
    builder
        .build()
        .map_err(|e| Error::new(ErrorCode::Internal, format!("HTTP client: {e}")))
}

/// Adds the split horizon's `X-Forwarded-Host`/`X-Forwarded-Proto` to a rerouted request.
fn forwarded(req: reqwest::RequestBuilder, routed: &Routed) -> reqwest::RequestBuilder {
    match &routed.forwarded {
        Some((host, proto)) => req
            .header("x-forwarded-host", host)
            .header("x-forwarded-proto", proto),
        None => req,
    }
}

/// The form-urlencoding of a client id or secret for HTTP Basic (RFC 6749 §2.3.1), with every
/// byte but the unreserved ones percent-encoded — a space as `%20`, not `+`. Both decoders in
/// use read that the same way: form decoders turn `%20` into a space, and Authentik (2026.5+)
/// percent-decodes without turning `+` into a space, so a secret holding a space or a `+`
/// works with either.
fn basic_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn base64_std(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// A URL for logs: without query and fragment (they may carry codes or tokens).
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "<invalid URL>".to_owned(),
    }
}

/// Words an operator can act on, from a reqwest error (without the URL, which we add redacted).
fn describe(e: &reqwest::Error) -> String {
    let mut kind = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body broke off".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The source chain says why (DNS, refused, TLS): walk it, it holds no secrets.
    let mut src = std::error::Error::source(e);
    let mut depth = 0;
    while let Some(s) = src {
        if depth == 0 {
            kind.push_str(": ");
        } else {
            kind.push_str(" / ");
        }
        kind.push_str(&s.to_string());
        src = s.source();
        depth += 1;
        if depth > 4 {
            break;
        }
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::basic_encode;

    #[test]
    fn basic_credentials_are_percent_encoded_without_plus() {
        assert_eq!(basic_encode("abc-._~XYZ09"), "abc-._~XYZ09");
        assert_eq!(basic_encode("a b+c:d%e"), "a%20b%2Bc%3Ad%25e");
        let decoded: String = url::form_urlencoded::parse(
            format!("x={}", basic_encode("s3cr:et+with%20 space%")).as_bytes(),
        )
        .map(|(_, v)| v.into_owned())
        .collect();
        assert_eq!(decoded, "s3cr:et+with%20 space%");
    }
}
