//! The certificate authorities a layer trusts for its identity providers: the layer's own, and
//! a provider's where it has some of its own.

use super::{BuildError, OidcLayerBuilder};
use crate::config::Providers;
use crate::provider::http::IdpClient;
use crate::provider::{EndpointPolicy, HttpLimits, TlsTrust};

impl OidcLayerBuilder {
    /// The certificate authorities trusted for calls to identity providers (default: the web
    /// PKI roots). A self-hosted Authentik signed by a private CA needs that CA:
    /// `TlsTrust::web_pki().with_pem_file("ca.pem")?`, or the OS store with
    /// `.with_native_roots(true)`. A refused certificate fails the sign-in with
    /// `provider_unreachable`, and the log names the cause and this setting.
    pub fn tls_trust(mut self, trust: TlsTrust) -> Self {
        self.tls_trust.layer = trust;
        self
    }
    /// The certificate authorities trusted for calls to provider `id` alone, instead of
    /// [`tls_trust`](Self::tls_trust)'s: a company CA for the self-hosted Authentik without
    /// trusting it for Google. An id the registry lacks fails `build()`.
    pub fn provider_tls_trust(mut self, id: impl Into<String>, trust: TlsTrust) -> Self {
        self.tls_trust.own.push((id.into(), trust));
        self
    }
}

/// What the builder was told to trust.
#[derive(Default)]
pub(super) struct Trusts {
    /// For every provider without trust of its own (`OidcLayerBuilder::tls_trust`).
    pub layer: TlsTrust,
    /// Per provider (`OidcLayerBuilder::provider_tls_trust`), in call order; a later call for
    /// one provider replaces an earlier one.
    pub own: Vec<(String, TlsTrust)>,
}

impl Trusts {
    /// The client for every request to identity providers, with each provider's own trust.
    /// A provider id the registry does not know is [`BuildError::UnknownProvider`].
    pub fn client(
        &self,
        limits: HttpLimits,
        policy: EndpointPolicy,
        providers: &Providers,
    ) -> Result<IdpClient, BuildError> {
        let http_err = |e: crate::error::Error| BuildError::Http(e.detail().to_owned());
        let mut http = IdpClient::with_policy(limits, policy, &self.layer).map_err(http_err)?;
        for (id, trust) in &self.own {
            if providers.get(id).is_none() {
                return Err(BuildError::UnknownProvider(id.clone()));
            }
            http = http.with_provider_trust(id, trust).map_err(http_err)?;
        }
        Ok(http)
    }
}
