//! Test doubles: [`FakeAuthentik`], a faithful fake Authentik OpenID provider on `wiremock`.
//!
//! Enabled by the `testing` feature. Use it to test your own application's login end to end:
//! what passes against the fake works against a real Authentik 2025.10–2026.5 with the
//! default provider settings (see the crate's `reference/authentik.md` for the facts behind it).
//!
//! Served: discovery (and the RFC 8414 copy), JWKS, authorize (code flow), token
//! (`authorization_code`, `refresh_token`), userinfo, revoke and end-session, plus the
//! `/application/o/<slug>/` redirect. Not modelled (answered as Authentik would answer an
//! unsupported request, or 404): implicit/hybrid response types (`unsupported_response_type`),
//! `client_credentials`/`password`/device grants (`unsupported_grant_type`), introspection,
//! device authorization, regex redirect URIs, the global issuer mode, a `web.path` prefix, CORS
//! for browser origins, JWE-encrypted tokens, interactive login flows (the user is always logged
//! in), and the 2026.8 additions (DCR, DPoP key binding, token exchange).
//!
//! **The signing keys are published test keys** (`src/testing/keys/`), compiled into the crate.
//! Never use them, or a fake's URL, outside tests.

mod endpoints;
mod fake;
mod jwt;
mod keys;
mod record;
mod state;
mod switches;
mod user;

pub use fake::{FakeAuthentik, FakeAuthentikBuilder};
pub use keys::{KidStyle, SigningMode};
pub use record::{Endpoint, RecordedRequest};
pub use switches::{Fault, Tamper};
pub use user::FakeUser;
