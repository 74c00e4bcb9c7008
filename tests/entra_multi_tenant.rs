//! Microsoft Entra ID multi-tenant sign-in (issue 20, item 2): with the `tenant` parameter
//! `common`, `organizations` or `consumers`, the discovery document names the templated issuer
//! `…/{tenantid}/v2.0`; each ID token is checked against its own tenant's issuer (its `tid` a
//! plain tenant id, its `iss` exactly the template with that `tid`), the tenant must be on the
//! settings' `allowed_tenants`, and identities are keyed by that tenant's issuer. The security
//! matrix rows MT1–MT7 (`docs/security-matrix.md` §5e) are named after these tests.

mod common;

use common::*;
use serde_json::Value;
use tower_oidc::ErrorCode;
use tower_oidc::config::{ProviderSettings, Providers};
use tower_oidc::store::{Identity, UserId, UserStore};
use tower_oidc::testing::{Endpoint, FakeIssuer, FakeUser, Preset};

const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const FABRIKAM: &str = "3c9a1f4e-0b7d-4f7e-9a43-5f2c1b8e6d21";

/// A multi-tenant Entra fake (`organizations`) and an app allowing `allowed`.
async fn setup(allowed: &[&str]) -> (FakeIssuer, App) {
    let fake = FakeIssuer::builder(Preset::entra())
        .user(FakeUser::new("alice").name("Alice Anders"))
        .multi_tenant("organizations")
        .start()
        .await;
    let app = app_for("entra", settings(&fake, allowed), |b| b).await;
    (fake, app)
}

fn settings(fake: &FakeIssuer, allowed: &[&str]) -> ProviderSettings {
    ProviderSettings {
        auto_register: true,
        allowed_tenants: allowed.iter().map(|t| (*t).to_owned()).collect(),
        ..fake.settings()
    }
}

/// The identities of the user the browser `c` is signed in as.
async fn identities_in(app: &App, c: &reqwest::Client) -> (String, Vec<Identity>) {
    let (status, s) = session_in(c, &app.url).await;
    assert_eq!(status, 200, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    let ids = app.store.identities(&UserId(id.clone())).await.unwrap();
    (id, ids)
}

/// A refused sign-in: the error `code`, no session cookie, no userinfo call after the token.
async fn refused(fake: &FakeIssuer, app: &App, code: &str) {
    let userinfo = fake.count(Endpoint::Userinfo);
    let out = sign_in(app, "alice").await;
    assert_eq!(out.error_code().as_deref(), Some(code), "{out:?}");
    assert!(!out.set_session(), "{out:?}");
    assert_eq!(
        fake.count(Endpoint::Userinfo),
        userinfo,
        "userinfo was called"
    );
}

#[tokio::test]
async fn multi_tenant_allowed_tenant_signs_in() {
    let (fake, app) = setup(&[FABRIKAM, CONTOSO]).await;
    // The fake serves what Microsoft serves: discovery at `organizations`, templated issuer.
    assert!(fake.issuer().unwrap().ends_with("/{tenantid}/v2.0"));
    fake.sign_for_tenant(CONTOSO);
    let c = client();
    let (status, to) = sign_in_with(&app, &c, "alice").await;
    assert_eq!(status, 303, "{to}");
    assert!(!to.contains("error="), "{to}");
    let (_, ids) = identities_in(&app, &c).await;
    assert_eq!(ids.len(), 1);
    // The identity is keyed by the tenant's own issuer, never the template.
    assert_eq!(ids[0].issuer, fake.tenant_issuer(CONTOSO).unwrap());
    assert_eq!(ids[0].provider, "entra");
    assert!(
        fake.count(Endpoint::Discovery) >= 1,
        "discovery of `organizations` was not fetched"
    );
}

#[tokio::test]
async fn multi_tenant_other_tenant_is_refused_with_tenant_not_allowed() {
    let (fake, app) = setup(&[CONTOSO]).await;
    fake.sign_for_tenant(FABRIKAM);
    refused(&fake, &app, "tenant_not_allowed").await;
    // The code is a stable one, with its own words on the error page and for JSON clients.
    let code = ErrorCode::parse("tenant_not_allowed").unwrap();
    assert_eq!(code.status(), 403);
    let page = get_text(
        &app.client,
        &format!("{}/api/auth/error?error=tenant_not_allowed", app.url),
    )
    .await;
    assert!(page.contains(code.message()), "{page}");
    // Allowed again once listed (ASCII case ignored), with no restart.
    let s = settings(&fake, &[CONTOSO, &FABRIKAM.to_ascii_uppercase()]);
    tower_oidc::store::SettingsStore::put(&app.store, "entra", &s)
        .await
        .unwrap();
    assert!(sign_in(&app, "alice").await.set_session());
}

#[tokio::test]
async fn multi_tenant_iss_tid_mismatch_is_refused() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = setup(&[CONTOSO, FABRIKAM]).await;
    // Both tenants allowed, both issuers genuine shapes: a `tid` under another tenant's issuer
    // is refused either way round, before the signature is checked.
    fake.sign_mismatched_tenant(CONTOSO, FABRIKAM);
    refused(&fake, &app, "id_token_invalid").await;
    assert!(
        logs.text().contains("is not the issuer of its tenant"),
        "{}",
        logs.text()
    );
    fake.sign_mismatched_tenant(FABRIKAM, CONTOSO);
    refused(&fake, &app, "id_token_invalid").await;
    // The templated issuer itself is no tenant's issuer.
    fake.sign_mismatched_tenant("{tenantid}", CONTOSO);
    refused(&fake, &app, "id_token_invalid").await;
    fake.sign_for_tenant(CONTOSO);
    assert!(sign_in(&app, "alice").await.set_session());
}

