//! [`AuthentikVersion`]: which Authentik release the fake behaves like, where releases differ.

/// The Authentik release a [`FakeAuthentik`](super::FakeAuthentik) behaves like, where the
/// supported releases differ in ways a relying party can tell.
///
/// Only the oldest and the newest supported behaviour are modelled; a test that must hold on
/// every supported Authentik runs against each of [`AuthentikVersion::ALL`]. The default is the
/// newest.
///
/// | behaviour | [`V2025_10`](Self::V2025_10) | [`V2026_5`](Self::V2026_5) |
/// | --- | --- | --- |
/// | `client_secret_basic` credentials | used as sent: the Basic user and password are *not* percent-decoded, so an id or secret holding `:`, `+`, `%` or a space, form-urlencoded as RFC 6749 §2.3.1 says, is `invalid_client` | percent-decoded (RFC 6749 §2.3.1) |
/// | `client_secret_post` | form-decoded | form-decoded |
/// | end-session for a browser without an Authentik session | the "You've logged out of …" page | a redirect to the login flow |
/// | `post_logout_redirect_uri` | ignored: always the logged-out page | honoured when registered as a logout redirect URI |
/// | end-session for a signed-in browser | the logged-out page only | also logs the app out of that Authentik session: one back-channel logout token, or the front-channel iframe |
/// | discovery `frontchannel_logout_supported`, `frontchannel_logout_session_supported` | absent | `true` |
/// | logout token header `typ` (2025.10.0–2025.10.3; 2025.10.4, 2025.12.2 and 2026.2.0 changed it) | `JWT` | `logout+jwt` |
/// | back-channel `User-Agent` | `authentik@2025.10.0` | `authentik@2026.5.0` |
///
/// On both, deleting an Authentik session (the user logs out of Authentik, an admin deletes
/// the session) sends a back-channel logout token for each unexpired access token the session
/// holds, retried on failure; see [`FakeAuthentik::end_sessions`](super::FakeAuthentik::end_sessions).
///
/// ```
/// use tower_oidc::testing::{AuthentikVersion, FakeAuthentik};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(AuthentikVersion::default(), AuthentikVersion::NEWEST);
/// for version in AuthentikVersion::ALL {
///     let fake = FakeAuthentik::builder().version(version).start().await;
///     assert_eq!(fake.version(), version);
///     // … sign in through `fake` and assert what must hold on every release.
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum AuthentikVersion {
    /// Authentik 2025.10, the oldest supported release (its first patch releases, 2025.10.0 to
    /// 2025.10.3, where later ones differ: the logout token's `typ`).
    V2025_10,
    /// Authentik 2026.5, the newest supported release (the default).
    #[default]
    V2026_5,
}

impl AuthentikVersion {
    /// The oldest supported behaviour.
    pub const OLDEST: Self = Self::V2025_10;
    /// The newest supported behaviour.
    pub const NEWEST: Self = Self::V2026_5;
    /// Every modelled behaviour, oldest first.
    pub const ALL: [Self; 2] = [Self::V2025_10, Self::V2026_5];

    /// The release as Authentik names it, e.g. `2025.10`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2025_10 => "2025.10",
            Self::V2026_5 => "2026.5",
        }
    }

    /// Whether the Basic credentials of the token endpoint are percent-decoded (2026.5+).
    pub(crate) fn decodes_basic_credentials(self) -> bool {
        self >= Self::V2026_5
    }

    /// Whether end-session sends a browser without an Authentik session to the login flow
    /// (2026.5+) instead of showing the logged-out page.
    pub(crate) fn end_session_needs_login(self) -> bool {
        self >= Self::V2026_5
    }

    /// Whether end-session honours a registered `post_logout_redirect_uri` (2026.5+).
    pub(crate) fn honours_post_logout_redirect(self) -> bool {
        self >= Self::V2026_5
    }

    /// The full release number, as in the back-channel `User-Agent` (`authentik@2025.10.0`).
    pub(crate) fn release(self) -> &'static str {
        match self {
            Self::V2025_10 => "2025.10.0",
            Self::V2026_5 => "2026.5.0",
        }
    }

    /// The logout token's header `typ`: `logout+jwt` since 2025.10.4, 2025.12.2 and 2026.2.0.
    pub(crate) fn logout_token_typ(self) -> &'static str {
        match self {
            Self::V2025_10 => "JWT",
            Self::V2026_5 => "logout+jwt",
        }
    }

    /// Whether discovery advertises front-channel logout (2026.5+).
    pub(crate) fn advertises_frontchannel_logout(self) -> bool {
        self >= Self::V2026_5
    }

    /// Whether end-session logs the app out of the browser's Authentik session (2026.5+).
    pub(crate) fn end_session_notifies(self) -> bool {
        self >= Self::V2026_5
    }
}

impl std::fmt::Display for AuthentikVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
