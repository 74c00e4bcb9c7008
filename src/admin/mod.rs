//! The admin API over provider settings (DESIGN.md §4), the provider check, and the audit of
//! settings changes.
//!
//! Every route lives under `{prefix}/admin/` and answers JSON with `Cache-Control: no-store`:
//!
//! | route | does |
//! |---|---|
//! | `GET /admin/providers` | every provider (built-in and custom) with its effective settings and where each value comes from |
//! | `GET /admin/providers/{id}` | one provider |
//! | `PUT /admin/providers/{id}` | changes some settings: a JSON object of the fields to change |
//! | `POST /admin/providers/{id}/enable`, `/disable` | turns a provider on or off |
//! | `PUT /admin/providers/order` | `[{"id": "...", "sort_order": 1}, ...]`: reorders many at once |
//! | `POST /admin/providers` | stores settings for a custom provider defined in `providers.toml` |
//! | `DELETE /admin/providers/{id}` | removes a custom provider's stored settings |
//! | `POST /admin/providers/{id}/test` | checks discovery, issuer, keys and client credentials ([`check`]) |
//!
//! **Who may call it.** Only a signed-in user whom the [`crate::store::UserStore`] currently
//! marks as admin: signed out gives 401, signed in without the flag 403. The flag is read from
//! the store at every request (not from the session), so an admin revoked at another sign-in or
//! by the app loses access at once. There is no bootstrap bypass: the first admin comes from an
//! admin rule (`[settings.<id>.admin]`) or from the app's user store. Requests that change
//! something must also be same-origin (the `Origin` header, when present, equals the base URL's
//! origin; `Sec-Fetch-Site: cross-site` is refused) and, when they have a body, be
//! `application/json`.
//!
//! **Secrets.** The client secret is write-only: responses say `"client_secret_set": true` or
//! `false`, never the value; the audit event of a change names the changed fields only.
//!
//! **Input.** Unknown fields are refused with a 400 naming the field, never dropped:
//! `{"error": "invalid_input", "field": "url", "message": "..."}`.
//!
//! **Custom providers.** The provider registry is fixed when the layer is built, so a custom
//! provider's *spec* (endpoints, claims) is defined in `providers.toml`; `POST` stores admin
//! settings for such a spec, and `DELETE` removes them again (the provider falls back to its
//! seeded settings, or disabled). Built-in providers cannot be deleted.
//!
//! A change takes effect at the next sign-in, without a restart: the provider's caches are
//! dropped and rebuilt from the new settings.

pub mod check;
#[cfg(feature = "cli")]
pub mod doctor;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::config::{
    AdminRules, EmailTrust, Origin, Protocol, ProviderSettings, ProviderSpec, Secret, check_url,
};
use crate::engine::{OidcEngine, json_response};
use crate::error::Error;
use crate::provider::ResolvedProvider;
use crate::store::{User, UserId};

/// Lowest accepted `sort_order`.
pub const MIN_SORT_ORDER: i32 = -1000;
/// Highest accepted `sort_order`.
pub const MAX_SORT_ORDER: i32 = 1000;

/// The admin API's state inside the engine.
#[derive(Debug, Default)]
pub(crate) struct AdminState {
    /// Refuse to disable or delete the last enabled provider.
    pub keep_one_sign_in_method: bool,
    /// Serialises settings changes of this instance, so a reorder or an update reads and writes
    /// a consistent set.
    pub write_lock: tokio::sync::Mutex<()>,
}

/// A 400 (or 409) naming the offending field.
#[derive(Debug)]
struct FieldError {
    status: StatusCode,
    error: &'static str,
    field: String,
    message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_input",
        field: field.into(),
        message: message.into(),
    }
}

impl FieldError {
    fn response(&self) -> Response<Bytes> {
        json_response(
            self.status,
            &json!({"error": self.error, "field": self.field, "message": self.message}),
        )
    }
}

fn json_error(status: StatusCode, error: &str, message: &str) -> Response<Bytes> {
    json_response(status, &json!({"error": error, "message": message}))
}

fn engine_error(e: &Error) -> Response<Bytes> {
    tracing::warn!(code = %e.code(), detail = %e.detail(), "admin API request failed");
    json_error(e.code().status(), e.code().as_str(), e.code().message())
}

/// Where a provider's spec comes from, as the API names it.
fn origin_name(o: Option<&Origin>) -> &'static str {
    match o {
        Some(Origin::File(_)) => "file",
        _ => "builtin",
    }
}

/// What a provider's settings are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettingsSource {
    /// Stored by the admin API (or the app) in the settings store.
    Store,
    /// Seeded from a `[settings.<id>]` table.
    File,
    /// Neither: the defaults (disabled).
    Default,
}

