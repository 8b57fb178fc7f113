//! TOTP (RFC 6238) on top of totp-rs: parameters, code generation, and verification
//! with a bounded window, constant-time comparison and single use of every step.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorCode, Result};

/// The hash behind the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Algorithm {
    /// HMAC-SHA1, what every authenticator app supports.
    #[default]
    SHA1,
    /// HMAC-SHA256.
    SHA256,
    /// HMAC-SHA512.
    SHA512,
}

impl Algorithm {
    /// Parses `SHA1`, `SHA256` or `SHA512` in any case.
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Algorithm::SHA1),
            "SHA256" => Ok(Algorithm::SHA256),
            "SHA512" => Ok(Algorithm::SHA512),
            _ => Err(Error::new(
                ErrorCode::UnsupportedAlgorithm,
                "algorithm must be SHA1, SHA256 or SHA512",
            )),
        }
    }

    /// The canonical name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::SHA1 => "SHA1",
            Algorithm::SHA256 => "SHA256",
            Algorithm::SHA512 => "SHA512",
        }
    }

    fn to_totp_rs(self) -> totp_rs::Algorithm {
        match self {
            Algorithm::SHA1 => totp_rs::Algorithm::SHA1,
            Algorithm::SHA256 => totp_rs::Algorithm::SHA256,
            Algorithm::SHA512 => totp_rs::Algorithm::SHA512,
        }
    }
}

/// Fewest digits in a code.
pub const MIN_DIGITS: u8 = 6;
/// Most digits in a code.
pub const MAX_DIGITS: u8 = 8;
/// Shortest period in seconds.
pub const MIN_PERIOD: u64 = 15;
/// Longest period in seconds.
pub const MAX_PERIOD: u64 = 300;
/// Widest window, in steps on each side of now.
pub const MAX_WINDOW: u64 = 10;
/// The default window: one step either side of now, RFC 6238's recommended network delay.
pub const DEFAULT_WINDOW: u64 = 1;
/// Bytes of a new secret: 160 bits, RFC 4226's recommendation.
pub const NEW_SECRET_BYTES: usize = 20;
/// Shortest secret accepted on import: 80 bits, what older plugins generated.
pub const MIN_IMPORTED_SECRET_BYTES: usize = 10;
/// Longest secret accepted.
pub const MAX_SECRET_BYTES: usize = 128;

/// The parameters of a TOTP factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// Digits in a code, 6 to 8.
    pub digits: u8,
    /// Seconds per step.
    pub period: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            algorithm: Algorithm::SHA1,
            digits: 6,
            period: 30,
        }
    }
}

impl Params {
    /// Checks digits and period against the supported ranges.
    pub fn validate(&self) -> Result<()> {
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&self.digits) {
            return Err(Error::new(
                ErrorCode::UnsupportedDigits,
                alloc::format!("digits must be {MIN_DIGITS} to {MAX_DIGITS}"),
            ));
        }
        if !(MIN_PERIOD..=MAX_PERIOD).contains(&self.period) {
            return Err(Error::new(
                ErrorCode::UnsupportedPeriod,
                alloc::format!("period must be {MIN_PERIOD} to {MAX_PERIOD} seconds"),
            ));
        }
        Ok(())
    }

    /// The step that contains `time`.
    pub fn step_at(&self, time: u64) -> u64 {
        time / self.period
    }
}

/// Checks a secret's length: at least `min` bytes, at most [`MAX_SECRET_BYTES`].
pub fn check_secret_len(secret: &[u8], min: usize) -> Result<()> {
    if secret.len() < min {
        return Err(Error::new(
            ErrorCode::SecretTooShort,
            alloc::format!("secret must be at least {} bits", min * 8),
        ));
    }
    if secret.len() > MAX_SECRET_BYTES {
        return Err(Error::new(
            ErrorCode::InvalidField,
            alloc::format!("secret must be at most {} bits", MAX_SECRET_BYTES * 8),
        ));
    }
    Ok(())
}

fn totp_for(secret: &[u8], params: &Params) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(params.algorithm.to_totp_rs())
        .with_digits(params.digits)
        .with_step_duration(params.period)
        .with_skew(0)
        .with_secret(secret.to_vec())
        // Validation is ours (digits, period, and 80-bit legacy secrets totp-rs would refuse).
        .build_noncompliant()
}

