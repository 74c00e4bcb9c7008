//! Sign in with Apple (issue 20, item 5), through a `FakeIssuer` laid out as Apple: the client
//! secret an ES256 JWT the library signs from the team id, key id and `.p8` key; the response a
//! form POST to the callback; the name only in the first authorization's `user` field, kept on
//! later sign-ins; the `user` field never the email or the identity. Named after the cases of
//! the security matrix's Apple rows (docs/security-matrix.md).

mod common;

use common::*;
use serde_json::{Value, json};
use tower_oidc::config::{ProviderSettings, Secret};
use tower_oidc::flow::apple::{APPLE_AUDIENCE, sign_client_secret};
use tower_oidc::store::UserStore;
use tower_oidc::testing::{Endpoint, FakeIssuer, FakeUser, Preset};

const OTHER_P8: &str = include_str!("../src/testing/keys/ec256-2.key.pem");

async fn apple_fake(users: Vec<FakeUser>) -> FakeIssuer {
    let mut b = FakeIssuer::builder(Preset::apple());
    for u in users {
        b = b.user(u);
    }
    b.start().await
}

fn ada() -> FakeUser {
    FakeUser::new("ada")
        .name("Ada Lovelace")
        .given_name("Ada")
        .family_name("Lovelace")
        .email("ada@example.com")
        .email_verified(true)
}

async fn app_for_apple(settings: ProviderSettings) -> App {
    app_for("apple", settings, |b| b).await
}

/// The form fields of a form_post callback "URL" (see `signin::FORM_POST`).
fn fields(callback: &str) -> Vec<(String, String)> {
    let body = callback
        .strip_suffix(signin::FORM_POST)
        .expect("a form_post callback")
        .split_once('?')
        .map_or("", |(_, q)| q);
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn with_fields(callback: &str, fields: &[(String, String)]) -> String {
    let to = callback.split_once('?').map_or(callback, |(u, _)| u);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        q.append_pair(k, v);
    }
    format!("{to}?{}{}", q.finish(), signin::FORM_POST)
}

#[tokio::test]
async fn apple_first_sign_in_keeps_the_name_from_the_user_field() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let r = authorize(&app, &app.client, "?login_hint=ada").await;
    // The form_post transaction has a cookie of its own (Lax on http loopback, see the unit
    // test for the https SameSite=None one); the query one is untouched.
    let cookies = set_cookies(&r);
    assert!(
        cookies.iter().any(|c| c.starts_with("tower_oidc_tx_post=")),
        "{cookies:?}"
    );
    assert!(!cookies.iter().any(|c| c.starts_with("tower_oidc_tx=")));
    let cb = to_callback(&app.client, &r).await;
    assert!(fields(&cb).iter().any(|(k, _)| k == "user"), "first: {cb}");
    let out = finish(&app, &cb).await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");
    let authorize_req = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Authorize))
        .unwrap();
    assert_eq!(
        authorize_req.query_param("response_mode"),
        Some("form_post")
    );
    let (status, s) = session(&app).await;
    assert_eq!(status, 200);
    assert_eq!(s["name"], json!("Ada Lovelace"));
    assert_eq!(s["given_name"], json!("Ada"));
    assert_eq!(s["family_name"], json!("Lovelace"));
    assert_eq!(s["email"], json!("ada@example.com"));
    assert_eq!(s["email_verified"], json!(true), "Apple's string \"true\"");
    // The token request carried a client secret JWT the fake accepts, never the .p8 key.
    let token = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Token))
        .unwrap();
    let secret = token.form_param("client_secret").unwrap().to_owned();
    assert!(!secret.contains("PRIVATE KEY"));
    fake.check_apple_client_secret(&secret).unwrap();
}

#[tokio::test]
async fn apple_later_sign_in_without_the_user_field_keeps_the_name() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    assert!(sign_in(&app, "ada").await.set_session());
    // A second browser: Apple sends no `user` field after the first authorization.
    let c = browser::client();
    let r = authorize(&app, &c, "?login_hint=ada").await;
    let cb = to_callback(&c, &r).await;
    assert!(!fields(&cb).iter().any(|(k, _)| k == "user"), "later: {cb}");
    let out = finish_in(&c, &cb).await;
    assert!(out.set_session(), "{out:?}");
    let (status, s) = session_in(&c, &app.url).await;
    assert_eq!(status, 200);
    assert_eq!(s["name"], json!("Ada Lovelace"), "the stored name is kept");
    assert_eq!(s["given_name"], json!("Ada"));
    assert_eq!(s["family_name"], json!("Lovelace"));
    let user = user_by_email(&app, "ada@example.com").await.unwrap();
    assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
    // And the client secret was signed once, then reused from the cache.
    let secrets: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::Token))
        .map(|r| r.form_param("client_secret").unwrap().to_owned())
        .collect();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0], secrets[1], "cached, not re-signed per request");
}

