//! §5c, identity-provider availability and hostile responses: N1–N9, plus the failure grid
//! (discovery, token, userinfo, JWKS × timeout, 5xx, oversized, malformed).

use std::time::Duration;

use tower_oidc::provider::{CachePolicy, EndpointPolicy, HttpLimits};
use tower_oidc::testing::{Endpoint, FakeAuthentik, Fault, Tamper};

use crate::common::*;

fn short_limits() -> HttpLimits {
    HttpLimits {
        timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(800),
        max_body: 256 * 1024,
    }
}

/// Builds a fresh fake and an app with short timeouts.
async fn fresh_short() -> (FakeAuthentik, App) {
    fresh_with(|b| b.http_limits(short_limits())).await
}

/// What the authorize step answers (discovery happens there): the error code, if any.
async fn authorize_error(app: &App) -> Option<String> {
    let r = authorize(app, &app.client, "?login_hint=alice").await;
    assert_ne!(r.status(), 500);
    let loc = location(&r).unwrap();
    param(&format!("http://x{loc}"), "error")
}

fn malformed() -> Fault {
    Fault::Body {
        status: 200,
        content_type: "application/json".into(),
        body: b"{\"issuer\": \"trunc".to_vec(),
    }
}

/// The grid: every provider endpoint × timeout, 5xx, oversized and malformed bodies ends in a
/// typed error within the deadline — never a 500, never a panic — and the sign-in is consumed.
#[tokio::test]
async fn idp_failures_are_bounded_and_typed() {
    let faults = [
        (
            "timeout",
            Fault::Delay(Duration::from_secs(3)),
            "provider_unreachable",
        ),
        ("503", Fault::Status(503), "provider_unreachable"),
        ("500", Fault::Status(500), "provider_unreachable"),
        (
            "oversize",
            Fault::Oversize(1024 * 1024),
            "provider_misconfigured",
        ),
        ("malformed", malformed(), "provider_misconfigured"),
        (
            "html",
            Fault::Body {
                status: 200,
                content_type: "text/html".into(),
                body: b"<html>proxy error</html>".to_vec(),
            },
            "provider_misconfigured",
        ),
    ];
    for endpoint in [
        Endpoint::Discovery,
        Endpoint::Token,
        Endpoint::Userinfo,
        Endpoint::Jwks,
    ] {
        for (name, fault, code) in faults.iter().cloned() {
            let (fake, app) = fresh_short().await;
            fake.fault(endpoint, fault);
            let started = std::time::Instant::now();
            if endpoint == Endpoint::Discovery {
                assert_eq!(
                    authorize_error(&app).await.as_deref(),
                    Some(code),
                    "{endpoint:?} {name}"
                );
                assert_eq!(fake.count(Endpoint::Authorize), 0);
            } else {
                let no_further = match endpoint {
                    Endpoint::Token | Endpoint::Jwks => NoFurther::Userinfo,
                    _ => NoFurther::Nothing,
                };
                rejected(&fake, &app, code, no_further).await;
            }
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "{endpoint:?} {name}: {:?}",
                started.elapsed()
            );
            note(&format!("{endpoint:?} {name} → {code}"));
        }
    }
}

/// N1: discovery unreachable (nothing listening, DNS failure): `provider_unreachable`; once it
/// is back, the next sign-in works (errors are not cached).
#[tokio::test]
async fn discovery_unreachable_then_recovers() {
    let (fake, app) = fresh_short().await;
    fake.fault(Endpoint::Discovery, Fault::Status(502));
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_unreachable")
    );
    fake.clear_fault(Endpoint::Discovery);
    // The failure is remembered for the first backoff (1 s): answered at once, without a
    // request to the provider; then the provider is tried again.
    let asked = fake.count(Endpoint::Discovery);
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_unreachable")
    );
    assert_eq!(
        fake.count(Endpoint::Discovery),
        asked,
        "in backoff: not asked"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    accepted(&app).await;

    let mut settings = authentik_settings(&fake, UrlForm::Issuer);
    settings.url = Some("https://nonexistent.invalid/application/o/x/".into());
    let app = app_with(&fake, settings, |b| b.http_limits(short_limits())).await;
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_unreachable")
    );
}

