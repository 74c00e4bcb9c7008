//! [`Preset`]: how one provider lays out its endpoints and shapes its claims.

pub(crate) mod apple;
mod claims;

use serde_json::Value;

use crate::testing::FakeUser;

use claims::{
    auth0, authelia_id, authelia_userinfo, authentik, discord, entra_id, entra_userinfo, frontegg,
    github_emails, github_user, gitlab_id, gitlab_userinfo, google, keycloak, kinde_id,
    kinde_profile, okta, pocket_id, zitadel,
};

/// What a preset's claim builders know besides the user.
pub(crate) struct Ctx<'a> {
    /// The fake's base URL, `http://127.0.0.1:PORT`.
    pub(crate) base: &'a str,
    /// The scopes granted at `/authorize`.
    pub(crate) scopes: &'a [String],
}

impl Ctx<'_> {
    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Builds a JSON document for a user.
pub(crate) type Build = fn(&FakeUser, &Ctx<'_>) -> Value;

/// How the token endpoint behaves beyond RFC 6749.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenStyle {
    /// JSON answers, errors as HTTP 400/401 JSON (RFC 6749 §5).
    Standard,
    /// GitHub: form-encoded unless `Accept: application/json`, errors as HTTP 200 with `error`,
    /// `token_type` `bearer`.
    GitHub,
}

/// How a provider lays out its endpoints and shapes its claims, for
/// [`FakeIssuer`](super::FakeIssuer): one per built-in provider of `providers.toml`.
///
/// Each preset serves the provider's own paths (`/login/oauth/access_token` for GitHub,
/// `/oauth2/v2.0/token` under the tenant for Entra ID, …) on a loopback port, signs ID tokens
/// with the fake's test key, and answers userinfo (and GitHub's `/user/emails`) in the
/// provider's own JSON shape: a numeric `id` for GitHub, an avatar hash for Discord, and so on.
/// [`FakeIssuer::settings`](super::FakeIssuer::settings) gives the settings an admin would
/// enter to point the built-in provider at the fake.
///
/// ```
/// use tower_oidc::testing::Preset;
/// let ids: Vec<&str> = Preset::all().iter().map(|p| p.provider()).collect();
/// assert!(ids.contains(&"github") && ids.contains(&"entra"));
/// assert_eq!(Preset::for_provider("discord").unwrap().provider(), "discord");
/// ```
#[derive(Clone)]
pub struct Preset {
    pub(crate) provider: &'static str,
    /// The issuer, relative to the base URL (`""` → the base itself); `None` for OAuth2-only.
    pub(crate) issuer_path: Option<&'static str>,
    /// Where discovery lives, relative to the base; `None`: the issuer's `/.well-known/…`.
    pub(crate) discovery_path: Option<&'static str>,
    pub(crate) authorize: &'static str,
    pub(crate) token: &'static str,
    pub(crate) userinfo: &'static str,
    pub(crate) jwks: &'static str,
    pub(crate) end_session: Option<&'static str>,
    /// Client authentication methods the token endpoint accepts.
    pub(crate) auth_methods: &'static [&'static str],
    pub(crate) token_style: TokenStyle,
    /// The userinfo / user API body.
    pub(crate) profile: Build,
    /// Identity claims of the ID token (besides iss, aud, exp, iat, nonce): an object.
    pub(crate) id_claims: Build,
    /// Further user-API endpoints: (path, body).
    pub(crate) extra: &'static [(&'static str, Build)],
    /// The `url` setting an admin enters, relative to the base.
    pub(crate) url_path: &'static str,
    /// Parameters an admin enters: (name, value relative to the base if it starts with `/`).
    pub(crate) params: &'static [(&'static str, &'static str)],
    /// How the provider issues refresh tokens (`None`: it does not, for the code flow).
    pub(crate) refresh: Option<Refresh>,
    /// Sign in with Apple's ways ([`Preset::apple`]): form_post, the JWT client secret.
    pub(crate) apple: bool,
}

