//! A record's JSON text written straight from its struct, byte for byte what
//! `serde_json::to_vec(&record.to_value())` writes (every object's keys in sorted order, as a
//! `serde_json::Value` keeps them; strings escaped as serde_json escapes them), without
//! building that `Value` first: the login check writes a record on every call. Records with
//! fields from a newer core (`extra`) take the `Value` path, which merges them in order.
//! The members are written by hand (the [`Json`] writer); the test below holds them to
//! serde_json's bytes for every field.

use alloc::vec::Vec;

use crate::app_password::AppPassword;
use crate::backup::BackupCodes;
use crate::device::Device;
use crate::limiter::Limiter;
use crate::record::{Record, TotpFactor};
use crate::seal::Sealed;

/// The record's JSON text, as `serde_json::to_vec(&record.to_value())` writes it.
pub fn to_json(record: &Record) -> Vec<u8> {
    if !record.extra.is_empty() {
        // Serializing a Value cannot fail.
        return serde_json::to_vec(&record.to_value()).unwrap_or_default();
    }
    let mut json = Json(Vec::with_capacity(512));
    json.record(record);
    json.0
}

/// Compact JSON as serde_json writes it, member by member. Every object below lists its
/// members in byte order of their names: the order a Value writes them.
pub(crate) struct Json(pub(crate) Vec<u8>);

impl Json {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// A string: only `"`, `\` and control characters escaped, as serde_json does.
    pub(crate) fn str(&mut self, text: &str) {
        if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.0.push(b'"');
            self.raw(text.as_bytes());
            self.0.push(b'"');
        } else {
            // A str always serializes.
            self.raw(&serde_json::to_vec(text).unwrap_or_default());
        }
    }

    pub(crate) fn u64(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.raw(&digits[at..]);
    }

    pub(crate) fn opt_u64(&mut self, n: Option<u64>) {
        match n {
            Some(n) => self.u64(n),
            None => self.raw(b"null"),
        }
    }

    pub(crate) fn opt_str(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.str(text),
            None => self.raw(b"null"),
        }
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.raw(if b { b"true" } else { b"false" });
    }

    /// `{"key":` for the first member of an object, `,"key":` for the others (keys here need
    /// no escapes).
    pub(crate) fn key(&mut self, first: bool, key: &str) {
        self.0.push(if first { b'{' } else { b',' });
        self.0.push(b'"');
        self.raw(key.as_bytes());
        self.raw(b"\":");
    }

    pub(crate) fn end(&mut self) {
        self.0.push(b'}');
    }

    fn array<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.0.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            each(self, item);
        }
        self.0.push(b']');
    }

    fn record(&mut self, r: &Record) {
        let mut first = true;
        let mut key = |json: &mut Self, name: &str| {
            json.key(first, name);
            first = false;
        };
        if !r.app_passwords.is_empty() {
            key(self, "app_passwords");
            self.array(&r.app_passwords, Self::app_password);
        }
        if let Some(codes) = &r.backup_codes {
            key(self, "backup_codes");
            self.backup_codes(codes);
        }
        key(self, "created_at");
        self.u64(r.created_at);
        if !r.devices.is_empty() {
            key(self, "devices");
            self.array(&r.devices, Self::device);
        }
        key(self, "format");
        self.u64(r.format);
        if !r.limiter.is_clear() {
            key(self, "limiter");
            self.limiter(&r.limiter);
        }
        key(self, "pending_totp");
        self.opt_totp(r.pending_totp.as_ref());
        key(self, "rev");
        self.u64(r.rev);
        key(self, "totp");
        self.opt_totp(r.totp.as_ref());
        key(self, "updated_at");
        self.u64(r.updated_at);
        self.end();
    }

    fn app_password(&mut self, a: &AppPassword) {
        self.key(true, "created_at");
        self.u64(a.created_at);
        self.key(false, "id");
        self.str(&a.id);
        self.key(false, "label");
        self.str(&a.label);
        self.key(false, "last_used_at");
        self.opt_u64(a.last_used_at);
        self.key(false, "phc");
        self.str(&a.phc);
        if let Some(tag) = &a.tag {
            self.key(false, "tag");
            self.str(tag);
        }
        self.end();
    }

    fn device(&mut self, d: &Device) {
        self.key(true, "created_at");
        self.u64(d.created_at);
        self.key(false, "expires_at");
        self.u64(d.expires_at);
        self.key(false, "hash");
        self.str(&d.hash);
        self.key(false, "id");
        self.str(&d.id);
        self.key(false, "label");
        self.str(&d.label);
        self.key(false, "last_seen_at");
        self.u64(d.last_seen_at);
        self.end();
    }

    fn backup_codes(&mut self, b: &BackupCodes) {
        self.key(true, "created_at");
        self.u64(b.created_at);
        self.key(false, "hashes");
        self.array(&b.hashes, |json, h| json.str(h));
        self.key(false, "issued");
        self.u64(u64::from(b.issued));
        self.key(false, "key");
        self.sealed(&b.key);
        self.key(false, "last_used_at");
        self.opt_u64(b.last_used_at);
        self.end();
    }

    fn limiter(&mut self, l: &Limiter) {
        self.key(true, "failures");
        self.array(&l.failures, |json, t| json.u64(*t));
        self.key(false, "locked_until");
        self.u64(l.locked_until);
        self.key(false, "lockouts");
        self.u64(u64::from(l.lockouts));
        self.end();
    }

    fn opt_totp(&mut self, f: Option<&TotpFactor>) {
        let Some(f) = f else {
            self.raw(b"null");
            return;
        };
        self.key(true, "account");
        self.str(&f.account);
        self.key(false, "algorithm");
        self.str(f.algorithm.as_str());
        self.key(false, "created_at");
        self.u64(f.created_at);
        self.key(false, "digits");
        self.u64(u64::from(f.digits));
        self.key(false, "enabled_at");
        self.opt_u64(f.enabled_at);
        self.key(false, "issuer");
        self.opt_str(f.issuer.as_deref());
        self.key(false, "last_step");
        self.opt_u64(f.last_step);
        self.key(false, "period");
        self.u64(f.period);
        self.key(false, "secret");
        self.sealed(&f.secret);
        self.end();
    }

    fn sealed(&mut self, s: &Sealed) {
        self.key(true, "alg");
        self.str(&s.alg);
        self.key(false, "ct");
        self.str(&s.ct);
        self.key(false, "kid");
        self.str(&s.kid);
        self.key(false, "nonce");
        self.str(&s.nonce);
        self.end();
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
