//! Revoking entries of a record's lists (trusted devices, app passwords): one by id, all,
//! or all but one. Both lists follow the same rules, so they share them here.

use alloc::vec::Vec;
use serde_json::Value;

use super::{fields, Request, Response};
use crate::error::Result;
use crate::record::Record;

/// Removes the entries of the list `entries` selects for which `gone` holds; the record
/// is touched (its `rev` bumped) only when something was removed, so a no-op revoke
/// never costs the host a write. Returns how many went and the record.
pub(crate) fn revoke_where<T>(
    req: &Request,
    entries: impl FnOnce(&mut Record) -> &mut Vec<T>,
    gone: impl Fn(&T) -> bool,
) -> Result<(u64, Record)> {
    let time = req.time()?;
    let mut record = req.record()?;
    let list = entries(&mut record);
    let before = list.len();
    list.retain(|entry| !gone(entry));
    let revoked = (before - list.len()) as u64;
    if revoked > 0 {
        record.touch(time);
    }
    Ok((revoked, record))
}

/// The response of a revoke op: `revoked` (a bool for one id, a count for all) and the record.
pub(crate) fn revoked(revoked: Value, record: &Record) -> Response {
    fields([("revoked", revoked), ("record", record.to_value())])
}
