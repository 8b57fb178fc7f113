//! Trusted devices: "don't ask again on this browser".
//!
//! A device token is `<id>.<secret>`: a 72-bit id (12 base64url characters) for lookup
//! and a 192-bit secret (32 base64url characters), both from host entropy. The record
//! stores the id, SHA-256 of the token bound to the user
//! (`"mail2fa/v1 device" 0 user 0 id 0 secret`), a label (the user agent the host
//! passed), and created / last-seen / expiry times. A plain hash suffices: a 192-bit
//! random secret cannot be searched offline. The host keeps the token in a cookie
//! (HttpOnly, Secure, SameSite) and never logs it; a token works only for the user it
//! was issued to, until it expires or is revoked.

use crate::encoding::{b64url_decode, b64url_encode};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::encoding::b64_encode;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::label;
use crate::policy::Policy;

/// Random bytes of a device id.
pub const ID_BYTES: usize = 9;
/// Random bytes of a device secret (192 bits).
pub const SECRET_BYTES: usize = 24;
const DAY: u64 = 86_400;

/// A trusted device as stored in the record (`devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The public id (the part of the token before the dot).
    pub id: String,
    /// SHA-256 of the token bound to the user, base64.
    pub hash: String,
    /// What the host said the device is (its user agent, cleaned and cut to 200 characters).
    pub label: String,
    /// When it was trusted.
    pub created_at: u64,
    /// When its token last passed.
    pub last_seen_at: u64,
    /// When it stops being trusted.
    pub expires_at: u64,
}

/// The outcome of presenting a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceCheck {
    /// The token is valid; the device's id.
    Trusted(String),
    /// The device was trusted but has expired.
    Expired,
    /// No device with this id and secret (revoked, another user's, or made up).
    Unknown,
    /// Not of the form `<id>.<secret>`.
    Malformed,
}

impl DeviceCheck {
    /// The reason string for logs (`None` when trusted).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            DeviceCheck::Trusted(_) => None,
            DeviceCheck::Expired => Some("device_expired"),
            DeviceCheck::Unknown => Some("device_unknown"),
            DeviceCheck::Malformed => Some("device_malformed"),
        }
    }
}

