//! Sign in with Apple in [`FakeIssuer`](crate::testing::FakeIssuer) ([`Preset::apple`]), as
//! developer.apple.com describes it: `/auth/authorize` answers the browser with a page that
//! POSTs the authorization response to the redirect URI (`response_mode=form_post`, which Apple
//! requires with the `name` or `email` scope), with the `user` field on a subject's first
//! authorization only; `/auth/token` takes `client_secret_post` whose secret is an ES256 JWT,
//! checked strictly against the fake's `.p8` key; `/auth/keys`, `/auth/revoke`; no userinfo.

use std::collections::HashSet;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use serde_json::{Map, Value, json};

use super::{Ctx, Preset};
use crate::testing::FakeUser;
use crate::testing::endpoints::{Reply, Req, escape};
use crate::testing::issuer::{FakeIssuer, Inner};
use crate::testing::state::random_alnum;

/// Apple's revocation endpoint.
pub(crate) const REVOKE: &str = "/auth/revoke";

/// The `aud` of a client secret.
const AUDIENCE: &str = "https://appleid.apple.com";

/// The longest `exp - iat` Apple accepts (six months).
const MAX_LIFETIME: i64 = 15_777_000;

/// The fake's `.p8` key: the embedded test key `ec256-1` (PKCS#8 PEM, P-256).
pub(crate) const P8: &str = include_str!("../../keys/ec256-1.key.pem");

/// The Apple side of a fake: the team id and key id of its `.p8` key, the key's public half,
/// and the subjects that authorized the app once (they get no `user` field again).
pub(crate) struct AppleClient {
    pub(crate) team_id: String,
    pub(crate) key_id: String,
    public_key: Vec<u8>,
    authorized: Mutex<HashSet<u64>>,
}

impl AppleClient {
    /// Fresh team and key ids (ten upper-case letters and digits, as Apple's are) for [`P8`].
    pub(crate) fn new() -> Result<AppleClient, String> {
        let der = pem_der(P8)?;
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &ring::rand::SystemRandom::new(),
        )
        .map_err(|_| "the test .p8 key is not a P-256 PKCS#8 key".to_owned())?;
        Ok(AppleClient {
            team_id: random_alnum(10).to_uppercase(),
            key_id: random_alnum(10).to_uppercase(),
            public_key: pair.public_key().as_ref().to_vec(),
            authorized: Mutex::new(HashSet::new()),
        })
    }

    /// Checks a client secret as Apple does: an ES256 JWS by this key (header `kid`), `iss`
    /// the team id, `sub` the client id, `aud` Apple, `exp` in the future and at most six
    /// months after `iat`.
    pub(crate) fn check(&self, jwt: &str, client_id: &str, now: i64) -> Result<(), String> {
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS".into());
        };
        let json = |p: &str| -> Result<Value, String> {
            let b = URL_SAFE_NO_PAD.decode(p).map_err(|_| "not base64url")?;
            serde_json::from_slice(&b).map_err(|_| "not JSON".to_owned())
        };
        let (header, claims) = (json(h)?, json(c)?);
        if header["alg"] != "ES256" {
            return Err(format!("alg is {}, not ES256", header["alg"]));
        }
        if header["kid"] != json!(self.key_id) {
            return Err("kid is not the key id".into());
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "signature not base64url")?;
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.public_key)
            .verify(format!("{h}.{c}").as_bytes(), &sig)
            .map_err(|_| "the signature is not the .p8 key's".to_owned())?;
        for (claim, want) in [("iss", &self.team_id), ("sub", &client_id.to_owned())] {
            if claims[claim] != json!(want) {
                return Err(format!("{claim} is {}, not {want}", claims[claim]));
            }
        }
        if claims["aud"] != AUDIENCE {
            return Err(format!("aud is {}, not {AUDIENCE}", claims["aud"]));
        }
        let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
            return Err("iat and exp must be numbers".into());
        };
        if exp <= now || iat > now + 60 || exp - iat > MAX_LIFETIME {
            return Err(format!("iat {iat} / exp {exp} out of bounds at {now}"));
        }
        Ok(())
    }
}

fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "the test .p8 key is not PEM".to_owned())
}

impl Preset {
    /// Sign in with Apple: issuer `https://appleid.apple.com` (the base here), `/auth/*`
    /// endpoints, no userinfo; the response comes as a form POST, the name only in the first
    /// authorization's `user` field, the client secret an ES256 JWT (see
    /// [`FakeIssuer::settings`](crate::testing::FakeIssuer::settings) for the `.p8` key, team id
    /// and key id); `email_verified` and `is_private_email` as the strings `"true"`/`"false"`.
    /// A user given a `…@privaterelay.appleid.com` email is a hide-my-email user.
    pub fn apple() -> Preset {
        Preset {
            authorize: "/auth/authorize",
            token: "/auth/token",
            userinfo: "/-/no-userinfo",
            jwks: "/auth/keys",
            auth_methods: &["client_secret_post"],
            apple: true,
            ..Self::oidc("apple", "", id_claims)
        }
    }
}

/// Apple's ID token claims: a team-scoped `sub`, the email with string booleans.
fn id_claims(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert(
        "sub".into(),
        json!(format!("{:06}.{:032x}.{:04}", u.pk, u.pk, u.pk)),
    );
    if ctx.has("email") && !u.email.is_empty() {
        let relay = u.email.ends_with("@privaterelay.appleid.com");
        m.insert("email".into(), json!(u.email));
        m.insert("email_verified".into(), json!(u.email_verified.to_string()));
        m.insert("is_private_email".into(), json!(relay.to_string()));
    }
    m.insert("real_user_status".into(), json!(2));
    m.insert("nonce_supported".into(), json!(true));
    Value::Object(m)
}

/// The discovery document as Apple's: no userinfo, a revocation endpoint, form_post.
pub(crate) fn discovery(inner: &Inner, d: &mut Value) {
    if !inner.preset.apple {
        return;
    }
    if let Value::Object(m) = d {
        m.remove("userinfo_endpoint");
        m.insert(
            "revocation_endpoint".into(),
            json!(format!("{}{REVOKE}", inner.base)),
        );
        m.insert(
            "response_modes_supported".into(),
            json!(["query", "fragment", "form_post"]),
        );
        m.insert(
            "scopes_supported".into(),
            json!(["openid", "email", "name"]),
        );
        m.insert("subject_types_supported".into(), json!(["pairwise"]));
    }
}

/// `/auth/authorize` for Apple: `response_mode=form_post` is required with `name` or `email`,
/// `None` when it may go on.
pub(crate) fn refuse_authorize(inner: &Inner, req: &Req) -> Option<Reply> {
    if !inner.preset.apple {
        return None;
    }
    let scopes = req.q("scope").unwrap_or("");
    let wants_user = scopes.split(' ').any(|s| s == "name" || s == "email");
    (wants_user && req.q("response_mode") != Some("form_post")).then(|| {
        Reply::json(400, &json!({"error": "invalid_request",
            "error_description": "response_mode must be form_post when name or email scope is requested"}), false)
    })
}

