//! The admin API over provider settings (ARCHITECTURE.md, "Routes"), the provider check, and the audit of
//! settings changes.
//!
//! Every route lives under `{prefix}/admin/` and answers JSON with `Cache-Control: no-store`:
//!
//! | route | does |
//! |---|---|
//! | `GET /admin/providers` | every provider (built-in and custom) with its effective settings and where each value comes from |
//! | `GET /admin/providers/{id}` | one provider |
//! | `PUT /admin/providers/{id}` | changes some settings: a JSON object of the fields to change |
//! | `POST /admin/providers/{id}/enable`, `/disable` | turns a provider on or off |
//! | `PUT /admin/providers/order` | `[{"id": "...", "sort_order": 1}, ...]`: reorders many at once |
//! | `POST /admin/providers` | stores settings for a custom provider defined in `providers.toml` |
//! | `DELETE /admin/providers/{id}` | removes a custom provider's stored settings |
//! | `POST /admin/providers/{id}/test` | checks discovery, issuer, keys and client credentials ([`check`]) |
//!
//! **Who may call it.** Only a signed-in user whom the [`crate::store::UserStore`] currently
//! marks as admin: signed out gives 401, signed in without the flag 403. The flag is read from
//! the store at every request (not from the session), so an admin revoked at another sign-in or
//! by the app loses access at once. There is no bootstrap bypass: the first admin comes from an
//! admin rule (`[settings.<id>.admin]`) or from the app's user store. Requests that change
//! something must also be same-origin (the `Origin` header, when present, equals the base URL's
//! origin; `Sec-Fetch-Site: cross-site` is refused) and, when they have a body, be
//! `application/json`.
//!
//! **Sources.** Each provider's `sources` object says, per field, where its value comes from:
//! `store` (saved by this API or the app), `environment` (a `[settings.<id>]` table's
//! `"${VAR}"`), `file` (written literally in such a table; for a spec value, the `providers.toml`
//! that defines the provider), `builtin` (the built-in spec), `default` (no settings anywhere),
//! or `null` (not set).
//!
//! **Secrets.** The client secret is write-only: responses say `"client_secret_set": true` or
//! `false`, never the value; the audit event of a change names the changed fields only.
//!
//! **Input.** Unknown fields are refused with a 400 naming the field, never dropped:
//! `{"error": "invalid_input", "field": "url", "message": "..."}`.
//!
//! **Custom providers.** A custom provider's *spec* (endpoints, claims) is defined in
//! `providers.toml` (loaded at build, and reloaded while the app runs when the layer was given
//! the file: `OidcLayerBuilder::providers_file`); `POST` stores admin
//! settings for such a spec, and `DELETE` removes them again (the provider falls back to its
//! seeded settings, or disabled). Built-in providers cannot be deleted.
//!
//! A change takes effect at the next sign-in, without a restart: the provider's caches are
//! dropped and rebuilt from the new settings.
//!
//! **Layout.** `routes` (who may call, the body, dispatch), `handlers` (one per route, storing
//! and auditing), `patch` (a request's fields parsed and checked one by one), `validate`
//! (whole-settings checks), `sources` (where settings come from), `view` (the JSON shown),
//! `errors` (the error answers); [`check`] is the provider check.

pub mod check;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod doctor;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod explain;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod init;

mod errors;
mod handlers;
mod patch;
mod routes;
mod sources;
mod validate;
mod view;

pub use crate::config::{MAX_SORT_ORDER, MIN_SORT_ORDER};

/// A logout receiver of provider `id` under `base_url` and `prefix` (`route`:
/// `backchannel-logout` or `frontchannel-logout`), as the engine routes it.
pub(crate) fn logout_uri(base_url: &str, prefix: &str, id: &str, route: &str) -> String {
    format!("{base_url}{prefix}/providers/{id}/{route}")
}

/// The admin API: what it reads and changes (the provider registry and its settings store, the
/// user store for the caller's current admin flag) and its own rules. The engine authenticates
/// the caller and hands the request over.
pub(crate) struct AdminApi {
    pub registry: std::sync::Arc<crate::provider::Registry>,
    pub users: std::sync::Arc<dyn crate::store::UserStore>,
    /// The app's public base URL and route prefix, for redirect URIs and the same-origin check.
    pub base_url: String,
    pub prefix: String,
    /// Refuse to disable or delete the last enabled provider.
    pub keep_one_sign_in_method: bool,
    /// Serialises settings changes of this instance, so a reorder or an update reads and writes
    /// a consistent set.
    pub write_lock: tokio::sync::Mutex<()>,
}

impl AdminApi {
    /// The redirect URI to register at provider `id`.
    pub(crate) fn redirect_uri(&self, id: &str) -> String {
        crate::flow::redirect_uri(&self.base_url, &self.prefix, id)
    }

    /// A logout receiver of provider `id` (`route`: `backchannel-logout` or
    /// `frontchannel-logout`), the URI to enter as the provider's logout URI.
    pub(crate) fn logout_uri(&self, id: &str, route: &str) -> String {
        logout_uri(&self.base_url, &self.prefix, id, route)
    }

    /// Whether a state-changing request comes from the app's own origin.
    pub(crate) fn same_origin(&self, headers: &http::HeaderMap) -> bool {
        crate::web::same_origin(headers, &crate::web::origin_of(&self.base_url))
    }
}
