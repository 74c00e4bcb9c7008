//! Logout that reaches everywhere (issue 17): the back-channel receiver and every rule of
//! Back-Channel Logout 1.0 §2.6, the front-channel receiver, sign out everywhere, the admin's
//! and the app's way to end a user's sessions, and revocation of ended sessions' tokens at the
//! provider. Two app instances share one store (the backend of
//! `TOWER_OIDC_CONFORMANCE_BACKEND`: memory, SQLite, Postgres + Redis in CI) and one cookie key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tower_oidc::store::{SessionFilter, SessionStore, SettingsStore, UserId};
use tower_oidc::testing::{AuthentikVersion, FakeAuthentik, LogoutMethod, SigningMode, TokenKind};

use crate::common::store::TestStore;
use crate::common::{App, admin_settings, client, serve_on, session, session_in, sign_in_with};

const KEY: [u8; 64] = *b"0123456789abcdef0123456789abcdef-logout-test-key-fedcba987654321";

async fn fake_with(version: AuthentikVersion, mode: SigningMode) -> FakeAuthentik {
    FakeAuthentik::builder()
        .version(version)
        .signing(mode)
        .scopes(["openid", "email", "profile", "offline_access"])
        .start()
        .await
}

async fn fake() -> FakeAuthentik {
    fake_with(AuthentikVersion::NEWEST, SigningMode::Rs256).await
}

/// Two instances of one app on one store, Authentik (alice is an admin) configured once.
async fn two_instances(fake: &FakeAuthentik) -> (App, App) {
    let store = TestStore::from_env().await;
    SettingsStore::put(&store, "authentik", &admin_settings(fake))
        .await
        .unwrap();
    let a = serve_on("authentik", store.clone(), |b| b.cookie_key(&KEY)).await;
    let b = serve_on("authentik", store, |b| b.cookie_key(&KEY)).await;
    (a, b)
}

/// Asks `probe` until it answers 401, for at most the session cache's staleness bound (1 s)
/// and a margin: a session ended on one instance is refused on another at once when the store
/// answers from memory, within milliseconds when it announces changes (Postgres, Redis), and
/// within the bound otherwise (SQLite).
async fn once_propagated<T, F, Fut>(probe: F) -> (u16, T)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, T)>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        let r = probe().await;
        if r.0 == 401 || std::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Signs `who` in on `app` with the app's own browser; the session works.
async fn signed_in(app: &App, who: &str) {
    let (status, to) = sign_in_with(app, &app.client, who).await;
    assert_eq!(status, 303, "sign-in as {who}: {to}");
    assert_eq!(session(app).await.0, 200, "{who} is signed in");
}

fn backchannel_url(app: &App) -> String {
    app.at("/api/auth/providers/authentik/backchannel-logout")
}

/// POSTs `logout_token=<token>` to `app`'s back-channel route: (status, JSON, cache-control).
async fn post_logout_token(app: &App, token: &str) -> (u16, Value, String) {
    let r = reqwest::Client::new()
        .post(backchannel_url(app))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cc = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body, cc)
}

fn part(jwt: &str, i: usize) -> Map<String, Value> {
    let seg = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
}

/// The logout token the fake would send for alice's (only) session, re-signed by the fake
/// after `edit` changed its header and claims.
fn edited(
    fake: &FakeAuthentik,
    edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
) -> String {
    let sid = fake
        .sessions("alice")
        .pop()
        .expect("alice has a session at the fake");
    let token = fake.logout_token_for(&sid).unwrap();
    let (mut header, mut claims) = (part(&token, 0), part(&token, 1));
    edit(&mut header, &mut claims);
    fake.sign_jwt(header, claims)
}

/// A refused logout token: 400 `invalid_request`, and alice is still signed in on both
/// instances.
async fn refused(a: &App, b: &App, token: &str, case: &str) {
    let (status, body, _) = post_logout_token(b, token).await;
    assert_eq!(status, 400, "{case}: {body}");
    assert_eq!(body["error"], "invalid_request", "{case}");
    assert_eq!(
        session(a).await.0,
        200,
        "{case}: a refused token ends nothing"
    );
}

/// Alice signs in on instance A; Authentik ends her session and delivers the logout token to
/// instance B; her next request on A is signed out, and her refresh token is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_on_one_instance_signs_out_on_the_other() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    assert_eq!(
        fake.live_refresh_tokens("alice"),
        1,
        "the sign-in got a refresh token"
    );
    fake.set_logout_uri(backchannel_url(&b), LogoutMethod::Backchannel);
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.deliveries.len(), 1, "{:?}", report.deliveries);
    assert_eq!(report.deliveries[0].status, Some(200));
    assert_eq!(
        once_propagated(|| session(&a)).await.0,
        401,
        "signed out on A at once"
    );
    assert_eq!(
        fake.live_refresh_tokens("alice"),
        0,
        "the ended session's refresh token was revoked at the provider"
    );
    assert!(
        fake.revocations()
            .iter()
            .any(|r| r.kind == TokenKind::Refresh)
    );
}