impl SettingsSource {
    fn name(self) -> &'static str {
        match self {
            SettingsSource::Store => "store",
            SettingsSource::File => "file",
            SettingsSource::Default => "default",
        }
    }
}

/// Names of the settings fields the API accepts.
const EDITABLE: [&str; 13] = [
    "enabled",
    "url",
    "slug",
    "client_id",
    "client_secret",
    "scopes",
    "auto_register",
    "sort_order",
    "icon",
    "email_trust",
    "admin_rules",
    "params",
    "id",
];

/// Fields that responses carry but a request may not set.
const READ_ONLY: [&str; 7] = [
    "name",
    "protocol",
    "origin",
    "custom",
    "client_secret_set",
    "sources",
    "redirect_uri",
];

fn trust_name(t: EmailTrust) -> &'static str {
    match t {
        EmailTrust::VerifiedClaim => "verified_claim",
        EmailTrust::Always => "always",
        EmailTrust::Never => "never",
    }
}

fn is_valid_icon(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Authentik's slugs are `[-a-zA-Z0-9_]+`; the global endpoint names are reserved.
fn is_valid_slug(s: &str) -> bool {
    const RESERVED: [&str; 6] = [
        "authorize",
        "token",
        "device",
        "userinfo",
        "introspect",
        "revoke",
    ];
    (1..=128).contains(&s.len())
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

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// An optional string field: `null` or `""` clear it.
fn opt_string(field: &str, v: &Value, max: usize) -> Result<Option<String>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Ok(None)
            } else if t.len() > max {
                Err(invalid(field, format!("must be at most {max} characters")))
            } else if has_control(t) {
                Err(invalid(field, "must not contain control characters"))
            } else {
                Ok(Some(t.to_owned()))
            }
        }
        _ => Err(invalid(field, "must be a string or null")),
    }
}

fn string_list(
    field: &str,
    v: &Value,
    max_items: usize,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Vec<String>, FieldError> {
    let Value::Array(items) = v else {
        return Err(invalid(field, "must be a list of strings"));
    };
    if items.len() > max_items {
        return Err(invalid(field, format!("at most {max_items} entries")));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(invalid(format!("{field}[{i}]"), "must be a string"));
        };
        let s = s.trim();
        check(s).map_err(|m| invalid(format!("{field}[{i}]"), m))?;
        out.push(s.to_owned());
    }
    Ok(out)
}

