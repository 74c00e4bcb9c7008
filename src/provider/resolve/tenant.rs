//! Multi-tenant issuers (Microsoft Entra ID's `common`, `organizations` and `consumers`): the
//! spec's [`MultiTenant`] table is in force when the settings' tenant parameter is one of its
//! values. The discovery document's issuer is then the issuer template with the placeholder in
//! place of the tenant, and each token is checked against the issuer of its own tenant (see
//! `issuer_for` in `src/flow/id_token.rs`).

use std::collections::BTreeMap;

use super::{ResolvedProvider, render_opt};
use crate::config::{MultiTenant, ProviderSpec, is_valid_tenant};

/// The spec's multi-tenant table when the tenant parameter (`vars`) is one of its values.
pub(super) fn in_force<'a>(
    spec: &'a ProviderSpec,
    vars: &BTreeMap<String, String>,
) -> Option<&'a MultiTenant> {
    let mt = spec.multi_tenant.as_ref()?;
    let v = vars.get(&mt.param)?;
    mt.values
        .iter()
        .any(|x| x.eq_ignore_ascii_case(v))
        .then_some(mt)
}

impl ResolvedProvider {
    /// The multi-tenant rule in force, when the tenant parameter means any tenant; `None` for
    /// a provider with one issuer.
    pub fn multi_tenant(&self) -> Option<&MultiTenant> {
        self.allowed_tenants.as_ref()?;
        self.spec.multi_tenant.as_ref()
    }

    /// The issuer of `tenant`: the issuer template with `tenant` as the tenant parameter.
    /// `None` when the provider is not multi-tenant or `tenant` is not a plain tenant id (a
    /// GUID or a plain name: nothing that could add a path segment, a query or a fragment).
    pub fn tenant_issuer(&self, tenant: &str) -> Option<String> {
        let mt = self.multi_tenant()?;
        if !is_valid_tenant(tenant) {
            return None;
        }
        self.issuer_with(&mt.param, tenant)
    }

    /// Whether `tenant` is on the settings' `allowed_tenants` (ASCII case ignored).
    pub fn tenant_allowed(&self, tenant: &str) -> bool {
        self.allowed_tenants
            .as_ref()
            .is_some_and(|l| l.iter().any(|t| t.eq_ignore_ascii_case(tenant)))
    }

    /// The tenant of `iss` when it is exactly the issuer of a plain tenant of this multi-tenant
    /// provider (for requests that carry an issuer but no tenant claim: logout).
    pub(crate) fn tenant_in_issuer(&self, iss: &str) -> Option<String> {
        let mt = self.multi_tenant()?;
        let m = self.spec.issuer.as_ref()?.match_str(iss)?;
        let tenant = m.get(&mt.param)?;
        (self.tenant_issuer(tenant)?.as_str() == iss).then(|| tenant.clone())
    }

    /// The issuer the discovery document of a multi-tenant provider names: the template with
    /// `{placeholder}` as the tenant (`https://login.microsoftonline.com/{tenantid}/v2.0`).
    pub(super) fn discovery_issuer(&self) -> Option<String> {
        let mt = self.multi_tenant()?;
        self.issuer_with(&mt.param, &format!("{{{}}}", mt.placeholder))
    }

    fn issuer_with(&self, param: &str, value: &str) -> Option<String> {
        let mut vars = self.vars.clone();
        vars.insert(param.to_owned(), value.to_owned());
        render_opt(self.spec.issuer.as_ref()?, &vars)
    }

    /// Logs a warning when the provider is multi-tenant and no tenant is allowed: every
    /// sign-in will be refused with `tenant_not_allowed`.
    pub(crate) fn warn_if_no_tenant_allowed(&self) {
        if self.allowed_tenants.as_ref().is_some_and(Vec::is_empty) {
            tracing::warn!(
                provider = %self.spec.id,
                "provider `{}` accepts users of any tenant but its `allowed_tenants` setting is empty: every sign-in will be refused (tenant_not_allowed); list the tenant ids whose users may sign in",
                self.spec.id
            );
        }
    }
}

/// At startup: the warning of [`ResolvedProvider::warn_if_no_tenant_allowed`] for each enabled
/// provider the configuration seeds (settings in a store are read at first use, and warned
/// about then).
pub(crate) fn warn_seeded_without_tenants(providers: &crate::config::Providers) {
    for (id, s) in providers
        .seeded_settings()
        .iter()
        .filter(|(_, s)| s.enabled)
    {
        if let Some(spec) = providers.get(id)
            && let Ok(r) = ResolvedProvider::resolve(spec, s)
        {
            r.warn_if_no_tenant_allowed();
        }
    }
}
