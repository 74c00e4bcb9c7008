//! What the examples share: configuration from the environment, the in-process fake Authentik,
//! and, for the framework examples (`axum`, `actix`, `warp`), the `OidcLayer` and the HTML of
//! their pages.
//!
//! Environment (the same as the quickstart's):
//! - `APP_URL` (default `http://127.0.0.1:3000`): where the app listens and what it tells the
//!   provider.
//! - `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID`, `AUTHENTIK_CLIENT_SECRET`: a real Authentik. When
//!   any is missing, a fake Authentik starts in-process with two demo users: alice (in the group
//!   "authentik Admins", so an administrator here) and bob.
//! - `AUTHENTIK_INTERNAL_URL`: where this server reaches Authentik when that is not
//!   `AUTHENTIK_URL` (e.g. `http://authentik-server:9000` in docker-compose); browsers still go
//!   to `AUTHENTIK_URL`.
//! - `AUTHENTIK_CA_FILE`: a PEM file of extra CA certificates to trust for Authentik (one signed
//!   by a private CA), besides the web PKI roots.
#![allow(dead_code)]

use std::error::Error;

use tower_oidc::config::{AdminRules, ProviderSettings};
use tower_oidc::store::MemoryStore;
use tower_oidc::testing::{FakeAuthentik, FakeUser};
use tower_oidc::{OidcLayer, Providers, Secret, TlsTrust, User};

/// Everything an example app needs.
pub struct Setup {
    /// The layer (its engine drives actix-web and warp too).
    pub layer: OidcLayer,
    /// `host:port` to listen on.
    pub addr: String,
    /// The public URL of the app.
    pub app_url: String,
    /// The fake Authentik, when no real one is configured. Keep it alive while serving.
    pub fake: Option<FakeAuthentik>,
    /// The Authentik URL in use.
    pub authentik_url: String,
}

/// An environment variable, `None` when unset or blank.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `APP_URL` (default `http://127.0.0.1:3000`, without a trailing `/`) and the `host:port` to
/// listen on.
pub fn app_url_and_addr() -> Result<(String, String), Box<dyn Error>> {
    let app_url = env("APP_URL")
        .unwrap_or_else(|| "http://127.0.0.1:3000".into())
        .trim_end_matches('/')
        .to_owned();
    let parsed = url::Url::parse(&app_url)?;
    let addr = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port_or_known_default().unwrap_or(3000)
    );
    Ok((app_url, addr))
}

/// A real Authentik from `AUTHENTIK_URL`, `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET`,
/// when all three are set.
pub fn authentik_from_env() -> Option<ProviderSettings> {
    match (
        env("AUTHENTIK_URL"),
        env("AUTHENTIK_CLIENT_ID"),
        env("AUTHENTIK_CLIENT_SECRET"),
    ) {
        (Some(url), Some(id), Some(secret)) => Some(ProviderSettings {
            enabled: true,
            url: Some(url),
            internal_url: env("AUTHENTIK_INTERNAL_URL"),
            client_id: Some(id),
            client_secret: Some(Secret::new(secret)),
            ..ProviderSettings::default()
        }),
        _ => None,
    }
}

/// The CA certificates to trust for Authentik: the web PKI roots, plus those of
/// `AUTHENTIK_CA_FILE` when it is set (an unreadable or empty file is an error that names it).
pub fn tls_trust_from_env() -> Result<TlsTrust, Box<dyn Error>> {
    let trust = TlsTrust::web_pki();
    Ok(match env("AUTHENTIK_CA_FILE") {
        Some(path) => trust.with_pem_file(path)?,
        None => trust,
    })
}

/// The settings that point a provider at `fake`.
pub fn fake_settings(fake: &FakeAuthentik) -> ProviderSettings {
    ProviderSettings {
        enabled: true,
        url: Some(fake.url()),
        client_id: Some(fake.client_id().to_owned()),
        client_secret: Some(Secret::new(fake.client_secret())),
        ..ProviderSettings::default()
    }
}

/// Members of Authentik's admin group administer the app.
pub fn admin_rules() -> AdminRules {
    AdminRules {
        groups: vec!["authentik Admins".into()],
        email_domains: Vec::new(),
    }
}

