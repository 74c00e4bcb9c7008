//! `tower-oidc explain FILE [PROVIDER]` (feature `cli`): what the library will do with each
//! provider of a `providers.toml` — its endpoints (the templates filled with the file's
//! settings, or completed by discovery with `--discover`), client authentication, PKCE,
//! pushed authorization requests and what turns them on, scopes, where every profile field comes from, the email-trust policy and why, and the
//! redirect and logout URIs to register at the provider (built as the engine builds them).

use std::fmt::Write as _;

use crate::config::{
    AssertionAud, ClaimRule, ClaimSource, EmailTrust, PathSegment, Pkce, Protocol,
    ProviderSettings, ProviderSpec, Providers, TokenAuth,
};
use crate::provider::{Discovery, ResolvedProvider};

/// What `explain` shows besides the file.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// The app's public base URL (`https://app.example.com`); `None` shows `{APP_URL}`.
    pub app_url: Option<String>,
    /// The route prefix (default `/api/auth`).
    pub prefix: String,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            app_url: None,
            prefix: "/api/auth".into(),
        }
    }
}

/// Endpoints a discovery document gave, to complete what the templates leave open.
pub type Discovered = Option<Discovery>;

/// The issuer and discovery URL of a provider as its file's settings resolve them, for
/// `--discover` to fetch (`None` when the issuer is not known before a sign-in).
pub fn discovery_target(providers: &Providers, id: &str) -> Option<(String, String)> {
    let spec = providers.get(id)?;
    let r = ResolvedProvider::resolve(spec, &settings_of(providers, id)).ok()?;
    Some((r.endpoints.issuer?, r.endpoints.discovery?))
}

/// Fetches and checks the discovery document of `id` (the library's own client and checks).
pub async fn discover(providers: &Providers, id: &str) -> Result<Discovery, String> {
    let (issuer, url) = discovery_target(providers, id)
        .ok_or("the issuer is not known before the first sign-in (no slug or issuer URL)")?;
    let http = crate::provider::http::IdpClient::new(
        crate::provider::HttpLimits::default(),
        &crate::provider::TlsTrust::default(),
    )
    .map_err(|e| e.detail().to_owned())?;
    Discovery::fetch(&http, id, &url, &issuer)
        .await
        .map_err(|e| e.detail().to_owned())
}

/// The settings `explain` resolves with: the file's `[settings.<id>]`, and a stand-in client id
/// (endpoints do not depend on it).
fn settings_of(providers: &Providers, id: &str) -> ProviderSettings {
    let mut s = providers
        .seeded_settings()
        .get(id)
        .cloned()
        .unwrap_or_default();
    if s.client_id.is_none() {
        s.client_id = Some("(client id)".into());
    }
    s
}

