//! Checks shared by the fuzz targets: what every dispatcher response must look like.

use serde_json::{Map, Value};

/// True for a stable error code: `snake_case`, ASCII lower case, digits and single `_`.
pub fn is_snake_case(code: &str) -> bool {
    !code.is_empty()
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && !code.ends_with('_')
        && !code.contains("__")
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Request fields whose values are secrets: an error message must never quote them.
const SECRET_FIELDS: &[&str] = &["secret", "code", "password", "entropy", "token", "key"];

/// Whether `value` looks like a secret rather than an English word that prose may
/// contain by chance: a code (6+ digits) or a 10+ character base32/base64 token with a
/// digit or an upper-case letter.
fn looks_secret(value: &str) -> bool {
    let digits = value.len() >= 6 && value.bytes().all(|b| b.is_ascii_digit());
    let token = value.len() >= 10
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        && value
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    digits || token
}

/// Parses a response of `mail2fa_core::api::handle_bytes` and checks the ABI contract
/// (docs/abi.md): a JSON object with a boolean `ok`; a failure is exactly
/// `{"ok": false, "error": {"code": snake_case, "message": non-empty}}` and its message
/// quotes no secret field of `request` (when the request was a JSON object).
/// Panics (a fuzz finding) on any violation; returns the response.
pub fn check_response(request: Option<&Map<String, Value>>, response: &[u8]) -> Value {
    let value: Value = match serde_json::from_slice(response) {
        Ok(v) => v,
        Err(e) => panic!(
            "response is not JSON ({e}): {:?}",
            String::from_utf8_lossy(response)
        ),
    };
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("response is not an object: {value}"));
    match object.get("ok") {
        Some(Value::Bool(true)) => {
            assert!(
                !object.contains_key("error"),
                "ok response has an error: {value}"
            );
        }
        Some(Value::Bool(false)) => {
            assert_eq!(object.len(), 2, "error response has extra fields: {value}");
            let error = object
                .get("error")
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("error response without error object: {value}"));
            let code = error
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("error without string code: {value}"));
            assert!(is_snake_case(code), "error code not snake_case: {value}");
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("error without string message: {value}"));
            assert!(!message.is_empty(), "empty error message: {value}");
            if let Some(request) = request {
                for field in SECRET_FIELDS {
                    if let Some(Value::String(secret)) = request.get(*field) {
                        assert!(
                            !looks_secret(secret) || !message.contains(secret.as_str()),
                            "error message quotes request field {field}: {value}"
                        );
                    }
                }
            }
        }
        _ => panic!("response without boolean ok: {value}"),
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case() {
        assert!(is_snake_case("bad_base32"));
        assert!(!is_snake_case("BadBase32"));
        assert!(!is_snake_case("_x"));
        assert!(!is_snake_case("x__y"));
        assert!(!is_snake_case(""));
    }
}
