//! The provider's "Subject mode": how `sub` is derived from the user.

use super::user::FakeUser;

/// Which user attribute becomes `sub` (Authentik's `sub_mode` provider setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubMode {
    /// SHA-256 hex of `"{pk}-{install id}"`, 64 characters (the default).
    #[default]
    HashedUserId,
    /// The user's numeric primary key as a string.
    UserId,
    /// The username (it can change, so relying parties should not key accounts on it).
    UserUsername,
    /// The email address.
    UserEmail,
}

impl SubMode {
    /// `sub` for `user` under this mode.
    pub(crate) fn sub(self, user: &FakeUser, install_id: &str) -> String {
        match self {
            SubMode::HashedUserId => {
                let d = ring::digest::digest(
                    &ring::digest::SHA256,
                    format!("{}-{install_id}", user.pk).as_bytes(),
                );
                super::state::hex(d.as_ref())
            }
            SubMode::UserId => user.pk.to_string(),
            SubMode::UserUsername => user.username.clone(),
            SubMode::UserEmail => user.email.clone(),
        }
    }
}
