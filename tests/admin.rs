//! The admin API (issue 9): who may call it, what it shows, what it refuses, and that a change
//! is visible at the next sign-in. Also the admin rules end to end.

mod common;

use common::*;
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use serde_json::{Value, json};
use tower_oidc::config::{AdminRules, ProviderSettings};
use tower_oidc::store::SettingsStore;
use tower_oidc::testing::FakeAuthentik;
use tower_oidc::{OidcLayerBuilder, Providers, Secret};

/// A custom provider defined in providers.toml, for ordering and create/delete.
const CORP_TOML: &str = r#"
[providers.corp]
name = "Corp SSO"
issuer = "https://sso.corp.example/"
sort_order = 50
"#;

fn with_corp(b: OidcLayerBuilder) -> OidcLayerBuilder {
    b.providers(
        Providers::builtin()
            .with_toml_str("providers.toml", CORP_TOML)
            .unwrap(),
    )
}

async fn admin_app(fake: &FakeAuthentik) -> App {
    app_with(fake, admin_settings(fake), with_corp).await
}

/// The app, alice signed in as admin on `app.client`, bob signed in on the returned client.
async fn setup(fake: &FakeAuthentik) -> (App, reqwest::Client) {
    let app = admin_app(fake).await;
    let out = sign_in(&app, "alice").await;
    assert_eq!(out.status, 303, "{out:?}");
    let bob = client();
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
    (app, bob)
}

/// Every admin route, with a body that would be valid.
fn routes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/providers", None),
        ("GET", "/providers/authentik", None),
        (
            "PUT",
            "/providers/authentik",
            Some(json!({"sort_order": 3})),
        ),
        (
            "PUT",
            "/providers/order",
            Some(json!([{"id": "authentik", "sort_order": 3}])),
        ),
        (
            "POST",
            "/providers",
            Some(json!({"id": "corp", "client_id": "c"})),
        ),
        ("DELETE", "/providers/corp", None),
        ("POST", "/providers/authentik/enable", None),
        ("POST", "/providers/authentik/disable", None),
        ("POST", "/providers/authentik/test", None),
    ]
}

#[tokio::test]
async fn every_route_is_401_signed_out_and_403_for_non_admins() {
    let fake = FakeAuthentik::start().await;
    let (app, bob) = setup(&fake).await;
    let nobody = client();
    for (method, path, body) in routes() {
        let (status, v, h) = app.admin_as(&nobody).call(method, path, body.clone()).await;
        assert_eq!(status, 401, "{method} {path} signed out: {v}");
        assert_eq!(v["error"], "unauthenticated");
        assert_eq!(h["cache-control"], "no-store");
        let (status, v, _) = app.admin_as(&bob).call(method, path, body).await;
        assert_eq!(status, 403, "{method} {path} as bob: {v}");
        assert_eq!(v["error"], "forbidden");
    }
    // Nothing changed.
    assert_eq!(
        app.store.get("authentik").await.unwrap(),
        Some(admin_settings(&fake))
    );
}

#[tokio::test]
async fn admin_lists_every_provider_with_sources_and_no_secret() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, v, h) = app.admin().get("/providers").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(h["cache-control"], "no-store");
    let list = v.as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|p| p["id"].as_str().unwrap()).collect();
    // Every built-in provider (enabled or not) and the custom one.
    assert_eq!(
        ids.len(),
        tower_oidc::Providers::builtin().len() + 1,
        "{ids:?}"
    );
    let mine: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|i| ["authentik", "corp"].contains(i))
        .collect();
    assert_eq!(mine, ["authentik", "corp"], "sorted like the login page");
    let a = list.iter().find(|p| p["id"] == "authentik").unwrap();
    assert_eq!(a["origin"], "builtin");
    assert_eq!(a["custom"], false);
    assert_eq!(a["enabled"], true);
    assert_eq!(a["url"], fake.issuer());
    assert_eq!(a["client_id"], fake.client_id());
    assert_eq!(a["client_secret_set"], true);
    assert_eq!(a["sort_order"], 7);
    assert_eq!(a["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(a["email_trust"], "verified_claim");
    assert_eq!(
        a["redirect_uri"],
        format!("{}/api/auth/providers/authentik/callback", app.url)
    );
    assert_eq!(
        a["backchannel_logout_uri"],
        format!(
            "{}/api/auth/providers/authentik/backchannel-logout",
            app.url
        )
    );
    assert_eq!(
        a["frontchannel_logout_uri"],
        format!(
            "{}/api/auth/providers/authentik/frontchannel-logout",
            app.url
        )
    );
    assert_eq!(a["sources"]["url"], "store");
    assert_eq!(a["sources"]["sort_order"], "builtin");
    assert_eq!(a["sources"]["scopes"], "builtin");
    assert_eq!(a["sources"]["client_secret"], "store");
    let corp = list.iter().find(|p| p["id"] == "corp").unwrap();
    assert_eq!(corp["origin"], "file");
    assert_eq!(corp["custom"], true);
    assert_eq!(corp["enabled"], false);
    assert_eq!(corp["client_secret_set"], false);
    assert_eq!(corp["sources"]["enabled"], "default");
    assert_eq!(corp["sources"]["sort_order"], "file");
    assert!(
        !v.to_string().contains(fake.client_secret()),
        "the client secret is never returned"
    );
    let (status, one, _) = app.admin().get("/providers/authentik").await;
    assert_eq!(status, 200);
    assert_eq!(&one, a);
    let (status, v, _) = app.admin().get("/providers/nope").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("provider_unknown"))
    );
}

