//! The typed op layer: each op's request and response written once, as a struct.
//!
//! A request struct is declared with [`request!`]: its fields are read from the request
//! object in the order written, each by the rule of its type ([`Field`]), so the rule
//! for `user`, `keys`, `time`, `entropy`, `window`, `policy`, `proof`, `record`, … and
//! its error code and message live here once, whatever op takes the field. A response
//! struct is declared with [`response!`] (serde `Serialize`); every field is always
//! present (`None` is `null`). The same declarations list each op's field names
//! ([`super::contract`]), which `tests/contract.rs` compares with the TypeScript types
//! in `crates/mail2fa-wasm/src/typed.rs`, so the two cannot drift apart.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::Request;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{Fresh, ProofMethod};
use crate::policy::Policy;
use crate::reason::Reason;
use crate::record::Record;
use crate::seal::Keyring;
use crate::totp::Params;

/// How a request field is read, and under which keys it appears in the request.
pub(crate) trait Field: Sized {
    /// Whether the request may leave the field out.
    const OPTIONAL: bool;
    /// Reads the field `name` (a struct field's name is its request key).
    fn read(req: &Request, name: &'static str) -> Result<Self>;
    /// The request keys it reads, each with [`Field::OPTIONAL`]-style optionality.
    fn keys(name: &'static str) -> Vec<(&'static str, bool)> {
        vec![(name, Self::OPTIONAL)]
    }
}

/// A request struct: read from a [`Request`], field by field in declaration order.
pub(crate) trait FromRequest: Sized {
    /// Reads every field (the first failure is the op's error).
    fn from_request(req: &Request) -> Result<Self>;
    /// The request keys, each with whether it is optional.
    fn keys() -> Vec<(&'static str, bool)>;
}

/// A response struct: its field names, in declaration order.
pub(crate) trait ToResponse: Serialize {
    /// The response keys (without `ok`).
    const KEYS: &'static [&'static str];
}

/// Declares a request struct and its [`FromRequest`] reader.
macro_rules! request {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        pub struct $name { $($(#[$fmeta])* #[doc = concat!("`", stringify!($field), "`")] pub $field: $ty,)* }
        impl $crate::api::fields::FromRequest for $name {
            #[allow(unused_variables)]
            fn from_request(req: &$crate::api::Request) -> $crate::error::Result<Self> {
                // Struct expressions evaluate their fields in the order written.
                Ok($name { $($field: <$ty as $crate::api::fields::Field>::read(req, stringify!($field))?,)* })
            }
            fn keys() -> alloc::vec::Vec<(&'static str, bool)> {
                #[allow(unused_mut)]
                let mut keys = alloc::vec::Vec::new();
                $(keys.extend(<$ty as $crate::api::fields::Field>::keys(stringify!($field)));)*
                keys
            }
        }
    };
}

/// Declares a response struct (serde `Serialize`, every field always written).
macro_rules! response {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(serde::Serialize)]
        pub struct $name { $($(#[$fmeta])* #[doc = concat!("`", stringify!($field), "`")] pub $field: $ty,)* }
        impl $crate::api::fields::ToResponse for $name {
            const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

pub(crate) use {request, response};

/// A request without fields (`ops`, `version`).
pub struct Empty;

impl FromRequest for Empty {
    fn from_request(_: &Request) -> Result<Self> {
        Ok(Empty)
    }
    fn keys() -> Vec<(&'static str, bool)> {
        Vec::new()
    }
}

/// A required string (at most 64 KiB).
impl Field for String {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.str(name).map(String::from)
    }
}

/// An optional string (absent or null is `None`).
impl Field for Option<String> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ok(req.opt_str(name)?.map(String::from))
    }
}

/// A required non-negative integer (`time` of every op that changes a record).
impl Field for u64 {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.u64(name)
    }
}

/// An optional non-negative integer.
impl Field for Option<u64> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.opt_u64(name)
    }
}

/// An optional boolean, false when absent (`replace`, …).
impl Field for bool {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ok(req.opt_bool(name)?.unwrap_or(false))
    }
}

