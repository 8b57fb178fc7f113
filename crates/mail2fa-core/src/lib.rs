//! # mail2fa-core
//!
//! The decisions of mail2fa — TOTP, sealed user records, and (as they land) backup codes,
//! app passwords, trusted devices and the attempt limiter — as a sans-I/O library.
//! The core never reads a clock or a random source (it is `no_std`: it has none):
//! hosts pass `time` and `entropy` in, and get the new record back to store with
//! compare-and-set.
//!
//! Every host talks to it through one JSON dispatcher, [`api::handle`]:
//!
//! ```
//! use serde_json::json;
//! let response = mail2fa_core::api::handle(&json!({
//!     "op": "totp.code",
//!     "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
//!     "time": 59, "algorithm": "SHA1", "digits": 8, "period": 30,
//! }));
//! assert_eq!(response, json!({"ok": true, "code": "94287082"}));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod api;
pub mod app_password;
pub mod backup;
pub mod device;
pub mod encoding;
pub mod entropy;
pub mod error;
pub mod import;
pub mod label;
pub mod limiter;
pub mod login;
pub mod otpauth;
pub mod phc;
pub mod policy;
pub mod qr;
pub mod reason;
pub mod record;
mod record_json;
pub mod seal;
pub mod totp;
pub mod user;
pub mod webmail;

pub use error::{Error, ErrorCode, Result};
