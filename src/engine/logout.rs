//! Signing out, and the logout a provider starts: `POST {prefix}/logout` (this browser, or
//! every session of the user), the back-channel receiver (`POST
//! {prefix}/providers/{id}/backchannel-logout`, a verified logout token), the front-channel
//! receiver (`GET {prefix}/providers/{id}/frontchannel-logout`, loaded by the provider in an
//! iframe), and ending a user's sessions from code or the admin API. Every ended session's
//! tokens are revoked at its provider.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use tracing::Instrument as _;

use super::OidcEngine;
use crate::error::{Error, ErrorCode};
use crate::flow::LogoutTarget;
use crate::session::EndReason;
use crate::store::{SessionFilter, SessionRecord, UserId};
use crate::web::{
    add_cookies, escape, html_response, json_response, page, query_param, redirect, wants_json,
};

/// Whether a query flag is on (`1` or `true`).
fn flag(query: &str, name: &str) -> bool {
    matches!(query_param(query, name).as_deref(), Some("1" | "true"))
}

/// The only value of form or query member `name`: `None` when it is absent, repeated, empty or
/// longer than `max` bytes.
fn single(pairs: &str, name: &str, max: usize) -> Option<String> {
    let mut found = None;
    for (k, v) in url::form_urlencoded::parse(pairs.as_bytes()) {
        if k == name {
            if found.is_some() {
                return None;
            }
            found = Some(v.into_owned());
        }
    }
    found.filter(|v| !v.is_empty() && v.len() <= max)
}

/// Provider ids in the path are untrusted input: logged only when valid.
fn loggable_id(id: &str) -> &str {
    if crate::config::is_valid_provider_id(id) {
        id
    } else {
        "<invalid id>"
    }
}

