//! The wiremock responder of [`FakeIssuer`](super::FakeIssuer): discovery, JWKS, authorize,
//! token, userinfo and the preset's extra user-API endpoints.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::preset::apple;
use super::{Ctx, Grant, Inner, TokenStyle};
use crate::testing::endpoints::{Reply, Req};
use crate::testing::jwt::{Attacker, Signer, encode};
use crate::testing::record::{Endpoint, RecordedRequest};
use crate::testing::state::random_alnum;

pub(crate) struct Responder(pub(crate) Arc<Inner>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
    EndSession,
    Revoke,
    Extra(usize),
    NotFound,
}

impl Route {
    fn of(inner: &Inner, path: &str) -> Route {
        let p = &inner.preset;
        let discovery_path = inner
            .discovery_url()
            .and_then(|u| u.strip_prefix(&inner.base).map(str::to_owned));
        if discovery_path.as_deref() == Some(path) {
            return Route::Discovery;
        }
        if path == p.authorize {
            return Route::Authorize;
        }
        if path == p.token {
            return Route::Token;
        }
        if path == p.userinfo {
            return Route::Userinfo;
        }
        if p.is_oidc() && path == p.jwks {
            return Route::Jwks;
        }
        if p.end_session == Some(path) {
            return Route::EndSession;
        }
        if p.apple && path == apple::REVOKE {
            return Route::Revoke;
        }
        if let Some(i) = p.extra.iter().position(|(x, _)| *x == path) {
            return Route::Extra(i);
        }
        Route::NotFound
    }

    fn endpoint(self) -> Option<Endpoint> {
        Some(match self {
            Route::Discovery => Endpoint::Discovery,
            Route::Jwks => Endpoint::Jwks,
            Route::Authorize => Endpoint::Authorize,
            Route::Token => Endpoint::Token,
            Route::Userinfo => Endpoint::Userinfo,
            Route::EndSession => Endpoint::EndSession,
            Route::Revoke => Endpoint::Revoke,
            Route::Extra(_) => Endpoint::UserApi,
            Route::NotFound => return None,
        })
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let inner = &self.0;
        let req = Req::from_wiremock(request);
        let route = Route::of(inner, &req.path);
        inner
            .lock()
            .log
            .push(RecordedRequest::of(&req, &request.body, route.endpoint()));
        let reply = match route {
            Route::Discovery => discovery(inner),
            Route::Jwks => jwks(inner),
            Route::Authorize => authorize(inner, &req),
            Route::Token => token(inner, &req),
            Route::Userinfo => user_api(inner, &req, inner.preset.profile),
            Route::Extra(i) => match inner.preset.extra.get(i) {
                Some((_, build)) => user_api(inner, &req, *build),
                None => Reply::not_found(),
            },
            Route::EndSession => Reply::empty(204),
            Route::Revoke => apple::revoke(inner, &req),
            Route::NotFound => json_reply(404, &json!({"message": "Not Found"})),
        };
        reply.into_template(None)
    }
}

fn json_reply(status: u16, v: &Value) -> Reply {
    Reply::json(status, v, false)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn discovery(inner: &Inner) -> Reply {
    let Some(issuer) = inner.issuer() else {
        return Reply::not_found();
    };
    let b = &inner.base;
    let p = &inner.preset;
    let mut d = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{b}{}", p.authorize),
        "token_endpoint": format!("{b}{}", p.token),
        "userinfo_endpoint": format!("{b}{}", p.userinfo),
        "jwks_uri": format!("{b}{}", p.jwks),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [inner.keys.ring.first().map_or("RS256", |k| k.alg())],
        "token_endpoint_auth_methods_supported": p.auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "groups"],
        "grant_types_supported": if p.refresh.is_some() {
            json!(["authorization_code", "refresh_token"])
        } else {
            json!(["authorization_code"])
        },
    });
    if let (Some(e), Value::Object(m)) = (p.end_session, &mut d) {
        m.insert("end_session_endpoint".into(), json!(format!("{b}{e}")));
    }
    apple::discovery(inner, &mut d);
    json_reply(200, &d)
}

