//! The corpus's keys (RSA from `testdata/`, the rest from the seed), its randomness and its
//! constants. Everything is derived from [`SEED`], so every run checks the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreJwsSigningAlgorithm as A;
use p256::ecdsa::signature::Signer as _;
use ring::signature::KeyPair as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::Policy;

/// The seed of the whole corpus.
pub(super) const SEED: u64 = 0x0014_fa57_6b3e_d1ff;

/// Every JWS algorithm `openidconnect` knows, `none` included.
pub(super) const ALGS: [A; 14] = [
    A::RsaSsaPkcs1V15Sha256,
    A::RsaSsaPkcs1V15Sha384,
    A::RsaSsaPkcs1V15Sha512,
    A::RsaSsaPssSha256,
    A::RsaSsaPssSha384,
    A::RsaSsaPssSha512,
    A::HmacSha256,
    A::HmacSha384,
    A::HmacSha512,
    A::EcdsaP256Sha256,
    A::EcdsaP384Sha384,
    A::EcdsaP521Sha512,
    A::EdDsa,
    A::None,
];

pub(super) const ISSUER: &str = "https://idp.example.test/application/o/app/";
pub(super) const CLIENT_ID: &str = "differential-client";
pub(super) const CLIENT_SECRET: &str = "differential-client-secret";
/// The verifier's clock (the tokens are issued a minute before and expire an hour after).
pub(super) const NOW: i64 = 1_767_225_600;

/// SplitMix64: the corpus's only source of randomness (key seeds, PSS salts, tamper positions).
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

impl rsa::rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.next() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.iter_mut().for_each(|b| *b = self.next() as u8);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
// Test-only: deterministic on purpose.
impl rsa::rand_core::CryptoRng for Rng {}

pub(super) fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A private key of the corpus, able to sign with some algorithms.
pub(super) enum Signer {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ring::signature::Ed25519KeyPair),
    Hmac(Vec<u8>),
}

pub(super) struct Key {
    /// Also the key's `kid`.
    pub(super) name: String,
    pub(super) signer: Signer,
    /// The public JWK (for HMAC, the `oct` key).
    pub(super) jwk: Map<String, Value>,
    /// The algorithm the key signs with when a case needs "the key's own signature".
    pub(super) natural: A,
    pub(super) policy: Policy,
}

impl Key {
    /// A signature of `msg` by this key with `alg`, when the key can make one.
    pub(super) fn sign(&self, alg: &A, msg: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
        match (&self.signer, alg) {
            (Signer::Rsa(k), _) => rsa_sign(k, alg, msg, rng, None),
            (Signer::P256(k), A::EcdsaP256Sha256) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                Some(s.to_bytes().to_vec())
            }
            (Signer::P384(k), A::EcdsaP384Sha384) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                Some(s.to_bytes().to_vec())
            }
            (Signer::Ed25519(k), A::EdDsa) => Some(k.sign(msg).as_ref().to_vec()),
            (Signer::Hmac(k), A::HmacSha256 | A::HmacSha384 | A::HmacSha512) => {
                let a = match alg {
                    A::HmacSha256 => ring::hmac::HMAC_SHA256,
                    A::HmacSha384 => ring::hmac::HMAC_SHA384,
                    _ => ring::hmac::HMAC_SHA512,
                };
                Some(
                    ring::hmac::sign(&ring::hmac::Key::new(a, k), msg)
                        .as_ref()
                        .to_vec(),
                )
            }
            _ => None,
        }
    }
}

/// RSA PKCS#1 v1.5 or PSS; `salt` overrides PSS's salt length (the hash length, as JWS wants).
pub(super) fn rsa_sign(
    k: &rsa::RsaPrivateKey,
    alg: &A,
    msg: &[u8],
    rng: &mut Rng,
    salt: Option<usize>,
) -> Option<Vec<u8>> {
    use rsa::{Pkcs1v15Sign, Pss};
    use sha2::{Sha256, Sha384, Sha512};
    let r = match alg {
        A::RsaSsaPkcs1V15Sha256 => k.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg)),
        A::RsaSsaPkcs1V15Sha384 => k.sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(msg)),
        A::RsaSsaPkcs1V15Sha512 => k.sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(msg)),
        A::RsaSsaPssSha256 => {
            let p = salt.map_or_else(Pss::new::<Sha256>, Pss::new_with_salt::<Sha256>);
            k.sign_with_rng(rng, p, &Sha256::digest(msg))
        }
        A::RsaSsaPssSha384 => {
            let p = salt.map_or_else(Pss::new::<Sha384>, Pss::new_with_salt::<Sha384>);
            k.sign_with_rng(rng, p, &Sha384::digest(msg))
        }
        A::RsaSsaPssSha512 => {
            let p = salt.map_or_else(Pss::new::<Sha512>, Pss::new_with_salt::<Sha512>);
            k.sign_with_rng(rng, p, &Sha512::digest(msg))
        }
        _ => return None,
    };
    // PS512 does not fit a 1024-bit modulus (64-byte hash and salt).
    r.ok()
}

