//! Server-rendered pages (feature `ui`): the login page at `{prefix}/login`, and the admin page
//! at `{prefix}/admin` ([`admin`]).
//!
//! Plain HTML with no external resources: the enabled providers as buttons in sort order, each
//! with its icon and "Sign in with {name}", and the error of `?error=<code>` as a readable
//! sentence with the fix. Everything interpolated is HTML-escaped.

pub mod admin;
mod icons;

use crate::error::ErrorCode;
use crate::provider::ProviderButton;
use crate::web::{escape, page, safe_return_to, with_query};

/// Renders the login page.
///
/// ```
/// use tower_oidc::engine::ProviderButton;
/// use tower_oidc::ui::login_page;
/// let html = login_page(
///     &[ProviderButton {
///         id: "authentik".into(),
///         name: "Authentik".into(),
///         icon: Some("FaShieldAlt".into()),
///         sort_order: 7,
///         login_url: "https://app.example.com/api/auth/providers/authentik/authorize".into(),
///     }],
///     Some("/files"),
///     Some("<script>"),
/// );
/// assert!(html.contains("Sign in with Authentik"));
/// assert!(html.contains("return_to=%2Ffiles"));
/// assert!(!html.contains("<script>"));
/// ```
pub fn login_page(
    providers: &[ProviderButton],
    return_to: Option<&str>,
    error: Option<&str>,
) -> String {
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(e) = error {
        match ErrorCode::parse(e) {
            Some(code) => body.push_str(&format!(
                "<div class=\"error\" role=\"alert\" data-error=\"{}\"><p><strong>{}</strong></p><p>{}</p></div>",
                code.as_str(),
                escape(code.message()),
                escape(code.advice())
            )),
            None => body.push_str(&format!(
                "<div class=\"error\" role=\"alert\"><p><strong>Sign-in failed.</strong></p><p class=\"muted\">Unknown error code <code>{}</code>.</p></div>",
                escape(&e.chars().take(64).collect::<String>())
            )),
        }
    }
    if providers.is_empty() {
        body.push_str("<p class=\"muted\">No sign-in method is enabled yet. An administrator can enable one in the authentication settings.</p>");
    }
    let rt = safe_return_to(return_to);
    body.push_str("<nav aria-label=\"Sign-in methods\">");
    for p in providers {
        body.push_str(&format!(
            "<a class=\"button\" id=\"signin-{id}\" href=\"{url}\">{icon} Sign in with {name}</a>",
            id = escape(&p.id),
            url = escape(&with_query(&p.login_url, &[("return_to", &rt)])),
            icon = icons::svg(p.icon.as_deref()),
            name = escape(&p.name),
        ));
    }
    body.push_str("</nav>");
    page("Sign in", &body)
}
