//! The canonical user name: one key for a user everywhere (the record, the `user` of every
//! op, the Dovecot projection, the admin tool).
//!
//! A webmail and its IMAP server must agree on who logged in. If Roundcube keeps the name
//! as typed (`ALICE`) while Dovecot folds it (`%Lu`), a second-factor record keyed by the
//! typed name is never found for the same mailbox: a fresh, empty record, no second step.
//! So every host runs the login name through [`canonical`] once, with the same rule the
//! IMAP server applies ([`UserRule`]), and uses only the result.
//!
//! Names that cannot be made canonical are refused rather than guessed at: empty ones,
//! control or invisible formatting characters (which make names that look equal but are
//! not), white space at either end of the name or of its parts, more than one `@`, and an
//! empty local part or domain.

use alloc::string::String;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};

/// The longest canonical name, in bytes (the `user` field's limit).
pub const MAX_USER_LEN: usize = 512;
/// The longest `default_domain`, in bytes.
pub const MAX_DOMAIN_LEN: usize = 253;

/// Letter case of the canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Case {
    /// ASCII lower case (Dovecot's `%L`, Roundcube's `login_lc`); other characters kept.
    #[default]
    Lower,
    /// Kept as typed.
    Keep,
}

/// What happens to `@domain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Domain {
    /// Kept (Dovecot's `%u`).
    #[default]
    Keep,
    /// Dropped: the local part alone (Dovecot's `%n`).
    Strip,
}

/// How a site canonicalises login names (the `username` object of `user.canonical`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRule {
    /// Letter case.
    pub case: Case,
    /// The domain part.
    pub domain: Domain,
    /// Appended as `@domain` to a name without one (Roundcube's `username_domain`).
    pub default_domain: Option<String>,
}

fn refused(why: &str) -> Error {
    Error::new(ErrorCode::InvalidUser, alloc::format!("user {why}"))
}

/// Control characters, bidirectional overrides and other invisible formatting.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

fn padded(part: &str) -> bool {
    part.starts_with(char::is_whitespace) || part.ends_with(char::is_whitespace)
}

impl UserRule {
    /// Reads the `username` setting of `user.canonical`: an object with `case`
    /// (`lower` | `keep`), `domain` (`keep` | `strip`), `default_domain`; absent is the
    /// default rule. Unknown settings are refused, like the policy's.
    pub fn from_value(value: Option<&Value>) -> Result<Self> {
        let bad = |expected: &str| {
            Error::new(
                ErrorCode::InvalidField,
                alloc::format!("username.{expected}"),
            )
        };
        let mut rule = UserRule::default();
        let object = match value {
            None | Some(Value::Null) => return Ok(rule),
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidField,
                    "username must be an object {case, domain, default_domain}",
                ))
            }
        };
        for (key, value) in object {
            match key.as_str() {
                "case" => {
                    rule.case = match value.as_str() {
                        Some("lower") => Case::Lower,
                        Some("keep") => Case::Keep,
                        _ => return Err(bad("case must be \"lower\" or \"keep\"")),
                    }
                }
                "domain" => {
                    rule.domain = match value.as_str() {
                        Some("keep") => Domain::Keep,
                        Some("strip") => Domain::Strip,
                        _ => return Err(bad("domain must be \"keep\" or \"strip\"")),
                    }
                }
                "default_domain" => match value {
                    Value::Null => rule.default_domain = None,
                    Value::String(d) if d.is_empty() => rule.default_domain = None,
                    Value::String(d) => {
                        check_default_domain(d)?;
                        rule.default_domain = Some(d.clone());
                    }
                    _ => return Err(bad("default_domain must be a string")),
                },
                _ => {
                    return Err(Error::new(
                        ErrorCode::InvalidField,
                        "username has an unknown setting; docs/ops.md lists them",
                    ))
                }
            }
        }
        Ok(rule)
    }
}

