// Type declarations for `mail2fa` (both the Node and the browser entry export exactly this).
// Request and response shapes follow docs/ops.md; each typed function takes the op's fields
// without `op` and returns its response without `ok`, or throws a Mail2faError.

/** Every error this package throws: `code` is stable (docs/ops.md#error-codes); `message` is for people. */
export class Mail2faError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  readonly name: 'Mail2faError';
  readonly code: string;
}

/** What `init` accepts: module bytes, a compiled module, a fetch Response, a URL (streaming compile), or a promise of one. */
export type InitInput = BufferSource | WebAssembly.Module | Response | URL | string | Promise<BufferSource | WebAssembly.Module | Response>;

/**
 * Loads the WebAssembly module once (later calls return at once). Without `input`, Node
 * reads the package's `mail2fa.wasm`; browsers fetch it next to the package (bundlers copy
 * it) and compile it while it streams. Under Node calling it is optional.
 */
export function init(input?: InitInput): Promise<void>;
/** Loads the module synchronously from bytes or a compiled module (under Node: from the package file when omitted). */
export function initSync(input?: BufferSource | WebAssembly.Module): void;
/** Whether the module is loaded. */
export function isReady(): boolean;

// ---- shapes -------------------------------------------------------------------------------

/** A site key: `key` is 32 random bytes, base64. The first key of a keyring seals. */
export interface SiteKey { id: string; key: string }
export type Algorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type State = 'disabled' | 'pending' | 'enabled';
/** A stored user record (docs/record-format.md). Store it whole; never edit it. */
export interface UserRecord { format: 1; rev: number; created_at: number; updated_at: number; [field: string]: unknown }
export interface TotpParams { algorithm?: Algorithm; digits?: number; period?: number }
export interface UserContext { user: string; keys: SiteKey[] }
export type RejectReason = 'wrong_code' | 'replayed' | 'malformed';

export interface TotpCodeRequest extends TotpParams { secret: string; time: number }
export interface TotpCodeResponse { code: string }
export interface TotpEnrollRequest extends UserContext, TotpParams { time: number; entropy: string; account?: string; issuer?: string; record?: UserRecord }
export interface TotpEnrollResponse { uri: string; secret: string; state: State; record: UserRecord }
export interface TotpCheckRequest extends UserContext { record: UserRecord; code: string; time: number; window?: number; policy?: Policy }
export interface TotpActivateResponse { activated: boolean; step: number | null; reason: RejectReason | null; state: State; record: UserRecord }
export interface TotpVerifyResponse { accepted: boolean; step: number | null; reason: RejectReason | null; state: State; record: UserRecord }
/** `method: 'backup_code'` turns 2FA off with an unused backup code (a user without the phone). */
export interface TotpDisableRequest extends TotpCheckRequest { method?: 'totp' | 'backup_code' }
export interface TotpDisableResponse { disabled: boolean; reason: RejectReason | null; retry_after: number | null; state: State; record: UserRecord }
export interface TotpCancelRequest { record: UserRecord; time: number }
export interface TotpImportRequest extends UserContext { uri: string; time: number; entropy: string; record?: UserRecord; replace?: boolean }
export interface RecordResponse { state: State; record: UserRecord }
export interface TotpExportRequest extends UserContext { record: UserRecord }
export interface UriResponse { uri: string }
export interface OtpauthParseRequest { uri: string }
export interface OtpauthParseResponse { issuer: string | null; account: string; secret: string; algorithm: Algorithm; digits: number; period: number }
export interface OtpauthBuildRequest extends TotpParams { issuer?: string; account: string; secret: string }
export interface RecordNewRequest { time: number }
export interface RecordNewResponse { record: UserRecord }
export interface RecordStatusRequest extends UserContext { record: UserRecord }
export interface TotpStatus { algorithm: Algorithm; digits: number; period: number; issuer: string | null; account: string; last_step: number | null; created_at: number; enabled_at: number | null }
export interface RecordStatusResponse { state: State; rev: number; totp: TotpStatus | null; pending: boolean; key_ids: string[]; needs_rotation: boolean }
export interface RecordOpenResponse { state: State; plain: Record<string, unknown> }
export interface RecordSealRequest extends UserContext { plain: Record<string, unknown>; entropy: string }
export interface RecordRotateKeyRequest extends UserContext { record: UserRecord; time: number; entropy: string }
export interface RecordRotateKeyResponse { resealed: number; record: UserRecord }
export interface QrSvgRequest { text: string; ecc?: 'L' | 'M' | 'Q' | 'H' }
export interface QrSvgResponse { svg: string; version: number; modules: number; ecc: 'L' | 'M' | 'Q' | 'H' }
export interface OpsResponse { ops: string[] }
export interface VersionResponse { version: string; record_format: number }
export type CallResponse = ({ ok: true } & Record<string, unknown>) | { ok: false; error: { code: string; message: string } };

