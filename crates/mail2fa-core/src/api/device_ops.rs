//! Trusted-device ops: trust a device (outside a login step), list, revoke.
//! Presenting a device token is a login step: `login.decide` with a `trusted_device` factor.

use alloc::vec::Vec;
use serde_json::{json, Value};

use super::revoke::{revoke_where, revoked};
use super::{fields, fresh, Request, Response};
use crate::device;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::Method;

/// `device.trust`: a new device token for an already authenticated session. A device
/// token is a factor, so trusting one is a security change: TOTP enabled and a fresh
/// factor (`proof`); when the proof is refused no token is made (`token`, `id`,
/// `expires_at` null).
pub fn trust(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let policy = req.policy()?;
    policy.require(Method::TrustedDevice)?;
    if policy.device_days == 0 {
        return Err(Error::new(
            ErrorCode::FeatureDisabled,
            "trusted devices are turned off by the site policy (device_days is 0)",
        ));
    }
    let mut rng = req.rng()?;
    let user_agent = req.opt_str("user_agent")?.unwrap_or("");
    let mut record = req.record()?;
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "trusting a device needs an enabled second factor",
        ));
    }
    let fresh = fresh::check(req, &mut record, &keyring, user, time, &policy)?;
    let (token, id, expires_at) = if fresh.accepted {
        let (token, id) = device::issue(
            &mut record.devices,
            user,
            user_agent,
            policy.device_days,
            policy.max_devices,
            time,
            &mut rng,
        );
        // No touch: the accepted proof bumped `rev` for this op already.
        let expires_at = record
            .devices
            .iter()
            .find(|d| d.id == id)
            .map_or(Value::Null, |d| Value::from(d.expires_at));
        (Value::from(token), Value::from(id), expires_at)
    } else {
        (Value::Null, Value::Null, Value::Null)
    };
    Ok(fields([
        ("token", token),
        ("id", id),
        ("expires_at", expires_at),
        ("fresh", fresh::value(&fresh)),
        ("record", record.to_value()),
    ]))
}

/// `device.list`: the trusted devices (never their hashes).
pub fn list(req: &Request) -> Result<Response> {
    let record = req.record()?;
    let time = req.opt_u64("time")?;
    let devices: Vec<Value> = record
        .devices
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "label": d.label, "created_at": d.created_at,
                "last_seen_at": d.last_seen_at, "expires_at": d.expires_at,
                "expired": time.map(|t| d.expires_at <= t),
            })
        })
        .collect();
    Ok(fields([("devices", Value::Array(devices))]))
}

/// `device.revoke`: forgets one device by id.
pub fn revoke(req: &Request) -> Result<Response> {
    let id = req.str("id")?;
    let (count, record) = revoke_where(req, |r| &mut r.devices, |d| d.id == id)?;
    Ok(revoked(Value::from(count > 0), &record))
}

/// `device.revoke_all`: forgets every device, or every one but `except` (the current one).
pub fn revoke_all(req: &Request) -> Result<Response> {
    let except = req.opt_str("except")?;
    let (count, record) = revoke_where(req, |r| &mut r.devices, |d| Some(d.id.as_str()) != except)?;
    Ok(revoked(Value::from(count), &record))
}
