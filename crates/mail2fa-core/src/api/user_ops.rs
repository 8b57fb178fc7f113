//! `user.canonical`: the one canonical login name every host keys a user by.

use alloc::string::String;

use super::fields::{request, response, Field};
use super::Request;
use crate::error::Result;
use crate::user::{self, UserRule};

/// `username`: how login names are made canonical ([`UserRule::from_value`]).
impl Field for UserRule {
    const OPTIONAL: bool = true;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        UserRule::from_value(req.get(name))
    }
}

request! {
    /// `user.canonical`: `user` is any login name as typed (the rule refuses what it must).
    pub struct CanonicalRequest {
        username: UserRule,
        user: String,
    }
}

response! {
    /// `user.canonical`.
    pub struct CanonicalResponse {
        user: String,
    }
}

/// `user.canonical`: the login name as every host and the IMAP server key it.
pub fn canonical(req: CanonicalRequest) -> Result<CanonicalResponse> {
    Ok(CanonicalResponse {
        user: user::canonical(&req.user, &req.username)?,
    })
}
