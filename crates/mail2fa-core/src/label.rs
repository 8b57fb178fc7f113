//! Labels people give to app passwords and trusted devices: Unicode text, bounded, with
//! no control or invisible formatting characters (which could hide or reorder text in
//! an admin's or user's list).

use alloc::string::String;

use crate::error::{Error, ErrorCode, Result};

/// Longest app-password label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// Longest device label (a user agent is cut to this), in characters.
pub const MAX_DEVICE_LABEL_CHARS: usize = 200;

/// Control characters, bidirectional overrides/isolates and other invisible formatting.
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A label typed by a user: trimmed, 1 to `max` characters, none forbidden.
pub fn check(label: &str, field: &str, max: usize) -> Result<String> {
    let label = label.trim();
    let count = label.chars().count();
    if count == 0 || count > max {
        return Err(Error::new(
            ErrorCode::InvalidField,
            alloc::format!("{field} must be 1 to {max} characters"),
        ));
    }
    if label.chars().any(forbidden) {
        return Err(Error::new(
            ErrorCode::InvalidField,
            alloc::format!("{field} must not contain control or invisible formatting characters"),
        ));
    }
    Ok(label.into())
}

/// A label supplied by software (a user agent): forbidden characters become spaces,
/// the result is trimmed and cut to `max` characters; never fails.
pub fn sanitize(label: &str, max: usize) -> String {
    let cleaned: String = label
        .chars()
        .map(|c| if forbidden(c) { ' ' } else { c })
        .collect();
    cleaned.trim().chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            check("  Thunderbird 📧 ", "label", 64).unwrap(),
            "Thunderbird 📧"
        );
        assert!(check("", "label", 64).is_err());
        assert!(check("a\nb", "label", 64).is_err());
        assert!(check("evil\u{202E}txt", "label", 64).is_err());
        assert!(check(&"é".repeat(65), "label", 64).is_err());
        assert!(check(&"é".repeat(64), "label", 64).is_ok());
        assert_eq!(sanitize("Mozilla\u{0}/5.0\r\n", 200), "Mozilla /5.0");
        assert_eq!(sanitize(&"x".repeat(500), 200).len(), 200);
    }
}
