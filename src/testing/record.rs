//! The request log behind `requests()` and `count()`.

/// The fake's endpoints, for [`FakeAuthentik::count`](super::FakeAuthentik::count),
/// [`FakeAuthentik::fault`](super::FakeAuthentik::fault) and [`RecordedRequest::endpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/application/o/<slug>/.well-known/openid-configuration` (and the RFC 8414 variant).
    Discovery,
    /// `/application/o/<slug>/jwks/`.
    Jwks,
    /// `/application/o/authorize/`.
    Authorize,
    /// `/application/o/token/`.
    Token,
    /// `/application/o/userinfo/`.
    Userinfo,
    /// `/application/o/revoke/` (RFC 7009 token revocation).
    Revoke,
    /// `/application/o/introspect/` (RFC 7662 token introspection).
    Introspect,
    /// `/application/o/par/`: pushed authorization requests (RFC 9126). Not Authentik's: the
    /// fake serves it for providers that have one (advertise it with
    /// [`set_discovery`](super::FakeAuthentik::set_discovery)).
    Par,
    /// `/application/o/<slug>/end-session/`.
    EndSession,
    /// `/flows/-/default/authentication/`, the login flow a signed-out browser is sent to
    /// (a stand-in page: the fake has no interactive login).
    LoginFlow,
    /// `/application/o/<slug>/`, the issuer URL itself (302 to discovery).
    ProviderRoot,
    /// A further user-API endpoint of a [`FakeIssuer`](super::FakeIssuer) preset (GitHub's
    /// `/user/emails`).
    UserApi,
    /// `/attacker/jwks/`: the attacker's key set that [`Tamper::Jku`](super::Tamper::Jku)
    /// points to. A relying party must never fetch it.
    AttackerJwks,
}

/// One request the fake received, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path, e.g. `/application/o/token/`.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower case, values lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// Decoded `application/x-www-form-urlencoded` body parameters (empty for other bodies).
    pub form: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Which endpoint the path belongs to; `None` for paths the fake answers with 404.
    pub endpoint: Option<Endpoint>,
}

impl RecordedRequest {
    /// The record of a decoded request.
    pub(crate) fn of(
        req: &super::endpoints::Req,
        body: &[u8],
        endpoint: Option<Endpoint>,
    ) -> RecordedRequest {
        RecordedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            form: req.form.clone(),
            body: body.to_vec(),
            endpoint,
        }
    }

    /// The last value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        last(&self.query, name)
    }

    /// The last value of form parameter `name`.
    pub fn form_param(&self, name: &str) -> Option<&str> {
        last(&self.form, name)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The last value for `name`, as Django's `QueryDict.get` returns it.
pub(crate) fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// How many requests of `log` reached `endpoint` (what the fakes' `count` tells).
pub(crate) fn count(log: &[RecordedRequest], endpoint: Endpoint) -> usize {
    log.iter().filter(|r| r.endpoint == Some(endpoint)).count()
}

/// A token the revoke endpoint (RFC 7009) forgot, in
/// [`FakeAuthentik::revocations`](super::FakeAuthentik::revocations). A revocation request for
/// an unknown token (answered 200 all the same) leaves no record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revocation {
    /// The token as the client sent it.
    pub token: String,
    /// Whether it was an access or a refresh token.
    pub kind: TokenKind,
    /// The username of the user it was issued to (empty if the user was removed since).
    pub username: String,
}

/// The kind of a revoked token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
}
