//! The JSON dispatcher: one request object in, one response object out.
//!
//! Every host face (the raw C ABI, the typed wasm-bindgen API, native tests) calls
//! [`handle`] or [`handle_bytes`], so they agree by construction. Each op is a function
//! from its request struct to its response struct (`fields.rs`: the shared field rules,
//! and how a struct is read from a [`Request`] and written as the response's fields): it
//! parses, calls the domain modules, and answers. Any [`Error`] becomes
//! `{"ok": false, "error": {"code", "message"}}`. [`contract`] lists every op's fields
//! from its structs. See `docs/ops.md`. (`login.decide`, the login check, also has a
//! text path for the well-formed request: `login_ops::decide_text`.)

mod app_password_ops;
mod backup_ops;
mod device_ops;
pub(crate) mod fields;
mod fresh;
mod import_ops;
mod login_ops;
mod phc_ops;
mod qr_ops;
mod record_ops;
mod request;
mod revoke;
mod totp_ops;
mod user_ops;
mod webmail_ops;

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode, Result};
use fields::{Empty, FromRequest, ToResponse};
pub use request::Request;

/// The largest request accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The fields of a successful response (without `ok`).
pub type Response = Map<String, Value>;
type Op = fn(&Request) -> Result<Response>;

/// The request and response fields of a typed op, read from its structs.
#[derive(Debug, Clone)]
pub struct OpContract {
    /// The op's name.
    pub op: &'static str,
    /// Request keys (without `op`), each with whether it may be left out.
    pub request: Vec<(&'static str, bool)>,
    /// Response keys (without `ok`).
    pub response: &'static [&'static str],
}

/// The op table: every op is `fn(RequestStruct) -> Result<ResponseStruct>`. It makes the
/// dispatch table [`OPS`] and [`contract`], kept apart so that a module that never asks
/// for the contract carries none of it.
macro_rules! op_table {
    ($($kind:ident $name:literal => $f:path,)*) => {
        /// Every op, by name. `{"op":"ops"}` lists these names.
        const OPS: &[(&str, Op)] = &[$(($name, op_table!(@run $kind $f)),)*];

        /// The contract of every typed op, from its request and response structs (ops
        /// not yet typed are left out: `login.decide`).
        #[allow(clippy::vec_init_then_push)]
        pub fn contract() -> Vec<OpContract> {
            let mut out = Vec::new();
            $(op_table!(@contract out $kind $name $f);)*
            out
        }
    };
    (@run typed $f:path) => { |req| run_typed(req, $f) };
    (@contract $out:ident typed $name:literal $f:path) => { $out.push(contract_of($name, $f)) };
}

fn run_typed<Q: FromRequest, S: ToResponse>(
    req: &Request,
    op: fn(Q) -> Result<S>,
) -> Result<Response> {
    let response = op(Q::from_request(req)?)?;
    match serde_json::to_value(&response) {
        Ok(Value::Object(fields)) => Ok(fields),
        // The response structs are plain structs of strings, numbers and records.
        _ => Err(Error::new(
            ErrorCode::InvalidRequest,
            "the response could not be written",
        )),
    }
}

fn contract_of<Q: FromRequest, S: ToResponse>(
    op: &'static str,
    _: fn(Q) -> Result<S>,
) -> OpContract {
    OpContract {
        op,
        request: Q::keys(),
        response: S::KEYS,
    }
}

op_table! {
    typed "ops" => list_ops,
    typed "version" => version,
    typed "totp.code" => totp_ops::code,
    typed "totp.enroll" => totp_ops::enroll,
    typed "totp.activate" => totp_ops::activate,
    typed "totp.cancel" => totp_ops::cancel,
    typed "totp.verify" => totp_ops::verify,
    typed "totp.disable" => totp_ops::disable,
    typed "totp.import" => totp_ops::import,
    typed "totp.export" => totp_ops::export,
    typed "otpauth.parse" => totp_ops::otpauth_parse,
    typed "otpauth.build" => totp_ops::otpauth_build,
    typed "record.new" => record_ops::new,
    typed "record.status" => record_ops::status,
    typed "record.seal" => record_ops::seal_plain,
    typed "record.open" => record_ops::open,
    typed "record.rotate_key" => record_ops::rotate_key,
    typed "record.reset" => record_ops::reset,
    typed "record.projection" => app_password_ops::projection,
    typed "user.canonical" => user_ops::canonical,
    typed "qr.svg" => qr_ops::svg,
    typed "login.decide" => login_ops::decide,
    typed "backup.generate" => backup_ops::generate,
    typed "backup.verify" => backup_ops::verify,
    typed "backup.status" => backup_ops::status,
    typed "device.trust" => device_ops::trust,
    typed "device.list" => device_ops::list,
    typed "device.revoke" => device_ops::revoke,
    typed "device.revoke_all" => device_ops::revoke_all,
    typed "app_password.create" => app_password_ops::create,
    typed "app_password.list" => app_password_ops::list,
    typed "app_password.verify" => app_password_ops::verify,
    typed "app_password.revoke" => app_password_ops::revoke,
    typed "app_password.revoke_all" => app_password_ops::revoke_all,
    typed "password.changed" => app_password_ops::password_changed,
    typed "phc.hash" => phc_ops::hash,
    typed "phc.verify" => phc_ops::verify,
    typed "import.gauthenticator" => import_ops::gauthenticator,
    typed "import.kolab" => import_ops::kolab,
    typed "webmail.proof" => webmail_ops::proof,
    typed "webmail.verify" => webmail_ops::verify,
}

