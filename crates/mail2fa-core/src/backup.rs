//! Backup codes: single-use codes for when the phone is lost.
//!
//! A code is 10 characters of Crockford's base32 alphabet in lower case
//! (`0-9 a-z` without `i l o u`), shown as two groups, `xxxxx-xxxxx`: 32 symbols,
//! 5 bits each, **50 bits per code**, drawn uniformly from host entropy. Input is
//! normalized before comparison: case is ignored, spaces and dashes are removed, and the
//! look-alikes people type map to the symbol they resemble (`o` → `0`, `i`/`l` → `1`).
//!
//! Codes are stored only as keyed hashes: HMAC-SHA256 under a random 256-bit key that
//! is sealed into the record for this user (XChaCha20-Poly1305, purpose `backup`, so
//! it opens only with the site key and only for this user), over the user name and the
//! normalized code. Argon2id per code would cost one full Argon2id run per stored code
//! on every check (bench/RESULTS.md); the keyed hash costs microseconds and is as
//! strong here: the codes have 50 random bits and guessing online is capped by the
//! limiter, while an attacker with a stolen database but no site key cannot even start
//! an offline search, because the HMAC key is sealed under the site key. Key rotation
//! re-seals the HMAC key; the hashes stay valid.
//!
//! Verifying compares the candidate's hash with every stored hash in constant time and
//! removes the one that matched, so a code never verifies twice. Generating a new set
//! replaces the key and every hash, so every old code stops working.

use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode};
use crate::entropy::EntropyStream;
use crate::error::Result;
use crate::seal::{open, seal, Keyring, Sealed};

/// The AEAD purpose label of the backup-code HMAC key.
pub const PURPOSE: &str = "backup";
/// The symbols of a code: Crockford's base32, lower case.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Symbols per generated code.
pub const CODE_LEN: usize = 10;
/// Random bits per generated code.
pub const CODE_BITS: u32 = 50;
/// Longest normalized code accepted (imported codes may be longer than ours).
pub const MAX_CODE_LEN: usize = 64;
/// Shortest normalized code accepted on import.
pub const MIN_IMPORTED_CODE_LEN: usize = 6;

/// The backup codes stored in the record (`backup_codes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupCodes {
    /// The sealed HMAC key of this set.
    pub key: Sealed,
    /// HMAC-SHA256 of every unused code, base64.
    pub hashes: Vec<String>,
    /// How many codes the set had when made.
    pub issued: u32,
    /// When the set was made (generated or imported).
    pub created_at: u64,
    /// When a code of this set was last used.
    pub last_used_at: Option<u64>,
}

