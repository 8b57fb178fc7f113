//! QR codes as small standalone SVGs, so a browser shows the otpauth URI without a
//! canvas library or a third-party image service (op `qr.svg`).

use alloc::string::String;
use alloc::vec;
use core::fmt::Write;
use qrcodegen_no_heap::{QrCode, QrCodeEcc, Version};
use serde::Serialize;

use crate::error::{Error, ErrorCode, Result};

/// The quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: i32 = 4;

/// An error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ecc {
    /// About 7 % of the symbol may be lost.
    L,
    /// About 15 %.
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

impl Ecc {
    /// Every level.
    pub const ALL: [Ecc; 4] = [Ecc::L, Ecc::M, Ecc::Q, Ecc::H];

    /// The level named `L`, `M`, `Q` or `H`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "L" => Ecc::L,
            "M" => Ecc::M,
            "Q" => Ecc::Q,
            "H" => Ecc::H,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidField,
                    "ecc must be L, M, Q or H",
                ))
            }
        })
    }

    fn level(self) -> QrCodeEcc {
        match self {
            Ecc::L => QrCodeEcc::Low,
            Ecc::M => QrCodeEcc::Medium,
            Ecc::Q => QrCodeEcc::Quartile,
            Ecc::H => QrCodeEcc::High,
        }
    }
}

/// A rendered symbol.
pub struct Symbol {
    /// The SVG text.
    pub svg: String,
    /// The QR version, 1 to 40.
    pub version: u8,
    /// The symbol's width in modules, without the quiet zone.
    pub modules: i32,
    /// The level used (raised from the one asked for when that costs no size).
    pub ecc: Ecc,
}

/// The level a symbol was drawn with, read from its format bits. (Upstream's
/// `QrCode::error_correction_level` forgets that the format bits are XORed with
/// 0b101010000010010, so it reports H as M; the two level bits sit at (0,8) and (1,8).)
fn drawn_ecc(qr: &QrCode) -> Ecc {
    let bits = (usize::from(qr.get_module(0, 8)) << 1 | usize::from(qr.get_module(1, 8))) ^ 0b10;
    [Ecc::M, Ecc::L, Ecc::H, Ecc::Q][bits]
}

/// The symbol as SVG: a white background and one path of dark modules, each row's
/// runs of dark modules drawn as one rectangle, in module units with the quiet zone.
pub fn to_svg(qr: &QrCode) -> String {
    let size = qr.size();
    let full = size + 2 * QUIET_ZONE;
    let mut svg = String::with_capacity(256 + (size * size) as usize);
    // Writing to a String cannot fail.
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{full}\" height=\"{full}\" \
         fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let run = x - start;
            let _ = write!(
                svg,
                "M{} {}h{run}v1h-{run}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE
            );
        }
    }
    svg.push_str("\"/></svg>");
    svg
}

/// The text of a symbol must not be empty.
pub fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidField,
            "text must not be empty",
        ));
    }
    Ok(())
}

/// `text` (1 to 2953 bytes of UTF-8) as a QR symbol at `ecc` or better.
pub fn render(text: &str, ecc: Ecc) -> Result<Symbol> {
    check_text(text)?;
    let mut out = vec![0u8; Version::MAX.buffer_len()];
    let mut temp = vec![0u8; Version::MAX.buffer_len()];
    let qr = QrCode::encode_text(
        text,
        &mut temp,
        &mut out,
        ecc.level(),
        Version::MIN,
        Version::MAX,
        None,
        true,
    )
    .map_err(|_| {
        Error::new(
            ErrorCode::InvalidField,
            "text is too long for a QR code at this error correction level",
        )
    })?;
    Ok(Symbol {
        svg: to_svg(&qr),
        version: qr.version().value(),
        modules: qr.size(),
        ecc: drawn_ecc(&qr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use serde_json::{json, Value};

    fn run(request: Value) -> Value {
        crate::api::handle(&request)
    }

    /// Paints the path's rectangles back onto a grid of modules.
    fn paint(svg: &str, full: usize) -> Vec<Vec<bool>> {
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut grid = vec![vec![false; full]; full];
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            // "x yhNv1h-Nz"
            let (xy, rest) = cmd.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            assert_eq!(rest, alloc::format!("{run}v1h-{run}z"));
            for cell in &mut grid[y][x..x + run] {
                assert!(!*cell, "rectangles overlap");
                *cell = true;
            }
        }
        grid
    }

    #[test]
    fn svg_paints_exactly_the_dark_modules_inside_a_quiet_zone() {
        let text =
            "otpauth://totp/Example:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";
        let response = run(json!({"op": "qr.svg", "text": text}));
        assert_eq!(response["ok"], true, "{response}");
        let svg = response["svg"].as_str().unwrap();
        let size = response["modules"].as_u64().unwrap() as i32;
        let full = (size + 2 * QUIET_ZONE) as usize;
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(!svg.contains("href"), "no external references");

        let mut out = vec![0u8; Version::MAX.buffer_len()];
        let mut temp = vec![0u8; Version::MAX.buffer_len()];
        let qr = QrCode::encode_text(
            text,
            &mut temp,
            &mut out,
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            None,
            true,
        )
        .unwrap();
        assert_eq!(qr.size(), size);
        let grid = paint(svg, full);
        for (y, row) in grid.iter().enumerate() {
            for (x, &dark) in row.iter().enumerate() {
                let (qx, qy) = (x as i32 - QUIET_ZONE, y as i32 - QUIET_ZONE);
                let inside = (0..size).contains(&qx) && (0..size).contains(&qy);
                assert_eq!(dark, inside && qr.get_module(qx, qy), "module {x},{y}");
            }
        }
        // The three finder patterns: a dark 7×7 ring at three corners.
        for (cx, cy) in [(0, 0), (size - 7, 0), (0, size - 7)] {
            for i in 0..7 {
                let at =
                    |x: i32, y: i32| grid[(y + QUIET_ZONE) as usize][(x + QUIET_ZONE) as usize];
                assert!(
                    at(cx + i, cy) && at(cx + i, cy + 6) && at(cx, cy + i) && at(cx + 6, cy + i)
                );
            }
        }
    }

    #[test]
    fn bad_requests_are_structured_errors() {
        let code = |request: Value| String::from(run(request)["error"]["code"].as_str().unwrap());
        assert_eq!(code(json!({"op": "qr.svg"})), "missing_field");
        assert_eq!(code(json!({"op": "qr.svg", "text": ""})), "invalid_field");
        assert_eq!(code(json!({"op": "qr.svg", "text": 5})), "invalid_field");
        assert_eq!(
            code(json!({"op": "qr.svg", "text": "a", "ecc": "X"})),
            "invalid_field"
        );
        let long = "é".repeat(1500); // 3000 bytes: over version 40-L's 2953
        assert_eq!(code(json!({"op": "qr.svg", "text": long})), "invalid_field");
        let fits = "a".repeat(2953);
        let response = run(json!({"op": "qr.svg", "text": fits, "ecc": "L"}));
        assert_eq!(response["version"], 40);
        assert_eq!(response["modules"], 177);
    }

    #[test]
    fn ecc_is_raised_when_free() {
        let response = run(json!({"op": "qr.svg", "text": "HELLO", "ecc": "L"}));
        assert_eq!(response["version"], 1);
        assert_eq!(response["ecc"], "H");
    }
}
