//! App-password ops: create, list, verify, revoke one or all, and the password-change event.

use alloc::vec::Vec;
use serde_json::{json, Value};

use super::revoke::{revoke_where, revoked};
use super::{fields, fresh, Request, Response};
use crate::app_password;
use crate::error::{Error, ErrorCode, Result};
use crate::label;
use crate::policy::{Method, Policy};
use crate::record::{Record, State};

/// `app_password.create`: a new app password (shown once) with a label. App passwords
/// belong to 2FA: the user needs TOTP enabled (`not_enabled` otherwise: without 2FA the
/// main password works everywhere, and one made now would outlive turning 2FA on), and a
/// fresh factor (`proof`); when the proof is refused nothing is made (`password`, `id`,
/// `phc` null).
pub fn create(req: &Request) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let policy = req.policy()?;
    policy.require(Method::AppPassword)?;
    let label = label::check(req.str("label")?, "label", label::MAX_LABEL_CHARS)?;
    let mut rng = req.rng()?;
    let mut record = req.record_or_new(time)?;
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "app passwords need TOTP enabled",
        ));
    }
    if record.app_passwords.len() >= policy.max_app_passwords {
        return Err(Error::new(
            ErrorCode::LimitReached,
            alloc::format!(
                "a user may have at most {} app passwords; revoke one first",
                policy.max_app_passwords
            ),
        ));
    }
    let fresh = fresh::check(req, &mut record, &keyring, user, time, &policy)?;
    let (password, id, phc) = if fresh.accepted {
        let (entry, password) =
            app_password::create(&record.app_passwords, label, &policy.argon2, time, &mut rng)?;
        let id = entry.id.clone();
        let phc = entry.phc.clone();
        record.app_passwords.push(entry);
        // No touch: the accepted proof bumped `rev` for this op already.
        (
            Value::from(password.as_str()),
            Value::from(id),
            Value::from(phc),
        )
    } else {
        (Value::Null, Value::Null, Value::Null)
    };
    Ok(fields([
        ("password", password),
        ("id", id),
        ("phc", phc),
        ("fresh", fresh::value(&fresh)),
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
/// one that matched gets `last_used_at`. Only while 2FA is enabled and the policy allows
/// app passwords (else `valid: false` with reason `not_enabled` / `method_not_allowed`,
/// nothing hashed or touched), exactly the rows `record.projection` shows Dovecot.
pub fn verify(req: &Request) -> Result<Response> {
    let time = req.time()?;
    let password = req.str("password")?;
    let policy = req.policy()?;
    let mut record = req.record()?;
    let refused = if !policy.allows(Method::AppPassword) {
        Some("method_not_allowed")
    } else if record.state() != State::Enabled {
        Some("not_enabled")
    } else {
        None
    };
    if let Some(reason) = refused {
        return Ok(fields([
            ("valid", Value::Bool(false)),
            ("id", Value::Null),
            ("reason", Value::from(reason)),
            ("record", record.to_value()),
        ]));
    }
    let id = app_password::verify(&mut record.app_passwords, password, time)?;
    if id.is_some() {
        record.touch(time);
    }
    Ok(fields([
        ("valid", Value::from(id.is_some())),
        ("reason", id.is_none().then_some("wrong_password").into()),
        ("id", id.map_or(Value::Null, Value::from)),
        ("record", record.to_value()),
    ]))
}

/// The app passwords Dovecot's passdb may see: none unless 2FA is enabled and the policy
/// allows app passwords.
pub(crate) fn projected(record: &Record, policy: &Policy) -> Vec<Value> {
    if record.state() != State::Enabled || !policy.allows(Method::AppPassword) {
        return Vec::new();
    }
    record
        .app_passwords
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "phc": a.phc, "label": a.label,
                "created_at": a.created_at, "tag": a.tag,
            })
        })
        .collect()
}

/// `record.projection`: exactly what the host writes to the Dovecot projection for this
/// record: its `state` and the app-password rows the passdb may check.
pub fn projection(req: &Request) -> Result<Response> {
    let record = req.record()?;
    let policy = req.policy()?;
    Ok(fields([
        ("state", Value::from(record.state().as_str())),
        ("app_passwords", Value::Array(projected(&record, &policy))),
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