#[tokio::test]
async fn apple_user_field_cannot_change_email_or_identity() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let (cb, _) = start(&app, "?login_hint=ada").await;
    let forged: Vec<(String, String)> = fields(&cb)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "user" => (
                k,
                json!({"name": {"firstName": "Mallory", "lastName": "M"},
                       "email": "mallory@evil.example", "sub": "someone-else"})
                .to_string(),
            ),
            _ => (k, v),
        })
        .collect();
    let out = finish(&app, &with_fields(&cb, &forged)).await;
    assert!(out.set_session(), "{out:?}");
    let (_, s) = session(&app).await;
    assert_eq!(s["email"], json!("ada@example.com"), "the ID token's email");
    assert_eq!(
        s["name"],
        json!("Mallory M"),
        "the display name is the browser's word"
    );
    let ids = app
        .store
        .identities(&tower_oidc::store::UserId(
            s["id"].as_str().unwrap().to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].subject, format!("{:06}.{:032x}.{:04}", 1, 1, 1));
    assert!(user_by_email(&app, "mallory@evil.example").await.is_none());
}

#[tokio::test]
async fn apple_malformed_user_field_is_ignored() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let (cb, _) = start(&app, "?login_hint=ada").await;
    let bad: Vec<(String, String)> = fields(&cb)
        .into_iter()
        .map(|(k, v)| {
            if k == "user" {
                (k, "{not json".into())
            } else {
                (k, v)
            }
        })
        .collect();
    let out = finish(&app, &with_fields(&cb, &bad)).await;
    assert!(out.set_session(), "{out:?}");
    let (_, s) = session(&app).await;
    assert_eq!(s["name"], Value::Null);
    assert_eq!(s["email"], json!("ada@example.com"));
}

#[tokio::test]
async fn apple_relay_email_signs_in_as_a_verified_private_address() {
    let relay = "x7k2p9q4m1@privaterelay.appleid.com";
    let fake = apple_fake(vec![
        FakeUser::new("hidden").email(relay).email_verified(true),
    ])
    .await;
    let app = app_for_apple(fake.settings()).await;
    assert!(sign_in(&app, "hidden").await.set_session());
    let (_, s) = session(&app).await;
    assert_eq!(s["email"], json!(relay));
    assert_eq!(s["email_verified"], json!(true));
}

#[tokio::test]
async fn apple_bad_client_secret_jwt_is_refused_by_the_fake() {
    let fake = apple_fake(vec![ada()]).await;
    let (team, kid) = fake.apple_ids().unwrap();
    let p8 = fake.settings().client_secret.unwrap();
    let sign = |pem: &str, team: &str, kid: &str, sub: &str, now: u64, life: u64| {
        sign_client_secret(pem, team, kid, sub, now, life).unwrap()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = fake.client_id().to_owned();
    // What the library signs passes; each wrong part is refused.
    fake.check_apple_client_secret(&sign(p8.expose(), &team, &kid, &id, now, 3600))
        .unwrap();
    for (why, jwt) in [
        ("another key", sign(OTHER_P8, &team, &kid, &id, now, 3600)),
        (
            "another team",
            sign(p8.expose(), "TEAM000000", &kid, &id, now, 3600),
        ),
        (
            "another key id",
            sign(p8.expose(), &team, "KEY0000000", &id, now, 3600),
        ),
        (
            "another client",
            sign(p8.expose(), &team, &kid, "other", now, 3600),
        ),
        (
            "expired",
            sign(p8.expose(), &team, &kid, &id, now - 7200, 3600),
        ),
    ] {
        assert!(fake.check_apple_client_secret(&jwt).is_err(), "{why}");
    }
    let valid = sign(p8.expose(), &team, &kid, &id, now, 3600);
    let (h, rest) = valid.split_once('.').unwrap();
    let (_, sig) = rest.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let other_aud = b64(
        json!({"iss": team, "sub": id, "aud": "https://evil.example",
                               "iat": now, "exp": now + 60}),
    );
    assert!(
        fake.check_apple_client_secret(&format!("{h}.{other_aud}.{sig}"))
            .is_err()
    );
    assert_eq!(APPLE_AUDIENCE, "https://appleid.apple.com");

    // End to end: an app with the wrong .p8, or the wrong team id, is refused at the token
    // endpoint (invalid_client) and nobody signs in.
    for (why, settings) in [
        (
            "wrong .p8",
            ProviderSettings {
                client_secret: Some(Secret::new(OTHER_P8)),
                ..fake.settings()
            },
        ),
        ("wrong team id", {
            let mut s = fake.settings();
            s.params.insert("team_id".into(), "TEAM000000".into());
            s
        }),
    ] {
        let app = app_for_apple(settings).await;
        let out = sign_in(&app, "ada").await;
        assert!(!out.set_session(), "{why}: {out:?}");
        assert_eq!(out.error_code().as_deref(), Some("invalid_client"), "{why}");
    }
}

#[tokio::test]
async fn apple_without_its_key_or_ids_is_misconfigured_and_never_sends_the_key() {
    let fake = apple_fake(vec![ada()]).await;
    let mut s = fake.settings();
    s.params.remove("key_id");
    let app = app_for_apple(s).await;
    let out = sign_in(&app, "ada").await;
    assert_eq!(out.error_code().as_deref(), Some("provider_misconfigured"));
    assert_eq!(
        fake.count(Endpoint::Token),
        0,
        "no token request without a secret"
    );
}

#[tokio::test]
async fn post_callback_for_a_get_provider_is_refused() {
    let fake = FakeIssuer::start(Preset::google()).await;
    let app = app_for("google", fake.settings(), |b| b).await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let (to, query) = cb.split_once('?').unwrap();
    let r = app
        .client
        .post(to)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(fake.count(Endpoint::Token), 0);
    // Nothing was spent: the GET callback still completes the sign-in.
    assert!(finish(&app, &cb).await.set_session());
}

#[tokio::test]
async fn get_callback_for_a_form_post_provider_is_refused() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let (cb, _) = start(&app, "?login_hint=ada").await;
    let as_get = cb.strip_suffix(signin::FORM_POST).unwrap();
    let r = app.client.get(as_get).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(fake.count(Endpoint::Token), 0);
    assert!(
        finish(&app, &cb).await.set_session(),
        "the POST still works"
    );
}

