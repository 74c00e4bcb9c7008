//! The `providers.toml` DSL: parsing, validation with line/column errors, `${ENV}` interpolation,
//! and the built-in registry (`providers.toml` at the crate root, embedded).
//!
//! Two layers are kept apart on purpose:
//! 1. **Provider specs** (`[providers.<id>]`): the technical facts about a kind of identity
//!    provider (endpoints, claims, client authentication). Official ones are built in.
//! 2. **Provider settings** (`[settings.<id>]`): what an admin enters (enabled, URL, client id and
//!    secret…). At run time they live in a [`crate::store::SettingsStore`]; a TOML file can seed
//!    them, with secrets as `"${ENV_VAR}"`.
//!
//! ```
//! use tower_oidc::config::Providers;
//! let providers = Providers::builtin()
//!     .with_toml_str("providers.toml", r#"
//!         [providers.authentik]
//!         sort_order = 1
//!
//!         [settings.authentik]
//!         enabled = true
//!         url = "https://auth.example.com"
//!         client_id = "app"
//!     "#)
//!     .unwrap();
//! assert_eq!(providers.get("authentik").unwrap().sort_order, 1);
//! assert!(providers.seeded_settings()["authentik"].enabled);
//! ```

mod error;
mod raw;
mod settings;
mod spec;
mod template;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use settings::{AdminRules, ProviderSettings, Secret};
pub use spec::{
    ClaimMap, ClaimPath, ClaimSource, EmailTrust, Pkce, Protocol, ProviderSpec, TokenAuth,
};
pub use template::{Template, TemplateError};

use raw::{OneOrMany, RawFile, RawSettings, RawSpec, S};
use toml::Spanned;

/// The built-in registry, embedded from the crate's `providers.toml`.
pub const BUILTIN_PROVIDERS_TOML: &str = include_str!("../../providers.toml");

/// Name under which errors in the built-in registry are reported.
const BUILTIN_NAME: &str = "<built-in providers.toml>";

/// Largest configuration file accepted (a config is a few KiB; this bounds a mistake).
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Signing algorithms a spec may name in `signing_algs`.
const KNOWN_ALGS: [&str; 12] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512",
];

/// Where a provider's definition came from (for error positions and the admin API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in registry.
    Builtin,
    /// A user file (its name).
    File(String),
}

#[derive(Debug, Clone)]
struct Entry {
    raw: RawSpec,
    /// The file that last touched this provider, and the text of that file.
    file: String,
    text: std::sync::Arc<str>,
    key_span: std::ops::Range<usize>,
    origin: Origin,
}

/// A set of provider specs (built-in and custom) and seeded settings.
#[derive(Debug, Clone)]
pub struct Providers {
    entries: BTreeMap<String, Entry>,
    specs: BTreeMap<String, ProviderSpec>,
    seeds: BTreeMap<String, ProviderSettings>,
}

impl Providers {
    /// No providers at all.
    pub fn empty() -> Providers {
        Providers {
            entries: BTreeMap::new(),
            specs: BTreeMap::new(),
            seeds: BTreeMap::new(),
        }
    }

    /// The official providers, built in.
    pub fn builtin() -> Providers {
        match Providers::empty().with_source(
            BUILTIN_NAME,
            BUILTIN_PROVIDERS_TOML,
            &env_lookup,
            true,
        ) {
            Ok(p) => p,
            Err(e) => {
                // Unreachable in a released crate: a unit test loads the built-in file.
                tracing::error!(error = %e, "the built-in providers.toml is invalid");
                Providers::empty()
            }
        }
    }

