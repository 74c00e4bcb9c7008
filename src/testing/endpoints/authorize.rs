//! `/application/o/authorize/`: the code flow, with Authentik's validation order and error shapes.

use std::time::Instant;

use super::{Reply, Req, escape};
use crate::testing::state::{CodeGrant, Inner, LiveSession, Session, hex};

const FORBIDDEN_SCHEMES: [&str; 3] = ["javascript", "data", "vbscript"];

/// `AuthorizeError.errors` descriptions.
fn description(error: &str) -> &'static str {
    match error {
        "invalid_request" => "The request is otherwise malformed",
        "unsupported_response_type" => {
            "The authorization server does not support obtaining an authorization code using this method"
        }
        "invalid_scope" => "The requested scope is invalid, unknown, or malformed",
        "request_not_supported" => "The provider does not support use of the request parameter",
        // Sic: the missing space is in Authentik's `AuthorizeError.errors`.
        "consent_required" => "The Authorization Server requires End-Userconsent",
        _ => "The authorization server encountered an error",
    }
}

/// Python's `urllib.parse.quote` (safe = `/`).
pub(crate) fn py_quote(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `AuthorizeError.create_uri`: concatenated `?`, quoted description, raw state.
fn error_redirect(redirect_uri: &str, error: &str, state: Option<&str>) -> Reply {
    let mut uri = format!(
        "{redirect_uri}?error={error}&error_description={}",
        py_quote(description(error))
    );
    if let Some(state) = state.filter(|s| !s.is_empty()) {
        uri.push_str("&state=");
        uri.push_str(state);
    }
    Reply::redirect(&uri)
}

fn scheme(uri: &str) -> Option<String> {
    uri.split_once(':')
        .map(|(s, _)| s.trim().to_ascii_lowercase())
}

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::method_not_allowed();
    }
    if req.raw_query.as_deref().unwrap_or("").is_empty() {
        return Reply::not_found();
    }
    let cfg = &inner.cfg;
    // 1. client_id
    if req.q("client_id") != Some(cfg.client_id.as_str()) {
        return Reply::html(
            400,
            "Client ID Error",
            "<p>The client identifier (client_id) is missing or invalid.</p>",
        );
    }
    // 2. redirect_uri: matched against the admin's registrations, fixed at start. (Authentik saves
    //    the first redirect URI when an admin registered none; the fake never does, so a test
    //    app cannot hide a redirect URI other than the one its docs tell the admin to register.)
    let redirect_error = || {
        Reply::html(
            400,
            "Redirect URI Error",
            "<p>The request fails due to a missing, invalid, or mismatching redirection URI (redirect_uri).</p>",
        )
    };
    let Some(redirect_uri) = req.q("redirect_uri").filter(|u| !u.is_empty()) else {
        return redirect_error();
    };
    if scheme(redirect_uri).is_some_and(|s| FORBIDDEN_SCHEMES.contains(&s.as_str())) {
        return redirect_error();
    }
    if !cfg.redirect_uri_registered(redirect_uri) {
        return redirect_error();
    }
    let state = req.q("state");
    // 3. response_type: the fake implements the code flow only.
    if req.q("response_type") != Some("code") {
        return error_redirect(redirect_uri, "unsupported_response_type", state);
    }
    // 4. scope: intersection with the configured scopes; none requested = all configured.
    let requested: Vec<&str> = req.q("scope").unwrap_or("").split_whitespace().collect();
    let scopes: Vec<String> = if requested.is_empty() {
        cfg.scopes.clone()
    } else {
        cfg.scopes
            .iter()
            .filter(|s| requested.contains(&s.as_str()))
            .cloned()
            .collect()
    };
    // 5. request objects are not supported.
    if req.q("request").is_some() {
        return error_redirect(redirect_uri, "request_not_supported", state);
    }
    // 6./7. nonce (only required for id_token response types) and PKCE method.
    let nonce = req.q("nonce").filter(|n| !n.is_empty()).map(str::to_owned);
    let pkce = match req.q("code_challenge").filter(|c| !c.is_empty()) {
        None => None,
        Some(challenge) => {
            let method = req.q("code_challenge_method").unwrap_or("plain");
            if method != "plain" && method != "S256" {
                return error_redirect(redirect_uri, "invalid_request", state);
            }
            Some((challenge.to_owned(), method.to_owned()))
        }
    };
    // prompt: `none` together with `consent` is the only combination refused for a logged-in user.
    let prompt: Vec<&str> = req.q("prompt").unwrap_or("").split_whitespace().collect();
    if prompt.contains(&"none") && prompt.contains(&"consent") {
        return error_redirect(redirect_uri, "consent_required", state);
    }
    // The user: login_hint (username or email), else the login page or the first user.
    let user_pk = {
        let st = inner.lock();
        let hint = req.q("login_hint").filter(|h| !h.is_empty());
        let found = match hint {
            Some(h) => st
                .users
                .iter()
                .find(|u| u.username == h || (!u.email.is_empty() && u.email == h)),
            None if cfg.login_page => None,
            None => st.users.first(),
        };
        match found {
            Some(u) if u.denied => {
                return Reply::html(
                    200,
                    "Access denied",
                    "<p>You don't have access to this application.</p>",
                );
            }
            Some(u) => u.pk,
            None => return login_page(req, &st.users, hint),
        }
    };
    let code = hex(&crate::util::random_bytes::<16>());
    let sid = hex(&crate::util::random_bytes::<32>());
    let session = Session {
        auth_time: crate::util::unix_now() as i64,
        sid: sid.clone(),
    };
    let signed = inner.cfg.sign_at_authorize.then(|| {
        super::token::mint(
            inner,
            user_pk,
            scopes.clone(),
            nonce.clone(),
            session.clone(),
        )
    });
    let grant = CodeGrant {
        user_pk,
        scopes,
        nonce,
        pkce,
        issued: Instant::now(),
        session,
        signed,
    };
    // The browser now has an Authentik session: the same one it sent, or a new one.
    let browser = browser_session(req)
        .map(str::to_owned)
        .unwrap_or_else(|| hex(&crate::util::random_bytes::<16>()));
    let hook = {
        let mut st = inner.lock();
        st.codes.insert(code.clone(), grant);
        st.browser_sessions.insert(browser.clone());
        // Each login is a session of its own (sid per /authorize), remembered until it ends.
        st.sessions.push(LiveSession {
            sid,
            user_pk,
            browser: browser.clone(),
        });
        st.switches.callback_params.clone()
    };
    success_redirect(redirect_uri, &code, state.unwrap_or(""), hook).header(
        "set-cookie",
        format!("{SESSION_COOKIE}={browser}; HttpOnly; Path=/; SameSite=Lax"),
    )
}

