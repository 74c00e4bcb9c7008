//! `return_to`: where the browser goes after signing in. Only same-origin relative paths pass;
//! anything else falls back to `/`. Checked when the sign-in starts and again at the callback.

use std::sync::LazyLock;

/// Longest `return_to` accepted.
pub const MAX_RETURN_TO: usize = 2048;

/// Returns `candidate` if it is a safe same-origin relative path, else `"/"`.
///
/// ```
/// use tower_oidc::flow::safe_return_to;
/// assert_eq!(safe_return_to(Some("/files?x=1#top")), "/files?x=1#top");
/// for evil in ["//evil.com", "/\\evil.com", "https://evil.com", "/%2F%2Fevil.com", "javascript:alert(1)"] {
///     assert_eq!(safe_return_to(Some(evil)), "/");
/// }
/// ```
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(c) if is_safe(c) => c.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_safe(c: &str) -> bool {
    if c.is_empty() || c.len() > MAX_RETURN_TO || !c.starts_with('/') {
        return false;
    }
    // `//host` and `/\host` are protocol-relative in browsers; backslashes anywhere are
    // normalised to `/` by some, and control characters (tab, CR, LF) are stripped by the URL
    // parser, so `/\t/evil.com` becomes `//evil.com`.
    if c.starts_with("//") || c.contains('\\') || c.chars().any(|ch| ch.is_control() || ch == ' ') {
        return false;
    }
    // Encoded slashes and backslashes at the start decode to the same tricks after one more
    // round of decoding by an app or proxy.
    let starts = |p: &str| c.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let has = |n: &str| {
        c.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
    };
    if starts("/%2f") || starts("/%5c") || has("%0d") || has("%0a") || has("%00") {
        return false;
    }
    // Finally the URL parser must agree it stays on our origin.
    static BASE: LazyLock<Option<url::Url>> =
        LazyLock::new(|| url::Url::parse("http://origin.invalid/").ok());
    let Some(base) = BASE.as_ref() else {
        return false;
    };
    // Dot segments that collapse into a leading `//` (`/.//evil.com`) stay on our origin in a
    // browser, but turn into a protocol-relative URL for anything that normalises the path
    // before echoing it.
    match base.join(c) {
        Ok(u) => {
            u.scheme() == base.scheme()
                && u.host() == base.host()
                && u.port() == base.port()
                && !u.path().starts_with("//")
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_redirect_corpus_falls_back_to_root() {
        let long = format!("/{}", "a".repeat(10 * 1024));
        let corpus = [
            "https://evil.com",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/\t/evil.com",
            "/%2F%2Fevil.com",
            "/%5Cevil.com",
            "https:evil.com",
            "http:/evil.com",
            "https://app.example.com.evil.com",
            "https://app.example.com@evil.com",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "%0d%0aSet-Cookie:x",
            "/%0d%0aSet-Cookie:x",
            "/\r\nSet-Cookie:x",
            long.as_str(),
            "",
            "evil.com",
            "/ /evil.com",
            "/.//evil.com",
            "/a/..//evil.com",
            "/%2e//evil.com",
        ];
        for c in corpus {
            assert_eq!(safe_return_to(Some(c)), "/", "{c:?}");
        }
    }

    #[test]
    fn relative_paths_pass() {
        for c in ["/", "/files", "/a/b?c=d&e=%2F#frag", "/x/../y"] {
            assert_eq!(safe_return_to(Some(c)), c);
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
