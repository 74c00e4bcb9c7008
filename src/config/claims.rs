//! Claim mapping: where each user field comes from in the claims a provider sends.
//!
//! A field maps to a list of *rules* tried in order; the first that yields a value wins.
//! A rule is either
//! - a **claim path**: `email`, a nested path such as `address.country`, or a path through an
//!   array with a **filter** that picks its first matching element —
//!   `emails[verified=true,primary=true].email` (GitHub's `/user/emails`); or
//! - a **template** with `{path}` placeholders: `https://cdn.discordapp.com/avatars/{id}/{avatar}.png`
//!   (Discord sends an avatar *hash*) or `{given_name} {family_name}`. A template yields a value
//!   only when every placeholder has a non-empty string or number value. In a template that
//!   starts with `https://` or `http://`, values are percent-encoded as URL path segments, so a
//!   claim cannot add path segments, a query or another host.

use std::borrow::Cow;

use serde_json::Value;

/// Largest number of conditions in one filter, and of segments in one path (a mapping is a few
/// words; this bounds a mistake).
const MAX_PARTS: usize = 16;

/// One step of a [`ClaimPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object member.
    Key(String),
    /// The first element of an array whose members equal all of these values.
    Filter(Vec<(String, Value)>),
}

/// A claim path: `email`, `address.country`, or `emails[verified=true,primary=true].email`.
///
/// ```
/// use tower_oidc::config::ClaimPath;
/// let p = ClaimPath::parse("emails[verified=true].email").unwrap();
/// let claims = serde_json::json!({"emails": [
///     {"email": "old@example.com", "verified": false},
///     {"email": "new@example.com", "verified": true},
/// ]});
/// assert_eq!(p.lookup(&claims), Some(&serde_json::json!("new@example.com")));
/// assert_eq!(p.to_string(), "emails[verified=true].email");
/// assert!(ClaimPath::parse("a..b").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(pub Vec<PathSegment>);

/// A claim name: anything but the path syntax's own characters and whitespace (claim names may
/// be URNs such as `urn:zitadel:iam:org:project:roles`, or non-ASCII).
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "[]{}.,=".contains(c))
}

fn filter_value(s: &str) -> Value {
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => match s.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(s.to_owned()),
        },
    }
}

impl ClaimPath {
    /// Parses a path; `None` when it is malformed (empty segment, unclosed `[`, a condition
    /// without `=`…).
    pub fn parse(s: &str) -> Option<ClaimPath> {
        let mut segs = Vec::new();
        for part in s.split('.') {
            let (key, filter) = match part.find('[') {
                Some(i) => {
                    let inner = part[i + 1..].strip_suffix(']')?;
                    (&part[..i], Some(inner))
                }
                None => (part, None),
            };
            if !is_name(key) {
                return None;
            }
            segs.push(PathSegment::Key(key.to_owned()));
            if let Some(inner) = filter {
                let mut conds = Vec::new();
                for c in inner.split(',') {
                    let (k, v) = c.split_once('=')?;
                    let (k, v) = (k.trim(), v.trim());
                    if !is_name(k) || v.is_empty() || v.contains(['[', ']']) {
                        return None;
                    }
                    conds.push((k.to_owned(), filter_value(v)));
                }
                if conds.is_empty() || conds.len() > MAX_PARTS {
                    return None;
                }
                segs.push(PathSegment::Filter(conds));
            }
        }
        if segs.len() > MAX_PARTS {
            return None;
        }
        Some(ClaimPath(segs))
    }

    /// Looks the path up in a JSON value.
    pub fn lookup<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for seg in &self.0 {
            cur = match seg {
                PathSegment::Key(k) => cur.as_object()?.get(k)?,
                PathSegment::Filter(conds) => cur
                    .as_array()?
                    .iter()
                    .find(|el| conds.iter().all(|(k, want)| el.get(k) == Some(want)))?,
            };
        }
        Some(cur)
    }
}

impl std::fmt::Display for ClaimPath {
    /// The dotted form, `address.country`, `emails[verified=true].email`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSegment::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSegment::Filter(conds) => {
                    f.write_str("[")?;
                    for (i, (k, v)) in conds.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        match v {
                            Value::String(s) => write!(f, "{k}={s}")?,
                            other => write!(f, "{k}={other}")?,
                        }
                    }
                    f.write_str("]")?;
                }
            }
            first = false;
        }
        Ok(())
    }
}

