use tower_oidc::config::AdminRules;
use tower_oidc::warp::{self as oidc, AdminUser, CurrentUser};
use tower_oidc::{MemoryStore, OidcLayer, ProviderSettings, Secret};
use warp::Filter;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = OidcLayer::builder()
        // What an admin enters for Authentik; members of "authentik Admins" are admins here.
        .provider(
            "authentik",
            ProviderSettings {
                enabled: true,
                url: Some(env("AUTHENTIK_URL")?),
                client_id: Some(env("AUTHENTIK_CLIENT_ID")?),
                client_secret: Some(Secret::new(env("AUTHENTIK_CLIENT_SECRET")?)),
                admin_rules: AdminRules {
                    groups: vec!["authentik Admins".into()],
                    ..AdminRules::default()
                },
                ..ProviderSettings::default()
            },
        )
        .store(MemoryStore::new()) // SqliteStore, PostgresStore, RedisSessionStore in production
        .base_url(env("APP_URL")?) // e.g. http://127.0.0.1:3000
        // 64 secret bytes, the same on every instance: `head -c 64 /dev/urandom > cookie.key`
        .cookie_key(&std::fs::read("cookie.key")?)
        .build()?;
    let engine = layer.engine().clone();

    let home = warp::path::end()
        .and(oidc::current_user(engine.clone()))
        .map(|user: Option<CurrentUser>| match user {
            Some(user) => format!("Hello, {}!", user.name.as_deref().unwrap_or("you")),
            None => "Hello! Sign in at /api/auth/login".into(),
        });
    let me = warp::path!("me")
        .and(oidc::require_user(engine.clone()))
        .map(|user: CurrentUser| format!("You are {}", user.email.as_deref().unwrap_or("?")));
    let admin = warp::path!("admin")
        .and(oidc::require_admin(engine.clone()))
        .map(|admin: AdminUser| format!("Settings, for {} only", admin.id));
    let app = oidc::routes(engine) // /api/auth/...
        .or(home)
        .or(me)
        .or(admin)
        .recover(oidc::handle_rejection); // 401 JSON, or a redirect to the login page

    let listen = env("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    warp::serve(app).incoming(listener).run().await;
    Ok(())
}
