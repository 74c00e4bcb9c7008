//! The conformance suite every store backend must pass: one generic function per rule, run by
//! `tests/stores.rs` against memory, SQLite, Postgres and Redis.
//!
//! Every case makes its own identities, emails, session and transaction ids (a unique tag), so
//! cases may share a store. Stores are taken as `Arc<S>` with `S: ?Sized`, so the suite also
//! runs through `Arc<dyn UserStore>` (object safety).

#![allow(dead_code)] // Each test binary uses the cases of the backends it has.

mod lookup;
pub use lookup::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_oidc::config::{AdminRules, EmailTrust, ProviderSettings, Secret};
use tower_oidc::store::{
    Identity, NewUser, SessionId, SessionRecord, SessionStore, SettingsStore, StoreErrorKind, User,
    UserId, UserStore, UserUpdate,
};

/// A tag unique to this process and call: keeps cases that share a store apart.
pub fn tag() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}x{}x{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn identity(t: &str, n: u32) -> Identity {
    Identity {
        provider: "authentik".into(),
        issuer: format!("https://auth-{t}.example.com/application/o/app/"),
        subject: format!("sub-{n}"),
    }
}

pub fn new_user(email: Option<&str>) -> NewUser {
    NewUser {
        email: email.map(str::to_owned),
        email_verified: true,
        name: Some("Ada Lovelace".into()),
        given_name: Some("Ada".into()),
        family_name: Some("Lovelace".into()),
        picture: Some("https://example.com/ada.png".into()),
        username: Some("ada".into()),
        groups: vec!["authentik Admins".into(), "staff".into()],
        is_admin: false,
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ----------------------------------------------------------------------------------------------
// UserStore

/// A created user is found by identity and by id, every field as given.
pub async fn create_and_find<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let id = identity(&t, 1);
    let email = format!("ada-{t}@example.com");
    let u = s
        .create_with_identity(new_user(Some(&email)), &id)
        .await
        .unwrap();
    let expected = User::from_new(u.id.clone(), new_user(Some(&email)));
    assert_eq!(u, expected);
    assert_eq!(
        s.find_by_identity(&id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(s.get(&u.id).await.unwrap(), Some(expected));
    assert_eq!(s.find_by_identity(&identity(&t, 2)).await.unwrap(), None);
    assert_eq!(s.get(&UserId(format!("nope-{t}"))).await.unwrap(), None);
    // A user without email, and with the other field values.
    let bare = NewUser::default();
    let b = s
        .create_with_identity(bare.clone(), &identity(&t, 3))
        .await
        .unwrap();
    assert_eq!(
        s.get(&b.id).await.unwrap(),
        Some(User::from_new(b.id.clone(), bare))
    );
    assert_ne!(b.id, u.id);
}

/// Emails are kept and compared in canonical form: whatever the case the user was created
/// with, `find_by_email` finds it, and the stored email is the lower-cased one.
pub async fn find_by_email_is_canonical<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let canonical = format!("alice.{t}@example.com");
    let u = s
        .create_with_identity(
            new_user(Some(&format!(" Alice.{t}@Example.COM "))),
            &identity(&t, 1),
        )
        .await
        .unwrap();
    assert_eq!(u.email.as_deref(), Some(canonical.as_str()));
    let found = s.find_by_email(&canonical).await.unwrap().expect("found");
    assert_eq!(found.id, u.id);
    assert_eq!(found.email.as_deref(), Some(canonical.as_str()));
    let upper = s
        .find_by_email(&format!("ALICE.{t}@EXAMPLE.com"))
        .await
        .unwrap();
    assert_eq!(upper.map(|u| u.id), Some(u.id));
    assert_eq!(
        s.find_by_email(&format!("bob.{t}@example.com"))
            .await
            .unwrap(),
        None
    );
}

/// One account per canonical email: a second user whose email differs only in case is a
/// conflict, and its identity is not linked (the transaction rolled back).
pub async fn email_is_unique<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    s.create_with_identity(
        new_user(Some(&format!("dup-{t}@example.com"))),
        &identity(&t, 1),
    )
    .await
    .unwrap();
    let e = s
        .create_with_identity(
            new_user(Some(&format!("DUP-{t}@Example.com"))),
            &identity(&t, 2),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    assert_eq!(s.find_by_identity(&identity(&t, 2)).await.unwrap(), None);
    // Users without email do not collide.
    s.create_with_identity(new_user(None), &identity(&t, 3))
        .await
        .unwrap();
    s.create_with_identity(new_user(None), &identity(&t, 4))
        .await
        .unwrap();
}

/// Creating a user for an identity that is already linked is a conflict, and leaves nothing
/// behind: the would-be user (inserted first in SQL backends) is rolled back.
pub async fn create_for_linked_identity_conflicts_atomically<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let id = identity(&t, 1);
    let first = s
        .create_with_identity(new_user(Some(&format!("first-{t}@example.com"))), &id)
        .await
        .unwrap();
    let second_email = format!("second-{t}@example.com");
    let e = s
        .create_with_identity(new_user(Some(&second_email)), &id)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    assert_eq!(s.find_by_email(&second_email).await.unwrap(), None);
    assert_eq!(
        s.find_by_identity(&id).await.unwrap().map(|u| u.id),
        Some(first.id)
    );
}

/// Linking a second identity; linking it again to the same user is a no-op.
pub async fn link_identity<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let u = s
        .create_with_identity(new_user(None), &identity(&t, 1))
        .await
        .unwrap();
    let other = Identity {
        provider: "google".into(),
        issuer: "https://accounts.google.com".into(),
        subject: format!("g-{t}"),
    };
    s.link_identity(&u.id, &other).await.unwrap();
    s.link_identity(&u.id, &other).await.unwrap();
    assert_eq!(
        s.find_by_identity(&other).await.unwrap().map(|x| x.id),
        Some(u.id.clone())
    );
    let mut expected = vec![identity(&t, 1), other];
    expected.sort();
    assert_eq!(s.identities(&u.id).await.unwrap(), expected);
}

/// An identity linked to one user cannot be linked to another; linking to an unknown user is
/// `NotFound`.
pub async fn link_conflict<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let a = s
        .create_with_identity(new_user(None), &identity(&t, 1))
        .await
        .unwrap();
    let b = s
        .create_with_identity(new_user(None), &identity(&t, 2))
        .await
        .unwrap();
    let e = s.link_identity(&b.id, &identity(&t, 1)).await.unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Conflict, "{e}");
    assert_eq!(
        s.find_by_identity(&identity(&t, 1))
            .await
            .unwrap()
            .map(|u| u.id),
        Some(a.id)
    );
    assert_eq!(s.identities(&b.id).await.unwrap(), vec![identity(&t, 2)]);
    let e = s
        .link_identity(&UserId(format!("ghost-{t}")), &identity(&t, 3))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::NotFound, "{e}");
    assert_eq!(s.find_by_identity(&identity(&t, 3)).await.unwrap(), None);
}