/// A provider's refresh tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refresh {
    /// The scope that must be granted for one (`None`: issued with every code grant).
    pub(crate) scope: Option<&'static str>,
    /// Whether each refresh answers with a new refresh token and revokes the old one.
    pub(crate) rotate: bool,
    /// Whether a refreshed ID token repeats the sign-in's `nonce` (Keycloak does).
    pub(crate) nonce: bool,
}

/// `offline_access`, rotated, no nonce on refresh: Okta, Entra ID, Auth0 (rotation on),
/// ZITADEL, Authelia.
const OFFLINE_ROTATING: Option<Refresh> = Some(Refresh {
    scope: Some("offline_access"),
    rotate: true,
    nonce: false,
});

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preset")
            .field("provider", &self.provider)
            .field("issuer_path", &self.issuer_path)
            .finish_non_exhaustive()
    }
}

const BOTH: &[&str] = &["client_secret_basic", "client_secret_post"];
const POST: &[&str] = &["client_secret_post"];
const BASIC: &[&str] = &["client_secret_basic"];

/// The Entra ID tenant the fake serves (a GUID, as `{tenant}` in the issuer).
pub(crate) const ENTRA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

impl Preset {
    /// The providers.toml id this preset impersonates.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Whether the provider issues ID tokens (OpenID Connect) rather than OAuth2 only.
    pub fn is_oidc(&self) -> bool {
        self.issuer_path.is_some()
    }

    /// The preset for a built-in provider id, if there is one.
    pub fn for_provider(id: &str) -> Option<Preset> {
        Self::all().into_iter().find(|p| p.provider == id)
    }

    /// One preset per built-in provider, in the registry's order.
    pub fn all() -> Vec<Preset> {
        vec![
            Self::google(),
            Self::discord(),
            Self::github(),
            Self::auth0(),
            Self::kinde(),
            Self::zitadel(),
            Self::authentik(),
            Self::frontegg(),
            Self::pocket_id(),
            Self::keycloak(),
            Self::entra(),
            Self::gitlab(),
            Self::okta(),
            Self::authelia(),
            Self::apple(),
            Self::generic_oidc(),
        ]
    }

    fn oidc(provider: &'static str, issuer_path: &'static str, claims: Build) -> Preset {
        Preset {
            provider,
            issuer_path: Some(issuer_path),
            discovery_path: None,
            authorize: "/authorize",
            token: "/token",
            userinfo: "/userinfo",
            jwks: "/jwks",
            end_session: None,
            auth_methods: BOTH,
            token_style: TokenStyle::Standard,
            profile: claims,
            id_claims: claims,
            extra: &[],
            url_path: "",
            params: &[],
            refresh: None,
            apple: false,
        }
    }

    /// Google: issuer `https://accounts.google.com` (no trailing slash), endpoints on other
    /// hosts (served here under one), claims with `email_verified`, names and `picture`.
    pub fn google() -> Preset {
        Preset {
            authorize: "/o/oauth2/v2/auth",
            token: "/token",
            userinfo: "/v1/userinfo",
            jwks: "/oauth2/v3/certs",
            ..Self::oidc("google", "", google)
        }
    }

    /// GitHub (OAuth2 only): `/login/oauth/*` on github.com, the user API on api.github.com
    /// (served here under `/api`), a numeric `id`, emails only from `/user/emails`.
    pub fn github() -> Preset {
        Preset {
            provider: "github",
            issuer_path: None,
            discovery_path: None,
            authorize: "/login/oauth/authorize",
            token: "/login/oauth/access_token",
            userinfo: "/api/user",
            jwks: "/-/no-jwks",
            end_session: None,
            auth_methods: POST,
            token_style: TokenStyle::GitHub,
            profile: github_user,
            id_claims: github_user,
            extra: &[("/api/user/emails", github_emails)],
            url_path: "",
            params: &[("api", "/api")],
            // A GitHub OAuth app's tokens do not expire and come without a refresh token.
            refresh: None,
            apple: false,
        }
    }

