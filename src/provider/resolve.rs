//! Endpoint resolution: a spec's templates plus an admin's settings give concrete URLs.
//!
//! The admin may enter Authentik's bare instance URL (`https://auth.example.com`) or the full
//! per-application issuer (`https://auth.example.com/application/o/palmr/`), as the Authentik UI
//! shows it. Both resolve to the same endpoints: the entered URL is first matched against the
//! issuer template, which splits a full issuer into `{url}` and `{slug}`; a bare URL is `{url}`
//! alone. Without a slug, the issuer (and with it the JWKS and end-session endpoints) is learned
//! at the first callback — see [`super::Registry::learn_issuer`] for why that is safe.

mod tenant;

pub(crate) use tenant::warn_seeded_without_tenants;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{ProviderSettings, ProviderSpec, Secret, Template, check_url, is_valid_slug};
use crate::error::{Error, ErrorCode};

/// The concrete endpoints of a provider, as far as the settings determine them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The issuer, when known (always for a full issuer URL or a pinned slug).
    pub issuer: Option<String>,
    /// The discovery document URL, when the issuer is known.
    pub discovery: Option<String>,
    /// Authorization endpoint (from the template; discovery may supply it instead).
    pub authorization: Option<String>,
    /// Token endpoint.
    pub token: Option<String>,
    /// Userinfo endpoint.
    pub userinfo: Option<String>,
    /// JWKS URI.
    pub jwks: Option<String>,
    /// End-session endpoint.
    pub end_session: Option<String>,
    /// Token revocation endpoint (RFC 7009).
    pub revocation: Option<String>,
    /// Token introspection endpoint (RFC 7662).
    pub introspection: Option<String>,
    /// The spec's extra user-API requests: (claim name, URL), those whose URL could be rendered.
    pub fetch: Vec<(String, String)>,
}

/// A provider ready to run: its spec, its settings, and what they resolve to.
#[derive(Debug, Clone)]
pub struct ResolvedProvider {
    /// The spec (shared: a resolved provider is copied per sign-in, its spec is not).
    pub spec: Arc<ProviderSpec>,
    /// The provider URL after normalisation (no trailing slash), if any.
    pub url: Option<String>,
    /// The application slug, when given or derived from a full issuer URL.
    pub slug: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<Secret>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Endpoints known from templates. For a multi-tenant provider the issuer is the discovery
    /// document's, with the tenant placeholder (see [`ResolvedProvider::multi_tenant`]).
    pub endpoints: Endpoints,
    /// For a multi-tenant provider (the spec's `multi_tenant` table, with the tenant parameter
    /// one of its values): the tenants whose users may sign in, from the settings. `None`: the
    /// provider has one issuer.
    pub allowed_tenants: Option<Vec<String>>,
    /// Template variables (for rendering endpoints once the issuer is learned).
    vars: BTreeMap<String, String>,
}

fn misconfigured(id: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::ProviderMisconfigured,
        format!("provider `{id}`: {detail}"),
    )
}

