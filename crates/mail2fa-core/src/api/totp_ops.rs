//! TOTP ops: codes, enrollment and confirmation, verification, import and export.

use alloc::string::String;
use alloc::vec::Vec;

use super::backup_ops::Limited;
use super::fields::{
    request, response, Base32, Deferred, FreshOut, Proof, Secret, TotpSecret, User, Window,
};
use super::fresh;
use crate::encoding::b32_encode;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{reauthenticate, ProofMethod};
use crate::otpauth::KeyUri;
use crate::policy::{Method, Policy};
use crate::reason::Reason;
use crate::record::{Activation, Record, Revoked, State, TotpFactor};
use crate::seal::Keyring;
use crate::totp::{self, Algorithm, Params, NEW_SECRET_BYTES};

request! {
    /// `totp.code`.
    pub struct CodeRequest {
        secret: TotpSecret,
        params: Params,
        time: u64,
    }
}

response! {
    /// `totp.code`.
    pub struct CodeResponse {
        code: String,
    }
}

/// `totp.code`: the code for a base32 secret at a time.
pub fn code(req: CodeRequest) -> Result<CodeResponse> {
    Ok(CodeResponse {
        code: totp::code_at(&req.secret.0, &req.params, req.time),
    })
}

request! {
    /// `totp.enroll`.
    pub struct EnrollRequest {
        user: User,
        time: u64,
        keys: Keyring,
        entropy: EntropyStream,
        params: Params,
        policy: Policy,
        record: Option<Record>,
        issuer: Option<String>,
        account: Option<String>,
        /// Read only when replacing an enabled factor.
        proof: Deferred<Proof>,
        /// Read only when replacing an enabled factor.
        window: Deferred<Window>,
    }
}

response! {
    /// `totp.enroll`: `uri` and `secret` null when a needed proof was refused; `fresh`
    /// null when none was needed.
    pub struct EnrollResponse {
        uri: Option<String>,
        secret: Option<String>,
        fresh: Option<FreshOut>,
        state: State,
        record: Record,
    }
}

/// `totp.enroll`: a new secret from host entropy as a pending enrollment; an enabled
/// factor stays in force until the new one is confirmed. Replacing an enabled factor is
/// a security change: it needs a fresh factor (`proof`), and when the proof is refused
/// nothing is enrolled (`uri` and `secret` are null, `fresh.accepted` false). `fresh` is
/// null for a user without an enabled factor (nothing to prove).
pub fn enroll(req: EnrollRequest) -> Result<EnrollResponse> {
    let EnrollRequest {
        user,
        time,
        keys,
        mut entropy,
        params,
        policy,
        record,
        issuer,
        account,
        proof,
        window,
    } = req;
    let mut record = record.unwrap_or_else(|| Record::new(time));
    let replacing = record.totp.is_some();
    let opening = if replacing {
        Some(fresh::open_unless_proved(&record, &keys, &user, &proof)?)
    } else {
        record.check_opens(&keys, &user)?;
        None
    };
    let secret: [u8; NEW_SECRET_BYTES] = entropy.array();
    let key = KeyUri {
        issuer,
        account: account.unwrap_or_else(|| user.0.clone()),
        secret: secret.to_vec(),
        params,
    };
    let uri = key.to_uri();
    let (uri, fresh) = if let Some(opening) = opening {
        let checked = uri.and_then(|uri| Ok((uri, proof.get()?, window.get()?)));
        let (uri, proof, window) = opening.first(&record, &keys, &user, checked)?;
        let fresh = fresh::check(&mut record, &keys, &user, &proof, window, time, &policy);
        let fresh = opening.first(&record, &keys, &user, fresh)?;
        if !fresh.accepted {
            return Ok(EnrollResponse {
                uri: None,
                secret: None,
                fresh: Some(FreshOut::of(&fresh)),
                state: record.state(),
                record,
            });
        }
        (uri, Some(FreshOut::of(&fresh)))
    } else {
        (uri?, None)
    };
    record.pending_totp = Some(TotpFactor::seal_new(
        &keys,
        &user,
        &secret,
        params,
        key.issuer,
        key.account,
        time,
        &mut entropy,
    ));
    if fresh.is_none() {
        record.touch(time);
    } // else the accepted proof bumped `rev` for this op already.
    Ok(EnrollResponse {
        uri: Some(uri),
        secret: Some(b32_encode(&secret)),
        fresh,
        state: record.state(),
        record,
    })
}

request! {
    /// `totp.activate`: `entropy` is needed when the policy allows backup codes.
    pub struct ActivateRequest {
        user: User,
        time: u64,
        keys: Keyring,
        record: Record,
        window: Window,
        code: Secret,
        policy: Policy,
        entropy: Deferred<EntropyStream>,
    }
}

