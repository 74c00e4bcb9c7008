//! Drives `FakeAuthentik` with a plain HTTP client and checks it behaves like Authentik.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tower_oidc::testing::{
    AuthentikVersion, DEFAULT_REDIRECT_URI_REGEX, Endpoint, FakeAuthentik, FakeUser, Fault,
    LogoutMethod, SigningMode, Tamper, TokenKind,
};

#[path = "common/tls.rs"]
mod tls;

const CB: &str = "http://127.0.0.1:3000/api/auth/providers/authentik/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fake(mode: SigningMode) -> FakeAuthentik {
    FakeAuthentik::builder()
        .signing(mode)
        .redirect_uri(CB)
        .start()
        .await
}

fn b64d(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn part(jwt: &str, i: usize) -> Map<String, Value> {
    serde_json::from_slice(&b64d(jwt.split('.').nth(i).unwrap())).unwrap()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_owned()
}

fn query_of(loc: &str) -> Vec<(String, String)> {
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Runs /authorize with the given extra params and returns the code.
async fn authorize(fake: &FakeAuthentik, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", fake.client_id()),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "openid email profile"),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    let resp = http()
        .get(fake.authorize_url())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query_of(&location(&resp));
    get(&q, "code").unwrap().to_owned()
}

async fn exchange(fake: &FakeAuthentik, code: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    form.extend_from_slice(extra);
    http()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn tokens(fake: &FakeAuthentik, extra_authz: &[(&str, &str)]) -> Map<String, Value> {
    let code = authorize(fake, extra_authz).await;
    let resp = exchange(fake, &code, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// GET userinfo with `access_token` as the bearer.
async fn userinfo_with(fake: &FakeAuthentik, access_token: &str) -> reqwest::Response {
    http()
        .get(fake.userinfo_url())
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

async fn jwks(fake: &FakeAuthentik) -> Value {
    http()
        .get(fake.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies a compact JWS with `ring` against the fake's JWKS (or the client secret).
async fn ring_verify(fake: &FakeAuthentik, jwt: &str) -> bool {
    let header = part(jwt, 0);
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let sig = b64d(sig);
    let alg = header["alg"].as_str().unwrap();
    if alg == "HS256" {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, fake.client_secret().as_bytes());
        return ring::hmac::verify(&key, input.as_bytes(), &sig).is_ok();
    }
    let set = jwks(fake).await;
    let kid = header["kid"].as_str().unwrap();
    let Some(jwk) = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
    else {
        return false;
    };
    match alg {
        "RS256" => ring::signature::RsaPublicKeyComponents {
            n: b64d(jwk["n"].as_str().unwrap()),
            e: b64d(jwk["e"].as_str().unwrap()),
        }
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &sig,
        )
        .is_ok(),
        "ES256" => {
            let mut point = vec![4u8];
            point.extend(b64d(jwk["x"].as_str().unwrap()));
            point.extend(b64d(jwk["y"].as_str().unwrap()));
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                point,
            )
            .verify(input.as_bytes(), &sig)
            .is_ok()
        }
        _ => false,
    }
}

#[tokio::test]
async fn discovery_document_is_authentiks() {
    let fake = fake(SigningMode::Rs256).await;
    let resp = http().get(fake.discovery_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("{\n  \"issuer\": "),
        "indent=2, issuer first: {text}"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let base = fake.url();
    assert_eq!(doc["issuer"], format!("{base}/application/o/tower-oidc/"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/application/o/authorize/")
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/application/o/token/")
    );
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{base}/application/o/userinfo/")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{base}/application/o/tower-oidc/jwks/")
    );
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{base}/application/o/tower-oidc/end-session/")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "email", "profile"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        json!(["plain", "S256"])
    );
    assert!(
        doc.get("authorization_response_iss_parameter_supported")
            .is_none()
    );
    assert!(doc.get("registration_endpoint").is_none());
    let claims = doc["claims_supported"].as_array().unwrap();
    assert!(claims.contains(&json!("groups")));
    assert!(!claims.contains(&json!("family_name")));

    let es = FakeAuthentik::builder()
        .signing(SigningMode::Es256)
        .start()
        .await;
    let doc: Value = http()
        .get(es.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(fake.count(Endpoint::Discovery), 1);
}

#[tokio::test]
async fn paths_without_trailing_slash_and_root_discovery_are_404() {
    let fake = fake(SigningMode::Rs256).await;
    let base = fake.url();
    for path in [
        "/application/o/authorize?client_id=x",
        "/application/o/token",
        "/application/o/userinfo",
        "/application/o/tower-oidc/jwks",
        "/application/o/tower-oidc/.well-known/openid-configuration/",
        "/.well-known/openid-configuration",
        "/application/o/other-app/.well-known/openid-configuration",
    ] {
        let status = http()
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    let resp = http().get(fake.issuer()).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        location(&resp),
        "/application/o/tower-oidc/.well-known/openid-configuration"
    );
    let resp = http().post(fake.authorize_url()).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    let resp = http().get(fake.authorize_url()).send().await.unwrap();
    assert_eq!(resp.status(), 404, "authorize without a query is 404");
}

#[tokio::test]
async fn jwks_in_three_modes() {
    let rs = fake(SigningMode::Rs256).await;
    let resp = http().get(rs.jwks_url()).send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let set: Value = resp.json().await.unwrap();
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = keys[0].as_object().unwrap();
    let names: Vec<&str> = k.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "alg", "kid", "kty", "use", "n", "e", "x5c", "x5t", "x5t#S256"
        ]
    );
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["use"], "sig");
    let kid = k["kid"].as_str().unwrap();
    assert_eq!(kid.len(), 32);
    assert!(kid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(b64d(k["n"].as_str().unwrap()).len(), 256);

    let es = fake(SigningMode::Es256).await;
    let set = jwks(&es).await;
    let k = set["keys"][0].as_object().unwrap();
    let names: Vec<&str> = k.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "alg", "kid", "kty", "use", "x", "y", "crv", "x5c", "x5t", "x5t#S256"
        ]
    );
    assert_eq!(k["crv"], "P-256");
    assert_eq!(b64d(k["x"].as_str().unwrap()).len(), 32);
    assert_eq!(b64d(k["y"].as_str().unwrap()).len(), 32);

    let hs = fake(SigningMode::Hs256).await;
    let body = http()
        .get(hs.jwks_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "{}");

    let big = FakeAuthentik::builder()
        .signing(SigningMode::Rs256Rsa4096)
        .kid_style(tower_oidc::testing::KidStyle::Sha512B64)
        .start()
        .await;
    let set = jwks(&big).await;
    assert_eq!(b64d(set["keys"][0]["n"].as_str().unwrap()).len(), 512);
    assert_eq!(set["keys"][0]["kid"].as_str().unwrap().len(), 86);
}

#[tokio::test]
async fn authorize_redirects_with_code_and_state() {
    let fake = fake(SigningMode::Rs256).await;
    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "a b&c"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let loc = location(&resp);
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    assert!(loc.ends_with("&state=a+b%26c"), "state urlencoded: {loc}");
    let q = query_of(&loc);
    let code = get(&q, "code").unwrap();
    assert_eq!(code.len(), 32);
    assert!(code.bytes().all(|b| b.is_ascii_hexdigit()));

    // No state sent: `state=` still present, empty.
    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert!(location(&resp).ends_with("&state="));
}

#[tokio::test]
async fn authorize_html_errors_and_error_redirects() {
    let fake = fake(SigningMode::Rs256).await;
    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", "nope"),
            ("redirect_uri", CB),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("Client ID Error"));

    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", "http://127.0.0.1:3000/other"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("Redirect URI Error"));

    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("code_challenge", "abc"),
            ("code_challenge_method", "S512"),
            ("state", "raw state&x=1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    // Raw state (only Django's iri_to_uri touches it: the space, not the `&`), quoted description.
    assert_eq!(
        location(&resp),
        format!(
            "{CB}?error=invalid_request&error_description=The%20request%20is%20otherwise%20malformed&state=raw%20state&x=1"
        )
    );
}

#[tokio::test]
async fn token_exchange_with_basic_and_with_post() {
    let fake = fake(SigningMode::Rs256).await;
    let t = tokens(&fake, &[]).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "openid email profile");
    assert!(
        t.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let at = part(t["access_token"].as_str().unwrap(), 1);
    assert_eq!(at["azp"], fake.client_id());
    assert_eq!(at["scope"], "openid email profile");
    assert_eq!(at["uid"].as_str().unwrap().len(), 40);

    let code = authorize(&fake, &[]).await;
    let resp = http()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let t: Value = resp.json().await.unwrap();
    assert!(t["id_token"].is_string());
    assert_eq!(fake.count(Endpoint::Token), 2);
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.form_param("grant_type"), Some("authorization_code"));
}

