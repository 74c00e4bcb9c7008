//! Key-level cases: a JWK, an algorithm, a message and a signature, given to
//! `JsonWebKey::verify_signature` (and `hash_bytes`) of each key type.

use openidconnect::core::CoreJwsSigningAlgorithm as A;
use serde_json::{Value, json};

use super::corpus::{ALGS, Key, Rng, Signer, b64, rsa_sign};
use super::variants::variants;
use super::{Case, Check, Policy};

/// Signature-level tampering of a (message, signature) pair.
pub(super) fn tamperings(
    msg: &[u8],
    sig: &[u8],
    rng: &mut Rng,
) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = vec![];
    let mut m = msg.to_vec();
    let i = rng.below(m.len());
    m[i] ^= 1 << rng.below(8);
    out.push(("message bit flipped", m, sig.to_vec()));
    if !sig.is_empty() {
        let mut s = sig.to_vec();
        let i = rng.below(s.len());
        s[i] ^= 1 << rng.below(8);
        out.push(("signature bit flipped", msg.to_vec(), s));
        out.push((
            "signature truncated",
            msg.to_vec(),
            sig[..sig.len() - 1].to_vec(),
        ));
        out.push(("signature all zero", msg.to_vec(), vec![0; sig.len()]));
    }
    let mut s = sig.to_vec();
    s.push(0);
    out.push(("signature with a byte appended", msg.to_vec(), s));
    let mut s = sig.to_vec();
    s.insert(0, 0);
    out.push(("signature with a zero byte prepended", msg.to_vec(), s));
    out.push(("signature empty", msg.to_vec(), vec![]));
    out
}

/// Key-level cases: each key, as published and in each variant, against every algorithm, with
/// the signature the key makes for that algorithm (or its own algorithm's, for confusion); the
/// published key also with every tampering.
pub(super) fn key_cases(keys: &[Key], rng: &mut Rng) -> Vec<Case> {
    let mut cases = vec![];
    for key in keys {
        let len = 96 + rng.below(64);
        let msg = rng.bytes(len);
        let own = key.sign(&key.natural, &msg, rng).unwrap();
        for alg in &ALGS {
            let made = key.sign(alg, &msg, rng);
            let sig = made.clone().unwrap_or_else(|| own.clone());
            let jwk = Value::Object(key.jwk.clone());
            let name = format!("{} {alg:?}", key.name);
            cases.push(Case {
                name: format!("key {name} valid"),
                policy: key.policy,
                oracle: Some(made.is_some()),
                check: Check::Key {
                    jwk: jwk.clone(),
                    alg: alg.clone(),
                    msg: msg.clone(),
                    sig: sig.clone(),
                },
            });
            for (what, m, s) in tamperings(&msg, &sig, rng) {
                cases.push(Case {
                    name: format!("key {name} {what}"),
                    policy: key.policy,
                    oracle: Some(false),
                    check: Check::Key {
                        jwk: jwk.clone(),
                        alg: alg.clone(),
                        msg: m,
                        sig: s,
                    },
                });
            }
            // The JWK variants on the keys within both libraries' limits (a size divergence
            // would hide the variant's effect).
            if key.policy != Policy::Same {
                continue;
            }
            for v in variants(key, rng) {
                cases.push(Case {
                    name: format!("key {name} jwk {}", v.name),
                    policy: v.known.map_or(Policy::Same, Policy::Known),
                    oracle: None,
                    check: Check::Key {
                        jwk: Value::Object(v.jwk),
                        alg: alg.clone(),
                        msg: msg.clone(),
                        sig: sig.clone(),
                    },
                });
            }
        }
    }
    // PSS with a salt that is not the hash length: JWS fixes it, both must refuse.
    let rsa2048 = keys.iter().find(|k| k.name == "rsa2048").unwrap();
    if let Signer::Rsa(k) = &rsa2048.signer {
        let msg = rng.bytes(100);
        for salt in [0, 20, 48] {
            let sig = rsa_sign(k, &A::RsaSsaPssSha256, &msg, rng, Some(salt)).unwrap();
            cases.push(Case {
                name: format!("key rsa2048 PS256 salt length {salt}"),
                policy: Policy::Same,
                oracle: Some(false),
                check: Check::Key {
                    jwk: Value::Object(rsa2048.jwk.clone()),
                    alg: A::RsaSsaPssSha256,
                    msg: msg.clone(),
                    sig,
                },
            });
        }
    }
    // A P-521 key (neither library supports ES512) and an EC point off the curve.
    let (x, y) = (b64(&rng.bytes(66)), b64(&rng.bytes(66)));
    let p521 = json!({"kty": "EC", "kid": "p521", "crv": "P-521", "x": x, "y": y});
    let (x, y) = (b64(&rng.bytes(32)), b64(&rng.bytes(32)));
    let off = json!({"kty": "EC", "kid": "off", "crv": "P-256", "x": x, "y": y});
    for (name, jwk) in [("p521", p521), ("P-256 point off the curve", off)] {
        for alg in &ALGS {
            let sig = rng.bytes(if name == "p521" { 132 } else { 64 });
            cases.push(Case {
                name: format!("key {name} {alg:?}"),
                policy: Policy::Same,
                oracle: Some(false),
                check: Check::Key {
                    jwk: jwk.clone(),
                    alg: alg.clone(),
                    msg: rng.bytes(80),
                    sig,
                },
            });
        }
    }
    cases
}
