//! End-to-end sign-ins through `FakeAuthentik`, driving a real axum app on a loopback port.

mod common;

use common::*;
use tower_oidc::config::EmailTrust;
use tower_oidc::store::UserStore;
use tower_oidc::testing::{AuthentikVersion, Endpoint, FakeAuthentik, Fault, SigningMode, Tamper};

async fn full_sign_in(mode: SigningMode, form: UrlForm) {
    full_sign_in_on(AuthentikVersion::NEWEST, mode, form, None).await;
}

/// A whole sign-in as alice against `version`'s behaviour, with `secret` as the client secret
/// (default: a random alphanumeric one).
async fn full_sign_in_on(
    version: AuthentikVersion,
    mode: SigningMode,
    form: UrlForm,
    secret: Option<&str>,
) -> FakeAuthentik {
    let mut builder = FakeAuthentik::builder().version(version).signing(mode);
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    let fake = builder.start().await;
    let app = app(&fake, form).await;
    let (status, _) = session(&app).await;
    assert_eq!(status, 401, "signed out before");
    let out = sign_in(&app, "alice").await;
    assert_eq!(out.status, 303, "{out:?}");
    assert_eq!(out.location.as_deref(), Some("/"));
    assert!(out.set_session(), "{out:?}");
    let (status, me) = session(&app).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Alice Anders");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(
        me["email_verified"], false,
        "Authentik sends email_verified: false"
    );
    assert_eq!(me["username"], "alice");
    assert_eq!(me["groups"], serde_json::json!(["authentik Admins"]));
    assert_eq!(
        me["given_name"],
        serde_json::Value::Null,
        "Authentik's given_name is the full name"
    );
    assert!(me["id"].as_str().is_some_and(|s| !s.is_empty()));
    // The app sees the user too.
    let r = get_json(&app.client, &app.at("/")).await;
    assert_eq!(r["name"], "Alice Anders");
    // The flow used the fake as Authentik is used: one token call, one userinfo call, PKCE.
    assert_eq!(fake.count(Endpoint::Token), 1);
    assert_eq!(fake.count(Endpoint::Userinfo), 1);
    let authz = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Authorize))
        .unwrap();
    assert_eq!(authz.query_param("code_challenge_method"), Some("S256"));
    assert!(authz.query_param("nonce").is_some());
    assert_eq!(authz.query_param("login_hint"), Some("alice"));
    fake
}

/// The built-in Authentik entry signs in on the oldest and the newest supported Authentik, with
/// a client secret holding `:`, `+`, `%` and a space: it sends the credentials in the body
/// (`client_secret_post`), which every release decodes. (With `client_secret_basic` and RFC 6749's
/// encoding, Authentik before 2026.5 answers `invalid_client`.)
#[tokio::test]
async fn authentik_secret_in_the_body_on_every_version() {
    let secret = "s3cr:et+with%20 space%";
    for version in AuthentikVersion::ALL {
        let fake =
            full_sign_in_on(version, SigningMode::Rs256, UrlForm::Instance, Some(secret)).await;
        let token = fake
            .requests()
            .into_iter()
            .find(|r| r.endpoint == Some(Endpoint::Token))
            .unwrap();
        assert_eq!(token.header("authorization"), None, "{version}");
        assert_eq!(token.form_param("client_secret"), Some(secret), "{version}");
        assert_eq!(
            token.form_param("client_id"),
            Some(fake.client_id()),
            "{version}"
        );
    }
}

#[tokio::test]
async fn sign_in_oldest_authentik() {
    full_sign_in_on(
        AuthentikVersion::OLDEST,
        SigningMode::Rs256,
        UrlForm::Issuer,
        None,
    )
    .await;
}

#[tokio::test]
async fn sign_in_newest_authentik() {
    full_sign_in_on(
        AuthentikVersion::NEWEST,
        SigningMode::Es256,
        UrlForm::Issuer,
        None,
    )
    .await;
}

