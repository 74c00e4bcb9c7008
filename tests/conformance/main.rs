//! The OpenID RP security matrix (`docs/security-matrix.md`) as a test suite: one test per
//! case, named after its conformance-suite id where it has one (`rp_id_token_bad_sig_rs256`,
//! `invalid_missing_nonce`, …) and otherwise after the behaviour, with the matrix id in its doc
//! comment. SECURITY.md maps every matrix id to its test.
//!
//! Every negative test applies the matrix's §0 oracle through [`common::rejected`]: the browser
//! gets the stable error code, no session cookie is set, the fake saw no userinfo call after a
//! bad ID token and no token call after a bad authorization response, and the login transaction
//! is consumed (replaying the callback fails as `invalid_state`).

#[path = "../common/mod.rs"]
mod common;

mod basic;
mod config_profile;
mod deployment;
mod extras;
mod failures;
mod identity;
mod logout;
mod observability;
mod redirects;
mod round2;
mod sessions;
mod spec;
mod tokens;
