//! The pages rendered: each page's context (documented in [`crate::ui`]) filled in for the
//! chosen language, and the compiled templates it goes through.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use http::HeaderMap;
use minijinja::{Environment, Value, context};

use super::i18n::{Catalog, Chooser, PageLanguage};
use super::icons;
use super::templates::{self, PageTemplates, TemplateError};
use crate::error::ErrorCode;
use crate::provider::ProviderButton;
use crate::web::{safe_return_to, with_query};

/// The login, error and admin pages, compiled, with the rule that picks their language.
pub(crate) struct Pages {
    env: Environment<'static>,
    language: Chooser,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

/// Why [`Pages::compile`] failed.
#[derive(Debug)]
pub(crate) enum PagesError {
    /// A template.
    Template(TemplateError),
    /// A fixed language without a catalog.
    Language(String),
}

impl Pages {
    /// The built-in pages, negotiating the language.
    pub(crate) fn builtin() -> &'static Pages {
        static BUILTIN: OnceLock<Pages> = OnceLock::new();
        BUILTIN.get_or_init(|| Pages {
            env: templates::builtin(),
            language: Chooser::Negotiate,
        })
    }

    /// The pages with the app's templates and language rule, each template compiled and
    /// rendered once with sample data.
    pub(crate) fn compile(t: &PageTemplates, language: PageLanguage) -> Result<Pages, PagesError> {
        let language = Chooser::new(language).map_err(PagesError::Language)?;
        let env = templates::compile(t, &samples()).map_err(PagesError::Template)?;
        Ok(Pages { env, language })
    }

    /// The language for a request.
    pub(crate) fn language(&self, headers: &HeaderMap) -> &'static Catalog {
        self.language.choose(headers)
    }

    /// The login page.
    pub(crate) fn login(
        &self,
        lang: &Catalog,
        providers: &[ProviderButton],
        return_to: Option<&str>,
        error: Option<&str>,
    ) -> String {
        self.render(
            "login.html",
            login_context(lang, providers, return_to, error),
        )
    }

    /// The error page for `code`, with a link back to `back_url`.
    pub(crate) fn error(&self, lang: &Catalog, code: ErrorCode, back_url: &str) -> String {
        self.render(
            "error.html",
            context! { lang => lang.tag, t => lang.tree.clone(), error => known_error(lang, code), back_url },
        )
    }

    /// The admin page for the providers as the admin API shows them.
    pub(crate) fn admin(
        &self,
        lang: &Catalog,
        prefix: &str,
        views: &[serde_json::Value],
    ) -> String {
        self.render("admin.html", admin_context(lang, prefix, views))
    }

    /// Renders a page; a template that fails at request time (it rendered the sample data at
    /// build) is logged and the built-in one serves instead.
    fn render(&self, name: &str, ctx: Value) -> String {
        let rendered = self.env.get_template(name).and_then(|t| t.render(&ctx));
        match rendered {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(template = name, line = e.line(), error = %e, "page template failed: serving the built-in one");
                Pages::builtin()
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(&ctx))
                    .unwrap_or_else(|_| String::from("<!doctype html><title>Error</title><p>This page could not be shown.</p>"))
            }
        }
    }
}

/// `{code, known: true, message, advice}` in the language.
fn known_error(lang: &Catalog, code: ErrorCode) -> Value {
    let c = code.as_str();
    context! {
        code => c,
        known => true,
        message => lang.text(&format!("codes.{c}.message")),
        advice => lang.text(&format!("codes.{c}.advice")),
    }
}

fn login_context(
    lang: &Catalog,
    providers: &[ProviderButton],
    return_to: Option<&str>,
    error: Option<&str>,
) -> Value {
    let rt = safe_return_to(return_to);
    let error = error.map(|e| match ErrorCode::parse(e) {
        Some(code) => known_error(lang, code),
        None => context! {
            code => e.chars().take(64).collect::<String>(),
            known => false,
            message => lang.text("login.failed"),
            advice => Value::from(()),
        },
    });
    let providers: Vec<Value> = providers
        .iter()
        .map(|p| {
            context! {
                id => p.id,
                name => p.name,
                icon => p.icon,
                icon_svg => Value::from_safe_string(icons::svg(p.icon.as_deref()).to_owned()),
                login_url => with_query(&p.login_url, &[("return_to", &rt)]),
            }
        })
        .collect();
    context! { lang => lang.tag, t => lang.tree.clone(), providers, error, return_to => rt }
}

