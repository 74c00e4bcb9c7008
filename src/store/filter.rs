//! [`SessionFilter`]: which sessions a store finds or ends (logout everywhere, back- and
//! front-channel logout, an admin ending a user's sessions).

use super::{SessionRecord, UserId};

/// Which sessions [`SessionStore::find_sessions`] and [`SessionStore::end_sessions`] select.
///
/// Every backend of this crate keeps an index per kind, so finding or ending the sessions of
/// one user or one provider session costs what that handful of sessions costs, not a scan.
///
/// ```
/// use tower_oidc::store::{SessionFilter, SessionRecord, User, UserId, NewUser};
/// let user = User::from_new(UserId("u1".into()), NewUser::default());
/// let record = SessionRecord::new(user, "authentik", u64::MAX);
/// assert!(SessionFilter::User(UserId("u1".into())).matches(&record));
/// assert!(!SessionFilter::User(UserId("u2".into())).matches(&record));
/// ```
///
/// [`SessionStore::find_sessions`]: super::SessionStore::find_sessions
/// [`SessionStore::end_sessions`]: super::SessionStore::end_sessions
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionFilter {
    /// Every session of one user (sign out everywhere, an admin ending a user's sessions).
    User(UserId),
    /// The sessions started from one provider session: provider id, issuer and the ID token's
    /// `sid` (back- and front-channel logout with a `sid`).
    IdpSession {
        /// The provider id (as in `providers.toml`).
        provider: String,
        /// The issuer, verbatim.
        issuer: String,
        /// The provider's session id.
        sid: String,
    },
    /// Every session of one provider account: provider id, issuer and `sub` (back-channel
    /// logout with only a `sub`).
    IdpSubject {
        /// The provider id (as in `providers.toml`).
        provider: String,
        /// The issuer, verbatim.
        issuer: String,
        /// The subject at the provider.
        subject: String,
    },
}

impl SessionFilter {
    /// Whether `record` is one of the sessions this filter selects.
    pub fn matches(&self, record: &SessionRecord) -> bool {
        match self {
            SessionFilter::User(id) => record.user.id == *id,
            SessionFilter::IdpSession {
                provider,
                issuer,
                sid,
            } => {
                record.provider == *provider
                    && record.idp.as_ref().is_some_and(|idp| {
                        idp.issuer == *issuer && idp.sid.as_deref() == Some(sid.as_str())
                    })
            }
            SessionFilter::IdpSubject {
                provider,
                issuer,
                subject,
            } => {
                record.provider == *provider
                    && record
                        .idp
                        .as_ref()
                        .is_some_and(|idp| idp.issuer == *issuer && idp.subject == *subject)
            }
        }
    }

    /// The filters that select `record`: its user, and with a provider session its subject and
    /// (when the provider sent one) its `sid`. The backends index a session under each.
    pub fn all_for(record: &SessionRecord) -> Vec<SessionFilter> {
        let mut out = vec![SessionFilter::User(record.user.id.clone())];
        if let Some(idp) = &record.idp {
            out.push(SessionFilter::IdpSubject {
                provider: record.provider.clone(),
                issuer: idp.issuer.clone(),
                subject: idp.subject.clone(),
            });
            if let Some(sid) = &idp.sid {
                out.push(SessionFilter::IdpSession {
                    provider: record.provider.clone(),
                    issuer: idp.issuer.clone(),
                    sid: sid.clone(),
                });
            }
        }
        out
    }

    /// A stable key naming this filter's index: the kind, then each part length-prefixed (so no
    /// choice of values makes two filters collide). Backends hash it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn index_key(&self) -> String {
        fn part(out: &mut String, s: &str) {
            out.push_str(&s.len().to_string());
            out.push(':');
            out.push_str(s);
        }
        let mut out = String::new();
        match self {
            SessionFilter::User(id) => {
                out.push_str("user|");
                part(&mut out, &id.0);
            }
            SessionFilter::IdpSession {
                provider,
                issuer,
                sid,
            } => {
                out.push_str("sid|");
                part(&mut out, provider);
                part(&mut out, issuer);
                part(&mut out, sid);
            }
            SessionFilter::IdpSubject {
                provider,
                issuer,
                subject,
            } => {
                out.push_str("sub|");
                part(&mut out, provider);
                part(&mut out, issuer);
                part(&mut out, subject);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{IdpSession, NewUser, User};

    fn record(sid: Option<&str>) -> SessionRecord {
        let mut r = SessionRecord::new(
            User::from_new(UserId("u1".into()), NewUser::default()),
            "authentik",
            u64::MAX,
        );
        r.idp = Some(IdpSession {
            issuer: "https://a/".into(),
            subject: "s1".into(),
            sid: sid.map(str::to_owned),
        });
        r
    }

    #[test]
    fn every_filter_of_a_record_matches_it_and_only_it() {
        let r = record(Some("sid1"));
        let all = SessionFilter::all_for(&r);
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|f| f.matches(&r)));
        let other = SessionRecord {
            provider: "keycloak".into(),
            ..record(Some("sid2"))
        };
        assert!(!all[1].matches(&other) && !all[2].matches(&other));
        assert_eq!(SessionFilter::all_for(&record(None)).len(), 2);
    }

    #[test]
    fn index_keys_do_not_collide_across_part_boundaries() {
        let a = SessionFilter::IdpSession {
            provider: "a".into(),
            issuer: "bc".into(),
            sid: "d".into(),
        };
        let b = SessionFilter::IdpSession {
            provider: "ab".into(),
            issuer: "c".into(),
            sid: "d".into(),
        };
        assert_ne!(a.index_key(), b.index_key());
        let sub = SessionFilter::IdpSubject {
            provider: "a".into(),
            issuer: "bc".into(),
            subject: "d".into(),
        };
        assert_ne!(a.index_key(), sub.index_key());
    }
}
