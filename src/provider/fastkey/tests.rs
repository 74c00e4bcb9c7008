//! Unit tests of [`RingJwk`] (the differential test against `CoreJsonWebKey` is
//! `differential`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{JsonWebKey, JsonWebKeySet, SignatureVerificationError};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents};

use super::RingJwk;

const MSG: &[u8] = b"header.payload";

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn key(v: serde_json::Value) -> RingJwk {
    serde_json::from_value(v).unwrap()
}

fn rsa() -> (RsaKeyPair, serde_json::Map<String, serde_json::Value>) {
    let der = pem_der(include_str!("../../testing/keys/rsa2048-1.key.pem"));
    let kp = RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| RsaKeyPair::from_der(&der))
        .unwrap();
    let pk = kp.public();
    let comps: RsaPublicKeyComponents<Vec<u8>> = pk.into();
    let jwk = serde_json::json!({"kty":"RSA","kid":"r1","n": b64(&comps.n), "e": b64(&comps.e)});
    (kp, jwk.as_object().unwrap().clone())
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn rs256_sig(kp: &RsaKeyPair, msg: &[u8]) -> Vec<u8> {
    let mut sig = vec![0; kp.public().modulus_len()];
    kp.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        msg,
        &mut sig,
    )
    .unwrap();
    sig
}

fn ec() -> (EcdsaKeyPair, serde_json::Map<String, serde_json::Value>) {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let kp = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let p = kp.public_key().as_ref();
    let jwk = serde_json::json!({"kty":"EC","crv":"P-256","kid":"e1","x": b64(&p[1..33]), "y": b64(&p[33..])});
    (kp, jwk.as_object().unwrap().clone())
}

#[test]
fn rs256_good_and_bad() {
    let (kp, jwk) = rsa();
    let k = key(jwk.clone().into());
    let sig = rs256_sig(&kp, MSG);
    k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
        .unwrap();
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert!(matches!(
        k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &bad),
        Err(SignatureVerificationError::CryptoError(_))
    ));
    assert!(
        k.verify_signature(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            b"other",
            &sig
        )
        .is_err()
    );
    // The same signature is not a PS256 one.
    assert!(
        k.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPssSha256, MSG, &sig)
            .is_err()
    );
    // A modulus with a leading zero byte (as some JWKS publish) still verifies.
    let mut padded = jwk.clone();
    let mut n = URL_SAFE_NO_PAD
        .decode(padded["n"].as_str().unwrap())
        .unwrap();
    n.insert(0, 0);
    padded.insert("n".into(), b64(&n).into());
    key(padded.into())
        .verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
        .unwrap();
    // hash_bytes, for at_hash / c_hash.
    assert_eq!(
        k.hash_bytes(b"abc", &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256)
            .unwrap()
            .len(),
        32
    );
}

#[test]
fn es256_good_bad_and_psychic() {
    let (kp, jwk) = ec();
    let k = key(jwk.into());
    let sig = kp.sign(&SystemRandom::new(), MSG).unwrap();
    let alg = CoreJwsSigningAlgorithm::EcdsaP256Sha256;
    k.verify_signature(&alg, MSG, sig.as_ref()).unwrap();
    let mut bad = sig.as_ref().to_vec();
    bad[5] ^= 1;
    assert!(k.verify_signature(&alg, MSG, &bad).is_err());
    // CVE-2022-21449: r = s = 0 must never verify.
    assert!(k.verify_signature(&alg, MSG, &[0u8; 64]).is_err());
    // DER-encoded or truncated signatures are not JWS signatures.
    assert!(k.verify_signature(&alg, MSG, &sig.as_ref()[..63]).is_err());
    // ES384 with a P-256 key.
    assert!(matches!(
        k.verify_signature(&CoreJwsSigningAlgorithm::EcdsaP384Sha384, MSG, sig.as_ref()),
        Err(SignatureVerificationError::InvalidKey(_))
    ));
}