/// The explanation of provider `id`, as `tower-oidc explain` prints it.
pub fn explain(
    providers: &Providers,
    id: &str,
    opts: &ExplainOptions,
    discovered: &Discovered,
) -> Option<String> {
    let spec = providers.get(id)?;
    let seeded = providers.seeded_settings().get(id);
    let settings = settings_of(providers, id);
    let mut out = String::new();
    let o = &mut out;
    let protocol = match spec.protocol {
        Protocol::Oidc => "OpenID Connect",
        Protocol::Oauth2 => "plain OAuth 2.0 (no ID token: the identity comes from the user API)",
    };
    let _ = writeln!(o, "[{id}] {} — {protocol}", spec.name);
    let sources = providers.sources(id);
    let defined = sources
        .iter()
        .map(|s| {
            if s == crate::config::BUILTIN_SOURCE {
                "built-in".to_owned()
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", then ");
    line(o, "defined in", &defined);
    match seeded {
        Some(s) => line(
            o,
            "settings",
            &format!(
                "[settings.{id}] in the file, {}; client id {}, client secret {}",
                if s.enabled { "enabled" } else { "disabled" },
                s.client_id.as_deref().unwrap_or("not set"),
                if s.client_secret.is_some() {
                    "set"
                } else {
                    "not set (a public client)"
                },
            ),
        ),
        None => line(
            o,
            "settings",
            &format!("none in the file (the settings store's, or `tower-oidc init {id}`)"),
        ),
    }
    let resolved = ResolvedProvider::resolve(spec, &settings);
    o.push_str("\nEndpoints\n");
    endpoints(o, spec, &settings, resolved.as_ref().ok(), discovered);
    if let Err(e) = &resolved {
        let detail = e.detail();
        let why = detail
            .strip_prefix(&format!("provider `{id}`: "))
            .unwrap_or(detail);
        line(o, "not resolved", &format!("{why} (templates shown)"));
    }
    o.push_str("\nClient\n");
    let auth = match spec.token_auth {
        TokenAuth::ClientSecretBasic => {
            "client_secret_basic: HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1)"
        }
        TokenAuth::ClientSecretPost => {
            "client_secret_post: client_id and client_secret in the token request's form body"
        }
        TokenAuth::PrivateKeyJwt => match spec.assertion_aud {
            AssertionAud::TokenEndpoint => {
                "private_key_jwt: a JWT signed with the app's key (RFC 7523), published at {prefix}/jwks.json; aud: the token endpoint"
            }
            AssertionAud::Issuer => {
                "private_key_jwt: a JWT signed with the app's key (RFC 7523), published at {prefix}/jwks.json; aud: the issuer"
            }
        },
        TokenAuth::AppleClientSecretJwt => {
            "apple_client_secret_jwt: client_secret_post, the secret an ES256 JWT signed with the .p8 key (the client secret setting), params team_id and key_id"
        }
    };
    line(o, "client auth", auth);
    let pkce = match spec.pkce {
        Pkce::S256 => "S256: a SHA-256 code challenge with every authorization request",
        Pkce::Disabled => "none: no PKCE (only for providers that reject it)",
    };
    line(o, "PKCE", pkce);
    if spec.protocol == Protocol::Oidc {
        line(o, "PAR", &par(spec, seeded, discovered));
    }
    match (&spec.signing_algs, spec.protocol) {
        (Some(algs), _) => line(o, "ID token algorithms", &algs.join(", ")),
        (None, Protocol::Oidc) => line(o, "ID token algorithms", "the discovery document's"),
        (None, Protocol::Oauth2) => {}
    }
    let (scopes, from) = match &settings.scopes {
        Some(s) if !s.is_empty() => (s.clone(), "the settings'"),
        _ => (spec.scopes.clone(), "the spec's"),
    };
    let mut scope_line = format!("{} ({from})", scopes.join(" "));
    if let Some(r) = &spec.refresh_scope {
        if settings.refresh_tokens {
            let _ = write!(scope_line, ", and {r} for a refresh token (refresh_scope)");
        } else {
            let _ = write!(scope_line, "; {r} not asked: refresh_tokens = false");
        }
    }
    line(o, "scopes", &scope_line);
    profile(o, spec);
    email_trust(o, spec, seeded);
    register(o, spec, id, opts);
    Some(out)
}

fn line(o: &mut String, key: &str, value: &str) {
    let _ = writeln!(o, "  {:<24}{value}", format!("{key}:"));
}

/// One endpoint: its name, the spec's template, the resolved URL, the discovered one.
type EndpointRow<'a> = (
    &'static str,
    &'a Option<crate::config::Template>,
    Option<&'a Option<String>>,
    Option<String>,
);

fn endpoints(
    o: &mut String,
    spec: &ProviderSpec,
    settings: &ProviderSettings,
    r: Option<&ResolvedProvider>,
    discovered: &Discovered,
) {
    let e = r.map(|r| &r.endpoints);
    let d = discovered.as_ref();
    let rows: [EndpointRow<'_>; 8] = [
        (
            "issuer",
            &spec.issuer,
            e.map(|e| &e.issuer),
            d.map(|d| d.issuer.clone()),
        ),
        ("discovery", &spec.discovery, e.map(|e| &e.discovery), None),
        (
            "authorization",
            &spec.authorization_endpoint,
            e.map(|e| &e.authorization),
            d.map(|d| d.authorization_endpoint.clone()),
        ),
        (
            "token",
            &spec.token_endpoint,
            e.map(|e| &e.token),
            d.and_then(|d| d.token_endpoint.clone()),
        ),
        (
            "userinfo",
            &spec.userinfo_endpoint,
            e.map(|e| &e.userinfo),
            d.and_then(|d| d.userinfo_endpoint.clone()),
        ),
        (
            "jwks_uri",
            &spec.jwks_uri,
            e.map(|e| &e.jwks),
            d.and_then(|d| d.jwks_uri.clone()),
        ),
        (
            "end_session",
            &spec.end_session_endpoint,
            e.map(|e| &e.end_session),
            d.and_then(|d| d.end_session_endpoint.clone()),
        ),
        (
            "revocation",
            &spec.revocation_endpoint,
            e.map(|e| &e.revocation),
            d.and_then(|d| d.revocation_endpoint.clone()),
        ),
    ];
    for (key, template, value, from_discovery) in rows {
        let text = match (value.and_then(Option::as_ref), template, from_discovery) {
            (Some(v), Some(t), _) if v != t.as_str() => format!("{v}  (from {})", t.as_str()),
            (Some(v), _, _) => v.clone(),
            (None, _, Some(v)) => format!("{v}  (discovery)"),
            (None, Some(t), None)
                if t.vars().any(|v| v == "slug" || v == "issuer") && r.is_some() =>
            {
                format!(
                    "{}  (known once the issuer is: learned from the first ID token's `iss`, or set `slug`)",
                    t.as_str()
                )
            }
            (None, Some(t), None) => t.as_str().to_owned(),
            (None, None, None) if key == "discovery" && spec.issuer.is_some() => {
                "the issuer + /.well-known/openid-configuration".into()
            }
            (None, None, None) if spec.protocol == Protocol::Oauth2 => "— (none)".into(),
            (None, None, None) => "from discovery (--discover fetches it)".into(),
        };
        line(o, key, &text);
    }
    if let Some(u) = &settings.url {
        let form = match (&spec.issuer, r) {
            (Some(t), Some(r)) if r.slug.is_some() && t.vars().any(|v| v == "slug") => {
                "the application's issuer URL: {url} and {slug} taken from it"
            }
            (Some(t), _) if t.vars().any(|v| v == "slug") => {
                "the instance URL: the slug is learned from the first ID token's `iss`"
            }
            _ => "{url}",
        };
        line(o, "url", &format!("{u}  ({form})"));
    }
    for f in &spec.fetch {
        let url = r
            .and_then(|r| r.endpoints.fetch.iter().find(|(n, _)| *n == f.name))
            .map_or(f.url.as_str().to_owned(), |(_, u)| u.clone());
        line(
            o,
            &format!("fetch.{}", f.name),
            &format!(
                "GET {url} with the access token; the JSON answer is the claim `{}`",
                f.name
            ),
        );
    }
}

/// The kind of one rule, for the profile table.
fn kind(rule: &ClaimRule) -> &'static str {
    match rule {
        ClaimRule::Template(_) => "template",
        ClaimRule::Path(p) if p.0.iter().any(|s| matches!(s, PathSegment::Filter(_))) => {
            "path with filter"
        }
        ClaimRule::Path(p) if p.0.len() > 1 => "nested path",
        ClaimRule::Path(_) => "claim",
    }
}

