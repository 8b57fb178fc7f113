//! App-password ops: create, list, verify, revoke one or all, and the password-change event.

use alloc::vec::Vec;
use serde_json::{json, Value};

use super::revoke::{revoke_where, revoked};
use super::{fields, Request, Response};
use crate::app_password;
use crate::error::{Error, ErrorCode, Result};
use crate::label;
use crate::policy::Method;

/// `app_password.create`: a new app password (shown once) with a label.
pub fn create(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let policy = req.policy()?;
    policy.require(Method::AppPassword)?;
    let label = label::check(req.str("label")?, "label", label::MAX_LABEL_CHARS)?;
    let mut rng = req.rng()?;
    let mut record = req.record_or_new(time)?;
    if record.app_passwords.len() >= policy.max_app_passwords {
        return Err(Error::new(
            ErrorCode::LimitReached,
            alloc::format!(
                "a user may have at most {} app passwords; revoke one first",
                policy.max_app_passwords
            ),
        ));
    }
    let (entry, password) =
        app_password::create(&record.app_passwords, label, &policy.argon2, time, &mut rng)?;
    let id = entry.id.clone();
    let phc = entry.phc.clone();
    record.app_passwords.push(entry);
    record.touch(time);
    Ok(fields([
        ("password", Value::from(password.as_str())),
        ("id", Value::from(id)),
        ("phc", Value::from(phc)),
        ("record", record.to_value()),
    ]))
}

/// `app_password.list`: id, label, times and the PHC string of each (for a passdb).
pub fn list(req: &Request) -> Result<Response> {
    let record = req.record()?;
    let items: Vec<Value> = record
        .app_passwords
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "label": a.label, "created_at": a.created_at,
                "last_used_at": a.last_used_at, "phc": a.phc,
            })
        })
        .collect();
    Ok(fields([("app_passwords", Value::Array(items))]))
}

/// `app_password.verify`: whether a password is one of the user's app passwords; the
/// one that matched gets `last_used_at`.
pub fn verify(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let password = req.str("password")?;
    let mut record = req.record()?;
    let id = app_password::verify(&mut record.app_passwords, password, time)?;
    if id.is_some() {
        record.touch(time);
    }
    Ok(fields([
        ("valid", Value::from(id.is_some())),
        ("id", id.map_or(Value::Null, Value::from)),
        ("record", record.to_value()),
    ]))
}

/// `app_password.revoke`: removes one by id.
pub fn revoke(req: &Request) -> Result<Response> {
    let id = req.str("id")?;
    let (count, record) = revoke_where(req, |r| &mut r.app_passwords, |a| a.id == id)?;
    Ok(revoked(Value::from(count > 0), &record))
}

/// `app_password.revoke_all`: removes every app password.
pub fn revoke_all(req: &Request) -> Result<Response> {
    let (count, record) = revoke_where(req, |r| &mut r.app_passwords, |_| true)?;
    Ok(revoked(Value::from(count), &record))
}

/// `password.changed`: the user's main password changed; every app password and every
/// trusted device is revoked (a password change often answers a compromise).
pub fn password_changed(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let mut record = req.record()?;
    let app_passwords = record.app_passwords.len() as u64;
    let devices = record.devices.len() as u64;
    record.app_passwords.clear();
    record.devices.clear();
    if app_passwords + devices > 0 {
        record.touch(time);
    }
    Ok(fields([
        ("revoked_app_passwords", Value::from(app_passwords)),
        ("revoked_devices", Value::from(devices)),
        ("record", record.to_value()),
    ]))
}
