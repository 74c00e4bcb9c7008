//! Checks on what a file wrote, reported at the offending value: provider ids, URLs and
//! templates, algorithms, scopes, claim rules, and clients that two providers would share.

use std::collections::BTreeMap;

use super::error::Errs;
use super::raw::{OneOrMany, RawSpec, S};
use super::read;
use super::{ClaimSource, ProviderSettings, ProviderSpec, Template};

/// Signing algorithms a spec may name in `signing_algs`.
pub(super) const KNOWN_ALGS: [&str; 12] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512",
];

/// Provider ids appear in URL paths: keep them to a safe alphabet.
pub fn is_valid_provider_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric()
}

pub(super) fn validate_id(id: &S, path: &str, errs: &mut Errs<'_>) {
    if !is_valid_provider_id(id.get_ref()) {
        errs.at(
            id.span(),
            path,
            "provider id must be 1-64 characters of a-z, 0-9, `-` and `_`, starting with a letter or digit (it appears in URL paths)",
        );
    }
}

fn validate_template(v: &S, path: &str, errs: &mut Errs<'_>) -> Option<Template> {
    match Template::parse(v.get_ref()) {
        Ok(t) => {
            // A template that is a complete URL on its own must be one.
            if t.vars().next().is_none()
                && let Err(m) = check_url(v.get_ref())
            {
                errs.at(v.span(), path, m);
                return None;
            }
            Some(t)
        }
        Err(e) => {
            errs.at(v.span(), path, format!("bad template: {e}"));
            None
        }
    }
}

/// Issuers and endpoints: absolute `https` URLs (or `http` on a loopback host), without a
/// fragment.
pub fn check_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not an absolute URL ({e})"))?;
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&u) => {}
        "http" => {
            return Err(format!(
                "`{s}` must use https (plain http is allowed only on loopback hosts)"
            ));
        }
        other => return Err(format!("`{s}` has scheme `{other}`; expected https")),
    }
    if u.fragment().is_some() {
        return Err(format!("`{s}` must not have a fragment"));
    }
    Ok(u)
}

