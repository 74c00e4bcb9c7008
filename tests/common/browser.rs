//! A browser-like HTTP client, and what tests read from the responses it gets.

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, SET_COOKIE};

pub const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const JSON: &str = "application/json";

/// A browser: keeps cookies, does not follow redirects (the tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client without a cookie jar (the test sends the `Cookie` header itself) that does not
/// follow redirects.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `GET url` from a browser that holds only `cookie` (`name=value; …`), without following a
/// redirect.
pub async fn get_with_cookie(url: &str, cookie: &str) -> reqwest::Response {
    bare_client()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// A response's `Location` (which must be text, if there is one).
pub fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("a Location in visible ASCII").to_owned())
}

/// A response's `Set-Cookie` headers.
pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            v.to_str()
                .expect("a Set-Cookie in visible ASCII")
                .to_owned()
        })
        .collect()
}

/// The `name=value` pair of the cookie `name` among `Set-Cookie` headers, if set to a non-empty
/// value.
pub fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let pair = c.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        (n == name && !v.is_empty()).then(|| pair.to_owned())
    })
}

/// The `name=value` of the transaction cookie an authorize response set.
pub fn tx_cookie(r: &reqwest::Response) -> String {
    cookie_pair(&set_cookies(r), "tower_oidc_tx").expect("a transaction cookie")
}

/// The `name=value` of the session cookie a response set, if it set one.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    cookie_pair(&set_cookies(r), "tower_oidc_session")
}

/// The value of a query parameter in a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Replaces a query parameter in a URL (`None` removes it).
pub fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair(name, v);
        }
    }
    u.to_string()
}

/// `value` percent-encoded for a query string.
pub fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A response, read.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// `GET url` with an `Accept` header, read.
pub async fn get(client: &reqwest::Client, url: &str, accept: &str) -> Got {
    let r = client
        .get(url)
        .header(ACCEPT, accept)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let location = location(&r);
    let content_type = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    Got {
        status,
        location,
        content_type,
        body,
    }
}

/// `GET url` (no `Accept`), its body as text.
pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    let r = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    r.text().await.unwrap()
}

/// `GET url` (no `Accept`), its body as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let text = get_text(client, url).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
}
