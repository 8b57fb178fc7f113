//! The attempt limiter: wrong second factors per user, in the record.
//!
//! Every wrong factor (TOTP code, backup code) is recorded with its time. When
//! `max_failures` of them fall within the sliding `window`, the user is locked: the
//! k-th consecutive lock lasts `lock_base · 2^(k-1)` seconds, at most `lock_max`
//! (defaults 5 in 900 s; 30 s, 60 s, 120 s … 900 s). The failures that caused a lock are
//! cleared with it, so after a lock ends at most `max_failures` more wrong factors are
//! checked before the next, longer lock. While locked, every factor, right or wrong, is
//! refused without being checked, and `retry_after` says for how long. A correct factor
//! resets everything. The lock level decays after a full `window` without a lock.
//!
//! The state lives in the record, which hosts write with compare-and-set on `rev`, so
//! two webmail nodes racing on the same user cannot both count from the same state:
//! one write wins, the other re-reads and re-runs.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::policy::LimiterConfig;

/// The limiter state stored in the record (`limiter`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limiter {
    /// Times of wrong factors since the last lock or success, oldest first.
    #[serde(default)]
    pub failures: Vec<u64>,
    /// The user is locked while `time < locked_until`.
    #[serde(default)]
    pub locked_until: u64,
    /// Consecutive locks so far (the next lock lasts `lock_base · 2^lockouts`).
    #[serde(default)]
    pub lockouts: u32,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; the user may try again.
    Counted,
    /// This failure locked the user for this many seconds.
    Locked(u64),
}

impl Limiter {
    /// Whether there is nothing to store.
    pub fn is_clear(&self) -> bool {
        self == &Limiter::default()
    }

    /// Seconds until the user may try again, or `None` when not locked.
    pub fn retry_after(&self, time: u64) -> Option<u64> {
        (time < self.locked_until).then(|| self.locked_until - time)
    }

    /// Records a wrong factor at `time`. Call only when [`Limiter::retry_after`] is `None`.
    pub fn fail(&mut self, time: u64, config: &LimiterConfig) -> Failure {
        if self.lockouts > 0 && time >= self.locked_until.saturating_add(config.window) {
            self.lockouts = 0;
        }
        // Keep failures inside the window (and any from a clock that went backwards).
        self.failures
            .retain(|&at| at.saturating_add(config.window) > time);
        self.failures.push(time);
        if self.failures.len() < config.max_failures as usize {
            return Failure::Counted;
        }
        let shift = self.lockouts.min(32);
        let delay = config
            .lock_base
            .checked_shl(shift)
            .filter(|d| *d >> shift == config.lock_base)
            .unwrap_or(config.lock_max)
            .min(config.lock_max);
        self.lockouts = self.lockouts.saturating_add(1);
        self.locked_until = time.saturating_add(delay);
        self.failures.clear();
        Failure::Locked(delay)
    }

    /// A correct factor: clears failures and locks. Returns whether anything changed.
    pub fn succeed(&mut self) -> bool {
        let changed = !self.is_clear();
        *self = Limiter::default();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_30_then_60_capped_at_900() {
        let config = LimiterConfig::default();
        let mut l = Limiter::default();
        for i in 0..4 {
            assert_eq!(l.fail(100 + i, &config), Failure::Counted);
        }
        assert_eq!(l.fail(104, &config), Failure::Locked(30));
        assert_eq!(l.retry_after(104), Some(30));
        assert_eq!(l.retry_after(133), Some(1));
        assert_eq!(l.retry_after(134), None);
        let mut t = 134;
        let mut delays = Vec::new();
        for _ in 0..7 {
            for _ in 0..4 {
                assert_eq!(l.fail(t, &config), Failure::Counted);
            }
            match l.fail(t, &config) {
                Failure::Locked(d) => {
                    delays.push(d);
                    t += d;
                }
                Failure::Counted => panic!("the fifth failure locks"),
            }
        }
        assert_eq!(delays, [60, 120, 240, 480, 900, 900, 900]);
        assert!(l.succeed());
        assert!(l.is_clear());
    }

    #[test]
    fn failures_age_out_of_the_window_and_lock_level_decays() {
        let config = LimiterConfig::default();
        let mut l = Limiter::default();
        for i in 0..4 {
            l.fail(i * 300, &config);
        }
        // The failure at 0 is more than 900 s before 1000; four remain, below five.
        assert_eq!(l.fail(1000, &config), Failure::Counted);
        assert_eq!(l.failures, [300, 600, 900, 1000]);
        let mut l = Limiter {
            failures: Vec::new(),
            locked_until: 5000,
            lockouts: 4,
        };
        l.fail(5000 + 900, &config);
        assert_eq!(l.lockouts, 0);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let config = LimiterConfig {
            max_failures: 1,
            window: 86_400,
            lock_base: 86_400,
            lock_max: 86_400,
        };
        let mut l = Limiter {
            failures: Vec::new(),
            locked_until: 0,
            lockouts: u32::MAX,
        };
        assert_eq!(l.fail(u64::MAX - 5, &config), Failure::Locked(86_400));
        assert_eq!(l.locked_until, u64::MAX);
    }
}
