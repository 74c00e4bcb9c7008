//! Provider specs: the technical facts about a kind of identity provider.

use serde::{Deserialize, Serialize};

use super::template::Template;

/// The protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OpenID Connect: an ID token proves the identity.
    Oidc,
    /// Plain OAuth 2.0 (e.g. GitHub): the identity comes from the user API.
    Oauth2,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// PKCE mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pkce {
    /// SHA-256 code challenge.
    S256,
    /// No PKCE (only for providers that reject it).
    #[serde(rename = "none")]
    Disabled,
}

/// When an email from this provider may link a sign-in to an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailTrust {
    /// Only when the `email_verified` claim is the JSON boolean `true` (the default).
    VerifiedClaim,
    /// The admin trusts every email this provider sends (it verifies them itself).
    Always,
    /// Never link by email.
    Never,
}

/// A claim path: `email`, or a nested path such as `address.country`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(pub Vec<String>);

impl ClaimPath {
    /// Parses `a.b.c`.
    pub fn parse(s: &str) -> Option<ClaimPath> {
        let parts: Vec<String> = s.split('.').map(str::to_owned).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(ClaimPath(parts))
    }

    /// Looks the path up in a JSON object.
    pub fn lookup<'a>(&self, v: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        let mut cur = v;
        for p in &self.0 {
            cur = cur.get(p)?;
        }
        Some(cur)
    }
}

impl std::fmt::Display for ClaimPath {
    /// The dotted form, `address.country`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// Where one user field comes from: the first of these claims that is present (and not null).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimSource(pub Vec<ClaimPath>);

impl ClaimSource {
    /// The first present, non-null value.
    pub fn find<'a>(&self, claims: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        self.0
            .iter()
            .filter_map(|p| p.lookup(claims))
            .find(|v| !v.is_null())
    }
}

impl std::fmt::Display for ClaimSource {
    /// The claims in the order they are tried, `name | preferred_username`; `-` when the field
    /// is not mapped.
    ///
    /// ```
    /// use tower_oidc::config::{ClaimPath, ClaimSource};
    /// let s = ClaimSource(vec![ClaimPath::parse("name").unwrap(), ClaimPath::parse("a.b").unwrap()]);
    /// assert_eq!(s.to_string(), "name | a.b");
    /// assert_eq!(ClaimSource::default().to_string(), "-");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The claim mapping table: user field → claim(s).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimMap {
    /// The stable subject (`sub`).
    pub subject: ClaimSource,
    /// Email.
    pub email: ClaimSource,
    /// Whether the email is verified.
    pub email_verified: ClaimSource,
    /// Display name.
    pub name: ClaimSource,
    /// Given name.
    pub given_name: ClaimSource,
    /// Family name.
    pub family_name: ClaimSource,
    /// Picture URL.
    pub picture: ClaimSource,
    /// Username.
    pub username: ClaimSource,
    /// Group names.
    pub groups: ClaimSource,
}

/// A resolved provider spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSpec {
    /// The id used in URLs (`/api/auth/providers/{id}/…`).
    pub id: String,
    /// Display name ("Sign in with {name}").
    pub name: String,
    /// The protocol.
    pub protocol: Protocol,
    /// Icon name (react-icons style, e.g. `FaShieldAlt`).
    pub icon: Option<String>,
    /// Default position on the login page.
    pub sort_order: i32,
    /// Default scopes.
    pub scopes: Vec<String>,
    /// Client authentication at the token endpoint.
    pub token_auth: TokenAuth,
    /// PKCE mode.
    pub pkce: Pkce,
    /// Issuer template (OIDC).
    pub issuer: Option<Template>,
    /// Discovery URL template; by default the issuer joined with
    /// `.well-known/openid-configuration` as OpenID Connect Discovery §4 says.
    pub discovery: Option<Template>,
    /// Authorization endpoint template; by default from discovery.
    pub authorization_endpoint: Option<Template>,
    /// Token endpoint template; by default from discovery.
    pub token_endpoint: Option<Template>,
    /// Userinfo endpoint template; by default from discovery.
    pub userinfo_endpoint: Option<Template>,
    /// JWKS URI template; by default from discovery.
    pub jwks_uri: Option<Template>,
    /// End-session endpoint template; by default from discovery.
    pub end_session_endpoint: Option<Template>,
    /// ID token signing algorithms accepted; by default the discovery document's.
    pub signing_algs: Option<Vec<String>>,
    /// A default for the `url` setting (providers with one global URL, e.g. Google).
    pub default_url: Option<String>,
    /// Email trust policy.
    pub email_trust: EmailTrust,
    /// Claim mapping.
    pub claims: ClaimMap,
}
