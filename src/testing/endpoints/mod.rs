//! The wiremock responder: parses each request, records it, applies faults and routes it.

mod assertion;
mod authorize;
mod discovery;
mod end_session;
mod introspect;
mod par;
mod revoke;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use super::record::{Endpoint, RecordedRequest, last};
use super::state::Inner;
use super::switches::Fault;

/// The one catch-all responder mounted on the mock server.
pub(crate) struct Responder(pub(crate) Arc<Inner>);

/// A request, decoded once.
pub(crate) struct Req {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The raw query string, `None` when the URL has no `?`.
    pub(crate) raw_query: Option<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) form: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Req {
    pub(crate) fn from_wiremock(r: &Request) -> Self {
        let query = r.url.query_pairs().into_owned().collect();
        let headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let is_form = headers.iter().any(|(k, v)| {
            k == "content-type" && v.starts_with("application/x-www-form-urlencoded")
        });
        let form = if is_form {
            url::form_urlencoded::parse(&r.body).into_owned().collect()
        } else {
            Vec::new()
        };
        Self {
            method: r.method.as_str().to_owned(),
            path: r.url.path().to_owned(),
            raw_query: r.url.query().map(str::to_owned),
            query,
            form,
            headers,
        }
    }

    /// Query parameter, last value wins (Django `QueryDict.get`).
    pub(crate) fn q(&self, name: &str) -> Option<&str> {
        last(&self.query, name)
    }

    /// Form parameter, last value wins.
    pub(crate) fn f(&self, name: &str) -> Option<&str> {
        last(&self.form, name)
    }

    /// First header value (names are lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response under construction; converted to wiremock's template without any panicking path.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `JsonResponse`: compact unless `pretty` (discovery uses `indent=2`).
    pub(crate) fn json(status: u16, v: &Value, pretty: bool) -> Self {
        let body = if pretty {
            serde_json::to_vec_pretty(v)
        } else {
            serde_json::to_vec(v)
        };
        match body {
            Ok(body) => Self::empty(status)
                .header("content-type", "application/json")
                .body(body),
            Err(e) => Self::server_error(&format!("serialising JSON: {e}")),
        }
    }

    /// An HTML page with this title and (already escaped) body markup.
    pub(crate) fn html(status: u16, title: &str, inner: &str) -> Self {
        let title = escape(title);
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - authentik</title></head>\n<body><h1>{title}</h1>\n{inner}\n</body></html>\n"
        );
        Self::empty(status)
            .header("content-type", "text/html; charset=utf-8")
            .body(page.into_bytes())
    }

    /// `HttpResponseRedirect`: Django runs the location through `iri_to_uri`, which
    /// percent-encodes spaces, quotes, non-ASCII and the like but keeps `&`, `=`, `?`, `%`.
    pub(crate) fn redirect(location: &str) -> Self {
        Self::empty(302).header("location", iri_to_uri(location))
    }

    pub(crate) fn server_error(msg: &str) -> Self {
        tracing::error!(message = msg, "FakeAuthentik internal error");
        Self::empty(500)
            .header("content-type", "text/plain; charset=utf-8")
            .body(format!("FakeAuthentik internal error: {msg}").into_bytes())
    }

    pub(crate) fn not_found() -> Self {
        Self::html(
            404,
            "Not Found",
            "<p>The requested resource was not found on this server.</p>",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::empty(405)
    }

    /// The answer to a request whose method is not in `allowed`: `{}` to a CORS preflight
    /// (`OPTIONS`), 405 to anything else. `None` when the method is allowed.
    pub(crate) fn refuse_method(req: &Req, allowed: &[&str]) -> Option<Self> {
        if allowed.contains(&req.method.as_str()) {
            None
        } else if req.method == "OPTIONS" {
            Some(Self::json(200, &Value::Object(Default::default()), false))
        } else {
            Some(Self::method_not_allowed())
        }
    }

    pub(crate) fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn into_template(self, delay: Option<Duration>) -> ResponseTemplate {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut t = ResponseTemplate::new(status);
        for (k, v) in self.headers {
            let Ok(name) = HeaderName::try_from(k.as_str()) else {
                tracing::warn!(header = k, "FakeAuthentik: dropping invalid header name");
                continue;
            };
            let value = HeaderValue::try_from(v.as_str())
                .or_else(|_| HeaderValue::try_from(escape_header(&v)));
            match value {
                Ok(value) => t = t.append_header(name, value),
                Err(_) => {
                    tracing::warn!(header = k, "FakeAuthentik: dropping invalid header value")
                }
            }
        }
        t = t.set_body_bytes(self.body);
        if let Some(d) = delay {
            t = t.set_delay(d);
        }
        t
    }
}

