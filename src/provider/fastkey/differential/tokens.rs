//! Token-level cases: compact ID tokens through `openidconnect`'s `IdTokenVerifier`, so the key
//! selection (`kid`, key type, `use`, `alg`) runs on each key type's own trait methods.

use openidconnect::core::CoreJwsSigningAlgorithm as A;
use serde_json::{Map, Value, json};

use super::corpus::{ALGS, CLIENT_ID, CLIENT_SECRET, ISSUER, Key, NOW, Rng, Signer, b64};
use super::variants::variants;
use super::{Case, Check, Policy};

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": CLIENT_ID, "sub": sub, "iat": NOW - 60, "exp": NOW + 3600})
}

fn input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

fn jwks<'a>(keys: impl IntoIterator<Item = &'a Map<String, Value>>) -> Value {
    json!({"keys": keys.into_iter().cloned().collect::<Vec<_>>()})
}

/// A kid of another key of the same kind (or none: `nobody`).
fn sibling(keys: &[Key], key: &Key) -> String {
    keys.iter()
        .find(|k| {
            k.name != key.name
                && k.policy == Policy::Same
                && std::mem::discriminant(&k.signer) == std::mem::discriminant(&key.signer)
        })
        .map_or_else(|| "nobody".to_owned(), |k| k.name.clone())
}

/// The algorithm next to `alg` in its family (RS256 → RS384, …), for a header `alg` swap.
fn swapped(alg: &A) -> A {
    match alg {
        A::RsaSsaPkcs1V15Sha256 => A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha384 => A::RsaSsaPssSha384,
        A::RsaSsaPkcs1V15Sha512 => A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPssSha256 => A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPssSha384 => A::RsaSsaPssSha512,
        A::RsaSsaPssSha512 => A::RsaSsaPssSha256,
        A::HmacSha256 => A::HmacSha512,
        A::HmacSha384 | A::HmacSha512 => A::HmacSha256,
        A::EcdsaP256Sha256 => A::EcdsaP384Sha384,
        _ => A::EcdsaP256Sha256,
    }
}

fn case(
    name: String,
    policy: Policy,
    oracle: Option<bool>,
    jwks: &Value,
    token: String,
    secret: Option<&str>,
) -> Case {
    Case {
        name,
        policy,
        oracle,
        check: Check::Token {
            jwks: jwks.clone(),
            token,
            secret: secret.map(str::to_owned),
        },
    }
}

