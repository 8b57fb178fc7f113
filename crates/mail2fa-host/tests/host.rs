//! The host library against small hand-written modules that speak the raw ABI (so these
//! tests need no `make wasm`); PHP's suite runs the real dist/mail2fa.wasm.
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use mail2fa_host::{cache, Host, Source};
use sha2::{Digest, Sha256};

/// A raw-ABI module. The request's first byte picks a behaviour:
/// `t` traps, `j` calls a JS-glue import, `g` grows memory by 70 MiB then echoes,
/// `o` answers with a pointer outside memory, `c` answers the number of calls this
/// instance has served (one digit), anything else is echoed back. `tag` makes each
/// test's module distinct (a different sha256), so tests sharing the process registry
/// do not see each other's modules.
fn module(tag: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "wbg" "__wbindgen_throw" (func $js (param i32 i32)))
  (memory (export "memory") 2)
  (global $calls (mut i32) (i32.const 0))
  (global $tag i32 (i32.const {tag}))
  (func (export "mail2fa_alloc") (param $len i32) (result i32)
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 60000)))
      (then (return (i32.const 0))))
    (i32.const 1024))
  (func (export "mail2fa_free") (param i32 i32))
  (func (export "mail2fa_call") (param $p i32) (param $l i32) (result i64)
    (local $op i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.set $op (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $op) (i32.const 116)) (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 106))
      (then (call $js (i32.const 0) (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 103))
      (then (drop (memory.grow (i32.const 1120)))))
    (if (i32.eq (local.get $op) (i32.const 111))
      (then (return (i64.const 0x7fff000000000010))))
    (if (i32.eq (local.get $op) (i32.const 99))
      (then
        (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $calls)))
        (return (i64.const 1))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
            (i64.extend_i32_u (local.get $l)))))"#
    ))
    .expect("test module parses")
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mail2fa-host-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// Writes module `tag` into a fresh temp dir; returns (wasm path, sha256, dir).
fn setup(name: &str, tag: u32) -> (PathBuf, String, PathBuf) {
    let dir = temp_dir(name);
    let bytes = module(tag);
    let path = dir.join("m.wasm");
    fs::write(&path, &bytes).unwrap();
    (path, sha256_hex(&bytes), dir)
}