#[tokio::test]
async fn sign_in_instance_url_rs256() {
    full_sign_in(SigningMode::Rs256, UrlForm::Instance).await;
}
#[tokio::test]
async fn sign_in_issuer_url_rs256() {
    full_sign_in(SigningMode::Rs256, UrlForm::Issuer).await;
}
#[tokio::test]
async fn sign_in_instance_url_es256() {
    full_sign_in(SigningMode::Es256, UrlForm::Instance).await;
}
#[tokio::test]
async fn sign_in_issuer_url_es256() {
    full_sign_in(SigningMode::Es256, UrlForm::Issuer).await;
}
#[tokio::test]
async fn sign_in_instance_url_hs256() {
    full_sign_in(SigningMode::Hs256, UrlForm::Instance).await;
}
#[tokio::test]
async fn sign_in_issuer_url_hs256() {
    full_sign_in(SigningMode::Hs256, UrlForm::Issuer).await;
}
#[tokio::test]
async fn sign_in_issuer_url_rsa4096() {
    full_sign_in(SigningMode::Rs256Rsa4096, UrlForm::Issuer).await;
}

#[tokio::test]
async fn second_sign_in_reuses_the_user_and_refreshes_the_profile() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Instance).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, first) = session(&app).await;
    fake.update_user("alice", |u| {
        u.set_name("Alice Renamed");
        u.set_groups(["users"]);
    });
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, second) = session(&app).await;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["name"], "Alice Renamed");
    assert_eq!(second["groups"], serde_json::json!(["users"]));
}

#[tokio::test]
async fn existing_email_is_not_linked_when_authentik_says_unverified() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Instance).await;
    let local = local_user(&app, "alice@example.com", true).await;
    let out = sign_in(&app, "alice").await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("email_not_verified"),
        "{out:?}"
    );
    assert!(!out.set_session());
    assert_eq!(app.store.identities(&local.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn existing_email_is_linked_when_verified() {
    let fake = FakeAuthentik::start().await;
    fake.update_user("alice", |u| u.set_email_verified(true));
    let app = app(&fake, UrlForm::Instance).await;
    let local = local_user(&app, "alice@example.com", true).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, me) = session(&app).await;
    assert_eq!(me["id"], local.id.as_str());
}

#[tokio::test]
async fn existing_email_is_linked_when_the_admin_trusts_the_provider() {
    let fake = FakeAuthentik::start().await;
    let mut settings = authentik_settings(&fake, UrlForm::Instance);
    settings.email_trust = Some(EmailTrust::Always);
    let app = app_with(&fake, settings, |b| b).await;
    let local = local_user(&app, "alice@example.com", true).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, me) = session(&app).await;
    assert_eq!(me["id"], local.id.as_str());
}

/// Signs in with the fake misbehaving; asserts the error code, no session, and (when asked)
/// that the fake saw no userinfo call. (A lighter check than the conformance suite's §0 oracle,
/// `common::rejected`, which this one shadows here.)
async fn rejected(fake: &FakeAuthentik, app: &App, code: &str, no_userinfo: bool) -> Outcome {
    let out = sign_in(app, "alice").await;
    assert_eq!(out.error_code().as_deref(), Some(code), "{out:?}");
    assert!(!out.set_session(), "no session cookie: {out:?}");
    if no_userinfo {
        assert_eq!(
            fake.count(Endpoint::Userinfo),
            0,
            "no userinfo after a bad ID token"
        );
    }
    let (status, _) = session(app).await;
    assert_eq!(status, 401);
    out
}

#[tokio::test]
async fn rejects_bad_signature() {
    let fake = FakeAuthentik::start().await;
    fake.set_tamper(Tamper::BadSignature);
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", true).await;
}

#[tokio::test]
async fn rejects_alg_none() {
    let fake = FakeAuthentik::start().await;
    fake.set_tamper(Tamper::AlgNone);
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", true).await;
}

#[tokio::test]
async fn rejects_wrong_issuer() {
    // One fake per app: the fake, like Authentik, registers the first redirect URI it sees.
    for form in [UrlForm::Issuer, UrlForm::Instance] {
        let fake = FakeAuthentik::start().await;
        fake.set_id_token_claims(|c| {
            c.insert("iss".into(), "https://example.org/".into());
        });
        let app = app(&fake, form).await;
        rejected(&fake, &app, "id_token_invalid", true).await;
    }
}

