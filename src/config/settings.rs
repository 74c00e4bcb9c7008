//! Provider settings: what an admin enters at run time, and the [`Secret`] type.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::spec::EmailTrust;

/// A secret string (a client secret). Its `Debug` and `Display` never show the value; read it
/// with [`Secret::expose`] only where it is sent to the identity provider.
///
/// ```
/// use tower_oidc::config::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?} {s}"), "Secret(<redacted>) <redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret value. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Who becomes an administrator of the app at sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRules {
    /// A user whose `groups` claim contains one of these becomes admin (e.g. `authentik Admins`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// A user whose *verified* email is in one of these domains becomes admin.
    #[serde(default)]
    pub email_domains: Vec<String>,
}

impl AdminRules {
    /// Whether any rule is configured. Without rules, sign-in never changes the admin flag.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.email_domains.is_empty()
    }
}

/// The admin-editable settings of one provider.
///
/// `Debug` redacts the client secret.
///
/// ```
/// use tower_oidc::config::{ProviderSettings, Secret};
/// let s = ProviderSettings {
///     enabled: true,
///     url: Some("https://auth.example.com".into()),
///     client_id: Some("app".into()),
///     client_secret: Some(Secret::new("s3cr3t-value")),
///     ..ProviderSettings::default()
/// };
/// assert!(!format!("{s:?}").contains("s3cr3t-value"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// Whether the provider is offered on the login page and accepted at the callback.
    pub enabled: bool,
    /// The provider URL the admin entered (Authentik: the instance URL or the application's
    /// issuer URL).
    pub url: Option<String>,
    /// Where the server reaches the provider, when that is not `url` (split horizon: e.g.
    /// `http://authentik-server:9000` inside docker-compose while browsers use
    /// `https://auth.example.com`). Discovery, JWKS, token, userinfo and revocation requests go
    /// to this origin, with `X-Forwarded-Host`/`X-Forwarded-Proto` naming the public one (so
    /// Authentik, which builds its issuer from the request's host, answers with the public
    /// issuer); the browser is still sent to `url`.
    pub internal_url: Option<String>,
    /// The client id registered at the provider.
    pub client_id: Option<String>,
    /// The client secret registered at the provider.
    pub client_secret: Option<Secret>,
    /// Scopes to request; `None` uses the spec's.
    pub scopes: Option<Vec<String>>,
    /// Whether an unknown identity gets a new account.
    pub auto_register: bool,
    /// Whether sign-ins ask for a refresh token (the spec's `refresh_scope`, e.g.
    /// `offline_access`), so sessions can refresh their access token (default `true`).
    pub refresh_tokens: bool,
    /// Position on the login page; `None` uses the spec's.
    pub sort_order: Option<i32>,
    /// Icon name; `None` uses the spec's.
    pub icon: Option<String>,
    /// Overrides the spec's email-trust policy.
    pub email_trust: Option<EmailTrust>,
    /// Pushed authorization requests (RFC 9126): `Some(true)` pushes them when the provider's
    /// discovery advertises a `pushed_authorization_request_endpoint`, `Some(false)` does not,
    /// `None` follows the spec's `par`. A provider whose discovery sets
    /// `require_pushed_authorization_requests` gets them whatever this says.
    pub par: Option<bool>,
    /// Admin rules for users of this provider.
    pub admin_rules: AdminRules,
    /// Pins the application slug (Authentik) instead of learning it from the first ID token.
    pub slug: Option<String>,
    /// Further template parameters (e.g. `tenant` for Microsoft Entra ID).
    pub params: BTreeMap<String, String>,
    /// The tenants whose users may sign in when the provider's tenant parameter means any tenant
    /// (see [`MultiTenant`](crate::config::MultiTenant): Entra ID's `common`, `organizations`
    /// or `consumers`): plain tenant ids, compared ignoring ASCII case. Empty: every sign-in of
    /// such a provider is refused (`tenant_not_allowed`). Unused for a single tenant.
    pub allowed_tenants: Vec<String>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            enabled: false,
            url: None,
            internal_url: None,
            client_id: None,
            client_secret: None,
            scopes: None,
            auto_register: true,
            refresh_tokens: true,
            sort_order: None,
            icon: None,
            email_trust: None,
            par: None,
            admin_rules: AdminRules::default(),
            slug: None,
            params: BTreeMap::new(),
            allowed_tenants: Vec::new(),
        }
    }
}
