//! Turning merged raw tables into a [`ProviderSpec`] (defaults filled in, missing keys
//! reported) and a `[settings.<id>]` table into [`ProviderSettings`] (`${ENV}` resolved).

use std::collections::BTreeMap;

use toml::Spanned;

use super::error::Errs;
use super::interpolate::interpolate;
use super::raw::{OneOrMany, RawSettings, S};
use super::read;
use super::registry::Entry;
use super::rules::settings_errors;
use super::{
    AdminRules, Bearer, ClaimMap, ClaimRule, ClaimSource, EmailTrust, Fetch, MultiTenant, Pkce,
    Protocol, ProviderSettings, ProviderSpec, Secret, Template, TokenAuth,
};

fn source(v: &Option<Spanned<OneOrMany>>, default: &[&str]) -> ClaimSource {
    let names: Vec<String> = match v {
        Some(v) => v.get_ref().0.clone(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    };
    // Every rule was checked when its file was read; a malformed one cannot reach here.
    ClaimSource(names.iter().filter_map(|n| ClaimRule::parse(n)).collect())
}

/// Builds the spec of a merged entry. Fields that a file set were checked when it was read
/// (with their positions); what is left are keys no file set, reported at the provider's
/// `[providers.<id>]` key in the file that touched it last.
pub(super) fn resolve_spec(id: &str, e: &Entry, errs: &mut Errs<'_>) -> Option<ProviderSpec> {
    let raw = &e.raw;
    let path = read::join_path("providers", id);
    let before = errs.list.len();
    let mut missing = |msg: String| errs.at_pos(&e.file, e.key_pos, &path, msg);
    let tpl = |v: &Option<S>| v.as_ref().and_then(|s| Template::parse(s.get_ref()).ok());
    let protocol = raw.protocol.unwrap_or(Protocol::Oidc);
    let name = match &raw.name {
        Some(n) => n.get_ref().clone(),
        None => {
            missing(
                "missing required key `name` (the display name, e.g. `name = \"Authentik\"`)"
                    .into(),
            );
            String::new()
        }
    };
    let scopes: Vec<String> = match &raw.scopes {
        Some(s) => s.get_ref().clone(),
        None if protocol == Protocol::Oidc => {
            vec!["openid".into(), "profile".into(), "email".into()]
        }
        None => Vec::new(),
    };
    match protocol {
        Protocol::Oidc => {
            if raw.issuer.is_none() && raw.discovery.is_none() {
                missing(
                    "missing required key `issuer` (an OIDC provider needs an issuer or a discovery URL)".into(),
                );
            }
        }
        Protocol::Oauth2 => {
            for (k, v) in [
                ("authorization_endpoint", &raw.authorization_endpoint),
                ("token_endpoint", &raw.token_endpoint),
                ("userinfo_endpoint", &raw.userinfo_endpoint),
            ] {
                if v.is_none() {
                    missing(format!(
                        "missing required key `{k}` (an OAuth2 provider has no discovery)"
                    ));
                }
            }
        }
    }
    let scopes_path = format!("{path}.scopes");
    if protocol == Protocol::Oidc
        && !scopes.iter().any(|s| s == "openid")
        && !errs.list.iter().any(|e| e.path == scopes_path)
    {
        // The scopes came from another file than the protocol (or the reading file already
        // said so at its `scopes`).
        errs.at_pos(
            &e.file,
            e.key_pos,
            &scopes_path,
            "an OIDC provider's scopes must include `openid`",
        );
    }
    // The identity of an OpenID Connect sign-in is the verified ID token's `sub`: a rule that
    // keys it on anything else (an email, a userinfo field) would let that other value decide
    // whose account a sign-in opens.
    if protocol == Protocol::Oidc
        && let Some(subject) = raw.claims.as_ref().and_then(|c| c.subject.as_ref())
        && subject.get_ref().0 != ["sub"]
    {
        errs.at_pos(
            &e.file,
            e.key_pos,
            &format!("{path}.claims.subject"),
            "an OpenID Connect provider's identity is the ID token's verified `sub`; `subject` cannot be mapped to another claim (remove it, or declare `protocol = \"oauth2\"` for a provider without ID tokens)",
        );
    }
    // A tenant-templated issuer needs an issuer whose template names the tenant parameter.
    if let Some(mt) = &raw.multi_tenant {
        let param = mt.param.get_ref();
        let in_issuer = raw.issuer.as_ref().is_some_and(|i| {
            Template::parse(i.get_ref()).is_ok_and(|t| t.vars().any(|v| v == param.as_str()))
        });
        if protocol != Protocol::Oidc || !in_issuer {
            errs.at_pos(
                &e.file,
                e.key_pos,
                &format!("{path}.multi_tenant.param"),
                format!(
                    "`multi_tenant` needs an OpenID Connect provider whose `issuer` template contains `{{{param}}}`"
                ),
            );
        }
    }
    if errs.list.len() > before {
        return None;
    }
    let claims = raw.claims.clone().unwrap_or_default();
    Some(ProviderSpec {
        id: id.to_owned(),
        name,
        protocol,
        icon: raw.icon.as_ref().map(|s| s.get_ref().clone()),
        sort_order: raw.sort_order.unwrap_or(100),
        scopes,
        refresh_scope: raw.refresh_scope.as_ref().map(|s| s.get_ref().clone()),
        token_auth: raw.token_auth.unwrap_or(TokenAuth::ClientSecretBasic),
        assertion_aud: raw.assertion_aud.unwrap_or_default(),
        par: raw.par.unwrap_or(false),
        pkce: raw.pkce.unwrap_or(Pkce::S256),
        response_mode: raw.response_mode.unwrap_or_default(),
        issuer: tpl(&raw.issuer),
        discovery: tpl(&raw.discovery),
        authorization_endpoint: tpl(&raw.authorization_endpoint),
        token_endpoint: tpl(&raw.token_endpoint),
        userinfo_endpoint: tpl(&raw.userinfo_endpoint),
        jwks_uri: tpl(&raw.jwks_uri),
        end_session_endpoint: tpl(&raw.end_session_endpoint),
        revocation_endpoint: tpl(&raw.revocation_endpoint),
        introspection_endpoint: tpl(&raw.introspection_endpoint),
        signing_algs: raw.signing_algs.as_ref().map(|a| a.get_ref().clone()),
        default_url: raw.url.as_ref().map(|s| s.get_ref().clone()),
        email_trust: raw.email_trust.unwrap_or(EmailTrust::VerifiedClaim),
        claims: ClaimMap {
            subject: source(&claims.subject, &["sub"]),
            email: source(&claims.email, &["email"]),
            email_verified: source(&claims.email_verified, &["email_verified"]),
            name: source(&claims.name, &["name"]),
            given_name: source(&claims.given_name, &["given_name"]),
            family_name: source(&claims.family_name, &["family_name"]),
            picture: source(&claims.picture, &["picture"]),
            username: source(&claims.username, &["preferred_username"]),
            groups: source(&claims.groups, &["groups"]),
            extra: claims
                .extra
                .iter()
                .map(|(name, rule)| (name.clone(), source(&Some(rule.clone()), &[])))
                .collect(),
        },
        params: raw
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect(),
        fetch: raw
            .fetch
            .iter()
            .filter_map(|(name, f)| {
                Template::parse(f.url.get_ref()).ok().map(|url| Fetch {
                    name: name.clone(),
                    url,
                })
            })
            .collect(),
        bearer: raw.bearer.as_ref().map(|b| Bearer {
            audiences: b
                .audiences
                .as_ref()
                .map(|a| a.get_ref().clone())
                .unwrap_or_default(),
            typ: b.typ.as_ref().map(|t| t.get_ref().clone()),
            introspection: b.introspection.unwrap_or(false),
        }),
        multi_tenant: raw.multi_tenant.as_ref().map(|m| MultiTenant {
            param: m.param.get_ref().clone(),
            values: m.values.get_ref().clone(),
            claim: m.claim.get_ref().clone(),
            placeholder: m.placeholder.get_ref().clone(),
        }),
    })
}

pub(super) fn resolve_settings(
    raw: RawSettings,
    id: &S,
    path: &str,
    spec: Option<&ProviderSpec>,
    env: &dyn Fn(&str) -> Option<String>,
    errs: &mut Errs<'_>,
) -> Option<ProviderSettings> {
    let before = errs.list.len();
    let mut interp = |v: &Option<S>, key: &str| {
        v.as_ref()
            .and_then(|s| interpolate(s, &format!("{path}.{key}"), env, errs))
    };
    let url = interp(&raw.url, "url");
    let internal_url = interp(&raw.internal_url, "internal_url");
    let client_id = interp(&raw.client_id, "client_id");
    let client_secret = interp(&raw.client_secret, "client_secret");
    let icon = interp(&raw.icon, "icon");
    let slug = interp(&raw.slug, "slug");
    let mut params = BTreeMap::new();
    for (k, v) in &raw.params {
        if let Some(val) = interpolate(v, &format!("{path}.params.{k}"), env, errs) {
            params.insert(k.clone(), val);
        }
    }
    // An enabled provider must be usable: fail at load time, not at the first sign-in.
    if raw.enabled == Some(true) {
        if raw.client_id.is_none() {
            errs.at(
                id.span(),
                path,
                "missing required key `client_id` (the provider is enabled)",
            );
        }
        let needs_url = spec.is_some_and(|s| {
            s.default_url.is_none()
                && [&s.issuer, &s.authorization_endpoint, &s.token_endpoint]
                    .iter()
                    .any(|t| t.as_ref().is_some_and(|t| t.vars().any(|v| v == "url")))
        });
        if needs_url && raw.url.is_none() {
            errs.at(
                id.span(),
                path,
                "missing required key `url` (the provider is enabled and its endpoints are built from `{url}`)",
            );
        }
    }
    if errs.list.len() > before {
        return None;
    }
    let admin = raw.admin.unwrap_or_default();
    let settings = ProviderSettings {
        enabled: raw.enabled.unwrap_or(false),
        url,
        internal_url,
        client_id,
        client_secret: client_secret.map(Secret::new),
        scopes: raw.scopes.as_ref().map(|s| s.get_ref().clone()),
        auto_register: raw.auto_register.unwrap_or(true),
        refresh_tokens: raw.refresh_tokens.unwrap_or(true),
        sort_order: raw.sort_order,
        icon,
        email_trust: raw.email_trust,
        par: raw.par,
        admin_rules: AdminRules {
            groups: admin.groups,
            email_domains: admin.email_domains,
        },
        slug,
        params,
        allowed_tenants: raw
            .allowed_tenants
            .as_ref()
            .map(|t| t.get_ref().clone())
            .unwrap_or_default(),
    };
    // The same rules as the admin API's, reported at the value that breaks one (or at the
    // table's id when the value has no position of its own).
    for e in settings_errors(&settings, spec.map(|s| s.protocol)) {
        let span = match e.field.split_once('.') {
            Some(("params", k)) => raw.params.get(k).map(|v| v.span()),
            _ => match e.field.as_str() {
                "url" => raw.url.as_ref().map(|v| v.span()),
                "internal_url" => raw.internal_url.as_ref().map(|v| v.span()),
                "client_id" => raw.client_id.as_ref().map(|v| v.span()),
                "client_secret" => raw.client_secret.as_ref().map(|v| v.span()),
                "scopes" => raw.scopes.as_ref().map(|v| v.span()),
                "icon" => raw.icon.as_ref().map(|v| v.span()),
                "slug" => raw.slug.as_ref().map(|v| v.span()),
                f if f.starts_with("allowed_tenants") => {
                    raw.allowed_tenants.as_ref().map(|v| v.span())
                }
                _ => None,
            },
        };
        errs.at(
            span.unwrap_or_else(|| id.span()),
            &format!("{path}.{}", e.field),
            e.message,
        );
    }
    (errs.list.len() == before).then_some(settings)
}
