//! Two sites over HTTPS, for the browser test `tests/browser/two_sites.mjs` (issue #19, "Real
//! deployments", item 4): the app at `https://app.localtest:PORT`, a fake Authentik at
//! `https://idp.localtest:PORT`, both signed by a private CA made afresh at every start.
//!
//! **A test fixture, not an example to copy**: it has unauthenticated control routes under
//! `/test/` (below) that end any user's sessions at the fake. `tests/browser/two_sites.sh` builds
//! and starts it; on its own:
//!
//! ```sh
//! TWO_SITES_DIR=/tmp/two-sites cargo run --example two_sites   # under a private /etc/hosts
//! ```
//!
//! - Names: `app.localtest` and `idp.localtest` must resolve to `127.0.0.1` through the system
//!   resolver (the app's calls to the provider, and the fake's back-channel POSTs to the app, go
//!   through `getaddrinfo` as in production, and TLS checks those names). `.localtest` is in no
//!   DNS, so `two_sites.sh` runs this binary in a mount namespace of its own whose `/etc/hosts`
//!   maps both; the browser maps them with Chromium's `--host-resolver-rules`. The binary refuses
//!   to start when the names do not resolve to loopback.
//! - Trust: one CA, one leaf certificate naming both hosts. The app trusts the CA for its calls
//!   to the provider with `.tls_trust(TlsTrust::web_pki().with_pem(…))` (the web PKI does not
//!   know it), the fake trusts it for its back-channel deliveries with `.logout_ca_pem(…)`,
//!   and the browser through an NSS database the test script makes.
//! - Sign in with Apple: a `FakeIssuer` laid out as Apple on plain http loopback
//!   (`http://127.0.0.1:PORT`, another site than the app's), whose authorize page POSTs the
//!   response to the app's callback cross-site (`response_mode=form_post`); user `ada`.
//! - Out: `$TWO_SITES_DIR/ca.pem` (the CA certificate) and then `$TWO_SITES_DIR/two_sites.json`
//!   (`app_url`, `idp_url`, `issuer`, `ca_file`, `apple_url`), written once both servers listen;
//!   the same JSON on one stdout line starting `two-sites ready: `.
//!
//! Test-harness routes (the browser calls them with `fetch` from an app page):
//! - `POST /test/backchannel/{username}`: sets the fake's logout URI to the app's back-channel
//!   route and ends every Authentik session of the user, as an admin deleting them does; answers
//!   the ended session count and each delivery's status.
//! - `POST /test/frontchannel`: sets the fake's logout URI to the app's front-channel route, so
//!   the fake's end-session page embeds it in an iframe.

#[path = "../tests/common/tls.rs"]
mod tls;

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::MemoryStore;
use tower_oidc::testing::{FakeAuthentik, FakeIssuer, FakeUser, LogoutMethod, Preset};
use tower_oidc::{Auth, OidcLayer, Providers, Secret, TlsTrust};

const APP_HOST: &str = "app.localtest";
const IDP_HOST: &str = "idp.localtest";
const SLUG: &str = "two-sites";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// `/`: who is signed in, and a sign-out button; the login page when signed out.
async fn home(req: Request) -> Response {
    let auth = Auth::from_extensions(req.extensions());
    let Some(user) = auth.user() else {
        return Redirect::to("/api/auth/login?return_to=/").into_response();
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>two sites</title></head>
<body><h1>Welcome, <span id="user-name">{name}</span>!</h1>
<form method="post" action="/api/auth/logout"><button id="sign-out" type="submit">Sign out</button></form>
</body></html>"#,
        name = esc(user.name.as_deref().unwrap_or("?")),
    ))
    .into_response()
}

/// What the test-harness routes need.
#[derive(Clone)]
struct Harness {
    fake: Arc<FakeAuthentik>,
    backchannel_uri: String,
    frontchannel_uri: String,
}

/// `POST /test/backchannel/{username}` (test harness): back-channel logout of every Authentik
/// session of the user.
async fn backchannel(State(h): State<Harness>, Path(username): Path<String>) -> Response {
    h.fake
        .set_logout_uri(&h.backchannel_uri, LogoutMethod::Backchannel);
    let report = h.fake.end_sessions(&username).await;
    let deliveries: Vec<_> = report
        .deliveries
        .iter()
        .map(|d| serde_json::json!({"status": d.status, "error": d.error}))
        .collect();
    Json(serde_json::json!({
        "ended": report.ended_sessions.len(),
        "deliveries": deliveries,
    }))
    .into_response()
}

/// `POST /test/frontchannel` (test harness): the fake's logout method becomes front-channel.
async fn frontchannel(State(h): State<Harness>) -> Response {
    h.fake
        .set_logout_uri(&h.frontchannel_uri, LogoutMethod::Frontchannel);
    Json(serde_json::json!({"logout_uri": h.frontchannel_uri})).into_response()
}

