//! TOTP ops: codes, enrollment and confirmation, verification, import and export.

use alloc::string::String;
use serde_json::Value;

use super::backup_ops::outcome_fields;
use super::{fields, Request, Response};
use crate::encoding::b32_encode;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{check_backup, check_totp, guarded};
use crate::otpauth::KeyUri;
use crate::policy::Method;
use crate::record::{Record, TotpFactor};
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
/// factor stays in force until the new one is confirmed.
pub fn enroll(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let params = req.totp_params()?;
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
    record.touch(time);
    Ok(with_record(
        &record,
        fields([
            ("uri", Value::from(uri)),
            ("secret", Value::from(b32_encode(&secret))),
        ]),
    ))
}

/// `totp.activate`: confirms a pending enrollment with its first correct code.
pub fn activate(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut record = req.record()?;
    let window = req.window()?;
    let code = req.str("code")?;
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
    if let Some(step) = step {
        if let Some(mut factor) = record.pending_totp.take() {
            factor.last_step = Some(step);
            factor.enabled_at = Some(time);
            record.totp = Some(factor);
            record.touch(time);
        }
    }
    Ok(with_record(
        &record,
        fields([
            ("activated", Value::from(step.is_some())),
            ("step", step.map_or(Value::Null, Value::from)),
            ("reason", reason),
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

/// Which factor a re-authenticating user (e.g. turning 2FA off) answers with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proof {
    Totp,
    BackupCode,
}

/// The optional `method` field: `"totp"` (default) or `"backup_code"`.
fn proof(req: &Request) -> Result<Proof> {
    match req.opt_str("method")? {
        None | Some("totp") => Ok(Proof::Totp),
        Some("backup_code") => Ok(Proof::BackupCode),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidField,
            "method must be \"totp\" or \"backup_code\"",
        )),
    }
}

/// Checks a TOTP code (or, with `proof` = backup code, consumes a backup code) of a user
/// with TOTP enabled, under the attempt limiter: refused unchecked while locked, counted
/// when wrong, reset when right; an accepted TOTP step is recorded.
fn check_enabled(req: &Request, record: &mut Record, proof: Proof) -> Result<(bool, Value, Value)> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let window = req.window()?;
    let policy = req.policy()?;
    let code = req.str("code")?;
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "the user has no enabled TOTP factor",
        ));
    }
    if proof == Proof::BackupCode {
        policy.require(Method::BackupCode)?;
    }
    ensure_opens(record, &keyring, user)?;
    let outcome = guarded(record, time, &policy.limiter, |r| match proof {
        Proof::Totp => check_totp(r, &keyring, user, code, time, window),
        Proof::BackupCode => check_backup(r, &keyring, user, code, time),
    })?;
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
    let (accepted, reason, retry_after) = check_enabled(req, &mut record, Proof::Totp)?;
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

/// `totp.disable`: removes 2FA (TOTP, backup codes, trusted devices), only with a current
/// code (or, with `method: "backup_code"`, an unused backup code: the user who lost the
/// phone), checked under the attempt limiter exactly as `totp.verify`.
pub fn disable(req: &Request) -> Result<Response> {
    let mut record = req.record()?;
    let (accepted, reason, retry_after) = check_enabled(req, &mut record, proof(req)?)?;
    if accepted {
        record.disable_2fa();
    }
    Ok(with_record(
        &record,
        fields([
            ("disabled", Value::from(accepted)),
            ("reason", reason),
            ("retry_after", retry_after),
        ]),
    ))
}

/// `totp.import`: an existing key (otpauth URI, e.g. from another plugin) as an enabled
/// factor. Legacy 80-bit secrets are accepted here; new enrollments always get 160 bits.
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
    record.totp = Some(factor);
    record.touch(time);
    Ok(with_record(&record, fields([])))
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