/// The default discovery URL for an issuer (OpenID Connect Discovery §4: the issuer with any
/// trailing `/` removed, then `/.well-known/openid-configuration`).
pub fn default_discovery(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl ResolvedProvider {
    /// Resolves `spec` with `settings`. Fails with `provider_misconfigured` when a required
    /// setting is missing or malformed.
    ///
    /// ```
    /// use tower_oidc::config::{Providers, ProviderSettings};
    /// use tower_oidc::provider::ResolvedProvider;
    /// let spec = Providers::builtin().get("authentik").unwrap().clone();
    /// let settings = ProviderSettings {
    ///     url: Some("https://auth.example.com".into()),
    ///     client_id: Some("app".into()),
    ///     ..Default::default()
    /// };
    /// let p = ResolvedProvider::resolve(&spec, &settings).unwrap();
    /// assert_eq!(p.endpoints.token.as_deref(), Some("https://auth.example.com/application/o/token/"));
    /// assert_eq!(p.endpoints.issuer, None); // learned from the first ID token
    /// ```
    pub fn resolve(spec: &ProviderSpec, settings: &ProviderSettings) -> Result<Self, Error> {
        let id = &spec.id;
        let client_id = settings
            .client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| misconfigured(id, "no client id is set"))?;
        // Parameters: the spec's defaults, overridden by what the admin set.
        let mut vars: BTreeMap<String, String> = spec.params.clone();
        for (k, v) in &settings.params {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if !is_valid_param(v) {
                return Err(misconfigured(
                    id,
                    format!("parameter `{k}`: `{v}` is neither an https URL nor a plain name"),
                ));
            }
            vars.insert(k.clone(), v.to_owned());
        }
        let raw_url = settings.url.clone().or_else(|| spec.default_url.clone());
        let mut slug = settings.slug.clone().filter(|s| !s.is_empty());
        let mut url = None;
        if let Some(raw) = raw_url {
            let raw = raw.trim().to_owned();
            check_url(&raw).map_err(|m| misconfigured(id, m))?;
            // A full issuer URL (with or without its trailing slash) splits into url + slug.
            let matched = spec.issuer.as_ref().and_then(|t| {
                t.match_str(&raw).or_else(|| {
                    if raw.ends_with('/') {
                        None
                    } else {
                        t.match_str(&format!("{raw}/"))
                    }
                })
            });
            match matched {
                Some(m) if m.contains_key("url") => {
                    for (k, v) in m {
                        if k == "slug" && slug.is_none() {
                            slug = Some(v);
                        } else if k != "slug" {
                            vars.insert(k, v);
                        }
                    }
                    url = vars.get("url").cloned();
                }
                _ => {
                    let u = raw.trim_end_matches('/').to_owned();
                    vars.insert("url".into(), u.clone());
                    url = Some(u);
                }
            }
        }
        if let Some(s) = &slug {
            if !is_valid_slug(s) {
                return Err(misconfigured(
                    id,
                    format!("`{s}` is not a valid application slug"),
                ));
            }
            vars.insert("slug".into(), s.clone());
        }
        let needs_url = [
            &spec.issuer,
            &spec.authorization_endpoint,
            &spec.token_endpoint,
        ]
        .iter()
        .any(|t| t.as_ref().is_some_and(|t| t.vars().any(|v| v == "url")));
        if needs_url && url.is_none() {
            return Err(misconfigured(id, "no provider URL is set"));
        }
        // Any other variable of an endpoint is a parameter the admin must set (e.g. Entra ID's
        // `{tenant}`): it is never learned from a token.
        for t in spec.url_templates() {
            if let Some(v) = t
                .vars()
                .find(|v| !matches!(*v, "url" | "slug" | "issuer") && !vars.contains_key(*v))
            {
                return Err(misconfigured(
                    id,
                    format!("parameter `{v}` is not set (the provider's endpoints use `{{{v}}}`)"),
                ));
            }
        }
        let scopes = settings
            .scopes
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| spec.scopes.clone());
        let mut p = ResolvedProvider {
            spec: Arc::new(spec.clone()),
            url,
            slug,
            client_id,
            client_secret: settings.client_secret.clone().filter(|s| !s.is_empty()),
            scopes,
            endpoints: Endpoints {
                issuer: None,
                discovery: None,
                authorization: None,
                token: None,
                userinfo: None,
                jwks: None,
                end_session: None,
                revocation: None,
                introspection: None,
                fetch: Vec::new(),
            },
            allowed_tenants: tenant::in_force(spec, &vars)
                .map(|_| settings.allowed_tenants.clone()),
            vars,
        };
        let issuer = match &spec.issuer {
            Some(t) => render_opt(t, &p.vars),
            None => None,
        };
        p.set_issuer(issuer);
        Ok(p)
    }

    /// A template parameter's value: the admin's setting, else the spec's default (e.g. Sign in
    /// with Apple's `team_id` and `key_id`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Sets the issuer (known from settings, or learned) and renders the templates that depend
    /// on it.
    pub(crate) fn set_issuer(&mut self, issuer: Option<String>) {
        if let Some(i) = &issuer {
            self.vars.insert("issuer".into(), i.clone());
        }
        let r = |t: &Option<Template>| t.as_ref().and_then(|t| render_opt(t, &self.vars));
        self.endpoints = Endpoints {
            discovery: match (&self.spec.discovery, &issuer) {
                (Some(t), _) => render_opt(t, &self.vars),
                (None, Some(i)) => Some(default_discovery(i)),
                (None, None) => None,
            },
            issuer,
            authorization: r(&self.spec.authorization_endpoint),
            token: r(&self.spec.token_endpoint),
            userinfo: r(&self.spec.userinfo_endpoint),
            jwks: r(&self.spec.jwks_uri),
            end_session: r(&self.spec.end_session_endpoint),
            revocation: r(&self.spec.revocation_endpoint),
            introspection: r(&self.spec.introspection_endpoint),
            fetch: self
                .spec
                .fetch
                .iter()
                .filter_map(|f| render_opt(&f.url, &self.vars).map(|u| (f.name.clone(), u)))
                .collect(),
        };
        if let Some(template) = self.discovery_issuer() {
            self.endpoints.issuer = Some(template);
        }
    }

    /// If the issuer is not known yet: whether `iss` has the issuer template's exact shape under
    /// the configured URL, and if so the variables it fixes (e.g. the slug).
    pub(crate) fn match_learnable_issuer(&self, iss: &str) -> Option<BTreeMap<String, String>> {
        let t = self.spec.issuer.as_ref()?;
        let m = t.match_str(iss)?;
        // Every variable the settings fixed must match exactly; the rest must be a valid slug-like
        // value (no `/`, `?`, `#`, `%`, whitespace).
        for (k, v) in &m {
            match self.vars.get(k) {
                Some(known) if known != v => return None,
                Some(_) => {}
                None if !is_valid_slug(v) => return None,
                None => {}
            }
        }
        // And rendering it back must give `iss` byte for byte.
        let mut all: BTreeMap<&str, String> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        for (k, v) in &m {
            all.insert(k.as_str(), v.clone());
        }
        (t.render(&all).ok()? == iss).then_some(m)
    }

    /// A copy with the learned variables (e.g. the slug) set, and the issuer rendered.
    pub(crate) fn with_learned(&self, learned: &BTreeMap<String, String>) -> ResolvedProvider {
        let mut p = self.clone();
        for (k, v) in learned {
            p.vars.insert(k.clone(), v.clone());
            if k == "slug" {
                p.slug = Some(v.clone());
            }
        }
        let issuer = p.spec.issuer.as_ref().and_then(|t| render_opt(t, &p.vars));
        p.set_issuer(issuer);
        p
    }
}

