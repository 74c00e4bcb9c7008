//! Load test, on loopback only: concurrent sign-ins against an in-process FakeAuthentik, then
//! authenticated requests through an axum app with `OidcLayer`, compared with the same app
//! without the layer.
//!
//! ```sh
//! cargo run --release --example loadtest
//! # knobs: LOADTEST_SIGNINS (1000), LOADTEST_REQUESTS (20000), LOADTEST_CONCURRENCY (64),
//! #        LOADTEST_MAX_SECS (60, per phase)
//! ```
//!
//! Prints sign-ins per second, requests per second with and without the layer, p50/p99
//! latency and the error count (which must be zero; the exit status says so). Client and
//! servers share the machine, so the figures are a lower bound of what the server can do.
//!
//! The apps run on a runtime of their own (one worker thread), apart from the client and the
//! fake issuer; on Linux the load test reads that thread's CPU time from `/proc` and prints the
//! server's CPU per sign-in (the library's own work: authorize, callback, ID token check,
//! userinfo, store writes — the fake signs on other threads) and per request, with and without
//! the layer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::{Router, routing::get};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{MemoryStore, SettingsStore};
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, SigningMode};
use tower_oidc::{Auth, OidcLayer, Providers, Secret};

mod load;
use load::{Server, cpu_line, knob, run};

async fn home(req: Request) -> String {
    match Auth::from_extensions(req.extensions()).user() {
        Some(u) => format!("hello {}", u.name.as_deref().unwrap_or("you")),
        None => "hello stranger".to_owned(),
    }
}

fn set_cookies(r: &reqwest::Response, prefix: &str) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(prefix))
        .filter_map(|v| v.split(';').next().map(str::to_owned))
        // A cleared cookie has an empty value (a sealed one may end in base64's `=`).
        .filter(|c| c.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
        .collect()
}

fn location(r: &reqwest::Response) -> Result<String, String> {
    r.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("no Location ({})", r.status()))
}

