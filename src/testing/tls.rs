//! HTTPS for [`FakeAuthentik`]: a TLS-terminating TCP proxy in front of the plain-http wiremock
//! server ([`FakeAuthentikBuilder::tls`](super::FakeAuthentikBuilder::tls)).
//!
//! The proxy runs on a thread and a current-thread runtime of its own, as wiremock's server does,
//! so it answers while the test's runtime is blocked (a test waiting on a child process that
//! signs in) or gone; dropping the fake stops it and every connection it holds.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto::ring};

use super::fake::FakeAuthentik;

/// What [`FakeAuthentikBuilder::tls`](super::FakeAuthentikBuilder::tls) was given.
#[derive(Clone)]
pub(crate) struct TlsSettings {
    pub(crate) cert_chain_pem: String,
    pub(crate) key_pem: String,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field(
                "cert_chain_pem",
                &format_args!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl TlsSettings {
    /// The rustls server configuration: the chain and key from PEM, the `ring` provider (the one
    /// the crate builds; never the process default, which may be unset or another), TLS 1.2 and
    /// 1.3, no client certificates, no ALPN (clients speak HTTP/1.1).
    pub(crate) fn server_config(&self) -> Result<Arc<ServerConfig>, String> {
        let certs = CertificateDer::pem_slice_iter(self.cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the certificate chain is not valid PEM: {e}"))?;
        if certs.is_empty() {
            return Err("the certificate chain holds no CERTIFICATE block".into());
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| format!("the private key is not a PEM private key: {e}"))?;
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("the certificate and key do not make a server identity: {e}"))?;
        Ok(Arc::new(config))
    }
}

/// The running proxy; dropping it stops the proxy thread and closes its connections.
pub(crate) struct TlsProxy {
    addr: SocketAddr,
    failures: Arc<AtomicUsize>,
    /// Dropped with the proxy: the thread's `block_on` returns and its runtime (with every
    /// connection task) is dropped.
    _stop: oneshot::Sender<()>,
}

impl TlsProxy {
    /// Serves TLS on `listener`, forwarding each connection's plaintext to `backend`.
    pub(crate) fn start(
        listener: TcpListener,
        backend: SocketAddr,
        config: Arc<ServerConfig>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let failures = Arc::new(AtomicUsize::new(0));
        let counter = failures.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("fake-authentik-tls".into())
            .spawn(move || {
                let acceptor = TlsAcceptor::from(config);
                runtime.block_on(async move {
                    tokio::select! {
                        _ = stopped => {}
                        () = accept_loop(listener, backend, acceptor, counter) => {}
                    }
                });
            })?;
        Ok(Self {
            addr,
            failures,
            _stop: stop,
        })
    }
}

impl TlsProxy {
    /// The HTTPS port.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    backend: SocketAddr,
    acceptor: TlsAcceptor,
    failures: Arc<AtomicUsize>,
) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                tokio::spawn(connection(tcp, backend, acceptor.clone(), failures.clone()));
            }
            // Out of file descriptors and the like: wait instead of spinning.
            Err(e) => {
                tracing::warn!(error = %e, "FakeAuthentik: TLS proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    tcp: TcpStream,
    backend: SocketAddr,
    acceptor: TlsAcceptor,
    failures: Arc<AtomicUsize>,
) {
    // A connection closed before its first byte (a port probe) attempted no handshake.
    let mut first = [0u8; 1];
    if !matches!(tcp.peek(&mut first).await, Ok(n) if n > 0) {
        return;
    }
    let mut tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            failures.fetch_add(1, Ordering::SeqCst);
            tracing::debug!(error = %e, "FakeAuthentik: TLS handshake failed");
            return;
        }
    };
    let mut plain = match TcpStream::connect(backend).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "FakeAuthentik: TLS proxy cannot reach wiremock");
            return;
        }
    };
    // Ends when either side closes; a reset mid-stream is the client's business.
    if let Err(e) = tokio::io::copy_bidirectional(&mut tls, &mut plain).await {
        tracing::trace!(error = %e, "FakeAuthentik: TLS proxy connection ended");
    }
}

impl FakeAuthentik {
    /// The loopback address clients connect to: the HTTPS port when the fake serves TLS
    /// ([`FakeAuthentikBuilder::tls`](super::FakeAuthentikBuilder::tls)), else wiremock's.
    ///
    /// With a [`tls_host`](super::FakeAuthentikBuilder::tls_host) that does not resolve to it,
    /// point the client's resolver here, e.g. `reqwest::ClientBuilder::resolve(host, addr)`.
    pub fn local_addr(&self) -> SocketAddr {
        match &self.tls {
            Some(proxy) => proxy.addr,
            None => *self.server.address(),
        }
    }

    /// How many TLS handshakes failed so far: a client that refused the certificate (an unknown
    /// CA, a name it does not cover), offered nothing the fake speaks, or sent plain HTTP to the
    /// HTTPS port. A connection closed before sending anything is not counted. Always 0 without
    /// TLS.
    ///
    /// The fake counts a failure when it reads the client's alert or close, which can be a
    /// moment after the client's own error returned: poll for a while rather than asserting at
    /// once.
    pub fn tls_handshake_failures(&self) -> usize {
        self.tls
            .as_ref()
            .map_or(0, |proxy| proxy.failures.load(Ordering::SeqCst))
    }
}
