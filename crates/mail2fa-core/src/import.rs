//! Importers from other Roundcube 2FA plugins, so migrated users keep their
//! authenticator app entry (and, where the old plugin had them, their recovery codes).
//!
//! * twofactor_gauthenticator stores per-user prefs
//!   `{"secret": "<base32, usually 16 characters = 80 bits>", "activate": bool,
//!   "recovery_codes": ["…", …]}`; plaintext recovery codes become hashed backup codes.
//! * kolab_2fa stores `kolab_2fa_blob`: `{"totp:<hex id>": {"active", "label", "created",
//!   "secret", "digits"?, "algorithm"?, "period"?}, "hotp:<id>": {…}, …}`. TOTP entries are
//!   imported; HOTP and any other kind are reported as unsupported, never silently dropped.
//!
//! An active factor becomes the enabled TOTP factor; an inactive one (never confirmed in
//! the old plugin) becomes a pending enrollment, which never makes 2FA required.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::backup::BackupCodes;
use crate::encoding::b32_decode;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::record::{Record, Revoked, TotpFactor};
use crate::seal::Keyring;
use crate::totp::{check_secret_len, Algorithm, Params, MIN_IMPORTED_SECRET_BYTES};

/// Most recovery codes read from one source.
const MAX_CODES: usize = 64;

/// A TOTP key found in the source.
#[derive(Debug, Clone)]
pub struct FoundTotp {
    /// The secret bytes.
    pub secret: Vec<u8>,
    /// Algorithm, digits, period.
    pub params: Params,
    /// Whether the old plugin had it confirmed and in use.
    pub active: bool,
    /// The old plugin's label (account name in the app).
    pub label: Option<String>,
    /// When the old plugin made it.
    pub created: Option<u64>,
}

/// Why an entry of the source was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skipped {
    /// An HOTP (counter-based) factor: not supported.
    HotpUnsupported,
    /// A kind of factor other than TOTP and HOTP.
    UnsupportedMethod,
    /// A TOTP factor never confirmed in the old plugin, beside the one imported.
    Inactive,
    /// An active TOTP factor beside a newer one that was imported.
    Superseded,
    /// A recovery code that is not a usable code.
    InvalidCode,
}

impl Skipped {
    /// Every reason.
    pub const ALL: [Skipped; 5] = [
        Skipped::HotpUnsupported,
        Skipped::UnsupportedMethod,
        Skipped::Inactive,
        Skipped::Superseded,
        Skipped::InvalidCode,
    ];

    /// The name hosts see.
    pub const fn as_str(self) -> &'static str {
        match self {
            Skipped::HotpUnsupported => "hotp_unsupported",
            Skipped::UnsupportedMethod => "unsupported_method",
            Skipped::Inactive => "inactive",
            Skipped::Superseded => "superseded",
            Skipped::InvalidCode => "invalid_code",
        }
    }
}

/// An entry of the source that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotImported {
    /// The entry (`hotp:…`, `recovery_codes[3]`, …).
    pub entry: String,
    /// Why.
    pub reason: Skipped,
}

/// What became of the source's TOTP factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportedTotp {
    /// The enabled factor now.
    Enabled,
    /// A pending enrollment (it was never confirmed in the old plugin).
    Pending,
    /// The source had none to import.
    None,
}

/// What a source holds, ready to apply to a record.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The TOTP key to import.
    pub totp: Option<FoundTotp>,
    /// Plaintext recovery codes.
    pub recovery_codes: Vec<String>,
    /// Entries not imported.
    pub not_imported: Vec<NotImported>,
    /// What enabling a first factor removed ([`Record::enable_factor`]).
    pub revoked: Revoked,
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorCode::InvalidImport, message)
}

fn secret_from(text: &str) -> Result<Vec<u8>> {
    let secret = b32_decode(text, "secret")?;
    check_secret_len(&secret, MIN_IMPORTED_SECRET_BYTES)?;
    Ok(secret)
}

