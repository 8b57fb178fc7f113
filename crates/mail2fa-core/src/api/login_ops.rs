//! `login.decide`: the one login decision.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use zeroize::Zeroizing;

use super::fields::{self, request, response, Deferred, User, Window};
use super::request::{key_count_ok, text_len_ok, user_len_ok};
use super::Request;
use crate::encoding::b64_decode;
use crate::entropy::EntropyStream;
use crate::error::{Error, ErrorCode, Result};
use crate::login::{decide as decide_login, Decision, Factor, TrustRequest};
use crate::policy::Policy;
use crate::reason::Reason;
use crate::record::{Record, State};
use crate::record_json::Json;
use crate::seal::{Keyring, SiteKey};

/// `factor` of `login.decide`: `null`/absent, or `{"type": "totp" | "backup_code" |
/// "trusted_device", "value": string}` (the value wiped when dropped).
pub enum LoginFactor {
    /// Nothing submitted yet.
    None,
    /// A TOTP code.
    Totp(Zeroizing<String>),
    /// A backup code.
    BackupCode(Zeroizing<String>),
    /// A trusted-device token.
    Device(Zeroizing<String>),
}

impl LoginFactor {
    /// The factor as the login decision takes it.
    pub fn as_factor(&self) -> Factor<'_> {
        match self {
            LoginFactor::None => Factor::None,
            LoginFactor::Totp(code) => Factor::Totp(code),
            LoginFactor::BackupCode(code) => Factor::BackupCode(code),
            LoginFactor::Device(token) => Factor::Device(token),
        }
    }
}

impl fields::Field for LoginFactor {
    const OPTIONAL: bool = true;
    #[inline(never)]
    fn read(req: &Request, name: &'static str) -> Result<Self> {
        let bad = || {
            Error::new(
                ErrorCode::InvalidField,
                "factor must be null or {\"type\": \"totp\"|\"backup_code\"|\"trusted_device\", \"value\": string}",
            )
        };
        let Some(value) = req.get(name) else {
            return Ok(LoginFactor::None);
        };
        let object = value.as_object().ok_or_else(bad)?;
        let inner = Request::new(object);
        let kind = inner.str("type").map_err(|_| bad())?;
        let text = Zeroizing::new(String::from(inner.str("value").map_err(|_| bad())?));
        Ok(match kind {
            "totp" => LoginFactor::Totp(text),
            "backup_code" => LoginFactor::BackupCode(text),
            "trusted_device" => LoginFactor::Device(text),
            _ => return Err(bad()),
        })
    }
}

request! {
    /// `login.decide`'s request, read in this order (the first failure is the error).
    pub struct DecideRequest {
        user: User,
        time: u64,
        keys: Keyring,
        policy: Policy,
        window: Window,
        factor: LoginFactor,
        /// Absent or null: a user without a record (a new one, not stored unless changed).
        record: Option<Record>,
        trust_device: bool,
        /// The device's label; read (and its error the op's) only with `trust_device`.
        user_agent: Deferred<Option<String>>,
        /// Needed (and its error the op's) only with `trust_device`.
        entropy: Deferred<EntropyStream>,
    }
}

response! {
    /// `login.decide`'s response: the verdict, what the host needs to carry it out, and
    /// the record to store.
    pub struct DecideResponse {
        verdict: &'static str,
        method: Option<&'static str>,
        reason: Option<Reason>,
        retry_after: Option<u64>,
        device_id: Option<String>,
        device_token: Option<String>,
        device_expires_at: Option<u64>,
        forget_device: bool,
        backup_codes_remaining: Option<u64>,
        enroll_by: Option<u64>,
        methods: Vec<&'static str>,
        trust_days: u64,
        pending_expires_at: Option<u64>,
        state: State,
        record: Record,
    }
}

