//! `/application/o/revoke/` (RFC 7009): forgets an access or refresh token, and records it.

use serde_json::json;

use super::{Reply, Req};
use crate::testing::record::{Revocation, TokenKind};
use crate::testing::state::Inner;

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["POST"]) {
        return refused;
    }
    let cfg = &inner.cfg;
    let asserted = super::assertion::present(req);
    let (client_id, client_secret) = if asserted {
        (
            super::assertion::check(inner, req).unwrap_or_default(),
            String::new(),
        )
    } else {
        super::token::client_auth(req, inner.cfg.version.decodes_basic_credentials())
    };
    let secret_ok: bool = asserted
        || bool::from(subtle::ConstantTimeEq::ct_eq(
            cfg.client_secret.as_bytes(),
            client_secret.as_bytes(),
        ));
    if client_id != cfg.client_id || (!cfg.public_client && !secret_ok) {
        // Unlike the token endpoint, a failed client authentication here is a 401.
        let mut r = super::token::token_error("invalid_client");
        r.status = 401;
        return r;
    }
    if let Some(token) = req.f("token").filter(|t| !t.is_empty()) {
        // Revocation only forgets the token: it never sends a logout notification.
        let mut st = inner.lock();
        let revoked = match (st.access.remove(token), st.refresh.remove(token)) {
            (Some(grant), _) => Some((TokenKind::Access, grant.user_pk)),
            (None, Some(grant)) => Some((TokenKind::Refresh, grant.user_pk)),
            (None, None) => None,
        };
        if let Some((kind, pk)) = revoked {
            let username = st.user(pk).map(|u| u.username.clone()).unwrap_or_default();
            st.revocations.push(Revocation {
                token: token.to_owned(),
                kind,
                username,
            });
        }
    }
    // 200 `{}` whether or not the token existed.
    Reply::json(200, &json!({}), false)
}