/// Applies the fields of `body` to `s`. Returns the names of the fields that changed. `id` is
/// accepted only when `allow_id` (creating a provider).
fn apply_patch(
    spec: &ProviderSpec,
    s: &mut ProviderSettings,
    body: &Map<String, Value>,
    allow_id: bool,
) -> Result<Vec<&'static str>, FieldError> {
    let before = s.clone();
    let mut changed = Vec::new();
    for (key, v) in body {
        let field: &'static str = match EDITABLE.iter().find(|k| **k == key.as_str()) {
            Some(f) => f,
            None if READ_ONLY.contains(&key.as_str()) => {
                return Err(invalid(
                    key.as_str(),
                    format!("`{key}` is read-only and cannot be changed here"),
                ));
            }
            None => {
                let mut name: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
                if name.is_empty() {
                    name = "?".into();
                }
                return Err(invalid(
                    name.clone(),
                    format!(
                        "unknown field `{name}`; the editable fields are {}",
                        EDITABLE[..12].join(", ")
                    ),
                ));
            }
        };
        match field {
            "id" if allow_id => continue,
            "id" => {
                return Err(invalid(
                    "id",
                    "a provider's id cannot be changed (it is part of the redirect URI)",
                ));
            }
            "enabled" => {
                s.enabled = v
                    .as_bool()
                    .ok_or_else(|| invalid(field, "must be true or false"))?;
            }
            "auto_register" => {
                s.auto_register = v
                    .as_bool()
                    .ok_or_else(|| invalid(field, "must be true or false"))?;
            }
            "url" => {
                let u = opt_string(field, v, 2048)?;
                if let Some(u) = &u {
                    let parsed = check_url(u).map_err(|m| invalid(field, m))?;
                    if parsed.query().is_some() {
                        return Err(invalid(field, format!("`{u}` must not have a query")));
                    }
                    if !parsed.username().is_empty() || parsed.password().is_some() {
                        return Err(invalid(field, "the URL must not contain credentials"));
                    }
                }
                s.url = u;
            }
            "slug" => {
                let v = opt_string(field, v, 128)?;
                if let Some(slug) = &v
                    && !is_valid_slug(slug)
                {
                    return Err(invalid(
                        field,
                        format!(
                            "`{slug}` is not an application slug (letters, digits, `-` and `_`; not authorize, token, device, userinfo, introspect or revoke)"
                        ),
                    ));
                }
                s.slug = v;
            }
            "client_id" => s.client_id = opt_string(field, v, 255)?,
            "client_secret" => {
                s.client_secret = match v {
                    Value::Null => None,
                    Value::String(x) if x.trim().is_empty() => {
                        return Err(invalid(
                            field,
                            "must not be empty (send null to remove the secret)",
                        ));
                    }
                    Value::String(x) if x.len() > 1024 => {
                        return Err(invalid(field, "must be at most 1024 characters"));
                    }
                    Value::String(x) if has_control(x) => {
                        return Err(invalid(field, "must not contain control characters"));
                    }
                    Value::String(x) => Some(Secret::new(x.trim())),
                    _ => return Err(invalid(field, "must be a string or null")),
                };
            }
            "scopes" => {
                if v.is_null() {
                    s.scopes = None;
                } else {
                    let scopes = string_list(field, v, 32, |x| {
                        if x.is_empty() || x.len() > 128 || x.chars().any(char::is_whitespace) {
                            Err("a scope is 1-128 characters without spaces".into())
                        } else {
                            Ok(())
                        }
                    })?;
                    if spec.protocol == Protocol::Oidc && !scopes.iter().any(|x| x == "openid") {
                        return Err(invalid(
                            field,
                            "an OpenID Connect provider's scopes must include `openid`",
                        ));
                    }
                    if scopes.is_empty() {
                        return Err(invalid(field, "must name at least one scope (or be null)"));
                    }
                    s.scopes = Some(scopes);
                }
            }
            "sort_order" => {
                s.sort_order = match v {
                    Value::Null => None,
                    _ => Some(sort_order_of(field, v)?),
                };
            }
            "icon" => {
                let icon = opt_string(field, v, 64)?;
                if let Some(i) = &icon
                    && !is_valid_icon(i)
                {
                    return Err(invalid(
                        field,
                        "an icon name is 1-64 letters and digits, e.g. FaShieldAlt",
                    ));
                }
                s.icon = icon;
            }
            "email_trust" => {
                s.email_trust = match v.as_str() {
                    _ if v.is_null() => None,
                    Some("verified_claim") => Some(EmailTrust::VerifiedClaim),
                    Some("always") => Some(EmailTrust::Always),
                    Some("never") => Some(EmailTrust::Never),
                    _ => {
                        return Err(invalid(
                            field,
                            "must be \"verified_claim\", \"always\", \"never\" or null",
                        ));
                    }
                };
            }
            "admin_rules" => s.admin_rules = admin_rules_of(v)?,
            "params" => s.params = params_of(v)?,
            _ => {}
        }
        if field_changed(&before, s, field) && !changed.contains(&field) {
            changed.push(field);
        }
    }
    Ok(changed)
}

fn field_changed(a: &ProviderSettings, b: &ProviderSettings, field: &str) -> bool {
    match field {
        "enabled" => a.enabled != b.enabled,
        "url" => a.url != b.url,
        "slug" => a.slug != b.slug,
        "client_id" => a.client_id != b.client_id,
        "client_secret" => a.client_secret != b.client_secret,
        "scopes" => a.scopes != b.scopes,
        "auto_register" => a.auto_register != b.auto_register,
        "sort_order" => a.sort_order != b.sort_order,
        "icon" => a.icon != b.icon,
        "email_trust" => a.email_trust != b.email_trust,
        "admin_rules" => a.admin_rules != b.admin_rules,
        "params" => a.params != b.params,
        _ => false,
    }
}

fn sort_order_of(field: &str, v: &Value) -> Result<i32, FieldError> {
    v.as_i64()
        .filter(|n| (i64::from(MIN_SORT_ORDER)..=i64::from(MAX_SORT_ORDER)).contains(n))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            invalid(
                field,
                format!("must be a whole number from {MIN_SORT_ORDER} to {MAX_SORT_ORDER}"),
            )
        })
}

fn admin_rules_of(v: &Value) -> Result<AdminRules, FieldError> {
    let Value::Object(m) = v else {
        return Err(invalid(
            "admin_rules",
            "must be an object {\"groups\": [...], \"email_domains\": [...]}",
        ));
    };
    let mut rules = AdminRules::default();
    for (k, v) in m {
        match k.as_str() {
            "groups" => {
                rules.groups = string_list("admin_rules.groups", v, 100, |g| {
                    if g.is_empty() || g.len() > 256 || has_control(g) {
                        Err("a group name is 1-256 characters".into())
                    } else {
                        Ok(())
                    }
                })?;
            }
            "email_domains" => {
                rules.email_domains = string_list("admin_rules.email_domains", v, 100, |d| {
                    let d = d.strip_prefix('@').unwrap_or(d);
                    if is_valid_domain(&d.to_ascii_lowercase()) {
                        Ok(())
                    } else {
                        Err(format!("`{d}` is not a domain name such as example.com"))
                    }
                })?
                .into_iter()
                .map(|d| d.trim_start_matches('@').to_ascii_lowercase())
                .collect();
            }
            other => {
                let name: String = other.chars().filter(|c| !c.is_control()).take(64).collect();
                return Err(invalid(
                    format!("admin_rules.{name}"),
                    format!("unknown field `{name}`; admin rules have groups and email_domains"),
                ));
            }
        }
    }
    Ok(rules)
}