/** The site policy (docs/ops.md, "Site policy"); every field optional, an unknown field is an error. */
export interface Policy {
  mode?: 'optional' | 'required';
  grace_until?: number | null;
  methods?: Method[];
  max_failures?: number;
  window?: number;
  lock_base?: number;
  lock_max?: number;
  device_days?: number;
  max_devices?: number;
  backup_count?: number;
  max_app_passwords?: number;
  argon2?: { m?: number; t?: number; p?: number };
}
export type Method = 'totp' | 'backup_code' | 'trusted_device' | 'app_password';
export type Verdict = 'not_required' | 'enroll_required' | 'factor_required' | 'ok' | 'wrong' | 'locked';
export type LoginReason = RejectReason | 'locked' | 'method_not_allowed' | 'device_unknown' | 'device_expired' | 'device_malformed';
export interface WithPolicy { policy?: Policy }

export interface LoginDecideRequest extends UserContext, WithPolicy {
  time: number;
  record?: UserRecord;
  window?: number;
  factor?: null | { type: 'totp' | 'backup_code' | 'trusted_device'; value: string };
  trust_device?: boolean;
  user_agent?: string;
  entropy?: string;
}
export interface LoginDecideResponse {
  verdict: Verdict;
  method: Exclude<Method, 'app_password'> | null;
  reason: LoginReason | null;
  retry_after: number | null;
  device_id: string | null;
  device_token: string | null;
  device_expires_at: number | null;
  forget_device: boolean;
  backup_codes_remaining: number | null;
  enroll_by: number | null;
  methods: Method[];
  state: State;
  record: UserRecord;
}
export interface BackupGenerateRequest extends UserContext, WithPolicy { entropy: string; time: number; record: UserRecord; count?: number }
export interface BackupGenerateResponse { codes: string[]; remaining: number; record: UserRecord }
export interface BackupVerifyRequest extends UserContext, WithPolicy { time: number; record: UserRecord; code: string }
export interface BackupVerifyResponse { accepted: boolean; reason: 'wrong_code' | 'locked' | null; retry_after: number | null; remaining: number; record: UserRecord }
export interface BackupStatusResponse { remaining: number; issued: number | null; created_at: number | null; last_used_at: number | null }
export interface DeviceTrustRequest extends WithPolicy { user: string; entropy: string; time: number; record: UserRecord; user_agent?: string }
export interface DeviceTrustResponse { token: string; id: string; expires_at: number; record: UserRecord }
export interface TrustedDevice { id: string; label: string; created_at: number; last_seen_at: number; expires_at: number; expired: boolean | null }
export interface DeviceRevokeRequest { record: UserRecord; time: number; id: string }
export interface DeviceRevokeAllRequest { record: UserRecord; time: number; except?: string }
export interface AppPasswordCreateRequest extends WithPolicy { entropy: string; time: number; label: string; record?: UserRecord }
export interface AppPasswordCreateResponse { password: string; id: string; phc: string; record: UserRecord }
export interface AppPassword { id: string; label: string; created_at: number; last_used_at: number | null; phc: string }
export interface AppPasswordVerifyResponse { valid: boolean; id: string | null; record: UserRecord }
export interface RevokedResponse<T> { revoked: T; record: UserRecord }
export interface PasswordChangedResponse { revoked_app_passwords: number; revoked_devices: number; record: UserRecord }
export interface PhcHashRequest { password: string; salt: string; m?: number; t?: number; p?: number; variant?: 'argon2id' | 'argon2i' }
export interface ImportRequest extends UserContext { entropy: string; time: number; record?: UserRecord; replace?: boolean }
export interface NotImported { entry: string; reason: 'hotp_unsupported' | 'unsupported_method' | 'inactive' | 'superseded' | 'invalid_code' | string }
export interface ImportResponse { totp: 'enabled' | 'pending' | 'none'; backup_codes: number; not_imported: NotImported[]; state: State; record: UserRecord }

