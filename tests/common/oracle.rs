//! The security matrix's §0 oracle for a refused sign-in, and its counterpart for an accepted
//! one.

use tower_oidc::OidcLayerBuilder;
use tower_oidc::testing::{Endpoint, FakeAuthentik};

use crate::common::app::{App, UrlForm, app, app_with, authentik_settings};
use crate::common::signin::{Outcome, finish, session, sign_in, start};

/// What a negative case must also show besides the error code and the missing session.
#[derive(Debug, Clone, Copy)]
pub enum NoFurther {
    /// A bad ID token (or token response): no userinfo call.
    Userinfo,
    /// A bad authorization response: no token call (and so no userinfo call either).
    Token,
    /// Nothing more to check (the failure is at or after userinfo).
    Nothing,
}

/// A fresh fake and an app pointing at it with the issuer URL form.
pub async fn fresh() -> (FakeAuthentik, App) {
    let fake = FakeAuthentik::start().await;
    let app = app(&fake, UrlForm::Issuer).await;
    (fake, app)
}

/// A fresh fake and app with builder tweaks.
pub async fn fresh_with(
    tweak: impl FnOnce(OidcLayerBuilder) -> OidcLayerBuilder,
) -> (FakeAuthentik, App) {
    let fake = FakeAuthentik::start().await;
    let settings = authentik_settings(&fake, UrlForm::Issuer);
    let app = app_with(&fake, settings, tweak).await;
    (fake, app)
}

/// Signs in as alice and applies the §0 oracle: error `code`, no session cookie, no further
/// call of the kind `no_further`, and the transaction consumed (the same callback URL replayed
/// by the same browser is `invalid_state`, without another token call).
pub async fn rejected(
    fake: &FakeAuthentik,
    app: &App,
    code: &str,
    no_further: NoFurther,
) -> Outcome {
    let (cb, _) = start(app, "?login_hint=alice").await;
    rejected_at(fake, app, &cb, code, no_further).await
}

/// The oracle for a callback URL that the test prepared itself.
pub async fn rejected_at(
    fake: &FakeAuthentik,
    app: &App,
    callback_url: &str,
    code: &str,
    no_further: NoFurther,
) -> Outcome {
    let tokens = fake.count(Endpoint::Token);
    let userinfos = fake.count(Endpoint::Userinfo);
    let before = session(app).await;
    let out = finish(app, callback_url).await;
    assert_eq!(out.error_code().as_deref(), Some(code), "{out:?}");
    assert_eq!(
        out.status, 302,
        "browsers are redirected to the error page: {out:?}"
    );
    let loc = out.location.as_deref().unwrap_or("");
    assert!(
        loc.starts_with("/api/auth/login?error="),
        "only the code reaches the browser: {loc}"
    );
    assert!(!out.set_session(), "no session cookie: {out:?}");
    match no_further {
        NoFurther::Userinfo => assert_eq!(
            fake.count(Endpoint::Userinfo),
            userinfos,
            "no userinfo call after a bad ID token"
        ),
        NoFurther::Token => {
            assert_eq!(
                fake.count(Endpoint::Token),
                tokens,
                "no token call after a bad authorization response"
            );
            assert_eq!(fake.count(Endpoint::Userinfo), userinfos);
        }
        NoFurther::Nothing => {}
    }
    // Not signed in by this attempt: still signed out, or still the same session as before.
    let after = session(app).await;
    assert_eq!(after.0, before.0, "the session did not change");
    assert_eq!(after.1["id"], before.1["id"], "the session did not change");
    // The transaction is consumed: the same callback again is unknown state, with no token call
    // (a browser that is still signed in from before gets the harmless redirect home instead).
    let tokens = fake.count(Endpoint::Token);
    let replay = finish(app, callback_url).await;
    if before.0 == 200 {
        assert_eq!(replay.status, 303, "replay: {replay:?}");
        assert_eq!(replay.location.as_deref(), Some("/"), "replay: {replay:?}");
    } else {
        assert_eq!(
            replay.error_code().as_deref(),
            Some("invalid_state"),
            "replay: {replay:?}"
        );
    }
    assert!(!replay.set_session());
    assert_eq!(
        fake.count(Endpoint::Token),
        tokens,
        "no token call on replay"
    );
    out
}

/// Signs in as alice and expects success (303 and a session cookie).
pub async fn accepted(app: &App) -> Outcome {
    let out = sign_in(app, "alice").await;
    assert_eq!(out.status, 303, "{out:?}");
    assert!(out.set_session(), "{out:?}");
    let (status, me) = session(app).await;
    assert_eq!(status, 200, "{me}");
    out
}
