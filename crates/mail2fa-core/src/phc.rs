//! Argon2 password hashes in PHC string form, as PHP's `password_hash`/`password_verify`,
//! Dovecot's `{ARGON2ID}`/`{ARGON2I}` schemes (libsodium) and the `argon2` CLI write them:
//!
//! ```text
//! $argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<hash, base64 without padding>
//! ```
//!
//! The parser is ours (strict, small, every failure structured) and refuses parameters
//! beyond [`MAX_M_KIB`], [`MAX_T`], [`MAX_P`] and [`MAX_WORK`] *before* allocating, so a
//! stored or submitted hash cannot make the core allocate gigabytes or spin for minutes.
//! The hash itself is the RustCrypto `argon2` crate.

use crate::encoding::{b64_nopad_decode, b64_nopad_encode};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use argon2::{Algorithm, Argon2, Version};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, Result};

/// Largest memory cost accepted, in KiB (256 MiB; PHP's default is 64 MiB, Dovecot's 64 MiB).
pub const MAX_M_KIB: u32 = 256 * 1024;
/// Largest time cost (passes) accepted.
pub const MAX_T: u32 = 64;
/// Largest parallelism accepted (lanes are computed one after another here).
pub const MAX_P: u32 = 16;
/// Largest memory × passes accepted, in KiB-passes: 1 GiB processed (e.g. 256 MiB × 4,
/// 64 MiB × 16), a few seconds natively at most.
pub const MAX_WORK: u64 = 1024 * 1024;
/// Salt lengths accepted, bytes.
pub const SALT_LEN: core::ops::RangeInclusive<usize> = 8..=64;
/// Hash output lengths accepted, bytes.
pub const HASH_LEN: core::ops::RangeInclusive<usize> = 16..=64;
/// Salt bytes of hashes the core makes (what PHP and libsodium use).
pub const NEW_SALT_LEN: usize = 16;
/// Output bytes of hashes the core makes.
pub const NEW_HASH_LEN: usize = 32;
/// Longest password accepted, bytes.
pub const MAX_PASSWORD_LEN: usize = 4096;

/// The Argon2 variants this core reads. Argon2d is refused: it is not a password hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Argon2id (RFC 9106's recommendation; what the core writes).
    Argon2id,
    /// Argon2i (older PHP and Dovecot setups).
    Argon2i,
}

impl Variant {
    fn ident(self) -> &'static str {
        match self {
            Variant::Argon2id => "argon2id",
            Variant::Argon2i => "argon2i",
        }
    }
}

/// Variant and costs of a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// argon2id or argon2i.
    pub variant: Variant,
    /// Memory in KiB.
    pub m: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Argon2Params {
    /// The default for app passwords: argon2id, m=19456 KiB, t=2, p=1 (OWASP's minimum).
    pub const fn default_app_password() -> Self {
        Argon2Params {
            variant: Variant::Argon2id,
            m: 19456,
            t: 2,
            p: 1,
        }
    }

    /// Refuses costs Argon2 does not define and costs beyond the core's limits.
    pub fn check_limits(&self) -> Result<()> {
        if self.p == 0 || self.t == 0 || self.m < 8 * self.p.max(1) {
            return Err(Error::new(
                ErrorCode::HashParamsRefused,
                "argon2 needs t ≥ 1, p ≥ 1 and m ≥ 8·p KiB",
            ));
        }
        if self.m > MAX_M_KIB
            || self.t > MAX_T
            || self.p > MAX_P
            || u64::from(self.m) * u64::from(self.t) > MAX_WORK
        {
            return Err(Error::new(
                ErrorCode::HashParamsRefused,
                format!(
                    "argon2 costs are limited to m ≤ {MAX_M_KIB} KiB, t ≤ {MAX_T}, p ≤ {MAX_P}, m·t ≤ {MAX_WORK}"
                ),
            ));
        }
        Ok(())
    }
}

/// A parsed PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhcHash {
    /// Variant and costs.
    pub params: Argon2Params,
    /// 0x13 (v=19) or 0x10 (no `v=`, the original Argon2).
    pub version: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// The expected output.
    pub hash: Vec<u8>,
}

fn unsupported(what: &str) -> Error {
    Error::new(
        ErrorCode::UnsupportedHash,
        format!("not an argon2id/argon2i PHC string: {what}"),
    )
}

fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl PhcHash {
    /// Parses `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (also argon2i, a missing `v=`, and a
    /// leading Dovecot scheme `{ARGON2ID}`/`{ARGON2I}`), and checks the costs.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let text = ["{ARGON2ID}", "{ARGON2I}"]
            .iter()
            .find_map(|scheme| text.strip_prefix(scheme))
            .unwrap_or(text);
        let mut parts = text.split('$');
        if parts.next() != Some("") {
            return Err(unsupported("it must start with $"));
        }
        let variant = match parts.next() {
            Some("argon2id") => Variant::Argon2id,
            Some("argon2i") => Variant::Argon2i,
            _ => return Err(unsupported("only argon2id and argon2i are read")),
        };
        let mut next = parts.next().ok_or_else(|| unsupported("too few fields"))?;
        let version = match next.strip_prefix("v=") {
            Some(v) => {
                let version = decimal(v).ok_or_else(|| unsupported("bad version"))?;
                if version != 0x13 && version != 0x10 {
                    return Err(unsupported("version must be 19 or 16"));
                }
                next = parts.next().ok_or_else(|| unsupported("too few fields"))?;
                version
            }
            None => 0x10,
        };
        let (mut m, mut t, mut p) = (None, None, None);
        for pair in next.split(',') {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| unsupported("bad parameters"))?;
            let slot = match key {
                "m" => &mut m,
                "t" => &mut t,
                "p" => &mut p,
                "keyid" | "data" => return Err(unsupported("keyid and data are not supported")),
                _ => return Err(unsupported("unknown parameter")),
            };
            if slot.is_some() {
                return Err(unsupported("a parameter appears twice"));
            }
            *slot = Some(decimal(value).ok_or_else(|| unsupported("bad parameter value"))?);
        }
        let (Some(m), Some(t), Some(p)) = (m, t, p) else {
            return Err(unsupported("m, t and p are required"));
        };
        let salt = parts.next().ok_or_else(|| unsupported("no salt"))?;
        let hash = parts.next().ok_or_else(|| unsupported("no hash"))?;
        if parts.next().is_some() {
            return Err(unsupported("too many fields"));
        }
        let salt = b64_nopad_decode(salt).ok_or_else(|| unsupported("salt is not base64"))?;
        let hash = b64_nopad_decode(hash).ok_or_else(|| unsupported("hash is not base64"))?;
        if !SALT_LEN.contains(&salt.len()) || !HASH_LEN.contains(&hash.len()) {
            return Err(unsupported("salt must be 8–64 bytes and hash 16–64 bytes"));
        }
        let params = Argon2Params { variant, m, t, p };
        params.check_limits()?;
        Ok(PhcHash {
            params,
            version,
            salt,
            hash,
        })
    }

    /// The PHC string (always with `v=`, as every current tool writes it).
    pub fn to_phc(&self) -> String {
        let Argon2Params { variant, m, t, p } = self.params;
        format!(
            "${}$v={}$m={m},t={t},p={p}${}${}",
            variant.ident(),
            self.version,
            b64_nopad_encode(&self.salt),
            b64_nopad_encode(&self.hash)
        )
    }

    /// Whether `password` hashes to this value (constant-time comparison).
    pub fn verify(&self, password: &[u8]) -> Result<bool> {
        let out = raw_hash(
            &self.params,
            self.version,
            password,
            &self.salt,
            self.hash.len(),
        )?;
        Ok(bool::from(out.as_slice().ct_eq(&self.hash)))
    }
}

