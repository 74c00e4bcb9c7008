//! Sessions that live (issue 16): the access token kept with the session, refreshed once per
//! expiry across instances, what a refresh does and does not do, and sliding expiry. Runs on
//! the backend of `TOWER_OIDC_CONFORMANCE_BACKEND` like the rest of the suite (memory, SQLite,
//! Postgres + Redis in CI), with two app instances sharing one store and one manual clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::{Router, routing::get};
use tower_oidc::session::SessionTiming;
use tower_oidc::store::{SessionId, SessionRecord, SessionStore, SettingsStore, StoreError};
use tower_oidc::testing::{Endpoint, FakeAuthentik, FakeUser, Fault};
use tower_oidc::{Auth, Clock};

use crate::common::store::{AtRest, TestStore};
use crate::common::{App, UrlForm, authentik_settings, builder, client, session, sign_in};

const KEY: [u8; 64] = *b"0123456789abcdef0123456789abcdef-tokens-test-key-fedcba987654321";

/// `GET /token`: the session's access token (200), or the error code with its status.
async fn token(req: Request) -> (StatusCode, String) {
    match Auth::from_extensions(req.extensions()).access_token().await {
        Ok(t) => (StatusCode::OK, t.secret().to_owned()),
        Err(e) => (e.code().status(), e.code().as_str().to_owned()),
    }
}

/// A fake Authentik that issues refresh tokens (`offline_access` mapped), with alice.
pub(crate) async fn fake() -> FakeAuthentik {
    FakeAuthentik::builder()
        .scopes(["openid", "email", "profile", "offline_access"])
        .user(
            FakeUser::new("alice")
                .name("Alice")
                .email("alice@example.com")
                .groups(["users"]),
        )
        .start()
        .await
}

/// The app's session store, with session loads that answer `SLOW_LOAD` after reading while
/// `slow` is on — so that concurrent requests all read the session before any of them changes
/// it.
#[derive(Clone)]
struct SlowLoads {
    inner: TestStore,
    slow: Arc<AtomicBool>,
}

const SLOW_LOAD: Duration = Duration::from_millis(150);

impl SlowLoads {
    async fn pause(&self) {
        if self.slow.load(Ordering::SeqCst) {
            tokio::time::sleep(SLOW_LOAD).await;
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for SlowLoads {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let r = self.inner.load(id).await;
        self.pause().await;
        r
    }
    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let r = self.inner.load_shared(id).await;
        self.pause().await;
        r
    }
    async fn store(&self, id: &SessionId, record: &SessionRecord) -> Result<(), StoreError> {
        self.inner.store(id, record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        SessionStore::delete(&self.inner, id).await
    }
    async fn compare_and_swap(
        &self,
        id: &SessionId,
        next: &SessionRecord,
    ) -> Result<bool, StoreError> {
        self.inner.compare_and_swap(id, next).await
    }
    async fn find_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.find_sessions(filter).await
    }
    async fn end_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.end_sessions(filter).await
    }
    async fn consume_transaction(
        &self,
        id: &str,
        expires_at: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        self.inner.consume_transaction(id, expires_at).await
    }
}

/// An app instance on `store` with the shared key and clock.
async fn instance(store: &TestStore, clock: &Clock, timing: Option<SessionTiming>) -> App {
    instance_with(store, clock, timing, None, None, None).await
}

