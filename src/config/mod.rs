//! The `providers.toml` DSL: parsing, validation with line/column errors, `${ENV}` interpolation,
//! and the built-in registry (`providers.toml` at the crate root, embedded).
//!
//! Two layers are kept apart on purpose:
//! 1. **Provider specs** (`[providers.<id>]`): the technical facts about a kind of identity
//!    provider (endpoints, claims, client authentication). Official ones are built in.
//! 2. **Provider settings** (`[settings.<id>]`): what an admin enters (enabled, URL, client id and
//!    secret…). At run time they live in a settings store (`SettingsStore`); a TOML file can seed
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

mod claims;
mod error;
mod raw;
mod read;
mod settings;
mod spec;
mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use settings::{AdminRules, ProviderSettings, Secret};
pub use spec::{
    ClaimMap, ClaimPath, ClaimRule, ClaimSource, ClaimTemplate, EmailTrust, Fetch, PathSegment,
    Pkce, Protocol, ProviderSpec, TokenAuth,
};
pub use template::{Template, TemplateError};

use raw::{OneOrMany, RawSettings, RawSpec, S};
use toml::Spanned;

/// The built-in registry, embedded from the crate's `providers.toml`.
pub const BUILTIN_PROVIDERS_TOML: &str = include_str!("../../providers.toml");

/// The name under which the built-in registry appears in errors and in
/// [`Providers::sources`].
pub const BUILTIN_SOURCE: &str = "<built-in providers.toml>";

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

/// Where the value of one seeded setting comes from (see [`Providers::seed_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedSource {
    /// Written literally in a `[settings.<id>]` table.
    File,
    /// Read from the environment: the table's value references a `"${VAR}"`.
    Environment,
}

/// The settings fields whose values may reference the environment, as
/// [`Providers::seed_source`] names them.
pub const ENV_SEEDABLE_FIELDS: [&str; 6] = [
    "url",
    "client_id",
    "client_secret",
    "icon",
    "slug",
    "params",
];

/// One provider as merged so far. No source text is kept (a file may hold a literal secret,
/// and this type is `Debug`): positions are resolved to line and column when the entry is made.
#[derive(Debug, Clone)]
struct Entry {
    raw: RawSpec,
    /// The file that last touched this provider, and where its `[providers.<id>]` key is there.
    file: String,
    key_pos: (usize, usize),
    origin: Origin,
    /// Every source that defined or changed this provider, in load order.
    sources: Vec<String>,
}

/// A set of provider specs (built-in and custom) and seeded settings.
///
/// `Debug` shows specs and settings, never a client secret (see [`Secret`]).
#[derive(Debug, Clone)]
pub struct Providers {
    entries: BTreeMap<String, Entry>,
    specs: BTreeMap<String, ProviderSpec>,
    seeds: BTreeMap<String, ProviderSettings>,
    /// Per seeded provider, the fields whose value came (at least partly) from `${VAR}`.
    seed_env: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Providers {
    /// No providers at all.
    ///
    /// ```
    /// assert!(tower_oidc::config::Providers::empty().is_empty());
    /// ```
    pub fn empty() -> Providers {
        Providers {
            entries: BTreeMap::new(),
            specs: BTreeMap::new(),
            seeds: BTreeMap::new(),
            seed_env: BTreeMap::new(),
        }
    }

    /// The official providers, built in.
    ///
    /// ```
    /// let p = tower_oidc::config::Providers::builtin();
    /// assert_eq!(p.get("authentik").unwrap().name, "Authentik");
    /// ```
    pub fn builtin() -> Providers {
        match Providers::empty().with_source(
            BUILTIN_SOURCE,
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
    ///
    /// The file must be UTF-8 (a leading BOM is ignored) and at most [`MAX_CONFIG_BYTES`] long;
    /// it is never read past that limit. Errors are named after `path` as given.
    pub fn with_toml_file(self, path: impl AsRef<Path>) -> Result<Providers, ConfigErrors> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let err = |line: usize, column: usize, message: String| {
            ConfigErrors(vec![ConfigError {
                file: name.clone(),
                line,
                column,
                path: String::new(),
                message,
            }])
        };
        let bytes = read_capped(path).map_err(|e| err(0, 0, format!("cannot read: {e}")))?;
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(err(0, 0, too_large_message()));
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let bytes = e.as_bytes();
                let good = e.utf8_error().valid_up_to();
                let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
                let (line, column) = error::line_col(prefix, prefix.len());
                let (line, column) = if prefix.starts_with('\u{feff}') && line == 1 {
                    (line, column - 1)
                } else {
                    (line, column)
                };
                return Err(err(
                    line,
                    column,
                    format!(
                        "the file is not valid UTF-8 (byte 0x{:02x} at offset {good}); save it as UTF-8",
                        bytes.get(good).copied().unwrap_or(0)
                    ),
                ));
            }
        };
        self.with_toml_str(&name, &text)
    }

