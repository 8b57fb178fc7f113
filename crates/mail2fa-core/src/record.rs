//! The synchronized user record (format 1): what a host stores per user, as JSON.
//!
//! Secrets inside are sealed ([`crate::seal`]); everything else is plain so admins and
//! hosts can read states and times without a key. Every change made by the core bumps
//! `rev`, which hosts use for compare-and-set writes. See `docs/record-format.md`.

use alloc::string::String;
use alloc::vec::Vec;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::app_password::AppPassword;
use crate::backup::BackupCodes;
use crate::device::Device;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::limiter::Limiter;
use crate::reason::Reason;
use crate::seal::{open, seal, Keyring, Sealed};
use crate::totp::{self, Algorithm, Check, Params};

/// The record format this core reads and writes.
pub const FORMAT: u64 = 1;
/// The record's factor slots, each a [`TotpFactor`] with a sealed secret.
const FACTOR_SLOTS: [&str; 2] = ["totp", "pending_totp"];
/// The AEAD purpose label of TOTP secrets.
const TOTP_PURPOSE: &str = "totp";

/// Whether a user has 2FA: no factor, an unconfirmed enrollment, or an enabled factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// No TOTP factor; an unfinished enrollment never makes 2FA required.
    Disabled,
    /// An enrollment waits for its first correct code; login does not ask for it yet.
    Pending,
    /// A confirmed TOTP factor: the second factor is required.
    Enabled,
}

