//! Issue 23: what an operator sees. The metrics of a sign-in, a failed one, a refresh and a
//! logout, exactly; labels that never take a value a request chooses; and the spans that make
//! one sign-in one trace.
//!
//! The suite's other tests record metrics into the same recorder at the same time, so each test
//! here reads its exact counts for a provider id only it uses.

use std::time::Duration;

use tower_oidc::Clock;
use tower_oidc::observe::{
    CALLBACK_DURATION, LOGOUT_REQUESTS, PROVIDER_REQUEST_DURATION, REFRESHES, SESSIONS_CREATED,
    SESSIONS_ENDED, SIGN_INS_COMPLETED, SIGN_INS_FAILED, SIGN_INS_STARTED, STORE_DURATION,
};
use tower_oidc::store::SettingsStore;
use tower_oidc::testing::FakeAuthentik;

use crate::common::metrics::{
    all_labels, assert_labels_bounded, counter, counters_having, samples,
};
use crate::common::store::TestStore;
use crate::common::{
    App, Logs, UrlForm, authentik_settings, authorize, location, logout, serve_on, session,
    sign_in, start, with_authentik_as,
};

const P: &str = "metered";

/// An app whose only provider in use is `id` (Authentik's spec), on a manual clock.
async fn metered_app(fake: &FakeAuthentik, id: &str) -> (App, Clock) {
    let store = TestStore::from_env().await;
    SettingsStore::put(&store, id, &authentik_settings(fake, UrlForm::Instance))
        .await
        .unwrap();
    let clock = Clock::manual();
    let c = clock.clone();
    let providers = with_authentik_as(id);
    let app = serve_on(id, store, move |b| b.providers(providers).clock(c)).await;
    (app, clock)
}

