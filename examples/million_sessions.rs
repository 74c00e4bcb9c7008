//! A million live sessions (issue 21): made directly in Redis and in Postgres, 10,000 of them
//! active, requests spread over the active ones from 64 connections through an axum app with
//! `OidcLayer` and its session cache — throughput, p50/p99, the cache's hit rate, the server's
//! CPU per request and the process's RSS; and a million sessions in the memory store, with the
//! RSS they take.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1/ POSTGRES_URL=postgres://postgres@127.0.0.1/test \
//!   cargo run --release --all-features --example million_sessions
//! # knobs: MILLION_SESSIONS (1000000), MILLION_ACTIVE (10000), MILLION_REQUESTS (200000),
//! #        MILLION_CONCURRENCY (64), MILLION_BACKENDS (memory,redis,postgres)
//! ```
//!
//! Everything binds `127.0.0.1`; what it writes goes under a fresh Redis prefix and a fresh
//! Postgres schema, removed at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::{Router, routing::get};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tower_oidc::store::{
    Identity, IdpSession, MemoryStore, NewUser, SessionId, SessionRecord, SessionStore,
    SignInFacts, User, UserStore,
};
use tower_oidc::{Auth, OidcLayer, Providers};

mod load;
use load::{Server, cpu_line, knob, run};

const KEY: [u8; 64] = {
    let mut k = [3u8; 64];
    k[63] = 4;
    k
};
const ISSUER: &str = "https://auth.example.com/application/o/app/";

