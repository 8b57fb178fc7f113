//! `otpauth://totp/` URIs in the Google Key Uri Format: build for enrollment and export,
//! parse for import, with a distinct error for each way a URI can be wrong.

use alloc::string::String;
use alloc::vec::Vec;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::encoding::{b32_decode, b32_encode};
use crate::error::{Error, ErrorCode, Result};
use crate::totp::{check_secret_len, Algorithm, Params, MIN_IMPORTED_SECRET_BYTES};

/// Everything but RFC 3986's unreserved characters is percent-encoded: spaces become
/// `%20` (never `+`), and `:`, `@`, `+`, `&`, `=`, `/` and all non-ASCII are escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest URI accepted, and the longest issuer or account name.
pub const MAX_URI_LEN: usize = 4096;
const MAX_NAME_LEN: usize = 256;

/// A TOTP key as an otpauth URI carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    /// The issuer (service name), from the label prefix or the `issuer` parameter.
    pub issuer: Option<String>,
    /// The account name.
    pub account: String,
    /// The secret's bytes.
    pub secret: Vec<u8>,
    /// Algorithm, digits and period.
    pub params: Params,
}

fn check_name(value: &str, what: &str, allow_colon: bool) -> Result<()> {
    let bad = |why: &str| Error::new(ErrorCode::InvalidLabel, alloc::format!("{what} {why}"));
    if value.chars().count() > MAX_NAME_LEN {
        return Err(bad("is longer than 256 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("contains a control character"));
    }
    if !allow_colon && value.contains(':') {
        return Err(bad("must not contain ':'"));
    }
    Ok(())
}

impl KeyUri {
    /// Builds the URI: label `Issuer:account`, then `secret`, `issuer`, `algorithm`,
    /// `digits`, `period`.
    pub fn to_uri(&self) -> Result<String> {
        self.params.validate()?;
        check_secret_len(&self.secret, MIN_IMPORTED_SECRET_BYTES)?;
        if self.account.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidLabel,
                "account must not be empty",
            ));
        }
        check_name(&self.account, "account", true)?;
        let mut uri = String::from("otpauth://totp/");
        if let Some(issuer) = &self.issuer {
            if issuer.is_empty() {
                return Err(Error::new(
                    ErrorCode::InvalidLabel,
                    "issuer must not be empty",
                ));
            }
            check_name(issuer, "issuer", false)?;
            uri.extend(utf8_percent_encode(issuer, COMPONENT));
            uri.push(':');
        } else if self.account.contains(':') {
            // An empty issuer prefix, so the account's own ':' is not read as the separator.
            uri.push(':');
        }
        uri.extend(utf8_percent_encode(&self.account, COMPONENT));
        uri.push_str("?secret=");
        uri.push_str(&b32_encode(&self.secret));
        if let Some(issuer) = &self.issuer {
            uri.push_str("&issuer=");
            uri.extend(utf8_percent_encode(issuer, COMPONENT));
        }
        uri.push_str(&alloc::format!(
            "&algorithm={}&digits={}&period={}",
            self.params.algorithm.as_str(),
            self.params.digits,
            self.params.period
        ));
        Ok(uri)
    }

    /// Parses an otpauth URI. Unknown parameters (`image`, `color`, …) are ignored.
    pub fn parse(uri: &str) -> Result<Self> {
        if uri.len() > MAX_URI_LEN {
            return Err(Error::new(
                ErrorCode::InvalidField,
                "uri is longer than 4096 bytes",
            ));
        }
        let not_otpauth = || Error::new(ErrorCode::NotOtpauth, "uri is not an otpauth:// URI");
        let scheme_len = "otpauth://".len();
        let rest = match (uri.get(..scheme_len), uri.get(scheme_len..)) {
            (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("otpauth://") => rest,
            _ => return Err(not_otpauth()),
        };
        let (kind, rest) = rest.split_once('/').ok_or_else(not_otpauth)?;
        if kind.eq_ignore_ascii_case("hotp") {
            return Err(Error::new(
                ErrorCode::UnsupportedType,
                "HOTP (counter-based) keys are not supported; only TOTP",
            ));
        }
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(Error::new(
                ErrorCode::UnsupportedType,
                "otpauth type must be totp",
            ));
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let label = decode(label, "label")?;
        // Spaces around the issuer and before the account are layout, not part of them.
        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (Some(String::from(issuer.trim())), account),
            None => (None, label.as_str()),
        };
        let account = account.trim_start();
        if account.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidLabel,
                "the label has no account name",
            ));
        }
        check_name(account, "account", true)?;

        let mut secret: Option<String> = None;
        let mut issuer: Option<String> = None;
        let mut algorithm: Option<String> = None;
        let mut digits: Option<String> = None;
        let mut period: Option<String> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.to_ascii_lowercase().as_str() {
                "secret" => &mut secret,
                "issuer" => &mut issuer,
                "algorithm" => &mut algorithm,
                "digits" => &mut digits,
                "period" => &mut period,
                _ => continue,
            };
            if slot.is_some() {
                return Err(Error::new(
                    ErrorCode::DuplicateParameter,
                    alloc::format!("parameter {name} appears more than once"),
                ));
            }
            *slot = Some(decode(value, name)?);
        }

        let secret = match secret {
            Some(s) if !s.trim().is_empty() => b32_decode(&s, "secret")?,
            _ => {
                return Err(Error::new(
                    ErrorCode::MissingSecret,
                    "the URI has no secret",
                ))
            }
        };
        check_secret_len(&secret, MIN_IMPORTED_SECRET_BYTES)?;

        let issuer = match (label_issuer, issuer.as_deref().map(str::trim)) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::new(
                    ErrorCode::IssuerMismatch,
                    "the label's issuer differs from the issuer parameter",
                ))
            }
            (a, b) => b.map(String::from).or(a).filter(|i| !i.is_empty()),
        };
        if let Some(i) = &issuer {
            check_name(i, "issuer", false)?;
        }

        let params = Params {
            algorithm: match algorithm {
                Some(a) => Algorithm::parse(&a)?,
                None => Algorithm::SHA1,
            },
            digits: match digits {
                Some(d) => parse_number(&d, ErrorCode::UnsupportedDigits, "digits")?
                    .try_into()
                    .map_err(|_| {
                        Error::new(ErrorCode::UnsupportedDigits, "digits must be 6 to 8")
                    })?,
                None => 6,
            },
            period: match period {
                Some(p) => parse_number(&p, ErrorCode::UnsupportedPeriod, "period")?,
                None => 30,
            },
        };
        params.validate()?;
        Ok(KeyUri {
            issuer,
            account: account.into(),
            secret,
            params,
        })
    }
}