response! {
    /// `totp.activate`.
    pub struct ActivateResponse {
        activated: bool,
        step: Option<u64>,
        reason: Option<Reason>,
        backup_codes: Option<Vec<String>>,
        revoked_app_passwords: u64,
        revoked_devices: u64,
        state: State,
        record: Record,
    }
}

/// `totp.activate`: confirms a pending enrollment with its first correct code
/// ([`Record::activate`]). On success the first backup codes are issued when the policy
/// allows them (`entropy` is then required, checked before the code), and when this is
/// the user's first factor every app password and trusted device already in the record
/// is removed (added without 2FA, they may have been planted by someone holding only the
/// password).
pub fn activate(req: ActivateRequest) -> Result<ActivateResponse> {
    let ActivateRequest {
        user,
        time,
        keys,
        mut record,
        window,
        code,
        policy,
        entropy,
    } = req;
    let mut rng = match policy.allows(Method::BackupCode) {
        true => Some(entropy.get()?),
        false => None,
    };
    let backup = rng.as_mut().map(|rng| (policy.backup_count, rng));
    let activation = record.activate(&keys, &user, code.as_str(), time, window.0, backup)?;
    let (step, reason, codes, revoked) = match activation {
        Activation::Activated {
            step,
            revoked,
            backup_codes,
        } => (
            Some(step),
            None,
            backup_codes.map(|codes| codes.iter().map(|c| String::from(c.as_str())).collect()),
            revoked,
        ),
        Activation::Refused(reason) => (None, Some(reason), None, Revoked::default()),
    };
    Ok(ActivateResponse {
        activated: step.is_some(),
        step,
        reason,
        backup_codes: codes,
        revoked_app_passwords: revoked.app_passwords,
        revoked_devices: revoked.devices,
        state: record.state(),
        record,
    })
}

request! {
    /// `totp.cancel`.
    pub struct CancelRequest {
        time: u64,
        record: Record,
    }
}

response! {
    /// A record and its state (`totp.cancel`, `record.seal`).
    pub struct RecordResponse {
        state: State,
        record: Record,
    }
}

impl RecordResponse {
    /// The response for `record`.
    pub fn of(record: Record) -> Self {
        RecordResponse {
            state: record.state(),
            record,
        }
    }
}

/// `totp.cancel`: drops a pending enrollment; the enabled factor, if any, is untouched.
pub fn cancel(req: CancelRequest) -> Result<RecordResponse> {
    let CancelRequest { time, mut record } = req;
    if record.pending_totp.take().is_some() {
        record.touch(time);
    }
    Ok(RecordResponse::of(record))
}

request! {
    /// `totp.verify`.
    pub struct VerifyRequest {
        record: Record,
        user: User,
        time: u64,
        keys: Keyring,
        window: Window,
        policy: Policy,
        code: Secret,
    }
}

response! {
    /// `totp.verify`.
    pub struct VerifyResponse {
        accepted: bool,
        step: Option<u64>,
        reason: Option<Reason>,
        retry_after: Option<u64>,
        state: State,
        record: Record,
    }
}

/// `totp.verify`: one TOTP code at login; an accepted step is never accepted again.
/// Counted by the attempt limiter (`reason: "locked"` with `retry_after` while locked).
pub fn verify(req: VerifyRequest) -> Result<VerifyResponse> {
    let VerifyRequest {
        mut record,
        user,
        time,
        keys,
        window,
        policy,
        code,
    } = req;
    let outcome = reauthenticate(
        &mut record,
        &keys,
        &user,
        ProofMethod::Totp,
        code.as_str(),
        time,
        window.0,
        &policy,
    )?;
    let limited = Limited::of(outcome);
    let step = match (&record.totp, limited.accepted) {
        (Some(f), true) => f.last_step,
        _ => None,
    };
    Ok(VerifyResponse {
        accepted: limited.accepted,
        step,
        reason: limited.reason,
        retry_after: limited.retry_after,
        state: record.state(),
        record,
    })
}

request! {
    /// `totp.disable`.
    pub struct DisableRequest {
        record: Record,
        method: ProofMethod,
        user: User,
        time: u64,
        keys: Keyring,
        window: Window,
        policy: Policy,
        code: Secret,
    }
}

response! {
    /// `totp.disable`.
    pub struct DisableResponse {
        disabled: bool,
        reason: Option<Reason>,
        retry_after: Option<u64>,
        revoked_app_passwords: u64,
        revoked_devices: u64,
        state: State,
        record: Record,
    }
}

