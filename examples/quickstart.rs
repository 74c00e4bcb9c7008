//! The quickstart: an axum app with "Sign in with Authentik".
//!
//! ```sh
//! cargo run -p quickstart        # or: cargo run --example quickstart (builds every dev-dependency)
//! ```
//!
//! With no configuration it starts a fake Authentik in-process (with a page to pick a demo user)
//! and signs you in through it; a second fake, behind a custom provider `authentik-staff` defined
//! in TOML below, is a second sign-in method, so the admin page (`/api/auth/admin`, linked from
//! the home page for alice) has a login-page order to change. With `AUTHENTIK_URL` (instance URL
//! or the application's issuer URL), `AUTHENTIK_CLIENT_ID` and `AUTHENTIK_CLIENT_SECRET` it uses
//! that Authentik instead (and only it); `AUTHENTIK_CA_FILE` (a PEM file) adds the CA
//! certificates to trust for it, for an Authentik behind a private CA, and
//! `AUTHENTIK_INTERNAL_URL` is where the server reaches it when that is not `AUTHENTIK_URL`.
//! `APP_URL` (default `http://127.0.0.1:3000`) is where the app listens and what it tells the
//! provider. Users, settings and sessions live in SQLite (`QUICKSTART_DB`, default
//! `quickstart.db`), so they survive a restart; the cookie key and the key that encrypts client
//! secrets at rest come from `COOKIE_KEY` / `SECRET_KEY` (base64) or, for this demo, from a key
//! file created next to the database (production keeps keys in the environment instead).
//!
//! At every start the connection settings (URL, client id and secret) come from the environment
//! or the fakes; what an admin changed on the admin page (sort order, icon, scopes, …) is kept.

mod common;

use std::error::Error;

use axum::Json;
use axum::extract::Request;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Router, routing::get};
use common::{
    admin_rules, app_url_and_addr, authentik_from_env, env, fake_settings, tls_trust_from_env,
};
use tower_oidc::config::ProviderSettings;
use tower_oidc::store::{SecretKey, SettingsStore, SqliteStore};
use tower_oidc::testing::{FakeAuthentik, FakeUser, LogoutMethod};
use tower_oidc::{Auth, OidcLayer, Providers};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

async fn home(req: Request) -> Response {
    // The layer inserts no `Auth` for requests without a session cookie: absence is signed out.
    let auth = Auth::from_extensions(req.extensions());
    let Some(user) = auth.user() else {
        return Redirect::to("/api/auth/login?return_to=/").into_response();
    };
    let field = |v: &Option<String>| esc(v.as_deref().unwrap_or("—"));
    let groups = if user.groups.is_empty() {
        "—".to_owned()
    } else {
        esc(&user.groups.join(", "))
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tower-oidc quickstart</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}dt{{font-weight:600}}dd{{margin:0 0 .6rem}}button{{padding:.6rem 1rem;font-size:1rem}}</style></head>
<body><h1>Welcome, <span id="user-name">{name}</span>!</h1>
<p>You are signed in with {provider}.</p>
<dl><dt>Email</dt><dd id="user-email">{email}</dd>
<dt>Username</dt><dd id="user-username">{username}</dd>
<dt>Groups</dt><dd id="user-groups">{groups}</dd>
<dt>Administrator</dt><dd id="user-admin">{admin}</dd></dl>
{admin_link}<form method="post" action="/api/auth/logout"><button id="sign-out" type="submit">Sign out</button></form>
</body></html>"#,
        name = field(&user.name),
        provider = esc(auth.provider().unwrap_or("?")),
        email = field(&user.email),
        username = field(&user.username),
        admin = if user.is_admin { "yes" } else { "no" },
        admin_link = if user.is_admin {
            r#"<p><a id="admin-link" href="/api/auth/admin">Sign-in provider settings</a></p>"#
        } else {
            ""
        },
    ))
    .into_response()
}

