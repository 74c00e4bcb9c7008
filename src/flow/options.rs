//! What a sign-in may ask of the provider besides the user: a login hint, and step-up —
//! `max_age` (re-authenticate if the last authentication is older), `prompt` and `acr_values`
//! (OpenID Connect Core 3.1.2.1).

use std::time::Duration;

/// Longest `login_hint` / `acr_values` passed on.
const MAX_PARAM: usize = 256;

/// Longest `max_age` accepted (a year).
const MAX_MAX_AGE: u64 = 365 * 24 * 3600;

/// `prompt` values passed on to the provider.
const PROMPTS: &[&str] = &["login", "consent", "select_account", "none"];

/// Options of one sign-in: what the authorize route reads from its query, and what
/// [`OidcEngine::login_url_with`](crate::OidcEngine::login_url_with) writes into it.
///
/// ```
/// use std::time::Duration;
/// use tower_oidc::flow::LoginOptions;
/// let step_up = LoginOptions::default()
///     .return_to("/billing")
///     .max_age(Duration::from_secs(300))
///     .prompt("login");
/// assert_eq!(step_up.max_age_secs(), Some(300));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginOptions {
    pub(crate) return_to: Option<String>,
    pub(crate) login_hint: Option<String>,
    pub(crate) max_age: Option<u64>,
    pub(crate) prompt: Option<String>,
    pub(crate) acr_values: Option<String>,
}

impl LoginOptions {
    /// Where to go after signing in (a same-origin path; anything else becomes `/`).
    pub fn return_to(mut self, path: impl Into<String>) -> Self {
        self.return_to = Some(path.into());
        self
    }

    /// A hint of who is signing in (an email or username), passed on as `login_hint`.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into()).filter(|h: &String| valid_param(h));
        self
    }

    /// Ask the provider to re-authenticate the user unless they did within `max_age`; the ID
    /// token must then carry `auth_time`, and a sign-in older than that is refused.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age.as_secs().min(MAX_MAX_AGE));
        self
    }

    /// `prompt`: `login` (always re-authenticate), `consent`, `select_account` or `none`;
    /// other values are ignored.
    pub fn prompt(mut self, prompt: &str) -> Self {
        self.prompt = PROMPTS.contains(&prompt).then(|| prompt.to_owned());
        self
    }

    /// `acr_values`: the authentication context classes asked for, space-separated.
    pub fn acr_values(mut self, acr: impl Into<String>) -> Self {
        self.acr_values = Some(acr.into()).filter(|a: &String| valid_param(a));
        self
    }

    /// The `max_age` asked for, in seconds.
    pub fn max_age_secs(&self) -> Option<u64> {
        self.max_age
    }

    /// The options an authorize request's query asks for; malformed values are dropped.
    pub(crate) fn from_query(query: &str) -> Self {
        let mut o = LoginOptions::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "return_to" if o.return_to.is_none() => o.return_to = Some(v.into_owned()),
                "login_hint" if o.login_hint.is_none() => o = o.login_hint(v.into_owned()),
                "max_age" if o.max_age.is_none() => {
                    if let Ok(secs) = v.parse::<u64>() {
                        o = o.max_age(Duration::from_secs(secs));
                    }
                }
                "prompt" if o.prompt.is_none() => o = o.prompt(&v),
                "acr_values" if o.acr_values.is_none() => o = o.acr_values(v.into_owned()),
                _ => {}
            }
        }
        o
    }

    /// The query string of these options (without `?`).
    pub(crate) fn to_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &self.return_to {
            q.append_pair("return_to", v);
        }
        if let Some(v) = &self.login_hint {
            q.append_pair("login_hint", v);
        }
        if let Some(v) = self.max_age {
            q.append_pair("max_age", &v.to_string());
        }
        if let Some(v) = &self.prompt {
            q.append_pair("prompt", v);
        }
        if let Some(v) = &self.acr_values {
            q.append_pair("acr_values", v);
        }
        q.finish()
    }
}

fn valid_param(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_PARAM && !v.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip_and_bounds() {
        let o = LoginOptions::from_query(
            "return_to=%2Fa&login_hint=alice&max_age=60&prompt=login&acr_values=gold%20silver&x=1",
        );
        assert_eq!(o.return_to.as_deref(), Some("/a"));
        assert_eq!(o.max_age, Some(60));
        assert_eq!(o.prompt.as_deref(), Some("login"));
        assert_eq!(o.acr_values.as_deref(), Some("gold silver"));
        assert_eq!(LoginOptions::from_query(&o.to_query()), o);
        let bad = LoginOptions::from_query("max_age=-1&prompt=evil&login_hint=&acr_values=%0A");
        assert_eq!(bad, LoginOptions::default());
        assert_eq!(
            LoginOptions::from_query("max_age=99999999999").max_age,
            Some(MAX_MAX_AGE)
        );
    }
}
