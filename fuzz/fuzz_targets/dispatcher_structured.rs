//! Semi-valid requests into the JSON dispatcher, so the fuzzer gets past field
//! validation into the ops themselves.
//!
//! One input is a short session of 1–4 requests. Each names an op from
//! `{"op":"ops"}` (so ops added later are fuzzed with no change here) and gets
//! fuzzer-chosen fields: well-formed values most of the time (a keyring that opens the
//! session's records, entropy, base32 secrets, otpauth URIs, the correct TOTP code for a
//! key seen earlier in the session, a record returned by an earlier request, possibly
//! with one field replaced), arbitrary JSON otherwise. A field the op reports missing
//! (`missing_field`, "<name> is required") is added and the request re-sent, so the
//! fields of new ops are found without a list.
//!
//! Properties: every response passes `check_response` (no panic, `ok` boolean,
//! snake_case code, no secret in a message); a returned record never has a lower `rev`
//! than the one sent; a TOTP step accepted by `totp.verify` is never accepted again; a
//! security change whose fresh factor was refused makes nothing.
#![no_main]

use std::sync::OnceLock;

use data_encoding::{BASE32_NOPAD, BASE64};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use mail2fa_core::api::handle_bytes;
use mail2fa_core::otpauth::KeyUri;
use mail2fa_fuzz::check_response;
use serde_json::{json, Map, Value};

/// Fields the ops of today take; `missing_field` messages teach the target the rest.
const FIELDS: &[&str] = &[
    "user",
    "keys",
    "entropy",
    "time",
    "record",
    "plain",
    "secret",
    "code",
    "window",
    "algorithm",
    "digits",
    "period",
    "issuer",
    "account",
    "uri",
    "replace",
    "text",
    "ecc",
    "password",
    "token",
    "label",
    "count",
    "id",
    "policy",
    "factor",
    "trust_device",
    "user_agent",
    "except",
    "salt",
    "phc",
    "variant",
    "m",
    "t",
    "p",
    "prefs",
    "blob",
    "proof",
    "username",
];

/// Ops whose default cost is an Argon2id hash of 19 MiB: they always get a cheap cost,
/// so the fuzzer spends its time on logic rather than on memory-hard hashing.
const ARGON2_OPS: &[&str] = &["phc.hash", "app_password.create"];

const USERS: &[&str] = &["alice", "bob@example.com", "jörg", "a:b c", ""];
const ALGORITHMS: &[&str] = &["SHA1", "SHA256", "SHA512", "sha1", "MD5", ""];
const TIMES: &[u64] = &[
    0,
    1,
    29,
    59,
    1_111_111_109,
    1_234_567_890,
    2_000_000_000,
    20_000_000_000,
    u64::MAX / 30,
    u64::MAX - 1,
    u64::MAX,
];
const TEXT_PIECES: &[&str] = &[
    "a",
    "Mail",
    " ",
    ":",
    "%3A",
    "%",
    "%ZZ",
    "+",
    "@",
    "&",
    "=",
    "?",
    "#",
    "/",
    "é",
    "日本",
    "\u{0}",
    "\n",
    "\u{7f}",
    "\u{200b}",
    "%C3%A9",
    "%FF",
    "otpauth://totp/",
];

