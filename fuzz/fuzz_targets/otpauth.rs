//! Arbitrary text into the otpauth URI parser.
//!
//! Properties: no panic; a URI that parses builds again (`to_uri` succeeds), the built
//! URI parses to the same key (round trip), and building is a fixpoint (the canonical
//! URI of the reparsed key is the same string). The `otpauth.parse` op agrees with
//! `KeyUri::parse` on success and failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa_core::api::handle;
use mail2fa_core::otpauth::KeyUri;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    // Use the longest valid UTF-8 prefix, so mutations of non-ASCII text stay useful.
    let text = match core::str::from_utf8(data) {
        Ok(text) => text,
        Err(e) => core::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
    };
    let parsed = KeyUri::parse(text);
    let op = handle(&json!({"op": "otpauth.parse", "uri": text}));
    match &parsed {
        Ok(key) => {
            assert_eq!(op["ok"], true, "op refuses what parse accepts: {op}");
            assert_eq!(op["account"], key.account.as_str());
            let uri = key
                .to_uri()
                .unwrap_or_else(|e| panic!("parsed key does not build: {e}; key {key:?}"));
            let again = KeyUri::parse(&uri)
                .unwrap_or_else(|e| panic!("built URI does not parse: {e}; uri {uri:?}"));
            assert_eq!(&again, key, "round trip changed the key; uri {uri:?}");
            assert_eq!(again.to_uri().ok().as_deref(), Some(uri.as_str()));
        }
        Err(e) => {
            assert_eq!(op["ok"], false, "op accepts what parse refuses: {op}");
            assert_eq!(op["error"]["code"], e.code().as_str());
        }
    }
});