/// A valid token is answered 200 with `Cache-Control: no-store`; posted again (a replay, on
/// the other instance) it is refused, and ends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_replayed_jti_on_the_other_instance_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let token = edited(&fake, |_, _| {});
    // Alice signs in again in another browser: a second session, another sid.
    let other = client();
    assert_eq!(sign_in_with(&a, &other, "alice").await.0, 303);
    let (status, _, cc) = post_logout_token(&b, &token).await;
    assert_eq!(status, 200);
    assert!(cc.contains("no-store"), "{cc}");
    assert_eq!(once_propagated(|| session(&a)).await.0, 401);
    // The replay names the same jti: refused on A, and the other session stays.
    let (status, body, _) = post_logout_token(&a, &token).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("jti"),
        "{body}"
    );
    assert_eq!(
        session_in(&other, &a.url).await.0,
        200,
        "only the token's sid ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_bad_signature_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let token = edited(&fake, |_, _| {});
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[10] ^= 0x01;
    refused(
        &a,
        &b,
        &format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig)),
        "bad signature",
    )
    .await;
    // Claims changed after signing: the signature no longer covers them.
    let good = edited(&fake, |_, _| {});
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims = part(&good, 1);
    claims.insert("sid".into(), json!("someone-else"));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    refused(&a, &b, &forged, "claims changed after signing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_wrong_iss_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let t = edited(&fake, |_, c| {
        c.insert(
            "iss".into(),
            json!(format!("{}/application/o/other/", fake.url())),
        );
    });
    refused(&a, &b, &t, "wrong iss").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_wrong_aud_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let t = edited(&fake, |_, c| {
        c.insert("aud".into(), json!("another-client"));
    });
    refused(&a, &b, &t, "wrong aud").await;
    let t = edited(&fake, |_, c| {
        c.insert("aud".into(), json!([fake.client_id(), "another-client"]));
    });
    refused(&a, &b, &t, "an untrusted extra aud").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_with_nonce_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let t = edited(&fake, |_, c| {
        c.insert("nonce".into(), json!("n-0S6_WzA2Mj"));
    });
    refused(&a, &b, &t, "nonce present").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_without_events_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let t = edited(&fake, |_, c| {
        c.remove("events");
    });
    refused(&a, &b, &t, "no events").await;
    let t = edited(&fake, |_, c| {
        c.insert(
            "events".into(),
            json!({"http://schemas.openid.net/event/other": {}}),
        );
    });
    refused(&a, &b, &t, "another event").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_without_sid_or_sub_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let t = edited(&fake, |_, c| {
        c.remove("sid");
        c.remove("sub");
    });
    refused(&a, &b, &t, "neither sid nor sub").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_expired_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let now = crate::common::now();
    let t = edited(&fake, |_, c| {
        c.insert("iat".into(), json!(now - 7200));
        c.insert("exp".into(), json!(now - 3600));
    });
    refused(&a, &b, &t, "expired").await;
    let t = edited(&fake, |_, c| {
        c.remove("exp");
        c.insert("iat".into(), json!(now - 3600));
    });
    refused(&a, &b, &t, "no exp and an old iat").await;
    let t = edited(&fake, |_, c| {
        c.insert("iat".into(), json!(now + 3600));
    });
    refused(&a, &b, &t, "issued in the future").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_jwe_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#);
    let jwe = format!("{header}.a2V5.aXY.Y2lwaGVy.dGFn");
    refused(&a, &b, &jwe, "JWE").await;
}

/// The ID token of alice's session, posted as a logout token: it carries a nonce and no
/// `events`, so it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_id_token_posted_is_refused() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let user = crate::common::user_by_email(&a, "alice@example.com")
        .await
        .unwrap();
    let sessions = a
        .store
        .find_sessions(&SessionFilter::User(user.id))
        .await
        .unwrap();
    let id_token = sessions[0]
        .id_token_hint
        .clone()
        .expect("the session keeps its ID token");
    refused(&a, &b, &id_token, "an ID token").await;
}

