//! What the library counts, times and traces, under stable names: metrics through the
//! [`metrics`] facade and spans through [`tracing`].
//!
//! # Metrics
//!
//! The app picks the exporter (Prometheus, OpenTelemetry, StatsD, …) and installs it as the
//! global recorder — before it builds the layer, as the `metrics` crate asks of every library
//! (counters on the per-request path are registered once, at build). Without a recorder, recording costs a few nanoseconds and allocates nothing
//! (the pass-through path records nothing at all). [`describe`] registers the help text of
//! every metric with the recorder; [`OidcLayerBuilder::build`](crate::OidcLayerBuilder::build)
//! calls it.
//!
//! ```no_run
//! // With metrics-exporter-prometheus: install, build the layer, serve `handle.render()`.
//! # fn f() -> Result<(), Box<dyn std::error::Error>> {
//! # let install = || -> Result<(), Box<dyn std::error::Error>> { Ok(()) };
//! install()?; // e.g. PrometheusBuilder::new().install_recorder()?
//! let layer = tower_oidc::OidcLayer::builder()
//!     .base_url("http://localhost:3000")
//!     .build()?;
//! # let _ = layer; Ok(()) }
//! ```
//!
//! Every label is bounded: a provider id the configuration knows (`unknown` for any other id
//! a request names), a stable error code ([`ErrorCode::as_str`](crate::ErrorCode::as_str)), or
//! one of the closed sets of [`LABEL_VALUES`]. No label ever carries a user, an email, an IP
//! address or a URL.
//!
//! | metric | type | labels | counts or times |
//! |---|---|---|---|
//! | `tower_oidc_sign_ins_started_total` | counter | `provider` | sign-ins sent to the provider (authorize redirects) |
//! | `tower_oidc_sign_ins_completed_total` | counter | `provider` | callbacks that ended in a session |
//! | `tower_oidc_sign_ins_failed_total` | counter | `provider`, `code` | authorize requests and callbacks that failed, by error code |
//! | `tower_oidc_callback_duration_seconds` | histogram | `provider`, `outcome` | a callback from request to answer (`completed`, `failed`) |
//! | `tower_oidc_provider_request_duration_seconds` | histogram | `provider`, `endpoint` | one request to the provider, until its body is read |
//! | `tower_oidc_provider_request_failures_total` | counter | `provider`, `endpoint`, `reason` | requests that got no usable answer |
//! | `tower_oidc_refreshes_total` | counter | `provider`, `outcome` | refresh grants (`refreshed`, `refused`: session ended, `failed`: retried later) |
//! | `tower_oidc_sessions_created_total` | counter | `provider` | sessions started by a sign-in |
//! | `tower_oidc_sessions_ended_total` | counter | `provider`, `cause` | sessions ended, by cause |
//! | `tower_oidc_logout_requests_total` | counter | `provider`, `channel`, `outcome` | logout requests from the provider (`accepted`, `refused`) |
//! | `tower_oidc_store_operation_duration_seconds` | histogram | `store`, `operation` | one call to a session, user or settings store out of process |
//! | `tower_oidc_store_errors_total` | counter | `store`, `operation` | store calls that failed |
//! | `tower_oidc_cache_requests_total` | counter | `cache`, `result` | lookups in the discovery, key-set, user, session and bearer-token caches (`hit`, `miss`; a session cached too long ago counts as a miss) |
//! | `tower_oidc_cache_evictions_total` | counter | `cache` | sessions the session cache dropped to stay within its size |
//!
//! Stores that answer from this process's memory ([`MemoryStore`](crate::MemoryStore)) are not
//! timed: a call costs less than timing it would.
//!
//! # Spans
//!
//! | span | level | fields |
//! |---|---|---|
//! | `tower_oidc.callback` | INFO | `provider` |
//! | `tower_oidc.provider_request` | INFO | `provider`, `endpoint`, `status` |
//! | `tower_oidc.refresh` | INFO | `provider` |
//! | `tower_oidc.logout_request` | INFO | `provider`, `channel` |
//! | `tower_oidc.store` | DEBUG | `store`, `operation` |
//!
//! A callback's span holds the provider requests and store calls it makes, so an
//! OpenTelemetry subscriber (`tracing-opentelemetry`) shows one sign-in as one trace.

use std::time::Duration;