fn params_of(v: &Value) -> Result<BTreeMap<String, String>, FieldError> {
    let Value::Object(m) = v else {
        return Err(invalid("params", "must be an object of strings"));
    };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let ok_key = (1..=32).contains(&k.len())
            && k.as_bytes()[0].is_ascii_lowercase()
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !matches!(k.as_str(), "url" | "slug" | "issuer");
        let name: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
        if !ok_key {
            return Err(invalid(
                format!("params.{name}"),
                "a parameter name is a-z, 0-9 and `_` (not url, slug or issuer: they have their own fields)",
            ));
        }
        match v {
            Value::String(s)
                if !s.trim().is_empty()
                    && s.len() <= 512
                    && !s.chars().any(char::is_whitespace) =>
            {
                out.insert(k.clone(), s.clone());
            }
            _ => {
                return Err(invalid(
                    format!("params.{name}"),
                    "must be a non-empty string without spaces",
                ));
            }
        }
    }
    Ok(out)
}

/// Whole-settings checks: an enabled provider must be usable.
fn validate_settings(spec: &ProviderSpec, s: &ProviderSettings) -> Result<(), FieldError> {
    if !s.enabled {
        return Ok(());
    }
    if s.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(invalid(
            "client_id",
            "a client ID is needed to enable this provider (Authentik: Protocol Settings → Client ID)",
        ));
    }
    if let Err(e) = ResolvedProvider::resolve(spec, s) {
        let detail = e.detail();
        let field = if detail.contains("slug") {
            "slug"
        } else if detail.contains("client id") {
            "client_id"
        } else {
            "url"
        };
        let message = detail
            .strip_prefix(&format!("provider `{}`: ", spec.id))
            .unwrap_or(detail);
        let message = if message == "no provider URL is set" {
            "a provider URL is needed to enable this provider (Authentik: the instance URL, e.g. https://auth.example.com)".to_owned()
        } else {
            message.to_owned()
        };
        return Err(invalid(field, message));
    }
    Ok(())
}

/// Two providers of one kind with the same URL and client id would make identities ambiguous.
fn check_duplicate_client(
    id: &str,
    spec: &ProviderSpec,
    s: &ProviderSettings,
    all: &[(ProviderSpec, ProviderSettings)],
) -> Result<(), FieldError> {
    let (Some(url), Some(client)) = (&s.url, &s.client_id) else {
        return Ok(());
    };
    let key = |sp: &ProviderSpec| sp.issuer.as_ref().map(|t| t.as_str().to_owned());
    let norm = |u: &str| u.trim_end_matches('/').to_owned();
    for (other_spec, other) in all {
        if other_spec.id == id {
            continue;
        }
        if key(other_spec) == key(spec)
            && other.url.as_deref().map(norm) == Some(norm(url))
            && other.client_id.as_deref() == Some(client.as_str())
        {
            return Err(invalid(
                "client_id",
                format!(
                    "provider `{}` already uses this URL and client ID: identities would be ambiguous",
                    other_spec.id
                ),
            ));
        }
    }
    Ok(())
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Option<Value>, FieldError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_json = ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(FieldError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: "invalid_input",
            field: String::new(),
            message: "send the body as application/json".into(),
        });
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| invalid("", format!("the body is not valid JSON ({e})")))
}

fn object_body(v: Option<Value>) -> Result<Map<String, Value>, FieldError> {
    match v {
        Some(Value::Object(m)) => Ok(m),
        None => Err(invalid("", "send a JSON object with the fields to change")),
        Some(_) => Err(invalid("", "the body must be a JSON object")),
    }
}

/// One provider as the admin API shows it.
struct Row {
    spec: ProviderSpec,
    settings: ProviderSettings,
    source: SettingsSource,
}

