//! The pages' languages: the message catalogs (`src/ui/i18n/*.toml`, compiled in, parsed once)
//! and the choice of one per request, from `Accept-Language` or as the app decides.
//!
//! The JSON API never goes through here: its `message`s stay the stable English ones of
//! [`ErrorCode::message`](crate::ErrorCode::message).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use http::HeaderMap;
use minijinja::Value;

/// The languages of the built-in catalogs (BCP 47 tags), English first.
pub const LANGUAGES: [&str; 7] = ["en", "de", "fr", "es", "pt-BR", "zh-CN", "ja"];

/// The catalogs' sources, in the order of [`LANGUAGES`].
const SOURCES: [&str; 7] = [
    include_str!("i18n/en.toml"),
    include_str!("i18n/de.toml"),
    include_str!("i18n/fr.toml"),
    include_str!("i18n/es.toml"),
    include_str!("i18n/pt-BR.toml"),
    include_str!("i18n/zh-CN.toml"),
    include_str!("i18n/ja.toml"),
];

/// Most `Accept-Language` entries looked at (the rest of a longer header is ignored).
const MAX_ENTRIES: usize = 32;

/// One language's messages: the tree the templates see as `t`, and the same flattened to
/// dotted keys.
pub(crate) struct Catalog {
    /// The language's tag, as in [`LANGUAGES`].
    pub(crate) tag: &'static str,
    /// The messages as the templates see them (`t.login.title`); English fills any gap.
    pub(crate) tree: Value,
    /// `login.title` → text, as written in this language's file.
    pub(crate) flat: BTreeMap<String, String>,
}

impl Catalog {
    /// A message by dotted key, English when this catalog lacks it, the key when both do.
    pub(crate) fn text(&self, key: &str) -> String {
        self.flat
            .get(key)
            .or_else(|| catalogs()[0].flat.get(key))
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }
}

/// Every catalog, parsed at first use.
pub(crate) fn catalogs() -> &'static [Catalog] {
    static CATALOGS: OnceLock<Vec<Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        let tables: Vec<toml::Table> = SOURCES
            .iter()
            .zip(LANGUAGES)
            .map(|(src, tag)| {
                toml::from_str(src).unwrap_or_else(|e| {
                    // A broken catalog is a bug of this crate (the tests parse each one): its
                    // pages fall back to English rather than fail.
                    tracing::error!(language = tag, error = %e, "message catalog does not parse");
                    toml::Table::new()
                })
            })
            .collect();
        let english = tables.first().cloned().unwrap_or_default();
        tables
            .into_iter()
            .zip(LANGUAGES)
            .map(|(table, tag)| {
                let mut flat = BTreeMap::new();
                flatten("", &table, &mut flat);
                let mut merged = english.clone();
                overlay(&mut merged, table);
                Catalog {
                    tag,
                    tree: Value::from_serialize(&merged),
                    flat,
                }
            })
            .collect()
    })
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn overlay(base: &mut toml::Table, top: toml::Table) {
    for (k, v) in top {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => overlay(b, t),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The catalog of a tag: exact (case-insensitive), else by its primary language (`fr-CA` →
/// `fr`, `pt` → `pt-BR`, `zh-Hans` → `zh-CN`); `None` for a language without a catalog
/// (traditional Chinese included).
pub(crate) fn lookup(tag: &str) -> Option<&'static Catalog> {
    let tag = tag.trim();
    let all = catalogs();
    if let Some(c) = all.iter().find(|c| c.tag.eq_ignore_ascii_case(tag)) {
        return Some(c);
    }
    let lower = tag.to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']);
    let primary = parts.next().unwrap_or("");
    if primary == "zh" && parts.any(|p| matches!(p, "hant" | "tw" | "hk" | "mo")) {
        return None;
    }
    let want = match primary {
        "pt" => "pt-BR",
        "zh" => "zh-CN",
        p => p,
    };
    all.iter().find(|c| c.tag.eq_ignore_ascii_case(want))
}

/// The best catalog for an `Accept-Language` value: the entries by quality (`q`, default 1;
/// `q=0` and malformed ones skipped), the first that has a catalog; English when none has.
pub(crate) fn negotiate(accept: &str) -> &'static Catalog {
    let mut entries: Vec<(f32, &str)> = accept
        .split(',')
        .take(MAX_ENTRIES)
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let tag = parts.next()?.trim();
            let mut q = 1.0f32;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|q: &f32| (0.0..=1.0).contains(q))?;
                }
            }
            (q > 0.0 && !tag.is_empty() && tag != "*").then_some((q, tag))
        })
        .collect();
    // A stable sort keeps the header's order among equal qualities.
    entries.sort_by(|a, b| b.0.total_cmp(&a.0));
    entries
        .into_iter()
        .find_map(|(_, tag)| lookup(tag))
        .unwrap_or(&catalogs()[0])
}

/// The app's rule for a request's language (see [`PageLanguage::PerRequest`]).
pub type ChooseLanguage = Arc<dyn Fn(&HeaderMap) -> Option<String> + Send + Sync>;

/// How the built-in pages pick their language (default: [`PageLanguage::Negotiate`]).
#[derive(Clone, Default)]
pub enum PageLanguage {
    /// From the request's `Accept-Language` header (`fr-CA` → French, `pt` → Brazilian
    /// Portuguese, a language without a catalog → the next one the browser accepts, else
    /// English).
    #[default]
    Negotiate,
    /// Always this one (a tag of [`LANGUAGES`], or one that maps to it, like `de-AT`).
    Fixed(String),
    /// The app decides per request from its headers (a cookie of its own, a user setting):
    /// `Some(tag)` picks that language (mapped like `Accept-Language`'s tags), `None` or a tag
    /// without a catalog falls back to `Accept-Language`.
    PerRequest(ChooseLanguage),
}

impl fmt::Debug for PageLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageLanguage::Negotiate => f.write_str("Negotiate"),
            PageLanguage::Fixed(t) => f.debug_tuple("Fixed").field(t).finish(),
            PageLanguage::PerRequest(_) => f.write_str("PerRequest(..)"),
        }
    }
}

/// [`PageLanguage`] checked at build: a fixed language is resolved once.
#[derive(Clone)]
pub(crate) enum Chooser {
    Negotiate,
    Fixed(&'static Catalog),
    PerRequest(ChooseLanguage),
}

impl Chooser {
    /// The chooser of a [`PageLanguage`]; `Err(tag)` when a fixed tag has no catalog.
    pub(crate) fn new(l: PageLanguage) -> Result<Chooser, String> {
        Ok(match l {
            PageLanguage::Negotiate => Chooser::Negotiate,
            PageLanguage::Fixed(tag) => Chooser::Fixed(lookup(&tag).ok_or(tag)?),
            PageLanguage::PerRequest(f) => Chooser::PerRequest(f),
        })
    }

    /// The catalog for a request.
    pub(crate) fn choose(&self, headers: &HeaderMap) -> &'static Catalog {
        let accept = || {
            headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        match self {
            Chooser::Negotiate => negotiate(accept()),
            Chooser::Fixed(c) => c,
            Chooser::PerRequest(f) => f(headers)
                .and_then(|tag| lookup(&tag))
                .unwrap_or_else(|| negotiate(accept())),
        }
    }
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
