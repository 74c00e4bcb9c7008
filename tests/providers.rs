//! Every built-in provider, signed in through a `FakeIssuer` laid out as that provider, with the
//! profile the claim mapping gives checked field by field (issue 10).

mod common;

use common::*;
use serde_json::{Value, json};
use tower_oidc::Providers;
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{Identity, UserId, UserStore};
use tower_oidc::testing::{Endpoint, FakeIssuer, FakeUser, Preset};

const PICTURE: &str = "https://img.example/alice.png";
const AVATAR_HASH: &str = "8342729096ea3675442027381ff50dfe";

fn alice(preset: &Preset) -> FakeUser {
    let u = FakeUser::new("alice")
        .name("Alice Anders")
        .given_name("Alice")
        .family_name("Anders")
        .email("alice@example.com")
        .email_verified(true)
        .groups(["admins", "staff"]);
    if preset.provider() == "discord" {
        u.picture(AVATAR_HASH)
    } else {
        u.picture(PICTURE)
    }
}

/// What a sign-in should give: the identity's subject and the session's profile fields.
struct Want {
    subject: String,
    email: Option<&'static str>,
    email_verified: bool,
    name: Option<&'static str>,
    given_name: Option<&'static str>,
    family_name: Option<&'static str>,
    picture: Option<String>,
    username: Option<&'static str>,
    groups: &'static [&'static str],
}

fn uuid1() -> String {
    "6f9619ff-8b86-d011-b42d-000000000001".to_owned()
}

fn want(provider: &str) -> Want {
    let full = Want {
        subject: String::new(),
        email: Some("alice@example.com"),
        email_verified: true,
        name: Some("Alice Anders"),
        given_name: Some("Alice"),
        family_name: Some("Anders"),
        picture: Some(PICTURE.to_owned()),
        username: Some("alice"),
        groups: &[],
    };
    match provider {
        "google" => Want {
            subject: "100000000000000000001".into(),
            username: None,
            ..full
        },
        "discord" => Want {
            subject: "80351110224678913".into(),
            given_name: None,
            family_name: None,
            picture: Some(format!(
                "https://cdn.discordapp.com/avatars/80351110224678913/{AVATAR_HASH}.png"
            )),
            ..full
        },
        "github" => Want {
            subject: "583231".into(),
            given_name: None,
            family_name: None,
            ..full
        },
        "auth0" => Want {
            subject: "auth0|65f1c0de0000000000000001".into(),
            ..full
        },
        "kinde" => Want {
            subject: format!("kp_{:032x}", 1),
            username: None,
            ..full
        },
        "zitadel" => Want {
            subject: "200000080000000001".into(),
            ..full
        },
        "authentik" => Want {
            subject: format!("{:064x}", 1),
            given_name: None,
            family_name: None,
            picture: None,
            groups: &["admins", "staff"],
            ..full
        },
        "frontegg" | "oidc" => Want {
            subject: uuid1(),
            ..full
        },
        "pocketid" | "keycloak" | "authelia" => Want {
            subject: uuid1(),
            groups: &["admins", "staff"],
            ..full
        },
        "entra" => Want {
            subject: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ1".into(),
            picture: None,
            groups: &["admins", "staff"],
            ..full
        },
        "gitlab" => Want {
            subject: "1001".into(),
            given_name: None,
            family_name: None,
            groups: &["admins", "staff"],
            ..full
        },
        "okta" => Want {
            subject: format!("00u{:017x}", 1),
            ..full
        },
        // The name from the first authorization's `user` form field; no username or picture.
        "apple" => Want {
            subject: format!("{:06}.{:032x}.{:04}", 1, 1, 1),
            picture: None,
            username: None,
            ..full
        },
        other => panic!("no expectation for provider `{other}`"),
    }
}

async fn app_for_fake(fake: &FakeIssuer) -> App {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("tower_oidc=debug")
        .try_init();
    let settings = ProviderSettings {
        auto_register: true,
        ..fake.settings()
    };
    app_for(fake.provider(), settings, |b| b).await
}

/// The identities of the signed-in user.
async fn identities(app: &App, session: &Value) -> Vec<Identity> {
    let id = session["id"].as_str().unwrap().to_owned();
    app.store.identities(&UserId(id)).await.unwrap()
}