/// `update` refreshes the profile; `is_admin: None` keeps the flag; the email is untouched; an
/// unknown user is `NotFound`.
pub async fn update_profile<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let email = format!("upd-{t}@example.com");
    let u = s
        .create_with_identity(new_user(Some(&email)), &identity(&t, 1))
        .await
        .unwrap();
    let update = UserUpdate {
        name: Some("Ada King".into()),
        given_name: None,
        family_name: Some("King".into()),
        picture: None,
        username: Some("ada.king".into()),
        groups: vec!["readers".into()],
        is_admin: Some(true),
    };
    let mut expected = u.clone();
    expected.apply(update.clone());
    assert!(expected.is_admin);
    let got = s.update(&u.id, update).await.unwrap();
    assert_eq!(got, expected);
    assert_eq!(s.get(&u.id).await.unwrap(), Some(expected.clone()));
    let keep_admin = UserUpdate {
        groups: vec![],
        is_admin: None,
        ..UserUpdate::default()
    };
    let got = s.update(&u.id, keep_admin).await.unwrap();
    assert!(got.is_admin, "is_admin None keeps the flag");
    assert_eq!(got.email.as_deref(), Some(email.as_str()));
    assert!(got.groups.is_empty());
    assert_eq!(got.name, None);
    assert_eq!(s.find_by_email(&email).await.unwrap(), Some(got));
    let e = s
        .update(&UserId(format!("ghost-{t}")), UserUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::NotFound, "{e}");
}

