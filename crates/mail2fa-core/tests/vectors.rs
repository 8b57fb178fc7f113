//! Runs every conformance vector in tests/vectors/*.json through the native dispatcher.
//! A case passes when the actual response contains the expected one as a subset
//! (tests/vectors/README.md); the Node, PHP and typed-API runners use the same rule.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// None when `actual` contains `expected`, else the JSON path of the first difference.
fn subset_mismatch(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().find_map(|(k, ev)| match a.get(k) {
            Some(av) => subset_mismatch(ev, av, &format!("{path}.{k}")),
            None => Some(format!("{path}.{k}")),
        }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| subset_mismatch(ev, av, &format!("{path}[{i}]"))),
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => None,
        (e, a) if e == a => None,
        _ => Some(path.to_string()),
    }
}

#[test]
fn every_vector_file_passes_natively() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files found");
    let (mut passed, mut failures) = (0usize, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable vector file");
        let cases: Vec<Value> = serde_json::from_str(&text).expect("vector file is a JSON array");
        assert!(!cases.is_empty(), "{} has no cases", file.display());
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?");
            // The raw ABI path: bytes in, bytes out, exactly as the wasm export runs it.
            let request = serde_json::to_vec(&case["request"]).expect("serializable");
            let actual: Value = serde_json::from_slice(&mail2fa_core::api::handle_bytes(&request))
                .expect("the dispatcher always answers JSON");
            match subset_mismatch(&case["response"], &actual, "$") {
                None => passed += 1,
                Some(at) => failures.push(format!(
                    "{} / {name}: mismatch at {at}; got {actual}",
                    file.file_name().unwrap_or_default().to_string_lossy()
                )),
            }
        }
    }
    println!("vectors: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn ops_lists_every_op_of_the_spine() {
    let listed = mail2fa_core::api::handle(&serde_json::json!({"op": "ops"}));
    let listed: Vec<&str> = listed["ops"]
        .as_array()
        .expect("ops is an array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for required in [
        "ops",
        "version",
        "totp.code",
        "otpauth.parse",
        "otpauth.build",
        "totp.enroll",
        "totp.activate",
        "totp.verify",
        "record.seal",
        "record.open",
        "record.rotate_key",
    ] {
        assert!(listed.contains(&required), "{required} missing from ops");
    }
}
