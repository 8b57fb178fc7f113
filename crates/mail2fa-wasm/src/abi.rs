//! The raw C ABI. The one place in mail2fa with `unsafe`: raw pointers in linear memory.
#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, Layout};

/// Largest buffer a host may ask for; past it `mail2fa_alloc` returns 0 instead of trapping.
const MAX_ALLOC: u32 = 16 * 1024 * 1024;

fn layout(len: u32) -> Option<Layout> {
    Layout::from_size_align(len as usize, 1).ok()
}

/// Allocates `len` bytes for a request. Returns 0 when `len` is 0 or over 16 MiB.
#[no_mangle]
pub extern "C" fn mail2fa_alloc(len: u32) -> u32 {
    if len == 0 || len > MAX_ALLOC {
        return 0;
    }
    match layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { alloc(layout) as u32 },
        None => 0,
    }
}

/// Frees a buffer returned by `mail2fa_alloc` or `mail2fa_call`, with its length.
///
/// # Safety
/// `ptr` and `len` must describe exactly one live buffer from this module.
#[no_mangle]
pub unsafe extern "C" fn mail2fa_free(ptr: u32, len: u32) {
    if ptr == 0 || len == 0 {
        return;
    }
    if let Some(layout) = layout(len) {
        // SAFETY: per the contract, the buffer was allocated with this same layout.
        unsafe { dealloc(ptr as *mut u8, layout) }
    }
}

/// Runs the UTF-8 JSON request at `[ptr, ptr + len)` and returns the response buffer
/// packed as `ptr << 32 | len`. The request buffer is not freed.
///
/// # Safety
/// `[ptr, ptr + len)` must be readable memory of this module (a `mail2fa_alloc` buffer).
#[no_mangle]
pub unsafe extern "C" fn mail2fa_call(ptr: u32, len: u32) -> u64 {
    let request: &[u8] = if ptr == 0 || len == 0 {
        &[]
    } else {
        // SAFETY: per the contract, the host wrote `len` bytes at `ptr`.
        unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
    };
    let response = mail2fa_core::api::handle_bytes(request).into_boxed_slice();
    let response_len = response.len() as u64;
    // Box<[u8]> of n bytes has the layout (n, 1) that mail2fa_free deallocates with.
    let response_ptr = Box::into_raw(response) as *mut u8 as u32 as u64;
    (response_ptr << 32) | response_len
}
