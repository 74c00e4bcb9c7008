//! A provider as the admin API shows it: effective values, the source of each, and never the
//! client secret.

use serde_json::{Value, json};

use super::AdminApi;
use super::sources::{Row, origin_name};
use crate::config::{EmailTrust, Protocol};
use crate::error::Error;

fn trust_name(t: EmailTrust) -> &'static str {
    match t {
        EmailTrust::VerifiedClaim => "verified_claim",
        EmailTrust::Always => "always",
        EmailTrust::Never => "never",
    }
}

impl AdminApi {
    /// One provider: its effective settings (the spec's values where the settings have none),
    /// whether a client secret is set, the redirect URI to register, and under `sources` where
    /// each value comes from.
    pub(super) fn view(&self, row: &Row) -> Value {
        let spec = &row.spec;
        let s = &row.settings;
        let providers = &*self.registry.providers();
        let spec_origin = origin_name(providers.origin(&spec.id));
        let src = |field: &str| row.source_of(providers, field);
        // A field the settings set comes from them; otherwise from the spec, or nowhere.
        let set_or = |field: &str, set: bool, fallback: Option<&'static str>| -> Value {
            if set {
                json!(src(field))
            } else {
                fallback.map_or(Value::Null, |f| json!(f))
            }
        };
        // Where each field comes from (its own `json!`: one object this size exceeds the
        // macro's recursion limit).
        let sources = json!({
            "enabled": src("enabled"),
            "auto_register": src("auto_register"),
            "refresh_tokens": src("refresh_tokens"),
            "url": set_or("url", s.url.is_some(), spec.default_url.as_ref().map(|_| spec_origin)),
            "internal_url": set_or("internal_url", s.internal_url.is_some(), None),
            "slug": set_or("slug", s.slug.is_some(), None),
            "client_id": set_or("client_id", s.client_id.is_some(), None),
            "client_secret": set_or("client_secret", s.client_secret.is_some(), None),
            "scopes": set_or("scopes", s.scopes.is_some(), Some(spec_origin)),
            "sort_order": set_or("sort_order", s.sort_order.is_some(), Some(spec_origin)),
            "icon": set_or("icon", s.icon.is_some(), spec.icon.as_ref().map(|_| spec_origin)),
            "email_trust": set_or("email_trust", s.email_trust.is_some(), Some(spec_origin)),
            "par": set_or("par", s.par.is_some(), Some(spec_origin)),
            "admin_rules": set_or("admin_rules", !s.admin_rules.is_empty(), None),
            "params": set_or("params", !s.params.is_empty(), None),
            "allowed_tenants": set_or("allowed_tenants", !s.allowed_tenants.is_empty(), None),
        });
        let url = s.url.clone().or_else(|| spec.default_url.clone());
        json!({
            "id": spec.id,
            "name": spec.name,
            "protocol": match spec.protocol { Protocol::Oidc => "oidc", Protocol::Oauth2 => "oauth2" },
            "origin": spec_origin,
            "custom": spec_origin != "builtin",
            "enabled": s.enabled,
            "url": url,
            "internal_url": s.internal_url,
            "slug": s.slug,
            "client_id": s.client_id,
            "client_secret_set": s.client_secret.as_ref().is_some_and(|x| !x.is_empty()),
            "scopes": s.scopes.clone().unwrap_or_else(|| spec.scopes.clone()),
            "auto_register": s.auto_register,
            "refresh_tokens": s.refresh_tokens,
            "refresh_scope": spec.refresh_scope,
            "sort_order": s.sort_order.unwrap_or(spec.sort_order),
            "icon": s.icon.clone().or_else(|| spec.icon.clone()),
            "email_trust": trust_name(s.email_trust.unwrap_or(spec.email_trust)),
            "par": s.par.unwrap_or(spec.par),
            "admin_rules": {"groups": s.admin_rules.groups, "email_domains": s.admin_rules.email_domains},
            "params": s.params,
            "allowed_tenants": s.allowed_tenants,
            "multi_tenant": spec.multi_tenant.is_some(),
            "redirect_uri": self.redirect_uri(&spec.id),
            "backchannel_logout_uri": self.logout_uri(&spec.id, "backchannel-logout"),
            "frontchannel_logout_uri": self.logout_uri(&spec.id, "frontchannel-logout"),
            "sources": sources,
        })
    }

    /// Every provider as the admin API shows it, in login-page order.
    pub(crate) async fn views(&self) -> Result<Vec<Value>, Error> {
        let mut rows = self.rows().await?;
        rows.sort_by(|a, b| {
            let key = |r: &Row| {
                (
                    r.settings.sort_order.unwrap_or(r.spec.sort_order),
                    r.spec.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(rows.iter().map(|r| self.view(r)).collect())
    }
}
