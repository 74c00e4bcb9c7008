//! Access tokens for API clients, minted by the [`FakeAuthentik`] handle: what a test of the
//! bearer-token path presents in `Authorization: Bearer`, genuine or wrong in chosen ways.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::fake::FakeAuthentik;
use super::jwt::{self, Attacker};
use super::state::{AccessGrant, random_alnum, scope_claims};
use super::switches::Tamper;

/// The scopes the minted tokens are issued for.
const SCOPES: [&str; 3] = ["openid", "profile", "email"];

impl FakeAuthentik {
    /// An access token for `username`, as the token endpoint issues it after a sign-in with the
    /// scopes `openid profile email` (Authentik's access token: the ID token's claims plus
    /// `azp`, `uid` and `scope`, header `typ: JWT`), signed as the fake signs now and corrupted
    /// by `tamper` if given ([`Tamper::AlgNone`], [`Tamper::Hs256WithRsaPublicKey`],
    /// [`Tamper::Kid`], …). The userinfo and introspection endpoints accept it until it expires.
    /// `None` for an unknown user.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = tower_oidc::testing::FakeAuthentik::start().await;
    /// let token = fake.issue_access_token("alice", None).unwrap();
    /// assert_eq!(token.split('.').count(), 3);
    /// # }
    /// ```
    pub fn issue_access_token(&self, username: &str, tamper: Option<Tamper>) -> Option<String> {
        let (claims, pk) = self.token_claims(username, true)?;
        let st = self.inner.lock();
        let signer = self.inner.signer(st.key_index);
        let attacker = Attacker {
            key: &self.inner.keys.attacker,
            jku: format!("{}/attacker/jwks/", self.inner.base),
        };
        let token = jwt::encode(signer, &claims, tamper.as_ref(), &attacker).ok()?;
        drop(st);
        self.remember_access(&token, pk);
        Some(token)
    }

    /// An ID token for `username` as the token endpoint issues it with a `nonce` (no `scope`,
    /// no `azp`): what a test presents as a bearer token to see it refused.
    pub fn issue_id_token(&self, username: &str) -> Option<String> {
        let (mut claims, _) = self.token_claims(username, false)?;
        claims.insert("nonce".into(), json!(random_alnum(32)));
        let st = self.inner.lock();
        let signer = self.inner.signer(st.key_index);
        let attacker = Attacker {
            key: &self.inner.keys.attacker,
            jku: format!("{}/attacker/jwks/", self.inner.base),
        };
        jwt::encode(signer, &claims, None, &attacker).ok()
    }

    /// An opaque access token for `username` (a random string the introspection endpoint
    /// answers `active` for, with the claims of the scopes `openid profile email`). Authentik
    /// itself issues JWT access tokens; this stands in for providers whose access tokens are
    /// opaque, to test the introspection path. `None` for an unknown user.
    pub fn issue_opaque_access_token(&self, username: &str) -> Option<String> {
        let (_, pk) = self.token_claims(username, true)?;
        let token = random_alnum(48);
        self.remember_access(&token, pk);
        Some(token)
    }

    /// The claims of a token for `username` (`access`: an access token's extra members).
    fn token_claims(&self, username: &str, access: bool) -> Option<(Map<String, Value>, u64)> {
        let inner = &self.inner;
        let st = inner.lock();
        let pk = st.user_pk(username)?;
        let user = st.user(pk)?;
        let now = crate::util::unix_now() as i64 + st.switches.clock_offset;
        let scopes: Vec<String> = SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(inner.issuer()));
        claims.insert("sub".into(), json!(inner.sub(user)));
        claims.insert("aud".into(), json!(inner.cfg.client_id));
        claims.insert(
            "exp".into(),
            json!(now + inner.cfg.token_validity.as_secs() as i64),
        );
        claims.insert("iat".into(), json!(now));
        claims.insert("auth_time".into(), json!(now));
        claims.insert(
            "acr".into(),
            json!("goauthentik.io/providers/oauth2/default"),
        );
        claims.insert("sid".into(), json!(random_alnum(64)));
        claims.insert("jti".into(), json!(random_alnum(40)));
        for (k, v) in scope_claims(user, &scopes) {
            claims.insert(k, v);
        }
        if access {
            claims.insert("azp".into(), json!(inner.cfg.client_id));
            claims.insert("uid".into(), json!(random_alnum(40)));
            claims.insert("scope".into(), json!(scopes.join(" ")));
        }
        Some((claims, pk))
    }

    fn remember_access(&self, token: &str, user_pk: u64) {
        let mut st = self.inner.lock();
        let serial = st.serial();
        st.access.insert(
            token.to_owned(),
            AccessGrant {
                user_pk,
                scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                nonce: None,
                expires: Instant::now() + self.inner.cfg.token_validity,
                sid: String::new(),
                serial,
            },
        );
    }

    /// `{url}/application/o/introspect/`.
    pub fn introspect_url(&self) -> String {
        format!("{}/application/o/introspect/", self.url())
    }
}
