//! Small helpers shared by the modules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes from the operating system's CSPRNG.
///
/// The OS generator failing is not something a request can cause or recover from; the process
/// aborts rather than hand out a predictable session id or `state`.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Err(e) = getrandom::fill(&mut buf) {
        tracing::error!(error = %e, "the operating system's random number generator failed");
        std::process::abort();
    }
    buf
}

/// `n` random bytes, base64url without padding.
pub(crate) fn random_b64(n: usize) -> String {
    let bytes: [u8; 64] = random_bytes();
    URL_SAFE_NO_PAD.encode(&bytes[..n.min(64)])
}

/// `n` random bytes, lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    use std::fmt::Write as _;
    let bytes: [u8; 64] = random_bytes();
    let mut s = String::with_capacity(n * 2);
    for b in &bytes[..n.min(64)] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The time sessions and tokens expire by: the system clock, or — for tests — a clock that is
/// moved forward by hand ([`Clock::manual`], [`Clock::advance`]), so a test can let an access
/// token or a session expire without waiting. ID tokens are always checked against the system
/// clock.
///
/// ```
/// use std::time::Duration;
/// use tower_oidc::Clock;
/// let clock = Clock::manual();
/// let before = clock.unix_now();
/// clock.advance(Duration::from_secs(3600));
/// assert!(clock.unix_now() >= before + 3600);
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    // Seconds added to the system time; `None` for the system clock.
    offset: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.offset {
            None => f.write_str("Clock::system"),
            Some(o) => write!(
                f,
                "Clock::manual(+{} s)",
                o.load(std::sync::atomic::Ordering::Relaxed)
            ),
        }
    }
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Clock { offset: None }
    }

    /// A clock that starts at the system time and moves ahead by [`Clock::advance`]; clones
    /// share the offset.
    pub fn manual() -> Self {
        Clock {
            offset: Some(Default::default()),
        }
    }

    /// Moves a manual clock forward (the system clock is not moved: a no-op).
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(o) = &self.offset {
            o.fetch_add(by.as_secs(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Now, by this clock.
    pub fn now(&self) -> std::time::SystemTime {
        let now = std::time::SystemTime::now();
        match &self.offset {
            None => now,
            Some(o) => {
                now + std::time::Duration::from_secs(o.load(std::sync::atomic::Ordering::Relaxed))
            }
        }
    }

    /// Now, in Unix seconds, by this clock.
    pub fn unix_now(&self) -> u64 {
        self.now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}
