//! The JWK variants: each key's JWK with one member changed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::corpus::{Key, Rng, Signer, b64};

/// One change to a key's JWK.
pub(super) struct Variant {
    pub(super) name: String,
    pub(super) jwk: Map<String, Value>,
    /// A divergence the variant is known to cause (see [`Policy::Known`]).
    pub(super) known: Option<&'static str>,
}

/// The JWK variants of `key`: `use`, `alg`, `key_ops`, `kid` and `kty` changes for every key,
/// then the key material (leading zeros, missing or malformed members, the wrong curve).
pub(super) fn variants(key: &Key, rng: &mut Rng) -> Vec<Variant> {
    let base = &key.jwk;
    let mut out = vec![];
    let mut add = |name: &str, known: Option<&'static str>, f: &dyn Fn(&mut Map<String, Value>)| {
        let mut jwk = base.clone();
        f(&mut jwk);
        out.push(Variant {
            name: name.into(),
            jwk,
            known,
        });
    };
    let set = |k: &'static str, v: Value| {
        move |j: &mut Map<String, Value>| drop(j.insert(k.into(), v.clone()))
    };
    let del = |k: &'static str| move |j: &mut Map<String, Value>| drop(j.remove(k));
    let natural = serde_json::to_value(&key.natural).unwrap();
    add("as published", None, &|_| {});
    add("use=sig", None, &set("use", "sig".into()));
    add("use=enc", None, &set("use", "enc".into()));
    add("use=other", None, &set("use", "tls".into()));
    add("use=number", None, &set("use", 1.into()));
    add("alg=own", None, &set("alg", natural));
    for alg in [
        "RS256", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA", "HS256",
    ] {
        add(&format!("alg={alg}"), None, &set("alg", alg.into()));
    }
    add("alg=none", None, &set("alg", "none".into()));
    add("alg=A128GCM (JWE enc)", None, &set("alg", "A128GCM".into()));
    add(
        "alg=RSA-OAEP (JWE key mgmt)",
        None,
        &set("alg", "RSA-OAEP".into()),
    );
    add("alg=unknown", None, &set("alg", "XS999".into()));
    add("alg=number", None, &set("alg", 256.into()));
    add("alg=null", None, &set("alg", Value::Null));
    add("key_ops=[verify]", None, &set("key_ops", json!(["verify"])));
    add(
        "key_ops=[encrypt]",
        None,
        &set("key_ops", json!(["encrypt"])),
    );
    add("key_ops=number", None, &set("key_ops", 7.into()));
    add("kid=number", None, &set("kid", 5.into()));
    add("kid absent", None, &del("kid"));
    add("kty absent", None, &del("kty"));
    add("kty=unknown", None, &set("kty", "AKP".into()));
    for kty in ["RSA", "EC", "OKP", "oct"] {
        add(&format!("kty={kty}"), None, &set("kty", kty.into()));
    }
    let members: &[&str] = match &key.signer {
        Signer::Rsa(_) => &["n", "e"],
        Signer::P256(_) | Signer::P384(_) => &["x", "y"],
        Signer::Ed25519(_) => &["x"],
        Signer::Hmac(_) => &["k"],
    };
    for &m in members {
        let raw = URL_SAFE_NO_PAD.decode(base[m].as_str().unwrap()).unwrap();
        let mut zero = raw.clone();
        zero.insert(0, 0);
        add(
            &format!("{m} leading zero"),
            None,
            &set(m, b64(&zero).into()),
        );
        add(&format!("{m} absent"), None, &del(m));
        add(&format!("{m} not base64url"), None, &set(m, "!*!".into()));
        // Standard base64: where it has `=` padding but neither `+` nor `/`, the padding
        // divergence below.
        let std = base64::engine::general_purpose::STANDARD.encode(&raw);
        let known = (std.ends_with('=') && !std.contains(['+', '/'])).then_some(KNOWN_PADDING);
        add(&format!("{m} standard base64"), known, &set(m, std.into()));
        add(&format!("{m} number"), None, &set(m, 42.into()));
        add(&format!("{m} empty"), None, &set(m, "".into()));
        add(
            &format!("{m} last byte dropped"),
            None,
            &set(m, b64(&raw[..raw.len() - 1]).into()),
        );
        let mut flipped = raw.clone();
        let i = rng.below(flipped.len());
        flipped[i] ^= 1 << rng.below(8);
        add(
            &format!("{m} one bit flipped"),
            None,
            &set(m, b64(&flipped).into()),
        );
        // `=` padding: `ring`'s parser trims it, `openidconnect`'s refuses the member.
        let padded = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        let known = (padded.ends_with('=')).then_some(KNOWN_PADDING);
        add(
            &format!("{m} with = padding"),
            known,
            &set(m, padded.into()),
        );
        // Non-zero unused bits in the last character: `openidconnect` allows them, `ring`'s
        // parser does not.
        let s = b64(&raw);
        if !raw.len().is_multiple_of(3) {
            let mut c: Vec<char> = s.chars().collect();
            let last = c.len() - 1;
            let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let pos = alphabet.find(c[last]).unwrap();
            c[last] = alphabet.as_bytes()[pos | 1] as char;
            add(
                &format!("{m} non-zero trailing bits"),
                Some(KNOWN_TRAILING_BITS),
                &set(m, c.into_iter().collect::<String>().into()),
            );
        }
    }
    match &key.signer {
        Signer::Rsa(_) => {
            add("e=1", None, &set("e", b64(&[1]).into()));
            add("e=2", None, &set("e", b64(&[2]).into()));
            add("e=2^40+1", None, &set("e", b64(&[1, 0, 0, 0, 0, 1]).into()));
        }
        Signer::P256(_) | Signer::P384(_) => {
            for crv in ["P-256", "P-384", "P-521", "Ed25519", "secp256k1"] {
                add(&format!("crv={crv}"), None, &set("crv", crv.into()));
            }
            add("crv absent", None, &del("crv"));
            add("crv=number", None, &set("crv", 1.into()));
            add("x and y swapped", None, &|j| {
                let (x, y) = (j["x"].clone(), j["y"].clone());
                j.insert("x".into(), y);
                j.insert("y".into(), x);
            });
        }
        Signer::Ed25519(_) => {
            for crv in ["Ed448", "X25519", "P-256", "P-384", "P-521"] {
                add(&format!("crv={crv}"), None, &set("crv", crv.into()));
            }
            add("crv absent", None, &del("crv"));
            add("y present", None, &set("y", b64(&[7; 32]).into()));
        }
        Signer::Hmac(_) => {}
    }
    out
}

pub(super) const KNOWN_PADDING: &str =
    "`=` padding in a key member: RingJwk trims it, CoreJsonWebKey drops the member";
pub(super) const KNOWN_TRAILING_BITS: &str =
    "non-zero trailing bits in a key member: CoreJsonWebKey allows them, RingJwk drops the member";
