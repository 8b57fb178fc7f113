//! Property tests for the invariants of the factors: a backup code never verifies twice,
//! the limiter never checks more than N wrong factors between locks and none during a
//! lock, a revoked device or app password never verifies again, no security change goes
//! through without a valid fresh factor, an admin reset never repeats a `rev`, and every
//! typed op answers any mix of field values with exactly its response struct's fields or
//! a structured error.

use mail2fa_core::api::handle;
use mail2fa_core::app_password;
use mail2fa_core::backup::BackupCodes;
use mail2fa_core::device::{self, DeviceCheck};
use mail2fa_core::entropy::EntropyStream;
use mail2fa_core::limiter::Limiter;
use mail2fa_core::login::{guarded, Guarded};
use mail2fa_core::phc::{Argon2Params, Variant};
use mail2fa_core::policy::LimiterConfig;
use mail2fa_core::reason::Reason;
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
                Ok(if correct { None } else { Some(Reason::WrongCode) })
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

const KEYS: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const T0: u64 = 1_700_000_000;

fn ok(request: serde_json::Value) -> serde_json::Value {
    let r = handle(&request);
    assert_eq!(r["ok"], true, "{r}");
    r
}

/// An enabled record (last step `last_step`) with a fresh set of backup codes.
fn enabled_with_codes(last_step: Option<u64>) -> (serde_json::Value, Vec<String>) {
    let keys = json!([{"id": "k1", "key": KEYS}]);
    let record = ok(json!({
        "op": "record.seal", "user": "alice", "keys": keys,
        "entropy": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        "plain": {"format": 1, "rev": 3, "created_at": T0 - 1000, "updated_at": T0 - 1000,
            "totp": {"algorithm": "SHA1", "digits": 6, "period": 30, "secret": SEED,
                "issuer": null, "account": "alice", "last_step": null,
                "created_at": T0 - 1000, "enabled_at": T0 - 1000}},
    }))["record"]
        .clone();
    let proof = ok(json!({"op": "totp.code", "secret": SEED, "time": T0 - 3600}))["code"].clone();
    let made = ok(json!({
        "op": "backup.generate", "user": "alice", "keys": keys, "time": T0 - 3600,
        "entropy": "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=", "record": record,
        "proof": {"method": "totp", "code": proof},
    }));
    let mut record = made["record"].clone();
    record["totp"]["last_step"] = json!(last_step);
    let codes = made["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (record, codes)
}

/// What each security change makes when it goes through (null when it does not).
const MADE: &[(&str, &str)] = &[
    ("totp.enroll", "uri"),
    ("backup.generate", "codes"),
    ("app_password.create", "password"),
    ("device.trust", "token"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// No security change (replacing the authenticator, new backup codes, an app password,
    /// a trusted device) goes through unless its proof is a code that is valid right now: a
    /// TOTP code of a step after the last one used, inside the window, or an unused backup
    /// code, and the user is not locked. Without a proof it is `fresh_factor_required`.
    #[test]
    fn no_security_change_succeeds_without_a_valid_fresh_factor(
        op in 0usize..4,
        kind in 0u8..6,
        guess in "[0-9a-z -]{0,12}",
        pick in 0usize..10,
        dt in 0u64..200,
        last in proptest::option::of(0u64..4),
        locked in any::<bool>(),
    ) {
        let time = T0 + dt;
        let step = time / 30;
        let last_step = last.map(|back| step + 1 - back);
        let (mut record, codes) = enabled_with_codes(last_step);
        if locked {
            record["limiter"] = json!({"failures": [], "locked_until": time + 5, "lockouts": 1});
        }
        let totp_at = |t: u64| ok(json!({"op": "totp.code", "secret": SEED, "time": t}))["code"].as_str().unwrap().to_string();
        // Codes a proof may rightly use now (window 1, after the last used step).
        let valid_totp: Vec<String> = (step - 1..=step + 1)
            .filter(|s| last_step.is_none_or(|l| *s > l))
            .map(|s| totp_at(s * 30))
            .collect();
        let normal = |c: &str| mail2fa_core::backup::normalize(c).map(|n| n.to_string());
        let proof = match kind {
            0 => None,
            1 => Some(json!({"method": "totp", "code": guess})),
            2 => Some(json!({"method": "backup_code", "code": guess})),
            3 => Some(json!({"method": "totp", "code": totp_at(time - 30 + 30 * (pick as u64 % 3))})),
            4 => Some(json!({"method": "totp", "code": totp_at(T0 - 3600)})),
            _ => Some(json!({"method": "backup_code", "code": codes[pick]})),
        };
        let valid = !locked && match &proof {
            None => false,
            Some(p) if p["method"] == "totp" => valid_totp.iter().any(|c| p["code"] == c.as_str()),
            Some(p) => {
                let given = normal(p["code"].as_str().unwrap());
                given.is_some() && codes.iter().any(|c| normal(c) == given)
            }
        };
        let (name, made) = MADE[op];
        let mut request = json!({
            "op": name, "user": "alice", "keys": [{"id": "k1", "key": KEYS}], "time": time,
            "entropy": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=", "record": record,
            "label": "Phone", "policy": {"argon2": {"m": 32, "t": 1, "p": 1}},
        });
        if let Some(p) = &proof {
            request["proof"] = p.clone();
        }
        let before = request["record"]["rev"].as_u64().unwrap();
        let r = handle(&request);
        if proof.is_none() {
            prop_assert_eq!(&r["error"]["code"], &json!("fresh_factor_required"));
        } else {
            prop_assert_eq!(&r["ok"], &json!(true), "{}", r);
            let went_through = !r[made].is_null();
            prop_assert_eq!(went_through, valid, "{} with proof {:?}: {}", name, proof, r["fresh"]);
            prop_assert_eq!(&r["fresh"]["accepted"], &json!(valid));
            if !went_through {
                prop_assert!(r["record"]["pending_totp"].is_null());
                prop_assert_eq!(r["record"]["app_passwords"].as_array().map_or(0, Vec::len), 0);
                prop_assert_eq!(r["record"]["devices"].as_array().map_or(0, Vec::len), 0);
                prop_assert_eq!(&r["record"]["backup_codes"], &request["record"]["backup_codes"]);
            }
            prop_assert!(r["record"]["rev"].as_u64().unwrap() >= before);
        }
    }

    /// The admin reset never repeats a `rev`: the reset record's is above the old one's
    /// (1 without a record), whatever the record held.
    #[test]
    fn rev_after_record_reset_is_greater_than_before(
        rev in proptest::num::u64::ANY,
        kind in 0u8..4,
        time in 0u64..4_000_000_000,
    ) {
        let (mut record, _) = enabled_with_codes(None);
        match kind {
            0 => record["pending_totp"] = record["totp"].clone(),
            1 => record["limiter"] = json!({"failures": [1, 2], "locked_until": 9, "lockouts": 3}),
            2 => record["totp"] = json!("damaged"),
            _ => {}
        }
        record["rev"] = json!(rev);
        let r = handle(&json!({"op": "record.reset", "record": record, "time": time}));
        if rev == u64::MAX {
            prop_assert_eq!(&r["error"]["code"], &json!("invalid_record"));
        } else {
            prop_assert_eq!(&r["ok"], &json!(true), "{}", r);
            prop_assert!(r["record"]["rev"].as_u64().unwrap() > rev);
            prop_assert_eq!(&r["state"], &json!("disabled"));
            prop_assert!(r["record"]["totp"].is_null() && r["record"]["pending_totp"].is_null());
        }
        let fresh = handle(&json!({"op": "record.reset", "time": time}));
        prop_assert_eq!(&fresh["record"]["rev"], &json!(1));
    }

    /// The typed op layer: whatever the fields hold (absent, null, wrong types, plausible
    /// values), an op either answers with exactly its response struct's fields or with a
    /// structured error naming a code; it never panics and never invents a field.
    #[test]
    fn typed_ops_answer_with_their_struct_or_an_error(
        op_index in 0usize..64,
        picks in proptest::collection::vec((0usize..64, 0usize..16), 0..24),
    ) {
        let contract = mail2fa_core::api::contract();
        let op = &contract[op_index % contract.len()];
        let keys = json!([{"id": "k1", "key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}]);
        let record = handle(&json!({"op": "record.new", "time": 5}))["record"].clone();
        let values = [
            json!(null), json!(7), json!(-1), json!("x"), json!(""), json!([]), json!({}), json!(true),
            json!("alice@example.com"), keys, record, json!(1_700_000_000u64),
            json!("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="),
            json!("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), json!({"method": "totp", "code": "123456"}),
            json!({"argon2": {"m": 8, "t": 1, "p": 1}}),
        ];
        let mut request = serde_json::Map::new();
        request.insert("op".into(), json!(op.op));
        for (field, value) in picks {
            let (name, _) = op.request[field % op.request.len().max(1)..].first().copied()
                .unwrap_or(("unused", true));
            request.insert(name.into(), values[value % values.len()].clone());
        }
        let response = handle(&serde_json::Value::Object(request));
        let fields = response.as_object().unwrap();
        if response["ok"] == true {
            let mut got: Vec<&str> = fields.keys().map(String::as_str).filter(|k| *k != "ok").collect();
            let mut want: Vec<&str> = op.response.to_vec();
            got.sort_unstable();
            want.sort_unstable();
            prop_assert_eq!(got, want, "{}", op.op);
        } else {
            prop_assert_eq!(response["ok"].clone(), json!(false));
            prop_assert!(response["error"]["code"].as_str().is_some_and(|c| !c.is_empty()));
            prop_assert!(response["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}
