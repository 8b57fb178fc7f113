//! `user.canonical`: the one canonical login name every host keys a user by.

use serde_json::Value;

use super::{fields, Request, Response};
use crate::error::{Error, ErrorCode, Result};
use crate::user::{self, Case, Domain, UserRule};

fn bad(expected: &str) -> Error {
    Error::new(
        ErrorCode::InvalidField,
        alloc::format!("username.{expected}"),
    )
}

/// The optional `username` object: `case` (`lower` | `keep`), `domain` (`keep` | `strip`),
/// `default_domain`. Unknown settings are refused, like the policy's.
fn rule(req: &Request) -> Result<UserRule> {
    let mut rule = UserRule::default();
    let object = match req.get("username") {
        None => return Ok(rule),
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
                    user::check_default_domain(d)?;
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

/// `user.canonical`: the login name as every host and the IMAP server key it.
pub fn canonical(req: &Request) -> Result<Response> {
    let rule = rule(req)?;
    let name = req.str("user")?;
    Ok(fields([(
        "user",
        Value::from(user::canonical(name, &rule)?),
    )]))
}
