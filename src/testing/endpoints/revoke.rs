//! `/application/o/revoke/` (RFC 7009): forgets an access or refresh token, and records it.

use serde_json::json;

use super::{Reply, Req};
use crate::testing::record::{Revocation, TokenKind};
use crate::testing::state::Inner;

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["POST"]) {
        return refused;
    }
    if !super::token::client_authenticated(inner, req) {
        // Unlike the token endpoint, a failed client authentication here is a 401.
        return super::token::client_refused();
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
