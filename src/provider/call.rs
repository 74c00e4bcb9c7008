//! What a request to a provider is: which endpoint (its metric label and its name in logs), and
//! whose (the provider's own calls are counted; the admin's check is not).

/// Which of a provider's endpoints a request goes to: its metric label and its name in logs and
/// errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Discovery,
    Jwks,
    Token,
    Userinfo,
    /// A spec's extra user-API request (GitHub's emails), by its name in logs.
    UserApi(&'static str),
    Revocation,
    /// Token introspection (RFC 7662), for an opaque bearer token.
    Introspection,
    /// A pushed authorization request (RFC 9126).
    Par,
    /// A reachability probe of the admin check, by its name in logs.
    Probe(&'static str),
}

impl Endpoint {
    /// The `endpoint` label.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Userinfo => "userinfo",
            Endpoint::UserApi(_) => "user_api",
            Endpoint::Revocation => "revocation",
            Endpoint::Introspection => "introspection",
            Endpoint::Par => "par",
            Endpoint::Probe(_) => "probe",
        }
    }

    /// Its name in logs and errors.
    pub fn describe(self) -> &'static str {
        match self {
            Endpoint::UserApi(what) | Endpoint::Probe(what) => what,
            other => other.label(),
        }
    }
}

/// One request to a provider: which endpoint, and for which provider when it is a provider's
/// own call (sign-in, refresh, revocation) rather than the admin's check, which is not counted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(super) provider: Option<&'a str>,
    pub(super) endpoint: Endpoint,
}

impl<'a> Call<'a> {
    /// A request of `provider`'s (a configured id), counted in the metrics.
    pub fn of(provider: &'a str, endpoint: Endpoint) -> Self {
        Call {
            provider: Some(provider),
            endpoint,
        }
    }

    /// A request of the admin's provider check: traced, not counted.
    pub fn check(endpoint: Endpoint) -> Self {
        Call {
            provider: None,
            endpoint,
        }
    }
}