// ---- one function per core op -------------------------------------------------------------

/** Runs any request `{op, ...}`; returns the response object and never throws (once loaded). */
export function call(request: { op: string; [field: string]: unknown }): CallResponse;
export function ops(request?: {}): OpsResponse;
export function version(request?: {}): VersionResponse;
export function totpCode(request: TotpCodeRequest): TotpCodeResponse;
export function totpEnroll(request: TotpEnrollRequest): TotpEnrollResponse;
export function totpActivate(request: TotpCheckRequest): TotpActivateResponse;
export function totpCancel(request: TotpCancelRequest): RecordResponse;
export function totpVerify(request: TotpCheckRequest): TotpVerifyResponse;
export function totpDisable(request: TotpDisableRequest): TotpDisableResponse;
export function totpImport(request: TotpImportRequest): RecordResponse;
export function totpExport(request: TotpExportRequest): UriResponse;
export function otpauthParse(request: OtpauthParseRequest): OtpauthParseResponse;
export function otpauthBuild(request: OtpauthBuildRequest): UriResponse;
export function recordNew(request: RecordNewRequest): RecordNewResponse;
export function recordStatus(request: RecordStatusRequest): RecordStatusResponse;
export function recordOpen(request: RecordStatusRequest): RecordOpenResponse;
export function recordSeal(request: RecordSealRequest): RecordResponse;
export function recordRotateKey(request: RecordRotateKeyRequest): RecordRotateKeyResponse;
export function qrSvg(request: QrSvgRequest): QrSvgResponse;
export function loginDecide(request: LoginDecideRequest): LoginDecideResponse;
export function backupGenerate(request: BackupGenerateRequest): BackupGenerateResponse;
export function backupVerify(request: BackupVerifyRequest): BackupVerifyResponse;
export function backupStatus(request: { record: UserRecord }): BackupStatusResponse;
export function deviceTrust(request: DeviceTrustRequest): DeviceTrustResponse;
export function deviceList(request: { record: UserRecord; time?: number }): { devices: TrustedDevice[] };
export function deviceRevoke(request: DeviceRevokeRequest): RevokedResponse<boolean>;
export function deviceRevokeAll(request: DeviceRevokeAllRequest): RevokedResponse<number>;
export function appPasswordCreate(request: AppPasswordCreateRequest): AppPasswordCreateResponse;
export function appPasswordList(request: { record: UserRecord }): { app_passwords: AppPassword[] };
export function appPasswordVerify(request: { record: UserRecord; password: string; time: number }): AppPasswordVerifyResponse;
export function appPasswordRevoke(request: { record: UserRecord; time: number; id: string }): RevokedResponse<boolean>;
export function appPasswordRevokeAll(request: { record: UserRecord; time: number }): RevokedResponse<number>;
export function passwordChanged(request: { record: UserRecord; time: number }): PasswordChangedResponse;
export function phcHash(request: PhcHashRequest): { phc: string };
export function phcVerify(request: { phc: string; password: string }): { valid: boolean };
export function importGauthenticator(request: ImportRequest & { prefs: { secret: string; activate?: boolean; recovery_codes?: string[] } }): ImportResponse;
export function importKolab(request: ImportRequest & { blob: string | Record<string, unknown> }): ImportResponse;
/** The typed function's name for an op name: `totp.verify` -> `totpVerify`. */
export function functionName(op: string): string;