#[tokio::test]
async fn rejects_issuer_without_its_trailing_slash() {
    for form in [UrlForm::Issuer, UrlForm::Instance] {
        let fake = FakeAuthentik::start().await;
        let iss = fake.issuer().trim_end_matches('/').to_owned();
        fake.set_id_token_claims(move |c| {
            c.insert("iss".into(), iss.clone().into());
        });
        let app = app(&fake, form).await;
        rejected(&fake, &app, "id_token_invalid", true).await;
    }
}

#[tokio::test]
async fn rejects_wrong_audience() {
    let fake = FakeAuthentik::start().await;
    fake.set_id_token_claims(|c| {
        c.insert("aud".into(), "someone-else".into());
    });
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", true).await;
}

#[tokio::test]
async fn rejects_expired_token() {
    let fake = FakeAuthentik::start().await;
    fake.set_id_token_claims(|c| {
        let now = c["iat"].as_i64().unwrap();
        c.insert("exp".into(), (now - 3600).into());
    });
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", true).await;
}

#[tokio::test]
async fn rejects_wrong_nonce() {
    let fake = FakeAuthentik::start().await;
    fake.set_id_token_claims(|c| {
        c.insert("nonce".into(), "012345678".into());
    });
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", true).await;
}

#[tokio::test]
async fn rejects_userinfo_sub_mismatch() {
    let fake = FakeAuthentik::start().await;
    fake.set_userinfo(|c| {
        c.insert("sub".into(), "foobar".into());
    });
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", false).await;
    assert!(
        user_by_email(&app, "alice@example.com").await.is_none(),
        "nothing created"
    );
}

#[tokio::test]
async fn rejects_access_denied_without_a_token_call() {
    let fake = FakeAuthentik::start().await;
    fake.set_callback_params(|p| {
        p.retain(|(k, _)| k == "state");
        p.push(("error".into(), "access_denied".into()));
        p.push((
            "error_description".into(),
            "<script>alert(1)</script>".into(),
        ));
    });
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "access_denied", true).await;
    assert_eq!(fake.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn rejects_invalid_client() {
    let fake = FakeAuthentik::start().await;
    let mut settings = authentik_settings(&fake, UrlForm::Issuer);
    settings.client_secret = Some(tower_oidc::Secret::new("wrong-secret"));
    let app = app_with(&fake, settings, |b| b).await;
    rejected(&fake, &app, "invalid_client", true).await;
}

async fn state_rejected(mutate: impl FnOnce(&str) -> String) {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let out = finish(&app, &mutate(&cb)).await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("invalid_state"),
        "{out:?}"
    );
    assert!(!out.set_session());
    assert_eq!(
        fake.count(Endpoint::Token),
        0,
        "no token call after a bad state"
    );
}

#[tokio::test]
async fn rejects_bad_state() {
    state_rejected(|cb| with_param(cb, "state", Some("not-the-state"))).await;
}

#[tokio::test]
async fn rejects_missing_state() {
    state_rejected(|cb| with_param(cb, "state", None)).await;
}

#[tokio::test]
async fn rejects_replayed_state() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let first = finish(&app, &cb).await;
    assert!(first.set_session());
    // The same callback again, from a fresh browser without a session: refused, no token call.
    let loc = finish_in(&client(), &cb).await.location.unwrap();
    assert!(loc.contains("error=invalid_state"), "{loc}");
    assert_eq!(fake.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn rejects_replayed_callback_with_the_same_cookie() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let authz = authorize(&app, &app.client, "?login_hint=alice").await;
    let tx = tx_cookie(&authz);
    let cb = to_callback(&app.client, &authz).await;
    // Two browsers-worth of the same callback and cookie: the transaction is single use.
    let r1 = get_with_cookie(&cb, &tx).await;
    let r2 = get_with_cookie(&cb, &tx).await;
    let codes: Vec<u16> = vec![r1.status().as_u16(), r2.status().as_u16()];
    let locs: Vec<String> = [r1, r2].iter().map(|r| location(r).unwrap()).collect();
    assert!(codes.contains(&303), "{codes:?} {locs:?}");
    assert_eq!(
        locs.iter()
            .filter(|l| l.contains("error=invalid_state"))
            .count(),
        1,
        "{locs:?}"
    );
    assert_eq!(fake.count(Endpoint::Token), 1, "exactly one token request");
}