/// A secret given as a string (a password, a code): wiped when dropped.
pub struct Secret(pub Zeroizing<String>);

impl Secret {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Field for Secret {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ok(Secret(Zeroizing::new(String::from(req.str(name)?))))
    }
}

/// `user`: the authenticated (canonical) login name, 1 to 512 bytes.
pub struct User(pub String);

impl Field for User {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.user().map(String::from).map(User)
    }
}

impl core::ops::Deref for User {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// `keys`: the site keyring, `[{"id", "key"}]`, the first key sealing.
impl Field for Keyring {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.keyring()
    }
}

/// `entropy`: fresh host randomness (base64) keying this call's random stream.
impl Field for EntropyStream {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.rng()
    }
}

/// A field the op needs only in some cases (`entropy` of `totp.activate`, needed when
/// the policy allows backup codes): read with its usual rule, but its error, if any, is
/// the op's only when the op asks for the value ([`Deferred::get`]).
pub struct Deferred<T>(Result<T>);

impl<T> Deferred<T> {
    /// The value, or the error reading it gave.
    pub fn get(self) -> Result<T> {
        self.0
    }

    /// The value, if it was read without an error.
    pub fn peek(&self) -> Option<&T> {
        self.0.as_ref().ok()
    }
}

impl<T: Field> Field for Deferred<T> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ok(Deferred(T::read(req, name)))
    }
}

/// `record`: a stored record (required).
impl Field for Record {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.record()
    }
}

/// `record` where a user without one starts from a new record (`None`).
impl Field for Option<Record> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.opt_record()
    }
}

/// `policy`: the site policy (defaults when absent).
impl Field for Policy {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.policy()
    }
}

/// `window`: steps accepted either side of now (default 1, at most 10).
#[derive(Clone, Copy)]
pub struct Window(pub u64);

impl Field for Window {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.window().map(Window)
    }
}

/// `algorithm`, `digits`, `period` with the usual defaults, validated together.
impl Field for Params {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        req.totp_params()
    }
    fn keys(_: &'static str) -> Vec<(&'static str, bool)> {
        vec![("algorithm", true), ("digits", true), ("period", true)]
    }
}

/// A base32 field's bytes (a TOTP secret), wiped when dropped.
pub struct Base32(pub Zeroizing<Vec<u8>>);

impl Field for Base32 {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.b32(name).map(Zeroizing::new).map(Base32)
    }
}

/// A base64 field's bytes (a salt).
pub struct Base64(pub Vec<u8>);

impl Field for Base64 {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.b64(name).map(Base64)
    }
}

/// A field kept as JSON, for data of a foreign shape (the importers' `prefs`/`blob`,
/// `record.seal`'s `plain`): required.
pub struct Json(pub Value);

impl Field for Json {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        req.get(name).cloned().map(Json).ok_or_else(|| {
            Error::new(
                ErrorCode::MissingField,
                alloc::format!("{name} is required"),
            )
        })
    }
}

/// An optional field kept as JSON (a nested object read by its own rules).
impl Field for Option<Value> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ok(req.get(name).cloned())
    }
}

/// The optional `proof` of a security change: `{"method": "totp" | "backup_code"
/// (default "totp"), "code"}`.
pub struct Proof(pub Option<(ProofMethod, Zeroizing<String>)>);

impl Proof {
    /// The method and code, borrowed.
    pub fn as_ref(&self) -> Option<(ProofMethod, &str)> {
        self.0
            .as_ref()
            .map(|(method, code)| (*method, code.as_str()))
    }
}

impl Field for Proof {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let bad = || {
            Error::new(
                ErrorCode::InvalidField,
                "proof must be {\"method\": \"totp\" | \"backup_code\", \"code\": string}",
            )
        };
        let Some(value) = req.get(name) else {
            return Ok(Proof(None));
        };
        let inner = Request::new(value.as_object().ok_or_else(bad)?);
        let method = match inner.opt_str("method").map_err(|_| bad())? {
            None => ProofMethod::Totp,
            Some(name) => ProofMethod::parse(name).ok_or_else(bad)?,
        };
        let code = inner.str("code").map_err(|_| bad())?;
        Ok(Proof(Some((method, Zeroizing::new(String::from(code))))))
    }
}

