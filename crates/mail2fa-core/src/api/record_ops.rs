//! Record ops: create, inspect, open for export, seal from plain form, rotate keys.

use serde_json::{Map, Value};

use super::totp_ops::ensure_opens;
use super::{fields, Request, Response};
use crate::encoding::{b32_decode, b32_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::record::Record;
use crate::seal::seal;
use crate::totp::{check_secret_len, Algorithm, Params, MIN_IMPORTED_SECRET_BYTES};

const FACTOR_SLOTS: [&str; 2] = ["totp", "pending_totp"];

/// `record.new`: an empty record (2FA disabled).
pub fn new(req: &Request) -> Result<Response> {
    Ok(fields([("record", Record::new(req.time()?).to_value())]))
}

/// `record.status`: state and key use, after checking that every sealed value opens.
/// A record that does not open is an error, never "2FA off".
pub fn status(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let keyring = req.keyring()?;
    let record = req.record()?;
    ensure_opens(&record, &keyring, user)?;
    let key_ids = record.key_ids();
    let needs_rotation = key_ids.iter().any(|id| *id != keyring.current().id());
    let totp = record.totp.as_ref().map_or(Value::Null, |f| {
        serde_json::json!({
            "algorithm": f.algorithm.as_str(), "digits": f.digits, "period": f.period,
            "issuer": f.issuer, "account": f.account, "last_step": f.last_step,
            "created_at": f.created_at, "enabled_at": f.enabled_at,
        })
    });
    Ok(fields([
        ("state", Value::from(record.state().as_str())),
        ("rev", Value::from(record.rev)),
        ("totp", totp),
        ("pending", Value::from(record.pending_totp.is_some())),
        ("key_ids", Value::from(key_ids)),
        ("needs_rotation", Value::from(needs_rotation)),
        (
            "backup_codes_remaining",
            Value::from(
                record
                    .backup_codes
                    .as_ref()
                    .map_or(0, |c| c.remaining() as u64),
            ),
        ),
        (
            "app_passwords",
            Value::from(record.app_passwords.len() as u64),
        ),
        ("devices", Value::from(record.devices.len() as u64)),
        (
            "retry_after",
            match req.opt_u64("time")? {
                Some(time) => record
                    .limiter
                    .retry_after(time)
                    .map_or(Value::Null, Value::from),
                None => Value::Null,
            },
        ),
    ]))
}

/// `record.open`: the record with every TOTP secret decrypted to base32 (admin export).
pub fn open(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let keyring = req.keyring()?;
    let record = req.record()?;
    let mut plain = record.to_value();
    for (slot, factor) in FACTOR_SLOTS
        .iter()
        .zip([&record.totp, &record.pending_totp])
    {
        if let Some(factor) = factor {
            let secret = factor.open_secret(&keyring, user)?;
            plain[*slot]["secret"] = Value::from(b32_encode(&secret));
        }
    }
    Ok(fields([
        ("state", Value::from(record.state().as_str())),
        ("plain", plain),
    ]))
}

/// `record.seal`: the inverse of `record.open`: a plain record (secrets in base32)
/// sealed under the current key.
pub fn seal_plain(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let mut plain: Map<_, _> = match req.get("plain") {
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidField,
                "plain must be a record object",
            ))
        }
        None => return Err(Error::new(ErrorCode::MissingField, "plain is required")),
    };
    for slot in FACTOR_SLOTS {
        let Some(Value::Object(factor)) = plain.get_mut(slot) else {
            continue;
        };
        let secret = match factor.get("secret") {
            Some(Value::String(text)) => b32_decode(text, "secret")?,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidField,
                    "each factor of plain needs its secret as a base32 string",
                ))
            }
        };
        check_secret_len(&secret, MIN_IMPORTED_SECRET_BYTES)?;
        let params = Params {
            algorithm: Algorithm::parse(
                factor
                    .get("algorithm")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )?,
            digits: factor
                .get("digits")
                .and_then(Value::as_u64)
                .and_then(|d| u8::try_from(d).ok())
                .unwrap_or(0),
            period: factor.get("period").and_then(Value::as_u64).unwrap_or(0),
        };
        params.validate()?;
        let sealed = seal(&keyring, user, "totp", &secret, &mut rng);
        factor.insert(
            "secret".into(),
            serde_json::to_value(sealed).unwrap_or(Value::Null),
        );
    }
    let record = Record::from_value(&Value::Object(plain))?;
    Ok(fields([
        ("state", Value::from(record.state().as_str())),
        ("record", record.to_value()),
    ]))
}

/// `record.rotate_key`: re-seals every value not sealed under the current key.
pub fn rotate_key(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let time = req.time()?;
    let mut record = req.record()?;
    let resealed = record.reseal_all(&keyring, user, &mut rng)?;
    if resealed > 0 {
        record.touch(time);
    }
    Ok(fields([
        ("resealed", Value::from(resealed)),
        ("record", record.to_value()),
    ]))
}

/// `record.reset`: the admin reset (lost phone). Every factor, code, device, app password
/// and pending enrollment goes, the limiter is cleared, and `rev` is the old one plus 1
/// (1 without a record), so the host's compare-and-set write never repeats a `rev`. A
/// record that no longer matches the schema (but still carries its numeric `rev`) can be
/// reset too; a record of a newer format is refused rather than downgraded.
pub fn reset(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let (rev, updated_at) = match req.get("record") {
        None => (None, 0),
        Some(value) => match Record::from_value(value) {
            Ok(record) => (Some(record.rev), record.updated_at),
            Err(e) if e.code() == ErrorCode::InvalidRecord => {
                let rev = value.get("rev").and_then(Value::as_u64).ok_or(e)?;
                let updated_at = value.get("updated_at").and_then(Value::as_u64);
                (Some(rev), updated_at.unwrap_or(0))
            }
            Err(e) => return Err(e),
        },
    };
    let record = Record::reset(rev, updated_at, time)?;
    Ok(fields([
        ("state", Value::from(record.state().as_str())),
        ("record", record.to_value()),
    ]))
}