async fn instance_with(
    store: &TestStore,
    clock: &Clock,
    timing: Option<SessionTiming>,
    slow: Option<Arc<AtomicBool>>,
    providers: Option<tower_oidc::Providers>,
    sessions: Option<Arc<dyn SessionStore>>,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut b = builder(store, &url).cookie_key(&KEY).clock(clock.clone());
    if let Some(slow) = slow {
        b = b.sessions(SlowLoads {
            inner: store.clone(),
            slow,
        });
    }
    if let Some(t) = timing {
        b = b.session_timing(t);
    }
    if let Some(p) = providers {
        b = b.providers(p);
    }
    if let Some(s) = sessions {
        b = b.sessions_arc(s);
    }
    let layer = b.build().unwrap();
    let router = Router::new()
        .route("/token", get(token))
        .route(
            "/claims",
            get(|req: Request| async move {
                axum::Json(Auth::from_extensions(req.extensions()).claims().clone())
            }),
        )
        .route(
            "/user-token",
            get(|u: tower_oidc::CurrentUser| async move {
                u.access_token()
                    .await
                    .map(|t| t.secret().to_owned())
                    .unwrap_or_default()
            }),
        )
        .layer(layer.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    App {
        url,
        provider: "authentik".into(),
        client: client(),
        layer,
        store: store.clone(),
        task,
    }
}

async fn setup(fake: &FakeAuthentik, timing: Option<SessionTiming>) -> (App, Clock) {
    let store = TestStore::from_env().await;
    SettingsStore::put(
        &store,
        "authentik",
        &authentik_settings(fake, UrlForm::Instance),
    )
    .await
    .unwrap();
    let clock = Clock::manual();
    let app = instance(&store, &clock, timing).await;
    (app, clock)
}

async fn get_token(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(format!("{url}/token")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The session has ended: no token (`session_expired`), and signed out.
async fn assert_session_ended(app: &App) {
    assert_eq!(
        get_token(&app.client, &app.url).await,
        (401, "session_expired".into())
    );
    assert_eq!(session(app).await.0, 401, "signed out");
}

/// The refresh grants the fake received, with the refresh token each sent.
fn refresh_grants(fake: &FakeAuthentik) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.endpoint == Some(Endpoint::Token)
                && r.form_param("grant_type") == Some("refresh_token")
        })
        .map(|r| r.form_param("refresh_token").unwrap_or_default().to_owned())
        .collect()
}

/// Issue 16: the sign-in asks for `offline_access`, keeps the access token, and hands it out
/// without a refresh while it is fresh; once it expires, one refresh grant brings a new token,
/// and the group added at the provider in between reaches the session's user.
#[tokio::test]
async fn expired_access_token_is_refreshed_once_and_the_profile_follows() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let authorize = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::Authorize))
        .unwrap();
    let scope = authorize.query_param("scope").unwrap().to_owned();
    assert!(scope.split(' ').any(|s| s == "offline_access"), "{scope}");
    let (status, first) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(get_token(&app.client, &app.url).await, (200, first.clone()));
    let via_extractor = app.client.get(app.at("/user-token")).send().await.unwrap();
    assert_eq!(
        via_extractor.text().await.unwrap(),
        first,
        "CurrentUser::access_token"
    );
    assert!(
        refresh_grants(&fake).is_empty(),
        "a fresh token is not refreshed"
    );
    assert!(fake.update_user("alice", |u| u.set_groups(["users", "staff"])));
    clock.advance(Duration::from_secs(3600));
    let (status, second) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second, first, "a new access token");
    assert_eq!(refresh_grants(&fake).len(), 1);
    let (status, me) = session(&app).await;
    assert_eq!(status, 200);
    assert_eq!(me["groups"], serde_json::json!(["users", "staff"]), "{me}");
    // The new token is fresh: no second grant.
    assert_eq!(get_token(&app.client, &app.url).await, (200, second));
    assert_eq!(refresh_grants(&fake).len(), 1);
}

/// Issue 16: sixteen requests of one session on two instances need a token at the same moment:
/// exactly one refresh grant reaches the provider, none is refused, and every request gets the
/// new token. Authentik rotates refresh tokens, so a second grant would be `invalid_grant`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_requests_on_two_instances_refresh_once() {
    let fake = fake().await;
    let (signing, clock) = setup(&fake, None).await;
    let slow = Arc::new(AtomicBool::new(false));
    let a = instance_with(&signing.store, &clock, None, Some(slow.clone()), None, None).await;
    let b = instance_with(&signing.store, &clock, None, Some(slow.clone()), None, None).await;
    assert!(sign_in(&a, "alice").await.set_session());
    let (_, first) = get_token(&a.client, &a.url).await;
    clock.advance(Duration::from_secs(3600));
    // Every request reads the session (with the expired token) before any takes the refresh
    // lease, and the refresh is slow: all sixteen want to refresh at the same moment.
    slow.store(true, Ordering::SeqCst);
    fake.fault(Endpoint::Token, Fault::Delay(Duration::from_millis(300)));
    let urls: Vec<String> = (0..16)
        .map(|i| {
            if i % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            }
        })
        .collect();
    let answers =
        futures_util::future::join_all(urls.iter().map(|u| get_token(&a.client, u))).await;
    let grants = refresh_grants(&fake);
    assert_eq!(grants.len(), 1, "exactly one refresh grant: {answers:?}");
    let new = &answers[0].1;
    assert_ne!(new, &first);
    for (status, token) in &answers {
        assert_eq!(
            (*status, token),
            (200, new),
            "every request gets the new token"
        );
    }
    // Both instances go on with it.
    assert_eq!(get_token(&a.client, &b.url).await, (200, new.clone()));
}

