//! A sign-in driven by hand, one step at a time: the app's authorize route, the provider (which
//! signs the `login_hint` user in at once), the app's callback. Then the session and logout.

use reqwest::header::ACCEPT;

use crate::common::app::App;
use crate::common::browser::{bare_client, location, set_cookies};

/// The outcome of driving a sign-in: the callback's answer.
#[derive(Debug)]
pub struct Outcome {
    /// Status of the callback response.
    pub status: u16,
    /// Its `Location`.
    pub location: Option<String>,
    /// Its `Set-Cookie` headers.
    pub set_cookies: Vec<String>,
    /// The callback URL the provider redirected to.
    pub callback_url: String,
}

impl Outcome {
    /// The `error` code the browser was sent to, if any.
    pub fn error_code(&self) -> Option<String> {
        let loc = self.location.as_deref()?;
        let u = url::Url::parse(&format!("http://x{}", loc))
            .or_else(|_| url::Url::parse(loc))
            .ok()?;
        u.query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
    }

    /// Whether an authenticated session cookie was set, under the http name or the https one
    /// (`__Host-tower_oidc_session`); a cookie set to the empty value (cleared) is not one.
    pub fn set_session(&self) -> bool {
        self.set_cookies.iter().any(|c| {
            let c = c.strip_prefix("__Host-").unwrap_or(c);
            c.starts_with("tower_oidc_session=") && !c.starts_with("tower_oidc_session=;")
        })
    }
}

/// `GET` the app's authorize route with `query` (`""` or `?…`) in browser `c`: the raw answer
/// (its redirect to the provider, its transaction cookie).
pub async fn authorize(app: &App, c: &reqwest::Client, query: &str) -> reqwest::Response {
    c.get(app.authorize_url(query)).send().await.unwrap()
}

/// `GET` the app's authorize route with `query` as an API client (`Accept: application/json`),
/// which gets errors as JSON instead of a redirect.
pub async fn authorize_as_api(app: &App, query: &str) -> reqwest::Response {
    app.client
        .get(app.authorize_url(query))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
}

/// The provider's leg: follows an authorize answer's redirect in browser `c`; returns the
/// callback URL the provider sends the browser back to (not yet visited).
pub async fn to_callback(c: &reqwest::Client, authorize: &reqwest::Response) -> String {
    let to_idp = location(authorize).expect("the authorize answer redirects");
    let r = c.get(&to_idp).send().await.unwrap();
    provider_answer(r).await
}

/// Marks a callback "URL" whose query is really a form_post body (Sign in with Apple): the
/// provider's page POSTs it, and [`finish_in`] does the same.
pub const FORM_POST: &str = "#form_post";

/// Where the provider's answer sends the browser: its redirect's `Location`, or for a
/// form_post page (an auto-submitting form) `{action}?{fields}` + [`FORM_POST`].
pub async fn provider_answer(r: reqwest::Response) -> String {
    if let Some(l) = location(&r) {
        return l;
    }
    let status = r.status();
    let html = r.text().await.unwrap();
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(unescape(&tag[start..start + tag[start..].find('"')?]))
    };
    let form = html
        .split("<form")
        .nth(1)
        .unwrap_or_else(|| panic!("the provider answered {status} without a redirect: {html}"));
    let action = attr(form, "action").expect("the form_post form has an action");
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for input in form.split("<input").skip(1) {
        q.append_pair(
            &attr(input, "name").unwrap(),
            &attr(input, "value").unwrap(),
        );
    }
    format!("{action}?{}{FORM_POST}", q.finish())
}

/// Starts a sign-in in browser `c` and follows the provider's redirect; returns the callback URL
/// (not yet visited) and the authorize redirect.
pub async fn start_in(app: &App, c: &reqwest::Client, query: &str) -> (String, String) {
    let r = authorize(app, c, query).await;
    assert_eq!(r.status(), 302, "authorize: {:?}", r.text().await);
    let to_idp = location(&r).unwrap();
    let r = c.get(&to_idp).send().await.unwrap();
    (provider_answer(r).await, to_idp)
}

