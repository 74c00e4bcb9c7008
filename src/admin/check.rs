//! The provider check: fetches discovery and keys with a provider's current (or candidate)
//! settings, and says in an administrator's words what is wrong.
//!
//! Shared by `POST {prefix}/admin/providers/{id}/test` and `tower-oidc doctor`. The checks, in
//! order (a failed step stops the ones that need it):
//!
//! | name | what it checks |
//! |---|---|
//! | `settings` | the settings resolve: client ID set, URL well formed |
//! | `reachable` | the instance answers at all (DNS, TLS, refused, timeout told apart) |
//! | `discovery` | the discovery document exists at the issuer (404 → wrong URL form or slug) |
//! | `issuer` | the document's issuer equals the expected one byte for byte (trailing slash!) |
//! | `signing` | the ID token algorithm (HS256 = no signing key selected in Authentik) |
//! | `jwks` | the key set loads and has keys for that algorithm |
//! | `slug` | (instance URL only) the slug will be learned at the first sign-in |
//! | `endpoints` | (instance URL only) the global authorize and token endpoints answer |
//! | `client` | the token endpoint accepts the client ID, secret and redirect URI |
//! | `redirect_uri` | the redirect URI to register at the provider |
//!
//! The `client` check sends one token request with a made-up authorization code: a provider
//! that accepts the client answers `invalid_grant`, one that does not `invalid_client`.

use serde::Serialize;
use serde_json::Value;

use crate::config::{Protocol, ProviderSettings, ProviderSpec, TokenAuth};
use crate::provider::http::IdpClient;
use crate::provider::{Discovery, HttpLimits, ResolvedProvider, is_hmac, parse_jwks, pinned_algs};

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    /// Short name (`discovery`, `issuer`, …).
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// Passed, but the admin should know something (e.g. HS256).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    /// What was found, and what to do about it.
    pub message: String,
}

/// The result of checking one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Whether every check passed.
    pub ok: bool,
    /// The checks, in order.
    pub checks: Vec<CheckItem>,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
}

impl CheckReport {
    /// The report as JSON: `{"ok", "checks": [{"name", "ok", "message"}], "redirect_uri"}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn push(&mut self, name: &'static str, ok: bool, message: impl Into<String>) {
        self.checks.push(CheckItem {
            name,
            ok,
            warning: false,
            message: message.into(),
        });
    }

    fn warn(&mut self, name: &'static str, message: impl Into<String>) {
        self.checks.push(CheckItem {
            name,
            ok: true,
            warning: true,
            message: message.into(),
        });
    }
}

/// Checks `spec` with `settings`, as a sign-in would use them, with its own HTTP client.
///
/// ```no_run
/// # async fn f() {
/// use tower_oidc::admin::check::check_provider;
/// use tower_oidc::config::{ProviderSettings, Providers};
/// let spec = Providers::builtin().get("authentik").cloned().unwrap();
/// let settings = ProviderSettings {
///     url: Some("https://auth.example.com/application/o/my-app/".into()),
///     client_id: Some("abc".into()),
///     ..Default::default()
/// };
/// let report = check_provider(&spec, &settings, "https://app.example.com/api/auth/providers/authentik/callback", Default::default()).await;
/// for c in &report.checks {
///     println!("{} {}: {}", if c.ok { "ok" } else { "FAIL" }, c.name, c.message);
/// }
/// # }
/// ```
pub async fn check_provider(
    spec: &ProviderSpec,
    settings: &ProviderSettings,
    redirect_uri: &str,
    limits: HttpLimits,
) -> CheckReport {
    match IdpClient::new(limits) {
        Ok(http) => run(&http, spec, settings, redirect_uri).await,
        Err(e) => {
            let mut r = CheckReport {
                ok: false,
                checks: Vec::new(),
                redirect_uri: redirect_uri.to_owned(),
            };
            r.push("settings", false, format!("internal error: {}", e.detail()));
            r
        }
    }
}

/// Runs every check with the engine's HTTP client.
pub(crate) async fn run(
    http: &IdpClient,
    spec: &ProviderSpec,
    settings: &ProviderSettings,
    redirect_uri: &str,
) -> CheckReport {
    let mut r = CheckReport {
        ok: true,
        checks: Vec::new(),
        redirect_uri: redirect_uri.to_owned(),
    };
    steps(http, spec, settings, redirect_uri, &mut r).await;
    r.push(
        "redirect_uri",
        true,
        format!(
            "Register this redirect URI at the provider (Authentik: the provider's Redirect URIs/Origins, mode Strict), exactly as written: {redirect_uri}"
        ),
    );
    r.ok = r.checks.iter().all(|c| c.ok);
    r
}