/// Issue 16, rotation: refreshes on alternating instances each send the refresh token the
/// previous refresh rotated in — never one that was already sent — and none is refused.
#[tokio::test]
async fn a_rotated_refresh_token_is_never_sent_again() {
    let fake = fake().await;
    let (a, clock) = setup(&fake, None).await;
    let b = instance(&a.store, &clock, None).await;
    assert!(sign_in(&a, "alice").await.set_session());
    let mut tokens = vec![get_token(&a.client, &a.url).await.1];
    for round in 0..4 {
        clock.advance(Duration::from_secs(3600));
        let url = if round % 2 == 0 { &b.url } else { &a.url };
        let (status, t) = get_token(&a.client, url).await;
        assert_eq!(status, 200, "round {round}: {t}");
        assert!(!tokens.contains(&t), "round {round}: a new access token");
        tokens.push(t);
    }
    let grants = refresh_grants(&fake);
    assert_eq!(grants.len(), 4);
    let mut distinct = grants.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "each refresh token is sent once");
}

/// Issue 16: `invalid_grant` (Authentik's answer to a revoked, expired or reused refresh
/// token) ends the session: `session_expired`, and the user is signed out.
#[tokio::test]
async fn invalid_grant_on_refresh_signs_the_user_out() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    fake.fault(
        Endpoint::Token,
        Fault::Body {
            status: 400,
            content_type: "application/json".into(),
            body: br#"{"error":"invalid_grant","error_description":"The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client","request_id":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
        },
    );
    clock.advance(Duration::from_secs(3600));
    assert_session_ended(&app).await;
}

/// Issue 16: an IdP outage (503 from the token endpoint) keeps the session and its current
/// token while it lasts, retries after the pause, and refuses an expired token with
/// `provider_unreachable` — never signing the user out.
#[tokio::test]
async fn a_503_from_the_token_endpoint_keeps_the_session() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, first) = get_token(&app.client, &app.url).await;
    fake.fault(Endpoint::Token, Fault::Status(503));
    // Within the refresh skew (60 s) of the expiry, but not expired: the refresh fails, the
    // current token is served.
    clock.advance(Duration::from_secs(3600 - 30));
    assert_eq!(get_token(&app.client, &app.url).await, (200, first.clone()));
    assert_eq!(refresh_grants(&fake).len(), 1);
    // Within the retry pause: no new grant.
    assert_eq!(get_token(&app.client, &app.url).await, (200, first.clone()));
    assert_eq!(refresh_grants(&fake).len(), 1);
    // Expired, the pause over, the provider still down: refused, but still signed in.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        get_token(&app.client, &app.url).await,
        (502, "provider_unreachable".into())
    );
    assert_eq!(refresh_grants(&fake).len(), 2);
    assert_eq!(session(&app).await.0, 200, "still signed in");
    // The provider is back: the next try after the pause refreshes.
    fake.clear_fault(Endpoint::Token);
    clock.advance(Duration::from_secs(31));
    let (status, fresh) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "{fresh}");
    assert_ne!(fresh, first);
    assert_eq!(refresh_grants(&fake).len(), 3);
}

