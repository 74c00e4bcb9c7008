//! `/application/o/token/`: client authentication, the code and refresh grants, token minting.

use std::time::Instant;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{Reply, Req};
use crate::testing::jwt::{self, Attacker};
use crate::testing::state::{
    AccessGrant, Inner, RefreshGrant, Session, hex, random_alnum, scope_claims,
};

/// `TokenError.errors` descriptions.
fn description(error: &str) -> &'static str {
    match error {
        "invalid_client" => {
            "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)"
        }
        "invalid_grant" => {
            "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client"
        }
        "unsupported_grant_type" => {
            "The authorization grant type is not supported by the authorization server"
        }
        "invalid_scope" => {
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner"
        }
        "unauthorized_client" => {
            "The authenticated client is not authorized to use this authorization grant type"
        }
        _ => "The request is otherwise malformed",
    }
}

/// 400 JSON error with `request_id` and the matching `X-authentik-id` header.
pub(super) fn token_error(error: &str) -> Reply {
    let request_id = hex(&crate::util::random_bytes::<16>());
    let body = json!({
        "error": error,
        "error_description": description(error),
        "request_id": request_id,
    });
    Reply::json(400, &body, false).header("x-authentik-id", request_id)
}

/// Percent-decoding without `+` → space (RFC 3986), as used for Basic credentials since 2026.5.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hexpair = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hexpair.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `extract_client_auth`: `Basic` header (case-sensitive, then form ignored) or the form.
///
/// Authentik before 2026.5 uses the Basic user and password as sent (`partition(":")`); from
/// 2026.5 it percent-decodes them as RFC 6749 §2.3.1 says.
pub(super) fn client_auth(req: &Req, decode_basic: bool) -> (String, String) {
    if let Some(encoded) = req
        .header("authorization")
        .and_then(|h| scheme_value(h, &["Basic"]))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        return match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((id, secret)) if decode_basic => (percent_decode(id), percent_decode(secret)),
            Some((id, secret)) => (id.to_owned(), secret.to_owned()),
            None => (String::new(), String::new()),
        };
    }
    (
        req.f("client_id").unwrap_or("").to_owned(),
        req.f("client_secret").unwrap_or("").to_owned(),
    )
}

/// Whether the request authenticates this fake's client, as Authentik's introspection,
/// revocation (and a PAR endpoint) check it for every request: a strictly checked
/// `private_key_jwt` assertion, or the client id with its secret (Basic or form; a public client
/// sends no secret).
pub(super) fn client_authenticated(inner: &Inner, req: &Req) -> bool {
    let cfg = &inner.cfg;
    if super::assertion::present(req) {
        return super::assertion::check(inner, req).is_ok_and(|id| id == cfg.client_id);
    }
    let (id, secret) = client_auth(req, cfg.version.decodes_basic_credentials());
    id == cfg.client_id
        && (cfg.public_client
            || bool::from(subtle::ConstantTimeEq::ct_eq(
                cfg.client_secret.as_bytes(),
                secret.as_bytes(),
            )))
}

/// `401 invalid_client`: how revocation and PAR answer a client that fails authentication
/// (unlike the token endpoint's 400).
pub(super) fn client_refused() -> Reply {
    let mut r = token_error("invalid_client");
    r.status = 401;
    r
}

/// For an `Authorization` header matching `^(scheme)\s.+$` (one of `schemes`, case-sensitive),
/// the second whitespace-separated word, as Authentik's `auth_header.split()[1]` takes it.
pub(super) fn scheme_value<'a>(header: &'a str, schemes: &[&str]) -> Option<&'a str> {
    let rest = schemes.iter().find_map(|s| header.strip_prefix(s))?;
    let mut chars = rest.chars();
    let sep = chars.next()?;
    if !sep.is_whitespace() || chars.as_str().is_empty() {
        return None;
    }
    header.split_whitespace().nth(1)
}