    /// Discord (OAuth2 only): `/oauth2/authorize`, `/api/oauth2/token`, `/api/users/@me` with a
    /// snowflake `id`, `verified` for the email and an avatar hash.
    pub fn discord() -> Preset {
        Preset {
            provider: "discord",
            issuer_path: None,
            discovery_path: None,
            authorize: "/oauth2/authorize",
            token: "/api/oauth2/token",
            userinfo: "/api/users/@me",
            jwks: "/-/no-jwks",
            end_session: None,
            auth_methods: BOTH,
            token_style: TokenStyle::Standard,
            profile: discord,
            id_claims: discord,
            extra: &[],
            url_path: "",
            params: &[],
            // Discord issues refresh tokens too (not modelled: its entry is OAuth 2.0 only).
            refresh: None,
            apple: false,
        }
    }

    /// Auth0: issuer `https://TENANT.auth0.com/` **with** a trailing slash; `nickname`.
    pub fn auth0() -> Preset {
        Preset {
            authorize: "/authorize",
            token: "/oauth/token",
            userinfo: "/userinfo",
            jwks: "/.well-known/jwks.json",
            end_session: Some("/oidc/logout"),
            refresh: OFFLINE_ROTATING,
            ..Self::oidc("auth0", "/", auth0)
        }
    }

    /// Kinde: issuer `https://BUSINESS.kinde.com`, `/oauth2/*` endpoints, a v2 user profile.
    pub fn kinde() -> Preset {
        Preset {
            authorize: "/oauth2/auth",
            token: "/oauth2/token",
            userinfo: "/oauth2/v2/user_profile",
            jwks: "/.well-known/jwks",
            end_session: Some("/logout"),
            auth_methods: POST,
            profile: kinde_profile,
            // Kinde's refresh scope is `offline`.
            refresh: Some(Refresh {
                scope: Some("offline"),
                rotate: true,
                nonce: false,
            }),
            ..Self::oidc("kinde", "", kinde_id)
        }
    }

    /// ZITADEL: `/oauth/v2/*`, `/oidc/v1/userinfo`, numeric-string `sub`.
    pub fn zitadel() -> Preset {
        Preset {
            authorize: "/oauth/v2/authorize",
            token: "/oauth/v2/token",
            userinfo: "/oidc/v1/userinfo",
            jwks: "/oauth/v2/keys",
            end_session: Some("/oidc/v1/end_session"),
            refresh: OFFLINE_ROTATING,
            ..Self::oidc("zitadel", "", zitadel)
        }
    }

    /// Authentik, simplified (the faithful one, with every switch, is
    /// [`FakeAuthentik`](crate::testing::FakeAuthentik)): per-application issuer with its
    /// trailing slash, global endpoints with trailing slashes.
    pub fn authentik() -> Preset {
        Preset {
            discovery_path: None,
            authorize: "/application/o/authorize/",
            token: "/application/o/token/",
            userinfo: "/application/o/userinfo/",
            jwks: "/application/o/tower-oidc/jwks/",
            end_session: Some("/application/o/tower-oidc/end-session/"),
            ..Self::oidc("authentik", "/application/o/tower-oidc/", authentik)
        }
    }

    /// Frontegg: `/oauth/*` endpoints on the tenant domain.
    pub fn frontegg() -> Preset {
        Preset {
            discovery_path: Some("/oauth/.well-known/openid-configuration"),
            authorize: "/oauth/authorize",
            token: "/oauth/token",
            userinfo: "/oauth/userinfo",
            jwks: "/.well-known/jwks.json",
            end_session: Some("/oauth/logout"),
            auth_methods: BASIC,
            ..Self::oidc("frontegg", "", frontegg)
        }
    }

