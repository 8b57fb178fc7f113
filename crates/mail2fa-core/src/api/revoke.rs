//! Revoking entries of a record's lists (trusted devices, app passwords): one by id, all,
//! or all but one. Both lists follow the same rules, so they share them here.

use alloc::string::String;
use alloc::vec::Vec;

use super::fields::{request, response};
use crate::record::Record;

request! {
    /// `device.revoke`, `app_password.revoke`: one entry by id.
    pub struct RevokeRequest {
        id: String,
        time: u64,
        record: Record,
    }
}

request! {
    /// `device.revoke_all` (all, or all but `except`), `app_password.revoke_all` (all).
    pub struct RevokeAllRequest {
        except: Option<String>,
        time: u64,
        record: Record,
    }
}

request! {
    /// `app_password.revoke_all`, `password.changed`: the record and the time.
    pub struct RecordTimeRequest {
        time: u64,
        record: Record,
    }
}

response! {
    /// `revoked`: whether the id named an entry.
    pub struct RevokeResponse {
        revoked: bool,
        record: Record,
    }
}

response! {
    /// `revoked`: how many entries went.
    pub struct RevokeAllResponse {
        revoked: u64,
        record: Record,
    }
}

/// Removes the entries of the list `entries` selects for which `gone` holds; the record
/// is touched (its `rev` bumped) only when something was removed, so a no-op revoke
/// never costs the host a write. Returns how many went.
pub(crate) fn revoke_where<T>(
    record: &mut Record,
    time: u64,
    entries: impl FnOnce(&mut Record) -> &mut Vec<T>,
    gone: impl Fn(&T) -> bool,
) -> u64 {
    let list = entries(record);
    let before = list.len();
    list.retain(|entry| !gone(entry));
    let revoked = (before - list.len()) as u64;
    if revoked > 0 {
        record.touch(time);
    }
    revoked
}
