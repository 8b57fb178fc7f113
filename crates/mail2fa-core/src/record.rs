//! The synchronized user record (format 1): what a host stores per user, as JSON.
//!
//! Secrets inside are sealed ([`crate::seal`]); everything else is plain so admins and
//! hosts can read states and times without a key. Every change made by the core bumps
//! `rev`, which hosts use for compare-and-set writes. See `docs/record-format.md`.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::app_password::AppPassword;
use crate::backup::BackupCodes;
use crate::device::Device;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::limiter::Limiter;
use crate::seal::{open, seal, Keyring, Sealed};
use crate::totp::{Algorithm, Params};

/// The record format this core reads and writes.
pub const FORMAT: u64 = 1;
/// The AEAD purpose label of TOTP secrets.
const TOTP_PURPOSE: &str = "totp";

/// Whether a user has 2FA: no factor, an unconfirmed enrollment, or an enabled factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No TOTP factor; an unfinished enrollment never makes 2FA required.
    Disabled,
    /// An enrollment waits for its first correct code; login does not ask for it yet.
    Pending,
    /// A confirmed TOTP factor: the second factor is required.
    Enabled,
}

impl State {
    /// `disabled`, `pending` or `enabled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Disabled => "disabled",
            State::Pending => "pending",
            State::Enabled => "enabled",
        }
    }
}

/// A TOTP factor, enabled or pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpFactor {
    /// HMAC hash.
    pub algorithm: Algorithm,
    /// Digits per code.
    pub digits: u8,
    /// Seconds per step.
    pub period: u64,
    /// The sealed secret.
    pub secret: Sealed,
    /// Issuer shown in the authenticator app.
    pub issuer: Option<String>,
    /// Account name shown in the authenticator app.
    pub account: String,
    /// The last accepted step: no step at or before it is accepted again.
    pub last_step: Option<u64>,
    /// When the factor was created (enrolled or imported).
    pub created_at: u64,
    /// When the factor was confirmed; `None` while pending.
    pub enabled_at: Option<u64>,
}

impl TotpFactor {
    /// A factor sealing `secret` for `user`.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_new(
        keyring: &Keyring,
        user: &str,
        secret: &[u8],
        params: Params,
        issuer: Option<String>,
        account: String,
        time: u64,
        rng: &mut EntropyStream,
    ) -> Self {
        TotpFactor {
            algorithm: params.algorithm,
            digits: params.digits,
            period: params.period,
            secret: seal(keyring, user, TOTP_PURPOSE, secret, rng),
            issuer,
            account,
            last_step: None,
            created_at: time,
            enabled_at: None,
        }
    }

    /// Algorithm, digits and period.
    pub fn params(&self) -> Params {
        Params {
            algorithm: self.algorithm,
            digits: self.digits,
            period: self.period,
        }
    }

    /// The secret's bytes; fails closed on any key, user or integrity mismatch.
    pub fn open_secret(&self, keyring: &Keyring, user: &str) -> Result<Zeroizing<Vec<u8>>> {
        open(keyring, user, TOTP_PURPOSE, &self.secret)
    }

    /// Re-seals the secret under the keyring's current key; returns whether it changed.
    pub fn reseal(
        &mut self,
        keyring: &Keyring,
        user: &str,
        rng: &mut EntropyStream,
    ) -> Result<bool> {
        if self.secret.kid == keyring.current().id() {
            return Ok(false);
        }
        let secret = self.open_secret(keyring, user)?;
        self.secret = seal(keyring, user, TOTP_PURPOSE, &secret, rng);
        Ok(true)
    }
}

/// What a change of 2FA state revoked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revoked {
    /// App passwords removed.
    pub app_passwords: u64,
    /// Trusted devices removed.
    pub devices: u64,
}

