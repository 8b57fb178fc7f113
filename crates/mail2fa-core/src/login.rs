//! The login decision: record + submitted factor + time + policy → verdict + new record.
//!
//! Hosts call this once per login step and act on the verdict; they never combine the
//! rules (policy, enabled factors, limiter, device trust) themselves. See `login.decide`
//! in `docs/ops.md` for the verdicts.

use alloc::string::String;
use alloc::vec::Vec;

use crate::backup::BackupCodes;
use crate::device::{self, DeviceCheck};
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::limiter::Failure;
use crate::policy::{LimiterConfig, Method, Policy};
use crate::reason::Reason;
use crate::record::Record;
use crate::seal::Keyring;
use crate::totp::{self, Check};

/// What the user submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor<'a> {
    /// Nothing yet (the first call after the password passed).
    None,
    /// A TOTP code.
    Totp(&'a str),
    /// A backup code.
    BackupCode(&'a str),
    /// A trusted-device token (from the device's cookie).
    Device(&'a str),
}

/// The verdict of a login step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The user has no enabled factor and the policy does not require one: log in.
    NotRequired,
    /// The policy requires 2FA and the user has none: allow only enrollment.
    EnrollRequired,
    /// The user has 2FA and no acceptable factor was submitted: ask for one.
    FactorRequired,
    /// The factor passed: log in.
    Ok,
    /// The factor was wrong (a wrong code is counted by the limiter; a replayed or
    /// malformed one is not): ask again.
    Wrong,
    /// Too many wrong factors: nothing was checked; retry after `retry_after` seconds.
    Locked,
}

impl Verdict {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::NotRequired => "not_required",
            Verdict::EnrollRequired => "enroll_required",
            Verdict::FactorRequired => "factor_required",
            Verdict::Ok => "ok",
            Verdict::Wrong => "wrong",
            Verdict::Locked => "locked",
        }
    }
}

/// The outcome of one limited check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// Accepted; the limiter was reset.
    Accepted,
    /// Rejected for `reason`. A guess (`wrong_code`) is counted and `retry_after` is set
    /// when it locked; `replayed` and `malformed` are refused without being counted.
    Rejected {
        /// [`Reason::WrongCode`], [`Reason::Replayed`] or [`Reason::Malformed`].
        reason: Reason,
        /// Seconds of the lock this failure started, if it did.
        retry_after: Option<u64>,
    },
    /// Locked: not checked.
    Locked {
        /// Seconds until the lock ends.
        retry_after: u64,
    },
}

/// Whether a refusal is a guess the limiter counts. A replayed code (a right code whose
/// step was already used, e.g. the same code sent from two tabs) and a malformed one
/// (which cannot be any code) are refused but are not guesses: counting them would let a
/// double-submit or a typo-prone client lock the user out.
pub fn counts_as_guess(reason: Reason) -> bool {
    !matches!(reason, Reason::Replayed | Reason::Malformed)
}

/// Runs `check` (which returns `None` when accepted or the reason it was not) under the
/// limiter: refused unchecked while locked, counted when wrong ([`counts_as_guess`]),
/// reset when right. Every change to the record is marked with `touch(time)`.
pub fn guarded(
    record: &mut Record,
    time: u64,
    config: &LimiterConfig,
    check: impl FnOnce(&mut Record) -> Result<Option<Reason>>,
) -> Result<Guarded> {
    if let Some(retry_after) = record.limiter.retry_after(time) {
        return Ok(Guarded::Locked { retry_after });
    }
    match check(record)? {
        None => {
            record.limiter.succeed();
            record.touch(time);
            Ok(Guarded::Accepted)
        }
        Some(reason) if !counts_as_guess(reason) => Ok(Guarded::Rejected {
            reason,
            retry_after: None,
        }),
        Some(reason) => {
            let retry_after = match record.limiter.fail(time, config) {
                Failure::Counted => None,
                Failure::Locked(seconds) => Some(seconds),
            };
            record.touch(time);
            Ok(Guarded::Rejected {
                reason,
                retry_after,
            })
        }
    }
}

/// Checks a TOTP code against the enabled factor (recording the accepted step); `None`
/// when accepted, else the reason. Not limited: wrap it in [`guarded`].
pub fn check_totp(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    code: &str,
    time: u64,
    window: u64,
) -> Result<Option<Reason>> {
    let secret = record
        .totp
        .as_ref()
        .ok_or_else(not_enabled)?
        .open_secret(keyring, user)?;
    check_totp_opened(record, &secret, code, time, window)
}