/// [`start_in`] with the app's own browser.
pub async fn start(app: &App, query: &str) -> (String, String) {
    start_in(app, &app.client, query).await
}

/// Visits a callback URL in browser `c`; a form_post callback's hand-off to
/// `{prefix}/callback/finish` is followed as a browser follows it, and the outcome is the two
/// answers' (their cookies, the last one's status and `Location`).
pub async fn finish_in(c: &reqwest::Client, callback_url: &str) -> Outcome {
    let r = match callback_url.strip_suffix(FORM_POST) {
        Some(u) => {
            let (to, form) = u.split_once('?').unwrap_or((u, ""));
            c.post(to)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_owned())
                .send()
                .await
                .unwrap()
        }
        None => c.get(callback_url).send().await.unwrap(),
    };
    let mut out = Outcome {
        status: r.status().as_u16(),
        location: location(&r),
        set_cookies: set_cookies(&r),
        callback_url: callback_url.to_owned(),
    };
    if let Some(finish) = out
        .location
        .clone()
        .filter(|l| l.contains("/callback/finish?"))
    {
        let base = url::Url::parse(callback_url.trim_end_matches(FORM_POST)).unwrap();
        let r = c.get(base.join(&finish).unwrap()).send().await.unwrap();
        out.status = r.status().as_u16();
        out.location = location(&r);
        out.set_cookies.extend(set_cookies(&r));
    }
    out
}

/// Visits a callback URL with the app's own browser.
pub async fn finish(app: &App, callback_url: &str) -> Outcome {
    finish_in(&app.client, callback_url).await
}

/// A whole sign-in as `login_hint` with the app's own browser.
pub async fn sign_in(app: &App, login_hint: &str) -> Outcome {
    let (cb, _) = start(app, &format!("?login_hint={login_hint}")).await;
    finish(app, &cb).await
}

/// A whole sign-in as `login_hint` in browser `c`: the callback's status and `Location`, or the
/// authorize step's when it does not send the browser to the provider (a disabled provider).
pub async fn sign_in_with(app: &App, c: &reqwest::Client, login_hint: &str) -> (u16, String) {
    let r = authorize(app, c, &format!("?login_hint={login_hint}")).await;
    let to = location(&r).unwrap_or_default();
    if r.status() != 302 || !to.starts_with("http") {
        return (r.status().as_u16(), to);
    }
    let out = finish_in(c, &to_callback(c, &r).await).await;
    (out.status, out.location.unwrap_or_default())
}

/// `GET /api/auth/session` in browser `c` of the app at `app_url`, as an API client:
/// (status, JSON or `null`).
pub async fn session_in(c: &reqwest::Client, app_url: &str) -> (u16, serde_json::Value) {
    read_session(c.get(format!("{app_url}/api/auth/session"))).await
}

/// `GET /api/auth/session` with the app's own browser: (status, JSON).
pub async fn session(app: &App) -> (u16, serde_json::Value) {
    session_in(&app.client, &app.url).await
}

/// `GET /api/auth/session` of the app at `app_url` sending only `cookie` (`name=value; …`):
/// (status, JSON or `null`).
pub async fn session_with_cookie(app_url: &str, cookie: &str) -> (u16, serde_json::Value) {
    let req = bare_client()
        .get(format!("{app_url}/api/auth/session"))
        .header("cookie", cookie);
    read_session(req).await
}

async fn read_session(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let r = req.header(ACCEPT, "application/json").send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// `POST /api/auth/logout{query}` with the app's own browser.
pub async fn logout(app: &App, query: &str) -> reqwest::Response {
    app.client
        .post(app.at(&format!("/api/auth/logout{query}")))
        .send()
        .await
        .unwrap()
}
