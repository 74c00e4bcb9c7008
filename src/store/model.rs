//! The records the stores keep.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A user's stable id (opaque; the backends generate it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl UserId {
    /// A new random id (128 bits, hex).
    pub fn random() -> Self {
        UserId(crate::util::random_hex(16))
    }
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key of an external identity: (provider id, issuer, subject). Never the email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    /// The provider id in `providers.toml` (e.g. `authentik`).
    pub provider: String,
    /// The issuer, verbatim (Authentik's trailing `/` included).
    pub issuer: String,
    /// The `sub` claim.
    pub subject: String,
}

/// Declares a struct with the profile fields a sign-in maps and refreshes (`name`,
/// `given_name`, `family_name`, `picture`, `username`, `groups`) between its own leading and
/// trailing fields, so [`User`], [`NewUser`], [`UserUpdate`] and the identity `Profile` keep one
/// list of them.
macro_rules! with_profile_fields {
    // With the email and its verification first (after the leading fields).
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($head:tt)*
        }
        with email then {
            $($tail:tt)*
        }
    ) => {
        $crate::store::with_profile_fields! {
            $(#[$attr])*
            pub struct $name {
                $($head)*
                /// Canonical email (trimmed, lower-cased), if known.
                pub email: Option<String>,
                /// Whether the email is verified (whose word this is: see the type).
                pub email_verified: bool,
            }
            then {
                $($tail)*
            }
        }
    };
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($head:tt)*
        }
        then {
            $($tail:tt)*
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $($head)*
            /// Display name.
            pub name: Option<String>,
            /// Given name.
            pub given_name: Option<String>,
            /// Family name.
            pub family_name: Option<String>,
            /// Picture URL.
            pub picture: Option<String>,
            /// Username.
            pub username: Option<String>,
            /// Group names from the identity provider, refreshed at every sign-in.
            pub groups: Vec<String>,
            $($tail)*
        }
    };
}
pub(crate) use with_profile_fields;

with_profile_fields! {
    /// A user of the app, as the stores keep it. `email_verified` says whether the app itself
    /// considers the email verified (an account pre-registered with an unverified email is never
    /// linked to an external identity).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct User {
        /// Stable id.
        pub id: UserId,
    }
    with email then {
        /// Whether the user is an administrator of the app.
        pub is_admin: bool,
    }
}

with_profile_fields! {
    /// A user to create.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct NewUser {}
    with email then {
        /// Administrator flag.
        pub is_admin: bool,
    }
}

with_profile_fields! {
    /// The fields a sign-in refreshes on an existing user.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct UserUpdate {}
    then {
        /// Administrator flag, when an admin rule decided it; `None` leaves it unchanged.
        pub is_admin: Option<bool>,
    }
}

impl User {
    /// Builds the stored user from a [`NewUser`] and its id.
    pub fn from_new(id: UserId, new: NewUser) -> User {
        User {
            id,
            email: new.email,
            email_verified: new.email_verified,
            name: new.name,
            given_name: new.given_name,
            family_name: new.family_name,
            picture: new.picture,
            username: new.username,
            groups: new.groups,
            is_admin: new.is_admin,
        }
    }

    /// Applies a [`UserUpdate`].
    pub fn apply(&mut self, update: UserUpdate) {
        self.name = update.name;
        self.given_name = update.given_name;
        self.family_name = update.family_name;
        self.picture = update.picture;
        self.username = update.username;
        self.groups = update.groups;
        if let Some(admin) = update.is_admin {
            self.is_admin = admin;
        }
    }
}

/// A session id: 256 random bits, base64url. Its `Debug` does not show the value. Cloning it
/// is a reference count, not a copy.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(std::sync::Arc<str>);