/// A user's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`FORMAT`].
    pub format: u64,
    /// Bumped by every change; hosts write with compare-and-set on it.
    pub rev: u64,
    /// When the record was created.
    pub created_at: u64,
    /// When the core last changed it.
    pub updated_at: u64,
    /// The enabled TOTP factor.
    #[serde(default)]
    pub totp: Option<TotpFactor>,
    /// An enrollment waiting for confirmation; replaces `totp` once confirmed.
    #[serde(default)]
    pub pending_totp: Option<TotpFactor>,
    /// The current set of backup codes (absent until generated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_codes: Option<BackupCodes>,
    /// App passwords for mail clients (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_passwords: Vec<AppPassword>,
    /// Trusted devices (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// The attempt limiter (absent when clear).
    #[serde(default, skip_serializing_if = "Limiter::is_clear")]
    pub limiter: Limiter,
    /// Fields written by a newer core of the same format, kept so nothing is lost.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    /// An empty record (2FA disabled).
    pub fn new(time: u64) -> Self {
        Record {
            format: FORMAT,
            rev: 0,
            created_at: time,
            updated_at: time,
            totp: None,
            pending_totp: None,
            backup_codes: None,
            app_passwords: Vec::new(),
            devices: Vec::new(),
            limiter: Limiter::default(),
            extra: Map::new(),
        }
    }

    /// Reads a record from its JSON value, checking the format version first.
    pub fn from_value(value: &Value) -> Result<Self> {
        let Some(object) = value.as_object() else {
            return Err(Error::new(
                ErrorCode::InvalidRecord,
                "record must be a JSON object",
            ));
        };
        match object.get("format").and_then(Value::as_u64) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedFormat,
                    alloc::format!(
                        "record format {other} is not supported; this core reads format {FORMAT}"
                    ),
                ))
            }
            None => {
                return Err(Error::new(
                    ErrorCode::InvalidRecord,
                    "record has no numeric format",
                ))
            }
        }
        // serde's messages may quote field values; keep them out of the error.
        Record::deserialize(value).map_err(|_| {
            Error::new(
                ErrorCode::InvalidRecord,
                "record does not match record format 1",
            )
        })
    }

    /// The record as JSON.
    pub fn to_value(&self) -> Value {
        // Serializing plain structs and maps to a Value cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Disabled, pending or enabled.
    pub fn state(&self) -> State {
        match (&self.totp, &self.pending_totp) {
            (Some(_), _) => State::Enabled,
            (None, Some(_)) => State::Pending,
            (None, None) => State::Disabled,
        }
    }

    /// The record an admin reset leaves (the user lost the phone): no factor, no pending
    /// enrollment, no backup code, app password or trusted device, a clear limiter, and a
    /// `rev` above the old one's. Hosts write it by compare-and-set instead of deleting
    /// the row, so a write still in flight with the old `rev` cannot land on the reset (or
    /// re-enrolled) user: `rev` never repeats. `previous_rev` is the old record's `rev`
    /// (`None` when there was no record). A `rev` that cannot grow is refused.
    pub fn reset(previous_rev: Option<u64>, previous_updated_at: u64, time: u64) -> Result<Self> {
        let mut record = Record::new(time);
        record.rev = match previous_rev {
            None => 1,
            Some(rev) => rev.checked_add(1).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidRecord,
                    "record rev is at its maximum and cannot grow",
                )
            })?,
        };
        record.updated_at = previous_updated_at.max(time);
        Ok(record)
    }

    /// Marks a change made at `time`.
    pub fn touch(&mut self, time: u64) {
        self.rev = self.rev.saturating_add(1);
        self.updated_at = self.updated_at.max(time);
    }

    /// Every sealed factor, for key rotation and key checks.
    pub fn totp_factors_mut(&mut self) -> impl Iterator<Item = &mut TotpFactor> {
        self.totp.iter_mut().chain(self.pending_totp.iter_mut())
    }

    /// Opens every sealed value, so a record that does not open for this user and
    /// keyring is refused before anything is changed (fail closed).
    pub fn check_opens(&self, keyring: &Keyring, user: &str) -> Result<()> {
        for factor in self.totp.iter().chain(self.pending_totp.iter()) {
            factor.open_secret(keyring, user)?;
        }
        if let Some(codes) = &self.backup_codes {
            codes.open_key(keyring, user)?;
        }
        Ok(())
    }

    /// Re-seals every sealed value not under the keyring's current key; returns how many.
    pub fn reseal_all(
        &mut self,
        keyring: &Keyring,
        user: &str,
        rng: &mut EntropyStream,
    ) -> Result<u64> {
        let mut resealed = 0;
        for factor in self.totp.iter_mut().chain(self.pending_totp.iter_mut()) {
            resealed += u64::from(factor.reseal(keyring, user, rng)?);
        }
        if let Some(codes) = &mut self.backup_codes {
            resealed += u64::from(codes.reseal(keyring, user, rng)?);
        }
        Ok(resealed)
    }

    /// Removes every factor and credential that only makes sense with 2FA on along with
    /// TOTP: backup codes, trusted devices and app passwords (without 2FA the main
    /// password works everywhere, and an app password kept through "off" would be a
    /// backdoor once 2FA is on again). The limiter stays.
    pub fn disable_2fa(&mut self) -> Revoked {
        let revoked = self.revoke_credentials();
        self.totp = None;
        self.pending_totp = None;
        self.backup_codes = None;
        revoked
    }

    /// Installs `factor` as the enabled factor (a confirmed enrollment or an import); any
    /// pending enrollment goes. When it is the user's first factor, whatever was added
    /// while the account had no second factor — app passwords, trusted devices, backup
    /// codes — is removed: someone who had only the password may have planted it. When it
    /// replaces an enabled factor (which needed a fresh factor) they stay.
    pub fn enable_factor(&mut self, factor: TotpFactor) -> Revoked {
        let revoked = if self.totp.is_none() {
            self.backup_codes = None;
            self.revoke_credentials()
        } else {
            Revoked::default()
        };
        self.totp = Some(factor);
        self.pending_totp = None;
        revoked
    }

    fn revoke_credentials(&mut self) -> Revoked {
        let revoked = Revoked {
            app_passwords: self.app_passwords.len() as u64,
            devices: self.devices.len() as u64,
        };
        self.app_passwords.clear();
        self.devices.clear();
        revoked
    }

    /// The key ids the record's sealed values use.
    pub fn key_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .totp
            .iter()
            .chain(self.pending_totp.iter())
            .map(|f| f.secret.kid.as_str())
            .chain(self.backup_codes.iter().map(|c| c.key.kid.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let mut v = Record::new(5).to_value();
        v["from_the_future"] = json!({"x": 1});
        let r = Record::from_value(&v).unwrap();
        assert_eq!(r.to_value()["from_the_future"], json!({"x": 1}));
    }

    #[test]
    fn format_and_shape_errors() {
        let code = |v: Value| Record::from_value(&v).unwrap_err().code();
        assert_eq!(code(json!([])), ErrorCode::InvalidRecord);
        assert_eq!(code(json!({"format": 2})), ErrorCode::UnsupportedFormat);
        assert_eq!(
            code(json!({"format": 1, "rev": "x"})),
            ErrorCode::InvalidRecord
        );
        assert_eq!(code(json!({"rev": 1})), ErrorCode::InvalidRecord);
    }
}
