//! The TOML layer: what a `providers.toml` file holds before it is merged and validated.
//! Every table denies unknown keys (a typo must not silently drop a security option), and every
//! string keeps its span so validation errors can point at it. How a file's tree is read into
//! these types is in [`super::read`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use super::spec::{AssertionAud, EmailTrust, Pkce, Protocol, ResponseMode, TokenAuth};

pub(crate) type S = Spanned<String>;

/// A `providers.toml` file: provider specs and the settings that seed the settings store.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "providers.toml"))]
pub(crate) struct RawFile {
    /// Provider specs, one `[providers.<id>]` table each: the technical facts about a kind of
    /// identity provider (endpoints, claims, client authentication). A table for a built-in id
    /// changes only the keys it sets.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, RawSpec>"))]
    pub providers: BTreeMap<S, RawSpec>,
    /// Provider settings, one `[settings.<id>]` table each: what an admin enters (enabled, URL,
    /// client id and secret). They seed the settings store; `"${VAR}"` reads the environment.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, RawSettings>"))]
    pub settings: BTreeMap<S, RawSettings>,
    /// Ids of `[providers.<id>]` tables that could not be read (their errors are reported);
    /// settings naming them are not reported again as "no such provider".
    #[serde(skip)]
    pub unreadable: Vec<String>,
}

/// `[providers.<id>]`: a provider spec.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Provider"))]
pub(crate) struct RawSpec {
    /// Display name, shown as "Sign in with <name>". Required for a new provider; not blank.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub name: Option<S>,
    /// `oidc` (an ID token proves the identity; the default) or `oauth2` (plain OAuth 2.0: the
    /// identity comes from the user API).
    pub protocol: Option<Protocol>,
    /// Icon name for the login page (react-icons style).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub icon: Option<S>,
    /// Position on the login page, lower first (default 100; ties by name).
    pub sort_order: Option<i32>,
    /// Scopes to request: each non-empty without spaces; an `oidc` provider's include `openid`
    /// (default `["openid", "profile", "email"]` for `oidc`, `[]` for `oauth2`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub scopes: Option<Spanned<Vec<String>>>,
    /// The scope that asks for a refresh token (e.g. `offline_access`), requested besides
    /// `scopes` unless refresh is turned off.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub refresh_scope: Option<S>,
    /// Client authentication at the token endpoint (default `client_secret_basic`).
    pub token_auth: Option<TokenAuth>,
    /// The `aud` of `private_key_jwt` client assertions: `token_endpoint` (the default) or
    /// `issuer`, as the provider documents.
    pub assertion_aud: Option<AssertionAud>,
    /// Pushed authorization requests (RFC 9126) when the discovery document advertises a
    /// `pushed_authorization_request_endpoint` (default `false`; a provider that requires PAR
    /// gets it regardless).
    pub par: Option<bool>,
    /// PKCE mode (default `S256`).
    pub pkce: Option<Pkce>,
    /// How the authorization response comes back: `query` (a `GET` to the callback; the
    /// default) or `form_post` (a cross-site `POST`, as Sign in with Apple sends it).
    pub response_mode: Option<ResponseMode>,
    /// A default for the `url` setting, for providers with one global URL: `https` (or `http`
    /// on a loopback host).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub url: Option<S>,
    /// Issuer template, compared verbatim with the ID token's `iss` (a trailing `/` matters);
    /// no query or fragment, no `{issuer}`. Required for `oidc` (or `discovery`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub issuer: Option<S>,
    /// Discovery document URL template (default: the issuer without a trailing `/`, then
    /// `/.well-known/openid-configuration`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub discovery: Option<S>,
    /// Authorization endpoint template (default: from discovery; required for `oauth2`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub authorization_endpoint: Option<S>,
    /// Token endpoint template (default: from discovery; required for `oauth2`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub token_endpoint: Option<S>,
    /// Userinfo endpoint template; for `oauth2` the user API (default: from discovery; required
    /// for `oauth2`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub userinfo_endpoint: Option<S>,
    /// JWKS URI template (default: from discovery).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub jwks_uri: Option<S>,
    /// End-session endpoint template (default: from discovery).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub end_session_endpoint: Option<S>,
    /// Token revocation endpoint template, RFC 7009 (default: from discovery).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub revocation_endpoint: Option<S>,
    /// Token introspection endpoint template, RFC 7662 (default: from discovery): where opaque
    /// bearer tokens are checked when `[providers.<id>.bearer]` sets `introspection = true`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub introspection_endpoint: Option<S>,
    /// ID token signing algorithms accepted (default: the discovery document's). Not empty,
    /// never `none`, and HS* never mixed with RS*/PS*/ES*.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub signing_algs: Option<Spanned<Vec<String>>>,
    /// When an email from this provider may link a sign-in to an existing account (default
    /// `verified_claim`).
    pub email_trust: Option<EmailTrust>,
    /// `[providers.<id>.claims]`: where each user field comes from.
    pub claims: Option<RawClaims>,
    /// Defaults for template parameters (`{api}`, `{tenant}`); the settings' `params` override
    /// them. `url`, `slug` and `issuer` are not parameters.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, String>"))]
    pub params: BTreeMap<String, S>,
    /// `[providers.<id>.fetch.<name>]`: further user-API requests after userinfo, made with the
    /// access token; each JSON answer is added to the claims under `<name>`.
    #[serde(default)]
    pub fetch: BTreeMap<String, RawFetch>,
    /// `[providers.<id>.bearer]`: requests outside the auth routes may carry this provider's
    /// access tokens as `Authorization: Bearer` (API clients). The table, even empty, turns it
    /// on; without it bearer tokens are ignored.
    pub bearer: Option<RawBearer>,
    /// `[providers.<id>.multi_tenant]`: the issuer is templated by a claim of the ID token
    /// when the admin's tenant parameter is one of `values` (Microsoft Entra ID's `common`,
    /// `organizations` and `consumers`). Without it the issuer is always the rendered template.
    #[cfg_attr(
        feature = "schema",
        schemars(example = serde_json::json!({"param": "tenant", "values": ["common", "organizations"], "claim": "tid", "placeholder": "tenantid"}))
    )]
    pub multi_tenant: Option<RawMultiTenant>,
}

