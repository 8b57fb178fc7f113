//! The typed wasm-bindgen API: one JS function per op over the same dispatcher as the
//! raw ABI. Requests and responses are plain objects (TypeScript types below); a core
//! error is thrown as an `Error` named `Mail2faError` with the core's `code`.

use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A site key: `key` is 32 random bytes, base64. The first key of a keyring seals. */
export interface SiteKey { id: string; key: string }
export type Algorithm = "SHA1" | "SHA256" | "SHA512";
export type State = "disabled" | "pending" | "enabled";
/** A stored user record (docs/record-format.md). Store it whole; compare-and-set on `rev`. */
export interface UserRecord { format: 1; rev: number; created_at: number; updated_at: number; [field: string]: unknown }
export interface TotpParams { algorithm?: Algorithm; digits?: number; period?: number }
/** Fields every op on a user's record takes. */
export interface UserContext { user: string; keys: SiteKey[] }
export type RejectReason = "wrong_code" | "replayed" | "malformed" | "locked";
/** A fresh factor for a security change: a current TOTP code or an unused backup code (consumed). */
export interface Proof { method?: "totp" | "backup_code"; code: string }
/** How the `proof` of a security change was judged; when `accepted` is false the op changed nothing else (store `record` anyway). */
export interface Fresh { accepted: boolean; method: "totp" | "backup_code"; reason: RejectReason | null; retry_after: number | null }

