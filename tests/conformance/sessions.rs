//! §5a, the login transaction and the session: H1–H14.

use base64::Engine as _;
use bytes::Bytes;
use tower_oidc::flow::FlowTiming;
use tower_oidc::flow::{MAX_COOKIE_BYTES, MAX_PENDING};
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser};

use crate::common::*;

/// H1 login CSRF: the attacker's own callback (code + state) opened in the victim's browser,
/// which has a sign-in of its own pending: refused, no token call.
#[tokio::test]
async fn login_csrf_is_refused() {
    let (fake, app) = fresh().await;
    let attacker = client();
    let (attackers_callback, _) = start_in(&app, &attacker, "?login_hint=bob").await;
    // The victim started a sign-in too (so a "state exists somewhere" check would pass).
    let _victims = start(&app, "?login_hint=alice").await;
    rejected_at(
        &fake,
        &app,
        &attackers_callback,
        "invalid_state",
        NoFurther::Token,
    )
    .await;
    // The attacker's code was never redeemed by us.
    assert_eq!(fake.count(Endpoint::Token), 0);
}

/// H2: a completed callback replayed: refused with no second token call; in the browser that
/// is already signed in, a harmless redirect instead.
#[tokio::test]
async fn replayed_callback() {
    let (fake, app) = fresh().await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    assert!(finish(&app, &cb).await.set_session());
    let again = finish(&app, &cb).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location.as_deref(), Some("/"));
    assert!(!again.set_session());
    let other = finish_in(&client(), &cb).await;
    assert!(other.location.unwrap().ends_with("error=invalid_state"));
    assert_eq!(fake.count(Endpoint::Token), 1);
}

/// H3: a state minted for provider A presented at provider B's callback: refused, no token
/// call at either.
#[tokio::test]
async fn state_of_another_provider() {
    let fake = FakeAuthentik::start().await;
    let other = FakeAuthentik::start().await;
    let app = app_custom(
        with_second_authentik(),
        vec![
            ("authentik", authentik_settings(&fake, UrlForm::Issuer)),
            ("other", authentik_settings(&other, UrlForm::Issuer)),
        ],
        |b| b,
    )
    .await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let at_other = cb.replace("/providers/authentik/", "/providers/other/");
    rejected_at(&fake, &app, &at_other, "invalid_state", NoFurther::Token).await;
    assert_eq!(other.count(Endpoint::Token), 0);
    assert_eq!(fake.count(Endpoint::Token), 0);
}

/// A fresh fake and app whose login transactions live one second.
async fn fresh_with_one_second_transactions() -> (FakeAuthentik, App) {
    fresh_with(|b| {
        b.timing(FlowTiming {
            transaction_ttl: std::time::Duration::from_secs(1),
            ..FlowTiming::default()
        })
    })
    .await
}

/// H4: an expired transaction (TTL + 1 s): `login_expired`, no token call. The expired cookie
/// is sent explicitly (a browser drops it at Max-Age, and then the library's own expiry check
/// would never run): the library's check is what refuses it.
#[tokio::test]
async fn expired_transaction() {
    let (fake, app) = fresh_with_one_second_transactions().await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let tx_pair = tx_cookie(&r);
    let cb = to_callback(&app.client, &r).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let tx = fake.count(Endpoint::Token);
    // A browser that kept the cookie past its Max-Age: the library refuses it as expired.
    let r = get_with_cookie(&cb, &tx_pair).await;
    let out = Outcome {
        status: r.status().as_u16(),
        location: location(&r),
        set_cookies: set_cookies(&r),
        callback_url: cb.clone(),
    };
    let code = out.error_code().unwrap();
    assert!(
        code == "login_expired" || code == "invalid_state",
        "{out:?}"
    );
    assert_eq!(code, "login_expired", "the library's expiry check: {out:?}");
    assert_eq!(out.status, 302, "{out:?}");
    assert!(!out.set_session());
    assert_eq!(fake.count(Endpoint::Token), tx);
    // The browser itself dropped the cookie at Max-Age: no pending sign-in at all.
    let out = finish(&app, &cb).await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("invalid_state"),
        "{out:?}"
    );
    assert!(!out.set_session());
    assert_eq!(fake.count(Endpoint::Token), tx);
}

/// H4 with the cookie kept past its Max-Age: `login_expired`, transaction consumed.
#[tokio::test]
async fn expired_transaction_with_a_kept_cookie() {
    let (fake, app) = fresh_with_one_second_transactions().await;
    let c = client();
    let r = authorize(&app, &c, "?login_hint=alice").await;
    let tx = tx_cookie(&r);
    let cb = to_callback(&c, &r).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = get_with_cookie(&cb, &tx).await;
    assert!(location(&r).unwrap().ends_with("error=login_expired"));
    let r = get_with_cookie(&cb, &tx).await;
    assert!(
        location(&r).unwrap().ends_with("error=invalid_state"),
        "consumed"
    );
    assert_eq!(fake.count(Endpoint::Token), 0);
}

