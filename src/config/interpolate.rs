//! `${ENV}` references in `[settings.<id>]` values: resolving them, and telling which fields
//! used them.

use std::collections::BTreeSet;

use super::error::Errs;
use super::raw::{RawSettings, S};

pub(super) fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
pub(super) fn env_fields(raw: &RawSettings) -> BTreeSet<&'static str> {
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
pub(super) fn interpolate(
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
