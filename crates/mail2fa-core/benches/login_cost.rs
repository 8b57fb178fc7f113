//! The cost of one login check, native: `cargo bench -p mail2fa-core --bench login_cost`.
//! Runs through the JSON dispatcher, as hosts do. Results go into bench/RESULTS.md
//! (`bench/login-cost.mjs` measures the same in WebAssembly under Node).

use std::time::Instant;

use mail2fa_core::api::handle;
use serde_json::{json, Value};

const USER: &str = "alice@example.com";
const T0: u64 = 1_700_000_000;
/// The login checks run after the setup's steps (one per fresh factor).
const T_LOGIN: u64 = T0 + 30 * 12;
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn keys() -> Value {
    json!([{"id": "k1", "key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}])
}

fn entropy(i: u8) -> String {
    mail2fa_core::encoding::b64_encode(&[i; 32])
}

fn ok(request: Value) -> Value {
    let r = handle(&request);
    assert_eq!(r["ok"], true, "{r}");
    r
}

/// Median and minimum of `runs` timings of `f`, in milliseconds.
fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0])
}

fn main() {
    let enabled = ok(json!({
        "op": "import.gauthenticator", "user": USER, "keys": keys(), "entropy": entropy(1),
        "time": T0, "prefs": {"secret": SEED, "activate": true},
    }))["record"]
        .clone();
    // Security changes need a fresh factor: a code of the next unused step each.
    let proof = |time: u64| json!({"method": "totp", "code": ok(json!({"op": "totp.code", "secret": SEED, "time": time}))["code"]});
    let generated = ok(json!({
        "op": "backup.generate", "user": USER, "keys": keys(), "entropy": entropy(2),
        "time": T0, "record": enabled, "proof": proof(T0),
    }));
    let with_codes = generated["record"].clone();
    let last_code = generated["codes"][9].as_str().unwrap().to_string();

    let mut with_apps = with_codes.clone();
    let mut last_password = String::new();
    for i in 0..10u8 {
        let time = T0 + 30 * (u64::from(i) + 1);
        let r = ok(json!({
            "op": "app_password.create", "user": USER, "keys": keys(), "entropy": entropy(10 + i),
            "time": time, "label": format!("client {i}"), "record": with_apps, "proof": proof(time),
        }));
        with_apps = r["record"].clone();
        last_password = r["password"].as_str().unwrap().to_string();
    }

    let decide = |factor: Value| {
        json!({"op": "login.decide", "user": USER, "keys": keys(), "time": T_LOGIN,
               "record": with_codes, "factor": factor})
    };
    let mut rows = Vec::new();
    let totp_code = ok(json!({"op": "totp.code", "secret": SEED, "time": T_LOGIN}))["code"]
        .as_str()
        .unwrap()
        .to_string();
    let req = decide(json!({"type": "totp", "value": totp_code}));
    rows.push((
        "login.decide, TOTP code (reference)",
        time(200, || assert_eq!(handle(&req)["verdict"], "ok")),
    ));
    let req = decide(json!({"type": "backup_code", "value": last_code}));
    rows.push((
        "login.decide, 10 backup codes, right code (last of 10)",
        time(200, || assert_eq!(handle(&req)["verdict"], "ok")),
    ));
    let req = decide(json!({"type": "backup_code", "value": "zzzzz-zzzzz"}));
    rows.push((
        "login.decide, 10 backup codes, wrong code (all 10 compared)",
        time(200, || assert_eq!(handle(&req)["verdict"], "wrong")),
    ));
    let req = json!({"op": "app_password.verify", "record": with_apps, "password": last_password, "time": T_LOGIN});
    rows.push((
        "app_password.verify, 10 app passwords, right one (last of 10)",
        time(10, || assert_eq!(handle(&req)["valid"], true)),
    ));
    let req = json!({"op": "app_password.verify", "record": with_apps, "password": "abcd-efgh-ijkl-mnop-qrst", "time": T_LOGIN});
    rows.push((
        "app_password.verify, 10 app passwords, wrong one (tags filter)",
        time(10, || assert_eq!(handle(&req)["valid"], false)),
    ));
    // Without tags every entry is hashed: the cost Argon2id per backup code would have.
    let mut untagged = with_apps.clone();
    for entry in untagged["app_passwords"].as_array_mut().unwrap() {
        entry.as_object_mut().unwrap().remove("tag");
    }
    let req = json!({"op": "app_password.verify", "record": untagged, "password": "abcd-efgh-ijkl-mnop-qrst", "time": T_LOGIN});
    rows.push((
        "app_password.verify, 10 untagged, wrong one (all 10 hashed = Argon2id per backup code)",
        time(5, || assert_eq!(handle(&req)["valid"], false)),
    ));
    let phc = with_apps["app_passwords"][0]["phc"]
        .as_str()
        .unwrap()
        .to_string();
    let req = json!({"op": "phc.verify", "phc": phc, "password": "abcd-efgh-ijkl-mnop-qrst"});
    rows.push((
        "one Argon2id m=19456 t=2 p=1 (phc.verify)",
        time(20, || assert_eq!(handle(&req)["valid"], false)),
    ));

    println!("| check | median ms | min ms |");
    println!("| --- | --- | --- |");
    for (name, (median, min)) in rows {
        println!("| {name} | {median:.3} | {min:.3} |");
    }
}
