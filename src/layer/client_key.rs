//! The app's own key for `private_key_jwt` client authentication, with its builder method.

use std::sync::Arc;

use super::OidcLayerBuilder;
use crate::flow::ClientKey;

impl OidcLayerBuilder {
    /// The key the app authenticates to providers with when their spec says
    /// `token_auth = "private_key_jwt"` (RFC 7523): every token, refresh, revocation and
    /// introspection request carries a fresh assertion signed with it (a unique `jti`, valid
    /// 60 s, `aud` the token endpoint). Its public part is published at `{prefix}/jwks.json`
    /// for providers that fetch the client's keys; register that URL (or the key) at the
    /// provider.
    ///
    /// ```
    /// # fn f(pem: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// use tower_oidc::{OidcLayer, flow::ClientKey};
    /// let layer = OidcLayer::builder()
    ///     .base_url("https://app.example.com")
    ///     .client_key(ClientKey::from_pem(pem)?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn client_key(mut self, key: ClientKey) -> Self {
        self.client_key = Some(Arc::new(key));
        self
    }
}