async fn home(req: Request) -> String {
    match Auth::from_extensions(req.extensions()).user() {
        Some(_) => "hello".to_owned(),
        None => "stranger".to_owned(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A session of an Authentik sign-in without tokens, far from any renewal.
fn record(user: &User, i: usize) -> SessionRecord {
    SessionRecord {
        created_at: now(),
        idp: Some(IdpSession {
            issuer: ISSUER.into(),
            subject: format!("{:064x}", i % 10_000),
            sid: Some(format!("{i:064x}")),
        }),
        sign_in: SignInFacts {
            auth_time: Some(now()),
            acr: Some("goauthentik.io/providers/oauth2/default".into()),
            amr: vec!["pwd".into()],
        },
        ..SessionRecord::new(user.clone(), "authentik", now() + 30 * 24 * 3600)
    }
}

fn cookie(id: &SessionId) -> String {
    let key = cookie::Key::try_from(&KEY[..]).unwrap();
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&key).add(cookie::Cookie::new(
        "tower_oidc_session",
        id.expose().to_owned(),
    ));
    format!(
        "tower_oidc_session={}",
        jar.get("tower_oidc_session").unwrap().value()
    )
}

/// The process's resident set (Linux), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The session cache's hits and misses so far.
fn cache_counts(snapshotter: &Snapshotter) -> (u64, u64) {
    let (mut hit, mut miss) = (0, 0);
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        if key.name() != tower_oidc::observe::CACHE_REQUESTS
            || !key
                .labels()
                .any(|l| l.key() == "cache" && l.value() == "sessions")
        {
            continue;
        }
        if let DebugValue::Counter(n) = value {
            if key.labels().any(|l| l.value() == "hit") {
                hit += n;
            } else {
                miss += n;
            }
        }
    }
    (hit, miss)
}

/// `active` users with a session each in `store`; their cookies.
async fn active_sessions(
    users: &MemoryStore,
    store: Arc<dyn SessionStore>,
    active: usize,
) -> Vec<String> {
    let mut cookies = Vec::with_capacity(active);
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..active {
        let user = users
            .create_with_identity(
                NewUser {
                    email: Some(format!("user{i}@example.com")),
                    email_verified: true,
                    name: Some(format!("User {i}")),
                    username: Some(format!("user{i}")),
                    groups: vec!["staff".into()],
                    ..NewUser::default()
                },
                &Identity {
                    provider: "authentik".into(),
                    issuer: ISSUER.into(),
                    subject: format!("{i:064x}"),
                },
            )
            .await
            .unwrap();
        let id = SessionId::random();
        cookies.push(cookie(&id));
        let (store, r) = (store.clone(), record(&user, i));
        writes.spawn(async move { store.store(&id, &r).await.unwrap() });
        if writes.len() >= 32 {
            writes.join_next().await;
        }
    }
    writes.join_all().await;
    cookies
}

/// Requests spread over `cookies` through a layer on `store`, on the server's runtime.
async fn requests(
    server: &Server,
    snapshotter: &Snapshotter,
    what: &str,
    users: MemoryStore,
    store: Arc<dyn SessionStore>,
    cookies: Vec<String>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(users.clone())
        .users(users)
        .sessions_arc(store)
        .base_url(format!("http://{}", listener.local_addr().unwrap()))
        .cookie_key(&KEY)
        .build()
        .unwrap();
    server.serve(listener, Router::new().route("/", get(home)).layer(layer));
    let concurrency = knob("MILLION_CONCURRENCY", 64);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let cookies = Arc::new(cookies);
    let next = Arc::new(AtomicUsize::new(0));
    let (hit0, miss0) = cache_counts(snapshotter);
    let (stats, cpu) = server
        .measure(run(
            knob("MILLION_REQUESTS", 200_000),
            concurrency,
            Duration::from_secs(120),
            move || {
                let (http, url, cookies) = (http.clone(), url.clone(), cookies.clone());
                // Spread over the active sessions, not in order.
                let i = next.fetch_add(1, Ordering::Relaxed).wrapping_mul(7919) % cookies.len();
                async move {
                    let r = http
                        .get(&url)
                        .header("cookie", &cookies[i])
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    match r.text().await.map_err(|e| e.to_string())?.as_str() {
                        "hello" => Ok(()),
                        other => Err(format!("not signed in: {other:?}")),
                    }
                }
            },
        ))
        .await;
    let (hit, miss) = cache_counts(snapshotter);
    let (hit, miss) = (hit - hit0, miss - miss0);
    println!("{}", stats.line(what, "req"));
    println!("{}", cpu_line("", cpu));
    if hit + miss > 0 {
        println!(
            "{:<34} session cache: {hit} hits, {miss} misses ({:.1}% hits)",
            "",
            100.0 * hit as f64 / (hit + miss) as f64
        );
    }
    println!("{:<34} process RSS {:.0} MiB", "", rss_mib());
    if let Some(e) = stats.first_error {
        println!("  first error: {e}");
        std::process::exit(1);
    }
}

fn tag() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install()?;
    let total = knob("MILLION_SESSIONS", 1_000_000);
    let active = knob("MILLION_ACTIVE", 10_000).min(total);
    let backends = std::env::var("MILLION_BACKENDS").unwrap_or("memory,redis,postgres".into());
    let server = Server::new()?;
    println!("tower-oidc: {total} live sessions, {active} active");

    for backend in backends.split(',') {
        let users = MemoryStore::new();
        let start = Instant::now();
        match backend {
            "memory" => {
                let store = MemoryStore::new();
                let before = rss_mib();
                let cookies = active_sessions(&users, Arc::new(store.clone()), active).await;
                let user =
                    User::from_new(tower_oidc::store::UserId("idle".into()), NewUser::default());
                for i in active..total {
                    store.store(&SessionId::random(), &record(&user, i)).await?;
                }
                let took = start.elapsed();
                let grew = rss_mib() - before;
                println!(
                    "memory: {total} sessions stored in {took:.1?}; RSS grew {grew:.0} MiB ({:.0} B per session)",
                    grew * 1024.0 * 1024.0 / total as f64
                );
                requests(
                    &server,
                    &snapshotter,
                    "memory",
                    users,
                    Arc::new(store),
                    cookies,
                )
                .await;
            }
            "redis" => {
                let url = std::env::var("REDIS_URL").unwrap_or("redis://127.0.0.1/".into());
                let prefix = format!("million:{}:", tag());
                let store = tower_oidc::store::RedisSessionStore::connect(&url)
                    .await?
                    .with_prefix(&prefix);
                let cookies = active_sessions(&users, Arc::new(store.clone()), active).await;
                let client = redis::Client::open(url.as_str())?;
                let mut conn = client.get_multiplexed_async_connection().await?;
                let user =
                    User::from_new(tower_oidc::store::UserId("idle".into()), NewUser::default());
                let at = (now() + 30 * 24 * 3600) * 1000;
                for chunk in (active..total).collect::<Vec<_>>().chunks(10_000) {
                    let mut pipe = redis::pipe();
                    for &i in chunk {
                        let key = format!("{prefix}session:{}", hex(&SessionId::random().digest()));
                        pipe.cmd("SET")
                            .arg(key)
                            .arg(serde_json::to_string(&record(&user, i))?)
                            .arg("PXAT")
                            .arg(at)
                            .ignore();
                    }
                    pipe.query_async::<()>(&mut conn).await?;
                }
                println!("redis: {total} sessions stored in {:.1?}", start.elapsed());
                requests(
                    &server,
                    &snapshotter,
                    "redis",
                    users,
                    Arc::new(store),
                    cookies,
                )
                .await;
                let mut cursor = 0u64;
                loop {
                    let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(format!("{prefix}*"))
                        .arg("COUNT")
                        .arg(10_000)
                        .query_async(&mut conn)
                        .await?;
                    if !keys.is_empty() {
                        redis::cmd("UNLINK")
                            .arg(keys)
                            .query_async::<()>(&mut conn)
                            .await?;
                    }
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
            }
            "postgres" => {
                use std::str::FromStr as _;
                let url = std::env::var("POSTGRES_URL")
                    .unwrap_or("postgres://postgres@127.0.0.1:5432/test".into());
                let schema = format!("million_{}", tag());
                let admin = sqlx::PgPool::connect(&url).await?;
                sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
                    .execute(&admin)
                    .await?;
                let options = sqlx::postgres::PgConnectOptions::from_str(&url)?
                    .options([("search_path", schema.as_str())]);
                let store = tower_oidc::store::PostgresStore::connect_with(options).await?;
                let cookies = active_sessions(&users, Arc::new(store.clone()), active).await;
                let user =
                    User::from_new(tower_oidc::store::UserId("idle".into()), NewUser::default());
                let json = serde_json::to_string(&record(&user, 0))?;
                sqlx::query(&format!(
                    "INSERT INTO {schema}.tower_oidc_sessions (id_hash, record_json, expires_at, \
                     version, user_id, provider, idp_issuer, idp_subject, idp_sid) \
                     SELECT encode(sha256(('idle' || i)::text::bytea), 'hex'), $1, $2, 0, 'idle', \
                     'authentik', $3, 'idle', 'sid' || i FROM generate_series($4::bigint, $5::bigint) i"
                ))
                .bind(json)
                .bind(i64::try_from(now() + 30 * 24 * 3600)?)
                .bind(ISSUER)
                .bind(i64::try_from(active)?)
                .bind(i64::try_from(total)? - 1)
                .execute(&admin)
                .await?;
                println!(
                    "postgres: {total} sessions stored in {:.1?}",
                    start.elapsed()
                );
                requests(
                    &server,
                    &snapshotter,
                    "postgres",
                    users,
                    Arc::new(store),
                    cookies,
                )
                .await;
                sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await?;
            }
            other => return Err(format!("unknown backend {other}").into()),
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
