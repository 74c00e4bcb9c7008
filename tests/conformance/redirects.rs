//! §5b, redirects, headers and leakage: R1–R7.

use cookie::{Cookie, CookieJar, Key};
use tower_oidc::testing::{Endpoint, Tamper};

use crate::common::*;

fn corpus() -> Vec<String> {
    let mut c: Vec<String> = [
        "https://evil.com",
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "/%2F%2Fevil.com",
        "/%5Cevil.com",
        "https:evil.com",
        "http:/evil.com",
        "https://app.example.com.evil.com",
        "https://app.example.com@evil.com",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "%0d%0aSet-Cookie:x",
        "/%0d%0aSet-Cookie:x=1",
        "/\r\nSet-Cookie: x=1",
        "///evil.com",
        "/.//evil.com",
        "evil.com",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.push(format!("/{}", "a".repeat(10 * 1024)));
    c
}

/// R1 at authorize: every payload of the open-redirect corpus falls back to `/`.
#[tokio::test]
async fn return_to_corpus_at_authorize() {
    let (_fake, app) = fresh().await;
    for evil in corpus() {
        let q = format!("?login_hint=alice&return_to={}", encoded(&evil));
        let (cb, _) = start(&app, &q).await;
        let out = finish(&app, &cb).await;
        assert_eq!(out.status, 303, "{evil:.60?}");
        assert_eq!(out.location.as_deref(), Some("/"), "{evil:.60?}");
    }
    let (cb, _) = start(&app, "?login_hint=alice&return_to=%2Fafter%3Fx%3D1%23top").await;
    assert_eq!(
        finish(&app, &cb).await.location.as_deref(),
        Some("/after?x=1#top")
    );
}

const KEY: [u8; 64] = *b"0123456789abcdef0123456789abcdefFEDCBA9876543210fedcba9876543210";

/// Opens the transaction cookie with the app's key, rewrites every `return_to`, seals it again.
fn rewrite_return_to(value: &str, to: &str) -> String {
    let key = Key::from(&KEY);
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new("tower_oidc_tx", value.to_owned()));
    let plain = jar.private(&key).get("tower_oidc_tx").unwrap();
    let mut pending: serde_json::Value = serde_json::from_str(plain.value()).unwrap();
    for t in pending.as_array_mut().unwrap() {
        t["return_to"] = to.into();
    }
    let mut out = CookieJar::new();
    out.private_mut(&key)
        .add(Cookie::new("tower_oidc_tx", pending.to_string()));
    out.get("tower_oidc_tx").unwrap().value().to_owned()
}

/// R1 at the callback: a transaction whose `return_to` is hostile (as if the cookie had been
/// written by an older version, or the check at authorize were bypassed) still lands on `/`.
#[tokio::test]
async fn return_to_corpus_at_callback() {
    let (_fake, app) = fresh_with(|b| b.cookie_key(&KEY)).await;
    let bare = bare_client();
    for evil in corpus() {
        let r = authorize(&app, &bare, "?login_hint=alice").await;
        let set = r.headers()["set-cookie"].to_str().unwrap();
        let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
        let forged = rewrite_return_to(value, &evil);
        let cb = to_callback(&bare, &r).await;
        let r = get_with_cookie(&cb, &format!("tower_oidc_tx={forged}")).await;
        if forged.len() > tower_oidc::flow::MAX_COOKIE_BYTES {
            // Too large a cookie is no cookie: no sign-in, and no redirect anywhere.
            assert_eq!(r.status(), 302, "{evil:.60?}");
            assert!(location(&r).unwrap().ends_with("error=invalid_state"));
            continue;
        }
        assert_eq!(r.status(), 303, "{evil:.60?}");
        assert_eq!(r.headers()["location"], "/", "{evil:.60?}");
    }
}

/// R2: spoofed `X-Forwarded-*` headers change nothing: the redirect URI comes from the
/// configured base URL (the library has no proxy-trust option).
#[tokio::test]
async fn forwarded_headers_are_ignored() {
    let (fake, app) = fresh().await;
    let r = app
        .client
        .get(app.authorize_url("?login_hint=alice"))
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-uri", "/evil")
        .header("forwarded", "host=evil.example;proto=https")
        .header("x-original-url", "/evil")
        .send()
        .await
        .unwrap();
    let to_idp = location(&r).unwrap();
    assert_eq!(
        param(&to_idp, "redirect_uri").unwrap(),
        format!("{}/api/auth/providers/authentik/callback", app.url)
    );
    let cb = to_callback(&app.client, &r).await;
    let r = app
        .client
        .get(&cb)
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    let token = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Token))
        .unwrap();
    assert_eq!(
        token.form_param("redirect_uri").unwrap(),
        format!("{}/api/auth/providers/authentik/callback", app.url)
    );
}

