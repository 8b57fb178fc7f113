//! Importers: twofactor_gauthenticator prefs and kolab_2fa blobs → a record.

use alloc::vec::Vec;

use super::fields::{request, response, Json, User};
use crate::entropy::EntropyStream;
use crate::error::Result;
use crate::import::{self, ImportedTotp, NotImported, Plan};
use crate::record::{Record, State};
use crate::seal::Keyring;

request! {
    /// `import.gauthenticator`: `prefs` = `{"secret", "activate", "recovery_codes"}`.
    pub struct GauthenticatorRequest {
        user: User,
        time: u64,
        keys: Keyring,
        entropy: EntropyStream,
        prefs: Json,
        record: Option<Record>,
        replace: bool,
    }
}

request! {
    /// `import.kolab`: `blob` = the kolab_2fa_blob object (or its JSON text).
    pub struct KolabRequest {
        user: User,
        time: u64,
        keys: Keyring,
        entropy: EntropyStream,
        blob: Json,
        record: Option<Record>,
        replace: bool,
    }
}

response! {
    /// What an import did.
    pub struct ImportResponse {
        totp: ImportedTotp,
        backup_codes: u64,
        not_imported: Vec<NotImported>,
        revoked_app_passwords: u64,
        revoked_devices: u64,
        state: State,
        record: Record,
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    plan: Plan,
    user: User,
    time: u64,
    keys: Keyring,
    mut entropy: EntropyStream,
    record: Option<Record>,
    replace: bool,
) -> Result<ImportResponse> {
    let mut record = record.unwrap_or_else(|| Record::new(time));
    record.check_opens(&keys, &user)?;
    let report = import::apply(plan, &mut record, &keys, &user, time, replace, &mut entropy)?;
    Ok(ImportResponse {
        totp: report.totp,
        backup_codes: report.backup_codes as u64,
        not_imported: report.not_imported,
        revoked_app_passwords: report.revoked.app_passwords,
        revoked_devices: report.revoked.devices,
        state: record.state(),
        record,
    })
}

/// `import.gauthenticator`: twofactor_gauthenticator's prefs as the user's factor and
/// backup codes.
pub fn gauthenticator(req: GauthenticatorRequest) -> Result<ImportResponse> {
    let plan = import::gauthenticator(&req.prefs.0)?;
    run(
        plan,
        req.user,
        req.time,
        req.keys,
        req.entropy,
        req.record,
        req.replace,
    )
}

/// `import.kolab`: kolab_2fa's blob as the user's factor.
pub fn kolab(req: KolabRequest) -> Result<ImportResponse> {
    let plan = import::kolab(&req.blob.0)?;
    run(
        plan,
        req.user,
        req.time,
        req.keys,
        req.entropy,
        req.record,
        req.replace,
    )
}
