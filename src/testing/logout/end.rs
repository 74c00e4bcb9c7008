//! Ending Authentik sessions, and what the end-session endpoint does for a signed-in browser.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::deliver::{self, Notice};
use super::{LogoutMethod, LogoutReport};
use crate::testing::state::{Inner, LiveSession, State};

/// Deletes the live sessions `which` selects, with their access tokens, and notifies the app as
/// Authentik's session-deletion signal does: the back-channel POSTs are awaited (first attempts),
/// the front-channel iframe URLs returned.
pub(crate) async fn end_sessions(
    inner: &Arc<Inner>,
    which: impl Fn(&LiveSession) -> bool,
) -> LogoutReport {
    let (ended, notices, frontchannel_urls) = {
        let mut st = inner.lock();
        let now = Instant::now();
        let (ended, kept): (Vec<LiveSession>, Vec<LiveSession>) = std::mem::take(&mut st.sessions)
            .into_iter()
            .partition(which);
        st.sessions = kept;
        let target = st.logout.clone().filter(|(uri, _)| !uri.is_empty());
        let mut notices = Vec::new();
        let mut urls = Vec::new();
        for s in &ended {
            let live_tokens = live_access_tokens(&st, &s.sid, now);
            match &target {
                Some((_, LogoutMethod::Backchannel)) => {
                    let sub = sub_of(inner, &st, s.user_pk);
                    notices.extend((0..live_tokens).map(|_| Notice {
                        sid: s.sid.clone(),
                        sub: sub.clone(),
                    }));
                }
                Some((uri, LogoutMethod::Frontchannel)) if live_tokens > 0 => {
                    urls.push(frontchannel_url(uri, &inner.issuer(), &s.sid));
                }
                _ => {}
            }
        }
        let sids: HashSet<&str> = ended.iter().map(|s| s.sid.as_str()).collect();
        st.access.retain(|_, g| !sids.contains(g.sid.as_str()));
        forget_signed_out_browsers(&mut st, &ended);
        let ended: Vec<String> = ended.into_iter().map(|s| s.sid).collect();
        (ended, notices, urls)
    };
    LogoutReport {
        ended_sessions: ended,
        deliveries: deliver::deliver_all(inner, notices).await,
        frontchannel_urls,
    }
}

/// How many unexpired access tokens session `sid` holds.
fn live_access_tokens(st: &State, sid: &str, now: Instant) -> usize {
    st.access
        .values()
        .filter(|g| g.sid == sid && g.expires > now)
        .count()
}

/// The `sub` of the user's ID tokens (empty if the user was removed since).
fn sub_of(inner: &Inner, st: &State, user_pk: u64) -> String {
    st.user(user_pk).map(|u| inner.sub(u)).unwrap_or_default()
}

/// A browser none of whose sessions is left no longer has an Authentik session.
fn forget_signed_out_browsers(st: &mut State, ended: &[LiveSession]) {
    for s in ended {
        if !st.sessions.iter().any(|l| l.browser == s.browser) {
            st.browser_sessions.remove(&s.browser);
        }
    }
}

/// What end-session (RP-initiated logout, Authentik 2026.5) does for the browser holding the
/// `authentik_session` cookie `browser`, per session of that browser: for the back-channel
/// method it sends a logout token for the session's oldest unexpired access token and deletes
/// that token; for the front-channel method it returns the iframe URL its page loads. The
/// Authentik session itself stays: the default provider invalidation flow has no *User Logout*
/// stage.
pub(crate) fn end_session_endpoint(inner: &Arc<Inner>, browser: &str) -> Vec<String> {
    let (notices, urls) = {
        let mut st = inner.lock();
        let now = Instant::now();
        let target = st.logout.clone().filter(|(uri, _)| !uri.is_empty());
        let sessions: Vec<(String, u64)> = st
            .sessions
            .iter()
            .filter(|s| s.browser == browser)
            .map(|s| (s.sid.clone(), s.user_pk))
            .collect();
        let mut notices = Vec::new();
        let mut urls = Vec::new();
        for (sid, user_pk) in sessions {
            match &target {
                Some((_, LogoutMethod::Backchannel)) => {
                    let oldest = st
                        .access
                        .iter()
                        .filter(|(_, g)| g.sid == sid && g.expires > now)
                        .min_by_key(|(_, g)| g.serial)
                        .map(|(t, _)| t.clone());
                    if let Some(token) = oldest {
                        st.access.remove(&token);
                        let sub = sub_of(inner, &st, user_pk);
                        notices.push(Notice { sid, sub });
                    }
                }
                Some((uri, LogoutMethod::Frontchannel)) => {
                    urls.push(frontchannel_url(uri, &inner.issuer(), &sid));
                }
                None => {}
            }
        }
        (notices, urls)
    };
    deliver::spawn_all(inner, notices);
    urls
}

/// Authentik's `build_frontchannel_logout_url`: `iss` and `sid` first, then the logout URI's
/// own query parameters (but `iss`/`sid`), `urlencode`d; path and fragment kept.
fn frontchannel_url(logout_uri: &str, issuer: &str, sid: &str) -> String {
    let (rest, fragment) = match logout_uri.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (logout_uri, None),
    };
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    // `parse_qs(keep_blank_values=True)`: values grouped under each name's first position.
    let mut existing: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()).into_owned() {
        match existing.iter_mut().find(|(name, _)| *name == k) {
            Some((_, values)) => values.push(v),
            None => existing.push((k, vec![v])),
        }
    }
    let mut pairs = vec![
        ("iss".to_owned(), issuer.to_owned()),
        ("sid".to_owned(), sid.to_owned()),
    ];
    for (k, values) in existing {
        if k == "iss" || k == "sid" {
            continue;
        }
        let value = match values.as_slice() {
            [one] => one.clone(),
            // Python's `str(list)`: `urlencode` without `doseq` stringifies a list.
            many => format!(
                "[{}]",
                many.iter()
                    .map(|v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        pairs.push((k, value));
    }
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut url = format!("{base}?{query}");
    if let Some(f) = fragment {
        url.push('#');
        url.push_str(f);
    }
    url
}

/// Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` kept, space as `+`.
fn quote_plus(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "http://127.0.0.1:1/application/o/app/";

    #[test]
    fn frontchannel_url_puts_iss_and_sid_first_and_keeps_the_rest() {
        assert_eq!(
            frontchannel_url("https://app.example/fc", ISS, "ab"),
            "https://app.example/fc?iss=http%3A%2F%2F127.0.0.1%3A1%2Fapplication%2Fo%2Fapp%2F&sid=ab"
        );
        assert_eq!(
            frontchannel_url("https://app.example/fc?x=1&sid=old&e=#top", ISS, "ab"),
            "https://app.example/fc?iss=http%3A%2F%2F127.0.0.1%3A1%2Fapplication%2Fo%2Fapp%2F&sid=ab&x=1&e=#top"
        );
        // Python's urlencode of a repeated parameter: the list's repr.
        assert!(
            frontchannel_url("https://app.example/fc?x=1&x=2", ISS, "ab")
                .ends_with("&x=%5B%271%27%2C+%272%27%5D")
        );
    }

    #[test]
    fn quote_plus_is_pythons() {
        assert_eq!(quote_plus("a b~c*d/é"), "a+b~c%2Ad%2F%C3%A9");
    }

    #[test]
    fn default_retry_schedule_is_authentiks() {
        let secs: Vec<u64> = super::super::DEFAULT_RETRY_DELAYS
            .iter()
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(secs, [15, 30, 60, 120, 240]);
    }
}