fn rules(source: &ClaimSource) -> String {
    if source.0.is_empty() {
        return "(not mapped)".into();
    }
    source
        .0
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let then = if i == 0 { "" } else { "else " };
            format!("{then}{r} [{}]", kind(r))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn profile(o: &mut String, spec: &ProviderSpec) {
    let claims = match spec.protocol {
        Protocol::Oidc => "the verified ID token, then userinfo (the ID token wins on conflict)",
        Protocol::Oauth2 => "the user API's answer (userinfo_endpoint)",
    };
    let fetch = if spec.fetch.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = spec.fetch.iter().map(|f| f.name.as_str()).collect();
        format!(", and the fetched {}", names.join(", "))
    };
    let _ = writeln!(
        o,
        "\nProfile fields (from {claims}{fetch}; the first rule that yields a value wins)"
    );
    for (field, source) in spec.claims.fields() {
        line(o, field, &rules(source));
    }
    for (name, source) in &spec.claims.extra {
        line(o, &format!("extra.{name}"), &rules(source));
    }
}

/// Whether authorization requests are pushed (RFC 9126), and what decides it.
fn par(spec: &ProviderSpec, seeded: Option<&ProviderSettings>, discovered: &Discovered) -> String {
    let (on, from) = match seeded.and_then(|s| s.par) {
        Some(on) => (on, "[settings] par"),
        None => (spec.par, "the spec's par"),
    };
    let asked = if on {
        format!(
            "on ({from}): pushed when discovery advertises pushed_authorization_request_endpoint"
        )
    } else {
        format!(
            "off ({from}), unless the provider requires it (require_pushed_authorization_requests)"
        )
    };
    match discovered {
        Some(d) if d.require_pushed_authorization_requests => {
            format!("{asked}; the provider requires it: pushed")
        }
        Some(d) if d.pushed_authorization_request_endpoint.is_none() => {
            format!("{asked}; discovery advertises no endpoint: not pushed")
        }
        Some(_) if on => format!("{asked}; discovery advertises it: pushed"),
        _ => asked,
    }
}

