//! §2c, extras from `oidcc-client-test-plan` and the FAPI2 client negatives: X1–X17.

use tower_oidc::testing::{Endpoint, FakeAuthentik, SigningMode, Tamper};

use crate::common::*;

/// X1 `rp-id_token-bad-sig-hs256`: an HS256 token with a broken MAC from an HS256 provider,
/// and an HS256 header on a provider that signs with RS256.
#[tokio::test]
async fn rp_id_token_bad_sig_hs256() {
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Hs256)
        .start()
        .await;
    fake.set_tamper(Tamper::BadSignature);
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;

    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::WrongAlg("HS256".into()));
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X2 (alg confusion): HS256 keyed with the OP's RSA public key. The algorithm comes from the
/// provider's discovery/config, never from the header.
#[tokio::test]
async fn alg_confusion_hs256_with_rsa_public_key() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::Hs256WithRsaPublicKey);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X2 when discovery lists HS256 next to RS256: a mixed list keeps only the asymmetric
/// algorithms, so the token cannot pick HMAC.
#[tokio::test]
async fn alg_confusion_hs256_with_rsa_public_key_mixed_discovery() {
    let (fake, app) = fresh().await;
    fake.set_discovery(|d| {
        d.insert(
            "id_token_signing_alg_values_supported".into(),
            serde_json::json!(["HS256", "RS256"]),
        );
    });
    fake.set_tamper(Tamper::Hs256WithRsaPublicKey);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X3 `rp-id_token-bad-sig-es256`: ES256 with a bad signature.
#[tokio::test]
async fn rp_id_token_bad_sig_es256() {
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Es256)
        .start()
        .await;
    fake.set_tamper(Tamper::BadSignature);
    let app = app(&fake, UrlForm::Issuer).await;
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X3, the "psychic signature" (r = s = 0, CVE-2022-21449) on an ES256 provider and on an RS256
/// one.
#[tokio::test]
async fn rp_id_token_bad_sig_es256_psychic() {
    for mode in [SigningMode::Es256, SigningMode::Rs256] {
        let fake = FakeAuthentik::builder().signing(mode).start().await;
        fake.set_tamper(Tamper::EsPsychicSignature);
        let app = app(&fake, UrlForm::Issuer).await;
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// X4 `oidcc-client-test-ignores-unparseable-key-in-jwks`: `AKP`, made-up and Ed448 keys before
/// the real one are skipped.
#[tokio::test]
async fn ignores_unparseable_key_in_jwks() {
    for mode in [SigningMode::Rs256, SigningMode::Es256] {
        let fake = FakeAuthentik::builder().signing(mode).start().await;
        fake.set_jwks_junk_keys(true);
        let app = app(&fake, UrlForm::Issuer).await;
        accepted(&app).await;
    }
}

/// X5 `…-invalid-authorization-response-iss`: RFC 9207 `iss` in the callback is another
/// issuer: refused before the token call.
#[tokio::test]
async fn invalid_authorization_response_iss() {
    for form in [UrlForm::Issuer, UrlForm::Instance] {
        let fake = FakeAuthentik::start().await;
        fake.set_callback_params(|p| p.push(("iss".into(), "https://example.org/".into())));
        let app = app(&fake, form).await;
        rejected(&fake, &app, "invalid_state", NoFurther::Token).await;
    }
}

/// X6 `…-remove-authorization-response-iss`: the OP advertises RFC 9207 but omits `iss`.
#[tokio::test]
async fn remove_authorization_response_iss() {
    let (fake, app) = fresh().await;
    fake.set_discovery(|d| {
        d.insert(
            "authorization_response_iss_parameter_supported".into(),
            true.into(),
        );
    });
    rejected(&fake, &app, "invalid_state", NoFurther::Token).await;
}

/// X6, the accepting branches: advertised and present; not advertised and absent; not
/// advertised but present and equal (GitHub-style, local policy: accept if equal).
#[tokio::test]
async fn authorization_response_iss_accepted_when_right() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    let iss = fake.issuer();
    fake.set_callback_params(move |p| p.push(("iss".into(), iss.clone())));
    accepted(&app).await;
    let (fake2, app2) = fresh().await;
    let iss = fake2.issuer();
    fake2.set_discovery(|d| {
        d.insert(
            "authorization_response_iss_parameter_supported".into(),
            true.into(),
        );
    });
    fake2.set_callback_params(move |p| p.push(("iss".into(), iss.clone())));
    accepted(&app2).await;
}

/// X7 `…-ensure-authorization-response-with-invalid-state-fails`.
#[tokio::test]
async fn invalid_state() {
    let (fake, app) = fresh().await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let bad = with_param(&cb, "state", Some("not-the-state"));
    rejected_at(&fake, &app, &bad, "invalid_state", NoFurther::Token).await;
    // A state differing in one character.
    let state = param(&cb, "state").unwrap();
    let mut flipped: Vec<char> = state.chars().collect();
    flipped[0] = if flipped[0] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let bad = with_param(&cb, "state", Some(&flipped));
    rejected_at(&fake, &app, &bad, "invalid_state", NoFurther::Token).await;
    // A repeated state parameter (the first one right) is refused.
    let repeated = format!("{cb}&state=other");
    rejected_at(&fake, &app, &repeated, "invalid_state", NoFurther::Token).await;
}

/// X7 `…-invalid-missing-state-fails`.
#[tokio::test]
async fn missing_state() {
    let (fake, app) = fresh().await;
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let bad = with_param(&cb, "state", None);
    rejected_at(&fake, &app, &bad, "invalid_state", NoFurther::Token).await;
    let empty = with_param(&cb, "state", Some(""));
    rejected_at(&fake, &app, &empty, "invalid_state", NoFurther::Token).await;
}

/// X8 `…-invalid-expired-exp`: `exp` in the past beyond the skew.
#[tokio::test]
async fn invalid_expired_exp() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("exp".into(), (now() - 120).into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X8 `…-invalid-missing-exp`.
#[tokio::test]
async fn missing_exp() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("exp");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X9 `…-invalid-missing-iss`.
#[tokio::test]
async fn missing_iss() {
    for form in [UrlForm::Issuer, UrlForm::Instance] {
        let fake = FakeAuthentik::start().await;
        fake.set_id_token_claims(|c| {
            c.remove("iss");
        });
        let app = app(&fake, form).await;
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// X10 `…-invalid-secondary-aud`: `aud` = `[client_id, "untrusted"]`.
#[tokio::test]
async fn invalid_secondary_aud() {
    let (fake, app) = fresh().await;
    let id = fake.client_id().to_owned();
    fake.set_id_token_claims(move |c| {
        c.insert("aud".into(), serde_json::json!([id, "untrusted"]));
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X10, the accepting branch: `aud` as a one-element array with our client id.
#[tokio::test]
async fn aud_array_with_only_the_client_is_accepted() {
    let (fake, app) = fresh().await;
    let id = fake.client_id().to_owned();
    fake.set_id_token_claims(move |c| {
        c.insert("aud".into(), serde_json::json!([id]));
    });
    accepted(&app).await;
}

/// X11 `…-invalid-missing-nonce`: fail closed when the nonce we sent is absent.
#[tokio::test]
async fn invalid_missing_nonce() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("nonce");
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X12 `…-invalid-null-alg`: `alg: none` from the token endpoint.
#[tokio::test]
async fn invalid_null_alg() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::AlgNone);
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X13 `…-invalid-alternate-alg`: validly signed with an algorithm outside the provider's list
/// (RS384, PS256 with the same RSA key; ES256 named over an RSA signature).
#[tokio::test]
async fn invalid_alternate_alg() {
    for alg in ["RS384", "PS256", "RS512", "ES256"] {
        let (fake, app) = fresh().await;
        fake.set_tamper(Tamper::WrongAlg(alg.into()));
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}

/// X14 `fapi1-advanced-final-client-test-iat-is-week-in-past`.
#[tokio::test]
async fn iat_is_week_in_past() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("iat".into(), (now() - 7 * 24 * 3600).into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X15 `…-token-endpoint-response-without-expires_in`.
#[tokio::test]
async fn token_response_without_expires_in() {
    let (fake, app) = fresh().await;
    fake.set_token_response(|b| {
        b.remove("expires_in");
    });
    accepted(&app).await;
}

/// X15 `…-token-type-case-insensitivity`.
#[tokio::test]
async fn token_type_case_insensitivity() {
    for tt in ["bearer", "BEARER", "BeArEr"] {
        let (fake, app) = fresh().await;
        fake.set_token_response(move |b| {
            b.insert("token_type".into(), tt.into());
        });
        accepted(&app).await;
    }
}

/// X16 `rp-response_mode-form_post-error` (query variant): the error is shown only after the
/// state checks out, the transaction is consumed, nothing of the description is reflected, and
/// no token call is made.
#[tokio::test]
async fn form_post_error() {
    let (fake, app) = fresh().await;
    fake.set_callback_params(|p| {
        p.retain(|(k, _)| k == "state");
        p.push(("error".into(), "login_required".into()));
        p.push((
            "error_description".into(),
            "<script>alert(1)</script>".into(),
        ));
    });
    let out = rejected(&fake, &app, "access_denied", NoFurther::Token).await;
    let loc = out.location.unwrap();
    assert!(!loc.contains("script") && !loc.contains("alert"), "{loc}");
    // The error page for that code does not reflect anything either.
    let body = get_text(&app.client, &app.at(&loc)).await;
    assert!(!body.contains("<script>alert"), "{body}");
}

/// X16: an `error` with a state that is not ours is not trusted: `invalid_state`.
#[tokio::test]
async fn form_post_error_with_foreign_state() {
    let (fake, app) = fresh().await;
    fake.set_callback_params(|p| {
        p.clear();
        p.push(("error".into(), "access_denied".into()));
        p.push(("state".into(), "attacker".into()));
    });
    rejected(&fake, &app, "invalid_state", NoFurther::Token).await;
}

/// X17 `rp-id_token-bad-at_hash`: a present, wrong `at_hash` is refused.
#[tokio::test]
async fn rp_id_token_bad_at_hash() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.insert("at_hash".into(), "AAAAAAAAAAAAAAAAAAAAAA".into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// X17 `rp-id_token-missing-at_hash`: optional in the code flow, accepted.
#[tokio::test]
async fn rp_id_token_missing_at_hash() {
    let (fake, app) = fresh().await;
    fake.set_id_token_claims(|c| {
        c.remove("at_hash");
    });
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Userinfo), 1);
}

/// The `at_hash` of an access token signed with RS256 (Core 3.1.3.8): the left half of its
/// SHA-256, base64url without padding.
fn rs256_at_hash(access_token: &str) -> String {
    use base64::Engine as _;
    let h = ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h.as_ref()[..16])
}

/// X17 with a present, correct `at_hash`: accepted. The fake's ID tokens carry no `at_hash`
/// and it signs the ID token after the claims hook runs, so the test gets an access token the
/// fake issued in a first sign-in, puts its hash in the next ID token, and has the next token
/// response carry that (still valid) access token. The same exchange with the hash of another
/// token is refused, so the hash is what decides.
#[tokio::test]
async fn rp_id_token_good_at_hash() {
    use std::sync::{Arc, Mutex};
    let (fake, app) = fresh().await;
    assert_eq!(fake.signing_mode().alg(), "RS256");
    let issued: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = issued.clone();
    fake.set_token_response(move |b| {
        keep.lock()
            .unwrap()
            .push(b["access_token"].as_str().unwrap().to_owned());
    });
    // Two sign-ins, not signed out in between: signing out would revoke the access tokens at
    // the fake, and the test re-sends `first` below.
    accepted(&app).await;
    accepted(&app).await;
    let (first, second) = {
        let t = issued.lock().unwrap();
        assert_eq!(t.len(), 2);
        (t[0].clone(), t[1].clone())
    };
    assert_ne!(first, second);
    fake.clear_switches();
    // The token response carries `first`; the ID token the hash of `second`: refused.
    let wrong = rs256_at_hash(&second);
    let carried = first.clone();
    fake.set_id_token_claims(move |c| {
        c.insert("at_hash".into(), wrong.clone().into());
    });
    fake.set_token_response(move |b| {
        b.insert("access_token".into(), carried.clone().into());
    });
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    fake.clear_switches();
    // The ID token carries the hash of the access token the token response carries: accepted.
    let right = rs256_at_hash(&first);
    let carried = first.clone();
    fake.set_id_token_claims(move |c| {
        c.insert("at_hash".into(), right.clone().into());
    });
    fake.set_token_response(move |b| {
        b.insert("access_token".into(), carried.clone().into());
    });
    let userinfos = fake.count(Endpoint::Userinfo);
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Userinfo), userinfos + 1);
    let (_, me) = session(&app).await;
    assert_eq!(me["email"], "alice@example.com");
}
