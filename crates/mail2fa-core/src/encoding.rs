//! Text encodings used on the wire: standard base64 for bytes, RFC 4648 base32 for TOTP secrets.

use alloc::string::String;
use alloc::vec::Vec;
use data_encoding::{Encoding, BASE32_NOPAD, BASE64};

use crate::error::{Error, ErrorCode, Result};

/// Standard base64 with padding.
pub fn b64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes standard base64 (padding required); `field` names the value in the error.
pub fn b64_decode(text: &str, field: &str) -> Result<Vec<u8>> {
    BASE64.decode(text.as_bytes()).map_err(|_| {
        Error::new(
            ErrorCode::BadBase64,
            alloc::format!("{field} is not valid standard base64"),
        )
    })
}

/// Upper-case base32 without padding, as authenticator apps expect.
pub fn b32_encode(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes)
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
    if cleaned.is_empty() {
        return Err(bad());
    }
    base32_lenient().decode(&cleaned).map_err(|_| bad())
}

/// Base32 that accepts the non-zero trailing bits some generators leave in a final
/// partial group (a 16-character legacy secret has none, a 26-character one may).
fn base32_lenient() -> Encoding {
    let mut spec = BASE32_NOPAD.specification();
    spec.check_trailing_bits = false;
    // The specification is a fixed, valid alphabet; building it cannot fail.
    spec.encoding().unwrap_or_else(|_| BASE32_NOPAD.clone())
}

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
