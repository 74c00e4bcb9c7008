//! Finding and ending sessions by user, by provider session (`sid`) and by provider account
//! (`sub`): what sign out everywhere, back- and front-channel logout build on.

use std::sync::Arc;

use tower_oidc::store::{
    IdpSession, SessionFilter, SessionId, SessionRecord, SessionStore, UserId,
};

use super::{now_secs, record, tag};

/// A live record of `user` at `provider`/`issuer` with `subject` and `sid`.
fn at(
    user: &UserId,
    provider: &str,
    issuer: &str,
    subject: &str,
    sid: Option<&str>,
) -> SessionRecord {
    let mut r = record(now_secs() + 3600);
    r.user.id = user.clone();
    r.provider = provider.into();
    r.idp = Some(IdpSession {
        issuer: issuer.into(),
        subject: subject.into(),
        sid: sid.map(str::to_owned),
    });
    r
}

async fn put<S: SessionStore + ?Sized>(s: &S, r: &SessionRecord) -> SessionId {
    let id = SessionId::random();
    s.store(&id, r).await.unwrap();
    id
}

fn hints(mut v: Vec<SessionRecord>) -> Vec<String> {
    let mut out: Vec<String> = v
        .drain(..)
        .map(|r| r.id_token_hint.unwrap_or_default())
        .collect();
    out.sort();
    out
}

fn named(mut r: SessionRecord, name: &str) -> SessionRecord {
    r.id_token_hint = Some(name.into());
    r
}

/// By user: every session of that user is found and ended (and returned), no other user's.
pub async fn sessions_found_and_ended_by_user<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let (alice, bob) = (UserId(format!("alice-{t}")), UserId(format!("bob-{t}")));
    let iss = format!("https://a-{t}/");
    let a1 = put(
        &*s,
        &named(at(&alice, "authentik", &iss, "s-a", Some("x1")), "a1"),
    )
    .await;
    let a2 = put(
        &*s,
        &named(at(&alice, "keycloak", &iss, "s-a2", None), "a2"),
    )
    .await;
    let b1 = put(
        &*s,
        &named(at(&bob, "authentik", &iss, "s-b", Some("y1")), "b1"),
    )
    .await;
    let alice_f = SessionFilter::User(alice.clone());
    assert_eq!(
        hints(s.find_sessions(&alice_f).await.unwrap()),
        ["a1", "a2"]
    );
    assert_eq!(hints(s.end_sessions(&alice_f).await.unwrap()), ["a1", "a2"]);
    assert_eq!(s.load(&a1).await.unwrap(), None);
    assert_eq!(s.load(&a2).await.unwrap(), None);
    assert!(
        s.load(&b1).await.unwrap().is_some(),
        "another user's session stays"
    );
    assert!(s.find_sessions(&alice_f).await.unwrap().is_empty());
    assert!(
        s.end_sessions(&alice_f).await.unwrap().is_empty(),
        "ending nothing is fine"
    );
    s.delete(&b1).await.unwrap();
}

/// By provider session: exactly the sessions of that provider, issuer and `sid`.
pub async fn sessions_found_and_ended_by_idp_sid<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let u = UserId(format!("u-{t}"));
    let iss = format!("https://a-{t}/");
    let other_iss = format!("https://b-{t}/");
    let sid = format!("sid-{t}");
    let one = put(
        &*s,
        &named(at(&u, "authentik", &iss, "s1", Some(&sid)), "one"),
    )
    .await;
    let two = put(
        &*s,
        &named(at(&u, "authentik", &iss, "s1", Some(&sid)), "two"),
    )
    .await;
    let other_sid = put(
        &*s,
        &named(at(&u, "authentik", &iss, "s1", Some("other")), "os"),
    )
    .await;
    let other_provider = put(
        &*s,
        &named(at(&u, "keycloak", &iss, "s1", Some(&sid)), "op"),
    )
    .await;
    let other_issuer = put(
        &*s,
        &named(at(&u, "authentik", &other_iss, "s1", Some(&sid)), "oi"),
    )
    .await;
    let f = SessionFilter::IdpSession {
        provider: "authentik".into(),
        issuer: iss.clone(),
        sid: sid.clone(),
    };
    assert_eq!(hints(s.find_sessions(&f).await.unwrap()), ["one", "two"]);
    assert_eq!(hints(s.end_sessions(&f).await.unwrap()), ["one", "two"]);
    assert_eq!(s.load(&one).await.unwrap(), None);
    assert_eq!(s.load(&two).await.unwrap(), None);
    for id in [&other_sid, &other_provider, &other_issuer] {
        assert!(
            s.load(id).await.unwrap().is_some(),
            "a session of another sid stays"
        );
        s.delete(id).await.unwrap();
    }
}

