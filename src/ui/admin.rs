//! The admin page at `{prefix}/admin`: a list of the providers (enabled first, then in sort
//! order), each one row with its status, an enable switch, up/down buttons that reorder it, a
//! test button, and a button that opens its settings (one provider's at a time; the client
//! secret shown as set or not set, never echoed). Server-rendered from the `admin.html`
//! template (every value escaped) and one small script, served from `{prefix}/admin.js` so the
//! page's CSP can stay `script-src 'self'`, that calls the JSON admin API.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::Value;

use super::i18n::Catalog;
use super::pages::Pages;

/// The page's Content-Security-Policy: its own script and API only.
const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const SCRIPT: &str = include_str!("admin.js");

/// `GET {prefix}/admin.js`.
pub(crate) fn script() -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(SCRIPT.as_bytes()));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Renders the built-in admin page, in English, for the providers as the admin API shows them.
///
/// ```
/// let html = tower_oidc::ui::admin::admin_page(
///     "/api/auth",
///     &[serde_json::json!({"id": "authentik", "name": "<Authentik>", "enabled": true})],
/// );
/// assert!(html.contains("&lt;Authentik&gt;"));
/// assert!(html.contains("src=\"/api/auth/admin.js\""));
/// ```
pub fn admin_page(prefix: &str, providers: &[Value]) -> String {
    let en = &super::i18n::catalogs()[0];
    Pages::builtin().admin(en, prefix, providers)
}

/// `GET {prefix}/admin` for an admin: the page with its own Content-Security-Policy.
pub(crate) fn admin_response(
    pages: &Pages,
    lang: &Catalog,
    prefix: &str,
    views: &[Value],
) -> Response<Bytes> {
    crate::web::html_response_with_csp(StatusCode::OK, pages.admin(lang, prefix, views), ADMIN_CSP)
}
