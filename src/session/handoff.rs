//! The hand-off of a session started by a cross-site `POST`: a form_post callback (Sign in with
//! Apple). The browser does not send the `SameSite=Lax` session cookie with that POST, so the
//! callback cannot see — and end — the session the browser already had. It stores the new
//! session and names it in a short-lived, signed, `Lax` hand-off cookie instead, and sends the
//! browser to `GET {prefix}/callback/finish`: a top-level navigation, which carries both
//! cookies. There the new session's cookie replaces the old one, and the old session ends, as a
//! sign-in by `GET` callback ends it (`Sessions::rotate`).

use http::HeaderMap;

use super::{SessionCookie, Sessions};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord};

/// How long a hand-off cookie lives: the browser follows the redirect at once.
const HANDOFF_SECS: u64 = 60;

/// What finishing a hand-off gives the response.
pub(crate) struct HandedOff {
    /// The session cookie of the handed-off session, when the request carried a valid hand-off
    /// cookie naming a live session.
    pub session_cookie: Option<String>,
    /// `Set-Cookie` clearing the hand-off cookie (always sent).
    pub clear_handoff: String,
}

impl Sessions {
    fn handoff_cookie(&self) -> SessionCookie {
        SessionCookie::handoff(self.cookie.secure)
    }

    /// Stores `record` under a new id and returns the hand-off cookie that names it.
    pub async fn start_handoff(&self, record: &SessionRecord) -> Result<String, Error> {
        let id = SessionId::random();
        self.store.store(&id, record).await?;
        self.users.forget(&record.user.id);
        Ok(self
            .handoff_cookie()
            .write_for(&self.key, &id, HANDOFF_SECS))
    }

    /// Takes the hand-off: the session its cookie names becomes the request's session (its
    /// cookie set), and the session the request's session cookie named before ends.
    pub async fn finish_handoff(&self, headers: &HeaderMap) -> Result<HandedOff, Error> {
        let handoff = self.handoff_cookie();
        let clear_handoff = handoff.clear();
        let fields = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let Some(id) = handoff.read_all(&self.key, fields) else {
            return Ok(HandedOff {
                session_cookie: None,
                clear_handoff,
            });
        };
        let Some(record) = self.store.load(&id).await? else {
            return Ok(HandedOff {
                session_cookie: None,
                clear_handoff,
            });
        };
        if let Some(old) = self.id(headers).filter(|old| *old != id)
            && let Err(e) = self.store.delete(&old).await
        {
            tracing::warn!(error = %e, "could not delete the previous session");
        }
        let lifetime = record.expires_at.saturating_sub(self.clock.unix_now());
        Ok(HandedOff {
            session_cookie: Some(self.cookie.write_for(&self.key, &id, lifetime)),
            clear_handoff,
        })
    }
}
