//! Server-rendered pages (feature `ui`): the login page at `{prefix}/login`, the error page at
//! `{prefix}/error`, and the admin page at `{prefix}/admin` ([`admin`]).
//!
//! Plain HTML with no external resources: the enabled providers as buttons in sort order, each
//! with its icon and "Sign in with {name}", the error of `?error=<code>` as a readable sentence
//! with the fix, and the admin's list of providers. The pages are
//! [MiniJinja](https://docs.rs/minijinja) templates with HTML autoescaping on (everything
//! interpolated is escaped); an app replaces any of them with [`PageTemplates`], and picks the
//! language rule with [`PageLanguage`] (default: the browser's `Accept-Language`, among
//! [`LANGUAGES`]).
//!
//! # What each template receives
//!
//! Every page gets `lang` (the chosen language's tag, for `<html lang>`) and `t`, the chosen
//! language's messages (`t.login.title`, `t.admin.save`, …: the keys of `src/ui/i18n/en.toml`).
//! `none` values print as nothing; printing an undefined name is an error (found at build, by a
//! render with sample data).
//!
//! **`login.html`** (`GET {prefix}/login`):
//!
//! | name | value |
//! |---|---|
//! | `providers` | the enabled providers in sort order, each `{id, name, icon, icon_svg, login_url}`: `name` as configured (never translated), `icon` the icon name or `none`, `icon_svg` an inline SVG (safe markup), `login_url` the authorize URL with the `return_to` |
//! | `error` | `none`, or `{code, known, message, advice}` for `?error=<code>`: `known` is false for a code that is not one of [`ErrorCode`](crate::error::ErrorCode) (then `code` is the given text, cut to 64 characters, and `advice` is `none`) |
//! | `return_to` | the checked `return_to` (`/` when absent or unsafe) |
//!
//! **`error.html`** (`GET {prefix}/error`): `error` (`{code, known, message, advice}`, as
//! above; an unknown code shows as `internal`) and `back_url` (the login page).
//!
//! **`admin.html`** (`GET {prefix}/admin`, admins only): `providers`, every provider as
//! `GET {prefix}/admin/providers` shows it (enabled first, then by sort order; the client
//! secret only as `client_secret_set`) plus `icon_svg`; `api` (`{prefix}/admin`, the JSON API
//! the script calls), `script_url` (`{prefix}/admin.js`) and `prefix`. The page's
//! Content-Security-Policy allows scripts from `{prefix}/admin.js` only: no inline script.
//!
//! **`base.html`** is the shell the three extend (blocks `title`, `style`, `body`).

pub mod admin;
mod i18n;
mod icons;
pub(crate) mod pages;
mod templates;

pub use i18n::{ChooseLanguage, LANGUAGES, PageLanguage};
pub use templates::{PageTemplates, TemplateError};

pub(crate) use pages::{Pages, PagesError};

use crate::provider::ProviderButton;

/// Renders the built-in login page in English.
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
    let en = &i18n::catalogs()[0];
    Pages::builtin().login(en, providers, return_to, error)
}

/// The English message of an error code, as the pages show it (tests compare it with the JSON
/// API's).
#[cfg(test)]
pub(crate) fn english(code: crate::error::ErrorCode) -> String {
    i18n::catalogs()[0].text(&format!("codes.{}.message", code.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn english_catalog_says_what_the_json_api_says() {
        for code in ErrorCode::ALL {
            assert_eq!(english(code), code.message(), "{code}");
            assert_eq!(
                i18n::catalogs()[0].text(&format!("codes.{}.advice", code.as_str())),
                code.advice(),
                "{code}"
            );
        }
    }

    #[test]
    fn admin_page_speaks_the_chosen_language() {
        let de = i18n::lookup("de").unwrap();
        let view = serde_json::json!({"id": "authentik", "name": "Authentik", "enabled": true});
        let html = Pages::builtin().admin(de, "/api/auth", &[view]);
        assert!(html.contains("<html lang=\"de\">"), "{html}");
        assert!(html.contains("<h1>Anmeldeanbieter</h1>"), "{html}");
        assert!(html.contains(">Einstellungen</button>"), "{html}");
        // The script's messages, in German, as JSON the script reads.
        assert!(html.contains("\"saved\":\"Gespeichert."), "{html}");
    }

    #[test]
    fn builtin_templates_render_their_samples() {
        assert!(Pages::compile(&PageTemplates::new(), PageLanguage::Negotiate).is_ok());
    }
}