pub(super) fn handle(inner: &Inner, req: &Req) -> Reply {
    if let Some(refused) = Reply::refuse_method(req, &["POST"]) {
        return refused;
    }
    let cfg = &inner.cfg;
    let asserted = super::assertion::present(req);
    let (client_id, client_secret) = if asserted {
        // `private_key_jwt`: the assertion authenticates the client, strictly checked.
        match super::assertion::check(inner, req) {
            Ok(id) if req.f("client_id").is_none_or(|c| c == id) => (id, String::new()),
            _ => return token_error("invalid_client"),
        }
    } else {
        client_auth(req, cfg.version.decodes_basic_credentials())
    };
    if client_id != cfg.client_id {
        return token_error("invalid_client");
    }
    let grant_type = req.f("grant_type").unwrap_or("");
    let checks_secret = matches!(grant_type, "authorization_code" | "refresh_token");
    if checks_secret && !cfg.public_client && !asserted {
        let ok: bool =
            subtle::ConstantTimeEq::ct_eq(cfg.client_secret.as_bytes(), client_secret.as_bytes())
                .into();
        if !ok {
            return token_error("invalid_client");
        }
    }
    match grant_type {
        "authorization_code" => code_grant(inner, req),
        "refresh_token" => refresh_grant(inner, req),
        _ => token_error("unsupported_grant_type"),
    }
}

fn code_grant(inner: &Inner, req: &Req) -> Reply {
    let Some(code) = req.f("code").filter(|c| !c.is_empty()) else {
        return token_error("invalid_grant");
    };
    let grant = {
        let mut st = inner.lock();
        let redirect_ok = req
            .f("redirect_uri")
            .is_some_and(|r| inner.cfg.redirect_uri_registered(r));
        if !redirect_ok {
            return token_error("invalid_client");
        }
        let Some(grant) = st.codes.get(code) else {
            return token_error("invalid_grant");
        };
        if grant.issued.elapsed() > inner.cfg.code_validity {
            st.codes.remove(code);
            return token_error("invalid_grant");
        }
        let verifier = req.f("code_verifier").filter(|v| !v.is_empty());
        match (&grant.pkce, verifier) {
            (None, None) => {}
            // Downgrade guard: a verifier for a code that had no challenge.
            (None, Some(_)) | (Some(_), None) => return token_error("invalid_grant"),
            (Some((challenge, method)), Some(verifier)) => {
                let computed = if method == "S256" {
                    crate::util::b64(
                        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
                    )
                } else {
                    verifier.to_owned()
                };
                if &computed != challenge {
                    return token_error("invalid_grant");
                }
            }
        }
        // Single use: deleted once exchanged.
        match st.codes.remove(code) {
            Some(g) => g,
            None => return token_error("invalid_grant"),
        }
    };
    match grant.signed {
        Some(reply) => reply,
        None => mint(
            inner,
            grant.user_pk,
            grant.scopes,
            grant.nonce,
            grant.session,
        ),
    }
}

fn refresh_grant(inner: &Inner, req: &Req) -> Reply {
    let Some(raw) = req.f("refresh_token").filter(|t| !t.is_empty()) else {
        return token_error("invalid_grant");
    };
    let (user_pk, scopes, session) = {
        let mut st = inner.lock();
        let Some(rt) = st.refresh.get_mut(raw) else {
            return token_error("invalid_grant");
        };
        if rt.revoked || Instant::now() > rt.expires {
            return token_error("invalid_grant");
        }
        if !rt.scopes.iter().any(|s| s == "offline_access") {
            return token_error("invalid_scope");
        }
        let requested: Vec<String> = req
            .f("scope")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !requested.iter().all(|s| rt.scopes.contains(s)) {
            return token_error("invalid_scope");
        }
        let scopes = if requested.is_empty() {
            rt.scopes.clone()
        } else {
            rt.scopes
                .iter()
                .filter(|s| requested.contains(s))
                .cloned()
                .collect()
        };
        // refresh_token_threshold = 0 (model default): always rotate, revoke the old one.
        rt.revoked = true;
        (rt.user_pk, scopes, rt.session.clone())
    };
    mint(inner, user_pk, scopes, None, session)
}

