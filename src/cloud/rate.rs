//! A token bucket for the clouds' publish rate limits, driven by the
//! caller's clock (`now_ms`, monotonic milliseconds).
//!
//! The bucket holds up to `burst` tokens and refills at `per_second`; each
//! publish takes one. Over the limit the caller chooses: [`TokenBucket::take`]
//! refuses with [`Error::RateLimited`], [`TokenBucket::take_or_wait`] says
//! how many milliseconds until a token is there.
//!
//! Without the `rate-limit` feature every take succeeds: the cloud's own
//! limit (and its throttling) is then the only one.

use crate::{Error, Result};

/// A rate: `per_second` sustained, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Tokens added per second (at least 1).
    pub per_second: u32,
    /// Most tokens held at once (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `per_second` with a burst of one second's worth.
    pub const fn per_second(per_second: u32) -> Self {
        Rate {
            per_second,
            burst: per_second,
        }
    }

    /// AWS IoT Core: 100 publishes per second per connection.
    pub const AWS_PUBLISH: Rate = Rate::per_second(super::aws::PUBLISH_RATE_PER_S);
    /// Azure IoT Hub S1: 100 device-to-cloud messages per second.
    pub const AZURE_D2C: Rate = Rate::per_second(super::azure::D2C_RATE_PER_S);
    /// Azure IoT Hub S1: 50 twin updates per second.
    pub const AZURE_TWIN_UPDATE: Rate = Rate::per_second(super::azure::TWIN_UPDATE_RATE_PER_S);
    /// Azure IoT Hub S1: 100 twin reads per second.
    pub const AZURE_TWIN_READ: Rate = Rate::per_second(super::azure::TWIN_READ_RATE_PER_S);
}

/// Thousandths of a token: one publish costs this much.
const MILLI: u64 = 1000;

/// A token bucket; see the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: Rate,
    /// Tokens held, in thousandths.
    milli_tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`. [`Error::InvalidArgument`] for a zero
    /// rate or burst.
    pub fn new(rate: Rate, now_ms: u64) -> Result<Self> {
        if rate.per_second == 0 || rate.burst == 0 {
            return Err(Error::InvalidArgument);
        }
        Ok(TokenBucket {
            rate,
            milli_tokens: u64::from(rate.burst) * MILLI,
            last_ms: now_ms,
        })
    }

    /// The configured rate.
    pub const fn rate(&self) -> Rate {
        self.rate
    }

    fn refill(&mut self, now_ms: u64) {
        // A clock that goes back adds nothing.
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        // per_second tokens per 1000 ms = per_second thousandths per ms.
        let added = elapsed.saturating_mul(u64::from(self.rate.per_second));
        let cap = u64::from(self.rate.burst) * MILLI;
        self.milli_tokens = self.milli_tokens.saturating_add(added).min(cap);
    }

    /// Takes a token, or says how many milliseconds until one is there
    /// (nothing is taken then).
    pub fn take_or_wait(&mut self, now_ms: u64) -> core::result::Result<(), u64> {
        if !cfg!(feature = "rate-limit") {
            return Ok(());
        }
        self.refill(now_ms);
        match self.milli_tokens.checked_sub(MILLI) {
            Some(left) => {
                self.milli_tokens = left;
                Ok(())
            }
            None => {
                let missing = MILLI - self.milli_tokens;
                Err(missing.div_ceil(u64::from(self.rate.per_second)))
            }
        }
    }

    /// Takes a token, or [`Error::RateLimited`].
    pub fn take(&mut self, now_ms: u64) -> Result<()> {
        self.take_or_wait(now_ms).map_err(|_| Error::RateLimited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(feature = "rate-limit"))]
    fn left_out_every_take_succeeds() {
        let mut b = TokenBucket::new(Rate::per_second(1), 0).unwrap();
        for _ in 0..1000 {
            assert_eq!(b.take(0), Ok(()));
        }
    }

    #[test]
    #[cfg(feature = "rate-limit")]
    fn burst_then_refill_at_the_rate() {
        let mut b = TokenBucket::new(Rate::AZURE_TWIN_UPDATE, 10_000).unwrap();
        for _ in 0..50 {
            b.take(10_000).unwrap();
        }
        assert_eq!(b.take(10_000), Err(Error::RateLimited));
        // 50/s: one token every 20 ms.
        assert_eq!(b.take_or_wait(10_000), Err(20));
        assert_eq!(b.take_or_wait(10_019), Err(1));
        assert_eq!(b.take_or_wait(10_020), Ok(()));
        assert_eq!(b.take_or_wait(10_020), Err(20));
        // A long pause refills to the burst, not beyond.
        for _ in 0..50 {
            b.take(20_000).unwrap();
        }
        assert_eq!(b.take(20_000), Err(Error::RateLimited));
    }

    #[test]
    #[cfg(feature = "rate-limit")]
    fn sustained_rate_matches_the_default() {
        let mut b = TokenBucket::new(Rate::AWS_PUBLISH, 0).unwrap();
        let mut sent = 0;
        // Ten simulated seconds in 1 ms steps, as fast as allowed.
        for now in 0..10_000u64 {
            while b.take(now).is_ok() {
                sent += 1;
            }
        }
        // Burst of 100, then 100/s for the 9.999 s after.
        assert_eq!(sent, 100 + 999);
    }

    #[test]
    #[cfg(feature = "rate-limit")]
    fn clock_going_back_adds_nothing_and_zero_rates_are_refused() {
        let mut b = TokenBucket::new(
            Rate {
                per_second: 1,
                burst: 1,
            },
            5_000,
        )
        .unwrap();
        b.take(5_000).unwrap();
        assert_eq!(b.take_or_wait(0), Err(1000));
        assert_eq!(b.take_or_wait(5_999), Err(1));
        assert_eq!(b.take_or_wait(6_000), Ok(()));
        assert_eq!(
            TokenBucket::new(
                Rate {
                    per_second: 0,
                    burst: 1
                },
                0
            ),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            TokenBucket::new(Rate::per_second(0), 0),
            Err(Error::InvalidArgument)
        );
    }
}
