//! Log capture at TRACE level with the spans opened, and the secrets the logs must not hold.

use std::sync::{Arc, Mutex};

use tower_oidc::testing::FakeAuthentik;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// A span the library opened while a thread captured: its name, its fields as text
/// (`provider=authentik endpoint=token`), and the names of the spans it was opened in,
/// innermost first.
#[derive(Debug, Clone)]
pub struct SpanSeen {
    pub name: &'static str,
    pub fields: String,
    pub ancestors: Vec<&'static str>,
}

impl SpanSeen {
    /// Whether field `key` was recorded as `value` when the span opened.
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.fields
            .split(' ')
            .any(|kv| kv == format!("{key}={value}") || kv == format!("{key}=\"{value}\""))
    }
}

/// Records each span opened into the capturing thread's list.
struct SpanLayer;

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&format!("{}={value:?}", field.name()));
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        SPANS.with(|c| {
            let Some(list) = c.borrow().as_ref().cloned() else {
                return;
            };
            let mut fields = FieldText(String::new());
            attrs.record(&mut fields);
            let ancestors = ctx
                .span(id)
                .map(|s| s.scope().skip(1).map(|p| p.name()).collect())
                .unwrap_or_default();
            list.lock().unwrap().push(SpanSeen {
                name: attrs.metadata().name(),
                fields: fields.0,
                ancestors,
            });
        });
    }
}

/// Log capture at TRACE level. One global subscriber (installed once, at TRACE) writes each
/// event into the buffer of the thread that emitted it, when that thread is capturing. Tests run
/// on a current-thread runtime, so the app's tasks log on the test's thread. (A per-test
/// `set_default` subscriber is not enough: callsite interest is cached process-wide, and other
/// tests running in parallel without a subscriber make it miss events.)
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<SpanSeen>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
    static SPANS: std::cell::RefCell<Option<Arc<Mutex<Vec<SpanSeen>>>>> =
        const { std::cell::RefCell::new(None) };
}

struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(b) = c.borrow().as_ref() {
                b.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing on drop.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
        SPANS.with(|c| *c.borrow_mut() = None);
    }
}

impl Logs {
    pub fn capture() -> (Logs, CaptureGuard) {
        static INIT: std::sync::Once = std::sync::Once::new();
        INIT.call_once(|| {
            let _ = tracing_subscriber::registry()
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(|| ThreadWriter),
                )
                .with(SpanLayer)
                .try_init();
        });
        let logs = Logs::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(logs.0.clone()));
        SPANS.with(|c| *c.borrow_mut() = Some(logs.1.clone()));
        (logs, CaptureGuard)
    }

    /// The spans opened while capturing, in order.
    pub fn spans(&self) -> Vec<SpanSeen> {
        self.1.lock().unwrap().clone()
    }

    /// Everything captured, except the test browser's own cookie jar (`cookie_store`, a
    /// dependency of the test client, which logs the cookies it stores at DEBUG).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| !l.contains(" cookie_store::"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asserts that none of `secrets` (ignoring empty ones) appears in the logs.
    pub fn assert_free_of(&self, secrets: &[(&str, String)]) {
        let text = self.text();
        assert!(!text.is_empty(), "the subscriber captured nothing");
        for (what, s) in secrets {
            if s.len() >= 8
                && let Some(at) = text.find(s.as_str())
            {
                let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!(
                    "the logs contain the {what}: {}",
                    &text[from..to.min(from + 600)]
                );
            }
        }
    }
}

/// The access token and ID token captured from the fake's token responses (for log checks).
pub fn capture_tokens(fake: &FakeAuthentik) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    fake.set_token_response(move |b| {
        for k in ["access_token", "id_token"] {
            if let Some(t) = b.get(k).and_then(|v| v.as_str()) {
                s.lock().unwrap().push(t.to_owned());
            }
        }
    });
    seen
}