/// The optional `method` of `totp.disable`: `"totp"` (default) or `"backup_code"`.
impl Field for ProofMethod {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        match req.opt_str(name)? {
            None => Ok(ProofMethod::Totp),
            Some(text) => ProofMethod::parse(text).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidField,
                    "method must be \"totp\" or \"backup_code\"",
                )
            }),
        }
    }
}

/// The `fresh` object of a security change's response: how its `proof` was judged.
#[derive(Serialize)]
pub struct FreshOut {
    /// Whether the proof was accepted.
    pub accepted: bool,
    /// `totp` or `backup_code`.
    pub method: &'static str,
    /// Why not, when refused.
    pub reason: Option<Reason>,
    /// Seconds of a lock, when locked.
    pub retry_after: Option<u64>,
}

impl FreshOut {
    /// The response object of a [`Fresh`] verdict.
    pub fn of(fresh: &Fresh) -> Self {
        FreshOut {
            accepted: fresh.accepted,
            method: fresh.method.as_str(),
            reason: fresh.reason,
            retry_after: fresh.retry_after,
        }
    }
}

/// An otpauth URI (`uri` of `totp.import`, `otpauth.parse`), parsed and validated.
impl Field for crate::otpauth::KeyUri {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        crate::otpauth::KeyUri::parse(req.str(name)?)
    }
}

/// A TOTP secret given in base32 to compute codes with (`totp.code`): at least the
/// 80 bits legacy imports may have.
pub struct TotpSecret(pub Zeroizing<Vec<u8>>);

impl Field for TotpSecret {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let secret = Zeroizing::new(req.b32(name)?);
        crate::totp::check_secret_len(&secret, crate::totp::MIN_IMPORTED_SECRET_BYTES)?;
        Ok(TotpSecret(secret))
    }
}

/// A rule of the site policy an op needs before anything else (its method allowed, the
/// feature on), checked as soon as `policy` is read.
pub(crate) trait Gate {
    /// Refuses what the policy does not allow.
    fn check(policy: &Policy) -> Result<()>;
}

/// `policy` for an op the policy must allow ([`Gate`]).
pub struct Allowing<G>(pub Policy, core::marker::PhantomData<G>);

impl<G> core::ops::Deref for Allowing<G> {
    type Target = Policy;
    fn deref(&self) -> &Policy {
        &self.0
    }
}

impl<G: Gate> Field for Allowing<G> {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let policy = Policy::read(req, name)?;
        G::check(&policy)?;
        Ok(Allowing(policy, core::marker::PhantomData))
    }
}

/// Ops on backup codes: the policy allows `backup_code`.
pub enum BackupCodesAllowed {}

impl Gate for BackupCodesAllowed {
    fn check(policy: &Policy) -> Result<()> {
        policy.require(crate::policy::Method::BackupCode)
    }
}

/// Ops on app passwords: the policy allows `app_password`.
pub enum AppPasswordsAllowed {}

impl Gate for AppPasswordsAllowed {
    fn check(policy: &Policy) -> Result<()> {
        policy.require(crate::policy::Method::AppPassword)
    }
}

/// Trusting a device: the policy allows `trusted_device` and keeps devices for some days.
pub enum DevicesAllowed {}

impl Gate for DevicesAllowed {
    fn check(policy: &Policy) -> Result<()> {
        policy.require(crate::policy::Method::TrustedDevice)?;
        crate::device::check_enabled(policy)
    }
}

/// `label` of an app password: 1 to 64 characters, no control or invisible formatting
/// characters ([`crate::label::check`]).
pub struct Label(pub String);

impl Field for Label {
    const OPTIONAL: bool = false;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        crate::label::check(req.str(name)?, name, crate::label::MAX_LABEL_CHARS).map(Label)
    }
}