/// Reads the environment, starts the fake Authentik if needed, and builds the layer.
pub async fn setup() -> Result<Setup, Box<dyn Error>> {
    let (app_url, addr) = app_url_and_addr()?;
    let redirect_uri = format!("{app_url}/api/auth/providers/authentik/callback");

    let (mut settings, fake) = match authentik_from_env() {
        Some(settings) => (settings, None),
        None => {
            let fake = FakeAuthentik::builder()
                .slug("example")
                .redirect_uri(&redirect_uri)
                .post_logout_redirect_uri(format!("{app_url}/"))
                .user(
                    FakeUser::new("alice")
                        .name("Alice Anders")
                        .email("alice@example.com")
                        .groups(["authentik Admins", "users"]),
                )
                .user(
                    FakeUser::new("bob")
                        .name("Bob Berger")
                        .email("bob@example.com")
                        .groups(["users"]),
                )
                .login_page(true)
                .start()
                .await;
            (fake_settings(&fake), Some(fake))
        }
    };
    settings.admin_rules = admin_rules();
    let authentik_url = settings.url.clone().unwrap_or_default();

    let layer = OidcLayer::builder()
        .providers(Providers::builtin())
        .provider("authentik", settings)
        .store(MemoryStore::new())
        .base_url(&app_url)
        .tls_trust(tls_trust_from_env()?)
        // Memory stores: sessions end with the process whatever the key, so a random one is
        // honest here (the quickstart keeps its key next to its SQLite file).
        .ephemeral_keys()
        .build()?;
    Ok(Setup {
        layer,
        addr,
        app_url,
        fake,
        authentik_url,
    })
}

/// Prints what to open.
pub fn banner(framework: &str, setup: &Setup) {
    let url = &setup.app_url;
    println!();
    println!("  tower-oidc with {framework}");
    println!("  Open {url}/ (public), {url}/me (signed-in users), {url}/admin (administrators).");
    match &setup.fake {
        Some(_) => println!(
            "  Authentik: a built-in fake at {} (alice is an admin, bob is not).",
            setup.authentik_url
        ),
        None => println!("  Authentik: {}", setup.authentik_url),
    }
    println!(
        "  Redirect URI to register in Authentik: {url}/api/auth/providers/authentik/callback"
    );
    println!("  Signed-in user as JSON: {url}/api/auth/session");
    println!("  listening on {}", setup.addr);
    println!();
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}</style></head>
<body>{body}
<p><a href="/">Home</a> · <a href="/me">Me</a> · <a href="/admin">Admin</a></p>
<form method="post" action="/api/auth/logout"><button type="submit">Sign out</button></form>
</body></html>"#,
        title = esc(title)
    )
}

/// `/`: public; says who is signed in, if anyone.
pub fn home_page(user: Option<&User>) -> String {
    let body = match user {
        Some(u) => format!(
            "<h1>Hello, {}!</h1>",
            esc(u.name.as_deref().unwrap_or("you"))
        ),
        None => {
            "<h1>Hello!</h1><p><a href=\"/api/auth/login?return_to=/me\">Sign in</a></p>".to_owned()
        }
    };
    page("Home", &body)
}

/// `/me`: signed-in users only.
pub fn me_page(user: &User) -> String {
    let field = |v: &Option<String>| esc(v.as_deref().unwrap_or("—"));
    page(
        "Me",
        &format!(
            "<h1 id=\"user-name\">{}</h1><dl><dt>Id</dt><dd id=\"user-id\">{}</dd><dt>Email</dt><dd id=\"user-email\">{}</dd><dt>Username</dt><dd id=\"user-username\">{}</dd><dt>Administrator</dt><dd id=\"user-admin\">{}</dd></dl>",
            field(&user.name),
            esc(user.id.as_str()),
            field(&user.email),
            field(&user.username),
            if user.is_admin { "yes" } else { "no" },
        ),
    )
}

/// `/admin`: administrators only.
pub fn admin_page(user: &User) -> String {
    page(
        "Admin",
        &format!(
            "<h1>Administration</h1><p id=\"admin\">Welcome, administrator {}.</p>",
            esc(user.name.as_deref().unwrap_or("?"))
        ),
    )
}

/// Logs to stderr at `RUST_LOG`'s levels (default `info`).
pub fn init_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}