/// N2: discovery documents that are unusable: missing endpoints, `http` endpoints off loopback,
/// a cross-origin redirect (never followed): the provider is refused.
#[tokio::test]
async fn discovery_malformed() {
    type Mutation = Box<dyn Fn(&mut serde_json::Map<String, serde_json::Value>) + Send + Sync>;
    let (fake, app) = fresh().await;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "no authorization_endpoint",
            Box::new(|d| {
                d.remove("authorization_endpoint");
            }),
        ),
        (
            "no token_endpoint",
            Box::new(|d| {
                d.remove("token_endpoint");
            }),
        ),
        (
            "no jwks_uri",
            Box::new(|d| {
                d.remove("jwks_uri");
            }),
        ),
        (
            "http token endpoint",
            Box::new(|d| {
                d.insert("token_endpoint".into(), "http://idp.example/token/".into());
            }),
        ),
        (
            "not a URL",
            Box::new(|d| {
                d.insert("jwks_uri".into(), "::".into());
            }),
        ),
        (
            "wrong type",
            Box::new(|d| {
                d.insert("token_endpoint".into(), 42.into());
            }),
        ),
    ];
    for (name, hook) in cases {
        fake.set_discovery(hook);
        assert_eq!(
            authorize_error(&app).await.as_deref(),
            Some("provider_misconfigured"),
            "{name}"
        );
    }
    fake.clear_switches();
    fake.fault(
        Endpoint::Discovery,
        Fault::Body {
            status: 302,
            content_type: "text/plain".into(),
            body: Vec::new(),
        },
    );
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_misconfigured")
    );
    assert_eq!(fake.count(Endpoint::Authorize), 0);
    discovery_redirect_is_not_followed().await;
}

/// N2, the redirect with somewhere to go: the discovery URL answers 302 with a `Location` on
/// another origin that serves a working document for this very issuer (following it would sign
/// in). The redirect is not followed: `provider_misconfigured`, and the other origin is never
/// asked. A fresh app, so that no cached or backed-off discovery answers instead.
async fn discovery_redirect_is_not_followed() {
    use wiremock::{Mock, ResponseTemplate, matchers};
    let (fake, app) = fresh().await;
    let other = FakeAuthentik::start().await;
    assert_ne!(other.url(), fake.url());
    // The fake's own, working document, served by the other origin.
    let document = get_json(&client(), &fake.discovery_url()).await;
    assert_eq!(document["issuer"], fake.issuer().as_str());
    let moved = format!("{}/moved/openid-configuration", other.url());
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/moved/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document))
        .with_priority(1)
        .mount(other.mock_server())
        .await;
    // It works where it is (so a client that followed the redirect would get a usable one).
    let there = get_json(&client(), &moved).await;
    assert_eq!(there["issuer"], fake.issuer().as_str());
    let discovery_path = url::Url::parse(&fake.discovery_url())
        .unwrap()
        .path()
        .to_owned();
    Mock::given(matchers::method("GET"))
        .and(matchers::path(discovery_path.as_str()))
        .respond_with(ResponseTemplate::new(302).insert_header("location", moved.as_str()))
        .with_priority(1)
        .mount(fake.mock_server())
        .await;
    let at_other_before = asked(other.mock_server(), "/moved/openid-configuration".into()).await;
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_misconfigured"),
        "a redirected discovery document is refused"
    );
    assert!(
        asked(fake.mock_server(), discovery_path.clone()).await >= 1,
        "the discovery URL was asked (and answered with the redirect)"
    );
    assert_eq!(
        asked(other.mock_server(), "/moved/openid-configuration".into()).await,
        at_other_before,
        "the redirect was not followed"
    );
    assert_eq!(fake.count(Endpoint::Authorize), 0);
}

