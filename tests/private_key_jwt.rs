//! `private_key_jwt` client authentication (issue 20, item 3; RFC 7523 §2.2): the app signs a
//! fresh assertion with its own key for every token request, publishes the key at
//! `{prefix}/jwks.json`, and the fake checks the assertion strictly (signature, `iss`/`sub`,
//! `aud`, expiry, a `jti` used once).

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tower_oidc::Providers;
use tower_oidc::config::ProviderSettings;
use tower_oidc::flow::ClientKey;
use tower_oidc::testing::{Endpoint, FakeAuthentik};

use common::*;

const RSA_KEY: &str = include_str!("../src/testing/keys/attacker-rsa2048.key.pem");
const EC_KEY: &str = include_str!("../src/testing/keys/ec256-1.key.pem");

/// An app whose Authentik authenticates with `private_key_jwt` and `key`; no client secret.
async fn app_with_key(fake: &FakeAuthentik, key: ClientKey) -> App {
    app_with_key_and(fake, key, "").await
}

/// The same, with more of the provider's spec (`extra`: TOML lines of `[providers.authentik]`).
async fn app_with_key_and(fake: &FakeAuthentik, key: ClientKey, extra: &str) -> App {
    let providers = Providers::builtin()
        .with_toml_str(
            "pk.toml",
            &format!("[providers.authentik]\ntoken_auth = \"private_key_jwt\"\n{extra}"),
        )
        .unwrap();
    let settings = ProviderSettings {
        client_secret: None,
        ..authentik_settings(fake, UrlForm::Issuer)
    };
    app_custom(providers, vec![("authentik", settings)], move |b| {
        b.client_key(key)
    })
    .await
}

async fn published_jwks(app: &App) -> Value {
    let r = bare_client()
        .get(app.at("/api/auth/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn claims_of(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

fn token_requests(fake: &FakeAuthentik) -> Vec<tower_oidc::testing::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Token))
        .collect()
}

/// `EC_KEY` as a private JWK (`d`, `x`, `y` at their fixed places in a P-256 PKCS#8 DER).
fn ec_jwk(kid: &str) -> String {
    let b64: String = EC_KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(der.len(), 138);
    let enc = |r: std::ops::Range<usize>| URL_SAFE_NO_PAD.encode(&der[r]);
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "d": enc(36..68), "x": enc(74..106), "y": enc(106..138)})
        .to_string()
}

#[tokio::test]
async fn private_key_jwt_signs_in_and_publishes_its_key() {
    let keys = [
        (ClientKey::from_pem(RSA_KEY).unwrap(), "RS256"),
        (ClientKey::from_pem(EC_KEY).unwrap(), "ES256"),
        (ClientKey::from_jwk(&ec_jwk("app-key-1")).unwrap(), "ES256"),
    ];
    assert_eq!(keys[2].0.kid(), "app-key-1");
    assert_eq!(keys[2].0.public_jwk()["x"], keys[1].0.public_jwk()["x"]);
    for (key, alg) in keys {
        let fake = FakeAuthentik::start().await;
        let kid = key.kid().to_owned();
        let app = app_with_key(&fake, key).await;
        let jwks = published_jwks(&app).await;
        assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
        assert_eq!(jwks["keys"][0]["alg"], alg);
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "the private key is published"
        );
        fake.set_client_jwks(jwks);
        let out = sign_in(&app, "alice").await;
        assert!(out.set_session(), "{alg}: {:?}", out.error_code());
        let req = &token_requests(&fake)[0];
        assert_eq!(req.form_param("client_secret"), None);
        assert!(req.header("authorization").is_none());
        assert_eq!(
            req.form_param("client_assertion_type"),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        let c = claims_of(req.form_param("client_assertion").unwrap());
        assert_eq!(c["iss"], fake.client_id());
        assert_eq!(c["sub"], fake.client_id());
        assert_eq!(c["aud"], json!(fake.token_url()));
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
        assert!(c["jti"].as_str().unwrap().len() >= 32);
    }
}

