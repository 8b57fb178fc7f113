//! Backup-code ops: generate a set, verify (consume) one, count what is left.

use serde_json::Value;

use super::{fields, fresh, Request, Response};
use crate::backup::BackupCodes;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{check_backup, guarded, Guarded};
use crate::policy::Method;

/// `backup.generate`: a new set of codes (every old code stops working); the codes are
/// returned once, only their keyed hashes are stored. A security change: it needs TOTP
/// enabled and a fresh factor (`proof`); when the proof is refused no code is made
/// (`codes` null, the old set unchanged). The first codes come from `totp.activate`.
pub fn generate(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let policy = req.policy()?;
    policy.require(Method::BackupCode)?;
    let mut rng = req.rng()?;
    let mut record = req.record()?;
    record.check_opens(&keyring, user)?;
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "backup codes need TOTP enabled",
        ));
    }
    let count = match req.opt_u64("count")? {
        None => policy.backup_count,
        Some(n @ 1..=20) => n as usize,
        Some(_) => return Err(Error::new(ErrorCode::InvalidField, "count must be 1 to 20")),
    };
    let fresh = fresh::check(req, &mut record, &keyring, user, time, &policy)?;
    let codes = if fresh.accepted {
        let (set, codes) = BackupCodes::generate(&keyring, user, count, time, &mut rng);
        record.backup_codes = Some(set);
        // No touch: the accepted proof bumped `rev` for this op already.
        Value::Array(codes.iter().map(|c| Value::from(c.as_str())).collect())
    } else {
        Value::Null
    };
    Ok(fields([
        ("codes", codes),
        ("remaining", Value::from(remaining(&record))),
        ("fresh", fresh::value(&fresh)),
        ("record", record.to_value()),
    ]))
}

/// `backup.verify`: checks and consumes one code, under the attempt limiter (for
/// re-authentication; logins use `login.decide`).
pub fn verify(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let policy = req.policy()?;
    policy.require(Method::BackupCode)?;
    let code = req.str("code")?;
    let mut record = req.record()?;
    record.check_opens(&keyring, user)?;
    let outcome = guarded(&mut record, time, &policy.limiter, |r| {
        check_backup(r, &keyring, user, code, time)
    })?;
    let (accepted, reason, retry_after) = outcome_fields(outcome);
    Ok(fields([
        ("accepted", Value::from(accepted)),
        ("reason", reason),
        ("retry_after", retry_after),
        ("remaining", Value::from(remaining(&record))),
        ("record", record.to_value()),
    ]))
}

/// The `accepted`, `reason` and `retry_after` fields of a limited check.
pub(crate) fn outcome_fields(outcome: Guarded) -> (bool, Value, Value) {
    match outcome {
        Guarded::Accepted => (true, Value::Null, Value::Null),
        Guarded::Rejected {
            reason,
            retry_after,
        } => (
            false,
            Value::from(reason),
            retry_after.map_or(Value::Null, Value::from),
        ),
        Guarded::Locked { retry_after } => (false, Value::from("locked"), Value::from(retry_after)),
    }
}

fn remaining(record: &crate::record::Record) -> u64 {
    record
        .backup_codes
        .as_ref()
        .map_or(0, |c| c.remaining() as u64)
}

/// `backup.status`: codes left and when the set was made (no key needed).
pub fn status(req: &Request) -> Result<Response> {
    let record = req.record()?;
    let set = record.backup_codes.as_ref();
    Ok(fields([
        ("remaining", Value::from(remaining(&record))),
        ("issued", set.map_or(Value::Null, |s| Value::from(s.issued))),
        (
            "created_at",
            set.map_or(Value::Null, |s| Value::from(s.created_at)),
        ),
        (
            "last_used_at",
            set.and_then(|s| s.last_used_at)
                .map_or(Value::Null, Value::from),
        ),
    ]))
}
