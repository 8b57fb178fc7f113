//! A record's JSON text written straight from its struct, byte for byte what
//! `serde_json::to_vec(&record.to_value())` writes (every object's keys in sorted order, as a
//! `serde_json::Value` keeps them), without building that `Value` first: the login check
//! writes a record on every call. Records with fields from a newer core (`extra`) take the
//! `Value` path, which merges them in order.

use alloc::vec::Vec;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use crate::app_password::AppPassword;
use crate::backup::BackupCodes;
use crate::device::Device;
use crate::limiter::Limiter;
use crate::record::{Record, TotpFactor};
use crate::seal::Sealed;
use crate::totp::Algorithm;

/// The record's JSON text, as `serde_json::to_vec(&record.to_value())` writes it.
pub fn to_json(record: &Record) -> Vec<u8> {
    if !record.extra.is_empty() {
        return serde_json::to_vec(&record.to_value()).unwrap_or_default();
    }
    // Serializing borrowed plain data cannot fail.
    serde_json::to_vec(&RecordView::from(record)).unwrap_or_default()
}

// Every view lists its fields in byte order of their names: the order a Value writes them.

#[derive(Serialize)]
struct RecordView<'a> {
    #[serde(skip_serializing_if = "Seq::is_empty")]
    app_passwords: Seq<'a, AppPassword>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<BackupCodesView<'a>>,
    created_at: u64,
    #[serde(skip_serializing_if = "Seq::is_empty")]
    devices: Seq<'a, Device>,
    format: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    limiter: Option<LimiterView<'a>>,
    pending_totp: Option<TotpView<'a>>,
    rev: u64,
    totp: Option<TotpView<'a>>,
    updated_at: u64,
}

impl<'a> From<&'a Record> for RecordView<'a> {
    fn from(r: &'a Record) -> Self {
        RecordView {
            app_passwords: Seq(&r.app_passwords),
            backup_codes: r.backup_codes.as_ref().map(BackupCodesView::from),
            created_at: r.created_at,
            devices: Seq(&r.devices),
            format: r.format,
            limiter: (!r.limiter.is_clear()).then(|| LimiterView::from(&r.limiter)),
            pending_totp: r.pending_totp.as_ref().map(TotpView::from),
            rev: r.rev,
            totp: r.totp.as_ref().map(TotpView::from),
            updated_at: r.updated_at,
        }
    }
}

/// A slice written as a JSON array of each element's view.
struct Seq<'a, T>(&'a [T]);

impl<T> Seq<'_, T> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, T> Serialize for Seq<'a, T>
where
    &'a T: Into<View<'a>>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&item.into())?;
        }
        seq.end()
    }
}

/// The element views a [`Seq`] writes.
#[derive(Serialize)]
#[serde(untagged)]
enum View<'a> {
    AppPassword(AppPasswordView<'a>),
    Device(DeviceView<'a>),
}

impl<'a> From<&'a AppPassword> for View<'a> {
    fn from(a: &'a AppPassword) -> Self {
        View::AppPassword(AppPasswordView {
            created_at: a.created_at,
            id: &a.id,
            label: &a.label,
            last_used_at: a.last_used_at,
            phc: &a.phc,
            tag: a.tag.as_deref(),
        })
    }
}

impl<'a> From<&'a Device> for View<'a> {
    fn from(d: &'a Device) -> Self {
        View::Device(DeviceView {
            created_at: d.created_at,
            expires_at: d.expires_at,
            hash: &d.hash,
            id: &d.id,
            label: &d.label,
            last_seen_at: d.last_seen_at,
        })
    }
}

#[derive(Serialize)]
struct AppPasswordView<'a> {
    created_at: u64,
    id: &'a str,
    label: &'a str,
    last_used_at: Option<u64>,
    phc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
}

#[derive(Serialize)]
struct DeviceView<'a> {
    created_at: u64,
    expires_at: u64,
    hash: &'a str,
    id: &'a str,
    label: &'a str,
    last_seen_at: u64,
}

#[derive(Serialize)]
struct BackupCodesView<'a> {
    created_at: u64,
    hashes: &'a [alloc::string::String],
    issued: u32,
    key: SealedView<'a>,
    last_used_at: Option<u64>,
}

impl<'a> From<&'a BackupCodes> for BackupCodesView<'a> {
    fn from(b: &'a BackupCodes) -> Self {
        BackupCodesView {
            created_at: b.created_at,
            hashes: &b.hashes,
            issued: b.issued,
            key: SealedView::from(&b.key),
            last_used_at: b.last_used_at,
        }
    }
}

