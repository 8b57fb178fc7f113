//! Sealing secrets at rest: XChaCha20-Poly1305 under a host-supplied site key.
//!
//! The associated data binds each ciphertext to the user, the key id and what the
//! secret is for, so a sealed value copied to another user, relabelled with another
//! key id, or moved to another slot of the record does not open.

use alloc::string::String;
use alloc::vec::Vec;
use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode};
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};

/// The AEAD every sealed value uses; stored in the record so a later format can change it.
pub const AEAD_NAME: &str = "XChaCha20-Poly1305";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const MAX_KEY_ID_LEN: usize = 64;

/// One site key: 32 secret bytes and the id stored beside everything it seals.
pub struct SiteKey {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl SiteKey {
    /// A key from its id and raw bytes.
    pub fn new(id: &str, key: &[u8]) -> Result<Self> {
        let id_ok = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(Error::new(
                ErrorCode::InvalidKey,
                "a key id is 1 to 64 characters of A-Z a-z 0-9 - _ .",
            ));
        }
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| {
            Error::new(
                ErrorCode::InvalidKey,
                alloc::format!("key {id} must be exactly {KEY_LEN} bytes"),
            )
        })?;
        Ok(SiteKey {
            id: id.into(),
            key: Zeroizing::new(key),
        })
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The site keyring: the first key seals, every key opens what was sealed under its id.
pub struct Keyring {
    keys: Vec<SiteKey>,
}

impl Keyring {
    /// A keyring from keys in order of preference; needs at least one, ids unique.
    pub fn new(keys: Vec<SiteKey>) -> Result<Self> {
        if keys.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidKey,
                "the keyring needs at least one key",
            ));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|other| other.id == k.id) {
                return Err(Error::new(
                    ErrorCode::InvalidKey,
                    alloc::format!("key id {} appears twice in the keyring", k.id),
                ));
            }
        }
        Ok(Keyring { keys })
    }

    /// The key that seals new values.
    pub fn current(&self) -> &SiteKey {
        &self.keys[0]
    }

    fn find(&self, id: &str) -> Result<&SiteKey> {
        self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownKeyId,
                alloc::format!("no key with id {id} in the keyring"),
            )
        })
    }
}

/// A sealed value as stored in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The AEAD, always [`AEAD_NAME`] in format 1.
    pub alg: String,
    /// The id of the site key that sealed it.
    pub kid: String,
    /// The 24-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ct: String,
}

fn associated_data(user: &str, kid: &str, purpose: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + user.len() + kid.len() + purpose.len());
    aad.extend_from_slice(b"mail2fa/v1\0");
    aad.extend_from_slice(purpose.as_bytes());
    aad.push(0);
    aad.extend_from_slice(kid.as_bytes());
    aad.push(0);
    aad.extend_from_slice(user.as_bytes());
    aad
}

/// Seals `plaintext` for `user` under the keyring's current key.
pub fn seal(
    keyring: &Keyring,
    user: &str,
    purpose: &str,
    plaintext: &[u8],
    rng: &mut EntropyStream,
) -> Sealed {
    let key = keyring.current();
    let nonce: [u8; NONCE_LEN] = rng.array();
    let cipher = XChaCha20Poly1305::new((&*key.key).into());
    let aad = associated_data(user, &key.id, purpose);
    // Encryption into a Vec only fails for plaintexts over 2^38 bytes; ours are tiny.
    let ct = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_default();
    Sealed {
        alg: AEAD_NAME.into(),
        kid: key.id.clone(),
        nonce: b64_encode(&nonce),
        ct: b64_encode(&ct),
    }
}

