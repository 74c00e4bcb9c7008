//! [`Active`]: a provider's endpoints as one sign-in (or refresh, revocation) uses them — from
//! discovery when the provider has it, else from the spec's templates — each checked against
//! the endpoint address policy.

use std::sync::Arc;

use super::discovery::Discovery;
use super::{ProviderState, Registry, ResolvedProvider, pinned_algs};
use crate::config::Protocol;
use crate::error::{Error, ErrorCode};

/// The endpoints and keys to use for one sign-in.
#[derive(Clone)]
pub(crate) struct Active {
    pub resolved: Arc<ResolvedProvider>,
    pub authorization: String,
    pub token: String,
    pub userinfo: Option<String>,
    pub end_session: Option<String>,
    /// The token revocation endpoint (RFC 7009), when the provider has one.
    pub revocation: Option<String>,
    /// The token introspection endpoint (RFC 7662), when the provider has one.
    pub introspection: Option<String>,
    /// Where authorization requests are pushed (RFC 9126), when they are: the settings' `par`
    /// (else the spec's) turns PAR on or the provider requires it, and discovery advertises the
    /// endpoint.
    pub par: Option<String>,
    /// Whether the provider advertises RFC 9207 `iss` in authorization responses.
    pub iss_param_supported: bool,
}

impl Registry {
    /// The endpoints to use for a sign-in with `st`. With a known issuer the discovery document
    /// (cached) supplies them, and its issuer must match exactly; without (instance URL only),
    /// the spec's templates do.
    ///
    /// The endpoints are the same for every sign-in until the discovery document is fetched
    /// again or the issuer is learned, so the last one built is kept ([`Memo`]) and shared.
    pub async fn active(&self, st: &ProviderState) -> Result<Arc<Active>, Error> {
        let resolved = st.current();
        let discovered = match (&resolved.endpoints.issuer, &resolved.endpoints.discovery) {
            (Some(issuer), Some(url)) if resolved.spec.protocol == Protocol::Oidc => {
                Some(self.discovery(st, url, issuer).await?)
            }
            _ => None,
        };
        let mut memo = st.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = memo.as_ref().filter(|m| m.is_for(&resolved, &discovered)) {
            return Ok(m.active.clone());
        }
        let active = Arc::new(self.build_active(st, resolved.clone(), discovered.as_deref())?);
        *memo = Some(Memo {
            resolved,
            discovered,
            active: active.clone(),
        });
        Ok(active)
    }

    /// [`Registry::active`] from the provider as it is now and its discovery document.
    fn build_active(
        &self,
        st: &ProviderState,
        resolved: Arc<ResolvedProvider>,
        d: Option<&Discovery>,
    ) -> Result<Active, Error> {
        let id = resolved.spec.id.clone();
        let misconf = |d: &str| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("provider `{id}`: {d}"),
            )
        };
        let e = &resolved.endpoints;
        // N3: every endpoint gets the endpoint address policy. The discovery document's were
        // checked when it was fetched; the spec's templates supply the rest and are checked
        // here (the authorization and end-session endpoints are only ever visited by the
        // browser, but no provider lives on a refused address either, so a refused one is a
        // misconfiguration just the same).
        let policy = self.http.policy();
        let pick = |name: &str, discovered: Option<&String>, template: &Option<String>| {
            if let Some(v) = discovered {
                return Ok(Some(v.clone()));
            }
            match template {
                Some(v) => policy
                    .check_url(v)
                    .map(|()| Some(v.clone()))
                    .map_err(|m| misconf(&format!("{name}: {m}"))),
                None => Ok(None),
            }
        };
        let authorization = pick(
            "authorization_endpoint",
            d.map(|d| &d.authorization_endpoint),
            &e.authorization,
        )?
        .ok_or_else(|| misconf("no authorization endpoint"))?;
        let token = pick(
            "token_endpoint",
            d.and_then(|d| d.token_endpoint.as_ref()),
            &e.token,
        )?
        .ok_or_else(|| misconf("no token endpoint"))?;
        let userinfo = pick(
            "userinfo_endpoint",
            d.and_then(|d| d.userinfo_endpoint.as_ref()),
            &e.userinfo,
        )?;
        let end_session = pick(
            "end_session_endpoint",
            d.and_then(|d| d.end_session_endpoint.as_ref()),
            &e.end_session,
        )?;
        let revocation = pick(
            "revocation_endpoint",
            d.and_then(|d| d.revocation_endpoint.as_ref()),
            &e.revocation,
        )?;
        let introspection = pick(
            "introspection_endpoint",
            d.and_then(|d| d.introspection_endpoint.as_ref()),
            &e.introspection,
        )?;
        // The admin's setting, else the spec's; a provider that requires PAR always gets it.
        let par_wanted = st.settings.par.unwrap_or(resolved.spec.par);
        let par_required = d.is_some_and(|d| d.require_pushed_authorization_requests);
        let par = match d.and_then(|d| d.pushed_authorization_request_endpoint.clone()) {
            Some(url) if par_wanted || par_required => Some(url),
            None if par_required => {
                return Err(misconf(
                    "the provider requires pushed authorization requests but advertises no endpoint",
                ));
            }
            _ => None,
        };
        let algs = pinned_algs(
            resolved.spec.signing_algs.as_deref(),
            d.map(|d| d.id_token_signing_alg_values_supported.as_slice()),
        );
        if resolved.spec.protocol == Protocol::Oidc && algs.is_empty() {
            return Err(misconf("no usable ID token signing algorithm"));
        }
        Ok(Active {
            iss_param_supported: d
                .is_some_and(|d| d.authorization_response_iss_parameter_supported),
            resolved,
            authorization,
            token,
            userinfo,
            end_session,
            revocation,
            introspection,
            par,
        })
    }
}

/// The last [`Active`] of a provider state, and the provider and discovery document it was
/// built from: still valid while both are the same (`Arc::ptr_eq`; the memo holds them, so an
/// address cannot be reused by another document).
pub(super) struct Memo {
    resolved: Arc<ResolvedProvider>,
    discovered: Option<Arc<Discovery>>,
    active: Arc<Active>,
}

impl Memo {
    fn is_for(
        &self,
        resolved: &Arc<ResolvedProvider>,
        discovered: &Option<Arc<Discovery>>,
    ) -> bool {
        Arc::ptr_eq(&self.resolved, resolved)
            && match (&self.discovered, discovered) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}
