//! Reading `Cookie` request headers and writing `Set-Cookie` response headers.

use cookie::Cookie;
use http::HeaderMap;

/// The raw value of the first cookie called `name` in one `Cookie` header, parsed with the
/// `cookie` crate's own parser (no allocation: the values borrow from the header). A malformed
/// pair is skipped, like browsers and servers do.
pub(crate) fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
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
