//! Misbehaviour switches: faults per endpoint, token tampering and document mutations.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

/// A JSON object mutation hook (claims, discovery document, JWKS document).
pub(crate) type MapHook = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;
/// A mutation hook for the authorize callback's query parameters.
pub(crate) type ParamsHook = Arc<dyn Fn(&mut Vec<(String, String)>) + Send + Sync>;

/// An infrastructure failure injected at one endpoint with
/// [`FakeAuthentik::fault`](super::FakeAuthentik::fault); it stays until
/// [`clear_fault`](super::FakeAuthentik::clear_fault).
///
/// Except for [`Fault::Delay`], the endpoint's normal processing is skipped: a faulted token
/// request does not consume its code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an empty body (invalid codes become 500).
    Status(u16),
    /// Process the request normally but answer only after this delay (timeouts).
    Delay(Duration),
    /// Answer with exactly this status, content type and body (e.g. an HTML error page from a
    /// reverse proxy, or JSON that is not JSON).
    Body {
        /// HTTP status.
        status: u16,
        /// `Content-Type` header value.
        content_type: String,
        /// Response body.
        body: Vec<u8>,
    },
    /// Answer 200 `application/json` with a body of this many bytes (a JSON object padded with
    /// a long string), to test response size limits.
    Oversize(usize),
}

/// How the fake corrupts the next ID tokens it signs (set with
/// [`FakeAuthentik::set_tamper`](super::FakeAuthentik::set_tamper)).
///
/// Only the ID token is tampered; the access token stays valid so that the flow can proceed to
/// the point where the relying party verifies the ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tamper {
    /// Correctly signed, then the signature bytes are reversed (OpenID RP test
    /// `rp-id_token-bad-sig-*`).
    BadSignature,
    /// Header `{"alg":"none","typ":"JWT"}` and an empty signature (`rp-id_token-sig-none`).
    AlgNone,
    /// Algorithm confusion: header `alg: HS256` (with the real `kid`) and an HMAC-SHA256 keyed
    /// with the signing key's public key PEM (SPKI text). In HS256 mode it signs normally.
    Hs256WithRsaPublicKey,
    /// The header has no `kid` (`rp-id_token-kid-absent-*`).
    NoKid,
    /// The header's `kid` is replaced by this value (an unknown kid forces a JWKS refetch).
    Kid(String),
    /// Signed with an attacker key that the JWKS does not contain, whose public JWK is put in
    /// the header's `jwk` member (CVE-2018-0114 style).
    EmbeddedJwkHeader,
    /// Signed with the attacker key; the header's `jku` points to `/attacker/jwks/` on the fake,
    /// which serves the attacker key ([`Endpoint::AttackerJwks`](super::Endpoint::AttackerJwks)).
    Jku,
    /// Valid signature, but the header has `crit: ["urn:tower-oidc:test:unknown"]` with that
    /// member present: a verifier must reject unknown critical extensions (RFC 7515 §4.1.11).
    CritHeader,
    /// The header claims this `alg` (e.g. `RS384`, `PS256`, `ES256` with an RSA key). RSA keys
    /// really sign with RS384/RS512/PS256/PS384/PS512 when named; other names keep the key's
    /// own algorithm under the false header.
    WrongAlg(String),
    /// Header `alg: ES256` with the real `kid` and a 64-byte all-zero signature (r = s = 0,
    /// CVE-2022-21449 "psychic signatures").
    EsPsychicSignature,
    /// Five dot-separated parts, like a compact JWE (`alg: RSA-OAEP-256`, `enc: A256CBC-HS512`)
    /// that the relying party cannot decrypt.
    JweLike,
    /// A correctly signed token whose header carries a padding member of this many bytes.
    HugeHeader(usize),
    /// Correctly signed with these extra header members merged in (e.g. `typ`, `cty`, `x5u`).
    ExtraHeader(Map<String, Value>),
}

/// All switches, cloned out of the lock before a request is processed so that user hooks run
/// without the fake's lock held.
#[derive(Clone, Default)]
pub(crate) struct Switches {
    pub(crate) id_token_claims: Option<MapHook>,
    pub(crate) userinfo: Option<MapHook>,
    pub(crate) token_response: Option<MapHook>,
    pub(crate) discovery: Option<MapHook>,
    pub(crate) jwks: Option<MapHook>,
    pub(crate) callback_params: Option<ParamsHook>,
    pub(crate) tamper: Option<Tamper>,
    pub(crate) jwks_junk_keys: bool,
    pub(crate) extra_kidless_keys: usize,
    pub(crate) clock_offset: i64,
    pub(crate) advertised_origins: Vec<(super::Endpoint, String)>,
}

impl fmt::Debug for Switches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Switches")
            .field("id_token_claims", &self.id_token_claims.is_some())
            .field("userinfo", &self.userinfo.is_some())
            .field("token_response", &self.token_response.is_some())
            .field("discovery", &self.discovery.is_some())
            .field("jwks", &self.jwks.is_some())
            .field("callback_params", &self.callback_params.is_some())
            .field("tamper", &self.tamper)
            .field("jwks_junk_keys", &self.jwks_junk_keys)
            .field("extra_kidless_keys", &self.extra_kidless_keys)
            .field("clock_offset", &self.clock_offset)
            .field("advertised_origins", &self.advertised_origins)
            .finish()
    }
}