fn decode(text: &str, what: &str) -> Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(alloc::borrow::Cow::into_owned)
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidLabel,
                alloc::format!("{what} is not valid percent-encoded UTF-8"),
            )
        })
}

fn parse_number(text: &str, code: ErrorCode, what: &str) -> Result<u64> {
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::new(
            code,
            alloc::format!("{what} must be a small whole number"),
        ));
    }
    text.parse()
        .map_err(|_| Error::new(code, alloc::format!("{what} must be a small whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(issuer: Option<&str>, account: &str) -> KeyUri {
        KeyUri {
            issuer: issuer.map(String::from),
            account: account.into(),
            secret: b"12345678901234567890".to_vec(),
            params: Params::default(),
        }
    }

    #[test]
    fn builds_google_key_uri_format_with_escapes() {
        let uri = key(Some("ACME Co+"), "jörg@example.com").to_uri().unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/ACME%20Co%2B:j%C3%B6rg%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co%2B&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            KeyUri::parse(&uri).unwrap(),
            key(Some("ACME Co+"), "jörg@example.com")
        );
    }

    #[test]
    fn account_with_colon_round_trips_issuer_with_colon_is_refused() {
        let k = key(Some("Mail"), "a:b");
        assert_eq!(KeyUri::parse(&k.to_uri().unwrap()).unwrap(), k);
        let e = key(Some("a:b"), "x").to_uri().unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidLabel);
    }

    #[test]
    fn parse_errors() {
        let code = |u: &str| KeyUri::parse(u).unwrap_err().code();
        assert_eq!(code("https://example.com"), ErrorCode::NotOtpauth);
        assert_eq!(
            code("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ&counter=1"),
            ErrorCode::UnsupportedType
        );
        assert_eq!(code("otpauth://totp/x"), ErrorCode::MissingSecret);
        assert_eq!(
            code("otpauth://totp/x?secret=01234567"),
            ErrorCode::BadBase32
        );
        assert_eq!(
            code("otpauth://totp/x?secret=GEZDGNBV"),
            ErrorCode::SecretTooShort
        );
        assert_eq!(
            code("otpauth://totp/A:x?secret=GEZDGNBVGY3TQOJQ&issuer=B"),
            ErrorCode::IssuerMismatch
        );
        assert_eq!(
            code("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&algorithm=MD5"),
            ErrorCode::UnsupportedAlgorithm
        );
        assert_eq!(
            code("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&digits=10"),
            ErrorCode::UnsupportedDigits
        );
        assert_eq!(
            code("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&period=0"),
            ErrorCode::UnsupportedPeriod
        );
        assert_eq!(
            code("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&secret=GEZDGNBVGY3TQOJQ"),
            ErrorCode::DuplicateParameter
        );
        assert_eq!(
            code("otpauth://totp/?secret=GEZDGNBVGY3TQOJQ"),
            ErrorCode::InvalidLabel
        );
        assert_eq!(
            code("otpauth://totp/%FF?secret=GEZDGNBVGY3TQOJQ"),
            ErrorCode::InvalidLabel
        );
    }

    /// Found by `fuzz/` (target `otpauth`): a parsed key must build a URI that parses
    /// back to the same key.
    #[test]
    fn parsed_keys_round_trip() {
        for uri in [
            // issuer parameter with a trailing space (the label's issuer is trimmed)
            "otpauth://totp/ACME%20om?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXCOZ&issuer=ACME%20",
            // account with leading spaces and the issuer only as a parameter
            "otpauth://totp/%20%20bob?secret=GEZDGNBVGY3TQOJQ&issuer=Mail",
            // account containing ':' after an empty label issuer
            "otpauth://totp/::bob?secret=GEZDGNBVGY3TQOJQ",
            "otpauth://totp/%3Aa%3Ab?secret=GEZDGNBVGY3TQOJQ",
        ] {
            let key = KeyUri::parse(uri).unwrap();
            let built = key.to_uri().unwrap();
            assert_eq!(KeyUri::parse(&built).unwrap(), key, "{uri} -> {built}");
        }
        let k = KeyUri::parse("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&issuer=%20A%20").unwrap();
        assert_eq!(k.issuer.as_deref(), Some("A"));
        let k = KeyUri::parse("otpauth://totp/::bob?secret=GEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!((k.issuer, k.account.as_str()), (None, ":bob"));
        assert_eq!(
            key(None, "a:b").to_uri().unwrap(),
            "otpauth://totp/:a%3Ab?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn parses_legacy_80_bit_secret_and_label_only_issuer() {
        let k =
            KeyUri::parse("otpauth://totp/Example%3Aalice%40example.com?secret=jbswy3dpehpk3pxp")
                .unwrap();
        assert_eq!(k.issuer.as_deref(), Some("Example"));
        assert_eq!(k.account, "alice@example.com");
        assert_eq!(k.secret.len(), 10);
    }
}
