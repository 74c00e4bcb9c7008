//! The app's own signing key for `private_key_jwt` client authentication (RFC 7523 §2.2,
//! OpenID Connect Core §9): read from a PEM (PKCS#8 RSA or P-256, or PKCS#1 RSA) or a private
//! JWK the app provides, published (public part only) at `{prefix}/jwks.json`, and signing a
//! fresh client assertion for every request to the provider: `iss` = `sub` = the client id,
//! `aud` the token endpoint (or the issuer, per the provider's spec), a random `jti`, `iat` now
//! and `exp` 60 s later. Signed with `ring` (RS256 or ES256).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Value, json};

/// How long a client assertion is valid.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key the app authenticates to providers with (`token_auth = "private_key_jwt"`).
/// Build it with [`ClientKey::from_pem`] or [`ClientKey::from_jwk`] and give it to
/// [`OidcLayerBuilder::client_key`](crate::OidcLayerBuilder::client_key). Its `Debug` shows the
/// key id only.
pub struct ClientKey {
    kid: String,
    signer: Signer,
    public_jwk: Value,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg())
            .finish_non_exhaustive()
    }
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn unb64(v: Option<&Value>, name: &str) -> Result<Vec<u8>, String> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the JWK has no `{name}`"))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("the JWK's `{name}` is not base64url"))
}

impl ClientKey {
    /// A key from PEM: `PRIVATE KEY` (PKCS#8: RSA, or EC P-256) or `RSA PRIVATE KEY` (PKCS#1).
    /// The key id is the RFC 7638 thumbprint of the public key.
    ///
    /// ```
    /// let err = tower_oidc::flow::ClientKey::from_pem("not a key").unwrap_err();
    /// assert!(err.contains("PEM"));
    /// ```
    pub fn from_pem(pem: &str) -> Result<ClientKey, String> {
        let (label, der) = pem_block(pem)?;
        let rng = SystemRandom::new();
        let signer = match label.as_str() {
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(&der) {
                Ok(k) => Signer::Rsa(k),
                Err(_) => EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &der,
                    &rng,
                )
                .map(Signer::Ec)
                .map_err(|_| {
                    "the PKCS#8 key is neither RSA (2048 to 8192 bits) nor EC P-256".to_owned()
                })?,
            },
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(Signer::Rsa)
                .map_err(|_| "the PKCS#1 RSA key could not be read".to_owned())?,
            "EC PRIVATE KEY" => {
                return Err(
                    "SEC1 EC keys are not read: convert with `openssl pkcs8 -topk8 -nocrypt`"
                        .into(),
                );
            }
            other => return Err(format!("a PEM `{other}` block is not a private key")),
        };
        Ok(ClientKey::of(signer, None))
    }

    /// A key from a private JWK (RSA with `n e d p q dp dq qi`, or EC P-256 with `x y d`); its
    /// `kid` is kept, else the RFC 7638 thumbprint is used.
    pub fn from_jwk(jwk: &str) -> Result<ClientKey, String> {
        let v: Value = serde_json::from_str(jwk).map_err(|_| "the JWK is not JSON".to_owned())?;
        let kid = v.get("kid").and_then(Value::as_str).map(str::to_owned);
        let signer = match v.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let c = |n: &str| unb64(v.get(n), n);
                let (n, e) = (c("n")?, c("e")?);
                let (d, p, q) = (c("d")?, c("p")?, c("q")?);
                let (dp, dq, qi) = (c("dp")?, c("dq")?, c("qi")?);
                let components = ring::rsa::KeyPairComponents {
                    public_key: ring::rsa::PublicKeyComponents { n: &n, e: &e },
                    d: &d,
                    p: &p,
                    q: &q,
                    dP: &dp,
                    dQ: &dq,
                    qInv: &qi,
                };
                RsaKeyPair::from_components(&components)
                    .map(Signer::Rsa)
                    .map_err(|_| "the RSA JWK is not a valid key pair".to_owned())?
            }
            Some("EC") if v.get("crv").and_then(Value::as_str) == Some("P-256") => {
                let (x, y, d) = (
                    unb64(v.get("x"), "x")?,
                    unb64(v.get("y"), "y")?,
                    unb64(v.get("d"), "d")?,
                );
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &d,
                    &point,
                    &SystemRandom::new(),
                )
                .map(Signer::Ec)
                .map_err(|_| "the EC JWK is not a valid P-256 key pair".to_owned())?
            }
            _ => return Err("the JWK is neither RSA nor EC P-256 (`kty`, `crv`)".into()),
        };
        Ok(ClientKey::of(signer, kid))
    }

    fn of(signer: Signer, kid: Option<String>) -> ClientKey {
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let (thumb_input, mut jwk) = match &signer {
            Signer::Rsa(k) => {
                let c = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(k.public());
                let (n, e) = (b64(&c.n), b64(&c.e));
                (
                    format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
                    json!({"kty": "RSA", "n": n, "e": e, "alg": "RS256"}),
                )
            }
            Signer::Ec(k) => {
                let p = k.public_key().as_ref();
                let (x, y) = (b64(&p[1..33]), b64(&p[33..65]));
                (
                    format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
                    json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "alg": "ES256"}),
                )
            }
        };
        let kid = kid.unwrap_or_else(|| {
            b64(ring::digest::digest(&ring::digest::SHA256, thumb_input.as_bytes()).as_ref())
        });
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        ClientKey {
            kid,
            signer,
            public_jwk: jwk,
        }
    }

    /// The key id (`kid`) published and put in every assertion's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS algorithm: `RS256` or `ES256`.
    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public JWK, as `{prefix}/jwks.json` publishes it.
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// A client assertion for `client_id` at `aud`, issued at `now` (Unix seconds).
    pub(crate) fn assertion(&self, client_id: &str, aud: &str, now: u64) -> Result<String, String> {
        let header = json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "jti": crate::util::random_b64(24),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        self.sign_jwt(&header, &claims)
    }

    /// A compact JWS of `claims` under `header` (which names this key's algorithm), signed with
    /// this key: the client assertions above, and Sign in with Apple's client secret.
    pub(crate) fn sign_jwt(&self, header: &Value, claims: &Value) -> Result<String, String> {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match &self.signer {
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| "signing the client assertion failed".to_owned())?;
                sig
            }
            Signer::Ec(k) => k
                .sign(&rng, input.as_bytes())
                .map_err(|_| "signing the client assertion failed".to_owned())?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", b64(&sig)))
    }
}

/// The label and DER of the first PEM block.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let start = pem
        .find("-----BEGIN ")
        .ok_or_else(|| "not a PEM private key (no BEGIN line)".to_owned())?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let (label, rest) = rest
        .split_once("-----")
        .ok_or_else(|| "not a PEM private key (a malformed BEGIN line)".to_owned())?;
    // A BEGIN line cut short swallows the key itself into the "label": errors name a label
    // only when it looks like one, so that they never repeat key material.
    if label.is_empty()
        || label.len() > 40
        || !label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
    {
        return Err("not a PEM private key (a malformed BEGIN line)".to_owned());
    }
    let end = format!("-----END {label}-----");
    let body = rest
        .split_once(end.as_str())
        .map(|(b, _)| b)
        .ok_or_else(|| format!("not a PEM private key (no `{end}`)"))?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|_| "the PEM body is not base64".to_owned())?;
    Ok((label.to_owned(), der))
}
