//! Provider specs: the technical facts about a kind of identity provider.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

pub use super::claims::{ClaimMap, ClaimPath, ClaimRule, ClaimSource, ClaimTemplate, PathSegment};
use super::template::Template;

/// The protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OpenID Connect: an ID token proves the identity.
    Oidc,
    /// Plain OAuth 2.0 (e.g. GitHub): the identity comes from the user API.
    Oauth2,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT signed with the app's own key (RFC 7523 §2.2, OpenID Connect Core §9): the key
    /// given to [`OidcLayerBuilder::client_key`](crate::OidcLayerBuilder::client_key),
    /// published at `{prefix}/jwks.json`. No client secret is sent.
    PrivateKeyJwt,
    /// Sign in with Apple: `client_id` and `client_secret` in the form body, the secret an ES256
    /// JWT the library signs (`iss` the team id, `sub` the client id, `aud`
    /// `https://appleid.apple.com`, header `kid` the key id) with the `.p8` key the admin
    /// enters as the client secret; the team id and key id are the `team_id` and `key_id`
    /// parameters. See [`crate::flow::apple`].
    AppleClientSecretJwt,
}

/// How the provider returns the authorization response to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// In the query of a `GET` to the callback (RFC 6749 §4.1.2; the default).
    #[default]
    Query,
    /// In the form body of a `POST` to the callback (OAuth 2.0 Form Post Response Mode), as
    /// Sign in with Apple requires when it is asked for the name or email. The browser sends
    /// that POST cross-site, so the sign-in's transaction cookie is `SameSite=None; Secure`.
    FormPost,
}

/// The `aud` of a `private_key_jwt` client assertion: the providers document different ones
/// (RFC 7523 §3 lets the authorization server choose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssertionAud {
    /// The token endpoint's URL (RFC 7523 §3; Okta, Microsoft Entra ID, Keycloak).
    #[default]
    TokenEndpoint,
    /// The issuer identifier (Auth0: `https://{domain}/`; what RFC 7523bis and FAPI 2.0 ask
    /// for).
    Issuer,
}

/// PKCE mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Pkce {
    /// SHA-256 code challenge.
    S256,
    /// No PKCE (only for providers that reject it).
    #[serde(rename = "none")]
    Disabled,
}

/// When an email from this provider may link a sign-in to an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmailTrust {
    /// Only when the `email_verified` claim is the JSON boolean `true` (the default).
    VerifiedClaim,
    /// The admin trusts every email this provider sends (it verifies them itself).
    Always,
    /// Never link by email.
    Never,
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
    /// The scope that asks for a refresh token (`offline_access` for Authentik, Keycloak, Okta,
    /// Entra, Auth0…), requested besides `scopes` unless refresh is turned off
    /// ([`OidcLayerBuilder::refresh_tokens`](crate::OidcLayerBuilder::refresh_tokens)).
    pub refresh_scope: Option<String>,
    /// Client authentication at the token endpoint.
    pub token_auth: TokenAuth,
    /// The `aud` of the client assertion when `token_auth` is `private_key_jwt`.
    pub assertion_aud: AssertionAud,
    /// Whether authorization requests are pushed (RFC 9126) when the discovery document
    /// advertises a `pushed_authorization_request_endpoint`; a provider whose discovery says
    /// `require_pushed_authorization_requests` gets them regardless.
    pub par: bool,
    /// PKCE mode.
    pub pkce: Pkce,
    /// How the authorization response comes back (`query`, or `form_post`: `response_mode`
    /// is sent, and the callback takes a `POST`).
    pub response_mode: ResponseMode,
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
    /// Token revocation endpoint template (RFC 7009); by default from discovery. Signing out
    /// revokes the session's tokens there.
    pub revocation_endpoint: Option<Template>,
    /// Token introspection endpoint template (RFC 7662); by default from discovery. Opaque
    /// bearer tokens are checked there when [`Bearer::introspection`] is on.
    pub introspection_endpoint: Option<Template>,
    /// ID token signing algorithms accepted; by default the discovery document's.
    pub signing_algs: Option<Vec<String>>,
    /// A default for the `url` setting (providers with one global URL, e.g. Google).
    pub default_url: Option<String>,
    /// Email trust policy.
    pub email_trust: EmailTrust,
    /// Claim mapping.
    pub claims: ClaimMap,
    /// Defaults for template parameters (`{api}` → `https://api.github.com`); an admin's
    /// `params` setting overrides them.
    pub params: BTreeMap<String, String>,
    /// Further user-API requests made with the access token after userinfo (GitHub's
    /// `/user/emails`), each JSON answer added to the claims under its name.
    pub fetch: Vec<Fetch>,
    /// Whether (and how) the provider's access tokens are accepted as `Authorization: Bearer`
    /// on the app's routes; `None`: bearer tokens are ignored.
    pub bearer: Option<Bearer>,
    /// Whether the issuer is one per tenant, named by a claim of the token, when the admin's
    /// tenant parameter means any tenant (Microsoft Entra ID's `common`); `None`: the issuer is
    /// always the rendered template.
    pub multi_tenant: Option<MultiTenant>,
}