/// How many requests `server` received at `path`.
async fn asked(server: &wiremock::MockServer, path: String) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}

/// N3: a discovery document advertising endpoints on link-local or cloud-metadata addresses
/// (`169.254.169.254` and its other spellings, `fe80::/10`, AWS's `fd00:ec2::254`) is refused
/// at the authorize step, before the browser is sent anywhere and before any request goes to
/// the advertised address: `provider_misconfigured`, and the log names the endpoint and the
/// address. Loopback stays allowed by default (the same fake then signs in).
#[tokio::test]
async fn discovery_advertises_link_local_endpoints() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = fresh().await;
    // The first host is a link-local address where nothing listens, so the check removed makes
    // the first case fail at the authorize step without any request leaving the machine.
    // (`http` would already be refused as plain http off loopback; the policy is what stops
    // `https`.)
    let hosts = [
        "https://169.254.1.1",
        "https://169.254.169.254",
        "https://[fe80::1]:8443",
        "https://[fd00:ec2::254]",
        "https://[::ffff:169.254.169.254]",
        "https://0xa9fea9fe",
        "https://169.254.43518",
    ];
    let endpoints = [
        (Endpoint::Jwks, "jwks_uri"),
        (Endpoint::Token, "token_endpoint"),
        (Endpoint::Userinfo, "userinfo_endpoint"),
        (Endpoint::Authorize, "authorization_endpoint"),
        (Endpoint::EndSession, "end_session_endpoint"),
    ];
    for (endpoint, member) in endpoints {
        for host in hosts {
            fake.clear_switches();
            fake.advertise_endpoint_at(endpoint, host);
            let before = logs.text().len();
            assert_eq!(
                authorize_error(&app).await.as_deref(),
                Some("provider_misconfigured"),
                "{member} on {host}"
            );
            let text = logs.text();
            let new = &text[before.min(text.len())..];
            assert!(
                new.contains(member) && new.contains("no identity provider is expected there"),
                "the log names the endpoint ({member} on {host}): {new}"
            );
        }
    }
    assert_eq!(fake.count(Endpoint::Authorize), 0);
    assert_eq!(fake.count(Endpoint::Token), 0);
    // Nothing was cached from the refused documents: with the switch off, the sign-in works.
    fake.clear_switches();
    accepted(&app).await;
    // A private (non-link-local) address is allowed by the default policy: the end-session
    // endpoint is only used at logout, so the sign-in goes through.
    fake.advertise_endpoint_at(Endpoint::EndSession, "https://10.0.0.7");
    accepted(&app).await;
}

/// N3, endpoints from the spec's templates: a provider URL on a link-local address (an admin's
/// typo, or a settings store an attacker could write) is refused before any request is sent,
/// in both URL forms (full issuer: the discovery URL; instance URL only: the templated
/// authorization and token endpoints).
#[tokio::test]
async fn template_endpoints_on_link_local_are_refused() {
    let (logs, _guard) = Logs::capture();
    let fake = FakeAuthentik::start().await;
    for (url, member) in [
        ("https://169.254.1.1/application/o/app/", "discovery"),
        ("https://169.254.1.1", "authorization_endpoint"),
        ("https://[fe80::1]/application/o/app/", "discovery"),
    ] {
        let mut settings = authentik_settings(&fake, UrlForm::Issuer);
        settings.url = Some(url.into());
        let app = app_with(&fake, settings, |b| b.http_limits(short_limits())).await;
        let before = logs.text().len();
        assert_eq!(
            authorize_error(&app).await.as_deref(),
            Some("provider_misconfigured"),
            "{url}"
        );
        let text = logs.text();
        let new = &text[before.min(text.len())..];
        assert!(
            new.contains(member) && new.contains("no identity provider is expected there"),
            "the log names the endpoint ({url}): {new}"
        );
    }
}

