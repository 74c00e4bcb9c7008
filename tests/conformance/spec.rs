//! §2d, spec-derived ID token and response cases without a suite id: S1–S10.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tower_oidc::testing::{Endpoint, Fault, Tamper};

use crate::common::*;

/// S1: `iat` in the future beyond the skew (issuer clock +5 min) is refused; within the skew
/// (+30 s) it is accepted.
#[tokio::test]
async fn iat_in_the_future_beyond_skew() {
    let (fake, app) = fresh().await;
    fake.set_clock_offset(300);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_clock_offset(30);
    accepted(&app).await;
}

/// S1: `nbf` in the future beyond the skew is refused; within it, accepted.
#[tokio::test]
async fn nbf_in_the_future_beyond_skew() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("nbf".into(), (now() + 300).into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_id_token_claims(|c| {
        c.insert("nbf".into(), "soon".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_id_token_claims(|c| {
        c.insert("nbf".into(), (now() + 30).into());
    });
    accepted(&app).await;
}

/// S2: `azp` present and not our client id is refused; equal to it, accepted.
#[tokio::test]
async fn azp_is_not_the_client() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("azp".into(), "someone-else".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    let id = fake.client_id().to_owned();
    fake.set_id_token_claims(move |c| {
        c.insert("azp".into(), id.clone().into());
    });
    accepted(&app).await;
}

/// S3: claims of the wrong JSON type, a `sub` over 255 characters: refused, no panic.
#[tokio::test]
async fn claims_with_wrong_types() {
    let (fake, app) = fresh().await;
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("exp", serde_json::json!("123")),
        ("iat", serde_json::json!("now")),
        ("aud", serde_json::json!(123)),
        ("sub", serde_json::json!({})),
        ("sub", serde_json::json!(42)),
        ("sub", serde_json::json!("x".repeat(300))),
        ("sub", serde_json::json!("")),
        ("iss", serde_json::json!(["a"])),
        ("nonce", serde_json::json!(null)),
        ("email_verified", serde_json::json!(1)),
    ];
    for (claim, value) in cases {
        fake.set_id_token_claims(move |c| {
            c.insert(claim.into(), value.clone());
        });
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// S3: a payload that repeats a member (JSON parsers disagree on which copy wins) is refused.
#[tokio::test]
async fn duplicate_json_members() {
    let (fake, app) = fresh().await;
    fake.set_token_response(|b| {
        let t = b["id_token"].as_str().unwrap().to_owned();
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        // `{"sub":"attacker", ...original...}`: the original `sub` comes later.
        let dup = format!("{{\"sub\":\"attacker\",{}", &payload[1..]);
        parts[1] = URL_SAFE_NO_PAD.encode(dup);
        b.insert("id_token".into(), parts.join(".").into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// S4: keys embedded in the header (`jwk`, `jku`) are never used, and `jku` is never fetched.
#[tokio::test]
async fn embedded_header_keys_are_ignored() {
    for tamper in [Tamper::EmbeddedJwkHeader, Tamper::Jku] {
        let (fake, app) = fresh().await;
        fake.set_tamper(tamper);
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
        assert_eq!(fake.count(Endpoint::AttackerJwks), 0, "jku never fetched");
    }
}

/// S4: `x5u`/`x5c`/`jku` members on an otherwise valid token are not followed; the token is
/// verified with the provider's JWKS only.
#[tokio::test]
async fn x5u_and_x5c_headers_are_not_followed() {
    let (fake, app) = fresh().await;
    let attacker = format!("{}/attacker/jwks/", fake.url());
    let mut extra = serde_json::Map::new();
    extra.insert("x5u".into(), attacker.clone().into());
    extra.insert("jku".into(), attacker.into());
    extra.insert(
        "x5c".into(),
        serde_json::json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
    );
    fake.set_tamper(Tamper::ExtraHeader(extra));
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::AttackerJwks), 0);
}

/// S4: the `kid` is untrusted input: path- or SQL-looking values are only looked up, and cost
/// one key set re-fetch at most.
#[tokio::test]
async fn hostile_kid_is_only_a_lookup_key() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    for kid in [
        "../../../../etc/passwd",
        "' OR 1=1 --",
        "%00",
        &"k".repeat(5000),
    ] {
        fake.set_tamper(Tamper::Kid(kid.to_owned()));
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
    let fetches = fake.count(Endpoint::Jwks);
    assert!(fetches <= 2, "{fetches}");
}

/// S5: a `crit` header with an unknown extension is refused.
#[tokio::test]
async fn crit_header_is_refused() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::CritHeader);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// S6: a JWE-shaped token, a huge header, and a token of thousands of dots are refused before
/// any parsing work grows.
#[tokio::test]
async fn jwe_and_oversized_tokens() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::JweLike);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_tamper(Tamper::HugeHeader(64 * 1024));
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.clear_switches();
    fake.set_token_response(|b| {
        b.insert("id_token".into(), ".".repeat(100_000).into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    // A token response over the body limit (a 1 MB header) ends before it is read whole.
    fake.set_token_response(|_| {});
    fake.set_tamper(Tamper::HugeHeader(1024 * 1024));
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
}

/// S7: token responses that are not token responses: HTML, truncated JSON, no `id_token`,
/// `token_type` not Bearer, no `access_token`.
#[tokio::test]
async fn token_response_invalid() {
    let (fake, app) = fresh().await;
    fake.fault(
        Endpoint::Token,
        Fault::Body {
            status: 200,
            content_type: "text/html".into(),
            body: b"<html><body>Welcome to nginx!</body></html>".to_vec(),
        },
    );
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
    fake.fault(
        Endpoint::Token,
        Fault::Body {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"access_token":"abc","token_type":"Bea"#.to_vec(),
        },
    );
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
    fake.clear_fault(Endpoint::Token);
    fake.set_token_response(|b| {
        b.remove("id_token");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.set_token_response(|b| {
        b.insert("token_type".into(), "mac".into());
    });
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
    fake.set_token_response(|b| {
        b.remove("access_token");
    });
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
}

/// S8: `400 invalid_grant` → `login_expired` (start again), transaction consumed.
#[tokio::test]
async fn token_response_invalid_grant() {
    let (fake, app) = fresh().await;
    fake.fault(
        Endpoint::Token,
        Fault::Body {
            status: 400,
            content_type: "application/json".into(),
            body: br#"{"error":"invalid_grant","error_description":"<b>expired</b>"}"#.to_vec(),
        },
    );
    let out = rejected(&fake, &app, "login_expired", NoFurther::Userinfo).await;
    assert!(!out.location.unwrap().contains("expired</b>"));
}

/// S9: userinfo as `application/jwt` (unsigned JSON expected), or `401`: refused, nothing
/// created.
#[tokio::test]
async fn userinfo_jwt_or_401() {
    let (fake, app) = fresh().await;
    fake.fault(
        Endpoint::Userinfo,
        Fault::Body {
            status: 200,
            content_type: "application/jwt".into(),
            body: b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_vec(),
        },
    );
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Nothing).await;
    fake.fault(Endpoint::Userinfo, Fault::Status(401));
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Nothing).await;
    assert!(user_by_email(&app, "alice@example.com").await.is_none());
}

/// S10: when userinfo and the ID token disagree, the ID token wins; `email_verified` is never
/// upgraded by userinfo for the ID token's email.
#[tokio::test]
async fn userinfo_never_upgrades_the_id_token() {
    // The ID token says unverified, userinfo says verified: unverified (no link).
    let (fake, app) = fresh().await;
    local_user(&app, "alice@example.com", true).await;
    fake.set_userinfo(|c| {
        c.insert("email_verified".into(), true.into());
    });
    rejected(&fake, &app, "email_not_verified", NoFurther::Nothing).await;

    // The ID token has the email without `email_verified`; userinfo vouches for another
    // address: still unverified.
    let (fake, app) = fresh().await;
    local_user(&app, "alice@example.com", true).await;
    fake.set_id_token_claims(|c| {
        c.remove("email_verified");
    });
    fake.set_userinfo(|c| {
        c.insert("email".into(), "other@example.com".into());
        c.insert("email_verified".into(), true.into());
    });
    rejected(&fake, &app, "email_not_verified", NoFurther::Nothing).await;

    // Different emails: the ID token's is the one kept.
    let (fake, app) = fresh().await;
    fake.set_userinfo(|c| {
        c.insert("email".into(), "userinfo@example.com".into());
    });
    accepted(&app).await;
    let (_, me) = session(&app).await;
    assert_eq!(me["email"], "alice@example.com");

    // When only userinfo carries the email (ID token without email claims), its own pair is
    // used: a verified email links.
    let (fake, app) = fresh().await;
    let local = local_user(&app, "alice@example.com", true).await;
    fake.set_id_token_claims(|c| {
        c.remove("email");
        c.remove("email_verified");
    });
    fake.set_userinfo(|c| {
        c.insert("email_verified".into(), true.into());
    });
    accepted(&app).await;
    let (_, me) = session(&app).await;
    assert_eq!(me["id"], local.id.as_str());
}