/// One browser's sign-in with its own cookies: app authorize → provider → app callback.
/// Returns the session cookie.
async fn sign_in(http: &reqwest::Client, app: &str) -> Result<String, String> {
    let e = |e: reqwest::Error| e.to_string();
    let r = http
        .get(format!("{app}/api/auth/providers/authentik/authorize"))
        .send()
        .await
        .map_err(e)?;
    if r.status() != 302 {
        return Err(format!("authorize answered {}", r.status()));
    }
    let tx = set_cookies(&r, "tower_oidc_tx=").join("; ");
    let r = http.get(location(&r)?).send().await.map_err(e)?;
    if r.status() != 302 {
        return Err(format!("provider authorize answered {}", r.status()));
    }
    let r = http
        .get(location(&r)?)
        .header(COOKIE, tx)
        .send()
        .await
        .map_err(e)?;
    set_cookies(&r, "tower_oidc_session=").pop().ok_or_else(|| {
        format!(
            "callback answered {} without a session (to {})",
            r.status(),
            location(&r).unwrap_or_default()
        )
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let signins = knob("LOADTEST_SIGNINS", 1000);
    let requests = knob("LOADTEST_REQUESTS", 20_000);
    let concurrency = knob("LOADTEST_CONCURRENCY", 64);
    let max = Duration::from_secs(knob("LOADTEST_MAX_SECS", 60) as u64);

    let fake = FakeAuthentik::builder()
        .signing(SigningMode::Rs256Rsa4096)
        .user(
            FakeUser::new("alice")
                .name("Alice Anders")
                .email("alice@example.com"),
        )
        .start()
        .await;
    let store = MemoryStore::new();
    store
        .put(
            "authentik",
            &ProviderSettings {
                enabled: true,
                url: Some(fake.issuer()),
                client_id: Some(fake.client_id().to_owned()),
                client_secret: Some(Secret::new(fake.client_secret())),
                ..ProviderSettings::default()
            },
        )
        .await?;
    // The app's base URL must be known before the layer is built: bind first.
    let server = Server::new()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let app_url = format!("http://{}", listener.local_addr()?);
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(app_url.clone())
        .build()?;
    server.serve(listener, Router::new().route("/", get(home)).layer(layer));
    let bare_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let bare_url = format!("http://{}", bare_listener.local_addr()?);
    server.serve(bare_listener, Router::new().route("/", get(home)));

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()?;

    println!(
        "tower-oidc load test: {} CPUs, concurrency {concurrency}, RS256 with an RSA-4096 key, sessions in memory",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. Sign-ins.
    let session = Arc::new(std::sync::Mutex::new(None::<String>));
    let (s, signin_cpu) = {
        let (http, app, session) = (http.clone(), app_url.clone(), session.clone());
        server
            .measure(run(signins, concurrency, max, move || {
                let (http, app, session) = (http.clone(), app.clone(), session.clone());
                async move {
                    let cookie = sign_in(&http, &app).await?;
                    *session.lock().unwrap() = Some(cookie);
                    Ok(())
                }
            }))
            .await
    };
    println!("{}", s.line("sign-ins", "sign-ins"));
    println!("{}", cpu_line("", signin_cpu));
    if let Some(d) = signin_cpu {
        println!(
            "{:<34} sign-ins per second per core (server CPU alone): {:.0}",
            "",
            1.0 / d.per_job.as_secs_f64()
        );
    }
    println!(
        "{:<34} discovery fetched {} time(s), JWKS {} time(s), token endpoint {} time(s)",
        "",
        fake.count(Endpoint::Discovery),
        fake.count(Endpoint::Jwks),
        fake.count(Endpoint::Token)
    );
    let mut errors = s.errors;
    if let Some(e) = &s.first_error {
        println!("  first error: {e}");
    }
    let cookie = session
        .lock()
        .unwrap()
        .clone()
        .ok_or("no sign-in succeeded")?;

    // 2. Requests: bare app, anonymous through the layer, signed in through the layer.
    let get = |url: String, cookie: Option<String>, expect: &'static str| {
        let http = http.clone();
        move || {
            let (http, url, cookie) = (http.clone(), url.clone(), cookie.clone());
            async move {
                let mut rb = http.get(&url);
                if let Some(c) = cookie {
                    rb = rb.header(COOKIE, c);
                }
                let r = rb.send().await.map_err(|e| e.to_string())?;
                if r.status() != 200 {
                    return Err(format!("status {}", r.status()));
                }
                let body = r.text().await.map_err(|e| e.to_string())?;
                if !body.starts_with(expect) {
                    return Err(format!("unexpected body {body:?}"));
                }
                Ok(())
            }
        }
    };
    let (bare, bare_cpu) = server
        .measure(run(
            requests,
            concurrency,
            max,
            get(format!("{bare_url}/"), None, "hello stranger"),
        ))
        .await;
    let (anon, anon_cpu) = server
        .measure(run(
            requests,
            concurrency,
            max,
            get(format!("{app_url}/"), None, "hello stranger"),
        ))
        .await;
    let (signed, signed_cpu) = server
        .measure(run(
            requests,
            concurrency,
            max,
            get(format!("{app_url}/"), Some(cookie), "hello Alice"),
        ))
        .await;
    println!("{}", bare.line("requests, app without the layer", "req"));
    println!("{}", cpu_line("", bare_cpu));
    println!("{}", anon.line("requests, layer, anonymous", "req"));
    println!("{}", cpu_line("", anon_cpu));
    println!("{}", signed.line("requests, layer, signed in", "req"));
    println!("{}", cpu_line("", signed_cpu));
    println!(
        "{:<34} throughput vs bare: anonymous {:.3}, signed in {:.3}",
        "",
        anon.rate() / bare.rate(),
        signed.rate() / bare.rate()
    );
    if let (Some(b), Some(a), Some(s)) = (bare_cpu, anon_cpu, signed_cpu) {
        println!(
            "{:<34} server CPU vs bare: anonymous {:.3}x, signed in {:.3}x",
            "",
            a.per_job.as_secs_f64() / b.per_job.as_secs_f64(),
            s.per_job.as_secs_f64() / b.per_job.as_secs_f64()
        );
    }
    for s in [&bare, &anon, &signed] {
        if let Some(e) = &s.first_error {
            println!("  first error: {e}");
        }
        errors += s.errors;
    }
    println!("errors: {errors}");
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