/// H5: the transaction cookie is missing (another browser, blocked cookie): refused, no token
/// call.
#[tokio::test]
async fn missing_transaction_cookie() {
    let (fake, app) = fresh().await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let other = finish_in(&client(), &cb).await;
    assert!(other.location.unwrap().ends_with("error=invalid_state"));
    assert_eq!(fake.count(Endpoint::Token), 0);
}

fn variants(value: &str) -> Vec<String> {
    let mut flipped = value.as_bytes().to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    vec![
        String::from_utf8(flipped).unwrap(),
        value[..value.len() - 4].to_owned(),
        format!("{value}AAAA"),
        "!!!not-base64!!!".to_owned(),
        String::new(),
        "A".repeat(10_000),
        base64::engine::general_purpose::STANDARD.encode("{\"admin\":true}"),
    ]
}

/// H6: tampered session cookies (flipped byte, truncated, extended, bad base64, empty,
/// oversized, another app's value) read as signed out, never a 500.
#[tokio::test]
async fn tampered_session_cookie_is_anonymous() {
    let (_fake, app) = fresh().await;
    let out = accepted(&app).await;
    let pair = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    let value = pair.split_once('=').unwrap().1.to_owned();
    // The real cookie works.
    let me: serde_json::Value = get_with_cookie(&app.at("/"), &pair)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["signed_in"], true);
    // A valid cookie from another app (another key).
    let (_f2, app2) = fresh().await;
    let out2 = accepted(&app2).await;
    let foreign = cookie_pair(&out2.set_cookies, "tower_oidc_session")
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let mut all = variants(&value);
    all.push(foreign);
    for v in all {
        let cookie = format!("tower_oidc_session={v}");
        let r = get_with_cookie(&app.at("/"), &cookie).await;
        assert_eq!(r.status(), 200, "{v:.40}");
        let me: serde_json::Value = r.json().await.unwrap();
        assert_eq!(me["signed_in"], false, "{v:.40}");
        let (status, _) = session_with_cookie(&app.url, &cookie).await;
        assert_eq!(status, 401, "{v:.40}");
    }
}

/// H6, a valid blob under the wrong key: the session cookie carries the id of a live session,
/// but signed with another key (another app's; this app's key with its halves swapped, i.e. the
/// transaction-encryption half as the signing key; the id unsigned). Each reads as signed out.
/// The same id signed again with the app's own key is signed in (the forging is right, the id
/// is live).
#[tokio::test]
async fn session_id_signed_with_another_key_is_anonymous() {
    use cookie::{Cookie, CookieJar, Key};
    const KEY: [u8; 64] = *b"0123456789abcdef0123456789abcdefFEDCBA9876543210fedcba9876543210";
    let (_fake, app) = fresh_with(|b| b.cookie_key(&KEY)).await;
    let out = accepted(&app).await;
    let pair = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    let value = pair.split_once('=').unwrap().1.to_owned();
    let name = "tower_oidc_session";
    // The session id inside, read with the app's key.
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(name, value.clone()));
    let id = jar
        .signed(&Key::from(&KEY))
        .get(name)
        .expect("the app's cookie verifies under its key")
        .value()
        .to_owned();
    assert!(!id.is_empty());
    let sign = |key: &[u8; 64]| {
        let mut jar = CookieJar::new();
        jar.signed_mut(&Key::from(key))
            .add(Cookie::new(name, id.clone()));
        jar.get(name).unwrap().value().to_owned()
    };
    let signed_in = |v: String| {
        let app_url = app.url.clone();
        async move {
            let cookie = format!("{name}={v}");
            let r = get_with_cookie(&format!("{app_url}/"), &cookie).await;
            assert_eq!(r.status(), 200);
            let me: serde_json::Value = r.json().await.unwrap();
            let (status, _) = session_with_cookie(&app_url, &cookie).await;
            assert_eq!(me["signed_in"] == true, status == 200, "{v:.40}");
            me["signed_in"] == true
        }
    };
    // Control: the id signed again with the app's own key is the live session.
    assert!(signed_in(sign(&KEY)).await, "re-signed with the app's key");
    let mut other = KEY;
    other[0] ^= 1;
    let mut swapped = [0u8; 64];
    swapped[..32].copy_from_slice(&KEY[32..]);
    swapped[32..].copy_from_slice(&KEY[..32]);
    let mut other_half = KEY;
    other_half[..32].copy_from_slice(b"a different signing half, 32 b!!");
    for (what, forged) in [
        ("another key", sign(&other)),
        ("the encryption half as signing key", sign(&swapped)),
        ("another signing half", sign(&other_half)),
        ("the bare id", id.clone()),
    ] {
        assert_ne!(forged, value, "{what}");
        assert!(!signed_in(forged).await, "{what}");
    }
    // And the real cookie still works afterwards.
    assert!(signed_in(value).await);
}