/// The page that POSTs the authorization response to `redirect_uri`: `code`, `state`, and on
/// the subject's first authorization (with the `name` scope) the `user` JSON.
pub(crate) fn form_post(
    inner: &Inner,
    req: &Req,
    redirect_uri: &str,
    code: &str,
    pk: u64,
) -> Reply {
    let mut fields = vec![("code", code.to_owned())];
    if let Some(s) = req.q("state") {
        fields.push(("state", s.to_owned()));
    }
    let first = inner.apple.as_ref().is_some_and(|a| {
        a.authorized
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pk)
    });
    let user = inner.lock().users.iter().find(|u| u.pk == pk).cloned();
    if let (true, Some(u)) = (first, user) {
        let scopes = req.q("scope").unwrap_or("");
        let mut words = u.name.split_whitespace();
        let given = u
            .given_name
            .clone()
            .or_else(|| words.next().map(str::to_owned));
        let family = u.family_name.clone().or_else(|| {
            let rest: Vec<&str> = words.collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        });
        let mut user = Map::new();
        if scopes.split(' ').any(|s| s == "name") {
            user.insert(
                "name".into(),
                json!({"firstName": given, "lastName": family}),
            );
        }
        if scopes.split(' ').any(|s| s == "email") && !u.email.is_empty() {
            user.insert("email".into(), json!(u.email));
        }
        if !user.is_empty() {
            fields.push(("user", Value::Object(user).to_string()));
        }
    }
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in with Apple (fake)</title></head>\n<body><form id=\"apple-form-post\" method=\"post\" action=\"{}\">{inputs}<noscript><button type=\"submit\">Continue</button></noscript></form>\n<script>document.getElementById(\"apple-form-post\").submit();</script></body></html>\n",
        escape(redirect_uri)
    );
    Reply::empty(200)
        .header("content-type", "text/html; charset=utf-8")
        .body(page.into_bytes())
}

/// Whether a token or revocation request authenticates as the client: the secret itself, or
/// for Apple a client secret JWT that passes [`AppleClient::check`].
pub(crate) fn client_ok(inner: &Inner, id: &str, secret: &str) -> bool {
    if id != inner.client_id {
        return false;
    }
    match &inner.apple {
        None => secret == inner.client_secret,
        Some(a) => match a.check(secret, &inner.client_id, now()) {
            Ok(()) => true,
            Err(why) => {
                tracing::info!(%why, "fake Apple: client secret refused");
                false
            }
        },
    }
}

fn now() -> i64 {
    i64::try_from(crate::util::unix_now()).unwrap_or(i64::MAX)
}

/// `/auth/revoke`: `client_id`, `client_secret` (the JWT) and `token` in the form; 200.
pub(crate) fn revoke(inner: &Inner, req: &Req) -> Reply {
    if req.method != "POST" {
        return Reply::method_not_allowed();
    }
    let ok = client_ok(
        inner,
        req.f("client_id").unwrap_or(""),
        req.f("client_secret").unwrap_or(""),
    );
    match (ok, req.f("token")) {
        (false, _) => Reply::json(400, &json!({"error": "invalid_client"}), false),
        (true, None) => Reply::json(400, &json!({"error": "invalid_request"}), false),
        (true, Some(_)) => Reply::empty(200),
    }
}

impl FakeIssuer {
    /// For a [`Preset::apple`] fake: whether `client_secret` is one its token endpoint accepts
    /// now, and if not, why (the token endpoint itself answers only `invalid_client`, as Apple
    /// does). Always an error for other presets.
    pub fn check_apple_client_secret(&self, client_secret: &str) -> Result<(), String> {
        match &self.inner.apple {
            Some(a) => a.check(client_secret, &self.inner.client_id, now()),
            None => Err(format!(
                "`{}` is not an Apple fake",
                self.inner.preset.provider
            )),
        }
    }

    /// For a [`Preset::apple`] fake: the team id and key id of its `.p8` key (which
    /// [`settings`](FakeIssuer::settings) gives as the client secret).
    pub fn apple_ids(&self) -> Option<(String, String)> {
        let a = self.inner.apple.as_ref()?;
        Some((a.team_id.clone(), a.key_id.clone()))
    }
}

/// The settings of an Apple fake: the `.p8` key as the client secret, `team_id` and `key_id`.
pub(crate) fn settings(inner: &Inner, s: &mut crate::config::ProviderSettings) {
    if let Some(a) = &inner.apple {
        s.client_secret = Some(crate::config::Secret::new(P8));
        s.params.insert("team_id".into(), a.team_id.clone());
        s.params.insert("key_id".into(), a.key_id.clone());
    }
}
