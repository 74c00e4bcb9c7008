//! What the layer costs in heap, counted by a global allocator on the test's thread only:
//!
//! - the pass-through path allocates nothing: a request without a session cookie goes through
//!   `OidcService` to the app with zero heap allocations added (against the same app without
//!   the layer), with and without a metrics recorder installed;
//! - the bytes one session keeps alive in the memory store and in the session cache (issue 21:
//!   ≤ 1 KiB cached without tokens; ≤ 1.5 KiB in the memory store, so a million sessions fit
//!   in 1.5 GiB).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Empty;
use tower::Service;
use tower_layer::Layer;
use tower_oidc::{Auth, MemoryStore, OidcLayer, Providers};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    // Bytes allocated minus bytes freed on this thread while `MEASURING`.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn live(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = LIVE.try_with(|l| l.set(l.get() + delta));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        live(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        live(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The heap bytes `f`'s work leaves alive (allocated on this thread, not freed by it).
async fn kept_by<T, F: Future<Output = T>>(f: F) -> (isize, T) {
    LIVE.with(|l| l.set(0));
    MEASURING.with(|m| m.set(true));
    let out = f.await;
    MEASURING.with(|m| m.set(false));
    (LIVE.with(|l| l.get()), out)
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The app: answers 200 with an empty body, and reports whether it saw someone signed in.
#[derive(Clone)]
struct App;

impl Service<Request<Empty<Bytes>>> for App {
    type Response = Response<Empty<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: Request<Empty<Bytes>>) -> Self::Future {
        assert!(!Auth::from_extensions(req.extensions()).is_signed_in());
        std::future::ready(Ok(Response::new(Empty::new())))
    }
}

/// Heap allocations made by one `call` (request already built) through to the response,
/// dropped.
fn allocs_of<S>(svc: &mut S, req: Request<Empty<Bytes>>) -> usize
where
    S: Service<Request<Empty<Bytes>>>,
{
    let mut cx = Context::from_waker(Waker::noop());
    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    assert!(svc.poll_ready(&mut cx).is_ready());
    let fut = svc.call(req);
    let out = match pin!(fut).poll(&mut cx) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("the app answers at once"),
    };
    drop(out);
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Ordering::Relaxed)
}

fn requests() -> Vec<Request<Empty<Bytes>>> {
    let plain = Request::builder()
        .uri("/dashboard")
        .body(Empty::new())
        .unwrap();
    let other_cookies = Request::builder()
        .uri("/dashboard?tab=2")
        .header("cookie", "theme=dark; _ga=GA1.2.3; tower_oidc_sessionX=1")
        .header("accept", "text/html")
        .body(Empty::new())
        .unwrap();
    vec![plain, other_cookies]
}

#[tokio::test(flavor = "current_thread")]
async fn pass_through_allocates_nothing() {
    let store = MemoryStore::new();
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .settings(store.clone())
        .users(store.clone())
        .sessions(store)
        .base_url("http://127.0.0.1:3000")
        .build()
        .unwrap();
    let mut bare = App;
    let mut wrapped = layer.layer(App);
    // Warm up (thread-locals, lazily initialised statics).
    for req in requests() {
        allocs_of(&mut wrapped, req);
    }
    // Why nothing is inserted for anonymous requests: an `Auth` in empty extensions allocates
    // (the map, its table, the boxed value).
    let mut probe = Request::new(Empty::<Bytes>::new());
    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    probe.extensions_mut().insert(Auth::anonymous());
    COUNTING.with(|c| c.set(false));
    assert!(
        ALLOCS.load(Ordering::Relaxed) >= 2,
        "inserting an Auth allocates"
    );
    drop(probe);

    assert_adds_nothing(&mut bare, &mut wrapped, "no metrics recorder");
    // The same with a metrics recorder installed, as an app exporting Prometheus has it (one
    // test: a global recorder, once installed, stays for every test of the binary).
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    assert_adds_nothing(&mut bare, &mut wrapped, "a metrics recorder installed");
}

