//! [`Sessions`]: the session store behind the session cookie — who a request's cookie names,
//! starting a session (always under a new id), and ending one.

use std::sync::Arc;
use std::time::SystemTime;

use cookie::Key;
use http::HeaderMap;

use super::{Auth, FreshUsers, SessionCookie};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord, SessionStore};

/// Who a request's session cookie names, and whether the cookie is stale.
pub(crate) struct Checked {
    pub auth: Auth,
    pub clear_cookie: bool,
}

/// The session store, the cookie that names a session in it, and the key that signs the cookie.
pub(crate) struct Sessions {
    pub store: Arc<dyn SessionStore>,
    pub cookie: SessionCookie,
    pub key: Key,
    /// The sessions' users as the user store has them now.
    pub users: FreshUsers,
}

impl Sessions {
    /// Whether the request carries a session cookie at all (a cheap check for the hot path: no
    /// signature check, no allocation).
    pub fn has_cookie(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| self.cookie.present(s)))
    }

    /// The verified session id of the request's cookie, if any.
    pub fn id(&self, headers: &HeaderMap) -> Option<SessionId> {
        let fields = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        self.cookie.read_all(&self.key, fields)
    }

    /// Who is signed in, from the request's `Cookie` header. No cookie: anonymous, without
    /// allocation or I/O. A cookie that is tampered, forged or expired: anonymous. A store that
    /// cannot be reached: `store_unavailable`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Auth, Error> {
        Ok(self.check(headers).await?.auth)
    }

    /// [`Sessions::authenticate`], and whether the request's session cookie should be cleared:
    /// it names no live session (forged, tampered, duplicated, expired or ended), so the browser
    /// should stop sending it.
    pub async fn check(&self, headers: &HeaderMap) -> Result<Checked, Error> {
        let anonymous = |headers: &HeaderMap| Checked {
            auth: Auth::anonymous(),
            clear_cookie: self.has_cookie(headers),
        };
        let Some(id) = self.id(headers) else {
            return Ok(anonymous(headers));
        };
        let record = match self.store.load(&id).await? {
            Some(record) if !record.is_expired(SystemTime::now()) => record,
            _ => return Ok(anonymous(headers)),
        };
        match self.users.get(&record.user.id).await? {
            Some(user) => Ok(Checked {
                auth: Auth::signed_in(Arc::new(record), user),
                clear_cookie: false,
            }),
            None => {
                // The user was deleted: their sessions end.
                tracing::info!(target: "tower_oidc::audit", event = "session_ended", user = %record.user.id, reason = "user_deleted", "session of a deleted user ended");
                self.store.delete(&id).await?;
                Ok(anonymous(headers))
            }
        }
    }

    /// Starts a session for `record` under a new id (never the pre-login one: session fixation),
    /// ending `old` if there was one; returns the `Set-Cookie` of the new session.
    pub async fn rotate(
        &self,
        old: Option<SessionId>,
        record: &SessionRecord,
    ) -> Result<String, Error> {
        if let Some(old) = old
            && let Err(e) = self.store.delete(&old).await
        {
            tracing::warn!(error = %e, "could not delete the previous session");
        }
        let id = SessionId::random();
        self.store.store(&id, record).await?;
        self.users.forget(&record.user.id);
        Ok(self.cookie.write(&self.key, &id))
    }

    /// Ends the session `id` and returns its record as it was, if there was one.
    pub async fn end(&self, id: &SessionId) -> Result<Option<SessionRecord>, Error> {
        let record = self.store.load(id).await?;
        self.store.delete(id).await?;
        Ok(record)
    }

    /// `Set-Cookie` that clears the session cookie.
    pub fn clear_cookie(&self) -> String {
        self.cookie.clear()
    }
}
