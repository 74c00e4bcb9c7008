//! The built-in pages (feature `ui`, issue 22): an app's own templates are served, a broken one
//! fails `build()` with its file and line, and the pages speak the language the browser (or the
//! app) asks for.

use bytes::Bytes;
use http::{Request, StatusCode};
use tower_oidc::layer::BuildError;
use tower_oidc::ui::PageTemplates;
use tower_oidc::{OidcLayer, OidcLayerBuilder, ProviderSettings, Secret};

fn builder() -> OidcLayerBuilder {
    OidcLayer::builder()
        .base_url("http://127.0.0.1:3000")
        .provider(
            "authentik",
            ProviderSettings {
                enabled: true,
                url: Some("https://auth.example.com".into()),
                client_id: Some("client".into()),
                client_secret: Some(Secret::new("secret")),
                ..ProviderSettings::default()
            },
        )
}

/// `GET path` with these headers: the status and the body.
async fn get(layer: &OidcLayer, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut req = Request::get(path).header("accept", "text/html");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = layer.engine().handle(req.body(Bytes::new()).unwrap()).await;
    let status = r.status();
    (status, String::from_utf8(r.into_body().to_vec()).unwrap())
}

fn template_error(b: OidcLayerBuilder) -> tower_oidc::ui::TemplateError {
    match b.build() {
        Err(BuildError::Template(t)) => t,
        Err(e) => panic!("expected a template error, got {e}"),
        Ok(_) => panic!("a broken template built"),
    }
}

#[tokio::test]
async fn app_login_template_from_a_string_is_served() {
    let layer = builder()
        .page_templates(PageTemplates::new().template(
            "login.html",
            "<!doctype html><html lang=\"{{ lang }}\"><title>Acme</title><h1 id=\"acme\">Welcome to Acme</h1>\
             {% for p in providers %}<a id=\"go-{{ p.id }}\" href=\"{{ p.login_url }}\">{{ p.name }} ({{ return_to }})</a>{% endfor %}",
        ))
        .build()
        .unwrap();
    let (status, body) = get(&layer, "/api/auth/login?return_to=/files", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<h1 id=\"acme\">Welcome to Acme</h1>"),
        "{body}"
    );
    assert!(
        body.contains("<a id=\"go-authentik\" href=\"http://127.0.0.1:3000/api/auth/providers/authentik/authorize?return_to=%2Ffiles\">Authentik (/files)</a>"),
        "{body}"
    );
    // The other pages are still the built-in ones.
    let (_, error) = get(&layer, "/api/auth/error?error=login_expired", &[]).await;
    assert!(error.contains("data-error=\"login_expired\""), "{error}");
}

#[tokio::test]
async fn app_templates_from_a_directory_are_served_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("layout.html"),
        "<main class=\"acme\">{% block content %}{% endblock %}</main>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("error.html"),
        "{% extends \"layout.html\" %}{% block content %}<p id=\"code\">{{ error.code }}</p><p>{{ error.message }}</p><p>{{ t.error_page.back }}: {{ back_url }}</p>{% endblock %}",
    )
    .unwrap();
    let layer = builder()
        .page_templates(PageTemplates::new().dir(dir.path()))
        .build()
        .unwrap();
    let (status, body) = get(&layer, "/api/auth/error?error=invalid_client", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.starts_with("<main class=\"acme\"><p id=\"code\">invalid_client</p>"),
        "{body}"
    );
    // Autoescaping is on for the app's templates: the apostrophe of the message is escaped.
    assert!(
        body.contains("this application&#x27;s credentials"),
        "{body}"
    );
    assert!(body.contains("/api/auth/login"), "{body}");
}

#[test]
fn broken_template_file_fails_build_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("login.html");
    std::fs::write(
        &path,
        "<h1>Sign in</h1>\n<ul>\n{% for p in providers %}<li>{{ p.name }}</li>\n</ul>\n",
    )
    .unwrap();
    let t = template_error(builder().page_templates(PageTemplates::new().dir(dir.path())));
    assert_eq!(t.file, path.display().to_string(), "{t}");
    assert!(t.line.is_some_and(|l| (3..=5).contains(&l)), "{t}");
    assert!(t.message.contains("syntax error"), "{t}");
    let shown = t.to_string();
    assert!(
        shown.contains("login.html") && shown.contains("line"),
        "{shown}"
    );
}

