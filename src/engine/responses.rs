//! Response building: JSON or browser redirects, with the headers every auth response carries.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use super::OidcEngine;
use crate::error::Error;

/// Whether the client asked for JSON (an API client) rather than HTML (a browser).
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = accept.contains("application/json");
    let html = accept.contains("text/html");
    !html && (json || headers.contains_key("x-requested-with"))
}

/// Headers on every auth response: not cached, no referrer (a callback URL carries a code), no
/// sniffing.
pub(crate) fn harden(resp: &mut Response<Bytes>) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    harden(&mut r);
    r
}

/// An HTML response.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"),
    );
    harden(&mut r);
    r
}

/// A redirect with cookies. 303 so a POST (logout) becomes a GET.
pub(crate) fn redirect(status: StatusCode, location: &str, cookies: &[String]) -> Response<Bytes> {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    add_cookies(&mut r, cookies);
    harden(&mut r);
    r
}

pub(crate) fn add_cookies(r: &mut Response<Bytes>, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// An error: JSON `{"error","message"}` for API clients, a redirect to the error page with
/// `?error=<code>` for browsers. The detail goes to the log only.
pub(crate) fn error(
    engine: &OidcEngine,
    headers: &HeaderMap,
    err: &Error,
    cookies: Vec<String>,
) -> Response<Bytes> {
    let code = err.code();
    if wants_json(headers) {
        let mut r = json_response(
            code.status(),
            &serde_json::json!({"error": code.as_str(), "message": code.message()}),
        );
        add_cookies(&mut r, &cookies);
        r
    } else {
        let sep = if engine.error_page.contains('?') {
            '&'
        } else {
            '?'
        };
        let location = format!("{}{sep}error={}", engine.error_page, code.as_str());
        redirect(StatusCode::FOUND, &location, &cookies)
    }
}

pub(crate) fn unauthenticated(
    engine: &OidcEngine,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Response<Bytes> {
    if wants_json(headers) {
        json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"error": "unauthenticated", "message": "Sign in to continue."}),
        )
    } else {
        let rt = crate::flow::safe_return_to(Some(path_and_query));
        let location = format!(
            "{}?return_to={}",
            engine.login_url(),
            url::form_urlencoded::byte_serialize(rt.as_bytes()).collect::<String>()
        );
        redirect(StatusCode::SEE_OTHER, &location, &[])
    }
}

pub(crate) fn forbidden(headers: &HeaderMap) -> Response<Bytes> {
    if wants_json(headers) {
        json_response(
            StatusCode::FORBIDDEN,
            &serde_json::json!({"error": "forbidden", "message": "You are not allowed to do this."}),
        )
    } else {
        html_response(
            StatusCode::FORBIDDEN,
            crate::engine::routes::page(
                "Forbidden",
                "<p>You are signed in, but not allowed to see this page.</p>",
            ),
        )
    }
}

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}