fn assert_adds_nothing<S, T>(bare: &mut S, wrapped: &mut T, with: &str)
where
    S: Service<Request<Empty<Bytes>>>,
    T: Service<Request<Empty<Bytes>>>,
{
    for (bare_req, req) in requests().into_iter().zip(requests()) {
        let base = allocs_of(bare, bare_req);
        let with_layer = allocs_of(wrapped, req);
        assert_eq!(base, 0, "the bare app allocates nothing");
        assert_eq!(
            with_layer,
            base,
            "OidcService added {} allocation(s) on the pass-through path ({with})",
            with_layer - base
        );
    }
}

mod session_bytes {
    use std::sync::Arc;
    use std::time::SystemTime;

    use tower::ServiceExt as _;
    use tower_oidc::store::{
        IdpSession, NewUser, SealedTokens, SessionCache, SessionFilter, SessionId, SessionRecord,
        SessionStore, SignInFacts, StoreError, TokenState, User, UserStore,
    };

    use super::*;

    /// A cookie key whose signing and encryption halves differ.
    const KEY: [u8; 64] = {
        let mut k = [7u8; 64];
        k[63] = 8;
        k
    };
    const N: usize = 2_000;

    /// A session as an Authentik sign-in leaves it; with `tokens`, its ID token hint (an
    /// RS256 ID token) and sealed access and refresh tokens.
    fn record(user: &User, i: usize, tokens: bool) -> SessionRecord {
        let now = tower_oidc_now();
        SessionRecord {
            created_at: now,
            idp: Some(IdpSession {
                issuer: "https://auth.example.com/application/o/app/".into(),
                // One user: one subject; a provider session per sign-in.
                subject: "f14ea2846c4f1c4b78fb983b5aa9362f3dbb0804de7d2fdaac0e5171079b01b9".into(),
                sid: Some(format!("{i:064x}")),
            }),
            sign_in: SignInFacts {
                auth_time: Some(now),
                acr: Some("goauthentik.io/providers/oauth2/default".into()),
                amr: vec!["pwd".into()],
            },
            id_token_hint: tokens.then(|| "e".repeat(1_100)),
            tokens: tokens.then(|| {
                Box::new(TokenState {
                    access_expires_at: Some(now + 300),
                    refresh_at: Some(now + 240),
                    refreshable: true,
                    lease_until: 0,
                    retry_after: 0,
                    sealed: SealedTokens("A".repeat(1_900)),
                })
            }),
            // Far enough that no sliding renewal (a write) is due.
            ..SessionRecord::new(user.clone(), "authentik", now + 90 * 24 * 3600)
        }
    }