fn render_opt(t: &Template, vars: &BTreeMap<String, String>) -> Option<String> {
    let v: BTreeMap<&str, String> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    t.render(&v).ok()
}

/// An admin-set parameter is an absolute https URL (e.g. a GitHub Enterprise API URL) or a
/// plain name (a tenant id or domain, a realm): nothing that could add path segments, a query or
/// a fragment to an endpoint.
fn is_valid_param(v: &str) -> bool {
    if v.contains("://") {
        return check_url(v).is_ok();
    }
    v.len() <= 256
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && v != "."
        && v != ".."
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Providers;

    fn authentik(url: &str) -> ResolvedProvider {
        let spec = Providers::builtin().get("authentik").cloned().unwrap();
        let s = ProviderSettings {
            url: Some(url.into()),
            client_id: Some("c".into()),
            ..Default::default()
        };
        ResolvedProvider::resolve(&spec, &s).unwrap()
    }

    #[test]
    fn authentik_both_url_forms_resolve_to_the_same_endpoints() {
        let bare = authentik("https://auth.example.com");
        let full = authentik("https://auth.example.com/application/o/palmr/");
        for p in [&bare, &full] {
            assert_eq!(p.url.as_deref(), Some("https://auth.example.com"));
            assert_eq!(
                p.endpoints.authorization.as_deref(),
                Some("https://auth.example.com/application/o/authorize/")
            );
            assert_eq!(
                p.endpoints.token.as_deref(),
                Some("https://auth.example.com/application/o/token/")
            );
            assert_eq!(
                p.endpoints.userinfo.as_deref(),
                Some("https://auth.example.com/application/o/userinfo/")
            );
        }
        assert_eq!(
            full.endpoints.issuer.as_deref(),
            Some("https://auth.example.com/application/o/palmr/")
        );
        assert_eq!(
            full.endpoints.discovery.as_deref(),
            Some("https://auth.example.com/application/o/palmr/.well-known/openid-configuration")
        );
        assert_eq!(
            full.endpoints.jwks.as_deref(),
            Some("https://auth.example.com/application/o/palmr/jwks/")
        );
        assert_eq!(
            full.endpoints.end_session.as_deref(),
            Some("https://auth.example.com/application/o/palmr/end-session/")
        );
        // The bare form learns the rest: once the slug is known, it is the full form.
        assert_eq!(bare.endpoints.issuer, None);
        let m = bare
            .match_learnable_issuer("https://auth.example.com/application/o/palmr/")
            .unwrap();
        let learned = bare.with_learned(&m);
        assert_eq!(learned.endpoints, full.endpoints);
        // The issuer without its trailing slash also works as the entered URL.
        let noslash = authentik("https://auth.example.com/application/o/palmr");
        assert_eq!(noslash.endpoints, full.endpoints);
    }

    #[test]
    fn learnable_issuer_must_have_the_template_shape_under_the_configured_url() {
        let bare = authentik("https://auth.example.com");
        for bad in [
            "https://evil.example/application/o/palmr/",
            "https://auth.example.com/application/o/palmr",
            "https://auth.example.com/application/o/pa/lmr/",
            "https://auth.example.com/application/o/token/",
            "https://auth.example.com.evil/application/o/palmr/",
            "https://auth.example.com/x/application/o/palmr/",
            "https://auth.example.com/application/o/pa%2Flmr/",
        ] {
            assert!(bare.match_learnable_issuer(bad).is_none(), "{bad}");
        }
        let full = authentik("https://auth.example.com/application/o/palmr/");
        assert!(
            full.match_learnable_issuer("https://auth.example.com/application/o/other/")
                .is_none()
        );
    }

    #[test]
    fn missing_settings_are_misconfigured() {
        let spec = Providers::builtin().get("authentik").cloned().unwrap();
        let e = ResolvedProvider::resolve(&spec, &ProviderSettings::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ProviderMisconfigured);
        let s = ProviderSettings {
            client_id: Some("c".into()),
            url: Some("http://auth.example.com".into()),
            ..Default::default()
        };
        let e = ResolvedProvider::resolve(&spec, &s).unwrap_err();
        assert!(e.detail().contains("https"), "{e}");
    }
}
