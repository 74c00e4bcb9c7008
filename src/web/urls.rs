//! URL building and reading with `url`, and the same-origin check of state-changing requests.

use std::borrow::Cow;

use http::HeaderMap;

/// The first value of query parameter `name`, decoded.
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `base` (a path or an absolute URL, possibly with a query already) with `pairs` appended as
/// form-encoded query parameters.
pub(crate) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let q = ser.finish();
    if q.is_empty() {
        return base.to_owned();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{q}")
}

/// The ASCII origin (`scheme://host[:port]`) of an absolute URL; empty when it is not one.
pub(crate) fn origin_of(base: &str) -> String {
    match url::Url::parse(base) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => String::new(),
    }
}

/// Whether a state-changing request comes from the app's own origin: its `Origin` header, when
/// present, must be `origin`; without one, `Sec-Fetch-Site: cross-site` is refused.
pub(crate) fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(o) = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        return o == origin;
    }
    !matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_building_and_reading() {
        assert_eq!(
            with_query("/api/auth/login", &[("return_to", "/a?b=c&d")]),
            "/api/auth/login?return_to=%2Fa%3Fb%3Dc%26d"
        );
        assert_eq!(
            with_query("/e?x=1", &[("error", "a b")]),
            "/e?x=1&error=a+b"
        );
        assert_eq!(with_query("/e", &[]), "/e");
        assert_eq!(query_param("a=1&b=%2F", "b").as_deref(), Some("/"));
        assert_eq!(
            origin_of("https://app.example.com:8443/x"),
            "https://app.example.com:8443"
        );
        assert_eq!(origin_of("not a url"), "");
    }
}
