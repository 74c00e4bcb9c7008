//! §2a, the Basic RP certification profile (`oidcc-client-basic-certification-test-plan`):
//! B1–B15.

use tower_oidc::Providers;
use tower_oidc::testing::{AuthentikVersion, Endpoint, FakeAuthentik, SigningMode, Tamper};

use crate::common::*;

/// B1 `rp-response_type-code`: the request the RP sends and the calls it makes.
#[tokio::test]
async fn rp_response_type_code() {
    let (fake, app) = fresh().await;
    let out = accepted(&app).await;
    assert_eq!(
        out.set_cookies
            .iter()
            .filter(
                |c| c.starts_with("tower_oidc_session=") && !c.starts_with("tower_oidc_session=;")
            )
            .count(),
        1,
        "one session cookie: {out:?}"
    );
    let reqs = fake.requests();
    let authz = reqs
        .iter()
        .find(|r| r.endpoint == Some(Endpoint::Authorize))
        .unwrap();
    assert_eq!(authz.query_param("response_type"), Some("code"));
    let scope = authz.query_param("scope").unwrap();
    assert!(scope.split(' ').any(|s| s == "openid"), "{scope}");
    assert!(authz.query_param("state").unwrap().len() >= 32);
    assert!(authz.query_param("nonce").unwrap().len() >= 32);
    assert_eq!(authz.query_param("code_challenge_method"), Some("S256"));
    assert_eq!(
        authz.query_param("redirect_uri").unwrap(),
        format!("{}/api/auth/providers/authentik/callback", app.url)
    );
    let token = reqs
        .iter()
        .find(|r| r.endpoint == Some(Endpoint::Token))
        .unwrap();
    // Authentik's entry authenticates in the body (`client_secret_post`): Authentik decodes
    // Basic credentials only from 2026.5 (B14 covers Basic).
    assert_eq!(
        token.header("authorization"),
        None,
        "secret only in the body"
    );
    assert_eq!(token.form_param("grant_type"), Some("authorization_code"));
    assert!(token.form_param("code_verifier").unwrap().len() >= 43);
    assert_eq!(token.form_param("client_id"), Some(fake.client_id()));
    assert_eq!(
        token.form_param("client_secret"),
        Some(fake.client_secret())
    );
    let ui = reqs
        .iter()
        .find(|r| r.endpoint == Some(Endpoint::Userinfo))
        .unwrap();
    assert!(ui.header("authorization").unwrap().starts_with("Bearer "));
    // A fresh state and nonce for every sign-in.
    let (_, to_idp) = start(&app, "").await;
    assert_ne!(
        param(&to_idp, "state").as_deref(),
        authz.query_param("state")
    );
    assert_ne!(
        param(&to_idp, "nonce").as_deref(),
        authz.query_param("nonce")
    );
}