fn not_enabled() -> Error {
    Error::new(ErrorCode::NotEnabled, "the user has no enabled TOTP factor")
}

/// [`check_totp`] with the enabled factor's secret already opened (by
/// [`Record::open_checked`]), so a login check decrypts it once.
pub fn check_totp_opened(
    record: &mut Record,
    secret: &[u8],
    code: &str,
    time: u64,
    window: u64,
) -> Result<Option<Reason>> {
    let factor = record.totp.as_mut().ok_or_else(not_enabled)?;
    match totp::check(
        secret,
        &factor.params(),
        code,
        time,
        window,
        factor.last_step,
    ) {
        Check::Accepted { step } => {
            factor.last_step = Some(step);
            Ok(None)
        }
        other => Ok(Some(Reason::of_check(other).unwrap_or(Reason::WrongCode))),
    }
}

/// Checks and consumes a backup code; `None` when accepted, else `wrong_code`.
pub fn check_backup(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    code: &str,
    time: u64,
) -> Result<Option<Reason>> {
    let Some(codes) = record.backup_codes.as_mut() else {
        return Ok(Some(Reason::WrongCode));
    };
    Ok((!codes.consume(keyring, user, code, time)?).then_some(Reason::WrongCode))
}

/// The factor a signed-in user answers with to prove it is still them: turning 2FA off,
/// or a security change ([`fresh_factor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofMethod {
    /// A current TOTP code of the enabled factor.
    Totp,
    /// An unused backup code (consumed).
    BackupCode,
}

impl ProofMethod {
    /// `totp` or `backup_code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProofMethod::Totp => "totp",
            ProofMethod::BackupCode => "backup_code",
        }
    }

    /// The method named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "totp" => Some(ProofMethod::Totp),
            "backup_code" => Some(ProofMethod::BackupCode),
            _ => None,
        }
    }
}

/// Checks a current factor of a user with TOTP enabled, exactly as at login: under the
/// attempt limiter (refused unchecked while locked, a wrong code counted, a right one
/// resets it), a TOTP step accepted at most once (the accepted step is recorded), a
/// backup code consumed, backup codes only when the policy allows them. The record must
/// open for `user` (fail closed).
#[allow(clippy::too_many_arguments)]
pub fn reauthenticate(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    method: ProofMethod,
    code: &str,
    time: u64,
    window: u64,
    policy: &Policy,
) -> Result<Guarded> {
    if record.totp.is_none() {
        return Err(Error::new(
            ErrorCode::NotEnabled,
            "the user has no enabled TOTP factor",
        ));
    }
    if method == ProofMethod::BackupCode {
        policy.require(Method::BackupCode)?;
    }
    let secret = record.open_checked(keyring, user)?;
    guarded(record, time, &policy.limiter, |r| match (method, &secret) {
        (ProofMethod::Totp, Some(secret)) => check_totp_opened(r, secret, code, time, window),
        (ProofMethod::Totp, None) => check_totp(r, keyring, user, code, time, window),
        (ProofMethod::BackupCode, _) => check_backup(r, keyring, user, code, time),
    })
}

/// The outcome of a fresh-factor check (the `fresh` object of a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fresh {
    /// Whether the proof passed; when not, the op changes nothing else.
    pub accepted: bool,
    /// The method of the proof.
    pub method: ProofMethod,
    /// `wrong_code`, `replayed`, `malformed` or `locked` when refused.
    pub reason: Option<Reason>,
    /// Seconds until the user may try again (locked, or this wrong code started a lock).
    pub retry_after: Option<u64>,
}

