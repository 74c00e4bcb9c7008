//! Sign in with Apple (`token_auth = "apple_client_secret_jwt"`, `response_mode =
//! "form_post"` in `providers.toml`). Facts: developer.apple.com, "Sign in with Apple REST API",
//! "Generate and validate tokens", "Incorporating Sign in with Apple into other platforms".
//!
//! - **The client secret** is not a static string but an ES256 JWT the app signs: header `alg`
//!   `ES256` and `kid` the key id; claims `iss` the team id, `iat`, `exp` (Apple accepts at most
//!   [`MAX_CLIENT_SECRET_LIFETIME_SECS`] after `iat`), `aud` [`APPLE_AUDIENCE`], `sub` the
//!   client id (the Services ID). The admin enters the `.p8` key (PKCS#8 PEM, P-256) as the
//!   provider's client secret — so it is sealed at rest, write-only in the admin API and
//!   redacted everywhere like any client secret — and the team id and key id as the parameters
//!   `team_id` and `key_id`. A signed secret is valid [`CLIENT_SECRET_LIFETIME_SECS`] and kept
//!   in a small process-wide cache (keyed by a digest of the client id, team id, key id and
//!   key), re-signed once less than [`RESIGN_BEFORE_EXPIRY_SECS`] remains: one signature per
//!   hour per provider, not one per request, and a leaked token request is worth an hour.
//! - **The name** comes only in the first authorization's `user` form field, JSON
//!   `{"name":{"firstName":…,"lastName":…},"email":…}`, *unsigned*: it is read leniently
//!   (anything malformed is ignored, logged at debug), only once the ID token verified, and only
//!   for the display name — never the email or the identity, which come from the ID token.
//!   Later sign-ins bring no name, and keep the stored one (`identity::resolve_user`).
//! - **ID token booleans** (`email_verified`, `is_private_email`) may be the strings `"true"` and
//!   `"false"`: in Apple's *verified* ID token they are read as the booleans they stand for.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value, json};

use super::ClientKey;
use crate::config::{ProviderSpec, Secret, TokenAuth};
use crate::error::{Error, ErrorCode};
use crate::identity::Profile;
use crate::provider::ResolvedProvider;

/// The `aud` of every Sign in with Apple client secret.
pub const APPLE_AUDIENCE: &str = "https://appleid.apple.com";

/// How long a client secret the app signs is valid (one hour).
pub const CLIENT_SECRET_LIFETIME_SECS: u64 = 3600;

/// A cached client secret is signed anew once less than this remains of it.
pub const RESIGN_BEFORE_EXPIRY_SECS: u64 = 300;

/// The longest `exp - iat` Apple accepts in a client secret (six months).
pub const MAX_CLIENT_SECRET_LIFETIME_SECS: u64 = 15_777_000;

/// Longest `user` form field read, and longest name part kept (characters).
const MAX_USER_FIELD_BYTES: usize = 4096;
const MAX_NAME_CHARS: usize = 128;

/// Cached client secrets, by a digest of what they are signed from (bounded).
const MAX_CACHED: usize = 64;

struct Cached {
    jwt: String,
    exp: u64,
}

fn cache() -> &'static Mutex<HashMap<[u8; 32], Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether a provider spec is Sign in with Apple's kind (its client secret is an Apple JWT).
pub fn is_apple(spec: &ProviderSpec) -> bool {
    spec.token_auth == TokenAuth::AppleClientSecretJwt
}

/// A team id or key id: Apple's are ten upper-case letters and digits; 1 to 64 ASCII letters
/// and digits are accepted.
fn is_apple_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Signs a Sign in with Apple client secret with the `.p8` key `p8_pem`, issued at `now` (Unix
/// seconds) and valid `lifetime` seconds (at most [`MAX_CLIENT_SECRET_LIFETIME_SECS`]). The
/// error says what is wrong, never the key.
///
/// ```
/// let err = tower_oidc::flow::apple::sign_client_secret("x", "TEAM", "KEY", "id", 0, 60);
/// assert!(err.unwrap_err().contains("PEM"));
/// ```
pub fn sign_client_secret(
    p8_pem: &str,
    team_id: &str,
    key_id: &str,
    client_id: &str,
    now: u64,
    lifetime: u64,
) -> Result<String, String> {
    if !is_apple_id(team_id) || !is_apple_id(key_id) {
        return Err("the team id and key id are 1 to 64 ASCII letters and digits".into());
    }
    if lifetime == 0 || lifetime > MAX_CLIENT_SECRET_LIFETIME_SECS {
        return Err(format!(
            "a client secret is valid 1 to {MAX_CLIENT_SECRET_LIFETIME_SECS} s"
        ));
    }
    // The `.p8` file as it is, or its base64 body on one line (as an environment variable
    // holds it).
    // Whatever the reader says about a bad key stays out of the error, which is logged and
    // shown by the admin check: a fixed message, never a piece of the key.
    let unreadable = |_| String::from("the .p8 key is not a PKCS#8 P-256 private key in PEM");
    let key = if p8_pem.contains("-----BEGIN ") {
        ClientKey::from_pem(p8_pem).map_err(unreadable)?
    } else {
        let body = p8_pem.trim();
        ClientKey::from_pem(&format!(
            "-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"
        ))
        .map_err(unreadable)?
    };
    if key.alg() != "ES256" {
        return Err("the key is not an EC P-256 key (Apple's .p8)".into());
    }
    let header = json!({"alg": "ES256", "kid": key_id});
    let claims = json!({
        "iss": team_id,
        "iat": now,
        "exp": now + lifetime,
        "aud": APPLE_AUDIENCE,
        "sub": client_id,
    });
    key.sign_jwt(&header, &claims)
}

fn misconfigured(provider: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::ProviderMisconfigured,
        format!("provider `{provider}`: {detail}"),
    )
}