/// R3: identity is never forwarded in headers (the app reads the `Auth` extension); client-sent
/// identity headers do not sign anyone in.
#[tokio::test]
async fn identity_is_never_taken_from_or_put_in_headers() {
    let fake = tower_oidc::testing::FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    let spoofed = app
        .client
        .get(app.at("/headers"))
        .header("x-auth-user", "admin")
        .header("x_auth_user", "admin")
        .header("X-AUTH-USER", "admin")
        .header("x-forwarded-user", "admin")
        .header("remote-user", "admin");
    let v: serde_json::Value = spoofed.send().await.unwrap().json().await.unwrap();
    assert_eq!(v["signed_in"], false);
    accepted(&app).await;
    let v = get_json(&app.client, &app.at("/headers")).await;
    assert_eq!(v["signed_in"], true);
    let headers = v["headers"].as_object().unwrap();
    for (k, val) in headers {
        let val = val.as_str().unwrap_or("");
        assert!(
            !val.contains("alice") && !val.contains("Alice"),
            "identity forwarded in header {k}"
        );
    }
    spoofed_identity_headers_are_ignored(&fake, &app).await;
}

/// The identity headers proxies use (oauth2-proxy, Authelia, mod_auth_*), every spelling.
const IDENTITY_HEADERS: &[&str] = &[
    "x-auth-user",
    "x_auth_user",
    "X-AUTH-USER",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-preferred-username",
    "x-forwarded-groups",
    "x-auth-request-user",
    "x-auth-request-email",
    "x-auth-request-preferred-username",
    "x-auth-request-groups",
    "remote-user",
    "x-remote-user",
    "remote-email",
    "remote-groups",
    "x-user",
    "x-email",
    "x-user-id",
];

/// R3 with users that exist: alice has signed in, so her username, email,
/// subject and user id name a real account. A signed-out browser sending them in every identity
/// header is still nobody (`/`, `/headers`, `/me`, `/admin-only`, the session endpoint); a
/// browser signed in as bob that sends alice's identity is still bob.
async fn spoofed_identity_headers_are_ignored(
    fake: &tower_oidc::testing::FakeAuthentik,
    app: &App,
) {
    let alice = user_by_email(app, "alice@example.com").await.unwrap();
    let names = [
        "alice".to_owned(),
        "alice@example.com".to_owned(),
        fake.sub("alice").unwrap(),
        alice.id.to_string(),
    ];
    let spoof = |mut r: reqwest::RequestBuilder, value: &str| {
        for h in IDENTITY_HEADERS {
            r = r.header(*h, value);
        }
        r.header("x-forwarded-groups", "authentik Admins")
            .header("accept", "application/json")
    };
    let signed_out = bare_client();
    for name in &names {
        let v: serde_json::Value = spoof(signed_out.get(app.at("/headers")), name)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["signed_in"], false, "{name}");
        // The headers did reach the app (so the check above is about them).
        assert_eq!(v["headers"]["x-forwarded-email"], name.as_str());
        let v: serde_json::Value = spoof(signed_out.get(app.at("/")), name)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["signed_in"], false, "{name}");
        assert_eq!(v["name"], serde_json::Value::Null, "{name}");
        for path in ["/me", "/admin-only", "/api/auth/session"] {
            let r = spoof(signed_out.get(app.at(path)), name)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} {name}");
        }
    }
    // Signed in as bob, claiming to be alice.
    let bob = client();
    let (status, _) = sign_in_with(app, &bob, "bob").await;
    assert_eq!(status, 303);
    let bob_id = session_in(&bob, &app.url).await.1["id"].clone();
    assert_ne!(bob_id.as_str(), Some(alice.id.to_string().as_str()));
    for name in &names {
        let me = spoof(bob.get(app.at("/me")), name)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(Some(me.as_str()), bob_id.as_str(), "{name}");
        let r = spoof(bob.get(app.at("/admin-only")), name)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "bob is no administrator ({name})");
    }
}

