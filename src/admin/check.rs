//! The provider check: fetches discovery and keys with a provider's current (or candidate)
//! settings, and says in an administrator's words what is wrong.
//!
//! Shared by `POST {prefix}/admin/providers/{id}/test` and `tower-oidc doctor`. The checks, in
//! order (a failed step stops the ones that need it):
//!
//! | name | what it checks |
//! |---|---|
//! | `settings` | the settings resolve: client ID set, URL well formed |
//! | `tenants` | (multi-tenant: Entra ID `common`/`organizations`) some tenant is allowed |
//! | `reachable` | the instance answers at all (DNS, TLS, refused, timeout told apart) |
//! | `discovery` | the discovery document exists at the issuer (404 → wrong URL form or slug) |
//! | `issuer` | the document's issuer equals the expected one byte for byte (trailing slash!) |
//! | `signing` | the ID token algorithm (HS256 = no signing key selected in Authentik) |
//! | `jwks` | the key set loads and has keys for that algorithm |
//! | `slug` | (instance URL only) the slug will be learned at the first sign-in |
//! | `endpoints` | (instance URL only) the global authorize and token endpoints answer |
//! | `client` | the token endpoint accepts the client ID, secret and redirect URI |
//! | `redirect_uri` | the redirect URI to register at the provider |
//! | `logout_uri` | the back-channel (and front-channel) logout URI to set at the provider |
//!
//! The `client` check sends one token request with a made-up authorization code: a provider
//! that accepts the client answers `invalid_grant`, one that does not `invalid_client`.

mod credentials;
mod documents;
mod reach;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Protocol, ProviderSettings, ProviderSpec};
use crate::provider::http::{Call, Endpoint, IdpClient};
use crate::provider::{HttpLimits, ResolvedProvider, TlsTrust, is_hmac, pinned_algs};

use credentials::client;
use documents::{discovery, jwks};
pub(crate) use reach::unreachable;

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
    check_provider_with(spec, settings, redirect_uri, limits, &TlsTrust::default()).await
}

/// [`check_provider`] trusting the certificate authorities of `trust` (as the app's
/// `.tls_trust(…)` does): a self-hosted provider behind a private CA.
pub async fn check_provider_with(
    spec: &ProviderSpec,
    settings: &ProviderSettings,
    redirect_uri: &str,
    limits: HttpLimits,
    trust: &TlsTrust,
) -> CheckReport {
    match IdpClient::new(limits, trust) {
        Ok(http) => {
            // Split horizon: the check goes where the app's requests go.
            if let (Some(internal), Some(url)) = (
                settings.internal_url.as_deref(),
                settings.url.as_deref().or(spec.default_url.as_deref()),
            ) {
                http.horizons
                    .set(&spec.id, crate::provider::Horizon::of(url, internal));
            }
            run(&http, spec, settings, redirect_uri).await
        }
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
    let logout = redirect_uri.strip_suffix("/callback").map(|base| {
        (
            format!("{base}/backchannel-logout"),
            format!("{base}/frontchannel-logout"),
        )
    });
    if let Some((back, front)) = logout {
        r.push(
            "logout_uri",
            true,
            format!(
                "So that a sign-out at the provider ends the session here, set the provider's Logout URI to {back} with Logout Method \"Back-channel\" (Authentik 2025.10+; on 2025.8 the \"Back-channel logout URI\" field). Front-channel instead (it needs the user's browser): {front}"
            ),
        );
    }
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
    if let Some(allowed) = &resolved.allowed_tenants {
        if allowed.is_empty() {
            r.push(
                "tenants",
                false,
                "This provider accepts users of any tenant, but no tenant is allowed: every sign-in is refused (tenant_not_allowed). List the tenant ids whose users may sign in in the allowed_tenants setting, or set the tenant parameter to one tenant id.",
            );
        } else {
            r.push(
                "tenants",
                true,
                format!(
                    "Users of {} allowed tenant(s) may sign in: {}.",
                    allowed.len(),
                    allowed.join(", ")
                ),
            );
        }
    }
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
                    http.post_form(
                        Call::check(Endpoint::Probe("token endpoint")),
                        url,
                        &[],
                        None,
                    )
                    .await
                } else {
                    http.get(
                        Call::check(Endpoint::Probe("authorize endpoint")),
                        url,
                        None,
                    )
                    .await
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