/// `login.decide`: record + factor + time + policy → verdict and the updated record.
pub fn decide(req: DecideRequest) -> Result<DecideResponse> {
    let mut record = req.record.unwrap_or_else(|| Record::new(req.time));
    let user_agent;
    let (trust, mut rng) = if req.trust_device {
        user_agent = req.user_agent.get()?;
        let rng = req.entropy.get()?;
        (
            Some(TrustRequest {
                user_agent: user_agent.as_deref().unwrap_or(""),
            }),
            Some(rng),
        )
    } else {
        (None, None)
    };
    let d = decide_login(
        &mut record,
        &req.keys,
        &req.user,
        req.factor.as_factor(),
        req.time,
        req.window.0,
        &req.policy,
        trust,
        rng.as_mut(),
    )?;
    Ok(DecideResponse {
        verdict: d.verdict.as_str(),
        method: d.method.map(|m| m.as_str()),
        reason: d.reason,
        retry_after: d.retry_after,
        device_id: d.device_id,
        device_token: d.device_token,
        device_expires_at: d.device_expires_at,
        forget_device: d.forget_device,
        backup_codes_remaining: d.backup_codes_remaining.map(|n| n as u64),
        enroll_by: d.enroll_by,
        methods: d.methods.iter().map(|m| m.as_str()).collect(),
        trust_days: d.trust_days,
        pending_expires_at: d.pending_expires_at,
        state: record.state(),
        record,
    })
}

/// The fields of a `login.decide` request, borrowed from its text where they can be (a
/// string with an escape is copied). Only for the well-formed request: a field of another
/// type, a repeated field, or a value the op refuses makes [`decide_text`] give way to the
/// general path, which answers with the error.
#[derive(Deserialize)]
struct DecideFields<'a> {
    #[serde(borrow)]
    op: Cow<'a, str>,
    #[serde(borrow)]
    user: Cow<'a, str>,
    time: u64,
    #[serde(borrow)]
    keys: Vec<KeyFields<'a>>,
    #[serde(borrow, default)]
    policy: Option<&'a RawValue>,
    #[serde(default)]
    window: Option<u64>,
    #[serde(borrow, default)]
    factor: Option<FactorFields<'a>>,
    /// Read as [`Record::from_json`] reads it first (its other readings are errors).
    #[serde(default)]
    record: Option<Record>,
    #[serde(default)]
    trust_device: Option<bool>,
    #[serde(borrow, default)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    entropy: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct KeyFields<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    key: Cow<'a, str>,
}

#[derive(Deserialize)]
struct FactorFields<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// A text field's length rule, the general path's ([`text_len_ok`]).
fn text_ok(text: &str) -> bool {
    text_len_ok(text.len())
}

/// `login.decide` straight from the request's text to the response's text, for the
/// request that decides (the login check hosts run on every login): the fields are read
/// into [`DecideFields`] with no `serde_json::Value` of the request, and the response is
/// written from the [`Decision`] with the record last, byte for byte what the general path
/// writes. `None` for anything else (another op, a field it cannot take, any error): the
/// general path then answers, so every error and its message stay where they are.
pub(crate) fn decide_text(input: &[u8]) -> Option<Vec<u8>> {
    if !names_login_decide(input) {
        return None;
    }
    let f: DecideFields = serde_json::from_slice(input).ok()?;
    if f.op != "login.decide" {
        return None;
    }
    let user: &str = &f.user;
    if !user_len_ok(user.len()) {
        return None;
    }
    if !key_count_ok(f.keys.len()) {
        return None;
    }
    let mut keys = Vec::with_capacity(f.keys.len());
    for k in &f.keys {
        keys.push(SiteKey::new(&k.id, &b64_decode(&k.key, "key").ok()?).ok()?);
    }
    let keyring = Keyring::new(keys).ok()?;
    let policy = match f.policy.map(RawValue::get) {
        None | Some("null") => Policy::default(),
        Some(text) => Policy::from_value(Some(&serde_json::from_str::<Value>(text).ok()?)).ok()?,
    };
    let window = f.window.unwrap_or(crate::totp::DEFAULT_WINDOW);
    if window > crate::totp::MAX_WINDOW {
        return None;
    }
    let factor = match &f.factor {
        None => Factor::None,
        Some(x) if !text_ok(&x.kind) || !text_ok(&x.value) => return None,
        Some(x) => match &*x.kind {
            "totp" => Factor::Totp(&x.value),
            "backup_code" => Factor::BackupCode(&x.value),
            "trusted_device" => Factor::Device(&x.value),
            _ => return None,
        },
    };
    let mut record = match f.record {
        None => Record::new(f.time),
        Some(record) if record.format == crate::record::FORMAT => record,
        Some(_) => return None,
    };
    let trust = match f.trust_device {
        Some(true) => {
            let user_agent = f.user_agent.as_deref().unwrap_or("");
            if !text_ok(user_agent) {
                return None;
            }
            Some(TrustRequest { user_agent })
        }
        _ => None,
    };
    let mut rng = match trust {
        Some(_) => {
            let entropy = f.entropy.as_deref().filter(|e| text_ok(e))?;
            Some(EntropyStream::from_host(&b64_decode(entropy, "entropy").ok()?).ok()?)
        }
        None => None,
    };
    let d = decide_login(
        &mut record,
        &keyring,
        user,
        factor,
        f.time,
        window,
        &policy,
        trust,
        rng.as_mut(),
    )
    .ok()?;
    Some(write_decision(&d, &record))
}