    fn tower_oidc_now() -> u64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    async fn user(store: &MemoryStore) -> User {
        store
            .create_with_identity(
                NewUser {
                    email: Some("alice.anders@example.com".into()),
                    email_verified: true,
                    name: Some("Alice Anders".into()),
                    given_name: Some("Alice".into()),
                    family_name: Some("Anders".into()),
                    username: Some("alice".into()),
                    groups: vec!["staff".into(), "authentik Admins".into()],
                    ..NewUser::default()
                },
                &tower_oidc::store::Identity {
                    provider: "authentik".into(),
                    issuer: "https://auth.example.com/application/o/app/".into(),
                    subject: "f14ea2846c4f1c4b78fb983b5aa9362f3dbb0804de7d2fdaac0e5171079b01b9"
                        .into(),
                },
            )
            .await
            .unwrap()
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

    /// Bytes per session kept by the memory store.
    async fn in_memory_store(tokens: bool) -> isize {
        let store = MemoryStore::new();
        let user = user(&store).await;
        let records: Vec<_> = (0..N)
            .map(|i| (SessionId::random(), record(&user, i, tokens)))
            .collect();
        let (kept, ()) = kept_by(async {
            for (id, r) in &records {
                store.store(id, r).await.unwrap();
            }
        })
        .await;
        drop(records);
        kept / N as isize
    }

    /// A shared store as the cache sees one: each load decodes a record of its own (as SQL and
    /// Redis do), not the memory store's.
    struct Shared(MemoryStore);

    #[async_trait::async_trait]
    impl SessionStore for Shared {
        async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
            self.0.load(id).await
        }
        async fn store(&self, id: &SessionId, r: &SessionRecord) -> Result<(), StoreError> {
            self.0.store(id, r).await
        }
        async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
            self.0.delete(id).await
        }
        async fn compare_and_swap(
            &self,
            id: &SessionId,
            r: &SessionRecord,
        ) -> Result<bool, StoreError> {
            self.0.compare_and_swap(id, r).await
        }
        async fn find_sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
            self.0.find_sessions(f).await
        }
        async fn end_sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
            self.0.end_sessions(f).await
        }
        async fn consume_transaction(&self, t: &str, at: SystemTime) -> Result<bool, StoreError> {
            self.0.consume_transaction(t, at).await
        }
    }

    fn layer(users: &MemoryStore, sessions: Arc<Shared>, entries: usize) -> OidcLayer {
        OidcLayer::builder()
            .providers(Providers::builtin())
            .settings(users.clone())
            .users(users.clone())
            .sessions_arc(sessions)
            .session_cache(SessionCache::new().max_entries(entries))
            .base_url("http://127.0.0.1:3000")
            .cookie_key(&KEY)
            .build()
            .unwrap()
    }

    /// Bytes per session kept by the session cache: the layer built with room for `N` and
    /// `N` signed-in requests, less the same layer built with room for one and no request.
    async fn in_cache(tokens: bool) -> isize {
        let users = MemoryStore::new();
        let user = user(&users).await;
        let inner = MemoryStore::new();
        let mut cookies = Vec::new();
        for i in 0..N {
            let id = SessionId::random();
            inner.store(&id, &record(&user, i, tokens)).await.unwrap();
            cookies.push(cookie(&id));
        }
        let sessions = Arc::new(Shared(inner));
        let app = tower::service_fn(|req: Request<Empty<Bytes>>| async move {
            assert!(Auth::from_extensions(req.extensions()).is_signed_in());
            Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
        });
        // Warm up what the first request of a layer sets up once.
        let warm = layer(&users, sessions.clone(), 1).layer(app);
        warm.oneshot(signed_in(&cookies[0])).await.unwrap();
        let (base, l) = kept_by(async { layer(&users, sessions.clone(), 1) }).await;
        drop(l);
        let (kept, l) = kept_by(async {
            let l = layer(&users, sessions.clone(), N);
            for c in &cookies {
                l.layer(app).oneshot(signed_in(c)).await.unwrap();
            }
            l
        })
        .await;
        drop(l);
        (kept - base) / N as isize
    }

    fn signed_in(cookie: &str) -> Request<Empty<Bytes>> {
        Request::builder()
            .uri("/dashboard")
            .header("cookie", cookie)
            .body(Empty::new())
            .unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_session_costs_at_most_a_kib_cached_and_a_kib_and_a_half_in_the_memory_store() {
        let memory = in_memory_store(false).await;
        let memory_tokens = in_memory_store(true).await;
        let cached = in_cache(false).await;
        let cached_tokens = in_cache(true).await;
        eprintln!(
            "bytes per session: memory store {memory} ({memory_tokens} with tokens), \
             session cache {cached} ({cached_tokens} with tokens)"
        );
        assert!(
            cached <= 1024,
            "a cached session without tokens: {cached} B"
        );
        assert!(
            memory <= 1536,
            "a session in the memory store without tokens: {memory} B"
        );
        // With tokens, the ID token hint and the sealed tokens are most of it.
        assert!(cached_tokens > cached + 2_000 && memory_tokens > memory + 2_000);
    }
}
