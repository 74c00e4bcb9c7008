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
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
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