/// Authentik's session cookie.
pub(super) const SESSION_COOKIE: &str = "authentik_session";

/// The value of the `authentik_session` cookie the browser sent, if any.
pub(super) fn browser_session(req: &Req) -> Option<&str> {
    req.headers
        .iter()
        .filter(|(k, _)| k == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// `{redirect_uri}?{existing params}&code=…&state=…`, urlencoded, `state` always present.
fn success_redirect(
    redirect_uri: &str,
    code: &str,
    state: &str,
    hook: Option<crate::testing::switches::ParamsHook>,
) -> Reply {
    let (base, existing) = match redirect_uri.split_once('?') {
        Some((b, q)) => (b, q),
        None => (redirect_uri, ""),
    };
    let (base, fragment) = match base.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (base, None),
    };
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(existing.as_bytes())
        .into_owned()
        .collect();
    params.push(("code".into(), code.into()));
    params.push(("state".into(), state.into()));
    if let Some(hook) = hook {
        hook(&mut params);
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut location = format!("{base}?{query}");
    if let Some(f) = fragment {
        location.push('#');
        location.push_str(f);
    }
    Reply::redirect(&location)
}

/// The "pick a user" page: one link per user, the same authorize request plus `login_hint`.
fn login_page(req: &Req, users: &[crate::testing::FakeUser], hint: Option<&str>) -> Reply {
    let mut html = String::new();
    if let Some(h) = hint {
        html.push_str(&format!(
            "<p>No user matches login_hint <code>{}</code>.</p>\n",
            escape(h)
        ));
    }
    html.push_str("<p>Choose the user to log in as:</p>\n<ul>\n");
    for u in users {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(req.query.iter().filter(|(k, _)| k != "login_hint"))
            .append_pair("login_hint", &u.username)
            .finish();
        html.push_str(&format!(
            "<li><a href=\"/application/o/authorize/?{}\">{} ({})</a></li>\n",
            escape(&query),
            escape(&u.username),
            escape(&u.name)
        ));
    }
    html.push_str("</ul>");
    Reply::html(200, "Log in", &html)
}