fn ops() -> &'static [String] {
    static OPS: OnceLock<Vec<String>> = OnceLock::new();
    OPS.get_or_init(|| {
        let response: Value = serde_json::from_slice(&handle_bytes(br#"{"op":"ops"}"#)).unwrap();
        response["ops"]
            .as_array()
            .expect("ops lists the op names")
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    })
}

fn site_key(id: &str, fill: u8) -> Value {
    json!({"id": id, "key": BASE64.encode(&[fill; 32])})
}

/// What earlier requests of the session returned, to feed later ones.
struct Session {
    now: u64,
    user: &'static str,
    records: Vec<Value>,
    plains: Vec<Value>,
    keys: Vec<KeyUri>,
    uris: Vec<String>,
    learned: Vec<String>,
    /// Backup codes, device tokens, app passwords, PHC strings and ids returned so far.
    backup_codes: Vec<String>,
    tokens: Vec<String>,
    passwords: Vec<String>,
    phcs: Vec<String>,
    ids: Vec<String>,
}

fn cheap_argon2() -> Value {
    json!({"m": 8, "t": 1, "p": 1})
}

fn policy(u: &mut Unstructured) -> Result<Value> {
    let mut policy = Map::new();
    policy.insert("argon2".into(), cheap_argon2());
    let settings: &[(&str, &[u64])] = &[
        ("max_failures", &[0, 1, 2, 5, 100, 101]),
        ("window", &[0, 1, 30, 900]),
        ("lock_base", &[0, 1, 30, 900]),
        ("lock_max", &[0, 1, 30, 900, u64::MAX]),
        ("device_days", &[0, 1, 30, 400, 401]),
        ("max_devices", &[0, 1, 2, 20]),
        ("backup_count", &[0, 1, 2, 10, 20, 21]),
        ("max_app_passwords", &[0, 1, 2, 10]),
        ("grace_until", &[0, 1_000_000_000, u64::MAX]),
    ];
    for _ in 0..u.int_in_range(0..=3)? {
        let (name, values) = u.choose(settings)?;
        policy.insert((*name).into(), Value::from(*u.choose(values)?));
    }
    if u.ratio(1, 4)? {
        policy.insert(
            "mode".into(),
            Value::from(*u.choose(&["optional", "required", "x"])?),
        );
    }
    if u.ratio(1, 4)? {
        let all = [
            "totp",
            "backup_code",
            "trusted_device",
            "app_password",
            "sms",
        ];
        let methods: Vec<Value> = all
            .iter()
            .filter(|_| u.arbitrary().unwrap_or(true))
            .map(|m| Value::from(*m))
            .collect();
        policy.insert("methods".into(), Value::Array(methods));
    }
    Ok(Value::Object(policy))
}

fn pick_or_text(u: &mut Unstructured, pool: &[String]) -> Result<String> {
    if pool.is_empty() || u.ratio(1, 5)? {
        text(u)
    } else {
        Ok(u.choose(pool)?.clone())
    }
}

fn text(u: &mut Unstructured) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=6)? {
        if u.ratio(1, 3)? {
            s.push_str(u.arbitrary::<&str>()?);
        } else {
            s.push_str(u.choose(TEXT_PIECES)?);
        }
    }
    Ok(s)
}