/// `[settings.authentik]` seeded from a file: the secret as `${AUTHENTIK_CLIENT_SECRET}`, the
/// rest literal. The API names the environment for the secret and the file for the others,
/// until the admin stores settings.
#[tokio::test]
async fn sources_name_the_environment_for_values_seeded_from_env_vars() {
    let fake = FakeAuthentik::start().await;
    let toml = format!(
        r#"
[settings.authentik]
enabled = true
url = "{url}"
client_id = "{client_id}"
client_secret = "${{AUTHENTIK_CLIENT_SECRET}}"

[settings.authentik.admin]
groups = ["authentik Admins"]
"#,
        url = fake.issuer(),
        client_id = fake.client_id(),
    );
    let secret = fake.client_secret().to_owned();
    let env = move |name: &str| (name == "AUTHENTIK_CLIENT_SECRET").then(|| secret.clone());
    let providers = Providers::builtin()
        .with_toml_str_env("app.toml", &toml, &env)
        .unwrap();
    let app = app_with(&fake, admin_settings(&fake), |b| b.providers(providers)).await;
    // Only the seeded settings: nothing in the store.
    SettingsStore::delete(&app.store, "authentik")
        .await
        .unwrap();
    let out = sign_in(&app, "alice").await;
    assert_eq!(
        out.status, 303,
        "the seeded settings (secret from env) sign in: {out:?}"
    );

    let (status, v, _) = app.admin().get("/providers/authentik").await;
    assert_eq!(status, 200, "{v}");
    let sources = &v["sources"];
    assert_eq!(sources["client_secret"], "environment", "{v}");
    assert_eq!(sources["url"], "file", "{v}");
    assert_eq!(sources["client_id"], "file", "{v}");
    assert_eq!(sources["enabled"], "file", "{v}");
    assert_eq!(sources["admin_rules"], "file", "{v}");
    assert_eq!(sources["sort_order"], "builtin", "{v}");
    assert_eq!(sources["slug"], Value::Null, "{v}");
    assert_eq!(v["client_secret_set"], true);
    assert!(!v.to_string().contains(fake.client_secret()));

    // Once the admin saves, every value the settings hold comes from the store.
    let (status, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"sort_order": 3}))
        .await;
    assert_eq!(status, 200, "{v}");
    for field in ["client_secret", "url", "client_id", "sort_order", "enabled"] {
        assert_eq!(v["sources"][field], "store", "{field}: {v}");
    }
}

#[tokio::test]
async fn the_client_secret_is_write_only() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, v, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"client_secret": "n3w-s3cret-value"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["client_secret_set"], true);
    assert!(v.get("client_secret").is_none());
    assert!(!v.to_string().contains("n3w-s3cret-value"));
    let (_, all, _) = app.admin().get("/providers").await;
    assert!(!all.to_string().contains("n3w-s3cret-value"));
    let stored = app.store.get("authentik").await.unwrap().unwrap();
    assert_eq!(stored.client_secret, Some(Secret::new("n3w-s3cret-value")));
    // null removes it.
    let (_, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"client_secret": null}))
        .await;
    assert_eq!(v["client_secret_set"], false);
}

