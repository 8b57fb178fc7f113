//! Why a check refused: the `reason` of a response, one enum instead of strings spread
//! over the ops. Serialized as the snake_case names hosts log and vectors match.

use serde::Serialize;

use crate::device::DeviceCheck;
use crate::totp::Check;

/// Why a code, password or device token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A code that matches nothing (counted by the attempt limiter).
    WrongCode,
    /// A right TOTP code whose step was already used (not counted).
    Replayed,
    /// Not exactly the configured number of digits (not counted).
    Malformed,
    /// The attempt limiter holds the user: nothing was checked.
    Locked,
    /// The site policy does not allow this method.
    MethodNotAllowed,
    /// The user has no enabled second factor.
    NotEnabled,
    /// An app password that matches none of the user's.
    WrongPassword,
    /// A trusted device whose trust has expired.
    DeviceExpired,
    /// A device token that matches no trusted device.
    DeviceUnknown,
    /// A device token not of the form `<id>.<secret>`.
    DeviceMalformed,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 10] = [
        Reason::WrongCode,
        Reason::Replayed,
        Reason::Malformed,
        Reason::Locked,
        Reason::MethodNotAllowed,
        Reason::NotEnabled,
        Reason::WrongPassword,
        Reason::DeviceExpired,
        Reason::DeviceUnknown,
        Reason::DeviceMalformed,
    ];

    /// The name hosts see.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::WrongCode => "wrong_code",
            Reason::Replayed => "replayed",
            Reason::Malformed => "malformed",
            Reason::Locked => "locked",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::NotEnabled => "not_enabled",
            Reason::WrongPassword => "wrong_password",
            Reason::DeviceExpired => "device_expired",
            Reason::DeviceUnknown => "device_unknown",
            Reason::DeviceMalformed => "device_malformed",
        }
    }

    /// The reason named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "wrong_code" => Reason::WrongCode,
            "replayed" => Reason::Replayed,
            "malformed" => Reason::Malformed,
            "locked" => Reason::Locked,
            "method_not_allowed" => Reason::MethodNotAllowed,
            "not_enabled" => Reason::NotEnabled,
            "wrong_password" => Reason::WrongPassword,
            "device_expired" => Reason::DeviceExpired,
            "device_unknown" => Reason::DeviceUnknown,
            "device_malformed" => Reason::DeviceMalformed,
            _ => return None,
        })
    }

    /// Why a TOTP check refused (`None`: accepted).
    pub const fn of_check(check: Check) -> Option<Self> {
        match check {
            Check::Accepted { .. } => None,
            Check::Replayed => Some(Reason::Replayed),
            Check::Wrong => Some(Reason::WrongCode),
            Check::Malformed => Some(Reason::Malformed),
        }
    }

    /// Why a device token was refused (`None`: trusted).
    pub const fn of_device(check: &DeviceCheck) -> Option<Self> {
        match check {
            DeviceCheck::Trusted(_) => None,
            DeviceCheck::Expired => Some(Reason::DeviceExpired),
            DeviceCheck::Unknown => Some(Reason::DeviceUnknown),
            DeviceCheck::Malformed => Some(Reason::DeviceMalformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    /// Every reason string a check reports is one of the enum's, spelt the same.
    #[test]
    fn every_reported_string_is_a_reason() {
        for check in [
            Check::Accepted { step: 1 },
            Check::Replayed,
            Check::Wrong,
            Check::Malformed,
        ] {
            assert_eq!(check.reason(), Reason::of_check(check).map(Reason::as_str));
        }
        for check in [
            DeviceCheck::Trusted(String::from("x")),
            DeviceCheck::Expired,
            DeviceCheck::Unknown,
            DeviceCheck::Malformed,
        ] {
            assert_eq!(
                check.reason(),
                Reason::of_device(&check).map(Reason::as_str)
            );
        }
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                serde_json::Value::from(reason.as_str())
            );
        }
        // The login module's counted/uncounted split names these.
        for name in [
            "wrong_code",
            "replayed",
            "malformed",
            "locked",
            "method_not_allowed",
        ] {
            assert!(Reason::parse(name).is_some(), "{name}");
        }
    }
}