#[tokio::test]
async fn every_builtin_provider_signs_in_through_its_fake_with_the_mapped_profile() {
    let builtin = Providers::builtin();
    let presets = Preset::all();
    // Every built-in provider has a preset, and every preset a built-in provider.
    let mut ids: Vec<&str> = builtin.iter().map(|s| s.id.as_str()).collect();
    let mut preset_ids: Vec<&str> = presets.iter().map(|p| p.provider()).collect();
    ids.sort_unstable();
    preset_ids.sort_unstable();
    assert_eq!(ids, preset_ids);

    for preset in presets {
        let provider = preset.provider();
        let fake = FakeIssuer::builder(preset.clone())
            .user(alice(&preset))
            .start()
            .await;
        let app = app_for_fake(&fake).await;
        let out = sign_in(&app, "alice").await;
        assert!(
            out.set_session(),
            "{provider}: no session (redirected to {:?})",
            out.location
        );
        let (status, s) = session(&app).await;
        assert_eq!(status, 200, "{provider}");
        let w = want(provider);
        let ids = identities(&app, &s).await;
        assert_eq!(ids.len(), 1, "{provider}");
        assert_eq!(ids[0].provider, provider);
        assert_eq!(ids[0].subject, w.subject, "{provider}: subject");
        assert_eq!(s["email"], json!(w.email), "{provider}: email");
        assert_eq!(
            s["email_verified"],
            json!(w.email_verified),
            "{provider}: email_verified"
        );
        assert_eq!(s["name"], json!(w.name), "{provider}: name");
        assert_eq!(
            s["given_name"],
            json!(w.given_name),
            "{provider}: given_name"
        );
        assert_eq!(
            s["family_name"],
            json!(w.family_name),
            "{provider}: family_name"
        );
        assert_eq!(s["picture"], json!(w.picture), "{provider}: picture");
        assert_eq!(s["username"], json!(w.username), "{provider}: username");
        assert_eq!(s["groups"], json!(w.groups), "{provider}: groups");
        assert_eq!(s["provider"], json!(provider));
        // OIDC providers: the keys were fetched; OAuth2 ones have none.
        if preset.is_oidc() {
            assert_eq!(fake.count(Endpoint::Jwks), 1, "{provider}: JWKS");
            assert!(ids[0].issuer.starts_with(&fake.url()), "{provider}");
            assert_eq!(Some(ids[0].issuer.clone()), fake.issuer(), "{provider}");
        }
        assert_eq!(fake.count(Endpoint::Token), 1, "{provider}");
    }
}

/// Issue 16: every built-in provider whose fake issues refresh tokens the way the provider does
/// (its `refresh_scope` in providers.toml asked for, its rotation, Keycloak's nonce in the
/// refreshed ID token) refreshes an expired access token through its fake, twice; the others
/// send no refresh grant.
#[tokio::test]
async fn every_provider_with_refresh_tokens_refreshes_through_its_fake() {
    let refreshing = [
        "auth0", "kinde", "zitadel", "keycloak", "entra", "gitlab", "okta", "authelia",
    ];
    let token = |app: &App| {
        let c = app.client.clone();
        let url = app.at("/token");
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for preset in Preset::all() {
        let provider = preset.provider();
        let fake = FakeIssuer::builder(preset.clone())
            .user(alice(&preset))
            .start()
            .await;
        let clock = tower_oidc::Clock::manual();
        let settings = ProviderSettings {
            auto_register: true,
            ..fake.settings()
        };
        let app = app_for(provider, settings, |b| b.clock(clock.clone())).await;
        assert!(sign_in(&app, "alice").await.set_session(), "{provider}");
        let (status, first) = token(&app).await;
        assert_eq!(status, 200, "{provider}: {first}");
        for round in 1..=2 {
            clock.advance(std::time::Duration::from_secs(3600));
            let (status, next) = token(&app).await;
            if refreshing.contains(&provider) {
                assert_eq!(status, 200, "{provider}, refresh {round}: {next}");
                assert_ne!(next, first, "{provider}: a new access token");
                assert_eq!(fake.count(Endpoint::Token), 1 + round, "{provider}");
            } else {
                assert_eq!(
                    fake.count(Endpoint::Token),
                    1,
                    "{provider}: no refresh grant"
                );
            }
        }
        let (status, s) = session(&app).await;
        assert_eq!(status, 200, "{provider}: still signed in");
        assert_eq!(
            s["name"],
            json!(want(provider).name),
            "{provider}: profile kept"
        );
    }
}

#[tokio::test]
async fn unverified_emails_do_not_count_as_verified_for_any_provider() {
    for preset in Preset::all() {
        let provider = preset.provider();
        let user = alice(&preset).email_verified(false);
        let fake = FakeIssuer::builder(preset.clone()).user(user).start().await;
        let app = app_for_fake(&fake).await;
        let out = sign_in(&app, "alice").await;
        assert!(out.set_session(), "{provider}: {:?}", out.location);
        let (_, s) = session(&app).await;
        assert_eq!(s["email_verified"], json!(false), "{provider}");
        if provider == "github" {
            // GitHub: an unverified address is never taken at all.
            assert_eq!(s["email"], Value::Null, "{provider}");
        }
    }
}

#[tokio::test]
async fn github_takes_the_verified_email_when_the_primary_one_is_not_verified() {
    let fake = FakeIssuer::builder(Preset::github())
        .user(
            FakeUser::new("octo")
                .name("Octo Cat")
                .email("old@example.com")
                .email_verified(false)
                .other_email("unverified@example.com", false, false)
                .other_email("work@example.com", true, false),
        )
        .start()
        .await;
    let app = app_for_fake(&fake).await;
    let out = sign_in(&app, "octo").await;
    assert!(out.set_session(), "{:?}", out.location);
    let (_, s) = session(&app).await;
    assert_eq!(s["email"], json!("work@example.com"));
    assert_eq!(s["email_verified"], json!(true));
    // The emails were fetched from the user API with the access token.
    let emails: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::UserApi))
        .collect();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].path, "/api/user/emails");
    assert!(
        emails[0]
            .header("authorization")
            .is_some_and(|h| h.starts_with("Bearer "))
    );
}

