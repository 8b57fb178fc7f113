use std::fmt;

/// A failure of the host library itself (not of a core op), with a stable snake_case code.
///
/// Codes: `not_pinned`, `module_mismatch`, `wasm_unreadable`, `module_invalid`,
/// `module_trap`, `module_fault`, `request_too_large`, `invalid_argument`, `host_panic`.
/// Messages name files and sizes, never request contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub code: &'static str,
    pub message: String,
}

impl HostError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The ABI's error shape: `{"ok":false,"error":{"code","message"}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "ok": false,
            "error": {"code": self.code, "message": self.message},
        })
        .to_string()
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for HostError {}