/// The algorithm and key come from the provider, never from the token: `alg: none`, HS256
/// keyed with the client secret against an RS256 provider (key confusion), and a `kid` the
/// provider does not publish are refused; a refused token spends nothing, so the genuine one
/// is accepted afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_algorithm_and_key_come_from_the_provider() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let genuine = edited(&fake, |_, _| {});
    let (h, c) = (part(&genuine, 0), part(&genuine, 1));
    let seg = |m: &Map<String, Value>| URL_SAFE_NO_PAD.encode(serde_json::to_vec(m).unwrap());
    let mut none = h.clone();
    none.insert("alg".into(), json!("none"));
    none.remove("kid");
    refused(&a, &b, &format!("{}.{}.", seg(&none), seg(&c)), "alg none").await;
    let mut hs = h.clone();
    hs.insert("alg".into(), json!("HS256"));
    hs.remove("kid");
    let input = format!("{}.{}", seg(&hs), seg(&c));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, fake.client_secret().as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    let confused = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    refused(
        &a,
        &b,
        &confused,
        "HS256 with the client secret at an RS256 provider",
    )
    .await;
    let unknown_kid = edited(&fake, |h, _| {
        h.insert("kid".into(), json!("not-a-published-kid"));
    });
    refused(&a, &b, &unknown_kid, "unknown kid").await;
    let (status, body, _) = post_logout_token(&b, &genuine).await;
    assert_eq!(
        status, 200,
        "the genuine token after the refused ones: {body}"
    );
    assert_eq!(once_propagated(|| session(&a)).await.0, 401);
}

/// `typ`: `logout+jwt` (2026.2+) and `JWT` (before) are accepted, another type is refused;
/// HS256 with the client secret (Authentik without a signing key) is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_token_types_and_hs256() {
    for (version, mode) in [
        (AuthentikVersion::V2025_10, SigningMode::Rs256),
        (AuthentikVersion::V2026_5, SigningMode::Hs256),
    ] {
        let fake = fake_with(version, mode).await;
        let (a, b) = two_instances(&fake).await;
        signed_in(&a, "alice").await;
        let t = edited(&fake, |h, _| {
            h.insert("typ".into(), json!("at+jwt"));
        });
        refused(&a, &b, &t, "typ at+jwt").await;
        fake.set_logout_uri(backchannel_url(&b), LogoutMethod::Backchannel);
        let report = fake.end_sessions("alice").await;
        let sent = &report.deliveries[0];
        let expected_typ = if version == AuthentikVersion::V2025_10 {
            "JWT"
        } else {
            "logout+jwt"
        };
        assert_eq!(part(&sent.logout_token, 0)["typ"], expected_typ);
        assert_eq!(sent.status, Some(200), "{version} {mode:?}");
        assert_eq!(
            once_propagated(|| session(&a)).await.0,
            401,
            "{version} {mode:?}"
        );
    }
}

/// A logout token with only `sub` ends every session of that account at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backchannel_logout_by_sub_ends_every_session_of_the_account() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let second = client();
    assert_eq!(sign_in_with(&b, &second, "alice").await.0, 303);
    let bob = client();
    assert_eq!(sign_in_with(&a, &bob, "bob").await.0, 303);
    let t = edited(&fake, |_, c| {
        c.remove("sid");
    });
    assert_eq!(post_logout_token(&b, &t).await.0, 200);
    assert_eq!(once_propagated(|| session(&a)).await.0, 401);
    assert_eq!(session_in(&second, &b.url).await.0, 401);
    assert_eq!(session_in(&bob, &a.url).await.0, 200, "bob's session stays");
}

fn frontchannel(app: &App, query: &str) -> String {
    app.at(&format!(
        "/api/auth/providers/authentik/frontchannel-logout{query}"
    ))
}

/// Front-channel logout: a wrong `iss` ends nothing; the right one ends only that `sid`'s
/// session, found without the browser's cookie. The page is framable by the provider only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn frontchannel_logout_ends_only_that_sid() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let sid = fake.sessions("alice").pop().unwrap();
    let other = client();
    assert_eq!(sign_in_with(&a, &other, "alice").await.0, 303);
    // The iframe has no cookie of the app: a client without any.
    let iframe = reqwest::Client::new();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let wrong = format!(
        "?iss={}&sid={sid}",
        enc("https://evil.example/application/o/tower-oidc/")
    );
    let r = iframe.get(frontchannel(&b, &wrong)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(session(&a).await.0, 200, "a wrong iss ends nothing");
    let r = iframe
        .get(frontchannel(
            &b,
            &format!("?iss={}&sid={sid}", enc(&fake.issuer())),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("frame-ancestors {}", fake.url())),
        "{csp}"
    );
    assert!(r.headers().get("x-frame-options").is_none());
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    assert_eq!(
        once_propagated(|| session(&a)).await.0,
        401,
        "that sid's session ended"
    );
    assert_eq!(
        session_in(&other, &a.url).await.0,
        200,
        "another sid's session stays"
    );
}