#[tokio::test]
async fn github_prefers_the_primary_verified_email() {
    let fake = FakeIssuer::builder(Preset::github())
        .user(
            FakeUser::new("octo")
                .email("primary@example.com")
                .email_verified(true)
                .other_email("other@example.com", true, false),
        )
        .start()
        .await;
    let app = app_for_fake(&fake).await;
    assert!(sign_in(&app, "octo").await.set_session());
    let (_, s) = session(&app).await;
    assert_eq!(s["email"], json!("primary@example.com"));
}

#[tokio::test]
async fn github_user_without_a_verified_email_signs_in_without_one_and_is_never_linked() {
    let fake = FakeIssuer::builder(Preset::github())
        .user(
            FakeUser::new("mallory")
                .email("victim@example.com")
                .email_verified(false),
        )
        .start()
        .await;
    let app = app_for_fake(&fake).await;
    // The victim's account, with that email verified by the app.
    let victim = local_user(&app, "victim@example.com", true).await;
    let out = sign_in(&app, "mallory").await;
    assert!(out.set_session(), "{:?}", out.location);
    let (_, s) = session(&app).await;
    assert_eq!(s["email"], Value::Null);
    assert_eq!(s["email_verified"], json!(false));
    assert_ne!(s["id"], json!(victim.id.0), "linked by an unverified email");
    assert_eq!(
        app.store.identities(&victim.id).await.unwrap().len(),
        1,
        "the victim's account got a GitHub identity"
    );
}

#[tokio::test]
async fn github_token_errors_sent_with_http_200_are_errors() {
    let fake = FakeIssuer::start(Preset::github()).await;
    let mut settings = fake.settings();
    settings.auto_register = true;
    settings.client_secret = Some(tower_oidc::Secret::new("wrong"));
    let app = app_for("github", settings, |b| b).await;
    let out = sign_in(&app, "alice").await;
    assert!(!out.set_session());
    assert_eq!(out.error_code().as_deref(), Some("invalid_client"));
}

#[tokio::test]
async fn entra_needs_its_tenant() {
    let fake = FakeIssuer::start(Preset::entra()).await;
    let mut settings = fake.settings();
    settings.params.clear();
    settings.auto_register = true;
    let app = app_for("entra", settings, |b| b).await;
    let r = authorize_as_api(&app, "").await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], json!("provider_misconfigured"), "{body}");
    assert_eq!(fake.requests().len(), 0);
}

