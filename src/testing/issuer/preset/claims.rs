//! How each provider shapes its users' claims: the ID token claims and the userinfo (or user
//! API) bodies of every preset, each with the provider's own ids, names and quirks.

use serde_json::{Map, Value, json};

use super::{Ctx, ENTRA_TENANT};
use crate::testing::FakeUser;

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

fn email(u: &FakeUser) -> Value {
    if u.email.is_empty() {
        Value::Null
    } else {
        json!(u.email)
    }
}

/// Standard OIDC profile claims, for the scopes granted.
fn standard(u: &FakeUser, ctx: &Ctx<'_>, sub: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(sub));
    if ctx.has("email") && !u.email.is_empty() {
        m.insert("email".into(), json!(u.email));
        m.insert("email_verified".into(), json!(u.email_verified));
    }
    if ctx.has("profile") {
        m.insert("name".into(), json!(u.name));
        if let Some(v) = &u.given_name {
            m.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &u.family_name {
            m.insert("family_name".into(), json!(v));
        }
        if let Some(v) = &u.picture {
            m.insert("picture".into(), json!(v));
        }
        m.insert("preferred_username".into(), json!(u.username));
    }
    m
}

fn uuid_of(pk: u64) -> String {
    format!("6f9619ff-8b86-d011-b42d-{pk:012x}")
}

fn groups(u: &FakeUser, ctx: &Ctx<'_>, scope: &str) -> Option<Value> {
    ctx.has(scope).then(|| json!(u.groups))
}

pub(super) fn google(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("1{:020}", u.pk));
    m.remove("preferred_username");
    Value::Object(m)
}

pub(super) fn github_user(u: &FakeUser, _: &Ctx<'_>) -> Value {
    let id = 583_230 + u.pk;
    json!({
        "login": u.username,
        "id": id,
        "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": u.picture.clone().unwrap_or_else(|| format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
        "type": "User",
        "site_admin": false,
        "name": if u.name.is_empty() { Value::Null } else { json!(u.name) },
        // The public profile email: chosen by the user, null when they keep it private.
        "email": Value::Null,
    })
}

pub(super) fn github_emails(u: &FakeUser, _: &Ctx<'_>) -> Value {
    let other_primary = u.other_emails.iter().any(|e| e.primary);
    let mut list = Vec::new();
    if !u.email.is_empty() {
        list.push(json!({
            "email": u.email, "primary": !other_primary,
            "verified": u.email_verified, "visibility": "private",
        }));
    }
    for e in &u.other_emails {
        list.push(json!({
            "email": e.email, "primary": e.primary, "verified": e.verified, "visibility": Value::Null,
        }));
    }
    Value::Array(list)
}

pub(super) fn discord(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert(
        "id".into(),
        json!(format!("{}", 80_351_110_224_678_912u64 + u.pk)),
    );
    m.insert("username".into(), json!(u.username));
    m.insert("discriminator".into(), json!("0"));
    m.insert(
        "global_name".into(),
        if u.name == u.username {
            Value::Null
        } else {
            json!(u.name)
        },
    );
    m.insert("avatar".into(), opt(&u.picture));
    m.insert("mfa_enabled".into(), json!(false));
    m.insert("locale".into(), json!("en-US"));
    if ctx.has("email") {
        m.insert("email".into(), email(u));
        m.insert("verified".into(), json!(u.email_verified));
    }
    Value::Object(m)
}

pub(super) fn auth0(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("auth0|65f1c0de{:016x}", u.pk));
    if ctx.has("profile") {
        m.remove("preferred_username");
        m.insert("nickname".into(), json!(u.username));
        m.insert("updated_at".into(), json!("2026-11-01T10:00:00.000Z"));
    }
    Value::Object(m)
}

pub(super) fn kinde_id(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("kp_{:032x}", u.pk));
    m.remove("preferred_username");
    Value::Object(m)
}

pub(super) fn kinde_profile(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    // /oauth2/v2/user_profile: OIDC names plus Kinde's `id`.
    let sub = format!("kp_{:032x}", u.pk);
    let mut m = standard(u, ctx, sub.clone());
    m.remove("preferred_username");
    m.insert("id".into(), json!(sub));
    Value::Object(m)
}

pub(super) fn zitadel(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("2{:017}", 80_000_000_000 + u.pk));
    if ctx.has("profile") {
        m.insert("locale".into(), json!("en"));
        m.insert("updated_at".into(), json!(1_780_000_000));
    }
    Value::Object(m)
}

pub(super) fn frontegg(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    Value::Object(standard(u, ctx, uuid_of(u.pk)))
}

