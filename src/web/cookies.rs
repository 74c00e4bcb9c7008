//! Reading `Cookie` request headers and writing `Set-Cookie` response headers.

use cookie::Cookie;
use http::HeaderMap;

/// The raw value of the first cookie called `name` in one `Cookie` header, parsed with the
/// `cookie` crate's own parser (no allocation: the values borrow from the header). A malformed
/// pair is skipped, like browsers and servers do.
#[cfg(test)]
pub(crate) fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    // The hot path: most requests carry other cookies only; a substring scan rules them out
    // without parsing.
    if !header.contains(name) {
        return None;
    }
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// How many cookies called `name` a `Cookie` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'a> {
    /// None.
    Missing,
    /// Exactly one, with its raw value.
    One(&'a str),
    /// More than one: someone else (a sibling subdomain, a path-scoped cookie) planted another
    /// of the library's cookies beside ours. Which one is ours cannot be told, so neither is used.
    Many,
}

/// Whether `pair`, one `name=value` of a `Cookie` header, is a cookie called `name` by the
/// `cookie` crate's rule (the name is what precedes the first `=`, trimmed), decided without
/// parsing or allocating: the hot path's filter.
pub(crate) fn pair_is_named(pair: &str, name: &str) -> bool {
    pair.trim_start()
        .strip_prefix(name)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The value of the only cookie called `name` in a `Cookie` header, or why there is none. Only
/// the pairs called `name` are parsed, with the `cookie` crate's own parser; the same answer as
/// parsing every pair (`find_unique_cookie_agrees_with_parsing_every_pair`), at a fraction of
/// the cost when the header carries other cookies.
pub(crate) fn find_unique_cookie<'a>(header: &'a str, name: &str) -> Found<'a> {
    let mut found = Found::Missing;
    for pair in header.split(';').filter(|p| pair_is_named(p, name)) {
        let Ok(c) = Cookie::parse(pair) else {
            continue;
        };
        match (found, c.value_raw()) {
            (Found::Missing, Some(v)) => found = Found::One(v),
            _ => return Found::Many,
        }
    }
    found
}

/// Every `Cookie` header of a request joined into one (HTTP/2 may split them), or `None`.
pub(crate) fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let all: Vec<&str> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if all.is_empty() {
        None
    } else {
        Some(all.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_cookie_lookup() {
        assert_eq!(find_unique_cookie("a=1; b=2", "b"), Found::One("2"));
        assert_eq!(find_unique_cookie("a=1", "b"), Found::Missing);
        assert_eq!(find_unique_cookie("b=1; a=0; b=2", "b"), Found::Many);
        assert_eq!(find_unique_cookie("b=1; b=1", "b"), Found::Many);
    }

    /// The reference: every pair parsed by the `cookie` crate.
    fn unique_by_parsing_every_pair<'a>(header: &'a str, name: &str) -> Found<'a> {
        let mut found = Found::Missing;
        for c in Cookie::split_parse(header).filter_map(Result::ok) {
            if c.name() != name {
                continue;
            }
            match (found, c.value_raw()) {
                (Found::Missing, Some(v)) => found = Found::One(v),
                _ => return Found::Many,
            }
        }
        found
    }

    #[test]
    fn find_unique_cookie_agrees_with_parsing_every_pair() {
        let parts = [
            "n=v", " n=v", "n =v", "n= v ", "n=\"q\"", "n=", "n", "=v", "nn=v", "xn=v", "n\t=v",
            " n = a=b", "m=1", "broken", "", " ", "n=v;", "N=v", "n=%20", "n=v w",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in ["", "o=1", "n=2"] {
                    let header = format!("{a};{b};{c}");
                    assert_eq!(
                        find_unique_cookie(&header, "n"),
                        unique_by_parsing_every_pair(&header, "n"),
                        "{header:?}"
                    );
                    let spaced = format!("{a}; {b}; {c}");
                    assert_eq!(
                        find_unique_cookie(&spaced, "n"),
                        unique_by_parsing_every_pair(&spaced, "n"),
                        "{spaced:?}"
                    );
                    checked += 2;
                }
            }
        }
        assert_eq!(checked, 2 * 20 * 20 * 3);
    }

    #[test]
    fn cookie_lookup() {
        assert_eq!(find_cookie("a=1; b=2", "b"), Some("2"));
        assert_eq!(find_cookie("ab=1; a=2", "a"), Some("2"));
        assert_eq!(find_cookie("a=1", "b"), None);
        let h = "a=1; tower_oidc_session=abc; b=2";
        assert_eq!(find_cookie(h, "tower_oidc_session"), Some("abc"));
        assert_eq!(find_cookie(h, "tower_oidc"), None);
        assert_eq!(find_cookie("x=1;y=2", "y"), Some("2"));
        assert_eq!(
            find_cookie("name=first; name=second", "name"),
            Some("first")
        );
        assert_eq!(find_cookie("broken; name=v", "name"), Some("v"));
        assert_eq!(find_cookie("", "name"), None);
    }
}
