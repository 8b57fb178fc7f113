//! TOTP ops: codes, enrollment and confirmation, verification, import and export.

use alloc::string::String;
use serde_json::Value;

use super::backup_ops::outcome_fields;
use super::{fields, fresh, Request, Response};
use crate::backup::BackupCodes;
use crate::encoding::b32_encode;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{reauthenticate, ProofMethod};
use crate::otpauth::KeyUri;
use crate::policy::Method;
use crate::record::{Record, Revoked, TotpFactor};
use crate::seal::Keyring;
use crate::totp::{self, check_secret_len, Check, MIN_IMPORTED_SECRET_BYTES, NEW_SECRET_BYTES};

/// `totp.code`: the code for a base32 secret at a time.
pub fn code(req: &Request) -> Result<Response> {
    let secret = req.b32("secret")?;
    check_secret_len(&secret, MIN_IMPORTED_SECRET_BYTES)?;
    let params = req.totp_params()?;
    let code = totp::code_at(&secret, &params, req.time()?);
    Ok(fields([("code", Value::from(code))]))
}

/// Opens every sealed value of `record`, so a record that does not open for this user
/// and keyring is refused before anything is changed (fail closed).
pub(crate) fn ensure_opens(record: &Record, keyring: &Keyring, user: &str) -> Result<()> {
    record.check_opens(keyring, user)
}

fn with_record(record: &Record, mut response: Response) -> Response {
    response.insert("state".into(), Value::from(record.state().as_str()));
    response.insert("record".into(), record.to_value());
    response
}

fn check_outcome(check: Check) -> (Option<u64>, Value) {
    match check {
        Check::Accepted { step } => (Some(step), Value::Null),
        other => (None, Value::from(other.reason().unwrap_or("wrong_code"))),
    }
}

/// `totp.enroll`: a new secret from host entropy as a pending enrollment; an enabled
/// factor stays in force until the new one is confirmed. Replacing an enabled factor is
/// a security change: it needs a fresh factor (`proof`), and when the proof is refused
/// nothing is enrolled (`uri` and `secret` are null, `fresh.accepted` false). `fresh` is
/// null for a user without an enabled factor (nothing to prove).
pub fn enroll(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let params = req.totp_params()?;
    let policy = req.policy()?;
    let mut record = req.record_or_new(time)?;
    ensure_opens(&record, &keyring, user)?;
    let secret: [u8; NEW_SECRET_BYTES] = rng.array();
    let key = KeyUri {
        issuer: req.opt_str("issuer")?.map(String::from),
        account: String::from(req.opt_str("account")?.unwrap_or(user)),
        secret: secret.to_vec(),
        params,
    };
    let uri = key.to_uri()?;
    let fresh = if record.totp.is_some() {
        let fresh = fresh::check(req, &mut record, &keyring, user, time, &policy)?;
        if !fresh.accepted {
            return Ok(with_record(
                &record,
                fields([
                    ("uri", Value::Null),
                    ("secret", Value::Null),
                    ("fresh", fresh::value(&fresh)),
                ]),
            ));
        }
        fresh::value(&fresh)
    } else {
        Value::Null
    };
    record.pending_totp = Some(TotpFactor::seal_new(
        &keyring,
        user,
        &secret,
        params,
        key.issuer,
        key.account,
        time,
        &mut rng,
    ));
    if fresh.is_null() {
        record.touch(time);
    } // else the accepted proof bumped `rev` for this op already.
    Ok(with_record(
        &record,
        fields([
            ("uri", Value::from(uri)),
            ("secret", Value::from(b32_encode(&secret))),
            ("fresh", fresh),
        ]),
    ))
}

/// `totp.activate`: confirms a pending enrollment with its first correct code. On success
/// the first backup codes are issued (when the policy allows them; `entropy` is then
/// required, checked before the code), and when this is the user's first factor every app
/// password and trusted device already in the record is removed (added without 2FA, they
/// may have been planted by someone holding only the password).
pub fn activate(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut record = req.record()?;
    let window = req.window()?;
    let code = req.str("code")?;
    let policy = req.policy()?;
    let mut rng = match policy.allows(Method::BackupCode) {
        true => Some(req.rng()?),
        false => None,
    };
    let pending = record.pending_totp.as_ref().ok_or_else(|| {
        Error::new(
            ErrorCode::NoPendingEnrollment,
            "there is no enrollment to confirm",
        )
    })?;
    ensure_opens(&record, &keyring, user)?;
    let secret = pending.open_secret(&keyring, user)?;
    let (step, reason) = check_outcome(totp::check(
        &secret,
        &pending.params(),
        code,
        time,
        window,
        None,
    ));
    let mut revoked = Revoked::default();
    let mut codes = Value::Null;
    if let Some(step) = step {
        if let Some(mut factor) = record.pending_totp.take() {
            factor.last_step = Some(step);
            factor.enabled_at = Some(time);
            revoked = record.enable_factor(factor);
            if let Some(rng) = rng.as_mut() {
                let (set, shown) =
                    BackupCodes::generate(&keyring, user, policy.backup_count, time, rng);
                record.backup_codes = Some(set);
                codes = Value::Array(shown.iter().map(|c| Value::from(c.as_str())).collect());
            }
            record.touch(time);
        }
    }
    Ok(with_record(
        &record,
        fields([
            ("activated", Value::from(step.is_some())),
            ("step", step.map_or(Value::Null, Value::from)),
            ("reason", reason),
            ("backup_codes", codes),
            ("revoked_app_passwords", Value::from(revoked.app_passwords)),
            ("revoked_devices", Value::from(revoked.devices)),
        ]),
    ))
}