#[tokio::test]
async fn id_token_claims_are_authentiks() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .user(
            FakeUser::new("carol")
                .name("Carol Chen")
                .email("carol@example.com")
                .groups(["staff", "authentik Admins"]),
        )
        .start()
        .await;
    let t = tokens(&fake, &[("nonce", "n-0S6")]).await;
    let id = t["id_token"].as_str().unwrap();
    let h = part(id, 0);
    assert_eq!(h["typ"], "JWT");
    assert_eq!(h["alg"], "RS256");
    let c = part(id, 1);
    let names: Vec<&str> = c.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",
            "nonce",
            "sid",
            "jti",
            "email",
            "email_verified",
            "name",
            "given_name",
            "preferred_username",
            "nickname",
            "groups"
        ]
    );
    assert_eq!(c["iss"], fake.issuer());
    assert_eq!(c["aud"], fake.client_id(), "aud is a string");
    assert_eq!(c["sub"].as_str().unwrap(), fake.sub("carol").unwrap());
    assert_eq!(c["sub"].as_str().unwrap().len(), 64);
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["email_verified"], false);
    assert_eq!(c["given_name"], "Carol Chen");
    assert_eq!(c["groups"], json!(["staff", "authentik Admins"]));
    assert_eq!(c["jti"].as_str().unwrap().len(), 40);
    assert_eq!(c["sid"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn id_token_verifies_rs256_with_ring_and_openidconnect() {
    let fake = fake(SigningMode::Rs256).await;
    let t = tokens(&fake, &[("nonce", "n1")]).await;
    let id = t["id_token"].as_str().unwrap();
    assert!(ring_verify(&fake, id).await);
    let set: CoreJsonWebKeySet = serde_json::from_value(jwks(&fake).await).unwrap();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(fake.client_id().into()),
        IssuerUrl::new(fake.issuer()).unwrap(),
        set,
    );
    let token: CoreIdToken = id.parse().unwrap();
    let claims = token.claims(&verifier, &Nonce::new("n1".into())).unwrap();
    assert_eq!(claims.subject().as_str(), fake.sub("alice").unwrap());
}

#[tokio::test]
async fn id_token_verifies_es256() {
    let fake = fake(SigningMode::Es256).await;
    let t = tokens(&fake, &[("nonce", "n1")]).await;
    let id = t["id_token"].as_str().unwrap();
    assert_eq!(part(id, 0)["alg"], "ES256");
    assert!(ring_verify(&fake, id).await);
    let set: CoreJsonWebKeySet = serde_json::from_value(jwks(&fake).await).unwrap();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(fake.client_id().into()),
        IssuerUrl::new(fake.issuer()).unwrap(),
        set,
    )
    .set_allowed_algs([CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let token: CoreIdToken = id.parse().unwrap();
    token.claims(&verifier, &Nonce::new("n1".into())).unwrap();
}

#[tokio::test]
async fn id_token_verifies_hs256_with_client_secret() {
    let fake = fake(SigningMode::Hs256).await;
    let t = tokens(&fake, &[("nonce", "n1")]).await;
    let id = t["id_token"].as_str().unwrap();
    let h = part(id, 0);
    assert_eq!(h["alg"], "HS256");
    assert!(h.get("kid").is_none(), "no kid in HS256 mode");
    assert!(ring_verify(&fake, id).await);
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(fake.client_id().into()),
        ClientSecret::new(fake.client_secret().into()),
        IssuerUrl::new(fake.issuer()).unwrap(),
        CoreJsonWebKeySet::new(vec![]),
    )
    .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha256]);
    let token: CoreIdToken = id.parse().unwrap();
    token.claims(&verifier, &Nonce::new("n1".into())).unwrap();
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

