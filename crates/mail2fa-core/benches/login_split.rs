//! Where one `login.decide` spends its time, native: `cargo bench -p mail2fa-core --bench
//! login_split`. Each stage of the login check is timed alone on the same input a host
//! sends (the request text with the stored record first), next to the whole call through
//! `handle_bytes`. Results go into bench/RESULTS.md.

use std::hint::black_box;
use std::time::Instant;

use mail2fa_core::api::{handle, handle_bytes, Request};
use mail2fa_core::record::Record;
use mail2fa_core::totp::{self, Params};
use serde_json::{json, Map, Value};

const USER: &str = "alice@example.com";
const T0: u64 = 1_700_000_000;
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const KEYS: &str = r#"[{"id":"k1","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}]"#;

/// Median nanoseconds per call of `f` over `rounds` rounds of `per` calls.
fn ns(mut f: impl FnMut()) -> f64 {
    const PER: usize = 2000;
    const ROUNDS: usize = 15;
    for _ in 0..PER {
        f();
    }
    let mut samples: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..PER {
                f();
            }
            start.elapsed().as_nanos() as f64 / PER as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[ROUNDS / 2]
}

fn main() {
    let keys: Value = serde_json::from_str(KEYS).unwrap();
    let imported = handle(&json!({
        "op": "import.gauthenticator", "user": USER, "keys": keys,
        "entropy": mail2fa_core::encoding::b64_encode(&[1; 32]),
        "time": T0, "prefs": {"secret": SEED, "activate": true},
    }));
    let record_text = serde_json::to_string(&imported["record"]).unwrap();
    let time = T0 + 300;
    let code = handle(&json!({"op": "totp.code", "secret": SEED, "time": time}))["code"]
        .as_str()
        .unwrap()
        .to_string();
    // What the npm package and the PHP adapter send: the stored record's text first.
    let request = format!(
        r#"{{"record":{record_text},"user":"{USER}","keys":{KEYS},"time":{time},"window":1,"factor":{{"type":"totp","value":"{code}"}},"op":"login.decide"}}"#
    );
    let response = handle_bytes(request.as_bytes());
    assert!(
        String::from_utf8_lossy(&response).contains(r#""verdict":"ok""#),
        "{}",
        String::from_utf8_lossy(&response)
    );
    let rest = format!(
        r#"{{"user":"{USER}","keys":{KEYS},"time":{time},"window":1,"factor":{{"type":"totp","value":"{code}"}},"op":"login.decide"}}"#
    );
    let fields: Map<String, Value> = serde_json::from_str(&rest).unwrap();
    let req = Request::new(&fields);
    let keyring = req.keyring().unwrap();
    let record = Record::from_json(&record_text).unwrap();
    let secret = record.open_checked(&keyring, USER).unwrap().unwrap();
    let params = Params::default();

    // `-- --profile`: only the whole call, in a loop, for `perf record`.
    if std::env::args().any(|a| a == "--profile") {
        for _ in 0..300_000 {
            black_box(handle_bytes(black_box(request.as_bytes())));
        }
        return;
    }
    let mut rows: Vec<(&str, f64)> = Vec::new();
    rows.push((
        "whole login.decide through handle_bytes",
        ns(|| {
            black_box(handle_bytes(black_box(request.as_bytes())));
        }),
    ));
    rows.push((
        "request fields (all but record) into a serde_json Map",
        ns(|| {
            black_box(serde_json::from_str::<Map<String, Value>>(black_box(&rest)).unwrap());
        }),
    ));
    rows.push((
        "keyring from the request (base64 of one key)",
        ns(|| {
            black_box(Request::new(black_box(&fields)).keyring().unwrap());
        }),
    ));
    rows.push((
        "policy + window + user + time getters",
        ns(|| {
            let r = Request::new(black_box(&fields));
            black_box((
                r.policy().unwrap(),
                r.window().unwrap(),
                r.user().unwrap(),
                r.time().unwrap(),
            ));
        }),
    ));
    rows.push((
        "Record::from_json (stored record text)",
        ns(|| {
            black_box(Record::from_json(black_box(&record_text)).unwrap());
        }),
    ));
    rows.push((
        "open_checked (XChaCha20-Poly1305 open, base64 of nonce and ct)",
        ns(|| {
            black_box(record.open_checked(black_box(&keyring), USER).unwrap());
        }),
    ));
    rows.push((
        "totp::check, window 1 (three HMAC-SHA1)",
        ns(|| {
            black_box(totp::check(
                black_box(&secret),
                &params,
                black_box(&code),
                time,
                1,
                None,
            ));
        }),
    ));
    rows.push((
        "record.to_json (record written back)",
        ns(|| {
            black_box(black_box(&record).to_json());
        }),
    ));
    rows.push((
        "request whole as serde_json Value (for comparison)",
        ns(|| {
            black_box(serde_json::from_str::<Value>(black_box(&request)).unwrap());
        }),
    ));

    println!("| stage of one login.decide (native) | ns median |");
    println!("| --- | ---: |");
    for (name, t) in rows {
        println!("| {name} | {t:.0} |");
    }
}
