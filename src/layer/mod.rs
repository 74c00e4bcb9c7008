//! [`OidcLayer`] and [`OidcService`]: the tower middleware.
//!
//! Requests under the auth prefix (default `/api/auth`) are answered by the [`OidcEngine`] and
//! never reach the app. Every other request passes through; read who is signed in with
//! [`Auth::from_extensions`](crate::Auth::from_extensions). A request without a session cookie takes the fast path: no store
//! lookup, no boxing, no allocation, and nothing inserted (no `Auth` means signed out).

mod builder;
mod key;
mod service;

use std::sync::Arc;

pub use builder::{BuildError, OidcLayerBuilder};
pub use service::{OidcBody, OidcService, ResponseFuture};

use crate::engine::OidcEngine;

/// The tower layer that adds sign-in to an app.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{Router, extract::Request, routing::get};
/// use tower_oidc::{Auth, OidcLayer, Providers};
///
/// async fn home(req: Request) -> String {
///     // No `Auth` in the extensions means signed out.
///     match Auth::from_extensions(req.extensions()).user() {
///         Some(u) => format!("Hello, {}!", u.name.as_deref().unwrap_or("you")),
///         None => "Hello! Sign in at /api/auth/login".into(),
///     }
/// }
///
/// let auth = OidcLayer::builder()
///     .providers(Providers::builtin())
///     .base_url("https://app.example.com")
///     .build()?;
/// let app: Router = Router::new().route("/", get(home)).layer(auth);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct OidcLayer {
    engine: Arc<OidcEngine>,
}

impl OidcLayer {
    /// A builder.
    pub fn builder() -> OidcLayerBuilder {
        OidcLayerBuilder::default()
    }

    /// The engine, to drive it from another framework or from tests.
    pub fn engine(&self) -> &Arc<OidcEngine> {
        &self.engine
    }

    /// The `providers.toml` the layer was built from
    /// ([`OidcLayerBuilder::providers_file`]), to reload it
    /// ([`ProvidersFile::reload_now`](crate::provider::ProvidersFile::reload_now)); `None` when
    /// the providers were given as a value.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .build()
    ///     .unwrap();
    /// assert!(layer.providers_file().is_none());
    /// ```
    pub fn providers_file(&self) -> Option<&crate::provider::ProvidersFile> {
        self.engine.providers_file()
    }
}

impl<S> tower_layer::Layer<S> for OidcLayer {
    type Service = OidcService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OidcService::new(inner, self.engine.clone())
    }
}