fn email_trust(o: &mut String, spec: &ProviderSpec, seeded: Option<&ProviderSettings>) {
    let (trust, from) = match seeded.and_then(|s| s.email_trust) {
        Some(t) => (t, "[settings] email_trust"),
        None => (
            spec.email_trust,
            "the provider spec's email_trust (verified_claim unless it sets another)",
        ),
    };
    let why = match trust {
        EmailTrust::VerifiedClaim if spec.claims.email_verified.0.is_empty() => {
            "verified_claim, but email_verified is not mapped: no email ever links a sign-in to an existing account".to_owned()
        }
        EmailTrust::VerifiedClaim => format!(
            "verified_claim: an email links a sign-in to an existing account only when email_verified ({}) is the JSON boolean true",
            spec.claims.email_verified
        ),
        EmailTrust::Always => {
            "always: every email this provider sends may link a sign-in to an existing account (it verifies them itself)".to_owned()
        }
        EmailTrust::Never => "never: emails never link a sign-in to an existing account".to_owned(),
    };
    o.push_str("\nEmail trust\n");
    line(o, "policy", &why);
    line(o, "set by", from);
}

fn register(o: &mut String, spec: &ProviderSpec, id: &str, opts: &ExplainOptions) {
    let base = opts
        .app_url
        .as_deref()
        .map_or("{APP_URL}", |u| u.trim_end_matches('/'));
    let prefix = opts.prefix.trim_end_matches('/');
    let _ = writeln!(o, "\nRegister at the provider (prefix {prefix})");
    line(
        o,
        "redirect URI",
        &crate::flow::redirect_uri(base, prefix, id),
    );
    if spec.protocol == Protocol::Oidc {
        let logout = |route: &str| super::logout_uri(base, prefix, id, route);
        line(o, "back-channel logout", &logout("backchannel-logout"));
        line(o, "front-channel logout", &logout("frontchannel-logout"));
    } else {
        line(
            o,
            "logout URIs",
            "none: plain OAuth 2.0 sends no logout notifications",
        );
    }
}
