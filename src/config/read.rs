//! Reading a parsed `providers.toml` tree into the [`super::raw`] types.
//!
//! A file is read in two steps so that one mistake does not hide the others:
//! 1. [`toml::de::DeTable::parse_recoverable`] turns the text into a tree of spanned keys and
//!    values, reporting every syntax error it can recover from.
//! 2. [`read_document`] walks that tree itself: each `[providers.<id>]` and `[settings.<id>]`
//!    table is deserialized on its own (through `serde_path_to_error`, for the key path), after
//!    every unknown key of the table has been reported at the key's own position. serde alone
//!    would stop at the first unknown key of the whole file, and `serde_path_to_error` cannot
//!    name a map key that is a `Spanned<String>` (it prints `?`), so the ids are handled here.

use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::raw::{
    RawAdmin, RawBearer, RawClaims, RawFile, RawMultiTenant, RawSettings, RawSpec, S,
};

/// An error found while reading the TOML tree: where (a byte span of the text, if known), the
/// key path, and the message.
#[derive(Debug, Clone)]
pub(crate) struct RawError {
    pub span: Option<Range<usize>>,
    pub path: String,
    pub message: String,
}

/// The field names a derived `Deserialize` struct accepts, read from the `fields` argument it
/// passes to `deserialize_struct` (so the lists cannot drift from the structs).
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Grab<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Grab<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Grab(&mut fields));
    fields
}

/// A key as it appears in a key path: bare when TOML allows it bare, quoted otherwise (so
/// `[providers."a/b"]` is reported as `providers."a/b"`).
pub(crate) fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        key.to_owned()
    } else {
        let mut out = String::with_capacity(key.len() + 2);
        out.push('"');
        for c in key.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

/// `parent.key`, or `key` at the top.
pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key_segment(key)
    } else {
        format!("{parent}.{}", key_segment(key))
    }
}

/// Levenshtein distance, for "did you mean" hints on short key names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The message for an unknown key: its name, the closest known key, and the known keys.
fn unknown_key_message(key: &str, known: &[&str]) -> String {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let best = known
        .iter()
        .map(|k| (distance(key, k), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 4));
    match best {
        Some((_, k)) => format!(
            "unknown key `{}`; did you mean `{k}`? (expected one of {list})",
            key.escape_debug()
        ),
        None => format!(
            "unknown key `{}` (expected one of {list})",
            key.escape_debug()
        ),
    }
}

/// Reports every key of `table` not in `known` (at the key) and removes it.
fn drop_unknown_keys(
    table: &mut DeTable<'_>,
    known: &[&str],
    path: &str,
    errs: &mut Vec<RawError>,
) {
    for (k, _) in table.iter() {
        if !known.contains(&k.get_ref().as_ref()) {
            errs.push(RawError {
                span: Some(k.span()),
                path: join_path(path, k.get_ref()),
                message: unknown_key_message(k.get_ref(), known),
            });
        }
    }
    *table = std::mem::take(table)
        .into_iter()
        .filter(|(k, _)| known.contains(&k.get_ref().as_ref()))
        .collect();
}

/// Whether values under this path may be secrets (their text must not reach a message).
pub(crate) fn is_secret_path(path: &str) -> bool {
    path.starts_with("settings.") && (path.ends_with(".client_secret") || path.contains(".params."))
}

/// Turns serde's wording into the DSL's (`struct RawClaims` → `a table`, `i32` → `an integer`),
/// and drops the offending value from messages about secret-bearing keys.
fn tidy_message(message: &str, path: &str) -> String {
    let mut m = message.to_owned();
    for (from, to) in [
        ("struct RawSpec", "a table"),
        ("struct RawClaims", "a table"),
        ("struct RawBearer", "a table"),
        ("struct RawMultiTenant", "a table"),
        ("struct RawSettings", "a table"),
        ("struct RawAdmin", "a table"),
        ("expected i32", "expected an integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(from, to);
    }
    if is_secret_path(path) {
        if let Some(i) = m.find("expected ") {
            return format!("wrong type (value not shown), {}", &m[i..]);
        }
        return "invalid value (not shown: it may be a secret)".to_owned();
    }
    m
}

/// Deserializes one table into `T`, reporting unknown keys first. `nested` names sub-tables and
/// the keys they accept (`claims`, `admin`), checked the same way.
fn read_table<'de, T: Deserialize<'de>>(
    key_span: Range<usize>,
    mut value: Spanned<DeValue<'de>>,
    path: &str,
    nested: &[(&str, &'static [&'static str])],
    errs: &mut Vec<RawError>,
) -> Option<T> {
    let span = value.span();
    let DeValue::Table(table) = value.get_mut() else {
        errs.push(RawError {
            span: Some(span),
            path: path.to_owned(),
            message: format!(
                "expected a table (`[{path}]`), found {}",
                value.get_ref().type_str()
            ),
        });
        return None;
    };
    drop_unknown_keys(table, fields_of::<T>(), path, errs);
    for (key, known) in nested {
        let sub = table
            .iter_mut()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v);
        if let Some(v) = sub
            && let DeValue::Table(t) = v.get_mut()
        {
            drop_unknown_keys(t, known, &join_path(path, key), errs);
        }
    }
    match serde_path_to_error::deserialize::<_, T>(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(e) => {
            let rel = e
                .path()
                .to_string()
                .replace(".$__serde_spanned_private_value", "")
                .replace("$__serde_spanned_private_value", "");
            let full = match rel.as_str() {
                "" | "." => path.to_owned(),
                r => format!("{path}.{}", r.trim_start_matches('.')),
            };
            let inner = e.into_inner();
            errs.push(RawError {
                span: Some(inner.span().unwrap_or(key_span)),
                message: tidy_message(inner.message(), &full),
                path: full,
            });
            None
        }
    }
}