/// Fails unless `host` resolves, through the system resolver, to loopback addresses only.
async fn check_resolves_to_loopback(host: &str) -> Result<(), Box<dyn Error>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 443))
        .await
        .map_err(|e| {
            format!(
                "{host} does not resolve ({e}): run this under tests/browser/two_sites.sh, which \
                 gives it an /etc/hosts mapping {APP_HOST} and {IDP_HOST} to 127.0.0.1"
            )
        })?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!("{host} resolves to {addrs:?}, not to loopback only").into());
    }
    Ok(())
}

/// HTTPS for axum: accepts TCP connections and completes each TLS handshake on a task of its
/// own (a slow or failed handshake holds up no other connection), handing over the finished
/// ones.
struct TlsListener {
    addr: SocketAddr,
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    fn start(
        listener: tokio::net::TcpListener,
        config: Arc<ServerConfig>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                    match handshake {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { addr, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task never ends while the runtime runs.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

/// The app's TLS identity: the leaf certificate chain and key, HTTP/1.1.
fn server_config(chain_pem: &str, key_pem: &str) -> Result<Arc<ServerConfig>, Box<dyn Error>> {
    let certs = CertificateDer::pem_slice_iter(chain_pem.as_bytes()).collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let out_dir = std::path::PathBuf::from(
        std::env::var("TWO_SITES_DIR").map_err(|_| "TWO_SITES_DIR (a directory) is required")?,
    );
    std::fs::create_dir_all(&out_dir)?;
    check_resolves_to_loopback(APP_HOST).await?;
    check_resolves_to_loopback(IDP_HOST).await?;

    // A fresh CA, and one server certificate for both sites.
    let ca = tls::test_ca_for(&[APP_HOST, IDP_HOST]);
    let ca_file = out_dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem)?;
    let trust = TlsTrust::web_pki().with_pem(ca.ca_pem.as_bytes())?;

    // Both ports first: each site's URL names the other's.
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let idp_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let app_url = format!("https://{APP_HOST}:{}", app_listener.local_addr()?.port());
    let callback = format!("{app_url}/api/auth/providers/authentik/callback");

    let fake = FakeAuthentik::builder()
        .slug(SLUG)
        .client_id("tower-oidc-two-sites")
        .redirect_uri(&callback)
        .post_logout_redirect_uri(format!("{app_url}/"))
        .user(
            FakeUser::new("alice")
                .name("Alice Anders")
                .email("alice@example.com")
                .groups(["users"]),
        )
        .user(
            FakeUser::new("bob")
                .name("Bob Berger")
                .email("bob@example.com"),
        )
        .login_page(true)
        .tls(ca.leaf_chain_pem.clone(), ca.leaf_key_pem.clone())
        .tls_host(IDP_HOST)
        .listener(idp_listener)
        .logout_ca_pem(ca.ca_pem.clone())
        .start()
        .await;
    let fake = Arc::new(fake);
    let backchannel_uri = format!("{app_url}/api/auth/providers/authentik/backchannel-logout");
    let frontchannel_uri = format!("{app_url}/api/auth/providers/authentik/frontchannel-logout");
    fake.set_logout_uri(&backchannel_uri, LogoutMethod::Backchannel);

    let apple = FakeIssuer::builder(Preset::apple())
        .user(
            FakeUser::new("ada")
                .name("Ada Lovelace")
                .given_name("Ada")
                .family_name("Lovelace")
                .email("ada@example.com")
                .email_verified(true),
        )
        .start()
        .await;

    let settings = ProviderSettings {
        enabled: true,
        url: Some(fake.url()),
        slug: Some(SLUG.into()),
        client_id: Some(fake.client_id().to_owned()),
        client_secret: Some(Secret::new(fake.client_secret())),
        ..ProviderSettings::default()
    };
    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .provider("authentik", settings)
        .provider("apple", apple.settings())
        .store(MemoryStore::new())
        .base_url(&app_url)
        .tls_trust(trust)
        // Memory stores: sessions end with the process, so a random key is honest here.
        .ephemeral_keys()
        .build()?;

    let harness = Harness {
        fake: fake.clone(),
        backchannel_uri,
        frontchannel_uri,
    };
    let test_routes = Router::new()
        .route("/test/backchannel/{username}", post(backchannel))
        .route("/test/frontchannel", post(frontchannel))
        .with_state(harness);
    let app = Router::new()
        .route("/", get(home))
        .merge(test_routes)
        .layer(layer);

    let tls = TlsListener::start(
        app_listener,
        server_config(&ca.leaf_chain_pem, &ca.leaf_key_pem)?,
    )?;
    let ready = serde_json::json!({
        "app_url": app_url,
        "idp_url": fake.url(),
        "issuer": fake.issuer(),
        "ca_file": ca_file,
        "apple_url": apple.url(),
    });
    // Written whole under another name, then renamed: a reader never sees half a file.
    let json_file = out_dir.join("two_sites.json");
    let partial = out_dir.join("two_sites.json.partial");
    std::fs::write(&partial, ready.to_string())?;
    std::fs::rename(&partial, &json_file)?;
    println!("two-sites ready: {ready}");
    axum::serve(tls, app).await?;
    Ok(())
}