/// The acceptance scenario: a sign-in, a failed one (`invalid_state`), a refresh and a logout,
/// with the exact counters and labels each leaves.
#[tokio::test]
async fn metrics_of_a_sign_in_a_failure_a_refresh_and_a_logout() {
    let fake = crate::tokens::fake().await;
    let (app, clock) = metered_app(&fake, P).await;
    let provider = [("provider", P)];

    // A sign-in.
    assert!(sign_in(&app, "alice").await.set_session());
    assert_eq!(counter(SIGN_INS_STARTED, &provider), 1);
    assert_eq!(counter(SIGN_INS_COMPLETED, &provider), 1);
    assert_eq!(counter(SESSIONS_CREATED, &provider), 1);
    assert_eq!(
        samples(
            CALLBACK_DURATION,
            &[("provider", P), ("outcome", "completed")]
        ),
        1
    );
    for endpoint in ["discovery", "token", "jwks", "userinfo"] {
        assert_eq!(
            samples(
                PROVIDER_REQUEST_DURATION,
                &[("provider", P), ("endpoint", endpoint)]
            ),
            1,
            "one {endpoint} request"
        );
    }
    // The harness's user store is out of process as far as the layer knows: its calls are
    // timed (its session store is the backend's own: in process on memory).
    assert!(
        samples(
            STORE_DURATION,
            &[("store", "users"), ("operation", "find_by_identity")]
        ) >= 1
    );

    // A failed one: the callback without this browser's transaction.
    let (cb, _) = start(&app, "?login_hint=alice").await;
    let stranger = crate::common::client();
    let out = crate::common::finish_in(&stranger, &cb).await;
    assert!(
        out.location
            .as_deref()
            .unwrap_or("")
            .contains("error=invalid_state"),
        "{:?}",
        out.location
    );
    assert_eq!(counter(SIGN_INS_STARTED, &provider), 2);
    assert_eq!(
        counter(
            SIGN_INS_FAILED,
            &[("provider", P), ("code", "invalid_state")]
        ),
        1
    );
    assert_eq!(counter(SIGN_INS_COMPLETED, &provider), 1);
    assert_eq!(
        samples(CALLBACK_DURATION, &[("provider", P), ("outcome", "failed")]),
        1
    );

    // A refresh: the access token expired.
    clock.advance(Duration::from_secs(3600));
    let r = app.client.get(app.at("/token")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_eq!(
        counter(REFRESHES, &[("provider", P), ("outcome", "refreshed")]),
        1
    );
    assert_eq!(
        counter(REFRESHES, &[("provider", P), ("outcome", "refused")]),
        0
    );
    assert_eq!(
        samples(
            PROVIDER_REQUEST_DURATION,
            &[("provider", P), ("endpoint", "token")]
        ),
        2,
        "the code exchange and the refresh grant"
    );

    // A logout.
    assert_eq!(logout(&app, "").await.status(), 303);
    assert_eq!(session(&app).await.0, 401);
    assert_eq!(
        counter(SESSIONS_ENDED, &[("provider", P), ("cause", "sign_out")]),
        1
    );
    assert_eq!(
        counter(SESSIONS_ENDED, &[("provider", P), ("cause", "expired")]),
        0
    );
    assert_labels_bounded();
}

/// A provider id in a request path is the requester's choice: it is counted as `unknown`, and
/// no label anywhere takes it.
#[tokio::test]
async fn metric_labels_never_take_a_value_a_request_chooses() {
    let fake = crate::tokens::fake().await;
    let (app, _) = metered_app(&fake, "metered2").await;
    let chosen = "zz-chosen-by-a-request";
    let unknown_failures = || -> u64 {
        counters_having(SIGN_INS_FAILED, ("provider", "unknown"))
            .iter()
            .map(|(_, n)| n)
            .sum()
    };
    let before = unknown_failures();
    let base = app.at("/api/auth/providers");
    let c = &app.client;
    c.get(format!("{base}/{chosen}/authorize"))
        .send()
        .await
        .unwrap();
    c.get(format!("{base}/{chosen}/callback?code=x&state=y"))
        .send()
        .await
        .unwrap();
    c.post(format!("{base}/{chosen}/backchannel-logout"))
        .form(&[("logout_token", "x.y.z")])
        .send()
        .await
        .unwrap();
    c.get(format!(
        "{base}/{chosen}/frontchannel-logout?iss=https://x.example&sid=s"
    ))
    .send()
    .await
    .unwrap();
    // Other tests may count unknown providers too (never fewer).
    assert!(
        unknown_failures() - before >= 2,
        "the authorize request and the callback"
    );
    assert!(
        counter(
            LOGOUT_REQUESTS,
            &[
                ("provider", "unknown"),
                ("channel", "backchannel"),
                ("outcome", "refused")
            ]
        ) >= 1
    );
    // And a sign-in's own values (the user's email, id and name, the app's URL) are nowhere.
    assert!(sign_in(&app, "alice").await.set_session());
    let (_, me) = session(&app).await;
    let user_id = me["id"].as_str().unwrap().to_owned();
    let leaks: Vec<_> = all_labels()
        .into_iter()
        .filter(|(_, _, v)| {
            v == chosen
                || v.contains('@')
                || v.contains("://")
                || *v == user_id
                || v.contains("alice")
                || v.contains("127.0.0.1")
        })
        .collect();
    assert!(leaks.is_empty(), "labels that leak: {leaks:?}");
    assert_labels_bounded();
}

/// One sign-in is one trace: the callback's span holds the provider requests and the store
/// calls it makes.
#[tokio::test]
async fn spans_make_a_sign_in_one_trace() {
    let fake = crate::tokens::fake().await;
    let (app, _) = metered_app(&fake, "metered3").await;
    let (logs, _guard) = Logs::capture();
    let r = authorize(&app, &app.client, "?login_hint=alice").await;
    let cb = crate::common::to_callback(&app.client, &r).await;
    assert!(location(&r).is_some());
    let out = crate::common::finish(&app, &cb).await;
    assert!(out.set_session(), "{:?}", out.location);
    let spans = logs.spans();
    let callback: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "tower_oidc.callback")
        .collect();
    assert_eq!(callback.len(), 1, "{spans:#?}");
    assert!(callback[0].has("provider", "metered3"), "{:?}", callback[0]);
    for endpoint in ["token", "jwks", "userinfo"] {
        let request = spans
            .iter()
            .find(|s| s.name == "tower_oidc.provider_request" && s.has("endpoint", endpoint))
            .unwrap_or_else(|| panic!("no {endpoint} request span in {spans:#?}"));
        assert!(request.has("provider", "metered3"), "{request:?}");
        assert!(
            request.ancestors.contains(&"tower_oidc.callback"),
            "the {endpoint} request is part of the callback: {request:?}"
        );
    }
    let user_lookup = spans
        .iter()
        .find(|s| s.name == "tower_oidc.store" && s.has("operation", "find_by_identity"))
        .unwrap_or_else(|| panic!("no user store span in {spans:#?}"));
    assert!(user_lookup.has("store", "users"));
    assert_eq!(user_lookup.ancestors.first(), Some(&"tower_oidc.callback"));
}
