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
//! the layer, each with the allocations made on that thread (`load::CountingAlloc`). The
//! sign-in is timed twice: whole, where the server mostly waits for the fake to sign RSA-4096
//! tokens (each wake-up costs), and split into the app's authorize steps and its callbacks,
//! each phase keeping the server busy, with the tokens signed by the fake between the two
//! (`sign_tokens_at_authorize`). Beside the callbacks runs their floor (`load::floor`): a bare
//! handler doing the same outside work (two requests to the fake, one RSA-4096 check), so the
//! last line can say what the library itself adds.

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
use load::floor::Floor;
use load::{CountingAlloc, Server, cpu_line, knob, merge, run};

// Counts the allocations made on the apps' thread, for the per-phase figures.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

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

/// The app's authorize step: the provider's URL to go to and the transaction cookie.
async fn authorize(http: &reqwest::Client, app: &str) -> Result<(String, String), String> {
    let r = http
        .get(format!("{app}/api/auth/providers/authentik/authorize"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 302 {
        return Err(format!("authorize answered {}", r.status()));
    }
    Ok((location(&r)?, set_cookies(&r, "tower_oidc_tx=").join("; ")))
}

/// The provider's authorize step (alice is signed in there): the app's callback URL.
async fn at_provider(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let r = http.get(url).send().await.map_err(|e| e.to_string())?;
    if r.status() != 302 {
        return Err(format!("provider authorize answered {}", r.status()));
    }
    location(&r)
}

/// The app's callback: the session cookie.
async fn callback(http: &reqwest::Client, url: &str, tx: String) -> Result<String, String> {
    let r = http
        .get(url)
        .header(COOKIE, tx)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    set_cookies(&r, "tower_oidc_session=").pop().ok_or_else(|| {
        format!(
            "callback answered {} without a session (to {})",
            r.status(),
            location(&r).unwrap_or_default()
        )
    })
}

/// The floor's request (`load::floor`): `200`, or the handler's word on what went wrong.
async fn floor(http: &reqwest::Client, url: &str) -> Result<(), String> {
    let r = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("floor answered {status}: {body}"));
    }
    Ok(())
}

/// One browser's sign-in with its own cookies: app authorize → provider → app callback.
/// Returns the session cookie.
async fn sign_in(http: &reqwest::Client, app: &str) -> Result<String, String> {
    let (to_provider, tx) = authorize(http, app).await?;
    let back = at_provider(http, &to_provider).await?;
    callback(http, &back, tx).await
}

/// A queue of prepared steps shared by a phase's jobs.
type Queue<T> = Arc<std::sync::Mutex<Vec<T>>>;

fn pop<T>(q: &Queue<T>) -> Result<T, String> {
    q.lock()
        .map_err(|_| "queue poisoned".to_owned())?
        .pop()
        .ok_or_else(|| "nothing prepared".to_owned())
}

fn push<T>(q: &Queue<T>, item: T) -> Result<(), String> {
    q.lock()
        .map_err(|_| "queue poisoned".to_owned())?
        .push(item);
    Ok(())
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
        // Phase 1b times the app's callbacks alone: the tokens are signed at the fake's
        // authorize step, and codes must outlive the phases between.
        .sign_tokens_at_authorize(true)
        .code_validity(Duration::from_secs(600))
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
    // The callback's outside work without the library (`load::floor`), on the same runtime.
    let floor_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let floor_url = format!("http://{}/floor", floor_listener.local_addr()?);
    server.serve(floor_listener, Floor::new(&fake, "alice").await?.router());

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

    // 1b. The library's own CPU per sign-in, with the fake's signing out of the way: the app's
    // authorize steps (timed), the fake's steps, which sign the tokens (not timed), then the
    // app's callbacks (timed), whose token requests the fake answers from memory.
    let to_provider: Queue<(String, String)> = Arc::default();
    let to_app: Queue<(String, String)> = Arc::default();
    let (a, authorize_cpu) = {
        let (http, app, q) = (http.clone(), app_url.clone(), to_provider.clone());
        server
            .measure(run(signins, concurrency, max, move || {
                let (http, app, q) = (http.clone(), app.clone(), q.clone());
                async move { push(&q, authorize(&http, &app).await?) }
            }))
            .await
    };
    println!("{}", a.line("app authorize steps", "req"));
    println!("{}", cpu_line("", authorize_cpu));
    let p = {
        let (http, from, to) = (http.clone(), to_provider.clone(), to_app.clone());
        run(a.done, concurrency, max * 4, move || {
            let (http, from, to) = (http.clone(), from.clone(), to.clone());
            async move {
                let (url, tx) = pop(&from)?;
                push(&to, (at_provider(&http, &url).await?, tx))
            }
        })
        .await
    };
    // 1c. The callbacks, alternating in chunks with their floor: a bare handler doing the same
    // outside work (two requests to the fake, one RSA-4096 check), so that what the library
    // adds can be told from the machine. Alternating keeps both under the same conditions
    // (this machine's speed drifts by a third over seconds).
    const CHUNKS: usize = 10;
    let chunk = p.done.div_ceil(CHUNKS).max(1);
    let (mut callbacks, mut floors) = (Vec::new(), Vec::new());
    for _ in 0..CHUNKS {
        let (client, q) = (http.clone(), to_app.clone());
        callbacks.push(
            server
                .measure(run(chunk, concurrency, max, move || {
                    let (http, q) = (client.clone(), q.clone());
                    async move {
                        let (url, tx) = pop(&q)?;
                        callback(&http, &url, tx).await.map(drop)
                    }
                }))
                .await,
        );
        let (client, url) = (http.clone(), floor_url.clone());
        floors.push(
            server
                .measure(run(chunk, concurrency, max, move || {
                    let (http, url) = (client.clone(), url.clone());
                    async move { floor(&http, &url).await }
                }))
                .await,
        );
    }
    let ((c, callback_cpu), (f, floor_cpu)) = (merge(callbacks), merge(floors));
    println!("{}", c.line("app callbacks (tokens pre-signed)", "req"));
    println!("{}", cpu_line("", callback_cpu));
    if let (Some(a), Some(c)) = (authorize_cpu, callback_cpu) {
        let total = a.per_job + c.per_job;
        println!(
            "{:<34} library CPU per sign-in (authorize + callback): {:.1} µs, {:.0} sign-ins per second per core",
            "",
            total.as_secs_f64() * 1e6,
            1.0 / total.as_secs_f64()
        );
    }
    println!("{}", f.line("floor: callback's outside work", "req"));
    println!("{}", cpu_line("", floor_cpu));
    for s in [&a, &p, &c, &f] {
        if let Some(e) = &s.first_error {
            println!("  first error: {e}");
        }
        errors += s.errors;
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
    // The library's own CPU per sign-in: what the authorize step adds to a bare request, and
    // what the callback adds to its floor.
    if let (Some(a), Some(c), Some(f), Some(b)) = (authorize_cpu, callback_cpu, floor_cpu, bare_cpu)
    {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (authorize, callback) = (us(a.per_job) - us(b.per_job), us(c.per_job) - us(f.per_job));
        println!(
            "{:<34} library's own CPU per sign-in: {:.1} µs (authorize {:.1} µs over a bare request, callback {:.1} µs over its floor of {:.1} µs)",
            "",
            authorize + callback,
            authorize,
            callback,
            us(f.per_job)
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
