//! `phc.hash` and `phc.verify`: Argon2 PHC strings for interop and tests.

use serde_json::Value;

use super::{fields, Request, Response};
use crate::error::{Error, ErrorCode, Result};
use crate::phc::{self, Argon2Params, PhcHash, Variant};

fn cost(req: &Request, name: &str, default: u32) -> Result<u32> {
    match req.opt_u64(name)? {
        None => Ok(default),
        Some(v) => u32::try_from(v).map_err(|_| {
            Error::new(
                ErrorCode::HashParamsRefused,
                alloc::format!("{name} is far beyond the argon2 limits"),
            )
        }),
    }
}

/// `phc.hash`: `password` with `salt` (base64) and costs `m`, `t`, `p` (defaults
/// 19456, 2, 1), `variant` `argon2id` (default) or `argon2i` → a PHC string.
pub fn hash(req: &Request) -> Result<Response> {
    let password = req.str("password")?;
    let salt = req.b64("salt")?;
    let d = Argon2Params::default_app_password();
    let params = Argon2Params {
        variant: match req.opt_str("variant")? {
            None | Some("argon2id") => Variant::Argon2id,
            Some("argon2i") => Variant::Argon2i,
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedHash,
                    "variant must be argon2id or argon2i",
                ))
            }
        },
        m: cost(req, "m", d.m)?,
        t: cost(req, "t", d.t)?,
        p: cost(req, "p", d.p)?,
    };
    let phc = phc::hash(&params, password.as_bytes(), &salt)?;
    Ok(fields([("phc", Value::from(phc))]))
}

/// `phc.verify`: whether `password` matches `phc` (argon2id/argon2i, optionally with a
/// Dovecot `{ARGON2ID}`/`{ARGON2I}` prefix).
pub fn verify(req: &Request) -> Result<Response> {
    let parsed = PhcHash::parse(req.str("phc")?)?;
    let valid = parsed.verify(req.str("password")?.as_bytes())?;
    Ok(fields([("valid", Value::from(valid))]))
}