/// `[providers.<id>.multi_tenant]`: one issuer per tenant, named by a claim of the token.
///
/// When the settings' `params.<param>` is one of `values`, the discovery document's issuer is
/// the issuer template with `{<placeholder>}` in place of the tenant; an ID token's issuer is
/// that template with its `<claim>` (a plain tenant id) in place of the placeholder, compared
/// verbatim with its `iss`, and the tenant must be on the settings' `allowed_tenants`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "MultiTenant"))]
pub(crate) struct RawMultiTenant {
    /// The issuer template's parameter that names the tenant (Entra ID: `tenant`).
    #[cfg_attr(feature = "schema", schemars(with = "String", example = &"tenant"))]
    pub param: S,
    /// The values of that parameter that mean "users of any tenant" (Entra ID: `common`,
    /// `organizations`, `consumers`); any other value is a single tenant. Plain names, not
    /// empty.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<String>", example = ["common", "organizations", "consumers"])
    )]
    pub values: Spanned<Vec<String>>,
    /// The ID token claim that names the user's tenant (Entra ID: `tid`).
    #[cfg_attr(feature = "schema", schemars(with = "String", example = &"tid"))]
    pub claim: S,
    /// The placeholder the discovery document's issuer carries instead of a tenant, without
    /// braces (Entra ID: `tenantid`, for `https://login.microsoftonline.com/{tenantid}/v2.0`).
    #[cfg_attr(feature = "schema", schemars(with = "String", example = &"tenantid"))]
    pub placeholder: S,
}

/// `[providers.<id>.bearer]`: how the provider's access tokens are accepted.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Bearer"))]
pub(crate) struct RawBearer {
    /// `aud` values accepted besides the client id (an API's identifier): a JWT access token
    /// must name the client id or one of these. Each not empty.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub audiences: Option<Spanned<Vec<String>>>,
    /// The JOSE header `typ` every access token of this provider carries (RFC 9068: `at+jwt`);
    /// a JWT with another `typ` is refused. Default: `JWT`, `at+jwt` or none.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub typ: Option<S>,
    /// Whether opaque (non-JWT) tokens are checked at the introspection endpoint, RFC 7662
    /// (default `false`).
    pub introspection: Option<bool>,
}

impl RawBearer {
    fn merge(&mut self, over: RawBearer) {
        if over.audiences.is_some() {
            self.audiences = over.audiences;
        }
        if over.typ.is_some() {
            self.typ = over.typ;
        }
        if over.introspection.is_some() {
            self.introspection = over.introspection;
        }
    }
}

/// `[providers.<id>.fetch.<name>]`: one extra user-API request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Fetch"))]
pub(crate) struct RawFetch {
    /// The request's URL template (the same placeholders as the endpoints).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub url: S,
}

/// `[providers.<id>.claims]`: each user field's rule, or rules tried in order. `[]` leaves a
/// field unmapped.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Claims"))]
pub(crate) struct RawClaims {
    /// The stable subject (default `sub`). An `oidc` provider's is always `sub`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub subject: Option<Spanned<OneOrMany>>,
    /// Email (default `email`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub email: Option<Spanned<OneOrMany>>,
    /// Whether the email is verified; only the JSON boolean `true` counts (default
    /// `email_verified`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub email_verified: Option<Spanned<OneOrMany>>,
    /// Display name (default `name`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub name: Option<Spanned<OneOrMany>>,
    /// Given name (default `given_name`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub given_name: Option<Spanned<OneOrMany>>,
    /// Family name (default `family_name`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub family_name: Option<Spanned<OneOrMany>>,
    /// Picture URL (default `picture`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub picture: Option<Spanned<OneOrMany>>,
    /// Username (default `preferred_username`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub username: Option<Spanned<OneOrMany>>,
    /// Group names, read by the settings' admin rules (default `groups`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<OneOrMany>"))]
    pub groups: Option<Spanned<OneOrMany>>,
    /// `[providers.<id>.claims.extra]`: claims kept with the session beyond the fixed fields,
    /// each under the name the app reads it by (at most 32).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, OneOrMany>"))]
    pub extra: BTreeMap<String, Spanned<OneOrMany>>,
}

