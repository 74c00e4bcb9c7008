//! The `reachable`, `discovery`, `issuer` and `jwks` checks: the provider's discovery document
//! and key set.

use super::CheckReport;
use super::reach::{origin, unreachable};
use crate::provider::http::{Call, Endpoint, IdpClient};
use crate::provider::{Discovery, parse_jwks};

/// Fetches and checks the discovery document; `None` when a failure was reported.
pub(super) async fn discovery(
    http: &IdpClient,
    url: &str,
    issuer: &str,
    r: &mut CheckReport,
) -> Option<Discovery> {
    let resp = match http.get(Call::check(Endpoint::Discovery), url, None).await {
        Ok(resp) => resp,
        Err(e) => {
            r.push("reachable", false, unreachable(url, e.detail()));
            return None;
        }
    };
    r.push(
        "reachable",
        true,
        format!("The provider answered at {}.", origin(url)),
    );
    match resp.status {
        200 => {}
        404 => {
            r.push(
                "discovery",
                false,
                format!(
                    "No discovery document at {url} (HTTP 404): the URL form or the application slug is wrong. Enter the instance URL (https://auth.example.com) or the application's issuer URL exactly as Authentik shows it in the provider's overview (…/application/o/<slug>/); the slug is the application's, not the provider's name."
                ),
            );
            return None;
        }
        s if s >= 500 => {
            r.push(
                "discovery",
                false,
                format!("The provider failed to serve {url} (HTTP {s}): check that it is healthy."),
            );
            return None;
        }
        s => {
            r.push(
                "discovery",
                false,
                format!("The discovery document at {url} answered HTTP {s} instead of 200."),
            );
            return None;
        }
    }
    let d: Discovery = match serde_json::from_slice(&resp.body) {
        Ok(d) => d,
        Err(_) => {
            r.push(
                "discovery",
                false,
                format!(
                    "{url} did not answer with a discovery document ({}): is the URL an OpenID provider, and not a login page or a proxy's error page?",
                    resp.content_type.as_deref().unwrap_or("no content type")
                ),
            );
            return None;
        }
    };
    r.push(
        "discovery",
        true,
        format!("Found the discovery document at {url}."),
    );
    if d.issuer != issuer {
        let msg = if d.issuer.trim_end_matches('/') == issuer.trim_end_matches('/') {
            format!(
                "Issuer mismatch: expected `{issuer}`, the provider says `{}`. They differ only in the trailing slash, and issuers are compared exactly, so every sign-in would fail: Authentik's issuer ends with `/`; check that no reverse proxy rewrites it and that the provider's issuer mode is \"Each provider has a different issuer\".",
                d.issuer
            )
        } else if same_path_other_host(&d.issuer, issuer) {
            format!(
                "Issuer mismatch: expected `{issuer}`, the provider says `{}`: the same application under another host. Authentik builds its issuer from the host a request names: if this server reaches it at an internal address, set the provider's internal URL (`internal_url`) and keep the public one as its URL — the server then names the public host in `X-Forwarded-Host` — and make sure Authentik trusts this server as a proxy (`AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS`); behind a reverse proxy, have it pass the public `Host`.",
                d.issuer
            )
        } else {
            format!(
                "Issuer mismatch: expected `{issuer}`, the provider says `{}`. Enter the URL the provider's issuer is built from (the instance URL or the issuer URL as Authentik shows it).",
                d.issuer
            )
        };
        r.push("issuer", false, msg);
        return None;
    }
    r.push("issuer", true, format!("The issuer is `{issuer}`."));
    Some(d)
}

pub(super) async fn jwks(http: &IdpClient, url: &str, hmac_only: bool, r: &mut CheckReport) {
    let resp = match http.get(Call::check(Endpoint::Jwks), url, None).await {
        Ok(resp) => resp,
        Err(e) => {
            r.push("jwks", false, unreachable(url, e.detail()));
            return;
        }
    };
    if resp.status != 200 {
        r.push(
            "jwks",
            false,
            format!("The key set at {url} answered HTTP {}.", resp.status),
        );
        return;
    }
    match parse_jwks(&resp.body) {
        Err(e) => r.push(
            "jwks",
            false,
            format!("The key set at {url} is not valid: {e}."),
        ),
        Ok(set) => {
            let n = set.keys().len();
            match (n, hmac_only) {
                (0, true) => r.push(
                    "jwks",
                    true,
                    "The key set is empty, as expected with HS256.",
                ),
                (0, false) => r.push(
                    "jwks",
                    false,
                    format!("The key set at {url} has no keys: select a signing key in the Authentik provider."),
                ),
                (n, _) => r.push(
                    "jwks",
                    true,
                    format!("The key set has {n} key{}.", if n == 1 { "" } else { "s" }),
                ),
            }
        }
    }
}

/// Whether two issuers differ only in scheme, host or port (Authentik answering with the host a
/// request named instead of the public one).
fn same_path_other_host(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.path() == b.path() && a.origin() != b.origin(),
        _ => false,
    }
}
