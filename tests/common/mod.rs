//! The one test harness, shared by every test binary that signs someone in (`mod common;`, or
//! `#[path = "../common/mod.rs"] mod common;` from a directory).
//!
//! - [`app`]: a real axum app with `OidcLayer` on a loopback port, over a `FakeAuthentik` (or
//!   any fake issuer), its settings and a [`store::TestStore`];
//! - [`browser`]: a browser-like HTTP client that keeps cookies and does not follow redirects,
//!   and the helpers that read responses (`Location`, `Set-Cookie`, query parameters);
//! - [`admin`]: settings with an admin rule, and the admin API as the admin page calls it;
//! - [`signin`]: a sign-in driven step by step (authorize, the provider, the callback), so tests
//!   can stop anywhere in the flow; the session and logout endpoints;
//! - [`oracle`]: the security matrix's §0 oracle for refused sign-ins, and `accepted`;
//! - [`logs`]: log capture at TRACE level, with the spans opened;
//! - [`metrics`]: the metrics recorded, and the check that their labels stay bounded;
//! - [`store`]: the backend an app keeps its data in (`TOWER_OIDC_CONFORMANCE_BACKEND`);
//! - [`example`]: the example binaries run as processes against a fake Authentik.
//!
//! Each test binary compiles this module on its own and uses a part of it, hence the
//! `dead_code` allowance (and the `unused_imports` one on the re-exports).
#![allow(dead_code)]

pub mod admin;
pub mod app;
pub mod browser;
pub mod example;
pub mod logs;
pub mod metrics;
pub mod oracle;
pub mod signin;
pub mod store;
pub mod tls;

// Everything at `common::`, for `use common::*;`; a test binary that uses none of a module's
// items would otherwise be told so.
#[allow(unused_imports)]
pub use {admin::*, app::*, browser::*, example::*, logs::*, oracle::*, signin::*, store::*};

/// Seconds since the Unix epoch, as the ID token's time claims count them.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Writes a line to stderr (for the figures a test wants in its output).
pub fn note(s: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{s}");
}
