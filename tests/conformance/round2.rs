//! Security round two: the holes a review found after the first matrix run, each pinned by a
//! test that fails on the code before the fix (H1 cookie tossing, live authorization, N1/N6
//! failure backoff, key rotation without `kid`, stale cookies, store outages, silent failures).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tower_oidc::store::{
    Identity, MemoryStore, NewUser, SessionStore, StoreError, User, UserId, UserStore, UserUpdate,
};
use tower_oidc::testing::{Endpoint, Fault, Tamper};

use crate::common::*;

/// H1 (cookie tossing): a sibling subdomain plants its own login transaction cookie and sends
/// the victim to the callback with the attacker's code. The victim's browser then carries two
/// transaction cookies (the planted one first); which is ours cannot be told, so the callback
/// is refused — before, the first one won and the victim was signed in as the attacker.
#[tokio::test]
async fn h1_planted_transaction_cookie_is_refused() {
    let (fake, app) = fresh().await;
    // The attacker's own sign-in, up to the provider's redirect back: a code and a state for bob.
    let attacker = bare_client();
    let r = authorize(&app, &attacker, "?login_hint=bob").await;
    let planted = tx_cookie(&r);
    let attackers_callback = to_callback(&attacker, &r).await;
    // The victim's own pending sign-in.
    let victim = bare_client();
    let r = authorize(&app, &victim, "?login_hint=alice").await;
    let victims = tx_cookie(&r);
    let tokens = fake.count(Endpoint::Token);
    let r = victim
        .get(&attackers_callback)
        .header("cookie", format!("{planted}; {victims}"))
        .send()
        .await
        .unwrap();
    let to = location(&r).unwrap_or_default();
    assert!(to.ends_with("error=invalid_state"), "{} {to}", r.status());
    assert!(session_cookie(&r).is_none(), "nobody is signed in");
    assert_eq!(
        fake.count(Endpoint::Token),
        tokens,
        "the attacker's code is not redeemed"
    );
}

/// H1/H6: two session cookies in one request (one planted) are no session at all.
#[tokio::test]
async fn h1_two_session_cookies_are_no_session() {
    let (_fake, app) = fresh().await;
    let alices = fresh_session_cookie(&app, "alice").await;
    let other = fresh_session_cookie(&app, "bob").await;
    let (status, _) = session_with_cookie(&app.url, &alices).await;
    assert_eq!(status, 200, "one cookie: signed in");
    let (status, _) = session_with_cookie(&app.url, &format!("{other}; {alices}")).await;
    assert_eq!(
        status, 401,
        "two cookies of the session's name: neither is used"
    );
}

/// H1: the same over HTTP/2's split `Cookie` fields: a planted session cookie in a field of
/// its own (each cookie may travel in a separate field) still makes the request signed out.
#[tokio::test]
async fn h1_session_cookies_in_separate_cookie_fields_are_no_session() {
    let (_fake, app) = fresh().await;
    let alices = fresh_session_cookie(&app, "alice").await;
    let other = fresh_session_cookie(&app, "bob").await;
    let fields = |cookies: &[&str]| {
        let mut req = bare_client()
            .get(app.at("/api/auth/session"))
            .header("accept", "application/json");
        for c in cookies {
            req = req.header("cookie", *c);
        }
        req
    };
    let r = fields(&["theme=dark", &alices]).send().await.unwrap();
    assert_eq!(r.status(), 200, "one session cookie among several fields");
    for order in [[&other, &alices], [&alices, &other]] {
        let r = fields(&[order[0], "theme=dark", order[1]])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            401,
            "two session cookies in separate fields: neither is used"
        );
    }
}

/// H6 (stale cookies): a forged or ended session cookie is cleared on the app's routes, so the
/// browser stops sending it; a valid one is left alone.
#[tokio::test]
async fn h6_forged_and_ended_session_cookies_are_cleared() {
    let (_fake, app) = fresh().await;
    let forged = "tower_oidc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let r = get_with_cookie(&app.at("/"), forged).await;
    assert_eq!(r.status(), 200);
    assert!(clears_session(&r), "forged: {:?}", set_cookies(&r));

    let alices = fresh_session_cookie(&app, "alice").await;
    let r = get_with_cookie(&app.at("/"), &alices).await;
    assert!(
        set_cookies(&r).is_empty(),
        "a live session's cookie is kept"
    );
    let r = bare_client()
        .post(app.at("/api/auth/logout"))
        .header("cookie", &alices)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed out");
    let r = get_with_cookie(&app.at("/"), &alices).await;
    assert!(clears_session(&r), "ended: {:?}", set_cookies(&r));
}

