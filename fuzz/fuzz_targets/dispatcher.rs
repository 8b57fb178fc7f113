//! Arbitrary bytes into the JSON dispatcher behind the wasm C ABI (`mail2fa_call`).
//!
//! Properties: no panic; the response is always a JSON object with a boolean `ok`; an
//! error is `{"code": snake_case, "message": ...}` and never quotes a secret field;
//! bytes that parse as JSON get the same response from `handle` as from `handle_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa_core::api::{handle, handle_bytes};
use mail2fa_fuzz::check_response;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let response = handle_bytes(data);
    let request: Option<Value> = serde_json::from_slice(data).ok();
    let checked = check_response(request.as_ref().and_then(Value::as_object), &response);
    if let Some(request) = request {
        // Both entry points are one dispatcher (docs/abi.md).
        assert_eq!(
            handle(&request),
            checked,
            "handle and handle_bytes disagree"
        );
    }
});