/// Whether `"login.decide"` is in the text as is: other requests do not pay for a parse.
/// The npm package writes `op` last, so the end is looked at first; else the text is
/// searched by the name's `.`, a byte JSON requests seldom hold (none in base64 or numbers).
fn names_login_decide(input: &[u8]) -> bool {
    const NAME: &[u8] = b"\"login.decide\"";
    const DOT: usize = 6;
    if input
        .trim_ascii_end()
        .ends_with(b"\"op\":\"login.decide\"}")
    {
        return true;
    }
    let mut from = 0;
    while let Some(at) = input[from..].iter().position(|&b| b == b'.') {
        let dot = from + at;
        if dot >= DOT && input[dot - DOT..].starts_with(NAME) {
            return true;
        }
        from = dot + 1;
    }
    false
}

/// `{"ok":true,...,"record":{...}}` for a decision: byte for byte what the general path
/// writes (the members of a `serde_json::Map`, in its sorted order, then the record).
fn write_decision(d: &Decision, record: &Record) -> Vec<u8> {
    let state = record.state().as_str();
    let record = record.to_json();
    let mut json = Json(Vec::with_capacity(400 + record.len()));
    json.key(true, "backup_codes_remaining");
    json.opt_u64(d.backup_codes_remaining.map(|n| n as u64));
    json.key(false, "device_expires_at");
    json.opt_u64(d.device_expires_at);
    json.key(false, "device_id");
    json.opt_str(d.device_id.as_deref());
    json.key(false, "device_token");
    json.opt_str(d.device_token.as_deref());
    json.key(false, "enroll_by");
    json.opt_u64(d.enroll_by);
    json.key(false, "forget_device");
    json.bool(d.forget_device);
    json.key(false, "method");
    json.opt_str(d.method.map(|m| m.as_str()));
    json.key(false, "methods");
    json.0.push(b'[');
    for (i, m) in d.methods.iter().enumerate() {
        if i > 0 {
            json.0.push(b',');
        }
        json.str(m.as_str());
    }
    json.0.push(b']');
    json.key(false, "ok");
    json.bool(true);
    json.key(false, "pending_expires_at");
    json.opt_u64(d.pending_expires_at);
    json.key(false, "reason");
    json.opt_str(d.reason.map(Reason::as_str));
    json.key(false, "retry_after");
    json.opt_u64(d.retry_after);
    json.key(false, "state");
    json.str(state);
    json.key(false, "trust_days");
    json.u64(d.trust_days);
    json.key(false, "verdict");
    json.str(d.verdict.as_str());
    json.key(false, "record");
    json.0.extend_from_slice(&record);
    json.end();
    json.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{handle, handle_bytes};
    use alloc::format;
    use alloc::string::{String, ToString};
    use serde_json::json;

    const KEYS: &str = r#"[{"id":"k1","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}]"#;
    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const T0: u64 = 1_700_000_000;
    const ENTROPY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

    fn keys() -> Value {
        serde_json::from_str(KEYS).unwrap()
    }

    /// The bytes the general path answers with (`handle` on the parsed request), the
    /// record moved last as `handle_bytes` writes it.
    fn general(request: &str) -> Vec<u8> {
        let mut response = handle(&serde_json::from_str::<Value>(request).unwrap());
        let record = response.as_object_mut().unwrap().remove("record");
        let mut out = serde_json::to_vec(&response).unwrap();
        if let Some(record) = record {
            out.pop();
            out.extend_from_slice(b",\"record\":");
            out.extend_from_slice(&serde_json::to_vec(&record).unwrap());
            out.push(b'}');
        }
        out
    }

    fn code(time: u64) -> String {
        handle(&json!({"op": "totp.code", "secret": SECRET, "time": time}))["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs `request` through `handle_bytes`; asserts the bytes are the general path's and
    /// whether the direct path answered; returns the response.
    fn run(request: &str, direct: bool) -> Value {
        let bytes = handle_bytes(request.as_bytes());
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            String::from_utf8(general(request)).unwrap(),
            "{request}"
        );
        assert_eq!(
            decide_text(request.as_bytes()).is_some(),
            direct,
            "{request}"
        );
        serde_json::from_slice(&bytes).unwrap()
    }

    fn decide(record: &Value, time: u64, rest: &str) -> String {
        format!(
            r#"{{"record":{record},"user":"alice@example.com","keys":{KEYS},"time":{time}{rest},"op":"login.decide"}}"#
        )
    }

    /// Every login step the direct path takes answers byte for byte as the general path:
    /// each verdict, a lock, trusted devices, backup codes, policies, escaped strings.
    #[test]
    fn direct_path_writes_what_the_general_path_writes() {
        let import = handle(
            &json!({"op": "import.gauthenticator", "user": "alice@example.com",
            "keys": keys(), "entropy": ENTROPY, "time": T0, "prefs": {"secret": SECRET, "activate": true}}),
        );
        let mut record = import["record"].clone();
        let generated = handle(
            &json!({"op": "backup.generate", "user": "alice@example.com",
            "keys": keys(), "entropy": ENTROPY, "time": T0 + 30, "record": record,
            "proof": {"method": "totp", "code": code(T0 + 30)}}),
        );
        assert_eq!(generated["ok"], true, "{generated}");
        record = generated["record"].clone();
        let backup = generated["codes"][3].as_str().unwrap().to_string();

        // Without a record, with a null one, with a policy.
        for rest in [
            "",
            r#","factor":null"#,
            r#","policy":{"mode":"required"}"#,
            r#","policy":{"mode":"required","grace_until":1800000000}"#,
            r#","policy":null,"window":null"#,
        ] {
            run(
                &format!(r#"{{"user":"bob","keys":{KEYS},"time":{T0}{rest},"op":"login.decide"}}"#),
                true,
            );
            run(
                &format!(
                    r#"{{"record":null,"user":"bob","keys":{KEYS},"time":{T0}{rest},"op":"login.decide"}}"#
                ),
                true,
            );
        }
        // No factor yet; the right code (in the window, spaced); a replay; a malformed one.
        let mut t = T0 + 300;
        run(&decide(&record, t, ""), true);
        let right = code(t);
        let r = run(
            &decide(
                &record,
                t,
                &format!(
                    r#","window":2,"factor":{{"type":"totp","value":"{} {}"}}"#,
                    &right[..3],
                    &right[3..]
                ),
            ),
            true,
        );
        assert_eq!(r["verdict"], "ok");
        record = r["record"].clone();
        run(
            &decide(
                &record,
                t,
                &format!(r#","factor":{{"type":"totp","value":"{right}"}}"#),
            ),
            true,
        );
        run(
            &decide(&record, t, r#","factor":{"type":"totp","value":"12345x"}"#),
            true,
        );
        // Five wrong codes lock; a locked check; no factor during the lock.
        for _ in 0..6 {
            t += 1;
            let r = run(
                &decide(&record, t, r#","factor":{"type":"totp","value":"000000"}"#),
                true,
            );
            record = r["record"].clone();
        }
        assert!(run(&decide(&record, t, ""), true)["retry_after"].is_u64());
        t += 10_000;
        // Backup codes: allowed, refused by the policy, wrong, right.
        run(
            &decide(
                &record,
                t,
                r#","factor":{"type":"backup_code","value":"zzzzz-zzzzz"}"#,
            ),
            true,
        );
        run(
            &decide(
                &record,
                t,
                &format!(
                    r#","policy":{{"methods":["totp"]}},"factor":{{"type":"backup_code","value":"{backup}"}}"#
                ),
            ),
            true,
        );
        let r = run(
            &decide(
                &record,
                t,
                &format!(r#","factor":{{"type":"backup_code","value":"{backup}"}}"#),
            ),
            true,
        );
        assert_eq!(r["verdict"], "ok");
        record = r["record"].clone();
        // Trust the device; log in with its token; a bad token; devices off.
        t += 30;
        let r = run(
            &decide(
                &record,
                t,
                &format!(
                    r#","factor":{{"type":"totp","value":"{}"}},"trust_device":true,"user_agent":"Firefox \"quoted\" \u00e9\n","entropy":"{ENTROPY}""#,
                    code(t)
                ),
            ),
            true,
        );
        assert!(r["device_token"].is_string(), "{r}");
        record = r["record"].clone();
        let token = r["device_token"].as_str().unwrap().to_string();
        run(
            &decide(
                &record,
                t + 5,
                &format!(r#","factor":{{"type":"trusted_device","value":"{token}"}}"#),
            ),
            true,
        );
        run(
            &decide(
                &record,
                t + 5,
                r#","factor":{"type":"trusted_device","value":"nope"}"#,
            ),
            true,
        );
        run(
            &decide(
                &record,
                t + 5,
                &format!(
                    r#","policy":{{"device_days":0}},"factor":{{"type":"trusted_device","value":"{token}"}}"#
                ),
            ),
            true,
        );
        run(
            &decide(
                &record,
                t + 100 * 86_400,
                &format!(r#","factor":{{"type":"trusted_device","value":"{token}"}}"#),
            ),
            true,
        );
        // Escapes in strings the direct path reads (copied, not borrowed).
        run(
            &format!(
                r#"{{"record":{record},"user":"alice@example.com","keys":[{{"id":"k1","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\u003d"}}],"time":{t},"op":"login.decide"}}"#
            ),
            true,
        );
        // `op` in the middle, as the PHP adapter writes it (after the record), and spaces.
        run(
            &format!(
                r#"{{ "record" : {record}, "op" : "login.decide", "user":"alice@example.com","keys":{KEYS},"time":{t} }}  "#
            ),
            true,
        );
        // An op name written with an escape is left to the general path.
        run(
            &format!(
                r#"{{"record":{record},"user":"alice@example.com","keys":{KEYS},"time":{t},"op":"login\u002edecide"}}"#
            ),
            false,
        );
        // Unknown fields are ignored, as the general path ignores them.
        run(
            &decide(
                &record,
                t,
                r#","future":{"a":[1,2]},"trust_device":false,"user_agent":"x""#,
            ),
            true,
        );
        // A field of another type the op does not read here: the general path answers.
        run(
            &decide(&record, t, r#","trust_device":false,"user_agent":7"#),
            false,
        );
    }

    /// At the shared limits (a 512-byte user, 16 keys, a 64 KiB user agent) the text path
    /// still answers, byte for byte as the general path; one past them it gives way (see
    /// `everything_else_takes_the_general_path`), so both paths apply the same rules.
    #[test]
    fn the_text_path_takes_what_the_field_rules_allow() {
        let user = "u".repeat(512);
        let keys: Vec<String> = (0..16)
            .map(|i| {
                format!(r#"{{"id":"k{i}","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}}"#)
            })
            .collect();
        let keys = keys.join(",");
        let r = run(
            &format!(r#"{{"user":"{user}","keys":[{keys}],"time":{T0},"op":"login.decide"}}"#),
            true,
        );
        assert_eq!(r["verdict"], "not_required", "{r}");
        let agent = "a".repeat(64 * 1024);
        for (agent, direct) in [(agent.clone(), true), (agent + "a", false)] {
            run(
                &format!(
                    r#"{{"user":"a","keys":{KEYS},"time":{T0},"trust_device":true,"user_agent":"{agent}","entropy":"{ENTROPY}","op":"login.decide"}}"#
                ),
                direct,
            );
        }
    }

    /// The hand-written members write strings and numbers as serde_json does.
    #[test]
    fn strings_and_numbers_as_serde_json_writes_them() {
        for text in [
            "",
            "wrong_code",
            "odd \"id\" \\ \u{1}\u{1f}\u{7f} \u{e9}\n\t\r\u{8}\u{c}",
            "/<>&'",
        ] {
            let mut json = Json(Vec::new());
            json.str(text);
            assert_eq!(json.0, serde_json::to_vec(text).unwrap(), "{text}");
        }
        for n in [0, 1, 9, 10, 99, 1_700_000_000, u64::MAX] {
            let mut json = Json(Vec::new());
            json.u64(n);
            assert_eq!(json.0, serde_json::to_vec(&n).unwrap());
        }
    }

    /// What the direct path does not take goes to the general path, whose answer (mostly
    /// an error) is unchanged.
    #[test]
    fn everything_else_takes_the_general_path() {
        let import = handle(
            &json!({"op": "import.gauthenticator", "user": "alice@example.com",
            "keys": keys(), "entropy": ENTROPY, "time": T0, "prefs": {"secret": SECRET, "activate": true}}),
        );
        let record = import["record"].clone();
        let long_user = "u".repeat(513);
        let many_keys: Vec<String> = (0..17)
            .map(|i| {
                format!(r#"{{"id":"k{i}","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}}"#)
            })
            .collect();
        let requests = [
            decide(&record, T0, r#","time":5"#),
            decide(&record, T0, r#","window":11"#),
            decide(&record, T0, r#","window":1.0"#),
            decide(&record, T0, r#","factor":{"type":"sms","value":"123456"}"#),
            decide(&record, T0, r#","factor":{"type":"totp"}"#),
            decide(&record, T0, r#","factor":"123456""#),
            decide(&record, T0, r#","policy":{"mode":"sometimes"}"#),
            decide(&record, T0, r#","policy":[]"#),
            decide(
                &record,
                T0,
                r#","trust_device":true,"factor":{"type":"totp","value":"123456"}"#,
            ),
            decide(&record, T0, r#","trust_device":"yes""#),
            decide(&json!({"format": 2}), T0, ""),
            decide(&json!("text"), T0, ""),
            format!(
                r#"{{"record":{{"format":1,"rev":1,"rev":2,"created_at":1,"updated_at":1}},"user":"a","keys":{KEYS},"time":{T0},"op":"login.decide"}}"#
            ),
            format!(r#"{{"user":"","keys":{KEYS},"time":{T0},"op":"login.decide"}}"#),
            format!(r#"{{"user":"{long_user}","keys":{KEYS},"time":{T0},"op":"login.decide"}}"#),
            format!(
                r#"{{"user":"a","keys":[{}],"time":{T0},"op":"login.decide"}}"#,
                many_keys.join(",")
            ),
            format!(
                r#"{{"user":"a","keys":[{{"id":"k 1","key":"AQID"}}],"time":{T0},"op":"login.decide"}}"#
            ),
            format!(
                r#"{{"user":"a","keys":{KEYS},"time":{T0},"op":"login.decide","op":"login.decide"}}"#
            ),
            format!(r#"{{"user":"a","keys":{KEYS},"time":-1,"op":"login.decide"}}"#),
            format!(r#"{{"user":"a","keys":{KEYS},"time":{T0},"op":"record.status"}}"#),
            format!(
                r#"{{"user":"a","keys":{KEYS},"time":{T0},"note":"login.decide","op":"version"}}"#
            ),
        ];
        for request in &requests {
            run(request, false);
        }
    }
}