// ---- conveniences -------------------------------------------------------------------------

export interface TotpOptions extends TotpParams { secret: string; issuer?: string | null; account?: string }

/** A TOTP key in the spirit of the `otpauth` package; every computation runs in the core. */
export class TOTP {
  constructor(options: TotpOptions);
  secret: string;
  issuer: string | null;
  account: string;
  algorithm: Algorithm;
  digits: number;
  period: number;
  /** Parses an otpauth://totp/ URI. */
  static parse(uri: string): TOTP;
  /** The code at `timestamp` (milliseconds since the epoch, default now). */
  generate(options?: { timestamp?: number }): string;
  /** The otpauth:// URI (Google Key Uri Format). */
  toString(): string;
}

/** Anything with Web Crypto's getRandomValues. */
export interface RandomSource { getRandomValues(array: Uint8Array): unknown }
/** `length` fresh random bytes (default 32) as standard base64. */
export function randomBase64(length?: number, random?: RandomSource): string;
/** A new site key: 32 random bytes; generate once and keep it in your configuration. */
export function generateKey(id?: string): SiteKey;

// ---- server API ---------------------------------------------------------------------------

/** A stored row: the record and the storage's version of it. */
export interface StoredRecord { record: UserRecord; version: number }

/**
 * Where records live. `compareAndSet` must be atomic: store `record` only when the stored
 * version is still `expectedVersion` (null: only when the user has no row yet), bump the
 * version, and resolve true; resolve false when someone else wrote first.
 */
export interface Mail2faStorage {
  get(user: string): Promise<StoredRecord | null> | StoredRecord | null;
  compareAndSet(user: string, expectedVersion: number | null, record: UserRecord): Promise<boolean> | boolean;
}

/** A storage in this process's memory (tests, demos, one-process servers). */
export class MemoryStorage implements Mail2faStorage {
  get(user: string): Promise<StoredRecord | null>;
  compareAndSet(user: string, expectedVersion: number | null, record: UserRecord): Promise<boolean>;
}

export interface Mail2faOptions {
  /** Site keyring, current key first. */
  keys: SiteKey[];
  storage: Mail2faStorage;
  /** Shown in authenticator apps. */
  issuer?: string;
  /** TOTP steps accepted either side of now (0–10; the core's default is 1). */
  window?: number;
  /** Now, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Entropy source (default Web Crypto). */
  random?: RandomSource;
  /** The site policy, passed to the core on every call that takes one. */
  policy?: Policy;
}

/** A login step as the core decided it (login.decide), in camelCase. */
export interface LoginResult {
  /** true only for `verdict: 'ok'`: the factor passed. */
  ok: boolean;
  verdict: Verdict;
  /** For logs only; show users one message. */
  reason: LoginReason | null;
  /** Seconds until the user may try again (locked, or this failure started a lock). */
  retryAfter: number | null;
  method: Exclude<Method, 'app_password'> | null;
  /** What the user can use at this step. */
  methods: Method[];
  state: State;
  /** With a required policy in its grace period: when enrollment becomes mandatory. */
  enrollBy: number | null;
  backupCodesRemaining: number | null;
  deviceId: string | null;
  /** With trustDevice and ok: set as an HttpOnly, Secure, SameSite cookie; never log it. */
  deviceToken: string | null;
  deviceExpiresAt: number | null;
  /** The device token presented is no good: delete the cookie. */
  forgetDevice: boolean;
}
export interface BeginLoginResult extends Partial<LoginResult> {
  /** true: serve nothing of the mailbox until `verifyLogin` says ok (or, with `enroll_required`, only enrollment). */
  required: boolean;
  verdict: Verdict;
  state: State;
  /** Set when the record does not open (fails closed: required stays true). */
  error?: string;
}
/** What verifyLogin resolves to. */
export type VerifyLoginResult = LoginResult;
/** What an authenticator app shows for the key: everything of `otpauth.parse` but the secret. */
export interface EnrollParams { issuer: string | null; account: string; algorithm: Algorithm; digits: number; period: number }
export interface EnrollResult { uri: string; secret: string; qr: string; params: EnrollParams; state: State }
export interface ConfirmResult { ok: boolean; reason: RejectReason | null; state: State; backupCodes?: string[] }
export interface DisableResult { ok: boolean; reason: RejectReason | 'locked' | null; retryAfter: number | null; state: State }
export interface Mail2faStatus { state: State; totp: TotpStatus | null; pending: boolean; rev: number; key_ids: string[]; needs_rotation: boolean }

