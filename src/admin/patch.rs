//! One request's fields applied to a provider's settings: every field parsed and checked on its
//! own, unknown and read-only fields refused by name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::errors::{FieldError, invalid};
use super::{MAX_SORT_ORDER, MIN_SORT_ORDER};
use crate::config::{
    AdminRules, EmailTrust, ProviderSettings, ProviderSpec, Secret, settings_errors,
};

/// Names of the settings fields the API accepts.
const EDITABLE: [&str; 17] = [
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
    "par",
    "admin_rules",
    "params",
    "allowed_tenants",
    "id",
];

/// Fields that responses carry but a request may not set.
const READ_ONLY: [&str; 10] = [
    "name",
    "protocol",
    "origin",
    "custom",
    "client_secret_set",
    "sources",
    "redirect_uri",
    "backchannel_logout_uri",
    "frontchannel_logout_uri",
    "multi_tenant",
];

/// An optional string field: `null` or `""` clear it. Its value is checked with the others by
/// [`settings_errors`].
fn opt_string(field: &str, v: &Value) -> Result<Option<String>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        _ => Err(invalid(field, "must be a string or null")),
    }
}

/// A list of strings, each trimmed. At most 256 entries (a bound on the request; the rules'
/// own limits are lower).
fn string_list(field: &str, v: &Value) -> Result<Vec<String>, FieldError> {
    let Value::Array(items) = v else {
        return Err(invalid(field, "must be a list of strings"));
    };
    if items.len() > 256 {
        return Err(invalid(field, "at most 256 entries"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(invalid(format!("{field}[{i}]"), "must be a string"));
        };
        out.push(s.trim().to_owned());
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
            "url" => s.url = opt_string(field, v)?,
            "internal_url" => s.internal_url = opt_string(field, v)?,
            "slug" => s.slug = opt_string(field, v)?,
            "client_id" => s.client_id = opt_string(field, v)?,
            "client_secret" => {
                s.client_secret = match v {
                    Value::Null => None,
                    Value::String(x) => Some(Secret::new(x.trim())),
                    _ => return Err(invalid(field, "must be a string or null")),
                };
            }
            "scopes" if v.is_null() => s.scopes = None,
            "scopes" => s.scopes = Some(string_list(field, v)?),
            "sort_order" => {
                s.sort_order = match v {
                    Value::Null => None,
                    _ => Some(sort_order_of(field, v)?),
                };
            }
            "icon" => s.icon = opt_string(field, v)?,
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
            "par" => {
                s.par = match v {
                    Value::Null => None,
                    Value::Bool(b) => Some(*b),
                    _ => return Err(invalid(field, "must be true, false or null")),
                };
            }
            "admin_rules" => s.admin_rules = admin_rules_of(v)?,
            "params" => s.params = params_of(v)?,
            "allowed_tenants" if v.is_null() => s.allowed_tenants = Vec::new(),
            "allowed_tenants" => s.allowed_tenants = string_list(field, v)?,
            _ => {}
        }
        if field_changed(&before, s, field) && !changed.contains(&field) {
            changed.push(field);
        }
    }
    // The values are checked by the rules a `[settings.<id>]` table obeys, with its messages.
    if let Some(e) = settings_errors(s, Some(spec.protocol)).into_iter().next() {
        let field = match e.field.strip_prefix("admin.") {
            Some(rest) => format!("admin_rules.{rest}"),
            None => e.field,
        };
        return Err(invalid(field, e.message));
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
        "par" => a.par != b.par,
        "admin_rules" => a.admin_rules != b.admin_rules,
        "params" => a.params != b.params,
        "allowed_tenants" => a.allowed_tenants != b.allowed_tenants,
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
            "groups" => rules.groups = string_list("admin_rules.groups", v)?,
            "email_domains" => {
                rules.email_domains = string_list("admin_rules.email_domains", v)?
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
        let Value::String(s) = v else {
            let name: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
            return Err(invalid(
                format!("params.{name}"),
                "must be a non-empty string without spaces",
            ));
        };
        out.insert(k.clone(), s.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
