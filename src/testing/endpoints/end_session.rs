//! `/application/o/<slug>/end-session/`: RP-initiated logout.

use super::{Reply, Req, escape};
use crate::testing::state::Inner;

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if !matches!(req.method.as_str(), "GET" | "POST" | "HEAD") {
        return Reply::method_not_allowed();
    }
    let param = |name: &str| req.f(name).or_else(|| req.q(name));
    if let Some(uri) = param("post_logout_redirect_uri").filter(|u| !u.is_empty()) {
        // Honoured only when registered as a logout redirect URI (Authentik 2026.5+).
        let registered = inner.lock().logout_uris.iter().any(|u| u == uri);
        if registered {
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
