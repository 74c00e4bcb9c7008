//! [`Sessions`]: the session store behind the session cookie — who a request's cookie names,
//! starting a session (always under a new id), and ending one.

use std::sync::Arc;
use std::time::SystemTime;

use cookie::Key;
use http::HeaderMap;

use super::{Auth, SessionCookie};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord, SessionStore};

/// The session store, the cookie that names a session in it, and the key that signs the cookie.
pub(crate) struct Sessions {
    pub store: Arc<dyn SessionStore>,
    pub cookie: SessionCookie,
    pub key: Key,
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
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .find_map(|v| v.to_str().ok().and_then(|s| self.cookie.read(&self.key, s)))
    }

    /// Who is signed in, from the request's `Cookie` header. No cookie: anonymous, without
    /// allocation or I/O. A cookie that is tampered, forged or expired: anonymous. A store that
    /// cannot be reached: `store_unavailable`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Auth, Error> {
        let Some(id) = self.id(headers) else {
            return Ok(Auth::anonymous());
        };
        match self.store.load(&id).await? {
            Some(record) if !record.is_expired(SystemTime::now()) => {
                Ok(Auth::signed_in(Arc::new(record)))
            }
            _ => Ok(Auth::anonymous()),
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