/// A key from the environment (base64), else from `path`, else a new one saved to `path`.
fn load_key(var: &str, path: &std::path::Path, len: usize) -> Result<Vec<u8>, Box<dyn Error>> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(v) = env(var) {
        return Ok(b64.decode(v.trim())?);
    }
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = b64.decode(text.trim())?;
        if bytes.len() == len {
            return Ok(bytes);
        }
    }
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| format!("random: {e}"))?;
    std::fs::write(path, b64.encode(&bytes))?;
    Ok(bytes)
}

/// Stores a provider's connection settings (enabled, URL, slug, client id and secret, admin
/// rules), keeping what an admin changed on the admin page (sort order, icon, scopes, …).
async fn connect(
    store: &SqliteStore,
    id: &str,
    connection: &ProviderSettings,
) -> Result<(), Box<dyn Error>> {
    let settings = match store.get(id).await? {
        Some(saved) => ProviderSettings {
            enabled: true,
            url: connection.url.clone(),
            slug: connection.slug.clone(),
            client_id: connection.client_id.clone(),
            client_secret: connection.client_secret.clone(),
            admin_rules: connection.admin_rules.clone(),
            ..saved
        },
        None => connection.clone(),
    };
    store.put(id, &settings).await?;
    Ok(())
}

/// The custom provider the staff fake stands for: an Authentik application (slug `staff`) as
/// any OpenID Connect provider, defined in TOML (discovery does the rest).
const STAFF_TOML: &str = r#"
[providers.authentik-staff]
name = "Authentik (staff)"
icon = "FaShieldAlt"
sort_order = 8
issuer = "{url}/application/o/staff/"
"#;

/// Starts a fake Authentik on a stable port (so identities stay the same across restarts), the
/// port from `port_var` or `default_port`.
/// `GET /api/me/userinfo`: the provider's userinfo for the signed-in user, fetched with the
/// session's access token (refreshed first when it is about to expire) — how an app calls an
/// API on the user's behalf. 401 when signed out.
async fn me_userinfo(req: Request) -> Response {
    let auth = Auth::from_extensions(req.extensions());
    let failure = |code: tower_oidc::ErrorCode| {
        let body = serde_json::json!({"error": code.as_str(), "message": code.message()});
        (code.status(), Json(body)).into_response()
    };
    if !auth.is_signed_in() {
        return failure(tower_oidc::ErrorCode::SessionExpired);
    }
    match auth.userinfo().await {
        Ok(info) => Json(info).into_response(),
        Err(e) => {
            tracing::warn!(code = %e.code(), detail = %e.detail(), "userinfo failed");
            failure(e.code())
        }
    }
}

