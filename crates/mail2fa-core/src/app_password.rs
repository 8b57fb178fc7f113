//! App passwords: one password per mail client (IMAP/SMTP/DAV) that cannot do TOTP.
//!
//! A password is 20 lower-case letters from host entropy in five groups,
//! `abcd-efgh-ijkl-mnop-qrst` (20 · log2 26 ≈ **94 bits**): letters only, so phones stay
//! on one keyboard. The dashes are part of the password as stored, because Dovecot
//! compares exactly what the client sends; the core's own check (`app_password.verify`)
//! also accepts it typed without dashes, with spaces, or in upper case.
//!
//! A check through the core does not know which app password was typed; hashing every
//! stored one would cost up to ten Argon2id runs (bench/RESULTS.md). So each entry also
//! keeps `tag`: the first byte of SHA-256 over a fixed prefix and the password. Only
//! entries whose tag matches are hashed (one Argon2id for the right password, almost
//! always none for a wrong one). The tag leaks 8 of the password's 94 bits to someone
//! holding the record, leaving 86 bits behind Argon2id: still far beyond any offline search.
//!
//! Two tag versions exist. **v2** (written now) is the first byte of
//! SHA-256(`"mail2fa/v2/app-password/"` ‖ password), each hex digit written as a letter
//! `g`–`v` (`0`→`g`, `f`→`v`): Dovecot computes that byte itself with
//! `%{sha256;truncate=8,salt=mail2fa/v2/app-password/:password}`, and the letters keep
//! the two characters of the projection's column apart from a v1 tag. **v1** (two hex
//! digits, SHA-256 over `"mail2fa/v1 app-password"` 0x00 ‖ password) could not be
//! computed by Dovecot (its strings end at NUL); the core still filters by it, and a
//! successful check rewrites the entry's tag to v2.
//!
//! Each is stored as an Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`,
//! 16-byte salt from host entropy, 32-byte hash), exactly what Dovecot's `{ARGON2ID}`
//! scheme and PHP's `password_verify` read, with a label, creation and last-use times.

use crate::encoding::b64url_encode;
use alloc::string::String;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::phc::{self, Argon2Params, PhcHash};
use crate::policy::{Method, Policy};
use crate::reason::Reason;
use crate::record::{Record, State};
use alloc::vec::Vec;

/// Letters per password.
pub const LETTERS: usize = 20;
/// Letters per group.
pub const GROUP: usize = 4;
/// Random bits per password (20 · log2 26, rounded down).
pub const BITS: u32 = 94;
/// Random bytes of an app-password id.
const ID_BYTES: usize = 6;

/// An app password as stored in the record (`app_passwords`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPassword {
    /// A short public id (8 base64url characters), for revoking.
    pub id: String,
    /// What the user called it ("Thunderbird on laptop").
    pub label: String,
    /// The Argon2id PHC string.
    pub phc: String,
    /// When it was made.
    pub created_at: u64,
    /// When it last verified through the core.
    pub last_used_at: Option<u64>,
    /// The v2 tag (two letters `g`–`v`, see the module text) or, on entries made before it,
    /// the v1 tag (two hex digits); absent on entries made elsewhere (those are always hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// What Dovecot's `%{sha256;…,salt=…:password}` puts before the password for a v2 tag.
pub const TAG_V2_SALT: &str = "mail2fa/v2/app-password/";

fn first_sha256_byte(parts: &[&[u8]]) -> u8 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize()[0]
}

/// The v2 tag of a canonical password: the first SHA-256 byte of salt ‖ password, each
/// hex digit as a letter (`0`→`g` … `f`→`v`), so it never equals a v1 tag.
pub fn tag(canonical: &str) -> String {
    let byte = first_sha256_byte(&[TAG_V2_SALT.as_bytes(), canonical.as_bytes()]);
    [byte >> 4, byte & 0x0f]
        .iter()
        .map(|nibble| char::from(b'g' + nibble))
        .collect()
}

/// The v1 tag (entries made before v2): two hex digits.
fn tag_v1(canonical: &str) -> String {
    let byte = first_sha256_byte(&[b"mail2fa/v1 app-password\0", canonical.as_bytes()]);
    alloc::format!("{byte:02x}")
}

fn is_v2_tag(tag: &str) -> bool {
    tag.len() == 2 && tag.bytes().all(|b| (b'g'..=b'v').contains(&b))
}

