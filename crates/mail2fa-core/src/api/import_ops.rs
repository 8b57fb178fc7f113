//! Importers: twofactor_gauthenticator prefs and kolab_2fa blobs → a record.

use alloc::vec::Vec;
use serde_json::{json, Value};

use super::{fields, Request, Response};
use crate::error::{Error, ErrorCode, Result};
use crate::import::{self, Plan};

fn run(req: &Request, plan: impl FnOnce(&Value) -> Result<Plan>, field: &str) -> Result<Response> {
    let user = req.user()?;
    let time = req.time()?;
    let keyring = req.keyring()?;
    let mut rng = req.rng()?;
    let source = req.get(field).ok_or_else(|| {
        Error::new(
            ErrorCode::MissingField,
            alloc::format!("{field} is required"),
        )
    })?;
    let plan = plan(source)?;
    let mut record = req.record_or_new(time)?;
    record.check_opens(&keyring, user)?;
    let report = import::apply(
        plan,
        &mut record,
        &keyring,
        user,
        time,
        req.opt_bool("replace")?.unwrap_or(false),
        &mut rng,
    )?;
    let not_imported: Vec<Value> = report
        .not_imported
        .iter()
        .map(|n| json!({"entry": n.entry, "reason": n.reason}))
        .collect();
    Ok(fields([
        ("totp", Value::from(report.totp)),
        ("backup_codes", Value::from(report.backup_codes as u64)),
        ("not_imported", Value::Array(not_imported)),
        (
            "revoked_app_passwords",
            Value::from(report.revoked.app_passwords),
        ),
        ("revoked_devices", Value::from(report.revoked.devices)),
        ("state", Value::from(record.state().as_str())),
        ("record", record.to_value()),
    ]))
}

/// `import.gauthenticator`: `prefs` = `{"secret", "activate", "recovery_codes"}`.
pub fn gauthenticator(req: &Request) -> Result<Response> {
    run(req, import::gauthenticator, "prefs")
}

/// `import.kolab`: `blob` = the kolab_2fa_blob object (or its JSON text).
pub fn kolab(req: &Request) -> Result<Response> {
    run(req, import::kolab, "blob")
}
