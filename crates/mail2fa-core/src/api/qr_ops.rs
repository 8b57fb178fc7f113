//! `qr.svg`: a QR code as a small standalone SVG ([`crate::qr`] draws it).

use alloc::string::String;

use super::fields::{request, response, Field};
use super::Request;
use crate::error::Result;
use crate::qr::{self, Ecc};

/// `ecc`: `L`, `M` (default), `Q` or `H`.
impl Field for Ecc {
    const OPTIONAL: bool = true;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        Ecc::parse(req.opt_str(name)?.unwrap_or("M"))
    }
}

/// `text`: what the symbol holds, not empty.
pub struct Text(String);

impl Field for Text {
    const OPTIONAL: bool = false;
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let text = req.str(name)?;
        qr::check_text(text)?;
        Ok(Text(String::from(text)))
    }
}

request! {
    /// `qr.svg`.
    pub struct SvgRequest {
        text: Text,
        ecc: Ecc,
    }
}

response! {
    /// `qr.svg`.
    pub struct SvgResponse {
        svg: String,
        version: u8,
        modules: i32,
        ecc: Ecc,
    }
}

/// `qr.svg`: `text` (1 to 2953 bytes of UTF-8), optional `ecc` (`L`|`M`|`Q`|`H`, default
/// `M`, raised when that costs no size) → `svg`, `version` (1–40), `modules` (the
/// symbol's width in modules, without the quiet zone), `ecc` (the level used).
pub fn svg(req: SvgRequest) -> Result<SvgResponse> {
    let symbol = qr::render(&req.text.0, req.ecc)?;
    Ok(SvgResponse {
        svg: symbol.svg,
        version: symbol.version,
        modules: symbol.modules,
        ecc: symbol.ecc,
    })
}