/// `identities` lists a user's identities, sorted; an unknown user has none.
pub async fn identities_list<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let u = s
        .create_with_identity(new_user(None), &identity(&t, 5))
        .await
        .unwrap();
    for n in [3, 9, 1] {
        s.link_identity(&u.id, &identity(&t, n)).await.unwrap();
    }
    let mut expected: Vec<Identity> = [5, 3, 9, 1].iter().map(|n| identity(&t, *n)).collect();
    expected.sort();
    assert_eq!(s.identities(&u.id).await.unwrap(), expected);
    assert!(
        s.identities(&UserId(format!("ghost-{t}")))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn race_creates<S: UserStore + ?Sized>(
    s: &Arc<S>,
    make: impl Fn(u32) -> (NewUser, Identity),
) -> Vec<Result<User, tower_oidc::store::StoreError>> {
    const TASKS: u32 = 16;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        let (user, id) = make(n);
        let (s, barrier) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            s.create_with_identity(user, &id).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task panicked"));
    }
    results
}

fn exactly_one_winner(results: Vec<Result<User, tower_oidc::store::StoreError>>) -> User {
    let mut winners = Vec::new();
    for r in results {
        match r {
            Ok(u) => winners.push(u),
            Err(e) => assert_eq!(e.kind(), StoreErrorKind::Conflict, "loser: {e}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of the racing sign-ins creates the user"
    );
    winners.remove(0)
}

/// 16 concurrent first sign-ins of one identity (the double-fired callback, two tabs): exactly
/// one creates the user, the others get `Conflict`, and the identity points at the winner.
pub async fn concurrent_first_sign_ins_one_user<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let id = identity(&t, 1);
    let email = format!("race-{t}@example.com");
    let results = race_creates(&s, |_| (new_user(Some(&email)), id.clone())).await;
    let winner = exactly_one_winner(results);
    assert_eq!(
        s.find_by_identity(&id).await.unwrap().map(|u| u.id),
        Some(winner.id.clone())
    );
    assert_eq!(
        s.find_by_email(&email).await.unwrap().map(|u| u.id),
        Some(winner.id.clone())
    );
    assert_eq!(s.identities(&winner.id).await.unwrap(), vec![id.clone()]);
    // The same race without an email: the identity key alone decides.
    let id2 = identity(&t, 2);
    let results = race_creates(&s, |_| (new_user(None), id2.clone())).await;
    let winner = exactly_one_winner(results);
    assert_eq!(
        s.find_by_identity(&id2).await.unwrap().map(|u| u.id),
        Some(winner.id)
    );
}

/// 16 concurrent sign-ins of different identities carrying one email: exactly one account.
pub async fn concurrent_same_email_one_user<S: UserStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let email = format!("shared-{t}@example.com");
    let results = race_creates(&s, |n| (new_user(Some(&email)), identity(&t, n))).await;
    let winner = exactly_one_winner(results);
    assert_eq!(
        s.find_by_email(&email).await.unwrap().map(|u| u.id),
        Some(winner.id.clone())
    );
    assert_eq!(s.identities(&winner.id).await.unwrap().len(), 1);
}

/// Every `UserStore` case, in turn.
pub async fn users<S: UserStore + ?Sized>(s: Arc<S>) {
    create_and_find(s.clone()).await;
    find_by_email_is_canonical(s.clone()).await;
    email_is_unique(s.clone()).await;
    create_for_linked_identity_conflicts_atomically(s.clone()).await;
    link_identity(s.clone()).await;
    link_conflict(s.clone()).await;
    update_profile(s.clone()).await;
    identities_list(s.clone()).await;
    concurrent_first_sign_ins_one_user(s.clone()).await;
    concurrent_same_email_one_user(s).await;
}

