//! Identity: claims → [`Profile`] through a provider's claim mapping, then the user it belongs
//! to — by linked identity (provider, issuer, `sub`), by email only under the provider's trust
//! policy, or a new account when auto-registration is on — and admin rules.

mod email;

use std::borrow::Cow;

use serde_json::Value;

pub use email::canonical_email;

use crate::config::{AdminRules, ClaimMap, EmailTrust};
use crate::error::{Error, ErrorCode};
use crate::store::{Identity, NewUser, StoreErrorKind, User, UserId, UserStore, UserUpdate};

crate::store::with_profile_fields! {
    /// What a sign-in says about the person, after claim mapping. `email` is set only when the
    /// provider sent a valid one; `email_verified` is whether the provider says it is verified
    /// (only the JSON boolean `true` counts).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Profile {
        /// The stable subject.
        pub subject: String,
    }
    with email then {
        /// The provider's `[claims.extra]`, by name (each at most 4 KiB as JSON).
        pub extra: std::collections::BTreeMap<String, Value>,
    }
}

/// The largest extra claim kept, as JSON.
const MAX_EXTRA_CLAIM_BYTES: usize = 4096;

fn text(v: Option<Cow<'_, Value>>) -> Option<String> {
    match v.as_deref()? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Profile {
    /// Maps claims through a claim mapping table.
    ///
    /// ```
    /// use tower_oidc::config::Providers;
    /// use tower_oidc::identity::Profile;
    /// let providers = Providers::builtin();
    /// let map = &providers.get("authentik").unwrap().claims;
    /// let p = Profile::from_claims(&serde_json::json!({
    ///     "sub": "abc", "email": "Alice@Example.com", "email_verified": false,
    ///     "name": "Alice A", "given_name": "Alice A", "preferred_username": "alice",
    ///     "groups": ["admins"]
    /// }), map).unwrap();
    /// assert_eq!(p.email.as_deref(), Some("alice@example.com"));
    /// assert_eq!(p.given_name, None); // Authentik's given_name is the full name
    /// assert_eq!(p.username.as_deref(), Some("alice"));
    /// ```
    pub fn from_claims(claims: &Value, map: &ClaimMap) -> Result<Profile, Error> {
        let subject = text(map.subject.find(claims)).ok_or_else(|| {
            Error::new(
                ErrorCode::IdTokenInvalid,
                "the identity has no subject claim",
            )
        })?;
        if subject.len() > 255 {
            return Err(Error::new(
                ErrorCode::IdTokenInvalid,
                "the subject is longer than 255 characters",
            ));
        }
        let email = map
            .email
            .find(claims)
            .and_then(|v| v.as_str().and_then(canonical_email));
        let email_verified = matches!(
            map.email_verified.find(claims).as_deref(),
            Some(Value::Bool(true))
        );
        let groups = match map.groups.find(claims).as_deref() {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .take(1024)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        Ok(Profile {
            subject,
            email_verified: email_verified && email.is_some(),
            email,
            name: text(map.name.find(claims)),
            given_name: text(map.given_name.find(claims)),
            family_name: text(map.family_name.find(claims)),
            picture: text(map.picture.find(claims)),
            username: text(map.username.find(claims)),
            groups,
            extra: map
                .extra
                .iter()
                .filter_map(|(name, source)| {
                    let v = source.find(claims)?.into_owned();
                    // A claim that would bloat every session record is left out.
                    (serde_json::to_string(&v).map_or(0, |s| s.len()) <= MAX_EXTRA_CLAIM_BYTES)
                        .then(|| (name.clone(), v))
                })
                .collect(),
        })
    }
}

/// The admin decision of the rules for a profile: `Some(true/false)` when rules are configured,
/// `None` when there are none (the admin flag is then left as the app set it).
pub fn admin_decision(rules: &AdminRules, profile: &Profile) -> Option<bool> {
    if rules.is_empty() {
        return None;
    }
    let by_group = profile.groups.iter().any(|g| rules.groups.contains(g));
    let by_domain = profile.email_verified
        && profile.email.as_deref().is_some_and(|e| {
            e.rsplit_once('@').is_some_and(|(_, d)| {
                rules
                    .email_domains
                    .iter()
                    .any(|r| r.trim().eq_ignore_ascii_case(d))
            })
        });
    Some(by_group || by_domain)
}

/// The audit event when admin rules grant or revoke the admin flag (`at`: "sign-in" or
/// "token refresh").
fn audit_admin_change(provider: &str, user: &User, was_admin: bool, at: &'static str) {
    if user.is_admin != was_admin {
        let event = if user.is_admin {
            "admin_granted"
        } else {
            "admin_revoked"
        };
        tracing::info!(target: "tower_oidc::audit", event, provider, user = %user.id, at, "admin rules changed the admin flag");
    }
}

/// The policy a sign-in is resolved under.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// When an email may link to an existing account.
    pub email_trust: EmailTrust,
    /// Whether unknown identities get an account.
    pub auto_register: bool,
    /// Admin rules.
    pub admin_rules: &'a AdminRules,
}

/// How a sign-in was resolved (for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// A returning identity.
    Existing,
    /// A new identity linked to an existing account by email.
    Linked,
    /// A new account.
    Created,
}