/// The code for `secret` at `time`. `params` must be valid.
pub fn code_at(secret: &[u8], params: &Params, time: u64) -> String {
    totp_for(secret, params).generate(time).to_string()
}

/// HMAC keyed with `secret` once, cloned for every step of a window. HMAC takes keys of
/// any length, so the fallback never runs.
macro_rules! keyed {
    ($hash:ty, $secret:expr) => {
        <hmac::Hmac<$hash> as hmac::KeyInit>::new_from_slice($secret)
            .unwrap_or_else(|_| <hmac::Hmac<$hash> as hmac::KeyInit>::new(&Default::default()))
    };
}

/// What a submitted code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The code matches this step, which is later than the last accepted one.
    Accepted {
        /// The step to record as the last accepted one.
        step: u64,
    },
    /// The code matches only a step already used (RFC 6238 §5.2).
    Replayed,
    /// The code matches no step in the window.
    Wrong,
    /// Not exactly `digits` ASCII digits once spaces are removed.
    Malformed,
}

impl Check {
    /// The reason string hosts log and vectors match (`None` when accepted).
    pub const fn reason(self) -> Option<&'static str> {
        match self {
            Check::Accepted { .. } => None,
            Check::Replayed => Some("replayed"),
            Check::Wrong => Some("wrong_code"),
            Check::Malformed => Some("malformed"),
        }
    }
}

/// Removes the spaces people type between groups; anything else must be a digit.
fn normalize_code(code: &str, digits: u8) -> Option<Vec<u8>> {
    let cleaned: Vec<u8> = code.bytes().filter(|&b| b != b' ').collect();
    (cleaned.len() == usize::from(digits) && cleaned.iter().all(u8::is_ascii_digit))
        .then_some(cleaned)
}

/// Verifies `code` at `time` within `window` steps either side, refusing any step at or
/// before `last_step`. Every candidate in the window is computed and compared in
/// constant time, so the time taken does not tell which step (if any) matched.
pub fn check(
    secret: &[u8],
    params: &Params,
    code: &str,
    time: u64,
    window: u64,
    last_step: Option<u64>,
) -> Check {
    let Some(submitted) = normalize_code(code, params.digits) else {
        return Check::Malformed;
    };
    match params.algorithm {
        Algorithm::SHA1 => check_with(
            keyed!(sha1::Sha1, secret),
            params,
            &submitted,
            time,
            window,
            last_step,
        ),
        Algorithm::SHA256 => check_with(
            keyed!(sha2::Sha256, secret),
            params,
            &submitted,
            time,
            window,
            last_step,
        ),
        Algorithm::SHA512 => check_with(
            keyed!(sha2::Sha512, secret),
            params,
            &submitted,
            time,
            window,
            last_step,
        ),
    }
}

/// The RFC 4226 code of `step` (dynamic truncation, `digits` decimal digits with leading
/// zeros), as the bytes of its text: what totp-rs's `generate` writes, without a String.
fn hotp<M: hmac::Mac + Clone>(
    keyed: &M,
    step: u64,
    digits: u8,
) -> ([u8; MAX_DIGITS as usize], usize) {
    let mut mac = keyed.clone();
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let mut value = u32::from_be_bytes([
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]) & 0x7fff_ffff;
    let len = usize::from(digits).min(MAX_DIGITS as usize);
    let mut text = [b'0'; MAX_DIGITS as usize];
    for digit in text[..len].iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    (text, len)
}

