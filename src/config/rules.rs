//! The rules a provider's settings obey, wherever they come from: a `[settings.<id>]` table of
//! `providers.toml` ([`super::resolve`]) or the admin API (`src/admin/patch.rs`). Both check a
//! [`ProviderSettings`] with [`settings_errors`] and report its messages as they are, so a value
//! the file refuses cannot be stored through the API, with the same words.

use super::{Protocol, ProviderSettings, check_url};

/// Lowest accepted `sort_order` of a provider's settings.
pub const MIN_SORT_ORDER: i32 = -1000;
/// Highest accepted `sort_order` of a provider's settings.
pub const MAX_SORT_ORDER: i32 = 1000;

/// A settings value that breaks a rule: the field (`url`, `scopes`, `params.tenant`,
/// `admin.groups[0]`, as a `[settings.<id>]` table names it) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The field, relative to the `[settings.<id>]` table.
    pub field: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A text value: at most `max` bytes, no control characters.
fn text(s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        Err(format!("must be at most {max} characters"))
    } else if has_control(s) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

/// The provider URL: an absolute `https` URL (`http` on a loopback host), without a fragment,
/// a query or credentials.
pub fn check_settings_url(u: &str) -> Result<(), String> {
    text(u, 2048)?;
    let parsed = check_url(u)?;
    if parsed.query().is_some() {
        return Err(format!("`{u}` must not have a query"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL must not contain credentials".into());
    }
    Ok(())
}

/// An `internal_url`: an absolute `http` or `https` URL naming an origin (a path of `/` at
/// most; no query, fragment or credentials), since only the origin of the provider's
/// server-side endpoints is replaced.
pub fn check_internal_url(u: &str) -> Result<(), String> {
    let parsed = url::Url::parse(u).map_err(|e| format!("`{u}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("`{u}` must be an http or https URL with a host"));
    }
    if parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(format!(
            "`{u}` must be an origin only (scheme, host, port), e.g. `http://authentik-server:9000`"
        ));
    }
    Ok(())
}

/// Scopes: 1 to 32, each 1-128 characters without spaces; `openid` among them for an OpenID
/// Connect provider.
pub fn check_scopes(scopes: &[String], protocol: Option<Protocol>) -> Result<(), String> {
    if scopes.is_empty() {
        return Err("must name at least one scope".into());
    }
    if scopes.len() > 32 {
        return Err("at most 32 scopes".into());
    }
    if scopes
        .iter()
        .any(|s| s.is_empty() || s.len() > 128 || s.chars().any(char::is_whitespace))
    {
        return Err("scopes must be non-empty and contain no spaces (1-128 characters)".into());
    }
    if protocol == Some(Protocol::Oidc) && !scopes.iter().any(|s| s == "openid") {
        return Err("an OIDC provider's scopes must include `openid`".into());
    }
    Ok(())
}

/// An application slug (Authentik's are `[-a-zA-Z0-9_]+`); the global endpoint names are
/// reserved.
pub fn is_valid_slug(s: &str) -> bool {
    const RESERVED: [&str; 6] = [
        "authorize",
        "token",
        "device",
        "userinfo",
        "introspect",
        "revoke",
    ];
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !RESERVED.contains(&s)
}

fn is_valid_domain(s: &str) -> bool {
    (3..=253).contains(&s.len())
        && s.contains('.')
        && !s.starts_with(['.', '-'])
        && !s.ends_with(['.', '-'])
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A template parameter's name: `a-z`, `0-9`, `_` (as placeholders are), not `url`, `slug` or
/// `issuer`.
fn is_param_name(k: &str) -> bool {
    (1..=32).contains(&k.len())
        && k.as_bytes()[0].is_ascii_lowercase()
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !matches!(k, "url" | "slug" | "issuer")
}

/// At most this many tenants on a provider's `allowed_tenants`.
pub const MAX_ALLOWED_TENANTS: usize = 1000;

/// A tenant id as a token's tenant claim names it and `allowed_tenants` lists it: 1-128
/// characters of letters, digits, `-`, `_` and `.` (a GUID, or a plain name such as
/// `contoso.onmicrosoft.com`), never `.` or `..`: nothing that could add a path segment, a
/// query or a fragment to the issuer it is put into.
pub fn is_valid_tenant(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s != "."
        && s != ".."
}

/// Every rule `s` breaks, in the order of the fields of a `[settings.<id>]` table. `protocol`
/// is the provider's (for the `openid` scope), when known.
pub fn settings_errors(s: &ProviderSettings, protocol: Option<Protocol>) -> Vec<SettingsError> {
    let mut out = Vec::new();
    let mut err = |field: String, r: Result<(), String>| {
        if let Err(message) = r {
            out.push(SettingsError { field, message });
        }
    };
    if let Some(u) = &s.url {
        err("url".into(), check_settings_url(u));
    }
    if let Some(u) = &s.internal_url {
        err("internal_url".into(), check_internal_url(u));
    }
    if let Some(c) = &s.client_id {
        let r = if c.trim().is_empty() {
            Err("must not be empty".into())
        } else {
            text(c, 255)
        };
        err("client_id".into(), r);
    }
    if let Some(secret) = &s.client_secret {
        let r = if secret.expose().trim().is_empty() {
            Err("must not be empty (a public client has no secret: leave the key out, or send null)".into())
        } else if secret.expose().trim_start().starts_with("-----BEGIN ") {
            // A PEM key (Sign in with Apple's `.p8`) keeps its line breaks.
            text(&secret.expose().replace(['\n', '\r'], ""), 1024)
        } else {
            text(secret.expose(), 1024)
        };
        err("client_secret".into(), r);
    }
    if let Some(scopes) = &s.scopes {
        err("scopes".into(), check_scopes(scopes, protocol));
    }
    if let Some(n) = s.sort_order
        && !(MIN_SORT_ORDER..=MAX_SORT_ORDER).contains(&n)
    {
        err(
            "sort_order".into(),
            Err(format!(
                "must be a whole number from {MIN_SORT_ORDER} to {MAX_SORT_ORDER}"
            )),
        );
    }
    if let Some(i) = &s.icon
        && !((1..=64).contains(&i.len()) && i.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        err(
            "icon".into(),
            Err("an icon name is 1-64 letters and digits, e.g. FaShieldAlt".into()),
        );
    }
    if s.par == Some(true) && protocol == Some(Protocol::Oauth2) {
        err(
            "par".into(),
            Err("a plain OAuth 2.0 provider has no discovery document to advertise a pushed authorization request endpoint".into()),
        );
    }
    if let Some(slug) = &s.slug
        && !is_valid_slug(slug)
    {
        err(
            "slug".into(),
            Err(format!(
                "`{}` is not an application slug (letters, digits, `-` and `_`; not authorize, token, device, userinfo, introspect or revoke)",
                slug.escape_debug()
            )),
        );
    }
    for (k, v) in &s.params {
        let name: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
        let r = if !is_param_name(k) {
            Err("a parameter name is a-z, 0-9 and `_` (not url, slug or issuer: they have their own fields)".into())
        } else if v.trim().is_empty() || v.len() > 512 || v.chars().any(char::is_whitespace) {
            // The value is not repeated: a parameter may hold a secret.
            Err("must be a non-empty string without spaces".into())
        } else {
            Ok(())
        };
        err(format!("params.{name}"), r);
    }
    if s.allowed_tenants.len() > MAX_ALLOWED_TENANTS {
        err(
            "allowed_tenants".into(),
            Err(format!("at most {MAX_ALLOWED_TENANTS} tenants")),
        );
    }
    for (i, t) in s.allowed_tenants.iter().enumerate() {
        let r = if is_valid_tenant(t) {
            Ok(())
        } else {
            Err(format!(
                "`{}` is not a tenant id (a GUID or a plain name: letters, digits, `-`, `_` and `.`)",
                t.chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect::<String>()
            ))
        };
        err(format!("allowed_tenants[{i}]"), r);
    }
    for (field, list) in [
        ("admin.groups", &s.admin_rules.groups),
        ("admin.email_domains", &s.admin_rules.email_domains),
    ] {
        if list.len() > 100 {
            err(field.into(), Err("at most 100 entries".into()));
        }
    }
    for (i, g) in s.admin_rules.groups.iter().enumerate() {
        let r = if g.trim().is_empty() || g.len() > 256 || has_control(g) {
            Err("a group name is 1-256 characters".into())
        } else {
            Ok(())
        };
        err(format!("admin.groups[{i}]"), r);
    }
    for (i, d) in s.admin_rules.email_domains.iter().enumerate() {
        let bare = d.strip_prefix('@').unwrap_or(d);
        let r = if is_valid_domain(&bare.to_ascii_lowercase()) {
            Ok(())
        } else {
            Err(format!(
                "`{}` is not a domain name such as example.com",
                bare.escape_debug()
            ))
        };
        err(format!("admin.email_domains[{i}]"), r);
    }
    out
}
