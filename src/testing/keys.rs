//! The fake's signing keys: embedded PEM files, `ring` key pairs, JWK rendering and signing.
//!
//! **These keys are public test keys.** They are committed to the repository and shipped in the
//! crate. Never trust a token signed by them outside a test.

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Map, Value, json};

use crate::util::b64;

/// Which key (and so which `alg`) the fake signs ID tokens and access tokens with.
///
/// Mirrors the provider's "Signing Key" setting in Authentik: an RSA certificate gives `RS256`,
/// an EC P-256 one `ES256`, and **no** signing key gives `HS256` keyed with the client secret
/// (JWKS `{}` and no `kid` in the token header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SigningMode {
    /// RS256 with an RSA-2048 key (the default).
    #[default]
    Rs256,
    /// RS256 with an RSA-4096 key, like Authentik's own "authentik Self-signed Certificate".
    Rs256Rsa4096,
    /// ES256 with an EC P-256 key.
    Es256,
    /// HS256 keyed with the client secret: the provider has no signing key selected.
    Hs256,
}

impl SigningMode {
    /// The JWS `alg` this mode signs with, as advertised in
    /// `id_token_signing_alg_values_supported`.
    pub fn alg(self) -> &'static str {
        match self {
            SigningMode::Rs256 | SigningMode::Rs256Rsa4096 => "RS256",
            SigningMode::Es256 => "ES256",
            SigningMode::Hs256 => "HS256",
        }
    }
}

/// How the fake derives a key's `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KidStyle {
    /// 32 hex characters: the MD5 of the key PEM (Authentik up to 2025.12, and keys created then).
    #[default]
    Md5Hex,
    /// 86 characters: SHA-512 of the key PEM, base64url without padding (keys created on 2026.2+).
    Sha512B64,
}

/// One embedded key: private key, public key, certificate and MD5 kid.
struct Material {
    key_pem: &'static str,
    cert_pem: &'static str,
    pub_pem: &'static str,
    md5_kid: &'static str,
}

macro_rules! material {
    ($name:literal) => {
        Material {
            key_pem: include_str!(concat!("keys/", $name, ".key.pem")),
            cert_pem: include_str!(concat!("keys/", $name, ".cert.pem")),
            pub_pem: include_str!(concat!("keys/", $name, ".pub.pem")),
            md5_kid: include_str!(concat!("keys/", $name, ".kid")),
        }
    };
}

const RSA2048: [Material; 3] = [
    material!("rsa2048-1"),
    material!("rsa2048-2"),
    material!("rsa2048-3"),
];
const RSA4096: [Material; 2] = [material!("rsa4096-1"), material!("rsa4096-2")];
const EC256: [Material; 3] = [
    material!("ec256-1"),
    material!("ec256-2"),
    material!("ec256-3"),
];
const ATTACKER: Material = material!("attacker-rsa2048");

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A loaded asymmetric signing key with its published metadata.
pub(crate) struct SigningKey {
    pair: Pair,
    kid: String,
    cert_der: Vec<u8>,
    pub_pem: &'static str,
}

fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("embedded PEM is not base64: {e}"))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

impl SigningKey {
    fn load(m: &Material, style: KidStyle) -> Result<Self, String> {
        let der = pem_der(m.key_pem)?;
        let pair = if m.key_pem.len() > 1000 {
            Pair::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("RSA key: {e}"))?)
        } else {
            Pair::Ec(
                EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &der,
                    &SystemRandom::new(),
                )
                .map_err(|e| format!("EC key: {e}"))?,
            )
        };
        let kid = match style {
            KidStyle::Md5Hex => m.md5_kid.trim().to_owned(),
            KidStyle::Sha512B64 => {
                b64(ring::digest::digest(&ring::digest::SHA512, m.key_pem.as_bytes()).as_ref())
            }
        };
        Ok(Self {
            pair,
            kid,
            cert_der: pem_der(m.cert_pem)?,
            pub_pem: m.pub_pem,
        })
    }

    /// The key's `kid`.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's public key as SPKI PEM text (the HMAC secret of the alg-confusion attack).
    pub(crate) fn public_pem(&self) -> &'static str {
        self.pub_pem
    }

    /// The algorithm this key is published for.
    pub(crate) fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
        }
    }

    /// Signs `msg` with `alg`. RSA keys sign RS256/384/512 and PS256/384/512; anything else
    /// falls back to the key's own algorithm (the header still claims `alg`).
    pub(crate) fn sign(&self, alg: &str, msg: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(kp) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(padding, &rng, msg, &mut sig)
                    .map_err(|_| "RSA signing failed".to_owned())?;
                Ok(sig)
            }
            Pair::Ec(kp) => kp
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_owned()),
        }
    }

    /// The public JWK, members in Authentik's order; `kid` left out when `with_kid` is false.
    pub(crate) fn jwk(&self, with_kid: bool) -> Map<String, Value> {
        use base64::Engine as _;
        let mut m = Map::new();
        m.insert("alg".into(), json!(self.alg()));
        if with_kid {
            m.insert("kid".into(), json!(self.kid));
        }
        match &self.pair {
            Pair::Rsa(kp) => {
                let c = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(kp.public());
                m.insert("kty".into(), json!("RSA"));
                m.insert("use".into(), json!("sig"));
                m.insert("n".into(), json!(b64(strip_zeros(&c.n))));
                m.insert("e".into(), json!(b64(strip_zeros(&c.e))));
            }
            Pair::Ec(kp) => {
                // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes), already zero-padded.
                let xy = kp.public_key().as_ref().get(1..).unwrap_or_default();
                let (x, y) = xy.split_at(xy.len() / 2);
                m.insert("kty".into(), json!("EC"));
                m.insert("use".into(), json!("sig"));
                m.insert("x".into(), json!(b64(x)));
                m.insert("y".into(), json!(b64(y)));
                m.insert("crv".into(), json!("P-256"));
            }
        }
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.cert_der);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &self.cert_der);
        m.insert(
            "x5c".into(),
            json!([base64::engine::general_purpose::STANDARD.encode(&self.cert_der)]),
        );
        m.insert("x5t".into(), json!(b64(sha1.as_ref())));
        m.insert("x5t#S256".into(), json!(b64(sha256.as_ref())));
        m
    }
}

/// Every key a fake instance may sign with: the rotation ring for its mode plus the attacker key.
pub(crate) struct KeySet {
    /// Keys `rotate_signing_key` cycles through (empty in HS256 mode).
    pub(crate) ring: Vec<SigningKey>,
    /// Never published; signs the `EmbeddedJwkHeader` / `Jku` tampered tokens.
    pub(crate) attacker: SigningKey,
}

impl KeySet {
    /// Loads the embedded keys for `mode`.
    pub(crate) fn load(mode: SigningMode, style: KidStyle) -> Result<Self, String> {
        let materials: &[Material] = match mode {
            SigningMode::Rs256 => &RSA2048,
            SigningMode::Rs256Rsa4096 => &RSA4096,
            SigningMode::Es256 => &EC256,
            SigningMode::Hs256 => &[],
        };
        let ring = materials
            .iter()
            .map(|m| SigningKey::load(m, style))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            ring,
            attacker: SigningKey::load(&ATTACKER, style)?,
        })
    }
}
