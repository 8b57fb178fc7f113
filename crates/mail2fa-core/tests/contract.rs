//! The op contract written once: the request and response structs of every typed op
//! (`mail2fa_core::api::contract`, read from the structs themselves) must name exactly
//! the fields of the TypeScript types in `crates/mail2fa-wasm/src/typed.rs`, which
//! `scripts/check-contract.mjs` in turn checks docs/ops.md, the vectors and the PHP
//! adapter against. A field added to a struct and not to the types (or the other way
//! round), or a field the core requires that the types call optional, fails here.

use std::collections::{BTreeMap, BTreeSet};

const TYPED_RS: &str = include_str!("../../mail2fa-wasm/src/typed.rs");

/// An interface: its fields (name -> optional), whether it is open, its parents.
struct Interface {
    fields: BTreeMap<String, bool>,
    open: bool,
    parents: Vec<String>,
}

/// Splits `text` on `sep` outside brackets of any kind.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let (mut depth, mut part, mut parts) = (0i32, String::new(), Vec::new());
    for c in text.chars() {
        match c {
            '{' | '[' | '(' | '<' => depth += 1,
            '}' | ']' | ')' | '>' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut part));
        } else {
            part.push(c);
        }
    }
    parts.push(part);
    parts
}

fn interfaces() -> BTreeMap<String, Interface> {
    let mut out = BTreeMap::new();
    for line in TYPED_RS.lines() {
        let Some(rest) = line.strip_prefix("export interface ") else {
            continue;
        };
        let open_brace = rest.find('{').expect("an interface body");
        let head = rest[..open_brace].trim();
        let body = rest[open_brace + 1..rest.rfind('}').expect("a closing brace")].trim();
        let (name, parents) = match head.split_once(" extends ") {
            Some((name, parents)) => (
                name.trim(),
                parents.split(',').map(|p| p.trim().to_string()).collect(),
            ),
            None => (head, Vec::new()),
        };
        let mut interface = Interface {
            fields: BTreeMap::new(),
            open: false,
            parents,
        };
        for part in split_top(body, ';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if part.starts_with('[') {
                interface.open = true;
                continue;
            }
            let (field, _) = part.split_once(':').expect("name: type");
            let optional = field.ends_with('?');
            interface
                .fields
                .insert(field.trim_end_matches('?').trim().to_string(), optional);
        }
        out.insert(name.to_string(), interface);
    }
    out
}

/// Every field of `name` with its parents'.
fn fields_of(all: &BTreeMap<String, Interface>, name: &str) -> BTreeMap<String, bool> {
    let interface = all
        .get(name)
        .unwrap_or_else(|| panic!("typed.rs declares no interface {name}"));
    let mut out = BTreeMap::new();
    for parent in &interface.parents {
        out.extend(fields_of(all, parent));
    }
    out.extend(interface.fields.clone());
    out
}

/// The `typed_ops!` table: op -> (request interface or None for `{}`, response interface).
fn typed_ops() -> BTreeMap<String, (Option<String>, String)> {
    let mut out = BTreeMap::new();
    for line in TYPED_RS.lines() {
        let line = line.trim();
        let Some((_, rest)) = line.split_once(" => \"") else {
            continue;
        };
        let quoted: Vec<&str> = rest.split('"').collect();
        // op", "Req" -> "Res";
        let (op, request, response) = (quoted[0], quoted[2], quoted[4]);
        let request = (request != "{}").then(|| request.to_string());
        out.insert(op.to_string(), (request, response.to_string()));
    }
    out
}