#[tokio::test]
async fn entra_issuer_url_pasted_as_the_url_gives_the_tenant() {
    let fake = FakeIssuer::start(Preset::entra()).await;
    let mut settings = fake.settings();
    settings.params.clear();
    settings.url = fake.issuer();
    settings.auto_register = true;
    let app = app_for("entra", settings, |b| b).await;
    assert!(sign_in(&app, "alice").await.set_session());
}

#[test]
fn readme_lists_every_builtin_provider_with_its_redirect_uri() {
    let readme = include_str!("../README.md");
    let builtin = Providers::builtin();
    for spec in builtin.iter() {
        let id = spec.id.as_str();
        let row = readme
            .lines()
            .find(|l| l.starts_with('|') && l.contains(&format!("`{id}`")))
            .unwrap_or_else(|| panic!("README has no provider table row for `{id}`"));
        assert!(row.contains(&spec.name), "row for `{id}` lacks its name");
        assert!(
            row.contains(&format!("/api/auth/providers/{id}/callback")),
            "row for `{id}` lacks its redirect URI"
        );
        // The last column says whether emails link by default, as the spec's email trust does.
        let linking = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap_or("")
            .trim();
        let expected = match spec.email_trust {
            tower_oidc::config::EmailTrust::VerifiedClaim => ["yes", "only"].as_slice(),
            tower_oidc::config::EmailTrust::Always => ["always"].as_slice(),
            tower_oidc::config::EmailTrust::Never => ["no"].as_slice(),
        };
        assert!(
            expected.iter().any(|e| linking.starts_with(e)),
            "row for `{id}` says `{linking}` about email linking; its email trust is {:?}",
            spec.email_trust
        );
    }
}

#[test]
fn admins_enter_only_url_client_id_and_secret() {
    // Every built-in OIDC provider resolves with just a URL (or its default) and a client id;
    // Entra additionally needs its tenant, Keycloak its realm (both part of the pasted URL).
    use tower_oidc::provider::ResolvedProvider;
    let builtin = Providers::builtin();
    for spec in builtin.iter() {
        let id = spec.id.as_str();
        let url = match id {
            "keycloak" => Some("https://sso.example.com/realms/acme".to_owned()),
            "entra" => Some(
                "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
                    .to_owned(),
            ),
            _ if spec.default_url.is_some() => None,
            _ => Some(format!("https://{id}.example.com")),
        };
        let s = ProviderSettings {
            url,
            client_id: Some("client".into()),
            ..ProviderSettings::default()
        };
        let p = ResolvedProvider::resolve(spec, &s)
            .unwrap_or_else(|e| panic!("`{id}` does not resolve: {e}"));
        if id != "authentik" && spec.protocol == tower_oidc::config::Protocol::Oidc {
            assert!(p.endpoints.issuer.is_some(), "`{id}` has no issuer");
        }
    }
}