fn arbitrary_json(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let kind = u.int_in_range(0..=if depth == 0 { 5 } else { 7 })?;
    Ok(match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(text(u)?),
        6 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                items.push(arbitrary_json(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let key = if u.arbitrary()? {
                    u.choose(FIELDS)?.to_string()
                } else {
                    text(u)?
                };
                map.insert(key, arbitrary_json(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// Replaces one field of an object (at the top level or one level down) with an
/// arbitrary value, or deletes it.
fn mutate(u: &mut Unstructured, mut value: Value) -> Result<Value> {
    let Some(object) = value.as_object_mut() else {
        return Ok(value);
    };
    let names: Vec<String> = object.keys().cloned().collect();
    if names.is_empty() {
        return Ok(value);
    }
    let name = u.choose(&names)?.clone();
    if let Some(Value::Object(inner)) = object.get_mut(&name) {
        let inner_names: Vec<String> = inner.keys().cloned().collect();
        if !inner_names.is_empty() && u.arbitrary()? {
            let inner_name = u.choose(&inner_names)?.clone();
            if u.ratio(1, 4)? {
                inner.remove(&inner_name);
            } else {
                inner.insert(inner_name, arbitrary_json(u, 2)?);
            }
            return Ok(value);
        }
    }
    if u.ratio(1, 4)? {
        object.remove(&name);
    } else {
        object.insert(name, arbitrary_json(u, 2)?);
    }
    Ok(value)
}

fn time(u: &mut Unstructured, session: &Session) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => session.now,
        2 => session
            .now
            .saturating_add(u.int_in_range(0..=120)?)
            .saturating_sub(60),
        _ => u.arbitrary()?,
    })
}

fn base32_secret(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(8..=40)?;
    let bytes = u.bytes(len)?;
    let mut s = BASE32_NOPAD.encode(bytes);
    match u.int_in_range(0..=5)? {
        0 => s = s.to_lowercase(),
        1 => s.push_str("===="),
        2 => s.insert(s.len() / 2, ' '),
        3 => s.push(*u.choose(&['0', '1', '8', '9', '=', '!'])?),
        _ => {}
    }
    Ok(s)
}

fn uri(u: &mut Unstructured, session: &Session) -> Result<String> {
    if !session.uris.is_empty() && u.arbitrary()? {
        return Ok(u.choose(&session.uris)?.clone());
    }
    let mut s =
        String::from(*u.choose(&["otpauth://totp/", "OTPAUTH://TOTP/", "otpauth://hotp/"])?);
    if u.arbitrary()? {
        s.push_str(&text(u)?);
        s.push(':');
    }
    s.push_str(&text(u)?);
    s.push('?');
    let mut params = vec![format!("secret={}", base32_secret(u)?)];
    if u.arbitrary()? {
        params.push(format!("issuer={}", text(u)?));
    }
    if u.arbitrary()? {
        params.push(format!("algorithm={}", u.choose(ALGORITHMS)?));
    }
    if u.arbitrary()? {
        params.push(format!("digits={}", u.int_in_range(5..=9)?));
    }
    if u.arbitrary()? {
        params.push(format!(
            "period={}",
            u.choose(&[0, 1, 15, 30, 60, 300, 301])?
        ));
    }
    if u.arbitrary()? {
        params.push(text(u)?);
    }
    let n = params.len();
    for _ in 0..u.int_in_range(0..=2)? {
        params.swap(u.choose_index(n)?, u.choose_index(n)?);
    }
    s.push_str(&params.join("&"));
    Ok(s)
}

/// The TOTP code of a key seen in this session, at a step near `now`.
fn code(u: &mut Unstructured, session: &Session) -> Result<String> {
    if session.keys.is_empty() || u.ratio(1, 5)? {
        let len = u.int_in_range(0..=9)?;
        let mut s: String = (0..len)
            .map(|_| Ok(char::from(b'0' + u.int_in_range(0..=9)?)))
            .collect::<Result<_>>()?;
        if u.ratio(1, 4)? {
            s.push_str(u.choose(&[" ", "x", "\u{0663}", "-", "0"])?);
        }
        return Ok(s);
    }
    let key = u.choose(&session.keys)?;
    let offset = u.int_in_range(0..=4)? * key.params.period;
    let at = session
        .now
        .saturating_add(offset)
        .saturating_sub(2 * key.params.period);
    let request = json!({
        "op": "totp.code", "secret": BASE32_NOPAD.encode(&key.secret), "time": at,
        "algorithm": key.params.algorithm.as_str(), "digits": key.params.digits,
        "period": key.params.period,
    });
    let response: Value =
        serde_json::from_slice(&handle_bytes(request.to_string().as_bytes())).unwrap();
    let mut code = response["code"].as_str().unwrap_or("000000").to_string();
    if u.ratio(1, 6)? {
        code.insert(code.len() / 2, ' ');
    }
    Ok(code)
}

/// A value for field `name`: well-formed most of the time, arbitrary otherwise.
fn value(u: &mut Unstructured, session: &Session, name: &str) -> Result<Value> {
    if u.ratio(1, 8)? {
        return arbitrary_json(u, 3);
    }
    Ok(match name {
        "user" => Value::from(if u.ratio(7, 8)? {
            session.user.to_string()
        } else {
            text(u)?
        }),
        "keys" => match u.int_in_range(0..=5)? {
            0..=2 => json!([site_key("k1", 1)]),
            3 => json!([site_key("k2", 2), site_key("k1", 1)]),
            4 => json!([site_key("k2", 2)]),
            _ => mutate(u, json!([site_key("k1", 1), site_key("k2", 2)]))?,
        },
        "entropy" => {
            let len = u.int_in_range(16..=64)?;
            Value::from(BASE64.encode(u.bytes(len)?))
        }
        "time" | "now" => Value::from(time(u, session)?),
        "record" | "plain" => {
            let pool = if name == "record" {
                &session.records
            } else {
                &session.plains
            };
            if pool.is_empty() || u.ratio(1, 6)? {
                json!({"format": 1, "rev": 0, "created_at": session.now, "updated_at": session.now})
            } else {
                let record = u.choose(pool)?.clone();
                if u.ratio(1, 3)? {
                    mutate(u, record)?
                } else {
                    record
                }
            }
        }
        "secret" => Value::from(base32_secret(u)?),
        "code" => Value::from(code(u, session)?),
        "window" => Value::from(u.int_in_range(0..=12)?),
        "algorithm" => Value::from(*u.choose(ALGORITHMS)?),
        "digits" => Value::from(u.int_in_range(5..=9)?),
        "period" => Value::from(*u.choose(&[0, 1, 14, 15, 30, 60, 300, 301, u64::MAX])?),
        "uri" => Value::from(uri(u, session)?),
        "replace" => Value::Bool(u.arbitrary()?),
        "ecc" => Value::from(*u.choose(&["L", "M", "Q", "H", "m", ""])?),
        "policy" => policy(u)?,
        "m" => Value::from(u.int_in_range(0..=64)?),
        "t" => Value::from(u.int_in_range(0..=3)?),
        "p" => Value::from(u.int_in_range(0..=2)?),
        "salt" => {
            let len = u.int_in_range(0..=70)?;
            Value::from(BASE64.encode(u.bytes(len)?))
        }
        "variant" => Value::from(*u.choose(&["argon2id", "argon2i", "argon2d", ""])?),
        "password" => Value::from(pick_or_text(u, &session.passwords)?),
        "phc" => Value::from(if u.ratio(1, 4)? {
            format!(
                "{}$argon2id$v=19$m={},t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                u.choose(&["", "{ARGON2ID}"])?,
                u.choose(&[8, 262_145, 16])?
            )
        } else {
            pick_or_text(u, &session.phcs)?
        }),
        "id" | "except" => Value::from(pick_or_text(u, &session.ids)?),
        "trust_device" => Value::Bool(u.arbitrary()?),
        "count" => Value::from(u.int_in_range(0..=21)?),
        "factor" => {
            let kind = *u.choose(&["totp", "backup_code", "trusted_device", "sms"])?;
            let value = match kind {
                "totp" => code(u, session)?,
                "backup_code" => pick_or_text(u, &session.backup_codes)?,
                _ => pick_or_text(u, &session.tokens)?,
            };
            json!({"type": kind, "value": value})
        }
        "proof" => {
            let method = *u.choose(&["totp", "backup_code", "sms"])?;
            let value = match method {
                "backup_code" => pick_or_text(u, &session.backup_codes)?,
                _ => code(u, session)?,
            };
            json!({"method": method, "code": value})
        }
        "username" => json!({
            "case": *u.choose(&["lower", "keep", "upper"])?,
            "domain": *u.choose(&["keep", "strip", ""])?,
            "default_domain": *u.choose(&["example.com", "", "a@b", "Example.ORG"])?,
        }),
        "prefs" => {
            let codes: Vec<Value> = (0..u.int_in_range(0..=3)?)
                .map(|_| Ok(Value::from(text(u)?)))
                .collect::<Result<_>>()?;
            json!({"secret": base32_secret(u)?, "activate": u.arbitrary::<bool>()?,
                   "recovery_codes": codes})
        }
        "blob" => {
            let mut blob = Map::new();
            for i in 0..u.int_in_range(0..=3)? {
                let kind = *u.choose(&["totp", "hotp", "yubikey"])?;
                blob.insert(
                    format!("{kind}:{i}"),
                    json!({"active": u.arbitrary::<bool>()?, "label": text(u)?,
                           "created": u.int_in_range(0..=2_000_000_000u64)?,
                           "secret": base32_secret(u)?,
                           "digits": u.int_in_range(5..=9)?,
                           "algorithm": *u.choose(ALGORITHMS)?}),
                );
            }
            if u.ratio(1, 4)? {
                Value::from(Value::Object(blob).to_string())
            } else {
                Value::Object(blob)
            }
        }
        "text" if !session.uris.is_empty() && u.arbitrary()? => {
            Value::from(u.choose(&session.uris)?.clone())
        }
        _ => match u.int_in_range(0..=4)? {
            0 => Value::from(u.int_in_range(0..=20)?),
            1 => Value::Bool(u.arbitrary()?),
            _ => Value::from(text(u)?),
        },
    })
}

fn call(request: &Map<String, Value>) -> Value {
    let bytes = serde_json::to_vec(request).unwrap();
    check_response(Some(request), &handle_bytes(&bytes))
}

/// The field a `missing_field` error names ("<name> is required").
fn missing_field(response: &Value) -> Option<String> {
    if response["error"]["code"] != "missing_field" {
        return None;
    }
    let message = response["error"]["message"].as_str()?;
    let name = message.strip_suffix(" is required")?;
    (!name.is_empty() && !name.contains(' ')).then(|| name.to_string())
}

fn check_properties(request: &Map<String, Value>, response: &Value) {
    if response["ok"] != true {
        return;
    }
    // record.new and record.seal make a record; they do not read `record`.
    let reads_record =
        !["record.new", "record.seal"].contains(&request["op"].as_str().unwrap_or(""));
    if let (true, Some(sent), Some(got)) = (
        reads_record,
        request.get("record").and_then(|r| r["rev"].as_u64()),
        response["record"]["rev"].as_u64(),
    ) {
        assert!(
            got >= sent,
            "rev went back from {sent} to {got}: {response} for {}",
            Value::Object(request.clone())
        );
    }
    // A refused fresh factor makes nothing: no codes, password, token or enrollment.
    if response["fresh"]["accepted"] == false {
        for made in ["codes", "password", "token", "uri", "secret"] {
            assert!(
                response.get(made).is_none_or(Value::is_null),
                "{made} made with a refused proof: {response}"
            );
        }
    }
    if request["op"] == "totp.verify" && response["accepted"] == true {
        let mut again = request.clone();
        again.insert("record".into(), response["record"].clone());
        let replay = call(&again);
        assert_ne!(
            replay["accepted"], true,
            "a step was accepted twice: {replay}"
        );
    }
}

/// Keeps what a response hands out (codes, tokens, passwords, ids) for later requests.
fn harvest(session: &mut Session, response: &Value) {
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    session.backup_codes.extend(strings(&response["codes"]));
    session.backup_codes.extend(strings(&response["backup_codes"]));
    session.tokens.extend(strings(&response["token"]));
    session.tokens.extend(strings(&response["device_token"]));
    session.passwords.extend(strings(&response["password"]));
    session.phcs.extend(strings(&response["phc"]));
    session.ids.extend(strings(&response["id"]));
    session.ids.extend(strings(&response["device_id"]));
    for list in ["devices", "app_passwords"] {
        if let Some(items) = response[list].as_array() {
            session.ids.extend(
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(String::from)),
            );
        }
    }
}

fn session(u: &mut Unstructured) -> Result<()> {
    let ops = ops();
    let mut session = Session {
        now: *u.choose(TIMES)?,
        user: u.choose(USERS)?,
        records: Vec::new(),
        plains: Vec::new(),
        keys: Vec::new(),
        uris: Vec::new(),
        learned: Vec::new(),
        backup_codes: Vec::new(),
        tokens: Vec::new(),
        passwords: Vec::new(),
        phcs: Vec::new(),
        ids: Vec::new(),
    };
    if u.ratio(1, 4)? {
        session.now = u.arbitrary()?;
    }
    for _ in 0..u.int_in_range(1..=4)? {
        let mut request = Map::new();
        let op = u.choose(ops)?.as_str();
        request.insert("op".into(), Value::from(op));
        if ARGON2_OPS.contains(&op) {
            request.insert("policy".into(), json!({"argon2": cheap_argon2()}));
            for (name, value) in [("m", 8), ("t", 1), ("p", 1)] {
                request.insert(name.into(), Value::from(value));
            }
        }
        for _ in 0..u.int_in_range(0..=3)? {
            let name = if !session.learned.is_empty() && u.arbitrary()? {
                u.choose(&session.learned)?.clone()
            } else {
                u.choose(FIELDS)?.to_string()
            };
            let v = value(u, &session, &name)?;
            if ARGON2_OPS.contains(&op) && ["policy", "m", "t", "p"].contains(&name.as_str()) {
                continue;
            }
            request.insert(name, v);
        }
        let mut response = call(&request);
        for _ in 0..16 {
            let Some(name) = missing_field(&response) else {
                break;
            };
            if request.contains_key(&name) {
                break;
            }
            if !session.learned.contains(&name) {
                session.learned.push(name.clone());
            }
            let v = value(u, &session, &name)?;
            request.insert(name, v);
            response = call(&request);
        }
        check_properties(&request, &response);
        if response["ok"] == true {
            harvest(&mut session, &response);
            if response["record"].is_object() {
                session.records.push(response["record"].clone());
            }
            if response["plain"].is_object() {
                session.plains.push(response["plain"].clone());
            }
            if let Some(uri) = response["uri"].as_str() {
                session.uris.push(uri.to_string());
                if let Ok(key) = KeyUri::parse(uri) {
                    session.keys.push(key);
                }
            }
        }
        if let Some(uri) = request.get("uri").and_then(Value::as_str) {
            if let Ok(key) = KeyUri::parse(uri) {
                session.keys.push(key);
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = session(&mut Unstructured::new(data));
});