/// A piece of a [`ClaimTemplate`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Claim(ClaimPath),
}

/// A value built from claims: `https://cdn.discordapp.com/avatars/{id}/{avatar}.png`.
///
/// ```
/// use tower_oidc::config::ClaimTemplate;
/// let t = ClaimTemplate::parse("https://cdn.example/avatars/{id}/{avatar}.png").unwrap();
/// let v = t.render(&serde_json::json!({"id": "80351110224678912", "avatar": "8342729096ea3675442027381ff50dfe"}));
/// assert_eq!(v.as_deref(), Some("https://cdn.example/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"));
/// // A missing claim: no value (the next rule is tried).
/// assert_eq!(t.render(&serde_json::json!({"id": "1", "avatar": null})), None);
/// // In a URL, values cannot escape their path segment.
/// assert_eq!(
///     t.render(&serde_json::json!({"id": "../x", "avatar": "a?b"})).as_deref(),
///     Some("https://cdn.example/avatars/..%2Fx/a%3Fb.png"),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTemplate {
    source: String,
    pieces: Vec<Piece>,
    url: bool,
}

/// Bytes kept as they are in a URL path segment (RFC 3986 `unreserved`); everything else is
/// percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl ClaimTemplate {
    /// Parses a template; `None` when a `{` is not closed, a placeholder is not a claim path,
    /// or there is no placeholder at all.
    pub fn parse(s: &str) -> Option<ClaimTemplate> {
        let mut pieces = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find('{') {
            if i > 0 {
                pieces.push(Piece::Text(rest[..i].to_owned()));
            }
            let end = rest[i..].find('}')? + i;
            pieces.push(Piece::Claim(ClaimPath::parse(&rest[i + 1..end])?));
            rest = &rest[end + 1..];
        }
        if rest.contains('}') || !pieces.iter().any(|p| matches!(p, Piece::Claim(_))) {
            return None;
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        let url = s.starts_with("https://") || s.starts_with("http://");
        Some(ClaimTemplate {
            source: s.to_owned(),
            pieces,
            url,
        })
    }

    /// The value for these claims, or `None` when a placeholder has no string or number value.
    pub fn render(&self, claims: &Value) -> Option<String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Claim(path) => {
                    let v = match path.lookup(claims)? {
                        Value::String(s) if !s.trim().is_empty() => Cow::Borrowed(s.trim()),
                        Value::Number(n) => Cow::Owned(n.to_string()),
                        _ => return None,
                    };
                    if self.url {
                        out.extend(percent_encoding::utf8_percent_encode(&v, SEGMENT));
                    } else {
                        out.push_str(&v);
                    }
                }
            }
        }
        Some(out)
    }
}

impl std::fmt::Display for ClaimTemplate {
    /// The template as written.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// One way to get a user field: a claim path or a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRule {
    /// The value at a claim path.
    Path(ClaimPath),
    /// A string built from claims.
    Template(ClaimTemplate),
}

impl ClaimRule {
    /// Parses a rule: a template when it contains `{`, else a claim path.
    ///
    /// ```
    /// use tower_oidc::config::ClaimRule;
    /// assert!(matches!(ClaimRule::parse("email"), Some(ClaimRule::Path(_))));
    /// assert!(matches!(ClaimRule::parse("{given_name} {family_name}"), Some(ClaimRule::Template(_))));
    /// assert!(ClaimRule::parse("{unclosed").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<ClaimRule> {
        if s.contains('{') || s.contains('}') {
            ClaimTemplate::parse(s).map(ClaimRule::Template)
        } else {
            ClaimPath::parse(s).map(ClaimRule::Path)
        }
    }

    /// The value this rule yields, if any (a null is no value).
    pub fn apply<'a>(&self, claims: &'a Value) -> Option<Cow<'a, Value>> {
        match self {
            ClaimRule::Path(p) => p.lookup(claims).filter(|v| !v.is_null()).map(Cow::Borrowed),
            ClaimRule::Template(t) => t.render(claims).map(|s| Cow::Owned(Value::String(s))),
        }
    }
}

impl std::fmt::Display for ClaimRule {
    /// The rule as written.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClaimRule::Path(p) => p.fmt(f),
            ClaimRule::Template(t) => t.fmt(f),
        }
    }
}