impl SessionId {
    /// A new random session id.
    pub fn random() -> Self {
        SessionId(crate::util::random_b64(32).into())
    }
    /// Wraps an id read back from a (verified) cookie.
    pub fn from_string(s: String) -> Self {
        SessionId(s.into())
    }
    /// Wraps an id read back from a (verified) cookie, copied once.
    pub fn from_str_ref(s: &str) -> Self {
        SessionId(s.into())
    }
    /// The id, for backends. Treat it as a secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// What a session holds: a snapshot of the user taken at sign-in, the provider, the expiry, and
/// (for RP-initiated logout) the ID token hint.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The signed-in user, as of the sign-in.
    pub user: User,
    /// The provider the user signed in with.
    pub provider: String,
    /// When the session ends, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// The ID token, kept for `id_token_hint` at RP-initiated logout.
    pub id_token_hint: Option<String>,
    /// How the user authenticated at the provider (for step-up checks).
    #[serde(default)]
    pub sign_in: SignInFacts,
    /// The compare-and-set generation: [`SessionStore::compare_and_swap`] replaces the record
    /// only by its successor (one version on) while the stored one is still the version the
    /// caller read.
    /// `0` for a record that was only ever [`SessionStore::store`]d.
    ///
    /// [`SessionStore::compare_and_swap`]: crate::store::SessionStore::compare_and_swap
    /// [`SessionStore::store`]: crate::store::SessionStore::store
    #[serde(default)]
    pub version: u64,
    /// When the session began (Unix seconds): with the absolute lifetime it bounds how far
    /// activity may slide `expires_at`. `0` for records written before sessions slid.
    #[serde(default)]
    pub created_at: u64,
    /// The provider's side of the session: issuer, subject and `sid` from the verified ID token
    /// (for refresh checks and logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<IdpSession>,
    /// The session's tokens, sealed (AES-256-GCM under the layer's cookie key) before any store
    /// sees them, with the plain facts needed to decide when to refresh. Boxed: a session
    /// without tokens does not carry their room (every cached session counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Box<TokenState>>,
    /// Claims the provider's `[claims.extra]` rules keep beyond the fixed profile fields.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub claims: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The provider's side of a session, from the verified ID token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSession {
    /// The ID token's `iss`.
    pub issuer: String,
    /// The ID token's `sub`: a refreshed ID token must carry the same.
    pub subject: String,
    /// The provider's session id (`sid`), when it sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// A session's tokens as a store keeps them: the secrets sealed, and in the clear only what
/// deciding on a refresh needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    /// When the access token expires (Unix seconds), when the provider said (`expires_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_expires_at: Option<u64>,
    /// When to refresh the access token (Unix seconds): the refresh skew before its expiry, at
    /// most half its lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_at: Option<u64>,
    /// Whether the sealed tokens hold a refresh token.
    #[serde(default)]
    pub refreshable: bool,
    /// An instance holds the right to refresh until this time (Unix seconds; `0`: nobody). Taken
    /// and released by compare-and-set, so one refresh grant is sent per expiry.
    #[serde(default)]
    pub lease_until: u64,
    /// After a failed refresh (provider unreachable), not before this time (Unix seconds).
    #[serde(default)]
    pub retry_after: u64,
    /// The access token, refresh token and nonce, sealed.
    pub sealed: SealedTokens,
}

/// Tokens sealed with AES-256-GCM: base64url of nonce ‖ ciphertext. Opaque to the stores;
/// its `Debug` shows nothing of it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedTokens(pub String);

impl fmt::Debug for SealedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedTokens(<sealed>)")
    }
}

/// How the user authenticated at the provider for a session: when, and how strongly (from the ID
/// token's `auth_time`, `acr` and `amr`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFacts {
    /// When the user last authenticated at the provider (seconds since the Unix epoch): the ID
    /// token's `auth_time`, or, for a plain OAuth 2.0 provider, the time of the callback.
    /// `None` when an OpenID Connect provider did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// The authentication context class the provider reports (`acr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods the provider reports (`amr`, e.g. `["pwd", "mfa"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user", &self.user.id)
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl SessionRecord {
    /// A record for `user`, signed in with `provider`, expiring at `expires_at` (Unix seconds),
    /// with everything else empty.
    pub fn new(user: User, provider: impl Into<String>, expires_at: u64) -> Self {
        SessionRecord {
            user,
            provider: provider.into(),
            expires_at,
            id_token_hint: None,
            sign_in: SignInFacts::default(),
            version: 0,
            created_at: 0,
            idp: None,
            tokens: None,
            claims: std::collections::BTreeMap::new(),
        }
    }

    /// The record's successor for [`SessionStore::compare_and_swap`]: a copy one version on.
    ///
    /// [`SessionStore::compare_and_swap`]: crate::store::SessionStore::compare_and_swap
    pub(crate) fn next_version(&self) -> SessionRecord {
        let mut next = self.clone();
        next.version = self.version.wrapping_add(1);
        next
    }

    /// The version a record must replace in [`SessionStore::compare_and_swap`]: the one before
    /// its own (wrapping).
    ///
    /// ```
    /// # use tower_oidc::store::SessionRecord;
    /// # fn f(next: &SessionRecord) {
    /// assert_eq!(next.predecessor().wrapping_add(1), next.version);
    /// # }
    /// ```
    ///
    /// [`SessionStore::compare_and_swap`]: crate::store::SessionStore::compare_and_swap
    pub fn predecessor(&self) -> u64 {
        self.version.wrapping_sub(1)
    }

    /// The successor that ends the session: one version on, expired, without tokens.
    pub(crate) fn ended(&self) -> SessionRecord {
        let mut ended = self.next_version();
        ended.expires_at = 0;
        ended.tokens = None;
        ended
    }

    /// `expires_at` as a `SystemTime`.
    pub fn expiry(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }
    /// Whether the session has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        // Compared in seconds: `expiry()` would overflow `SystemTime` for absurd values.
        now.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() >= self.expires_at)
            .unwrap_or(false)
    }
}
