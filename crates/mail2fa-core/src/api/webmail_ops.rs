//! `webmail.proof` and `webmail.verify`: the proof the webmail plugin sends with its IMAP
//! login so that the Dovecot passdb lets the main password through for a 2FA user
//! ([`crate::webmail`] has the rules).

use alloc::string::String;

use super::fields::{request, response, Field, Secret};
use super::Request;
use crate::error::Result;
use crate::webmail::{self, ProofReason, DEFAULT_MAX_AGE};

/// `user` of a webmail proof: the canonical name (1 to 512 bytes), no control characters.
pub struct ProofUser(String);

impl Field for ProofUser {
    const OPTIONAL: bool = false;
    fn read(req: &Request, _: &'static str) -> Result<Self> {
        let user = req.user()?;
        webmail::check_user(user)?;
        Ok(ProofUser(String::from(user)))
    }
}

/// `secret`: the secret shared with the Dovecot passdb.
pub struct SharedSecret(Secret);

impl Field for SharedSecret {
    const OPTIONAL: bool = false;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let secret = Secret::read(req, name)?;
        webmail::check_secret(secret.as_str().as_bytes())?;
        Ok(SharedSecret(secret))
    }
}

impl SharedSecret {
    fn bytes(&self) -> &[u8] {
        self.0.as_str().as_bytes()
    }
}

/// `max_age`: seconds either side of now a proof is valid (default 60, at most 3600).
pub struct MaxAge(u64);

impl Field for MaxAge {
    const OPTIONAL: bool = true;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let max_age = req.opt_u64(name)?.unwrap_or(DEFAULT_MAX_AGE);
        webmail::check_max_age(max_age)?;
        Ok(MaxAge(max_age))
    }
}

request! {
    /// `webmail.proof`.
    pub struct ProofRequest {
        user: ProofUser,
        secret: SharedSecret,
        time: u64,
    }
}

response! {
    /// `webmail.proof`.
    pub struct ProofResponse {
        proof: String,
    }
}

/// `webmail.proof` `{user, secret, time}` → `{proof}`.
pub fn proof(req: ProofRequest) -> Result<ProofResponse> {
    Ok(ProofResponse {
        proof: webmail::prove(req.secret.bytes(), &req.user.0, req.time),
    })
}

request! {
    /// `webmail.verify`.
    pub struct VerifyRequest {
        user: ProofUser,
        secret: SharedSecret,
        time: u64,
        max_age: MaxAge,
        proof: String,
    }
}

response! {
    /// `webmail.verify`.
    pub struct VerifyResponse {
        valid: bool,
        reason: Option<ProofReason>,
    }
}

/// `webmail.verify` `{user, secret, proof, time, max_age?}` → `{valid, reason}`, reason
/// `null`, `"malformed"`, `"expired"` (outside `max_age` either side) or `"wrong"`.
pub fn verify(req: VerifyRequest) -> Result<VerifyResponse> {
    let reason = webmail::verify(
        req.secret.bytes(),
        &req.user.0,
        &req.proof,
        req.time,
        req.max_age.0,
    );
    Ok(VerifyResponse {
        valid: reason.is_none(),
        reason,
    })
}
