//! The engine's orchestration of a sign-in: the flow's verified sign-in → the user (resolved,
//! linked or created) → a new session → the redirect. Also the admin page, which needs both the
//! session (who asks) and the admin API (whether they may). Sign-out is in `logout`.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use tracing::Instrument as _;

use super::OidcEngine;
use super::routes::log_failure;
use crate::config::ResponseMode;
use crate::error::{Error, ErrorCode};
use crate::flow::VerifiedSignIn;
use crate::identity::{Policy, Resolution, resolve_user};
use crate::session::HandedOff;
use crate::store::SessionRecord;
use crate::web::{cookie_header, redirect, wants_json};

impl OidcEngine {
    /// `GET {prefix}/providers/{id}/callback` (or its `POST` for a form_post provider, `query`
    /// then the form body), inside its `tower_oidc.callback` span, counted and timed.
    pub(super) async fn callback(
        &self,
        id: &str,
        query: &str,
        headers: &HeaderMap,
        mode: ResponseMode,
    ) -> Response<Bytes> {
        let provider = self.registry.label(id);
        let span = tracing::info_span!("tower_oidc.callback", provider);
        let start = Instant::now();
        let (response, outcome) = self
            .callback_steps(id, query, headers, mode)
            .instrument(span)
            .await;
        match outcome {
            Ok(()) => crate::observe::sign_in_completed(provider, start.elapsed()),
            Err(code) => {
                crate::observe::sign_in_failed(provider, code.as_str(), Some(start.elapsed()))
            }
        }
        response
    }

    /// The callback's work: its answer, and the error code it failed with.
    async fn callback_steps(
        &self,
        id: &str,
        query: &str,
        headers: &HeaderMap,
        mode: ResponseMode,
    ) -> (Response<Bytes>, Result<(), ErrorCode>) {
        let cookie = cookie_header(headers);
        let mut verified = match self.flow.callback(id, query, cookie.as_deref(), mode).await {
            Ok(v) => v,
            Err(fe) => {
                // Every failure is logged once, whatever the browser is shown.
                log_failure(id, &fe.error);
                // A replayed callback from a browser that is already signed in (back button)
                // gets a harmless redirect, not a scary error.
                if fe.error.code() == ErrorCode::InvalidState
                    && !wants_json(headers)
                    && let Ok(auth) = self.authenticate(headers).await
                    && auth.is_signed_in()
                {
                    let r = redirect(StatusCode::SEE_OTHER, "/", &fe.cookies);
                    return (r, Err(fe.error.code()));
                }
                let r = self.responses.error(headers, &fe.error, &fe.cookies);
                return (r, Err(fe.error.code()));
            }
        };
        // What the redirect needs is taken out; the rest moves into the session (no copies).
        let mut cookies = std::mem::take(&mut verified.cookies);
        let return_to = std::mem::take(&mut verified.return_to);
        // A form_post callback is a cross-site POST: without the browser's session cookie, the
        // new session is handed off to a same-site GET that sees it (`session::handoff`).
        let handoff = mode == ResponseMode::FormPost && !self.sessions.has_cookie(headers);
        match self.start_session(headers, verified, handoff).await {
            Ok((user_id, resolution, set_cookie)) => {
                tracing::info!(target: "tower_oidc::audit", event = "sign_in", provider = id, user = %user_id, resolution = ?resolution, "signed in");
                match resolution {
                    Resolution::Created => {
                        tracing::info!(target: "tower_oidc::audit", event = "user_created", provider = id, user = %user_id, "user created at first sign-in");
                    }
                    Resolution::Linked => {
                        tracing::info!(target: "tower_oidc::audit", event = "identity_linked", provider = id, user = %user_id, "identity linked to an existing user by email");
                    }
                    Resolution::Existing => {}
                }
                cookies.push(set_cookie);
                let to = if handoff {
                    let q = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("return_to", &return_to)
                        .finish();
                    format!("{}/callback/finish?{q}", self.prefix())
                } else {
                    return_to
                };
                let r = redirect(StatusCode::SEE_OTHER, &to, &cookies);
                (r, Ok(()))
            }
            Err(e) => {
                log_failure(id, &e);
                (self.responses.error(headers, &e, &cookies), Err(e.code()))
            }
        }
    }