/// `totp.cancel`: drops a pending enrollment; the enabled factor, if any, is untouched.
pub fn cancel(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let mut record = req.record()?;
    if record.pending_totp.take().is_some() {
        record.touch(time);
    }
    Ok(with_record(&record, fields([])))
}

/// The optional `method` field: `"totp"` (default) or `"backup_code"`.
fn proof_method(req: &Request) -> Result<ProofMethod> {
    match req.opt_str("method")? {
        None => Ok(ProofMethod::Totp),
        Some(name) => ProofMethod::parse(name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidField,
                "method must be \"totp\" or \"backup_code\"",
            )
        }),
    }
}

/// Checks `code` (a TOTP code, or with `method` backup_code a backup code) of a user with
/// TOTP enabled, as [`reauthenticate`] does for every fresh factor.
fn check_enabled(
    req: &Request,
    record: &mut Record,
    method: ProofMethod,
) -> Result<(bool, Value, Value)> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let window = req.window()?;
    let policy = req.policy()?;
    let code = req.str("code")?;
    let outcome = reauthenticate(record, &keyring, user, method, code, time, window, &policy)?;
    Ok(outcome_fields(outcome))
}

fn last_step(record: &Record, accepted: bool) -> Value {
    match (&record.totp, accepted) {
        (Some(f), true) => f.last_step.map_or(Value::Null, Value::from),
        _ => Value::Null,
    }
}

/// `totp.verify`: one TOTP code at login; an accepted step is never accepted again.
/// Counted by the attempt limiter (`reason: "locked"` with `retry_after` while locked).
pub fn verify(req: &Request) -> Result<Response> {
    let mut record = req.record()?;
    let (accepted, reason, retry_after) = check_enabled(req, &mut record, ProofMethod::Totp)?;
    Ok(with_record(
        &record,
        fields([
            ("accepted", Value::from(accepted)),
            ("step", last_step(&record, accepted)),
            ("reason", reason),
            ("retry_after", retry_after),
        ]),
    ))
}

/// `totp.disable`: removes 2FA (TOTP, backup codes, trusted devices, app passwords), only with a current
/// code (or, with `method: "backup_code"`, an unused backup code: the user who lost the
/// phone), checked under the attempt limiter exactly as `totp.verify`.
pub fn disable(req: &Request) -> Result<Response> {
    let mut record = req.record()?;
    let (accepted, reason, retry_after) = check_enabled(req, &mut record, proof_method(req)?)?;
    let revoked = if accepted {
        record.disable_2fa()
    } else {
        Revoked::default()
    };
    Ok(with_record(
        &record,
        fields([
            ("disabled", Value::from(accepted)),
            ("reason", reason),
            ("retry_after", retry_after),
            ("revoked_app_passwords", Value::from(revoked.app_passwords)),
            ("revoked_devices", Value::from(revoked.devices)),
        ]),
    ))
}

/// `totp.import`: an existing key (otpauth URI, e.g. from another plugin) as an enabled
/// factor (any pending enrollment goes; a first factor cleans the slate as activation does). Legacy 80-bit secrets are accepted here; new enrollments always get 160 bits.
pub fn import(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let key = KeyUri::parse(req.str("uri")?)?;
    let mut record = req.record_or_new(time)?;
    if record.totp.is_some() && !req.opt_bool("replace")?.unwrap_or(false) {
        return Err(Error::new(
            ErrorCode::AlreadyEnabled,
            "the user already has TOTP enabled; pass \"replace\": true to overwrite it",
        ));
    }
    let mut factor = TotpFactor::seal_new(
        &keyring,
        user,
        &key.secret,
        key.params,
        key.issuer,
        key.account,
        time,
        &mut rng,
    );
    factor.enabled_at = Some(time);
    let revoked = record.enable_factor(factor);
    record.touch(time);
    Ok(with_record(
        &record,
        fields([
            ("revoked_app_passwords", Value::from(revoked.app_passwords)),
            ("revoked_devices", Value::from(revoked.devices)),
        ]),
    ))
}

/// `totp.export`: the enabled factor as an otpauth URI, for moving it to another app.
pub fn export(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let keyring = req.keyring()?;
    let record = req.record()?;
    let factor = record
        .totp
        .as_ref()
        .ok_or_else(|| Error::new(ErrorCode::NotEnabled, "the user has no enabled TOTP factor"))?;
    let secret = factor.open_secret(&keyring, user)?;
    let uri = KeyUri {
        issuer: factor.issuer.clone(),
        account: factor.account.clone(),
        secret: secret.to_vec(),
        params: factor.params(),
    }
    .to_uri()?;
    Ok(fields([("uri", Value::from(uri))]))
}

/// `otpauth.parse`: the fields of an otpauth URI.
pub fn otpauth_parse(req: &Request) -> Result<Response> {
    let key = KeyUri::parse(req.str("uri")?)?;
    Ok(fields([
        ("issuer", key.issuer.map_or(Value::Null, Value::from)),
        ("account", Value::from(key.account)),
        ("secret", Value::from(b32_encode(&key.secret))),
        ("algorithm", Value::from(key.params.algorithm.as_str())),
        ("digits", Value::from(key.params.digits)),
        ("period", Value::from(key.params.period)),
    ]))
}

/// `otpauth.build`: an otpauth URI from its fields.
pub fn otpauth_build(req: &Request) -> Result<Response> {
    let uri = KeyUri {
        issuer: req.opt_str("issuer")?.map(String::from),
        account: String::from(req.str("account")?),
        secret: req.b32("secret")?,
        params: req.totp_params()?,
    }
    .to_uri()?;
    Ok(fields([("uri", Value::from(uri))]))
}