    /// Adds (or overrides) providers and settings from TOML text; `name` is used in errors.
    pub fn with_toml_str(self, name: &str, text: &str) -> Result<Providers, ConfigErrors> {
        self.with_source(name, text, &env_lookup, false)
    }

    /// As [`Providers::with_toml_str`], resolving `${VAR}` with `env` instead of the process
    /// environment.
    ///
    /// ```
    /// use tower_oidc::config::Providers;
    /// let env = |name: &str| (name == "AUTHENTIK_CLIENT_SECRET").then(|| "s3cret".to_string());
    /// let p = Providers::builtin()
    ///     .with_toml_str_env("app.toml", r#"
    ///         [settings.authentik]
    ///         client_secret = "${AUTHENTIK_CLIENT_SECRET}"
    ///     "#, &env)
    ///     .unwrap();
    /// let s = &p.seeded_settings()["authentik"];
    /// assert_eq!(s.client_secret.as_ref().unwrap().expose(), "s3cret");
    /// ```
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
        // Positions are counted in the text after the BOM: editors do not show it as a column.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut errs = Errs::new(name, text);
        if text.len() > MAX_CONFIG_BYTES {
            errs.at(0..0, "", too_large_message());
            return Err(errs.into_errors());
        }
        let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            // The recovered tree may miss whole tables: report only what the parser found, or
            // the errors would be followed by misleading "missing key" ones.
            let mut duplicated_tables = Vec::new();
            for e in &syntax {
                syntax_error(e, text, &mut duplicated_tables, &mut errs);
            }
            return Err(errs.into_errors());
        }
        let (file, read_errs) = read::read_document(doc.into_inner());
        for e in read_errs {
            errs.at(e.span.unwrap_or(0..0), &e.path, e.message);
        }

        let mut touched = Vec::new();
        for (id, raw) in file.providers {
            let path = read::join_path("providers", id.get_ref());
            validate_id(&id, &path, &mut errs);
            validate_raw_spec(&raw, &path, &mut errs);
            let key_pos = error::line_col(text, id.span().start);
            let origin = if builtin {
                Origin::Builtin
            } else {
                Origin::File(name.to_owned())
            };
            // An OIDC provider needs `openid`; say so at this file's `scopes` when it set them.
            if let Some(scopes) = &raw.scopes {
                let protocol = raw
                    .protocol
                    .or_else(|| self.entries.get(id.get_ref()).and_then(|e| e.raw.protocol))
                    .unwrap_or(Protocol::Oidc);
                if protocol == Protocol::Oidc && !scopes.get_ref().iter().any(|s| s == "openid") {
                    errs.at(
                        scopes.span(),
                        &format!("{path}.scopes"),
                        "an OIDC provider's scopes must include `openid`",
                    );
                }
            }
            touched.push(id.get_ref().clone());
            match self.entries.get_mut(id.get_ref()) {
                Some(e) => {
                    e.raw.merge(raw);
                    e.file = name.to_owned();
                    e.key_pos = key_pos;
                    e.sources.push(name.to_owned());
                }
                None => {
                    self.entries.insert(
                        id.get_ref().clone(),
                        Entry {
                            raw,
                            file: name.to_owned(),
                            key_pos,
                            origin,
                            sources: vec![name.to_owned()],
                        },
                    );
                }
            }
        }
        // Resolve every spec (a user file can break a built-in one by overriding a field).
        let mut specs = BTreeMap::new();
        for (id, e) in &self.entries {
            if let Some(spec) = resolve_spec(id, e, &mut errs) {
                specs.insert(id.clone(), spec);
            }
        }
        let mut settings_pos = BTreeMap::new();
        for (id, raw) in file.settings {
            let path = read::join_path("settings", id.get_ref());
            if !self.entries.contains_key(id.get_ref()) {
                if !file.unreadable.contains(id.get_ref()) {
                    errs.at(
                        id.span(),
                        &path,
                        format!(
                            "no provider `{}` is defined (settings must name a built-in provider or a `[providers.<id>]` table)",
                            id.get_ref().escape_debug()
                        ),
                    );
                }
                continue;
            }
            let spec = specs.get(id.get_ref());
            let from_env = env_fields(&raw);
            if let Some(s) = resolve_settings(raw, &id, &path, spec, env, &mut errs) {
                settings_pos.insert(id.get_ref().clone(), id.span());
                self.seeds.insert(id.get_ref().clone(), s);
                self.seed_env.insert(id.get_ref().clone(), from_env);
            }
        }
        check_duplicate_clients(&specs, &self.seeds, &settings_pos, &mut errs);
        errs.drop_missing_explained_by_typos();
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

    /// Where a provider was first defined (a built-in provider that a file overrides stays
    /// [`Origin::Builtin`]; [`Providers::sources`] lists every file that changed it).
    pub fn origin(&self, id: &str) -> Option<&Origin> {
        self.entries.get(id).map(|e| &e.origin)
    }

    /// Every source (the built-in registry's name or a file name) that defined or changed a
    /// provider, in load order: `["<built-in providers.toml>", "app.toml"]` for a built-in
    /// provider that `app.toml` overrides.
    ///
    /// ```
    /// use tower_oidc::config::Providers;
    /// let p = Providers::builtin()
    ///     .with_toml_str("app.toml", "[providers.authentik]\nsort_order = 1\n")
    ///     .unwrap();
    /// assert_eq!(p.sources("authentik").len(), 2);
    /// assert_eq!(p.sources("authentik")[1], "app.toml");
    /// ```
    pub fn sources(&self, id: &str) -> &[String] {
        self.entries
            .get(id)
            .map(|e| e.sources.as_slice())
            .unwrap_or_default()
    }

    /// Settings seeded from `[settings.<id>]` tables.
    pub fn seeded_settings(&self) -> &BTreeMap<String, ProviderSettings> {
        &self.seeds
    }

    /// Where the seeded value of one settings `field` of provider `id` comes from:
    /// [`SeedSource::Environment`] when its `[settings.<id>]` table wrote it with a `"${VAR}"`
    /// reference (for `params`: any parameter did), [`SeedSource::File`] otherwise, and `None`
    /// when the provider has no seeded settings. Whether the field is set at all is in
    /// [`Providers::seeded_settings`]. The fields that can reference the environment are
    /// [`ENV_SEEDABLE_FIELDS`].
    ///
    /// ```
    /// use tower_oidc::config::{Providers, SeedSource};
    /// let env = |name: &str| (name == "AUTHENTIK_CLIENT_SECRET").then(|| "s3cret".to_string());
    /// let p = Providers::builtin()
    ///     .with_toml_str_env("app.toml", r#"
    ///         [settings.authentik]
    ///         url = "https://auth.example.com"
    ///         client_secret = "${AUTHENTIK_CLIENT_SECRET}"
    ///     "#, &env)
    ///     .unwrap();
    /// assert_eq!(p.seed_source("authentik", "client_secret"), Some(SeedSource::Environment));
    /// assert_eq!(p.seed_source("authentik", "url"), Some(SeedSource::File));
    /// assert_eq!(p.seed_source("nope", "url"), None);
    /// ```
    pub fn seed_source(&self, id: &str, field: &str) -> Option<SeedSource> {
        if !self.seeds.contains_key(id) {
            return None;
        }
        let from_env = self.seed_env.get(id).is_some_and(|f| f.contains(field));
        Some(if from_env {
            SeedSource::Environment
        } else {
            SeedSource::File
        })
    }
}