/// By provider account: every session of that provider, issuer and `sub`, whatever its `sid`.
pub async fn sessions_found_and_ended_by_idp_subject<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let u = UserId(format!("u-{t}"));
    let iss = format!("https://a-{t}/");
    let sub = format!("sub-{t}");
    let one = put(
        &*s,
        &named(at(&u, "authentik", &iss, &sub, Some("x")), "one"),
    )
    .await;
    let two = put(&*s, &named(at(&u, "authentik", &iss, &sub, None), "two")).await;
    let other = put(
        &*s,
        &named(at(&u, "authentik", &iss, "someone-else", Some("x")), "o"),
    )
    .await;
    let f = SessionFilter::IdpSubject {
        provider: "authentik".into(),
        issuer: iss.clone(),
        subject: sub.clone(),
    };
    assert_eq!(hints(s.find_sessions(&f).await.unwrap()), ["one", "two"]);
    assert_eq!(hints(s.end_sessions(&f).await.unwrap()), ["one", "two"]);
    assert_eq!(s.load(&one).await.unwrap(), None);
    assert_eq!(s.load(&two).await.unwrap(), None);
    assert!(s.load(&other).await.unwrap().is_some());
    s.delete(&other).await.unwrap();
}

/// The indexes follow the sessions: a swapped record is found as it is now, a deleted or expired
/// one is not found (nor returned when ended), and a record overwritten for another user is no
/// longer the first user's.
pub async fn session_lookup_follows_writes<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let (alice, bob) = (UserId(format!("alice-{t}")), UserId(format!("bob-{t}")));
    let iss = format!("https://a-{t}/");
    let alice_f = SessionFilter::User(alice.clone());
    let bob_f = SessionFilter::User(bob.clone());
    let r = named(at(&alice, "authentik", &iss, "s", Some("x")), "v0");
    let id = put(&*s, &r).await;
    let v1 = SessionRecord {
        version: 1,
        ..named(r.clone(), "v1")
    };
    assert!(s.compare_and_swap(&id, &v1).await.unwrap());
    assert_eq!(hints(s.find_sessions(&alice_f).await.unwrap()), ["v1"]);
    s.delete(&id).await.unwrap();
    assert!(
        s.find_sessions(&alice_f).await.unwrap().is_empty(),
        "deleted"
    );

    let expired = SessionRecord {
        expires_at: now_secs().saturating_sub(1),
        ..r.clone()
    };
    let gone = put(&*s, &expired).await;
    assert!(
        s.find_sessions(&alice_f).await.unwrap().is_empty(),
        "expired"
    );
    assert!(
        s.end_sessions(&alice_f).await.unwrap().is_empty(),
        "expired, not returned"
    );
    s.delete(&gone).await.unwrap();

    let id = put(&*s, &r).await;
    let mut moved = named(r.clone(), "bob's");
    moved.user.id = bob.clone();
    s.store(&id, &moved).await.unwrap();
    assert!(
        s.find_sessions(&alice_f).await.unwrap().is_empty(),
        "no longer alice's"
    );
    assert!(
        s.end_sessions(&alice_f).await.unwrap().is_empty(),
        "alice's filter ends nothing"
    );
    assert_eq!(hints(s.find_sessions(&bob_f).await.unwrap()), ["bob's"]);
    assert!(
        s.load(&id).await.unwrap().is_some(),
        "bob's session survived alice's end"
    );
    assert_eq!(s.end_sessions(&bob_f).await.unwrap().len(), 1);
}

/// Many sessions of one user, ended at once; later sessions of that user still index.
pub async fn many_sessions_of_one_user_end_together<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let u = UserId(format!("u-{t}"));
    let iss = format!("https://a-{t}/");
    let f = SessionFilter::User(u.clone());
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            put(
                &*s,
                &named(at(&u, "authentik", &iss, "s", Some(&format!("x{i}"))), "n"),
            )
            .await,
        );
    }
    assert_eq!(s.find_sessions(&f).await.unwrap().len(), 40);
    assert_eq!(s.end_sessions(&f).await.unwrap().len(), 40);
    for id in &ids {
        assert_eq!(s.load(id).await.unwrap(), None);
    }
    let again = put(&*s, &named(at(&u, "authentik", &iss, "s", None), "again")).await;
    assert_eq!(hints(s.find_sessions(&f).await.unwrap()), ["again"]);
    s.delete(&again).await.unwrap();
}