pub(super) fn pocket_id(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, uuid_of(u.pk));
    if let Some(g) = groups(u, ctx, "groups") {
        m.insert("groups".into(), g);
    }
    if ctx.has("profile") && u.picture.is_none() {
        m.insert(
            "picture".into(),
            json!(format!(
                "{}/api/users/{}/profile-picture.png",
                ctx.base,
                uuid_of(u.pk)
            )),
        );
    }
    Value::Object(m)
}

pub(super) fn keycloak(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, uuid_of(u.pk));
    // The `groups` claim comes from a "Group Membership" mapper on a client scope.
    if !u.groups.is_empty() {
        m.insert("groups".into(), json!(u.groups));
    }
    Value::Object(m)
}

/// Entra's pairwise `sub` (per application): the same in the ID token and Graph's userinfo.
fn entra_sub(pk: u64) -> String {
    format!("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ{pk}")
}

pub(super) fn entra_id(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    // v2.0 ID token: `sub` is pairwise (per application), `oid` the tenant-wide object id,
    // `preferred_username` the UPN; `email` is optional and NOT verified by Microsoft, except
    // that `xms_edov` (an optional claim) says whether the email's domain owner is verified.
    let mut m = Map::new();
    m.insert("sub".into(), json!(entra_sub(u.pk)));
    m.insert("oid".into(), json!(uuid_of(u.pk)));
    m.insert("tid".into(), json!(ENTRA_TENANT));
    m.insert("ver".into(), json!("2.0"));
    if ctx.has("profile") {
        m.insert("name".into(), json!(u.name));
        m.insert("preferred_username".into(), json!(u.username));
    }
    if ctx.has("email") && !u.email.is_empty() {
        m.insert("email".into(), json!(u.email));
        m.insert("xms_edov".into(), json!(u.email_verified));
    }
    if !u.groups.is_empty() {
        m.insert("groups".into(), json!(u.groups));
    }
    Value::Object(m)
}

pub(super) fn entra_userinfo(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    // graph.microsoft.com/oidc/userinfo: same `sub`, names, picture (a Graph URL).
    let mut m = Map::new();
    m.insert("sub".into(), json!(entra_sub(u.pk)));
    if ctx.has("profile") {
        m.insert("name".into(), json!(u.name));
        m.insert("given_name".into(), opt(&u.given_name));
        m.insert("family_name".into(), opt(&u.family_name));
        m.insert(
            "picture".into(),
            json!("https://graph.microsoft.com/v1.0/me/photo/$value"),
        );
    }
    if ctx.has("email") && !u.email.is_empty() {
        m.insert("email".into(), json!(u.email));
    }
    Value::Object(m)
}

pub(super) fn gitlab_id(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    // The ID token has only sub, sub_legacy, email, email_verified and groups_direct.
    let mut m = Map::new();
    m.insert("sub".into(), json!(format!("{}", 1_000 + u.pk)));
    m.insert("sub_legacy".into(), json!(format!("{:064x}", u.pk)));
    if ctx.has("email") && !u.email.is_empty() {
        m.insert("email".into(), json!(u.email));
        m.insert("email_verified".into(), json!(u.email_verified));
    }
    m.insert("groups_direct".into(), json!(u.groups));
    Value::Object(m)
}

pub(super) fn gitlab_userinfo(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("{}", 1_000 + u.pk));
    m.remove("given_name");
    m.remove("family_name");
    if ctx.has("profile") {
        m.remove("preferred_username");
        m.insert("nickname".into(), json!(u.username));
        m.insert(
            "profile".into(),
            json!(format!("{}/{}", ctx.base, u.username)),
        );
        m.insert("groups".into(), json!(u.groups));
    }
    Value::Object(m)
}

pub(super) fn okta(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, format!("00u{:017x}", u.pk));
    if let Some(g) = groups(u, ctx, "groups") {
        m.insert("groups".into(), g);
    }
    Value::Object(m)
}

pub(super) fn authelia_id(u: &FakeUser, _: &Ctx<'_>) -> Value {
    // Authelia ≥ 4.39 keeps the ID token minimal by default; the claims come from userinfo.
    let mut m = Map::new();
    m.insert("sub".into(), json!(uuid_of(u.pk)));
    Value::Object(m)
}

pub(super) fn authelia_userinfo(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = standard(u, ctx, uuid_of(u.pk));
    if let Some(g) = groups(u, ctx, "groups") {
        m.insert("groups".into(), g);
    }
    Value::Object(m)
}

pub(super) fn authentik(u: &FakeUser, ctx: &Ctx<'_>) -> Value {
    let mut m = Map::new();
    m.insert("sub".into(), json!(format!("{:064x}", u.pk)));
    m.extend(crate::testing::state::scope_claims(u, ctx.scopes));
    Value::Object(m)
}
