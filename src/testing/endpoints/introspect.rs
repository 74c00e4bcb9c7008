//! `/application/o/introspect/` (RFC 7662), as Authentik's `TokenIntrospectionView` answers:
//! the client authenticates (Basic or form); a token issued to it — an access token or a refresh
//! token — is `active: true` with the claims of its ID token, `scope` and `client_id`; anything
//! else (another client, an unknown, expired or revoked token, failed client authentication)
//! is `200 {"active": false}`.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Reply, Req};
use crate::testing::state::{Inner, scope_claims};

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["POST"]) {
        return refused;
    }
    let cfg = &inner.cfg;
    let inactive = || Reply::json(200, &json!({"active": false}), false);
    if !super::token::client_authenticated(inner, req) {
        return inactive();
    }
    let Some(token) = req.f("token").filter(|t| !t.is_empty()) else {
        return inactive();
    };
    let now = Instant::now();
    let st = inner.lock();
    let found = match (st.access.get(token), st.refresh.get(token)) {
        (Some(g), _) if g.expires > now => Some((g.user_pk, g.scopes.clone(), g.expires)),
        (None, Some(g)) if !g.revoked && g.expires > now => {
            Some((g.user_pk, g.scopes.clone(), g.expires))
        }
        _ => None,
    };
    let Some((pk, scopes, expires)) = found else {
        return inactive();
    };
    let Some(user) = st.user(pk) else {
        return inactive();
    };
    let offset = st.switches.clock_offset;
    let unix = crate::util::unix_now() as i64 + offset;
    let mut body = Map::new();
    body.insert("iss".into(), json!(inner.issuer()));
    body.insert("sub".into(), json!(inner.sub(user)));
    body.insert("aud".into(), json!(cfg.client_id));
    body.insert(
        "exp".into(),
        json!(unix + expires.saturating_duration_since(now).as_secs() as i64),
    );
    body.insert("iat".into(), json!(unix));
    for (k, v) in scope_claims(user, &scopes) {
        body.insert(k, v);
    }
    body.insert("active".into(), json!(true));
    body.insert("scope".into(), json!(scopes.join(" ")));
    body.insert("client_id".into(), json!(cfg.client_id));
    Reply::json(200, &Value::Object(body), false)
}