/// B2 `rp-id_token-issuer-mismatch`, with both ways of entering the Authentik URL.
#[tokio::test]
async fn rp_id_token_issuer_mismatch() {
    for form in [UrlForm::Issuer, UrlForm::Instance] {
        let fake = FakeAuthentik::start().await;
        fake.set_id_token_claims(|c| {
            c.insert("iss".into(), "https://example.org/".into());
        });
        let app = app(&fake, form).await;
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// B3 `rp-id_token-sub`: `sub` removed.
#[tokio::test]
async fn rp_id_token_sub() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("sub");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B4 `rp-id_token-aud`: `aud` wrong, and `aud` removed.
#[tokio::test]
async fn rp_id_token_aud() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("aud".into(), "https://example.com/".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_id_token_claims(|c| {
        c.remove("aud");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B5 `rp-id_token-iat`: `iat` removed.
#[tokio::test]
async fn rp_id_token_iat() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("iat");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B6 `rp-id_token-kid-absent-single-jwks`: no `kid`, one key: accepted.
#[tokio::test]
async fn rp_id_token_kid_absent_single_jwks() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::NoKid);
    fake.set_jwks(|d| {
        if let Some(keys) = d.get_mut("keys").and_then(|k| k.as_array_mut()) {
            for k in keys {
                k.as_object_mut().unwrap().remove("kid");
            }
        }
    });
    accepted(&app).await;
}

/// B7 `rp-id_token-kid-absent-multiple-jwks`: no `kid`, several keys without `kid`. We reject
/// the token as ambiguous (the suite allows either; SECURITY.md records the choice).
#[tokio::test]
async fn rp_id_token_kid_absent_multiple_jwks() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::NoKid);
    fake.set_extra_kidless_keys(2);
    fake.set_jwks(|d| {
        if let Some(keys) = d.get_mut("keys").and_then(|k| k.as_array_mut()) {
            for k in keys {
                k.as_object_mut().unwrap().remove("kid");
            }
        }
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B8 `rp-id_token-sig-rs256`: accepted.
#[tokio::test]
async fn rp_id_token_sig_rs256() {
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Rs256)
        .start()
        .await;
    let app = app(&fake, UrlForm::Issuer).await;
    accepted(&app).await;
}

/// B9 `rp-id_token-sig-none` (and C4, the same case in the Config profile): rejected, always.
#[tokio::test]
async fn rp_id_token_sig_none() {
    for mode in [SigningMode::Rs256, SigningMode::Es256, SigningMode::Hs256] {
        let fake = FakeAuthentik::builder().signing(mode).start().await;
        fake.set_tamper(Tamper::AlgNone);
        let app = app(&fake, UrlForm::Issuer).await;
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// B9 with the provider's discovery document listing `none` as supported (pac4j
/// CVE-2021-44878): still rejected.
#[tokio::test]
async fn rp_id_token_sig_none_even_when_discovery_lists_it() {
    let (fake, app) = fresh().await;
    fake.set_discovery(|d| {
        d.insert(
            "id_token_signing_alg_values_supported".into(),
            serde_json::json!(["none", "RS256"]),
        );
    });
    fake.set_tamper(Tamper::AlgNone);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B10 `rp-id_token-bad-sig-rs256`: signature bytes shuffled.
#[tokio::test]
async fn rp_id_token_bad_sig_rs256() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::BadSignature);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B11 `rp-userinfo-bad-sub-claim`: userinfo `sub` is `foobar`; nothing is created.
#[tokio::test]
async fn rp_userinfo_bad_sub_claim() {
    let (fake, app) = fresh().await;
    fake.set_userinfo(|c| {
        c.insert("sub".into(), "foobar".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Nothing).await;
    assert!(
        user_by_email(&app, "alice@example.com").await.is_none(),
        "nothing created or linked from the rejected userinfo"
    );
}

/// B12 `rp-nonce-invalid`: `nonce` is `012345678`.
#[tokio::test]
async fn rp_nonce_invalid() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("nonce".into(), "012345678".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B12, the binding half: a nonce valid for *another* sign-in of the same browser is refused.
#[tokio::test]
async fn rp_nonce_of_another_transaction() {
    let (fake, app) = fresh().await;
    let (_, other) = start(&app, "?login_hint=alice").await;
    let other_nonce = param(&other, "nonce").unwrap();
    fake.set_id_token_claims(move |c| {
        c.insert("nonce".into(), other_nonce.clone().into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// B13 `rp-scope-userinfo-claims`: profile and email claims are mapped; absent optional claims
/// are tolerated.
#[tokio::test]
async fn rp_scope_userinfo_claims() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    let (_, me) = session(&app).await;
    assert_eq!(me["name"], "Alice Anders");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["groups"], serde_json::json!(["authentik Admins"]));
    // Without the optional claims, in both the ID token and userinfo.
    let strip = |c: &mut serde_json::Map<String, serde_json::Value>| {
        for k in [
            "name",
            "given_name",
            "preferred_username",
            "nickname",
            "groups",
            "email",
            "email_verified",
        ] {
            c.remove(k);
        }
    };
    fake.set_id_token_claims(strip);
    fake.set_userinfo(strip);
    let r = logout(&app, "").await;
    assert_eq!(r.status(), 303);
    accepted(&app).await;
    first_sign_in_without_optional_claims(&fake, &app).await;
}

/// B13, a first sign-in (a new account) from a user with none of the optional claims: the ID
/// token holds only what Core 2 requires (and the nonce), userinfo only `sub`. Accepted; the
/// account is made, with no name, email or groups.
async fn first_sign_in_without_optional_claims(
    fake: &tower_oidc::testing::FakeAuthentik,
    app: &App,
) {
    use tower_oidc::store::{Identity, UserStore};
    fake.clear_switches();
    fake.add_user(tower_oidc::testing::FakeUser::new("dave"));
    fake.set_id_token_claims(|c| {
        c.retain(|k, _| ["iss", "sub", "aud", "exp", "iat", "nonce"].contains(&k.as_str()));
    });
    fake.set_userinfo(|c| {
        c.retain(|k, _| k == "sub");
    });
    let ident = Identity {
        provider: "authentik".into(),
        issuer: fake.issuer(),
        subject: fake.sub("dave").unwrap(),
    };
    assert!(app.store.find_by_identity(&ident).await.unwrap().is_none());
    let c = client();
    let (cb, _) = start_in(app, &c, "?login_hint=dave").await;
    let out = finish_in(&c, &cb).await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");
    let (status, me) = session_in(&c, &app.url).await;
    assert_eq!(status, 200, "{me}");
    let user = app
        .store
        .find_by_identity(&ident)
        .await
        .unwrap()
        .expect("the account was made at this first sign-in");
    assert_eq!(me["id"], user.id.to_string().as_str());
    assert_eq!(user.email, None);
    assert_eq!(user.name, None);
    for k in ["name", "email"] {
        assert!(me[k].is_null(), "{k}: {me}");
    }
    assert!(
        me["groups"].is_null() || me["groups"] == serde_json::json!([]),
        "{me}"
    );
    let page: serde_json::Value = c
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["signed_in"], true);
}

/// The built-in registry with the Authentik entry switched to `client_secret_basic` (the
/// built-in entry uses `client_secret_post`: Authentik decodes Basic credentials only from
/// 2026.5).
fn authentik_with_basic() -> Providers {
    Providers::builtin()
        .with_toml_str(
            "basic.toml",
            "[providers.authentik]\ntoken_auth = \"client_secret_basic\"\n",
        )
        .unwrap()
}

/// B14 `rp-token_endpoint-client_secret_basic`: HTTP Basic with the id and secret
/// form-urlencoded first, for a secret holding `:`, `+`, `%` and a space, through a provider
/// with `token_auth = "client_secret_basic"` against the newest Authentik behaviour (which
/// percent-decodes Basic credentials).
#[tokio::test]
async fn rp_token_endpoint_client_secret_basic() {
    let secret = "s3cr:et+with%20 space%";
    let fake = FakeAuthentik::builder()
        .version(AuthentikVersion::NEWEST)
        .client_secret(secret)
        .start()
        .await;
    let app = app_custom(
        authentik_with_basic(),
        vec![("authentik", authentik_settings(&fake, UrlForm::Issuer))],
        |b| b,
    )
    .await;
    accepted(&app).await;
    let token = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Token))
        .unwrap();
    let basic = token.header("authorization").unwrap();
    assert!(basic.starts_with("Basic "));
    assert_eq!(token.form_param("client_secret"), None);
    assert!(
        token.form.iter().all(|(_, v)| !v.contains("s3cr")),
        "the secret is not in the form"
    );
}

/// Why the built-in Authentik entry does not use Basic: Authentik before 2026.5 does not decode
/// the RFC 6749 encoding, so the same sign-in fails with `invalid_client`.
#[tokio::test]
async fn client_secret_basic_fails_on_authentik_before_2026_5() {
    let secret = "s3cr:et+with%20 space%";
    let fake = FakeAuthentik::builder()
        .version(AuthentikVersion::OLDEST)
        .client_secret(secret)
        .start()
        .await;
    let app = app_custom(
        authentik_with_basic(),
        vec![("authentik", authentik_settings(&fake, UrlForm::Issuer))],
        |b| b,
    )
    .await;
    let out = sign_in(&app, "alice").await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("invalid_client"),
        "{out:?}"
    );
    assert!(!out.set_session());
}

/// B15 `rp-userinfo-bearer-header` (and `rp-userinfo-not-query`): the access token goes in the
/// `Authorization` header, never in a URL.
#[tokio::test]
async fn rp_userinfo_bearer_header() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    let reqs = fake.requests();
    let ui = reqs
        .iter()
        .find(|r| r.endpoint == Some(Endpoint::Userinfo))
        .unwrap();
    let at = ui
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    assert!(at.len() > 20);
    assert_eq!(ui.method, "GET");
    for r in &reqs {
        assert!(
            r.query
                .iter()
                .all(|(k, v)| k != "access_token" && !v.contains(&at)),
            "access token in a URL: {} {:?}",
            r.path,
            r.query
        );
    }
}