/// The profile fields a sign-in writes onto the user: the only place they are copied from a
/// [`Profile`] (a new user gets the same ones, see [`new_user_of`]).
///
/// A profile that names nobody (no `name`, `given_name` or `family_name`) keeps the `stored`
/// user's three: Sign in with Apple sends the name with the first authorization only, and a
/// later sign-in must not blank it. A profile with any of them replaces all three.
fn update_of(profile: &Profile, is_admin: Option<bool>, stored: Option<&User>) -> UserUpdate {
    let (name, given_name, family_name) = match stored {
        Some(u)
            if profile.name.is_none()
                && profile.given_name.is_none()
                && profile.family_name.is_none() =>
        {
            (u.name.clone(), u.given_name.clone(), u.family_name.clone())
        }
        _ => (
            profile.name.clone(),
            profile.given_name.clone(),
            profile.family_name.clone(),
        ),
    };
    UserUpdate {
        name,
        given_name,
        family_name,
        picture: profile.picture.clone(),
        username: profile.username.clone(),
        groups: profile.groups.clone(),
        is_admin,
    }
}

/// The account a first sign-in creates: the profile fields of [`update_of`], and the email.
fn new_user_of(profile: &Profile, is_admin: bool) -> NewUser {
    let fields = update_of(profile, None, None);
    NewUser {
        email: profile.email.clone(),
        email_verified: profile.email_verified,
        name: fields.name,
        given_name: fields.given_name,
        family_name: fields.family_name,
        picture: fields.picture,
        username: fields.username,
        groups: fields.groups,
        is_admin,
    }
}

/// Writes a refreshed profile (a token refresh's ID token and userinfo) onto the session's user,
/// with the admin rules applied as at sign-in: group and admin changes at the provider reach
/// the app without a new sign-in.
pub async fn refresh_user(
    users: &dyn UserStore,
    user: &UserId,
    provider: &str,
    profile: &Profile,
    admin_rules: &AdminRules,
) -> Result<User, Error> {
    let admin = admin_decision(admin_rules, profile);
    let before = users.get(user).await?;
    let after = users
        .update(user, update_of(profile, admin, before.as_ref()))
        .await?;
    if let Some(before) = before {
        audit_admin_change(provider, &after, before.is_admin, "token refresh");
    }
    Ok(after)
}

/// Finds or creates the user of a verified sign-in.
pub async fn resolve_user(
    users: &dyn UserStore,
    identity: &Identity,
    profile: &Profile,
    policy: &Policy<'_>,
) -> Result<(User, Resolution), Error> {
    let admin = admin_decision(policy.admin_rules, profile);
    // Two rounds at most: a concurrent first sign-in of the same identity can win the race to
    // create the user, and then this one finds it.
    for _ in 0..2 {
        if let Some(old) = users.find_by_identity(identity).await? {
            let u = users
                .update(&old.id, update_of(profile, admin, Some(&old)))
                .await?;
            audit_admin_change(&identity.provider, &u, old.is_admin, "sign-in");
            return Ok((u, Resolution::Existing));
        }
        if let Some(email) = &profile.email
            && let Some(existing) = users.find_by_email(email).await?
        {
            let linked = users.identities(&existing.id).await?;
            // A concurrent first sign-in of this same identity created the account between
            // the two lookups above: it is this user's own account, not one to link onto.
            if linked.contains(identity) {
                let u = users
                    .update(&existing.id, update_of(profile, admin, Some(&existing)))
                    .await?;
                audit_admin_change(&identity.provider, &u, existing.is_admin, "sign-in");
                return Ok((u, Resolution::Existing));
            }
            let trusted = match policy.email_trust {
                EmailTrust::VerifiedClaim => profile.email_verified,
                EmailTrust::Always => true,
                EmailTrust::Never => false,
            };
            // An account whose email the app never verified may have been pre-registered by
            // someone else with the victim's address: never link onto it.
            if !trusted || !existing.email_verified {
                return Err(Error::new(
                    ErrorCode::EmailNotVerified,
                    format!(
                        "provider `{}`: an account with this email exists and the email is not trusted to link it (email_verified={}, policy={:?}, account email verified={})",
                        identity.provider,
                        profile.email_verified,
                        policy.email_trust,
                        existing.email_verified
                    ),
                ));
            }
            // One identity per provider and issuer on an account: a second `sub` from the
            // same issuer claiming the same email is a conflict, not a second link.
            if linked
                .iter()
                .any(|i| i.provider == identity.provider && i.issuer == identity.issuer)
            {
                return Err(Error::new(
                    ErrorCode::AccountConflict,
                    format!(
                        "provider `{}`: the account with this email is already linked to another identity of this issuer",
                        identity.provider
                    ),
                ));
            }
            match users.link_identity(&existing.id, identity).await {
                Ok(()) => {}
                Err(e) if e.kind() == StoreErrorKind::Conflict => continue,
                Err(e) => return Err(e.into()),
            }
            let u = users
                .update(&existing.id, update_of(profile, admin, Some(&existing)))
                .await?;
            audit_admin_change(&identity.provider, &u, existing.is_admin, "sign-in");
            return Ok((u, Resolution::Linked));
        }
        if !policy.auto_register {
            return Err(Error::new(
                ErrorCode::RegistrationDisabled,
                format!(
                    "provider `{}`: unknown identity and auto-registration is off",
                    identity.provider
                ),
            ));
        }
        let new = new_user_of(profile, admin.unwrap_or(false));
        match users.create_with_identity(new, identity).await {
            Ok(u) => {
                audit_admin_change(&identity.provider, &u, false, "sign-in");
                return Ok((u, Resolution::Created));
            }
            Err(e) if e.kind() == StoreErrorKind::Conflict => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorCode::AccountConflict,
        format!(
            "provider `{}`: the account could not be created or found (concurrent change)",
            identity.provider
        ),
    ))
}

#[cfg(test)]
mod tests;