/// The client secret of an Apple provider at `now`: the cached one while more than
/// [`RESIGN_BEFORE_EXPIRY_SECS`] of it remain, else one signed now.
pub(crate) fn client_secret(
    provider: &str,
    resolved: &ResolvedProvider,
    now: u64,
) -> Result<Secret, Error> {
    let p8 = resolved.client_secret.as_ref().ok_or_else(|| {
        misconfigured(
            provider,
            "no .p8 key is set (Apple's key goes in the client secret)",
        )
    })?;
    let param = |name: &str| {
        resolved.param(name).ok_or_else(|| {
            misconfigured(
                provider,
                format!("parameter `{name}` is not set (Sign in with Apple's client secret is signed with it)"),
            )
        })
    };
    let (team_id, key_id) = (param("team_id")?, param("key_id")?);
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [resolved.client_id.as_str(), team_id, key_id, p8.expose()] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(ctx.finish().as_ref());
    let lock = || cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = lock().get(&id)
        && c.exp > now + RESIGN_BEFORE_EXPIRY_SECS
    {
        return Ok(Secret::new(c.jwt.clone()));
    }
    let jwt = sign_client_secret(
        p8.expose(),
        team_id,
        key_id,
        &resolved.client_id,
        now,
        CLIENT_SECRET_LIFETIME_SECS,
    )
    .map_err(|e| misconfigured(provider, format!("Sign in with Apple client secret: {e}")))?;
    tracing::debug!(provider, "signed a Sign in with Apple client secret");
    let mut cached = lock();
    if cached.len() >= MAX_CACHED {
        cached.clear();
    }
    cached.insert(
        id,
        Cached {
            jwt: jwt.clone(),
            exp: now + CLIENT_SECRET_LIFETIME_SECS,
        },
    );
    Ok(Secret::new(jwt))
}

/// The `user` member of a form_post body, if it holds exactly one that is not too long.
pub(crate) fn user_field(form: &str) -> Option<String> {
    let mut found = url::form_urlencoded::parse(form.as_bytes()).filter(|(k, _)| k == "user");
    let (_, v) = found.next()?;
    if found.next().is_some() || v.len() > MAX_USER_FIELD_BYTES {
        tracing::debug!("the callback's `user` field is repeated or too long: ignored");
        return None;
    }
    Some(v.into_owned())
}

/// The given and family name of a `user` form field (`{"name":{"firstName","lastName"}}`),
/// trimmed, without control characters, each at most 128 characters; `None` when it is not
/// such JSON or names nobody. Its `email` is never read.
///
/// ```
/// use tower_oidc::flow::apple::name_of_user_field;
/// let u = r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"x@example.com"}"#;
/// assert_eq!(name_of_user_field(u), Some((Some("Ada".into()), Some("Lovelace".into()))));
/// assert_eq!(name_of_user_field("{not json"), None);
/// ```
pub fn name_of_user_field(raw: &str) -> Option<(Option<String>, Option<String>)> {
    let v: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(_) => {
            tracing::debug!("the callback's `user` field is not JSON: ignored");
            return None;
        }
    };
    let part = |k: &str| {
        let s: String = v
            .get("name")?
            .get(k)?
            .as_str()?
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let (given, family) = (part("firstName"), part("lastName"));
    if given.is_none() && family.is_none() {
        tracing::debug!("the callback's `user` field names nobody: ignored");
        return None;
    }
    Some((given, family))
}

