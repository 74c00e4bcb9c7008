//! The floor under a callback: the same outside work a callback does, done by a bare handler
//! without the library — one request in, a form POST to the provider's token endpoint and a
//! GET of its userinfo through `reqwest` (configured as the library's provider client is), and
//! one RS256 check with `ring` of an ID token signed by the same RSA-4096 key. What a callback
//! costs above this floor is the library's own work; the floor itself moves with the machine
//! (its speed at RSA and loopback TCP), not with the library.
//!
//! Two differences make the floor a little lower than the callback's share: the token request
//! carries a code the fake refuses (a short error body instead of three tokens), and the
//! handler answers `200` without cookies.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::{Router, routing::get};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tower_oidc::testing::FakeAuthentik;

/// What the floor's handler needs: the provider's URLs, a token for each call, the key.
pub struct Floor {
    http: reqwest::Client,
    token_url: String,
    userinfo_url: String,
    client_id: String,
    client_secret: String,
    access_token: String,
    id_token: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Floor {
    /// The floor against `fake`, for its user `username`.
    pub async fn new(fake: &FakeAuthentik, username: &str) -> Result<Arc<Floor>, String> {
        // As `tower_oidc`'s provider client: no redirects, total and connect deadlines.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let jwks: serde_json::Value = http
            .get(fake.jwks_url())
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let key = &jwks["keys"][0];
        let part = |name: &str| {
            key[name]
                .as_str()
                .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
                .ok_or_else(|| format!("the fake's JWKS has no `{name}`"))
        };
        Ok(Arc::new(Floor {
            n: part("n")?,
            e: part("e")?,
            token_url: fake.token_url(),
            userinfo_url: fake.userinfo_url(),
            client_id: fake.client_id().to_owned(),
            client_secret: fake.client_secret().to_owned(),
            access_token: fake
                .issue_access_token(username, None)
                .ok_or("no access token")?,
            id_token: fake.issue_id_token(username).ok_or("no ID token")?,
            http,
        }))
    }

    /// The outside work of one callback; `Err` says what did not go as a callback's would.
    async fn once(&self) -> Result<(), String> {
        answer(
            self.http
                .post(&self.token_url)
                .basic_auth(&self.client_id, Some(&self.client_secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "not-a-code-the-fake-issued"),
                    ("redirect_uri", "http://127.0.0.1/callback"),
                ]),
            400,
            "token endpoint",
        )
        .await?;
        answer(
            self.http
                .get(&self.userinfo_url)
                .bearer_auth(&self.access_token),
            200,
            "userinfo",
        )
        .await?;
        let (signed, signature) = self
            .id_token
            .rsplit_once('.')
            .ok_or("the ID token has no signature")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| e.to_string())?;
        ring::signature::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &signature,
        )
        .map_err(|_| "the ID token's signature does not verify".to_owned())
    }

    /// The bare app whose `GET /floor` does [`Floor::once`].
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().route("/floor", get(handler)).with_state(self)
    }
}

/// Sends `request` and reads its whole body; the answer must have `status`.
async fn answer(request: reqwest::RequestBuilder, status: u16, what: &str) -> Result<(), String> {
    let r = request.send().await.map_err(|e| e.to_string())?;
    if r.status() != status {
        return Err(format!("{what} answered {}", r.status()));
    }
    r.bytes().await.map(drop).map_err(|e| e.to_string())
}

async fn handler(State(floor): State<Arc<Floor>>) -> (http::StatusCode, String) {
    match floor.once().await {
        Ok(()) => (http::StatusCode::OK, "floor".into()),
        Err(e) => (http::StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