#[test]
fn hs256_good_and_bad() {
    let k = RingJwk::new_symmetric(b"client-secret".to_vec());
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"client-secret"),
        MSG,
    );
    let alg = CoreJwsSigningAlgorithm::HmacSha256;
    k.verify_signature(&alg, MSG, tag.as_ref()).unwrap();
    let other = RingJwk::new_symmetric(b"another-secret".to_vec());
    assert!(other.verify_signature(&alg, MSG, tag.as_ref()).is_err());
    assert!(k.verify_signature(&alg, MSG, &tag.as_ref()[..31]).is_err());
    // HS384 tag length and algorithm differ.
    assert!(
        k.verify_signature(&CoreJwsSigningAlgorithm::HmacSha384, MSG, tag.as_ref())
            .is_err()
    );
    // The secret is never serialised.
    assert!(!serde_json::to_string(&k).unwrap().contains("\"k\""));
}

#[test]
fn wrong_key_type_for_alg_is_refused() {
    let (kp, rsa_jwk) = rsa();
    let rsa_key = key(rsa_jwk.into());
    let sig = rs256_sig(&kp, MSG);
    // An RSA key never verifies HS256 (alg confusion), ES256 or EdDSA.
    for alg in [
        CoreJwsSigningAlgorithm::HmacSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ] {
        assert!(
            matches!(
                rsa_key.verify_signature(&alg, MSG, &sig),
                Err(SignatureVerificationError::InvalidKey(_))
            ),
            "{alg:?}"
        );
    }
    // An EC key never verifies RS256; a symmetric key never verifies RS256 or ES256.
    let (_, ec_jwk) = ec();
    let ec_key = key(ec_jwk.into());
    assert!(
        ec_key
            .verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, MSG, &sig)
            .is_err()
    );
    let sym = RingJwk::new_symmetric(b"s".to_vec());
    for alg in [
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ] {
        assert!(sym.verify_signature(&alg, MSG, &sig).is_err());
    }
    // `none` is never a signature algorithm.
    assert!(
        rsa_key
            .verify_signature(&CoreJwsSigningAlgorithm::None, MSG, &[])
            .is_err()
    );
}

#[test]
fn use_and_alg_members_are_honoured() {
    let (kp, jwk) = rsa();
    let sig = rs256_sig(&kp, MSG);
    let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    let with = |k: &str, v: serde_json::Value| {
        let mut j = jwk.clone();
        j.insert(k.into(), v);
        key(j.into())
    };
    // `use: enc` is refused for signatures; `use: sig` is fine.
    assert!(matches!(
        with("use", "enc".into()).verify_signature(&rs256, MSG, &sig),
        Err(SignatureVerificationError::InvalidKey(_))
    ));
    with("use", "sig".into())
        .verify_signature(&rs256, MSG, &sig)
        .unwrap();
    // `alg` pins the algorithm.
    with("alg", "RS256".into())
        .verify_signature(&rs256, MSG, &sig)
        .unwrap();
    assert!(
        with("alg", "RS512".into())
            .verify_signature(&rs256, MSG, &sig)
            .is_err()
    );
    assert!(
        with("alg", "A128GCM".into())
            .verify_signature(&rs256, MSG, &sig)
            .is_err()
    );
}

#[test]
fn key_sets_skip_what_they_cannot_read() {
    let (_, jwk) = rsa();
    let set: JsonWebKeySet<RingJwk> = serde_json::from_value(serde_json::json!({"keys": [
        {"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AAAA"},
        {"kty": "RSA", "kid": "weird-alg", "alg": "RSA-OAEP-256", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "kid": 5, "n": "AQAB", "e": "AQAB"},
        jwk,
    ]}))
    .unwrap();
    let kids: Vec<_> = set
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(kids, ["r1"]);
    // Same verdicts as `CoreJsonWebKey`.
    let core: openidconnect::core::CoreJsonWebKeySet =
        serde_json::from_value(serde_json::to_value(&set).unwrap()).unwrap();
    assert_eq!(core.keys().len(), 1);
}