#[tokio::test]
async fn multi_tenant_tid_must_be_a_plain_tenant_id() {
    let (fake, app) = setup(&[CONTOSO, ".."]).await;
    for bad in [
        format!("{CONTOSO}/x"),
        "..".to_owned(),
        "a?b".into(),
        "".into(),
    ] {
        fake.sign_for_tenant(&bad);
        refused(&fake, &app, "id_token_invalid").await;
    }
}

#[tokio::test]
async fn multi_tenant_empty_allow_list_refuses_everyone_with_a_warning() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = setup(&[]).await;
    fake.sign_for_tenant(CONTOSO);
    refused(&fake, &app, "tenant_not_allowed").await;
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("`allowed_tenants` setting is empty"),
        "no warning when the provider was activated:\n{text}"
    );
    // The provider check (and `tower-oidc doctor`, which runs it) says so too; the discovery
    // document's templated issuer passes its issuer check.
    let spec = Providers::builtin().get("entra").cloned().unwrap();
    let report = tower_oidc::admin::check::check_provider(
        &spec,
        &settings(&fake, &[]),
        "https://app.example.com/api/auth/providers/entra/callback",
        Default::default(),
    )
    .await;
    let item = |name: &str| report.checks.iter().find(|c| c.name == name).cloned();
    let tenants = item("tenants").expect("a tenants check");
    assert!(
        !tenants.ok && tenants.message.contains("allowed_tenants"),
        "{tenants:?}"
    );
    assert!(item("issuer").is_some_and(|c| c.ok), "{:?}", report.checks);
    assert!(!report.ok);
    let report = tower_oidc::admin::check::check_provider(
        &spec,
        &settings(&fake, &[CONTOSO]),
        "https://app.example.com/api/auth/providers/entra/callback",
        Default::default(),
    )
    .await;
    let tenants = report.checks.iter().find(|c| c.name == "tenants").unwrap();
    assert!(
        tenants.ok && tenants.message.contains(CONTOSO),
        "{tenants:?}"
    );
}

#[tokio::test]
async fn multi_tenant_same_sub_in_two_tenants_is_two_users() {
    // alice has no email here: nothing links the two identities but their key.
    let (fake, app) = setup(&[CONTOSO, FABRIKAM]).await;
    let mut users = Vec::new();
    for tenant in [CONTOSO, FABRIKAM] {
        fake.sign_for_tenant(tenant);
        let c = client();
        let (status, to) = sign_in_with(&app, &c, "alice").await;
        assert_eq!(status, 303, "{to}");
        assert!(!to.contains("error="), "{to}");
        users.push(identities_in(&app, &c).await);
    }
    let (a, ida) = &users[0];
    let (b, idb) = &users[1];
    assert_ne!(a, b, "one user for two tenants");
    assert_eq!(ida[0].subject, idb[0].subject, "the fake's sub is per user");
    assert_eq!(ida[0].issuer, fake.tenant_issuer(CONTOSO).unwrap());
    assert_eq!(idb[0].issuer, fake.tenant_issuer(FABRIKAM).unwrap());
    // Signing in again in the first tenant finds the first user.
    fake.sign_for_tenant(CONTOSO);
    let c = client();
    sign_in_with(&app, &c, "alice").await;
    assert_eq!(&identities_in(&app, &c).await.0, a);
}