fields::response! {
    /// `ops`: every op's name.
    pub struct OpsResponse {
        ops: Vec<&'static str>,
    }
}

fn list_ops(_: Empty) -> Result<OpsResponse> {
    Ok(OpsResponse {
        ops: OPS.iter().map(|(name, _)| *name).collect(),
    })
}

fields::response! {
    /// `version`: the core's version and the record format it writes.
    pub struct VersionResponse {
        version: &'static str,
        record_format: u64,
    }
}

fn version(_: Empty) -> Result<VersionResponse> {
    Ok(VersionResponse {
        version: env!("CARGO_PKG_VERSION"),
        record_format: crate::record::FORMAT,
    })
}

fn error_value(error: &Error) -> Value {
    json!({"ok": false, "error": {"code": error.code().as_str(), "message": error.message()}})
}

fn dispatch(request: &Value) -> Result<Response> {
    let object = request.as_object().ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidRequest,
            "the request must be a JSON object",
        )
    })?;
    run(&Request::new(object))
}

fn run(request: &Request) -> Result<Response> {
    let op = request.str("op")?;
    let (_, run) = OPS.iter().find(|(name, _)| *name == op).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownOp,
            "op names no operation; {\"op\":\"ops\"} lists them",
        )
    })?;
    run(request)
}

fn respond(result: Result<Response>) -> Value {
    match result {
        Ok(mut response) => {
            response.insert(String::from("ok"), Value::Bool(true));
            Value::Object(response)
        }
        Err(error) => error_value(&error),
    }
}

/// Runs one request given as a JSON value.
pub fn handle(request: &Value) -> Value {
    respond(dispatch(request))
}

/// The ops of a login check, which read `record` only through [`Request::record`] or
/// [`Request::record_or_new`]: [`handle_bytes`] reads their record straight from the
/// request's text into its struct (no `serde_json::Value` of the whole record).
const RECORD_TEXT_OPS: &[&str] = &[
    "login.decide",
    "totp.verify",
    "backup.verify",
    "app_password.verify",
    "record.status",
];

