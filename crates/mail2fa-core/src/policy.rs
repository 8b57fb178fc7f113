//! The site policy: whether 2FA is required, which methods are allowed, and the limits
//! and costs of every factor. Hosts pass it as the `policy` object of a request (from
//! their configuration); every field is optional and defaults as documented in
//! `docs/ops.md`. The core evaluates it, so no host combines these rules itself.

use alloc::format;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::phc::{Argon2Params, Variant};

/// Whether 2FA is optional or required for users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Users choose; a user without an enabled factor logs in with the password alone.
    Optional,
    /// Every user must have a factor; without one, login leads only to enrollment
    /// (after `grace_until`, if set).
    Required,
}

/// A factor or credential a site may allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// TOTP codes from an authenticator app (always allowed: it is the base factor).
    Totp,
    /// Single-use backup codes.
    BackupCode,
    /// "Don't ask again on this browser" tokens.
    TrustedDevice,
    /// Per-client passwords for IMAP/SMTP/DAV.
    AppPassword,
}

impl Method {
    /// Every method, in the order responses list them.
    pub const ALL: [Method; 4] = [
        Method::Totp,
        Method::BackupCode,
        Method::TrustedDevice,
        Method::AppPassword,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::BackupCode => "backup_code",
            Method::TrustedDevice => "trusted_device",
            Method::AppPassword => "app_password",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The attempt limiter's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Wrong factors within `window` that lock the user (default 5).
    pub max_failures: u32,
    /// The sliding window in seconds (default 900).
    pub window: u64,
    /// The first lock in seconds (default 30); each further lock doubles it.
    pub lock_base: u64,
    /// The longest lock in seconds (default 900).
    pub lock_max: u64,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        LimiterConfig {
            max_failures: 5,
            window: 900,
            lock_base: 30,
            lock_max: 900,
        }
    }
}

/// The whole site policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Optional or required.
    pub mode: Mode,
    /// With [`Mode::Required`]: users without a factor may still log in until this time.
    pub grace_until: Option<u64>,
    methods: u8,
    /// The attempt limiter.
    pub limiter: LimiterConfig,
    /// Days a trusted device stays trusted; 0 turns trusted devices off (default 30).
    pub device_days: u64,
    /// Most trusted devices per user; the least recently seen is dropped (default 20).
    pub max_devices: usize,
    /// Backup codes per set (default 10).
    pub backup_count: usize,
    /// Most app passwords per user (default 10).
    pub max_app_passwords: usize,
    /// Argon2id cost of new app-password hashes (default m=19456 KiB, t=2, p=1).
    pub argon2: Argon2Params,
    /// Seconds a login may wait for its second step or enrollment (default 600).
    pub pending_seconds: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Optional,
            grace_until: None,
            methods: Method::ALL.iter().fold(0, |acc, m| acc | m.bit()),
            limiter: LimiterConfig::default(),
            device_days: 30,
            max_devices: 20,
            backup_count: 10,
            max_app_passwords: 10,
            argon2: Argon2Params::default_app_password(),
            pending_seconds: 600,
        }
    }
}

fn bad(field: &str, expected: &str) -> Error {
    Error::new(
        ErrorCode::InvalidField,
        format!("policy.{field} must be {expected}"),
    )
}

fn uint(value: &Value, field: &str, min: u64, max: u64) -> Result<u64> {
    value
        .as_u64()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| bad(field, &format!("an integer from {min} to {max}")))
}

impl Policy {
    /// Whether `method` is allowed.
    pub fn allows(&self, method: Method) -> bool {
        self.methods & method.bit() != 0
    }

