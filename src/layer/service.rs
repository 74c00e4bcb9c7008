//! The service: routes auth requests to the engine, authenticates the rest.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt as _, Full, Limited};

use crate::engine::OidcEngine;
use crate::session::Responses;

/// Largest request body an auth route reads (admin JSON).
const MAX_REQUEST_BODY: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body: the app's, or one the engine wrote.
pub type OidcBody<B> = http_body_util::Either<B, Full<Bytes>>;

/// The middleware service. See [`crate::OidcLayer`].
#[derive(Debug)]
pub struct OidcService<S> {
    inner: S,
    engine: Arc<OidcEngine>,
    /// The engine's answers when its login page is not the default one: anonymous responses
    /// pass by them to have an extractor's login redirect re-pointed. `None` (the default
    /// prefix) keeps the pass-through path free of even a reference count.
    login_fix: Option<Arc<Responses>>,
}

impl<S: Clone> Clone for OidcService<S> {
    fn clone(&self) -> Self {
        OidcService {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
            login_fix: self.login_fix.clone(),
        }
    }
}

impl<S> OidcService<S> {
    pub(crate) fn new(inner: S, engine: Arc<OidcEngine>) -> Self {
        let login_fix = engine
            .responses
            .fixes_responses()
            .then(|| engine.responses.clone());
        OidcService {
            inner,
            engine,
            login_fix,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project_lite::pin_project! {
    /// The response future of [`OidcService`].
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        // An anonymous request passed straight to the app (no boxing). `responses`, under a
        // custom prefix, points a login redirect that an extractor built without the engine at
        // the engine's login page.
        Direct { #[pin] inner: F, responses: Option<Arc<Responses>> },
        // Everything that needs the engine.
        Boxed { fut: BoxFuture<Result<Response<OidcBody<B>>, E>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    fn direct(inner: F, responses: Option<Arc<Responses>>) -> Self {
        ResponseFuture {
            kind: Kind::Direct { inner, responses },
        }
    }
    fn boxed(fut: BoxFuture<Result<Response<OidcBody<B>>, E>>) -> Self {
        ResponseFuture {
            kind: Kind::Boxed { fut },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<OidcBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Direct { inner, responses } => match inner.poll(cx) {
                Poll::Ready(Ok(mut r)) => {
                    if let Some(responses) = responses {
                        responses.fix_login_redirect(&mut r);
                    }
                    Poll::Ready(Ok(r.map(http_body_util::Either::Left)))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
            KindProj::Boxed { fut } => fut.as_mut().poll(cx),
        }
    }
}

impl<S> OidcService<S> {
    /// A request with `Authorization: Bearer` when a provider accepts bearer tokens: refused
    /// when it also carries a session cookie, else authenticated by the token alone (no session,
    /// no cookie: `src/engine/bearer.rs`).
    fn call_bearer<ReqB, ResB>(
        &mut self,
        mut req: Request<ReqB>,
        cookie: bool,
    ) -> ResponseFuture<S::Future, ResB, S::Error>
    where
        S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Send + 'static,
        ReqB: Send + 'static,
        ResB: Send + 'static,
    {
        let engine = self.engine.clone();
        if cookie {
            let r = engine_response(engine.bearer_with_cookie());
            return ResponseFuture::boxed(Box::pin(async move { Ok(r) }));
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::boxed(Box::pin(async move {
            let token = crate::engine::bearer_token(req.headers()).unwrap_or_default();
            match engine.authenticate_bearer(token).await {
                Ok(auth) => {
                    req.extensions_mut().insert(auth);
                    let r = inner.call(req).await?;
                    Ok(r.map(http_body_util::Either::Left))
                }
                Err(r) => Ok(engine_response(r)),
            }
        }))
    }
}

fn engine_response<B>(r: Response<Bytes>) -> Response<OidcBody<B>> {
    r.map(|b| http_body_util::Either::Right(Full::new(b)))
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for OidcService<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqB: Body + Send + 'static,
    ReqB::Data: Send,
    ReqB::Error: Into<BoxError>,
    ResB: Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<OidcBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        if self.engine.is_auth_route(req.uri().path()) {
            let engine = self.engine.clone();
            return ResponseFuture::boxed(Box::pin(async move {
                let (parts, body) = req.into_parts();
                let bytes = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
                    Ok(c) => c.to_bytes(),
                    Err(_) => {
                        let r = crate::web::too_large();
                        return Ok(engine_response(r));
                    }
                };
                let r = engine.handle(Request::from_parts(parts, bytes)).await;
                Ok(engine_response(r))
            }));
        }
        let cookie = self.engine.has_session_cookie(req.headers());
        let bearer = crate::engine::bearer_token(req.headers()).is_some();
        if !cookie && !bearer {
            // The hot path: no session cookie, so nobody is signed in. Nothing is inserted (an
            // `Auth` in empty extensions would cost three allocations per request); absence of
            // `Auth` means signed out, see `crate::Auth::from_extensions`.
            return ResponseFuture::direct(self.inner.call(req), self.login_fix.clone());
        }
        if bearer && self.engine.bearer_enabled() {
            return self.call_bearer(req, cookie);
        }
        if !cookie {
            // A bearer token, and no provider accepts them: an anonymous request as before.
            return ResponseFuture::direct(self.inner.call(req), self.login_fix.clone());
        }
        if let Some(auth) = self.engine.authenticate_now(req.headers()) {
            // Signed in, with the session and its user at hand and nothing to write: straight
            // to the app, as an anonymous request goes (no future of our own, no clone of the
            // app's service).
            req.extensions_mut().insert(auth);
            return ResponseFuture::direct(self.inner.call(req), self.login_fix.clone());
        }
        let engine = self.engine.clone();
        // Take the service that was driven to readiness, leave a clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::boxed(Box::pin(async move {
            match engine.authenticate_request(req.headers()).await {
                Ok((auth, clear)) => {
                    req.extensions_mut().insert(auth);
                    let mut r = inner.call(req).await?;
                    if let Some(v) = clear.and_then(|c| http::HeaderValue::from_str(&c).ok()) {
                        r.headers_mut().append(http::header::SET_COOKIE, v);
                    }
                    Ok(r.map(http_body_util::Either::Left))
                }
                Err(e) => Ok(engine_response(engine.error_response(req.headers(), &e))),
            }
        }))
    }
}
