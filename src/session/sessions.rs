//! [`Sessions`]: the session store behind the session cookie — who a request's cookie names,
//! starting a session (always under a new id), and ending one.

use std::sync::Arc;

use cookie::Key;
use http::HeaderMap;

use super::{Auth, FreshUsers, SessionCookie, SessionTiming, TokenKeeper};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord, SessionStore};
use crate::util::Clock;

/// Who a request's session cookie names, and whether the cookie is stale.
pub(crate) struct Checked {
    pub auth: Auth,
    /// A `Set-Cookie` for the response: the session cookie cleared (a stale or foreign one),
    /// or renewed (the session's expiry slid).
    pub set_cookie: Option<String>,
}

pub(crate) struct Sessions {
    pub store: Arc<dyn SessionStore>,
    pub cookie: SessionCookie,
    pub key: Key,
    pub users: Arc<FreshUsers>,
    pub keeper: Arc<TokenKeeper>,
    pub timing: SessionTiming,
    pub clock: Clock,
}

impl Sessions {
    pub fn has_cookie(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| self.cookie.present(s)))
    }

    pub fn id(&self, headers: &HeaderMap) -> Option<SessionId> {
        let fields = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        self.cookie.read_all(&self.key, fields)
    }

    /// Who the request's session cookie names, when that is known without waiting: a session
    /// the store holds in this process (or its cache), live, whose user is fresh, with no
    /// renewal due. `None`: ask [`Sessions::check`].
    pub fn check_now(&self, headers: &HeaderMap) -> Option<Auth> {
        let id = self.id(headers)?;
        let record = self.store.peek(&id)?;
        let now = self.clock.now();
        if record.is_expired(now) || self.renewal_due(&record, now).is_some() {
            return None;
        }
        let user = self.users.get_now(&record.user.id, now)?;
        Some(Auth::signed_in(record, user, (id, self.keeper.clone())))
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Auth, Error> {
        Ok(self.check(headers).await?.auth)
    }

    pub async fn check(&self, headers: &HeaderMap) -> Result<Checked, Error> {
        let anonymous = |headers: &HeaderMap| Checked {
            auth: Auth::anonymous(),
            set_cookie: self.has_cookie(headers).then(|| self.cookie.clear()),
        };
        let Some(id) = self.id(headers) else {
            return Ok(anonymous(headers));
        };
        let now = self.clock.now();
        let record = match self.store.load_shared(&id).await? {
            Some(record) if !record.is_expired(now) => record,
            Some(expired) => {
                crate::observe::sessions_ended(&expired.provider, "expired", 1);
                return Ok(anonymous(headers));
            }
            None => return Ok(anonymous(headers)),
        };
        match self.users.get(&record.user.id, now).await? {
            Some(user) => {
                let (record, set_cookie) = self.slide(&id, record, now).await;
                Ok(Checked {
                    auth: Auth::signed_in(record, user, (id, self.keeper.clone())),
                    set_cookie,
                })
            }
            None => {
                // The user was deleted: their sessions end.
                tracing::info!(target: "tower_oidc::audit", event = "session_ended", user = %record.user.id, reason = "user_deleted", "session of a deleted user ended");
                self.store.delete(&id).await?;
                crate::observe::sessions_ended(&record.provider, "user_deleted", 1);
                Ok(anonymous(headers))
            }
        }
    }

    /// When the session expires if it began at `created_at` and was last used `now`.
    pub fn expiry(&self, created_at: u64, now: u64) -> u64 {
        now.saturating_add(self.timing.idle.as_secs())
            .min(created_at.saturating_add(self.timing.absolute.as_secs()))
    }

    /// The session's new expiry when sliding it is due now (`None`: it is not).
    fn renewal_due(&self, record: &SessionRecord, now: std::time::SystemTime) -> Option<u64> {
        if record.created_at == 0 {
            // Began before sessions slid: it keeps its fixed expiry.
            return None;
        }
        let now = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if record.tokens.as_ref().is_some_and(|t| t.lease_until > now) {
            // A refresh is in flight: its write-back renews nothing, so leave the record to it
            // (it would otherwise have to merge) and renew on a later request.
            return None;
        }
        let target = self.expiry(record.created_at, now);
        // A step as long as the idle timeout would never renew in time: at most half of it.
        let step = self.timing.renew_step.min(self.timing.idle / 2).as_secs();
        (target > record.expires_at.saturating_add(step)).then_some(target)
    }

    /// Sliding expiry: moves the session's expiry to `now + idle` (never past the absolute
    /// lifetime) when that moves it by more than the renew step, with a compare-and-set (a
    /// concurrent change wins; this request goes on with what it loaded) and a renewed cookie.
    async fn slide(
        &self,
        id: &SessionId,
        record: Arc<SessionRecord>,
        now: std::time::SystemTime,
    ) -> (Arc<SessionRecord>, Option<String>) {
        let Some(target) = self.renewal_due(&record, now) else {
            return (record, None);
        };
        let now = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut next = record.next_version();
        next.expires_at = target;
        match self.store.compare_and_swap(id, &next).await {
            Ok(true) => {
                let cookie = self
                    .cookie
                    .write_for(&self.key, id, target.saturating_sub(now));
                (Arc::new(next), Some(cookie))
            }
            Ok(false) => (record, None),
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the session's expiry");
                (record, None)
            }
        }
    }

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
        let lifetime = record.expires_at.saturating_sub(self.clock.unix_now());
        Ok(self.cookie.write_for(&self.key, &id, lifetime))
    }

    /// Ends the session `id` and returns its record as it was, if there was one.
    ///
    /// The record returned is the one that ended — replaced by an expired one with a
    /// compare-and-set, then deleted — so a refresh written back meanwhile is either in it (and
    /// its tokens are revoked with it) or finds the session gone (and revokes its own).
    pub async fn end(&self, id: &SessionId) -> Result<Option<SessionRecord>, Error> {
        for _ in 0..4 {
            let Some(record) = self.store.load(id).await? else {
                return Ok(None);
            };
            let ended = record.ended();
            if self.store.compare_and_swap(id, &ended).await? {
                self.store.delete(id).await?;
                return Ok(Some(record));
            }
        }
        // Still changing after four tries: end it as it is now.
        let record = self.store.load(id).await?;
        self.store.delete(id).await?;
        Ok(record)
    }

    /// `Set-Cookie` that clears the session cookie.
    pub fn clear_cookie(&self) -> String {
        self.cookie.clear()
    }
}
