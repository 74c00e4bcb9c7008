//! Discovery and JWKS are fetched at most once per cache lifetime: 1,000 sign-ins, 64 at a
//! time, through the app, and the fake Authentik sees exactly one discovery request and one
//! JWKS request (single flight for the concurrent first sign-ins, then the caches).

mod common;

use std::sync::Arc;

use common::{UrlForm, app, cookie_pair, location, set_cookies};
use reqwest::header::{COOKIE, LOCATION};
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, SigningMode};

/// One browser's sign-in, with its own cookies (the shared client keeps none).
async fn sign_in(http: &reqwest::Client, app_url: &str) -> Result<String, String> {
    let r = http
        .get(format!("{app_url}/api/auth/providers/authentik/authorize"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 302 {
        return Err(format!("authorize: {}", r.status()));
    }
    let tx = cookie_pair(&set_cookies(&r), "tower_oidc_tx").unwrap_or_default();
    let r = http
        .get(location(&r).unwrap())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 302 {
        return Err(format!("provider authorize: {}", r.status()));
    }
    let r = http
        .get(location(&r).unwrap())
        .header(COOKIE, tx)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match cookie_pair(&set_cookies(&r), "tower_oidc_session") {
        Some(s) if r.status() == 302 || r.status() == 303 => Ok(s),
        _ => Err(format!(
            "callback: {} {:?}",
            r.status(),
            r.headers().get(LOCATION)
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sign_ins_fetch_discovery_and_jwks_once() {
    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Rs256)
        .user(FakeUser::new("alice").email("alice@example.com"))
        .start()
        .await;
    let app = app(&fake, UrlForm::Issuer).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = Arc::new(app.url.clone());
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (http, url, sem) = (http.clone(), url.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            sign_in(&http, &url).await
        }));
    }
    let mut errors = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            errors.push(e);
        }
    }
    assert!(
        errors.is_empty(),
        "{} sign-ins failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(fake.count(Endpoint::Token), 1000);
    assert_eq!(fake.count(Endpoint::Discovery), 1, "discovery fetched once");
    assert_eq!(fake.count(Endpoint::Jwks), 1, "JWKS fetched once");
}