    /// Refuses a method the policy does not allow.
    pub fn require(&self, method: Method) -> Result<()> {
        if self.allows(method) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("the site policy does not allow {}", method.as_str()),
            ))
        }
    }

    /// Whether a user without an enabled factor must enroll now.
    pub fn enrollment_due(&self, time: u64) -> bool {
        match self.mode {
            Mode::Optional => false,
            Mode::Required => self.grace_until.is_none_or(|until| time >= until),
        }
    }

    /// Reads a policy object; absent fields keep their defaults, unknown fields are refused
    /// (a misspelt setting must not silently fall back to a default).
    pub fn from_value(value: Option<&Value>) -> Result<Self> {
        let mut policy = Policy::default();
        let object: &Map<_, _> = match value {
            None | Some(Value::Null) => return Ok(policy),
            Some(Value::Object(object)) => object,
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidField,
                    "policy must be an object",
                ))
            }
        };
        for (key, value) in object {
            match key.as_str() {
                "mode" => {
                    policy.mode = match value.as_str() {
                        Some("optional") => Mode::Optional,
                        Some("required") => Mode::Required,
                        _ => return Err(bad("mode", "\"optional\" or \"required\"")),
                    }
                }
                "grace_until" => {
                    policy.grace_until = match value {
                        Value::Null => None,
                        v => Some(uint(v, "grace_until", 0, u64::MAX)?),
                    }
                }
                "methods" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| bad("methods", "an array of method names"))?;
                    let mut bits = 0u8;
                    for item in list {
                        let method = Method::ALL
                            .into_iter()
                            .find(|m| Some(m.as_str()) == item.as_str())
                            .ok_or_else(|| {
                                bad(
                                    "methods",
                                    "names from totp, backup_code, trusted_device, app_password",
                                )
                            })?;
                        bits |= method.bit();
                    }
                    if bits & Method::Totp.bit() == 0 {
                        return Err(bad("methods", "a list that includes totp"));
                    }
                    policy.methods = bits;
                }
                "max_failures" => {
                    policy.limiter.max_failures = uint(value, key, 1, 100)? as u32;
                }
                "window" => policy.limiter.window = uint(value, key, 1, 86_400)?,
                "lock_base" => policy.limiter.lock_base = uint(value, key, 1, 86_400)?,
                "lock_max" => policy.limiter.lock_max = uint(value, key, 1, 86_400)?,
                "device_days" => policy.device_days = uint(value, key, 0, 400)?,
                "max_devices" => policy.max_devices = uint(value, key, 1, 100)? as usize,
                "backup_count" => policy.backup_count = uint(value, key, 1, 20)? as usize,
                "pending_seconds" => policy.pending_seconds = uint(value, key, 60, 86_400)?,
                "max_app_passwords" => {
                    policy.max_app_passwords = uint(value, key, 1, 100)? as usize
                }
                "argon2" => {
                    let o = value
                        .as_object()
                        .ok_or_else(|| bad("argon2", "an object {m, t, p}"))?;
                    let get = |k: &str, d: u32| -> Result<u32> {
                        match o.get(k) {
                            None => Ok(d),
                            Some(v) => v
                                .as_u64()
                                .and_then(|v| u32::try_from(v).ok())
                                .ok_or_else(|| bad("argon2", "integers m, t, p")),
                        }
                    };
                    if o.keys().any(|k| !matches!(k.as_str(), "m" | "t" | "p")) {
                        return Err(bad("argon2", "an object with only m, t, p"));
                    }
                    let d = Argon2Params::default_app_password();
                    let params = Argon2Params {
                        variant: Variant::Argon2id,
                        m: get("m", d.m)?,
                        t: get("t", d.t)?,
                        p: get("p", d.p)?,
                    };
                    params.check_limits()?;
                    policy.argon2 = params;
                }
                _ => {
                    return Err(Error::new(
                        ErrorCode::InvalidField,
                        "policy has an unknown setting; docs/ops.md lists them",
                    ))
                }
            }
        }
        if policy.limiter.lock_max < policy.limiter.lock_base {
            return Err(bad("lock_max", "at least lock_base"));
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let p = Policy::from_value(None).unwrap();
        assert_eq!(p.mode, Mode::Optional);
        assert!(Method::ALL.iter().all(|m| p.allows(*m)));
        assert_eq!(p.limiter.max_failures, 5);
        assert_eq!(p.argon2.m, 19456);
        let p = Policy::from_value(Some(&json!({
            "mode": "required", "grace_until": 100, "methods": ["totp", "backup_code"],
            "max_failures": 3, "argon2": {"m": 64, "t": 1}
        })))
        .unwrap();
        assert!(!p.enrollment_due(99));
        assert!(p.enrollment_due(100));
        assert!(!p.allows(Method::TrustedDevice));
        assert!(p.allows(Method::BackupCode));
        assert_eq!((p.argon2.m, p.argon2.t, p.argon2.p), (64, 1, 1));
    }

    #[test]
    fn bad_policies_are_refused() {
        for bad in [
            json!("required"),
            json!({"mode": "sometimes"}),
            json!({"methods": ["backup_code"]}),
            json!({"methods": ["sms", "totp"]}),
            json!({"max_failures": 0}),
            json!({"lock_base": 60, "lock_max": 30}),
            json!({"argon2": {"m": 8_000_000}}),
            json!({"mxa_failures": 3}),
        ] {
            assert!(Policy::from_value(Some(&bad)).is_err(), "{bad}");
        }
    }
}