/// Sign-ins sent to the provider. Labels: `provider`.
pub const SIGN_INS_STARTED: &str = "tower_oidc_sign_ins_started_total";
/// Callbacks that ended in a session. Labels: `provider`.
pub const SIGN_INS_COMPLETED: &str = "tower_oidc_sign_ins_completed_total";
/// Authorize requests and callbacks that failed. Labels: `provider`, `code`.
pub const SIGN_INS_FAILED: &str = "tower_oidc_sign_ins_failed_total";
/// Callback duration in seconds. Labels: `provider`, `outcome`.
pub const CALLBACK_DURATION: &str = "tower_oidc_callback_duration_seconds";
/// Provider request duration in seconds. Labels: `provider`, `endpoint`.
pub const PROVIDER_REQUEST_DURATION: &str = "tower_oidc_provider_request_duration_seconds";
/// Provider requests without a usable answer. Labels: `provider`, `endpoint`, `reason`.
pub const PROVIDER_REQUEST_FAILURES: &str = "tower_oidc_provider_request_failures_total";
/// Refresh grants by outcome. Labels: `provider`, `outcome`.
pub const REFRESHES: &str = "tower_oidc_refreshes_total";
/// Sessions started. Labels: `provider`.
pub const SESSIONS_CREATED: &str = "tower_oidc_sessions_created_total";
/// Sessions ended. Labels: `provider`, `cause`.
pub const SESSIONS_ENDED: &str = "tower_oidc_sessions_ended_total";
/// Logout requests from providers. Labels: `provider`, `channel`, `outcome`.
pub const LOGOUT_REQUESTS: &str = "tower_oidc_logout_requests_total";
/// Store call duration in seconds. Labels: `store`, `operation`.
pub const STORE_DURATION: &str = "tower_oidc_store_operation_duration_seconds";
/// Store calls that failed. Labels: `store`, `operation`.
pub const STORE_ERRORS: &str = "tower_oidc_store_errors_total";
/// Cache lookups. Labels: `cache`, `result`.
pub const CACHE_REQUESTS: &str = "tower_oidc_cache_requests_total";
/// Cache evictions. Labels: `cache`.
pub const CACHE_EVICTIONS: &str = "tower_oidc_cache_evictions_total";

/// One metric as documented: name, kind, labels and help text.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The metric's name.
    pub name: &'static str,
    /// `counter` or `histogram`.
    pub kind: &'static str,
    /// Its label names.
    pub labels: &'static [&'static str],
    /// What it counts or times.
    pub help: &'static str,
}

/// Every metric the library records.
pub const METRICS: &[Metric] = &[
    m(
        SIGN_INS_STARTED,
        "counter",
        &["provider"],
        "Sign-ins sent to the provider.",
    ),
    m(
        SIGN_INS_COMPLETED,
        "counter",
        &["provider"],
        "Callbacks that ended in a session.",
    ),
    m(
        SIGN_INS_FAILED,
        "counter",
        &["provider", "code"],
        "Authorize requests and callbacks that failed, by error code.",
    ),
    m(
        CALLBACK_DURATION,
        "histogram",
        &["provider", "outcome"],
        "Callback duration, from request to answer.",
    ),
    m(
        PROVIDER_REQUEST_DURATION,
        "histogram",
        &["provider", "endpoint"],
        "Duration of one request to the provider.",
    ),
    m(
        PROVIDER_REQUEST_FAILURES,
        "counter",
        &["provider", "endpoint", "reason"],
        "Requests to the provider that got no usable answer.",
    ),
    m(
        REFRESHES,
        "counter",
        &["provider", "outcome"],
        "Refresh grants by outcome.",
    ),
    m(
        SESSIONS_CREATED,
        "counter",
        &["provider"],
        "Sessions started by a sign-in.",
    ),
    m(
        SESSIONS_ENDED,
        "counter",
        &["provider", "cause"],
        "Sessions ended, by cause.",
    ),
    m(
        LOGOUT_REQUESTS,
        "counter",
        &["provider", "channel", "outcome"],
        "Logout requests from the provider.",
    ),
    m(
        STORE_DURATION,
        "histogram",
        &["store", "operation"],
        "Duration of one store call.",
    ),
    m(
        STORE_ERRORS,
        "counter",
        &["store", "operation"],
        "Store calls that failed.",
    ),
    m(
        CACHE_REQUESTS,
        "counter",
        &["cache", "result"],
        "Lookups in the discovery, key-set, user and session caches.",
    ),
    m(
        CACHE_EVICTIONS,
        "counter",
        &["cache"],
        "Entries a cache dropped to stay within its size.",
    ),
];

const fn m(
    name: &'static str,
    kind: &'static str,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        help,
    }
}

/// The closed label sets: every value a label other than `provider` and `code` can take.
pub const LABEL_VALUES: &[(&str, &[&str])] = &[
    (
        "outcome",
        &["completed", "failed", "refreshed", "refused", "accepted"],
    ),
    (
        "endpoint",
        &[
            "discovery",
            "jwks",
            "token",
            "userinfo",
            "user_api",
            "revocation",
            "introspection",
            "par",
        ],
    ),
    (
        "reason",
        &[
            "refused",
            "tls",
            "timeout",
            "unreachable",
            "too_large",
            "http_5xx",
        ],
    ),
    (
        "cause",
        &[
            "sign_out",
            "sign_out_everywhere",
            "admin",
            "backchannel_logout",
            "frontchannel_logout",
            "expired",
            "user_deleted",
            "refresh_refused",
        ],
    ),
    ("channel", &["backchannel", "frontchannel"]),
    ("store", &["users", "settings", "sessions"]),
    (
        "operation",
        &[
            "find_by_identity",
            "find_by_email",
            "get",
            "create_with_identity",
            "link_identity",
            "update",
            "identities",
            "list",
            "put",
            "delete",
            "load",
            "store",
            "compare_and_swap",
            "find_sessions",
            "end_sessions",
            "consume_transaction",
        ],
    ),
    (
        "cache",
        &["discovery", "jwks", "users", "sessions", "bearer"],
    ),
    ("result", &["hit", "miss"]),
];