/// `[settings.<id>]`: the settings an admin enters, seeding the settings store.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Settings"))]
pub(crate) struct RawSettings {
    /// Offered on the login page and accepted at the callback (default `false`). When `true`,
    /// `client_id` is required, and `url` when the endpoints need one.
    pub enabled: Option<bool>,
    /// The provider URL (Authentik: the instance URL or the application's issuer URL): `https`,
    /// or `http` on a loopback host; no query or credentials. `"${VAR}"` allowed.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub url: Option<S>,
    /// Where the server reaches the provider when that is not `url` (split horizon): an origin
    /// only, e.g. `http://authentik-server:9000`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub internal_url: Option<S>,
    /// The client id registered at the provider; not empty. `"${VAR}"` allowed.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub client_id: Option<S>,
    /// The client secret; not empty (leave it out for a public client). Write `"${VAR}"` rather
    /// than the secret itself.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub client_secret: Option<S>,
    /// Scopes to request instead of the spec's: the same rules.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub scopes: Option<Spanned<Vec<String>>>,
    /// Whether an unknown identity gets a new account (default `true`).
    pub auto_register: Option<bool>,
    /// Whether sign-ins ask for a refresh token (the spec's `refresh_scope`; default `true`).
    pub refresh_tokens: Option<bool>,
    /// Position on the login page instead of the spec's.
    pub sort_order: Option<i32>,
    /// Icon name instead of the spec's: letters and digits. `"${VAR}"` allowed.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub icon: Option<S>,
    /// Overrides the spec's email-trust policy.
    pub email_trust: Option<EmailTrust>,
    /// Pushed authorization requests (RFC 9126) instead of the spec's `par`: `true` pushes them
    /// when discovery advertises the endpoint, `false` does not (a provider that requires PAR
    /// gets it regardless). Not for `oauth2` providers (they have no discovery).
    pub par: Option<bool>,
    /// Pins the application slug (Authentik) instead of learning it. `"${VAR}"` allowed.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub slug: Option<S>,
    /// Template parameters (`tenant` fills `{tenant}`): an `https` URL or a plain name.
    /// `"${VAR}"` allowed.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, String>"))]
    pub params: BTreeMap<String, S>,
    /// The tenants whose users may sign in when the provider's tenant parameter means any
    /// tenant (`[providers.<id>.multi_tenant]`, Entra ID's `common` or `organizations`): tenant
    /// ids such as `72f988bf-86f1-41af-91ab-2d7cd011db47`. Empty or absent: every sign-in of
    /// such a provider is refused.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<String>>", example = ["72f988bf-86f1-41af-91ab-2d7cd011db47"])
    )]
    pub allowed_tenants: Option<Spanned<Vec<String>>>,
    /// `[settings.<id>.admin]`: who becomes an app administrator at sign-in.
    pub admin: Option<RawAdmin>,
}

/// `[settings.<id>.admin]`: admin rules.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "AdminRules"))]
pub(crate) struct RawAdmin {
    /// A user whose `groups` claim holds one of these becomes admin.
    #[serde(default)]
    pub groups: Vec<String>,
    /// A user whose *verified* email is in one of these domains becomes admin.
    #[serde(default)]
    pub email_domains: Vec<String>,
}

/// A claim mapping value: one claim name, or a list tried in order.
#[derive(Debug, Clone)]
pub(crate) struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name or a list of claim names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl RawSpec {
    /// Overrides `self`'s fields with those `over` sets (a user file over a built-in entry).
    pub fn merge(&mut self, over: RawSpec) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        take!(
            name,
            protocol,
            icon,
            sort_order,
            scopes,
            refresh_scope,
            token_auth,
            assertion_aud,
            par,
            pkce,
            response_mode,
            url,
            issuer,
            discovery,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            jwks_uri,
            end_session_endpoint,
            revocation_endpoint,
            introspection_endpoint,
            signing_algs,
            email_trust
        );
        self.params.extend(over.params);
        self.fetch.extend(over.fetch);
        if over.multi_tenant.is_some() {
            self.multi_tenant = over.multi_tenant;
        }
        match (&mut self.bearer, over.bearer) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        match (&mut self.claims, over.claims) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}

impl RawClaims {
    fn merge(&mut self, over: RawClaims) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        take!(
            subject,
            email,
            email_verified,
            name,
            given_name,
            family_name,
            picture,
            username,
            groups
        );
        self.extra.extend(over.extra);
    }
}