/// Issue 16: an admin turns refresh tokens off per provider: the view says so (with the
/// spec's refresh scope), and the next sign-in no longer asks for `offline_access`.
#[tokio::test]
async fn an_admin_turns_refresh_tokens_off() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (_, v, _) = app.admin().get("/providers/authentik").await;
    assert_eq!(v["refresh_tokens"], true, "{v}");
    assert_eq!(v["refresh_scope"], "offline_access");
    let scope_of_next_sign_in = || async {
        let r = client()
            .get(app.authorize_url("?login_hint=bob"))
            .send()
            .await
            .unwrap();
        let to = location(&r).unwrap();
        param(&to, "scope").unwrap()
    };
    assert!(scope_of_next_sign_in().await.contains("offline_access"));
    let (status, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"refresh_tokens": false}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["refresh_tokens"], false);
    assert_eq!(v["sources"]["refresh_tokens"], "store");
    assert!(
        !app.store
            .get("authentik")
            .await
            .unwrap()
            .unwrap()
            .refresh_tokens
    );
    let scope = scope_of_next_sign_in().await;
    assert!(!scope.contains("offline_access"), "{scope}");
    let (status, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"refresh_tokens": "no"}))
        .await;
    assert_eq!(status, 400, "{v}");
}

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_named() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let before = app.store.get("authentik").await.unwrap();
    for (body, field) in [
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "http://auth.example.com"}), "url"),
        (json!({"scopes": ["profile", "email"]}), "scopes"),
        (json!({"sort_order": 5000}), "sort_order"),
        (json!({"sort_order": "first"}), "sort_order"),
        (json!({"icon": "fa-shield"}), "icon"),
        (json!({"email_trust": "maybe"}), "email_trust"),
        (
            json!({"admin_rules": {"groups": "admins"}}),
            "admin_rules.groups",
        ),
        (
            json!({"admin_rules": {"domains": []}}),
            "admin_rules.domains",
        ),
        (json!({"slug": "a/b"}), "slug"),
        (json!({"enabled": 1}), "enabled"),
        (json!({"client_id": null}), "client_id"),
        (json!({"issuerUrl": "https://x.example"}), "issuerUrl"),
        (json!({"displayName": "Mine"}), "displayName"),
        (json!({"client_secret_set": false}), "client_secret_set"),
        (json!({"id": "other"}), "id"),
    ] {
        let (status, v, _) = app.admin().put("/providers/authentik", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["error"], "invalid_input", "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}: {v}"
        );
    }
    // A valid field next to an unknown one changes nothing.
    let (status, _, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"sort_order": 1, "scope": "openid"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.store.get("authentik").await.unwrap(), before);
    // Not JSON, and not declared as JSON.
    let r = app
        .client
        .put(format!("{}/api/auth/admin/providers/authentik", app.url))
        .header(ORIGIN, app.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .put(format!("{}/api/auth/admin/providers/authentik", app.url))
        .header(ORIGIN, app.url.clone())
        .header(CONTENT_TYPE, "text/plain")
        .body(r#"{"enabled":false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(app.store.get("authentik").await.unwrap(), before);
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = app
            .client
            .post(format!(
                "{}/api/auth/admin/providers/authentik/disable",
                app.url
            ))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
    }
    assert!(app.store.get("authentik").await.unwrap().unwrap().enabled);
    // Reading is not a write: a GET needs no Origin.
    let r = app
        .client
        .get(app.at("/api/auth/admin/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn login_order(app: &App) -> Vec<String> {
    let v = get_json(&app.client, &app.at("/api/auth/providers")).await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sort_order_and_reorder_change_the_login_page() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, v, _) = app.admin().post("/providers", Some(json!({"id": "corp", "enabled": true, "client_id": "corp-app", "client_secret": "corp-secret"})))
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(login_order(&app).await, ["authentik", "corp"]);
    let (status, v, _) = app
        .admin()
        .put("/providers/corp", json!({"sort_order": 1}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["sources"]["sort_order"], "store");
    assert_eq!(login_order(&app).await, ["corp", "authentik"]);
    // Reorder many at once.
    let (status, v, _) = app
        .admin()
        .put(
            "/providers/order",
            json!([{"id": "authentik", "sort_order": 1}, {"id": "corp", "sort_order": 2}]),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v[0]["id"], "authentik");
    assert_eq!(login_order(&app).await, ["authentik", "corp"]);
    // All or nothing: one bad entry, nothing is written.
    for (body, field) in [
        (
            json!([{"id": "corp", "sort_order": 0}, {"id": "nope", "sort_order": 1}]),
            "[1].id",
        ),
        (
            json!([{"id": "corp", "sort_order": 0}, {"id": "authentik", "sort_order": 99999}]),
            "[1].sort_order",
        ),
        (
            json!([{"id": "corp", "sort_order": 0, "pinned": true}]),
            "[0].pinned",
        ),
        (
            json!([{"id": "corp", "sort_order": 0}, {"id": "corp", "sort_order": 1}]),
            "[1].id",
        ),
    ] {
        let (status, v, _) = app.admin().put("/providers/order", body).await;
        assert_eq!((status, v["field"].as_str()), (400, Some(field)), "{v}");
    }
    assert_eq!(login_order(&app).await, ["authentik", "corp"]);
}

#[tokio::test]
async fn disabling_refuses_the_next_sign_in_and_enabling_restores_it() {
    let fake = FakeAuthentik::start().await;
    let (app, bob) = setup(&fake).await;
    let (status, v, _) = app.admin().post("/providers/authentik/disable", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["enabled"], false);
    let (_, to) = sign_in_with(&app, &bob, "bob").await;
    assert!(to.contains("error=provider_disabled"), "{to}");
    assert!(login_order(&app).await.is_empty());
    let (status, _, _) = app.admin().post("/providers/authentik/enable", None).await;
    assert_eq!(status, 200);
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
    // PUT {"enabled": false} does the same.
    let (status, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"enabled": false}))
        .await;
    assert_eq!((status, &v["enabled"]), (200, &json!(false)));
}

