//! Replacing a registry's providers while it serves (a reloaded `providers.toml`), and the
//! providers a reload replaced, kept while the sign-ins they started may still come back.
//!
//! A provider whose spec a reload leaves as it was keeps its state, and with it its cached
//! discovery document and key sets. One whose spec changed (or that the file no longer
//! defines) loses its state: the next sign-in resolves the new spec with fresh caches, so no
//! endpoint of the old spec is used for it. The old state is *retired*: a login transaction
//! names the fingerprint of the spec it started with, and its callback finishes with that
//! state while it is kept (the transaction's lifetime), so a sign-in in flight is not switched
//! to other endpoints, another client authentication or other claim rules half-way.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;

use super::{ProviderState, Registry};
use crate::config::{ProviderSpec, Providers};
use crate::error::{Error, ErrorCode};

/// At most this many retired states are kept (a file saved over and over within a
/// transaction's lifetime must not grow the list without bound); the oldest go first.
const MAX_RETIRED: usize = 64;

/// A state whose spec a reload replaced.
pub(crate) struct Retired {
    at: Instant,
    state: Arc<ProviderState>,
}

/// The fingerprint of a spec, carried in the login transaction: the first 72 bits of the
/// SHA-256 of its `Debug` form (which holds every field, in a fixed order, and no secret), so
/// the same spec has the same fingerprint on every instance of the same build.
pub(crate) fn fingerprint(spec: &ProviderSpec) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{spec:?}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..9])
}

/// The ids whose spec or seeded settings differ between `old` and `new` (added and removed
/// ones included), in id order.
fn changed_ids(old: &Providers, new: &Providers) -> Vec<String> {
    let mut ids: Vec<&String> = old.iter().chain(new.iter()).map(|s| &s.id).collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter(|id| {
            old.get(id) != new.get(id)
                || old.seeded_settings().get(*id) != new.seeded_settings().get(*id)
        })
        .cloned()
        .collect()
}

impl Registry {
    /// Puts `new` in force at once for every sign-in that starts from now on, and answers
    /// which providers changed. The states of providers whose spec changed or went away are
    /// retired (kept for the sign-ins in flight); the others keep their caches.
    pub fn replace(&self, new: Providers) -> Vec<String> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let mut providers = self.providers.write().unwrap_or_else(|p| p.into_inner());
        let changed = changed_ids(&providers, &new);
        let mut gone = Vec::new();
        states.retain(|id, st| {
            let same = new.get(id).is_some_and(|spec| *spec == *st.resolved.spec);
            if !same {
                gone.push(st.clone());
            }
            same
        });
        *providers = Arc::new(new);
        drop(providers);
        for st in gone {
            self.retire(st);
        }
        changed
    }

    /// Keeps `st` for the sign-ins it started.
    pub(super) fn retire(&self, st: Arc<ProviderState>) {
        let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        retired.retain(|r| now.duration_since(r.at) < self.retain);
        retired.push(Retired { at: now, state: st });
        let excess = retired.len().saturating_sub(MAX_RETIRED);
        retired.drain(..excess);
    }

    /// The state a callback of provider `id` finishes with: the current one when its spec is
    /// the one the sign-in started with (`fingerprint`, from the login transaction; `None` for
    /// a transaction that carries none), else the retired state of that spec while it is kept
    /// — provided the provider's settings still enable it (for a provider the file no longer
    /// defines, without settings in the store: the settings it had). When the spec is no longer known
    /// (kept past the transaction's lifetime, or the sign-in started on an instance with
    /// another file) the current spec answers, and a provider the file no longer defines is
    /// `provider_unknown`.
    pub async fn for_callback(
        &self,
        id: &str,
        fingerprint: Option<&str>,
    ) -> Result<Arc<ProviderState>, Error> {
        let current = self.enabled(id).await;
        let Some(fp) = fingerprint else {
            return current;
        };
        if current.as_ref().is_ok_and(|st| st.fingerprint == fp) {
            return current;
        }
        let kept = {
            let retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
            retired
                .iter()
                .rev()
                .filter(|r| r.at.elapsed() < self.retain)
                .map(|r| &r.state)
                .find(|st| st.resolved.spec.id == id && st.fingerprint == fp)
                .cloned()
        };
        let Some(st) = kept else {
            if current.is_ok() {
                tracing::debug!(
                    provider = id,
                    "the provider's spec changed since this sign-in started; finishing with the current one"
                );
            }
            return current;
        };
        // Whether the provider may still sign anyone in: its settings now (the store's, else
        // the new file's seed), or for a provider the file no longer defines and the store
        // holds nothing for, the settings it had.
        let enabled = match self.settings.get(id).await? {
            Some(s) => s.enabled,
            None if self.providers().get(id).is_some() => self.settings_of(id).await?.enabled,
            None => st.settings.enabled,
        };
        if !enabled {
            return Err(Error::new(
                ErrorCode::ProviderDisabled,
                format!("provider `{id}` is not enabled"),
            ));
        }
        tracing::info!(
            provider = id,
            "a reload changed the provider since this sign-in started; finishing with the spec it started with"
        );
        Ok(st)
    }
}
