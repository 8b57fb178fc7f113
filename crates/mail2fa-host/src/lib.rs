//! Native host library for PHP (through FFI) and any other C caller: runs exactly the
//! `dist/mail2fa.wasm` it was built for, in wasmtime, through the module's raw JSON ABI
//! (see `docs/abi.md`).
//!
//! * **Pinned module.** The sha256 of `dist/mail2fa.wasm` is compiled into the library
//!   (`build.rs`); a file with other bytes is refused with `module_mismatch`.
//! * **Fast requests.** Compiling the module with cranelift takes a few hundred ms, so
//!   the compiled code is cached on disk (see [`cache`]) and the ready module and its
//!   instance are kept in the process: a php-fpm worker pays the load once and each later
//!   request pays a file `stat` and a map look-up.
//! * **Never crashes the caller.** Every import of the module is a trap (the raw ABI never
//!   calls one); a trap becomes error JSON and the instance is thrown away, the next call
//!   gets a fresh one; panics are caught at the C boundary ([`ffi`]).
//!
//! Unsafe code lives only in the C shim ([`ffi`]) and in the one call that maps a
//! precompiled module from the cache ([`cache`]).
#![deny(unsafe_code)]

pub mod cache;
mod error;
pub mod ffi;
mod host;

pub use error::HostError;
pub use host::{Host, OpenInfo, Source};

/// The sha256 (lower-case hex) of the only module this build runs; empty when the library
/// was built before `dist/mail2fa.wasm` existed (it then refuses every module).
pub const PINNED_WASM_SHA256: &str = env!("MAIL2FA_PINNED_WASM_SHA256");

/// The wasmtime version compiled in (part of the cache key).
pub const WASMTIME_VERSION: &str = env!("MAIL2FA_WASMTIME_VERSION");
