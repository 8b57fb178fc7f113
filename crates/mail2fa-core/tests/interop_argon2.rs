//! Interop of app-password hashes with the real verifiers: core-made hashes verify with
//! PHP's `password_verify` and Dovecot's `doveadm pw -t '{ARGON2ID}…'`, and hashes made
//! by PHP and doveadm verify in the core. Needs `php` (php8.2-cli) and `doveadm`
//! (dovecot-core), which scripts/install-deps.sh installs; a missing tool fails the test.

use std::process::Command;

use mail2fa_core::api::handle;
use serde_json::{json, Value};

fn ok(request: Value) -> Value {
    let r = handle(&request);
    assert_eq!(r["ok"], true, "{r}");
    r
}

fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {program} ({e}); scripts/install-deps.sh installs php8.2-cli and dovecot-core")
    });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

fn php_verify(password: &str, phc: &str) -> bool {
    run(
        "php",
        &[
            "-r",
            "exit(password_verify($argv[1], $argv[2]) ? 0 : 1);",
            "--",
            password,
            phc,
        ],
    )
    .0
}

fn doveadm_verify(password: &str, phc: &str) -> bool {
    let scheme = if phc.starts_with("$argon2id$") {
        "{ARGON2ID}"
    } else {
        "{ARGON2I}"
    };
    run(
        "doveadm",
        &["pw", "-t", &format!("{scheme}{phc}"), "-p", password],
    )
    .0
}

fn core_verify(phc: &str, password: &str) -> bool {
    ok(json!({"op": "phc.verify", "phc": phc, "password": password}))["valid"] == true
}

#[test]
fn core_app_passwords_verify_in_php_and_dovecot() {
    // App passwords belong to 2FA: a user with TOTP enabled, a current code as the proof.
    let keys = json!([{"id": "k1", "key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}]);
    let entropy = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let (secret, time) = ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_700_000_000u64);
    let record = ok(json!({
        "op": "record.seal", "user": "alice", "keys": keys, "entropy": entropy,
        "plain": {"format": 1, "rev": 1, "created_at": time, "updated_at": time,
            "totp": {"algorithm": "SHA1", "digits": 6, "period": 30, "secret": secret,
                "issuer": null, "account": "alice", "last_step": null,
                "created_at": time, "enabled_at": time}},
    }))["record"]
        .clone();
    let code = ok(json!({"op": "totp.code", "secret": secret, "time": time}))["code"].clone();
    let made = ok(json!({
        "op": "app_password.create", "user": "alice", "keys": keys, "entropy": entropy,
        "time": time, "label": "Thunderbird", "record": record,
        "proof": {"method": "totp", "code": code},
    }));
    let password = made["password"].as_str().unwrap();
    let phc = made["phc"].as_str().unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(php_verify(password, phc), "PHP refused a core hash");
    assert!(!php_verify("abcd-efgh-ijkl-mnop-qrst", phc));
    assert!(doveadm_verify(password, phc), "doveadm refused a core hash");
    assert!(!doveadm_verify("abcd-efgh-ijkl-mnop-qrst", phc));
}

#[test]
fn core_phc_hash_of_other_costs_and_argon2i_verify_in_php_and_dovecot() {
    for (variant, m, t, p) in [
        ("argon2id", 65536, 3, 1),
        ("argon2id", 4096, 1, 1),
        ("argon2i", 32768, 4, 1),
    ] {
        let phc = ok(json!({
            "op": "phc.hash", "password": "pässword 🔑", "salt": "c29tZXNhbHRzb21lc2FsdA==",
            "m": m, "t": t, "p": p, "variant": variant,
        }))["phc"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(php_verify("pässword 🔑", &phc), "PHP refused {phc}");
        assert!(doveadm_verify("pässword 🔑", &phc), "doveadm refused {phc}");
        assert!(!php_verify("password", &phc));
    }
    // Parallelism 4: PHP (libargon2) reads it; libsodium (Dovecot) supports p=1 only.
    let phc = ok(json!({"op": "phc.hash", "password": "pw", "salt": "c29tZXNhbHRzb21lc2FsdA==", "m": 256, "t": 2, "p": 4}))["phc"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(php_verify("pw", &phc), "PHP refused {phc}");
}

#[test]
fn php_and_doveadm_hashes_verify_in_the_core() {
    let password = "correct horse ✓";
    for algo in ["PASSWORD_ARGON2ID", "PASSWORD_ARGON2I"] {
        let (made, phc) = run(
            "php",
            &[
                "-r",
                &format!("echo password_hash($argv[1], {algo});"),
                "--",
                password,
            ],
        );
        assert!(made, "php password_hash {algo} failed");
        assert!(core_verify(&phc, password), "core refused PHP's {phc}");
        assert!(
            !core_verify(&phc, "correct horse"),
            "core accepted a wrong password"
        );
    }
    let (made, phc) = run(
        "php",
        &[
            "-r",
            "echo password_hash($argv[1], PASSWORD_ARGON2ID, ['memory_cost' => 8192, 'time_cost' => 2, 'threads' => 2]);",
            "--",
            password,
        ],
    );
    assert!(made);
    assert!(core_verify(&phc, password), "core refused PHP's {phc}");
    for scheme in ["ARGON2ID", "ARGON2I"] {
        let (made, hash) = run("doveadm", &["pw", "-s", scheme, "-p", password]);
        assert!(made, "doveadm pw -s {scheme} failed");
        assert!(hash.starts_with(&format!("{{{scheme}}}$argon2")), "{hash}");
        assert!(
            core_verify(&hash, password),
            "core refused doveadm's {hash}"
        );
        assert!(!core_verify(&hash, "Correct horse ✓"));
    }
}