/// Live authorization: a user the app demotes loses admin rights, and a user it deletes loses
/// the session, within the revalidation bound — here 200 ms — while the session lives on.
#[tokio::test]
async fn demoted_and_deleted_users_lose_rights_within_the_bound() {
    let fake = tower_oidc::testing::FakeAuthentik::start().await;
    let users = HidingUsers::new();
    let bound = Duration::from_millis(200);
    let u = users.clone();
    let app = app_with(&fake, admin_settings(&fake), move |b| {
        b.users(u).user_revalidation(bound)
    })
    .await;
    assert!(sign_in(&app, "alice").await.set_session());
    let (status, body) = session(&app).await;
    assert_eq!((status, body["is_admin"].as_bool()), (200, Some(true)));
    let (status, _, _) = app.admin().get("/providers").await;
    assert_eq!(status, 200);

    // The app demotes alice while her session is live.
    let id = UserId(body["id"].as_str().unwrap().to_owned());
    users
        .inner
        .update(
            &id,
            UserUpdate {
                is_admin: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(bound + Duration::from_millis(100)).await;
    let (status, body) = session(&app).await;
    assert_eq!(status, 200, "still signed in");
    assert_eq!(body["is_admin"], false, "the session sees the store's user");
    let r = app.client.get(app.at("/admin-only")).send().await.unwrap();
    assert_eq!(r.status(), 403, "AdminUser refuses a demoted admin");

    // The app deletes alice: her session ends.
    users.hide(&id);
    tokio::time::sleep(bound + Duration::from_millis(100)).await;
    let (status, _) = session(&app).await;
    assert_eq!(status, 401);
}

/// N1/N6: the provider is down; the first sign-in waits for the timeout, the ones queued
/// behind it are answered at once without another request to the provider.
#[tokio::test]
async fn n6_sign_ins_during_an_outage_do_not_queue() {
    let (fake, app) = fresh_with(|b| b.http_limits(short_limits())).await;
    fake.fault(Endpoint::Discovery, Fault::Delay(Duration::from_secs(5)));
    let first = std::time::Instant::now();
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_unreachable")
    );
    let waited = first.elapsed();
    let asked = fake.count(Endpoint::Discovery);
    let next = std::time::Instant::now();
    for _ in 0..5 {
        assert_eq!(
            authorize_error(&app).await.as_deref(),
            Some("provider_unreachable")
        );
    }
    assert_eq!(
        fake.count(Endpoint::Discovery),
        asked,
        "no new requests in backoff"
    );
    assert!(
        next.elapsed() < waited,
        "five answers in backoff ({:?}) take less than one timeout ({waited:?})",
        next.elapsed()
    );
}

/// Key rotation without `kid`: the provider signs with a new key and names none; the cached set
/// does not verify it, so the set is fetched again (once) and the sign-in succeeds. Before, the
/// token was refused until the cache expired.
#[tokio::test]
async fn rotated_key_without_kid_is_fetched_again() {
    let (fake, app) = fresh().await;
    fake.set_tamper(Tamper::NoKid);
    fake.set_jwks(|d| {
        if let Some(keys) = d.get_mut("keys").and_then(|k| k.as_array_mut()) {
            for k in keys {
                k.as_object_mut().unwrap().remove("kid");
            }
        }
    });
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Jwks), 1);
    fake.rotate_signing_key();
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Jwks), 2, "fetched again once");
}

