//! The `proof` field of security changes and the `fresh` object of their responses.
//! The check itself is [`crate::login::fresh_factor`], shared by every op that adds or
//! replaces a way into the account (`totp.enroll` over an enabled factor,
//! `backup.generate`, `app_password.create`, `device.trust`).

use serde_json::{json, Value};

use super::Request;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{fresh_factor, Fresh, ProofMethod};
use crate::policy::Policy;
use crate::record::Record;
use crate::seal::Keyring;

fn bad() -> Error {
    Error::new(
        ErrorCode::InvalidField,
        "proof must be {\"method\": \"totp\" | \"backup_code\", \"code\": string}",
    )
}

/// The optional `proof`: `{"method": "totp" | "backup_code" (default "totp"), "code"}`.
pub(crate) fn proof<'a>(req: &Request<'a>) -> Result<Option<(ProofMethod, &'a str)>> {
    let Some(value) = req.get("proof") else {
        return Ok(None);
    };
    let inner = Request::new(value.as_object().ok_or_else(bad)?);
    let method = match inner.opt_str("method").map_err(|_| bad())? {
        None => ProofMethod::Totp,
        Some(name) => ProofMethod::parse(name).ok_or_else(bad)?,
    };
    let code = inner.str("code").map_err(|_| bad())?;
    Ok(Some((method, code)))
}

/// Checks the request's `proof` against `record` (see [`fresh_factor`]).
pub(crate) fn check(
    req: &Request,
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    time: u64,
    policy: &Policy,
) -> Result<Fresh> {
    let proof = proof(req)?;
    let window = req.window()?;
    fresh_factor(record, keyring, user, proof, time, window, policy)
}

/// The `fresh` object of a response.
pub(crate) fn value(fresh: &Fresh) -> Value {
    json!({
        "accepted": fresh.accepted,
        "method": fresh.method.as_str(),
        "reason": fresh.reason,
        "retry_after": fresh.retry_after,
    })
}
