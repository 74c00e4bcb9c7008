//! The audit trail (`tracing` target `tower_oidc::audit`): one sign-in, one failed sign-in and one
//! settings change produce the expected events, and no event — audit or not — carries a secret.

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::header::ORIGIN;
use tower_oidc::testing::FakeAuthentik;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// One captured event: target and `name=value` fields.
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    fields: String,
}

impl Captured {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.split(" ; ").find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v)
        })
    }
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Captured>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push_str(" ; ");
        }
        let _ = write!(self.0, "{}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.0.is_empty() {
            self.0.push_str(" ; ");
        }
        let _ = write!(self.0, "{}={}", field.name(), value);
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            fields: f.0,
        });
    }
}

#[tokio::test(flavor = "current_thread")]
async fn audit_events_for_sign_in_failure_and_settings_change_without_secrets() {
    let collect = Collect::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(collect.clone()));

    let fake = FakeAuthentik::start().await;
    let app = app_with(&fake, admin_settings(&fake), |b| b).await;

    // 1. A sign-in: alice is new, and an admin by her group.
    assert_eq!(sign_in(&app, "alice").await.status, 303);
    // 2. A settings change by alice: a new (wrong) secret and a sort order.
    let new_secret = "Sup3r-s3cret-rotated-value";
    let (status, _, _) = app
        .admin()
        .put(
            "/providers/authentik",
            serde_json::json!({"client_secret": new_secret, "sort_order": 2}),
        )
        .await;
    assert_eq!(status, 200);
    // 3. A failed sign-in: the wrong secret gives invalid_client.
    let out = sign_in(&app, "bob").await;
    assert_eq!(
        out.error_code().as_deref(),
        Some("invalid_client"),
        "{out:?}"
    );
    // 4. Sign-out.
    let r = app
        .client
        .post(format!("{}/api/auth/logout", app.url))
        .header(ORIGIN, app.url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    let events = collect.0.lock().unwrap().clone();
    let audit: Vec<&Captured> = events
        .iter()
        .filter(|e| e.target == "tower_oidc::audit")
        .collect();
    let kinds: Vec<&str> = audit.iter().filter_map(|e| e.get("event")).collect();
    assert_eq!(
        kinds,
        [
            "admin_granted",
            "sign_in",
            "user_created",
            "settings_changed",
            "sign_in_failed",
            "sign_out"
        ],
        "{audit:#?}"
    );
    let user = audit[1].get("user").unwrap().to_owned();
    assert_eq!(audit[0].get("user"), Some(user.as_str()));
    assert_eq!(audit[1].get("provider"), Some("authentik"));
    let change = audit[3];
    assert_eq!(change.get("by"), Some(user.as_str()), "who changed it");
    assert_eq!(change.get("provider"), Some("authentik"));
    assert_eq!(
        change.get("fields"),
        Some(r#"["client_secret", "sort_order"]"#),
        "which fields, never their values"
    );
    let failed = audit[4];
    assert_eq!(failed.get("code"), Some("invalid_client"));
    assert_eq!(audit[5].get("user"), Some(user.as_str()));

    // No event of any target carries a secret.
    for e in &events {
        for secret in [new_secret, fake.client_secret()] {
            assert!(!e.fields.contains(secret), "secret in {e:?}");
        }
    }
}