    /// Pocket ID: `/authorize`, `/api/oidc/*`, `/.well-known/jwks.json`, `groups` scope.
    pub fn pocket_id() -> Preset {
        Preset {
            authorize: "/authorize",
            token: "/api/oidc/token",
            userinfo: "/api/oidc/userinfo",
            jwks: "/.well-known/jwks.json",
            end_session: Some("/api/oidc/end-session"),
            ..Self::oidc("pocketid", "", pocket_id)
        }
    }

    /// Keycloak: issuer `{url}/realms/{realm}`; the admin pastes the realm URL.
    pub fn keycloak() -> Preset {
        Preset {
            authorize: "/realms/tower-oidc/protocol/openid-connect/auth",
            token: "/realms/tower-oidc/protocol/openid-connect/token",
            userinfo: "/realms/tower-oidc/protocol/openid-connect/userinfo",
            jwks: "/realms/tower-oidc/protocol/openid-connect/certs",
            end_session: Some("/realms/tower-oidc/protocol/openid-connect/logout"),
            url_path: "/realms/tower-oidc",
            // Keycloak issues a refresh token with every code grant (offline_access makes it an
            // offline token), keeps it valid by default ("Revoke Refresh Token" off), and
            // repeats the nonce in refreshed ID tokens.
            refresh: Some(Refresh {
                scope: None,
                rotate: false,
                nonce: true,
            }),
            ..Self::oidc("keycloak", "/realms/tower-oidc", keycloak)
        }
    }

    /// Microsoft Entra ID: issuer `https://login.microsoftonline.com/{tenant}/v2.0`, userinfo
    /// on Microsoft Graph, `xms_edov` for a verified email domain. The admin enters the tenant.
    pub fn entra() -> Preset {
        Preset {
            authorize: "/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/authorize",
            token: "/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token",
            userinfo: "/graph/oidc/userinfo",
            jwks: "/9188040d-6c67-4c5b-b112-36a304b66dad/discovery/v2.0/keys",
            end_session: Some("/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/logout"),
            profile: entra_userinfo,
            params: &[("tenant", ENTRA_TENANT)],
            refresh: OFFLINE_ROTATING,
            ..Self::oidc(
                "entra",
                "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
                entra_id,
            )
        }
    }

    /// GitLab: issuer `https://gitlab.com`, `/oauth/*`, `groups` in userinfo.
    pub fn gitlab() -> Preset {
        Preset {
            authorize: "/oauth/authorize",
            token: "/oauth/token",
            userinfo: "/oauth/userinfo",
            jwks: "/oauth/discovery/keys",
            profile: gitlab_userinfo,
            // GitLab issues a rotating refresh token with every code grant.
            refresh: Some(Refresh {
                scope: None,
                rotate: true,
                nonce: false,
            }),
            ..Self::oidc("gitlab", "", gitlab_id)
        }
    }

    /// Okta: a custom authorization server, issuer `https://DOMAIN/oauth2/default`.
    pub fn okta() -> Preset {
        Preset {
            authorize: "/oauth2/default/v1/authorize",
            token: "/oauth2/default/v1/token",
            userinfo: "/oauth2/default/v1/userinfo",
            jwks: "/oauth2/default/v1/keys",
            end_session: Some("/oauth2/default/v1/logout"),
            url_path: "/oauth2/default",
            refresh: OFFLINE_ROTATING,
            ..Self::oidc("okta", "/oauth2/default", okta)
        }
    }

    /// A generic OpenID Connect provider (the built-in `oidc` entry): standard paths and claims.
    pub fn generic_oidc() -> Preset {
        Preset {
            end_session: Some("/logout"),
            ..Self::oidc("oidc", "", frontegg)
        }
    }

    /// Authelia: `/api/oidc/*`, `/jwks.json`, claims from userinfo (minimal ID token).
    pub fn authelia() -> Preset {
        Preset {
            authorize: "/api/oidc/authorization",
            token: "/api/oidc/token",
            userinfo: "/api/oidc/userinfo",
            jwks: "/jwks.json",
            profile: authelia_userinfo,
            refresh: OFFLINE_ROTATING,
            ..Self::oidc("authelia", "", authelia_id)
        }
    }
}