/// The fresh factor a security change needs (a new or replaced authenticator, new backup
/// codes, an app password, a trusted device): without `proof` the change is refused
/// (`fresh_factor_required`, nothing counted or changed); with one it is checked by
/// [`reauthenticate`]. The caller makes its change only when `accepted`, and stores the
/// record either way (the limiter or the used step may have changed).
#[allow(clippy::too_many_arguments)]
pub fn fresh_factor(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    proof: Option<(ProofMethod, &str)>,
    time: u64,
    window: u64,
    policy: &Policy,
) -> Result<Fresh> {
    let Some((method, code)) = proof else {
        return Err(Error::new(
            ErrorCode::FreshFactorRequired,
            "this change needs a fresh factor: proof {\"method\": \"totp\" or \"backup_code\", \"code\"}",
        ));
    };
    let outcome = reauthenticate(record, keyring, user, method, code, time, window, policy)?;
    let (accepted, reason, retry_after) = match outcome {
        Guarded::Accepted => (true, None, None),
        Guarded::Rejected {
            reason,
            retry_after,
        } => (false, Some(reason), retry_after),
        Guarded::Locked { retry_after } => (false, Some(Reason::Locked), Some(retry_after)),
    };
    Ok(Fresh {
        accepted,
        method,
        reason,
        retry_after,
    })
}

/// A request to trust the device on success.
#[derive(Debug, Clone)]
pub struct TrustRequest<'a> {
    /// The device's user agent, as the label.
    pub user_agent: &'a str,
}

/// Everything a login step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// The method that passed or was tried.
    pub method: Option<Method>,
    /// Why a factor was not accepted (`wrong_code`, `replayed`, `malformed`,
    /// `method_not_allowed`, `device_unknown`, `device_expired`, `device_malformed`, …).
    pub reason: Option<Reason>,
    /// Seconds until the user may try again (with `locked`, or `wrong` that started a lock,
    /// or `factor_required` during a lock).
    pub retry_after: Option<u64>,
    /// The trusted device that passed, or the one just trusted.
    pub device_id: Option<String>,
    /// A new device token to set as a cookie (only on `ok` with trust requested).
    pub device_token: Option<String>,
    /// When that token expires.
    pub device_expires_at: Option<u64>,
    /// The submitted device token is no good: the host should delete its cookie.
    pub forget_device: bool,
    /// Backup codes left (when the user has a set).
    pub backup_codes_remaining: Option<usize>,
    /// With a required policy in its grace period: when enrollment becomes mandatory.
    pub enroll_by: Option<u64>,
    /// The methods the user can use at this step.
    pub methods: Vec<Method>,
    /// Days a device trusted at this login stays trusted: the policy's `device_days` when
    /// the user has 2FA and trusted devices are on, else 0 (offer no "trust this browser").
    pub trust_days: u64,
    /// Until when the host may keep this login waiting for its second step (or its
    /// enrollment): `time` + the policy's `pending_seconds`, with `factor_required`,
    /// `enroll_required`, `wrong` and `locked`; `None` when the login is decided.
    pub pending_expires_at: Option<u64>,
}

impl Decision {
    fn new(verdict: Verdict) -> Self {
        Decision {
            verdict,
            method: None,
            reason: None,
            retry_after: None,
            device_id: None,
            device_token: None,
            device_expires_at: None,
            forget_device: false,
            backup_codes_remaining: None,
            enroll_by: None,
            methods: Vec::new(),
            trust_days: 0,
            pending_expires_at: None,
        }
    }

    /// Fills in what the host needs to carry out the verdict.
    fn finish(mut self, record: &Record, policy: &Policy, devices_on: bool, time: u64) -> Self {
        self.trust_days = if devices_on && record.totp.is_some() {
            policy.device_days
        } else {
            0
        };
        self.pending_expires_at = match self.verdict {
            Verdict::FactorRequired
            | Verdict::EnrollRequired
            | Verdict::Wrong
            | Verdict::Locked => Some(time.saturating_add(policy.pending_seconds)),
            Verdict::Ok | Verdict::NotRequired => None,
        };
        self
    }
}

fn available_methods(record: &Record, policy: &Policy) -> Vec<Method> {
    let mut methods = Vec::new();
    if record.totp.is_some() {
        methods.push(Method::Totp);
    }
    if policy.allows(Method::BackupCode)
        && record
            .backup_codes
            .as_ref()
            .is_some_and(|c| c.remaining() > 0)
    {
        methods.push(Method::BackupCode);
    }
    if policy.allows(Method::TrustedDevice) && policy.device_days > 0 {
        methods.push(Method::TrustedDevice);
    }
    methods
}