export interface TotpCodeRequest extends TotpParams { secret: string; time: number }
export interface TotpCodeResponse { code: string }
/** `proof` is required when `record` has an enabled factor (replacing the authenticator); `fresh` is null when none was needed. */
export interface TotpEnrollRequest extends UserContext, TotpParams { time: number; entropy: string; account?: string; issuer?: string; record?: UserRecord; proof?: Proof; window?: number; policy?: Policy }
export interface TotpEnrollResponse { uri: string | null; secret: string | null; fresh: Fresh | null; state: State; record: UserRecord }
export interface TotpCheckRequest extends UserContext { record: UserRecord; code: string; time: number; window?: number; policy?: Policy }
/** `entropy` is required when the policy allows backup codes (the first set is issued on success). */
export interface TotpActivateRequest extends TotpCheckRequest { entropy?: string }
export interface TotpActivateResponse { activated: boolean; step: number | null; reason: RejectReason | null; backup_codes: string[] | null; revoked_app_passwords: number; revoked_devices: number; state: State; record: UserRecord }
export interface TotpVerifyResponse { accepted: boolean; step: number | null; reason: RejectReason | null; retry_after: number | null; state: State; record: UserRecord }
export interface TotpDisableRequest extends TotpCheckRequest { method?: "totp" | "backup_code" }
export interface TotpDisableResponse { disabled: boolean; reason: RejectReason | null; retry_after: number | null; revoked_app_passwords: number; revoked_devices: number; state: State; record: UserRecord }
export interface TotpCancelRequest { record: UserRecord; time: number }
export interface TotpImportRequest extends UserContext { uri: string; time: number; entropy: string; record?: UserRecord; replace?: boolean }
export interface RecordResponse { state: State; record: UserRecord }
export interface TotpImportResponse extends RecordResponse { revoked_app_passwords: number; revoked_devices: number }
export interface TotpExportRequest extends UserContext { record: UserRecord }
export interface UriResponse { uri: string }
export interface OtpauthParseRequest { uri: string }
export interface OtpauthParseResponse { issuer: string | null; account: string; secret: string; algorithm: Algorithm; digits: number; period: number }
export interface OtpauthBuildRequest extends TotpParams { issuer?: string; account: string; secret: string }
export interface RecordNewRequest { time: number }
export interface RecordNewResponse { record: UserRecord }
export interface RecordStatusRequest extends UserContext { record: UserRecord; time?: number }
/** The enabled factor's public settings (never the secret). */
export interface TotpStatus { algorithm: Algorithm; digits: number; period: number; issuer: string | null; account: string; last_step: number | null; created_at: number; enabled_at: number | null }
export interface RecordStatusResponse { state: State; rev: number; totp: TotpStatus | null; pending: boolean; key_ids: string[]; needs_rotation: boolean; backup_codes_remaining: number; app_passwords: number; devices: number; retry_after: number | null }
/** The admin reset: store the result by compare-and-set (never delete the row); `rev` is the old one + 1. */
export interface RecordResetRequest { record?: UserRecord; time: number }
export interface RecordResetResponse { state: "disabled"; record: UserRecord }
export interface RecordProjectionRequest { record: UserRecord; policy?: Policy }
/** A row of the Dovecot projection (write `"{ARGON2ID}" + phc`). */
export interface ProjectedAppPassword { id: string; phc: string; label: string; created_at: number; tag: string | null }
export interface RecordProjectionResponse { state: State; app_passwords: ProjectedAppPassword[] }
/** How login names are made canonical: `case` (default "lower", ASCII), `domain` (default "keep"; "strip" = Dovecot %n), `default_domain` appended to a name without one. */
export interface UsernameRule { case?: "lower" | "keep"; domain?: "keep" | "strip"; default_domain?: string | null }
export interface UserCanonicalRequest { user: string; username?: UsernameRule }
export interface UserCanonicalResponse { user: string }
export interface WebmailProofRequest { user: string; secret: string; time: number }
export interface WebmailProofResponse { proof: string }
export interface WebmailVerifyRequest { user: string; secret: string; time: number; proof: string; max_age?: number }
export interface WebmailVerifyResponse { valid: boolean; reason: "malformed" | "expired" | "wrong" | null }
export interface RecordOpenRequest extends UserContext { record: UserRecord }
export interface RecordOpenResponse { state: State; plain: Record<string, unknown> }
export interface RecordSealRequest extends UserContext { plain: Record<string, unknown>; entropy: string }
export interface RecordRotateKeyRequest extends UserContext { record: UserRecord; time: number; entropy: string }
export interface RecordRotateKeyResponse { resealed: number; record: UserRecord }
export interface QrSvgRequest { text: string; ecc?: "L" | "M" | "Q" | "H" }
/** `svg`: a standalone SVG (viewBox in modules, quiet zone 4, black on white, no external references). */
export interface QrSvgResponse { svg: string; version: number; modules: number; ecc: "L" | "M" | "Q" | "H" }
export interface OpsResponse { ops: string[] }
export interface VersionResponse { version: string; record_format: number }
/** The site policy (docs/ops.md "Site policy"); every field optional. */
export type Method = "totp" | "backup_code" | "trusted_device" | "app_password";
export interface Policy { mode?: "optional" | "required"; grace_until?: number | null; methods?: Method[]; max_failures?: number; window?: number; lock_base?: number; lock_max?: number; device_days?: number; max_devices?: number; backup_count?: number; max_app_passwords?: number; argon2?: { m?: number; t?: number; p?: number }; pending_seconds?: number }
export type LoginFactor = { type: "totp" | "backup_code" | "trusted_device"; value: string };
/** Why a login factor was refused; show users one message for all of them, log `reason`. */
export type LoginReason = RejectReason | "method_not_allowed" | "device_unknown" | "device_expired" | "device_malformed";
export type Verdict = "not_required" | "enroll_required" | "factor_required" | "ok" | "wrong" | "locked";
export interface LoginDecideRequest extends UserContext { time: number; record?: UserRecord; policy?: Policy; window?: number; factor?: LoginFactor | null; trust_device?: boolean; user_agent?: string; entropy?: string }
export interface LoginDecideResponse { verdict: Verdict; method: Exclude<Method, "app_password"> | null; reason: LoginReason | null; retry_after: number | null; device_id: string | null; device_token: string | null; device_expires_at: number | null; forget_device: boolean; backup_codes_remaining: number | null; enroll_by: number | null; methods: Method[]; trust_days: number; pending_expires_at: number | null; state: State; record: UserRecord }
export interface BackupGenerateRequest extends UserContext { entropy: string; time: number; record: UserRecord; proof: Proof; count?: number; window?: number; policy?: Policy }
export interface BackupGenerateResponse { codes: string[] | null; remaining: number; fresh: Fresh; record: UserRecord }
export interface BackupVerifyRequest extends UserContext { time: number; record: UserRecord; code: string; policy?: Policy }
export interface BackupVerifyResponse { accepted: boolean; reason: "wrong_code" | "locked" | null; retry_after: number | null; remaining: number; record: UserRecord }
export interface BackupStatusRequest { record: UserRecord }
export interface BackupStatusResponse { remaining: number; issued: number | null; created_at: number | null; last_used_at: number | null }
export interface DeviceTrustRequest extends UserContext { entropy: string; time: number; record: UserRecord; proof: Proof; user_agent?: string; window?: number; policy?: Policy }
export interface DeviceTrustResponse { token: string | null; id: string | null; expires_at: number | null; fresh: Fresh; record: UserRecord }
export interface DeviceListRequest { record: UserRecord; time?: number }
export interface TrustedDevice { id: string; label: string; created_at: number; last_seen_at: number; expires_at: number; expired: boolean | null }
export interface DeviceListResponse { devices: TrustedDevice[] }
export interface RevokeRequest { record: UserRecord; time: number; id: string }
export interface RevokeResponse { revoked: boolean; record: UserRecord }
export interface RevokeAllRequest { record: UserRecord; time: number; except?: string }
export interface RevokeAllResponse { revoked: number; record: UserRecord }
export interface AppPasswordCreateRequest extends UserContext { entropy: string; time: number; label: string; record: UserRecord; proof: Proof; window?: number; policy?: Policy }
export interface AppPasswordCreateResponse { password: string | null; id: string | null; phc: string | null; fresh: Fresh; record: UserRecord }
export interface AppPasswordListRequest { record: UserRecord }
export interface AppPassword { id: string; label: string; created_at: number; last_used_at: number | null; phc: string }
export interface AppPasswordListResponse { app_passwords: AppPassword[] }
export interface AppPasswordVerifyRequest { record: UserRecord; password: string; time: number; policy?: Policy }
export interface AppPasswordVerifyResponse { valid: boolean; id: string | null; reason: "wrong_password" | "method_not_allowed" | "not_enabled" | null; record: UserRecord }
export interface PasswordChangedRequest { record: UserRecord; time: number }
export interface PasswordChangedResponse { revoked_app_passwords: number; revoked_devices: number; record: UserRecord }
export interface PhcHashRequest { password: string; salt: string; m?: number; t?: number; p?: number; variant?: "argon2id" | "argon2i" }
export interface PhcHashResponse { phc: string }
export interface PhcVerifyRequest { phc: string; password: string }
export interface PhcVerifyResponse { valid: boolean }
export interface ImportRequestBase extends UserContext { entropy: string; time: number; record?: UserRecord; replace?: boolean }
export interface ImportGauthenticatorRequest extends ImportRequestBase { prefs: { secret?: string; activate?: boolean; recovery_codes?: string[] } }
export interface ImportKolabRequest extends ImportRequestBase { blob: string | Record<string, unknown> }
/** An entry of the old plugin's settings that was not taken over, and why. */
export interface NotImported { entry: string; reason: "hotp_unsupported" | "unsupported_method" | "inactive" | "superseded" | "invalid_code" | string }
export interface ImportResponse { totp: "enabled" | "pending" | "none"; backup_codes: number; not_imported: NotImported[]; revoked_app_passwords: number; revoked_devices: number; state: State; record: UserRecord }
/** What `call` returns: `ok` plus the op's fields, or `ok: false` with an error. */
export type CallResponse = ({ ok: true } & Record<string, unknown>) | { ok: false; error: { code: string; message: string } };
"#;

