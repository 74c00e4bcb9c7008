//! `/application/o/<slug>/end-session/`: RP-initiated logout, and the login flow it may send a
//! signed-out browser to.

use std::sync::Arc;

use super::authorize::{browser_session, py_quote};
use super::{Reply, Req, escape};
use crate::testing::logout;
use crate::testing::state::Inner;

/// Where Django's `redirect_to_login` sends a browser without a session (`LOGIN_URL`).
pub(super) const LOGIN_FLOW_PATH: &str = "/flows/-/default/authentication/";

pub(super) fn handle(inner: &Arc<Inner>, req: &Req) -> Reply {
    if !matches!(req.method.as_str(), "GET" | "POST" | "HEAD") {
        return Reply::method_not_allowed();
    }
    let version = inner.cfg.version;
    let browser = browser_session(req).filter(|s| inner.lock().browser_sessions.contains(*s));
    // 2026.5: the end-session view needs an Authentik session; a browser without one is sent to
    // the login flow first (older releases show the logged-out page to anyone).
    if version.end_session_needs_login() && browser.is_none() {
        let mut next = req.path.clone();
        if let Some(q) = req.raw_query.as_deref().filter(|q| !q.is_empty()) {
            next.push('?');
            next.push_str(q);
        }
        return Reply::redirect(&format!("{LOGIN_FLOW_PATH}?next={}", py_quote(&next)));
    }
    // 2026.5 also logs the app out of the browser's Authentik session (back-channel POSTs on the
    // fake's runtime; front-channel iframes on the page).
    let iframes = match browser {
        Some(b) if version.end_session_notifies() => logout::end_session_endpoint(inner, b),
        _ => Vec::new(),
    };
    let param = |name: &str| req.f(name).or_else(|| req.q(name));
    let mut next = None;
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
            next = Some(location);
        }
    }
    match next {
        Some(location) if iframes.is_empty() => Reply::redirect(&location),
        next => logged_out_page(inner, &iframes, next.as_deref()),
    }
}

/// The logged-out page; with front-channel logout it first loads each URL in a hidden iframe
/// (Authentik's iframe logout stage), then, when a post-logout redirect is due, goes there once
/// every iframe has loaded.
fn logged_out_page(inner: &Inner, iframes: &[String], next: Option<&str>) -> Reply {
    let mut html = format!("<p>You've logged out of {}.</p>", escape(&inner.cfg.slug));
    for url in iframes {
        html.push_str(&format!(
            "\n<iframe class=\"frontchannel-logout\" hidden src=\"{}\"></iframe>",
            escape(url)
        ));
    }
    if let Some(next) = next {
        let target = serde_json::to_string(next).unwrap_or_else(|_| "\"/\"".into());
        html.push_str(&format!(
            "\n<p><a id=\"continue\" href=\"{}\">Continue</a></p>\n<script>\
             (function(){{var f=document.querySelectorAll('iframe.frontchannel-logout'),n=f.length;\
             function done(){{if(--n<=0)location.replace({});}}\
             f.forEach(function(i){{i.addEventListener('load',done);}});if(!n)done();}})();</script>",
            escape(next),
            target.replace("</", "<\\/")
        ));
    }
    Reply::html(200, "You've logged out", &html)
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
