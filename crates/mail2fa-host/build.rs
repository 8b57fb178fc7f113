//! Pins the module this library will run: the sha256 of `dist/mail2fa.wasm` at build time
//! (from `MAIL2FA_WASM_SHA256`, else from `dist/mail2fa.wasm.sha256`), and records the
//! wasmtime version for the precompiled-module cache key.
use std::{env, fs, path::Path};

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../..");
    let sha_file = root.join("dist/mail2fa.wasm.sha256");
    println!("cargo:rerun-if-env-changed=MAIL2FA_WASM_SHA256");
    println!("cargo:rerun-if-changed={}", sha_file.display());

    let pin = match env::var("MAIL2FA_WASM_SHA256") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_ascii_lowercase(),
        _ => fs::read_to_string(&sha_file)
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_ascii_lowercase))
            .unwrap_or_default(),
    };
    // An empty pin builds a library that refuses every module with a clear error (a fresh
    // clone lints and tests the workspace before `make wasm` has written dist/).
    if !pin.is_empty() && (pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit())) {
        panic!("mail2fa-host: the pinned wasm sha256 {pin:?} is not 64 hex digits");
    }
    println!("cargo:rustc-env=MAIL2FA_PINNED_WASM_SHA256={pin}");

    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock = fs::read_to_string(&lock).unwrap_or_default();
    let wasmtime = lock
        .split("[[package]]")
        .find(|p| p.lines().any(|l| l.trim() == "name = \"wasmtime\""))
        .and_then(|p| {
            p.lines()
                .find_map(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MAIL2FA_WASMTIME_VERSION={wasmtime}");
}
