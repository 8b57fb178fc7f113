//! Backup-code ops: generate a set, verify (consume) one, count what is left.

use alloc::string::String;
use alloc::vec::Vec;

use super::fields::{
    request, response, Allowing, BackupCodesAllowed, Deferred, FreshOut, Proof, Secret, User,
    Window,
};
use super::fresh;
use crate::backup::BackupCodes;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{check_backup, guarded, Guarded};
use crate::reason::Reason;
use crate::record::Record;
use crate::seal::Keyring;

request! {
    /// `backup.generate`.
    pub struct GenerateRequest {
        user: User,
        time: u64,
        keys: Keyring,
        policy: Allowing<BackupCodesAllowed>,
        entropy: EntropyStream,
        record: Record,
        /// Read after the record's checks.
        count: Deferred<Option<u64>>,
        proof: Deferred<Proof>,
        window: Deferred<Window>,
    }
}

response! {
    /// `backup.generate`: `codes` null when the proof was refused.
    pub struct GenerateResponse {
        codes: Option<Vec<String>>,
        remaining: u64,
        fresh: FreshOut,
        record: Record,
    }
}

/// `backup.generate`: a new set of codes (every old code stops working); the codes are
/// returned once, only their keyed hashes are stored. A security change: it needs TOTP
/// enabled and a fresh factor (`proof`); when the proof is refused no code is made
/// (`codes` null, the old set unchanged). The first codes come from `totp.activate`.
pub fn generate(req: GenerateRequest) -> Result<GenerateResponse> {
    let GenerateRequest {
        user,
        time,
        keys,
        policy,
        mut entropy,
        mut record,
        count,
        proof,
        window,
    } = req;
    let opening = fresh::open_unless_proved(&record, &keys, &user, &proof)?;
    let checked = (|| {
        if record.totp.is_none() {
            return Err(Error::new(
                ErrorCode::NotEnabled,
                "backup codes need TOTP enabled",
            ));
        }
        let count = match count.get()? {
            None => policy.backup_count,
            Some(n @ 1..=20) => n as usize,
            Some(_) => return Err(Error::new(ErrorCode::InvalidField, "count must be 1 to 20")),
        };
        Ok((count, proof.get()?, window.get()?))
    })();
    let (count, proof, window) = opening.first(&record, &keys, &user, checked)?;
    let fresh = fresh::check(&mut record, &keys, &user, &proof, window, time, &policy);
    let fresh = opening.first(&record, &keys, &user, fresh)?;
    let codes = if fresh.accepted {
        let (set, codes) = BackupCodes::generate(&keys, &user, count, time, &mut entropy);
        record.backup_codes = Some(set);
        // No touch: the accepted proof bumped `rev` for this op already.
        Some(codes.iter().map(|c| String::from(c.as_str())).collect())
    } else {
        None
    };
    Ok(GenerateResponse {
        codes,
        remaining: record.backup_codes_remaining(),
        fresh: FreshOut::of(&fresh),
        record,
    })
}

request! {
    /// `backup.verify`.
    pub struct VerifyRequest {
        user: User,
        time: u64,
        keys: Keyring,
        policy: Allowing<BackupCodesAllowed>,
        code: Secret,
        record: Record,
    }
}

response! {
    /// `backup.verify`.
    pub struct VerifyResponse {
        accepted: bool,
        reason: Option<Reason>,
        retry_after: Option<u64>,
        remaining: u64,
        record: Record,
    }
}

/// `backup.verify`: checks and consumes one code, under the attempt limiter (for
/// re-authentication; logins use `login.decide`).
pub fn verify(req: VerifyRequest) -> Result<VerifyResponse> {
    let VerifyRequest {
        user,
        time,
        keys,
        policy,
        code,
        mut record,
    } = req;
    record.check_opens(&keys, &user)?;
    let outcome = guarded(&mut record, time, &policy.limiter, |r| {
        check_backup(r, &keys, &user, code.as_str(), time)
    })?;
    let limited = Limited::of(outcome);
    Ok(VerifyResponse {
        accepted: limited.accepted,
        reason: limited.reason,
        retry_after: limited.retry_after,
        remaining: record.backup_codes_remaining(),
        record,
    })
}

/// The `accepted`, `reason` and `retry_after` fields of a limited check.
pub(crate) struct Limited {
    pub accepted: bool,
    pub reason: Option<Reason>,
    pub retry_after: Option<u64>,
}

impl Limited {
    pub(crate) fn of(outcome: Guarded) -> Self {
        match outcome {
            Guarded::Accepted => Limited {
                accepted: true,
                reason: None,
                retry_after: None,
            },
            Guarded::Rejected {
                reason,
                retry_after,
            } => Limited {
                accepted: false,
                reason: Some(reason),
                retry_after,
            },
            Guarded::Locked { retry_after } => Limited {
                accepted: false,
                reason: Some(Reason::Locked),
                retry_after: Some(retry_after),
            },
        }
    }
}

request! {
    /// `backup.status`.
    pub struct StatusRequest {
        record: Record,
    }
}

response! {
    /// `backup.status`.
    pub struct StatusResponse {
        remaining: u64,
        issued: Option<u32>,
        created_at: Option<u64>,
        last_used_at: Option<u64>,
    }
}

/// `backup.status`: codes left and when the set was made (no key needed).
pub fn status(req: StatusRequest) -> Result<StatusResponse> {
    let record = req.record;
    let set = record.backup_codes.as_ref();
    Ok(StatusResponse {
        remaining: record.backup_codes_remaining(),
        issued: set.map(|s| s.issued),
        created_at: set.map(|s| s.created_at),
        last_used_at: set.and_then(|s| s.last_used_at),
    })
}
