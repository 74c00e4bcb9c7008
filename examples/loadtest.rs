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

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::{Router, routing::get};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{MemoryStore, SettingsStore};
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, SigningMode};
use tower_oidc::{Auth, OidcLayer, Providers, Secret};

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn home(req: Request) -> String {
    match Auth::from_extensions(req.extensions()).user() {
        Some(u) => format!("hello {}", u.name.as_deref().unwrap_or("you")),
        None => "hello stranger".to_owned(),
    }
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn set_cookies(r: &reqwest::Response, prefix: &str) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(prefix))
        .filter_map(|v| v.split(';').next().map(str::to_owned))
        .filter(|c| !c.ends_with('='))
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
    set_cookies(&r, "tower_oidc_session=")
        .pop()
        .ok_or_else(|| format!("callback answered {} without a session", r.status()))
}

struct Stats {
    done: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
    fn line(&self, what: &str, unit: &str) -> String {
        format!(
            "{what:<34} {:>7} done  {:>9.0} {unit}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
            self.done,
            self.rate(),
            self.pct(0.50).as_secs_f64() * 1e3,
            self.pct(0.99).as_secs_f64() * 1e3,
            self.errors
        )
    }
}

/// Runs `total` jobs, `concurrency` at a time, stopping early after `max`.
async fn run<F, Fut>(total: usize, concurrency: usize, max: Duration, job: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            while next.fetch_add(1, Ordering::Relaxed) < total && start.elapsed() < max {
                let t = Instant::now();
                match job().await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (l, e, f) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Stats {
        done: latencies.len(),
        errors,
        elapsed,
        latencies,
        first_error,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app_url = format!("http://{}", listener.local_addr()?);
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(app_url.clone())
        .build()?;
    let with_layer = Router::new().route("/", get(home)).layer(layer);
    tokio::spawn(async move { axum::serve(listener, with_layer).await.unwrap() });
    let bare_url = serve(Router::new().route("/", get(home))).await;

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
    let s = {
        let (http, app, session) = (http.clone(), app_url.clone(), session.clone());
        run(signins, concurrency, max, move || {
            let (http, app, session) = (http.clone(), app.clone(), session.clone());
            async move {
                let cookie = sign_in(&http, &app).await?;
                *session.lock().unwrap() = Some(cookie);
                Ok(())
            }
        })
        .await
    };
    println!("{}", s.line("sign-ins", "sign-ins"));
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
    let bare = run(
        requests,
        concurrency,
        max,
        get(format!("{bare_url}/"), None, "hello stranger"),
    )
    .await;
    let anon = run(
        requests,
        concurrency,
        max,
        get(format!("{app_url}/"), None, "hello stranger"),
    )
    .await;
    let signed = run(
        requests,
        concurrency,
        max,
        get(format!("{app_url}/"), Some(cookie), "hello Alice"),
    )
    .await;
    println!("{}", bare.line("requests, app without the layer", "req"));
    println!("{}", anon.line("requests, layer, anonymous", "req"));
    println!("{}", signed.line("requests, layer, signed in", "req"));
    println!(
        "{:<34} throughput vs bare: anonymous {:.3}, signed in {:.3}",
        "",
        anon.rate() / bare.rate(),
        signed.rate() / bare.rate()
    );
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
