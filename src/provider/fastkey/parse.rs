//! Reading a JWK into a [`RingJwk`] the way `openidconnect` reads a `CoreJsonWebKey`, and
//! writing it back (without a symmetric key's `k`).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKeyId;
use openidconnect::core::{
    CoreJsonCurveType, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Inner, KeyAlg, RingJwk};

/// The JWK members this key understands. `kty`, `use`, `kid` with `openidconnect`'s own types
/// (so an unknown `kty` or a malformed `use`/`kid` fails the key, and the set skips it); the key
/// material leniently (a member that is not base64url is absent, as in `CoreJsonWebKey`).
#[derive(Deserialize)]
struct RawJwk {
    kty: CoreJsonWebKeyType,
    #[serde(rename = "use")]
    use_: Option<CoreJsonWebKeyUse>,
    kid: Option<JsonWebKeyId>,
    alg: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient_b64")]
    n: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    e: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_curve")]
    crv: Option<CoreJsonCurveType>,
    #[serde(default, deserialize_with = "lenient_b64")]
    x: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    y: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "lenient_b64")]
    k: Option<Vec<u8>>,
}

fn lenient_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_str()
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()))
}

fn lenient_curve<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CoreJsonCurveType>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// `alg` as `openidconnect` reads it: a string (else the key fails); `none` or a JWE content
/// encryption algorithm → not for signing; a JWS algorithm → that one; anything else fails the
/// key (so the set skips it).
fn parse_alg<E: de::Error>(v: Option<serde_json::Value>) -> Result<(KeyAlg, Option<String>), E> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok((KeyAlg::Unspecified, None));
    };
    let s = v
        .as_str()
        .ok_or_else(|| E::custom("`alg` is not a string"))?
        .to_owned();
    if s == "none" || serde_json::from_value::<CoreJweContentEncryptionAlgorithm>(v.clone()).is_ok()
    {
        return Ok((KeyAlg::NotSigning(s.clone()), Some(s)));
    }
    match serde_json::from_value::<CoreJwsSigningAlgorithm>(v) {
        Ok(a) => Ok((KeyAlg::Signing(a), Some(s))),
        Err(_) => Err(E::custom(format!("unrecognized JSON Web Algorithm `{s}`"))),
    }
}

impl<'de> Deserialize<'de> for RingJwk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJwk::deserialize(d)?;
        let (alg, alg_raw) = parse_alg::<D::Error>(raw.alg)?;
        let ec_point = match (&raw.x, &raw.y) {
            (Some(x), Some(y)) if raw.kty == CoreJsonWebKeyType::EllipticCurve => {
                let mut p = Vec::with_capacity(1 + x.len() + y.len());
                p.push(0x04);
                p.extend_from_slice(x);
                p.extend_from_slice(y);
                Some(p)
            }
            _ => None,
        };
        Ok(RingJwk(Arc::new(Inner {
            kty: raw.kty,
            use_: raw.use_,
            kid: raw.kid,
            alg,
            alg_raw,
            n: raw.n,
            e: raw.e,
            crv: raw.crv,
            x: raw.x,
            y: raw.y,
            k: raw.k,
            ec_point,
        })))
    }
}

impl Serialize for RingJwk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b64 = |b: &Vec<u8>| URL_SAFE_NO_PAD.encode(b);
        let i = &self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kty", &i.kty)?;
        if let Some(u) = &i.use_ {
            m.serialize_entry("use", u)?;
        }
        if let Some(k) = &i.kid {
            m.serialize_entry("kid", k)?;
        }
        if let Some(a) = &i.alg_raw {
            m.serialize_entry("alg", a)?;
        }
        for (name, v) in [("n", &i.n), ("e", &i.e)] {
            v.as_ref()
                .map(|v| m.serialize_entry(name, &b64(v)))
                .transpose()?;
        }
        if let Some(c) = &i.crv {
            m.serialize_entry("crv", c)?;
        }
        for (name, v) in [("x", &i.x), ("y", &i.y)] {
            v.as_ref()
                .map(|v| m.serialize_entry(name, &b64(v)))
                .transpose()?;
        }
        // `k` (a symmetric key made from the client secret) is deliberately not serialised.
        m.end()
    }
}