/// H6: tampered transaction cookies read as no pending sign-in: `invalid_state`, no token call.
#[tokio::test]
async fn tampered_transaction_cookie_is_absent() {
    let (fake, app) = fresh().await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let pair = tx_cookie(&r);
    let value = pair.split_once('=').unwrap().1.to_owned();
    let cb = to_callback(&app.client, &r).await;
    for v in variants(&value) {
        let r = get_with_cookie(&cb, &format!("tower_oidc_tx={v}")).await;
        assert_eq!(r.status(), 302, "{v:.40}");
        assert!(location(&r).unwrap().ends_with("error=invalid_state"));
    }
    assert_eq!(fake.count(Endpoint::Token), 0);
    // The untouched cookie still works afterwards.
    let r = get_with_cookie(&cb, &pair).await;
    assert_eq!(r.status(), 303);
}

/// H7: the same callback twice at the same moment (double click, prefetch): exactly one token
/// request, one session.
#[tokio::test]
async fn concurrent_callbacks_redeem_once() {
    let (fake, app) = fresh().await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let tx = tx_cookie(&r);
    let cb = to_callback(&app.client, &r).await;
    let c = bare_client();
    let futs: Vec<_> = (0..4)
        .map(|_| c.get(&cb).header("cookie", &tx).send())
        .collect();
    let results = futures_util::future::join_all(futs).await;
    let mut ok = 0;
    for r in results {
        let r = r.unwrap();
        if r.status() == 303 {
            ok += 1;
        } else {
            assert!(location(&r).unwrap().ends_with("error=invalid_state"));
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(fake.count(Endpoint::Token), 1, "exactly one token request");
}

/// H8: many pending sign-ins in one browser: at most `MAX_PENDING` kept (oldest evicted), the
/// cookie stays small even with long `return_to` values, and the newest still completes.
#[tokio::test]
async fn pending_sign_ins_are_bounded() {
    let (fake, app) = fresh().await;
    let long = format!("/{}", "a".repeat(2000));
    let q = format!("?login_hint=alice&return_to={long}");
    let mut callbacks = Vec::new();
    for i in 0..10 {
        let query = if i % 2 == 0 {
            q.as_str()
        } else {
            "?login_hint=alice"
        };
        let r = authorize(&app, &app.client, query).await;
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
        assert!(value.len() <= MAX_COOKIE_BYTES, "{} bytes", value.len());
        assert!(set.len() < 4096, "{} bytes", set.len());
        callbacks.push(to_callback(&app.client, &r).await);
    }
    // The oldest is gone.
    let tx = fake.count(Endpoint::Token);
    let out = finish(&app, &callbacks[0]).await;
    assert_eq!(out.error_code().as_deref(), Some("invalid_state"));
    assert_eq!(fake.count(Endpoint::Token), tx);
    // The newest completes.
    let out = finish(&app, &callbacks[9]).await;
    assert_eq!(out.status, 303, "{out:?}");
    let _ = MAX_PENDING;
}

/// H8 without long values: exactly the `MAX_PENDING` newest sign-ins complete.
#[tokio::test]
async fn pending_sign_ins_keep_the_newest() {
    let (_fake, app) = fresh().await;
    let mut callbacks = Vec::new();
    for _ in 0..(MAX_PENDING + 3) {
        callbacks.push(start(&app, "?login_hint=alice").await.0);
    }
    let mut ok = 0;
    for cb in &callbacks {
        if finish(&app, cb).await.status == 303 {
            ok += 1;
        }
    }
    assert_eq!(ok, MAX_PENDING);
}

/// H9: two tabs each complete their own sign-in.
#[tokio::test]
async fn two_tabs_both_succeed() {
    let (fake, app) = fresh().await;
    let (a, _) = start(&app, "?login_hint=alice&return_to=/a").await;
    let (b, _) = start(&app, "?login_hint=bob&return_to=/b").await;
    let out_a = finish(&app, &a).await;
    assert_eq!(out_a.location.as_deref(), Some("/a"), "{out_a:?}");
    let out_b = finish(&app, &b).await;
    assert_eq!(out_b.location.as_deref(), Some("/b"), "{out_b:?}");
    assert_eq!(session(&app).await.1["name"], "Bob Berger");
    assert_eq!(fake.count(Endpoint::Token), 2);
}

/// H10 session fixation: a planted session cookie is never promoted; sign-in issues a new id,
/// and the planted one (the attacker's own valid session) is ended.
#[tokio::test]
async fn session_fixation() {
    let (_fake, app) = fresh().await;
    // The attacker's own valid session cookie.
    let attacker = client();
    let (cb, _) = start_in(&app, &attacker, "?login_hint=bob").await;
    let out = finish_in(&attacker, &cb).await;
    let planted = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    // Planted in the victim's browser, who then signs in.
    let victim = bare_client();
    let r = victim
        .get(app.authorize_url("?login_hint=alice"))
        .header("cookie", &planted)
        .send()
        .await
        .unwrap();
    let tx = tx_cookie(&r);
    let cb = to_callback(&victim, &r).await;
    let r = get_with_cookie(&cb, &format!("{planted}; {tx}")).await;
    assert_eq!(r.status(), 303);
    let fresh_cookie = session_cookie(&r).unwrap();
    assert_ne!(fresh_cookie, planted, "a new session id");
    let who = |cookie: String| {
        let url = app.url.clone();
        async move { session_with_cookie(&url, &cookie).await }
    };
    let (s, me) = who(fresh_cookie).await;
    assert_eq!((s, me["name"].as_str()), (200, Some("Alice Anders")));
    let (s, _) = who(planted).await;
    assert_eq!(s, 401, "the planted session no longer works");
}

/// H11: cookie attributes on http loopback: `HttpOnly`, `SameSite=Lax`, `Path`, no `Secure`,
/// no prefix, no `Domain`.
#[tokio::test]
async fn cookie_attributes_on_http_loopback() {
    let (_fake, app) = fresh().await;
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let tx = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(tx.starts_with("tower_oidc_tx="), "{tx}");
    for a in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/api/auth/providers/",
        "Max-Age=",
    ] {
        assert!(tx.contains(a), "{tx}");
    }
    assert!(!tx.contains("Secure") && !tx.contains("Domain"), "{tx}");
    let cb = to_callback(&app.client, &r).await;
    let out = finish(&app, &cb).await;
    let s = out
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tower_oidc_session="))
        .unwrap();
    for a in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(s.contains(a), "{s}");
    }
    assert!(!s.contains("Secure") && !s.contains("Domain"), "{s}");
}

