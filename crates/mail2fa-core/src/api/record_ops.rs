//! Record ops: create, inspect, open for export, seal from plain form, rotate keys, reset.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use super::fields::{request, response, Json, User};
use super::totp_ops::RecordResponse;
use crate::entropy::EntropyStream;
use crate::error::Result;
use crate::record::{Record, State};
use crate::seal::Keyring;

request! {
    /// `record.new`.
    pub struct NewRequest {
        time: u64,
    }
}

response! {
    /// `record.new`.
    pub struct NewResponse {
        record: Record,
    }
}

/// `record.new`: an empty record (2FA disabled).
pub fn new(req: NewRequest) -> Result<NewResponse> {
    Ok(NewResponse {
        record: Record::new(req.time),
    })
}

request! {
    /// `record.status`.
    pub struct StatusRequest {
        user: User,
        keys: Keyring,
        record: Record,
        time: Option<u64>,
    }
}

/// The enabled factor's public settings (never the secret).
#[derive(serde::Serialize)]
pub struct TotpStatus {
    algorithm: &'static str,
    digits: u8,
    period: u64,
    issuer: Option<String>,
    account: String,
    last_step: Option<u64>,
    created_at: u64,
    enabled_at: Option<u64>,
}

response! {
    /// `record.status`.
    pub struct StatusResponse {
        state: State,
        rev: u64,
        totp: Option<TotpStatus>,
        pending: bool,
        key_ids: Vec<String>,
        needs_rotation: bool,
        backup_codes_remaining: u64,
        app_passwords: u64,
        devices: u64,
        retry_after: Option<u64>,
    }
}

/// `record.status`: state and key use, after checking that every sealed value opens.
/// A record that does not open is an error, never "2FA off".
pub fn status(req: StatusRequest) -> Result<StatusResponse> {
    let StatusRequest {
        user,
        keys,
        record,
        time,
    } = req;
    record.check_opens(&keys, &user)?;
    let key_ids: Vec<String> = record.key_ids().into_iter().map(String::from).collect();
    let needs_rotation = key_ids.iter().any(|id| id != keys.current().id());
    let totp = record.totp.as_ref().map(|f| TotpStatus {
        algorithm: f.algorithm.as_str(),
        digits: f.digits,
        period: f.period,
        issuer: f.issuer.clone(),
        account: f.account.clone(),
        last_step: f.last_step,
        created_at: f.created_at,
        enabled_at: f.enabled_at,
    });
    Ok(StatusResponse {
        state: record.state(),
        rev: record.rev,
        totp,
        pending: record.pending_totp.is_some(),
        key_ids,
        needs_rotation,
        backup_codes_remaining: record.backup_codes_remaining(),
        app_passwords: record.app_passwords.len() as u64,
        devices: record.devices.len() as u64,
        retry_after: time.and_then(|time| record.limiter.retry_after(time)),
    })
}

request! {
    /// `record.open`.
    pub struct OpenRequest {
        user: User,
        keys: Keyring,
        record: Record,
    }
}

response! {
    /// `record.open`: `plain` is the record with its secrets in base32.
    pub struct OpenResponse {
        state: State,
        plain: Value,
    }
}

/// `record.open`: the record with every TOTP secret decrypted to base32 (admin export).
pub fn open(req: OpenRequest) -> Result<OpenResponse> {
    let OpenRequest { user, keys, record } = req;
    Ok(OpenResponse {
        plain: record.open_plain(&keys, &user)?,
        state: record.state(),
    })
}

request! {
    /// `record.seal`.
    pub struct SealRequest {
        user: User,
        keys: Keyring,
        entropy: EntropyStream,
        plain: Json,
    }
}

/// `record.seal`: the inverse of `record.open`: a plain record (secrets in base32)
/// sealed under the current key ([`Record::seal_plain`]).
pub fn seal_plain(req: SealRequest) -> Result<RecordResponse> {
    let SealRequest {
        user,
        keys,
        mut entropy,
        plain,
    } = req;
    let record = Record::seal_plain(&plain.0, &keys, &user, &mut entropy)?;
    Ok(RecordResponse::of(record))
}

request! {
    /// `record.rotate_key`.
    pub struct RotateKeyRequest {
        user: User,
        keys: Keyring,
        entropy: EntropyStream,
        time: u64,
        record: Record,
    }
}

response! {
    /// `record.rotate_key`.
    pub struct RotateKeyResponse {
        resealed: u64,
        record: Record,
    }
}

/// `record.rotate_key`: re-seals every value not sealed under the current key.
pub fn rotate_key(req: RotateKeyRequest) -> Result<RotateKeyResponse> {
    let RotateKeyRequest {
        user,
        keys,
        mut entropy,
        time,
        mut record,
    } = req;
    let resealed = record.reseal_all(&keys, &user, &mut entropy)?;
    if resealed > 0 {
        record.touch(time);
    }
    Ok(RotateKeyResponse { resealed, record })
}

request! {
    /// `record.reset`: `record` is read as JSON, since a damaged record can be reset too.
    pub struct ResetRequest {
        time: u64,
        record: Option<Value>,
    }
}

/// `record.reset`: the admin reset (lost phone). Every factor, code, device, app password
/// and pending enrollment goes, the limiter is cleared, and `rev` is the old one plus 1
/// (1 without a record), so the host's compare-and-set write never repeats a `rev`
/// ([`Record::reset_stored`]).
pub fn reset(req: ResetRequest) -> Result<RecordResponse> {
    Ok(RecordResponse::of(Record::reset_stored(
        req.record.as_ref(),
        req.time,
    )?))
}