/// Store outage: a request with a session cookie on a public route is served as signed out
/// (not a 503 for the whole site); a protected route answers 503 `store_unavailable`.
#[tokio::test]
async fn session_store_down_public_routes_stay_up() {
    let fake = tower_oidc::testing::FakeAuthentik::start().await;
    let sessions = FailingSessions::new();
    let s = sessions.clone();
    let app = app_with(
        &fake,
        authentik_settings(&fake, UrlForm::Issuer),
        move |b| b.sessions(s),
    )
    .await;
    assert!(sign_in(&app, "alice").await.set_session());
    sessions.set_down(true);
    let r = app.client.get(app.at("/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "public routes stay up");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["signed_in"], false);
    let r = app
        .client
        .get(app.at("/me"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "store_unavailable");
    sessions.set_down(false);
    let r = app.client.get(app.at("/me")).send().await.unwrap();
    assert_eq!(r.status(), 200, "back when the store is");
}

/// Silent failures: a signed-in browser whose callback fails (here RFC 9207 `iss` of another
/// issuer) is sent on harmlessly, and the failure is logged all the same.
#[tokio::test]
async fn failed_callback_of_a_signed_in_browser_is_logged() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = fresh().await;
    assert!(sign_in(&app, "alice").await.set_session());
    fake.set_callback_params(|p| p.push(("iss".into(), "https://evil.example.com/".into())));
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let before = logs.text().len();
    let out = finish(&app, &cb).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/")));
    let text = logs.text();
    let new = &text[before.min(text.len())..];
    assert!(
        new.contains("sign_in_failed") && new.contains("invalid_state"),
        "the failure is logged: {new}"
    );
}

// ---- helpers ----

/// A session cookie of a fresh sign-in of `user` in a new browser.
async fn fresh_session_cookie(app: &App, user: &str) -> String {
    let c = client();
    let r = authorize(app, &c, &format!("?login_hint={user}")).await;
    let cb = to_callback(&c, &r).await;
    let r = c.get(&cb).send().await.unwrap();
    session_cookie(&r).expect("signed in")
}

fn clears_session(r: &reqwest::Response) -> bool {
    set_cookies(r)
        .iter()
        .any(|c| c.starts_with("tower_oidc_session=;") && c.contains("Max-Age=0"))
}

/// GET the authorize route as an API client: the error code, if any.
async fn authorize_error(app: &App) -> Option<String> {
    let r = authorize_as_api(app, "?login_hint=alice").await;
    let body: serde_json::Value = r.json().await.ok()?;
    body["error"].as_str().map(str::to_owned)
}

fn short_limits() -> tower_oidc::provider::HttpLimits {
    tower_oidc::provider::HttpLimits {
        timeout: Duration::from_millis(800),
        ..Default::default()
    }
}

/// A user store that can hide users (as if the app deleted them).
#[derive(Clone)]
struct HidingUsers {
    inner: MemoryStore,
    hidden: Arc<std::sync::Mutex<Vec<UserId>>>,
}

impl HidingUsers {
    fn new() -> Self {
        HidingUsers {
            inner: MemoryStore::new(),
            hidden: Arc::default(),
        }
    }
    fn hide(&self, id: &UserId) {
        self.hidden.lock().unwrap().push(id.clone());
    }
    fn visible(&self, u: Option<User>) -> Option<User> {
        u.filter(|u| !self.hidden.lock().unwrap().contains(&u.id))
    }
}

#[async_trait]
impl UserStore for HidingUsers {
    async fn find_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        Ok(self.visible(self.inner.find_by_identity(identity).await?))
    }
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.visible(self.inner.find_by_email(email).await?))
    }
    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.visible(self.inner.get(id).await?))
    }
    async fn create_with_identity(
        &self,
        user: NewUser,
        identity: &Identity,
    ) -> Result<User, StoreError> {
        self.inner.create_with_identity(user, identity).await
    }
    async fn link_identity(&self, user: &UserId, identity: &Identity) -> Result<(), StoreError> {
        self.inner.link_identity(user, identity).await
    }
    async fn update(&self, user: &UserId, update: UserUpdate) -> Result<User, StoreError> {
        self.inner.update(user, update).await
    }
    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, StoreError> {
        self.inner.identities(user).await
    }
}

/// A session store that can be switched off (every call fails as unavailable).
#[derive(Clone)]
struct FailingSessions {
    inner: MemoryStore,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl FailingSessions {
    fn new() -> Self {
        FailingSessions {
            inner: MemoryStore::new(),
            down: Arc::default(),
        }
    }
    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::unavailable(
                "session",
                "the test switched the store off",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SessionStore for FailingSessions {
    async fn load(
        &self,
        id: &tower_oidc::store::SessionId,
    ) -> Result<Option<tower_oidc::store::SessionRecord>, StoreError> {
        self.check()?;
        self.inner.load(id).await
    }
    async fn store(
        &self,
        id: &tower_oidc::store::SessionId,
        record: &tower_oidc::store::SessionRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.store(id, record).await
    }
    async fn delete(&self, id: &tower_oidc::store::SessionId) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }
    async fn compare_and_swap(
        &self,
        id: &tower_oidc::store::SessionId,
        next: &tower_oidc::store::SessionRecord,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.compare_and_swap(id, next).await
    }
    async fn find_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<tower_oidc::store::SessionRecord>, StoreError> {
        self.check()?;
        self.inner.find_sessions(filter).await
    }
    async fn end_sessions(
        &self,
        filter: &tower_oidc::store::SessionFilter,
    ) -> Result<Vec<tower_oidc::store::SessionRecord>, StoreError> {
        self.check()?;
        self.inner.end_sessions(filter).await
    }
    async fn consume_transaction(
        &self,
        id: &str,
        expires_at: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.consume_transaction(id, expires_at).await
    }
}
