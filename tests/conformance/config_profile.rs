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

/// A layer builder with nothing but a base URL (the built-in registry and memory stores).
fn minimal(base_url: &str) -> tower_oidc::OidcLayerBuilder {
    tower_oidc::OidcLayer::builder().base_url(base_url)
}

const GOOD_KEY: [u8; 64] = *b"0123456789abcdef0123456789abcdefFEDCBA9876543210fedcba9876543210";

/// T11: a cookie key shorter than 64 bytes (the first 32 sign sessions, the last 32 encrypt
/// login transactions), or one whose signing and encryption halves are the same, is a build
/// error; 64 bytes with distinct halves builds. A missing key is an error too (`MissingKey`),
/// except in loopback development (a random key, logged) or when `ephemeral_keys()` asks for
/// a random one: a key made up silently would differ between instances.
#[tokio::test]
async fn t11_cookie_key_too_short_or_one_key_for_both_uses() {
    use tower_oidc::layer::BuildError;
    for len in [0, 16, 31, 32, 63] {
        let e = minimal("https://app.example.com")
            .cookie_key(&GOOD_KEY[..len])
            .build()
            .err()
            .unwrap_or_else(|| panic!("a {len}-byte key built"));
        assert!(matches!(e, BuildError::BadKey(_)), "{len}: {e}");
    }
    let mut same = [0u8; 64];
    same[..32].copy_from_slice(&GOOD_KEY[..32]);
    same[32..].copy_from_slice(&GOOD_KEY[..32]);
    let e = minimal("https://app.example.com")
        .cookie_key(&same)
        .build()
        .expect_err("one key for signing and encryption built");
    assert!(
        matches!(&e, BuildError::BadKey(m) if m.contains("equal")),
        "{e}"
    );
    minimal("https://app.example.com")
        .cookie_key(&GOOD_KEY)
        .build()
        .expect("64 bytes, distinct halves");
    let e = minimal("https://app.example.com")
        .build()
        .expect_err("no key outside loopback built");
    assert!(matches!(e, BuildError::MissingKey), "{e}");
    assert!(e.to_string().contains("ephemeral_keys"), "{e}");
    minimal("https://app.example.com")
        .ephemeral_keys()
        .build()
        .expect("no key, ephemeral keys asked for");
    let (logs, _guard) = Logs::capture();
    minimal("http://127.0.0.1:3000")
        .build()
        .expect("no key on loopback: a random one");
    assert!(
        logs.text().contains("no cookie key configured"),
        "the random key is logged: {}",
        logs.text()
    );
}

/// `OidcLayerBuilder::provider` enables a provider from code, as a `[settings]` table would:
/// a user signs in with nothing in the settings store; the store's own settings (the admin
/// page's) take precedence once saved; an undefined provider id is a build error.
#[tokio::test]
async fn builder_provider_enables_a_provider_from_code() {
    use tower_oidc::layer::BuildError;
    use tower_oidc::store::SettingsStore as _;
    let fake = FakeAuthentik::start().await;
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let e = minimal("http://127.0.0.1:3000")
        .provider("authentk", settings.clone())
        .build()
        .expect_err("an undefined provider built");
    assert!(
        matches!(&e, BuildError::UnknownProvider(id) if id == "authentk"),
        "{e}"
    );

    let code = settings.clone();
    let app = app_custom(tower_oidc::Providers::builtin(), vec![], move |b| {
        b.provider("authentik", code)
    })
    .await;
    assert!(
        tower_oidc::store::SettingsStore::get(&app.store, "authentik")
            .await
            .unwrap()
            .is_none(),
        "nothing stored"
    );
    accepted(&app).await;
    // Saved settings win over the builder's.
    app.store
        .put(
            "authentik",
            &tower_oidc::ProviderSettings {
                enabled: false,
                ..settings
            },
        )
        .await
        .unwrap();
    let r = authorize_as_api(&app, "?login_hint=alice").await;
    assert_eq!(r.status(), 403, "disabled by the store");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "provider_disabled", "{body}");
}

