//! Trusted-device ops: trust a device (outside a login step), list, revoke.
//! Presenting a device token is a login step: `login.decide` with a `trusted_device` factor.

use alloc::string::String;
use alloc::vec::Vec;

use super::fields::{
    request, response, Allowing, Deferred, DevicesAllowed, FreshOut, Proof, User, Window,
};
use super::fresh;
use super::revoke::{
    revoke_where, RevokeAllRequest, RevokeAllResponse, RevokeRequest, RevokeResponse,
};
use crate::device;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::record::Record;
use crate::seal::Keyring;

request! {
    /// `device.trust`.
    pub struct TrustRequest {
        user: User,
        time: u64,
        keys: Keyring,
        policy: Allowing<DevicesAllowed>,
        entropy: EntropyStream,
        user_agent: Option<String>,
        record: Record,
        /// Read after the record's checks.
        proof: Deferred<Proof>,
        window: Deferred<Window>,
    }
}

response! {
    /// `device.trust`: `token`, `id`, `expires_at` null when the proof was refused.
    pub struct TrustResponse {
        token: Option<String>,
        id: Option<String>,
        expires_at: Option<u64>,
        fresh: FreshOut,
        record: Record,
    }
}

/// `device.trust`: a new device token for an already authenticated session. A device
/// token is a factor, so trusting one is a security change: TOTP enabled and a fresh
/// factor (`proof`); when the proof is refused no token is made (`token`, `id`,
/// `expires_at` null).
pub fn trust(req: TrustRequest) -> Result<TrustResponse> {
    let TrustRequest {
        user,
        time,
        keys,
        policy,
        mut entropy,
        user_agent,
        mut record,
        proof,
        window,
    } = req;
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "trusting a device needs an enabled second factor",
        ));
    }
    let (proof, window) = (proof.get()?, window.get()?);
    let fresh = fresh::check(&mut record, &keys, &user, &proof, window, time, &policy)?;
    let issued = fresh.accepted.then(|| {
        // No touch: the accepted proof bumped `rev` for this op already.
        device::trust(
            &mut record.devices,
            &user,
            user_agent.as_deref().unwrap_or(""),
            &policy,
            time,
            &mut entropy,
        )
    });
    Ok(TrustResponse {
        expires_at: issued.as_ref().map(|i| i.expires_at),
        id: issued.as_ref().map(|i| i.id.clone()),
        token: issued.map(|i| i.token),
        fresh: FreshOut::of(&fresh),
        record,
    })
}

request! {
    /// `device.list`.
    pub struct ListRequest {
        record: Record,
        time: Option<u64>,
    }
}

/// A trusted device as listed (never its hash).
#[derive(serde::Serialize)]
pub struct Listed {
    id: String,
    label: String,
    created_at: u64,
    last_seen_at: u64,
    expires_at: u64,
    /// Whether it has expired at the request's `time` (null without one).
    expired: Option<bool>,
}

response! {
    /// `device.list`.
    pub struct ListResponse {
        devices: Vec<Listed>,
    }
}

/// `device.list`: the trusted devices (never their hashes).
pub fn list(req: ListRequest) -> Result<ListResponse> {
    let ListRequest { record, time } = req;
    let devices = record
        .devices
        .into_iter()
        .map(|d| Listed {
            expired: time.map(|t| d.expired(t)),
            id: d.id,
            label: d.label,
            created_at: d.created_at,
            last_seen_at: d.last_seen_at,
            expires_at: d.expires_at,
        })
        .collect();
    Ok(ListResponse { devices })
}

/// `device.revoke`: forgets one device by id.
pub fn revoke(req: RevokeRequest) -> Result<RevokeResponse> {
    let RevokeRequest {
        id,
        time,
        mut record,
    } = req;
    let count = revoke_where(&mut record, time, |r| &mut r.devices, |d| d.id == id);
    Ok(RevokeResponse {
        revoked: count > 0,
        record,
    })
}

/// `device.revoke_all`: forgets every device, or every one but `except` (the current one).
pub fn revoke_all(req: RevokeAllRequest) -> Result<RevokeAllResponse> {
    let RevokeAllRequest {
        except,
        time,
        mut record,
    } = req;
    let revoked = revoke_where(
        &mut record,
        time,
        |r| &mut r.devices,
        |d| Some(d.id.as_str()) != except.as_deref(),
    );
    Ok(RevokeAllResponse { revoked, record })
}
