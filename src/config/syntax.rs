//! TOML syntax errors, reported by key path and without echoing a secret.

use super::error::{self, Errs};
use super::read;

/// Reports a TOML syntax error. Only the parser's message is used, never its rendering with the
/// source line (a `client_secret = "…"` line would be echoed); a duplicate key is named by its
/// key path, and a duplicate `[providers.<id>]` table is called a duplicate provider (the keys
/// of the second table, which the parser then also calls duplicates, are not reported again).
pub(super) fn syntax_error(
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
pub(super) fn secret_on_line(text: &str, line: usize) -> Option<&str> {
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
pub(super) fn duplicate_key_path(text: &str, pos: usize) -> Option<Vec<String>> {
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