impl State {
    /// Every state.
    pub const ALL: [State; 3] = [State::Disabled, State::Pending, State::Enabled];

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

/// Both factors' secrets (see [`Record::open_all`]).
pub struct Opened {
    /// The enabled factor's secret.
    pub totp: Option<Zeroizing<Vec<u8>>>,
    /// The pending enrollment's secret.
    pub pending: Option<Zeroizing<Vec<u8>>>,
}

/// The outcome of [`Record::activate`].
pub enum Activation {
    /// The enrollment is the enabled factor now.
    Activated {
        /// The step accepted (never accepted again).
        step: u64,
        /// What enabling a first factor removed.
        revoked: Revoked,
        /// The first backup codes, shown once (when asked for).
        backup_codes: Option<Vec<Zeroizing<String>>>,
    },
    /// The code was refused; nothing changed.
    Refused(Reason),
}

/// A user's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// A key of the record object: a field of [`Record`] or one kept in `extra`.
enum RecordKey {
    Format,
    Rev,
    CreatedAt,
    UpdatedAt,
    Totp,
    PendingTotp,
    BackupCodes,
    AppPasswords,
    Devices,
    Limiter,
    Other(String),
}

impl RecordKey {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "format" => RecordKey::Format,
            "rev" => RecordKey::Rev,
            "created_at" => RecordKey::CreatedAt,
            "updated_at" => RecordKey::UpdatedAt,
            "totp" => RecordKey::Totp,
            "pending_totp" => RecordKey::PendingTotp,
            "backup_codes" => RecordKey::BackupCodes,
            "app_passwords" => RecordKey::AppPasswords,
            "devices" => RecordKey::Devices,
            "limiter" => RecordKey::Limiter,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for RecordKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = RecordKey;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> core::result::Result<RecordKey, E> {
                Ok(RecordKey::named(name).unwrap_or_else(|| RecordKey::Other(name.into())))
            }
            fn visit_string<E: de::Error>(
                self,
                name: String,
            ) -> core::result::Result<RecordKey, E> {
                Ok(RecordKey::named(&name).unwrap_or(RecordKey::Other(name)))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Reads the record object field by field, as `#[derive(Deserialize)]` with
/// `#[serde(flatten)] extra` would (a field given twice is an error, unknown fields go to
/// `extra`), without buffering every field first: every op reads a record.
impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        struct RecordVisitor;
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a record object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> core::result::Result<Record, A::Error> {
                fn once<T, E: de::Error>(
                    slot: &mut Option<T>,
                    value: T,
                    name: &'static str,
                ) -> core::result::Result<(), E> {
                    if slot.is_some() {
                        return Err(E::duplicate_field(name));
                    }
                    *slot = Some(value);
                    Ok(())
                }
                let (mut format, mut rev, mut created_at, mut updated_at) =
                    (None, None, None, None);
                let (mut totp, mut pending_totp, mut backup_codes) = (None, None, None);
                let (mut app_passwords, mut devices, mut limiter) = (None, None, None);
                let mut extra = Map::new();
                while let Some(key) = map.next_key::<RecordKey>()? {
                    match key {
                        RecordKey::Format => once(&mut format, map.next_value()?, "format")?,
                        RecordKey::Rev => once(&mut rev, map.next_value()?, "rev")?,
                        RecordKey::CreatedAt => {
                            once(&mut created_at, map.next_value()?, "created_at")?
                        }
                        RecordKey::UpdatedAt => {
                            once(&mut updated_at, map.next_value()?, "updated_at")?
                        }
                        RecordKey::Totp => once(&mut totp, map.next_value()?, "totp")?,
                        RecordKey::PendingTotp => {
                            once(&mut pending_totp, map.next_value()?, "pending_totp")?
                        }
                        RecordKey::BackupCodes => {
                            once(&mut backup_codes, map.next_value()?, "backup_codes")?
                        }
                        RecordKey::AppPasswords => {
                            once(&mut app_passwords, map.next_value()?, "app_passwords")?
                        }
                        RecordKey::Devices => once(&mut devices, map.next_value()?, "devices")?,
                        RecordKey::Limiter => once(&mut limiter, map.next_value()?, "limiter")?,
                        RecordKey::Other(name) => {
                            // A repeated unknown field keeps its last value, as flatten did.
                            extra.insert(name, map.next_value()?);
                        }
                    }
                }
                Ok(Record {
                    format: format.ok_or_else(|| de::Error::missing_field("format"))?,
                    rev: rev.ok_or_else(|| de::Error::missing_field("rev"))?,
                    created_at: created_at.ok_or_else(|| de::Error::missing_field("created_at"))?,
                    updated_at: updated_at.ok_or_else(|| de::Error::missing_field("updated_at"))?,
                    totp: totp.flatten(),
                    pending_totp: pending_totp.flatten(),
                    backup_codes: backup_codes.flatten(),
                    app_passwords: app_passwords.unwrap_or_default(),
                    devices: devices.unwrap_or_default(),
                    limiter: limiter.unwrap_or_default(),
                    extra,
                })
            }
        }
        deserializer.deserialize_map(RecordVisitor)
    }
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
        // One reader for every record, the one that reads the text hosts store (the login
        // path reads the request's text directly, see `from_json`): a second one for
        // `Value`s would only add to the module. A `Value` has no repeated key, so its text
        // reads exactly as the value would.
        let text = serde_json::to_vec(value).unwrap_or_default();
        // serde's messages may quote field values; keep them out of the error.
        serde_json::from_slice::<Record>(&text).map_err(|_| {
            Error::new(
                ErrorCode::InvalidRecord,
                "record does not match record format 1",
            )
        })
    }

    /// Reads a record from the JSON text of a request's `record` field: what
    /// [`Record::from_value`] gives for it, without building a `serde_json::Value` of the
    /// whole record first. Text the direct read does not take (another format, a repeated
    /// key, a shape error) goes through [`Record::from_value`], so the outcome and the
    /// errors are the same; text that is no JSON value at all is refused as the request
    /// would be (`invalid_request`).
    pub fn from_json(text: &str) -> Result<Self> {
        match serde_json::from_slice::<Record>(text.as_bytes()) {
            Ok(record) if record.format == FORMAT => Ok(record),
            _ => {
                let value = serde_json::from_slice::<Value>(text.as_bytes()).map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidRequest,
                        "the request is not valid UTF-8 JSON",
                    )
                })?;
                Record::from_value(&value)
            }
        }
    }

    /// The record as JSON text: `serde_json::to_vec(&self.to_value())`, written without
    /// building the `Value` first.
    pub fn to_json(&self) -> Vec<u8> {
        crate::record_json::to_json(self)
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
        self.open_checked(keyring, user).map(|_| ())
    }

    /// [`Record::check_opens`] that also hands back the enabled factor's secret (`None`
    /// without an enabled factor), so an op that checks a code decrypts it only once.
    pub fn open_checked(
        &self,
        keyring: &Keyring,
        user: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.open_all(keyring, user).map(|opened| opened.totp)
    }

    /// Opens every sealed value as [`Record::check_opens`] does and hands back both
    /// factors' secrets, so an op that needs them decrypts each only once.
    pub fn open_all(&self, keyring: &Keyring, user: &str) -> Result<Opened> {
        let totp = match &self.totp {
            Some(factor) => Some(factor.open_secret(keyring, user)?),
            None => None,
        };
        let pending = match &self.pending_totp {
            Some(factor) => Some(factor.open_secret(keyring, user)?),
            None => None,
        };
        if let Some(codes) = &self.backup_codes {
            codes.open_key(keyring, user)?;
        }
        Ok(Opened { totp, pending })
    }

    /// Confirms the pending enrollment with its first correct `code` (pending →
    /// enabled): the accepted step is recorded, the factor enabled
    /// ([`Record::enable_factor`]: a first factor removes what was planted before), and
    /// with `backup` (`count`, entropy) the first backup codes are issued. A record with
    /// no pending enrollment is an error; one that does not open fails closed before
    /// anything changes; a refused code changes nothing.
    pub fn activate(
        &mut self,
        keyring: &Keyring,
        user: &str,
        code: &str,
        time: u64,
        window: u64,
        backup: Option<(usize, &mut EntropyStream)>,
    ) -> Result<Activation> {
        let Some(pending) = self.pending_totp.as_ref() else {
            return Err(Error::new(
                ErrorCode::NoPendingEnrollment,
                "there is no enrollment to confirm",
            ));
        };
        let params = pending.params();
        let Opened {
            pending: Some(secret),
            ..
        } = self.open_all(keyring, user)?
        else {
            return Err(Error::new(
                ErrorCode::NoPendingEnrollment,
                "there is no enrollment to confirm",
            ));
        };
        let check = totp::check(&secret, &params, code, time, window, None);
        let Check::Accepted { step } = check else {
            return Ok(Activation::Refused(
                Reason::of_check(check).unwrap_or(Reason::WrongCode),
            ));
        };
        let Some(mut factor) = self.pending_totp.take() else {
            return Err(Error::new(
                ErrorCode::NoPendingEnrollment,
                "there is no enrollment to confirm",
            ));
        };
        factor.last_step = Some(step);
        factor.enabled_at = Some(time);
        let revoked = self.enable_factor(factor);
        let backup_codes = backup.map(|(count, rng)| {
            let (set, shown) = BackupCodes::generate(keyring, user, count, time, rng);
            self.backup_codes = Some(set);
            shown
        });
        self.touch(time);
        Ok(Activation::Activated {
            step,
            revoked,
            backup_codes,
        })
    }

    /// Refuses to overwrite an enabled factor by an import unless `replace` is given.
    pub fn check_import(&self, replace: bool) -> Result<()> {
        if self.totp.is_some() && !replace {
            return Err(Error::new(
                ErrorCode::AlreadyEnabled,
                "the user already has TOTP enabled; pass \"replace\": true to overwrite it",
            ));
        }
        Ok(())
    }

    /// Installs an imported factor as the enabled one, enabled at `time`
    /// ([`Record::enable_factor`]); the caller touches the record.
    pub fn install_imported(&mut self, mut factor: TotpFactor, time: u64) -> Revoked {
        factor.enabled_at = Some(time);
        self.enable_factor(factor)
    }

    /// The record with every TOTP secret decrypted to base32 (`record.open`, the admin
    /// export); [`Record::seal_plain`] is its inverse.
    pub fn open_plain(&self, keyring: &Keyring, user: &str) -> Result<Value> {
        let mut plain = self.to_value();
        for (slot, factor) in FACTOR_SLOTS.iter().zip([&self.totp, &self.pending_totp]) {
            if let Some(factor) = factor {
                let secret = factor.open_secret(keyring, user)?;
                plain[*slot]["secret"] = Value::from(crate::encoding::b32_encode(&secret));
            }
        }
        Ok(plain)
    }

    /// A plain record (as [`Record::open_plain`] writes it: each factor's secret in
    /// base32) sealed under the keyring's current key. Each factor's secret and settings
    /// are checked as an import's are; the rest is read as any stored record.
    pub fn seal_plain(
        plain: &Value,
        keyring: &Keyring,
        user: &str,
        rng: &mut EntropyStream,
    ) -> Result<Record> {
        let Value::Object(plain) = plain else {
            return Err(Error::new(
                ErrorCode::InvalidField,
                "plain must be a record object",
            ));
        };
        let mut plain = plain.clone();
        for slot in FACTOR_SLOTS {
            let Some(Value::Object(factor)) = plain.get_mut(slot) else {
                continue;
            };
            let secret = match factor.get("secret") {
                Some(Value::String(text)) => {
                    Zeroizing::new(crate::encoding::b32_decode(text, "secret")?)
                }
                _ => {
                    return Err(Error::new(
                        ErrorCode::InvalidField,
                        "each factor of plain needs its secret as a base32 string",
                    ))
                }
            };
            totp::check_secret_len(&secret, totp::MIN_IMPORTED_SECRET_BYTES)?;
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
            let sealed = seal(keyring, user, TOTP_PURPOSE, &secret, rng);
            factor.insert(
                "secret".into(),
                serde_json::to_value(sealed).unwrap_or(Value::Null),
            );
        }
        Record::from_value(&Value::Object(plain))
    }

    /// The admin reset of a stored record given as JSON (`None`: no record):
    /// [`Record::reset`] after the old `rev`. A record that no longer matches the schema
    /// but still carries its numeric `rev` can be reset too; a record of a newer format
    /// is refused rather than downgraded.
    pub fn reset_stored(previous: Option<&Value>, time: u64) -> Result<Record> {
        let (rev, updated_at) = match previous {
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
        Record::reset(rev, updated_at, time)
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

    /// Backup codes not used yet (0 without a set).
    pub fn backup_codes_remaining(&self) -> u64 {
        self.backup_codes
            .as_ref()
            .map_or(0, |c| c.remaining() as u64)
    }

    /// The user's main password changed: every app password and every trusted device is
    /// revoked (a password change often answers a compromise). The record is touched
    /// only when something went.
    pub fn password_changed(&mut self, time: u64) -> Revoked {
        let revoked = self.revoke_credentials();
        if revoked.app_passwords + revoked.devices > 0 {
            self.touch(time);
        }
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

    /// What `#[derive(Deserialize)]` with `#[serde(flatten)] extra` reads: the hand-written
    /// `Deserialize` for `Record` must accept and refuse the same inputs, with the same result.
    #[derive(Deserialize)]
    struct Derived {
        format: u64,
        rev: u64,
        created_at: u64,
        updated_at: u64,
        #[serde(default)]
        totp: Option<TotpFactor>,
        #[serde(default)]
        pending_totp: Option<TotpFactor>,
        #[serde(default)]
        backup_codes: Option<BackupCodes>,
        #[serde(default)]
        app_passwords: Vec<AppPassword>,
        #[serde(default)]
        devices: Vec<Device>,
        #[serde(default)]
        limiter: Limiter,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    #[test]
    fn reads_records_as_the_derived_reader_does() {
        let totp = json!({"algorithm": "SHA1", "digits": 6, "period": 30, "secret":
            {"alg": "XChaCha20-Poly1305", "kid": "k1", "nonce": "AAAA", "ct": "AAAA"},
            "issuer": null, "account": "a", "last_step": 7, "created_at": 1, "enabled_at": 2});
        let base = json!({"format": 1, "rev": 3, "created_at": 1, "updated_at": 2});
        let with = |k: &str, v: Value| {
            let mut r = base.clone();
            r[k] = v;
            r
        };
        let without = |k: &str| {
            let mut r = base.clone();
            r.as_object_mut().unwrap().remove(k);
            r
        };
        let cases = [
            base.clone(),
            with("totp", totp.clone()),
            with("pending_totp", totp.clone()),
            with("totp", Value::Null),
            with("totp", json!({"x": 1})),
            with("app_passwords", Value::Null),
            with("app_passwords", json!([])),
            with("devices", json!("x")),
            with("limiter", Value::Null),
            with("limiter", json!({})),
            with("backup_codes", Value::Null),
            with("rev", json!(1.5)),
            with("rev", json!(-1)),
            with("future", json!({"a": [1, {"b": null}]})),
            without("rev"),
            without("updated_at"),
            json!({}),
        ];
        for case in cases {
            let text = serde_json::to_string(&case).unwrap();
            let ours = serde_json::from_str::<Record>(&text).map(|r| r.to_value());
            let from_value = Record::deserialize(&case).map(|r| r.to_value());
            let derived = serde_json::from_str::<Derived>(&text).map(|d| {
                Record {
                    format: d.format,
                    rev: d.rev,
                    created_at: d.created_at,
                    updated_at: d.updated_at,
                    totp: d.totp,
                    pending_totp: d.pending_totp,
                    backup_codes: d.backup_codes,
                    app_passwords: d.app_passwords,
                    devices: d.devices,
                    limiter: d.limiter,
                    extra: d.extra,
                }
                .to_value()
            });
            assert_eq!(ours.as_ref().ok(), derived.as_ref().ok(), "{text}");
            assert_eq!(from_value.as_ref().ok(), derived.as_ref().ok(), "{text}");
        }
        // A field given twice: refused by the reader, as by the derived one.
        let twice = r#"{"format":1,"rev":3,"rev":4,"created_at":1,"updated_at":2}"#;
        assert!(serde_json::from_str::<Record>(twice).is_err());
        assert!(serde_json::from_str::<Derived>(twice).is_err());
        // Record::from_json takes it as the request's parsed Value would: the last one counts.
        assert_eq!(Record::from_json(twice).unwrap().rev, 4);
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