#[test]
fn every_typed_op_matches_its_typescript_types() {
    let all = interfaces();
    let table = typed_ops();
    let contract = mail2fa_core::api::contract();
    assert!(table.len() > 30, "typed_ops! table not found in typed.rs");
    let mut problems = Vec::new();
    for op in &contract {
        let Some((request, response)) = table.get(op.op) else {
            problems.push(format!("{}: no typed function in typed.rs", op.op));
            continue;
        };
        let ts_request = request
            .as_deref()
            .map(|name| fields_of(&all, name))
            .unwrap_or_default();
        let rust_request: BTreeMap<&str, bool> = op.request.iter().copied().collect();
        for (field, optional) in &rust_request {
            match ts_request.get(*field) {
                None => problems.push(format!(
                    "{}: the request struct reads `{field}`, which {} does not declare",
                    op.op,
                    request.as_deref().unwrap_or("{}")
                )),
                Some(true) if !optional => problems.push(format!(
                    "{}: the core requires `{field}`, which {} calls optional",
                    op.op,
                    request.as_deref().unwrap_or("{}")
                )),
                _ => {}
            }
        }
        for field in ts_request.keys() {
            if !rust_request.contains_key(field.as_str()) {
                problems.push(format!(
                    "{}: {} declares `{field}`, which the request struct does not read",
                    op.op,
                    request.as_deref().unwrap_or("{}")
                ));
            }
        }
        let ts_response: BTreeSet<String> = fields_of(&all, response).into_keys().collect();
        let rust_response: BTreeSet<String> = op.response.iter().map(|f| f.to_string()).collect();
        for field in rust_response.difference(&ts_response) {
            problems.push(format!(
                "{}: the response struct writes `{field}`, which {response} does not declare",
                op.op
            ));
        }
        for field in ts_response.difference(&rust_response) {
            problems.push(format!(
                "{}: {response} declares `{field}`, which the response struct does not write",
                op.op
            ));
        }
    }
    // Every op is typed.
    let typed: BTreeSet<&str> = contract.iter().map(|c| c.op).collect();
    for op in table.keys() {
        if !typed.contains(op.as_str()) {
            problems.push(format!("{op}: no request/response structs"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences between the op structs and typed.rs:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// The check above is not vacuous: a field the types do not declare is found.
#[test]
fn the_parser_reads_the_types() {
    let all = interfaces();
    let enroll = fields_of(&all, "TotpEnrollRequest");
    assert_eq!(enroll.get("user"), Some(&false));
    assert_eq!(enroll.get("digits"), Some(&true));
    assert!(!enroll.contains_key("made_up"));
    assert!(all["UserRecord"].open);
    let table = typed_ops();
    assert_eq!(
        table["record.rotate_key"],
        (
            Some("RecordRotateKeyRequest".to_string()),
            "RecordRotateKeyResponse".to_string()
        )
    );
    assert_eq!(table["ops"].0, None);
}

/// Each op's response, as the dispatcher writes it, has exactly the struct's fields.
#[test]
fn responses_carry_exactly_the_struct_fields() {
    let contract = mail2fa_core::api::contract();
    let listed = |request: serde_json::Value| -> BTreeSet<String> {
        let response = mail2fa_core::api::handle(&request);
        assert_eq!(response["ok"], true, "{request} -> {response}");
        response
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "ok")
            .cloned()
            .collect()
    };
    let of = |op: &str| -> BTreeSet<String> {
        contract
            .iter()
            .find(|c| c.op == op)
            .unwrap()
            .response
            .iter()
            .map(|f| f.to_string())
            .collect()
    };
    for request in [
        serde_json::json!({"op": "ops"}),
        serde_json::json!({"op": "version"}),
        serde_json::json!({"op": "record.new", "time": 1}),
        serde_json::json!({"op": "qr.svg", "text": "a"}),
        serde_json::json!({"op": "otpauth.parse", "uri": "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"}),
    ] {
        let op = request["op"].as_str().unwrap().to_string();
        assert_eq!(listed(request), of(&op), "{op}");
    }
}

/// The enums the responses carry (reasons, states, levels) are spelt as the TypeScript
/// unions say, and every variant is in its union.
#[test]
fn response_enums_match_their_typescript_unions() {
    fn names<T: serde::Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
    let line = |start: &str| -> &str {
        TYPED_RS
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("typed.rs has no line {start}"))
    };
    let checks: [(&str, Vec<String>); 4] = [
        (
            "export interface NotImported ",
            names(&mail2fa_core::import::Skipped::ALL),
        ),
        (
            "export interface WebmailVerifyResponse ",
            names(&mail2fa_core::webmail::ProofReason::ALL),
        ),
        (
            "export interface QrSvgResponse ",
            names(&mail2fa_core::qr::Ecc::ALL),
        ),
        (
            "export type State ",
            names(&mail2fa_core::record::State::ALL),
        ),
    ];
    for (start, variants) in checks {
        for name in variants {
            assert!(
                line(start).contains(&format!("\"{name}\"")),
                "{name} is not in typed.rs {start}"
            );
        }
    }
    // A refusal reason is in one of the unions the responses declare.
    let ts_reasons: String = ["export type RejectReason ", "export type LoginReason "]
        .iter()
        .map(|s| line(s))
        .chain([line("export interface AppPasswordVerifyResponse ")])
        .collect();
    for name in names(&mail2fa_core::reason::Reason::ALL) {
        assert!(
            ts_reasons.contains(&format!("\"{name}\"")),
            "reason {name} is in no TypeScript union"
        );
    }
}