/// Whether an entry with `stored` tag may hold the password whose tags are given: a tag of
/// either version that differs rules it out; any other form is hashed (it only skips work).
fn tag_admits(stored: Option<&str>, v2: &str, v1: &str) -> bool {
    match stored {
        Some(t) if is_v2_tag(t) => t == v2,
        Some(t) if t.len() == 2 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
            t.eq_ignore_ascii_case(v1)
        }
        _ => true,
    }
}

fn new_password(rng: &mut EntropyStream) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(LETTERS + LETTERS / GROUP));
    for i in 0..LETTERS {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(char::from(b'a' + rng.below(26) as u8));
    }
    out
}

/// The stored form of typed input: when it is 20 letters once spaces and dashes are
/// dropped and case is folded, those letters regrouped with dashes; else the input as is
/// (which then matches nothing the core made).
pub fn canonical(input: &str) -> Zeroizing<String> {
    let letters: Zeroizing<String> = Zeroizing::new(
        input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    );
    if letters.len() != LETTERS || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return Zeroizing::new(String::from(input));
    }
    let mut out = Zeroizing::new(String::with_capacity(LETTERS + LETTERS / GROUP));
    for (i, c) in letters.chars().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// Creates an app password; returns the stored entry and the password to show once.
pub fn create(
    existing: &[AppPassword],
    label: String,
    params: &Argon2Params,
    time: u64,
    rng: &mut EntropyStream,
) -> Result<(AppPassword, Zeroizing<String>)> {
    let id = loop {
        let id = b64url_encode(&rng.array::<ID_BYTES>());
        if !existing.iter().any(|a| a.id == id) {
            break id;
        }
    };
    let password = new_password(rng);
    let salt: [u8; phc::NEW_SALT_LEN] = rng.array();
    let phc = phc::hash(params, password.as_bytes(), &salt)?;
    Ok((
        AppPassword {
            id,
            label,
            phc,
            created_at: time,
            last_used_at: None,
            tag: Some(tag(&password)),
        },
        password,
    ))
}

/// Checks `input` against every app password (stopping at the first match, whose
/// `last_used_at` is set); returns the id that matched. A stored hash that does not
/// parse is an error: the record is damaged, and the check fails closed.
pub fn verify(passwords: &mut [AppPassword], input: &str, time: u64) -> Result<Option<String>> {
    if input.len() > phc::MAX_PASSWORD_LEN {
        return Err(Error::new(
            ErrorCode::InvalidField,
            "password is longer than any app password",
        ));
    }
    let candidate = canonical(input);
    let candidate_tag = tag(&candidate);
    let candidate_v1 = tag_v1(&candidate);
    for entry in passwords.iter_mut() {
        if !tag_admits(entry.tag.as_deref(), &candidate_tag, &candidate_v1) {
            continue;
        }
        let stored = PhcHash::parse(&entry.phc).map_err(|_| {
            Error::new(
                ErrorCode::InvalidRecord,
                "an app password hash in the record does not parse",
            )
        })?;
        if stored.verify(candidate.as_bytes())? {
            entry.last_used_at = Some(time);
            // A v1 (or missing) tag becomes v2 now that the password is known.
            entry.tag = Some(candidate_tag);
            return Ok(Some(entry.id.clone()));
        }
    }
    Ok(None)
}

/// The per-user cap: a new app password is refused once the user has `max`
/// (`limit_reached`; revoke one first).
pub fn check_room(existing: &[AppPassword], max: usize) -> Result<()> {
    if existing.len() >= max {
        return Err(Error::new(
            ErrorCode::LimitReached,
            alloc::format!("a user may have at most {max} app passwords; revoke one first"),
        ));
    }
    Ok(())
}

/// Why the app passwords of a record are not checked at all: only while 2FA is enabled
/// and the policy allows them (exactly the rows [`projected`] shows Dovecot).
pub fn refused(record: &Record, policy: &Policy) -> Option<Reason> {
    if !policy.allows(Method::AppPassword) {
        Some(Reason::MethodNotAllowed)
    } else if record.state() != State::Enabled {
        Some(Reason::NotEnabled)
    } else {
        None
    }
}

/// The outcome of [`verify_in`].
pub enum Verified {
    /// The id of the app password that matched (its `last_used_at` set, record touched).
    Valid(String),
    /// Refused, nothing hashed or changed when the reason is not `wrong_password`.
    Refused(Reason),
}

