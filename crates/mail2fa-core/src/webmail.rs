//! The webmail proof (ops `webmail.proof` and `webmail.verify`): the proof the webmail plugin sends with its IMAP
//! login so that the Dovecot passdb lets the main password through for a 2FA user.
//!
//! Only a running plugin holds the shared secret, so a webmail whose plugin is not loaded
//! (a typo in `plugins`, an upgrade in progress) and any other program logging in from the
//! webmail host or a trusted network has no proof: for a 2FA user its main password is
//! refused. The proof is `1.<time>.<hex HMAC-SHA256(secret, "mail2fa/v1 webmail-imap" LF
//! user LF time)>`, where `user` is the canonical user name (`user.canonical`) and `time`
//! Unix seconds; it is valid for `max_age` seconds either side of `time` (default 60). The
//! Dovecot passdb (plugins-php/mail2fa/dovecot/mail2fa-passdb.lua) checks the same bytes
//! with OpenSSL's HMAC (Debian lua-luaossl).

use alloc::string::String;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorCode, Result};

/// Shortest secret accepted, in bytes (a random 32-character string or longer).
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest secret accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 1024;
/// Default and largest `max_age`, in seconds.
pub const DEFAULT_MAX_AGE: u64 = 60;
/// The largest `max_age`, in seconds.
pub const MAX_MAX_AGE: u64 = 3600;
/// Longest proof text accepted by [`verify`].
const MAX_PROOF_LEN: usize = 128;

/// Why a proof was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofReason {
    /// Not of the form `1.<time>.<64 hex digits>`.
    Malformed,
    /// Made more than `max_age` seconds away from now.
    Expired,
    /// The HMAC does not match (another secret or user).
    Wrong,
}

impl ProofReason {
    /// Every reason.
    pub const ALL: [ProofReason; 3] = [
        ProofReason::Malformed,
        ProofReason::Expired,
        ProofReason::Wrong,
    ];
}

/// The shared secret: `MIN_SECRET_BYTES` to `MAX_SECRET_BYTES` bytes.
pub fn check_secret(secret: &[u8]) -> Result<()> {
    if secret.len() < MIN_SECRET_BYTES || secret.len() > MAX_SECRET_BYTES {
        return Err(Error::new(
            ErrorCode::InvalidField,
            alloc::format!("secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A canonical user name holds no control character (so LF separates fields safely).
pub fn check_user(user: &str) -> Result<()> {
    if user.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorCode::InvalidField,
            "user must hold no control characters",
        ));
    }
    Ok(())
}

/// `max_age`: at most [`MAX_MAX_AGE`].
pub fn check_max_age(max_age: u64) -> Result<()> {
    if max_age > MAX_MAX_AGE {
        return Err(Error::new(
            ErrorCode::InvalidField,
            alloc::format!("max_age must be at most {MAX_MAX_AGE}"),
        ));
    }
    Ok(())
}

/// The proof of `user` at `time`.
pub fn prove(secret: &[u8], user: &str, time: u64) -> String {
    alloc::format!("1.{time}.{}", hex(&mac(secret, user, time)))
}

/// Checks `proof` for `user` at `now`, valid `max_age` seconds either side of its time.
pub fn verify(
    secret: &[u8],
    user: &str,
    proof: &str,
    now: u64,
    max_age: u64,
) -> Option<ProofReason> {
    match parse(proof) {
        None => Some(ProofReason::Malformed),
        Some((time, _)) if time.abs_diff(now) > max_age => Some(ProofReason::Expired),
        Some((time, tag)) => {
            let ok: bool = mac(secret, user, time).ct_eq(&tag).into();
            (!ok).then_some(ProofReason::Wrong)
        }
    }
}

fn mac(secret: &[u8], user: &str, time: u64) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(b"mail2fa/v1 webmail-imap\n");
    mac.update(user.as_bytes());
    mac.update(b"\n");
    mac.update(alloc::format!("{time}").as_bytes());
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| alloc::format!("{b:02x}")).collect()
}

/// `1.<decimal time, no leading zero>.<64 lower-case hex digits>`.
fn parse(proof: &str) -> Option<(u64, [u8; 32])> {
    if proof.len() > MAX_PROOF_LEN {
        return None;
    }
    let mut parts = proof.split('.');
    let (version, time, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if version != "1" || parts.next().is_some() {
        return None;
    }
    let digits_ok = !time.is_empty()
        && time.len() <= 19
        && time.bytes().all(|b| b.is_ascii_digit())
        && (time == "0" || !time.starts_with('0'));
    if !digits_ok || tag.len() != 64 {
        return None;
    }
    let time: u64 = time.parse().ok()?;
    let mut out = [0u8; 32];
    for (i, pair) in tag.as_bytes().chunks(2).enumerate() {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some((time, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_matches_an_independent_hmac() {
        // Python: hmac.new(b"s"*32, b"mail2fa/v1 webmail-imap\nalice\n1700000000", "sha256")
        let m = mac(&[b's'; 32], "alice", 1_700_000_000);
        assert_eq!(
            hex(&m),
            "0b64f88d22241cc4a782d48f3b70ca4c70b07374fcb131e16c9dbaa26feaf1a1"
        );
    }

    #[test]
    fn parse_refuses_every_other_shape() {
        let good = alloc::format!("1.5.{}", "ab".repeat(32));
        assert!(parse(&good).is_some());
        for bad in [
            "",
            "1.5",
            "2.5.00",
            &alloc::format!("1.05.{}", "ab".repeat(32)),
            &alloc::format!("1.5.{}", "AB".repeat(32)),
            &alloc::format!("1.5.{}", "ab".repeat(31)),
            &alloc::format!("1.5.{}.x", "ab".repeat(32)),
            &alloc::format!("1.-5.{}", "ab".repeat(32)),
            &alloc::format!("1.99999999999999999999.{}", "ab".repeat(32)),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