async fn steps(
    http: &IdpClient,
    spec: &ProviderSpec,
    settings: &ProviderSettings,
    redirect_uri: &str,
    r: &mut CheckReport,
) {
    let resolved = match ResolvedProvider::resolve(spec, settings) {
        Ok(p) => p,
        Err(e) => {
            let d = e.detail();
            let d = d
                .strip_prefix(&format!("provider `{}`: ", spec.id))
                .unwrap_or(d);
            let msg = match d {
                "no client id is set" => "No client ID is set: copy it from the provider in Authentik (Protocol Settings → Client ID).".to_owned(),
                "no provider URL is set" => "No provider URL is set: enter the instance URL (https://auth.example.com) or the application's issuer URL (…/application/o/<slug>/).".to_owned(),
                other => format!("The settings cannot be used: {other}."),
            };
            r.push("settings", false, msg);
            return;
        }
    };
    let secret = resolved.client_secret.is_some();
    r.push(
        "settings",
        true,
        format!(
            "Client ID is set, client secret is {}{}.",
            if secret { "set" } else { "not set" },
            resolved
                .url
                .as_deref()
                .map(|u| format!(", provider URL {u}"))
                .unwrap_or_default()
        ),
    );
    let ends = &resolved.endpoints;
    let mut token = ends.token.clone();
    let mut hmac_only = false;
    match (&ends.issuer, &ends.discovery, spec.protocol) {
        (Some(issuer), Some(disc), Protocol::Oidc) => {
            let Some(d) = discovery(http, disc, issuer, r).await else {
                return;
            };
            if d.token_endpoint.is_some() {
                token = d.token_endpoint.clone();
            }
            let offered = d.id_token_signing_alg_values_supported.clone();
            let algs = pinned_algs(spec.signing_algs.as_deref(), Some(&offered));
            if algs.is_empty() {
                r.push(
                    "signing",
                    false,
                    format!(
                        "The provider offers no usable ID token signing algorithm (it lists: {}).",
                        if offered.is_empty() {
                            "none".to_owned()
                        } else {
                            offered.join(", ")
                        }
                    ),
                );
                return;
            }
            hmac_only = algs.iter().all(is_hmac);
            if hmac_only && !secret {
                r.push(
                    "signing",
                    false,
                    "No signing key is selected in Authentik, so ID tokens are signed with HS256 using the client secret, and no client secret is set here: enter it, or select a signing key in the Authentik provider (e.g. \"authentik Self-signed Certificate\").",
                );
            } else if hmac_only {
                r.warn(
                    "signing",
                    "No signing key is selected in Authentik: ID tokens are signed with HS256 using the client secret. Select one in the provider (e.g. \"authentik Self-signed Certificate\") for RS256, or keep HS256, which works but lets anyone who knows the client secret forge ID tokens.",
                );
            } else {
                let names: Vec<String> = algs
                    .iter()
                    .filter_map(|a| serde_json::to_value(a).ok())
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                r.push(
                    "signing",
                    true,
                    format!("ID tokens are signed with {}.", names.join(", ")),
                );
            }
            match &d.jwks_uri {
                Some(j) => jwks(http, j, hmac_only, r).await,
                None => r.push("jwks", false, "The discovery document names no jwks_uri."),
            }
        }
        (None, _, Protocol::Oidc)
            if spec
                .issuer
                .as_ref()
                .is_some_and(|t| t.vars().any(|v| v == "slug")) =>
        {
            r.warn(
                "slug",
                "Only the instance URL is set, so the application slug is not known yet: it will be learned from the first sign-in. To check the discovery document and keys now, enter the application's issuer URL as Authentik shows it (…/application/o/<slug>/).",
            );
            let mut answered = Vec::new();
            for (what, url, post) in [
                ("authorize", ends.authorization.as_deref(), false),
                ("token", ends.token.as_deref(), true),
            ] {
                let Some(url) = url else { continue };
                let resp = if post {
                    http.post_form("token endpoint", url, &[], None).await
                } else {
                    http.get("authorize endpoint", url, None).await
                };
                match resp {
                    Ok(resp) => answered.push(format!("{what} (HTTP {})", resp.status)),
                    Err(e) => {
                        r.push("reachable", false, unreachable(url, e.detail()));
                        return;
                    }
                }
            }
            r.push(
                "endpoints",
                true,
                format!(
                    "The instance answers at its global endpoints: {}.",
                    answered.join(", ")
                ),
            );
        }
        _ => {}
    }
    if let Some(token) = token {
        client(http, spec, &resolved, &token, redirect_uri, hmac_only, r).await;
    }
}