#[tokio::test]
async fn rejects_callback_without_the_transaction_cookie() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let other_browser = finish_in(&client(), &cb).await;
    let loc = other_browser.location.unwrap();
    assert!(loc.contains("error=invalid_state"), "{loc}");
    assert!(
        other_browser
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("tower_oidc_session="))
    );
    assert_eq!(fake.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn rejects_unreachable_instance() {
    // A port nothing listens on.
    let port = free_port();
    let fake = FakeAuthentik::start().await;
    let mut settings = authentik_settings(&fake, UrlForm::Issuer);
    settings.url = Some(format!(
        "http://127.0.0.1:{port}/application/o/{}/",
        fake.slug()
    ));
    let app = app_with(&fake, settings, |b| b).await;
    let r = authorize(&app, &app.client, "").await;
    let loc = location(&r).unwrap();
    assert!(loc.ends_with("error=provider_unreachable"), "{loc}");
}

#[tokio::test]
async fn rejects_discovery_errors_from_the_instance() {
    let fake = FakeAuthentik::start().await;
    fake.fault(Endpoint::Discovery, Fault::Status(503));
    let app = app(&fake, UrlForm::Issuer).await;
    let r = authorize_as_api(&app, "").await;
    assert_eq!(r.status(), 502);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "provider_unreachable");
    assert!(body["message"].as_str().is_some());
}

#[tokio::test]
async fn rejects_disabled_provider() {
    let fake = FakeAuthentik::start().await;
    let mut settings = authentik_settings(&fake, UrlForm::Issuer);
    settings.enabled = false;
    let app = app_with(&fake, settings, |b| b).await;
    let r = authorize(&app, &app.client, "").await;
    assert!(location(&r).unwrap().ends_with("error=provider_disabled"));
    assert_eq!(fake.count(Endpoint::Authorize), 0);
    let list = get_json(&app.client, &app.at("/api/auth/providers")).await;
    assert_eq!(
        list,
        serde_json::json!([]),
        "disabled providers are not listed"
    );
}

/// T15: an unknown provider id. The authorize route answers exactly 404 `provider_unknown`
/// (the id is not reflected unescaped). The callback checks the browser's transaction before
/// anything else, so an unknown id there is exactly 400 `invalid_state`, with or without a
/// sign-in pending for another provider, and no token call.
#[tokio::test]
async fn rejects_unknown_provider() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    for id in ["nope", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"] {
        let r = get(
            &app.client,
            &app.at(&format!("/api/auth/providers/{id}/authorize")),
            JSON,
        )
        .await;
        let body = r.json();
        assert_eq!(r.status, 404, "{id}: {body}");
        assert_eq!(body["error"], "provider_unknown", "{id}: {body}");
        assert!(!r.body.contains("<script"), "{id}: reflected: {}", r.body);
    }
    assert_eq!(fake.count(Endpoint::Authorize), 0);
    // No transaction in this browser.
    let r = get(
        &app.client,
        &app.at("/api/auth/providers/nope/callback?code=x&state=y"),
        JSON,
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["error"], "invalid_state", "{r:?}");
    // A real pending sign-in (for Authentik) brought to the unknown provider's callback.
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let at_nope = cb.replace("/providers/authentik/", "/providers/nope/");
    assert_ne!(at_nope, cb);
    let r = get(&app.client, &at_nope, JSON).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["error"], "invalid_state", "{r:?}");
    assert_eq!(fake.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn providers_list_is_what_a_login_page_needs() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let list = get_json(&app.client, &app.at("/api/auth/providers")).await;
    assert_eq!(list[0]["id"], "authentik");
    assert_eq!(list[0]["name"], "Authentik");
    assert_eq!(list[0]["icon"], "FaShieldAlt");
    assert_eq!(
        list[0]["login_url"],
        format!("{}/api/auth/providers/authentik/authorize", app.url)
    );
}