/// N3, strict policy: private and loopback addresses are refused too, as IP literals and as
/// host names resolving only to them (`localhost`), with no request sent. The fake lives on
/// loopback, so under the strict policy it is unreachable by design.
#[tokio::test]
async fn strict_endpoint_policy_refuses_private_and_loopback() {
    let (logs, _guard) = Logs::capture();
    let (fake, app) = fresh_with(|b| b.endpoint_policy(EndpointPolicy::Strict)).await;
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_misconfigured")
    );
    assert!(
        logs.text().contains("a loopback address"),
        "{}",
        logs.text()
    );
    let mut settings = authentik_settings(&fake, UrlForm::Issuer);
    let issuer = fake.issuer().replace("127.0.0.1", "localhost");
    settings.url = Some(issuer);
    let app = app_with(&fake, settings, |b| {
        b.endpoint_policy(EndpointPolicy::Strict)
    })
    .await;
    let before = logs.text().len();
    assert_eq!(
        authorize_error(&app).await.as_deref(),
        Some("provider_misconfigured")
    );
    let text = logs.text();
    assert!(
        text[before..].contains("`localhost` resolves only to refused addresses"),
        "{}",
        &text[before..]
    );
    assert_eq!(fake.count(Endpoint::Discovery), 0, "no request was sent");
    // The default policy takes the same fake.
    let (_fake, app) = fresh_with(|b| b.endpoint_policy(EndpointPolicy::DenyLinkLocal)).await;
    accepted(&app).await;
}

/// N4: token endpoint slow, failing or huge: typed errors, the transaction consumed.
#[tokio::test]
async fn token_endpoint_failures() {
    let (fake, app) = fresh_short().await;
    fake.fault(Endpoint::Token, Fault::Delay(Duration::from_secs(3)));
    rejected(&fake, &app, "provider_unreachable", NoFurther::Userinfo).await;
    fake.fault(Endpoint::Token, Fault::Status(503));
    rejected(&fake, &app, "provider_unreachable", NoFurther::Userinfo).await;
    fake.fault(Endpoint::Token, Fault::Oversize(10 * 1024 * 1024));
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
    fake.clear_fault(Endpoint::Token);
    accepted(&app).await;
}

/// N5: the JWKS endpoint down while cached keys are valid: the cache is used
/// (stale-while-error), also after the cache's lifetime.
#[tokio::test]
async fn jwks_down_uses_cached_keys() {
    let (fake, app) = fresh_with(|b| {
        b.cache_policy(CachePolicy {
            ttl: Duration::ZERO,
            refetch_cooldown: Duration::from_secs(30),
            ..CachePolicy::default()
        })
    })
    .await;
    accepted(&app).await;
    fake.fault(Endpoint::Jwks, Fault::Status(503));
    accepted(&app).await;
    assert!(
        fake.count(Endpoint::Jwks) >= 2,
        "the stale set was refreshed and failed"
    );
    // A rotated key cannot be verified from the stale set.
    fake.rotate_signing_key();
    rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
}

/// The endpoints of a discovery document fetched again are used from the next sign-in on (the
/// provider's endpoints are built once per document, not once per sign-in).
#[tokio::test]
async fn endpoints_of_a_refetched_discovery_document_are_used() {
    let (fake, app) = fresh_with(|b| {
        b.cache_policy(CachePolicy {
            ttl: Duration::ZERO,
            ..CachePolicy::default()
        })
    })
    .await;
    let first = location(&authorize(&app, &app.client, "").await).unwrap();
    assert!(!first.contains("moved=1"), "{first}");
    let moved = format!("{}/application/o/authorize/?moved=1", fake.url());
    fake.set_discovery(move |d| {
        d.insert("authorization_endpoint".into(), moved.clone().into());
    });
    let second = location(&authorize(&app, &app.client, "").await).unwrap();
    assert!(second.contains("moved=1"), "{second}");
    assert!(fake.count(Endpoint::Discovery) >= 2);
}

