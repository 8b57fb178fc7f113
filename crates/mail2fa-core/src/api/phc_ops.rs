//! `phc.hash` and `phc.verify`: Argon2 PHC strings for interop and tests.

use alloc::string::String;

use super::fields::{request, response, Base64, Field, Secret};
use super::Request;
use crate::error::{Error, ErrorCode, Result};
use crate::phc::{self, Argon2Params, PhcHash, Variant};

/// An Argon2 cost (`m`, `t`, `p`): a non-negative integer within `u32`.
pub struct Cost(Option<u32>);

impl Field for Cost {
    const OPTIONAL: bool = true;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        match req.opt_u64(name)? {
            None => Ok(Cost(None)),
            Some(v) => u32::try_from(v).map(|v| Cost(Some(v))).map_err(|_| {
                Error::new(
                    ErrorCode::HashParamsRefused,
                    alloc::format!("{name} is far beyond the argon2 limits"),
                )
            }),
        }
    }
}

/// `variant`: `argon2id` (default) or `argon2i`.
impl Field for Variant {
    const OPTIONAL: bool = true;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        match req.opt_str(name)? {
            None | Some("argon2id") => Ok(Variant::Argon2id),
            Some("argon2i") => Ok(Variant::Argon2i),
            Some(_) => Err(Error::new(
                ErrorCode::UnsupportedHash,
                "variant must be argon2id or argon2i",
            )),
        }
    }
}

request! {
    /// `phc.hash`.
    pub struct HashRequest {
        password: Secret,
        salt: Base64,
        variant: Variant,
        m: Cost,
        t: Cost,
        p: Cost,
    }
}

response! {
    /// `phc.hash`.
    pub struct HashResponse {
        phc: String,
    }
}

/// `phc.hash`: `password` with `salt` (base64) and costs `m`, `t`, `p` (defaults
/// 19456, 2, 1), `variant` `argon2id` (default) or `argon2i` → a PHC string.
pub fn hash(req: HashRequest) -> Result<HashResponse> {
    let d = Argon2Params::default_app_password();
    let params = Argon2Params {
        variant: req.variant,
        m: req.m.0.unwrap_or(d.m),
        t: req.t.0.unwrap_or(d.t),
        p: req.p.0.unwrap_or(d.p),
    };
    let phc = phc::hash(&params, req.password.as_str().as_bytes(), &req.salt.0)?;
    Ok(HashResponse { phc })
}

request! {
    /// `phc.verify`.
    pub struct VerifyRequest {
        phc: PhcHash,
        password: Secret,
    }
}

/// A PHC string (argon2id/argon2i, optionally with a Dovecot `{ARGON2ID}`/`{ARGON2I}`
/// prefix), parsed.
impl Field for PhcHash {
    const OPTIONAL: bool = false;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        PhcHash::parse(req.str(name)?)
    }
}

response! {
    /// `phc.verify`.
    pub struct VerifyResponse {
        valid: bool,
    }
}

/// `phc.verify`: whether `password` matches `phc`.
pub fn verify(req: VerifyRequest) -> Result<VerifyResponse> {
    Ok(VerifyResponse {
        valid: req.phc.verify(req.password.as_str().as_bytes())?,
    })
}