/// A request object with its `record` field kept as JSON text.
struct WithRecordText<'a> {
    fields: Map<String, Value>,
    record: Option<&'a serde_json::value::RawValue>,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for WithRecordText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> core::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = WithRecordText<'de>;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> core::result::Result<Self::Value, A::Error> {
                let mut fields = Map::new();
                let mut record = None;
                // A repeated key keeps its last value, as serde_json's Value does.
                while let Some(key) = map.next_key::<String>()? {
                    if key == "record" {
                        record = Some(map.next_value()?);
                    } else {
                        fields.insert(key, map.next_value()?);
                    }
                }
                Ok(WithRecordText { fields, record })
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// The fast path of [`handle_bytes`]: an op of [`RECORD_TEXT_OPS`] gets its record read
/// from the request's text, and its response written with `record` as the last field
/// (`{"ok":true,...,"record":{...}}`), so a host can cut the record's text out and store it
/// as is. `None`: any other request, which takes the general path.
fn handle_record_text(input: &[u8]) -> Option<Vec<u8>> {
    let request: WithRecordText = serde_json::from_slice(input).ok()?;
    let op = request.fields.get("op")?.as_str()?;
    if !RECORD_TEXT_OPS.contains(&op) {
        return None;
    }
    let record = request.record.map(serde_json::value::RawValue::get);
    let request = Request::with_record_json(&request.fields, record);
    let mut response = respond(run(&request));
    let record = response
        .as_object_mut()
        .and_then(|fields| fields.remove("record"))
        .map(|value| serde_json::to_vec(&value).unwrap_or_default());
    // A Value always serializes; a response object always has `ok`, so it ends in `}`
    // after at least one field.
    let mut out = serde_json::to_vec(&response).unwrap_or_default();
    if let Some(record) = record {
        out.pop();
        out.extend_from_slice(b",\"record\":");
        out.extend_from_slice(&record);
        out.push(b'}');
    }
    Some(out)
}

/// Runs one request given as UTF-8 JSON bytes and returns the JSON response bytes.
pub fn handle_bytes(input: &[u8]) -> Vec<u8> {
    let response = if input.len() > MAX_REQUEST_BYTES {
        error_value(&Error::new(
            ErrorCode::RequestTooLarge,
            alloc::format!("requests are limited to {MAX_REQUEST_BYTES} bytes"),
        ))
    } else {
        if let Some(response) = login_ops::decide_text(input) {
            return response;
        }
        if let Some(response) = handle_record_text(input) {
            return response;
        }
        match serde_json::from_slice::<Value>(input) {
            Ok(request) => handle(&request),
            Err(_) => error_value(&Error::new(
                ErrorCode::InvalidRequest,
                "the request is not valid UTF-8 JSON",
            )),
        }
    };
    // A Value always serializes.
    serde_json::to_vec(&response).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn op_names_are_unique() {
        for (i, (name, _)) in OPS.iter().enumerate() {
            assert!(
                !OPS[..i].iter().any(|(other, _)| other == name),
                "{name} twice"
            );
        }
    }

    #[test]
    fn garbage_gets_structured_errors() {
        let code = |bytes: &[u8]| -> String {
            let v: Value = serde_json::from_slice(&handle_bytes(bytes)).unwrap();
            assert_eq!(v["ok"], false);
            String::from(v["error"]["code"].as_str().unwrap())
        };
        assert_eq!(code(b"\xff\xfe"), "invalid_request");
        assert_eq!(code(b"[1,2]"), "invalid_request");
        assert_eq!(code(b"{}"), "missing_field");
        assert_eq!(code(b"{\"op\":7}"), "invalid_field");
        assert_eq!(code(b"{\"op\":\"nope\"}"), "unknown_op");
        assert_eq!(
            code(&alloc::vec![b' '; MAX_REQUEST_BYTES + 1]),
            "request_too_large"
        );
        let deep = "[".repeat(100_000);
        assert_eq!(code(deep.as_bytes()), "invalid_request");
    }

    /// The record-as-text path of `handle_bytes` answers exactly as the general path
    /// (`handle` on the parsed request) does, for good records and for broken ones.
    #[test]
    fn record_text_path_answers_as_the_general_path() {
        let keys = r#"[{"id":"k1","key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}]"#;
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let import = alloc::format!(
            r#"{{"op":"import.gauthenticator","user":"a@b.c","keys":{keys},"time":1700000000,"entropy":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=","prefs":{{"secret":"{secret}","activate":true}}}}"#
        );
        let imported: Value = serde_json::from_slice(&handle_bytes(import.as_bytes())).unwrap();
        let record = serde_json::to_string(&imported["record"]).unwrap();
        let code = handle(&json!({"op": "totp.code", "secret": secret, "time": 1700000100}))
            ["code"]
            .as_str()
            .unwrap()
            .to_string();
        let mut with_extra: Value = serde_json::from_str(&record).unwrap();
        with_extra["from_a_newer_core"] = json!({"kept": [1, 2]});
        let with_extra = with_extra.to_string();
        let repeated = alloc::format!("{}{}", &record[..record.len() - 1], r#","rev":99}"#);
        let records = [
            record.as_str(),
            with_extra.as_str(),
            repeated.as_str(),
            "null",
            "{}",
            r#"{"format":2}"#,
            r#"{"format":1,"rev":"x"}"#,
            r#"{"format":1.0,"rev":1}"#,
            r#""text""#,
            "[1,2]",
        ];
        let ops = [
            alloc::format!(r#""op":"login.decide","factor":{{"type":"totp","value":"{code}"}}"#),
            String::from(r#""op":"login.decide""#),
            alloc::format!(r#""op":"totp.verify","code":"{code}""#),
            String::from(r#""op":"backup.verify","code":"aaaaa-bbbbb""#),
            String::from(r#""op":"app_password.verify","password":"x""#),
            String::from(r#""op":"record.status""#),
        ];
        for op in &ops {
            for record in records {
                for request in [
                    alloc::format!(
                        r#"{{{op},"user":"a@b.c","keys":{keys},"time":1700000100,"record":{record}}}"#
                    ),
                    // The record first, and given twice: the last one counts.
                    alloc::format!(
                        r#"{{"record":"x","record":{record},{op},"user":"a@b.c","keys":{keys},"time":1700000100}}"#
                    ),
                    alloc::format!(r#"{{{op},"user":"a@b.c","keys":{keys},"time":1700000100}}"#),
                ] {
                    let general = handle(&serde_json::from_str::<Value>(&request).unwrap());
                    let bytes = handle_bytes(request.as_bytes());
                    let text: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(text, general, "{request}");
                    // The record comes last, its text exactly as the general path writes it.
                    if let Some(record) = general.get("record") {
                        let tail = alloc::format!(
                            ",\"record\":{}}}",
                            serde_json::to_string(record).unwrap()
                        );
                        assert!(bytes.ends_with(tail.as_bytes()), "{request}");
                    }
                }
            }
        }
    }
}