/// Django's `iri_to_uri`: `quote(iri, safe="/#%[]=:;$&()+,!?*@'~")`.
fn iri_to_uri(iri: &str) -> String {
    iri.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-/#%[]=:;$&()+,!?*@'~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Percent-encodes bytes that may not appear in a header value (Django's `iri_to_uri` does the
/// same for `Location`).
fn escape_header(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if (0x21..0x7f).contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// HTML-escapes text.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The endpoint a path belongs to; `None` for a path the fake answers with 404.
fn route(path: &str, slug: &str) -> Option<Endpoint> {
    match path {
        "/application/o/authorize/" => return Some(Endpoint::Authorize),
        "/application/o/token/" => return Some(Endpoint::Token),
        "/application/o/userinfo/" => return Some(Endpoint::Userinfo),
        "/application/o/revoke/" => return Some(Endpoint::Revoke),
        "/application/o/introspect/" => return Some(Endpoint::Introspect),
        "/application/o/par/" => return Some(Endpoint::Par),
        "/attacker/jwks/" => return Some(Endpoint::AttackerJwks),
        end_session::LOGIN_FLOW_PATH => return Some(Endpoint::LoginFlow),
        _ => {}
    }
    if path == format!("/.well-known/oauth-authorization-server/application/o/{slug}/") {
        return Some(Endpoint::Discovery);
    }
    let rest = path
        .strip_prefix("/application/o/")
        .and_then(|r| r.strip_prefix(slug))?;
    match rest {
        "/" => Some(Endpoint::ProviderRoot),
        "/jwks/" => Some(Endpoint::Jwks),
        "/.well-known/openid-configuration" => Some(Endpoint::Discovery),
        "/end-session/" => Some(Endpoint::EndSession),
        _ => None,
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let inner = &self.0;
        let req = Req::from_wiremock(request);
        let endpoint = route(&req.path, &inner.cfg.slug);
        let fault = {
            let mut st = inner.lock();
            st.log
                .push(RecordedRequest::of(&req, &request.body, endpoint));
            endpoint.and_then(|e| st.faults.get(&e).cloned())
        };
        let mut delay = None;
        match fault {
            None => {}
            Some(Fault::Delay(d)) => delay = Some(d),
            Some(Fault::Status(s)) => return Reply::empty(s).into_template(None),
            Some(Fault::Body {
                status,
                content_type,
                body,
            }) => {
                return Reply::empty(status)
                    .header("content-type", content_type)
                    .body(body)
                    .into_template(None);
            }
            Some(Fault::Oversize(n)) => {
                let prefix = b"{\"padding\":\"";
                let suffix = b"\"}";
                let fill = n.saturating_sub(prefix.len() + suffix.len());
                let mut body = Vec::with_capacity(n.max(prefix.len() + suffix.len()));
                body.extend_from_slice(prefix);
                body.resize(prefix.len() + fill, b'a');
                body.extend_from_slice(suffix);
                return Reply::empty(200)
                    .header("content-type", "application/json")
                    .body(body)
                    .into_template(None);
            }
        }
        let reply = match endpoint {
            Some(Endpoint::Authorize) if req.q("request_uri").is_some() => {
                match par::take(inner, &req) {
                    Ok(pushed) => authorize::handle(inner, &pushed),
                    Err(reply) => reply,
                }
            }
            Some(Endpoint::Authorize) => authorize::handle(inner, &req),
            Some(Endpoint::Token) => token::handle(inner, &req),
            Some(Endpoint::Userinfo) => userinfo::handle(inner, &req),
            Some(Endpoint::Revoke) => revoke::handle(inner, &req),
            Some(Endpoint::Introspect) => introspect::handle(inner, &req),
            Some(Endpoint::Par) => par::handle(inner, &req),
            Some(Endpoint::Jwks) => discovery::jwks(inner, &req),
            Some(Endpoint::Discovery) => discovery::discovery(inner, &req),
            Some(Endpoint::ProviderRoot) => discovery::provider_root(inner),
            Some(Endpoint::EndSession) => end_session::handle(inner, &req),
            Some(Endpoint::LoginFlow) => end_session::login_flow(&req),
            Some(Endpoint::AttackerJwks) => discovery::attacker_jwks(inner),
            None | Some(Endpoint::UserApi) => Reply::not_found(),
        };
        reply.into_template(delay)
    }
}