/// Reads twofactor_gauthenticator prefs.
pub fn gauthenticator(prefs: &Value) -> Result<Plan> {
    let prefs = prefs
        .as_object()
        .ok_or_else(|| invalid("prefs must be an object"))?;
    let mut plan = Plan::default();
    let secret = match prefs.get("secret") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(secret_from(s)?),
        None | Some(Value::Null) | Some(Value::String(_)) => None,
        Some(_) => return Err(invalid("prefs.secret must be a string")),
    };
    let active = match prefs.get("activate") {
        Some(Value::Bool(b)) => *b,
        // Roundcube prefs written by PHP forms may carry "1"/"0" or 1/0.
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "on"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        None | Some(Value::Null) => false,
        Some(_) => return Err(invalid("prefs.activate must be a boolean")),
    };
    if let Some(secret) = secret {
        plan.totp = Some(FoundTotp {
            secret,
            params: Params::default(),
            active,
            label: None,
            created: None,
        });
    }
    match prefs.get("recovery_codes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(codes)) if codes.len() <= MAX_CODES => {
            for (i, code) in codes.iter().enumerate() {
                match code {
                    // The plugin's settings form keeps empty slots; they are not codes.
                    Value::Null => {}
                    Value::String(c) if c.trim().is_empty() => {}
                    Value::String(c) => plan.recovery_codes.push(c.trim().to_string()),
                    _ => plan.not_imported.push(NotImported {
                        entry: alloc::format!("recovery_codes[{i}]"),
                        reason: Skipped::InvalidCode,
                    }),
                }
            }
        }
        Some(_) => {
            return Err(invalid(
                "prefs.recovery_codes must be an array of at most 64 strings",
            ))
        }
    }
    if plan.totp.is_none() && plan.recovery_codes.is_empty() {
        return Err(invalid("prefs hold no secret and no recovery codes"));
    }
    Ok(plan)
}

fn kolab_totp(entry: &Map<String, Value>) -> Result<FoundTotp> {
    let secret = entry
        .get("secret")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("a kolab_2fa totp entry has no secret"))?;
    let defaults = Params::default();
    let params = Params {
        algorithm: match entry.get("algorithm").and_then(Value::as_str) {
            Some(a) => Algorithm::parse(a)?,
            None => defaults.algorithm,
        },
        digits: match entry.get("digits") {
            None | Some(Value::Null) => defaults.digits,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|d| u8::try_from(d).ok())
                .ok_or_else(|| Error::new(ErrorCode::UnsupportedDigits, "digits must be 6 to 8"))?,
        },
        period: match entry.get("period") {
            None | Some(Value::Null) => defaults.period,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::UnsupportedPeriod,
                        "period must be 15 to 300 seconds",
                    )
                })?,
        },
    };
    params.validate()?;
    Ok(FoundTotp {
        secret: secret_from(secret)?,
        params,
        active: matches!(entry.get("active"), Some(Value::Bool(true)))
            || entry.get("active").and_then(Value::as_u64) == Some(1)
            || entry.get("active").and_then(Value::as_str) == Some("1"),
        label: entry
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .map(String::from),
        created: entry.get("created").and_then(|c| {
            c.as_u64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        }),
    })
}

/// Reads a kolab_2fa blob (an object, or the JSON text of one).
pub fn kolab(blob: &Value) -> Result<Plan> {
    let parsed;
    let blob = match blob {
        Value::String(text) => {
            parsed =
                serde_json::from_str::<Value>(text).map_err(|_| invalid("blob is not JSON"))?;
            &parsed
        }
        other => other,
    };
    let blob = blob
        .as_object()
        .ok_or_else(|| invalid("blob must be an object"))?;
    let mut plan = Plan::default();
    let mut candidates: Vec<(String, FoundTotp)> = Vec::new();
    for (id, entry) in blob {
        let kind = id.split_once(':').map_or(id.as_str(), |(k, _)| k);
        match kind {
            "totp" => {
                let entry = entry
                    .as_object()
                    .ok_or_else(|| invalid("a kolab_2fa entry must be an object"))?;
                candidates.push((id.clone(), kolab_totp(entry)?));
            }
            "hotp" => plan.not_imported.push(NotImported {
                entry: id.clone(),
                reason: Skipped::HotpUnsupported,
            }),
            _ => plan.not_imported.push(NotImported {
                entry: id.clone(),
                reason: Skipped::UnsupportedMethod,
            }),
        }
    }
    // The newest active entry wins; without an active one, the newest inactive one.
    let best = candidates
        .iter()
        .enumerate()
        .max_by_key(|(_, (_, f))| (f.active, f.created.unwrap_or(0)))
        .map(|(i, _)| i);
    for (i, (id, found)) in candidates.into_iter().enumerate() {
        if Some(i) == best {
            plan.totp = Some(found);
        } else {
            plan.not_imported.push(NotImported {
                entry: id,
                reason: if found.active {
                    Skipped::Superseded
                } else {
                    Skipped::Inactive
                },
            });
        }
    }
    if plan.totp.is_none() && plan.not_imported.is_empty() {
        return Err(invalid("blob holds no factors"));
    }
    Ok(plan)
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What became of the source's TOTP factor.
    pub totp: ImportedTotp,
    /// Backup codes imported.
    pub backup_codes: usize,
    /// Entries not imported.
    pub not_imported: Vec<NotImported>,
    /// What enabling a first factor removed ([`Record::enable_factor`]).
    pub revoked: Revoked,
}