fn check_with<M: hmac::Mac + Clone>(
    keyed: M,
    params: &Params,
    submitted: &[u8],
    time: u64,
    window: u64,
    last_step: Option<u64>,
) -> Check {
    let now = params.step_at(time);
    let window = window.min(MAX_WINDOW);
    let mut accepted: Option<u64> = None;
    let mut replayed = false;
    for step in now.saturating_sub(window)..=now.saturating_add(window) {
        if step.checked_mul(params.period).is_none() {
            continue;
        }
        let (candidate, len) = hotp(&keyed, step, params.digits);
        let matches: bool = candidate[..len].ct_eq(submitted).into();
        let fresh = last_step.is_none_or(|last| step > last);
        if matches && fresh && accepted.is_none() {
            accepted = Some(step);
        } else if matches && !fresh {
            replayed = true;
        }
    }
    match (accepted, replayed) {
        (Some(step), _) => Check::Accepted { step },
        (None, true) => Check::Replayed,
        (None, false) => Check::Wrong,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SHA1: &[u8] = b"12345678901234567890";

    fn p(algorithm: Algorithm, digits: u8) -> Params {
        Params {
            algorithm,
            digits,
            period: 30,
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1() {
        let params = p(Algorithm::SHA1, 8);
        assert_eq!(code_at(RFC_SHA1, &params, 59), "94287082");
        assert_eq!(code_at(RFC_SHA1, &params, 1111111109), "07081804");
        assert_eq!(code_at(RFC_SHA1, &params, 20000000000), "65353130");
    }

    #[test]
    fn window_replay_and_format() {
        let params = p(Algorithm::SHA1, 8);
        let t = 1111111109;
        let code = code_at(RFC_SHA1, &params, t);
        let step = t / 30;
        assert_eq!(
            check(RFC_SHA1, &params, &code, t, 1, None),
            Check::Accepted { step }
        );
        assert_eq!(
            check(RFC_SHA1, &params, &code, t, 1, Some(step)),
            Check::Replayed
        );
        // One step later the same code is still in the window (previous step).
        assert_eq!(
            check(RFC_SHA1, &params, &code, t + 30, 1, None),
            Check::Accepted { step }
        );
        // Two steps later it is outside a window of 1, inside a window of 2.
        assert_eq!(
            check(RFC_SHA1, &params, &code, t + 60, 1, None),
            Check::Wrong
        );
        assert_eq!(
            check(RFC_SHA1, &params, &code, t + 60, 2, None),
            Check::Accepted { step }
        );
        assert_eq!(
            check(RFC_SHA1, &params, &code, t + 60, 0, None),
            Check::Wrong
        );
        let spaced = alloc::format!("{} {}", &code[..4], &code[4..]);
        assert_eq!(
            check(RFC_SHA1, &params, &spaced, t, 1, None),
            Check::Accepted { step }
        );
        let mut x = code.clone();
        x.replace_range(7..8, "x");
        assert_eq!(check(RFC_SHA1, &params, &x, t, 1, None), Check::Malformed);
        assert_eq!(
            check(RFC_SHA1, &params, &code[1..], t, 1, None),
            Check::Malformed
        );
        let full_width = code.replace('0', "\u{ff10}");
        if full_width != code {
            assert_eq!(
                check(RFC_SHA1, &params, &full_width, t, 1, None),
                Check::Malformed
            );
        }
    }

    /// The check computes codes itself (one HMAC key schedule per window); it must accept
    /// exactly the code totp-rs generates, for every hash, length and secret size, and no
    /// code of another step.
    #[test]
    fn check_agrees_with_totp_rs_codes() {
        let secrets: [&[u8]; 3] = [&[7u8; 10], RFC_SHA1, &[0xa5u8; 128]];
        for algorithm in [Algorithm::SHA1, Algorithm::SHA256, Algorithm::SHA512] {
            for digits in 6..=8 {
                let params = p(algorithm, digits);
                for secret in secrets {
                    for i in 0..40u64 {
                        let t = 1_700_000_000 + i * 7_919;
                        let code = code_at(secret, &params, t);
                        assert_eq!(
                            check(secret, &params, &code, t, 0, None),
                            Check::Accepted { step: t / 30 },
                            "{algorithm:?} {digits} {t}"
                        );
                        let far = code_at(secret, &params, t + 3_000);
                        if far != code {
                            assert_eq!(check(secret, &params, &far, t, 1, None), Check::Wrong);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn time_zero_and_huge_time_do_not_panic() {
        let params = p(Algorithm::SHA512, 6);
        let c = code_at(RFC_SHA1, &params, 0);
        assert_eq!(
            check(RFC_SHA1, &params, &c, 0, 10, None),
            Check::Accepted { step: 0 }
        );
        assert_ne!(
            check(RFC_SHA1, &params, "000000", u64::MAX, 10, None),
            Check::Malformed
        );
    }
}