// ----------------------------------------------------------------------------------------------
// SettingsStore

/// Settings with every field set, a client secret included.
pub fn full_settings(secret: &str) -> ProviderSettings {
    ProviderSettings {
        enabled: true,
        url: Some("https://auth.example.com".into()),
        internal_url: Some("http://authentik-server:9000".into()),
        client_id: Some("app-client".into()),
        client_secret: Some(Secret::new(secret)),
        scopes: Some(vec!["openid".into(), "email".into(), "groups".into()]),
        auto_register: false,
        refresh_tokens: false,
        sort_order: Some(-3),
        icon: Some("authentik".into()),
        email_trust: Some(EmailTrust::Always),
        par: Some(true),
        admin_rules: AdminRules {
            groups: vec!["authentik Admins".into()],
            email_domains: vec!["example.com".into(), "corp.example".into()],
        },
        slug: Some("my-app".into()),
        params: [("tenant".to_owned(), "common".to_owned())].into(),
        allowed_tenants: vec![
            "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            "contoso.onmicrosoft.com".into(),
        ],
    }
}

/// put/get/list/delete round-trip, with and without a client secret, and replacement.
pub async fn settings_round_trip<S: SettingsStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let a = format!("a-{t}");
    let b = format!("b-{t}");
    let full = full_settings(&format!("s3cr3t-{t}"));
    s.put(&b, &full).await.unwrap();
    assert_eq!(s.get(&b).await.unwrap(), Some(full.clone()));
    let plain = ProviderSettings::default();
    s.put(&a, &plain).await.unwrap();
    assert_eq!(s.get(&a).await.unwrap(), Some(plain.clone()));
    for trust in [EmailTrust::VerifiedClaim, EmailTrust::Never] {
        let x = ProviderSettings {
            email_trust: Some(trust),
            ..plain.clone()
        };
        s.put(&a, &x).await.unwrap();
        assert_eq!(s.get(&a).await.unwrap(), Some(x));
    }
    // PAR: off by the admin is kept apart from "the spec's" (None).
    for par in [Some(false), Some(true), None] {
        let x = ProviderSettings {
            par,
            ..plain.clone()
        };
        s.put(&a, &x).await.unwrap();
        assert_eq!(s.get(&a).await.unwrap(), Some(x));
    }
    s.put(&a, &plain).await.unwrap();
    let listed: Vec<_> = s
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.ends_with(&t))
        .collect();
    assert_eq!(
        listed,
        vec![(a.clone(), plain.clone()), (b.clone(), full.clone())]
    );
    // Replacing drops the secret when the new settings have none.
    let no_secret = ProviderSettings {
        client_secret: None,
        ..full.clone()
    };
    s.put(&b, &no_secret).await.unwrap();
    assert_eq!(s.get(&b).await.unwrap(), Some(no_secret));
    s.delete(&b).await.unwrap();
    assert_eq!(s.get(&b).await.unwrap(), None);
    s.delete(&b).await.unwrap();
    assert_eq!(s.get(&format!("none-{t}")).await.unwrap(), None);
    s.delete(&a).await.unwrap();
}

/// Every `SettingsStore` case.
pub async fn settings<S: SettingsStore + ?Sized>(s: Arc<S>) {
    settings_round_trip(s).await;
}

// ----------------------------------------------------------------------------------------------
// SessionStore

pub fn record(expires_at: u64) -> SessionRecord {
    SessionRecord {
        user: User::from_new(
            UserId(format!("u-{}", tag())),
            new_user(Some("s@example.com")),
        ),
        provider: "authentik".into(),
        expires_at,
        id_token_hint: Some("eyJhbGciOi.x.y".into()),
        sign_in: tower_oidc::store::SignInFacts {
            auth_time: Some(expires_at.saturating_sub(3600)),
            acr: Some("goauthentik.io/providers/oauth2/default".into()),
            amr: vec!["pwd".into(), "mfa".into()],
        },
        ..SessionRecord::new(
            User::from_new(UserId("unused".into()), NewUser::default()),
            "authentik",
            expires_at,
        )
    }
}