async fn start_fake(
    app_url: &str,
    redirect_uri: &str,
    slug: &str,
    port_var: &str,
    default_port: u16,
) -> Result<FakeAuthentik, Box<dyn Error>> {
    let port: u16 = env(port_var)
        .and_then(|p| p.parse().ok())
        .unwrap_or(default_port);
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(port, error = %e, "fake Authentik port taken; using a random one");
            std::net::TcpListener::bind("127.0.0.1:0")?
        }
    };
    Ok(FakeAuthentik::builder()
        .slug(slug)
        .client_id(format!("tower-oidc-{slug}"))
        .client_secret(format!("{slug}-demo-secret-not-for-production"))
        .install_id(format!("tower-oidc-{slug}"))
        .redirect_uri(redirect_uri)
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
        // The offline_access mapping, so sign-ins get refresh tokens (as on a real instance
        // whose provider maps it).
        .scopes(["openid", "email", "profile", "offline_access"])
        .listener(listener)
        .start()
        .await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    common::init_logs();

    let (app_url, addr) = app_url_and_addr()?;
    let redirect_uri = format!("{app_url}/api/auth/providers/authentik/callback");
    let staff_redirect_uri = format!("{app_url}/api/auth/providers/authentik-staff/callback");

    let (mut settings, fake) = match authentik_from_env() {
        Some(settings) => (settings, None),
        None => {
            let fake = start_fake(
                &app_url,
                &redirect_uri,
                "quickstart",
                "FAKE_AUTHENTIK_PORT",
                9000,
            )
            .await?;
            (fake_settings(&fake), Some(fake))
        }
    };
    let admin_rules = admin_rules();
    settings.admin_rules = admin_rules.clone();
    // Only with the fakes: a second sign-in method, the staff application.
    let staff = match &fake {
        Some(_) => {
            let staff = start_fake(
                &app_url,
                &staff_redirect_uri,
                "staff",
                "FAKE_AUTHENTIK_STAFF_PORT",
                9001,
            )
            .await?;
            let settings = ProviderSettings {
                admin_rules: admin_rules.clone(),
                ..fake_settings(&staff)
            };
            Some((staff, settings))
        }
        None => None,
    };
    // The fake notifies the app when alice's Authentik session ends (Back-Channel Logout), as
    // Authentik does once its provider's "Logout URI" is set to this route.
    let backchannel_uri = format!("{app_url}/api/auth/providers/authentik/backchannel-logout");
    if let Some(f) = &fake {
        f.set_logout_uri(&backchannel_uri, LogoutMethod::Backchannel);
    }
    let providers = match &staff {
        Some(_) => Providers::builtin().with_toml_str("quickstart providers", STAFF_TOML)?,
        None => Providers::builtin(),
    };

    let db =
        std::path::PathBuf::from(env("QUICKSTART_DB").unwrap_or_else(|| "quickstart.db".into()));
    let secret_key = load_key("SECRET_KEY", &db.with_extension("secret-key"), 32)?;
    let secret_key: [u8; 32] = secret_key
        .try_into()
        .map_err(|_| "SECRET_KEY must be 32 bytes")?;
    let cookie_key = load_key("COOKIE_KEY", &db.with_extension("cookie-key"), 64)?;
    let store = SqliteStore::open(&db)
        .await?
        .with_secret_key(SecretKey::from_bytes(secret_key));
    connect(&store, "authentik", &settings).await?;
    if let Some((_, staff_settings)) = &staff {
        connect(&store, "authentik-staff", staff_settings).await?;
    }
    let auth = OidcLayer::builder()
        .providers(providers)
        .settings(store.clone())
        .users(store.clone())
        .sessions(store.clone())
        .base_url(&app_url)
        .cookie_key(&cookie_key)
        .tls_trust(tls_trust_from_env()?)
        .build()?;

    let app = Router::new()
        .route("/", get(home))
        .route("/api/me/userinfo", get(me_userinfo))
        .layer(auth);
    let listener = tokio::net::TcpListener::bind(&addr).await?;

    println!();
    println!("  tower-oidc quickstart");
    println!("  Open {app_url}/ and click \"Sign in with Authentik\".");
    match &fake {
        Some(f) => {
            println!(
                "  Authentik: a built-in fake at {} (pick alice — an admin — or bob).",
                f.url()
            );
            if let Some((staff, _)) = &staff {
                println!(
                    "  Authentik (staff): a second built-in fake at {} (a custom provider).",
                    staff.url()
                );
            }
            println!("  Admin page (for alice): {app_url}/api/auth/admin");
        }
        None => println!(
            "  Authentik: {}",
            settings.url.as_deref().unwrap_or_default()
        ),
    }
    println!("  Redirect URI to register in Authentik: {redirect_uri}");
    println!("  Logout URI to set in Authentik (method: Back-channel): {backchannel_uri}");
    println!("  Signed-in user as JSON: {app_url}/api/auth/session");
    println!(
        "  The provider's userinfo, with the session's access token: {app_url}/api/me/userinfo"
    );
    println!(
        "  Users, settings and sessions: SQLite file {}",
        db.display()
    );
    println!();
    axum::serve(listener, app).await?;
    Ok(())
}