/// Whether a URL's host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`).
pub fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn validate_raw_spec(raw: &RawSpec, path: &str, errs: &mut Errs<'_>) {
    if let Some(n) = &raw.name
        && n.get_ref().trim().is_empty()
    {
        errs.at(
            n.span(),
            &format!("{path}.name"),
            "must not be empty (it is shown as \"Sign in with <name>\")",
        );
    }
    for (key, v) in [
        ("issuer", &raw.issuer),
        ("discovery", &raw.discovery),
        ("authorization_endpoint", &raw.authorization_endpoint),
        ("token_endpoint", &raw.token_endpoint),
        ("userinfo_endpoint", &raw.userinfo_endpoint),
        ("jwks_uri", &raw.jwks_uri),
        ("end_session_endpoint", &raw.end_session_endpoint),
        ("revocation_endpoint", &raw.revocation_endpoint),
        ("introspection_endpoint", &raw.introspection_endpoint),
    ] {
        if let Some(v) = v {
            let p = format!("{path}.{key}");
            if let Some(t) = validate_template(v, &p, errs)
                && key == "issuer"
            {
                if let Some(var) = t.vars().find(|n| *n == "issuer") {
                    errs.at(
                        v.span(),
                        &p,
                        format!("the issuer cannot refer to `{{{var}}}`"),
                    );
                }
                if t.as_str().contains('?') {
                    errs.at(
                        v.span(),
                        &p,
                        "an issuer must not have a query (RFC 9207 §2)",
                    );
                } else if t.vars().next().is_some() && t.as_str().contains('#') {
                    errs.at(
                        v.span(),
                        &p,
                        "an issuer must not have a fragment (RFC 9207 §2)",
                    );
                }
            }
        }
    }
    if let Some(url) = &raw.url
        && let Err(m) = check_url(url.get_ref())
    {
        errs.at(url.span(), &format!("{path}.url"), m);
    }
    for (name, f) in &raw.fetch {
        let p = read::join_path(&format!("{path}.fetch"), name);
        if !is_fetch_name(name) {
            errs.at(
                f.url.span(),
                &p,
                "a fetch name is a claim name: letters, digits and `_`",
            );
        }
        validate_template(&f.url, &format!("{p}.url"), errs);
    }
    for (name, v) in &raw.params {
        if matches!(name.as_str(), "url" | "slug" | "issuer") {
            errs.at(
                v.span(),
                &format!("{path}.params.{name}"),
                format!("`{name}` is not a parameter: it comes from the settings"),
            );
        }
    }
    if let Some(algs) = &raw.signing_algs {
        let p = format!("{path}.signing_algs");
        let list = algs.get_ref();
        if let Some(bad) = list.iter().find(|a| !KNOWN_ALGS.contains(&a.as_str())) {
            let hint = if bad.eq_ignore_ascii_case("none") {
                "`none` is never accepted: ID tokens must be signed".to_owned()
            } else {
                format!(
                    "unknown algorithm `{bad}`; expected one of {}",
                    KNOWN_ALGS.join(", ")
                )
            };
            errs.at(algs.span(), &p, hint);
        }
        let hs = list.iter().any(|a| a.starts_with("HS"));
        let asym = list.iter().any(|a| !a.starts_with("HS"));
        if hs && asym {
            errs.at(
                algs.span(),
                &p,
                "mixing HS* with RS*/ES*/PS* allows algorithm confusion; choose one family",
            );
        }
        if list.is_empty() {
            errs.at(algs.span(), &p, "must name at least one algorithm");
        }
    }
    if let Some(bearer) = &raw.bearer {
        validate_bearer(bearer, &format!("{path}.bearer"), errs);
    }
    if let Some(mt) = &raw.multi_tenant {
        validate_multi_tenant(mt, &format!("{path}.multi_tenant"), errs);
    }
    if let Some(scopes) = &raw.scopes
        && scopes
            .get_ref()
            .iter()
            .any(|s| s.is_empty() || s.contains(' '))
    {
        errs.at(
            scopes.span(),
            &format!("{path}.scopes"),
            "scopes must be non-empty and contain no spaces",
        );
    }
    if let Some(scope) = &raw.refresh_scope
        && (scope.get_ref().is_empty() || scope.get_ref().contains(char::is_whitespace))
    {
        errs.at(
            scope.span(),
            &format!("{path}.refresh_scope"),
            "the refresh scope must be one non-empty scope without spaces (e.g. `offline_access`)",
        );
    }
    if let Some(claims) = &raw.claims {
        let fields = [
            ("subject", &claims.subject),
            ("email", &claims.email),
            ("email_verified", &claims.email_verified),
            ("name", &claims.name),
            ("given_name", &claims.given_name),
            ("family_name", &claims.family_name),
            ("picture", &claims.picture),
            ("username", &claims.username),
            ("groups", &claims.groups),
        ];
        for (i, (name, v)) in claims.extra.iter().enumerate() {
            let OneOrMany(list) = v.get_ref();
            if i == MAX_EXTRA_CLAIMS {
                errs.at(
                    v.span(),
                    &format!("{path}.claims.extra.{name}"),
                    format!("at most {MAX_EXTRA_CLAIMS} extra claims"),
                );
            } else if !is_fetch_name(name) || name.len() > 64 {
                errs.at(
                    v.span(),
                    &format!("{path}.claims.extra.{name}"),
                    "an extra claim's name is letters, digits and `_` (at most 64)",
                );
            } else if list.is_empty() || ClaimSource::parse(list).is_none() {
                errs.at(
                    v.span(),
                    &format!("{path}.claims.extra.{name}"),
                    "expected a claim name, a dotted path such as `address.country` or `emails[verified=true].email`, a template, or a non-empty list of them",
                );
            }
        }
        for (key, v) in fields {
            if let Some(v) = v {
                let OneOrMany(list) = v.get_ref();
                let empty_subject = key == "subject" && list.is_empty();
                if empty_subject || ClaimSource::parse(list).is_none() {
                    errs.at(
                        v.span(),
                        &format!("{path}.claims.{key}"),
                        "expected a claim name, a dotted path such as `address.country` or `emails[verified=true].email`, a template such as `{given_name} {family_name}`, or a list of them (`[]` leaves the field unmapped; `subject` must be mapped)",
                    );
                }
            }
        }
    }
}