pub(super) fn token_cases(keys: &[Key], rng: &mut Rng) -> Vec<Case> {
    let all = jwks(keys.iter().map(|k| &k.jwk));
    let mut out = vec![];
    for key in keys {
        let alone = jwks([&key.jwk]);
        let secret = matches!(key.signer, Signer::Hmac(_)).then_some(CLIENT_SECRET);
        for alg in &ALGS {
            let header = json!({"alg": alg, "kid": key.name, "typ": "JWT"});
            let payload = claims(&format!("user-{}", rng.below(1 << 20)));
            let si = input(&header, &payload);
            let Some(sig) = key.sign(alg, si.as_bytes(), rng) else {
                continue;
            };
            let name = |what: &str| format!("token {} {alg:?} {what}", key.name);
            let p = key.policy;
            let tok = |si: &str, sig: &[u8]| format!("{si}.{}", b64(sig));
            out.push(case(
                name("valid"),
                p,
                Some(true),
                &all,
                tok(&si, &sig),
                secret,
            ));
            let mut other = payload.clone();
            other["sub"] = "someone-else".into();
            let forged = input(&header, &other);
            out.push(case(
                name("payload changed"),
                p,
                Some(false),
                &all,
                tok(&forged, &sig),
                secret,
            ));
            let mut h = header.clone();
            h["x-extra"] = 1.into();
            let forged = input(&h, &payload);
            out.push(case(
                name("header changed"),
                p,
                Some(false),
                &all,
                tok(&forged, &sig),
                secret,
            ));
            let mut s = sig.clone();
            let i = rng.below(s.len());
            s[i] ^= 1 << rng.below(8);
            out.push(case(
                name("signature bit flipped"),
                p,
                Some(false),
                &all,
                tok(&si, &s),
                secret,
            ));
            let mut h = header.clone();
            h["alg"] = serde_json::to_value(swapped(alg)).unwrap();
            out.push(case(
                name("header alg swapped"),
                p,
                Some(false),
                &all,
                tok(&input(&h, &payload), &sig),
                secret,
            ));
            // `kid` changes, re-signed: the signature is good, the key it names is not.
            for kid in [sibling(keys, key), "nobody".to_owned()] {
                let mut h = header.clone();
                h["kid"] = kid.clone().into();
                let si = input(&h, &payload);
                let sig = key.sign(alg, si.as_bytes(), rng).unwrap();
                // HMAC ignores the key set (the client secret is the key).
                let ok = secret.is_some();
                out.push(case(
                    name(&format!("kid={kid}")),
                    p,
                    Some(ok),
                    &all,
                    tok(&si, &sig),
                    secret,
                ));
            }
            let mut h = header.clone();
            h.as_object_mut().unwrap().remove("kid");
            let si = input(&h, &payload);
            let sig = key.sign(alg, si.as_bytes(), rng).unwrap();
            out.push(case(
                name("no kid, lone key"),
                p,
                Some(true),
                &alone,
                tok(&si, &sig),
                secret,
            ));
            // Several keys of the kind: ambiguous unless the kind has one key (or HMAC).
            out.push(case(
                name("no kid, whole set"),
                p,
                None,
                &all,
                tok(&si, &sig),
                secret,
            ));
            if let Some(s) = secret {
                let wrong = format!("{s}-not");
                out.push(case(
                    name("wrong client secret"),
                    p,
                    Some(false),
                    &all,
                    tok(&si, &sig),
                    Some(&wrong),
                ));
                out.push(case(
                    name("public client"),
                    p,
                    Some(false),
                    &all,
                    tok(&si, &sig),
                    None,
                ));
            }
        }
        // The key's JWK variants, each alone in the set, with a valid token of the key's own
        // algorithm: the variant decides whether the verifier picks the key.
        if key.policy == Policy::Same && secret.is_none() {
            let header = json!({"alg": key.natural, "kid": key.name});
            let si = input(&header, &claims("variant"));
            let sig = key.sign(&key.natural, si.as_bytes(), rng).unwrap();
            for v in variants(key, rng) {
                let set = jwks([&v.jwk]);
                let policy = v.known.map_or(Policy::Same, Policy::Known);
                let name = format!("token {} jwk {}", key.name, v.name);
                out.push(case(
                    name,
                    policy,
                    None,
                    &set,
                    format!("{si}.{}", b64(&sig)),
                    None,
                ));
            }
            // Algorithm confusion: HS256 keyed with the public key, for a confidential client.
            let header = json!({"alg": "HS256", "kid": key.name});
            let si = input(&header, &claims("confused"));
            for secret in [
                Value::Object(key.jwk.clone()).to_string(),
                key.jwk.values().map(|v| v.to_string()).collect(),
            ] {
                let tag = ring::hmac::sign(
                    &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()),
                    si.as_bytes(),
                );
                let name = format!("token {} HS256 keyed with the public key", key.name);
                out.push(case(
                    name,
                    Policy::Same,
                    Some(false),
                    &all,
                    format!("{si}.{}", b64(tag.as_ref())),
                    Some(CLIENT_SECRET),
                ));
            }
        }
    }
    // `alg: none`, unsigned and with a stray signature.
    let si = input(&json!({"alg": "none"}), &claims("nobody"));
    for (what, sig) in [("unsigned", ""), ("stray signature", "AAAA")] {
        out.push(case(
            format!("token alg=none {what}"),
            Policy::Same,
            Some(false),
            &all,
            format!("{si}.{sig}"),
            Some(CLIENT_SECRET),
        ));
    }
    out
}