fn too_large_message() -> String {
    format!("the file is larger than the {MAX_CONFIG_BYTES}-byte limit (1 MiB)")
}

/// Reads at most one byte more than [`MAX_CONFIG_BYTES`] (so a huge file or a device such as
/// `/dev/zero` is refused without reading it all).
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Reports a TOML syntax error. Only the parser's message is used, never its rendering with the
/// source line (a `client_secret = "…"` line would be echoed); a duplicate key is named by its
/// key path, and a duplicate `[providers.<id>]` table is called a duplicate provider (the keys
/// of the second table, which the parser then also calls duplicates, are not reported again).
fn syntax_error(
    e: &toml::de::Error,
    text: &str,
    duplicated_tables: &mut Vec<String>,
    errs: &mut Errs<'_>,
) {
    let span = e.span().unwrap_or(0..0);
    let mut path = String::new();
    let mut message = e.message().to_owned();
    if message == "duplicate key" {
        if let Some(p) = duplicate_key_path(text, span.start) {
            message = match p.as_slice() {
                [section, id] if section == "providers" => format!(
                    "duplicate provider `{}`: `[providers.{}]` appears twice in this file (put all of a provider's keys in one table)",
                    id.escape_debug(),
                    read::key_segment(id)
                ),
                [section, id] if section == "settings" => format!(
                    "duplicate settings for provider `{}`: `[settings.{}]` appears twice in this file",
                    id.escape_debug(),
                    read::key_segment(id)
                ),
                _ => "duplicate key: a key may be set only once per table".to_owned(),
            };
            path = p
                .iter()
                .map(|k| read::key_segment(k))
                .collect::<Vec<_>>()
                .join(".");
            if duplicated_tables
                .iter()
                .any(|t| path.starts_with(&format!("{t}.")))
            {
                return;
            }
            if p.len() == 2 && (p[0] == "providers" || p[0] == "settings") {
                duplicated_tables.push(path.clone());
            }
        }
    } else {
        let (line, _) = error::line_col(text, span.start);
        if let Some(value) = secret_on_line(text, line)
            && message.contains(value)
        {
            message =
                "invalid TOML in a `client_secret` value (details withheld: the line holds a secret)"
                    .to_owned();
        }
    }
    errs.at(span, &path, message);
}