/// Front-channel without a usable `sid` (absent, empty, repeated) is refused and ends nothing —
/// not even the session of the browser's own cookie, which a link from any site would carry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn frontchannel_logout_without_sid_ends_nothing() {
    let fake = fake().await;
    let (a, _b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let sid = fake.sessions("alice").pop().unwrap();
    let iss = url::form_urlencoded::byte_serialize(fake.issuer().as_bytes()).collect::<String>();
    for query in [
        format!("?iss={iss}"),
        format!("?iss={iss}&sid="),
        format!("?iss={iss}&sid={sid}&sid={sid}"),
        format!("?sid={sid}"),
    ] {
        // The signed-in browser itself follows the link, cookie and all.
        let r = a.client.get(frontchannel(&a, &query)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(session(&a).await.0, 200, "{query}: nothing ended");
    }
}

/// The fake's own front-channel URL (what Authentik's logout page loads) ends the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn frontchannel_logout_from_the_fakes_iframe_url() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    fake.set_logout_uri(frontchannel(&b, ""), LogoutMethod::Frontchannel);
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.frontchannel_urls.len(), 1);
    let r = reqwest::get(&report.frontchannel_urls[0]).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(once_propagated(|| session(&a)).await.0, 401);
}

/// Sign out everywhere ends the user's sessions on both instances (and no one else's), and
/// revokes every ended session's refresh token at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_out_everywhere_ends_sessions_on_both_instances() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let on_b = client();
    assert_eq!(sign_in_with(&b, &on_b, "alice").await.0, 303);
    let bob = client();
    assert_eq!(sign_in_with(&b, &bob, "bob").await.0, 303);
    assert_eq!(fake.live_refresh_tokens("alice"), 2);
    let r = a
        .client
        .post(a.at("/api/auth/logout?everywhere=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(session(&a).await.0, 401);
    assert_eq!(
        session_in(&on_b, &b.url).await.0,
        401,
        "signed out on B too"
    );
    assert_eq!(session_in(&bob, &b.url).await.0, 200, "bob stays");
    assert_eq!(
        fake.live_refresh_tokens("alice"),
        0,
        "both refresh tokens revoked"
    );
    assert_eq!(fake.live_refresh_tokens("bob"), 1);
}

/// Plain sign-out revokes the session's refresh (and access) token at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_out_revokes_the_refresh_token_at_the_provider() {
    let fake = fake().await;
    let (a, _b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let other = client();
    assert_eq!(sign_in_with(&a, &other, "alice").await.0, 303);
    assert_eq!(fake.live_refresh_tokens("alice"), 2);
    let r = a
        .client
        .post(a.at("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        fake.live_refresh_tokens("alice"),
        1,
        "this session's refresh token only"
    );
    let kinds: Vec<TokenKind> = fake.revocations().iter().map(|r| r.kind).collect();
    assert!(
        kinds.contains(&TokenKind::Refresh) && kinds.contains(&TokenKind::Access),
        "{kinds:?}"
    );
    assert_eq!(
        session_in(&other, &a.url).await.0,
        200,
        "the other session stays"
    );
}

/// `DELETE /api/auth/admin/users/{id}/sessions`: refused when signed out, to non-admins and to
/// cross-site requests; for an admin it ends every session of the user on both instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_ends_a_users_sessions() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&a, "alice").await;
    let bob = client();
    assert_eq!(sign_in_with(&b, &bob, "bob").await.0, 303);
    let bob_id = crate::common::user_by_email(&a, "bob@example.com")
        .await
        .unwrap()
        .id;
    let path = a.at(&format!("/api/auth/admin/users/{bob_id}/sessions"));
    let signed_out = reqwest::Client::new()
        .delete(&path)
        .header("origin", &a.url)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 401);
    let by_bob = bob
        .delete(b.at(&format!("/api/auth/admin/users/{bob_id}/sessions")))
        .header("origin", &b.url)
        .send()
        .await
        .unwrap();
    assert_eq!(by_bob.status(), 403, "not an admin");
    let cross_site = a
        .client
        .delete(&path)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "cross-site");
    assert_eq!(session_in(&bob, &b.url).await.0, 200, "nothing ended yet");
    let r = a
        .client
        .delete(&path)
        .header("origin", &a.url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["ended"], 1);
    assert_eq!(
        once_propagated(|| session_in(&bob, &b.url)).await.0,
        401,
        "bob is signed out on B"
    );
    assert_eq!(session(&a).await.0, 200, "the admin stays signed in");
}

/// `OidcEngine::end_sessions_of`: the app ends a user's sessions from code.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_app_ends_a_users_sessions_from_code() {
    let fake = fake().await;
    let (a, b) = two_instances(&fake).await;
    signed_in(&b, "alice").await;
    let id = crate::common::user_by_email(&a, "alice@example.com")
        .await
        .unwrap()
        .id;
    assert_eq!(a.layer.engine().end_sessions_of(&id).await.unwrap(), 1);
    assert_eq!(once_propagated(|| session(&b)).await.0, 401);
    assert_eq!(
        a.layer
            .engine()
            .end_sessions_of(&UserId("nobody".into()))
            .await
            .unwrap(),
        0
    );
}
