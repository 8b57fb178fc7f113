//! The C ABI (header: `plugins-php/mail2fa/mail2fa.h`). Every string this library returns
//! is a `char*` from [`CString::into_raw`]; the caller frees it with
//! [`mail2fa_host_free`]. No panic crosses this boundary: each function catches unwinding
//! and turns it into an error (`host_panic`).
#![allow(unsafe_code)]

use std::ffi::{c_char, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;

use crate::{Host, HostError};

/// Opaque handle for C (`typedef struct mail2fa_host mail2fa_host;`).
pub struct Mail2faHost(Host);

fn into_c(s: String) -> *mut c_char {
    // Responses are JSON (no NUL); replace one that somehow has a NUL rather than fail.
    let s = CString::new(s).unwrap_or_else(|_| {
        CString::new(HostError::new("module_fault", "response contains a NUL byte").to_json())
            .unwrap_or_default()
    });
    s.into_raw()
}

fn panic_error(what: &str) -> String {
    HostError::new(
        "host_panic",
        format!("the host library failed internally in {what}"),
    )
    .to_json()
}

/// # Safety
/// `p` is null or a NUL-terminated string that stays valid during the call.
unsafe fn path_arg<'a>(p: *const c_char) -> Option<&'a Path> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated string (documented contract).
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Some(Path::new(OsStr::from_bytes(bytes)))
}

/// Opens the module at `wasm_path` (must match the sha256 pinned into this library) with
/// precompiled modules cached in `cache_dir` (NULL: no disk cache). Returns a handle, or
/// NULL with `*err` set to error JSON (free it with `mail2fa_host_free`) when `err` is not
/// NULL.
///
/// # Safety
/// `wasm_path` and `cache_dir` are NULL or NUL-terminated strings; `err` is NULL or points
/// to writable `char*` storage.
#[no_mangle]
pub unsafe extern "C" fn mail2fa_host_open(
    wasm_path: *const c_char,
    cache_dir: *const c_char,
    err: *mut *mut c_char,
) -> *mut Mail2faHost {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded caller contract.
        let wasm = unsafe { path_arg(wasm_path) }
            .ok_or_else(|| HostError::new("invalid_argument", "wasm_path is NULL").to_json())?;
        // SAFETY: forwarded caller contract.
        let cache = unsafe { path_arg(cache_dir) };
        Host::open(wasm, cache)
            .map(|h| Box::into_raw(Box::new(Mail2faHost(h))))
            .map_err(|e| e.to_json())
    }))
    .unwrap_or_else(|_| Err(panic_error("open")));
    match result {
        Ok(handle) => {
            if !err.is_null() {
                // SAFETY: `err` is writable per the contract.
                unsafe { *err = ptr::null_mut() };
            }
            handle
        }
        Err(json) => {
            if !err.is_null() {
                // SAFETY: `err` is writable per the contract.
                unsafe { *err = into_c(json) };
            }
            ptr::null_mut()
        }
    }
}

/// Runs the JSON request `[request, request+len)` and returns the response JSON (never
/// NULL; free it with `mail2fa_host_free`).
///
/// # Safety
/// `host` is a live handle from `mail2fa_host_open`; `request` points to `len` readable
/// bytes (or is NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn mail2fa_host_call(
    host: *const Mail2faHost,
    request: *const c_char,
    len: usize,
) -> *mut c_char {
    let out = catch_unwind(AssertUnwindSafe(|| {
        if host.is_null() {
            return HostError::new("invalid_argument", "host handle is NULL").to_json();
        }
        if request.is_null() && len != 0 {
            return HostError::new("invalid_argument", "request is NULL").to_json();
        }
        let bytes: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `request` points to `len` readable bytes per the contract.
            unsafe { std::slice::from_raw_parts(request.cast::<u8>(), len) }
        };
        // SAFETY: `host` is a live handle per the contract.
        unsafe { &(*host).0 }.call(bytes)
    }))
    .unwrap_or_else(|_| panic_error("call"));
    into_c(out)
}

/// What the open behind `host` did: `{"ok":true,"source":"process"|"disk_cache"|"compiled",
/// "ready_us":…,"compile_ms":…,"cache_file":…,"cache_error":…,…}`. Free with
/// `mail2fa_host_free`.
///
/// # Safety
/// `host` is NULL or a live handle from `mail2fa_host_open`.
#[no_mangle]
pub unsafe extern "C" fn mail2fa_host_status(host: *const Mail2faHost) -> *mut c_char {
    let out = catch_unwind(AssertUnwindSafe(|| {
        if host.is_null() {
            return HostError::new("invalid_argument", "host handle is NULL").to_json();
        }
        // SAFETY: `host` is a live handle per the contract.
        unsafe { &(*host).0 }.status_json()
    }))
    .unwrap_or_else(|_| panic_error("status"));
    into_c(out)
}

/// The sha256 of the only module this library runs (`""` if built unpinned). Free with
/// `mail2fa_host_free`.
#[no_mangle]
pub extern "C" fn mail2fa_host_pinned_sha256() -> *mut c_char {
    into_c(crate::PINNED_WASM_SHA256.to_owned())
}

/// Frees a string returned by this library. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string returned by this library, not freed before.
#[no_mangle]
pub unsafe extern "C" fn mail2fa_host_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `s` came from `CString::into_raw` in this library per the contract.
        drop(unsafe { CString::from_raw(s) });
    });
}

/// Releases a handle. The module and its instance stay loaded in the process for the next
/// open. NULL is ignored.
///
/// # Safety
/// `host` is NULL or a handle from `mail2fa_host_open`, not closed before.
#[no_mangle]
pub unsafe extern "C" fn mail2fa_host_close(host: *mut Mail2faHost) {
    if host.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `host` came from `Box::into_raw` in `mail2fa_host_open` per the contract.
        drop(unsafe { Box::from_raw(host) });
    }));
}