/// Signs an access token and an ID token and stores the grants; the token endpoint's success
/// response.
pub(super) fn mint(
    inner: &Inner,
    user_pk: u64,
    scopes: Vec<String>,
    nonce: Option<String>,
    session: Session,
) -> Reply {
    let cfg = &inner.cfg;
    let (user, key_index, sw) = {
        let st = inner.lock();
        let Some(user) = st.user(user_pk).cloned() else {
            return token_error("invalid_grant");
        };
        (user, st.key_index, st.switches.clone())
    };
    let offset = sw.clock_offset;
    let now = crate::util::unix_now() as i64 + offset;
    let validity = cfg.token_validity.as_secs() as i64;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(inner.issuer()));
    claims.insert("sub".into(), json!(inner.sub(&user)));
    claims.insert("aud".into(), json!(cfg.client_id));
    claims.insert("exp".into(), json!(now + validity));
    claims.insert("iat".into(), json!(now));
    claims.insert("auth_time".into(), json!(session.auth_time + offset));
    claims.insert(
        "acr".into(),
        json!("goauthentik.io/providers/oauth2/default"),
    );
    if !user.amr.is_empty() {
        claims.insert("amr".into(), json!(user.amr));
    }
    if let Some(n) = &nonce {
        claims.insert("nonce".into(), json!(n));
    }
    claims.insert("sid".into(), json!(session.sid));
    claims.insert("jti".into(), json!(random_alnum(40)));
    for (k, v) in scope_claims(&user, &scopes) {
        claims.insert(k, v);
    }
    let scope = scopes.join(" ");
    let mut at_claims = claims.clone();
    at_claims.insert("azp".into(), json!(cfg.client_id));
    at_claims.insert("uid".into(), json!(random_alnum(40)));
    at_claims.insert("scope".into(), json!(scope));
    if let Some(hook) = &sw.id_token_claims {
        hook(&mut claims);
    }
    let signer = inner.signer(key_index);
    let attacker = Attacker {
        key: &inner.keys.attacker,
        jku: format!("{}/attacker/jwks/", inner.base),
    };
    let access_token = match jwt::encode(signer, &at_claims, None, &attacker) {
        Ok(t) => t,
        Err(e) => return Reply::server_error(&e),
    };
    let id_token = match jwt::encode(signer, &claims, sw.tamper.as_ref(), &attacker) {
        Ok(t) => t,
        Err(e) => return Reply::server_error(&e),
    };
    let refresh_token = scopes
        .iter()
        .any(|s| s == "offline_access")
        .then(|| random_alnum(128));
    {
        let mut st = inner.lock();
        let serial = st.serial();
        st.access.insert(
            access_token.clone(),
            AccessGrant {
                user_pk,
                scopes: scopes.clone(),
                nonce: nonce.clone(),
                expires: Instant::now() + cfg.token_validity,
                sid: session.sid.clone(),
                serial,
            },
        );
        if let Some(rt) = &refresh_token {
            st.refresh.insert(
                rt.clone(),
                RefreshGrant {
                    user_pk,
                    scopes: scopes.clone(),
                    session: session.clone(),
                    expires: Instant::now() + cfg.refresh_validity,
                    revoked: false,
                },
            );
        }
    }
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("scope".into(), json!(scope));
    body.insert("expires_in".into(), json!(validity));
    body.insert("id_token".into(), json!(id_token));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), json!(rt));
    }
    if let Some(hook) = &sw.token_response {
        hook(&mut body);
    }
    Reply::json(200, &Value::Object(body), false)
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
        .header("x-authentik-id", hex(&crate::util::random_bytes::<16>()))
}