#[test]
fn template_that_fails_on_sample_data_fails_build_with_its_line() {
    // Compiles, but prints a name the context does not have: found by the sample render.
    let t = template_error(builder().page_templates(PageTemplates::new().template(
        "admin.html",
        "<h1>{{ t.admin.title }}</h1>\n{% for p in providers %}\n<p>{{ p.nmae }}</p>\n{% endfor %}",
    )));
    assert_eq!((t.file.as_str(), t.line), ("admin.html", Some(3)), "{t}");
    assert!(t.message.contains("undefined"), "{t}");
}

#[test]
fn unreadable_template_directory_fails_build() {
    let t = template_error(
        builder().page_templates(PageTemplates::new().dir("/nonexistent/tower-oidc-templates")),
    );
    assert_eq!(t.file, "/nonexistent/tower-oidc-templates");
    assert_eq!(t.line, None);
}

#[tokio::test]
async fn default_pages_keep_their_ids_and_texts() {
    let layer = builder().build().unwrap();
    let (status, body) = get(&layer, "/api/auth/login?error=login_expired", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"en\">"), "{body}");
    assert!(body.contains("id=\"signin-authentik\""), "{body}");
    assert!(
        body.contains("<span>Sign in with Authentik</span>"),
        "{body}"
    );
    assert!(body.contains("data-error=\"login_expired\""), "{body}");
    assert!(
        body.contains("The sign-in took too long. Please start again."),
        "{body}"
    );
    let (_, body) = get(&layer, "/api/auth/login?error=%3Cb%3E", &[]).await;
    assert!(body.contains("<code>&lt;b&gt;</code>"), "{body}");
    assert!(!body.contains("data-error"), "{body}");
}

#[tokio::test]
async fn accept_language_de_gets_german_login_and_error_pages() {
    let layer = builder().build().unwrap();
    let de = [("accept-language", "de-DE,de;q=0.9,en;q=0.5")];
    let (_, login) = get(&layer, "/api/auth/login?error=login_expired", &de).await;
    assert!(login.contains("<html lang=\"de\">"), "{login}");
    assert!(login.contains("<title>Anmelden</title>"), "{login}");
    assert!(
        login.contains("<span>Mit Authentik anmelden</span>"),
        "{login}"
    );
    assert!(
        login.contains("Die Anmeldung hat zu lange gedauert. Bitte beginnen Sie erneut."),
        "{login}"
    );
    let (_, error) = get(&layer, "/api/auth/error?error=provider_disabled", &de).await;
    assert!(error.contains("<html lang=\"de\">"), "{error}");
    assert!(
        error.contains("<h1>Anmeldung fehlgeschlagen</h1>"),
        "{error}"
    );
    assert!(
        error.contains("Diese Anmeldemethode ist ausgeschaltet."),
        "{error}"
    );
    // The code and the provider's name are not translated.
    assert!(error.contains("<code>provider_disabled</code>"), "{error}");
}

#[tokio::test]
async fn accept_language_fr_ca_falls_back_to_french_and_unknown_to_english() {
    let layer = builder().build().unwrap();
    let (_, fr) = get(&layer, "/api/auth/login", &[("accept-language", "fr-CA")]).await;
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    assert!(fr.contains("Se connecter avec Authentik"), "{fr}");
    for accept in ["tlh", "xx-YY;q=0.9, *;q=0.1", ""] {
        let (_, en) = get(&layer, "/api/auth/login", &[("accept-language", accept)]).await;
        assert!(en.contains("<html lang=\"en\">"), "{accept}: {en}");
        assert!(en.contains("Sign in with Authentik"), "{accept}: {en}");
    }
}

#[tokio::test]
async fn json_errors_stay_english_whatever_the_language() {
    let layer = builder().build().unwrap();
    let req = Request::get("/api/auth/providers/nope/authorize")
        .header("accept", "application/json")
        .header("accept-language", "ja")
        .body(Bytes::new())
        .unwrap();
    let r = layer.engine().handle(req).await;
    let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["error"], "provider_unknown");
    assert_eq!(body["message"], "This sign-in method does not exist.");
}