#[tokio::test]
async fn single_tenant_entra_ignores_allowed_tenants() {
    // A tenant id as the parameter: one issuer, checked verbatim as before; the allow-list
    // (empty here) plays no part.
    let fake = FakeIssuer::start(Preset::entra()).await;
    let app = app_for("entra", settings(&fake, &[]), |b| b).await;
    let c = client();
    let (status, to) = sign_in_with(&app, &c, "alice").await;
    assert_eq!((status, to.contains("error=")), (303, false), "{to}");
    let (_, ids) = identities_in(&app, &c).await;
    assert_eq!(Some(ids[0].issuer.clone()), fake.issuer());
}

#[test]
fn multi_tenant_is_active_only_for_the_any_tenant_values() {
    use tower_oidc::provider::ResolvedProvider;
    let spec = Providers::builtin().get("entra").cloned().unwrap();
    let resolve = |tenant: &str| {
        let s = ProviderSettings {
            client_id: Some("c".into()),
            params: [("tenant".to_owned(), tenant.to_owned())].into(),
            allowed_tenants: vec![CONTOSO.into()],
            ..ProviderSettings::default()
        };
        ResolvedProvider::resolve(&spec, &s).unwrap()
    };
    for any in ["common", "organizations", "consumers", "Common"] {
        let p = resolve(any);
        assert!(p.multi_tenant().is_some(), "{any}");
        assert_eq!(
            p.endpoints.issuer.as_deref(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
        assert_eq!(
            p.endpoints.discovery,
            Some(format!(
                "https://login.microsoftonline.com/{any}/v2.0/.well-known/openid-configuration"
            ))
        );
        assert_eq!(
            p.tenant_issuer(CONTOSO).as_deref(),
            Some(format!("https://login.microsoftonline.com/{CONTOSO}/v2.0").as_str())
        );
        assert_eq!(p.tenant_issuer("a/b"), None);
        assert!(p.tenant_allowed(&CONTOSO.to_ascii_uppercase()) && !p.tenant_allowed(FABRIKAM));
    }
    let single = resolve(CONTOSO);
    assert!(single.multi_tenant().is_none() && single.allowed_tenants.is_none());
    assert_eq!(
        single.endpoints.issuer,
        Some(format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"))
    );
}

/// `providers.toml` errors of the new table and setting, pinned to line and column.
fn config_error(text: &str) -> tower_oidc::config::ConfigError {
    let errs = match Providers::builtin().with_toml_str("app.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.errors().to_vec(),
    };
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs.into_iter().next().unwrap()
}

#[test]
fn multi_tenant_table_and_allowed_tenants_are_validated_with_positions() {
    let base = "[providers.x]\nname = \"X\"\nissuer = \"https://x.example/{tenant}/v2\"\n";
    let e = config_error(&format!(
        "{base}[providers.x.multi_tenant]\nparam = \"tenant\"\nvalues = []\nclaim = \"tid\"\nplaceholder = \"tenantid\"\n"
    ));
    assert_eq!(
        (e.line, e.column, e.path.as_str()),
        (6, 10, "providers.x.multi_tenant.values")
    );
    let e = config_error(&format!(
        "{base}[providers.x.multi_tenant]\nparam = \"tenant\"\nvalues = [\"common\"]\nclaim = \"t id\"\nplaceholder = \"tenantid\"\n"
    ));
    assert_eq!(
        (e.line, e.path.as_str()),
        (7, "providers.x.multi_tenant.claim")
    );
    let e = config_error(&format!(
        "{base}[providers.x.multi_tenant]\nparam = \"tenant\"\nvalues = [\"common\"]\nclaim = \"tid\"\nplaceholder = \"tenantid\"\nextra = 1\n"
    ));
    assert_eq!((e.line, e.column), (9, 1));
    assert!(e.message.contains("unknown key `extra`"), "{}", e.message);
    // The parameter must be the issuer's.
    let e = config_error(
        "[providers.x]\nname = \"X\"\nissuer = \"https://x.example/v2\"\n[providers.x.multi_tenant]\nparam = \"tenant\"\nvalues = [\"common\"]\nclaim = \"tid\"\nplaceholder = \"tenantid\"\n",
    );
    assert_eq!(e.path, "providers.x.multi_tenant.param");
    assert!(e.message.contains("{tenant}"), "{}", e.message);
    // A setting's tenant that could add a path segment is refused where it is written.
    let e = config_error(
        "[settings.entra]\nallowed_tenants = [\"72f988bf-86f1-41af-91ab-2d7cd011db47\", \"a/b\"]\n",
    );
    assert_eq!(
        (e.line, e.path.as_str()),
        (2, "settings.entra.allowed_tenants[1]")
    );
    // The built-in Entra entry declares the table; the settings key loads.
    let p = Providers::builtin()
        .with_toml_str(
            "app.toml",
            "[settings.entra]\nallowed_tenants = [\"72f988bf-86f1-41af-91ab-2d7cd011db47\"]\n",
        )
        .unwrap();
    assert_eq!(p.seeded_settings()["entra"].allowed_tenants, [CONTOSO]);
    let mt = p.get("entra").unwrap().multi_tenant.clone().unwrap();
    assert_eq!(
        (mt.claim.as_str(), mt.placeholder.as_str()),
        ("tid", "tenantid")
    );
}

#[tokio::test]
async fn allowed_tenants_through_the_admin_api_is_a_checked_list() {
    // The fake's default alice is in `admins`, which the settings make app admins.
    let fake = FakeIssuer::builder(Preset::entra())
        .multi_tenant("organizations")
        .start()
        .await;
    fake.sign_for_tenant(CONTOSO);
    let mut s = settings(&fake, &[CONTOSO]);
    s.admin_rules.groups = vec!["admins".into()];
    let app = app_for("entra", s, |b| b).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let bad = serde_json::json!({"allowed_tenants": [CONTOSO, "x/y"]});
    let (status, answer, _) = app.admin().put("/providers/entra", bad).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.to_string().contains("allowed_tenants[1]"),
        "{answer}"
    );
    let good = serde_json::json!({"allowed_tenants": [CONTOSO, FABRIKAM]});
    let (status, answer, _) = app.admin().put("/providers/entra", good).await;
    assert_eq!(status, 200, "{answer}");
    let view: Value = if answer.get("allowed_tenants").is_some() {
        answer
    } else {
        app.admin().get("/providers/entra").await.1
    };
    assert_eq!(
        view["allowed_tenants"],
        serde_json::json!([CONTOSO, FABRIKAM]),
        "{view}"
    );
    let stored = tower_oidc::store::SettingsStore::get(&app.store, "entra")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.allowed_tenants, [CONTOSO, FABRIKAM]);
    // The admin page offers the field for a provider with the multi-tenant table.
    let page = get(&app.client, &format!("{}/api/auth/admin", app.url), HTML)
        .await
        .body;
    assert!(
        page.contains(&format!(
            "name=\"allowed_tenants\" value=\"{CONTOSO}, {FABRIKAM}\""
        )),
        "{page}"
    );
}

#[test]
fn multi_tenant_empty_allow_list_is_said_when_the_layer_is_built() {
    // Seeded settings are known at build: the warning comes before the first request.
    let (logs, _guard) = Logs::capture();
    let s = ProviderSettings {
        enabled: true,
        client_id: Some("app".into()),
        params: [("tenant".to_owned(), "organizations".to_owned())].into(),
        ..ProviderSettings::default()
    };
    let store = tower_oidc::store::MemoryStore::new();
    builder(&store, "http://127.0.0.1:3000")
        .provider("entra", s.clone())
        .build()
        .unwrap();
    assert!(
        logs.text().contains("`allowed_tenants` setting is empty"),
        "{}",
        logs.text()
    );
    // With a tenant allowed, nothing is said.
    let (logs, _guard) = Logs::capture();
    builder(&store, "http://127.0.0.1:3000")
        .provider(
            "entra",
            ProviderSettings {
                allowed_tenants: vec![CONTOSO.into()],
                ..s
            },
        )
        .build()
        .unwrap();
    assert!(!logs.text().contains("allowed_tenants"), "{}", logs.text());
}