/// Issue 16: without `offline_access` granted there is no refresh token: the sign-in's token
/// is served until it expires, then `session_expired`; no refresh grant is ever sent.
#[tokio::test]
async fn without_a_refresh_token_the_token_serves_until_it_expires() {
    let fake = FakeAuthentik::builder()
        .user(FakeUser::new("alice").email("alice@example.com"))
        .start()
        .await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (status, first) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200);
    clock.advance(Duration::from_secs(3600 - 30));
    assert_eq!(get_token(&app.client, &app.url).await, (200, first));
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        get_token(&app.client, &app.url).await,
        (401, "session_expired".into())
    );
    assert!(refresh_grants(&fake).is_empty());
    assert_eq!(session(&app).await.0, 200, "the session itself lives on");
}

fn session_max_age(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tower_oidc_session="))
        .and_then(|c| {
            c.split(';')
                .find_map(|p| p.trim().strip_prefix("Max-Age="))
                .and_then(|v| v.parse().ok())
        })
}

/// Issue 16, sliding sessions: activity moves the idle expiry — with a store write and a new
/// cookie only when it moves by more than the renew step — and never past the absolute
/// lifetime; idleness past the idle timeout ends the session.
#[tokio::test]
async fn sessions_slide_with_activity_up_to_the_absolute_lifetime() {
    let fake = fake().await;
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let timing = SessionTiming {
        idle: minutes(60),
        absolute: minutes(180),
        renew_step: minutes(10),
        ..SessionTiming::default()
    };
    let (app, clock) = setup(&fake, Some(timing)).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let probe = |app: &App| {
        let c = app.client.clone();
        let url = app.at("/api/auth/session");
        async move {
            c.get(url)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap()
        }
    };
    // t = 5 min: the expiry would move by 5 min (< step): no renewal.
    clock.advance(minutes(5));
    let r = probe(&app).await;
    assert_eq!(r.status(), 200);
    assert_eq!(session_max_age(&r), None, "no cookie under the step");
    // t = 25 min: renewed to t + 60 min, with a new cookie.
    clock.advance(minutes(20));
    let r = probe(&app).await;
    assert_eq!(r.status(), 200);
    assert_eq!(session_max_age(&r), Some(3600));
    // t = 80 min: alive only because of the renewal (sign-in + 60 = 60 < 80); renewed again.
    clock.advance(minutes(55));
    let r = probe(&app).await;
    assert_eq!(r.status(), 200, "the renewal kept it alive");
    assert_eq!(session_max_age(&r), Some(3600));
    // t = 130 min: renewed only up to the absolute lifetime (t = 180 min).
    clock.advance(minutes(50));
    let r = probe(&app).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        session_max_age(&r),
        Some(50 * 60),
        "capped at the absolute lifetime"
    );
    // t = 170 min: still alive, nothing left to renew.
    clock.advance(minutes(40));
    let r = probe(&app).await;
    assert_eq!(r.status(), 200);
    assert_eq!(session_max_age(&r), None);
    // t = 181 min: over, however active.
    clock.advance(minutes(11));
    assert_eq!(probe(&app).await.status(), 401);
}

/// Issue 16, idle timeout: a session unused for longer than the idle timeout has ended.
#[tokio::test]
async fn an_idle_session_ends_after_the_idle_timeout() {
    let fake = fake().await;
    let timing = SessionTiming {
        idle: Duration::from_secs(3600),
        ..SessionTiming::default()
    };
    let (app, clock) = setup(&fake, Some(timing)).await;
    assert!(sign_in(&app, "alice").await.set_session());
    clock.advance(Duration::from_secs(3500));
    assert_eq!(session(&app).await.0, 200);
    // The renewal at 3,500 s moved the expiry to 7,100 s (the renew step is at most half the
    // idle timeout); idle from there.
    clock.advance(Duration::from_secs(3601));
    assert_eq!(session(&app).await.0, 401);
}

/// Issue 16, secrets at rest: the session's access and refresh tokens are sealed before the
/// store sees them — not readable in the SQLite files, in Redis, or in the Postgres session
/// table (the postgres-redis backend runs it on both); on the memory backend there is nothing
/// at rest (the sealing itself is pinned by the unit test in `session/sealed.rs`).
#[tokio::test]
async fn tokens_are_not_readable_at_rest() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    let at_rest = app.store.at_rest.clone();
    tokens_sealed_in(&fake, &app, &clock, &at_rest).await;
    if let Some((sessions, at_rest)) = app.store.sql_sessions.clone() {
        let app = instance_with(&app.store, &clock, None, None, None, Some(sessions)).await;
        tokens_sealed_in(&fake, &app, &clock, &at_rest).await;
    }
}