#[tokio::test]
async fn keep_one_sign_in_method_refuses_to_disable_the_last_one() {
    let fake = FakeAuthentik::start().await;
    let app = app_with(&fake, admin_settings(&fake), |b| {
        with_corp(b).keep_one_sign_in_method(true)
    })
    .await;
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    let (status, v, _) = app.admin().post("/providers/authentik/disable", None).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"], "last_sign_in_method");
    assert_eq!(v["field"], "enabled");
    let (status, _, _) = app
        .admin()
        .put("/providers/authentik", json!({"enabled": false}))
        .await;
    assert_eq!(status, 409);
    assert!(app.store.get("authentik").await.unwrap().unwrap().enabled);
    // With a second one enabled, the first may go.
    let (status, v, _) = app
        .admin()
        .post(
            "/providers",
            Some(json!({"id": "corp", "enabled": true, "client_id": "corp-app"})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let (status, _, _) = app.admin().post("/providers/authentik/disable", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_wrong_client_secret_gives_invalid_client_at_the_next_sign_in() {
    let fake = FakeAuthentik::start().await;
    let (app, bob) = setup(&fake).await;
    let (status, _, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"client_secret": "wrong-secret"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, to) = sign_in_with(&app, &bob, "bob").await;
    assert!(to.contains("error=invalid_client"), "{status} {to}");
    // And the right one again works, without a restart.
    let (status, _, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"client_secret": fake.client_secret()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
}

#[tokio::test]
async fn enabling_needs_usable_settings() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, v, _) = app.admin().post("/providers/corp/enable", None).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("client_id")),
        "{v}"
    );
    let (status, v, _) = app
        .admin()
        .put("/providers/authentik", json!({"url": null}))
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("url")), "{v}");
}

#[tokio::test]
async fn custom_providers_are_created_and_deleted_built_ins_are_not_deleted() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, v, _) = app.admin().delete("/providers/authentik").await;
    assert_eq!((status, v["field"].as_str()), (400, Some("id")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("cannot be deleted"));
    let (status, v, _) = app
        .admin()
        .post(
            "/providers",
            Some(json!({"id": "authentik", "client_id": "x"})),
        )
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("id")), "{v}");
    let (status, v, _) = app
        .admin()
        .post(
            "/providers",
            Some(json!({"id": "nowhere", "client_id": "x"})),
        )
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("id")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("providers.toml"));
    let (status, v, _) = app.admin().post("/providers", Some(json!({"id": "corp", "client_id": "corp-app", "client_secret": "corp-secret", "icon": "FaKey"})))
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["custom"], true);
    assert_eq!(v["icon"], "FaKey");
    assert_eq!(v["client_secret_set"], true);
    assert!(!v.to_string().contains("corp-secret"));
    let (status, v, _) = app
        .admin()
        .post(
            "/providers",
            Some(json!({"id": "corp", "client_id": "corp-app"})),
        )
        .await;
    assert_eq!(status, 409, "{v}");
    let (status, v, _) = app.admin().delete("/providers/corp").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(app.store.get("corp").await.unwrap(), None);
    let (status, _, _) = app.admin().delete("/providers/corp").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn admin_granted_by_group() {
    let fake = FakeAuthentik::start().await;
    let (app, bob) = setup(&fake).await;
    let (_, me) = session(&app).await;
    assert_eq!(me["is_admin"], true);
    let (_, r) = session_in(&bob, &app.url).await;
    assert_eq!(r["is_admin"], false);
}

