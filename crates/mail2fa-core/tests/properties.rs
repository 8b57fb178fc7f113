//! Property tests for the invariants of the factors: a backup code never verifies twice,
//! the limiter never checks more than N wrong factors between locks and none during a
//! lock, and a revoked device or app password never verifies again.

use mail2fa_core::api::handle;
use mail2fa_core::app_password;
use mail2fa_core::backup::BackupCodes;
use mail2fa_core::device::{self, DeviceCheck};
use mail2fa_core::entropy::EntropyStream;
use mail2fa_core::limiter::Limiter;
use mail2fa_core::login::{guarded, Guarded};
use mail2fa_core::phc::{Argon2Params, Variant};
use mail2fa_core::policy::LimiterConfig;
use mail2fa_core::record::Record;
use mail2fa_core::seal::{Keyring, SiteKey};
use proptest::prelude::*;
use serde_json::json;

fn keyring() -> Keyring {
    Keyring::new(vec![SiteKey::new("k1", &[1; 32]).unwrap()]).unwrap()
}

/// Ways people mangle a code that normalization must undo.
fn retype(code: &str, style: u8) -> String {
    match style % 4 {
        0 => code.to_string(),
        1 => code.to_uppercase(),
        2 => code.replace('-', " "),
        _ => format!(" {} ", code.replace('-', "").to_uppercase()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_backup_code_never_verifies_twice(
        entropy in proptest::collection::vec(any::<u8>(), 32..64),
        count in 1usize..=20,
        order in proptest::collection::vec((0usize..20, 0u8..4), 1..60),
    ) {
        let keys = keyring();
        let mut rng = EntropyStream::from_host(&entropy).unwrap();
        let (mut set, codes) = BackupCodes::generate(&keys, "alice", count, 1, &mut rng);
        let mut used = vec![false; count];
        for (i, style) in order {
            let i = i % count;
            let accepted = set.consume(&keys, "alice", &retype(&codes[i], style), 2).unwrap();
            prop_assert_eq!(accepted, !used[i], "code {} accepted twice or refused the first time", i);
            used[i] = true;
            prop_assert_eq!(set.remaining(), used.iter().filter(|u| !**u).count());
        }
    }

    #[test]
    fn random_input_never_verifies_and_never_consumes(
        entropy in proptest::collection::vec(any::<u8>(), 32..40),
        guesses in proptest::collection::vec("[0-9a-z -]{0,14}", 1..40),
    ) {
        let keys = keyring();
        let mut rng = EntropyStream::from_host(&entropy).unwrap();
        let (mut set, codes) = BackupCodes::generate(&keys, "alice", 10, 1, &mut rng);
        for guess in guesses {
            let hit = codes.iter().any(|c| {
                mail2fa_core::backup::normalize(c).map(|n| n.to_string())
                    == mail2fa_core::backup::normalize(&guess).map(|n| n.to_string())
            });
            let before = set.remaining();
            let accepted = set.consume(&keys, "alice", &guess, 2).unwrap();
            prop_assert_eq!(accepted, hit && before == 10);
            prop_assert!(set.remaining() <= before);
        }
    }

    #[test]
    fn the_limiter_never_checks_more_than_n_wrong_factors_between_locks(
        max_failures in 1u32..8,
        window in 1u64..2000,
        lock_base in 1u64..100,
        extra in 0u64..1000,
        events in proptest::collection::vec((0u64..120, any::<bool>()), 1..200),
    ) {
        let config = LimiterConfig { max_failures, window, lock_base, lock_max: lock_base + extra };
        let mut record = Record::new(0);
        let mut time = 1_700_000_000u64;
        // Wrong factors checked since the last lock or success.
        let mut wrong_since_lock: Vec<u64> = Vec::new();
        let mut last_lock: Option<u64> = None;
        for (dt, correct) in events {
            time += dt;
            let locked_before = record.limiter.retry_after(time);
            let mut checked = false;
            let outcome = guarded(&mut record, time, &config, |_| {
                checked = true;
                Ok(if correct { None } else { Some("wrong_code") })
            }).unwrap();
            match outcome {
                Guarded::Locked { retry_after } => {
                    prop_assert!(!checked, "a factor was checked during a lock");
                    prop_assert_eq!(Some(retry_after), locked_before);
                    prop_assert!(retry_after <= config.lock_max);
                }
                Guarded::Accepted => {
                    prop_assert!(locked_before.is_none());
                    prop_assert!(record.limiter.is_clear());
                    wrong_since_lock.clear();
                    last_lock = None;
                }
                Guarded::Rejected { retry_after, .. } => {
                    prop_assert!(locked_before.is_none());
                    wrong_since_lock.push(time);
                    let in_window = wrong_since_lock.iter().filter(|&&at| at + window > time).count();
                    prop_assert!(in_window as u32 <= max_failures, "more than N wrong factors in one window between locks");
                    if let Some(lock) = retry_after {
                        prop_assert_eq!(in_window as u32, max_failures);
                        prop_assert!(lock >= config.lock_base.min(config.lock_max) && lock <= config.lock_max);
                        // Consecutive locks never shrink unless the level decayed after a quiet window.
                        if let Some(previous) = last_lock {
                            prop_assert!(lock >= previous || lock == config.lock_base);
                        }
                        last_lock = Some(lock);
                        wrong_since_lock.clear();
                    }
                }
            }
        }
    }

    #[test]
    fn failures_alone_never_exceed_n_per_window_inside_one_lock_period(
        max_failures in 1u32..8,
        times in proptest::collection::vec(0u64..5, 1..100),
    ) {
        // With locks at least as long as the window, N wrong factors per window is exact.
        let config = LimiterConfig { max_failures, window: 60, lock_base: 60, lock_max: 600 };
        let mut l = Limiter::default();
        let mut t = 1_000u64;
        let mut admitted: Vec<u64> = Vec::new();
        for dt in times {
            t += dt;
            if l.retry_after(t).is_none() {
                l.fail(t, &config);
                admitted.push(t);
            }
            let in_window = admitted.iter().filter(|&&a| a + config.window > t).count();
            prop_assert!(in_window as u32 <= max_failures, "{} wrong factors checked within one window", in_window);
        }
    }

    #[test]
    fn a_revoked_device_never_verifies(
        entropy in proptest::collection::vec(any::<u8>(), 32..40),
        n in 1usize..6,
        revoke in 0usize..6,
        later in 0u64..(40 * 86_400),
    ) {
        let mut rng = EntropyStream::from_host(&entropy).unwrap();
        let mut devices = Vec::new();
        let tokens: Vec<(String, String)> = (0..n)
            .map(|i| device::issue(&mut devices, "alice", &format!("ua{i}"), 30, 20, 1000, &mut rng))
            .collect();
        let (token, id) = &tokens[revoke % n];
        devices.retain(|d| &d.id != id);
        prop_assert!(!matches!(device::check(&mut devices, "alice", token, 1000 + later), DeviceCheck::Trusted(_)));
        for (other, other_id) in tokens.iter().filter(|(_, i)| i != id) {
            let expect_trusted = later < 30 * 86_400;
            let got = device::check(&mut devices, "alice", other, 1000 + later);
            prop_assert_eq!(matches!(got, DeviceCheck::Trusted(ref g) if g == other_id), expect_trusted);
            prop_assert!(!matches!(device::check(&mut devices, "bob", other, 1000), DeviceCheck::Trusted(_)));
        }
    }
}

proptest! {
    // Argon2 runs per case: fewer cases, cheap parameters.
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_revoked_app_password_never_verifies(
        entropy in proptest::collection::vec(any::<u8>(), 32..40),
        n in 1usize..4,
        revoke in 0usize..4,
    ) {
        let params = Argon2Params { variant: Variant::Argon2id, m: 32, t: 1, p: 1 };
        let mut rng = EntropyStream::from_host(&entropy).unwrap();
        let mut list = Vec::new();
        let mut passwords = Vec::new();
        for i in 0..n {
            let (entry, pw) = app_password::create(&list, format!("client {i}"), &params, 5, &mut rng).unwrap();
            list.push(entry);
            passwords.push(pw);
        }
        let gone = revoke % n;
        let gone_id = list[gone].id.clone();
        list.retain(|a| a.id != gone_id);
        prop_assert_eq!(app_password::verify(&mut list, &passwords[gone], 6).unwrap(), None);
        for (i, pw) in passwords.iter().enumerate().filter(|(i, _)| *i != gone) {
            let _ = i;
            prop_assert!(app_password::verify(&mut list, pw, 6).unwrap().is_some());
        }
    }

    #[test]
    fn login_decide_never_panics_and_always_answers(
        code in "[ -~]{0,12}",
        kind in 0u8..4,
        time in any::<u32>(),
    ) {
        let factor = match kind {
            0 => json!(null),
            1 => json!({"type": "totp", "value": code}),
            2 => json!({"type": "backup_code", "value": code}),
            _ => json!({"type": "trusted_device", "value": code}),
        };
        let r = handle(&json!({
            "op": "login.decide", "user": "alice", "time": time,
            "keys": [{"id": "k1", "key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}],
            "factor": factor,
        }));
        prop_assert_eq!(&r["ok"], &json!(true));
        prop_assert_eq!(&r["verdict"], &json!("not_required"));
    }
}
