//! The schema's additions, key by key: the examples, and the patterns of values the parser
//! checks itself (templates, ids, algorithms).

use serde_json::{Value, json};

use super::merge;

/// A template: literal text and `{name}` placeholders (`a-z`, `0-9`, `_`), every brace paired,
/// two placeholders never adjacent (see [`crate::config::Template`]).
const TEMPLATE: &str = r"^[^{}]*(?:\{[a-z0-9_]+\}[^{}]+)*(?:\{[a-z0-9_]+\})?$";

/// A provider id (see [`crate::config::is_valid_provider_id`]).
const PROVIDER_ID: &str = r"^[a-z0-9][a-z0-9_-]{0,63}$";

/// Per definition and key: the examples, and the checks the parser makes beyond the types.
pub(super) fn extras() -> Vec<(&'static str, &'static str, Value)> {
    let template = |examples: Value| json!({"examples": examples, "pattern": TEMPLATE});
    let scopes = json!({"items": {"pattern": "^[^ ]+$"}});
    vec![
        (
            "",
            "providers",
            json!({"propertyNames": {"pattern": PROVIDER_ID},
            "examples": [{"corp": {"name": "Corp SSO", "issuer": "https://sso.corp.example"}}]}),
        ),
        (
            "",
            "settings",
            json!({"propertyNames": {"pattern": PROVIDER_ID},
            "examples": [{"authentik": {"enabled": true, "url": "https://auth.example.com",
                "client_id": "palmr", "client_secret": "${AUTHENTIK_CLIENT_SECRET}"}}]}),
        ),
        (
            "Provider",
            "name",
            json!({"examples": ["Corp SSO"], "minLength": 1, "pattern": r"\S"}),
        ),
        (
            "Provider",
            "protocol",
            json!({"examples": ["oidc", "oauth2"]}),
        ),
        ("Provider", "icon", json!({"examples": ["FaBuilding"]})),
        ("Provider", "sort_order", json!({"examples": [1, 100]})),
        (
            "Provider",
            "scopes",
            merge(
                json!({"examples": [["openid", "profile", "email"]]}),
                &scopes,
            ),
        ),
        (
            "Provider",
            "refresh_scope",
            json!({"examples": ["offline_access"], "pattern": r"^\S+$"}),
        ),
        (
            "Provider",
            "token_auth",
            json!({"examples": ["client_secret_post"]}),
        ),
        ("Provider", "pkce", json!({"examples": ["S256"]})),
        ("Provider", "response_mode", json!({"examples": ["query"]})),
        ("Provider", "par", json!({"examples": [true]})),
        ("Provider", "assertion_aud", json!({"examples": ["issuer"]})),
        (
            "Provider",
            "url",
            json!({"examples": ["https://accounts.google.com"], "pattern": "^https?://"}),
        ),
        (
            "Provider",
            "issuer",
            template(json!([
                "{url}/realms/{realm}",
                "{url}/application/o/{slug}/"
            ])),
        ),
        (
            "Provider",
            "discovery",
            template(json!(["{url}/oauth/.well-known/openid-configuration"])),
        ),
        (
            "Provider",
            "authorization_endpoint",
            template(json!(["{url}/oauth/authorize"])),
        ),
        (
            "Provider",
            "token_endpoint",
            template(json!(["{url}/oauth/token"])),
        ),
        (
            "Provider",
            "userinfo_endpoint",
            template(json!(["{api}/user"])),
        ),
        (
            "Provider",
            "jwks_uri",
            template(json!(["{url}/application/o/{slug}/jwks/"])),
        ),
        (
            "Provider",
            "end_session_endpoint",
            template(json!(["{url}/application/o/{slug}/end-session/"])),
        ),
        (
            "Provider",
            "revocation_endpoint",
            template(json!(["{url}/application/o/revoke/"])),
        ),
        (
            "Provider",
            "introspection_endpoint",
            template(json!(["{url}/application/o/introspect/"])),
        ),
        (
            "Provider",
            "bearer",
            json!({"examples": [{"audiences": ["orders-api"], "typ": "at+jwt"}]}),
        ),
        (
            "Bearer",
            "audiences",
            json!({"examples": [["orders-api"]], "items": {"minLength": 1}}),
        ),
        (
            "Bearer",
            "typ",
            json!({"examples": ["at+jwt"], "pattern": "^[A-Za-z0-9+./-]+$"}),
        ),
        ("Bearer", "introspection", json!({"examples": [true]})),
        (
            "Provider",
            "signing_algs",
            json!({"examples": [["RS256"]], "minItems": 1,
            "items": {"enum": crate::config::validate::KNOWN_ALGS}}),
        ),
        (
            "Provider",
            "email_trust",
            json!({"examples": ["verified_claim"]}),
        ),
        (
            "Provider",
            "claims",
            json!({"examples": [{"username": ["preferred_username", "email"]}]}),
        ),
        (
            "Provider",
            "params",
            json!({"examples": [{"api": "https://api.github.com"}],
            "propertyNames": {"not": {"enum": ["url", "slug", "issuer"]}}}),
        ),
        (
            "Provider",
            "fetch",
            json!({"examples": [{"emails": {"url": "{api}/user/emails"}}],
            "propertyNames": {"pattern": "^[A-Za-z0-9_]+$"}}),
        ),
        ("Fetch", "url", template(json!(["{api}/user/emails"]))),
        ("Claims", "subject", json!({"examples": ["id"]})),
        (
            "Claims",
            "email",
            json!({"examples": [["emails[primary=true,verified=true].email", "emails[verified=true].email"]]}),
        ),
        (
            "Claims",
            "email_verified",
            json!({"examples": ["verified", "xms_edov"]}),
        ),
        (
            "Claims",
            "name",
            json!({"examples": [["name", "{given_name} {family_name}"]]}),
        ),
        (
            "Claims",
            "given_name",
            json!({"examples": ["given_name", []]}),
        ),
        (
            "Claims",
            "family_name",
            json!({"examples": ["family_name"]}),
        ),
        (
            "Claims",
            "picture",
            json!({"examples": ["https://cdn.example.com/avatars/{id}.png"]}),
        ),
        (
            "Claims",
            "username",
            json!({"examples": [["preferred_username", "nickname"]]}),
        ),
        (
            "Claims",
            "groups",
            json!({"examples": ["realm_access.roles", []]}),
        ),
        (
            "Claims",
            "extra",
            json!({"examples": [{"tenant": ["tenant_id", "tid"]}], "maxProperties": crate::config::validate::MAX_EXTRA_CLAIMS,
            "propertyNames": {"pattern": "^[A-Za-z0-9_]{1,64}$"}}),
        ),
        ("Settings", "enabled", json!({"examples": [true]})),
        (
            "Settings",
            "url",
            json!({"examples": ["https://auth.example.com", "https://auth.example.com/application/o/palmr/"]}),
        ),
        (
            "Settings",
            "internal_url",
            json!({"examples": ["http://authentik-server:9000"]}),
        ),
        (
            "Settings",
            "client_id",
            json!({"examples": ["palmr", "${AUTHENTIK_CLIENT_ID}"], "minLength": 1}),
        ),
        (
            "Settings",
            "client_secret",
            json!({"examples": ["${AUTHENTIK_CLIENT_SECRET}"], "minLength": 1}),
        ),
        (
            "Settings",
            "scopes",
            merge(
                json!({"examples": [["openid", "profile", "email", "groups"]]}),
                &scopes,
            ),
        ),
        ("Settings", "auto_register", json!({"examples": [false]})),
        ("Settings", "refresh_tokens", json!({"examples": [true]})),
        (
            "Settings",
            "sort_order",
            json!({"examples": [1],
            "minimum": crate::config::MIN_SORT_ORDER, "maximum": crate::config::MAX_SORT_ORDER}),
        ),
        ("Settings", "icon", json!({"examples": ["FaShieldAlt"]})),
        ("Settings", "email_trust", json!({"examples": ["never"]})),
        ("Settings", "par", json!({"examples": [true]})),
        ("Settings", "slug", json!({"examples": ["palmr"]})),
        (
            "Settings",
            "params",
            json!({"examples": [{"tenant": "contoso.onmicrosoft.com"}],
            "propertyNames": {"not": {"enum": ["url", "slug", "issuer"]}}}),
        ),
        (
            "Settings",
            "admin",
            json!({"examples": [{"groups": ["authentik Admins"]}]}),
        ),
        (
            "AdminRules",
            "groups",
            json!({"examples": [["authentik Admins"]]}),
        ),
        (
            "AdminRules",
            "email_domains",
            json!({"examples": [["example.com"]]}),
        ),
    ]
}
