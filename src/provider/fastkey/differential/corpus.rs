//! The corpus: keys (RSA from `testdata/`, the rest from the seed), the JWK variants, and the
//! cases built from them. Everything is derived from [`SEED`], so every run checks the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreJwsSigningAlgorithm as A;
use p256::ecdsa::signature::Signer as _;
use ring::signature::KeyPair as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::{Case, Check, Policy};

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