/// H11 on https: the `__Host-` prefix (so `Secure`, `Path=/`, no `Domain`) on both the login
/// transaction and the session cookie, driven through the engine (the whole flow, with the fake
/// as the provider). A `__Secure-` transaction cookie scoped to a path could be tossed in by a
/// sibling subdomain (H1).
#[tokio::test]
async fn cookie_attributes_on_https() {
    let fake = FakeAuthentik::start().await;
    let store = tower_oidc::MemoryStore::new();
    use tower_oidc::store::SettingsStore;
    store
        .put("authentik", &authentik_settings(&fake, UrlForm::Issuer))
        .await
        .unwrap();
    let layer = builder(&store, "https://app.example.com")
        .ephemeral_keys()
        .build()
        .unwrap();
    let engine = layer.engine();
    let get = |uri: &str, cookie: Option<&str>| {
        let mut b = http::Request::get(uri);
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        b.body(Bytes::new()).unwrap()
    };
    let r = engine
        .handle(get(
            "/api/auth/providers/authentik/authorize?login_hint=alice",
            None,
        ))
        .await;
    let tx = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(tx.starts_with("__Host-tower_oidc_tx="), "{tx}");
    for a in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/;"] {
        assert!(tx.contains(a), "{tx}");
    }
    assert!(!tx.contains("Domain"));
    let to_idp = r.headers()["location"].to_str().unwrap().to_owned();
    let cb = location(&bare_client().get(&to_idp).send().await.unwrap()).unwrap();
    assert!(cb.starts_with("https://app.example.com/api/auth/providers/authentik/callback?"));
    let path = cb.trim_start_matches("https://app.example.com");
    let pair = tx.split(';').next().unwrap();
    let r = engine.handle(get(path, Some(pair))).await;
    assert_eq!(r.status(), 303);
    let set: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    // The harness's oracle sees the https session cookie as a session set, and a cleared one
    // as none.
    let outcome = |set_cookies: Vec<String>| Outcome {
        status: 303,
        location: None,
        set_cookies,
        callback_url: path.to_owned(),
    };
    assert!(outcome(set.clone()).set_session(), "{set:?}");
    assert!(
        !outcome(vec![
            "__Host-tower_oidc_session=; Path=/; Secure; HttpOnly; Max-Age=0".into()
        ])
        .set_session()
    );
    let s = set
        .iter()
        .find(|c| c.starts_with("__Host-tower_oidc_session="))
        .unwrap()
        .clone();
    for a in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(s.contains(a), "{s}");
    }
    assert!(!s.contains("Domain"), "{s}");
}