#[tokio::test]
async fn github_fake_models_the_form_encoded_token_answer_and_errors_with_200() {
    // The quirks the library must cope with (it always asks for JSON): without
    // `Accept: application/json` GitHub answers form-encoded, and errors come with HTTP 200.
    let fake = FakeIssuer::start(Preset::github()).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/login/oauth/access_token", fake.url()))
        .form(&[
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
            ("code", "nope"),
            ("redirect_uri", "http://127.0.0.1/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("error=bad_verification_code")
    );
    let r = http
        .post(format!("{}/login/oauth/access_token", fake.url()))
        .header("accept", "application/json")
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("code", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["error"], "invalid_client",
        "GitHub takes body credentials only"
    );
}

/// The documents a user reads agree with `providers.toml` and the routes: docs/providers-toml.md
/// lists exactly the built-in providers and shows the built-in Authentik endpoints as they are;
/// SECURITY.md names the client authentication the Authentik entry uses; and every
/// `/api/auth/…` route any document names is answered by the engine (not `404`).
#[tokio::test]
async fn docs_agree_with_providers_toml_and_the_routes() {
    use std::collections::BTreeSet;
    let builtin = Providers::builtin();
    let docs = include_str!("../docs/providers-toml.md");

    // The list of built-in ids.
    let from = docs
        .find("it holds ")
        .expect("docs/providers-toml.md says which providers are built in");
    let sentence = &docs[from..from + docs[from..].find('.').unwrap()];
    let listed: BTreeSet<&str> = sentence.split('`').skip(1).step_by(2).collect();
    let actual: BTreeSet<&str> = builtin.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(listed, actual, "docs/providers-toml.md: `{sentence}`");

    // The Authentik endpoint block, line by line, as providers.toml has it.
    let toml = include_str!("../providers.toml");
    let section = &toml[toml.find("[providers.authentik]").unwrap()..];
    let section = &section[..section.find("\n[providers.authentik.claims]").unwrap()];
    let normal = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    let spec_lines: BTreeSet<String> = section.lines().map(normal).collect();
    let block_at = docs
        .find("The built-in `authentik` spec is:")
        .expect("the Authentik block");
    let block = &docs[block_at..];
    let block = &block[block.find("```toml").unwrap() + 7..];
    let block = &block[..block.find("```").unwrap()];
    let mut checked = 0;
    for line in block.lines().map(normal).filter(|l| !l.is_empty()) {
        assert!(
            spec_lines.contains(&line),
            "docs/providers-toml.md shows `{line}`, providers.toml's authentik entry does not have it"
        );
        checked += 1;
    }
    assert!(checked >= 7, "the block shows the endpoints");

    // SECURITY.md on client authentication.
    let security = include_str!("../SECURITY.md");
    let auth = builtin.get("authentik").unwrap().token_auth;
    let name = match auth {
        tower_oidc::config::TokenAuth::ClientSecretPost => "`client_secret_post`\nfor Authentik",
        tower_oidc::config::TokenAuth::ClientSecretBasic => "`client_secret_basic`\nfor Authentik",
        tower_oidc::config::TokenAuth::PrivateKeyJwt => "`private_key_jwt`\nfor Authentik",
        tower_oidc::config::TokenAuth::AppleClientSecretJwt => {
            "`apple_client_secret_jwt`\nfor Authentik"
        }
    };
    assert!(
        security.contains(name),
        "SECURITY.md does not say Authentik uses {auth:?}"
    );

    // Every route a document names exists.
    let layer = tower_oidc::OidcLayer::builder()
        .base_url("http://127.0.0.1:3000")
        .build()
        .unwrap();
    let documents = [
        ("README.md", include_str!("../README.md")),
        ("docs/providers-toml.md", docs),
        ("SECURITY.md", security),
        ("ARCHITECTURE.md", include_str!("../ARCHITECTURE.md")),
    ];
    let mut routes = BTreeSet::new();
    for (name, text) in documents {
        for (i, _) in text.match_indices("/api/auth/") {
            let rest = &text[i..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/_-.<>{}".contains(c)))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(['.', '/']);
            if path == "/api/auth" || rest[end..].starts_with('…') {
                continue;
            }
            let path = path
                .replace("<id>", "authentik")
                .replace("{id}", "authentik");
            routes.insert((name, path));
        }
    }
    assert!(routes.len() >= 5, "{routes:?}");
    for (name, path) in routes {
        let mut answered = false;
        for method in [http::Method::GET, http::Method::POST] {
            let req = http::Request::builder()
                .method(method)
                .uri(&path)
                .header("accept", "application/json")
                .body(bytes::Bytes::new())
                .unwrap();
            let status = layer.engine().handle(req).await.status();
            answered |= status != http::StatusCode::NOT_FOUND;
        }
        assert!(answered, "{name} names {path}, which answers 404");
    }
}

/// The metrics documented in the README's table and in `tower_oidc::observe`'s are exactly the
/// ones `observe::METRICS` lists (what the library records: the conformance suite fails on a
/// metric outside that list), with the same labels.
#[test]
fn readme_and_observe_document_every_metric_with_its_labels() {
    use tower_oidc::observe::METRICS;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected: Vec<(String, Vec<String>)> = METRICS
        .iter()
        .map(|m| {
            let labels = m.labels.iter().map(|l| (*l).to_owned()).collect();
            (m.name.to_owned(), labels)
        })
        .collect();
    for (file, prefix) in [
        ("README.md", "| `tower_oidc_"),
        ("src/observe.rs", "//! | `tower_oidc_"),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let rows: Vec<(String, Vec<String>)> = text
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| {
                let cells: Vec<&str> = l.trim_start_matches("//! ").split('|').collect();
                let name = cells[1].trim().trim_matches('`').to_owned();
                let labels = cells[3]
                    .split(',')
                    .map(|x| x.trim().trim_matches('`').to_owned())
                    .collect();
                (name, labels)
            })
            .collect();
        assert_eq!(rows, expected, "the metrics table of {file}");
    }
}
