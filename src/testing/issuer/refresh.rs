//! Refresh tokens of a [`FakeIssuer`](super::FakeIssuer) preset, as its provider issues them:
//! with the code grant when the granted scopes hold the preset's refresh scope (or always),
//! rotated on each refresh or kept, and a revoked or unknown one refused (`invalid_grant`).

use super::preset::Refresh;
use super::{Grant, Inner};
use crate::testing::state::random_alnum;

/// A refresh token the fake issued.
pub(crate) struct RefreshGrant {
    pub(crate) user_pk: u64,
    pub(crate) scopes: Vec<String>,
    /// The sign-in's nonce (a preset that repeats it in refreshed ID tokens needs it).
    pub(crate) nonce: Option<String>,
    pub(crate) revoked: bool,
}

fn model(inner: &Inner) -> Option<Refresh> {
    inner.preset.refresh
}

/// The refresh token a code grant gets, if the preset issues one for its scopes.
pub(crate) fn issue_for_code(inner: &Inner, grant: &Grant) -> Option<String> {
    let m = model(inner)?;
    if let Some(scope) = m.scope
        && !grant.scopes.iter().any(|s| s == scope)
    {
        return None;
    }
    Some(store(
        inner,
        grant.user_pk,
        &grant.scopes,
        grant.nonce.clone(),
    ))
}

fn store(inner: &Inner, user_pk: u64, scopes: &[String], nonce: Option<String>) -> String {
    let token = random_alnum(64);
    inner.lock().refresh.insert(
        token.clone(),
        RefreshGrant {
            user_pk,
            scopes: scopes.to_vec(),
            nonce,
            revoked: false,
        },
    );
    token
}

/// Redeems a refresh token: the grant to mint new tokens from (its nonce only when the preset
/// repeats it) and the refresh token to answer with (a new one when the preset rotates, the
/// old one revoked); `None` for an unknown, revoked or rotated-away token.
pub(crate) fn redeem(inner: &Inner, token: &str) -> Option<(Grant, Option<String>)> {
    let m = model(inner)?;
    let (user_pk, scopes, nonce) = {
        let mut st = inner.lock();
        let rt = st.refresh.get_mut(token)?;
        if rt.revoked {
            return None;
        }
        if m.rotate {
            rt.revoked = true;
        }
        (rt.user_pk, rt.scopes.clone(), rt.nonce.clone())
    };
    let next = m
        .rotate
        .then(|| store(inner, user_pk, &scopes, nonce.clone()));
    let grant = Grant {
        user_pk,
        redirect_uri: String::new(),
        scopes,
        nonce: if m.nonce { nonce } else { None },
        challenge: None,
    };
    Some((grant, next))
}
