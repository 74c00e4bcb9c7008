//! Issue 24, item 4: the admin API checks a provider's settings with the rules a
//! `[settings.<id>]` table of `providers.toml` obeys (one code path,
//! `tower_oidc::config::settings_errors`), so a value the file refuses cannot be stored through
//! the API, and the API's typed 400 carries the message `tower-oidc check` gives for the file.
//!
//! Issue 24, item 2: the file reloaded while the app serves (`OidcLayerBuilder::providers_file`,
//! `ProvidersFile::reload_now`, `watch_providers`): a changed spec reaches the next sign-in, a
//! broken file is refused with its positions logged and the old providers stay, a sign-in in
//! flight finishes with the spec it started with, and an admin's settings outlive a reload.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tower_oidc::OidcLayer;
use tower_oidc::config::Providers;
use tower_oidc::layer::BuildError;
use tower_oidc::provider::Reload;
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

/// A `providers.toml` in a directory of its own.
struct TomlFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TomlFile {
    fn new(text: &str) -> TomlFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.toml");
        std::fs::write(&path, text).unwrap();
        TomlFile { _dir: dir, path }
    }

    /// Replaces the content the way editors and deploy tools do: a new file renamed over it.
    fn write(&self, text: &str) {
        let tmp = self.path.with_extension("toml.new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &self.path).unwrap();
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// The scopes the app's next authorize redirect asks the provider for.
async fn scopes(app: &App) -> Vec<String> {
    let r = authorize(app, &client(), "").await;
    assert_eq!(r.status(), 302, "authorize: {:?}", r.text().await);
    let to = location(&r).unwrap();
    assert!(to.starts_with("http://127.0.0.1"), "{to}");
    param(&to, "scope")
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

async fn reload(app: &App) -> Result<Reload, tower_oidc::config::ConfigErrors> {
    app.layer.providers_file().unwrap().reload_now().await
}

/// An app over `fake` whose providers are the built-in ones with `file` on top; `settings`
/// stored first.
async fn app_on_file(
    settings: Vec<(&str, tower_oidc::ProviderSettings)>,
    provider: &str,
    file: &Path,
    watch: bool,
) -> App {
    let store = TestStore::from_env().await;
    for (id, s) in &settings {
        SettingsStore::put(&store, id, s).await.unwrap();
    }
    let file = file.to_owned();
    serve_on(provider, store, move |b| {
        b.providers_file(file).watch_providers(watch)
    })
    .await
}

#[tokio::test]
async fn a_changed_file_reaches_the_next_sign_in_and_a_broken_one_is_refused_with_its_positions() {
    let (logs, _guard) = Logs::capture();
    let fake = FakeAuthentik::start().await;
    let file =
        TomlFile::new("[providers.authentik]\nscopes = [\"openid\", \"email\", \"profile\"]\n");
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let app = app_on_file(
        vec![("authentik", settings)],
        "authentik",
        &file.path,
        false,
    )
    .await;
    assert!(scopes(&app).await.contains(&"profile".to_owned()));
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    assert_eq!(reload(&app).await, Ok(Reload::Unchanged));

    // The scopes change: the next authorize asks for the new ones, and signing in still works.
    file.write("[providers.authentik]\nscopes = [\"openid\", \"email\"]\n");
    assert_eq!(
        reload(&app).await,
        Ok(Reload::Applied {
            changed: vec!["authentik".into()]
        })
    );
    assert_eq!(scopes(&app).await, ["openid", "email", "offline_access"]);
    assert_eq!(sign_in(&app, "alice").await.status, 303);

    // A broken file: the parser's own errors, each logged at WARN with file:line:column; the
    // providers loaded before stay in force.
    let broken = "[providers.authentik]\nscopes = [\"email\"]\nisuer = \"x\"\n";
    file.write(broken);
    let expected = Providers::builtin()
        .with_toml_str(&file.name(), broken)
        .unwrap_err();
    let got = reload(&app).await.unwrap_err();
    assert_eq!(got, expected);
    assert_eq!(got.errors().len(), 2, "{got}");
    let text = logs.text();
    for e in got.errors() {
        assert!(e.line > 0 && e.column > 0, "{e}");
        assert!(
            text.lines()
                .any(|l| l.contains("WARN") && l.contains(&e.to_string())),
            "no WARN line with `{e}` in:\n{text}"
        );
    }
    assert_eq!(scopes(&app).await, ["openid", "email", "offline_access"]);
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    // Refused once, not again until it changes.
    assert_eq!(reload(&app).await, Ok(Reload::Unchanged));

    // Fixed: applied (a comment alone changes no provider).
    file.write("# fixed\n[providers.authentik]\nscopes = [\"openid\", \"email\"]\n");
    assert_eq!(reload(&app).await, Ok(Reload::Applied { changed: vec![] }));
}

#[tokio::test]
async fn a_broken_file_fails_the_build_with_the_same_errors() {
    let broken = "[providers.authentik]\nscopes = [\"email\"]\n";
    let file = TomlFile::new(broken);
    let expected = Providers::builtin()
        .with_toml_str(&file.name(), broken)
        .unwrap_err();
    let built = OidcLayer::builder()
        .providers_file(&file.path)
        .base_url("http://127.0.0.1:3000")
        .build();
    assert_eq!(built.unwrap_err(), BuildError::Config(expected));
    let built = OidcLayer::builder()
        .watch_providers(true)
        .base_url("http://127.0.0.1:3000")
        .build();
    assert_eq!(built.unwrap_err(), BuildError::WatchWithoutFile);
}

/// The built-in Authentik spec under another id.
fn authentik_as(id: &str) -> String {
    let builtin = tower_oidc::config::BUILTIN_PROVIDERS_TOML;
    let start = builtin.find("[providers.authentik]").unwrap();
    let end = builtin[start..]
        .match_indices("\n[providers.")
        .map(|(i, _)| start + i)
        .find(|&i| !builtin[i + 1..].starts_with("[providers.authentik"))
        .unwrap_or(builtin.len());
    builtin[start..end].replace("[providers.authentik", &format!("[providers.{id}"))
}

#[tokio::test]
async fn a_sign_in_in_flight_finishes_with_the_spec_it_started_with() {
    let fake = FakeAuthentik::start().await;
    let file = TomlFile::new(&authentik_as("corp"));
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let app = app_on_file(vec![("corp", settings)], "corp", &file.path, false).await;
    let (a, b) = (client(), client());
    let (a_callback, _) = start_in(&app, &a, "?login_hint=alice").await;
    let (b_callback, _) = start_in(&app, &b, "?login_hint=bob").await;

    // The spec changes to a discovery URL that answers 404: new sign-ins fail, the one in
    // flight finishes with the endpoints and keys of the spec it started with.
    let discovery = "discovery = \"{issuer}.well-known/openid-configuration\"";
    let nowhere = "discovery = \"{url}/nowhere/.well-known/openid-configuration\"";
    let changed = authentik_as("corp").replace(discovery, nowhere);
    assert_ne!(changed, authentik_as("corp"));
    file.write(&changed);
    assert_eq!(
        reload(&app).await,
        Ok(Reload::Applied {
            changed: vec!["corp".into()]
        })
    );
    let r = authorize_as_api(&app, "").await;
    assert_ne!(r.status(), 302);
    let out = finish_in(&a, &a_callback).await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");

    // The provider is removed: new sign-ins are `provider_unknown`; the one still in flight
    // finishes as it started (its settings, in the store, still enable it).
    file.write("");
    assert_eq!(
        reload(&app).await,
        Ok(Reload::Applied {
            changed: vec!["corp".into()]
        })
    );
    let r = authorize_as_api(&app, "").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "provider_unknown", "{v}");
    let out = finish_in(&b, &b_callback).await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");
}

#[tokio::test]
async fn seeded_settings_follow_the_file_and_an_admins_never_do() {
    let fake = FakeAuthentik::start().await;
    let seed = |scopes: &str| {
        format!(
            "[settings.authentik]\nenabled = true\nurl = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nscopes = {scopes}\nadmin = {{ groups = [\"authentik Admins\"] }}\n",
            fake.issuer(),
            fake.client_id(),
            fake.client_secret()
        )
    };
    let file = TomlFile::new(&seed(r#"["openid", "email"]"#));
    let app = app_on_file(vec![], "authentik", &file.path, false).await;
    assert_eq!(scopes(&app).await, ["openid", "email", "offline_access"]);

    // Nothing stored: the file's seed is in force, and a reload replaces it.
    file.write(&seed(r#"["openid", "profile"]"#));
    assert_eq!(
        reload(&app).await,
        Ok(Reload::Applied {
            changed: vec!["authentik".into()]
        })
    );
    assert_eq!(scopes(&app).await, ["openid", "profile", "offline_access"]);

    // An admin sets the scopes through the admin API: stored, so in force.
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    let admins = json!({"scopes": ["openid", "email", "profile"]});
    let (status, v, _) = app.admin().put("/providers/authentik", admins).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        scopes(&app).await,
        ["openid", "email", "profile", "offline_access"]
    );

    // The file's seed says otherwise and is reloaded: the admin's value stays, in the store
    // and in the next sign-in.
    file.write(&seed(r#"["openid"]"#));
    assert_eq!(
        reload(&app).await,
        Ok(Reload::Applied {
            changed: vec!["authentik".into()]
        })
    );
    assert_eq!(
        scopes(&app).await,
        ["openid", "email", "profile", "offline_access"]
    );
    let stored = app.store.get("authentik").await.unwrap().unwrap();
    assert_eq!(
        stored.scopes.as_deref(),
        Some(&["openid".to_owned(), "email".into(), "profile".into()][..])
    );
}

#[tokio::test]
async fn a_watched_file_is_reloaded_by_polling() {
    let fake = FakeAuthentik::start().await;
    let file =
        TomlFile::new("[providers.authentik]\nscopes = [\"openid\", \"email\", \"profile\"]\n");
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let app = app_on_file(vec![("authentik", settings)], "authentik", &file.path, true).await;
    assert!(scopes(&app).await.contains(&"profile".to_owned()));
    file.write("[providers.authentik]\nscopes = [\"openid\", \"email\"]\n");
    // Polled once a second; a generous bound for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if scopes(&app).await == ["openid", "email", "offline_access"] {
            break;
        }
        assert!(Instant::now() < deadline, "the change was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