fn to_js(value: &Value) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    serde::Serialize::serialize(value, &serializer).unwrap_or(JsValue::NULL)
}

fn from_js(request: JsValue) -> Result<Value, Value> {
    serde_wasm_bindgen::from_value::<Value>(request).map_err(|_| {
        serde_json::json!({"ok": false, "error": {
            "code": "invalid_request",
            "message": "the request must be a plain object of JSON values"
        }})
    })
}

/// Runs any request (`{op, ...}`) and returns the response object; never throws.
#[wasm_bindgen(js_name = call, unchecked_return_type = "CallResponse")]
pub fn call(
    #[wasm_bindgen(unchecked_param_type = "{ op: string; [field: string]: unknown }")]
    request: JsValue,
) -> JsValue {
    match from_js(request) {
        Ok(request) => to_js(&mail2fa_core::api::handle(&request)),
        Err(error) => to_js(&error),
    }
}

fn throw(error: &Value) -> JsValue {
    let code = error["error"]["code"].as_str().unwrap_or("invalid_request");
    let message = error["error"]["message"].as_str().unwrap_or(code);
    let js_error = js_sys::Error::new(message);
    js_error.set_name("Mail2faError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(
        &js_error,
        &JsValue::from_str("code"),
        &JsValue::from_str(code),
    );
    js_error.into()
}

/// Runs `op` with the given fields; the response without `ok`, or a thrown Mail2faError.
fn typed_call(op: &str, request: JsValue) -> Result<JsValue, JsValue> {
    let mut request = if request.is_undefined() || request.is_null() {
        Value::Object(Default::default())
    } else {
        from_js(request).map_err(|e| throw(&e))?
    };
    let Some(fields) = request.as_object_mut() else {
        return Err(throw(&serde_json::json!({"error": {
            "code": "invalid_request", "message": "the request must be an object"}})));
    };
    fields.insert("op".into(), Value::from(op));
    let mut response = mail2fa_core::api::handle(&request);
    if response["ok"] != Value::Bool(true) {
        return Err(throw(&response));
    }
    if let Some(fields) = response.as_object_mut() {
        fields.remove("ok");
    }
    Ok(to_js(&response))
}