#[tokio::test]
async fn form_post_callback_body_is_bounded_and_form_encoded() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let (cb, _) = start(&app, "?login_hint=ada").await;
    let to = cb.split_once('?').unwrap().0;
    let post = |ct: &'static str, body: String| {
        app.client
            .post(to)
            .header("content-type", ct)
            .header("accept", "application/json")
            .body(body)
            .send()
    };
    let too_long = format!(
        "state=x&pad={}",
        "a".repeat(tower_oidc::flow::MAX_QUERY_BYTES)
    );
    let r = post("application/x-www-form-urlencoded", too_long)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = cb
        .strip_suffix(signin::FORM_POST)
        .unwrap()
        .split_once('?')
        .unwrap()
        .1;
    let r = post("application/json", body.to_owned()).await.unwrap();
    assert_eq!(r.status(), 400, "not a form");
    assert_eq!(fake.count(Endpoint::Token), 0);
    assert!(
        finish(&app, &cb).await.set_session(),
        "the real POST still works"
    );
}

/// Apple's cross-site POST does not carry the browser's `Lax` session cookie, so the callback
/// hands the new session off to `GET {prefix}/callback/finish` (a top-level navigation, which
/// carries it): there the old session ends and the new cookie replaces it — as a sign-in by a
/// `GET` callback rotates it. A missing or forged hand-off signs nobody in.
#[tokio::test]
async fn apple_sign_in_while_signed_in_ends_the_old_session() {
    let fake = apple_fake(vec![ada()]).await;
    let app = app_for_apple(fake.settings()).await;
    let first = sign_in(&app, "ada").await;
    let old = cookie_pair(&first.set_cookies, "tower_oidc_session").expect("a session");
    let session_of = |cookie: String| {
        let url = format!("{}/api/auth/session", app.url);
        async move { get_with_cookie(&url, &cookie).await.status().as_u16() }
    };
    assert_eq!(session_of(old.clone()).await, 200);

    // The second sign-in's POST, as the browser sends it cross-site: the transaction cookie
    // only, not the Lax session cookie.
    let r = authorize(&app, &app.client, "?login_hint=ada&return_to=/files").await;
    let tx = cookie_pair(&set_cookies(&r), "tower_oidc_tx_post").expect("a form_post tx cookie");
    let cb = to_callback(&app.client, &r).await;
    let (to, form) = cb
        .strip_suffix(signin::FORM_POST)
        .unwrap()
        .split_once('?')
        .unwrap();
    let posted = bare_client()
        .post(to)
        .header("cookie", &tx)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    let posted_cookies = set_cookies(&posted);
    let finish = location(&posted).unwrap_or_default();
    assert!(
        posted.status() == 303 && finish.starts_with("/api/auth/callback/finish?"),
        "the POST answered {} to {finish:?} with {posted_cookies:?}",
        posted.status()
    );
    assert!(
        cookie_pair(&posted_cookies, "tower_oidc_session").is_none(),
        "the POST's answer sets no session: {posted_cookies:?}"
    );
    let handoff = cookie_pair(&posted_cookies, "tower_oidc_handoff").expect("a hand-off cookie");

    // Without the hand-off (or with a forged one), nobody is signed in.
    let url = format!("{}{finish}", app.url);
    for cookie in [old.clone(), format!("{old}; tower_oidc_handoff=forged")] {
        let r = get_with_cookie(&url, &cookie).await;
        assert!(session_cookie(&r).is_none(), "{:?}", set_cookies(&r));
        assert_ne!(location(&r).as_deref(), Some("/files"));
    }

    // The browser follows the redirect with both cookies: the new session replaces the old.
    let r = get_with_cookie(&url, &format!("{old}; {handoff}")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r).as_deref(), Some("/files"));
    let new = session_cookie(&r).expect("the new session's cookie");
    assert_ne!(new, old);
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with("tower_oidc_handoff=;")),
        "the hand-off cookie is cleared"
    );
    assert_eq!(session_of(new).await, 200);
    assert_eq!(session_of(old).await, 401, "the old session ended");
}
