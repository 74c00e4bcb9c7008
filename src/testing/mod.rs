//! Test doubles: [`FakeAuthentik`], a faithful fake Authentik OpenID provider on `wiremock`, and
//! [`FakeIssuer`], a fake of any other built-in provider laid out by a [`Preset`].
//!
//! Enabled by the `testing` feature. Use it to test your own application's login end to end:
//! what passes against the fake on every [`AuthentikVersion`] works against a real Authentik
//! 2025.10–2026.5 with the default provider settings.
//!
//! ```
//! use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, SigningMode, Tamper};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = FakeAuthentik::builder()
//!     .signing(SigningMode::Es256)
//!     .redirect_uri("http://127.0.0.1:3000/callback")
//!     .user(FakeUser::new("alice").name("Alice Anders").email("alice@example.com"))
//!     .start()
//!     .await;
//! let http = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none())
//!     .build()?;
//!
//! // What the browser does: /authorize answers 302 to the app's callback with a code.
//! let resp = http
//!     .get(fake.authorize_url())
//!     .query(&[
//!         ("client_id", fake.client_id()),
//!         ("redirect_uri", "http://127.0.0.1:3000/callback"),
//!         ("response_type", "code"),
//!         ("scope", "openid email profile"),
//!         ("state", "xyz"),
//!     ])
//!     .send()
//!     .await?;
//! let callback = url::Url::parse(resp.headers()["location"].to_str()?)?;
//! let code = callback.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
//!
//! // What the app does: exchange the code.
//! let tokens: serde_json::Value = http
//!     .post(fake.token_url())
//!     .basic_auth(fake.client_id(), Some(fake.client_secret()))
//!     .form(&[
//!         ("grant_type", "authorization_code"),
//!         ("code", code.as_str()),
//!         ("redirect_uri", "http://127.0.0.1:3000/callback"),
//!     ])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert!(tokens["id_token"].is_string());
//! assert_eq!(fake.count(Endpoint::Token), 1);
//!
//! // Security tests switch misbehaviour on through `&self`.
//! fake.set_tamper(Tamper::BadSignature);
//! fake.set_id_token_claims(|claims| {
//!     claims.insert("aud".into(), serde_json::json!(["someone-else"]));
//! });
//! # Ok(())
//! # }
//! ```
//!
//! Plain http on `127.0.0.1` by default; HTTPS with a certificate the test provides
//! ([`FakeAuthentikBuilder::tls`]), to check that an app trusts a self-hosted Authentik signed by
//! a private CA.
//!
//! Served: discovery (and the RFC 8414 copy), JWKS, authorize (code flow), token
//! (`authorization_code`, `refresh_token`), userinfo, revoke, introspection (RFC 7662) and
//! end-session, plus the
//! `/application/o/<slug>/` redirect, and a stand-in for the login flow
//! (`/flows/-/default/authentication/`). Ending Authentik sessions sends the app back-channel or
//! front-channel logout notifications ([`FakeAuthentik::end_sessions`]). Where the supported releases differ (Basic credential
//! decoding, end-session), the fake behaves like the [`AuthentikVersion`] it is built with; run
//! a test that must hold everywhere against each of [`AuthentikVersion::ALL`]. Not modelled (answered as Authentik would answer an
//! unsupported request, or 404): implicit/hybrid response types (`unsupported_response_type`),
//! `client_credentials`/`password`/device grants (`unsupported_grant_type`),
//! device authorization, regex redirect URIs other than the default registration, the global issuer mode, a `web.path` prefix, CORS
//! for browser origins, JWE-encrypted tokens, interactive login flows (the user is always logged
//! in), and the 2026.8 additions (DCR, DPoP key binding, token exchange).
//!
//! **The signing keys are published test keys** (`src/testing/keys/`), compiled into the crate.
//! Never use them, or a fake's URL, outside tests.

mod bearer;
mod builder;
mod endpoints;
mod fake;
mod issuer;
mod jwt;
mod keys;
mod logout;
mod record;
pub(crate) mod state;
mod sub_mode;
mod switches;
mod tls;
mod user;
mod version;

pub use builder::FakeAuthentikBuilder;
pub use fake::FakeAuthentik;
pub use issuer::{FakeIssuer, FakeIssuerBuilder, Preset};
pub use keys::{KidStyle, SigningMode};
pub use logout::{LogoutDelivery, LogoutMethod, LogoutReport};
pub use record::{Endpoint, RecordedRequest, Revocation, TokenKind};
pub use state::DEFAULT_REDIRECT_URI_REGEX;
pub use sub_mode::SubMode;
pub use switches::{Fault, Tamper};
pub use user::{FakeEmail, FakeUser};
pub use version::AuthentikVersion;