/// store/load/overwrite/delete; unknown ids load as `None` and delete without error.
pub async fn session_round_trip<S: SessionStore + ?Sized>(s: Arc<S>) {
    let id = SessionId::random();
    assert_eq!(s.load(&id).await.unwrap(), None);
    let r = record(now_secs() + 3600);
    s.store(&id, &r).await.unwrap();
    assert_eq!(s.load(&id).await.unwrap(), Some(r));
    let r2 = SessionRecord {
        id_token_hint: None,
        ..record(now_secs() + 7200)
    };
    s.store(&id, &r2).await.unwrap();
    assert_eq!(s.load(&id).await.unwrap(), Some(r2));
    let other = SessionId::random();
    assert_eq!(s.load(&other).await.unwrap(), None);
    s.delete(&id).await.unwrap();
    assert_eq!(s.load(&id).await.unwrap(), None);
    s.delete(&id).await.unwrap();
}

/// An expired session does not load, whether it was stored expired or expired later.
pub async fn session_expiry<S: SessionStore + ?Sized>(s: Arc<S>) {
    let past = SessionId::random();
    s.store(&past, &record(now_secs().saturating_sub(1)))
        .await
        .unwrap();
    assert_eq!(s.load(&past).await.unwrap(), None);
    let soon = SessionId::random();
    let expires = now_secs() + 2;
    s.store(&soon, &record(expires)).await.unwrap();
    assert!(s.load(&soon).await.unwrap().is_some());
    let until = UNIX_EPOCH + Duration::from_secs(expires) + Duration::from_millis(100);
    if let Ok(wait) = until.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    assert_eq!(s.load(&soon).await.unwrap(), None);
}

