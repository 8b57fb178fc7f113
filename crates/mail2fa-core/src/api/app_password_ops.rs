//! App-password ops: create, list, verify, revoke one or all, the projection, and the
//! password-change event.

use alloc::string::String;
use alloc::vec::Vec;

use super::fields::{
    request, response, Allowing, AppPasswordsAllowed, Deferred, FreshOut, Label, Proof, Secret,
    User, Window,
};
use super::fresh;
use super::revoke::{
    revoke_where, RecordTimeRequest, RevokeAllResponse, RevokeRequest, RevokeResponse,
};
use crate::app_password::{self, Projected, Verified};
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::Policy;
use crate::reason::Reason;
use crate::record::{Record, State};
use crate::seal::Keyring;

request! {
    /// `app_password.create`.
    pub struct CreateRequest {
        user: User,
        time: u64,
        keys: Keyring,
        policy: Allowing<AppPasswordsAllowed>,
        label: Label,
        entropy: EntropyStream,
        record: Option<Record>,
        /// Read after the record's checks.
        proof: Deferred<Proof>,
        window: Deferred<Window>,
    }
}

response! {
    /// `app_password.create`: `password`, `id`, `phc` null when the proof was refused.
    pub struct CreateResponse {
        password: Option<String>,
        id: Option<String>,
        phc: Option<String>,
        fresh: FreshOut,
        record: Record,
    }
}

/// `app_password.create`: a new app password (shown once) with a label. App passwords
/// belong to 2FA: the user needs TOTP enabled (`not_enabled` otherwise: without 2FA the
/// main password works everywhere, and one made now would outlive turning 2FA on), and a
/// fresh factor (`proof`); when the proof is refused nothing is made (`password`, `id`,
/// `phc` null).
pub fn create(req: CreateRequest) -> Result<CreateResponse> {
    let CreateRequest {
        user,
        time,
        keys,
        policy,
        label,
        mut entropy,
        record,
        proof,
        window,
    } = req;
    let mut record = record.unwrap_or_else(|| Record::new(time));
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "app passwords need TOTP enabled",
        ));
    }
    app_password::check_room(&record.app_passwords, policy.max_app_passwords)?;
    let (proof, window) = (proof.get()?, window.get()?);
    let fresh = fresh::check(&mut record, &keys, &user, &proof, window, time, &policy)?;
    let mut response = CreateResponse {
        password: None,
        id: None,
        phc: None,
        fresh: FreshOut::of(&fresh),
        record,
    };
    if fresh.accepted {
        let record = &mut response.record;
        let (entry, password) = app_password::create(
            &record.app_passwords,
            label.0,
            &policy.argon2,
            time,
            &mut entropy,
        )?;
        response.password = Some(String::from(password.as_str()));
        response.id = Some(entry.id.clone());
        response.phc = Some(entry.phc.clone());
        record.app_passwords.push(entry);
        // No touch: the accepted proof bumped `rev` for this op already.
    }
    Ok(response)
}

request! {
    /// `app_password.list`.
    pub struct ListRequest {
        record: Record,
    }
}

/// An app password as listed (with its PHC string, for a passdb).
#[derive(serde::Serialize)]
pub struct Listed {
    id: String,
    label: String,
    created_at: u64,
    last_used_at: Option<u64>,
    phc: String,
}

response! {
    /// `app_password.list`.
    pub struct ListResponse {
        app_passwords: Vec<Listed>,
    }
}

/// `app_password.list`: id, label, times and the PHC string of each (for a passdb).
pub fn list(req: ListRequest) -> Result<ListResponse> {
    let app_passwords = req
        .record
        .app_passwords
        .into_iter()
        .map(|a| Listed {
            id: a.id,
            label: a.label,
            created_at: a.created_at,
            last_used_at: a.last_used_at,
            phc: a.phc,
        })
        .collect();
    Ok(ListResponse { app_passwords })
}

request! {
    /// `app_password.verify`.
    pub struct VerifyRequest {
        time: u64,
        password: Secret,
        policy: Policy,
        record: Record,
    }
}

response! {
    /// `app_password.verify`.
    pub struct VerifyResponse {
        valid: bool,
        id: Option<String>,
        reason: Option<Reason>,
        record: Record,
    }
}

/// `app_password.verify`: whether a password is one of the user's app passwords; the
/// one that matched gets `last_used_at`. Only while 2FA is enabled and the policy allows
/// app passwords (else `valid: false` with reason `not_enabled` / `method_not_allowed`,
/// nothing hashed or touched), exactly the rows `record.projection` shows Dovecot.
pub fn verify(req: VerifyRequest) -> Result<VerifyResponse> {
    let VerifyRequest {
        time,
        password,
        policy,
        mut record,
    } = req;
    let (id, reason) = match app_password::verify_in(&mut record, &policy, password.as_str(), time)?
    {
        Verified::Valid(id) => (Some(id), None),
        Verified::Refused(reason) => (None, Some(reason)),
    };
    Ok(VerifyResponse {
        valid: id.is_some(),
        id,
        reason,
        record,
    })
}

request! {
    /// `record.projection`.
    pub struct ProjectionRequest {
        record: Record,
        policy: Policy,
    }
}

/// `record.projection`: exactly what the host writes to the Dovecot projection for this
/// record: its `state` and the app-password rows the passdb may check.
pub fn projection(req: ProjectionRequest) -> Result<ProjectionResponse> {
    let app_passwords = app_password::projected(&req.record, &req.policy);
    Ok(ProjectionResponse {
        state: req.record.state(),
        app_passwords,
    })
}

response! {
    /// `record.projection`.
    pub struct ProjectionResponse {
        state: State,
        app_passwords: Vec<Projected>,
    }
}

/// `app_password.revoke`: removes one by id.
pub fn revoke(req: RevokeRequest) -> Result<RevokeResponse> {
    let RevokeRequest {
        id,
        time,
        mut record,
    } = req;
    let count = revoke_where(&mut record, time, |r| &mut r.app_passwords, |a| a.id == id);
    Ok(RevokeResponse {
        revoked: count > 0,
        record,
    })
}

/// `app_password.revoke_all`: removes every app password.
pub fn revoke_all(req: RecordTimeRequest) -> Result<RevokeAllResponse> {
    let RecordTimeRequest { time, mut record } = req;
    let revoked = revoke_where(&mut record, time, |r| &mut r.app_passwords, |_| true);
    Ok(RevokeAllResponse { revoked, record })
}

response! {
    /// `password.changed`.
    pub struct PasswordChangedResponse {
        revoked_app_passwords: u64,
        revoked_devices: u64,
        record: Record,
    }
}

/// `password.changed`: the user's main password changed; every app password and every
/// trusted device is revoked ([`Record::password_changed`]).
pub fn password_changed(req: RecordTimeRequest) -> Result<PasswordChangedResponse> {
    let RecordTimeRequest { time, mut record } = req;
    let revoked = record.password_changed(time);
    Ok(PasswordChangedResponse {
        revoked_app_passwords: revoked.app_passwords,
        revoked_devices: revoked.devices,
        record,
    })
}
