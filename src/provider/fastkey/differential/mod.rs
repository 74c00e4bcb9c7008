//! Differential test: [`RingJwk`] against `openidconnect`'s own `CoreJsonWebKey`, over a corpus
//! generated from a fixed seed: every algorithm `openidconnect` names (RS*, PS*, HS*,
//! ES256/384/512, EdDSA, `none`), valid and tampered signatures, RSA keys of 1024 to 8192 bits,
//! the wrong curve, `kid`, `use`, `alg`, `key_ops` and `kty` changes and malformed members.
//! `corpus` makes the keys, `variants` the JWK changes, `signatures` and `tokens` the cases.
//!
//! Each case is checked twice over: the key alone (`JsonWebKey::verify_signature` and
//! `hash_bytes`, after parsing the JWK with each type) and, for tokens, through
//! `IdTokenVerifier` (which also picks the key with the type's `kid`/`use`/`alg` methods).
//! Both must reach the same verdict, except where [`Policy`] says otherwise: the RSA size
//! limits documented in `fastkey`, and the known base64 leniencies (each must still occur, so an
//! exception cannot outlive its divergence).

mod corpus;
mod signatures;
mod tokens;
mod variants;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::Instant;

use openidconnect::core::{
    CoreIdToken, CoreJsonWebKey, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm as A,
};
use openidconnect::{
    ClientId, ClientSecret, IdTokenVerifier, IssuerUrl, JsonWebKey, JsonWebKeySet, Nonce,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::RingJwk;
use corpus::{CLIENT_ID, ISSUER, NOW, Rng, SEED};

/// What the two verdicts of a case must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// The same verdict.
    Same,
    /// RSA under 2048 bits: `ring` refuses; `CoreJsonWebKey` follows the signature.
    RingRejects,
    /// RSA over 4096 bits: `CoreJsonWebKey` refuses; `ring` follows the signature.
    CoreRejects,
    /// A divergence known and reported (see `variants::KNOWN_*`): the verdicts may differ.
    Known(&'static str),
}

enum Check {
    Key {
        jwk: Value,
        alg: A,
        msg: Vec<u8>,
        sig: Vec<u8>,
    },
    Token {
        jwks: Value,
        token: String,
        secret: Option<String>,
    },
}

struct Case {
    name: String,
    policy: Policy,
    /// The verdict the corpus was built to have, where it is plain from the construction
    /// (a valid signature, or a tampered one); `None` where only the two libraries can say.
    oracle: Option<bool>,
    check: Check,
}

/// What one key type makes of a case: the verdict, and for keys the parsed view (`kid`, `kty`,
/// `use`, `alg`) and `hash_bytes`, which must match whatever the policy.
#[derive(Debug, PartialEq)]
struct Outcome {
    verdict: Result<(), String>,
    view: Option<String>,
    hash: Option<Option<Vec<u8>>>,
}

/// `RingJwk` or `CoreJsonWebKey`.
trait Key: JsonWebKey<SigningAlgorithm = A, KeyUse = CoreJsonWebKeyUse> + DeserializeOwned {}
impl<K> Key for K where
    K: JsonWebKey<SigningAlgorithm = A, KeyUse = CoreJsonWebKeyUse> + DeserializeOwned
{
}

/// The verdict prefix of a verification that panicked.
const PANIC: &str = "PANIC";

thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
static HOOK: Once = Once::new();

/// Runs a verification, a panic becoming a rejection that says so. `CoreJsonWebKey` panics on an
/// HMAC tag of the wrong length (`generic-array`'s length assertion under `Mac::verify`); the
/// panic hook stays quiet for those (and prints as usual for every other thread).
fn guarded(f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info)
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("{PANIC}: {msg}"))
    })
}

fn run<K: Key>(check: &Check) -> Outcome {
    match check {
        Check::Key { jwk, alg, msg, sig } => match serde_json::from_value::<K>(jwk.clone()) {
            Err(e) => Outcome {
                verdict: Err(format!("unparseable: {e}")),
                view: None,
                hash: None,
            },
            Ok(k) => Outcome {
                verdict: guarded(|| {
                    k.verify_signature(alg, msg, sig)
                        .map_err(|e| format!("{e:?}"))
                }),
                view: Some(format!(
                    "kid {:?} kty {:?} use {:?} alg {:?}",
                    k.key_id(),
                    k.key_type(),
                    k.key_use(),
                    k.signing_alg()
                )),
                hash: Some(k.hash_bytes(msg, alg).ok()),
            },
        },
        Check::Token {
            jwks,
            token,
            secret,
        } => {
            let set: JsonWebKeySet<K> = match serde_json::from_value(jwks.clone()) {
                Ok(s) => s,
                Err(e) => {
                    return Outcome {
                        verdict: Err(format!("set unparseable: {e}")),
                        view: None,
                        hash: None,
                    };
                }
            };
            let kids: Vec<_> = set
                .keys()
                .iter()
                .map(|k| (k.key_id().cloned(), k.key_type().clone()))
                .collect();
            let view = Some(format!("set {kids:?}"));
            let verdict = guarded(|| verify_token(set, token, secret.as_deref()));
            Outcome {
                verdict,
                view,
                hash: None,
            }
        }
    }
}