/// A login transaction is consumed once: `true` the first time, `false` after, even under
/// 16 concurrent attempts.
pub async fn consumed_transactions_single_use<S: SessionStore + ?Sized>(s: Arc<S>) {
    let t = tag();
    let exp = SystemTime::now() + Duration::from_secs(600);
    assert!(
        s.consume_transaction(&format!("tx-{t}"), exp)
            .await
            .unwrap()
    );
    assert!(
        !s.consume_transaction(&format!("tx-{t}"), exp)
            .await
            .unwrap()
    );
    assert!(
        !s.consume_transaction(&format!("tx-{t}"), exp)
            .await
            .unwrap()
    );
    assert!(
        s.consume_transaction(&format!("tx2-{t}"), exp)
            .await
            .unwrap()
    );
    let race = format!("race-{t}");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, race) = (s.clone(), race.clone());
        tasks.push(tokio::spawn(async move {
            s.consume_transaction(&race, exp).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        if task.await.expect("task panicked").unwrap() {
            wins += 1;
        }
    }
    assert_eq!(
        wins, 1,
        "exactly one concurrent callback consumes the transaction"
    );
}

/// A consumed id is remembered only until its expiry.
pub async fn consumed_transactions_expire<S: SessionStore + ?Sized>(s: Arc<S>) {
    let id = format!("short-{}", tag());
    let exp = SystemTime::now() + Duration::from_millis(2000);
    assert!(s.consume_transaction(&id, exp).await.unwrap());
    assert!(!s.consume_transaction(&id, exp).await.unwrap());
    if let Ok(wait) = (exp + Duration::from_millis(150)).duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let later = SystemTime::now() + Duration::from_secs(60);
    assert!(s.consume_transaction(&id, later).await.unwrap());
    assert!(!s.consume_transaction(&id, later).await.unwrap());
}

/// Compare-and-set replaces a session only while it has the version the caller read; a stale
/// version, an unknown id and an expired session are refused; the record and its new version
/// load back.
pub async fn session_compare_and_swap<S: SessionStore + ?Sized>(s: Arc<S>) {
    let id = SessionId::random();
    let r = record(now_secs() + 3600);
    let first = SessionRecord {
        version: 1,
        ..r.clone()
    };
    assert!(
        !s.compare_and_swap(&id, &first).await.unwrap(),
        "unknown id"
    );
    s.store(&id, &r).await.unwrap();
    let v1 = SessionRecord {
        version: 1,
        id_token_hint: Some("changed".into()),
        ..r.clone()
    };
    let after_7 = SessionRecord {
        version: 8,
        ..v1.clone()
    };
    assert!(
        !s.compare_and_swap(&id, &after_7).await.unwrap(),
        "stale version"
    );
    assert_eq!(s.load(&id).await.unwrap(), Some(r.clone()));
    assert!(s.compare_and_swap(&id, &v1).await.unwrap());
    assert_eq!(s.load(&id).await.unwrap(), Some(v1.clone()));
    assert_eq!(
        s.load_shared(&id).await.unwrap().as_deref(),
        Some(&v1),
        "load_shared agrees with load"
    );
    let v2 = SessionRecord {
        version: 2,
        ..v1.clone()
    };
    assert!(
        !s.compare_and_swap(&id, &v1).await.unwrap(),
        "version 0 is gone"
    );
    assert!(s.compare_and_swap(&id, &v2).await.unwrap());
    assert_eq!(s.load(&id).await.unwrap().map(|r| r.version), Some(2));
    // A store() after swaps keeps the version it is given.
    s.store(&id, &v1).await.unwrap();
    assert!(s.compare_and_swap(&id, &v2).await.unwrap());
    s.delete(&id).await.unwrap();
    let v3 = SessionRecord {
        version: 3,
        ..v2.clone()
    };
    assert!(!s.compare_and_swap(&id, &v3).await.unwrap(), "deleted");
    let expired = SessionId::random();
    s.store(&expired, &record(now_secs().saturating_sub(1)))
        .await
        .unwrap();
    assert!(!s.compare_and_swap(&expired, &v1).await.unwrap(), "expired");
}

/// Sixteen writers that read the same version race to replace it: exactly one wins, and the
/// stored record is the winner's.
pub async fn session_compare_and_swap_one_winner<S: SessionStore + ?Sized>(s: Arc<S>) {
    let id = SessionId::random();
    let r = record(now_secs() + 3600);
    s.store(&id, &r).await.unwrap();
    let tasks = (0..16).map(|i| {
        let s = s.clone();
        let id = id.clone();
        let next = SessionRecord {
            version: 1,
            id_token_hint: Some(format!("writer-{i}")),
            ..r.clone()
        };
        async move { (i, s.compare_and_swap(&id, &next).await.unwrap()) }
    });
    let results = futures_util::future::join_all(tasks).await;
    let winners: Vec<_> = results.iter().filter(|(_, won)| *won).collect();
    assert_eq!(winners.len(), 1, "exactly one writer wins: {results:?}");
    let stored = s.load(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.id_token_hint,
        Some(format!("writer-{}", winners[0].0))
    );
    s.delete(&id).await.unwrap();
}

/// Every `SessionStore` case.
pub async fn sessions<S: SessionStore + ?Sized>(s: Arc<S>) {
    session_compare_and_swap(s.clone()).await;
    session_compare_and_swap_one_winner(s.clone()).await;
    sessions_found_and_ended_by_user(s.clone()).await;
    sessions_found_and_ended_by_idp_sid(s.clone()).await;
    sessions_found_and_ended_by_idp_subject(s.clone()).await;
    session_lookup_follows_writes(s.clone()).await;
    many_sessions_of_one_user_end_together(s.clone()).await;
    session_round_trip(s.clone()).await;
    session_expiry(s.clone()).await;
    consumed_transactions_single_use(s.clone()).await;
    consumed_transactions_expire(s).await;
}