/// Fetches and checks the discovery document; `None` when a failure was reported.
async fn discovery(
    http: &IdpClient,
    url: &str,
    issuer: &str,
    r: &mut CheckReport,
) -> Option<Discovery> {
    let resp = match http.get("discovery", url, None).await {
        Ok(resp) => resp,
        Err(e) => {
            r.push("reachable", false, unreachable(url, e.detail()));
            return None;
        }
    };
    r.push(
        "reachable",
        true,
        format!("The provider answered at {}.", origin(url)),
    );
    match resp.status {
        200 => {}
        404 => {
            r.push(
                "discovery",
                false,
                format!(
                    "No discovery document at {url} (HTTP 404): the URL form or the application slug is wrong. Enter the instance URL (https://auth.example.com) or the application's issuer URL exactly as Authentik shows it in the provider's overview (…/application/o/<slug>/); the slug is the application's, not the provider's name."
                ),
            );
            return None;
        }
        s if s >= 500 => {
            r.push(
                "discovery",
                false,
                format!("The provider failed to serve {url} (HTTP {s}): check that it is healthy."),
            );
            return None;
        }
        s => {
            r.push(
                "discovery",
                false,
                format!("The discovery document at {url} answered HTTP {s} instead of 200."),
            );
            return None;
        }
    }
    let d: Discovery = match serde_json::from_slice(&resp.body) {
        Ok(d) => d,
        Err(_) => {
            r.push(
                "discovery",
                false,
                format!(
                    "{url} did not answer with a discovery document ({}): is the URL an OpenID provider, and not a login page or a proxy's error page?",
                    resp.content_type.as_deref().unwrap_or("no content type")
                ),
            );
            return None;
        }
    };
    r.push(
        "discovery",
        true,
        format!("Found the discovery document at {url}."),
    );
    if d.issuer != issuer {
        let msg = if d.issuer.trim_end_matches('/') == issuer.trim_end_matches('/') {
            format!(
                "Issuer mismatch: expected `{issuer}`, the provider says `{}`. They differ only in the trailing slash, and issuers are compared exactly, so every sign-in would fail: Authentik's issuer ends with `/`; check that no reverse proxy rewrites it and that the provider's issuer mode is \"Each provider has a different issuer\".",
                d.issuer
            )
        } else {
            format!(
                "Issuer mismatch: expected `{issuer}`, the provider says `{}`. Enter the URL the provider's issuer is built from (the instance URL or the issuer URL as Authentik shows it).",
                d.issuer
            )
        };
        r.push("issuer", false, msg);
        return None;
    }
    r.push("issuer", true, format!("The issuer is `{issuer}`."));
    Some(d)
}

async fn jwks(http: &IdpClient, url: &str, hmac_only: bool, r: &mut CheckReport) {
    let resp = match http.get("jwks", url, None).await {
        Ok(resp) => resp,
        Err(e) => {
            r.push("jwks", false, unreachable(url, e.detail()));
            return;
        }
    };
    if resp.status != 200 {
        r.push(
            "jwks",
            false,
            format!("The key set at {url} answered HTTP {}.", resp.status),
        );
        return;
    }
    match parse_jwks(&resp.body) {
        Err(e) => r.push(
            "jwks",
            false,
            format!("The key set at {url} is not valid: {e}."),
        ),
        Ok(set) => {
            let n = set.keys().len();
            match (n, hmac_only) {
                (0, true) => r.push(
                    "jwks",
                    true,
                    "The key set is empty, as expected with HS256.",
                ),
                (0, false) => r.push(
                    "jwks",
                    false,
                    format!("The key set at {url} has no keys: select a signing key in the Authentik provider."),
                ),
                (n, _) => r.push(
                    "jwks",
                    true,
                    format!("The key set has {n} key{}.", if n == 1 { "" } else { "s" }),
                ),
            }
        }
    }
}

async fn client(
    http: &IdpClient,
    spec: &ProviderSpec,
    p: &ResolvedProvider,
    token: &str,
    redirect_uri: &str,
    hmac_only: bool,
    r: &mut CheckReport,
) {
    let Some(secret) = &p.client_secret else {
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
        TokenAuth::ClientSecretPost => {
            form.push(("client_id", p.client_id.as_str()));
            form.push(("client_secret", secret.expose()));
            None
        }
    };
    let resp = match http.post_form("token", token, &form, basic).await {
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

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

/// Why a provider could not be reached, in words: DNS, TLS, refused, timeout.
pub(crate) fn unreachable(url: &str, detail: &str) -> String {
    let u = url::Url::parse(url).ok();
    let host = u
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let port = u
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .map(|p| p.to_string())
        .unwrap_or_default();
    let d = detail.to_ascii_lowercase();
    let why = if d.contains("timed out") || d.contains("timeout") || d.contains("deadline") {
        format!(
            "The instance at {} did not answer in time (timed out): check that it is running and that no firewall silently drops connections from this server.",
            origin(url)
        )
    } else if d.contains("dns error")
        || d.contains("failed to lookup address")
        || d.contains("name or service not known")
        || d.contains("no such host")
        || d.contains("nodename nor servname")
        || d.contains("name resolution")
    {
        format!(
            "The host name `{host}` could not be resolved (DNS): check the spelling of the URL and that this server's DNS knows the name."
        )
    } else if d.contains("certificate")
        || d.contains("tls")
        || d.contains("ssl")
        || d.contains("handshake")
        || d.contains("corrupt message")
        || d.contains("invalidcontenttype")
    {
        format!(
            "The secure connection to {host} failed (TLS): check that its certificate is valid for this host name, not expired, and trusted by this server (a self-signed certificate is not), and that the port speaks HTTPS."
        )
    } else if d.contains("connection refused") || d.contains("refused") {
        format!(
            "The connection to {host}:{port} was refused: nothing listens there. Check the port in the URL and that the instance is running."
        )
    } else {
        format!("The instance at {} could not be reached.", origin(url))
    };
    format!("Instance not reachable. {why} (Detail: {detail})")
}
