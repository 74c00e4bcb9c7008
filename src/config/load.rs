//! Loading one source (the built-in registry or a user file) into a [`Providers`]: parse, read,
//! validate, merge over what earlier sources defined, and resolve specs and settings.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{self, ConfigErrors, Errs};
use super::interpolate::env_fields;
use super::read;
use super::registry::{Entry, Origin, Providers};
use super::resolve::{resolve_settings, resolve_spec};
use super::syntax::syntax_error;
use super::validate::{check_duplicate_clients, validate_id, validate_raw_spec};
use super::{MAX_CONFIG_BYTES, Protocol};

impl Providers {
    pub(super) fn with_source(
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
}

pub(super) fn too_large_message() -> String {
    format!("the file is larger than the {MAX_CONFIG_BYTES}-byte limit (1 MiB)")
}

/// Reads at most one byte more than [`MAX_CONFIG_BYTES`] (so a huge file or a device such as
/// `/dev/zero` is refused without reading it all).
pub(crate) fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}