async fn tokens_sealed_in(fake: &FakeAuthentik, app: &App, clock: &Clock, at_rest: &AtRest) {
    assert!(sign_in(app, "alice").await.set_session());
    let (_, access) = get_token(&app.client, &app.url).await;
    let before = at_rest.read().await;
    // The refresh grant shows the refresh token the session held.
    clock.advance(Duration::from_secs(3600));
    let (status, renewed) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200);
    let refresh = refresh_grants(fake).pop().unwrap();
    assert!(refresh.len() >= 32 && access.len() >= 32);
    let after = at_rest.read().await;
    let (Some(before), Some(after)) = (before, after) else {
        return;
    };
    let holds =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    // What the scan sees would show a token stored in clear: the session's user id is there.
    let (_, me) = session(app).await;
    assert!(
        holds(&after, me["id"].as_str().unwrap()),
        "the scan sees the session"
    );
    assert!(!holds(&before, &access), "access token in clear at rest");
    assert!(!holds(&before, &refresh), "refresh token in clear at rest");
    assert!(
        !holds(&after, &renewed),
        "refreshed access token in clear at rest"
    );
}

/// The signed-in session's extra claims, as the app reads them.
async fn claims_of(app: &App) -> serde_json::Value {
    let r = app.client.get(app.at("/claims")).send().await.unwrap();
    r.json().await.unwrap()
}

/// Issue 16, extra claims: `[providers.<id>.claims.extra]` keeps claims beyond the fixed fields
/// with the session (Authentik's `ak_proxy`, a tenant id), readable through `Auth::claims`, and
/// a token refresh brings their new values.
#[tokio::test]
async fn extra_claims_are_kept_and_follow_a_refresh() {
    let fake = fake().await;
    fake.set_id_token_claims(|c| {
        c.insert(
            "ak_proxy".into(),
            serde_json::json!({"user_attributes": {"team": "blue"}}),
        );
        c.insert("tid".into(), serde_json::json!("tenant-1"));
    });
    let (signing, clock) = setup(&fake, None).await;
    let providers = tower_oidc::Providers::builtin()
        .with_toml_str(
            "extra",
            "[providers.authentik.claims.extra]\nproxy = \"ak_proxy\"\ntenant = [\"tenant_id\", \"tid\"]\nmissing = \"nope\"\n",
        )
        .unwrap();
    let app = instance_with(&signing.store, &clock, None, None, Some(providers), None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let claims = claims_of(&app).await;
    assert_eq!(
        claims,
        serde_json::json!({
            "proxy": {"user_attributes": {"team": "blue"}},
            "tenant": "tenant-1",
        })
    );
    fake.set_id_token_claims(|c| {
        c.insert("tid".into(), serde_json::json!("tenant-2"));
    });
    clock.advance(Duration::from_secs(3600));
    assert_eq!(get_token(&app.client, &app.url).await.0, 200);
    let claims = claims_of(&app).await;
    assert_eq!(
        claims,
        serde_json::json!({"tenant": "tenant-2"}),
        "after the refresh"
    );
}

/// Review of issue 16: a sliding renewal that lands while a refresh is in flight does not make
/// the refresh drop the tokens it was given (the spent refresh token would be sent again, and
/// refused, at the next refresh).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliding_renewal_during_a_refresh_loses_no_token() {
    let fake = fake().await;
    let timing = SessionTiming {
        idle: Duration::from_secs(2 * 3600),
        renew_step: Duration::from_secs(60),
        refresh_lease: Duration::from_secs(600),
        ..SessionTiming::default()
    };
    let (app, clock) = setup(&fake, Some(timing)).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, first) = get_token(&app.client, &app.url).await;
    // The token has expired (the request that refreshes renews the session first).
    clock.advance(Duration::from_secs(3600));
    fake.fault(Endpoint::Token, Fault::Delay(Duration::from_millis(400)));
    let refreshing = tokio::spawn({
        let (c, url) = (app.client.clone(), app.url.clone());
        async move { get_token(&c, &url).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    // While the grant is in flight, time passes past the renew step: another request would
    // renew the session under the refresh.
    clock.advance(Duration::from_secs(120));
    assert_eq!(session(&app).await.0, 200, "a request during the refresh");
    let (status, second) = refreshing.await.unwrap();
    assert_eq!(status, 200, "{second}");
    assert_ne!(second, first);
    fake.clear_fault(Endpoint::Token);
    clock.advance(Duration::from_secs(3600));
    let (status, third) = get_token(&app.client, &app.url).await;
    assert_eq!(
        status, 200,
        "the next refresh uses the rotated token: {third}"
    );
    assert_eq!(refresh_grants(&fake).len(), 2);
}

/// Review of issue 16: a request cancelled while its refresh is in flight (the client went
/// away) does not lose the refresh token the provider rotated: the refresh finishes on its own
/// and the next request gets the new token without another grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_does_not_lose_the_rotated_token() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, first) = get_token(&app.client, &app.url).await;
    clock.advance(Duration::from_secs(3600));
    fake.fault(Endpoint::Token, Fault::Delay(Duration::from_millis(400)));
    let gave_up = app
        .client
        .get(app.at("/token"))
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client gave up");
    tokio::time::sleep(Duration::from_millis(800)).await;
    fake.clear_fault(Endpoint::Token);
    let (status, second) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second, first);
    assert_eq!(refresh_grants(&fake).len(), 1, "no second grant");
    clock.advance(Duration::from_secs(3600));
    assert_eq!(get_token(&app.client, &app.url).await.0, 200);
    assert_eq!(refresh_grants(&fake).len(), 2);
}

