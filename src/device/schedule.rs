//! The periodic telemetry schedule, driven by `poll`.

/// When the next periodic telemetry is due. The period can change at run
/// time (for example from the desired property `telemetry_period_ms`); a
/// period of zero turns the schedule off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    period_ms: u32,
    next_ms: Option<u64>,
}

impl Schedule {
    /// A schedule that fires every `period_ms` from `now_ms` on (0: off).
    pub const fn new(period_ms: u32, now_ms: u64) -> Self {
        let next_ms = if period_ms == 0 {
            None
        } else {
            Some(now_ms.saturating_add(period_ms as u64))
        };
        Self { period_ms, next_ms }
    }

    /// The period in milliseconds (0: off).
    pub const fn period_ms(&self) -> u32 {
        self.period_ms
    }

    /// Changes the period; the next firing is one new period from `now_ms`.
    pub fn set_period(&mut self, period_ms: u32, now_ms: u64) {
        *self = Self::new(period_ms, now_ms);
    }

    /// Whether telemetry is due at `now_ms`; if so, the next firing is
    /// scheduled. Firings missed while the device was busy are not
    /// replayed in a burst: the schedule fires once and moves on.
    pub fn fire(&mut self, now_ms: u64) -> bool {
        match self.next_ms {
            Some(due) if now_ms >= due => {
                let period = u64::from(self.period_ms);
                // Keep the phase when on time; skip missed periods when late.
                let next = due.saturating_add(period);
                self.next_ms = Some(if next > now_ms {
                    next
                } else {
                    now_ms.saturating_add(period)
                });
                true
            }
            _ => false,
        }
    }

    /// When the schedule next needs `poll`, if it is on.
    pub const fn next_ms(&self) -> Option<u64> {
        self.next_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_once_per_period_keeping_phase() {
        let mut s = Schedule::new(100, 0);
        assert!(!s.fire(99));
        assert!(s.fire(100));
        assert!(!s.fire(100));
        assert!(s.fire(205), "a little late still fires");
        assert_eq!(s.next_ms(), Some(300), "phase kept");
    }

    #[test]
    fn a_long_stall_fires_once_not_in_a_burst() {
        let mut s = Schedule::new(100, 0);
        assert!(s.fire(1000));
        assert!(!s.fire(1050));
        assert_eq!(s.next_ms(), Some(1100));
    }

    #[test]
    fn zero_period_is_off_and_period_changes_apply() {
        let mut s = Schedule::new(0, 0);
        assert!(!s.fire(u64::MAX));
        assert_eq!(s.next_ms(), None);
        s.set_period(50, 10);
        assert_eq!((s.period_ms(), s.next_ms()), (50, Some(60)));
        assert!(s.fire(60));
    }
}