macro_rules! typed_ops {
    ($($name:ident => $op:literal, $req:literal -> $res:literal;)*) => {$(
        #[doc = concat!("The `", $op, "` op (docs/ops.md).")]
        #[wasm_bindgen(unchecked_return_type = $res)]
        #[allow(non_snake_case)]
        pub fn $name(#[wasm_bindgen(unchecked_param_type = $req)] request: JsValue) -> Result<JsValue, JsValue> {
            typed_call($op, request)
        }
    )*};
}

typed_ops! {
    ops => "ops", "{}" -> "OpsResponse";
    version => "version", "{}" -> "VersionResponse";
    totpCode => "totp.code", "TotpCodeRequest" -> "TotpCodeResponse";
    totpEnroll => "totp.enroll", "TotpEnrollRequest" -> "TotpEnrollResponse";
    totpActivate => "totp.activate", "TotpActivateRequest" -> "TotpActivateResponse";
    totpCancel => "totp.cancel", "TotpCancelRequest" -> "RecordResponse";
    totpVerify => "totp.verify", "TotpCheckRequest" -> "TotpVerifyResponse";
    totpDisable => "totp.disable", "TotpDisableRequest" -> "TotpDisableResponse";
    totpImport => "totp.import", "TotpImportRequest" -> "TotpImportResponse";
    totpExport => "totp.export", "TotpExportRequest" -> "UriResponse";
    otpauthParse => "otpauth.parse", "OtpauthParseRequest" -> "OtpauthParseResponse";
    otpauthBuild => "otpauth.build", "OtpauthBuildRequest" -> "UriResponse";
    recordNew => "record.new", "RecordNewRequest" -> "RecordNewResponse";
    recordStatus => "record.status", "RecordStatusRequest" -> "RecordStatusResponse";
    recordOpen => "record.open", "RecordOpenRequest" -> "RecordOpenResponse";
    recordSeal => "record.seal", "RecordSealRequest" -> "RecordResponse";
    recordRotateKey => "record.rotate_key", "RecordRotateKeyRequest" -> "RecordRotateKeyResponse";
    recordReset => "record.reset", "RecordResetRequest" -> "RecordResetResponse";
    recordProjection => "record.projection", "RecordProjectionRequest" -> "RecordProjectionResponse";
    userCanonical => "user.canonical", "UserCanonicalRequest" -> "UserCanonicalResponse";
    webmailProof => "webmail.proof", "WebmailProofRequest" -> "WebmailProofResponse";
    webmailVerify => "webmail.verify", "WebmailVerifyRequest" -> "WebmailVerifyResponse";
    qrSvg => "qr.svg", "QrSvgRequest" -> "QrSvgResponse";
    loginDecide => "login.decide", "LoginDecideRequest" -> "LoginDecideResponse";
    backupGenerate => "backup.generate", "BackupGenerateRequest" -> "BackupGenerateResponse";
    backupVerify => "backup.verify", "BackupVerifyRequest" -> "BackupVerifyResponse";
    backupStatus => "backup.status", "BackupStatusRequest" -> "BackupStatusResponse";
    deviceTrust => "device.trust", "DeviceTrustRequest" -> "DeviceTrustResponse";
    deviceList => "device.list", "DeviceListRequest" -> "DeviceListResponse";
    deviceRevoke => "device.revoke", "RevokeRequest" -> "RevokeResponse";
    deviceRevokeAll => "device.revoke_all", "RevokeAllRequest" -> "RevokeAllResponse";
    appPasswordCreate => "app_password.create", "AppPasswordCreateRequest" -> "AppPasswordCreateResponse";
    appPasswordList => "app_password.list", "AppPasswordListRequest" -> "AppPasswordListResponse";
    appPasswordVerify => "app_password.verify", "AppPasswordVerifyRequest" -> "AppPasswordVerifyResponse";
    appPasswordRevoke => "app_password.revoke", "RevokeRequest" -> "RevokeResponse";
    appPasswordRevokeAll => "app_password.revoke_all", "PasswordChangedRequest" -> "RevokeAllResponse";
    passwordChanged => "password.changed", "PasswordChangedRequest" -> "PasswordChangedResponse";
    phcHash => "phc.hash", "PhcHashRequest" -> "PhcHashResponse";
    phcVerify => "phc.verify", "PhcVerifyRequest" -> "PhcVerifyResponse";
    importGauthenticator => "import.gauthenticator", "ImportGauthenticatorRequest" -> "ImportResponse";
    importKolab => "import.kolab", "ImportKolabRequest" -> "ImportResponse";
}