/// How many extra claims a provider may keep with each session (they live in every session
/// record).
pub const MAX_EXTRA_CLAIMS: usize = 32;

/// A fetch's name becomes a top-level claim name.
fn is_fetch_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Two providers with the same issuer and client id would make identities ambiguous (T5).
/// Reported at the `[settings.<id>]` key of this file (`positions`) when it is there.
pub(super) fn check_duplicate_clients(
    specs: &BTreeMap<String, ProviderSpec>,
    seeds: &BTreeMap<String, ProviderSettings>,
    positions: &BTreeMap<String, std::ops::Range<usize>>,
    errs: &mut Errs<'_>,
) {
    let mut seen: BTreeMap<(String, String), &str> = BTreeMap::new();
    for (id, s) in seeds {
        let (Some(url), Some(client)) = (&s.url, &s.client_id) else {
            continue;
        };
        let issuer = specs
            .get(id)
            .and_then(|sp| sp.issuer.as_ref())
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        let key = (format!("{issuer}|{url}"), client.clone());
        if let Some(other) = seen.insert(key, id) {
            let span = positions
                .get(id.as_str())
                .or_else(|| positions.get(other))
                .cloned()
                .unwrap_or(0..0);
            errs.at(
                span,
                &format!("settings.{id}"),
                format!("same issuer URL and client id as `settings.{other}`: identities would be ambiguous"),
            );
        }
    }
}

/// `[providers.<id>.bearer]`: audiences not empty, `typ` a media type name.
fn validate_bearer(b: &super::raw::RawBearer, path: &str, errs: &mut Errs<'_>) {
    if let Some(a) = &b.audiences
        && a.get_ref().iter().any(|s| s.trim().is_empty())
    {
        errs.at(
            a.span(),
            &format!("{path}.audiences"),
            "an audience must not be empty",
        );
    }
    if let Some(t) = &b.typ {
        let v = t.get_ref();
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-./".contains(c))
        {
            errs.at(
                t.span(),
                &format!("{path}.typ"),
                "a JOSE `typ` is a media type name such as `at+jwt`",
            );
        }
    }
}

/// A placeholder's name, as templates write them: `a-z`, `0-9`, `_`.
fn is_placeholder_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `[providers.<id>.multi_tenant]`: a parameter name (not one the settings fill), plain
/// values, a claim name and a placeholder name. Whether the issuer names the parameter is
/// checked once the file's tables are merged (`super::resolve`).
fn validate_multi_tenant(m: &super::raw::RawMultiTenant, path: &str, errs: &mut Errs<'_>) {
    let param = m.param.get_ref();
    if !is_placeholder_name(param) || matches!(param.as_str(), "url" | "slug" | "issuer") {
        errs.at(
            m.param.span(),
            &format!("{path}.param"),
            "the tenant parameter is a placeholder of the issuer template (a-z, 0-9, `_`; not url, slug or issuer)",
        );
    }
    let values = m.values.get_ref();
    if values.is_empty() || !values.iter().all(|v| super::is_valid_tenant(v)) {
        errs.at(
            m.values.span(),
            &format!("{path}.values"),
            "list the parameter values that mean any tenant (plain names such as `common`), at least one",
        );
    }
    if !is_fetch_name(m.claim.get_ref()) || m.claim.get_ref().len() > 64 {
        errs.at(
            m.claim.span(),
            &format!("{path}.claim"),
            "a claim name: letters, digits and `_` (at most 64), such as `tid`",
        );
    }
    let placeholder = m.placeholder.get_ref();
    if !is_placeholder_name(placeholder) {
        errs.at(
            m.placeholder.span(),
            &format!("{path}.placeholder"),
            "the discovery document's placeholder without braces (a-z, 0-9, `_`), such as `tenantid`",
        );
    }
}