/// Registers the unit and help text of every metric with the installed recorder (Prometheus
/// shows them as `# HELP`). The layer's builder calls it; call it again after installing a
/// recorder later.
pub fn describe() {
    for metric in METRICS {
        let name = metric.name;
        if metric.kind == "histogram" {
            metrics::describe_histogram!(name, metrics::Unit::Seconds, metric.help);
        } else {
            metrics::describe_counter!(name, metrics::Unit::Count, metric.help);
        }
    }
}

/// A sign-in sent to `provider` (a known id).
pub(crate) fn sign_in_started(provider: &str) {
    metrics::counter!(SIGN_INS_STARTED, "provider" => provider.to_owned()).increment(1);
}

/// A callback that ended in a session.
pub(crate) fn sign_in_completed(provider: &str, took: Duration) {
    metrics::counter!(SIGN_INS_COMPLETED, "provider" => provider.to_owned()).increment(1);
    metrics::counter!(SESSIONS_CREATED, "provider" => provider.to_owned()).increment(1);
    metrics::histogram!(CALLBACK_DURATION, "provider" => provider.to_owned(), "outcome" => "completed")
        .record(took);
}

/// An authorize request (`took: None`) or a callback that failed with `code`.
pub(crate) fn sign_in_failed(provider: &str, code: &'static str, took: Option<Duration>) {
    metrics::counter!(SIGN_INS_FAILED, "provider" => provider.to_owned(), "code" => code)
        .increment(1);
    if let Some(took) = took {
        metrics::histogram!(CALLBACK_DURATION, "provider" => provider.to_owned(), "outcome" => "failed")
            .record(took);
    }
}

/// One request to a provider: how long it took, and why it failed if it did.
pub(crate) fn provider_request(
    provider: &str,
    endpoint: &'static str,
    took: Duration,
    failure: Option<&'static str>,
) {
    metrics::histogram!(PROVIDER_REQUEST_DURATION, "provider" => provider.to_owned(), "endpoint" => endpoint)
        .record(took);
    if let Some(reason) = failure {
        metrics::counter!(PROVIDER_REQUEST_FAILURES, "provider" => provider.to_owned(), "endpoint" => endpoint, "reason" => reason)
            .increment(1);
    }
}

/// A refresh grant's outcome: `refreshed`, `refused` or `failed`.
pub(crate) fn refresh(provider: &str, outcome: &'static str) {
    metrics::counter!(REFRESHES, "provider" => provider.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// `n` sessions of `provider` ended for `cause`.
pub(crate) fn sessions_ended(provider: &str, cause: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!(SESSIONS_ENDED, "provider" => provider.to_owned(), "cause" => cause)
            .increment(n);
    }
}

/// A logout request from `provider` through `channel`, accepted or refused.
pub(crate) fn logout_request(provider: &str, channel: &'static str, accepted: bool) {
    let outcome = if accepted { "accepted" } else { "refused" };
    metrics::counter!(LOGOUT_REQUESTS, "provider" => provider.to_owned(), "channel" => channel, "outcome" => outcome)
        .increment(1);
}

/// One store call out of process.
pub(crate) fn store_call(store: &'static str, operation: &'static str, took: Duration, ok: bool) {
    metrics::histogram!(STORE_DURATION, "store" => store, "operation" => operation).record(took);
    if !ok {
        metrics::counter!(STORE_ERRORS, "store" => store, "operation" => operation).increment(1);
    }
}

/// The hit and miss counters of a cache on the per-request path, registered once, when the
/// layer is built (a recorder's registry lookup per request would cost more than the lookup
/// counted).
pub(crate) struct CacheCounters {
    hit: metrics::Counter,
    miss: metrics::Counter,
}

impl CacheCounters {
    pub fn new(cache: &'static str) -> Self {
        CacheCounters {
            hit: metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => "hit"),
            miss: metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => "miss"),
        }
    }

    /// One lookup, found or not.
    pub fn record(&self, hit: bool) {
        if hit {
            self.hit.increment(1);
        } else {
            self.miss.increment(1);
        }
    }
}

/// The eviction counter of `cache`, registered once.
pub(crate) fn cache_evictions(cache: &'static str) -> metrics::Counter {
    metrics::counter!(CACHE_EVICTIONS, "cache" => cache)
}

/// A lookup in `cache` (`discovery`, `jwks`, `bearer`), registered at each call.
pub(crate) fn cache(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => result).increment(1);
}
