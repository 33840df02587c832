//! Reconnect delays: exponential backoff with full jitter.
//!
//! The n-th consecutive failed attempt (n = 0, 1, ...) waits a random time
//! in `[0, min(max_ms, base_ms · 2^n)]`, drawn from the port's
//! [`Random`](super::Random) source, and never less than `min_interval_ms`
//! after the previous CONNECT. A connection counts as a success, and starts
//! again at n = 0, only once it has stayed up for `stable_ms`: one that
//! dies sooner after its CONNACK (a duplicate client id, a policy denial, a
//! forbidden topic) counts as a failed attempt, so a device that is
//! accepted and dropped at once backs off like one that is refused.

use super::transport::Random;

/// Backoff bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Cap of the first delay, doubled after every failed attempt.
    pub base_ms: u32,
    /// The largest delay ever used.
    pub max_ms: u32,
    /// How long a connection must stay up after its CONNACK before the
    /// backoff starts again from `base_ms`; 0 resets it at every CONNACK.
    pub stable_ms: u32,
    /// The shortest time between two CONNECT attempts, whatever the drawn
    /// delay (AWS IoT accepts 1 CONNECT per second per client id).
    pub min_interval_ms: u32,
}

impl BackoffConfig {
    /// 1 s doubling up to 30 s, stable after 60 s, CONNECTs at least 1 s
    /// apart. With full jitter the wait is at most 30 s, so after an outage
    /// of any length the first attempt once the network is back comes
    /// within 30 s plus one connect timeout (an attempt under way when it
    /// came back), and at once when the port reports it
    /// ([`Outbox::network_up`](super::Outbox::network_up)).
    pub const DEFAULT: Self = BackoffConfig {
        base_ms: 1_000,
        max_ms: 30_000,
        stable_ms: 60_000,
        min_interval_ms: 1_000,
    };

    /// Whether the bounds make sense: a base delay above zero and not above
    /// the cap. Zero would retry a failing attempt in the same poll.
    pub const fn is_valid(&self) -> bool {
        self.base_ms > 0 && self.base_ms <= self.max_ms
    }
}

impl Default for BackoffConfig {
    /// [`BackoffConfig::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The attempt counter and the delay rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    attempt: u8,
}

impl Backoff {
    /// The upper bound of the next delay.
    pub fn cap_ms(&self, config: &BackoffConfig) -> u32 {
        let grown = u64::from(config.base_ms) << self.attempt.min(32);
        grown.min(u64::from(config.max_ms)) as u32
    }

    /// Draws the next delay and counts the attempt.
    pub fn next_delay_ms(&mut self, config: &BackoffConfig, random: &mut impl Random) -> u32 {
        let cap = self.cap_ms(config);
        self.attempt = self.attempt.saturating_add(1).min(32);
        let drawn = random.next_u32();
        // Uniform in 0..=cap; 32-bit only (Cortex-M has no 64-bit divide).
        cap.checked_add(1).map_or(drawn, |span| drawn % span)
    }

    /// Number of consecutive failed attempts so far.
    pub fn attempts(&self) -> u8 {
        self.attempt
    }

    /// Starts again from the first delay (after a stable connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let cfg = BackoffConfig {
            base_ms: 100,
            max_ms: 1_000,
            ..BackoffConfig::DEFAULT
        };
        let mut b = Backoff::default();
        let mut caps = [0u32; 40];
        for cap in caps.iter_mut() {
            *cap = b.cap_ms(&cfg);
            let mut max = || u32::MAX;
            assert!(b.next_delay_ms(&cfg, &mut max) <= *cap);
        }
        assert_eq!(&caps[..6], &[100, 200, 400, 800, 1_000, 1_000]);
        assert!(caps.iter().all(|&c| c <= 1_000));
        b.reset();
        assert_eq!(b.cap_ms(&cfg), 100);
    }

    #[test]
    fn jitter_is_full_range() {
        let cfg = BackoffConfig {
            base_ms: 100,
            max_ms: 1_000,
            ..BackoffConfig::DEFAULT
        };
        let mut b = Backoff::default();
        let mut zero = || 0u32;
        assert_eq!(b.next_delay_ms(&cfg, &mut zero), 0);
        let mut exact = || 200u32;
        assert_eq!(b.next_delay_ms(&cfg, &mut exact), 200, "cap is inclusive");
        let mut wrap = || 401u32;
        assert_eq!(b.next_delay_ms(&cfg, &mut wrap), 0, "401 mod 401");
    }

    #[test]
    fn huge_base_does_not_overflow() {
        let cfg = BackoffConfig {
            base_ms: u32::MAX,
            max_ms: u32::MAX,
            ..BackoffConfig::DEFAULT
        };
        let mut b = Backoff::default();
        for _ in 0..100 {
            let mut r = || u32::MAX;
            assert_eq!(b.next_delay_ms(&cfg, &mut r), u32::MAX);
        }
    }
}
