//! The metrics the library records, as a test sees them: one `DebuggingRecorder` per test
//! binary, installed before the first app serves ([`install`], called by `serve_on`), its
//! snapshots merged into running totals (a snapshot drains histograms), and the rule that no
//! label ever takes a value outside its documented set — checked whenever an app of the
//! harness is dropped, so over every scenario of the suites that use it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tower_oidc::ErrorCode;
use tower_oidc::observe::{LABEL_VALUES, METRICS};

type Labels = Vec<(String, String)>;

/// Every metric recorded so far: counters' totals and histograms' sample counts (a key the
/// recorder has seen stays here with 0).
#[derive(Default)]
struct Totals {
    counters: HashMap<(String, Labels), u64>,
    histograms: HashMap<(String, Labels), usize>,
}

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("no other metrics recorder in the test binary");
        snapshotter
    })
}

/// Installs the test binary's recorder (once).
pub fn install() {
    snapshotter();
}

/// The totals, brought up to date.
fn totals() -> MutexGuard<'static, Totals> {
    static TOTALS: OnceLock<Mutex<Totals>> = OnceLock::new();
    let mut t = TOTALS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for (key, _, _, value) in snapshotter().snapshot().into_vec() {
        let mut labels: Labels = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let id = (key.key().name().to_owned(), labels);
        match (key.kind(), value) {
            (MetricKind::Counter, DebugValue::Counter(n)) => {
                *t.counters.entry(id).or_default() += n;
            }
            (MetricKind::Histogram, DebugValue::Histogram(samples)) => {
                *t.histograms.entry(id).or_default() += samples.len();
            }
            (kind, _) => panic!("metric {} of kind {kind:?}: not a documented kind", id.0),
        }
    }
    t
}

fn sorted(labels: &[(&str, &str)]) -> Labels {
    let mut l: Labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    l.sort();
    l
}

/// The counter `name` with exactly `labels` (0 when it was never incremented).
pub fn counter(name: &str, labels: &[(&str, &str)]) -> u64 {
    let id = (name.to_owned(), sorted(labels));
    totals().counters.get(&id).copied().unwrap_or(0)
}

/// How many samples the histogram `name` with exactly `labels` has received.
pub fn samples(name: &str, labels: &[(&str, &str)]) -> usize {
    let id = (name.to_owned(), sorted(labels));
    totals().histograms.get(&id).copied().unwrap_or(0)
}

/// Every counter named `name` whose labels include `having`, with its labels and total.
pub fn counters_having(name: &str, having: (&str, &str)) -> Vec<(Labels, u64)> {
    totals()
        .counters
        .iter()
        .filter(|((n, labels), _)| {
            n == name && labels.iter().any(|(k, v)| k == having.0 && v == having.1)
        })
        .map(|((_, labels), v)| (labels.clone(), *v))
        .collect()
}

/// Every label value recorded so far, with its metric and label name.
pub fn all_labels() -> Vec<(String, String, String)> {
    let t = totals();
    t.counters
        .keys()
        .chain(t.histograms.keys())
        .flat_map(|(name, labels)| {
            labels
                .iter()
                .map(|(k, v)| (name.clone(), k.clone(), v.clone()))
        })
        .collect()
}

/// Provider ids the suites' own registries add to the built-in ones, and `unknown` (what a
/// request naming no configured provider is counted under).
const TEST_PROVIDERS: &[&str] = &[
    "unknown", "other", "metered", "metered2", "metered3", "corp", "gh", "a", "b", "x", "y",
];

/// Why a recorded label breaks the rules, if it does: a metric or label the documentation
/// does not list, or a value outside its closed set: a provider that is not a configured one (so
/// never a user id, an email or a URL), a code that is not an error code.
fn violation(name: &str, key: &str, value: &str) -> Option<String> {
    let Some(metric) = METRICS.iter().find(|m| m.name == name) else {
        return Some(format!("metric `{name}` is not in observe::METRICS"));
    };
    if !metric.labels.contains(&key) {
        return Some(format!("metric `{name}` has an undocumented label `{key}`"));
    }
    let ok = match key {
        "provider" => {
            TEST_PROVIDERS.contains(&value)
                || tower_oidc::Providers::builtin()
                    .iter()
                    .any(|spec| spec.id == value)
        }
        "code" => ErrorCode::ALL.iter().any(|c| c.as_str() == value),
        _ => LABEL_VALUES
            .iter()
            .find(|(k, _)| *k == key)
            .is_some_and(|(_, values)| values.contains(&value)),
    };
    (!ok).then(|| format!("metric `{name}`: label {key}={value:?} is outside its set"))
}

/// Panics when any label recorded so far breaks the rules of [`violation`].
pub fn assert_labels_bounded() {
    let bad: Vec<String> = all_labels()
        .into_iter()
        .filter_map(|(name, key, value)| violation(&name, &key, &value))
        .collect();
    assert!(bad.is_empty(), "unbounded metric labels: {bad:#?}");
}