/// R4: the only path decision the layer makes is "is this an auth route"; look-alike paths are
/// not auth routes, so they reach the app with the ordinary `Auth`.
#[tokio::test]
async fn auth_route_matching() {
    let (_fake, app) = fresh().await;
    let e = app.layer.engine();
    for p in ["/api/auth", "/api/auth/", "/api/auth/providers"] {
        assert!(e.is_auth_route(p), "{p}");
    }
    for p in [
        "/api/authx",
        "/API/auth/session",
        "/api/auth%2fsession",
        "/x/api/auth",
        "/api",
    ] {
        assert!(!e.is_auth_route(p), "{p}");
    }
    // The look-alike variants of the matrix row (`%2e%2e`, `//`, `?`, `#`, case): matched on
    // the path as it is, never decoded, dot-resolved or slash-merged. What is under the prefix
    // stays the layer's (a dot segment does not lead out of it); what is not, is not.
    for p in [
        "/api/auth/%2e%2e",
        "/api/auth/%2e%2e/session",
        "/api/auth/%2E%2E/%2e%2e/admin",
        "/api/auth/../session",
        "/api/auth//session",
        "/api/auth/session/",
    ] {
        assert!(e.is_auth_route(p), "{p}");
    }
    for p in [
        "//api/auth",
        "//api/auth/session",
        "/api//auth/session",
        "/api/./auth/session",
        "/x/%2e%2e/api/auth/session",
        "/x/../api/auth/session",
        "/%2e%2e/api/auth/session",
        "/api/auth%2e%2e",
        "/api/auth%2e%2e/session",
        "/api%2fauth/session",
        "/api/auth?x=/",
        "/api/auth#/session",
        "/api/auth%3f/session",
        "/api/auth%23/session",
        "/api/Auth",
        "/api/auth.",
    ] {
        assert!(!e.is_auth_route(p), "{p}");
    }
    auth_route_matching_over_http(&app).await;
}