/** Two-factor authentication for one site over a storage; every decision is the core's. */
export class Mail2fa {
  constructor(options: Mail2faOptions);
  status(user: string): Promise<Mail2faStatus>;
  beginLogin(user: string, options?: { deviceToken?: string | null }): Promise<BeginLoginResult>;
  verifyLogin(user: string, code: string, options?: { method?: 'totp' | 'backup_code'; trustDevice?: boolean; userAgent?: string }): Promise<LoginResult>;
  enroll(user: string, options?: TotpParams & { account?: string; issuer?: string }): Promise<EnrollResult>;
  confirm(user: string, code: string, options?: { backupCodes?: boolean }): Promise<ConfirmResult>;
  cancelEnrollment(user: string): Promise<{ state: State }>;
  /** Turns 2FA off with a current code, or with `{method: 'backup_code'}` an unused backup code. */
  disable(user: string, code: string, options?: { method?: 'totp' | 'backup_code' }): Promise<DisableResult>;
  importUri(user: string, uri: string, options?: { replace?: boolean }): Promise<{ state: State }>;
  importLegacy(
    user: string,
    source:
      | { from: 'gauthenticator'; prefs: { secret: string; activate?: boolean; recovery_codes?: string[] }; replace?: boolean }
      | { from: 'kolab'; blob: string | Record<string, unknown>; replace?: boolean },
  ): Promise<{ totp: 'enabled' | 'pending' | 'none'; backupCodes: number; notImported: NotImported[]; state: State }>;
  exportUri(user: string): Promise<string>;
  rotateKey(user: string): Promise<{ resealed: number }>;
  generateBackupCodes(user: string, options?: { count?: number }): Promise<{ codes: string[]; remaining: number }>;
  verifyBackupCode(user: string, code: string): Promise<{ ok: boolean; reason: 'wrong_code' | 'locked' | null; retryAfter: number | null; remaining: number }>;
  backupCodesStatus(user: string): Promise<BackupStatusResponse>;
  createAppPassword(user: string, label: string): Promise<{ password: string; id: string }>;
  listAppPasswords(user: string): Promise<AppPassword[]>;
  verifyAppPassword(user: string, password: string): Promise<{ ok: boolean; id: string | null }>;
  revokeAppPassword(user: string, id: string): Promise<boolean>;
  revokeAllAppPasswords(user: string): Promise<number>;
  passwordChanged(user: string): Promise<{ revokedAppPasswords: number; revokedDevices: number }>;
  trustDevice(user: string, options?: { userAgent?: string }): Promise<{ token: string; id: string; expiresAt: number }>;
  listDevices(user: string): Promise<TrustedDevice[]>;
  revokeDevice(user: string, id: string): Promise<boolean>;
  revokeAllDevices(user: string, options?: { except?: string }): Promise<number>;
  /** Admin reset: a new empty record (2FA off until the user enrolls again); false when there was none. */
  adminReset(user: string): Promise<boolean>;
}
