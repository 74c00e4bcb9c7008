//! Responses: JSON for API clients, HTML and redirects for browsers, each with the headers every
//! auth response carries.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::error::ErrorCode;

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
fn harden(resp: &mut Response<Bytes>) {
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

/// The JSON error body of the HTTP surface: `{"error": code, "message": text}`.
pub(crate) fn error_json(status: StatusCode, code: &str, message: &str) -> Response<Bytes> {
    json_response(
        status,
        &serde_json::json!({"error": code, "message": message}),
    )
}

/// The JSON error response of an error code: its status and stable English message.
pub(crate) fn code_json(code: ErrorCode) -> Response<Bytes> {
    error_json(code.status(), code.as_str(), code.message())
}

/// The built-in pages' Content-Security-Policy: no scripts, nothing external, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

/// An HTML response with the built-in pages' Content-Security-Policy.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response<Bytes> {
    html_with_csp(status, body, PAGE_CSP)
}

/// An HTML response with its own Content-Security-Policy.
#[cfg(feature = "ui")]
pub(crate) fn html_response_with_csp(
    status: StatusCode,
    body: String,
    csp: &'static str,
) -> Response<Bytes> {
    html_with_csp(status, body, csp)
}

fn html_with_csp(status: StatusCode, body: String, csp: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    harden(&mut r);
    r
}

/// A redirect with cookies (303 turns a POST into a GET).
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

/// Appends `Set-Cookie` headers.
pub(crate) fn add_cookies(r: &mut Response<Bytes>, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// `413` for a request body over the limit (or one that could not be read).
pub(crate) fn too_large() -> Response<Bytes> {
    error_json(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is too large or broken.",
    )
}

/// `400` for a request an adapter could not turn into an `http::Request`.
#[cfg(any(feature = "actix", feature = "warp"))]
pub(crate) fn bad_request() -> Response<Bytes> {
    error_json(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "The request could not be read.",
    )
}
