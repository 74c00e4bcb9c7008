//! `/application/o/userinfo/`: claims re-evaluated from the current user data, nonce echoed.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Reply, Req};
use crate::testing::state::{Inner, scope_claims};

/// The token from `Authorization: Bearer …` (`^[Bb]earer\s.+$`), the form or the query.
fn bearer(req: &Req) -> Option<&str> {
    req.header("authorization")
        .and_then(|h| super::token::scheme_value(h, &["Bearer", "bearer"]))
        .or_else(|| req.f("access_token"))
        .or_else(|| req.q("access_token"))
}

fn bearer_error(status: u16, error: &str, description: &str) -> Reply {
    // Authentik leaves out the `Bearer` auth-scheme: a real quirk, kept on purpose.
    Reply::empty(status).header(
        "www-authenticate",
        format!("error=\"{error}\", error_description=\"{description}\""),
    )
}

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["GET", "POST", "HEAD"]) {
        return refused;
    }
    let invalid = || {
        bearer_error(
            401,
            "invalid_token",
            "The access token provided is expired, revoked, malformed, or invalid for other reasons",
        )
    };
    let Some(token) = bearer(req).filter(|t| !t.is_empty()) else {
        return invalid();
    };
    let (user, scopes, nonce, hook) = {
        let st = inner.lock();
        let Some(grant) = st.access.get(token) else {
            return invalid();
        };
        if Instant::now() > grant.expires {
            return invalid();
        }
        let Some(user) = st.user(grant.user_pk).cloned() else {
            return invalid();
        };
        (
            user,
            grant.scopes.clone(),
            grant.nonce.clone(),
            st.switches.userinfo.clone(),
        )
    };
    if !scopes.iter().any(|s| s == "openid") {
        return bearer_error(
            403,
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
        );
    }
    let mut body = Map::new();
    body.insert("sub".into(), json!(inner.sub(&user)));
    for (k, v) in scope_claims(&user, &scopes) {
        body.insert(k, v);
    }
    if let Some(n) = nonce {
        body.insert("nonce".into(), json!(n));
    }
    if let Some(hook) = hook {
        hook(&mut body);
    }
    Reply::json(200, &Value::Object(body), false)
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
}