fn verify_token<K: Key>(
    set: JsonWebKeySet<K>,
    token: &str,
    secret: Option<&str>,
) -> Result<(), String> {
    let id: CoreIdToken = token
        .parse()
        .map_err(|e| format!("token unparseable: {e}"))?;
    let client = ClientId::new(CLIENT_ID.to_owned());
    let issuer = IssuerUrl::new(ISSUER.to_owned()).unwrap();
    let verifier = match secret {
        Some(s) => IdTokenVerifier::<K>::new_confidential_client(
            client,
            ClientSecret::new(s.to_owned()),
            issuer,
            set,
        ),
        None => IdTokenVerifier::<K>::new_public_client(client, issuer, set),
    }
    .allow_any_alg()
    .set_time_fn(|| chrono::DateTime::from_timestamp(NOW, 0).unwrap());
    id.claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// Checks one case; `Err` says how it failed.
fn judge(case: &Case, ring: &Outcome, core: &Outcome) -> Result<(), String> {
    let mut why = vec![];
    if ring.view != core.view {
        why.push(format!(
            "parsed differently:\n  ring: {:?}\n  core: {:?}",
            ring.view, core.view
        ));
    }
    if ring.hash != core.hash {
        why.push(format!(
            "hash_bytes differ:\n  ring: {:?}\n  core: {:?}",
            ring.hash, core.hash
        ));
    }
    let (r, c) = (ring.verdict.is_ok(), core.verdict.is_ok());
    let oracle_ok = |v: bool| case.oracle.is_none_or(|o| o == v);
    let ok = match (case.policy, case.oracle) {
        (Policy::Same, _) | (Policy::RingRejects | Policy::CoreRejects, None) => {
            r == c && oracle_ok(c)
        }
        (Policy::RingRejects, Some(_)) => !r && oracle_ok(c),
        (Policy::CoreRejects, Some(_)) => !c && oracle_ok(r),
        (Policy::Known(_), _) => true,
    };
    if !ok {
        why.push(format!(
            "verdicts (policy {:?}, built to be {:?}):\n  ring: {:?}\n  core: {:?}",
            case.policy, case.oracle, ring.verdict, core.verdict
        ));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("\n"))
    }
}

fn check_all(cases: &[Case]) {
    let start = Instant::now();
    let mut failures = vec![];
    let (mut accepted, mut rejected, mut core_panics) = (0, 0, 0);
    let mut known: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        let ring = run::<RingJwk>(&case.check);
        let core = run::<CoreJsonWebKey>(&case.check);
        if ring.verdict.as_ref().is_err_and(|e| e.starts_with(PANIC)) {
            failures.push(format!("{}: ring panicked: {:?}", case.name, ring.verdict));
        }
        core_panics += usize::from(core.verdict.as_ref().is_err_and(|e| e.starts_with(PANIC)));
        if let Err(why) = judge(case, &ring, &core) {
            failures.push(format!("{}: {why}", case.name));
        }
        if let Policy::Known(what) = case.policy {
            *known.entry(what).or_default() +=
                usize::from(ring.verdict.is_ok() != core.verdict.is_ok());
        }
        if ring.verdict.is_ok() {
            accepted += 1
        } else {
            rejected += 1
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (what, n) in known {
        assert!(
            n > 0,
            "the known divergence `{what}` no longer happens: drop it from the policy"
        );
    }
    // A corpus that only rejects would prove nothing.
    assert!(
        accepted * 20 > cases.len(),
        "only {accepted} of {} cases accepted",
        cases.len()
    );
    eprintln!(
        "{} cases ({accepted} accepted, {rejected} rejected by ring; openidconnect panicked on \
         {core_panics}) in {:?}",
        cases.len(),
        start.elapsed()
    );
}

#[test]
fn key_verdicts_match_openidconnect() {
    let mut rng = Rng::new(SEED);
    let keys = corpus::keys(&mut rng);
    check_all(&signatures::key_cases(&keys, &mut rng));
}

#[test]
fn token_verdicts_match_openidconnect() {
    let mut rng = Rng::new(SEED ^ 1);
    let keys = corpus::keys(&mut rng);
    check_all(&tokens::token_cases(&keys, &mut rng));
}