/// Checks `default_domain` (site configuration): a domain without `@`, white space or
/// invisible characters.
pub fn check_default_domain(domain: &str) -> Result<()> {
    if domain.is_empty()
        || domain.len() > MAX_DOMAIN_LEN
        || domain.contains('@')
        || domain.chars().any(|c| c.is_whitespace() || invisible(c))
    {
        return Err(Error::new(
            ErrorCode::InvalidField,
            "username.default_domain must be a domain of 1 to 253 bytes without @, white space or control characters",
        ));
    }
    Ok(())
}

/// The canonical form of a login name under `rule`, or `invalid_user`.
pub fn canonical(name: &str, rule: &UserRule) -> Result<String> {
    if name.is_empty() {
        return Err(refused("must not be empty"));
    }
    if name.len() > MAX_USER_LEN {
        return Err(refused("must be at most 512 bytes"));
    }
    if name.chars().any(invisible) {
        return Err(refused(
            "must not contain control or invisible formatting characters",
        ));
    }
    let mut parts = name.split('@');
    let local = parts.next().unwrap_or("");
    let domain = parts.next();
    if parts.next().is_some() {
        return Err(refused("must not contain more than one @"));
    }
    if padded(name) || padded(local) || domain.is_some_and(padded) {
        return Err(refused(
            "must not begin or end with white space (nor its local part or domain)",
        ));
    }
    if local.is_empty() {
        return Err(refused("must not have an empty local part"));
    }
    if domain == Some("") {
        return Err(refused("must not have an empty domain"));
    }
    let domain = match (domain, &rule.default_domain) {
        (Some(d), _) => Some(d),
        (None, Some(default)) => {
            check_default_domain(default)?;
            Some(default.as_str())
        }
        (None, None) => None,
    };
    let mut out = String::with_capacity(name.len());
    out.push_str(local);
    if let (Some(d), Domain::Keep) = (domain, rule.domain) {
        out.push('@');
        out.push_str(d);
    }
    if rule.case == Case::Lower {
        out.make_ascii_lowercase();
    }
    if out.len() > MAX_USER_LEN {
        return Err(refused("must be at most 512 bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(case: Case, domain: Domain, default: Option<&str>) -> UserRule {
        UserRule {
            case,
            domain,
            default_domain: default.map(String::from),
        }
    }

    #[test]
    fn canonical_forms() {
        let d = UserRule::default();
        assert_eq!(
            canonical("ALICE@Example.COM", &d).unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            canonical("Jörg@Example.com", &d).unwrap(),
            "jörg@example.com"
        );
        let keep = rule(Case::Keep, Domain::Keep, None);
        assert_eq!(
            canonical("ALICE@Example.COM", &keep).unwrap(),
            "ALICE@Example.COM"
        );
        let strip = rule(Case::Lower, Domain::Strip, None);
        assert_eq!(
            canonical("Alice@anything.invalid", &strip).unwrap(),
            "alice"
        );
        let add = rule(Case::Lower, Domain::Keep, Some("Example.com"));
        assert_eq!(canonical("Alice", &add).unwrap(), "alice@example.com");
        assert_eq!(
            canonical("alice@other.org", &add).unwrap(),
            "alice@other.org"
        );
    }

    #[test]
    fn refusals() {
        let d = UserRule::default();
        for bad in [
            "",
            " alice",
            "alice ",
            "alice\n",
            "a\u{0}b",
            "a@b@c",
            "@example.com",
            "alice@",
            "alice @example.com",
            "alice@ example.com",
            "ali\u{200B}ce",
            "\u{202E}alice",
        ] {
            assert_eq!(
                canonical(bad, &d).unwrap_err().code(),
                ErrorCode::InvalidUser,
                "{bad:?}"
            );
        }
        assert_eq!(
            canonical(&"a".repeat(513), &d).unwrap_err().code(),
            ErrorCode::InvalidUser
        );
        let add = rule(Case::Lower, Domain::Keep, Some("exa mple.com"));
        assert_eq!(
            canonical("alice", &add).unwrap_err().code(),
            ErrorCode::InvalidField
        );
    }
}