/// Reads a parsed document into a [`RawFile`], collecting every error it can find.
pub(crate) fn read_document(doc: DeTable<'_>) -> (RawFile, Vec<RawError>) {
    let mut file = RawFile::default();
    let mut errs = Vec::new();
    let top = fields_of::<RawFile>();
    for (key, value) in doc {
        let section = key.get_ref().as_ref();
        if !top.contains(&section) {
            errs.push(RawError {
                span: Some(key.span()),
                path: key_segment(section),
                message: unknown_key_message(section, top),
            });
            continue;
        }
        let span = value.span();
        let DeValue::Table(entries) = value.into_inner() else {
            errs.push(RawError {
                span: Some(span),
                path: section.to_owned(),
                message: format!("expected a table of `[{section}.<id>]` tables"),
            });
            continue;
        };
        for (id, v) in entries {
            let path = join_path(section, id.get_ref());
            let id_span = id.span();
            let id_s = S::new(id_span.clone(), id.into_inner().into_owned());
            if section == "providers" {
                let nested = [
                    ("claims", fields_of::<RawClaims>()),
                    ("bearer", fields_of::<RawBearer>()),
                    ("multi_tenant", fields_of::<RawMultiTenant>()),
                ];
                match read_table::<RawSpec>(id_span, v, &path, &nested, &mut errs) {
                    Some(spec) => {
                        file.providers.insert(id_s, spec);
                    }
                    None => file.unreadable.push(id_s.into_inner()),
                }
            } else {
                let admin = fields_of::<RawAdmin>();
                if let Some(s) =
                    read_table::<RawSettings>(id_span, v, &path, &[("admin", admin)], &mut errs)
                {
                    file.settings.insert(id_s, s);
                }
            }
        }
    }
    (file, errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_the_derived_structs() {
        assert_eq!(fields_of::<RawFile>(), ["providers", "settings"]);
        assert_eq!(fields_of::<RawAdmin>(), ["groups", "email_domains"]);
        assert!(fields_of::<RawSpec>().contains(&"issuer"));
        assert!(fields_of::<RawSettings>().contains(&"client_secret"));
        assert_eq!(fields_of::<RawClaims>().len(), 10);
    }

    #[test]
    fn key_segments_quote_what_toml_would() {
        assert_eq!(key_segment("authentik"), "authentik");
        assert_eq!(key_segment("a/b"), "\"a/b\"");
        assert_eq!(key_segment(""), "\"\"");
        assert_eq!(key_segment("a\"b"), "\"a\\\"b\"");
        assert_eq!(join_path("providers", "a.b"), "providers.\"a.b\"");
    }

    #[test]
    fn unknown_keys_get_a_close_suggestion_only() {
        let known = ["issuer", "client_secret", "name"];
        assert!(unknown_key_message("isuer", &known).contains("did you mean `issuer`?"));
        assert!(unknown_key_message("client_secert", &known).contains("`client_secret`?"));
        assert!(!unknown_key_message("colour", &known).contains("did you mean"));
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn secret_paths_hide_values() {
        assert!(is_secret_path("settings.x.client_secret"));
        assert!(is_secret_path("settings.x.params.token"));
        assert!(!is_secret_path("providers.x.sort_order"));
        let m = tidy_message(
            "invalid type: integer `12345`, expected a string",
            "settings.x.client_secret",
        );
        assert_eq!(m, "wrong type (value not shown), expected a string");
        assert_eq!(
            tidy_message(
                "invalid type: string \"x\", expected i32",
                "providers.x.sort_order"
            ),
            "invalid type: string \"x\", expected an integer"
        );
    }
}
