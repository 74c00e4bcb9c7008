//! The auth routes (ARCHITECTURE.md, "Routes"): dispatch, the provider list, authorize, the
//! session, the error page and the pages of feature `ui`. The callback and logout are in
//! `sign_in`.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};

use super::OidcEngine;
use crate::config::ResponseMode;
use crate::error::{Error, ErrorCode};
use crate::provider::ProviderButton;
use crate::web::{
    cookie_header, error_json, html_response, json_response, page, query_param, redirect,
    wants_json,
};

impl OidcEngine {
    /// Answers a request to an auth route. Requests outside the prefix get a 404.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let Some(rest) = path.strip_prefix(self.flow.prefix.as_str()) else {
            return not_found(req.headers());
        };
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let method = req.method().clone();
        let headers = req.headers().clone();
        match (method, segments.as_slice()) {
            (Method::GET, ["providers"]) => self.providers_list().await,
            (Method::GET, ["providers", id, "authorize"]) => {
                self.authorize(id, &query, &headers).await
            }
            (Method::GET, ["providers", id, "callback"]) => match self.response_mode(id) {
                Some(ResponseMode::FormPost) => method_not_allowed(&headers),
                _ => {
                    self.callback(id, &query, &headers, ResponseMode::Query)
                        .await
                }
            },
            (Method::POST, ["providers", id, "callback"]) => {
                self.form_post_callback(id, &headers, req.body()).await
            }
            (Method::POST, ["providers", id, "backchannel-logout"]) => {
                self.backchannel_logout(id, req.body()).await
            }
            (Method::GET, ["providers", id, "frontchannel-logout"]) => {
                self.frontchannel_logout(id, &query).await
            }
            (Method::GET, ["callback", "finish"]) => self.finish_callback(&query, &headers).await,
            (Method::GET, ["session"]) => self.session(&headers).await,
            (Method::GET, ["health"]) => self.health(),
            (Method::GET, ["jwks.json"]) => self.client_jwks(),
            (Method::GET, ["ready"]) => self.ready().await,
            (Method::POST, ["logout"]) => self.logout(&query, &headers).await,
            (Method::GET, ["error"]) => self.error_page(&query, &headers),
            #[cfg(feature = "ui")]
            (Method::GET, ["login"]) => self.login_page(&query, &headers).await,
            #[cfg(feature = "ui")]
            (Method::GET, ["admin"]) => self.admin_page(&headers, &path).await,
            #[cfg(feature = "ui")]
            (Method::GET, ["admin.js"]) => crate::ui::admin::script(),
            (Method::DELETE, ["admin", "users", user, "sessions"]) => {
                self.admin_end_sessions(user, &headers).await
            }
            (_, ["admin", rest @ ..]) => {
                let auth = self.authenticate(&headers).await;
                self.admin
                    .handle(req.method(), rest, &headers, req.body(), auth)
                    .await
            }
            (
                _,
                ["providers"]
                | ["providers", _, "authorize" | "callback"]
                | ["providers", _, "backchannel-logout" | "frontchannel-logout"]
                | ["session"]
                | ["health"]
                | ["jwks.json"]
                | ["ready"]
                | ["error"],
            )
            | (_, ["logout"]) => method_not_allowed(&headers),
            _ => not_found(&headers),
        }
    }

    /// The response mode of provider `id`'s spec, if there is such a provider.
    fn response_mode(&self, id: &str) -> Option<ResponseMode> {
        self.registry.providers().get(id).map(|s| s.response_mode)
    }

    /// `POST {prefix}/providers/{id}/callback`: the authorization response of a provider whose
    /// spec says `response_mode = "form_post"` (Sign in with Apple), in an
    /// `application/x-www-form-urlencoded` body of at most [`crate::flow::MAX_QUERY_BYTES`]. The
    /// browser sends it cross-site; the checks are the `GET` callback's. Any other provider
    /// refuses a `POST` (405), before anything is read or spent.
    async fn form_post_callback(
        &self,
        id: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Response<Bytes> {
        if self.response_mode(id) != Some(ResponseMode::FormPost) {
            tracing::debug!(
                provider = self.registry.label(id),
                "a POST to the callback of a provider that answers in the query: refused"
            );
            return method_not_allowed(headers);
        }
        let form_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let form = std::str::from_utf8(body).ok().filter(|_| form_type);
        match form {
            Some(form) if form.len() <= crate::flow::MAX_QUERY_BYTES => {
                self.callback(id, form, headers, ResponseMode::FormPost)
                    .await
            }
            _ => {
                let e = Error::new(
                    ErrorCode::InvalidState,
                    format!(
                        "provider `{id}`: the form_post callback's body is not a form of at most {} bytes",
                        crate::flow::MAX_QUERY_BYTES
                    ),
                );
                log_failure(id, &e);
                self.responses.error(headers, &e, &[])
            }
        }
    }

    /// `GET {prefix}/jwks.json`: the public key of the app's `private_key_jwt` client key, for
    /// providers that fetch the client's keys (an empty set without one).
    fn client_jwks(&self) -> Response<Bytes> {
        let keys: Vec<serde_json::Value> = self
            .flow
            .client_key
            .iter()
            .map(|k| k.public_jwk().clone())
            .collect();
        let mut r = json_response(StatusCode::OK, &serde_json::json!({ "keys": keys }));
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=300"),
        );
        r
    }

    async fn providers_list(&self) -> Response<Bytes> {
        match self.enabled_providers().await {
            Ok(list) => {
                let items: Vec<serde_json::Value> = list
                    .into_iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id,
                            "name": p.name,
                            "icon": p.icon,
                            "sort_order": p.sort_order,
                            "login_url": p.login_url,
                        })
                    })
                    .collect();
                json_response(StatusCode::OK, &serde_json::Value::Array(items))
            }
            Err(e) => crate::web::code_json(e.code()),
        }
    }

    /// The enabled providers, sorted for a login page.
    pub async fn enabled_providers(&self) -> Result<Vec<ProviderButton>, Error> {
        let base = format!("{}{}/providers/", self.flow.base_url, self.flow.prefix);
        self.registry
            .buttons(|id| format!("{base}{id}/authorize"))
            .await
    }

    async fn authorize(&self, id: &str, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        let opts = crate::flow::LoginOptions::from_query(query);
        let cookie = cookie_header(headers);
        let provider = self.registry.label(id);
        match self.flow.authorize(id, &opts, cookie.as_deref()).await {
            Ok(r) => {
                crate::observe::sign_in_started(provider);
                redirect(StatusCode::FOUND, &r.location, &r.cookies)
            }
            Err(e) => {
                crate::observe::sign_in_failed(provider, e.code().as_str(), None);
                log_failure(id, &e);
                self.responses.error(headers, &e, &[])
            }
        }
    }

    async fn session(&self, headers: &HeaderMap) -> Response<Bytes> {
        // A renewed (sliding) session cookie goes out with the answer, as on app routes.
        match self.sessions.check(headers).await {
            Ok(checked) => {
                let mut r = self.session_answer(&checked.auth);
                if let Some(c) = checked.set_cookie {
                    crate::web::add_cookies(&mut r, &[c]);
                }
                r
            }
            Err(e) => self.session_unavailable(headers, &e),
        }
    }

    fn session_answer(&self, auth: &crate::session::Auth) -> Response<Bytes> {
        {
            match auth.user() {
                Some(u) => json_response(
                    StatusCode::OK,
                    &serde_json::json!({
                        "id": u.id,
                        "email": u.email,
                        "email_verified": u.email_verified,
                        "name": u.name,
                        "given_name": u.given_name,
                        "family_name": u.family_name,
                        "picture": u.picture,
                        "username": u.username,
                        "groups": u.groups,
                        "is_admin": u.is_admin,
                        "provider": auth.provider(),
                        "auth_time": auth.sign_in().and_then(|s| s.auth_time),
                        "acr": auth.sign_in().and_then(|s| s.acr.as_deref()),
                        "amr": auth.sign_in().map(|s| s.amr.as_slice()),
                    }),
                ),
                None => error_json(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Not signed in.",
                ),
            }
        }
    }

    fn session_unavailable(&self, headers: &HeaderMap, e: &crate::error::Error) -> Response<Bytes> {
        let mut h = headers.clone();
        h.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        self.responses.error(&h, e, &[])
    }

    #[cfg(feature = "ui")]
    async fn login_page(&self, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        let error = query_param(query, "error");
        let return_to = query_param(query, "return_to");
        let lang = self.pages.language(headers);
        match self.enabled_providers().await {
            Ok(list) => html_response(
                StatusCode::OK,
                self.pages
                    .login(lang, &list, return_to.as_deref(), error.as_deref()),
            ),
            Err(e) => html_response(
                e.code().status(),
                self.pages.login(lang, &[], None, Some(e.code().as_str())),
            ),
        }
    }

    fn error_page(&self, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        let code = query_param(query, "error")
            .and_then(|c| ErrorCode::parse(&c))
            .unwrap_or(ErrorCode::Internal);
        #[cfg(feature = "ui")]
        let html = {
            let lang = self.pages.language(headers);
            self.pages.error(lang, code, &self.responses.login_url)
        };
        #[cfg(not(feature = "ui"))]
        let html = {
            let _ = headers;
            page(
                "Sign-in failed",
                &format!(
                    "<h1>Sign-in failed</h1><p class=\"error\">{}</p><p class=\"muted\">{}</p><p class=\"muted\">Error code: <code>{}</code></p><p><a class=\"button\" href=\"{}\">Back</a></p>",
                    crate::web::escape(code.message()),
                    crate::web::escape(code.advice()),
                    code.as_str(),
                    crate::web::escape(&self.responses.login_url),
                ),
            )
        };
        html_response(StatusCode::OK, html)
    }
}

pub(super) fn log_failure(provider: &str, e: &Error) {
    // Provider ids in the path are untrusted input: log only valid ones.
    let provider = if crate::config::is_valid_provider_id(provider) {
        provider
    } else {
        "<invalid id>"
    };
    tracing::warn!(target: "tower_oidc::audit", event = "sign_in_failed", provider, code = %e.code(), detail = %e.detail(), "sign-in failed");
}

fn not_found(headers: &HeaderMap) -> Response<Bytes> {
    if wants_json(headers) {
        json_response(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "not_found", "message": "No such auth route."}),
        )
    } else {
        html_response(
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>Not found</h1>"),
        )
    }
}

fn method_not_allowed(_headers: &HeaderMap) -> Response<Bytes> {
    json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({"error": "method_not_allowed", "message": "Method not allowed."}),
    )
}