    /// The user of a verified sign-in, and a new session for them (rotating the old one), or
    /// with `handoff` the session named by a hand-off cookie.
    async fn start_session(
        &self,
        headers: &HeaderMap,
        v: VerifiedSignIn,
        handoff: bool,
    ) -> Result<(String, Resolution, String), Error> {
        let policy = Policy {
            email_trust: v.email_trust,
            auto_register: v.auto_register,
            admin_rules: &v.admin_rules,
        };
        let (user, resolution) =
            resolve_user(self.users.as_ref(), &v.identity, &v.profile, &policy).await?;
        let user_id = user.id.to_string();
        let now = self.sessions.clock.unix_now();
        let tokens = self.sessions.keeper.initial(
            v.tokens.access_token.expose(),
            v.tokens.refresh_token.as_ref().map(|r| r.expose()),
            v.tokens.expires_in,
            Some(v.nonce.as_str()),
        )?;
        let record = SessionRecord {
            id_token_hint: v.id_token_hint,
            sign_in: v.sign_in,
            created_at: now,
            idp: v.idp,
            tokens: Some(Box::new(tokens)),
            claims: v.profile.extra,
            ..SessionRecord::new(user, v.provider, self.sessions.expiry(now, now))
        };
        let set_cookie = if handoff {
            self.sessions.start_handoff(&record).await?
        } else {
            self.sessions
                .rotate(self.sessions.id(headers), &record)
                .await?
        };
        Ok((user_id, resolution, set_cookie))
    }

    /// `GET {prefix}/callback/finish`: the end of a form_post sign-in (see `session::handoff`).
    /// The hand-off cookie's session becomes the browser's, the one it had ends, and the
    /// browser goes on to `return_to` (checked again). Without a valid hand-off: the sign-in
    /// is over (`login_expired`).
    pub(super) async fn finish_callback(
        &self,
        query: &str,
        headers: &HeaderMap,
    ) -> Response<Bytes> {
        let return_to =
            crate::web::safe_return_to(crate::web::query_param(query, "return_to").as_deref());
        match self.sessions.finish_handoff(headers).await {
            Ok(HandedOff {
                session_cookie: Some(session),
                clear_handoff,
            }) => redirect(StatusCode::SEE_OTHER, &return_to, &[clear_handoff, session]),
            Ok(HandedOff {
                session_cookie: None,
                clear_handoff,
            }) => {
                let e = Error::new(
                    ErrorCode::LoginExpired,
                    "the sign-in's hand-off cookie is missing, forged or its session gone",
                );
                self.responses.error(headers, &e, &[clear_handoff])
            }
            Err(e) => self.error_response(headers, &e),
        }
    }

    /// `GET {prefix}/admin`: the page for admins; signed out → the login page, others → 403.
    #[cfg(feature = "ui")]
    pub(super) async fn admin_page(&self, headers: &HeaderMap, path: &str) -> Response<Bytes> {
        let auth = match self.authenticate(headers).await {
            Ok(a) => a,
            Err(e) => return self.error_response(headers, &e),
        };
        if !auth.is_signed_in() {
            return self.unauthenticated(headers, path);
        }
        if self.admin.guard(Ok(auth), headers, false).await.is_err() {
            return self.forbidden(headers);
        }
        match self.admin.views().await {
            Ok(views) => crate::ui::admin::admin_response(
                &self.pages,
                self.pages.language(headers),
                self.prefix(),
                &views,
            ),
            Err(e) => self.error_response(headers, &e),
        }
    }
}