/// The answer to the provider for a logout request that failed: 400 `invalid_request` for a
/// bad request or token (Back-Channel Logout 1.0 §2.8), a retryable status when this side
/// could not check it (store or provider keys unreachable), 404 for an unknown provider; never
/// a 500.
fn logout_refused(e: &Error) -> Response<Bytes> {
    let (status, error) = match e.code() {
        ErrorCode::ProviderUnknown => (StatusCode::NOT_FOUND, "invalid_request"),
        ErrorCode::StoreUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
        ErrorCode::ProviderUnreachable => (StatusCode::BAD_GATEWAY, "temporarily_unavailable"),
        _ => (StatusCode::BAD_REQUEST, "invalid_request"),
    };
    // The provider learns which check failed; for anything else (a store or network error on
    // this side) the detail stays in the log.
    let description = match e.code() {
        ErrorCode::InvalidRequest => e.detail(),
        code => code.message(),
    };
    json_response(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

impl OidcEngine {
    /// Ends every session of `user`, on every instance sharing the session store, and revokes
    /// their tokens at the provider; returns how many sessions ended. The same as the user's
    /// "sign out everywhere", for the app (e.g. after a password change or when it removes a
    /// user).
    ///
    /// ```no_run
    /// # async fn f(layer: tower_oidc::OidcLayer) -> Result<(), tower_oidc::Error> {
    /// use tower_oidc::store::UserId;
    /// let ended = layer.engine().end_sessions_of(&UserId("u-42".into())).await?;
    /// # let _ = ended;
    /// # Ok(()) }
    /// ```
    pub async fn end_sessions_of(&self, user: &UserId) -> Result<usize, Error> {
        let ended = self
            .sessions
            .end_where(&SessionFilter::User(user.clone()), EndReason::Admin)
            .await?;
        tracing::info!(target: "tower_oidc::audit", event = "sessions_ended", user = %user, sessions = ended.len(), reason = "app", "every session of a user ended");
        Ok(ended.len())
    }

    /// `DELETE {prefix}/admin/users/{id}/sessions`: an admin ends every session of a user.
    pub(super) async fn admin_end_sessions(
        &self,
        user: &str,
        headers: &HeaderMap,
    ) -> Response<Bytes> {
        let auth = self.authenticate(headers).await;
        let admin = match self.admin.guard(auth, headers, true).await {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let user = UserId(user.to_owned());
        match self
            .sessions
            .end_where(&SessionFilter::User(user.clone()), EndReason::Admin)
            .await
        {
            Ok(ended) => {
                tracing::info!(target: "tower_oidc::audit", event = "sessions_ended", user = %user, by = %admin.id, sessions = ended.len(), reason = "admin", "an admin ended a user's sessions");
                json_response(
                    StatusCode::OK,
                    &serde_json::json!({"user": user.0, "ended": ended.len()}),
                )
            }
            Err(e) => crate::web::code_json(e.code()),
        }
    }

    /// `POST {prefix}/providers/{id}/backchannel-logout`: a logout token from the provider
    /// (Back-Channel Logout 1.0), form-encoded as `logout_token`. Verified, it ends the
    /// sessions of its `sid` (or, without one, of its `sub`) on every instance and revokes
    /// their tokens; 200 with `Cache-Control: no-store`. A token that fails verification ends
    /// nothing and gets 400 `invalid_request`.
    pub(super) async fn backchannel_logout(&self, id: &str, body: &Bytes) -> Response<Bytes> {
        let provider = self.registry.label(id);
        let span = tracing::info_span!(
            "tower_oidc.logout_request",
            provider,
            channel = "backchannel"
        );
        let outcome = async {
            let form = std::str::from_utf8(body)
                .map_err(|_| Error::new(ErrorCode::InvalidRequest, "the body is not UTF-8"))?;
            let token =
                single(form, "logout_token", crate::flow::MAX_ID_TOKEN_BYTES).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidRequest,
                        "expected one form member `logout_token`",
                    )
                })?;
            let verified = self.flow.verify_logout(id, &token).await?;
            let filter = match &verified.ends {
                LogoutTarget::Session(sid) => SessionFilter::IdpSession {
                    provider: id.to_owned(),
                    issuer: verified.issuer.clone(),
                    sid: sid.clone(),
                },
                LogoutTarget::Subject(sub) => SessionFilter::IdpSubject {
                    provider: id.to_owned(),
                    issuer: verified.issuer.clone(),
                    subject: sub.clone(),
                },
            };
            let ended = self
                .sessions
                .end_where(&filter, EndReason::BackchannelLogout)
                .await?;
            self.flow.spend_logout_token(id, &verified).await?;
            Ok::<_, Error>((verified, ended))
        }
        .instrument(span)
        .await;
        crate::observe::logout_request(provider, "backchannel", outcome.is_ok());
        match outcome {
            Ok((token, ended)) => {
                tracing::info!(target: "tower_oidc::audit", event = "backchannel_logout", provider = %id, by_sid = matches!(token.ends, LogoutTarget::Session(_)), sessions = ended.len(), "the provider ended sessions (back-channel logout)");
                let mut r = Response::new(Bytes::new());
                *r.status_mut() = StatusCode::OK;
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(e) => {
                tracing::warn!(target: "tower_oidc::audit", event = "backchannel_logout_refused", provider = loggable_id(id), code = %e.code(), detail = %e.detail(), "a back-channel logout was refused; it ended nothing");
                logout_refused(&e)
            }
        }
    }

    /// `GET {prefix}/providers/{id}/frontchannel-logout?iss=…&sid=…` (Front-Channel Logout 1.0):
    /// loaded by the provider in a hidden iframe. `iss` must be the provider's issuer and `sid`
    /// is required: the sessions of that provider session end, found in the store (a
    /// third-party iframe carries no `SameSite=Lax` cookie, and the cookie is never used: a
    /// link from any site would carry it). The page is tiny, never cached, and framable by the
    /// provider's origin only.
    pub(super) async fn frontchannel_logout(&self, id: &str, query: &str) -> Response<Bytes> {
        let provider = self.registry.label(id);
        let span = tracing::info_span!(
            "tower_oidc.logout_request",
            provider,
            channel = "frontchannel"
        );
        let outcome = async {
            let iss = single(query, "iss", 2048).ok_or_else(|| {
                Error::new(ErrorCode::InvalidRequest, "expected one query member `iss`")
            })?;
            // Required: the session is found by it, never by this browser's cookie (which any
            // site's top-level link would send along, making a cross-site sign-out).
            let sid = single(query, "sid", 255).ok_or_else(|| {
                Error::new(ErrorCode::InvalidRequest, "expected one query member `sid`")
            })?;
            let issuer = self.flow.issuer_of(id, &iss).await?;
            let filter = SessionFilter::IdpSession {
                provider: id.to_owned(),
                issuer: issuer.clone(),
                sid,
            };
            let ended = self
                .sessions
                .end_where(&filter, EndReason::FrontchannelLogout)
                .await?;
            Ok::<_, Error>((issuer, ended))
        }
        .instrument(span)
        .await;
        crate::observe::logout_request(provider, "frontchannel", outcome.is_ok());
        match outcome {
            Ok((issuer, ended)) => {
                tracing::info!(target: "tower_oidc::audit", event = "frontchannel_logout", provider = %id, sessions = ended.len(), "the provider ended sessions (front-channel logout)");
                let mut r = html_response(StatusCode::OK, page("Signed out", "<p>Signed out.</p>"));
                let csp = format!(
                    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors {}",
                    frame_ancestors(&issuer)
                );
                if let Ok(v) = HeaderValue::from_str(&csp) {
                    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
                }
                r
            }
            Err(e) => {
                tracing::warn!(target: "tower_oidc::audit", event = "frontchannel_logout_refused", provider = loggable_id(id), code = %e.code(), detail = %e.detail(), "a front-channel logout was refused; it ended nothing");
                let status = if e.code() == ErrorCode::ProviderUnknown {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                html_response(
                    status,
                    page(
                        "Not signed out",
                        &format!("<p>{}</p>", escape(ErrorCode::InvalidRequest.message())),
                    ),
                )
            }
        }
    }

    /// `POST {prefix}/logout`: ends this browser's session (`?everywhere=1`: every session of
    /// its user, on every instance) and clears its session and login transaction cookies,
    /// revokes the ended sessions' tokens at the provider, and with
    /// `?end_session=1` redirects to the provider's end-session endpoint.
    pub(super) async fn logout(&self, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        // Logout is a POST; refuse one that another site's page sent (logout CSRF).
        if !self.admin.same_origin(headers) {
            return crate::web::error_json(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Cross-site sign-out refused.",
            );
        }
        let mut end_session_url = None;
        if let Some(id) = self.sessions.id(headers) {
            let record = match self.sessions.end(&id).await {
                Ok(r) => r,
                Err(e) => return self.responses.error(headers, &e, &[]),
            };
            if let Some(rec) = record {
                let everywhere = flag(query, "everywhere");
                let mut ended = vec![rec.clone()];
                if everywhere {
                    let all = SessionFilter::User(rec.user.id.clone());
                    match self.sessions.take_where(&all).await {
                        Ok(others) => ended.extend(others),
                        Err(e) => {
                            // This browser's session is over all the same.
                            self.sessions.revoke(ended, EndReason::SignOut).await;
                            let clear = [self.sessions.clear_cookie(), self.flow.tx_cookie.clear()];
                            return self.responses.error(headers, &e, &clear);
                        }
                    }
                }
                tracing::info!(target: "tower_oidc::audit", event = "sign_out", provider = %rec.provider, user = %rec.user.id, everywhere, sessions = ended.len(), "signed out");
                let reason = if everywhere {
                    EndReason::SignOutEverywhere
                } else {
                    EndReason::SignOut
                };
                self.sessions.revoke(ended, reason).await;
                if flag(query, "end_session") {
                    end_session_url = self.end_session_url(&rec).await;
                }
            }
        }
        // The browser forgets its pending sign-ins too (one started in another tab must start
        // again): after sign-out it holds no cookie of the layer's.
        let cookies = vec![
            self.sessions.clear_cookie(),
            self.flow.tx_cookie.clear(),
            self.flow.tx_cookie.form_post().clear(),
        ];
        let after = format!("{}{}", self.flow.base_url, self.after_logout);
        if wants_json(headers) {
            let mut r = json_response(
                StatusCode::OK,
                &serde_json::json!({"signed_out": true, "redirect": end_session_url.as_deref().unwrap_or(&after)}),
            );
            add_cookies(&mut r, &cookies);
            r
        } else {
            redirect(
                StatusCode::SEE_OTHER,
                end_session_url.as_deref().unwrap_or(&self.after_logout),
                &cookies,
            )
        }
    }

    /// The provider's end-session URL for RP-initiated logout, when it has one.
    async fn end_session_url(&self, rec: &SessionRecord) -> Option<String> {
        let st = self.registry.enabled(&rec.provider).await.ok()?;
        let active = self.registry.active(&st).await.ok()?;
        let resolved = st.current();
        let endpoint = resolved
            .endpoints
            .end_session
            .clone()
            .or_else(|| active.end_session.clone())?;
        let mut u = url::Url::parse(&endpoint).ok()?;
        {
            let mut q = u.query_pairs_mut();
            if let Some(hint) = &rec.id_token_hint {
                q.append_pair("id_token_hint", hint);
            }
            q.append_pair("client_id", &resolved.client_id);
            q.append_pair(
                "post_logout_redirect_uri",
                &format!("{}{}", self.flow.base_url, self.after_logout),
            );
        }
        Some(u.to_string())
    }
}

/// The `frame-ancestors` source of the front-channel page: the issuer's origin, or `'none'`.
fn frame_ancestors(issuer: &str) -> String {
    Some(crate::web::origin_of(issuer))
        .filter(|o| !o.is_empty() && o != "null")
        .unwrap_or_else(|| "'none'".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_refuses_repeated_empty_and_long_members() {
        assert_eq!(
            single("logout_token=abc", "logout_token", 10).as_deref(),
            Some("abc")
        );
        assert_eq!(
            single("a=1&logout_token=x%2By", "logout_token", 10).as_deref(),
            Some("x+y")
        );
        assert_eq!(
            single("logout_token=a&logout_token=b", "logout_token", 10),
            None
        );
        assert_eq!(single("logout_token=", "logout_token", 10), None);
        assert_eq!(single("logout_token=0123456789a", "logout_token", 10), None);
        assert_eq!(single("other=1", "logout_token", 10), None);
    }

    #[test]
    fn frame_ancestors_is_the_issuers_origin() {
        assert_eq!(
            frame_ancestors("https://auth.example.com/application/o/app/"),
            "https://auth.example.com"
        );
        assert_eq!(
            frame_ancestors("http://127.0.0.1:9000/x/"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(frame_ancestors("not a url"), "'none'");
    }
}
