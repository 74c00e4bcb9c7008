//! Failure memory for the provider's discovery document and key set: after a fetch fails,
//! callers are answered at once (with the failure, or a stale copy where there is one) instead of
//! each waiting for the provider's timeout again; the wait doubles with every further failure, up
//! to a bound, and ends with the first success (matrix N1/N6).

use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode};

/// One upstream's failure memory.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// Until when callers are answered without a fetch.
    until: Option<Instant>,
    /// The current wait (doubles per failure).
    step: Duration,
    /// The failure being remembered.
    last: Option<Error>,
}

impl Backoff {
    /// `Err` with the remembered failure while in backoff.
    pub fn check(&self, now: Instant) -> Result<(), Error> {
        match (&self.until, &self.last) {
            (Some(until), Some(e)) if now < *until => Err(Error::new(
                e.code(),
                format!(
                    "{} (not retried for another {} ms after that failure)",
                    e.detail(),
                    until.duration_since(now).as_millis()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether a fetch would be skipped now.
    pub fn active(&self, now: Instant) -> bool {
        self.until.is_some_and(|u| now < u)
    }

    /// Remembers a failed fetch at `now`: the next wait is `first`, then twice the last, at
    /// most `max`. Only an unreachable provider (timeouts, refused connections, 5xx) is waited
    /// out; a document that is wrong is refused again at the next try, as it should be.
    pub fn failed(&mut self, e: &Error, now: Instant, first: Duration, max: Duration) {
        if e.code() != ErrorCode::ProviderUnreachable {
            return;
        }
        self.step = if self.step.is_zero() {
            first
        } else {
            (self.step * 2).min(max)
        };
        self.until = Some(now + self.step);
        self.last = Some(Error::new(e.code(), e.detail().to_owned()));
    }

    /// Forgets the failures after a successful fetch.
    pub fn succeeded(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_bound_and_reset_on_success() {
        let (first, max) = (Duration::from_secs(1), Duration::from_secs(3));
        let t0 = Instant::now();
        let e = Error::new(ErrorCode::ProviderUnreachable, "timed out");
        let mut b = Backoff::default();
        assert!(b.check(t0).is_ok());
        b.failed(&e, t0, first, max);
        let err = b.check(t0).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ProviderUnreachable);
        assert!(err.detail().starts_with("timed out"), "{}", err.detail());
        assert!(b.check(t0 + Duration::from_millis(1001)).is_ok());
        b.failed(&e, t0, first, max);
        assert!(b.active(t0 + Duration::from_millis(1999)));
        assert!(!b.active(t0 + Duration::from_millis(2001)));
        b.failed(&e, t0, first, max);
        b.failed(&e, t0, first, max);
        assert!(
            !b.active(t0 + Duration::from_millis(3001)),
            "bounded by max"
        );
        b.succeeded();
        assert!(b.check(t0).is_ok());
        let wrong = Error::new(ErrorCode::ProviderMisconfigured, "no jwks_uri");
        b.failed(&wrong, t0, first, max);
        assert!(b.check(t0).is_ok(), "a wrong document is not waited out");
    }
}