/// `totp.disable`: removes 2FA (TOTP, backup codes, trusted devices, app passwords),
/// only with a current code (or, with `method: "backup_code"`, an unused backup code: the
/// user who lost the phone), checked under the attempt limiter exactly as `totp.verify`.
pub fn disable(req: DisableRequest) -> Result<DisableResponse> {
    let DisableRequest {
        mut record,
        method,
        user,
        time,
        keys,
        window,
        policy,
        code,
    } = req;
    let outcome = reauthenticate(
        &mut record,
        &keys,
        &user,
        method,
        code.as_str(),
        time,
        window.0,
        &policy,
    )?;
    let limited = Limited::of(outcome);
    let revoked = if limited.accepted {
        record.disable_2fa()
    } else {
        Revoked::default()
    };
    Ok(DisableResponse {
        disabled: limited.accepted,
        reason: limited.reason,
        retry_after: limited.retry_after,
        revoked_app_passwords: revoked.app_passwords,
        revoked_devices: revoked.devices,
        state: record.state(),
        record,
    })
}

request! {
    /// `totp.import`.
    pub struct ImportRequest {
        user: User,
        time: u64,
        keys: Keyring,
        entropy: EntropyStream,
        uri: KeyUri,
        record: Option<Record>,
        /// Read only when the user has an enabled factor.
        replace: Deferred<bool>,
    }
}

response! {
    /// `totp.import`.
    pub struct ImportResponse {
        revoked_app_passwords: u64,
        revoked_devices: u64,
        state: State,
        record: Record,
    }
}

/// `totp.import`: an existing key (otpauth URI, e.g. from another plugin) as an enabled
/// factor (any pending enrollment goes; a first factor cleans the slate as activation
/// does: [`Record::install_imported`]). Legacy 80-bit secrets are accepted here; new
/// enrollments always get 160 bits.
pub fn import(req: ImportRequest) -> Result<ImportResponse> {
    let ImportRequest {
        user,
        time,
        keys,
        mut entropy,
        uri: key,
        record,
        replace,
    } = req;
    let mut record = record.unwrap_or_else(|| Record::new(time));
    if record.totp.is_some() {
        record.check_import(replace.get()?)?;
    }
    let factor = TotpFactor::seal_new(
        &keys,
        &user,
        &key.secret,
        key.params,
        key.issuer,
        key.account,
        time,
        &mut entropy,
    );
    let revoked = record.install_imported(factor, time);
    record.touch(time);
    Ok(ImportResponse {
        revoked_app_passwords: revoked.app_passwords,
        revoked_devices: revoked.devices,
        state: record.state(),
        record,
    })
}

request! {
    /// `totp.export`.
    pub struct ExportRequest {
        user: User,
        keys: Keyring,
        record: Record,
    }
}

response! {
    /// An otpauth URI (`totp.export`, `otpauth.build`).
    pub struct UriResponse {
        uri: String,
    }
}

/// `totp.export`: the enabled factor as an otpauth URI, for moving it to another app.
pub fn export(req: ExportRequest) -> Result<UriResponse> {
    let ExportRequest { user, keys, record } = req;
    let factor = record
        .totp
        .as_ref()
        .ok_or_else(|| Error::new(ErrorCode::NotEnabled, "the user has no enabled TOTP factor"))?;
    let secret = factor.open_secret(&keys, &user)?;
    let uri = KeyUri {
        issuer: factor.issuer.clone(),
        account: factor.account.clone(),
        secret: secret.to_vec(),
        params: factor.params(),
    }
    .to_uri()?;
    Ok(UriResponse { uri })
}

request! {
    /// `otpauth.parse`.
    pub struct OtpauthParseRequest {
        uri: KeyUri,
    }
}

response! {
    /// `otpauth.parse`.
    pub struct OtpauthParseResponse {
        issuer: Option<String>,
        account: String,
        secret: String,
        algorithm: &'static str,
        digits: u8,
        period: u64,
    }
}

/// `otpauth.parse`: the fields of an otpauth URI.
pub fn otpauth_parse(req: OtpauthParseRequest) -> Result<OtpauthParseResponse> {
    let key = req.uri;
    Ok(OtpauthParseResponse {
        secret: b32_encode(&key.secret),
        algorithm: Algorithm::as_str(key.params.algorithm),
        digits: key.params.digits,
        period: key.params.period,
        issuer: key.issuer,
        account: key.account,
    })
}

request! {
    /// `otpauth.build`.
    pub struct OtpauthBuildRequest {
        issuer: Option<String>,
        account: String,
        secret: Base32,
        params: Params,
    }
}

/// `otpauth.build`: an otpauth URI from its fields.
pub fn otpauth_build(req: OtpauthBuildRequest) -> Result<UriResponse> {
    let uri = KeyUri {
        issuer: req.issuer,
        account: req.account,
        secret: req.secret.0.to_vec(),
        params: req.params,
    }
    .to_uri()?;
    Ok(UriResponse { uri })
}