async fn assert_token_error(resp: reqwest::Response, error: &str) {
    assert_eq!(resp.status(), 400);
    let header_id = resp.headers()["x-authentik-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error);
    assert!(body["error_description"].is_string());
    assert_eq!(body["request_id"], header_id.as_str());
    assert_eq!(header_id.len(), 32);
}

#[tokio::test]
async fn pkce_s256_ok_and_mismatch_is_invalid_grant() {
    let fake = fake(SigningMode::Rs256).await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = s256(verifier);
    let params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = authorize(&fake, &params).await;
    let resp = exchange(
        &fake,
        &code,
        &[(
            "code_verifier",
            "wrong-verifier-wrong-verifier-wrong-verifier",
        )],
    )
    .await;
    assert_token_error(resp, "invalid_grant").await;
    let resp = exchange(&fake, &code, &[]).await;
    assert_token_error(resp, "invalid_grant").await;
    let resp = exchange(&fake, &code, &[("code_verifier", verifier)]).await;
    assert_eq!(resp.status(), 200);

    // Downgrade guard: a verifier for a code issued without a challenge.
    let code = authorize(&fake, &[]).await;
    let resp = exchange(&fake, &code, &[("code_verifier", verifier)]).await;
    assert_token_error(resp, "invalid_grant").await;
}

#[tokio::test]
async fn code_reuse_is_invalid_grant() {
    let fake = fake(SigningMode::Rs256).await;
    let code = authorize(&fake, &[]).await;
    assert_eq!(exchange(&fake, &code, &[]).await.status(), 200);
    assert_token_error(exchange(&fake, &code, &[]).await, "invalid_grant").await;
    assert_token_error(
        exchange(&fake, "0123456789abcdef0123456789abcdef", &[]).await,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn redirect_uri_mismatch_at_token_is_invalid_client() {
    let fake = fake(SigningMode::Rs256).await;
    let code = authorize(&fake, &[]).await;
    let resp = http()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            (
                "redirect_uri",
                "http://127.0.0.1:3000/api/auth/providers/authentik/callback/",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_token_error(resp, "invalid_client").await;
    // The code was not consumed.
    assert_eq!(exchange(&fake, &code, &[]).await.status(), 200);
}

#[tokio::test]
async fn wrong_secret_and_unknown_grant() {
    let fake = fake(SigningMode::Rs256).await;
    let code = authorize(&fake, &[]).await;
    let resp = http()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some("not-the-secret"))
        // Form credentials are ignored when Basic is present.
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_token_error(resp, "invalid_client").await;
    let resp = http()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("grant_type", "urn:example:nope")])
        .send()
        .await
        .unwrap();
    assert_token_error(resp, "unsupported_grant_type").await;
}

#[tokio::test]
async fn userinfo_401_is_empty_with_bare_www_authenticate() {
    let fake = fake(SigningMode::Rs256).await;
    for req in [
        http().get(fake.userinfo_url()),
        http().get(fake.userinfo_url()).bearer_auth("garbage"),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "error=\"invalid_token\", error_description=\"The access token provided is expired, revoked, malformed, or invalid for other reasons\""
        );
        assert!(resp.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn userinfo_reevaluates_claims_and_echoes_nonce() {
    let fake = fake(SigningMode::Rs256).await;
    let t = tokens(&fake, &[("nonce", "n-42")]).await;
    let at = t["access_token"].as_str().unwrap();
    assert!(fake.update_user("alice", |u| u.set_email("alice@new.example")));
    let resp = userinfo_with(&fake, at).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Map<String, Value> = resp.json().await.unwrap();
    assert_eq!(body["sub"].as_str().unwrap(), fake.sub("alice").unwrap());
    assert_eq!(body["email"], "alice@new.example");
    assert_eq!(body["nonce"], "n-42");
    assert_eq!(body.keys().next().unwrap(), "sub");

    // POST with the token in the form works too.
    let resp = http()
        .post(fake.userinfo_url())
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn refresh_only_with_offline_access_and_rotates() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .scopes(["openid", "email", "profile", "offline_access"])
        .start()
        .await;
    let t = tokens(&fake, &[("scope", "openid offline_access unknown_scope")]).await;
    assert_eq!(t["scope"], "openid offline_access");
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(rt.len(), 128);
    let refresh = |token: String| {
        let fake = &fake;
        async move {
            http()
                .post(fake.token_url())
                .basic_auth(fake.client_id(), Some(fake.client_secret()))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let resp = refresh(rt.clone()).await;
    assert_eq!(resp.status(), 200);
    let t2: Value = resp.json().await.unwrap();
    assert_ne!(t2["refresh_token"], rt.as_str());
    assert!(
        part(t2["id_token"].as_str().unwrap(), 1)
            .get("nonce")
            .is_none()
    );
    assert_token_error(refresh(rt).await, "invalid_grant").await;
}

#[tokio::test]
async fn rotation_changes_kid_and_jwks() {
    let fake = fake(SigningMode::Rs256).await;
    let old = fake.kid().unwrap();
    let new = fake.rotate_signing_key().unwrap();
    assert_ne!(old, new);
    let set = jwks(&fake).await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new.as_str()]);
    let t = tokens(&fake, &[]).await;
    let id = t["id_token"].as_str().unwrap();
    assert_eq!(part(id, 0)["kid"], new.as_str());
    assert!(ring_verify(&fake, id).await);
}

#[tokio::test]
async fn tampers_produce_what_they_claim() {
    let fake = fake(SigningMode::Rs256).await;
    let kid = fake.kid().unwrap();

    fake.set_tamper(Tamper::BadSignature);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(part(&id, 0)["kid"], kid.as_str());
    assert!(
        !ring_verify(&fake, &id).await,
        "bad signature must not verify"
    );

    fake.set_tamper(Tamper::AlgNone);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(part(&id, 0)["alg"], "none");
    assert!(id.ends_with('.'));

    fake.set_tamper(Tamper::Hs256WithRsaPublicKey);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(part(&id, 0)["alg"], "HS256");
    assert_eq!(part(&id, 0)["kid"], kid.as_str());

    fake.set_tamper(Tamper::NoKid);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(part(&id, 0).get("kid").is_none());

    fake.set_tamper(Tamper::Jku);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let h = part(&id, 0);
    assert_eq!(h["jku"], format!("{}/attacker/jwks/", fake.url()));
    assert_ne!(h["kid"], kid.as_str());
    assert!(
        !ring_verify(&fake, &id).await,
        "attacker key is not in the JWKS"
    );

    fake.set_tamper(Tamper::EsPsychicSignature);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(part(&id, 0)["alg"], "ES256");
    assert_eq!(b64d(id.rsplit('.').next().unwrap()), vec![0u8; 64]);

    fake.set_tamper(Tamper::JweLike);
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.split('.').count(), 5);

    fake.set_tamper(Tamper::WrongAlg("RS384".into()));
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(part(&id, 0)["alg"], "RS384");

    fake.clear_switches();
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ring_verify(&fake, &id).await);
}

#[tokio::test]
async fn claim_and_document_hooks() {
    let fake = fake(SigningMode::Rs256).await;
    fake.set_id_token_claims(|c| {
        c.insert("aud".into(), json!(["a", "b"]));
        c.remove("iat");
    });
    fake.set_userinfo(|c| {
        c.insert("sub".into(), json!("foobar"));
    });
    fake.set_discovery(|d| {
        d.insert("issuer".into(), json!("https://evil.example/"));
    });
    fake.set_callback_params(|p| p.push(("iss".into(), "https://evil.example/".into())));
    fake.set_clock_offset(-600);
    let code_loc = {
        let resp = http()
            .get(fake.authorize_url())
            .query(&[
                ("client_id", fake.client_id()),
                ("redirect_uri", CB),
                ("response_type", "code"),
            ])
            .send()
            .await
            .unwrap();
        location(&resp)
    };
    let q = query_of(&code_loc);
    assert_eq!(get(&q, "iss"), Some("https://evil.example/"));
    let resp = exchange(&fake, get(&q, "code").unwrap(), &[]).await;
    let t: Value = resp.json().await.unwrap();
    let c = part(t["id_token"].as_str().unwrap(), 1);
    assert_eq!(c["aud"], json!(["a", "b"]));
    assert!(c.get("iat").is_none());
    assert!(c["exp"].as_i64().unwrap() < tower_oidc_now() + 3600 - 500);
    assert!(
        ring_verify(&fake, t["id_token"].as_str().unwrap()).await,
        "hooked claims are still signed"
    );
    let ui: Value = userinfo_with(&fake, t["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ui["sub"], "foobar");
    let doc: Value = http()
        .get(fake.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "https://evil.example/");
}

fn tower_oidc_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn jwks_junk_and_kidless_keys() {
    let fake = fake(SigningMode::Rs256).await;
    fake.set_jwks_junk_keys(true);
    fake.set_extra_kidless_keys(2);
    let set = jwks(&fake).await;
    let keys = set["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["kty"] == "AKP"));
    assert_eq!(keys.iter().filter(|k| k.get("kid").is_none()).count(), 2);
    assert_eq!(keys[0]["kty"], "AKP", "junk comes first");
    assert_eq!(keys[3]["kid"], fake.kid().unwrap().as_str());
    // The fake's own tokens still verify against the set.
    let id = tokens(&fake, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ring_verify(&fake, &id).await);
}

#[tokio::test]
async fn faults_and_recording() {
    let fake = fake(SigningMode::Rs256).await;
    fake.fault(Endpoint::Jwks, Fault::Status(503));
    assert_eq!(
        http().get(fake.jwks_url()).send().await.unwrap().status(),
        503
    );
    fake.fault(Endpoint::Jwks, Fault::Oversize(100_000));
    let body = http()
        .get(fake.jwks_url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 100_000);
    fake.fault(
        Endpoint::Discovery,
        Fault::Body {
            status: 502,
            content_type: "text/html".into(),
            body: b"<html>Bad Gateway</html>".to_vec(),
        },
    );
    let resp = http().get(fake.discovery_url()).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");
    fake.fault(Endpoint::Token, Fault::Status(1234));
    let resp = http().post(fake.token_url()).send().await.unwrap();
    assert_eq!(
        resp.status(),
        500,
        "an invalid status must not panic the fake"
    );
    fake.clear_fault(Endpoint::Jwks);
    assert_eq!(
        http().get(fake.jwks_url()).send().await.unwrap().status(),
        200
    );
    assert_eq!(fake.count(Endpoint::Jwks), 3);
    assert_eq!(fake.count(Endpoint::Discovery), 1);
    assert_eq!(fake.requests().len(), 5);
}

#[tokio::test]
async fn login_page_lists_users_and_login_hint_picks_one() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .login_page(true)
        .start()
        .await;
    let params = [
        ("client_id", fake.client_id()),
        ("redirect_uri", CB),
        ("response_type", "code"),
    ];
    let resp = http()
        .get(fake.authorize_url())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("login_hint=alice"));
    assert!(html.contains("login_hint=bob"));
    let code = {
        let mut p = params.to_vec();
        p.push(("login_hint", "bob@example.com"));
        let resp = http()
            .get(fake.authorize_url())
            .query(&p)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        get(&query_of(&location(&resp)), "code").unwrap().to_owned()
    };
    let t: Value = exchange(&fake, &code, &[]).await.json().await.unwrap();
    assert_eq!(
        part(t["id_token"].as_str().unwrap(), 1)["preferred_username"],
        "bob"
    );
}

/// A browser (keeps cookies, does not follow redirects) that has logged in to `fake`: it went
/// through `/authorize` and holds the `authentik_session` cookie.
async fn signed_in_browser(fake: &FakeAuthentik) -> reqwest::Client {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = browser
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("authentik_session="), "{cookie}");
    browser
}

async fn logged_out_page(resp: reqwest::Response) {
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("You've logged out of tower-oidc")
    );
}

