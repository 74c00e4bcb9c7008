//! The callback's CPU work, with the issuer's answers served from memory (no network): ID token
//! verification (shape, signature, claims), claim mapping and identity resolution, for
//! RSA-2048, RSA-4096, ES256 and HS256 tokens minted once by `FakeAuthentik` in setup.
//!
//! `cargo bench --bench callback`. Each algorithm is measured with the default `ring` backend
//! and, in the same run, with `openidconnect`'s pure-Rust keys (the ratio is printed at the
//! end); the budget is 150 µs for RSA-4096.

use criterion::BenchmarkId;
use tower_oidc::__bench::IdTokenCheck;
use tower_oidc::config::Providers;
use tower_oidc::identity::{Policy, Profile, resolve_user};
use tower_oidc::store::{Identity, MemoryStore};
use tower_oidc::testing::{FakeAuthentik, FakeUser, SigningMode};

#[path = "common/report.rs"]
mod report;

const REDIRECT: &str = "http://127.0.0.1:3000/api/auth/providers/authentik/callback";
const NONCE: &str = "bench-nonce-0123456789";

/// Mints an ID token the way the callback receives it: authorize, then the code exchange.
async fn mint(mode: SigningMode) -> (FakeAuthentik, String, Vec<u8>) {
    let fake = FakeAuthentik::builder()
        .signing(mode)
        .redirect_uri(REDIRECT)
        .user(
            FakeUser::new("alice")
                .name("Alice Anders")
                .email("alice@example.com"),
        )
        .start()
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(fake.authorize_url())
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", "xyz"),
            ("nonce", NONCE),
        ])
        .send()
        .await
        .unwrap();
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: serde_json::Value = http
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks = http
        .get(fake.jwks_url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let token = tokens["id_token"].as_str().unwrap().to_owned();
    (fake, token, jwks)
}

fn main() {
    let mut c = report::criterion();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = Providers::builtin().get("authentik").unwrap().clone();
    let mut group = c.benchmark_group("callback_cpu");
    let modes = [
        ("rs256_2048", SigningMode::Rs256),
        ("rs256_4096", SigningMode::Rs256Rsa4096),
        ("es256", SigningMode::Es256),
        ("hs256", SigningMode::Hs256),
    ];
    let mut fakes = Vec::new();
    for (name, mode) in modes {
        let (fake, token, jwks) = rt.block_on(mint(mode));
        let check = IdTokenCheck::new(
            &jwks,
            &fake.issuer(),
            fake.client_id(),
            Some(fake.client_secret()),
            &[mode.alg()],
        )
        .unwrap();
        // Both backends accept the token, and reject it tampered.
        check.verify(&token, NONCE).unwrap();
        check.verify_rustcrypto(&token, NONCE).unwrap();
        let mut bad = token.clone().into_bytes();
        let i = bad.len() - 10;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(check.verify(&bad, NONCE).is_err());

        let users = MemoryStore::new();
        let admin_rules = Default::default();
        let policy = Policy {
            email_trust: spec.email_trust,
            auto_register: true,
            admin_rules: &admin_rules,
        };
        // Verification + claim mapping + identity resolution (a returning user after the first
        // iteration, as in steady state).
        let full = |ring: bool| {
            let check = &check;
            let token = &token;
            let users = &users;
            let policy = &policy;
            let spec = &spec;
            async move {
                let verified = if ring {
                    check.verify(token, NONCE)
                } else {
                    check.verify_rustcrypto(token, NONCE)
                }
                .unwrap();
                let profile = Profile::from_claims(&verified.claims, &spec.claims).unwrap();
                let identity = Identity {
                    provider: "authentik".to_owned(),
                    issuer: verified.issuer.clone(),
                    subject: profile.subject.clone(),
                };
                resolve_user(users, &identity, &profile, policy)
                    .await
                    .unwrap()
            }
        };
        group.bench_function(BenchmarkId::new("ring", name), |b| {
            b.to_async(&rt).iter(|| full(true))
        });
        group.bench_function(BenchmarkId::new("rustcrypto", name), |b| {
            b.to_async(&rt).iter(|| full(false))
        });
        fakes.push(fake);
    }
    group.finish();
    c.final_summary();
    drop(fakes);

    let mut rows = Vec::new();
    for (name, _) in modes {
        let budget = (name == "rs256_4096").then_some(150_000.0);
        rows.push(report::Row::ratio(
            &format!("callback CPU {name} (ring vs pure-Rust)"),
            &format!("callback_cpu/rustcrypto/{name}"),
            &format!("callback_cpu/ring/{name}"),
            budget,
            report::Budget::Absolute,
        ));
    }
    report::print("callback", &rows);
}
