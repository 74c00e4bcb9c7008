//! `/application/o/<slug>/end-session/`: RP-initiated logout, and the login flow it may send a
//! signed-out browser to.

use super::authorize::{browser_session, py_quote};
use super::{Reply, Req, escape};
use crate::testing::state::Inner;

/// Where Django's `redirect_to_login` sends a browser without a session (`LOGIN_URL`).
pub(super) const LOGIN_FLOW_PATH: &str = "/flows/-/default/authentication/";

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if !matches!(req.method.as_str(), "GET" | "POST" | "HEAD") {
        return Reply::method_not_allowed();
    }
    let version = inner.cfg.version;
    // 2026.5: the end-session view needs an Authentik session; a browser without one is sent to
    // the login flow first (older releases show the logged-out page to anyone).
    if version.end_session_needs_login() {
        let signed_in =
            browser_session(req).is_some_and(|s| inner.lock().browser_sessions.contains(s));
        if !signed_in {
            let mut next = req.path.clone();
            if let Some(q) = req.raw_query.as_deref().filter(|q| !q.is_empty()) {
                next.push('?');
                next.push_str(q);
            }
            return Reply::redirect(&format!("{LOGIN_FLOW_PATH}?next={}", py_quote(&next)));
        }
    }
    let param = |name: &str| req.f(name).or_else(|| req.q(name));
    if let Some(uri) = param("post_logout_redirect_uri").filter(|u| !u.is_empty()) {
        // Honoured only when registered as a logout redirect URI (Authentik 2026.5+).
        let registered = inner.lock().logout_uris.iter().any(|u| u == uri);
        if registered && version.honours_post_logout_redirect() {
            let mut location = uri.to_owned();
            if let Some(state) = param("state").filter(|s| !s.is_empty()) {
                location.push(if uri.contains('?') { '&' } else { '?' });
                location.push_str("state=");
                location.push_str(
                    &url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>(),
                );
            }
            return Reply::redirect(&location);
        }
    }
    Reply::html(
        200,
        "You've logged out",
        &format!("<p>You've logged out of {}.</p>", escape(&inner.cfg.slug)),
    )
}

/// The login flow's page: a stand-in (the fake has no interactive login), naming where the
/// browser would go after logging in.
pub(super) fn login_flow(req: &Req) -> Reply {
    if !matches!(req.method.as_str(), "GET" | "HEAD") {
        return Reply::method_not_allowed();
    }
    let next = req.q("next").unwrap_or("/");
    Reply::html(
        200,
        "Welcome to authentik!",
        &format!(
            "<p>Log in to continue to <code>{}</code>.</p>",
            escape(next)
        ),
    )
}