#[tokio::test]
async fn private_key_jwt_bad_signature_is_refused() {
    let fake = FakeAuthentik::start().await;
    let key = ClientKey::from_pem(RSA_KEY).unwrap();
    let kid = key.kid().to_owned();
    let app = app_with_key(&fake, key).await;
    // The fake knows another key under the app key's `kid`: the signature does not verify.
    let mut other = ClientKey::from_pem(&rcgen::KeyPair::generate().unwrap().serialize_pem())
        .unwrap()
        .public_jwk()
        .clone();
    other["kid"] = json!(kid);
    let mut rsa_other = published_jwks(&app).await;
    // Same key type as the app's, other modulus: flip a byte of `n`.
    let n = rsa_other["keys"][0]["n"].as_str().unwrap().to_owned();
    let mut bytes = URL_SAFE_NO_PAD.decode(&n).unwrap();
    bytes[10] ^= 0xff;
    rsa_other["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode(&bytes));
    for jwks in [rsa_other, json!({"keys": [other]})] {
        fake.set_client_jwks(jwks);
        let out = sign_in(&app, "alice").await;
        assert!(!out.set_session());
        assert_eq!(out.error_code().as_deref(), Some("invalid_client"));
    }
}

#[tokio::test]
async fn private_key_jwt_reused_jti_is_refused() {
    let fake = FakeAuthentik::start().await;
    let app = app_with_key(&fake, ClientKey::from_pem(EC_KEY).unwrap()).await;
    fake.set_client_jwks(published_jwks(&app).await);
    assert!(sign_in(&app, "alice").await.set_session());
    // The assertion of that token request, sent again: refused as a replay (invalid_client,
    // not the invalid_grant a fresh assertion with a made-up code gets).
    let recorded = token_requests(&fake)[0].clone();
    let mut form: Vec<(String, String)> = recorded.form.clone();
    for (k, v) in form.iter_mut() {
        if k == "code" {
            *v = "made-up".into();
        }
    }
    let r = reqwest::Client::new()
        .post(fake.token_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // The app's own next sign-in signs a new assertion and passes.
    assert!(sign_in(&app, "alice").await.set_session());
}

#[tokio::test]
async fn private_key_jwt_expired_assertion_is_refused() {
    let fake = FakeAuthentik::start().await;
    let app = app_with_key(&fake, ClientKey::from_pem(EC_KEY).unwrap()).await;
    fake.set_client_jwks(published_jwks(&app).await);
    // The provider's clock 2 minutes ahead: the 60-second assertion has expired there.
    fake.set_clock_offset(120);
    let out = sign_in(&app, "alice").await;
    assert!(!out.set_session());
    assert_eq!(out.error_code().as_deref(), Some("invalid_client"));
    fake.set_clock_offset(0);
    assert!(sign_in(&app, "alice").await.set_session());
}

/// `assertion_aud` picks the assertion's audience as the provider documents it: a provider
/// that accepts only its issuer (Auth0) refuses the token-endpoint audience and takes the
/// issuer one; the built-in Auth0 spec says so.
#[tokio::test]
async fn private_key_jwt_assertion_aud_follows_the_spec() {
    let fake = FakeAuthentik::start().await;
    fake.require_assertion_aud(fake.issuer());
    let app = app_with_key(&fake, ClientKey::from_pem(EC_KEY).unwrap()).await;
    fake.set_client_jwks(published_jwks(&app).await);
    let out = sign_in(&app, "alice").await;
    assert_eq!(out.error_code().as_deref(), Some("invalid_client"));
    let c = claims_of(
        token_requests(&fake)[0]
            .form_param("client_assertion")
            .unwrap(),
    );
    assert_eq!(c["aud"], json!(fake.token_url()));

    let fake = FakeAuthentik::start().await;
    fake.require_assertion_aud(fake.issuer());
    let key = ClientKey::from_pem(EC_KEY).unwrap();
    let app = app_with_key_and(&fake, key, "assertion_aud = \"issuer\"\n").await;
    fake.set_client_jwks(published_jwks(&app).await);
    let out = sign_in(&app, "alice").await;
    assert!(out.set_session(), "{:?}", out.error_code());
    let c = claims_of(
        token_requests(&fake)[0]
            .form_param("client_assertion")
            .unwrap(),
    );
    assert_eq!(c["aud"], json!(fake.issuer()));

    let builtin = Providers::builtin();
    let aud = |id: &str| builtin.get(id).unwrap().assertion_aud;
    assert_eq!(aud("auth0"), tower_oidc::config::AssertionAud::Issuer);
    assert_eq!(aud("okta"), tower_oidc::config::AssertionAud::TokenEndpoint);
}

#[tokio::test]
async fn private_key_jwt_without_a_key_is_a_misconfiguration() {
    let fake = FakeAuthentik::start().await;
    let providers = Providers::builtin()
        .with_toml_str(
            "pk.toml",
            "[providers.authentik]\ntoken_auth = \"private_key_jwt\"\n",
        )
        .unwrap();
    let app = app_custom(
        providers,
        vec![("authentik", authentik_settings(&fake, UrlForm::Issuer))],
        |b| b,
    )
    .await;
    let out = sign_in(&app, "alice").await;
    assert_eq!(out.error_code().as_deref(), Some("provider_misconfigured"));
    assert_eq!(published_jwks(&app).await, json!({"keys": []}));
    assert_eq!(fake.count(Endpoint::Token), 0);
}

#[test]
fn client_keys_are_read_from_pem_and_jwk() {
    assert!(
        ClientKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .is_err()
    );
    assert!(ClientKey::from_jwk(r#"{"kty":"oct","k":"AAAA"}"#).is_err());
    let k = ClientKey::from_pem(EC_KEY).unwrap();
    assert_eq!(k.alg(), "ES256");
    assert!(!format!("{k:?}").contains("PRIVATE"));
}
