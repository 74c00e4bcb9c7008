//! Minting logout tokens (Back-Channel Logout 1.0 §2.4) as Authentik does.

use serde_json::{Map, Value, json};

use crate::testing::jwt;
use crate::testing::state::Inner;

/// The `events` member that makes a JWT a logout token.
pub(crate) const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A random UUID version 4, hyphenated (Python's `str(uuid4())`).
fn uuid4() -> String {
    let mut b: [u8; 16] = crate::util::random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::testing::state::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The logout token for session `sid` of the user with subject `sub`, signed now with the
/// current key (or the client secret in HS256 mode), the issuer's clock offset applied.
pub(crate) fn mint(inner: &Inner, sid: &str, sub: &str) -> Result<String, String> {
    let (key_index, offset) = {
        let st = inner.lock();
        (st.key_index, st.switches.clock_offset)
    };
    let now = crate::util::unix_now() as i64 + offset;
    let validity = inner.cfg.token_validity.as_secs() as i64;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(inner.issuer()));
    claims.insert("aud".into(), json!(inner.cfg.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + validity));
    claims.insert("jti".into(), json!(uuid4()));
    claims.insert("events".into(), json!({ BACKCHANNEL_EVENT: {} }));
    claims.insert("sub".into(), json!(sub));
    claims.insert("sid".into(), json!(sid));
    let mut header = Map::new();
    header.insert(
        "typ".into(),
        Value::from(inner.cfg.version.logout_token_typ()),
    );
    jwt::encode_with_header(inner.signer(key_index), &header, &claims)
}

/// `claims` signed under `header` with the current key; `alg` and `kid` added when missing.
pub(crate) fn sign(
    inner: &Inner,
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, String> {
    let key_index = inner.lock().key_index;
    jwt::encode_with_header(inner.signer(key_index), header, claims)
}
