//! mail2fa as one WebAssembly module with two faces over one dispatcher
//! ([`mail2fa_core::api::handle`]):
//!
//! * [`abi`]: the host-neutral C ABI (`mail2fa_alloc`, `mail2fa_free`, `mail2fa_call`),
//!   JSON bytes in and out, for PHP (through wasmtime) and any other host. It calls no
//!   JS import, so hosts may define every import as a trap.
//! * [`typed`]: the wasm-bindgen API the npm package wraps: one function per op, taking
//!   and returning plain JS objects, throwing an `Error` with a `code` on failure.
//!
//! See `docs/abi.md` and `docs/ops.md`.
#![deny(unsafe_code)]

#[cfg(target_arch = "wasm32")]
pub mod abi;
pub mod typed;
