//! §2b, the Config RP certification profile (`oidcc-client-config-certification-test-plan`):
//! C1–C6. C4 (`rp-id_token-sig-none`) is B9: `basic::rp_id_token_sig_none`.

use tower_oidc::testing::{Endpoint, FakeAuthentik};

use crate::common::*;

/// C1 `rp-discovery-openid-configuration`: the endpoints come from the discovery document.
#[tokio::test]
async fn rp_discovery_openid_configuration() {
    let fake = FakeAuthentik::start().await;
    // The same paths (the fake routes by path) marked with a query only discovery knows.
    fake.set_discovery(|d| {
        for k in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
        ] {
            let v = format!("{}?from=discovery", d[k].as_str().unwrap());
            d.insert(k.into(), v.into());
        }
    });
    let app = app(&fake, UrlForm::Issuer).await;
    accepted(&app).await;
    for e in [Endpoint::Authorize, Endpoint::Token, Endpoint::Userinfo] {
        let r = fake
            .requests()
            .into_iter()
            .find(|r| r.endpoint == Some(e))
            .unwrap();
        assert_eq!(r.query_param("from"), Some("discovery"), "{e:?}");
    }
    assert_eq!(fake.count(Endpoint::Discovery), 1, "cached");
}

/// C2 `rp-discovery-jwks_uri-keys`: keys come from the discovered `jwks_uri` (randomised per
/// run), not a hard-coded path.
#[tokio::test]
async fn rp_discovery_jwks_uri_keys() {
    let fake = FakeAuthentik::start().await;
    let nonce = format!("{:x}", now() ^ 0x5eed);
    let n = nonce.clone();
    fake.set_discovery(move |d| {
        let v = format!("{}?run={n}", d["jwks_uri"].as_str().unwrap());
        d.insert("jwks_uri".into(), v.into());
    });
    let app = app(&fake, UrlForm::Issuer).await;
    accepted(&app).await;
    let jwks: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Jwks))
        .collect();
    assert_eq!(jwks.len(), 1);
    assert_eq!(jwks[0].query_param("run"), Some(nonce.as_str()));
}

/// C3 `rp-discovery-issuer-not-matching-config`: the provider is refused and no authorization
/// request is ever sent.
#[tokio::test]
async fn rp_discovery_issuer_not_matching_config() {
    let (fake, app) = fresh().await;
    fake.set_discovery(|d| {
        d.insert("issuer".into(), "https://example.com".into());
    });
    for _ in 0..2 {
        let r = authorize(&app, &app.client, "").await;
        let loc = location(&r).unwrap();
        assert!(loc.ends_with("error=provider_misconfigured"), "{loc}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "no transaction started"
        );
    }
    // The issuer without its trailing slash is a mismatch too (compared verbatim).
    let bare = fake.issuer().trim_end_matches('/').to_owned();
    fake.set_discovery(move |d| {
        d.insert("issuer".into(), bare.clone().into());
    });
    let r = authorize(&app, &app.client, "").await;
    assert!(
        location(&r)
            .unwrap()
            .ends_with("error=provider_misconfigured")
    );
    assert_eq!(fake.count(Endpoint::Authorize), 0, "/authorize never hit");
}

/// C5 `rp-key-rotation-op-sign-key-native`: the OP rotates its key right before signing; the
/// unknown `kid` makes the RP re-fetch the JWKS once, then accept.
#[tokio::test]
async fn rp_key_rotation_op_sign_key_native() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Jwks), 1);
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let old = fake.kid();
    let new = fake.rotate_signing_key();
    assert_ne!(old, new);
    let out = finish(&app, &cb).await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session());
    assert_eq!(
        fake.count(Endpoint::Jwks),
        2,
        "one re-fetch for the new kid"
    );
}

/// C6 `rp-key-rotation-op-sign-key`: keys rotate after the first sign-in; the second re-fetches
/// and is accepted; later ones use the cache.
#[tokio::test]
async fn rp_key_rotation_op_sign_key() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    fake.rotate_signing_key();
    accepted(&app).await;
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Jwks), 2);
}