fn admin_context(lang: &Catalog, prefix: &str, views: &[serde_json::Value]) -> Value {
    let mut sorted: Vec<&serde_json::Value> = views.iter().collect();
    // Enabled first, then by sort order, then by name.
    sorted.sort_by_key(|v| {
        (
            !v["enabled"].as_bool().unwrap_or(false),
            v["sort_order"].as_i64().unwrap_or(0),
            v["name"].as_str().unwrap_or("").to_owned(),
        )
    });
    let providers: Vec<Value> = sorted
        .into_iter()
        .map(|v| {
            let svg = icons::svg(v["icon"].as_str());
            // Every key the template may print, even when the caller's view lacks some.
            let mut view: BTreeMap<String, Value> = BTreeMap::new();
            for source in [&empty_view(), v] {
                if let Some(m) = source.as_object() {
                    for (k, x) in m {
                        view.insert(k.clone(), Value::from_serialize(x));
                    }
                }
            }
            view.insert("icon_svg".into(), Value::from_safe_string(svg.to_owned()));
            view.into_iter().collect::<Value>()
        })
        .collect();
    context! {
        lang => lang.tag,
        t => lang.tree.clone(),
        providers,
        prefix,
        api => format!("{prefix}/admin"),
        script_url => format!("{prefix}/admin.js"),
    }
}

/// A provider's view with every key the admin API gives, empty.
fn empty_view() -> serde_json::Value {
    serde_json::json!({
        "id": "", "name": "", "protocol": null, "origin": null, "custom": false, "enabled": false,
        "url": null, "internal_url": null, "slug": null, "client_id": null,
        "client_secret_set": false, "scopes": [], "auto_register": false, "refresh_tokens": false,
        "refresh_scope": null, "sort_order": 0, "icon": null, "email_trust": null, "par": false,
        "admin_rules": {"groups": [], "email_domains": []}, "params": {}, "redirect_uri": null,
        "allowed_tenants": [], "multi_tenant": false,
        "backchannel_logout_uri": null, "frontchannel_logout_uri": null, "sources": {},
    })
}

/// The contexts every page is rendered with at build, to find a template's errors then.
fn samples() -> Vec<(&'static str, Value)> {
    let en = &super::i18n::catalogs()[0];
    let button = ProviderButton {
        id: "authentik".into(),
        name: "Authentik".into(),
        icon: Some("FaShieldAlt".into()),
        sort_order: 7,
        login_url: "/api/auth/providers/authentik/authorize".into(),
    };
    let view = serde_json::json!({
        "id": "authentik", "name": "Authentik", "protocol": "oidc", "origin": "builtin",
        "custom": false, "enabled": true, "url": "https://auth.example.com", "internal_url": null,
        "slug": null, "client_id": "client", "client_secret_set": true, "scopes": ["openid"],
        "auto_register": true, "refresh_tokens": true, "refresh_scope": "offline_access",
        "sort_order": 7, "icon": "FaShieldAlt", "email_trust": "verified_claim", "par": true,
        "admin_rules": {"groups": ["admins"], "email_domains": []}, "params": {},
        "redirect_uri": "https://app.example.com/api/auth/providers/authentik/callback",
        "backchannel_logout_uri": "https://app.example.com/api/auth/providers/authentik/backchannel-logout",
        "frontchannel_logout_uri": "https://app.example.com/api/auth/providers/authentik/frontchannel-logout",
        "sources": {},
    });
    vec![
        (
            "login.html",
            login_context(
                en,
                std::slice::from_ref(&button),
                Some("/"),
                Some("login_expired"),
            ),
        ),
        (
            "login.html",
            login_context(en, &[button], None, Some("<unknown>")),
        ),
        ("login.html", login_context(en, &[], None, None)),
        (
            "error.html",
            context! { lang => en.tag, t => en.tree.clone(), error => known_error(en, ErrorCode::Internal), back_url => "/api/auth/login" },
        ),
        ("admin.html", admin_context(en, "/api/auth", &[view])),
    ]
}
