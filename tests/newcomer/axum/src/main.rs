use axum::{Router, routing::get};
use tower_oidc::axum::{AdminUser, CurrentUser};
use tower_oidc::config::AdminRules;
use tower_oidc::{MemoryStore, OidcLayer, ProviderSettings, Secret};

async fn home(user: Option<CurrentUser>) -> String {
    match user {
        Some(user) => format!("Hello, {}!", user.name.as_deref().unwrap_or("you")),
        None => "Hello! Sign in at /api/auth/login".into(),
    }
}

async fn me(user: CurrentUser) -> String {
    format!("You are {}", user.email.as_deref().unwrap_or("?"))
}

async fn admin(admin: AdminUser) -> String {
    format!("Settings, for {} only", admin.id)
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = OidcLayer::builder()
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
    let app = Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .layer(auth); // outermost: it also serves /api/auth/...
    let listen = env("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