/// H12: a user in very many groups makes a large ID token: no 500, no redirect loop (the
/// session is server-side, the cookie stays small); a token over the size limit is a clean
/// `id_token_invalid`.
#[tokio::test]
async fn huge_id_token_with_many_groups() {
    let groups: Vec<String> = (0..1500)
        .map(|i| format!("department-{i:05}-with-a-long-group-name"))
        .collect();
    let fake = FakeAuthentik::builder()
        .user(
            FakeUser::new("alice")
                .name("Alice Anders")
                .email("alice@example.com")
                .groups(groups.clone()),
        )
        .start()
        .await;
    let app = app(&fake, UrlForm::Issuer).await;
    let out = accepted(&app).await;
    let s = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    assert!(
        s.len() < 200,
        "the session cookie is an id: {} bytes",
        s.len()
    );
    let me = session(&app).await.1;
    assert!(me["groups"].as_array().unwrap().len() >= 1000);

    let many: Vec<String> = (0..4000)
        .map(|i| format!("department-{i:05}-with-a-long-group-name"))
        .collect();
    let fake = FakeAuthentik::builder()
        .user(
            FakeUser::new("alice")
                .name("Alice Anders")
                .email("alice@example.com")
                .groups(many),
        )
        .start()
        .await;
    let app2 = crate::common::app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app2, "id_token_invalid", NoFurther::Userinfo).await;
}

/// H13: an unauthenticated API request gets a 401 JSON, a browser a redirect to the login page.
/// Driven over HTTP through the app: `/me` needs a signed-in user (`CurrentUser`), and an app
/// whose every path needs one answers a browser asking for `//evil.com` (sent as is).
#[tokio::test]
async fn unauthenticated_api_request_gets_401() {
    let (_fake, app) = fresh().await;
    let c = bare_client();
    let r = c
        .get(app.at("/me"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(location(&r).is_none(), "no redirect for an API client");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    let r = c
        .get(app.at("/me"))
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(location(&r).is_none());
    let r = c
        .get(app.at("/me"))
        .header("accept", HTML)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/api/auth/login?return_to=%2Fme");
    // A browser at `//evil.com` (a path, sent byte for byte): the return target is not taken
    // as another origin.
    let guarded = axum::Router::new()
        .fallback(|u: tower_oidc::CurrentUser| async move { u.id.to_string() })
        .layer(app.layer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        axum::serve(listener, guarded).await.unwrap();
    });
    let (status, head, _) =
        crate::redirects::raw_get_as(&addr, "//evil.com", "", "text/html").await;
    assert_eq!(status, 303, "{head}");
    assert_eq!(
        crate::redirects::raw_header(&head, "location"),
        "/api/auth/login?return_to=%2F"
    );
    let (status, _, _) =
        crate::redirects::raw_get_as(&addr, "//evil.com", "", "application/json").await;
    assert_eq!(status, 401);
    task.abort();
    let r = app
        .client
        .get(format!("{}/api/auth/session", app.url))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// H14: logout ends the session server-side (the old cookie replayed is signed out), clears the
/// cookie and any pending sign-in's, and a cross-site logout is refused.
#[tokio::test]
async fn logout_invalidates_the_session() {
    let (_fake, app) = fresh().await;
    let out = accepted(&app).await;
    let pair = cookie_pair(&out.set_cookies, "tower_oidc_session").unwrap();
    let bare = bare_client();
    let r = bare
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &pair)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "cross-site logout refused");
    let r = bare
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cleared = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("tower_oidc_session=;") || cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // Any pending sign-in is forgotten too, at the transaction cookie's own path.
    let tx_cleared = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tower_oidc_tx="))
        .expect("logout clears the transaction cookie");
    assert!(
        tx_cleared.starts_with("tower_oidc_tx=;")
            && tx_cleared.contains("Max-Age=0")
            && tx_cleared.contains("Path=/api/auth/providers/"),
        "{tx_cleared}"
    );
    let (status, _) = session_with_cookie(&app.url, &pair).await;
    assert_eq!(status, 401, "the old cookie replayed is signed out");
}
