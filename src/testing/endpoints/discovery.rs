//! Discovery document, provider root redirect and JWKS.

use serde_json::{Map, Value, json};

use super::{Reply, Req};
use crate::testing::Endpoint;
use crate::testing::state::{Inner, scope_claim_names};

/// Per-app discovery, `indent=2`, keys in Authentik's order.
pub(super) fn discovery(inner: &Inner, req: &Req) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::method_not_allowed();
    }
    let (hook, advertised_origins) = {
        let g = inner.lock();
        (
            g.switches.discovery.clone(),
            g.switches.advertised_origins.clone(),
        )
    };
    let base = &inner.base;
    let slug = &inner.cfg.slug;
    let o = format!("{base}/application/o");
    let mut scopes = inner.cfg.scopes.clone();
    if !scopes.iter().any(|s| s == "openid") {
        scopes.push("openid".into());
    }
    let mut claims: Vec<&str> = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "acr",
        "amr",
        "nonce",
    ];
    let mut by_name: Vec<&String> = inner.cfg.scopes.iter().collect();
    by_name.sort();
    for s in by_name {
        claims.extend_from_slice(scope_claim_names(s));
    }
    let mut doc = Map::new();
    let mut put = |k: &str, v: Value| {
        doc.insert(k.to_owned(), v);
    };
    put("issuer", json!(inner.issuer()));
    put("authorization_endpoint", json!(format!("{o}/authorize/")));
    put("token_endpoint", json!(format!("{o}/token/")));
    put("userinfo_endpoint", json!(format!("{o}/userinfo/")));
    put(
        "end_session_endpoint",
        json!(format!("{o}/{slug}/end-session/")),
    );
    put("introspection_endpoint", json!(format!("{o}/introspect/")));
    put("revocation_endpoint", json!(format!("{o}/revoke/")));
    put(
        "device_authorization_endpoint",
        json!(format!("{o}/device/")),
    );
    put("backchannel_logout_supported", json!(true));
    put("backchannel_logout_session_supported", json!(true));
    if inner.cfg.version.advertises_frontchannel_logout() {
        put("frontchannel_logout_supported", json!(true));
        put("frontchannel_logout_session_supported", json!(true));
    }
    put(
        "response_types_supported",
        json!([
            "code",
            "id_token",
            "id_token token",
            "code token",
            "code id_token",
            "code id_token token"
        ]),
    );
    put(
        "response_modes_supported",
        json!(["query", "fragment", "form_post"]),
    );
    put("jwks_uri", json!(format!("{o}/{slug}/jwks/")));
    put(
        "grant_types_supported",
        json!([
            "authorization_code",
            "refresh_token",
            "implicit",
            "client_credentials",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code"
        ]),
    );
    put(
        "id_token_signing_alg_values_supported",
        json!([inner.cfg.mode.alg()]),
    );
    put("subject_types_supported", json!(["public"]));
    put(
        "token_endpoint_auth_methods_supported",
        json!(["client_secret_post", "client_secret_basic"]),
    );
    put(
        "acr_values_supported",
        json!(["goauthentik.io/providers/oauth2/default"]),
    );
    put("scopes_supported", json!(scopes));
    put("request_parameter_supported", json!(false));
    put("claims_supported", json!(claims));
    put("claims_parameter_supported", json!(false));
    put("code_challenge_methods_supported", json!(["plain", "S256"]));
    for (endpoint, origin) in &advertised_origins {
        if let Some(member) = discovery_member(*endpoint)
            && let Some(Value::String(u)) = doc.get_mut(member)
            && let Ok(parsed) = url::Url::parse(u)
            && let Ok(mut moved) = url::Url::parse(origin)
        {
            moved.set_path(parsed.path());
            moved.set_query(parsed.query());
            *u = moved.to_string();
        }
    }
    if let Some(hook) = hook {
        hook(&mut doc);
    }
    Reply::json(200, &Value::Object(doc), true)
}

/// The discovery member that advertises `endpoint`, if any.
fn discovery_member(endpoint: Endpoint) -> Option<&'static str> {
    Some(match endpoint {
        Endpoint::Authorize => "authorization_endpoint",
        Endpoint::Token => "token_endpoint",
        Endpoint::Userinfo => "userinfo_endpoint",
        Endpoint::Jwks => "jwks_uri",
        Endpoint::EndSession => "end_session_endpoint",
        Endpoint::Revoke => "revocation_endpoint",
        Endpoint::Introspect => "introspection_endpoint",
        Endpoint::Par => "pushed_authorization_request_endpoint",
        Endpoint::Discovery
        | Endpoint::ProviderRoot
        | Endpoint::AttackerJwks
        | Endpoint::LoginFlow
        | Endpoint::UserApi => return None,
    })
}

/// `/application/o/<slug>/` redirects to the discovery document.
pub(super) fn provider_root(inner: &Inner) -> Reply {
    Reply::redirect(&format!(
        "/application/o/{}/.well-known/openid-configuration",
        inner.cfg.slug
    ))
}

/// The JWKS: the current key (plus junk or kid-less keys when switched on); `{}` in HS256 mode.
pub(super) fn jwks(inner: &Inner, req: &Req) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::method_not_allowed();
    }
    let (index, sw) = {
        let st = inner.lock();
        (st.key_index, st.switches.clone())
    };
    let mut doc = Map::new();
    if let Some(key) = inner.key(index) {
        // Junk first: a relying party must skip what it cannot use, not just take keys[0].
        let mut keys = Vec::new();
        if sw.jwks_junk_keys {
            keys.push(json!({
                "kty": "AKP", "alg": "ML-DSA-44", "kid": "junk-akp-ml-dsa-44", "use": "sig",
                "pub": crate::util::b64(&[7u8; 64])
            }));
            keys.push(json!({
                "kty": "made-up", "kid": "junk-made-up-kty", "use": "sig", "k": "AAAA"
            }));
            keys.push(json!({
                "kty": "OKP", "crv": "Ed448", "alg": "EdDSA", "kid": "junk-okp-ed448", "use": "sig",
                "x": crate::util::b64(&[9u8; 57])
            }));
        }
        keys.push(Value::Object(key.jwk(true)));
        for i in 1..=sw.extra_kidless_keys {
            // Other keys of the same type, without `kid`, cycling through the unused ones.
            if let Some(other) = inner.key(index + i) {
                if inner.keys.ring.len() > 1 && other.kid() == key.kid() {
                    continue;
                }
                keys.push(Value::Object(other.jwk(false)));
            }
        }
        doc.insert("keys".into(), Value::Array(keys));
    }
    if let Some(hook) = sw.jwks {
        hook(&mut doc);
    }
    Reply::json(200, &Value::Object(doc), false).header("access-control-allow-origin", "*")
}

/// The attacker's key set that `Tamper::Jku` points to.
pub(super) fn attacker_jwks(inner: &Inner) -> Reply {
    let doc = json!({ "keys": [Value::Object(inner.keys.attacker.jwk(true))] });
    Reply::json(200, &doc, false)
}
