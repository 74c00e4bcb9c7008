//! A multi-tenant Microsoft Entra ID fake ([`FakeIssuerBuilder::multi_tenant`]): discovery at
//! `/{organizations}/v2.0/…` naming the templated issuer `…/{tenantid}/v2.0`, and ID tokens of
//! a chosen tenant (`iss` and `tid`), or of one tenant's `tid` under another's issuer.
//!
//! [`FakeIssuerBuilder::multi_tenant`]: super::FakeIssuerBuilder::multi_tenant

use serde_json::{Map, Value, json};

use super::Inner;
use super::preset::ENTRA_TENANT;

/// The placeholder of the discovery document's issuer, as Microsoft writes it.
const PLACEHOLDER: &str = "{tenantid}";

/// The tenants the next ID tokens carry: the one whose issuer is their `iss`, and their `tid`
/// (equal unless a test asks for a mismatch).
#[derive(Debug, Clone)]
pub(crate) struct TokenTenant {
    pub(crate) iss: String,
    pub(crate) tid: String,
}

impl Default for TokenTenant {
    fn default() -> Self {
        TokenTenant {
            iss: ENTRA_TENANT.to_owned(),
            tid: ENTRA_TENANT.to_owned(),
        }
    }
}

impl Inner {
    /// The preset's issuer with `tenant` in place of its tenant id.
    pub(crate) fn issuer_of_tenant(&self, tenant: &str) -> Option<String> {
        self.preset
            .issuer_path
            .map(|p| format!("{}{}", self.base, p.replace(ENTRA_TENANT, tenant)))
    }

    /// Multi-tenant: the discovery document's issuer (`…/{tenantid}/v2.0`); else `None`.
    pub(crate) fn templated_issuer(&self) -> Option<String> {
        self.multi_tenant.as_ref()?;
        self.issuer_of_tenant(PLACEHOLDER)
    }

    /// Multi-tenant: where discovery lives (`…/organizations/v2.0/.well-known/…`).
    pub(crate) fn tenant_discovery_url(&self) -> Option<String> {
        let any = self.multi_tenant.as_ref()?;
        self.issuer_of_tenant(any)
            .map(|i| format!("{i}/.well-known/openid-configuration"))
    }

    /// Multi-tenant: sets the ID token's `iss` and `tid` to the chosen tenants.
    pub(crate) fn stamp_tenant(&self, claims: &mut Map<String, Value>) {
        if self.multi_tenant.is_none() {
            return;
        }
        let t = self.lock().tenant.clone();
        if let Some(iss) = self.issuer_of_tenant(&t.iss) {
            claims.insert("iss".into(), json!(iss));
        }
        claims.insert("tid".into(), json!(t.tid));
    }
}