/// Checks `input` against the record's app passwords when [`refused`] allows it; a
/// match sets its `last_used_at` and touches the record.
pub fn verify_in(record: &mut Record, policy: &Policy, input: &str, time: u64) -> Result<Verified> {
    if let Some(reason) = refused(record, policy) {
        return Ok(Verified::Refused(reason));
    }
    match verify(&mut record.app_passwords, input, time)? {
        Some(id) => {
            record.touch(time);
            Ok(Verified::Valid(id))
        }
        None => Ok(Verified::Refused(Reason::WrongPassword)),
    }
}

/// A row of the Dovecot projection.
#[derive(Debug, Clone, Serialize)]
pub struct Projected {
    /// The entry's id.
    pub id: String,
    /// Its PHC string.
    pub phc: String,
    /// Its label.
    pub label: String,
    /// When it was made.
    pub created_at: u64,
    /// Its tag (see the module docs).
    pub tag: Option<String>,
}

/// The app passwords Dovecot's passdb may see: none unless 2FA is enabled and the policy
/// allows app passwords.
pub fn projected(record: &Record, policy: &Policy) -> Vec<Projected> {
    if refused(record, policy).is_some() {
        return Vec::new();
    }
    record
        .app_passwords
        .iter()
        .map(|a| Projected {
            id: a.id.clone(),
            phc: a.phc.clone(),
            label: a.label.clone(),
            created_at: a.created_at,
            tag: a.tag.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phc::Variant;

    const CHEAP: Argon2Params = Argon2Params {
        variant: Variant::Argon2id,
        m: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn create_and_verify() {
        assert!(26f64.powi(LETTERS as i32).log2() >= f64::from(BITS));
        let mut rng = EntropyStream::from_host(&[8; 32]).unwrap();
        let (entry, pw) = create(&[], "Phone".into(), &CHEAP, 5, &mut rng).unwrap();
        assert_eq!(pw.len(), 24);
        assert!(entry.phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let mut list = alloc::vec![entry];
        let typed = pw.replace('-', " ").to_uppercase();
        assert_eq!(
            verify(&mut list, &typed, 9).unwrap().as_deref(),
            Some(list[0].id.clone().as_str())
        );
        assert_eq!(list[0].last_used_at, Some(9));
        assert_eq!(verify(&mut list, "abcd-efgh", 10).unwrap(), None);
        // An entry without a tag (made elsewhere) is hashed; the tag only skips work.
        list[0].tag = None;
        assert!(verify(&mut list, &pw, 10).unwrap().is_some());
        // v1 tags (two hex digits, written before v2) still filter, and a match rewrites v2.
        let v2 = list[0].tag.clone();
        list[0].tag = Some(tag_v1(&pw));
        assert!(verify(&mut list, &pw, 11).unwrap().is_some());
        assert_eq!(list[0].tag, v2);
        list[0].tag = Some(if tag_v1(&pw) == "00" { "01" } else { "00" }.into());
        assert_eq!(
            verify(&mut list, &pw, 12).unwrap(),
            None,
            "a wrong v1 tag skips"
        );
        // A tag of neither form only costs a hash.
        list[0].tag = Some("v9:zz".into());
        assert!(verify(&mut list, &pw, 13).unwrap().is_some());
        list[0].phc = "garbage".into();
        assert_eq!(
            verify(&mut list, &pw, 10).unwrap_err().code(),
            ErrorCode::InvalidRecord
        );
    }

    #[test]
    fn tags_match_independent_sha256() {
        // Values from Python's hashlib (and Dovecot's %{sha256;truncate=8,salt=...:password}).
        assert_eq!(tag("mdih-ssbs-egaq-mphj-vzfs"), "hn"); // 0x17
        assert_eq!(tag("abcd-efgh-ijkl-mnop-qrst"), "qq"); // 0xaa
        assert_eq!(tag_v1("mdih-ssbs-egaq-mphj-vzfs"), "ba");
        assert_eq!(tag_v1("abcd-efgh-ijkl-mnop-qrst"), "19");
        for pw in ["", "x", "abcd-efgh-ijkl-mnop-qrst"] {
            let t = tag(pw);
            assert!(
                is_v2_tag(&t) && !t.bytes().any(|b| b.is_ascii_hexdigit()),
                "{t}"
            );
        }
    }
}