#[derive(Serialize)]
struct LimiterView<'a> {
    failures: &'a [u64],
    locked_until: u64,
    lockouts: u32,
}

impl<'a> From<&'a Limiter> for LimiterView<'a> {
    fn from(l: &'a Limiter) -> Self {
        LimiterView {
            failures: &l.failures,
            locked_until: l.locked_until,
            lockouts: l.lockouts,
        }
    }
}

#[derive(Serialize)]
struct TotpView<'a> {
    account: &'a str,
    algorithm: Algorithm,
    created_at: u64,
    digits: u8,
    enabled_at: Option<u64>,
    issuer: Option<&'a str>,
    last_step: Option<u64>,
    period: u64,
    secret: SealedView<'a>,
}

impl<'a> From<&'a TotpFactor> for TotpView<'a> {
    fn from(f: &'a TotpFactor) -> Self {
        TotpView {
            account: &f.account,
            algorithm: f.algorithm,
            created_at: f.created_at,
            digits: f.digits,
            enabled_at: f.enabled_at,
            issuer: f.issuer.as_deref(),
            last_step: f.last_step,
            period: f.period,
            secret: SealedView::from(&f.secret),
        }
    }
}

#[derive(Serialize)]
struct SealedView<'a> {
    alg: &'a str,
    ct: &'a str,
    kid: &'a str,
    nonce: &'a str,
}

impl<'a> From<&'a Sealed> for SealedView<'a> {
    fn from(s: &'a Sealed) -> Self {
        SealedView {
            alg: &s.alg,
            ct: &s.ct,
            kid: &s.kid,
            nonce: &s.nonce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::Sealed;
    use crate::totp::Algorithm;
    use alloc::string::String;
    use alloc::vec;

    fn sealed(n: &str) -> Sealed {
        Sealed {
            alg: "XChaCha20-Poly1305".into(),
            kid: alloc::format!("k{n}"),
            nonce: alloc::format!("nonce/{n}"),
            ct: alloc::format!("ct+{n}=\"quoted\"\n"),
        }
    }

    fn factor(issuer: Option<&str>, enabled: Option<u64>, last: Option<u64>) -> TotpFactor {
        TotpFactor {
            algorithm: Algorithm::SHA256,
            digits: 8,
            period: 60,
            secret: sealed("t"),
            issuer: issuer.map(String::from),
            account: String::from("al\u{e9}ce@example.com"),
            last_step: last,
            created_at: 5,
            enabled_at: enabled,
        }
    }

    /// Every field filled (and every optional one left empty): the same bytes as the
    /// record's `Value`. A field added to a record struct and not to its view fails here.
    #[test]
    fn writes_what_the_value_writes() {
        let mut full = Record::new(100);
        full.rev = 7;
        full.updated_at = 200;
        full.totp = Some(factor(Some("Example Mail"), Some(6), Some(9)));
        full.pending_totp = Some(factor(None, None, None));
        full.backup_codes = Some(BackupCodes {
            key: sealed("b"),
            hashes: vec![String::from("h1"), String::new()],
            issued: 10,
            created_at: 11,
            last_used_at: Some(12),
        });
        full.app_passwords = vec![
            AppPassword {
                id: "a1".into(),
                label: "Thunderbird \u{1f4e7}".into(),
                phc: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                created_at: 13,
                last_used_at: None,
                tag: Some("q".into()),
            },
            AppPassword {
                id: "a2".into(),
                label: "phone".into(),
                phc: "x".into(),
                created_at: 14,
                last_used_at: Some(15),
                tag: None,
            },
        ];
        full.devices = vec![Device {
            id: "d1".into(),
            hash: "hh".into(),
            label: "Firefox\t".into(),
            created_at: 16,
            last_seen_at: 17,
            expires_at: 18,
        }];
        full.limiter = Limiter {
            failures: vec![19, 20],
            locked_until: 21,
            lockouts: 2,
        };
        let mut extra = full.clone();
        extra.extra.insert(
            "from_a_newer_core".into(),
            serde_json::json!({"b": 1, "a": [2]}),
        );
        for record in [Record::new(1), full.clone(), extra] {
            let want = serde_json::to_vec(&record.to_value()).unwrap();
            assert_eq!(
                String::from_utf8(to_json(&record)).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}
