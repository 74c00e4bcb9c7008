//! Endpoint templates: strings with `{name}` placeholders (`{url}`, `{issuer}`, `{slug}`, or any
//! provider parameter such as `{tenant}`).

use std::collections::BTreeMap;
use std::fmt;

/// A template such as `{url}/application/o/{slug}/`.
///
/// ```
/// use tower_oidc::config::Template;
/// let t = Template::parse("{url}/application/o/{slug}/").unwrap();
/// let mut vars = std::collections::BTreeMap::new();
/// vars.insert("url", "https://auth.example.com".to_string());
/// vars.insert("slug", "palmr".to_string());
/// assert_eq!(t.render(&vars).unwrap(), "https://auth.example.com/application/o/palmr/");
/// let m = t.match_str("https://auth.example.com/application/o/palmr/").unwrap();
/// assert_eq!(m["url"], "https://auth.example.com");
/// assert_eq!(m["slug"], "palmr");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Part {
    Lit(String),
    Var(String),
}

/// Why a template string is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` without its `}`.
    Unclosed,
    /// A `}` without its `{`.
    UnopenedBrace,
    /// `{}` or a name with characters other than `a-z`, `0-9`, `_`.
    BadName(String),
    /// Two placeholders with nothing between them (ambiguous to match).
    Adjacent,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed => f.write_str("a `{` is never closed"),
            TemplateError::UnopenedBrace => f.write_str("a `}` has no matching `{`"),
            TemplateError::BadName(n) => write!(
                f,
                "placeholder `{{{n}}}` must be a lower-case name (a-z, 0-9, _)"
            ),
            TemplateError::Adjacent => {
                f.write_str("two placeholders must be separated by literal text")
            }
        }
    }
}

impl Template {
    /// Parses a template.
    pub fn parse(s: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError::Unclosed);
                    }
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    {
                        return Err(TemplateError::BadName(name));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    } else if matches!(parts.last(), Some(Part::Var(_))) {
                        return Err(TemplateError::Adjacent);
                    }
                    parts.push(Part::Var(name));
                }
                '}' => return Err(TemplateError::UnopenedBrace),
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template {
            source: s.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The placeholder names, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Renders the template; `Err(name)` names the first placeholder without a value.
    pub fn render(&self, vars: &BTreeMap<&str, String>) -> Result<String, String> {
        let mut out = String::with_capacity(self.source.len() + 32);
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_str(l),
                Part::Var(v) => out.push_str(vars.get(v.as_str()).ok_or_else(|| v.clone())?),
            }
        }
        Ok(out)
    }

    /// Matches `s` against the template, extracting the placeholder values. Each placeholder
    /// matches a non-empty run; the last literal anchors the end. `{slug}` and other placeholders
    /// that are not `url` never match a `/`, so `{url}/application/o/{slug}/` splits an issuer
    /// URL unambiguously.
    pub fn match_str(&self, s: &str) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        if self.match_from(0, s, &mut out) {
            Some(out)
        } else {
            None
        }
    }

    fn match_from(&self, i: usize, s: &str, out: &mut BTreeMap<String, String>) -> bool {
        match self.parts.get(i) {
            None => s.is_empty(),
            Some(Part::Lit(l)) => {
                s.starts_with(l.as_str()) && self.match_from(i + 1, &s[l.len()..], out)
            }
            Some(Part::Var(v)) => {
                // Try every split point, longest value first for `url` (so a path prefix stays in
                // the URL) and shortest first for the others.
                let cands: Vec<usize> = s
                    .char_indices()
                    .map(|(k, _)| k)
                    .skip(1)
                    .chain(std::iter::once(s.len()))
                    .collect();
                let ordered: Box<dyn Iterator<Item = &usize>> = if v == "url" {
                    Box::new(cands.iter().rev())
                } else {
                    Box::new(cands.iter())
                };
                for &k in ordered {
                    let val = &s[..k];
                    if v != "url" && val.contains('/') {
                        continue;
                    }
                    if self.match_from(i + 1, &s[k..], out) {
                        out.insert(v.clone(), val.to_owned());
                        return true;
                    }
                }
                false
            }
        }
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors() {
        assert_eq!(Template::parse("{url"), Err(TemplateError::Unclosed));
        assert_eq!(Template::parse("url}"), Err(TemplateError::UnopenedBrace));
        assert_eq!(
            Template::parse("{URL}"),
            Err(TemplateError::BadName("URL".into()))
        );
        assert_eq!(
            Template::parse("{}"),
            Err(TemplateError::BadName("".into()))
        );
        assert_eq!(Template::parse("{a}{b}"), Err(TemplateError::Adjacent));
    }

    #[test]
    fn matching_keeps_path_prefix_in_url() {
        let t = Template::parse("{url}/application/o/{slug}/").unwrap();
        let m = t
            .match_str("https://h.example/auth/application/o/app/")
            .unwrap();
        assert_eq!(m["url"], "https://h.example/auth");
        assert_eq!(m["slug"], "app");
        assert!(t.match_str("https://h.example/application/o/app").is_none());
        assert!(
            t.match_str("https://h.example/application/o/a/b/")
                .is_none()
        );
    }
}