#[tokio::test]
async fn admin_revoked_when_the_group_goes_away() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, _, _) = app.admin().get("/providers").await;
    assert_eq!(status, 200);
    fake.update_user("alice", |u| u.set_groups(["users"]));
    // Alice signs in again elsewhere: the rule no longer matches.
    let other = client();
    assert_eq!(sign_in_with(&app, &other, "alice").await.0, 303);
    let (_, me) = session_in(&other, &app.url).await;
    assert_eq!(me["is_admin"], false);
    // The admin API reads the flag from the user store, so the older session lost access too.
    let (status, _, _) = app.admin().get("/providers").await;
    assert_eq!(status, 403);
    // And the group coming back grants it again.
    fake.update_user("alice", |u| u.set_groups(["authentik Admins"]));
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    let (status, _, _) = app.admin().get("/providers").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn admin_granted_by_verified_email_domain_only() {
    let fake = FakeAuthentik::start().await;
    let settings = ProviderSettings {
        admin_rules: AdminRules {
            groups: vec![],
            email_domains: vec!["example.com".into()],
        },
        ..authentik_settings(&fake, UrlForm::Issuer)
    };
    let app = app_with(&fake, settings, |b| b).await;
    // Authentik says email_verified: false by default: no admin by domain.
    assert_eq!(sign_in(&app, "bob").await.status, 303);
    assert_eq!(session(&app).await.1["is_admin"], false);
    fake.update_user("bob", |u| u.set_email_verified(true));
    assert_eq!(sign_in(&app, "bob").await.status, 303);
    assert_eq!(session(&app).await.1["is_admin"], true);
    let (status, _, _) = app.admin().get("/providers").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn admin_rules_are_editable_and_apply_at_the_next_sign_in() {
    let fake = FakeAuthentik::start().await;
    let (app, bob) = setup(&fake).await;
    let (status, v, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"admin_rules": {"groups": ["authentik Admins", "users"], "email_domains": []}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["admin_rules"]["groups"],
        json!(["authentik Admins", "users"])
    );
    assert_eq!(sign_in_with(&app, &bob, "bob").await.0, 303);
    let (status, _, _) = app.admin_as(&bob).get("/providers").await;
    assert_eq!(status, 200, "bob is in `users`, now an admin group");
}

#[tokio::test]
async fn unknown_admin_routes_and_methods() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (status, _, _) = app.admin().get("/nothing").await;
    assert_eq!(status, 404);
    let (status, _, _) = app
        .admin()
        .call("PATCH", "/providers/authentik", None)
        .await;
    assert_eq!(status, 405);
}

/// Issue 19: an admin sets the internal URL (split horizon); it must be an origin.
#[tokio::test]
async fn an_admin_sets_the_internal_url() {
    let fake = FakeAuthentik::start().await;
    let (app, _) = setup(&fake).await;
    let (_, v, _) = app.admin().get("/providers/authentik").await;
    assert_eq!(v["internal_url"], serde_json::Value::Null, "{v}");
    let (status, v, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"internal_url": "http://authentik-server:9000/application/o/"}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["field"], "internal_url", "{v}");
    let (status, v, _) = app
        .admin()
        .put(
            "/providers/authentik",
            json!({"internal_url": "http://authentik-server:9000"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["internal_url"], "http://authentik-server:9000");
    assert_eq!(v["sources"]["internal_url"], "store");
    let stored = app.store.get("authentik").await.unwrap().unwrap();
    assert_eq!(
        stored.internal_url.as_deref(),
        Some("http://authentik-server:9000")
    );
}
