//! Structured errors: a stable snake_case code for programs, a message for people.
//!
//! Messages never quote a secret, a code, a password or a token: they name the field
//! and what is wrong with it.

use alloc::string::{String, ToString};
use core::fmt;

/// Stable error codes. Hosts and conformance vectors match on [`ErrorCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is not UTF-8 JSON, or not a JSON object.
    InvalidRequest,
    /// The request is larger than [`crate::api::MAX_REQUEST_BYTES`].
    RequestTooLarge,
    /// `op` names no operation.
    UnknownOp,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or an out-of-range value.
    InvalidField,
    /// Text is not valid RFC 4648 base32.
    BadBase32,
    /// Text is not valid standard base64.
    BadBase64,
    /// An otpauth URI carries no secret.
    MissingSecret,
    /// A secret is shorter than the minimum the core accepts.
    SecretTooShort,
    /// An algorithm other than SHA1, SHA256 or SHA512.
    UnsupportedAlgorithm,
    /// Digits outside 6..=8.
    UnsupportedDigits,
    /// A period outside the supported range.
    UnsupportedPeriod,
    /// An otpauth URI of a type other than `totp`.
    UnsupportedType,
    /// Text is not an `otpauth://` URI.
    NotOtpauth,
    /// The label's issuer differs from the `issuer` parameter.
    IssuerMismatch,
    /// A label or an issuer/account that cannot be represented.
    InvalidLabel,
    /// A query parameter appears twice.
    DuplicateParameter,
    /// Fewer entropy bytes than an operation needs.
    InsufficientEntropy,
    /// A key in the keyring is malformed (not 32 bytes, bad id, duplicate id).
    InvalidKey,
    /// The keyring has no key with the record's key id.
    UnknownKeyId,
    /// Authenticated decryption failed: wrong key, wrong user, or a corrupted record.
    DecryptFailed,
    /// A record of a format version this core does not know.
    UnsupportedFormat,
    /// A record that does not match the record schema.
    InvalidRecord,
    /// The operation needs an enabled factor and the record has none.
    NotEnabled,
    /// The operation needs a pending enrollment and the record has none.
    NoPendingEnrollment,
    /// The record already has an enabled factor and the request did not ask to replace it.
    AlreadyEnabled,
    /// The site policy does not allow this method (backup codes, trusted devices, app passwords).
    MethodNotAllowed,
    /// A per-user cap is reached (app passwords, trusted devices).
    LimitReached,
    /// A feature the request asks for is turned off by the policy (e.g. device trust with 0 days).
    FeatureDisabled,
    /// Text is not a password hash this core reads (argon2id or argon2i in PHC form).
    UnsupportedHash,
    /// A password hash with parameters beyond the core's limits (a memory or time bomb).
    HashParamsRefused,
    /// The import source is malformed or holds nothing to import.
    InvalidImport,
    /// A security change (a new or replaced factor, new backup codes, an app password, a
    /// trusted device) was asked for without a fresh factor (`proof`).
    FreshFactorRequired,
    /// A login name that cannot be made canonical (empty, control or invisible characters,
    /// white space at an end, more than one `@`, an empty local part or domain).
    InvalidUser,
}

impl ErrorCode {
    /// The stable snake_case name of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::RequestTooLarge => "request_too_large",
            ErrorCode::UnknownOp => "unknown_op",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::BadBase32 => "bad_base32",
            ErrorCode::BadBase64 => "bad_base64",
            ErrorCode::MissingSecret => "missing_secret",
            ErrorCode::SecretTooShort => "secret_too_short",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::UnsupportedDigits => "unsupported_digits",
            ErrorCode::UnsupportedPeriod => "unsupported_period",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::NotOtpauth => "not_otpauth",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::InvalidLabel => "invalid_label",
            ErrorCode::DuplicateParameter => "duplicate_parameter",
            ErrorCode::InsufficientEntropy => "insufficient_entropy",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::UnknownKeyId => "unknown_key_id",
            ErrorCode::DecryptFailed => "decrypt_failed",
            ErrorCode::UnsupportedFormat => "unsupported_format",
            ErrorCode::InvalidRecord => "invalid_record",
            ErrorCode::NotEnabled => "not_enabled",
            ErrorCode::NoPendingEnrollment => "no_pending_enrollment",
            ErrorCode::AlreadyEnabled => "already_enabled",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::FeatureDisabled => "feature_disabled",
            ErrorCode::UnsupportedHash => "unsupported_hash",
            ErrorCode::HashParamsRefused => "hash_params_refused",
            ErrorCode::InvalidImport => "invalid_import",
            ErrorCode::FreshFactorRequired => "fresh_factor_required",
            ErrorCode::InvalidUser => "invalid_user",
        }
    }
}

/// An error from the core: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

impl Error {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code, code.as_str().to_string())
    }
}

/// Result with the core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