/// Normalizes typed input: drops spaces, tabs and dashes, lower-cases ASCII, maps
/// `o`→`0` and `i`/`l`→`1`. `None` when anything else than ASCII letters and digits
/// remains, or the result is empty or longer than [`MAX_CODE_LEN`].
pub fn normalize(input: &str) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(CODE_LEN));
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '\t' | '-' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c if c.is_ascii_alphanumeric() => c,
            _ => return None,
        };
        if out.len() == MAX_CODE_LEN {
            return None;
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

fn code_hash(key: &[u8], user: &str, normalized: &str) -> [u8; 32] {
    // HMAC takes keys of any length; ours is always 32 bytes.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(b"mail2fa/v1 backup\0");
    mac.update(user.as_bytes());
    mac.update(b"\0");
    mac.update(normalized.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A new code from the random stream, formatted `xxxxx-xxxxx`.
fn new_code(rng: &mut EntropyStream) -> Zeroizing<String> {
    let mut code = Zeroizing::new(String::with_capacity(CODE_LEN + 1));
    for i in 0..CODE_LEN {
        if i == CODE_LEN / 2 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[rng.below(32) as usize]));
    }
    code
}

impl BackupCodes {
    /// A set made from the given plaintext codes (already normalized) under a new key.
    fn from_normalized(
        keyring: &Keyring,
        user: &str,
        codes: &[Zeroizing<String>],
        time: u64,
        rng: &mut EntropyStream,
    ) -> Self {
        let key = Zeroizing::new(rng.array::<32>());
        let hashes = codes
            .iter()
            .map(|c| b64_encode(&code_hash(&*key, user, c)))
            .collect();
        BackupCodes {
            key: seal(keyring, user, PURPOSE, &*key, rng),
            hashes,
            issued: codes.len() as u32,
            created_at: time,
            last_used_at: None,
        }
    }

    /// A new set of `count` codes; returns the set and the codes to show once.
    pub fn generate(
        keyring: &Keyring,
        user: &str,
        count: usize,
        time: u64,
        rng: &mut EntropyStream,
    ) -> (Self, Vec<Zeroizing<String>>) {
        let mut shown: Vec<Zeroizing<String>> = Vec::with_capacity(count);
        let mut normalized: Vec<Zeroizing<String>> = Vec::with_capacity(count);
        while shown.len() < count {
            let code = new_code(rng);
            // Generated codes always normalize (alphabet and dash only).
            let Some(n) = normalize(&code) else { continue };
            // A repeat within a set (2^-50 per pair) would make one code count twice.
            if normalized.iter().any(|m| **m == *n) {
                continue;
            }
            normalized.push(n);
            shown.push(code);
        }
        (
            Self::from_normalized(keyring, user, &normalized, time, rng),
            shown,
        )
    }

    /// A set made from codes another system issued (e.g. an import); codes that do not
    /// normalize or are shorter than [`MIN_IMPORTED_CODE_LEN`] are returned as rejected
    /// (by position), duplicates are merged.
    pub fn import(
        keyring: &Keyring,
        user: &str,
        codes: &[&str],
        time: u64,
        rng: &mut EntropyStream,
    ) -> (Self, Vec<usize>) {
        let mut normalized: Vec<Zeroizing<String>> = Vec::new();
        let mut rejected = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            match normalize(code) {
                Some(n) if n.len() >= MIN_IMPORTED_CODE_LEN => {
                    if !normalized.iter().any(|m| **m == *n) {
                        normalized.push(n);
                    }
                }
                _ => rejected.push(i),
            }
        }
        (
            Self::from_normalized(keyring, user, &normalized, time, rng),
            rejected,
        )
    }

    /// Unused codes left.
    pub fn remaining(&self) -> usize {
        self.hashes.len()
    }

    /// Opens the HMAC key; fails closed on any key, user or integrity mismatch.
    pub fn open_key(&self, keyring: &Keyring, user: &str) -> Result<Zeroizing<Vec<u8>>> {
        open(keyring, user, PURPOSE, &self.key)
    }

    /// Checks `input` against every unused code in constant time; a match is removed
    /// (consumed) and `true` returned. Input that does not normalize is simply wrong.
    pub fn consume(
        &mut self,
        keyring: &Keyring,
        user: &str,
        input: &str,
        time: u64,
    ) -> Result<bool> {
        let key = self.open_key(keyring, user)?;
        let Some(normalized) = normalize(input) else {
            return Ok(false);
        };
        let candidate = code_hash(&key, user, &normalized);
        let mut found: Option<usize> = None;
        for (i, stored) in self.hashes.iter().enumerate() {
            // A stored hash that is not base64 never matches (and fails no other code).
            let stored = b64_decode(stored, "backup_codes.hashes").unwrap_or_default();
            let matches: Choice = stored.as_slice().ct_eq(&candidate);
            if bool::from(matches) && found.is_none() {
                found = Some(i);
            }
        }
        Ok(match found {
            Some(i) => {
                self.hashes.remove(i);
                self.last_used_at = Some(time);
                true
            }
            None => false,
        })
    }

    /// Re-seals the key under the keyring's current key; returns whether it changed.
    pub fn reseal(
        &mut self,
        keyring: &Keyring,
        user: &str,
        rng: &mut EntropyStream,
    ) -> Result<bool> {
        if self.key.kid == keyring.current().id() {
            return Ok(false);
        }
        let key = self.open_key(keyring, user)?;
        self.key = seal(keyring, user, PURPOSE, &key, rng);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::SiteKey;
    use alloc::vec;

    fn ring() -> Keyring {
        Keyring::new(vec![SiteKey::new("k1", &[1; 32]).unwrap()]).unwrap()
    }

    #[test]
    fn codes_have_the_documented_shape_and_entropy() {
        assert_eq!(1u64 << CODE_BITS, 32u64.pow(CODE_LEN as u32));
        let mut rng = EntropyStream::from_host(&[5; 32]).unwrap();
        let (set, codes) = BackupCodes::generate(&ring(), "alice", 10, 7, &mut rng);
        assert_eq!(codes.len(), 10);
        assert_eq!(set.remaining(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert!(code.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn consume_once_normalized_and_bound_to_the_user() {
        let keys = ring();
        let mut rng = EntropyStream::from_host(&[6; 32]).unwrap();
        let (mut set, codes) = BackupCodes::generate(&keys, "alice", 3, 7, &mut rng);
        let typed = codes[1].to_uppercase().replace('-', " ");
        let mut other = set.clone();
        assert!(other.consume(&keys, "bob", &typed, 8).is_err());
        assert!(set.consume(&keys, "alice", &typed, 8).unwrap());
        assert_eq!(set.remaining(), 2);
        assert_eq!(set.last_used_at, Some(8));
        assert!(!set.consume(&keys, "alice", &codes[1], 9).unwrap());
        assert!(!set.consume(&keys, "alice", "not a code!", 9).unwrap());
        assert!(set.consume(&keys, "alice", &codes[0], 9).unwrap());
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize(" AbC-dE f ").unwrap().as_str(), "abcdef");
        assert_eq!(normalize("OIL").unwrap().as_str(), "011");
        assert!(normalize("abc_def").is_none());
        assert!(normalize("ａｂｃ").is_none());
        assert!(normalize(" - ").is_none());
        assert!(normalize(&"a".repeat(65)).is_none());
    }

    #[test]
    fn import_merges_and_reports() {
        let keys = ring();
        let mut rng = EntropyStream::from_host(&[6; 32]).unwrap();
        let (mut set, rejected) = BackupCodes::import(
            &keys,
            "alice",
            &["ABCDEFGHIJ", "abcdefghij", "", "x!", "KLMNOPQRST"],
            1,
            &mut rng,
        );
        assert_eq!(rejected, [2, 3]);
        assert_eq!(set.remaining(), 2);
        assert!(set.consume(&keys, "alice", "abcde-fghij", 2).unwrap());
    }
}