#[tokio::test]
async fn return_to_that_leaves_the_origin_is_refused() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    for evil in [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "/%2F%2Fevil.com",
        "javascript:alert(1)",
    ] {
        let q = format!("?login_hint=alice&return_to={}", encoded(evil));
        let (cb, _) = start(&app, &q).await;
        let out = finish(&app, &cb).await;
        assert_eq!(out.location.as_deref(), Some("/"), "{evil}");
    }
    let (cb, _) = start(&app, "?login_hint=alice&return_to=%2Fafter%3Fx%3D1").await;
    assert_eq!(
        finish(&app, &cb).await.location.as_deref(),
        Some("/after?x=1")
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Instance).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let r = logout(&app, "").await;
    assert_eq!(r.status(), 303);
    assert_eq!(session(&app).await.0, 401);
}

#[tokio::test]
async fn logout_can_end_the_authentik_session_too() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Instance).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let r = logout(&app, "?end_session=1").await;
    assert_eq!(r.status(), 303);
    let loc = location(&r).unwrap();
    assert!(loc.starts_with(&fake.end_session_url()), "{loc}");
    assert!(loc.contains("id_token_hint="), "{loc}");
    assert_eq!(session(&app).await.0, 401);
}

/// Following the app's end-session redirect: the browser that signed in has an Authentik session
/// and sees the logged-out page on every version; a browser without one is sent to Authentik's
/// login flow from 2026.5 on.
#[tokio::test]
async fn end_session_redirect_on_every_version() {
    for version in AuthentikVersion::ALL {
        let fake = FakeAuthentik::builder().version(version).start().await;
        let app = app(&fake, UrlForm::Instance).await;
        assert!(sign_in(&app, "alice").await.set_session());
        let r = logout(&app, "?end_session=1").await;
        let loc = location(&r).unwrap();
        assert!(loc.starts_with(&fake.end_session_url()), "{loc}");
        let page = app.client.get(&loc).send().await.unwrap();
        assert_eq!(page.status(), 200, "{version}");
        assert!(page.text().await.unwrap().contains("logged out of"));
        let elsewhere = bare_client().get(&loc).send().await.unwrap();
        if version >= AuthentikVersion::V2026_5 {
            assert_eq!(elsewhere.status(), 302, "{version}");
            assert!(
                location(&elsewhere)
                    .unwrap()
                    .starts_with("/flows/-/default/authentication/?next=")
            );
        } else {
            assert_eq!(elsewhere.status(), 200, "{version}");
        }
    }
}

#[tokio::test]
async fn login_hint_is_passed_through() {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Instance).await;
    let out = sign_in(&app, "bob").await;
    assert!(out.set_session());
    assert_eq!(session(&app).await.1["name"], "Bob Berger");
}

/// Matrix H15: `state` and `nonce` are 256 random bits each (base64url, 43 characters), never equal
/// to each other, and new for every sign-in started — the three per-transaction values come
/// from one draw of the OS generator, split into disjoint parts.
#[tokio::test]
async fn state_and_nonce_are_256_bits_distinct_and_fresh() {
    use base64::Engine as _;
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        let r = authorize(&app, &client(), "").await;
        assert_eq!(r.status(), 302);
        let to = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let param = |name: &str| {
            to.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("no `{name}` in {to}"))
        };
        let (state, nonce) = (param("state"), param("nonce"));
        for v in [&state, &nonce] {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v)
                .unwrap_or_else(|e| panic!("`{v}` is not base64url: {e}"));
            assert_eq!(bytes.len(), 32, "`{v}` carries 256 bits");
        }
        assert_ne!(state, nonce, "state and nonce are drawn apart");
        assert!(seen.insert(state), "a state came back");
        assert!(seen.insert(nonce), "a nonce came back");
    }
}
