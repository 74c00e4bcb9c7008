//! Compact JWS encoding, honest or tampered.

use serde_json::{Map, Value, json};

use super::keys::SigningKey;
use super::switches::Tamper;
use crate::util::b64;

/// What signs a token: one of the fake's keys, or HMAC with the client secret (HS256 mode).
#[derive(Clone, Copy)]
pub(crate) enum Signer<'a> {
    Key(&'a SigningKey),
    Hmac(&'a [u8]),
}

/// What the attacker tampers need: the unpublished key and the `jku` URL serving it.
pub(crate) struct Attacker<'a> {
    pub(crate) key: &'a SigningKey,
    pub(crate) jku: String,
}

fn hmac(alg: &str, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let algorithm = match alg {
        "HS384" => ring::hmac::HMAC_SHA384,
        "HS512" => ring::hmac::HMAC_SHA512,
        _ => ring::hmac::HMAC_SHA256,
    };
    ring::hmac::sign(&ring::hmac::Key::new(algorithm, key), msg)
        .as_ref()
        .to_vec()
}

fn header_for(signer: Signer<'_>) -> Map<String, Value> {
    let mut h = Map::new();
    match signer {
        Signer::Key(k) => {
            h.insert("alg".into(), json!(k.alg()));
            h.insert("kid".into(), json!(k.kid()));
        }
        Signer::Hmac(_) => {
            h.insert("alg".into(), json!("HS256"));
        }
    }
    h.insert("typ".into(), json!("JWT"));
    h
}

fn sign_with(signer: Signer<'_>, alg: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    match signer {
        Signer::Key(k) => k.sign(alg, input),
        Signer::Hmac(secret) => Ok(hmac(alg, secret, input)),
    }
}

fn json_b64(v: &Map<String, Value>) -> Result<String, String> {
    serde_json::to_vec(v)
        .map(|b| b64(&b))
        .map_err(|e| format!("serialising JWT part: {e}"))
}

/// Encodes and signs `claims`, applying `tamper` if any.
pub(crate) fn encode(
    signer: Signer<'_>,
    claims: &Map<String, Value>,
    tamper: Option<&Tamper>,
    attacker: &Attacker<'_>,
) -> Result<String, String> {
    let payload = json_b64(claims)?;
    let mut signer = signer;
    let mut header = header_for(signer);
    let mut reverse_sig = false;
    match tamper {
        None => {}
        Some(Tamper::BadSignature) => reverse_sig = true,
        Some(Tamper::AlgNone) => {
            let mut h = Map::new();
            h.insert("alg".into(), json!("none"));
            h.insert("typ".into(), json!("JWT"));
            return Ok(format!("{}.{payload}.", json_b64(&h)?));
        }
        Some(Tamper::Hs256WithRsaPublicKey) => {
            if let Signer::Key(k) = signer {
                header.insert("alg".into(), json!("HS256"));
                let input = format!("{}.{payload}", json_b64(&header)?);
                let sig = hmac("HS256", k.public_pem().as_bytes(), input.as_bytes());
                return Ok(format!("{input}.{}", b64(&sig)));
            }
        }
        Some(Tamper::NoKid) => {
            header.remove("kid");
        }
        Some(Tamper::Kid(kid)) => {
            header = reorder_with_kid(&header, kid);
        }
        Some(Tamper::EmbeddedJwkHeader) => {
            signer = Signer::Key(attacker.key);
            header = header_for(signer);
            header.insert("jwk".into(), Value::Object(attacker.key.jwk(true)));
        }
        Some(Tamper::Jku) => {
            signer = Signer::Key(attacker.key);
            header = header_for(signer);
            header.insert("jku".into(), json!(attacker.jku));
        }
        Some(Tamper::CritHeader) => {
            header.insert("urn:tower-oidc:test:unknown".into(), json!(true));
            header.insert("crit".into(), json!(["urn:tower-oidc:test:unknown"]));
        }
        Some(Tamper::WrongAlg(alg)) => {
            header.insert("alg".into(), json!(alg));
        }
        Some(Tamper::EsPsychicSignature) => {
            header.insert("alg".into(), json!("ES256"));
            let input = format!("{}.{payload}", json_b64(&header)?);
            return Ok(format!("{input}.{}", b64(&[0u8; 64])));
        }
        Some(Tamper::JweLike) => {
            let mut h = Map::new();
            h.insert("alg".into(), json!("RSA-OAEP-256"));
            h.insert("enc".into(), json!("A256CBC-HS512"));
            h.insert("typ".into(), json!("JWE"));
            if let Some(kid) = header.get("kid") {
                h.insert("kid".into(), kid.clone());
            }
            let cek: [u8; 64] = crate::util::random_bytes();
            let iv: [u8; 16] = crate::util::random_bytes();
            let tag: [u8; 32] = crate::util::random_bytes();
            return Ok(format!(
                "{}.{}.{}.{payload}.{}",
                json_b64(&h)?,
                b64(&cek),
                b64(&iv),
                b64(&tag)
            ));
        }
        Some(Tamper::HugeHeader(n)) => {
            header.insert("x-padding".into(), json!("a".repeat(*n)));
        }
        Some(Tamper::ExtraHeader(extra)) => {
            for (k, v) in extra {
                header.insert(k.clone(), v.clone());
            }
        }
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("RS256")
        .to_owned();
    let input = format!("{}.{payload}", json_b64(&header)?);
    let mut sig = sign_with(signer, &alg, input.as_bytes())?;
    if reverse_sig {
        sig.reverse();
    }
    Ok(format!("{input}.{}", b64(&sig)))
}

/// `header` with `kid` set to `kid`, keeping the `alg, kid, typ` order.
fn reorder_with_kid(header: &Map<String, Value>, kid: &str) -> Map<String, Value> {
    let mut h = Map::new();
    if let Some(alg) = header.get("alg") {
        h.insert("alg".into(), alg.clone());
    }
    h.insert("kid".into(), json!(kid));
    for (k, v) in header {
        if k != "alg" && k != "kid" {
            h.insert(k.clone(), v.clone());
        }
    }
    h
}

/// Signs `claims` under `header` as given, adding `alg` (the signer's) and `kid` (a key's) in
/// front when missing; the signature uses the header's `alg` where the signer can (see
/// [`SigningKey::sign`]; HMAC: HS256/384/512).
pub(crate) fn encode_with_header(
    signer: Signer<'_>,
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, String> {
    let mut full = Map::new();
    let defaults = header_for(signer);
    for name in ["alg", "kid"] {
        match (header.get(name), defaults.get(name)) {
            (Some(v), _) | (None, Some(v)) => {
                full.insert(name.to_owned(), v.clone());
            }
            (None, None) => {}
        }
    }
    for (k, v) in header {
        if k != "alg" && k != "kid" {
            full.insert(k.clone(), v.clone());
        }
    }
    let alg = full
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("RS256")
        .to_owned();
    let input = format!("{}.{}", json_b64(&full)?, json_b64(claims)?);
    let sig = sign_with(signer, &alg, input.as_bytes())?;
    Ok(format!("{input}.{}", b64(&sig)))
}