impl OidcEngine {
    /// Answers `{prefix}/admin/...`: `rest` are the path segments after `admin`.
    pub(crate) async fn admin(
        &self,
        method: &Method,
        rest: &[&str],
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Response<Bytes> {
        let mutating = !matches!(*method, Method::GET | Method::HEAD);
        let admin = match self.admin_guard(headers, mutating).await {
            Ok(u) => u,
            Err(r) => return r,
        };
        let parsed = if mutating {
            match parse_body(headers, body) {
                Ok(v) => v,
                Err(e) => return e.response(),
            }
        } else {
            None
        };
        let result = match (method.clone(), rest) {
            (Method::GET, ["providers"]) => self.admin_list().await,
            (Method::POST, ["providers"]) => self.admin_create(&admin.id, parsed).await,
            (Method::PUT, ["providers", "order"]) => self.admin_reorder(&admin.id, parsed).await,
            (Method::GET, ["providers", id]) => self.admin_get(id).await,
            (Method::PUT, ["providers", id]) => self.admin_update(&admin.id, id, parsed).await,
            (Method::DELETE, ["providers", id]) => self.admin_delete(&admin.id, id).await,
            (Method::POST, ["providers", id, "enable"]) => {
                self.admin_set_enabled(&admin.id, id, true).await
            }
            (Method::POST, ["providers", id, "disable"]) => {
                self.admin_set_enabled(&admin.id, id, false).await
            }
            (Method::POST, ["providers", id, "test"]) => self.admin_test(id, parsed).await,
            (
                _,
                ["providers"] | ["providers", _] | ["providers", _, "enable" | "disable" | "test"],
            ) => Ok(json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed.",
            )),
            _ => Ok(json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such admin route.",
            )),
        };
        match result {
            Ok(r) => r,
            Err(AdminError::Field(e)) => e.response(),
            Err(AdminError::Engine(e)) => engine_error(&e),
        }
    }

    /// The signed-in admin, or the 401/403 response.
    pub(crate) async fn admin_guard(
        &self,
        headers: &HeaderMap,
        mutating: bool,
    ) -> Result<User, Response<Bytes>> {
        let auth = self
            .authenticate(headers)
            .await
            .map_err(|e| engine_error(&e))?;
        let Some(session_user) = auth.user() else {
            return Err(json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in as an administrator to continue.",
            ));
        };
        // The store's current flag, not the session's copy from sign-in time.
        let current = self
            .flow
            .users
            .get(&session_user.id)
            .await
            .map_err(|e| engine_error(&e.into()))?;
        let Some(user) = current.filter(|u| u.is_admin) else {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only administrators may do this.",
            ));
        };
        if mutating && !self.same_origin(headers) {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Cross-site request refused.",
            ));
        }
        Ok(user)
    }

    async fn rows(&self) -> Result<Vec<Row>, Error> {
        let reg = &self.flow.registry;
        let stored: HashMap<String, ProviderSettings> =
            reg.settings.list().await?.into_iter().collect();
        let seeds = reg.providers.seeded_settings();
        Ok(reg
            .providers
            .iter()
            .map(|spec| {
                let (settings, source) = match (stored.get(&spec.id), seeds.get(&spec.id)) {
                    (Some(s), _) => (s.clone(), SettingsSource::Store),
                    (None, Some(s)) => (s.clone(), SettingsSource::File),
                    (None, None) => (ProviderSettings::default(), SettingsSource::Default),
                };
                Row {
                    spec: spec.clone(),
                    settings,
                    source,
                }
            })
            .collect())
    }

    async fn row(&self, id: &str) -> Result<Row, AdminError> {
        self.rows()
            .await?
            .into_iter()
            .find(|r| r.spec.id == id)
            .ok_or_else(|| {
                AdminError::Engine(Error::new(
                    crate::ErrorCode::ProviderUnknown,
                    "no provider with that id",
                ))
            })
    }

    fn view(&self, row: &Row) -> Value {
        let spec = &row.spec;
        let s = &row.settings;
        let spec_origin = origin_name(self.flow.registry.providers.origin(&spec.id));
        let src = row.source.name();
        let set_or = |set: bool, fallback: Option<&'static str>| -> Value {
            if set {
                json!(src)
            } else {
                fallback.map_or(Value::Null, |f| json!(f))
            }
        };
        let url = s.url.clone().or_else(|| spec.default_url.clone());
        json!({
            "id": spec.id,
            "name": spec.name,
            "protocol": match spec.protocol { Protocol::Oidc => "oidc", Protocol::Oauth2 => "oauth2" },
            "origin": spec_origin,
            "custom": spec_origin != "builtin",
            "enabled": s.enabled,
            "url": url,
            "slug": s.slug,
            "client_id": s.client_id,
            "client_secret_set": s.client_secret.as_ref().is_some_and(|x| !x.is_empty()),
            "scopes": s.scopes.clone().unwrap_or_else(|| spec.scopes.clone()),
            "auto_register": s.auto_register,
            "sort_order": s.sort_order.unwrap_or(spec.sort_order),
            "icon": s.icon.clone().or_else(|| spec.icon.clone()),
            "email_trust": trust_name(s.email_trust.unwrap_or(spec.email_trust)),
            "admin_rules": {"groups": s.admin_rules.groups, "email_domains": s.admin_rules.email_domains},
            "params": s.params,
            "redirect_uri": self.redirect_uri(&spec.id),
            "sources": {
                "enabled": src,
                "auto_register": src,
                "url": set_or(s.url.is_some(), spec.default_url.as_ref().map(|_| spec_origin)),
                "slug": set_or(s.slug.is_some(), None),
                "client_id": set_or(s.client_id.is_some(), None),
                "client_secret": set_or(s.client_secret.is_some(), None),
                "scopes": set_or(s.scopes.is_some(), Some(spec_origin)),
                "sort_order": set_or(s.sort_order.is_some(), Some(spec_origin)),
                "icon": set_or(s.icon.is_some(), spec.icon.as_ref().map(|_| spec_origin)),
                "email_trust": set_or(s.email_trust.is_some(), Some(spec_origin)),
                "admin_rules": set_or(!s.admin_rules.is_empty(), None),
                "params": set_or(!s.params.is_empty(), None),
            },
        })
    }

    /// Every provider as the admin API shows it, in login-page order.
    pub(crate) async fn admin_views(&self) -> Result<Vec<Value>, Error> {
        let mut rows = self.rows().await?;
        rows.sort_by(|a, b| {
            let key = |r: &Row| {
                (
                    r.settings.sort_order.unwrap_or(r.spec.sort_order),
                    r.spec.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(rows.iter().map(|r| self.view(r)).collect())
    }

    async fn admin_list(&self) -> Result<Response<Bytes>, AdminError> {
        let list = self.admin_views().await?;
        Ok(json_response(StatusCode::OK, &Value::Array(list)))
    }

    async fn admin_get(&self, id: &str) -> Result<Response<Bytes>, AdminError> {
        let row = self.row(id).await?;
        Ok(json_response(StatusCode::OK, &self.view(&row)))
    }

    /// Refuses a change that would leave no provider enabled, when the app asked for that.
    fn keep_one(&self, rows: &[Row], id: &str, after: &ProviderSettings) -> Result<(), FieldError> {
        if !self.admin.keep_one_sign_in_method {
            return Ok(());
        }
        let before = rows.iter().filter(|r| r.settings.enabled).count();
        let after_count = rows
            .iter()
            .filter(|r| {
                if r.spec.id == id {
                    after.enabled
                } else {
                    r.settings.enabled
                }
            })
            .count();
        if before > 0 && after_count == 0 {
            return Err(FieldError {
                status: StatusCode::CONFLICT,
                error: "last_sign_in_method",
                field: "enabled".into(),
                message: "This is the last enabled sign-in method: enable another one first, or nobody could sign in.".into(),
            });
        }
        Ok(())
    }

    /// Validates and stores new settings for `id`, drops its caches, and audits the change.
    async fn save(
        &self,
        by: &UserId,
        rows: &[Row],
        row: &Row,
        new: ProviderSettings,
        changed: &[&'static str],
        action: &'static str,
    ) -> Result<Response<Bytes>, AdminError> {
        validate_settings(&row.spec, &new)?;
        let all: Vec<(ProviderSpec, ProviderSettings)> = rows
            .iter()
            .map(|r| (r.spec.clone(), r.settings.clone()))
            .collect();
        check_duplicate_client(&row.spec.id, &row.spec, &new, &all)?;
        self.keep_one(rows, &row.spec.id, &new)?;
        let reg = &self.flow.registry;
        reg.settings
            .put(&row.spec.id, &new)
            .await
            .map_err(|e| AdminError::Engine(e.into()))?;
        reg.invalidate(Some(&row.spec.id));
        audit_change(by, &row.spec.id, action, changed);
        let saved = Row {
            spec: row.spec.clone(),
            settings: new,
            source: SettingsSource::Store,
        };
        Ok(json_response(StatusCode::OK, &self.view(&saved)))
    }

    async fn admin_update(
        &self,
        by: &UserId,
        id: &str,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let body = object_body(body)?;
        let _guard = self.admin.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        let mut new = row.settings.clone();
        let changed = apply_patch(&row.spec, &mut new, &body, false)?;
        self.save(by, &rows, row, new, &changed, "update").await
    }

    async fn admin_set_enabled(
        &self,
        by: &UserId,
        id: &str,
        enabled: bool,
    ) -> Result<Response<Bytes>, AdminError> {
        let _guard = self.admin.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        let mut new = row.settings.clone();
        new.enabled = enabled;
        let changed: &[&'static str] = if row.settings.enabled == enabled {
            &[]
        } else {
            &["enabled"]
        };
        self.save(
            by,
            &rows,
            row,
            new,
            changed,
            if enabled { "enable" } else { "disable" },
        )
        .await
    }

    async fn admin_create(
        &self,
        by: &UserId,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let body = object_body(body)?;
        let id = match body.get("id") {
            Some(Value::String(s)) if crate::config::is_valid_provider_id(s) => s.clone(),
            Some(Value::String(_)) => {
                return Err(invalid(
                    "id",
                    "a provider id is 1-64 characters of a-z, 0-9, `-` and `_`",
                )
                .into());
            }
            _ => return Err(invalid("id", "the provider id is required").into()),
        };
        let _guard = self.admin.write_lock.lock().await;
        let rows = self.rows().await?;
        let Some(row) = rows.iter().find(|r| r.spec.id == id) else {
            return Err(invalid(
                "id",
                format!(
                    "no provider `{id}` is defined: a custom provider's endpoints and claims are defined in providers.toml ([providers.{id}]), and its settings are then created here"
                ),
            )
            .into());
        };
        if !matches!(
            self.flow.registry.providers.origin(&id),
            Some(Origin::File(_))
        ) {
            return Err(invalid(
                "id",
                format!("`{id}` is a built-in provider: change its settings with PUT /admin/providers/{id}"),
            )
            .into());
        }
        if row.source == SettingsSource::Store {
            return Err(FieldError {
                status: StatusCode::CONFLICT,
                error: "already_exists",
                field: "id".into(),
                message: format!("provider `{id}` already has settings: change them with PUT"),
            }
            .into());
        }
        let mut new = row.settings.clone();
        let mut changed = apply_patch(&row.spec, &mut new, &body, true)?;
        if !changed.contains(&"enabled") {
            changed.insert(0, "enabled");
        }
        let mut r = self.save(by, &rows, row, new, &changed, "create").await?;
        *r.status_mut() = StatusCode::CREATED;
        Ok(r)
    }

    async fn admin_delete(&self, by: &UserId, id: &str) -> Result<Response<Bytes>, AdminError> {
        let _guard = self.admin.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        if !matches!(
            self.flow.registry.providers.origin(id),
            Some(Origin::File(_))
        ) {
            return Err(invalid(
                "id",
                "Built-in providers cannot be deleted: disable it instead.",
            )
            .into());
        }
        if row.source != SettingsSource::Store {
            return Err(AdminError::Engine(Error::new(
                crate::ErrorCode::ProviderUnknown,
                "the provider has no stored settings to delete",
            )));
        }
        let after = self
            .flow
            .registry
            .providers
            .seeded_settings()
            .get(id)
            .cloned()
            .unwrap_or_default();
        self.keep_one(&rows, id, &after)?;
        let reg = &self.flow.registry;
        reg.settings
            .delete(id)
            .await
            .map_err(|e| AdminError::Engine(e.into()))?;
        reg.invalidate(Some(id));
        audit_change(by, id, "delete", &[]);
        Ok(json_response(
            StatusCode::OK,
            &json!({"deleted": id, "message": "The stored settings were removed; the provider is back to its providers.toml settings (or disabled)."}),
        ))
    }

    async fn admin_reorder(
        &self,
        by: &UserId,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let items = match body {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(invalid(
                    "",
                    "send a JSON list: [{\"id\": \"authentik\", \"sort_order\": 1}, ...]",
                )
                .into());
            }
        };
        if items.len() > 256 {
            return Err(invalid("", "at most 256 entries").into());
        }
        let _guard = self.admin.write_lock.lock().await;
        let rows = self.rows().await?;
        // Validate everything before writing anything.
        let mut wanted: Vec<(usize, i32)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                return Err(invalid(
                    format!("[{i}]"),
                    "must be an object {\"id\", \"sort_order\"}",
                )
                .into());
            };
            if let Some(k) = m.keys().find(|k| *k != "id" && *k != "sort_order") {
                let name: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
                return Err(invalid(
                    format!("[{i}].{name}"),
                    format!("unknown field `{name}`; each entry has id and sort_order"),
                )
                .into());
            }
            let id = m.get("id").and_then(Value::as_str).unwrap_or("");
            let Some(idx) = rows.iter().position(|r| r.spec.id == id) else {
                return Err(invalid(format!("[{i}].id"), "no provider with that id").into());
            };
            if wanted.iter().any(|(j, _)| *j == idx) {
                return Err(invalid(format!("[{i}].id"), "the provider is listed twice").into());
            }
            let order = sort_order_of(
                &format!("[{i}].sort_order"),
                m.get("sort_order").unwrap_or(&Value::Null),
            )?;
            wanted.push((idx, order));
        }
        let reg = &self.flow.registry;
        let mut written: Vec<usize> = Vec::new();
        let mut changed_ids = Vec::new();
        for (idx, order) in &wanted {
            let row = &rows[*idx];
            if row.settings.sort_order == Some(*order) && row.source == SettingsSource::Store {
                continue;
            }
            let mut new = row.settings.clone();
            new.sort_order = Some(*order);
            if let Err(e) = reg.settings.put(&row.spec.id, &new).await {
                // Put back what was there, so the API's view stays all-or-nothing.
                for j in written {
                    let r = &rows[j];
                    let undo = match r.source {
                        SettingsSource::Store => reg.settings.put(&r.spec.id, &r.settings).await,
                        _ => reg.settings.delete(&r.spec.id).await,
                    };
                    if let Err(u) = undo {
                        tracing::error!(provider = %r.spec.id, error = %u, "could not undo a partial reorder");
                    }
                    reg.invalidate(Some(&r.spec.id));
                }
                return Err(AdminError::Engine(e.into()));
            }
            written.push(*idx);
            reg.invalidate(Some(&row.spec.id));
            changed_ids.push(row.spec.id.clone());
        }
        if !changed_ids.is_empty() {
            tracing::info!(
                target: "tower_oidc::audit",
                event = "settings_changed",
                action = "reorder",
                by = %by,
                providers = ?changed_ids,
                fields = ?["sort_order"],
                "provider order changed"
            );
        }
        drop(_guard);
        self.admin_list().await
    }

    async fn admin_test(
        &self,
        id: &str,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let row = self.row(id).await?;
        let mut settings = row.settings.clone();
        // A body tests candidate settings before they are saved.
        if let Some(Value::Object(m)) = &body {
            apply_patch(&row.spec, &mut settings, m, false)?;
        } else if body.is_some() {
            return Err(invalid("", "the body must be a JSON object (or empty)").into());
        }
        let report = check::run(
            &self.flow.registry.http,
            &row.spec,
            &settings,
            &self.redirect_uri(id),
        )
        .await;
        Ok(json_response(StatusCode::OK, &report.to_json()))
    }
}

fn find<'a>(rows: &'a [Row], id: &str) -> Result<&'a Row, AdminError> {
    rows.iter().find(|r| r.spec.id == id).ok_or_else(|| {
        AdminError::Engine(Error::new(
            crate::ErrorCode::ProviderUnknown,
            "no provider with that id",
        ))
    })
}