/// Where one user field comes from: the first of these rules that yields a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimSource(pub Vec<ClaimRule>);

impl ClaimSource {
    /// Parses a list of rules; `None` when one is malformed.
    pub fn parse<S: AsRef<str>>(rules: &[S]) -> Option<ClaimSource> {
        rules
            .iter()
            .map(|r| ClaimRule::parse(r.as_ref()))
            .collect::<Option<Vec<_>>>()
            .map(ClaimSource)
    }

    /// The first present, non-null value.
    pub fn find<'a>(&self, claims: &'a Value) -> Option<Cow<'a, Value>> {
        self.0.iter().find_map(|r| r.apply(claims))
    }
}

impl std::fmt::Display for ClaimSource {
    /// The rules in the order they are tried, `name | preferred_username`; `-` when the field
    /// is not mapped.
    ///
    /// ```
    /// use tower_oidc::config::ClaimSource;
    /// let s = ClaimSource::parse(&["name", "a.b", "{given_name} {family_name}"]).unwrap();
    /// assert_eq!(s.to_string(), "name | a.b | {given_name} {family_name}");
    /// assert_eq!(ClaimSource::default().to_string(), "-");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// The claim mapping table: user field → claim rule(s).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimMap {
    /// The stable subject (`sub`).
    pub subject: ClaimSource,
    /// Email.
    pub email: ClaimSource,
    /// Whether the email is verified.
    pub email_verified: ClaimSource,
    /// Display name.
    pub name: ClaimSource,
    /// Given name.
    pub given_name: ClaimSource,
    /// Family name.
    pub family_name: ClaimSource,
    /// Picture URL.
    pub picture: ClaimSource,
    /// Username.
    pub username: ClaimSource,
    /// Group names.
    pub groups: ClaimSource,
    /// Extra claims by the name the app reads them under (`Auth::claim`), from
    /// `[providers.<id>.claims.extra]`.
    pub extra: std::collections::BTreeMap<String, ClaimSource>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_pick_the_first_matching_element() {
        let claims = json!({"emails": [
            {"email": "a@x", "primary": false, "verified": true},
            {"email": "b@x", "primary": true, "verified": false},
            {"email": "c@x", "primary": true, "verified": true},
        ]});
        let s = ClaimSource::parse(&[
            "emails[primary=true,verified=true].email",
            "emails[verified=true].email",
        ])
        .unwrap();
        assert_eq!(s.find(&claims).unwrap().as_str(), Some("c@x"));
        let none_primary = json!({"emails": [
            {"email": "b@x", "primary": true, "verified": false},
            {"email": "a@x", "primary": false, "verified": true},
        ]});
        assert_eq!(s.find(&none_primary).unwrap().as_str(), Some("a@x"));
        let unverified = json!({"emails": [{"email": "b@x", "primary": true, "verified": false}]});
        assert!(s.find(&unverified).is_none());
        // A filter on something that is not an array, or a string `"true"`, matches nothing.
        assert!(s.find(&json!({"emails": {"email": "x"}})).is_none());
        assert!(
            s.find(&json!({"emails": [{"email": "x", "primary": "true", "verified": "true"}]}))
                .is_none()
        );
    }

    #[test]
    fn malformed_rules_are_refused() {
        for bad in [
            "",
            "a.",
            ".a",
            "a b",
            "emails[",
            "emails[]",
            "emails[verified]",
            "emails[=true]",
            "emails[a=]",
            "emails[a=b]x",
            "{",
            "}",
            "no placeholder }",
            "{a b}",
            "x{}",
        ] {
            assert!(ClaimRule::parse(bad).is_none(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn text_templates_join_and_skip_missing_parts() {
        let s = ClaimSource::parse(&["name", "{given_name} {family_name}", "given_name"]).unwrap();
        let both = json!({"given_name": "Ada", "family_name": "Lovelace"});
        assert_eq!(s.find(&both).unwrap().as_str(), Some("Ada Lovelace"));
        let first_only = json!({"given_name": "Ada", "family_name": ""});
        assert_eq!(s.find(&first_only).unwrap().as_str(), Some("Ada"));
        let numbers = ClaimSource::parse(&["{id}"]).unwrap();
        assert_eq!(
            numbers.find(&json!({"id": 42})).unwrap().as_str(),
            Some("42")
        );
    }
}