/// T12: a transaction TTL of zero or over an hour, a clock skew over five minutes, a session
/// TTL of zero: build errors; the bounds themselves build.
#[tokio::test]
async fn t12_timing_out_of_bounds() {
    use std::time::Duration;
    use tower_oidc::flow::FlowTiming;
    use tower_oidc::layer::BuildError;
    let build = |t: FlowTiming| async move {
        minimal("https://app.example.com")
            .cookie_key(&GOOD_KEY)
            .timing(t)
            .build()
    };
    let d = FlowTiming::default;
    for (what, t) in [
        (
            "transaction TTL 0",
            FlowTiming {
                transaction_ttl: Duration::ZERO,
                ..d()
            },
        ),
        (
            "transaction TTL 1 h + 1 s",
            FlowTiming {
                transaction_ttl: Duration::from_secs(3601),
                ..d()
            },
        ),
        (
            "clock skew 5 min + 1 s",
            FlowTiming {
                clock_skew: Duration::from_secs(301),
                ..d()
            },
        ),
        (
            "session TTL 0",
            FlowTiming {
                session_ttl: Duration::ZERO,
                ..d()
            },
        ),
    ] {
        let e = build(t)
            .await
            .err()
            .unwrap_or_else(|| panic!("{what} built"));
        assert!(matches!(e, BuildError::BadTiming(_)), "{what}: {e}");
    }
    build(FlowTiming {
        transaction_ttl: Duration::from_secs(3600),
        clock_skew: Duration::from_secs(300),
        session_ttl: Duration::from_secs(1),
        ..d()
    })
    .await
    .expect("the bounds build");
}

/// T13: there is no `link_by_email` switch that could link by an unverified email: the key is
/// an error wherever it is written. Linking by email needs `email_verified: true` by default
/// (`verified_claim`) for built-in and defined providers alike; trusting unverified emails
/// takes the explicit `email_trust = "always"`.
#[tokio::test]
async fn t13_link_by_email_without_verification_is_an_error() {
    use tower_oidc::config::{EmailTrust, Providers};
    const SETTINGS: &str = "[settings.authentik]\nenabled = true\nurl = \"https://auth.example.com\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n";
    const PROVIDER: &str = "[providers.corp]\nname = \"Corp\"\nprotocol = \"oidc\"\nissuer = \"https://id.corp.example/\"\n";
    Providers::builtin()
        .with_toml_str("good.toml", &format!("{SETTINGS}{PROVIDER}"))
        .expect("the base file loads");
    for bad in [
        format!("{SETTINGS}link_by_email = true\n{PROVIDER}"),
        format!("{SETTINGS}{PROVIDER}link_by_email = true\n"),
        format!("{SETTINGS}require_email_verified = false\n{PROVIDER}"),
    ] {
        let errors = match Providers::builtin().with_toml_str("bad.toml", &bad) {
            Ok(_) => panic!("loaded: {bad}"),
            Err(e) => e.errors().to_vec(),
        };
        assert_eq!(errors.len(), 1, "{bad}: {errors:#?}");
        assert!(
            errors[0].message.contains("unknown key"),
            "{bad}: {errors:#?}"
        );
    }
    let p = Providers::builtin()
        .with_toml_str("good.toml", &format!("{SETTINGS}{PROVIDER}"))
        .unwrap();
    for id in ["authentik", "corp"] {
        assert_eq!(
            p.get(id).unwrap().email_trust,
            EmailTrust::VerifiedClaim,
            "{id}"
        );
    }
}

/// T14: the public base URL (the redirect URI's origin) must be absolute, https or http on a
/// loopback host, without a query; it must be set (it is never derived from request headers,
/// see R2).
#[tokio::test]
async fn t14_base_url_not_absolute_or_plain_http() {
    use tower_oidc::layer::BuildError;
    let e = tower_oidc::OidcLayer::builder()
        .cookie_key(&GOOD_KEY)
        .build()
        .expect_err("no base URL built");
    assert!(matches!(e, BuildError::MissingBaseUrl), "{e}");
    for bad in [
        "app.example.com",
        "/",
        "//app.example.com",
        "http://app.example.com",
        "http://10.0.0.5:8080",
        "ftp://app.example.com",
        "https://app.example.com/?next=/",
        "",
        // A mount path belongs in the prefix (issue 19), not in the base URL.
        "https://app.example.com/sub/",
    ] {
        let e = minimal(bad)
            .cookie_key(&GOOD_KEY)
            .build()
            .err()
            .unwrap_or_else(|| panic!("`{bad}` built"));
        assert!(matches!(e, BuildError::BadBaseUrl(_)), "{bad}: {e}");
    }
    for good in [
        "https://app.example.com",
        "https://app.example.com/",
        "http://127.0.0.1:3000",
        "http://localhost:3000",
        "http://[::1]:3000",
    ] {
        minimal(good)
            .cookie_key(&GOOD_KEY)
            .build()
            .unwrap_or_else(|e| panic!("`{good}`: {e}"));
    }
}
