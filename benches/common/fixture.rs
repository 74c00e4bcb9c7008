//! Shared by the benches that run a layer: its base URL and cookie key, the request body type,
//! the clock in seconds, the fake's settings, and the `Cookie` header of a stored session.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::Empty;
use tower_oidc::Secret;
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::SessionId;
use tower_oidc::testing::FakeAuthentik;

pub const BASE_URL: &str = "http://127.0.0.1:3000";

/// The layer's cookie key (fixed, so a bench can sign its own session cookie).
pub const COOKIE_KEY: [u8; 64] = {
    let mut k = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        k[i] = i as u8 + 1;
        i += 1;
    }
    k
};

pub type Body = Empty<Bytes>;

/// Now, in Unix seconds.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Settings that enable `fake` as the built-in `authentik` provider.
pub fn fake_settings(fake: &FakeAuthentik) -> ProviderSettings {
    ProviderSettings {
        enabled: true,
        url: Some(fake.issuer()),
        client_id: Some(fake.client_id().to_owned()),
        client_secret: Some(Secret::new(fake.client_secret())),
        ..ProviderSettings::default()
    }
}

/// The `Cookie` header a browser signed in as session `id` sends (with another cookie first).
pub fn session_cookie(id: &SessionId) -> String {
    let key = cookie::Key::try_from(&COOKIE_KEY[..]).unwrap();
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&key).add(cookie::Cookie::new(
        "tower_oidc_session",
        id.expose().to_owned(),
    ));
    format!(
        "theme=dark; tower_oidc_session={}",
        jar.get("tower_oidc_session").unwrap().value()
    )
}
