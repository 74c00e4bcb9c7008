//! One request's fields applied to a provider's settings: every field parsed and checked on its
//! own, unknown and read-only fields refused by name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::errors::{FieldError, invalid};
use super::{MAX_SORT_ORDER, MIN_SORT_ORDER};
use crate::config::{
    AdminRules, EmailTrust, Protocol, ProviderSettings, ProviderSpec, Secret, check_url,
};

/// Names of the settings fields the API accepts.
const EDITABLE: [&str; 15] = [
    "enabled",
    "url",
    "internal_url",
    "slug",
    "client_id",
    "client_secret",
    "scopes",
    "auto_register",
    "refresh_tokens",
    "sort_order",
    "icon",
    "email_trust",
    "admin_rules",
    "params",
    "id",
];

/// Fields that responses carry but a request may not set.
const READ_ONLY: [&str; 9] = [
    "name",
    "protocol",
    "origin",
    "custom",
    "client_secret_set",
    "sources",
    "redirect_uri",
    "backchannel_logout_uri",
    "frontchannel_logout_uri",
];

use crate::provider::is_valid_slug;

fn is_valid_icon(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
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
pub(super) fn apply_patch(
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
            "refresh_tokens" => {
                s.refresh_tokens = v
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
            "internal_url" => {
                let u = opt_string(field, v, 2048)?;
                if let Some(u) = &u {
                    crate::config::check_internal_url(u).map_err(|m| invalid(field, m))?;
                }
                s.internal_url = u;
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
        "internal_url" => a.internal_url != b.internal_url,
        "slug" => a.slug != b.slug,
        "client_id" => a.client_id != b.client_id,
        "client_secret" => a.client_secret != b.client_secret,
        "scopes" => a.scopes != b.scopes,
        "auto_register" => a.auto_register != b.auto_register,
        "refresh_tokens" => a.refresh_tokens != b.refresh_tokens,
        "sort_order" => a.sort_order != b.sort_order,
        "icon" => a.icon != b.icon,
        "email_trust" => a.email_trust != b.email_trust,
        "admin_rules" => a.admin_rules != b.admin_rules,
        "params" => a.params != b.params,
        _ => false,
    }
}

pub(super) fn sort_order_of(field: &str, v: &Value) -> Result<i32, FieldError> {
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

#[cfg(test)]
mod tests;
