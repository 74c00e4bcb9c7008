//! The pass-through path allocates nothing: a request without a session cookie goes through
//! `OidcService` to the app with zero heap allocations added (counted by a global allocator,
//! on this thread only, against the same app without the layer), with and without a metrics
//! recorder installed.

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
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
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