#[tokio::test]
async fn end_session_honours_registered_post_logout_redirect() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .post_logout_redirect_uri("http://127.0.0.1:3000/bye")
        .start()
        .await;
    let browser = signed_in_browser(&fake).await;
    let resp = browser
        .get(fake.end_session_url())
        .query(&[
            ("post_logout_redirect_uri", "http://127.0.0.1:3000/bye"),
            ("state", "s 1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "http://127.0.0.1:3000/bye?state=s+1");
    let resp = browser
        .get(fake.end_session_url())
        .query(&[("post_logout_redirect_uri", "http://evil.example/")])
        .send()
        .await
        .unwrap();
    logged_out_page(resp).await;
}

/// Before 2026.5 end-session shows the logged-out page to any browser and ignores
/// `post_logout_redirect_uri`; from 2026.5 a browser without an Authentik session is sent to the
/// login flow first.
#[tokio::test]
async fn end_session_for_a_signed_out_browser_depends_on_the_version() {
    for version in AuthentikVersion::ALL {
        let fake = FakeAuthentik::builder()
            .version(version)
            .redirect_uri(CB)
            .post_logout_redirect_uri("http://127.0.0.1:3000/bye")
            .start()
            .await;
        assert_eq!(fake.version(), version);
        let query = [("post_logout_redirect_uri", "http://127.0.0.1:3000/bye")];
        // A browser that never logged in to Authentik (no cookie), and one with a stale cookie.
        for cookie in [None, Some("authentik_session=0123456789abcdef")] {
            let mut req = http().get(fake.end_session_url()).query(&query);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let resp = req.send().await.unwrap();
            match version {
                AuthentikVersion::V2025_10 => logged_out_page(resp).await,
                _ => {
                    assert_eq!(resp.status(), 302, "{version}");
                    let loc = location(&resp);
                    assert_eq!(
                        loc,
                        "/flows/-/default/authentication/?next=/application/o/tower-oidc/end-session/%3Fpost_logout_redirect_uri%3Dhttp%253A%252F%252F127.0.0.1%253A3000%252Fbye"
                    );
                    let login = http()
                        .get(format!("{}{loc}", fake.url()))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(login.status(), 200);
                    assert!(
                        login
                            .text()
                            .await
                            .unwrap()
                            .contains("Welcome to authentik!")
                    );
                    assert!(fake.count(Endpoint::LoginFlow) >= 1);
                    // Not logged out of anything: the app's redirect is not honoured.
                    assert_ne!(loc, "http://127.0.0.1:3000/bye");
                }
            }
        }
        // A browser with an Authentik session.
        let browser = signed_in_browser(&fake).await;
        let resp = browser
            .get(fake.end_session_url())
            .query(&query)
            .send()
            .await
            .unwrap();
        match version {
            AuthentikVersion::V2025_10 => logged_out_page(resp).await,
            _ => {
                assert_eq!(resp.status(), 302, "{version}");
                assert_eq!(location(&resp), "http://127.0.0.1:3000/bye");
            }
        }
        let resp = browser.get(fake.end_session_url()).send().await.unwrap();
        logged_out_page(resp).await;
    }
}

/// `client_secret_basic` with RFC 6749's encoding (form-urlencoded, then Basic): decoded from
/// 2026.5, used as sent (so refused) before. `client_secret_post` works on both.
#[tokio::test]
async fn basic_credentials_are_percent_decoded_only_from_2026_5() {
    for version in AuthentikVersion::ALL {
        let fake = FakeAuthentik::builder()
            .version(version)
            .redirect_uri(CB)
            .client_id("my client")
            .client_secret("s:e%cret+ x")
            .start()
            .await;
        let code = authorize(&fake, &[]).await;
        let basic = base64::engine::general_purpose::STANDARD.encode("my+client:s%3Ae%25cret%2B+x");
        let resp = http()
            .post(fake.token_url())
            .header("authorization", format!("Basic {basic}"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ])
            .send()
            .await
            .unwrap();
        if version >= AuthentikVersion::V2026_5 {
            // `+` stays a `+` in Authentik's decoding: only `%20` is a space.
            assert_eq!(resp.status(), 400, "{version}");
            let code = authorize(&fake, &[]).await;
            let basic =
                base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Ae%25cret%2B%20x");
            let resp = http()
                .post(fake.token_url())
                .header("authorization", format!("Basic {basic}"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{version}");
        } else {
            assert_eq!(resp.status(), 400, "{version}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client");
            assert_eq!(
                body["error_description"],
                "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)"
            );
            // The same credentials %-encoded without `+`: still refused, nothing is decoded.
            let code = authorize(&fake, &[]).await;
            let basic =
                base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Ae%25cret%2B%20x");
            let resp = http()
                .post(fake.token_url())
                .header("authorization", format!("Basic {basic}"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                ])
                .send()
                .await
                .unwrap();
            assert_token_error(resp, "invalid_client").await;
            // Raw credentials work: Authentik splits at the first `:`.
            let code = authorize(&fake, &[]).await;
            let basic = base64::engine::general_purpose::STANDARD.encode("my client:s:e%cret+ x");
            let resp = http()
                .post(fake.token_url())
                .header("authorization", format!("Basic {basic}"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{version}");
        }
        // client_secret_post: form-decoded on every version.
        let code = authorize(&fake, &[]).await;
        let resp = http()
            .post(fake.token_url())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
                ("client_id", "my client"),
                ("client_secret", "s:e%cret+ x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{version}");
    }
}

async fn authorize_with(fake: &FakeAuthentik, redirect_uri: &str) -> reqwest::Response {
    http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("state", "st"),
        ])
        .send()
        .await
        .unwrap()
}

async fn redirect_uri_error(resp: reqwest::Response) {
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers().get("location").is_none(),
        "not sent back to the app"
    );
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains("Redirect URI Error"), "{page}");
}

/// Redirect URIs are the admin's: fixed at start, never learned from a request. A mismatch is
/// Authentik's HTML error page, not a redirect.
#[tokio::test]
async fn redirect_uris_are_registered_by_the_admin() {
    // Strict registrations: only those, however many requests came before.
    let fake = FakeAuthentik::builder().redirect_uri(CB).start().await;
    assert_eq!(fake.redirect_uris(), vec![CB.to_owned()]);
    assert_eq!(authorize_with(&fake, CB).await.status(), 302);
    for other in [
        "http://127.0.0.1:3000/api/auth/providers/other/callback",
        "http://127.0.0.1:3001/api/auth/providers/authentik/callback",
        "http://127.0.0.1:3000/API/auth/providers/authentik/callback",
        "https://evil.example/callback",
    ] {
        redirect_uri_error(authorize_with(&fake, other).await).await;
    }
    assert_eq!(fake.redirect_uris(), vec![CB.to_owned()], "nothing learned");

    // The default registration: a loopback app's (or https://app.example.com's) `…/callback`,
    // and nothing else — not even the
    // first URI used.
    let fake = FakeAuthentik::start().await;
    assert!(fake.redirect_uris().is_empty());
    assert!(DEFAULT_REDIRECT_URI_REGEX.starts_with('^'));
    for ok in [
        "http://127.0.0.1:3000/api/auth/providers/authentik/callback",
        "http://127.0.0.1:45678/prefix/api/auth/providers/other/callback",
        "http://localhost:8080/callback",
        "http://[::1]:1/callback",
        "https://app.example.com/api/auth/providers/authentik/callback",
    ] {
        assert_eq!(authorize_with(&fake, ok).await.status(), 302, "{ok}");
    }
    for bad in [
        "https://evil.example/api/auth/providers/authentik/callback",
        "http://127.0.0.1.evil.example:3000/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:3000/other",
        "http://127.0.0.1:3000/callback?x=1",
        "http://127.0.0.1:3000//callback",
        "http://app.example.com/api/auth/providers/authentik/callback",
        "https://app.example.com.evil.example/callback",
        "https://app.example.com:8443/callback",
    ] {
        redirect_uri_error(authorize_with(&fake, bad).await).await;
    }
    assert!(fake.redirect_uris().is_empty(), "nothing learned");
    assert_eq!(fake.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn odd_authorization_headers_do_not_panic_the_fake() {
    let fake = fake(SigningMode::Rs256).await;
    for raw in [
        &b"Basic\xc2\xa0abc"[..],
        b"Bearer\xc2\xa0abc",
        b"Basic",
        b"Bearer ",
        b"Basic !!!",
    ] {
        let value = reqwest::header::HeaderValue::from_bytes(raw).unwrap();
        let resp = http()
            .post(fake.token_url())
            .header("authorization", value.clone())
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let resp = http()
            .get(fake.userinfo_url())
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
}

#[tokio::test]
async fn no_scope_grants_all_configured_scopes() {
    let fake = fake(SigningMode::Rs256).await;
    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    let code = get(&query_of(&location(&resp)), "code").unwrap().to_owned();
    let t: Value = exchange(&fake, &code, &[]).await.json().await.unwrap();
    assert_eq!(t["scope"], "openid email profile");
}

#[tokio::test]
async fn revoke_forgets_the_access_token() {
    let fake = fake(SigningMode::Rs256).await;
    let t = tokens(&fake, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let revoke_url = format!("{}/application/o/revoke/", fake.url());
    let resp = http()
        .post(&revoke_url)
        .basic_auth(fake.client_id(), Some("wrong"))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http()
        .post(&revoke_url)
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "{}");
    let resp = userinfo_with(&fake, at).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(fake.count(Endpoint::Revoke), 2);
}

#[tokio::test]
async fn discovery_parses_as_openidconnect_metadata_in_authentik_key_order() {
    let fake = fake(SigningMode::Rs256).await;
    let text = http()
        .get(fake.discovery_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Map<String, Value> = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "end_session_endpoint",
            "introspection_endpoint",
            "revocation_endpoint",
            "device_authorization_endpoint",
            "backchannel_logout_supported",
            "backchannel_logout_session_supported",
            "frontchannel_logout_supported",
            "frontchannel_logout_session_supported",
            "response_types_supported",
            "response_modes_supported",
            "jwks_uri",
            "grant_types_supported",
            "id_token_signing_alg_values_supported",
            "subject_types_supported",
            "token_endpoint_auth_methods_supported",
            "acr_values_supported",
            "scopes_supported",
            "request_parameter_supported",
            "claims_supported",
            "claims_parameter_supported",
            "code_challenge_methods_supported",
        ]
    );
    let meta: openidconnect::core::CoreProviderMetadata = serde_json::from_str(&text).unwrap();
    assert_eq!(meta.issuer().as_str(), fake.issuer());
}

#[tokio::test]
async fn delay_fault_and_token_response_hook() {
    let fake = fake(SigningMode::Rs256).await;
    fake.fault(
        Endpoint::Jwks,
        Fault::Delay(std::time::Duration::from_millis(500)),
    );
    let err = http()
        .get(fake.jwks_url())
        .timeout(std::time::Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    fake.clear_fault(Endpoint::Jwks);

    fake.set_token_response(|b| {
        b.remove("id_token");
    });
    let t = tokens(&fake, &[]).await;
    assert!(t.get("id_token").is_none());
    assert!(t.get("access_token").is_some());
}

#[tokio::test]
async fn prompt_none_consent_is_consent_required_and_unknown_response_type_is_redirected() {
    let fake = fake(SigningMode::Rs256).await;
    let mut params = vec![
        ("client_id", fake.client_id()),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("prompt", "none consent"),
    ];
    let resp = http()
        .get(fake.authorize_url())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert!(location(&resp).starts_with(&format!("{CB}?error=consent_required&")));
    params[2] = ("response_type", "token");
    params[3] = ("prompt", "none");
    let resp = http()
        .get(fake.authorize_url())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert!(location(&resp).starts_with(&format!("{CB}?error=unsupported_response_type&")));
    assert!(
        !location(&resp).contains("state="),
        "state omitted when not sent"
    );
}

#[tokio::test]
async fn bearer_token_is_the_second_word_of_the_header() {
    let fake = fake(SigningMode::Rs256).await;
    let t = tokens(&fake, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    for header in [
        format!("bearer {at}"),
        format!("Bearer  {at}"),
        format!("Bearer {at} extra"),
    ] {
        let resp = http()
            .get(fake.userinfo_url())
            .header("authorization", header.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{header}");
    }
    let resp = http()
        .get(fake.userinfo_url())
        .header("authorization", format!("BEARER {at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "only Bearer/bearer are recognised");
}

#[tokio::test]
async fn denied_user_sees_access_denied_page_without_redirect() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .user(FakeUser::new("mallory").access_denied(true))
        .start()
        .await;
    let resp = http()
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("Access denied"));
}

#[tokio::test]
async fn sub_mode_username() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .sub_mode(tower_oidc::testing::SubMode::UserUsername)
        .start()
        .await;
    let t = tokens(&fake, &[]).await;
    assert_eq!(part(t["id_token"].as_str().unwrap(), 1)["sub"], "alice");
    assert_eq!(fake.sub("alice").as_deref(), Some("alice"));
}

#[tokio::test]
async fn expired_code_and_expired_access_token() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .code_validity(std::time::Duration::from_millis(1))
        .start()
        .await;
    let code = authorize(&fake, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_token_error(exchange(&fake, &code, &[]).await, "invalid_grant").await;

    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .access_token_validity(std::time::Duration::from_secs(1))
        .start()
        .await;
    let t = tokens(&fake, &[]).await;
    assert_eq!(t["expires_in"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = userinfo_with(&fake, t["access_token"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 401);
}

// ---- Logout notifications -------------------------------------------------------------------

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// One POST the logout receiver got.
#[derive(Debug, Clone)]
struct Hit {
    headers: Vec<(String, String)>,
    body: String,
}

impl Hit {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn logout_token(&self) -> String {
        get(&self.form(), "logout_token").unwrap().to_owned()
    }
}

/// A tiny app on loopback recording the logout POSTs it gets, answering them with the scripted
/// statuses in turn, then 200.
#[derive(Clone, Default)]
struct Receiver {
    hits: std::sync::Arc<std::sync::Mutex<Vec<Hit>>>,
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn receive(
    axum::extract::State(rx): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::http::StatusCode {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    rx.hits.lock().unwrap().push(Hit { headers, body });
    let status = rx.script.lock().unwrap().pop_front().unwrap_or(200);
    axum::http::StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver; returns its logout URL (`http://127.0.0.1:PORT/logout`).
async fn receiver(script: &[u16]) -> (String, Receiver) {
    let rx = Receiver::default();
    rx.script.lock().unwrap().extend(script.iter().copied());
    let app = axum::Router::new()
        .route("/logout", axum::routing::post(receive))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/logout", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn refresh(fake: &FakeAuthentik, rt: &str) -> reqwest::Response {
    http()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .unwrap()
}

async fn userinfo_status(fake: &FakeAuthentik, at: &str) -> u16 {
    userinfo_with(fake, at).await.status().as_u16()
}

fn is_uuid4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        && groups[2].starts_with('4')
        && "89ab".contains(&groups[3][..1])
}

/// What every logout token of the fake must be, for the session of `id_token`.
async fn assert_logout_token(fake: &FakeAuthentik, token: &str, id_token: &str) {
    let header = part(token, 0);
    let claims = part(token, 1);
    let id = part(id_token, 1);
    let typ = match fake.version() {
        AuthentikVersion::V2025_10 => "JWT",
        _ => "logout+jwt",
    };
    assert_eq!(header["typ"], typ, "{header:?}");
    assert_eq!(header["alg"], fake.signing_mode().alg());
    assert_eq!(
        header.get("kid").and_then(Value::as_str),
        fake.kid().as_deref()
    );
    assert!(ring_verify(fake, token).await, "signature of {token}");
    assert_eq!(claims["iss"], fake.issuer());
    assert_eq!(claims["aud"], json!(fake.client_id()));
    assert_eq!(claims["sub"], id["sub"]);
    assert_eq!(claims["sid"], id["sid"]);
    assert_eq!(claims["events"], json!({ BCL_EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "{claims:?}");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - tower_oidc_now()).abs() < 5, "{claims:?}");
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 3600);
    assert!(is_uuid4(claims["jti"].as_str().unwrap()), "{claims:?}");
    let names: Vec<&str> = claims.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["iss", "aud", "iat", "exp", "jti", "events", "sub", "sid"]
    );
}

#[tokio::test]
async fn backchannel_logout_posts_authentiks_logout_token() {
    for version in AuthentikVersion::ALL {
        for mode in [SigningMode::Rs256, SigningMode::Es256, SigningMode::Hs256] {
            let fake = FakeAuthentik::builder()
                .version(version)
                .signing(mode)
                .redirect_uri(CB)
                .start()
                .await;
            let (uri, rx) = receiver(&[]).await;
            fake.set_logout_uri(&uri, LogoutMethod::Backchannel);
            let t = tokens(&fake, &[("nonce", "n-1")]).await;
            let id_token = t["id_token"].as_str().unwrap();
            let sid = part(id_token, 1)["sid"].as_str().unwrap().to_owned();
            assert_eq!(sid.len(), 64);
            assert_eq!(fake.sessions("alice"), [sid.as_str()]);

            let report = fake.end_sessions("alice").await;
            assert_eq!(report.ended_sessions, [sid.as_str()]);
            assert!(report.frontchannel_urls.is_empty());
            assert_eq!(report.deliveries.len(), 1, "{version} {mode:?}");
            let d = &report.deliveries[0];
            assert_eq!(
                (d.sid.as_str(), d.status, d.attempt),
                (sid.as_str(), Some(200), 1)
            );
            assert_eq!(d.uri, uri);
            assert!(fake.sessions("alice").is_empty());

            let hits = rx.hits();
            assert_eq!(hits.len(), 1);
            let hit = &hits[0];
            assert_eq!(
                hit.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(
                hit.header("user-agent").unwrap(),
                format!(
                    "authentik@{}",
                    match version {
                        AuthentikVersion::V2025_10 => "2025.10.0",
                        _ => "2026.5.0",
                    }
                )
            );
            assert!(hit.header("authorization").is_none());
            assert_eq!(hit.form().len(), 1);
            assert_eq!(hit.logout_token(), d.logout_token);
            assert_logout_token(&fake, &hit.logout_token(), id_token).await;
            // The session's access tokens went with it.
            assert_eq!(
                userinfo_status(&fake, t["access_token"].as_str().unwrap()).await,
                401
            );
            assert_eq!(fake.logout_deliveries(), report.deliveries);
        }
    }
}

#[tokio::test]
async fn no_backchannel_logout_without_an_unexpired_access_token() {
    // Expired access token.
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .access_token_validity(std::time::Duration::from_secs(1))
        .start()
        .await;
    let (uri, rx) = receiver(&[]).await;
    fake.set_logout_uri(&uri, LogoutMethod::Backchannel);
    tokens(&fake, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.ended_sessions.len(), 1);
    assert!(report.deliveries.is_empty());

    // Revoked access token: the revocation itself notifies nobody either.
    let fake = fake_with_logout(&uri).await;
    let t = tokens(&fake, &[]).await;
    let at = t["access_token"].as_str().unwrap();
    revoke(&fake, at).await;
    assert_eq!(fake.revocations().len(), 1);
    assert_eq!(fake.revocations()[0].kind, TokenKind::Access);
    assert_eq!(fake.revocations()[0].token, at);
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.ended_sessions.len(), 1);
    assert!(report.deliveries.is_empty());

    // A session whose code was never exchanged.
    authorize(&fake, &[]).await;
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.ended_sessions.len(), 1);
    assert!(report.deliveries.is_empty());

    // Only the user's own sessions end.
    tokens(&fake, &[("login_hint", "bob")]).await;
    let report = fake.end_sessions("alice").await;
    assert!(report.ended_sessions.is_empty() && report.deliveries.is_empty());
    assert_eq!(fake.sessions("bob").len(), 1);

    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(rx.hits().is_empty());
    assert!(fake.logout_deliveries().is_empty());
}

async fn fake_with_logout(uri: &str) -> FakeAuthentik {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .scopes(["openid", "email", "profile", "offline_access"])
        .start()
        .await;
    fake.set_logout_uri(uri, LogoutMethod::Backchannel);
    fake
}

async fn revoke(fake: &FakeAuthentik, token: &str) {
    let resp = http()
        .post(fake.revoke_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn one_logout_token_per_access_token_and_refresh_tokens_survive() {
    let (uri, rx) = receiver(&[]).await;
    let fake = fake_with_logout(&uri).await;
    let t = tokens(&fake, &[("scope", "openid offline_access")]).await;
    let resp = refresh(&fake, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 200);
    let t2: Value = resp.json().await.unwrap();
    assert_eq!(fake.live_access_tokens("alice"), 2);
    assert_eq!(fake.live_refresh_tokens("alice"), 1);

    let report = fake.end_sessions("alice").await;
    assert_eq!(report.deliveries.len(), 2);
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    let jtis: Vec<Value> = hits
        .iter()
        .map(|h| part(&h.logout_token(), 1)["jti"].clone())
        .collect();
    assert_ne!(jtis[0], jtis[1]);
    for hit in &hits {
        assert_logout_token(&fake, &hit.logout_token(), t["id_token"].as_str().unwrap()).await;
    }
    assert_eq!(fake.live_access_tokens("alice"), 0);

    // The refresh token outlives the session; what it mints belongs to no live session.
    assert_eq!(fake.live_refresh_tokens("alice"), 1);
    let resp = refresh(&fake, t2["refresh_token"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(fake.live_refresh_tokens("alice"), 1);
    assert!(fake.end_sessions("alice").await.deliveries.is_empty());
    assert_eq!(rx.hits().len(), 2);
}

#[tokio::test]
async fn failed_backchannel_delivery_is_retried_until_it_succeeds() {
    let (uri, rx) = receiver(&[500, 503]).await;
    let fake = fake_with_logout(&uri).await;
    let ms = std::time::Duration::from_millis;
    fake.set_logout_retry_delays(vec![ms(50), ms(50), ms(50), ms(50)]);
    let t = tokens(&fake, &[]).await;
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.deliveries.len(), 1);
    assert_eq!(report.deliveries[0].status, Some(500));
    assert!(!report.deliveries[0].delivered());

    let seen = fake
        .wait_for_logout_deliveries(3, std::time::Duration::from_secs(5))
        .await;
    tokio::time::sleep(ms(300)).await;
    let all = fake.logout_deliveries();
    assert_eq!(all, seen, "no attempt after the first success");
    let summary: Vec<(u32, Option<u16>)> = all.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(summary, [(1, Some(500)), (2, Some(503)), (3, Some(200))]);
    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    let mut jtis: Vec<String> = hits
        .iter()
        .map(|h| {
            part(&h.logout_token(), 1)["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 3, "each attempt mints its own token");
    for (hit, d) in hits.iter().zip(&all) {
        assert_eq!(hit.logout_token(), d.logout_token);
        assert_logout_token(&fake, &d.logout_token, t["id_token"].as_str().unwrap()).await;
    }

    // Nobody listening: every attempt fails to connect, then the schedule runs out.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/logout", l.local_addr().unwrap())
    };
    let fake = fake_with_logout(&closed).await;
    fake.set_logout_retry_delays(vec![ms(20), ms(20)]);
    tokens(&fake, &[]).await;
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.deliveries[0].status, None);
    assert!(report.deliveries[0].error.is_some());
    let seen = fake
        .wait_for_logout_deliveries(3, std::time::Duration::from_secs(5))
        .await;
    tokio::time::sleep(ms(200)).await;
    assert_eq!(seen.len(), 3);
    assert_eq!(fake.logout_deliveries().len(), 3);
    assert!(seen.iter().all(|d| d.status.is_none()));
}

#[tokio::test]
async fn frontchannel_logout_lists_the_iframe_url_and_posts_nothing() {
    let (uri, rx) = receiver(&[]).await;
    let fake = fake_with_logout(&uri).await;
    let logout_uri = format!("{uri}?app=a+b&sid=old#frag");
    fake.set_logout_uri(&logout_uri, LogoutMethod::Frontchannel);
    let t = tokens(&fake, &[]).await;
    let sid = part(t["id_token"].as_str().unwrap(), 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    // A session without tokens gets no iframe.
    authorize(&fake, &[]).await;
    let report = fake.end_sessions("alice").await;
    assert_eq!(report.ended_sessions.len(), 2);
    assert!(report.deliveries.is_empty());
    let issuer_q =
        url::form_urlencoded::byte_serialize(fake.issuer().as_bytes()).collect::<String>();
    assert_eq!(
        report.frontchannel_urls,
        [format!("{uri}?iss={issuer_q}&sid={sid}&app=a+b#frag")]
    );
    let url = url::Url::parse(&report.frontchannel_urls[0]).unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(get(&q, "iss"), Some(fake.issuer().as_str()));
    assert_eq!(get(&q, "sid"), Some(sid.as_str()));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(rx.hits().is_empty());
    assert!(fake.logout_deliveries().is_empty());
    assert_eq!(fake.live_access_tokens("alice"), 0);
}

#[tokio::test]
async fn discovery_advertises_frontchannel_logout_only_from_2026_5() {
    for version in AuthentikVersion::ALL {
        let fake = FakeAuthentik::builder().version(version).start().await;
        let doc: Value = http()
            .get(fake.discovery_url())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["backchannel_logout_supported"], true);
        assert_eq!(doc["backchannel_logout_session_supported"], true);
        let front = version >= AuthentikVersion::V2026_5;
        for member in [
            "frontchannel_logout_supported",
            "frontchannel_logout_session_supported",
        ] {
            assert_eq!(
                doc.get(member) == Some(&json!(true)),
                front,
                "{version} {member}"
            );
            assert_eq!(doc.get(member).is_some(), front, "{version} {member}");
        }
    }
}

/// A browser that logged in and whose code the app exchanged: the browser and the tokens.
async fn browser_with_tokens(fake: &FakeAuthentik) -> (reqwest::Client, Map<String, Value>) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = browser
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    let q = query_of(&location(&resp));
    let resp = exchange(fake, get(&q, "code").unwrap(), &[]).await;
    assert_eq!(resp.status(), 200);
    (browser, resp.json().await.unwrap())
}

#[tokio::test]
async fn end_session_logs_the_app_out_from_2026_5() {
    for version in AuthentikVersion::ALL {
        let (uri, rx) = receiver(&[]).await;
        let fake = FakeAuthentik::builder()
            .version(version)
            .redirect_uri(CB)
            .start()
            .await;
        fake.set_logout_uri(&uri, LogoutMethod::Backchannel);
        let (browser, t) = browser_with_tokens(&fake).await;
        // Another browser, another session: untouched.
        let (_, other) = browser_with_tokens(&fake).await;
        let sid = part(t["id_token"].as_str().unwrap(), 1)["sid"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = browser.get(fake.end_session_url()).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let seen = fake
            .wait_for_logout_deliveries(1, std::time::Duration::from_secs(2))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let at = t["access_token"].as_str().unwrap();
        if version >= AuthentikVersion::V2026_5 {
            assert_eq!(seen.len(), 1, "{version}");
            assert_eq!(seen[0].sid, sid);
            assert_eq!(seen[0].status, Some(200));
            assert_eq!(rx.hits().len(), 1);
            assert_logout_token(
                &fake,
                &rx.hits()[0].logout_token(),
                t["id_token"].as_str().unwrap(),
            )
            .await;
            assert_eq!(userinfo_status(&fake, at).await, 401);
        } else {
            assert!(seen.is_empty(), "{version}");
            assert!(rx.hits().is_empty());
            assert_eq!(userinfo_status(&fake, at).await, 200);
        }
        // The Authentik session stays; the other browser's token is untouched.
        assert_eq!(fake.sessions("alice").len(), 2);
        assert!(fake.sessions("alice").contains(&sid));
        assert_eq!(
            userinfo_status(&fake, other["access_token"].as_str().unwrap()).await,
            200
        );
    }
}

#[tokio::test]
async fn end_session_page_loads_the_frontchannel_iframe_on_2026_5() {
    let fake = FakeAuthentik::builder()
        .redirect_uri(CB)
        .post_logout_redirect_uri("http://127.0.0.1:3000/bye")
        .start()
        .await;
    fake.set_logout_uri("http://127.0.0.1:3000/fc", LogoutMethod::Frontchannel);
    let (browser, t) = browser_with_tokens(&fake).await;
    let sid = part(t["id_token"].as_str().unwrap(), 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = browser
        .get(fake.end_session_url())
        .query(&[("post_logout_redirect_uri", "http://127.0.0.1:3000/bye")])
        .send()
        .await
        .unwrap();
    // The iframes load before the redirect: a page instead of the 302.
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let issuer_q =
        url::form_urlencoded::byte_serialize(fake.issuer().as_bytes()).collect::<String>();
    let src = format!("http://127.0.0.1:3000/fc?iss={issuer_q}&amp;sid={sid}");
    assert!(html.contains(&format!("hidden src=\"{src}\"")), "{html}");
    assert!(html.contains("http://127.0.0.1:3000/bye"), "{html}");
    assert!(fake.logout_deliveries().is_empty());
}

#[tokio::test]
async fn revoke_records_what_it_forgot_and_never_notifies() {
    let (uri, rx) = receiver(&[]).await;
    let fake = fake_with_logout(&uri).await;
    let t = tokens(&fake, &[("scope", "openid offline_access")]).await;
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(fake.live_refresh_tokens("alice"), 1);
    revoke(&fake, rt).await;
    revoke(&fake, "no-such-token").await;
    assert_eq!(fake.live_refresh_tokens("alice"), 0);
    let revoked = fake.revocations();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].kind, TokenKind::Refresh);
    assert_eq!(revoked[0].token, rt);
    assert_eq!(revoked[0].username, "alice");
    assert_eq!(fake.count(Endpoint::Revoke), 2);
    assert_token_error(refresh(&fake, rt).await, "invalid_grant").await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(rx.hits().is_empty());
    assert_eq!(fake.sessions("alice").len(), 1);
}

#[tokio::test]
async fn logout_token_for_and_sign_jwt_sign_like_the_fake() {
    for mode in [SigningMode::Rs256, SigningMode::Hs256] {
        let fake = fake(mode).await;
        let t = tokens(&fake, &[]).await;
        let id_token = t["id_token"].as_str().unwrap();
        let sid = part(id_token, 1)["sid"].as_str().unwrap().to_owned();
        let token = fake.logout_token_for(&sid).unwrap();
        assert_logout_token(&fake, &token, id_token).await;
        assert_ne!(
            part(&fake.logout_token_for(&sid).unwrap(), 1)["jti"],
            part(&token, 1)["jti"]
        );
        assert!(fake.logout_token_for("unknown").is_none());

        // The issuer's clock offset applies, as to ID tokens.
        fake.set_clock_offset(1000);
        let shifted = part(&fake.logout_token_for(&sid).unwrap(), 1);
        assert!((shifted["iat"].as_i64().unwrap() - tower_oidc_now() - 1000).abs() < 5);
        fake.set_clock_offset(0);

        let mut header = Map::new();
        header.insert("typ".into(), json!("logout+jwt"));
        header.insert("x-test".into(), json!(1));
        let mut claims = part(&token, 1);
        claims.insert("nonce".into(), json!("n"));
        let forged = fake.sign_jwt(header, claims.clone());
        let h = part(&forged, 0);
        let names: Vec<&str> = h.keys().map(String::as_str).collect();
        match mode {
            SigningMode::Hs256 => assert_eq!(names, ["alg", "typ", "x-test"]),
            _ => assert_eq!(names, ["alg", "kid", "typ", "x-test"]),
        }
        assert_eq!(h.get("kid").and_then(Value::as_str), fake.kid().as_deref());
        assert_eq!(part(&forged, 1), claims);
        assert!(ring_verify(&fake, &forged).await);

        // A caller's `alg` and `kid` are kept.
        let mut header = Map::new();
        header.insert("kid".into(), json!("other"));
        let forged = fake.sign_jwt(header, Map::new());
        assert_eq!(part(&forged, 0)["kid"], "other");
        assert_eq!(fake.end_session(&sid).await.ended_sessions, [sid.as_str()]);
        assert!(fake.logout_token_for(&sid).is_none());
    }
}

// HTTPS: the fake behind a private CA (`FakeAuthentikBuilder::tls`).

async fn https_fake(ca: &tls::TestCa) -> FakeAuthentik {
    FakeAuthentik::builder()
        .redirect_uri(CB)
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .start()
        .await
}

/// A client that trusts `ca` besides the public roots, and follows no redirects.
fn https_client(ca: &tls::TestCa) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// Polls `check` for up to 5 s: the fake sees a failed handshake a moment after the client.
async fn eventually(check: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    check()
}

#[tokio::test]
async fn https_fake_is_refused_by_a_client_without_its_ca_and_keeps_serving() {
    let ca = tls::test_ca();
    let fake = https_fake(&ca).await;
    assert_eq!(fake.tls_handshake_failures(), 0);

    // Only the public (webpki) roots: the private CA is unknown.
    let public_roots = reqwest::Client::builder().build().unwrap();
    let err = public_roots
        .get(fake.discovery_url())
        .send()
        .await
        .expect_err("a client without the CA must refuse the certificate");
    assert!(err.is_connect(), "{err:?}");
    assert!(
        eventually(|| fake.tls_handshake_failures() == 1).await,
        "handshake failures: {}",
        fake.tls_handshake_failures()
    );
    assert!(
        fake.requests().is_empty(),
        "no HTTP request may get through a refused handshake"
    );

    // Plain http on the HTTPS port fails too, and is counted.
    let plain = format!("http://127.0.0.1:{}/", fake.local_addr().port());
    assert!(http().get(plain).send().await.is_err());
    assert!(eventually(|| fake.tls_handshake_failures() == 2).await);

    // Neither took the fake down: a client that trusts the CA is served.
    let resp = https_client(&ca)
        .get(fake.discovery_url())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(fake.count(Endpoint::Discovery), 1);
    assert_eq!(fake.tls_handshake_failures(), 2);

    // A plain-http fake never counts any.
    assert_eq!(fake_plain_failures().await, 0);
}

async fn fake_plain_failures() -> usize {
    let fake = FakeAuthentik::start().await;
    assert!(fake.url().starts_with("http://127.0.0.1:"));
    assert_eq!(fake.local_addr(), *fake.mock_server().address());
    http().get(fake.discovery_url()).send().await.unwrap();
    fake.tls_handshake_failures()
}

#[tokio::test]
async fn https_discovery_advertises_only_https_urls() {
    let ca = tls::test_ca();
    let fake = https_fake(&ca).await;
    let base = format!("https://localhost:{}", fake.local_addr().port());
    assert_eq!(fake.url(), base);
    assert_ne!(fake.local_addr(), *fake.mock_server().address());
    for url in [
        fake.issuer(),
        fake.discovery_url(),
        fake.jwks_url(),
        fake.authorize_url(),
        fake.token_url(),
        fake.userinfo_url(),
        fake.revoke_url(),
        fake.end_session_url(),
    ] {
        assert!(url.starts_with(&format!("{base}/")), "{url}");
    }

    let client = https_client(&ca);
    let resp = client.get(fake.discovery_url()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Map<String, Value> = resp.json().await.unwrap();
    assert_eq!(doc["issuer"], fake.issuer());
    let urls: Vec<(&String, &str)> = doc
        .iter()
        .filter_map(|(k, v)| Some((k, v.as_str()?)))
        .filter(|(_, v)| v.contains("://"))
        .collect();
    for key in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "end_session_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ] {
        assert!(
            urls.iter().any(|(k, _)| *k == key),
            "{key} missing: {doc:?}"
        );
    }
    for (key, url) in &urls {
        assert!(url.starts_with("https://localhost:"), "{key}: {url}");
        assert!(url.starts_with(&format!("{base}/")), "{key}: {url}");
    }

    // The advertised JWKS is served over the same HTTPS.
    let jwks: Value = client
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], fake.kid().unwrap());
}

#[tokio::test]
async fn https_code_flow_authorize_token_userinfo() {
    let ca = tls::test_ca();
    let fake = https_fake(&ca).await;
    let client = https_client(&ca);

    let resp = client
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", "st"),
            ("nonce", "n-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let loc = location(&resp);
    assert!(loc.starts_with(&format!("{CB}?")), "{loc}");
    let q = query_of(&loc);
    assert_eq!(get(&q, "state"), Some("st"));
    let code = get(&q, "code").unwrap().to_owned();

    let resp = client
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let tokens: Map<String, Value> = resp.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = part(id_token, 1);
    assert_eq!(claims["iss"], fake.issuer());
    assert!(fake.issuer().starts_with("https://localhost:"));
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["sub"], fake.sub("alice").unwrap());

    let resp = client
        .get(fake.userinfo_url())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "alice");

    assert_eq!(fake.count(Endpoint::Authorize), 1);
    assert_eq!(fake.count(Endpoint::Token), 1);
    assert_eq!(fake.count(Endpoint::Userinfo), 1);
    assert_eq!(fake.tls_handshake_failures(), 0);
}

#[tokio::test]
async fn https_fake_on_a_given_listener_and_a_made_up_host_name() {
    let ca = tls::test_ca_for(&["auth.localtest"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fake = FakeAuthentik::builder()
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .tls_host("auth.localtest")
        .listener(listener)
        .start()
        .await;
    assert_eq!(fake.url(), format!("https://auth.localtest:{port}"));
    assert_eq!(fake.local_addr().port(), port);

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
        .resolve("auth.localtest", fake.local_addr())
        .build()
        .unwrap();
    let doc: Value = client
        .get(fake.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["issuer"],
        format!("https://auth.localtest:{port}/application/o/tower-oidc/")
    );

    // The certificate names auth.localtest only: `localhost` on the same port is refused.
    let by_localhost = format!("https://localhost:{port}/application/o/tower-oidc/");
    assert!(client.get(by_localhost).send().await.is_err());
    assert!(eventually(|| fake.tls_handshake_failures() == 1).await);
}

#[tokio::test]
async fn dropping_the_https_fake_closes_its_port() {
    let ca = tls::test_ca();
    let fake = https_fake(&ca).await;
    let addr = fake.local_addr();
    let resp = https_client(&ca)
        .get(fake.discovery_url())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    drop(fake);
    let mut closed = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        closed,
        "the TLS port {addr} still accepts after the fake was dropped"
    );
}

#[test]
#[should_panic(expected = "FakeAuthentik: TLS setup")]
fn https_fake_with_an_unreadable_certificate_panics_at_start() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        FakeAuthentik::builder()
            .tls("not a certificate", "not a key")
            .start(),
    );
}

#[tokio::test]
async fn backchannel_logout_to_an_https_app_trusts_the_ca_it_is_given() {
    // The app: any HTTPS server behind the private CA (here another fake, which answers the POST
    // with a 404; a TLS failure leaves no status at all).
    let ca = tls::test_ca();
    let app = https_fake(&ca).await;
    let logout_uri = format!("{}/backchannel-logout", app.url());

    // Without the CA (the client's built-in roots): the handshake is refused.
    let untrusting = FakeAuthentik::builder().redirect_uri(CB).start().await;
    let refused = deliver_logout(&untrusting, &logout_uri).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].status, None, "{refused:?}");
    assert!(refused[0].error.is_some());
    assert!(eventually(|| app.tls_handshake_failures() == 1).await);

    // With it: the POST arrives and is answered.
    let trusting = FakeAuthentik::builder()
        .redirect_uri(CB)
        .logout_ca_pem(ca.ca_pem.clone())
        .start()
        .await;
    let answered = deliver_logout(&trusting, &logout_uri).await;
    assert_eq!(answered.len(), 1);
    assert!(answered[0].status.is_some(), "{answered:?}");
    assert_eq!(app.tls_handshake_failures(), 1);
    assert!(
        app.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/backchannel-logout"),
        "the app's requests: {:?}",
        app.requests()
    );
}

/// Signs alice in at `fake` and ends her session, with one back-channel attempt to `uri`.
async fn deliver_logout(
    fake: &FakeAuthentik,
    uri: &str,
) -> Vec<tower_oidc::testing::LogoutDelivery> {
    fake.set_logout_uri(uri, LogoutMethod::Backchannel);
    fake.set_logout_retry_delays(Vec::new());
    tokens(fake, &[]).await;
    fake.end_sessions("alice").await.deliveries
}

/// `sign_tokens_at_authorize`: the tokens are signed when the code is issued, so a tamper
/// switched on between authorize and exchange does not reach them; without the option (the
/// default) the exchange signs, and does.
#[tokio::test]
async fn tokens_signed_at_authorize_are_fixed_before_the_exchange() {
    for at_authorize in [true, false] {
        let fake = FakeAuthentik::builder()
            .redirect_uri(CB)
            .sign_tokens_at_authorize(at_authorize)
            .start()
            .await;
        let code = authorize(&fake, &[("nonce", "n-1")]).await;
        fake.set_tamper(Tamper::BadSignature);
        let resp = exchange(&fake, &code, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let t: Map<String, Value> = resp.json().await.unwrap();
        let id = t["id_token"].as_str().unwrap();
        assert_eq!(part(id, 1)["nonce"], "n-1");
        assert_eq!(ring_verify(&fake, id).await, at_authorize, "{at_authorize}");
        // Single use either way.
        let again = exchange(&fake, &code, &[]).await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
        // The access token works at userinfo.
        let info = userinfo_with(&fake, t["access_token"].as_str().unwrap()).await;
        assert_eq!(info.status(), StatusCode::OK);
    }
}