/// `GET target` sent as is (no URL normalisation on the client's side: `%2e%2e` and `//` reach
/// the server untouched), with `cookie` and `accept`: (status, the header lines, body).
pub(crate) async fn raw_get_as(
    addr: &str,
    target: &str,
    cookie: &str,
    accept: &str,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cookie = if cookie.is_empty() {
        String::new()
    } else {
        format!("Cookie: {cookie}\r\n")
    };
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n{cookie}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

/// The value of header `name` among a response's header lines (empty if absent).
pub(crate) fn raw_header(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// [`raw_get_as`] as an API client: (status, `Cache-Control`, body).
async fn raw_get(addr: &str, target: &str, cookie: &str) -> (u16, String, String) {
    let (status, head, body) = raw_get_as(addr, target, cookie, "application/json").await;
    (status, raw_header(&head, "cache-control"), body)
}

/// R4 over HTTP, requests sent byte for byte: the app's layer in front of an app that answers
/// every path with the path it got and who is signed in. Auth routes (also with a query, or a
/// dot segment under the prefix) are the layer's answer (`no-store`, never the app's);
/// look-alikes reach the app as they were sent, with the ordinary `Auth` (the signed-in user).
async fn auth_route_matching_over_http(app: &App) {
    use axum::{Json, Router, extract::Request};
    let out = accepted(app).await;
    let cookie = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    let echo = Router::new()
        .fallback(|req: Request| async move {
            let auth = tower_oidc::Auth::from_extensions(req.extensions());
            Json(serde_json::json!({
                "app_path": req.uri().path(),
                "signed_in": auth.is_signed_in(),
            }))
        })
        .layer(app.layer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        axum::serve(listener, echo).await.unwrap();
    });
    for target in [
        "/api/auth/session",
        "/api/auth/session?x=1",
        "/api/auth/session?return_to=/../admin",
        "/api/auth?x=/",
        "/api/auth/%2e%2e/session",
        "/api/auth/%2e%2e",
        "/api/auth//session",
    ] {
        let (status, cache, body) = raw_get(&addr, target, &cookie).await;
        assert!(
            !body.contains("app_path"),
            "{target}: reached the app: {body}"
        );
        assert_eq!(
            cache, "no-store",
            "{target}: not the layer's answer ({status})"
        );
    }
    for target in [
        "//api/auth/session",
        "/api//auth/session",
        "/x/%2e%2e/api/auth/session",
        "/%2e%2e/api/auth/session",
        "/api/auth%2e%2e/session",
        "/api%2fauth/session",
        "/api/auth%3f/session",
        "/api/auth%23/session",
        "/API/auth/session",
    ] {
        let (status, _, body) = raw_get(&addr, target, &cookie).await;
        assert_eq!(status, 200, "{target}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["app_path"], target, "{target}");
        assert_eq!(v["signed_in"], true, "{target}: the ordinary Auth");
    }
    task.abort();
}

/// R5: every auth response carries `Cache-Control: no-store` and `Referrer-Policy:
/// no-referrer`; the callback answers with an immediate 303 to a URL without `code`/`state`.
#[tokio::test]
async fn auth_responses_are_not_cached_nor_referred() {
    let (_fake, app) = fresh().await;
    let check = |r: &reqwest::Response| {
        assert_eq!(r.headers()["cache-control"], "no-store", "{}", r.url());
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{}", r.url());
    };
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    check(&r);
    let cb = to_callback(&app.client, &r).await;
    let r = app.client.get(&cb).send().await.unwrap();
    check(&r);
    assert_eq!(r.status(), 303);
    let loc = location(&r).unwrap();
    assert!(!loc.contains("code") && !loc.contains("state"), "{loc}");
    // The error path, the session endpoint and the error page too.
    let r = app.client.get(&cb).send().await.unwrap();
    check(&r);
    for path in [
        "/api/auth/session",
        "/api/auth/providers",
        "/api/auth/error?error=x",
        "/api/auth/login",
    ] {
        check(&app.client.get(app.at(path)).send().await.unwrap());
    }
}

/// R6: at TRACE level, a full sign-in and failed ones log no client secret, code, state,
/// access or ID token, or cookie value.
#[tokio::test]
async fn logs_hold_no_secrets() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = fresh().await;
    let tokens = capture_tokens(&fake);
    let (cb, to_idp) = start(&app, "?login_hint=alice").await;
    let out = finish(&app, &cb).await;
    assert_eq!(out.status, 303);
    let mut secrets: Vec<(&str, String)> = vec![
        ("client secret", fake.client_secret().to_owned()),
        ("code", param(&cb, "code").unwrap()),
        ("state", param(&cb, "state").unwrap()),
        ("nonce", param(&to_idp, "nonce").unwrap()),
    ];
    for t in tokens.lock().unwrap().iter() {
        secrets.push(("token", t.clone()));
        // Also the signature segment alone.
        secrets.push(("token signature", t.rsplit('.').next().unwrap().to_owned()));
    }
    for c in &out.set_cookies {
        let v = c.split(';').next().unwrap().split_once('=').unwrap().1;
        secrets.push(("cookie value", v.to_owned()));
    }
    // Failures log their detail: a bad signature, a bad state, a token endpoint refusal.
    fake.set_tamper(Tamper::BadSignature);
    let (cb2, _) = start(&app, "?login_hint=alice").await;
    secrets.push(("code", param(&cb2, "code").unwrap()));
    finish(&app, &cb2).await;
    fake.clear_switches();
    let (cb3, _) = start(&app, "?login_hint=alice").await;
    secrets.push(("code", param(&cb3, "code").unwrap()));
    finish(&app, &with_param(&cb3, "state", Some("forged-state-value"))).await;
    let mut refused = authentik_settings(&fake, UrlForm::Issuer);
    refused.client_secret = Some(tower_oidc::Secret::new("wrong-but-secret-value"));
    use tower_oidc::store::SettingsStore;
    app.store.put("authentik", &refused).await.unwrap();
    let (cb4, _) = start(&app, "?login_hint=alice").await;
    secrets.push(("code", param(&cb4, "code").unwrap()));
    secrets.push(("client secret", "wrong-but-secret-value".into()));
    finish(&app, &cb4).await;
    let text = logs.text();
    assert!(
        text.contains("sign_in_failed"),
        "failures are logged: {}",
        &text[..text.len().min(3000)]
    );
    logs.assert_free_of(&secrets);
}

/// R7: nothing the provider or the URL says is reflected unescaped: error descriptions are not
/// shown at all, unknown error codes and provider ids are not echoed.
#[tokio::test]
async fn reflected_values_are_escaped() {
    let (_fake, app) = fresh().await;
    for path in [
        "/api/auth/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/auth/login?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/auth/login?return_to=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/auth/providers/%3Cscript%3Ealert(1)%3C%2Fscript%3E/authorize",
        "/api/auth/providers/%3Cscript%3E/callback?error=x&error_description=%3Cscript%3E",
    ] {
        let r = app.client.get(app.at(path)).send().await.unwrap();
        let loc = location(&r).unwrap_or_default();
        assert!(!loc.contains('<'), "{path}: {loc}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>"), "{path}: {body}");
    }
}
