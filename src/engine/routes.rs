//! The auth routes (DESIGN.md §4).

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};

use super::OidcEngine;
use super::responses::{error, escape, html_response, json_response, redirect, wants_json};
use crate::error::{Error, ErrorCode};

fn query_param<'a>(query: &'a str, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A minimal, self-contained HTML page (no external resources).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}a.button,button{{display:block;width:100%;box-sizing:border-box;padding:.7rem 1rem;margin:.5rem 0;border:1px solid #888;border-radius:.4rem;background:#fff;font-size:1rem;text-align:left;text-decoration:none;color:inherit;cursor:pointer}}.error{{border-left:4px solid #c62828;background:#fdecea;padding:.6rem 1rem}}.muted{{color:#555}}</style></head><body>{}</body></html>",
        escape(title),
        body
    )
}

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
            (Method::GET, ["providers", id, "callback"]) => {
                self.callback(id, &query, &headers).await
            }
            (Method::GET, ["session"]) => self.session(&headers).await,
            (Method::POST, ["logout"]) => self.logout(&query, &headers).await,
            (Method::GET, ["error"]) => self.error_page(&query),
            #[cfg(feature = "ui")]
            (Method::GET, ["login"]) => self.login_page(&query).await,
            #[cfg(feature = "ui")]
            (Method::GET, ["admin"]) => self.admin_page(&headers, &path).await,
            #[cfg(feature = "ui")]
            (Method::GET, ["admin.js"]) => crate::ui::admin::script(),
            (_, ["admin", rest @ ..]) => self.admin(req.method(), rest, &headers, req.body()).await,
            (
                _,
                ["providers"]
                | ["providers", _, "authorize" | "callback"]
                | ["session"]
                | ["error"],
            )
            | (_, ["logout"]) => method_not_allowed(&headers),
            _ => not_found(&headers),
        }
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
            Err(e) => json_response(
                e.code().status(),
                &serde_json::json!({"error": e.code().as_str(), "message": e.code().message()}),
            ),
        }
    }

    /// The enabled providers, sorted for a login page.
    pub async fn enabled_providers(&self) -> Result<Vec<ProviderButton>, Error> {
        let mut out: Vec<ProviderButton> = self
            .flow
            .registry
            .all()
            .await?
            .into_iter()
            .filter(|(_, s)| s.enabled)
            .map(|(spec, s)| ProviderButton {
                login_url: format!(
                    "{}{}/providers/{}/authorize",
                    self.flow.base_url, self.flow.prefix, spec.id
                ),
                sort_order: s.sort_order.unwrap_or(spec.sort_order),
                icon: s.icon.clone().or(spec.icon.clone()),
                name: spec.name.clone(),
                id: spec.id.clone(),
            })
            .collect();
        out.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        Ok(out)
    }

    async fn authorize(&self, id: &str, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        let return_to = query_param(query, "return_to");
        let login_hint = query_param(query, "login_hint");
        let cookie = cookie_header(headers);
        match self
            .flow
            .authorize(
                id,
                return_to.as_deref(),
                login_hint.as_deref(),
                cookie.as_deref(),
            )
            .await
        {
            Ok(r) => redirect(StatusCode::FOUND, &r.location, &r.cookies),
            Err(e) => {
                log_failure(id, &e);
                error(self, headers, &e, Vec::new())
            }
        }
    }

    async fn callback(&self, id: &str, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        let cookie = cookie_header(headers);
        let old = self.session_id(headers);
        match self.flow.callback(id, query, cookie.as_deref(), old).await {
            Ok(done) => {
                tracing::info!(target: "tower_oidc::audit", event = "sign_in", provider = id, user = %done.user_id, resolution = ?done.resolution, "signed in");
                match done.resolution {
                    crate::identity::Resolution::Created => {
                        tracing::info!(target: "tower_oidc::audit", event = "user_created", provider = id, user = %done.user_id, "user created at first sign-in");
                    }
                    crate::identity::Resolution::Linked => {
                        tracing::info!(target: "tower_oidc::audit", event = "identity_linked", provider = id, user = %done.user_id, "identity linked to an existing user by email");
                    }
                    crate::identity::Resolution::Existing => {}
                }
                redirect(
                    StatusCode::SEE_OTHER,
                    &done.redirect.location,
                    &done.redirect.cookies,
                )
            }
            Err(fe) => {
                // A replayed callback from a browser that is already signed in (back button)
                // gets a harmless redirect, not a scary error.
                if fe.error.code() == ErrorCode::InvalidState
                    && !wants_json(headers)
                    && let Ok(auth) = self.authenticate(headers).await
                    && auth.is_signed_in()
                {
                    return redirect(StatusCode::SEE_OTHER, "/", &fe.cookies);
                }
                log_failure(id, &fe.error);
                error(self, headers, &fe.error, fe.cookies)
            }
        }
    }

    async fn session(&self, headers: &HeaderMap) -> Response<Bytes> {
        match self.authenticate(headers).await {
            Ok(auth) => match auth.user() {
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
                    }),
                ),
                None => json_response(
                    StatusCode::UNAUTHORIZED,
                    &serde_json::json!({"error": "unauthenticated", "message": "Not signed in."}),
                ),
            },
            Err(e) => {
                let mut h = headers.clone();
                h.insert(
                    http::header::ACCEPT,
                    http::HeaderValue::from_static("application/json"),
                );
                error(self, &h, &e, Vec::new())
            }
        }
    }

    async fn logout(&self, query: &str, headers: &HeaderMap) -> Response<Bytes> {
        // Logout is a POST; refuse one that another site's page sent (logout CSRF).
        if !self.same_origin(headers) {
            return json_response(
                StatusCode::FORBIDDEN,
                &serde_json::json!({"error": "forbidden", "message": "Cross-site sign-out refused."}),
            );
        }
        let mut end_session_url = None;
        if let Some(id) = self.session_id(headers) {
            let record = match self.flow.sessions.load(&id).await {
                Ok(r) => r,
                Err(e) => return error(self, headers, &e.into(), Vec::new()),
            };
            if let Err(e) = self.flow.sessions.delete(&id).await {
                return error(self, headers, &e.into(), Vec::new());
            }
            if let Some(rec) = record {
                tracing::info!(target: "tower_oidc::audit", event = "sign_out", provider = %rec.provider, user = %rec.user.id, "signed out");
                let wants_idp = matches!(
                    query_param(query, "end_session").as_deref(),
                    Some("1" | "true")
                );
                if wants_idp {
                    end_session_url = self.end_session_url(&rec).await;
                }
            }
        }
        let cookies = vec![self.flow.session_cookie.clear()];
        let after = format!("{}{}", self.flow.base_url, self.after_logout);
        if wants_json(headers) {
            let mut r = json_response(
                StatusCode::OK,
                &serde_json::json!({"signed_out": true, "redirect": end_session_url.as_deref().unwrap_or(&after)}),
            );
            super::responses::add_cookies(&mut r, &cookies);
            r
        } else {
            redirect(
                StatusCode::SEE_OTHER,
                end_session_url.as_deref().unwrap_or(&self.after_logout),
                &cookies,
            )
        }
    }

    async fn end_session_url(&self, rec: &crate::store::SessionRecord) -> Option<String> {
        let st = self.flow.registry.enabled(&rec.provider).await.ok()?;
        let active = self.flow.registry.active(&st).await.ok()?;
        let resolved = st.current();
        let endpoint = resolved
            .endpoints
            .end_session
            .clone()
            .or(active.end_session)?;
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

    pub(crate) fn same_origin(&self, headers: &HeaderMap) -> bool {
        if let Some(origin) = headers
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        {
            return origin == origin_of(&self.flow.base_url);
        }
        !matches!(
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
            Some("cross-site")
        )
    }

    #[cfg(feature = "ui")]
    async fn login_page(&self, query: &str) -> Response<Bytes> {
        let error = query_param(query, "error");
        let return_to = query_param(query, "return_to");
        match self.enabled_providers().await {
            Ok(list) => html_response(
                StatusCode::OK,
                crate::ui::login_page(&list, return_to.as_deref(), error.as_deref()),
            ),
            Err(e) => html_response(
                e.code().status(),
                crate::ui::login_page(&[], None, Some(e.code().as_str())),
            ),
        }
    }

    fn error_page(&self, query: &str) -> Response<Bytes> {
        let code = query_param(query, "error")
            .and_then(|c| ErrorCode::parse(&c))
            .unwrap_or(ErrorCode::Internal);
        let body = format!(
            "<h1>Sign-in failed</h1><p class=\"error\">{}</p><p class=\"muted\">{}</p><p class=\"muted\">Error code: <code>{}</code></p><p><a class=\"button\" href=\"{}\">Back</a></p>",
            escape(code.message()),
            escape(code.advice()),
            code.as_str(),
            escape(&self.login_url()),
        );
        html_response(StatusCode::OK, page("Sign-in failed", &body))
    }
}

/// One entry of the login page's provider list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderButton {
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Icon name.
    pub icon: Option<String>,
    /// Sort order.
    pub sort_order: i32,
    /// Where the button goes.
    pub login_url: String,
}

fn origin_of(base: &str) -> String {
    match url::Url::parse(base) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => String::new(),
    }
}

fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let all: Vec<&str> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if all.is_empty() {
        None
    } else {
        Some(all.join("; "))
    }
}

fn log_failure(provider: &str, e: &Error) {
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