fn jwks(inner: &Inner) -> Reply {
    let keys: Vec<Value> = inner
        .keys
        .ring
        .iter()
        .take(1)
        .map(|k| Value::Object(k.jwk(true)))
        .collect();
    json_reply(200, &json!({ "keys": keys }))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    json_reply(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn authorize(inner: &Inner, req: &Req) -> Reply {
    if req.q("client_id") != Some(inner.client_id.as_str()) {
        return oauth_error(400, "invalid_client", "unknown client_id");
    }
    let Some(redirect_uri) = req.q("redirect_uri").filter(|r| r.starts_with("http")) else {
        return oauth_error(400, "invalid_request", "redirect_uri is required");
    };
    if req.q("response_type") != Some("code") {
        return oauth_error(400, "unsupported_response_type", "only code");
    }
    let challenge = match (req.q("code_challenge"), req.q("code_challenge_method")) {
        (Some(c), Some("S256")) => Some(c.to_owned()),
        (Some(_), _) => return oauth_error(400, "invalid_request", "only S256"),
        (None, _) => None,
    };
    let scopes: Vec<String> = req
        .q("scope")
        .unwrap_or("")
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if inner.preset.is_oidc() && !scopes.iter().any(|s| s == "openid") {
        return oauth_error(400, "invalid_scope", "openid is required");
    }
    if let Some(refused) = apple::refuse_authorize(inner, req) {
        return refused;
    }
    let code = random_alnum(32);
    let pk = {
        let mut st = inner.lock();
        let hint = req.q("login_hint");
        let user = hint
            .and_then(|h| {
                st.users
                    .iter()
                    .find(|u| u.username == h || (!u.email.is_empty() && u.email == h))
            })
            .or_else(|| st.users.first());
        let Some(pk) = user.map(|u| u.pk) else {
            return oauth_error(400, "access_denied", "no users");
        };
        st.codes.insert(
            code.clone(),
            Grant {
                user_pk: pk,
                redirect_uri: redirect_uri.to_owned(),
                scopes,
                nonce: req.q("nonce").map(str::to_owned),
                challenge,
            },
        );
        pk
    };
    if inner.preset.apple {
        return apple::form_post(inner, req, redirect_uri, &code, pk);
    }
    let mut loc = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return oauth_error(400, "invalid_request", "bad redirect_uri"),
    };
    {
        let mut q = loc.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(s) = req.q("state") {
            q.append_pair("state", s);
        }
    }
    Reply::empty(302).header("location", loc.to_string())
}

/// The client id and secret the request authenticates with, and the method used.
fn client_auth(req: &Req) -> Option<(String, String, &'static str)> {
    use base64::Engine as _;
    if let Some(h) = req.header("authorization")
        && let Some(b) = h.strip_prefix("Basic ")
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((dec(id)?, dec(secret)?, "client_secret_basic"));
    }
    match (req.f("client_id"), req.f("client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned(), "client_secret_post")),
        _ => None,
    }
}

fn token(inner: &Inner, req: &Req) -> Reply {
    let github = inner.preset.token_style == TokenStyle::GitHub;
    let wants_json = req
        .header("accept")
        .is_some_and(|a| a.contains("application/json"));
    let error = |status: u16, error: &str, description: &str| -> Reply {
        if github {
            // GitHub: HTTP 200 whatever went wrong.
            if wants_json {
                return oauth_error(200, error, description);
            }
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("error", error)
                .append_pair("error_description", description)
                .finish();
            return Reply::empty(200)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.into_bytes());
        }
        oauth_error(status, error, description)
    };
    if req.method != "POST" {
        return Reply::method_not_allowed();
    }
    let auth = client_auth(req);
    let Some((id, secret, method)) = auth else {
        return error(401, "invalid_client", "no client authentication");
    };
    let (c, s) = if github {
        (
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        )
    } else {
        ("invalid_client", "client authentication failed")
    };
    if !apple::client_ok(inner, &id, &secret) {
        return error(401, c, s);
    }
    if !inner.preset.auth_methods.contains(&method) {
        return error(
            401,
            "invalid_client",
            "client authentication method not allowed",
        );
    }
    let refreshing =
        !github && req.f("grant_type") == Some("refresh_token") && inner.preset.refresh.is_some();
    if !refreshing && req.f("grant_type") != Some("authorization_code") && !github {
        return error(400, "unsupported_grant_type", "only authorization_code");
    }
    let (grant, refresh_token) = if refreshing {
        match super::refresh::redeem(inner, req.f("refresh_token").unwrap_or("")) {
            Some(r) => r,
            None => {
                return error(
                    400,
                    "invalid_grant",
                    "The refresh token is invalid, expired or revoked.",
                );
            }
        }
    } else {
        let bad_code = if github {
            "bad_verification_code"
        } else {
            "invalid_grant"
        };
        let grant = {
            let mut st = inner.lock();
            req.f("code").and_then(|c| st.codes.remove(c))
        };
        let Some(grant) = grant else {
            return error(400, bad_code, "The code passed is incorrect or expired.");
        };
        if req.f("redirect_uri") != Some(grant.redirect_uri.as_str()) {
            return error(400, "invalid_grant", "redirect_uri mismatch");
        }
        match (&grant.challenge, req.f("code_verifier")) {
            (Some(ch), Some(v)) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
                if crate::util::b64(digest.as_ref()) != *ch {
                    return error(400, "invalid_grant", "PKCE verification failed");
                }
            }
            (Some(_), None) => return error(400, "invalid_grant", "code_verifier is required"),
            (None, Some(_)) => return error(400, "invalid_grant", "no code_challenge was sent"),
            (None, None) => {}
        }
        let refresh_token = super::refresh::issue_for_code(inner, &grant);
        (grant, refresh_token)
    };
    let user = {
        let st = inner.lock();
        st.users.iter().find(|u| u.pk == grant.user_pk).cloned()
    };
    let Some(user) = user else {
        return error(400, "invalid_grant", "user gone");
    };
    let access = random_alnum(40);
    inner
        .lock()
        .access
        .insert(access.clone(), (user.pk, grant.scopes.clone()));
    let scope = grant.scopes.join(if github { "," } else { " " });
    if github {
        if wants_json {
            return json_reply(
                200,
                &json!({"access_token": access, "token_type": "bearer", "scope": scope}),
            );
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", &access)
            .append_pair("scope", &scope)
            .append_pair("token_type", "bearer")
            .finish();
        return Reply::empty(200)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into_bytes());
    }
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(3600));
    body.insert("scope".into(), json!(scope));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), json!(rt));
    }
    if let Some(issuer) = inner.issuer() {
        let ctx = Ctx {
            base: &inner.base,
            scopes: &grant.scopes,
        };
        let mut claims = match (inner.preset.id_claims)(&user, &ctx) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let t = now();
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(inner.client_id));
        claims.insert("iat".into(), json!(t));
        claims.insert("exp".into(), json!(t + 3600));
        claims.insert("auth_time".into(), json!(t - 5));
        inner.stamp_tenant(&mut claims);
        if let Some(n) = &grant.nonce {
            claims.insert("nonce".into(), json!(n));
        }
        let Some(key) = inner.keys.ring.first() else {
            return Reply::server_error("no signing key");
        };
        let attacker = Attacker {
            key: &inner.keys.attacker,
            jku: String::new(),
        };
        match encode(Signer::Key(key), &claims, None, &attacker) {
            Ok(jwt) => {
                body.insert("id_token".into(), json!(jwt));
            }
            Err(e) => return Reply::server_error(&e),
        }
    }
    json_reply(200, &Value::Object(body))
}

fn user_api(inner: &Inner, req: &Req, build: super::preset::Build) -> Reply {
    let token = req.header("authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .or_else(|| h.strip_prefix("token "))
    });
    let found = token.and_then(|t| {
        let st = inner.lock();
        let (pk, scopes) = st.access.get(t.trim())?.clone();
        let user = st.users.iter().find(|u| u.pk == pk)?.clone();
        Some((user, scopes))
    });
    let Some((user, scopes)) = found else {
        return json_reply(401, &json!({"message": "Bad credentials"}))
            .header("www-authenticate", "Bearer error=\"invalid_token\"");
    };
    let ctx = Ctx {
        base: &inner.base,
        scopes: &scopes,
    };
    json_reply(200, &build(&user, &ctx))
}
