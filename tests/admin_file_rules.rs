//! Issue 24, item 4: the admin API checks a provider's settings with the rules a
//! `[settings.<id>]` table of `providers.toml` obeys (one code path,
//! `tower_oidc::config::settings_errors`), so a value the file refuses cannot be stored through
//! the API, and the API's typed 400 carries the message `tower-oidc check` gives for the file.

mod common;

use common::*;
use serde_json::{Value, json};
use tower_oidc::config::Providers;
use tower_oidc::store::SettingsStore;
use tower_oidc::testing::FakeAuthentik;

/// The first error the parser gives for a `[settings.authentik]` table: (field, message).
fn file_error(table: &str) -> (String, String) {
    let text = format!("[settings.authentik]\n{table}\n");
    let errors = Providers::builtin()
        .with_toml_str("app.toml", &text)
        .expect_err(&text);
    let e = &errors.errors()[0];
    let field = e
        .path
        .strip_prefix("settings.authentik.")
        .unwrap_or(&e.path)
        .to_owned();
    (field, e.message.clone())
}

#[tokio::test]
async fn a_value_the_file_refuses_is_refused_by_the_api_with_the_same_message() {
    let fake = FakeAuthentik::start().await;
    let app = app_with(&fake, admin_settings(&fake), |b| b).await;
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    let before = app.store.get("authentik").await.unwrap();
    let cases: [(&str, Value, &str); 14] = [
        (
            "url = \"http://auth.example.com\"",
            json!({"url": "http://auth.example.com"}),
            "url",
        ),
        (
            "url = \"https://auth.example.com/?next=1\"",
            json!({"url": "https://auth.example.com/?next=1"}),
            "url",
        ),
        (
            "url = \"https://me:pw@auth.example.com\"",
            json!({"url": "https://me:pw@auth.example.com"}),
            "url",
        ),
        (
            "internal_url = \"http://authentik-server:9000/auth\"",
            json!({"internal_url": "http://authentik-server:9000/auth"}),
            "internal_url",
        ),
        (
            "scopes = [\"profile\", \"email\"]",
            json!({"scopes": ["profile", "email"]}),
            "scopes",
        ),
        (
            "scopes = [\"openid\", \"\"]",
            json!({"scopes": ["openid", ""]}),
            "scopes",
        ),
        (
            "client_secret = \"\"",
            json!({"client_secret": ""}),
            "client_secret",
        ),
        ("icon = \"fa-shield\"", json!({"icon": "fa-shield"}), "icon"),
        ("slug = \"token\"", json!({"slug": "token"}), "slug"),
        (
            "sort_order = 5000",
            json!({"sort_order": 5000}),
            "sort_order",
        ),
        (
            "params = { url = \"https://x.example\" }",
            json!({"params": {"url": "https://x.example"}}),
            "params.url",
        ),
        (
            "params = { tenant = \"a b\" }",
            json!({"params": {"tenant": "a b"}}),
            "params.tenant",
        ),
        (
            "admin = { groups = [\"\"] }",
            json!({"admin_rules": {"groups": [""]}}),
            "admin_rules.groups[0]",
        ),
        (
            "admin = { email_domains = [\"not a domain\"] }",
            json!({"admin_rules": {"email_domains": ["not a domain"]}}),
            "admin_rules.email_domains[0]",
        ),
    ];
    for (table, body, api_field) in cases {
        let (file_field, file_message) = file_error(table);
        assert_eq!(
            file_field.replace("admin.", "admin_rules."),
            api_field,
            "{table}: {file_message}"
        );
        let (status, v, _) = app.admin().put("/providers/authentik", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["error"], "invalid_input", "{body}: {v}");
        assert_eq!(v["field"], api_field, "{body}: {v}");
        assert_eq!(v["message"], file_message.as_str(), "{body}: {v}");
    }
    // Nothing was stored.
    assert_eq!(app.store.get("authentik").await.unwrap(), before);
}

#[tokio::test]
async fn a_custom_provider_is_created_only_with_values_the_file_accepts() {
    let fake = FakeAuthentik::start().await;
    let corp = "[providers.corp]\nname = \"Corp\"\nissuer = \"https://sso.corp.example/\"\n";
    let app = app_with(&fake, admin_settings(&fake), |b| {
        b.providers(
            Providers::builtin()
                .with_toml_str("corp.toml", corp)
                .unwrap(),
        )
    })
    .await;
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    let file = Providers::builtin()
        .with_toml_str(
            "app.toml",
            &format!("{corp}[settings.corp]\nscopes = [\"email\"]\n"),
        )
        .unwrap_err();
    let (status, v, _) = app
        .admin()
        .post(
            "/providers",
            Some(json!({"id": "corp", "client_id": "c", "scopes": ["email"]})),
        )
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("scopes")), "{v}");
    assert_eq!(v["message"], file.errors()[0].message.as_str(), "{v}");
    assert!(app.store.get("corp").await.unwrap().is_none());
}
