//! The TOML layer: what a `providers.toml` file holds before it is merged and validated.
//! Every table denies unknown keys (a typo must not silently drop a security option), and every
//! string keeps its span so validation errors can point at it. How a file's tree is read into
//! these types is in [`super::read`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use super::spec::{EmailTrust, Pkce, Protocol, TokenAuth};

pub(crate) type S = Spanned<String>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub providers: BTreeMap<S, RawSpec>,
    #[serde(default)]
    pub settings: BTreeMap<S, RawSettings>,
    /// Ids of `[providers.<id>]` tables that could not be read (their errors are reported);
    /// settings naming them are not reported again as "no such provider".
    #[serde(skip)]
    pub unreadable: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    pub name: Option<S>,
    pub protocol: Option<Protocol>,
    pub icon: Option<S>,
    pub sort_order: Option<i32>,
    pub scopes: Option<Spanned<Vec<String>>>,
    pub refresh_scope: Option<S>,
    pub token_auth: Option<TokenAuth>,
    pub pkce: Option<Pkce>,
    pub url: Option<S>,
    pub issuer: Option<S>,
    pub discovery: Option<S>,
    pub authorization_endpoint: Option<S>,
    pub token_endpoint: Option<S>,
    pub userinfo_endpoint: Option<S>,
    pub jwks_uri: Option<S>,
    pub end_session_endpoint: Option<S>,
    pub revocation_endpoint: Option<S>,
    pub signing_algs: Option<Spanned<Vec<String>>>,
    pub email_trust: Option<EmailTrust>,
    pub claims: Option<RawClaims>,
    #[serde(default)]
    pub params: BTreeMap<String, S>,
    #[serde(default)]
    pub fetch: BTreeMap<String, RawFetch>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFetch {
    pub url: S,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClaims {
    pub subject: Option<Spanned<OneOrMany>>,
    pub email: Option<Spanned<OneOrMany>>,
    pub email_verified: Option<Spanned<OneOrMany>>,
    pub name: Option<Spanned<OneOrMany>>,
    pub given_name: Option<Spanned<OneOrMany>>,
    pub family_name: Option<Spanned<OneOrMany>>,
    pub picture: Option<Spanned<OneOrMany>>,
    pub username: Option<Spanned<OneOrMany>>,
    pub groups: Option<Spanned<OneOrMany>>,
    /// `[providers.<id>.claims.extra]`: claims kept with the session beyond the fixed fields.
    #[serde(default)]
    pub extra: BTreeMap<String, Spanned<OneOrMany>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    pub enabled: Option<bool>,
    pub url: Option<S>,
    pub internal_url: Option<S>,
    pub client_id: Option<S>,
    pub client_secret: Option<S>,
    pub scopes: Option<Spanned<Vec<String>>>,
    pub auto_register: Option<bool>,
    pub refresh_tokens: Option<bool>,
    pub sort_order: Option<i32>,
    pub icon: Option<S>,
    pub email_trust: Option<EmailTrust>,
    pub slug: Option<S>,
    #[serde(default)]
    pub params: BTreeMap<String, S>,
    pub admin: Option<RawAdmin>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    #[serde(default)]
    pub groups: Vec<String>,
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
            pkce,
            url,
            issuer,
            discovery,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            jwks_uri,
            end_session_endpoint,
            revocation_endpoint,
            signing_algs,
            email_trust
        );
        self.params.extend(over.params);
        self.fetch.extend(over.fetch);
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