/// The text after `=` on a line that sets a `client_secret` (quotes and spaces trimmed), if
/// that line does and the value is long enough to search for.
fn secret_on_line(text: &str, line: usize) -> Option<&str> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (key, value) = l.split_once('=')?;
    if !key.contains("client_secret") {
        return None;
    }
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    (v.len() >= 3).then_some(v)
}

/// The key path of a duplicate key at byte `pos`: the table header above it (or on its line)
/// with the key of its line, reparsed on their own.
fn duplicate_key_path(text: &str, pos: usize) -> Option<Vec<String>> {
    let (line, _) = error::line_col(text, pos);
    let lines: Vec<&str> = text.lines().collect();
    let idx = line.checked_sub(1)?;
    let here = lines.get(idx)?.trim_start();
    let is_header = |l: &str| {
        let l = l.trim_start();
        l.starts_with('[') && !l.starts_with("[[")
    };
    let snippet = if is_header(here) {
        format!("{here}\n")
    } else {
        let header = lines[..idx].iter().rev().find(|l| is_header(l));
        format!("{}\n{here}\n", header.map(|h| h.trim_start()).unwrap_or(""))
    };
    let doc = toml::de::DeTable::parse(&snippet).ok()?.into_inner();
    let mut path = Vec::new();
    let mut cur = &doc;
    loop {
        let mut it = cur.iter();
        let (k, v) = it.next()?;
        if it.next().is_some() {
            return None;
        }
        path.push(k.get_ref().to_string());
        match v.get_ref() {
            toml::de::DeValue::Table(t) if !t.is_empty() => cur = t,
            _ => return Some(path),
        }
    }
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
    /// An error in another file (or this one) at an already computed position.
    fn at_pos(&mut self, file: &str, pos: (usize, usize), path: &str, msg: impl Into<String>) {
        self.list.push(ConfigError {
            file: file.to_owned(),
            line: pos.0,
            column: pos.1,
            path: path.to_owned(),
            message: msg.into(),
        });
    }
    /// `isuer = …` makes `issuer` missing too; the unknown-key error already says "did you
    /// mean `issuer`?", so the "missing required key `issuer`" one is noise.
    fn drop_missing_explained_by_typos(&mut self) {
        let hints: Vec<(String, String)> = self
            .list
            .iter()
            .filter_map(|e| {
                let (_, rest) = e.message.split_once("did you mean `")?;
                let (key, _) = rest.split_once('`')?;
                let (table, _) = e.path.rsplit_once('.')?;
                Some((table.to_owned(), key.to_owned()))
            })
            .collect();
        self.list.retain(|e| {
            !hints.iter().any(|(table, key)| {
                e.path == *table
                    && e.message
                        .starts_with(&format!("missing required key `{key}`"))
            })
        });
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    fn into_errors(mut self) -> ConfigErrors {
        self.list
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.list.dedup();
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

fn validate_raw_spec(raw: &RawSpec, path: &str, errs: &mut Errs<'_>) {
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

fn source(v: &Option<Spanned<OneOrMany>>, default: &[&str]) -> ClaimSource {
    let names: Vec<String> = match v {
        Some(v) => v.get_ref().0.clone(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    };
    // Every rule was checked when its file was read; a malformed one cannot reach here.
    ClaimSource(names.iter().filter_map(|n| ClaimRule::parse(n)).collect())
}

/// A fetch's name becomes a top-level claim name.
fn is_fetch_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Builds the spec of a merged entry. Fields that a file set were checked when it was read
/// (with their positions); what is left are keys no file set, reported at the provider's
/// `[providers.<id>]` key in the file that touched it last.
fn resolve_spec(id: &str, e: &Entry, errs: &mut Errs<'_>) -> Option<ProviderSpec> {
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
    })
}

/// Whether `s` references the environment: a `${` not written as the literal `$${`.
fn references_env(s: &str) -> bool {
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if !rest[..i].ends_with('$') {
            return true;
        }
        rest = &rest[i + 2..];
    }
    false
}

/// The fields of a `[settings.<id>]` table whose values reference the environment.
fn env_fields(raw: &RawSettings) -> BTreeSet<&'static str> {
    let strings = [
        ("url", &raw.url),
        ("client_id", &raw.client_id),
        ("client_secret", &raw.client_secret),
        ("icon", &raw.icon),
        ("slug", &raw.slug),
    ];
    let mut out: BTreeSet<&'static str> = strings
        .into_iter()
        .filter(|(_, v)| v.as_ref().is_some_and(|v| references_env(v.get_ref())))
        .map(|(k, _)| k)
        .collect();
    if raw.params.values().any(|v| references_env(v.get_ref())) {
        out.insert("params");
    }
    out
}

/// Replaces every `${NAME}` in `v` with the environment's value; `$${` stands for a literal
/// `${`. Messages never repeat the value's own text (it may be a literal secret), only a
/// variable's name.
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
        if let Some(lit) = rest[..i].strip_suffix('$') {
            out.push_str(lit);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            errs.at(
                v.span(),
                path,
                "`${` is never closed (write `${NAME}`, or `$${` for a literal `${`)",
            );
            return None;
        };
        let name = &after[..end];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            errs.at(
                v.span(),
                path,
                "`${…}` must name an environment variable: letters, digits and `_` (write `$${` for a literal `${`)",
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
    if let (Some(u), Some(span)) = (&url, raw.url.as_ref().map(|s| s.span()))
        && let Err(m) = check_url(u)
    {
        errs.at(span, &format!("{path}.url"), m);
    }
    if let (Some(s), Some(span)) = (&client_secret, raw.client_secret.as_ref().map(|s| s.span()))
        && s.is_empty()
    {
        errs.at(
            span,
            &format!("{path}.client_secret"),
            "must not be empty (leave the key out for a public client)",
        );
    }
    if let Some(c) = &raw.client_id
        && client_id.as_deref().is_some_and(|c| c.trim().is_empty())
    {
        errs.at(c.span(), &format!("{path}.client_id"), "must not be empty");
    }
    if let Some(scopes) = &raw.scopes {
        let list = scopes.get_ref();
        if list.iter().any(|s| s.is_empty() || s.contains(' ')) {
            errs.at(
                scopes.span(),
                &format!("{path}.scopes"),
                "scopes must be non-empty and contain no spaces",
            );
        } else if spec.is_some_and(|s| s.protocol == Protocol::Oidc)
            && !list.iter().any(|s| s == "openid")
        {
            errs.at(
                scopes.span(),
                &format!("{path}.scopes"),
                "an OIDC provider's scopes must include `openid`",
            );
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
/// Reported at the `[settings.<id>]` key of this file (`positions`) when it is there.
fn check_duplicate_clients(
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

#[cfg(test)]
mod tests;
