//! [`TlsTrust`]: which certificate authorities the server trusts when it calls identity
//! providers, and the words that explain a certificate it refused.

use std::fmt;
use std::path::Path;

use crate::error::{Error, ErrorCode};

/// The certificate authorities trusted for calls to identity providers (discovery, JWKS, token,
/// userinfo, revocation).
///
/// The default is the web PKI (Mozilla's roots, built in): right for Authentik behind a public
/// certificate. A self-hosted Authentik signed by a company or homelab CA needs that CA: add its
/// certificate from a PEM file, or trust the operating system's store where it is installed.
/// There is deliberately no way to accept invalid certificates.
///
/// ```no_run
/// # fn f() -> Result<(), tower_oidc::Error> {
/// use tower_oidc::TlsTrust;
/// let trust = TlsTrust::web_pki()
///     .with_pem_file("/etc/ssl/private-ca.pem")?
///     .with_native_roots(true);
/// let layer = tower_oidc::OidcLayer::builder().tls_trust(trust);
/// # let _ = layer; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsTrust {
    web_pki: bool,
    native_roots: bool,
    extra: Vec<reqwest::Certificate>,
}

impl Default for TlsTrust {
    fn default() -> Self {
        TlsTrust::web_pki()
    }
}

impl fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTrust")
            .field("web_pki", &self.web_pki)
            .field("native_roots", &self.native_roots)
            .field("extra_certificates", &self.extra.len())
            .finish()
    }
}

impl TlsTrust {
    /// The web PKI roots only (the default).
    pub fn web_pki() -> Self {
        TlsTrust {
            web_pki: true,
            native_roots: false,
            extra: Vec::new(),
        }
    }

    /// Also (or, with `false`, no longer) trust the operating system's certificate store, read
    /// once when the layer is built.
    pub fn with_native_roots(mut self, on: bool) -> Self {
        self.native_roots = on;
        self
    }

    /// Also trust the CA certificates of a PEM bundle (one or more `BEGIN CERTIFICATE` blocks).
    /// A bundle without a certificate, or one that does not parse, is an error that says so.
    pub fn with_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("the CA certificates are not PEM ({e})"),
            )
        })?;
        if certs.is_empty() {
            return Err(Error::new(
                ErrorCode::ProviderMisconfigured,
                "the CA file holds no `BEGIN CERTIFICATE` block",
            ));
        }
        self.extra.extend(certs);
        Ok(self)
    }

    /// [`TlsTrust::with_pem`] from a file.
    pub fn with_pem_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorCode::ProviderMisconfigured,
                format!("cannot read the CA file {}: {e}", path.display()),
            )
        })?;
        self.with_pem(&pem)
            .map_err(|e| Error::new(e.code(), format!("{}: {}", path.display(), e.detail())))
    }

    /// How many extra CA certificates are trusted.
    pub fn extra_certificates(&self) -> usize {
        self.extra.len()
    }

    /// A client builder with these roots.
    pub(crate) fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder = builder
            .tls_built_in_webpki_certs(self.web_pki)
            .tls_built_in_native_certs(self.native_roots);
        for c in &self.extra {
            builder = builder.add_root_certificate(c.clone());
        }
        builder
    }
}

/// What to do about a certificate the server refused, when `e` is one: the cause in words and
/// the setting that fixes it. `None` for any other failure.
pub(crate) fn certificate_advice(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::CertificateError as C;
    let cert = find_rustls_error(e)?;
    let rustls::Error::InvalidCertificate(cause) = cert else {
        return None;
    };
    let (what, fix) = match cause {
        C::UnknownIssuer | C::BadSignature => (
            "the provider's TLS certificate is signed by a CA this server does not trust",
            "trust that CA: `TlsTrust::web_pki().with_pem_file(…)` in `.tls_trust(…)` (the quickstart: AUTHENTIK_CA_FILE), or install it in the OS store and use `.with_native_roots(true)`",
        ),
        C::Expired | C::ExpiredContext { .. } => (
            "the provider's TLS certificate has expired",
            "renew the provider's certificate (or check this server's clock)",
        ),
        C::NotValidYet | C::NotValidYetContext { .. } => (
            "the provider's TLS certificate is not valid yet",
            "check this server's clock and the certificate's dates",
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            "the provider's TLS certificate is not valid for the host name the server used",
            "use the host name the certificate was issued for in the provider URL (or `internal_url`)",
        ),
        C::Revoked => (
            "the provider's TLS certificate is revoked",
            "install a new certificate at the provider",
        ),
        _ => (
            "the provider's TLS certificate was refused",
            "check the certificate chain the provider serves",
        ),
    };
    Some(format!("{what} ({cause:?}); {fix}"))
}

/// The `rustls::Error` in an error's source chain, looking inside `io::Error`s (whose `source`
/// skips the error they wrap, which may be another `io::Error`).
fn find_rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = e;
    for _ in 0..12 {
        if let Some(r) = cur.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        let next: Option<&(dyn std::error::Error + 'static)> = match cur
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => cur.source(),
        };
        cur = next?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_an_error_that_says_so() {
        let e = TlsTrust::web_pki().with_pem(b"not pem at all").unwrap_err();
        assert!(
            e.detail().contains("BEGIN CERTIFICATE") || e.detail().contains("PEM"),
            "{e}"
        );
        let e = TlsTrust::web_pki()
            .with_pem_file("/nonexistent/ca.pem")
            .unwrap_err();
        assert!(e.detail().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn an_unknown_issuer_inside_an_io_error_is_explained() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let nested = std::io::Error::other(io);
        let advice = certificate_advice(&nested).unwrap();
        assert!(
            advice.contains("does not trust") && advice.contains("with_pem_file"),
            "{advice}"
        );
        let plain = std::io::Error::other("connection refused");
        assert!(certificate_advice(&plain).is_none());
    }
}