/// The audit event of a settings change: who, which provider, which fields — never values.
fn audit_change(by: &UserId, provider: &str, action: &'static str, fields: &[&'static str]) {
    tracing::info!(
        target: "tower_oidc::audit",
        event = "settings_changed",
        action,
        by = %by,
        provider,
        fields = ?fields,
        "provider settings changed"
    );
}

enum AdminError {
    Field(FieldError),
    Engine(Error),
}

impl From<FieldError> for AdminError {
    fn from(e: FieldError) -> Self {
        AdminError::Field(e)
    }
}

impl From<Error> for AdminError {
    fn from(e: Error) -> Self {
        AdminError::Engine(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Providers;

    fn authentik() -> ProviderSpec {
        Providers::builtin().get("authentik").cloned().unwrap()
    }

    fn patch(v: Value) -> Result<(ProviderSettings, Vec<&'static str>), FieldError> {
        let mut s = ProviderSettings::default();
        let m = v.as_object().cloned().unwrap();
        apply_patch(&authentik(), &mut s, &m, false).map(|c| (s, c))
    }

    #[test]
    fn every_field_is_validated_and_named() {
        for (body, field) in [
            (json!({"url": "ftp://x"}), "url"),
            (json!({"url": "http://auth.example.com"}), "url"),
            (json!({"scopes": ["profile"]}), "scopes"),
            (json!({"sort_order": 100000}), "sort_order"),
            (json!({"icon": "<b>"}), "icon"),
            (json!({"email_trust": "sometimes"}), "email_trust"),
            (
                json!({"admin_rules": {"groups": [""]}}),
                "admin_rules.groups[0]",
            ),
            (json!({"admin_rules": {"roles": []}}), "admin_rules.roles"),
            (
                json!({"admin_rules": {"email_domains": ["not a domain"]}}),
                "admin_rules.email_domains[0]",
            ),
            (json!({"slug": "token"}), "slug"),
            (json!({"enabled": "yes"}), "enabled"),
            (json!({"client_secret": ""}), "client_secret"),
            (json!({"name": "x"}), "name"),
            (json!({"issuerUrl": "https://x"}), "issuerUrl"),
            (json!({"params": {"url": "x"}}), "params.url"),
        ] {
            let e = patch(body.clone()).unwrap_err();
            assert_eq!(e.field, field, "{body}: {}", e.message);
        }
        let (s, changed) = patch(json!({
            "url": "https://auth.example.com", "sort_order": 3, "icon": "FaKey",
            "admin_rules": {"email_domains": ["@Example.COM"]}, "client_secret": "x"
        }))
        .unwrap();
        assert_eq!(s.admin_rules.email_domains, vec!["example.com"]);
        assert_eq!(changed.len(), 5);
    }
}
