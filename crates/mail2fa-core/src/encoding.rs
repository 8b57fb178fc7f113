//! Text encodings used on the wire: standard base64 for bytes, RFC 4648 base32 for TOTP secrets.

use alloc::string::String;
use alloc::vec::Vec;
use base64ct::{Base64, Encoding};

use crate::error::{Error, ErrorCode, Result};

/// Standard base64 with padding.
pub fn b64_encode(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Decodes standard base64 (padding required); `field` names the value in the error.
pub fn b64_decode(text: &str, field: &str) -> Result<Vec<u8>> {
    Base64::decode_vec(text).map_err(|_| {
        Error::new(
            ErrorCode::BadBase64,
            alloc::format!("{field} is not valid standard base64"),
        )
    })
}

/// Standard base64 without padding, as PHC strings (`$argon2id$…`) write salts and hashes.
pub fn b64_nopad_encode(bytes: &[u8]) -> String {
    base64ct::Base64Unpadded::encode_string(bytes)
}

/// Decodes unpadded standard base64; `None` when it is not canonical unpadded base64.
pub fn b64_nopad_decode(text: &str) -> Option<Vec<u8>> {
    base64ct::Base64Unpadded::decode_vec(text).ok()
}

/// URL-safe base64 without padding, for tokens and ids that travel in cookies and forms.
pub fn b64url_encode(bytes: &[u8]) -> String {
    base64ct::Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes unpadded URL-safe base64; `None` when it is not canonical.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    base64ct::Base64UrlUnpadded::decode_vec(text).ok()
}

/// Upper-case base32 without padding, as authenticator apps expect.
pub fn b32_encode(bytes: &[u8]) -> String {
    base32::encode(RFC4648_NOPAD, bytes)
}

/// Decodes base32 the way people and other tools write it: either case, optional `=`
/// padding, spaces and dashes between groups ignored.
pub fn b32_decode(text: &str, field: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::new(
            ErrorCode::BadBase32,
            alloc::format!("{field} is not valid base32"),
        )
    };
    let mut cleaned: Vec<u8> = Vec::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b' ' | b'-' => {}
            b'a'..=b'z' => cleaned.push(b.to_ascii_uppercase()),
            b'A'..=b'Z' | b'2'..=b'7' | b'=' => cleaned.push(b),
            _ => return Err(bad()),
        }
    }
    while cleaned.last() == Some(&b'=') {
        cleaned.pop();
    }
    // Unpadded base32 ends in a group of 2, 4, 5 or 7 characters (or a full 8);
    // 1, 3 or 6 can encode no whole byte count.
    if cleaned.is_empty() || matches!(cleaned.len() % 8, 1 | 3 | 6) {
        return Err(bad());
    }
    // `cleaned` holds only A-Z and 2-7 here, so it is ASCII.
    let text = core::str::from_utf8(&cleaned).map_err(|_| bad())?;
    base32::decode(RFC4648_NOPAD, text).ok_or_else(bad)
}

const RFC4648_NOPAD: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trip_and_leniency() {
        let bytes = b"12345678901234567890";
        let text = b32_encode(bytes);
        assert_eq!(text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(b32_decode(&text.to_lowercase(), "s").unwrap(), bytes);
        assert_eq!(
            b32_decode("GEZD GNBV-GY3TQOJQGEZDGNBVGY3TQOJQ====", "s").unwrap(),
            bytes
        );
        assert_eq!(
            b32_decode("GEZ1", "s").unwrap_err().code(),
            ErrorCode::BadBase32
        );
        assert_eq!(
            b32_decode("", "s").unwrap_err().code(),
            ErrorCode::BadBase32
        );
        assert_eq!(
            b32_decode("A", "s").unwrap_err().code(),
            ErrorCode::BadBase32
        );
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(b64_decode("AAEC", "k").unwrap(), [0, 1, 2]);
        assert_eq!(
            b64_decode("AAE", "k").unwrap_err().code(),
            ErrorCode::BadBase64
        );
    }
}