/// Applies a plan to `record`. An enabled factor is overwritten only with `replace`.
pub fn apply(
    plan: Plan,
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    time: u64,
    replace: bool,
    rng: &mut EntropyStream,
) -> Result<Report> {
    record.check_import(replace)?;
    let mut report = Report {
        totp: ImportedTotp::None,
        backup_codes: 0,
        not_imported: plan.not_imported,
        revoked: Revoked::default(),
    };
    if let Some(found) = plan.totp {
        let account = found.label.unwrap_or_else(|| String::from(user));
        let factor = TotpFactor::seal_new(
            keyring,
            user,
            &found.secret,
            found.params,
            None,
            account,
            found.created.unwrap_or(time),
            rng,
        );
        if found.active {
            report.revoked = record.install_imported(factor, time);
            report.totp = ImportedTotp::Enabled;
        } else {
            record.pending_totp = Some(factor);
            report.totp = ImportedTotp::Pending;
        }
    }
    if !plan.recovery_codes.is_empty() {
        let codes: Vec<&str> = plan.recovery_codes.iter().map(String::as_str).collect();
        let (set, rejected) = BackupCodes::import(keyring, user, &codes, time, rng);
        for i in rejected {
            report.not_imported.push(NotImported {
                entry: alloc::format!("recovery_codes[{i}]"),
                reason: Skipped::InvalidCode,
            });
        }
        report.backup_codes = set.remaining();
        if set.remaining() > 0 {
            record.backup_codes = Some(set);
        }
    }
    record.touch(time);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gauthenticator_prefs() {
        let plan = gauthenticator(&json!({
            "secret": "JBSWY3DPEHPK3PXP", "activate": true,
            "recovery_codes": ["ABCDEFGHIJ", "", null, "KLMNOPQRST"]
        }))
        .unwrap();
        let totp = plan.totp.unwrap();
        assert_eq!(totp.secret.len(), 10);
        assert!(totp.active);
        assert_eq!(plan.recovery_codes, ["ABCDEFGHIJ", "KLMNOPQRST"]);
        assert!(gauthenticator(&json!({"activate": true})).is_err());
        assert_eq!(
            gauthenticator(&json!({"secret": "JBSWY3DP"}))
                .unwrap_err()
                .code(),
            ErrorCode::SecretTooShort
        );
    }

    #[test]
    fn kolab_blob_reports_hotp() {
        let blob = json!({
            "totp:0a1b": {"active": false, "label": "old", "created": 10, "secret": "JBSWY3DPEHPK3PXP"},
            "totp:2c3d": {"active": true, "label": "phone", "created": 5, "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "digits": 8, "algorithm": "sha256"},
            "hotp:4e5f": {"active": true, "secret": "JBSWY3DPEHPK3PXP", "counter": 3}
        });
        let plan = kolab(&Value::String(blob.to_string())).unwrap();
        let totp = plan.totp.unwrap();
        assert!(totp.active);
        assert_eq!(totp.params.digits, 8);
        assert_eq!(totp.params.algorithm, Algorithm::SHA256);
        assert_eq!(totp.label.as_deref(), Some("phone"));
        let mut reasons: Vec<(&str, &str)> = plan
            .not_imported
            .iter()
            .map(|n| (n.entry.as_str(), n.reason.as_str()))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [("hotp:4e5f", "hotp_unsupported"), ("totp:0a1b", "inactive")]
        );
        assert!(kolab(&json!("not json")).is_err());
    }
}