fn rsa_key(name: &str, pem: &str) -> Key {
    use rsa::pkcs8::DecodePrivateKey as _;
    let k = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let bits = k.n().bits();
    let (n, e) = (b64(&k.n().to_bytes_be()), b64(&k.e().to_bytes_be()));
    let jwk = json!({"kty": "RSA", "kid": name, "n": n, "e": e});
    Key {
        name: name.to_owned(),
        signer: Signer::Rsa(Box::new(k)),
        jwk: obj(jwk),
        natural: A::RsaSsaPkcs1V15Sha256,
        // The documented size limits: `ring` refuses moduli under 2048 bits, the `rsa` crate
        // (`CoreJsonWebKey`) over 4096.
        policy: match bits {
            ..2048 => Policy::RingRejects,
            2048..=4096 => Policy::Same,
            _ => Policy::CoreRejects,
        },
    }
}

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// All keys of the corpus: RSA of 1024 to 8192 bits (2056: an odd size; one
/// with e = 3), EC P-256 and P-384, Ed25519, and a symmetric key (the client secret).
pub(super) fn keys(rng: &mut Rng) -> Vec<Key> {
    let mut keys = vec![
        rsa_key("rsa1024", include_str!("../testdata/rsa1024.key.pem")),
        rsa_key("rsa2048", include_str!("../testdata/rsa2048.key.pem")),
        rsa_key("rsa2048-e3", include_str!("../testdata/rsa2048-e3.key.pem")),
        rsa_key("rsa2056", include_str!("../testdata/rsa2056.key.pem")),
        rsa_key("rsa3072", include_str!("../testdata/rsa3072.key.pem")),
        rsa_key("rsa4096", include_str!("../testdata/rsa4096.key.pem")),
        rsa_key("rsa8192", include_str!("../testdata/rsa8192.key.pem")),
    ];
    let p256 = loop {
        if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&rng.bytes(32)) {
            break k;
        }
    };
    let point = p256
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    keys.push(Key {
        name: "p256".into(),
        jwk: obj(
            json!({"kty": "EC", "kid": "p256", "crv": "P-256", "x": b64(&point[1..33]),
                "y": b64(&point[33..])}),
        ),
        signer: Signer::P256(p256),
        natural: A::EcdsaP256Sha256,
        policy: Policy::Same,
    });
    let p384 = loop {
        if let Ok(k) = p384::ecdsa::SigningKey::from_slice(&rng.bytes(48)) {
            break k;
        }
    };
    let point = p384
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    keys.push(Key {
        name: "p384".into(),
        jwk: obj(
            json!({"kty": "EC", "kid": "p384", "crv": "P-384", "x": b64(&point[1..49]),
                "y": b64(&point[49..])}),
        ),
        signer: Signer::P384(p384),
        natural: A::EcdsaP384Sha384,
        policy: Policy::Same,
    });
    let ed = ring::signature::Ed25519KeyPair::from_seed_unchecked(&rng.bytes(32)).unwrap();
    keys.push(Key {
        name: "ed25519".into(),
        jwk: obj(json!({"kty": "OKP", "kid": "ed25519", "crv": "Ed25519",
                "x": b64(ed.public_key().as_ref())})),
        signer: Signer::Ed25519(ed),
        natural: A::EdDsa,
        policy: Policy::Same,
    });
    keys.push(Key {
        name: "oct".into(),
        jwk: obj(json!({"kty": "oct", "kid": "oct", "k": b64(CLIENT_SECRET.as_bytes())})),
        signer: Signer::Hmac(CLIENT_SECRET.as_bytes().to_vec()),
        natural: A::HmacSha256,
        policy: Policy::Same,
    });
    keys
}