/// Decides one login step. `rng` is needed only to trust a device; without it a trust
/// request is an error. The record is changed in place (and touched) when anything
/// about it changed.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    factor: Factor<'_>,
    time: u64,
    window: u64,
    policy: &Policy,
    trust: Option<TrustRequest<'_>>,
    rng: Option<&mut EntropyStream>,
) -> Result<Decision> {
    // A record that does not open keeps 2FA required: fail closed, change nothing.
    let secret = record.open_checked(keyring, user)?;
    let devices_on = policy.allows(Method::TrustedDevice) && policy.device_days > 0;
    // A trust request that cannot be honoured is refused before any factor is checked,
    // so an error never follows a consumed code.
    if trust.is_some() {
        if !devices_on {
            return Err(Error::new(
                ErrorCode::FeatureDisabled,
                "trusted devices are turned off by the site policy",
            ));
        }
        if rng.is_none() {
            return Err(Error::new(
                ErrorCode::MissingField,
                "entropy is required to trust a device",
            ));
        }
    }
    if record.totp.is_none() {
        let mut d = Decision::new(if policy.enrollment_due(time) {
            Verdict::EnrollRequired
        } else {
            Verdict::NotRequired
        });
        if d.verdict == Verdict::NotRequired && policy.mode == crate::policy::Mode::Required {
            d.enroll_by = policy.grace_until;
        }
        return Ok(d.finish(record, policy, devices_on, time));
    }
    let remaining = |r: &Record| r.backup_codes.as_ref().map(BackupCodes::remaining);
    let mut d = Decision::new(Verdict::FactorRequired);
    match factor {
        Factor::None => {
            d.retry_after = record.limiter.retry_after(time);
        }
        Factor::Device(token) => {
            d.method = Some(Method::TrustedDevice);
            if !devices_on {
                d.reason = Some(Reason::MethodNotAllowed);
                d.forget_device = true;
            } else {
                // A 192-bit token cannot be guessed, so it is not counted and passes even
                // during a lock: an attacker guessing codes cannot lock out a user's
                // trusted browser. It does not reset the limiter either.
                match device::check(&mut record.devices, user, token, time) {
                    DeviceCheck::Trusted(id) => {
                        record.touch(time);
                        d.verdict = Verdict::Ok;
                        d.device_id = Some(id);
                    }
                    other => {
                        d.reason = Reason::of_device(&other);
                        d.forget_device = true;
                        d.retry_after = record.limiter.retry_after(time);
                    }
                }
            }
        }
        Factor::Totp(code) | Factor::BackupCode(code) => {
            let method = if matches!(factor, Factor::Totp(_)) {
                Method::Totp
            } else {
                Method::BackupCode
            };
            d.method = Some(method);
            if !policy.allows(method) {
                d.verdict = Verdict::Wrong;
                d.reason = Some(Reason::MethodNotAllowed);
            } else {
                let outcome =
                    guarded(record, time, &policy.limiter, |r| match (method, &secret) {
                        (Method::Totp, Some(secret)) => {
                            check_totp_opened(r, secret, code, time, window)
                        }
                        (Method::Totp, None) => check_totp(r, keyring, user, code, time, window),
                        _ => check_backup(r, keyring, user, code, time),
                    })?;
                match outcome {
                    Guarded::Accepted => d.verdict = Verdict::Ok,
                    Guarded::Rejected {
                        reason,
                        retry_after,
                    } => {
                        d.verdict = Verdict::Wrong;
                        d.reason = Some(reason);
                        d.retry_after = retry_after;
                    }
                    Guarded::Locked { retry_after } => {
                        d.verdict = Verdict::Locked;
                        d.retry_after = Some(retry_after);
                    }
                }
            }
            if d.verdict == Verdict::Ok {
                if let (Some(trust), Some(rng)) = (trust, rng) {
                    let (token, id) = device::issue(
                        &mut record.devices,
                        user,
                        trust.user_agent,
                        policy.device_days,
                        policy.max_devices,
                        time,
                        rng,
                    );
                    record.touch(time);
                    d.device_expires_at = record
                        .devices
                        .iter()
                        .find(|dev| dev.id == id)
                        .map(|dev| dev.expires_at);
                    d.device_token = Some(token);
                    d.device_id = Some(id);
                }
            }
        }
    }
    // Expired devices are dropped after the check, so an expired token is reported as such.
    if device::prune(&mut record.devices, time) {
        record.touch(time);
    }
    d.backup_codes_remaining = remaining(record);
    d.methods = available_methods(record, policy);
    Ok(d.finish(record, policy, devices_on, time))
}