fn raw_hash(
    params: &Argon2Params,
    version: u32,
    password: &[u8],
    salt: &[u8],
    out_len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    params.check_limits()?;
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::new(
            ErrorCode::InvalidField,
            format!("password must be at most {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    let refused = || {
        Error::new(
            ErrorCode::HashParamsRefused,
            "argon2 refused these parameters",
        )
    };
    let argon = Argon2::new(
        match params.variant {
            Variant::Argon2id => Algorithm::Argon2id,
            Variant::Argon2i => Algorithm::Argon2i,
        },
        if version == 0x10 {
            Version::V0x10
        } else {
            Version::V0x13
        },
        argon2::Params::new(params.m, params.t, params.p, Some(out_len)).map_err(|_| refused())?,
    );
    let mut out = Zeroizing::new(alloc::vec![0u8; out_len]);
    argon
        .hash_password_into(password, salt, &mut out)
        .map_err(|_| refused())?;
    Ok(out)
}

/// Hashes `password` with `salt` into a PHC string (version 19, 32-byte output).
pub fn hash(params: &Argon2Params, password: &[u8], salt: &[u8]) -> Result<String> {
    if !SALT_LEN.contains(&salt.len()) {
        return Err(Error::new(
            ErrorCode::InvalidField,
            "salt must be 8 to 64 bytes",
        ));
    }
    let out = raw_hash(params, 0x13, password, salt, NEW_HASH_LEN)?;
    Ok(PhcHash {
        params: *params,
        version: 0x13,
        salt: salt.to_vec(),
        hash: out.to_vec(),
    }
    .to_phc())
}

#[cfg(test)]
mod tests {
    use super::*;

    // PHP 8.2: password_hash("password", PASSWORD_ARGON2ID, [memory_cost 1024, time_cost 2, threads 1]).
    const PHP_ID: &str =
        "$argon2id$v=19$m=1024,t=2,p=1$REFUZTEzUWhKYmgzcFVIYw$kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY";
    // PHP 8.2: PASSWORD_ARGON2I, memory_cost 1024, time_cost 3.
    const PHP_I: &str =
        "$argon2i$v=19$m=1024,t=3,p=1$U1Q0dXM4bFZDMjNabHcxVw$T2b6Ij7uVCP6qFzkHM5hWwtq6PPhVv7Qz36xcxaP13w";
    // PHP 8.2: PASSWORD_ARGON2ID, memory_cost 256, time_cost 2, threads 4.
    const PHP_P4: &str =
        "$argon2id$v=19$m=256,t=2,p=4$U054WFVERFUucGZnNk5JTw$YoXl8Ckov6o6x30j/wWN4demHzXcHfBVsPtlgAmliyE";
    // Dovecot 2.3: doveadm pw -s ARGON2ID -p password (libsodium, m=64 MiB, t=3).
    const DOVECOT: &str = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$5T6lH2csxZCubPXtPwNNbw$yc8Rx5aK4h7rZ6BD7yzxOCkdjIN8xpHsA5ppfYduCNs";

    #[test]
    fn php_and_dovecot_hashes_verify() {
        for phc in [PHP_ID, PHP_I, PHP_P4, DOVECOT] {
            let parsed = PhcHash::parse(phc).unwrap();
            assert!(parsed.verify(b"password").unwrap(), "{phc}");
            assert!(!parsed.verify(b"passwore").unwrap(), "{phc}");
        }
    }

    #[test]
    fn hash_round_trips() {
        let params = Argon2Params {
            variant: Variant::Argon2id,
            m: 64,
            t: 1,
            p: 1,
        };
        let phc = hash(&params, b"pw", b"saltsaltsalt").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$"));
        let parsed = PhcHash::parse(&phc).unwrap();
        assert_eq!(parsed.to_phc(), phc);
        assert!(parsed.verify(b"pw").unwrap());
        assert!(PhcHash::parse(&format!("{{ARGON2ID}}{phc}"))
            .unwrap()
            .verify(b"pw")
            .unwrap());
    }

    #[test]
    fn bombs_and_garbage_are_refused() {
        let code = |s: &str| PhcHash::parse(s).unwrap_err().code();
        let salt = "c29tZXNhbHQ";
        let h = "kCWTCzcG5FxgPIknz1YW2EuYaTMaZb+D6WGykm30jFY";
        assert_eq!(
            code(&format!("$argon2id$v=19$m=4194304,t=1,p=1${salt}${h}")),
            ErrorCode::HashParamsRefused
        );
        assert_eq!(
            code(&format!("$argon2id$v=19$m=65536,t=1000,p=1${salt}${h}")),
            ErrorCode::HashParamsRefused
        );
        assert_eq!(
            code(&format!("$argon2id$v=19$m=65536,t=2,p=255${salt}${h}")),
            ErrorCode::HashParamsRefused
        );
        assert_eq!(
            code(&format!("$argon2id$v=19$m=99999999999,t=1,p=1${salt}${h}")),
            ErrorCode::UnsupportedHash
        );
        assert_eq!(
            code(&format!("$argon2d$v=19$m=64,t=1,p=1${salt}${h}")),
            ErrorCode::UnsupportedHash
        );
        assert_eq!(
            code("$2y$10$abcdefghijklmnopqrstuu"),
            ErrorCode::UnsupportedHash
        );
        assert_eq!(
            code(&format!("$argon2id$v=19$m=64,t=1,p=1,m=64${salt}${h}")),
            ErrorCode::UnsupportedHash
        );
        assert_eq!(code(""), ErrorCode::UnsupportedHash);
    }
}