/// Opens a sealed value; any mismatch of key, user, purpose or bytes is [`ErrorCode::DecryptFailed`].
pub fn open(
    keyring: &Keyring,
    user: &str,
    purpose: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.alg != AEAD_NAME {
        return Err(Error::new(
            ErrorCode::InvalidRecord,
            "a sealed value names an unknown AEAD",
        ));
    }
    let key = keyring.find(&sealed.kid)?;
    let nonce = b64_decode_array::<NONCE_LEN>(&sealed.nonce, "nonce")?
        .ok_or_else(|| Error::new(ErrorCode::InvalidRecord, "a sealed nonce is not 24 bytes"))?;
    // Decrypted where it was decoded (no second buffer); wiped when dropped.
    let mut buffer = Zeroizing::new(b64_decode(&sealed.ct, "ciphertext")?);
    let cipher = XChaCha20Poly1305::new((&*key.key).into());
    let aad = associated_data(user, &sealed.kid, purpose);
    cipher
        .decrypt_in_place((&nonce).into(), &aad, &mut *buffer)
        .map_err(|_| {
            Error::new(
                ErrorCode::DecryptFailed,
                "the record does not decrypt with this key for this user",
            )
        })?;
    Ok(buffer)
}

/// Decodes standard base64 of exactly `N` bytes into an array (no heap); `Ok(None)` when
/// it is valid base64 of another length, the error of [`b64_decode`] when it is not base64.
fn b64_decode_array<const N: usize>(text: &str, field: &str) -> Result<Option<[u8; N]>> {
    use base64ct::{Base64, Encoding};
    let mut out = [0u8; N];
    match Base64::decode(text, &mut out) {
        Ok(bytes) if bytes.len() == N => Ok(Some(out)),
        // Too long for the array, or shorter: decode it whole to tell base64 of another
        // length from text that is no base64 (each has its own error).
        _ => b64_decode(text, field).map(|_| None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ring(ids: &[(&str, u8)]) -> Keyring {
        Keyring::new(
            ids.iter()
                .map(|(id, b)| SiteKey::new(id, &[*b; 32]).unwrap())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn seals_and_opens_for_the_same_user_only() {
        let keys = ring(&[("k1", 1)]);
        let mut rng = EntropyStream::from_host(&[3u8; 32]).unwrap();
        let s = seal(&keys, "alice", "totp", b"secret bytes", &mut rng);
        assert_eq!(
            &**open(&keys, "alice", "totp", &s).unwrap(),
            b"secret bytes"
        );
        let e = open(&keys, "bob", "totp", &s).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DecryptFailed);
        let e = open(&keys, "alice", "other", &s).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DecryptFailed);
    }

    #[test]
    fn wrong_key_or_unknown_id_fails() {
        let mut rng = EntropyStream::from_host(&[3u8; 32]).unwrap();
        let s = seal(&ring(&[("k1", 1)]), "alice", "totp", b"x", &mut rng);
        assert_eq!(
            open(&ring(&[("k1", 2)]), "alice", "totp", &s)
                .unwrap_err()
                .code(),
            ErrorCode::DecryptFailed
        );
        assert_eq!(
            open(&ring(&[("k2", 1)]), "alice", "totp", &s)
                .unwrap_err()
                .code(),
            ErrorCode::UnknownKeyId
        );
        let mut relabelled = s.clone();
        relabelled.kid = "k2".into();
        assert_eq!(
            open(&ring(&[("k2", 1)]), "alice", "totp", &relabelled)
                .unwrap_err()
                .code(),
            ErrorCode::DecryptFailed
        );
    }

    #[test]
    fn keyring_validation() {
        assert_eq!(
            Keyring::new(vec![]).err().unwrap().code(),
            ErrorCode::InvalidKey
        );
        assert!(SiteKey::new("k 1", &[0; 32]).is_err());
        assert!(SiteKey::new("k1", &[0; 31]).is_err());
        let dup = vec![
            SiteKey::new("a", &[0; 32]).unwrap(),
            SiteKey::new("a", &[1; 32]).unwrap(),
        ];
        assert_eq!(
            Keyring::new(dup).err().unwrap().code(),
            ErrorCode::InvalidKey
        );
    }
}