fn token_hash(user: &str, id: &str, secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mail2fa/v1 device\0");
    h.update(user.as_bytes());
    h.update(b"\0");
    h.update(id.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// Drops expired devices; returns whether any was dropped.
pub fn prune(devices: &mut Vec<Device>, time: u64) -> bool {
    let before = devices.len();
    devices.retain(|d| d.expires_at > time);
    devices.len() != before
}

/// Trusts a new device for `days`; keeps at most `max` devices (dropping the least
/// recently seen). Returns the token to hand to the device, once.
pub fn issue(
    devices: &mut Vec<Device>,
    user: &str,
    user_agent: &str,
    days: u64,
    max: usize,
    time: u64,
    rng: &mut EntropyStream,
) -> (String, String) {
    prune(devices, time);
    let id = loop {
        let id = b64url_encode(&rng.array::<ID_BYTES>());
        if !devices.iter().any(|d| d.id == id) {
            break id;
        }
    };
    let secret = b64url_encode(&rng.array::<SECRET_BYTES>());
    while devices.len() >= max.max(1) {
        let oldest = devices
            .iter()
            .enumerate()
            .min_by_key(|(_, d)| d.last_seen_at)
            .map_or(0, |(i, _)| i);
        devices.remove(oldest);
    }
    devices.push(Device {
        id: id.clone(),
        hash: b64_encode(&token_hash(user, &id, &secret)),
        label: label::sanitize(user_agent, label::MAX_DEVICE_LABEL_CHARS),
        created_at: time,
        last_seen_at: time,
        expires_at: time.saturating_add(days.saturating_mul(DAY)),
    });
    let token = alloc::format!("{id}.{secret}");
    (token, id)
}

impl Device {
    /// Whether its trust has ended at `time`.
    pub fn expired(&self, time: u64) -> bool {
        self.expires_at <= time
    }
}

/// A device trusted by [`trust`]: the token to hand to it (once), its id and expiry.
pub struct Issued {
    /// `<id>.<secret>`, for the device's cookie.
    pub token: String,
    /// The public id.
    pub id: String,
    /// When it stops being trusted.
    pub expires_at: u64,
}

/// Trusts a new device outside a login step, under the site policy: refused when the
/// policy turns trusted devices off (`device_days` 0); at most `max_devices` are kept.
pub fn trust(
    devices: &mut Vec<Device>,
    user: &str,
    user_agent: &str,
    policy: &Policy,
    time: u64,
    rng: &mut EntropyStream,
) -> Issued {
    let (token, id) = issue(
        devices,
        user,
        user_agent,
        policy.device_days,
        policy.max_devices,
        time,
        rng,
    );
    let expires_at = devices
        .iter()
        .find(|d| d.id == id)
        .map_or(0, |d| d.expires_at);
    Issued {
        token,
        id,
        expires_at,
    }
}

/// Refuses trusting devices when the policy turns them off (`device_days` is 0).
pub fn check_enabled(policy: &Policy) -> Result<()> {
    if policy.device_days == 0 {
        return Err(Error::new(
            ErrorCode::FeatureDisabled,
            "trusted devices are turned off by the site policy (device_days is 0)",
        ));
    }
    Ok(())
}

/// Checks a token; a trusted device's `last_seen_at` is set to `time`.
pub fn check(devices: &mut [Device], user: &str, token: &str, time: u64) -> DeviceCheck {
    let Some((id, secret)) = token.trim().split_once('.') else {
        return DeviceCheck::Malformed;
    };
    let decodes = |s: &str, n: usize| b64url_decode(s).is_some_and(|b| b.len() == n);
    if !decodes(id, ID_BYTES) || !decodes(secret, SECRET_BYTES) {
        return DeviceCheck::Malformed;
    }
    let Some(device) = devices.iter_mut().find(|d| d.id == id) else {
        return DeviceCheck::Unknown;
    };
    let expected = crate::encoding::b64_decode(&device.hash, "devices.hash").unwrap_or_default();
    let presented = token_hash(user, id, secret);
    if !bool::from(expected.as_slice().ct_eq(&presented)) {
        return DeviceCheck::Unknown;
    }
    if device.expires_at <= time {
        return DeviceCheck::Expired;
    }
    device.last_seen_at = device.last_seen_at.max(time);
    DeviceCheck::Trusted(device.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_check_expire_revoke() {
        let mut rng = EntropyStream::from_host(&[4; 32]).unwrap();
        let mut devices = Vec::new();
        let (token, id) = issue(&mut devices, "alice", "Firefox\n", 30, 20, 1000, &mut rng);
        assert_eq!(token.len(), 12 + 1 + 32);
        assert_eq!(devices[0].label, "Firefox");
        assert_eq!(
            check(&mut devices, "alice", &token, 2000),
            DeviceCheck::Trusted(id.clone())
        );
        assert_eq!(devices[0].last_seen_at, 2000);
        assert_eq!(
            check(&mut devices, "bob", &token, 2000),
            DeviceCheck::Unknown
        );
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_ne!(
            check(&mut devices, "alice", &forged, 2000),
            DeviceCheck::Trusted(id.clone())
        );
        assert_eq!(
            check(&mut devices, "alice", "garbage", 2000),
            DeviceCheck::Malformed
        );
        assert_eq!(
            check(&mut devices, "alice", &token, 1000 + 30 * DAY),
            DeviceCheck::Expired
        );
        assert!(prune(&mut devices, 1000 + 30 * DAY));
        assert_eq!(
            check(&mut devices, "alice", &token, 2000),
            DeviceCheck::Unknown
        );
    }

    #[test]
    fn cap_drops_least_recently_seen() {
        let mut rng = EntropyStream::from_host(&[4; 32]).unwrap();
        let mut devices = Vec::new();
        let (first, _) = issue(&mut devices, "a", "one", 30, 2, 10, &mut rng);
        let (_, second_id) = issue(&mut devices, "a", "two", 30, 2, 11, &mut rng);
        check(&mut devices, "a", &first, 12);
        issue(&mut devices, "a", "three", 30, 2, 13, &mut rng);
        assert_eq!(devices.len(), 2);
        assert!(!devices.iter().any(|d| d.id == second_id));
    }
}
