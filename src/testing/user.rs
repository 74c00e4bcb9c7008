//! Users the fake "logs in".

/// A user of the fake Authentik instance.
///
/// Claims are derived the way Authentik's default scope mappings derive them: `name` and
/// `given_name` are both the full name, `preferred_username` and `nickname` are the username,
/// `groups` are group names, and `email_verified` is `false` unless set (Authentik ≥ 2025.10).
///
/// ```
/// use tower_oidc::testing::FakeUser;
/// let u = FakeUser::new("alice")
///     .name("Alice Anders")
///     .email("alice@example.com")
///     .groups(["authentik Admins"]);
/// assert_eq!(u.username(), "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub(crate) pk: u64,
    pub(crate) username: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) groups: Vec<String>,
    pub(crate) amr: Vec<String>,
    pub(crate) denied: bool,
    pub(crate) given_name: Option<String>,
    pub(crate) family_name: Option<String>,
    pub(crate) picture: Option<String>,
    pub(crate) other_emails: Vec<FakeEmail>,
}

/// One more address of a [`FakeUser`], for providers that list several (GitHub's
/// `/user/emails`); the user's [`email`](FakeUser::email) is the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEmail {
    /// The address.
    pub email: String,
    /// Whether the provider verified it.
    pub verified: bool,
    /// Whether it is the primary address (at most one should be; the fake does not check).
    pub primary: bool,
}

impl FakeUser {
    /// A user with this username, name = username, no email, no groups.
    pub fn new(username: impl Into<String>) -> Self {
        let username = username.into();
        Self {
            pk: 0,
            name: username.clone(),
            username,
            email: String::new(),
            email_verified: false,
            groups: Vec::new(),
            amr: vec!["pwd".to_owned()],
            denied: false,
            given_name: None,
            family_name: None,
            picture: None,
            other_emails: Vec::new(),
        }
    }

    /// Given name, for providers that send one separately ([`FakeIssuer`](super::FakeIssuer)
    /// presets; Authentik has none).
    pub fn given_name(mut self, v: impl Into<String>) -> Self {
        self.given_name = Some(v.into());
        self
    }

    /// Family name, for providers that send one.
    pub fn family_name(mut self, v: impl Into<String>) -> Self {
        self.family_name = Some(v.into());
        self
    }

    /// Picture: a URL, or for Discord the avatar *hash* the API sends.
    pub fn picture(mut self, v: impl Into<String>) -> Self {
        self.picture = Some(v.into());
        self
    }

    /// A further email address (GitHub lists every address with its `verified` and `primary`
    /// flags; the user's [`email`](Self::email) is listed first, as primary, unless an added
    /// address is marked primary).
    pub fn other_email(mut self, email: impl Into<String>, verified: bool, primary: bool) -> Self {
        self.other_emails.push(FakeEmail {
            email: email.into(),
            verified,
            primary,
        });
        self
    }

    /// Full name (`name` and `given_name` claims).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Email address (`email` claim; `""` when unset, as in Authentik).
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// The `email_verified` claim. Default `false`, as Authentik ≥ 2025.10 sends it.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }

    /// Direct group memberships, by name (`groups` claim, in the `profile` scope).
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Authentication methods of the login event (`amr` claim); default `["pwd"]`.
    /// An empty list leaves `amr` out, as Authentik does when the login recorded no method.
    pub fn amr<I, S>(mut self, amr: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// When `true`, the application's policy denies this user: `/authorize` shows Authentik's
    /// "Access denied" HTML page (HTTP 200) and never redirects back to the client.
    pub fn access_denied(mut self, denied: bool) -> Self {
        self.denied = denied;
        self
    }

    /// Sets the access-denied flag in place.
    pub fn set_access_denied(&mut self, denied: bool) {
        self.denied = denied;
    }

    /// Sets the full name in place (for [`FakeAuthentik::update_user`](super::FakeAuthentik::update_user)).
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Sets the email in place.
    pub fn set_email(&mut self, email: impl Into<String>) {
        self.email = email.into();
    }

    /// Sets `email_verified` in place.
    pub fn set_email_verified(&mut self, verified: bool) {
        self.email_verified = verified;
    }

    /// Replaces the groups in place.
    pub fn set_groups<I, S>(&mut self, groups: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The full name.
    pub fn full_name(&self) -> &str {
        &self.name
    }

    /// The email address (`""` if none).
    pub fn email_address(&self) -> &str {
        &self.email
    }

    /// Group names.
    pub fn group_names(&self) -> &[String] {
        &self.groups
    }

    /// The user's primary key in the fake (1, 2, … in insertion order); `sub` is derived from it.
    pub fn pk(&self) -> u64 {
        self.pk
    }
}

/// The users a fake starts with when the builder adds none.
pub(crate) fn default_users() -> Vec<FakeUser> {
    vec![
        FakeUser::new("alice")
            .name("Alice Anders")
            .email("alice@example.com")
            .groups(["authentik Admins"]),
        FakeUser::new("bob")
            .name("Bob Berger")
            .email("bob@example.com")
            .groups(["users"]),
    ]
}
