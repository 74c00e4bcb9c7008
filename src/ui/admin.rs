//! The admin page at `{prefix}/admin`: the providers with an enable toggle, an edit form and a
//! test button each. Server-rendered HTML (every value escaped) and one small script, served
//! from `{prefix}/admin.js` so the page's CSP can stay `script-src 'self'`, that calls the JSON
//! admin API.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::Value;

use crate::web::escape;

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

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => escape(s),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn list(v: &Value, key: &str, sep: &str) -> String {
    let items: Vec<String> = v
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    escape(&items.join(sep))
}

fn checked(v: &Value, key: &str) -> &'static str {
    if v.get(key).and_then(Value::as_bool).unwrap_or(false) {
        " checked"
    } else {
        ""
    }
}

/// Renders the admin page for the providers as the admin API shows them.
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
    let mut body = format!(
        "<h1>Sign-in providers</h1><p class=\"muted\">Changes take effect at the next sign-in. The client secret is never shown: leave it empty to keep it.</p><main id=\"admin\" data-api=\"{}/admin\">",
        escape(prefix)
    );
    for p in providers {
        let id = text(p, "id");
        let secret_note = if p
            .get("client_secret_set")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            "set: leave empty to keep"
        } else {
            "not set"
        };
        let admin = p.get("admin_rules").cloned().unwrap_or(Value::Null);
        let trust = text(p, "email_trust");
        let option = |value: &str, label: &str| {
            format!(
                "<option value=\"{value}\"{}>{label}</option>",
                if trust == value { " selected" } else { "" }
            )
        };
        body.push_str(&format!(
            "<section class=\"provider\" data-id=\"{id}\"><h2>{name} <small class=\"muted\">({id}, {origin})</small></h2>\
<label><input type=\"checkbox\" class=\"toggle\"{enabled}> Enabled</label>\
<form class=\"edit\">\
<label>Provider URL <input name=\"url\" value=\"{url}\" placeholder=\"https://auth.example.com\"></label>\
<label>Internal URL (how this server reaches it, if not the same) <input name=\"internal_url\" value=\"{internal}\" placeholder=\"http://authentik-server:9000\"></label>\
<label>Application slug <input name=\"slug\" value=\"{slug}\" placeholder=\"learned at the first sign-in\"></label>\
<label>Client ID <input name=\"client_id\" value=\"{client_id}\" autocomplete=\"off\"></label>\
<label>Client secret <input name=\"client_secret\" type=\"password\" value=\"\" placeholder=\"{secret_note}\" autocomplete=\"new-password\"></label>\
<label>Scopes <input name=\"scopes\" value=\"{scopes}\"></label>\
<label><input type=\"checkbox\" name=\"auto_register\"{auto}> Create accounts for new users</label>\
<label><input type=\"checkbox\" name=\"refresh_tokens\"{refresh}> Ask for refresh tokens (keeps sessions' access tokens fresh)</label>\
<label>Sort order <input name=\"sort_order\" type=\"number\" value=\"{sort}\"></label>\
<label>Icon <input name=\"icon\" value=\"{icon}\"></label>\
<label>Link by email <select name=\"email_trust\">{o1}{o2}{o3}</select></label>\
<label>Admin groups (comma-separated) <input name=\"admin_groups\" value=\"{groups}\"></label>\
<label>Admin email domains (comma-separated) <input name=\"admin_domains\" value=\"{domains}\"></label>\
<p class=\"muted\">Redirect URI to register: <code>{redirect}</code></p>\
<p class=\"muted\">Logout URI (method: Back-channel) so that a sign-out at the provider ends the session here: <code>{logout}</code></p>\
<button type=\"submit\">Save</button><button type=\"button\" class=\"test\">Test</button>\
</form><div class=\"result\" role=\"status\" aria-live=\"polite\"></div></section>",
            name = text(p, "name"),
            origin = text(p, "origin"),
            enabled = checked(p, "enabled"),
            url = text(p, "url"),
            slug = text(p, "slug"),
            internal = text(p, "internal_url"),
            client_id = text(p, "client_id"),
            scopes = list(p, "scopes", " "),
            auto = checked(p, "auto_register"),
            refresh = checked(p, "refresh_tokens"),
            sort = text(p, "sort_order"),
            icon = text(p, "icon"),
            o1 = option("verified_claim", "when the provider says the email is verified"),
            o2 = option("always", "always (the provider verifies every email)"),
            o3 = option("never", "never"),
            groups = list(&admin, "groups", ", "),
            domains = list(&admin, "email_domains", ", "),
            redirect = text(p, "redirect_uri"),
            logout = text(p, "backchannel_logout_uri"),
        ));
    }
    body.push_str(&format!(
        "<section class=\"sessions\"><h2>Sign a user out everywhere</h2><form class=\"end-sessions\"><label>User id (as in <code>GET /session</code>'s <code>id</code>) <input name=\"user_id\" required></label><button type=\"submit\">End every session of this user</button></form><div class=\"result\" role=\"status\" aria-live=\"polite\"></div></section></main><script src=\"{}/admin.js\"></script>",
        escape(prefix)
    ));
    let page = crate::web::page("Sign-in providers", &body);
    page.replace(
        "</style>",
        "label{display:block;margin:.4rem 0}input:not([type=checkbox]),select{width:100%;box-sizing:border-box;padding:.3rem}section.provider{border-top:1px solid #ccc;margin-top:1.5rem}.ok{color:#1b5e20}.fail{color:#c62828}</style>",
    )
}

/// `GET {prefix}/admin` for an admin: the page with its own Content-Security-Policy.
pub(crate) fn admin_response(prefix: &str, views: &[Value]) -> Response<Bytes> {
    crate::web::html_response_with_csp(StatusCode::OK, admin_page(prefix, views), ADMIN_CSP)
}