/// Fills the profile's empty name fields from a `user` form field (the ID token's own names,
/// if any, win). Call it only once the ID token verified.
pub(crate) fn apply_user_field(profile: &mut Profile, raw: &str) {
    let Some((given, family)) = name_of_user_field(raw) else {
        return;
    };
    if profile.name.is_none() {
        let full: Vec<&str> = [given.as_deref(), family.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        profile.name = Some(full.join(" "));
    }
    if profile.given_name.is_none() {
        profile.given_name = given;
    }
    if profile.family_name.is_none() {
        profile.family_name = family;
    }
}

/// Apple's string booleans in verified ID token claims, as booleans.
pub(crate) fn normalize_claims(claims: &mut Map<String, Value>) {
    for k in ["email_verified", "is_private_email"] {
        let b = match claims.get(k) {
            Some(Value::String(s)) if s == "true" => true,
            Some(Value::String(s)) if s == "false" => false,
            _ => continue,
        };
        claims.insert(k.to_owned(), Value::Bool(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P8: &str = include_str!("../testing/keys/ec256-1.key.pem");

    /// A `.p8` pasted with a cut-short BEGIN line: the error (logged, and shown by the admin
    /// check) says the key is unreadable without repeating any of it.
    #[test]
    fn apple_malformed_p8_error_never_repeats_the_key() {
        let body: String = P8.lines().filter(|l| !l.starts_with("-----")).collect();
        let cut = format!("-----BEGIN PRIVATE KEY----\n{body}\n-----END PRIVATE KEY-----\n");
        let no_end = format!("-----BEGIN PRIVATE KEY-----\n{body}\n");
        for bad in [cut, no_end, format!("{body}!!")] {
            let e = sign_client_secret(&bad, "TEAM123456", "KEY1234567", "com.example.web", 1, 60)
                .unwrap_err();
            assert!(!e.contains(&body[..16]), "the key is in the error: {e}");
            assert!(e.contains(".p8"), "{e}");
        }
        // The reader itself names a label only when it is one.
        let e = ClientKey::from_pem(&format!("-----BEGIN {body}-----")).unwrap_err();
        assert!(!e.contains(&body[..16]), "{e}");
    }

    #[test]
    fn client_secret_claims_and_bounds() {
        let jwt = sign_client_secret(P8, "TEAM123456", "KEY1234567", "com.example.web", 1000, 60)
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let dec = |s: &str| -> Value {
            use base64::Engine as _;
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap();
            serde_json::from_slice(&b).unwrap()
        };
        assert_eq!(dec(parts[0]), json!({"alg": "ES256", "kid": "KEY1234567"}));
        assert_eq!(
            dec(parts[1]),
            json!({"iss": "TEAM123456", "iat": 1000, "exp": 1060,
                   "aud": APPLE_AUDIENCE, "sub": "com.example.web"})
        );
        for (team, kid, life) in [
            ("", "K", 60),
            ("T", "K\"", 60),
            ("T", "K", MAX_CLIENT_SECRET_LIFETIME_SECS + 1),
        ] {
            assert!(sign_client_secret(P8, team, kid, "c", 0, life).is_err());
        }
        let rsa = include_str!("../testing/keys/rsa2048-1.key.pem");
        let e = sign_client_secret(rsa, "T", "K", "c", 0, 60).unwrap_err();
        assert!(e.contains("P-256"), "{e}");
    }

    #[test]
    fn user_field_gives_a_name_only() {
        assert_eq!(name_of_user_field(r#"{"email":"a@b.c"}"#), None);
        assert_eq!(name_of_user_field(r#"{"name":{"firstName":"  "}}"#), None);
        assert_eq!(
            name_of_user_field(r#"{"name":{"lastName":"Lovelace\u0000"}}"#),
            Some((None, Some("Lovelace".into())))
        );
        let mut p = Profile {
            given_name: Some("Signed".into()),
            ..Profile::default()
        };
        apply_user_field(
            &mut p,
            r#"{"name":{"firstName":"Ada","lastName":"L"},"email":"e@x"}"#,
        );
        assert_eq!(p.name.as_deref(), Some("Ada L"));
        assert_eq!(
            p.given_name.as_deref(),
            Some("Signed"),
            "the ID token's wins"
        );
        assert_eq!(p.family_name.as_deref(), Some("L"));
        assert_eq!(p.email, None, "never the email");
        assert_eq!(user_field("code=1&user=%7B%7D"), Some("{}".into()));
        assert_eq!(user_field("user=a&user=b"), None);
    }

    #[test]
    fn string_booleans() {
        let mut m = json!({"email_verified": "true", "is_private_email": "false", "x": "true"});
        let Value::Object(m) = &mut m else { panic!() };
        normalize_claims(m);
        assert_eq!(m["email_verified"], json!(true));
        assert_eq!(m["is_private_email"], json!(false));
        assert_eq!(m["x"], json!("true"));
    }
}
