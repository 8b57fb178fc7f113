//! Typed access to the fields of a request, each failure naming the field.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::encoding::{b32_decode, b64_decode};
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::Policy;
use crate::record::Record;
use crate::seal::{Keyring, SiteKey};
use crate::totp::{Algorithm, Params, DEFAULT_WINDOW, MAX_WINDOW};

/// The longest user name accepted (the canonical name's limit, [`crate::user`]).
pub const MAX_USER_LEN: usize = crate::user::MAX_USER_LEN;
/// The longest text field accepted where no tighter limit applies.
const MAX_TEXT_LEN: usize = 64 * 1024;
/// The most keys in a keyring.
const MAX_KEYS: usize = 16;

/// Whether a text field of `len` bytes is short enough ([`Request::opt_str`]'s rule; the
/// login check's text path applies the same one).
#[inline]
pub(crate) const fn text_len_ok(len: usize) -> bool {
    len <= MAX_TEXT_LEN
}

/// Whether a user name of `len` bytes is allowed ([`Request::user`]'s rule).
#[inline]
pub(crate) const fn user_len_ok(len: usize) -> bool {
    len != 0 && len <= MAX_USER_LEN
}

/// Whether a keyring of `count` keys is allowed ([`Request::keyring`]'s rule).
#[inline]
pub(crate) const fn key_count_ok(count: usize) -> bool {
    count <= MAX_KEYS
}

/// A request object with typed getters.
pub struct Request<'a> {
    fields: &'a Map<String, Value>,
    /// The `record` field as JSON text, when the dispatcher kept it out of `fields`
    /// (see [`Request::with_record_json`]).
    record_json: Option<&'a str>,
}

fn missing(name: &str) -> Error {
    Error::new(
        ErrorCode::MissingField,
        alloc::format!("{name} is required"),
    )
}

fn invalid(name: &str, expected: &str) -> Error {
    Error::new(
        ErrorCode::InvalidField,
        alloc::format!("{name} must be {expected}"),
    )
}

impl<'a> Request<'a> {
    /// Wraps a request object.
    pub fn new(fields: &'a Map<String, Value>) -> Self {
        Request {
            fields,
            record_json: None,
        }
    }

    /// Wraps a request object whose `record` field is given as its JSON text (`None`:
    /// absent), read straight into a [`Record`] by [`Request::record`] instead of through a
    /// `serde_json::Value`. Only for ops that read `record` through [`Request::record`] or
    /// [`Request::record_or_new`]: [`Request::get`] does not see it.
    pub fn with_record_json(fields: &'a Map<String, Value>, record_json: Option<&'a str>) -> Self {
        Request {
            fields,
            record_json: record_json.filter(|text| text.trim() != "null"),
        }
    }

    fn has_record(&self) -> bool {
        self.record_json.is_some() || self.get("record").is_some()
    }

    fn parse_record(&self) -> Option<Result<Record>> {
        match self.record_json {
            Some(text) => Some(Record::from_json(text)),
            None => self.get("record").map(Record::from_value),
        }
    }

    /// A field that is present and not null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    /// A required string.
    pub fn str(&self, name: &str) -> Result<&'a str> {
        self.opt_str(name)?.ok_or_else(|| missing(name))
    }

    /// An optional string (absent or null is `None`).
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if text_len_ok(s.len()) => Ok(Some(s)),
            Some(Value::String(_)) => Err(invalid(name, "at most 65536 bytes")),
            Some(_) => Err(invalid(name, "a string")),
        }
    }

    /// A required non-negative integer.
    pub fn u64(&self, name: &str) -> Result<u64> {
        self.opt_u64(name)?.ok_or_else(|| missing(name))
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(name, "a non-negative integer")),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(name, "true or false")),
        }
    }

    /// A required base64 field's bytes.
    pub fn b64(&self, name: &str) -> Result<Vec<u8>> {
        b64_decode(self.str(name)?, name)
    }

    /// A required base32 field's bytes.
    pub fn b32(&self, name: &str) -> Result<Vec<u8>> {
        b32_decode(self.str(name)?, name)
    }

    /// `time`: now, in Unix seconds.
    pub fn time(&self) -> Result<u64> {
        self.u64("time")
    }

    /// `user`: the authenticated login name, 1 to 512 bytes.
    pub fn user(&self) -> Result<&'a str> {
        let user = self.str("user")?;
        if !user_len_ok(user.len()) {
            return Err(invalid("user", "1 to 512 bytes"));
        }
        Ok(user)
    }

    /// `entropy`: fresh host randomness keying this call's random stream.
    pub fn rng(&self) -> Result<EntropyStream> {
        EntropyStream::from_host(&self.b64("entropy")?)
    }

    /// `keys`: the site keyring, `[{"id", "key"}]`, first key sealing.
    pub fn keyring(&self) -> Result<Keyring> {
        let Some(Value::Array(items)) = self.get("keys") else {
            return match self.get("keys") {
                None => Err(missing("keys")),
                Some(_) => Err(invalid("keys", "an array of {\"id\", \"key\"}")),
            };
        };
        if !key_count_ok(items.len()) {
            return Err(invalid("keys", "at most 16 keys"));
        }
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            let (Some(id), Some(key)) = (
                item.get("id").and_then(Value::as_str),
                item.get("key").and_then(Value::as_str),
            ) else {
                return Err(invalid(
                    "keys",
                    "an array of {\"id\": string, \"key\": base64}",
                ));
            };
            keys.push(SiteKey::new(id, &b64_decode(key, "key")?)?);
        }
        Keyring::new(keys)
    }

    /// `record`: a stored record.
    pub fn record(&self) -> Result<Record> {
        self.parse_record()
            .unwrap_or_else(|| Err(missing("record")))
    }

    /// `record` if given (`None`: absent or null).
    pub fn opt_record(&self) -> Result<Option<Record>> {
        self.parse_record().transpose()
    }

    /// `record` if given, else a new empty record.
    pub fn record_or_new(&self, time: u64) -> Result<Record> {
        if !self.has_record() {
            return Ok(Record::new(time));
        }
        self.parse_record().unwrap_or_else(|| Ok(Record::new(time)))
    }

    /// `policy`: the site policy (defaults when absent).
    pub fn policy(&self) -> Result<Policy> {
        Policy::from_value(self.get("policy"))
    }

    /// `window`: steps accepted either side of now (default 1, at most 10).
    pub fn window(&self) -> Result<u64> {
        let window = self.opt_u64("window")?.unwrap_or(DEFAULT_WINDOW);
        if window > MAX_WINDOW {
            return Err(invalid("window", "0 to 10"));
        }
        Ok(window)
    }

    /// `algorithm`, `digits`, `period` with the usual defaults, validated.
    pub fn totp_params(&self) -> Result<Params> {
        let defaults = Params::default();
        let params = Params {
            algorithm: match self.opt_str("algorithm")? {
                Some(a) => Algorithm::parse(a)?,
                None => defaults.algorithm,
            },
            digits: match self.opt_u64("digits")? {
                Some(d) => u8::try_from(d).map_err(|_| {
                    Error::new(ErrorCode::UnsupportedDigits, "digits must be 6 to 8")
                })?,
                None => defaults.digits,
            },
            period: self.opt_u64("period")?.unwrap_or(defaults.period),
        };
        params.validate()?;
        Ok(params)
    }
}
