//! The admin side: settings with an admin rule, and the admin API called as the admin page calls
//! it.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, ORIGIN};
use serde_json::Value;
use tower_oidc::config::{AdminRules, ProviderSettings};
use tower_oidc::testing::FakeAuthentik;

use crate::common::app::{App, UrlForm, authentik_settings};

/// Authentik by its issuer URL, with the group of the fake's alice ("authentik Admins") as the
/// admin rule.
pub fn admin_settings(fake: &FakeAuthentik) -> ProviderSettings {
    ProviderSettings {
        admin_rules: AdminRules {
            groups: vec!["authentik Admins".into()],
            email_domains: vec![],
        },
        ..authentik_settings(fake, UrlForm::Issuer)
    }
}

/// The admin API (`/api/auth/admin…`) as one browser calls it: same-origin, like the admin
/// page. Every call answers (status, JSON — or the body as a JSON string —, headers).
pub struct AdminApi<'a> {
    app: &'a App,
    client: &'a reqwest::Client,
}

impl App {
    /// The admin API with the app's own browser.
    pub fn admin(&self) -> AdminApi<'_> {
        self.admin_as(&self.client)
    }

    /// The admin API with browser `client`.
    pub fn admin_as<'a>(&'a self, client: &'a reqwest::Client) -> AdminApi<'a> {
        AdminApi { app: self, client }
    }
}

impl AdminApi<'_> {
    /// `method path`, with a JSON body if given.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, HeaderMap) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, self.app.at(&format!("/api/auth/admin{path}")))
            .header(ACCEPT, "application/json")
            .header(ORIGIN, self.app.url.clone());
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value, HeaderMap) {
        self.call("GET", path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value, HeaderMap) {
        self.call("PUT", path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value, HeaderMap) {
        self.call("POST", path, body).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value, HeaderMap) {
        self.call("DELETE", path, None).await
    }
}
