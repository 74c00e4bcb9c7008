//! `/application/o/par/`: pushed authorization requests (RFC 9126), for providers that have
//! them (Authentik does not; the fake serves the endpoint, and a test advertises it with
//! `set_discovery`). The client authenticates as at the token endpoint (secret or
//! `private_key_jwt`); the parameters are kept under a fresh `request_uri` for 60 s, and the
//! authorization endpoint takes them from there **once**: a `request_uri` used again, expired
//! or unknown is refused.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Reply, Req};
use crate::testing::state::{Inner, random_alnum};

const LIFETIME: Duration = Duration::from_secs(60);

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["POST"]) {
        return refused;
    }
    if !super::token::client_authenticated(inner, req) {
        return super::token::client_refused();
    }
    // RFC 9126 §2.1: no `request_uri` inside a pushed request.
    if req.f("request_uri").is_some() || req.f("response_type").is_none() {
        return super::token::token_error("invalid_request");
    }
    let params: Vec<(String, String)> = req
        .form
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "client_secret" | "client_assertion" | "client_assertion_type"
            )
        })
        .cloned()
        .collect();
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_alnum(32));
    inner
        .lock()
        .pushed
        .insert(request_uri.clone(), (params, Instant::now() + LIFETIME));
    Reply::json(
        201,
        &json!({"request_uri": request_uri, "expires_in": LIFETIME.as_secs()}),
        false,
    )
}

/// The authorization request a `request_uri` stands for, taken out (single use); or the error
/// page for one unknown, used, expired, or pushed by another client.
pub(super) fn take(inner: &Inner, req: &Req) -> Result<Req, Reply> {
    let refused = || {
        Reply::html(
            400,
            "Request URI Error",
            "<p>The request_uri is invalid, expired or already used.</p>",
        )
    };
    let uri = req.q("request_uri").unwrap_or("");
    let Some((params, expires)) = inner.lock().pushed.remove(uri) else {
        return Err(refused());
    };
    let client = params
        .iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.as_str());
    if expires <= Instant::now() || req.q("client_id") != client {
        return Err(refused());
    }
    let raw = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    Ok(Req {
        method: req.method.clone(),
        path: req.path.clone(),
        raw_query: Some(raw),
        query: params,
        form: Vec::new(),
        headers: req.headers.clone(),
    })
}