    /// The built-in providers with a user file on top.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Providers, ConfigErrors> {
        Providers::builtin().with_toml_file(path)
    }

    /// Adds (or overrides) providers and settings from a file.
    pub fn with_toml_file(self, path: impl AsRef<Path>) -> Result<Providers, ConfigErrors> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let err = |message: String| {
            ConfigErrors(vec![ConfigError {
                file: name.clone(),
                line: 0,
                column: 0,
                path: String::new(),
                message,
            }])
        };
        let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
        if meta.len() > MAX_CONFIG_BYTES as u64 {
            return Err(err(format!(
                "file is {} bytes, larger than the {MAX_CONFIG_BYTES}-byte limit",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            err(format!(
                "not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        self.with_toml_str(&name, &text)
    }

    /// Adds (or overrides) providers and settings from TOML text; `name` is used in errors.
    pub fn with_toml_str(self, name: &str, text: &str) -> Result<Providers, ConfigErrors> {
        self.with_source(name, text, &env_lookup, false)
    }

    /// As [`Providers::with_toml_str`], resolving `${VAR}` with `env` instead of the process
    /// environment.
    pub fn with_toml_str_env(
        self,
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Providers, ConfigErrors> {
        self.with_source(name, text, env, false)
    }

    fn with_source(
        mut self,
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
        builtin: bool,
    ) -> Result<Providers, ConfigErrors> {
        let mut errs = Errs::new(name, text);
        if text.len() > MAX_CONFIG_BYTES {
            errs.at(
                0..0,
                "",
                format!("file is larger than the {MAX_CONFIG_BYTES}-byte limit"),
            );
            return Err(errs.into_errors());
        }
        let text_body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let offset = text.len() - text_body.len();
        let file: RawFile = match parse(text_body) {
            Ok(f) => f,
            Err((span, path, msg)) => {
                let span = span
                    .map(|s| s.start + offset..s.end + offset)
                    .unwrap_or(0..0);
                errs.at(span, &path, msg);
                return Err(errs.into_errors());
            }
        };
        // A BOM shifts every span; re-base the error positions on the stripped text.
        let mut errs = Errs::new(name, text_body);
        let shared: std::sync::Arc<str> = std::sync::Arc::from(text_body);

        for (id, raw) in file.providers {
            let path = format!("providers.{}", id.get_ref());
            validate_id(&id, &path, &mut errs);
            validate_raw_spec(&raw, &path, &mut errs);
            let origin = if builtin {
                Origin::Builtin
            } else {
                Origin::File(name.to_owned())
            };
            match self.entries.get_mut(id.get_ref()) {
                Some(e) => {
                    e.raw.merge(raw);
                    e.file = name.to_owned();
                    e.text = shared.clone();
                    e.key_span = id.span();
                }
                None => {
                    self.entries.insert(
                        id.get_ref().clone(),
                        Entry {
                            raw,
                            file: name.to_owned(),
                            text: shared.clone(),
                            key_span: id.span(),
                            origin,
                        },
                    );
                }
            }
        }
        // Resolve every spec (a user file can break a built-in one by overriding a field).
        let mut specs = BTreeMap::new();
        for (id, e) in &self.entries {
            let mut e_errs = Errs::new(&e.file, &e.text);
            if let Some(spec) = resolve_spec(id, &e.raw, &e.key_span, &mut e_errs) {
                specs.insert(id.clone(), spec);
            }
            errs.extend(e_errs);
        }
        for (id, raw) in file.settings {
            let path = format!("settings.{}", id.get_ref());
            if !self.entries.contains_key(id.get_ref()) {
                errs.at(
                    id.span(),
                    &path,
                    format!(
                        "no provider `{}` is defined (settings must name a provider)",
                        id.get_ref()
                    ),
                );
                continue;
            }
            if let Some(s) = resolve_settings(raw, &path, env, &mut errs) {
                self.seeds.insert(id.get_ref().clone(), s);
            }
        }
        check_duplicate_clients(&specs, &self.seeds, &mut errs);
        if !errs.is_empty() {
            return Err(errs.into_errors());
        }
        self.specs = specs;
        Ok(self)
    }

    /// The spec of one provider.
    pub fn get(&self, id: &str) -> Option<&ProviderSpec> {
        self.specs.get(id)
    }

    /// Every spec, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ProviderSpec> {
        self.specs.values()
    }

    /// How many providers there are.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Where a provider was defined.
    pub fn origin(&self, id: &str) -> Option<&Origin> {
        self.entries.get(id).map(|e| &e.origin)
    }

    /// Settings seeded from `[settings.<id>]` tables.
    pub fn seeded_settings(&self) -> &BTreeMap<String, ProviderSettings> {
        &self.seeds
    }
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

type ParseErr = (Option<std::ops::Range<usize>>, String, String);

fn parse(text: &str) -> Result<RawFile, ParseErr> {
    let de = toml::de::Deserializer::parse(text)
        .map_err(|e| (e.span(), String::new(), e.message().to_owned()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = if path == "." { String::new() } else { path };
        (inner.span(), path, inner.message().to_owned())
    })
}

/// Collects errors with positions in one file.
struct Errs<'a> {
    file: String,
    text: &'a str,
    list: Vec<ConfigError>,
}

impl<'a> Errs<'a> {
    fn new(file: &str, text: &'a str) -> Self {
        Errs {
            file: file.to_owned(),
            text,
            list: Vec::new(),
        }
    }
    fn at(&mut self, span: std::ops::Range<usize>, path: &str, msg: impl Into<String>) {
        let (line, column) = error::line_col(self.text, span.start);
        self.list.push(ConfigError {
            file: self.file.clone(),
            line,
            column,
            path: path.to_owned(),
            message: msg.into(),
        });
    }
    fn extend(&mut self, other: Errs<'_>) {
        self.list.extend(other.list);
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    fn into_errors(mut self) -> ConfigErrors {
        self.list
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        ConfigErrors(self.list)
    }
}

/// Provider ids appear in URL paths: keep them to a safe alphabet.
pub fn is_valid_provider_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric()
}

fn validate_id(id: &S, path: &str, errs: &mut Errs<'_>) {
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
            if t.vars().next().is_none() {
                if let Err(m) = check_url(v.get_ref()) {
                    errs.at(v.span(), path, m);
                    return None;
                }
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

fn validate_raw_spec(raw: &RawSpec, path: &str, errs: &mut Errs<'_>) {
    for (key, v) in [
        ("issuer", &raw.issuer),
        ("discovery", &raw.discovery),
        ("authorization_endpoint", &raw.authorization_endpoint),
        ("token_endpoint", &raw.token_endpoint),
        ("userinfo_endpoint", &raw.userinfo_endpoint),
        ("jwks_uri", &raw.jwks_uri),
        ("end_session_endpoint", &raw.end_session_endpoint),
    ] {
        if let Some(v) = v {
            let p = format!("{path}.{key}");
            if let Some(t) = validate_template(v, &p, errs) {
                if key == "issuer" {
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
                    }
                }
            }
        }
    }
    if let Some(url) = &raw.url {
        if let Err(m) = check_url(url.get_ref()) {
            errs.at(url.span(), &format!("{path}.url"), m);
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
    if let Some(scopes) = &raw.scopes {
        if scopes
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
        for (key, v) in fields {
            if let Some(v) = v {
                let OneOrMany(list) = v.get_ref();
                let empty_subject = key == "subject" && list.is_empty();
                if empty_subject || list.iter().any(|c| ClaimPath::parse(c).is_none()) {
                    errs.at(
                        v.span(),
                        &format!("{path}.claims.{key}"),
                        "expected a claim name, a dotted path such as `address.country`, or a list of them (`[]` leaves the field unmapped; `subject` must be mapped)",
                    );
                }
            }
        }
    }
}

fn source(v: &Option<Spanned<OneOrMany>>, default: &[&str]) -> ClaimSource {
    let names: Vec<String> = match v {
        Some(v) => v.get_ref().0.clone(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    };
    ClaimSource(names.iter().filter_map(|n| ClaimPath::parse(n)).collect())
}

fn resolve_spec(
    id: &str,
    raw: &RawSpec,
    key_span: &std::ops::Range<usize>,
    errs: &mut Errs<'_>,
) -> Option<ProviderSpec> {
    let path = format!("providers.{id}");
    let before = errs.list.len();
    let tpl = |v: &Option<S>| v.as_ref().and_then(|s| Template::parse(s.get_ref()).ok());
    let protocol = raw.protocol.unwrap_or(Protocol::Oidc);
    let name = match &raw.name {
        Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().clone(),
        Some(n) => {
            errs.at(n.span(), &format!("{path}.name"), "must not be empty");
            String::new()
        }
        None => {
            errs.at(key_span.clone(), &path, "missing required key `name`");
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
    if protocol == Protocol::Oidc && !scopes.iter().any(|s| s == "openid") {
        let span = raw
            .scopes
            .as_ref()
            .map(|s| s.span())
            .unwrap_or(key_span.clone());
        errs.at(
            span,
            &format!("{path}.scopes"),
            "an OIDC provider's scopes must include `openid`",
        );
    }
    match protocol {
        Protocol::Oidc => {
            if raw.issuer.is_none() && raw.discovery.is_none() {
                errs.at(
                    key_span.clone(),
                    &path,
                    "missing required key `issuer` (an OIDC provider needs an issuer or a discovery URL)",
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
                    errs.at(
                        key_span.clone(),
                        &path,
                        format!("missing required key `{k}` (an OAuth2 provider has no discovery)"),
                    );
                }
            }
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
        token_auth: raw.token_auth.unwrap_or(TokenAuth::ClientSecretBasic),
        pkce: raw.pkce.unwrap_or(Pkce::S256),
        issuer: tpl(&raw.issuer),
        discovery: tpl(&raw.discovery),
        authorization_endpoint: tpl(&raw.authorization_endpoint),
        token_endpoint: tpl(&raw.token_endpoint),
        userinfo_endpoint: tpl(&raw.userinfo_endpoint),
        jwks_uri: tpl(&raw.jwks_uri),
        end_session_endpoint: tpl(&raw.end_session_endpoint),
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
        },
    })
}

/// Replaces every `${NAME}` in `v` with the environment's value.
fn interpolate(
    v: &S,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    errs: &mut Errs<'_>,
) -> Option<String> {
    let s = v.get_ref();
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            errs.at(v.span(), path, "`${` is never closed (write `${NAME}`)");
            return None;
        };
        let name = &after[..end];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            errs.at(
                v.span(),
                path,
                format!("`${{{name}}}` is not a valid environment variable name"),
            );
            return None;
        }
        match env(name) {
            Some(val) => out.push_str(&val),
            None => {
                errs.at(
                    v.span(),
                    path,
                    format!("environment variable `{name}` is not set"),
                );
                return None;
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn resolve_settings(
    raw: RawSettings,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    errs: &mut Errs<'_>,
) -> Option<ProviderSettings> {
    let before = errs.list.len();
    let mut interp = |v: &Option<S>, key: &str| {
        v.as_ref()
            .and_then(|s| interpolate(s, &format!("{path}.{key}"), env, errs))
    };
    let url = interp(&raw.url, "url");
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
    if let (Some(u), Some(span)) = (&url, raw.url.as_ref().map(|s| s.span())) {
        if let Err(m) = check_url(u) {
            errs.at(span, &format!("{path}.url"), m);
        }
    }
    if let (Some(s), Some(span)) = (&client_secret, raw.client_secret.as_ref().map(|s| s.span())) {
        if s.is_empty() {
            errs.at(span, &format!("{path}.client_secret"), "must not be empty");
        }
    }
    if let Some(scopes) = &raw.scopes {
        if scopes
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
    }
    if errs.list.len() > before {
        return None;
    }
    let admin = raw.admin.unwrap_or_default();
    Some(ProviderSettings {
        enabled: raw.enabled.unwrap_or(false),
        url,
        client_id,
        client_secret: client_secret.map(Secret::new),
        scopes: raw.scopes.map(|s| s.into_inner()),
        auto_register: raw.auto_register.unwrap_or(true),
        sort_order: raw.sort_order,
        icon,
        email_trust: raw.email_trust,
        admin_rules: AdminRules {
            groups: admin.groups,
            email_domains: admin.email_domains,
        },
        slug,
        params,
    })
}

/// Two providers with the same issuer and client id would make identities ambiguous (T5).
fn check_duplicate_clients(
    specs: &BTreeMap<String, ProviderSpec>,
    seeds: &BTreeMap<String, ProviderSettings>,
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
            errs.at(
                0..0,
                &format!("settings.{id}"),
                format!("same issuer URL and client id as `settings.{other}`: identities would be ambiguous"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