fn open(path: &Path, sha: &str, cache: Option<&Path>) -> Host {
    Host::open_pinned_to(sha, path, cache).unwrap_or_else(|e| panic!("open failed: {e}"))
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn echoes_requests_and_reuses_module_and_instance_across_opens() {
    let (path, sha, dir) = setup("reuse", 1);
    let first = open(&path, &sha, None);
    assert_eq!(first.info().source, Source::Compiled);
    assert!(first.info().wasm_hashed);
    assert!(!first.info().instance_reused);
    assert!(first.info().compile_ns.is_some());
    assert_eq!(first.call(br#"{"op":"x"}"#), r#"{"op":"x"}"#);
    drop(first);

    let second = open(&path, &sha, None);
    assert_eq!(second.info().source, Source::Process);
    assert!(
        !second.info().wasm_hashed,
        "unchanged file is not hashed again"
    );
    assert!(second.info().instance_reused);
    assert_eq!(second.info().compile_ns, None);
    // The same instance: this is its second call, then its third.
    assert_eq!(second.call(b"c"), "2");
    assert_eq!(second.call(b"c"), "3");
    let status = json(&second.status_json());
    assert_eq!(status["source"], "process");
    assert_eq!(status["wasm_sha256"], sha.as_str());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn refuses_a_module_other_than_the_pinned_one() {
    let (path, sha, dir) = setup("mismatch", 2);
    let other = "0".repeat(64);
    let err = Host::open_pinned_to(&other, &path, None)
        .err()
        .expect("refused");
    assert_eq!(err.code, "module_mismatch");
    assert!(
        err.message.contains(&sha) && err.message.contains(&other),
        "{err}"
    );

    let err = Host::open_pinned_to("", &path, None)
        .err()
        .expect("refused");
    assert_eq!(err.code, "not_pinned");

    let err = Host::open_pinned_to(&sha, &dir.join("missing.wasm"), None)
        .err()
        .expect("refused");
    assert_eq!(err.code, "wasm_unreadable");
    let e = json(&err.to_json());
    assert_eq!(e["ok"], false);
    assert_eq!(e["error"]["code"], "wasm_unreadable");

    // Changing the file after a successful open is noticed (it is hashed again).
    open(&path, &sha, None);
    fs::write(&path, module(3)).unwrap();
    let err = Host::open_pinned_to(&sha, &path, None)
        .err()
        .expect("refused");
    assert_eq!(err.code, "module_mismatch");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_trap_is_error_json_and_the_next_call_gets_a_fresh_instance() {
    let (path, sha, dir) = setup("trap", 4);
    let host = open(&path, &sha, None);
    assert_eq!(host.call(b"c"), "1");
    assert_eq!(host.call(b"c"), "2");
    let err = json(&host.call(b"t"));
    assert_eq!(err["ok"], false);
    assert_eq!(err["error"]["code"], "module_trap");
    assert_eq!(host.call(b"c"), "1", "fresh instance after the trap");

    // A JS-glue import is defined as a trap.
    let err = json(&host.call(b"j"));
    assert_eq!(err["error"]["code"], "module_trap");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("__wbindgen_throw"),
        "{err}"
    );
    assert_eq!(host.call(b"c"), "1");

    // A response pointer outside memory is a fault, and the instance is replaced too.
    let err = json(&host.call(b"o"));
    assert_eq!(err["error"]["code"], "module_fault");
    assert_eq!(host.call(b"c"), "1");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn size_limits_and_memory_recycling() {
    let (path, sha, dir) = setup("limits", 5);
    let host = open(&path, &sha, None);
    // The module's allocator refuses > 60000 bytes: a structured error, instance kept.
    assert_eq!(host.call(b"c"), "1");
    let big = vec![b'x'; 70_000];
    let err = json(&host.call(&big));
    assert_eq!(err["error"]["code"], "request_too_large");
    // Refused before `mail2fa_call`: the same instance, on its second call.
    assert_eq!(host.call(b"c"), "2");
    // Memory grown past 64 MiB: the answer comes back, then the instance is dropped.
    assert_eq!(host.call(b"g"), "g");
    assert_eq!(host.call(b"c"), "1");
    // An empty request reaches the module as (0, 0).
    assert_eq!(host.call(b""), "");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn disk_cache_store_load_and_trust_checks() {
    let engine = wasmtime::Engine::default();
    let dir = temp_dir("cache-unit").join("sub");
    let bytes = module(6);
    let sha = sha256_hex(&bytes);
    let name = cache::file_name(&engine, &sha);
    assert!(name.starts_with(&format!("mail2fa-{}-wasmtime-", &sha[..16])));
    assert!(name.ends_with(".cwasm"));
    assert!(cache::load(&engine, &dir, &name).unwrap().is_none(), "miss");

    let compiled = wasmtime::Module::new(&engine, &bytes).unwrap();
    let path = cache::store(&dir, &name, &compiled.serialize().unwrap()).unwrap();
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let loaded = cache::load(&engine, &dir, &name).unwrap().expect("hit");
    assert_eq!(
        loaded
            .exports()
            .map(|e| e.name().to_owned())
            .collect::<Vec<_>>(),
        compiled
            .exports()
            .map(|e| e.name().to_owned())
            .collect::<Vec<_>>()
    );
    // The file is mapped while a module from it lives; it is rewritten below.
    drop(loaded);

    // A file others may write is not trusted.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    let err = cache::load(&engine, &dir, &name).expect_err("untrusted");
    assert!(err.contains("writable by group or others"), "{err}");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    // Nor is one in a directory others may write.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let err = cache::load(&engine, &dir, &name).expect_err("untrusted dir");
    assert!(err.contains("cache directory"), "{err}");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    // Garbage under the right name is refused by wasmtime, not run.
    fs::write(&path, b"not a precompiled module").unwrap();
    let err = cache::load(&engine, &dir, &name).expect_err("corrupt");
    assert!(err.contains("not usable"), "{err}");
    fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// Run by `cache_serves_a_new_process` in a child process: opens the module named by the
/// environment and prints the open's status.
#[test]
#[ignore = "helper: runs only as a child of cache_serves_a_new_process"]
fn child_open_and_report() {
    let path = PathBuf::from(std::env::var("MAIL2FA_TEST_WASM").unwrap());
    let cache = PathBuf::from(std::env::var("MAIL2FA_TEST_CACHE").unwrap());
    let sha = std::env::var("MAIL2FA_TEST_SHA").unwrap();
    let host = open(&path, &sha, Some(&cache));
    assert_eq!(host.call(b"c"), "1");
    println!("STATUS {}", host.status_json());
}

fn child_status(path: &Path, sha: &str, cache: &Path) -> serde_json::Value {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_open_and_report",
            "--nocapture",
        ])
        .env("MAIL2FA_TEST_WASM", path)
        .env("MAIL2FA_TEST_CACHE", cache)
        .env("MAIL2FA_TEST_SHA", sha)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("STATUS "))
        .unwrap_or_else(|| panic!("no status in {stdout}"));
    json(line)
}

#[test]
fn cache_serves_a_new_process() {
    let (path, sha, dir) = setup("cache-proc", 7);
    let cache = dir.join("cache");
    let first = child_status(&path, &sha, &cache);
    assert_eq!(first["source"], "compiled", "{first}");
    assert!(first["compile_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(first["cache_error"], serde_json::Value::Null, "{first}");
    let file = first["cache_file"].as_str().unwrap().to_owned();
    assert!(Path::new(&file).is_file());

    let second = child_status(&path, &sha, &cache);
    assert_eq!(second["source"], "disk_cache", "{second}");
    assert_eq!(second["compile_ms"], serde_json::Value::Null);
    assert_eq!(second["cache_file"].as_str(), Some(file.as_str()));

    // An unusable cache file is reported, replaced, and the module still runs.
    fs::write(&file, b"garbage").unwrap();
    let third = child_status(&path, &sha, &cache);
    assert_eq!(third["source"], "compiled", "{third}");
    assert!(
        third["cache_error"]
            .as_str()
            .unwrap()
            .contains("not usable"),
        "{third}"
    );
    let fourth = child_status(&path, &sha, &cache);
    assert_eq!(fourth["source"], "disk_cache", "{fourth}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn c_abi_handles_null_arguments_and_errors() {
    use std::ffi::{CStr, CString};
    use std::ptr;
    let c = |p: *mut std::ffi::c_char| -> String {
        // SAFETY: non-null strings from the library, freed right after.
        let s = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
        unsafe { mail2fa_host::ffi::mail2fa_host_free(p) };
        s
    };
    let mut err: *mut std::ffi::c_char = ptr::null_mut();
    // SAFETY: valid arguments per the C contract.
    let h = unsafe { mail2fa_host::ffi::mail2fa_host_open(ptr::null(), ptr::null(), &mut err) };
    assert!(h.is_null());
    assert_eq!(json(&c(err))["error"]["code"], "invalid_argument");

    // The library's own pin (empty or dist's sha) never matches this test module.
    let (path, _sha, dir) = setup("cabi", 8);
    let p = CString::new(path.to_str().unwrap()).unwrap();
    let h = unsafe { mail2fa_host::ffi::mail2fa_host_open(p.as_ptr(), ptr::null(), &mut err) };
    assert!(h.is_null());
    let code = json(&c(err))["error"]["code"].clone();
    assert!(code == "module_mismatch" || code == "not_pinned", "{code}");

    let out = c(unsafe { mail2fa_host::ffi::mail2fa_host_call(ptr::null(), ptr::null(), 0) });
    assert_eq!(json(&out)["error"]["code"], "invalid_argument");
    let pin = c(mail2fa_host::ffi::mail2fa_host_pinned_sha256());
    assert_eq!(pin, mail2fa_host::PINNED_WASM_SHA256);
    unsafe { mail2fa_host::ffi::mail2fa_host_close(ptr::null_mut()) };
    fs::remove_dir_all(dir).unwrap();
}