/// N6: a burst of sign-ins with an unknown `kid` costs at most one extra JWKS fetch (single
/// flight, cooldown).
#[tokio::test]
async fn unknown_kid_burst_fetches_once() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    assert_eq!(fake.count(Endpoint::Jwks), 1);
    fake.set_tamper(Tamper::Kid("unknown-kid".into()));
    let n = 12;
    let mut callbacks = Vec::new();
    let mut browsers = Vec::new();
    for _ in 0..n {
        let c = client();
        let r = authorize(&app, &c, "?login_hint=alice").await;
        callbacks.push(to_callback(&c, &r).await);
        browsers.push(c);
    }
    let futs: Vec<_> = browsers
        .iter()
        .zip(&callbacks)
        .map(|(c, cb)| c.get(cb).send())
        .collect();
    for r in futures_util::future::join_all(futs).await {
        let r = r.unwrap();
        assert!(location(&r).unwrap().ends_with("error=id_token_invalid"));
    }
    let fetches = fake.count(Endpoint::Jwks);
    note(&format!(
        "N6: {n} concurrent sign-ins with an unknown kid → {} JWKS fetches",
        fetches
    ));
    assert!(fetches <= 2, "at most one extra fetch: {fetches}");
    assert_eq!(fake.count(Endpoint::Userinfo), 1);
}

/// N6, the cooldown also holds when the fetched set has no usable key.
#[tokio::test]
async fn unknown_kid_cooldown_with_no_usable_keys() {
    let (fake, app) = fresh().await;
    accepted(&app).await;
    fake.set_jwks(|d| {
        d.insert(
            "keys".into(),
            serde_json::json!([{"kty": "AKP", "kid": "x", "pub": "AA"}]),
        );
    });
    fake.set_tamper(Tamper::Kid("unknown-kid".into()));
    for _ in 0..4 {
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
    assert!(
        fake.count(Endpoint::Jwks) <= 2,
        "{}",
        fake.count(Endpoint::Jwks)
    );
}

/// N7: a key set of 10 000 keys / megabytes is capped: `provider_misconfigured`.
#[tokio::test]
async fn jwks_oversized() {
    let (fake, app) = fresh().await;
    fake.set_jwks(|d| {
        let key = d["keys"][0].clone();
        let many: Vec<serde_json::Value> = (0..10_000)
            .map(|i| {
                let mut k = key.clone();
                k["kid"] = format!("k{i}").into();
                k
            })
            .collect();
        d.insert("keys".into(), many.into());
    });
    rejected(&fake, &app, "provider_misconfigured", NoFurther::Userinfo).await;
}

/// N8: userinfo 5xx or slow: a clean failure, nothing created.
#[tokio::test]
async fn userinfo_failures_create_nothing() {
    let (fake, app) = fresh_short().await;
    fake.fault(Endpoint::Userinfo, Fault::Status(500));
    rejected(&fake, &app, "provider_unreachable", NoFurther::Nothing).await;
    fake.fault(Endpoint::Userinfo, Fault::Delay(Duration::from_secs(3)));
    rejected(&fake, &app, "provider_unreachable", NoFurther::Nothing).await;
    assert!(user_by_email(&app, "alice@example.com").await.is_none());
}

/// N9 (and S1): the issuer's clock 30 s off either way is accepted; 10 min off either way is
/// refused.
#[tokio::test]
async fn clock_skew() {
    let (fake, app) = fresh().await;
    for ok in [30, -30] {
        fake.set_clock_offset(ok);
        accepted(&app).await;
    }
    for bad in [600, -600] {
        fake.set_clock_offset(bad);
        rejected(&fake, &app, "id_token_invalid", NoFurther::Userinfo).await;
    }
}