/// Review of issue 16: a refreshed ID token that names another subject ends the session — it
/// is not the user the session was opened for — rather than being retried.
#[tokio::test]
async fn a_refreshed_id_token_for_another_subject_ends_the_session() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    fake.set_id_token_claims(|c| {
        c.insert("sub".into(), serde_json::json!("someone-else"));
    });
    clock.advance(Duration::from_secs(3600));
    assert_session_ended(&app).await;
}

/// Review of issue 16: when userinfo fails after a successful grant, the new tokens are still
/// kept (the old refresh token is spent); the profile waits for the next refresh.
#[tokio::test]
async fn userinfo_down_during_a_refresh_keeps_the_new_tokens() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, first) = get_token(&app.client, &app.url).await;
    fake.fault(Endpoint::Userinfo, Fault::Status(503));
    clock.advance(Duration::from_secs(3600));
    let (status, second) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second, first);
    fake.clear_fault(Endpoint::Userinfo);
    clock.advance(Duration::from_secs(3600));
    let (status, third) = get_token(&app.client, &app.url).await;
    assert_eq!(status, 200, "the rotated refresh token was kept: {third}");
    assert_eq!(refresh_grants(&fake).len(), 2);
    assert_eq!(session(&app).await.0, 200);
}

/// Issue 17: a session that ends (here: signed out) while its refresh grant is in flight keeps
/// none of the grant's tokens, and the refresh token the provider rotated in is revoked there —
/// the sign-out could revoke only the spent one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_ended_during_a_refresh_revokes_the_rotated_token() {
    let fake = fake().await;
    let (app, clock) = setup(&fake, None).await;
    assert!(sign_in(&app, "alice").await.set_session());
    assert_eq!(fake.live_refresh_tokens("alice"), 1);
    clock.advance(Duration::from_secs(3600));
    // The fake rotates at once and answers after 400 ms.
    fake.fault(Endpoint::Token, Fault::Delay(Duration::from_millis(400)));
    let (c, url) = (app.client.clone(), app.url.clone());
    let refreshing = tokio::spawn(async move { get_token(&c, &url).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = app
        .client
        .post(app.at("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        refreshing.await.unwrap().0,
        401,
        "no token for an ended session"
    );
    fake.clear_fault(Endpoint::Token);
    assert_eq!(refresh_grants(&fake).len(), 1);
    let mut live = fake.live_refresh_tokens("alice");
    for _ in 0..40 {
        if live == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        live = fake.live_refresh_tokens("alice");
    }
    assert_eq!(live, 0, "the rotated refresh token was revoked");
}
