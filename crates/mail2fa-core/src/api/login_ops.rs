//! `login.decide`: the one login decision.

use alloc::vec::Vec;
use serde_json::Value;

use super::{fields, Request, Response};
use crate::error::{Error, ErrorCode, Result};
use crate::login::{decide as decide_login, Factor, TrustRequest};
use crate::record::Record;

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

fn factor<'a>(req: &Request<'a>) -> Result<Factor<'a>> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidField,
            "factor must be null or {\"type\": \"totp\"|\"backup_code\"|\"trusted_device\", \"value\": string}",
        )
    };
    let Some(value) = req.get("factor") else {
        return Ok(Factor::None);
    };
    let object = value.as_object().ok_or_else(bad)?;
    let inner = Request::new(object);
    let kind = inner.str("type").map_err(|_| bad())?;
    let text = inner.str("value").map_err(|_| bad())?;
    Ok(match kind {
        "totp" => Factor::Totp(text),
        "backup_code" => Factor::BackupCode(text),
        "trusted_device" => Factor::Device(text),
        _ => return Err(bad()),
    })
}

/// `login.decide`: record + factor + time + policy → verdict and the updated record.
pub fn decide(req: &Request) -> Result<Response> {
    let (mut response, record) = decide_parts(req)?;
    response.insert("record".into(), record.to_value());
    Ok(response)
}

/// `login.decide` as the response's other fields and the updated record, which the
/// dispatcher's fast path writes as text directly ([`Record::to_json`]).
pub(crate) fn decide_parts(req: &Request) -> Result<(Response, Record)> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let policy = req.policy()?;
    let window = req.window()?;
    let factor = factor(req)?;
    let mut record = req.record_or_new(time)?;
    let trust = req
        .opt_bool("trust_device")?
        .unwrap_or(false)
        .then(|| -> Result<TrustRequest> {
            Ok(TrustRequest {
                user_agent: req.opt_str("user_agent")?.unwrap_or(""),
            })
        })
        .transpose()?;
    let mut rng = match trust {
        Some(_) => Some(req.rng()?),
        None => None,
    };
    let d = decide_login(
        &mut record,
        &keyring,
        user,
        factor,
        time,
        window,
        &policy,
        trust,
        rng.as_mut(),
    )?;
    let methods: Vec<Value> = d.methods.iter().map(|m| Value::from(m.as_str())).collect();
    Ok(fields([
        ("verdict", Value::from(d.verdict.as_str())),
        ("method", opt(d.method.map(|m| m.as_str()))),
        ("reason", opt(d.reason)),
        ("retry_after", opt(d.retry_after)),
        ("device_id", opt(d.device_id)),
        ("device_token", opt(d.device_token)),
        ("device_expires_at", opt(d.device_expires_at)),
        ("forget_device", Value::from(d.forget_device)),
        (
            "backup_codes_remaining",
            opt(d.backup_codes_remaining.map(|n| n as u64)),
        ),
        ("enroll_by", opt(d.enroll_by)),
        ("methods", Value::Array(methods)),
        ("trust_days", Value::from(d.trust_days)),
        ("pending_expires_at", opt(d.pending_expires_at)),
        ("state", Value::from(record.state().as_str())),
    ]))
    .map(|response| (response, record))
}