#[tokio::test]
async fn the_app_fixes_or_chooses_the_language() {
    let fixed = builder().page_language("ja").build().unwrap();
    let (_, body) = get(&fixed, "/api/auth/login", &[("accept-language", "de")]).await;
    assert!(
        body.contains("<html lang=\"ja\">") && body.contains("Authentik でログイン"),
        "{body}"
    );

    let chosen = builder()
        .page_language_with(|h| h.get("x-app-lang")?.to_str().ok().map(str::to_owned))
        .build()
        .unwrap();
    let (_, body) = get(
        &chosen,
        "/api/auth/login",
        &[("x-app-lang", "pt"), ("accept-language", "de")],
    )
    .await;
    assert!(
        body.contains("<html lang=\"pt-BR\">") && body.contains("Entrar com Authentik"),
        "{body}"
    );
    let (_, body) = get(&chosen, "/api/auth/login", &[("accept-language", "es")]).await;
    assert!(
        body.contains("<html lang=\"es\">"),
        "no choice: Accept-Language: {body}"
    );

    let e = builder().page_language("tlh").build().unwrap_err();
    assert_eq!(e, BuildError::UnknownLanguage("tlh".into()));
}

#[test]
fn admin_page_is_a_list_with_one_row_per_provider_and_no_secret() {
    let views = [
        serde_json::json!({"id": "zeta", "name": "Zeta", "enabled": false, "sort_order": 1,
            "client_secret_set": true, "icon": "FaKey"}),
        serde_json::json!({"id": "beta", "name": "Beta", "enabled": true, "sort_order": 9,
            "client_secret_set": false}),
        serde_json::json!({"id": "alpha", "name": "Alpha", "enabled": true, "sort_order": 2,
            "client_secret_set": true, "client_secret": "hunter2"}),
    ];
    let html = tower_oidc::ui::admin::admin_page("/api/auth", &views);
    // Enabled first, then by sort order.
    let at = |id: &str| html.find(&format!("data-id=\"{id}\"")).unwrap();
    assert!(
        at("alpha") < at("beta") && at("beta") < at("zeta"),
        "{html}"
    );
    // Every provider's settings start closed, behind a disclosure button.
    assert_eq!(html.matches("class=\"settings\"").count(), 3);
    assert_eq!(html.matches(" hidden>").count(), 3, "{html}");
    assert_eq!(html.matches("aria-expanded=\"false\"").count(), 3);
    assert!(html.contains("aria-label=\"Move Alpha up\""), "{html}");
    // The secret is shown as set or not set, never echoed, even when a view carries it.
    assert!(!html.contains("hunter2"), "{html}");
    assert!(
        html.contains(">Set (leave empty to keep it)</span>"),
        "{html}"
    );
    assert!(html.contains(">Not set</span>"), "{html}");
    // No inline script: only the JSON messages block and the script file.
    assert_eq!(html.matches("<script").count(), 2);
    assert!(html.contains("<script type=\"application/json\" id=\"admin-messages\">{"));
    assert!(html.contains("<script src=\"/api/auth/admin.js\"></script>"));
}

#[test]
fn admin_page_par_checkbox_shows_the_effective_setting_for_oidc_providers_only() {
    let views = [
        serde_json::json!({"id": "on", "name": "On", "protocol": "oidc", "par": true}),
        serde_json::json!({"id": "off", "name": "Off", "protocol": "oidc", "par": false}),
        serde_json::json!({"id": "gh", "name": "GitHub", "protocol": "oauth2", "par": false}),
    ];
    let html = tower_oidc::ui::admin::admin_page("/api/auth", &views);
    let row = |id: &str| {
        let start = html.find(&format!("data-id=\"{id}\"")).unwrap();
        let end = html[start..].find("</li>").unwrap();
        html[start..start + end].to_owned()
    };
    let label = "Push authorization requests (PAR)";
    assert!(
        row("on").contains("<input type=\"checkbox\" name=\"par\" checked>"),
        "{html}"
    );
    assert!(row("on").contains(label));
    assert!(
        row("off").contains("<input type=\"checkbox\" name=\"par\">"),
        "{html}"
    );
    assert!(!row("gh").contains("name=\"par\""), "{html}");
}

#[tokio::test]
async fn app_template_failing_at_request_time_falls_back_to_the_built_in_page() {
    // Passes the sample render at build (one provider), fails with two: the built-in page
    // serves, never a 500.
    let layer = builder()
        .provider(
            "google",
            ProviderSettings {
                enabled: true,
                client_id: Some("g".into()),
                client_secret: Some(Secret::new("s")),
                ..ProviderSettings::default()
            },
        )
        .page_templates(PageTemplates::new().template(
            "login.html",
            "{% if providers | length > 1 %}{{ no_such_name }}{% endif %}<p>custom</p>",
        ))
        .build()
        .unwrap();
    let (status, body) = get(&layer, "/api/auth/login", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("<p>custom</p>"), "{body}");
    assert!(
        body.contains("id=\"signin-authentik\"") && body.contains("id=\"signin-google\""),
        "{body}"
    );
}
