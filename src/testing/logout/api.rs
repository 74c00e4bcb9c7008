//! The logout and revocation side of [`FakeAuthentik`]'s handle.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::{LogoutDelivery, LogoutMethod, LogoutReport, end, token};
use crate::testing::FakeAuthentik;
use crate::testing::record::Revocation;

impl FakeAuthentik {
    /// Sets the provider's logout URI and method (Authentik's *Logout URI* and *Logout Method*;
    /// one URI per provider). Set at run time because the app's port is known only once both
    /// run. Without one, ending a session notifies nobody.
    pub fn set_logout_uri(&self, uri: impl Into<String>, method: LogoutMethod) {
        self.inner.lock().logout = Some((uri.into(), method));
    }

    /// Removes the logout URI: later session ends (and pending retries) notify nobody.
    pub fn clear_logout_uri(&self) {
        self.inner.lock().logout = None;
    }

    /// The logout URI and method, if set.
    pub fn logout_uri(&self) -> Option<(String, LogoutMethod)> {
        self.inner.lock().logout.clone()
    }

    /// How long a failed back-channel delivery waits before each retry; the number of delays
    /// is the number of retries (none when empty). The default is Authentik's schedule, 15 s,
    /// 30 s, 1 min, 2 min and 4 min; tests shorten it. Applies to deliveries whose first
    /// attempt fails from now on.
    pub fn set_logout_retry_delays(&self, delays: Vec<Duration>) {
        self.inner.lock().logout_retry_delays = delays;
    }

    /// The `sid`s of the user's live Authentik sessions, oldest first: one per `/authorize`
    /// that chose the user, until it is ended.
    pub fn sessions(&self, username: &str) -> Vec<String> {
        let st = self.inner.lock();
        let Some(pk) = st.user_pk(username) else {
            return Vec::new();
        };
        st.sessions
            .iter()
            .filter(|s| s.user_pk == pk)
            .map(|s| s.sid.clone())
            .collect()
    }

    /// Deletes every Authentik session of the user, as the user logging out of Authentik or an
    /// admin deleting the sessions does, and notifies the app.
    ///
    /// The sessions' access tokens are deleted (userinfo refuses them); refresh tokens
    /// survive. With the back-channel method, one logout token is POSTed per access token
    /// that was still unexpired, so a session that was refreshed gets several (each with its
    /// own `jti`), and one without any gets none; the first attempts are awaited and
    /// returned, retries continue in the background. With the front-channel method the report
    /// lists the iframe URLs Authentik's logout page would load.
    ///
    /// ```
    /// use tower_oidc::testing::{FakeAuthentik, LogoutMethod};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeAuthentik::start().await;
    /// fake.set_logout_uri("http://127.0.0.1:3000/logout", LogoutMethod::Frontchannel);
    /// // Nobody signed in yet: nothing to end.
    /// let report = fake.end_sessions("alice").await;
    /// assert!(report.ended_sessions.is_empty() && report.frontchannel_urls.is_empty());
    /// # }
    /// ```
    pub async fn end_sessions(&self, username: &str) -> LogoutReport {
        let Some(pk) = self.inner.lock().user_pk(username) else {
            return LogoutReport::default();
        };
        end::end_sessions(&self.inner, |s| s.user_pk == pk).await
    }

    /// Deletes one Authentik session, by `sid`, like
    /// [`end_sessions`](Self::end_sessions); an unknown or ended `sid` does nothing.
    pub async fn end_session(&self, sid: &str) -> LogoutReport {
        end::end_sessions(&self.inner, |s| s.sid == sid).await
    }

    /// The logout token the fake would send now for live session `sid` (fresh `jti`, `iat`
    /// now), without sending it; `None` for an unknown or ended session.
    pub fn logout_token_for(&self, sid: &str) -> Option<String> {
        let sub = {
            let st = self.inner.lock();
            let session = st.sessions.iter().find(|s| s.sid == sid)?;
            let user = st.user(session.user_pk)?;
            self.inner.sub(user)
        };
        match token::mint(&self.inner, sid, &sub) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = e, "FakeAuthentik: minting a logout token");
                None
            }
        }
    }

    /// Signs arbitrary claims under an arbitrary header with the key the fake signs with now
    /// (the client secret in HS256 mode), to build tokens that are correctly signed but wrong
    /// otherwise (a logout token with a `nonce`, without `events`, with another `iss`, …).
    ///
    /// `alg` (the key's) and `kid` (none in HS256 mode) are put first when the header lacks
    /// them; nothing else is added (no `typ`). RSA keys sign with the header's `alg` when it is
    /// RS256/384/512 or PS256/384/512, HMAC with HS256/384/512; any other `alg` is signed
    /// with the key's own algorithm under the header's name.
    ///
    /// ```
    /// use serde_json::{Map, json};
    /// use tower_oidc::testing::FakeAuthentik;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeAuthentik::start().await;
    /// let mut header = Map::new();
    /// header.insert("typ".into(), json!("logout+jwt"));
    /// let mut claims = Map::new();
    /// claims.insert("iss".into(), json!("https://evil.example/"));
    /// let jwt = fake.sign_jwt(header, claims);
    /// assert_eq!(jwt.split('.').count(), 3);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the embedded key fails to sign (a bug, not a matter of input).
    pub fn sign_jwt(&self, header: Map<String, Value>, claims: Map<String, Value>) -> String {
        match token::sign(&self.inner, &header, &claims) {
            Ok(jwt) => jwt,
            Err(e) => panic!("FakeAuthentik: signing failed: {e}"),
        }
    }

    /// Every back-channel delivery attempt so far, retries included, in the order they were
    /// answered.
    pub fn logout_deliveries(&self) -> Vec<LogoutDelivery> {
        self.inner.lock().deliveries.clone()
    }

    /// Waits until at least `n` delivery attempts are recorded or `timeout` passes, and
    /// returns them all: for deliveries made in the background (retries, end-session).
    pub async fn wait_for_logout_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<LogoutDelivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let seen = self.logout_deliveries();
            if seen.len() >= n || tokio::time::Instant::now() >= deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many unexpired, unrevoked refresh tokens the user holds (rotated ones count as
    /// revoked).
    pub fn live_refresh_tokens(&self, username: &str) -> usize {
        let st = self.inner.lock();
        let Some(pk) = st.user_pk(username) else {
            return 0;
        };
        let now = Instant::now();
        st.refresh
            .values()
            .filter(|g| g.user_pk == pk && !g.revoked && g.expires > now)
            .count()
    }

    /// How many unexpired access tokens the user holds (revoked ones and those of ended
    /// sessions are deleted).
    pub fn live_access_tokens(&self, username: &str) -> usize {
        let st = self.inner.lock();
        let Some(pk) = st.user_pk(username) else {
            return 0;
        };
        let now = Instant::now();
        st.access
            .values()
            .filter(|g| g.user_pk == pk && g.expires > now)
            .count()
    }

    /// Every token the revoke endpoint forgot, in order (requests for unknown tokens are only
    /// in [`requests`](Self::requests)). Revocation never sends a logout notification.
    pub fn revocations(&self) -> Vec<Revocation> {
        self.inner.lock().revocations.clone()
    }
}