/// `[providers.<id>.multi_tenant]`: one issuer per tenant (Microsoft Entra ID's multi-tenant
/// applications).
///
/// Active only when the settings' `params.<param>` is one of [`values`](MultiTenant::values).
/// Then the discovery document's issuer is the issuer template with `{placeholder}` in place
/// of the tenant (`https://login.microsoftonline.com/{tenantid}/v2.0`), and each ID token is
/// checked against the issuer of *its* tenant: its [`claim`](MultiTenant::claim) must be a
/// plain tenant id, its `iss` exactly the template with that tenant, and the tenant on the
/// settings' [`allowed_tenants`](crate::config::ProviderSettings::allowed_tenants). Identities
/// are keyed by that concrete issuer, so one `sub` in two tenants is two identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiTenant {
    /// The issuer template's parameter naming the tenant (`tenant`).
    pub param: String,
    /// The parameter's values that mean any tenant (`common`, `organizations`, `consumers`).
    pub values: Vec<String>,
    /// The ID token claim naming the user's tenant (`tid`).
    pub claim: String,
    /// The discovery document's placeholder for the tenant, without braces (`tenantid`).
    pub placeholder: String,
}

/// `[providers.<id>.bearer]`: the provider's access tokens authenticate API requests.
///
/// A JWT access token is verified with the provider's keys and pinned algorithms, its `iss`
/// equal to the provider's issuer, its `aud` naming the client id or one of
/// [`audiences`](Bearer::audiences), and within `exp`/`nbf`; an opaque token is asked about at
/// the introspection endpoint when [`introspection`](Bearer::introspection) is on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bearer {
    /// `aud` values accepted besides the client id.
    pub audiences: Vec<String>,
    /// The JOSE `typ` every access token carries (e.g. `at+jwt`), when the provider sets one.
    pub typ: Option<String>,
    /// Whether opaque tokens are checked at the introspection endpoint (RFC 7662).
    pub introspection: bool,
}

/// An extra user-API request: `[providers.<id>.fetch.<name>] url = "…"`.
///
/// The answer (any JSON value, e.g. GitHub's array of emails) is added to the claims as
/// `<name>`, for the claim mapping to read (`emails[verified=true].email`). A failed request
/// fails the sign-in: a profile silently missing its email would be refreshed without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The claim name the answer is stored under.
    pub name: String,
    /// The URL template (same variables as the endpoints).
    pub url: Template,
}

impl ProviderSpec {
    /// Every URL template of the spec: the issuer, discovery and endpoint templates that are
    /// set, then each `[[fetch]]` URL.
    pub fn url_templates(&self) -> impl Iterator<Item = &Template> {
        [
            &self.issuer,
            &self.discovery,
            &self.authorization_endpoint,
            &self.token_endpoint,
            &self.userinfo_endpoint,
            &self.jwks_uri,
            &self.end_session_endpoint,
            &self.revocation_endpoint,
            &self.introspection_endpoint,
        ]
        .into_iter()
        .flatten()
        .chain(self.fetch.iter().map(|f| &f.url))
    }
}

impl ClaimMap {
    /// The fixed profile fields with their sources, in the order the docs list them
    /// (`extra` aside).
    pub fn fields(&self) -> [(&'static str, &ClaimSource); 9] {
        [
            ("subject", &self.subject),
            ("email", &self.email),
            ("email_verified", &self.email_verified),
            ("name", &self.name),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("picture", &self.picture),
            ("username", &self.username),
            ("groups", &self.groups),
        ]
    }
}
